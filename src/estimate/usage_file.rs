//! Usage files: a quick estimate without a simulation (`aqueduct price usage.toml`).
//!
//! One table per resource, `[KIND.NAME]`, with infracost's usage keys where they exist
//! (`monthly_requests`, `request_size_kb`, `monthly_on_demand_data_in_gb`, ...) and rate
//! keys (`messages_per_second`, `records_per_second`, `record_size_kb`, `hours`, `kpus`,
//! ...). KIND is `sqs`, `sns`, `kinesis`, `firehose`, `flink`, `video` or `lambda` (or
//! infracost's resource type, such as `aws_sqs_queue`). Every key is documented in
//! `src/pricing/USAGE.md`; an unknown key is an error that names the nearest valid one.
//!
//! The file becomes a [`Usage`] whose window is one month, so the bill prices its
//! quantities as they are, and a list of [`Capacity`] figures (FIFO calls per second
//! against 300 TPS, Kinesis shards by AWS's formula, Lambda concurrency by Little's law).
//!
//! Each service names its keys and turns its table into its usage record in its
//! `usage_keys.rs` (such as `crate::services::sqs::usage_keys`), reading values with a
//! `UsageTable`; this file reads the TOML, finds each table's kind, refuses unknown keys
//! with a suggestion, and adds the capacity rows.

use crate::estimate::capacity::{self, Capacity};
use crate::input::error::{FieldPath, Seg};
use crate::input::overrides::nearest;
use crate::model::place;
use crate::pricing::PricingError;
use crate::services::firehose::bill::FirehoseSource;
use crate::services::firehose::usage_keys as firehose_keys;
use crate::services::flink::usage_keys as flink_keys;
use crate::services::kinesis::bill::StreamMode;
use crate::services::kinesis::limits::KinesisLimits;
use crate::services::kinesis::usage_keys as kinesis_keys;
use crate::services::lambda::usage_keys as lambda_keys;
use crate::services::sns::usage_keys as sns_keys;
use crate::services::sqs::limits::SqsLimits;
use crate::services::sqs::usage_keys as sqs_keys;
use crate::services::usage_keys::UsageTable;
use crate::services::video::usage_keys as video_keys;
use crate::services::Usage;
use toml::{Table, Value};

/// A usage file, read.
#[derive(Clone, Debug)]
pub struct UsageFile {
    /// The usage, over a window of one month.
    pub usage: Usage,
    /// Capacity figures for the resources that give rates.
    pub capacity: Vec<Capacity>,
    /// Price table named by the file (`prices = ...`; default `aws-us-east-1`).
    pub prices: String,
    /// Assumptions the estimate made, for the user.
    pub notes: Vec<String>,
    /// `(service key, resource name, path of its table)`, to place errors.
    resources: Vec<(String, String, FieldPath)>,
}

/// Reads one resource table into the usage file.
type Reader = fn(&UsageTable, &mut UsageFile) -> Result<(), PricingError>;

/// A resource kind: the names a usage file may give it, its service key, its keys and
/// its reader.
struct Kind {
    names: [&'static str; 2],
    kind: &'static str,
    service: &'static str,
    keys: &'static [&'static str],
    read: Reader,
}

const KINDS: &[Kind] = &[
    Kind {
        names: ["sqs", "aws_sqs_queue"],
        kind: "sqs",
        service: "sqs",
        keys: sqs_keys::KEYS,
        read: sqs,
    },
    Kind {
        names: ["sns", "aws_sns_topic"],
        kind: "sns",
        service: "sns",
        keys: sns_keys::KEYS,
        read: sns,
    },
    Kind {
        names: ["kinesis", "aws_kinesis_stream"],
        kind: "kinesis",
        service: "kinesis_data_streams",
        keys: kinesis_keys::KEYS,
        read: kinesis_stream,
    },
    Kind {
        names: ["firehose", "aws_kinesis_firehose_delivery_stream"],
        kind: "firehose",
        service: "firehose",
        keys: firehose_keys::KEYS,
        read: firehose_stream,
    },
    Kind {
        names: ["flink", "aws_kinesisanalyticsv2_application"],
        kind: "flink",
        service: "managed_flink",
        keys: flink_keys::KEYS,
        read: flink,
    },
    Kind {
        names: ["video", "aws_kinesis_video_stream"],
        kind: "video",
        service: "kinesis_video",
        keys: video_keys::KEYS,
        read: video,
    },
    Kind {
        names: ["lambda", "aws_lambda_function"],
        kind: "lambda",
        service: "lambda",
        keys: lambda_keys::KEYS,
        read: lambda,
    },
];

/// Reads a usage file; `file` names it in messages. Quantities are per month of
/// `month_hours` hours.
pub fn parse(src: &str, file: &str, month_hours: f64) -> Result<UsageFile, PricingError> {
    let doc: Table = crate::input::parse_toml(src, file, None).map_err(PricingError::Input)?;
    let mut out = UsageFile::empty(month_hours);
    let kind_names: Vec<String> = KINDS
        .iter()
        .flat_map(|k| k.names)
        .chain(["prices"])
        .map(String::from)
        .collect();
    for (key, value) in &doc {
        let top = FieldPath::top(key);
        if key == "prices" {
            match value {
                Value::String(s) => out.prices = s.clone(),
                _ => {
                    return Err(PricingError::Input(place(
                        src,
                        file,
                        &top,
                        "prices must be a string: a bundled table name or a path".into(),
                    )))
                }
            }
            continue;
        }
        let Some(spec) = KINDS.iter().find(|k| k.names.contains(&key.as_str())) else {
            let hint = nearest(key, kind_names.iter())
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err(PricingError::Input(place(
                src,
                file,
                &top,
                format!(
                    "unknown resource kind `{key}`: expected [sqs.NAME], [sns.NAME], [kinesis.NAME], [firehose.NAME], [flink.NAME], [video.NAME] or [lambda.NAME]{hint}"
                ),
            )));
        };
        let Value::Table(resources) = value else {
            return Err(PricingError::Input(place(
                src,
                file,
                &top,
                format!("`{key}` must hold one table per resource, such as [{key}.orders]"),
            )));
        };
        for (name, body) in resources {
            let path = FieldPath {
                segs: vec![Seg::Key(key.clone()), Seg::Key(name.clone())],
                name: None,
            };
            let Value::Table(table) = body else {
                return Err(PricingError::Input(place(
                    src,
                    file,
                    &path,
                    format!("`{key}.{name}` must be a table of usage keys, such as [{key}.{name}]"),
                )));
            };
            let res = UsageTable {
                src,
                file,
                path: path.clone(),
                name,
                table,
                month_hours,
                places: None,
            };
            out.add(spec.kind, &res)?;
        }
    }
    Ok(out)
}

impl UsageFile {
    /// A usage file with no resource yet, over a month of `month_hours` hours: the start
    /// of a file read from another format (infracost's YAML, `crate::interop::infracost`).
    pub(crate) fn empty(month_hours: f64) -> UsageFile {
        UsageFile {
            usage: Usage {
                window_s: month_hours * 3600.0,
                ..Usage::default()
            },
            capacity: Vec::new(),
            prices: crate::pricing::table::BUNDLED_NAME.to_string(),
            notes: Vec::new(),
            resources: Vec::new(),
        }
    }

    /// Reads one resource table of `kind` (`sqs`, `sns`, `kinesis`, `firehose`, `flink`,
    /// `video` or `lambda`) into the file, as a `[KIND.NAME]` table of a TOML usage file
    /// is read; its keys must be among [`keys_of`]`(kind)`.
    pub(crate) fn add(&mut self, kind: &str, res: &UsageTable) -> Result<(), PricingError> {
        let Some(spec) = KINDS.iter().find(|k| k.kind == kind) else {
            return Err(res.err("", format!("unknown resource kind `{kind}`")));
        };
        refuse_unknown_keys(res, spec)?;
        (spec.read)(res, self)?;
        check_counts(&self.usage, spec.service).map_err(|m| res.err("", m))?;
        self.resources
            .push((spec.service.into(), res.name.to_string(), res.path.clone()));
        Ok(())
    }
}

/// The keys a `[KIND.NAME]` table may give (empty for an unknown kind).
pub(crate) fn keys_of(kind: &str) -> &'static [&'static str] {
    KINDS
        .iter()
        .find(|k| k.kind == kind)
        .map(|k| k.keys)
        .unwrap_or(&[])
}

/// Checks the record just read for `service` (the last of its list): every count fits
/// the 63 bits aqueduct counts in and every quantity is finite. A count beyond that is
/// refused rather than clamped, so that no bill is silently wrong.
fn check_counts(usage: &Usage, service: &str) -> Result<(), String> {
    fn last<T: serde::Serialize>(v: &[T]) -> Result<Option<toml::Value>, toml::ser::Error> {
        v.last().map(toml::Value::try_from).transpose()
    }
    let value = match service {
        "sqs" => last(&usage.sqs),
        "sns" => last(&usage.sns),
        "kinesis_data_streams" => last(&usage.kinesis),
        "firehose" => last(&usage.firehose),
        "managed_flink" => last(&usage.flink),
        "kinesis_video" => last(&usage.video),
        "lambda" => last(&usage.lambda),
        _ => Ok(None),
    };
    const TOO_LARGE: &str = "the monthly quantities these keys make overflow: a count reaches 2^63 (about 9.2 × 10^18) or a number is not finite; check the values' units";
    match value {
        Err(_) => Err(TOO_LARGE.into()),
        Ok(Some(v)) if !all_finite(&v) => Err(TOO_LARGE.into()),
        Ok(_) => Ok(()),
    }
}

/// True when no float in `v` is NaN or infinite, and no integer is at the saturation
/// value of a float-to-integer conversion.
fn all_finite(v: &toml::Value) -> bool {
    match v {
        toml::Value::Float(f) => f.is_finite(),
        toml::Value::Integer(i) => *i != i64::MAX,
        toml::Value::Array(a) => a.iter().all(all_finite),
        toml::Value::Table(t) => t.values().all(all_finite),
        _ => true,
    }
}

/// The first key of `res` that is not one of its kind's, as an error that suggests the
/// nearest valid key and lists them all.
fn refuse_unknown_keys(res: &UsageTable, spec: &Kind) -> Result<(), PricingError> {
    for k in res.table.keys() {
        if !spec.keys.contains(&k.as_str()) {
            let owned: Vec<String> = spec.keys.iter().map(|s| s.to_string()).collect();
            let hint = nearest(k, owned.iter())
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err(res.err(
                k,
                format!(
                    "unknown {} usage key `{k}`{hint} (valid keys: {})",
                    spec.kind,
                    spec.keys.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

impl UsageFile {
    /// Places a pricing error at the resource that caused it: a missing price is reported
    /// at the table of the resource that needed it (or at `prices`).
    pub fn place_error(&self, src: &str, file: &str, e: PricingError) -> PricingError {
        match e {
            PricingError::Missing {
                ref service,
                ref component,
                ..
            } => {
                let path = self
                    .resources
                    .iter()
                    .find(|(s, n, _)| s == service && n == component)
                    .map(|(_, _, p)| p.clone())
                    .unwrap_or_else(|| FieldPath::top("prices"));
                PricingError::Input(place(src, file, &path, e.to_string()))
            }
            other => other,
        }
    }
}

/// `[sqs.NAME]`: its usage, and for a FIFO queue its calls per second against the TPS
/// limit of each action.
fn sqs(r: &UsageTable, out: &mut UsageFile) -> Result<(), PricingError> {
    let (usage, calls) = sqs_keys::read(r)?;
    out.usage.sqs.push(usage);
    if calls.fifo && calls.rate > 0.0 {
        sqs_fifo_rows(r.name, &calls, &mut out.capacity);
    }
    Ok(())
}

/// The capacity rows of a FIFO queue: SendMessage, ReceiveMessage and DeleteMessage
/// calls per second against 300 TPS (high throughput: its own limit), with the batching
/// that would fit.
fn sqs_fifo_rows(name: &str, calls: &sqs_keys::SqsCalls, capacity: &mut Vec<Capacity>) {
    let lim = SqsLimits::default();
    let max_batch = lim.max_batch_messages as f64;
    let (rate, high) = (calls.rate, calls.high_throughput);
    let (send_b, recv_b) = (calls.send_batch, calls.receive_batch);
    let tps = if high {
        lim.fifo_high_throughput_tps_per_action
    } else {
        lim.fifo_tps_per_action
    } as f64;
    let advice = |calls: f64, batch: f64, action: &str| -> String {
        let need = (rate / tps).ceil();
        if !high && need <= max_batch && calls > tps {
            format!("batch at least {need} messages per {action} call, or enable high throughput")
        } else if !high {
            "enable high-throughput mode".into()
        } else {
            format!("over the {tps} TPS high-throughput limit even with {batch} per call: spread over more queues")
        }
    };
    let send_calls = rate / send_b;
    capacity.push(Capacity::against(
        "sqs",
        name,
        "SendMessage calls/s",
        send_calls,
        tps,
        advice(send_calls, send_b, "SendMessageBatch"),
    ));
    let recv_calls = rate / recv_b + calls.empty_per_s;
    capacity.push(Capacity::against(
        "sqs",
        name,
        "ReceiveMessage calls/s",
        recv_calls,
        tps,
        advice(recv_calls, recv_b, "ReceiveMessage"),
    ));
    let del_calls = if calls.delete_batch {
        rate / recv_b
    } else {
        rate
    };
    capacity.push(Capacity::against(
        "sqs",
        name,
        "DeleteMessage calls/s",
        del_calls,
        tps,
        advice(del_calls, recv_b, "DeleteMessageBatch"),
    ));
}

/// `[sns.NAME]`: its usage, and for a FIFO topic its messages and bytes per second
/// against the topic-scope limits.
fn sns(r: &UsageTable, out: &mut UsageFile) -> Result<(), PricingError> {
    let (usage, p) = sns_keys::read(r)?;
    out.usage.sns.push(usage);
    if p.fifo && p.rate > 0.0 {
        out.capacity.push(Capacity::against(
            "sns",
            r.name,
            "FIFO publishes (messages/s, topic scope)",
            p.rate,
            capacity::SNS_FIFO_TOPIC_MSGS_PER_S,
            "over the FIFO topic limit: use message-group scope (high throughput)",
        ));
        out.capacity.push(Capacity::against(
            "sns",
            r.name,
            "FIFO publish MB/s (topic scope)",
            p.rate * p.size / 1_048_576.0,
            capacity::SNS_FIFO_TOPIC_MB_PER_S,
            "over the 20 MB/s per FIFO topic",
        ));
    }
    Ok(())
}

/// `[kinesis.NAME]`: its usage, the shards AWS's sizing formula needs (against those
/// configured, when provisioned), and its enhanced fan-out consumers against the mode's
/// limit.
fn kinesis_stream(r: &UsageTable, out: &mut UsageFile) -> Result<(), PricingError> {
    let (usage, k) = kinesis_keys::read(r, &mut out.notes)?;
    out.usage.kinesis.push(usage);
    if k.rate > 0.0 {
        let what = "shards needed (AWS's sizing formula)";
        let (needed, shards) = (k.needed, k.shards);
        if k.mode == StreamMode::Provisioned {
            out.capacity.push(Capacity::against(
                "kinesis_data_streams",
                r.name,
                what,
                needed as f64,
                shards,
                format!("under-provisioned: {shards} shard(s) configured, {needed} needed (writes throttle)"),
            ));
        } else {
            let mut c = Capacity::info("kinesis_data_streams", r.name, what, needed as f64);
            c.verdict = "on-demand: scales by itself".into();
            out.capacity.push(c);
        }
    }
    if k.efo > 0.0 {
        let limit = KinesisLimits::default().efo_consumers(k.mode == StreamMode::OnDemandAdvantage);
        out.capacity.push(Capacity::against(
            "kinesis_data_streams",
            r.name,
            "enhanced fan-out consumers",
            k.efo,
            limit as f64,
            "over the per-stream limit of registered consumers",
        ));
    }
    Ok(())
}

/// `[firehose.NAME]`: its usage, and for Direct PUT its MiB/s against the default quota.
fn firehose_stream(r: &UsageTable, out: &mut UsageFile) -> Result<(), PricingError> {
    let (usage, i) = firehose_keys::read(r, &mut out.notes)?;
    out.usage.firehose.push(usage);
    if i.rate > 0.0 && i.source == FirehoseSource::DirectPut {
        out.capacity.push(Capacity::against(
            "firehose",
            r.name,
            "Direct PUT MiB/s",
            i.rate * i.size / 1_048_576.0,
            capacity::FIREHOSE_DIRECT_PUT_MIB_PER_S,
            "over the default Direct PUT quota (5 MiB/s in us-east-1; raise it with a quota request)",
        ));
    }
    Ok(())
}

/// `[flink.NAME]`: its usage.
fn flink(r: &UsageTable, out: &mut UsageFile) -> Result<(), PricingError> {
    out.usage.flink.push(flink_keys::read(r)?);
    Ok(())
}

/// `[video.NAME]`: its usage.
fn video(r: &UsageTable, out: &mut UsageFile) -> Result<(), PricingError> {
    out.usage.video.push(video_keys::read(r)?);
    Ok(())
}

/// `[lambda.NAME]`: its usage, and its concurrency by Little's law.
fn lambda(r: &UsageTable, out: &mut UsageFile) -> Result<(), PricingError> {
    let (usage, c) = lambda_keys::read(r)?;
    out.usage.lambda.push(usage);
    if c.requests > 0.0 && c.duration_ms > 0.0 {
        let mean_rate = if c.rate > 0.0 {
            c.rate
        } else {
            c.requests / (r.month_hours * 3600.0)
        };
        out.capacity.push(Capacity::info(
            "lambda",
            r.name,
            "concurrent executions (Little's law: rate × mean duration)",
            capacity::lambda_concurrency(mean_rate, c.duration_ms / 1000.0),
        ));
    }
    Ok(())
}
