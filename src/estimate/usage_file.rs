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

use crate::estimate::capacity::{self, Capacity};
use crate::input::error::{FieldPath, Seg};
use crate::input::overrides::nearest;
use crate::model::place;
use crate::pricing::{PricingError, BYTES_PER_GB};
use crate::services::firehose::bill::{self as firehose, FirehoseSource, FirehoseUsage};
use crate::services::flink::bill::{FlinkRun, FlinkUsage};
use crate::services::kinesis::bill::{self as kinesis, KinesisStreamUsage, StreamMode};
use crate::services::lambda::bill::{LambdaArch, LambdaUsage};
use crate::services::sns::bill::{SnsDelivery, SnsProtocol, SnsUsage};
use crate::services::sqs::bill::{chunks, SqsUsage};
use crate::services::sqs::limits::SqsLimits;
use crate::services::video::bill::VideoUsage;
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

const SQS_KEYS: &[&str] = &[
    "fifo",
    "high_throughput",
    "monthly_requests",
    "request_size_kb",
    "messages_per_second",
    "message_size_kb",
    "send_batch",
    "receive_batch",
    "delete_batch",
    "empty_receives_per_second",
    "hours",
];
const SNS_KEYS: &[&str] = &[
    "fifo",
    "monthly_requests",
    "request_size_kb",
    "messages_per_second",
    "message_size_kb",
    "publish_batch",
    "hours",
    "sqs_subscriptions",
    "lambda_subscriptions",
    "http_subscriptions",
    "email_subscriptions",
    "mobile_push_subscriptions",
    "firehose_subscriptions",
    "sms_subscriptions",
    "monthly_sqs_deliveries",
    "monthly_lambda_deliveries",
    "monthly_http_deliveries",
    "monthly_email_deliveries",
    "monthly_mobile_push_deliveries",
    "monthly_firehose_deliveries",
    "monthly_sms_deliveries",
    "monthly_payload_filter_gb",
    "monthly_archive_processed_gb",
    "archive_storage_gb",
];
const KINESIS_KEYS: &[&str] = &[
    "mode",
    "shards",
    "hours",
    "records_per_second",
    "record_size_kb",
    "consumers",
    "efo_consumers",
    "retention_hours",
    "monthly_on_demand_data_in_gb",
    "monthly_on_demand_data_out_gb",
    "monthly_on_demand_efo_data_out_gb",
    "monthly_on_demand_extended_retention_gb",
    "monthly_on_demand_long_term_retention_gb",
    "monthly_provisioned_put_units",
    "monthly_provisioned_long_term_retention_gb",
    "monthly_provisioned_long_term_retrieval_gb",
    "monthly_provisioned_efo_data_retrieval_gb",
    "monthly_provisioned_efo_consumer_hours",
];
const FIREHOSE_KEYS: &[&str] = &[
    "source",
    "records_per_second",
    "record_size_kb",
    "monthly_records",
    "hours",
    "monthly_data_ingested_gb",
    "format_conversion",
    "vpc_azs",
    "dynamic_partitioning",
    "monthly_s3_objects",
    "monthly_jq_hours",
];
const FLINK_KEYS: &[&str] = &[
    "kpus",
    "kinesis_processing_units",
    "parallelism",
    "parallelism_per_kpu",
    "hours",
    "monthly_starts",
    "run_minutes",
    "backup_gb",
    "durable_application_backup_gb",
];
const VIDEO_KEYS: &[&str] = &[
    "streams",
    "bitrate_kbps",
    "hours",
    "retention_hours",
    "consumed_fraction",
    "hls_fraction",
    "monthly_ingested_gb",
    "monthly_consumed_gb",
    "monthly_hls_consumed_gb",
    "monthly_dash_consumed_gb",
    "stored_gb",
];
const LAMBDA_KEYS: &[&str] = &[
    "architecture",
    "memory_mb",
    "monthly_requests",
    "request_duration_ms",
    "average_request_duration",
    "requests_per_second",
    "hours",
];

/// Reads one resource table into the usage file.
type Reader = fn(&Res, &mut UsageFile) -> Result<(), PricingError>;

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
        keys: SQS_KEYS,
        read: sqs,
    },
    Kind {
        names: ["sns", "aws_sns_topic"],
        kind: "sns",
        service: "sns",
        keys: SNS_KEYS,
        read: sns,
    },
    Kind {
        names: ["kinesis", "aws_kinesis_stream"],
        kind: "kinesis",
        service: "kinesis_data_streams",
        keys: KINESIS_KEYS,
        read: kinesis_stream,
    },
    Kind {
        names: ["firehose", "aws_kinesis_firehose_delivery_stream"],
        kind: "firehose",
        service: "firehose",
        keys: FIREHOSE_KEYS,
        read: firehose_stream,
    },
    Kind {
        names: ["flink", "aws_kinesisanalyticsv2_application"],
        kind: "flink",
        service: "managed_flink",
        keys: FLINK_KEYS,
        read: flink,
    },
    Kind {
        names: ["video", "aws_kinesis_video_stream"],
        kind: "video",
        service: "kinesis_video",
        keys: VIDEO_KEYS,
        read: video,
    },
    Kind {
        names: ["lambda", "aws_lambda_function"],
        kind: "lambda",
        service: "lambda",
        keys: LAMBDA_KEYS,
        read: lambda,
    },
];

/// One resource table being read.
struct Res<'a> {
    src: &'a str,
    file: &'a str,
    path: FieldPath,
    name: &'a str,
    table: &'a Table,
    month_hours: f64,
}

impl Res<'_> {
    fn err(&self, key: &str, message: String) -> PricingError {
        let path = if key.is_empty() {
            self.path.clone()
        } else {
            self.path.field(key)
        };
        PricingError::Input(place(self.src, self.file, &path, message))
    }

    /// A number >= 0 (integers and floats accepted).
    fn num(&self, key: &str) -> Result<Option<f64>, PricingError> {
        let v = match self.table.get(key) {
            None => return Ok(None),
            Some(Value::Integer(i)) => *i as f64,
            Some(Value::Float(f)) => *f,
            Some(other) => {
                return Err(self.err(
                    key,
                    format!("expected a number, found {}", other.type_str()),
                ))
            }
        };
        if !v.is_finite() {
            return Err(self.err(key, format!("{v} is not a finite number")));
        }
        if v < 0.0 {
            return Err(self.err(
                key,
                format!("{v} is negative: usage quantities must be >= 0"),
            ));
        }
        Ok(Some(v))
    }

    fn num_or(&self, key: &str, default: f64) -> Result<f64, PricingError> {
        Ok(self.num(key)?.unwrap_or(default))
    }

    /// A number within `[lo, hi]`.
    fn ranged(&self, key: &str, default: f64, lo: f64, hi: f64) -> Result<f64, PricingError> {
        let v = self.num_or(key, default)?;
        if v < lo || v > hi {
            return Err(self.err(key, format!("{v} is outside {lo} to {hi}")));
        }
        Ok(v)
    }

    fn flag(&self, key: &str) -> Result<bool, PricingError> {
        match self.table.get(key) {
            None => Ok(false),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(other) => Err(self.err(
                key,
                format!("expected true or false, found {}", other.type_str()),
            )),
        }
    }

    fn choice<'c>(&self, key: &str, options: &[&'c str]) -> Result<Option<&'c str>, PricingError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => options
                .iter()
                .copied()
                .find(|o| o == s)
                .map(Some)
                .ok_or_else(|| self.err(key, format!("\"{s}\" is not one of {}", quoted(options)))),
            Some(other) => Err(self.err(
                key,
                format!(
                    "expected one of {}, found {}",
                    quoted(options),
                    other.type_str()
                ),
            )),
        }
    }

    /// Hours per month the rate keys apply (default: the whole month).
    fn hours(&self) -> Result<f64, PricingError> {
        let h = self.num_or("hours", self.month_hours)?;
        if h > self.month_hours {
            return Err(self.err(
                "hours",
                format!("{h} hours is more than the {}-hour month", self.month_hours),
            ));
        }
        Ok(h)
    }
}

fn quoted(options: &[&str]) -> String {
    options
        .iter()
        .map(|o| format!("\"{o}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// KiB to bytes.
fn kib(v: f64) -> f64 {
    v * 1024.0
}

/// Reads a usage file; `file` names it in messages. Quantities are per month of
/// `month_hours` hours.
pub fn parse(src: &str, file: &str, month_hours: f64) -> Result<UsageFile, PricingError> {
    let doc: Table = crate::input::parse_toml(src, file, None).map_err(PricingError::Input)?;
    let mut out = UsageFile {
        usage: Usage {
            window_s: month_hours * 3600.0,
            ..Usage::default()
        },
        capacity: Vec::new(),
        prices: crate::pricing::table::BUNDLED_NAME.to_string(),
        notes: Vec::new(),
        resources: Vec::new(),
    };
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
            let res = Res {
                src,
                file,
                path: path.clone(),
                name,
                table,
                month_hours,
            };
            for k in table.keys() {
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
            (spec.read)(&res, &mut out)?;
            out.resources
                .push((spec.service.into(), name.clone(), path));
        }
    }
    Ok(out)
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

fn rounded(v: f64) -> u64 {
    v.round().max(0.0) as u64
}

fn sqs(r: &Res, out: &mut UsageFile) -> Result<(), PricingError> {
    let lim = SqsLimits::default();
    let chunk = lim.billing_chunk.0;
    let max_batch = lim.max_batch_messages as f64;
    let fifo = r.flag("fifo")?;
    let high = r.flag("high_throughput")?;
    if high && !fifo {
        return Err(r.err(
            "high_throughput",
            "high-throughput mode applies to FIFO queues only (add fifo = true)".into(),
        ));
    }
    let hours = r.hours()?;
    let monthly = r.num_or("monthly_requests", 0.0)?;
    let req_kb = r.num_or("request_size_kb", 0.0)?;
    let rate = r.num_or("messages_per_second", 0.0)?;
    let size = kib(r.num_or("message_size_kb", 1.0)?);
    let send_b = r.ranged("send_batch", 1.0, 1.0, max_batch)?.round();
    let recv_b = r.ranged("receive_batch", 1.0, 1.0, max_batch)?.round();
    let delete_batch = r.flag("delete_batch")?;
    let empty_rate = r.num_or("empty_receives_per_second", 0.0)?;
    let secs = hours * 3600.0;
    let msgs = rate * secs;
    let sends = msgs / send_b * chunks((send_b * size).ceil() as u64, chunk) as f64;
    let receives = msgs / recv_b * chunks((recv_b * size).ceil() as u64, chunk) as f64;
    let deletes = if delete_batch { msgs / recv_b } else { msgs };
    let empties = empty_rate * secs;
    let explicit = monthly * chunks(kib(req_kb).ceil() as u64, chunk) as f64;
    out.usage.sqs.push(SqsUsage {
        name: r.name.into(),
        fifo,
        requests: rounded(explicit + sends + receives + deletes + empties),
        empty_receives: rounded(empties),
    });
    if fifo && rate > 0.0 {
        let tps = if high {
            lim.fifo_high_throughput_tps_per_action
        } else {
            lim.fifo_tps_per_action
        } as f64;
        let advice = |calls: f64, batch: f64, action: &str| -> String {
            let need = (rate / tps).ceil();
            if !high && need <= max_batch && calls > tps {
                format!(
                    "batch at least {need} messages per {action} call, or enable high throughput"
                )
            } else if !high {
                "enable high-throughput mode".into()
            } else {
                format!("over the {tps} TPS high-throughput limit even with {batch} per call: spread over more queues")
            }
        };
        let send_calls = rate / send_b;
        out.capacity.push(Capacity::against(
            "sqs",
            r.name,
            "SendMessage calls/s",
            send_calls,
            tps,
            advice(send_calls, send_b, "SendMessageBatch"),
        ));
        let recv_calls = rate / recv_b + empty_rate;
        out.capacity.push(Capacity::against(
            "sqs",
            r.name,
            "ReceiveMessage calls/s",
            recv_calls,
            tps,
            advice(recv_calls, recv_b, "ReceiveMessage"),
        ));
        let del_calls = if delete_batch { rate / recv_b } else { rate };
        out.capacity.push(Capacity::against(
            "sqs",
            r.name,
            "DeleteMessage calls/s",
            del_calls,
            tps,
            advice(del_calls, recv_b, "DeleteMessageBatch"),
        ));
    }
    Ok(())
}

fn sns(r: &Res, out: &mut UsageFile) -> Result<(), PricingError> {
    let chunk = SqsLimits::default().billing_chunk.0;
    let fifo = r.flag("fifo")?;
    let hours = r.hours()?;
    let monthly = r.num_or("monthly_requests", 0.0)?;
    let req_b = kib(r.num_or("request_size_kb", 0.0)?);
    let rate = r.num_or("messages_per_second", 0.0)?;
    let size = kib(r.num_or("message_size_kb", 1.0)?);
    let batch = r.ranged("publish_batch", 1.0, 1.0, 10.0)?.round();
    let msgs = rate * hours * 3600.0;
    let requests = monthly * chunks(req_b.ceil() as u64, chunk) as f64
        + msgs / batch * chunks((batch * size).ceil() as u64, chunk) as f64;
    let messages = monthly + msgs;
    let mean_size = if messages > 0.0 {
        (monthly * req_b + msgs * size) / messages
    } else {
        0.0
    };
    let mut deliveries = Vec::new();
    for p in SnsProtocol::ALL {
        let subs = r.num_or(&format!("{}_subscriptions", p.key()), 0.0)?;
        let explicit = r.num_or(&format!("monthly_{}_deliveries", p.key()), 0.0)?;
        let count = subs * messages + explicit;
        if count > 0.0 {
            if fifo && p != SnsProtocol::Sqs {
                return Err(r.err(
                    &format!("{}_subscriptions", p.key()),
                    format!("FIFO topics deliver only to SQS queues, not to {}", p.key()),
                ));
            }
            deliveries.push(SnsDelivery {
                protocol: p,
                count: rounded(count),
                bytes: rounded(count * mean_size),
            });
        }
    }
    let fifo_only = ["monthly_archive_processed_gb", "archive_storage_gb"];
    for k in fifo_only {
        if !fifo && r.table.contains_key(k) {
            return Err(r.err(k, "message archiving applies to FIFO topics only".into()));
        }
    }
    out.usage.sns.push(SnsUsage {
        name: r.name.into(),
        fifo,
        publish_requests: rounded(requests),
        publish_bytes: rounded(monthly * req_b + msgs * size),
        deliveries,
        payload_filter_bytes: rounded(r.num_or("monthly_payload_filter_gb", 0.0)? * BYTES_PER_GB),
        archive_bytes: rounded(r.num_or("monthly_archive_processed_gb", 0.0)? * BYTES_PER_GB),
        archive_gb_hours: r.num_or("archive_storage_gb", 0.0)? * r.month_hours,
    });
    if fifo && rate > 0.0 {
        out.capacity.push(Capacity::against(
            "sns",
            r.name,
            "FIFO publishes (messages/s, topic scope)",
            rate,
            capacity::SNS_FIFO_TOPIC_MSGS_PER_S,
            "over the FIFO topic limit: use message-group scope (high throughput)",
        ));
        out.capacity.push(Capacity::against(
            "sns",
            r.name,
            "FIFO publish MB/s (topic scope)",
            rate * size / 1_048_576.0,
            capacity::SNS_FIFO_TOPIC_MB_PER_S,
            "over the 20 MB/s per FIFO topic",
        ));
    }
    Ok(())
}

fn kinesis_stream(r: &Res, out: &mut UsageFile) -> Result<(), PricingError> {
    let mode = match r.choice("mode", &["provisioned", "on_demand", "on_demand_advantage"])? {
        None | Some("provisioned") => StreamMode::Provisioned,
        Some("on_demand") => StreamMode::OnDemand,
        Some(_) => StreamMode::OnDemandAdvantage,
    };
    let hours = r.hours()?;
    let rate = r.num_or("records_per_second", 0.0)?;
    let size_kb = r.num_or("record_size_kb", 1.0)?;
    let size = kib(size_kb);
    let consumers = r.num_or("consumers", 1.0)?;
    let efo = r.num_or("efo_consumers", 0.0)?;
    let retention = r.num_or("retention_hours", 24.0)?;
    if !(24.0..=8760.0).contains(&retention) {
        return Err(r.err(
            "retention_hours",
            format!("retention {retention} h is outside AWS's 24 to 8,760 hours (service-sizes-and-limits.html)"),
        ));
    }
    let needed = capacity::kinesis_shards(rate, size_kb, consumers);
    let shards = match (mode, r.num("shards")?) {
        (StreamMode::Provisioned, Some(s)) => s,
        (StreamMode::Provisioned, None) => {
            out.notes.push(format!(
                "kinesis.{}: no `shards` given; priced with the {needed} shard(s) AWS's sizing formula needs",
                r.name
            ));
            needed as f64
        }
        (_, Some(_)) => {
            return Err(r.err(
                "shards",
                format!("{} streams have no shards to set (they scale by themselves); remove `shards` or use mode = \"provisioned\"", mode.key()),
            ))
        }
        (_, None) => needed as f64,
    };
    let secs = hours * 3600.0;
    let records = rate * secs;
    let write_bytes = records * size;
    // Steady state: data between 24 h and 7 d old, and over 7 d old, held all the time.
    let (ext_gb_hours, long_gb_hours) =
        kinesis::retention_gb_hours(write_bytes / BYTES_PER_GB, retention);
    let mh = r.month_hours;
    let gb_in = |k: &str| -> Result<f64, PricingError> { Ok(r.num_or(k, 0.0)? * BYTES_PER_GB) };
    let mut s = KinesisStreamUsage {
        name: r.name.into(),
        mode,
        ..KinesisStreamUsage::default()
    };
    let od_keys = [
        "monthly_on_demand_data_in_gb",
        "monthly_on_demand_data_out_gb",
        "monthly_on_demand_efo_data_out_gb",
        "monthly_on_demand_extended_retention_gb",
        "monthly_on_demand_long_term_retention_gb",
    ];
    let prov_keys = [
        "monthly_provisioned_put_units",
        "monthly_provisioned_long_term_retention_gb",
        "monthly_provisioned_long_term_retrieval_gb",
        "monthly_provisioned_efo_data_retrieval_gb",
        "monthly_provisioned_efo_consumer_hours",
    ];
    let wrong = if mode == StreamMode::Provisioned {
        od_keys.iter().find(|k| r.table.contains_key(**k))
    } else {
        prov_keys.iter().find(|k| r.table.contains_key(**k))
    };
    if let Some(k) = wrong {
        return Err(r.err(
            k,
            format!("`{k}` does not apply to a {} stream", mode.key()),
        ));
    }
    match mode {
        StreamMode::Provisioned => {
            s.shard_hours = shards * hours;
            s.put_payload_units = rounded(
                records * kinesis::put_payload_units(size.ceil() as u64) as f64
                    + r.num_or("monthly_provisioned_put_units", 0.0)?,
            );
            if retention > 24.0 {
                s.extended_retention_shard_hours = shards * hours;
            }
            s.long_term_retention_gb_hours =
                long_gb_hours + r.num_or("monthly_provisioned_long_term_retention_gb", 0.0)? * mh;
            s.long_term_retrieval_bytes =
                rounded(gb_in("monthly_provisioned_long_term_retrieval_gb")?);
            s.efo_consumer_shard_hours =
                efo * shards * hours + r.num_or("monthly_provisioned_efo_consumer_hours", 0.0)?;
            s.efo_bytes =
                rounded(efo * write_bytes + gb_in("monthly_provisioned_efo_data_retrieval_gb")?);
        }
        StreamMode::OnDemand | StreamMode::OnDemandAdvantage => {
            if mode == StreamMode::OnDemand {
                s.stream_hours = hours;
            }
            s.bytes_in_billed = rounded(
                records * kinesis::on_demand_billed_bytes(size.ceil() as u64) as f64
                    + gb_in("monthly_on_demand_data_in_gb")?,
            );
            s.bytes_out =
                rounded(consumers * write_bytes + gb_in("monthly_on_demand_data_out_gb")?);
            s.efo_bytes = rounded(efo * write_bytes + gb_in("monthly_on_demand_efo_data_out_gb")?);
            s.efo_consumer_shard_hours = 0.0;
            s.extended_retention_gb_hours =
                ext_gb_hours + r.num_or("monthly_on_demand_extended_retention_gb", 0.0)? * mh;
            s.long_term_retention_gb_hours =
                long_gb_hours + r.num_or("monthly_on_demand_long_term_retention_gb", 0.0)? * mh;
            if efo > 0.0 {
                out.notes.push(format!(
                    "kinesis.{}: enhanced fan-out on an on-demand stream is priced per GB only; a consumer-hour charge, if any, is UNCONFIRMED",
                    r.name
                ));
            }
        }
    }
    out.usage.kinesis.push(s);
    if rate > 0.0 {
        let what = "shards needed (AWS's sizing formula)";
        if mode == StreamMode::Provisioned {
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
    if efo > 0.0 {
        let limit = if mode == StreamMode::OnDemandAdvantage {
            capacity::KINESIS_EFO_CONSUMERS_ADVANTAGE
        } else {
            capacity::KINESIS_EFO_CONSUMERS
        };
        out.capacity.push(Capacity::against(
            "kinesis_data_streams",
            r.name,
            "enhanced fan-out consumers",
            efo,
            limit,
            "over the per-stream limit of registered consumers",
        ));
    }
    Ok(())
}

fn firehose_stream(r: &Res, out: &mut UsageFile) -> Result<(), PricingError> {
    let source = match r.choice("source", &["direct_put", "kinesis", "vended_logs", "msk"])? {
        None | Some("direct_put") => FirehoseSource::DirectPut,
        Some("kinesis") => FirehoseSource::Kinesis,
        Some("vended_logs") => FirehoseSource::VendedLogs,
        Some(_) => FirehoseSource::Msk,
    };
    let hours = r.hours()?;
    let rate = r.num_or("records_per_second", 0.0)?;
    let size = kib(r.num_or("record_size_kb", 1.0)?);
    let records = rate * hours * 3600.0 + r.num_or("monthly_records", 0.0)?;
    let raw = records * size;
    let per_record = match source {
        FirehoseSource::DirectPut | FirehoseSource::Kinesis => {
            firehose::billed_bytes(size.ceil() as u64) as f64
        }
        _ => size,
    };
    let given_gb = r.num_or("monthly_data_ingested_gb", 0.0)?;
    if given_gb > 0.0 {
        out.notes.push(format!(
            "firehose.{}: monthly_data_ingested_gb is priced as given; aqueduct cannot round it up to 5 KB per record (give records_per_second and record_size_kb for that)",
            r.name
        ));
    }
    let billed = records * per_record + given_gb * BYTES_PER_GB;
    let delivered = raw + given_gb * BYTES_PER_GB;
    let azs = r.num_or("vpc_azs", 0.0)?;
    let dp = r.flag("dynamic_partitioning")?;
    for k in ["monthly_s3_objects", "monthly_jq_hours"] {
        if !dp && r.table.contains_key(k) {
            return Err(r.err(
                k,
                format!("`{k}` is billed with dynamic partitioning only: add dynamic_partitioning = true"),
            ));
        }
    }
    out.usage.firehose.push(FirehoseUsage {
        name: r.name.into(),
        source,
        ingest_billed_bytes: rounded(billed),
        format_conversion: r.flag("format_conversion")?,
        vpc_az_hours: azs * hours.ceil(),
        vpc_bytes: if azs > 0.0 { rounded(delivered) } else { 0 },
        dynamic_partitioning_bytes: if dp { rounded(delivered) } else { 0 },
        dynamic_partitioning_objects: rounded(r.num_or("monthly_s3_objects", 0.0)?),
        jq_hours: r.num_or("monthly_jq_hours", 0.0)?,
    });
    if rate > 0.0 && source == FirehoseSource::DirectPut {
        out.capacity.push(Capacity::against(
            "firehose",
            r.name,
            "Direct PUT MiB/s",
            rate * size / 1_048_576.0,
            capacity::FIREHOSE_DIRECT_PUT_MIB_PER_S,
            "over the default Direct PUT quota (5 MiB/s in us-east-1; raise it with a quota request)",
        ));
    }
    Ok(())
}

fn flink(r: &Res, out: &mut UsageFile) -> Result<(), PricingError> {
    let kpus = match (
        r.num("kpus")?.or(r.num("kinesis_processing_units")?),
        r.num("parallelism")?,
    ) {
        (Some(_), Some(_)) => {
            return Err(r.err(
                "parallelism",
                "give either kpus or parallelism (with parallelism_per_kpu), not both".into(),
            ))
        }
        (Some(k), None) => k,
        (None, Some(p)) => {
            let per = r.ranged("parallelism_per_kpu", 1.0, 1.0, 8.0)?;
            (p / per).ceil()
        }
        (None, None) => 1.0,
    };
    let starts = r.num("monthly_starts")?;
    let run_minutes = r.num("run_minutes")?;
    let run = match (starts, run_minutes) {
        (Some(n), Some(m)) => {
            if r.table.contains_key("hours") {
                return Err(r.err(
                    "hours",
                    "give either hours (an application that keeps running) or monthly_starts with run_minutes, not both".into(),
                ));
            }
            if n * m / 60.0 > r.month_hours {
                return Err(r.err(
                    "monthly_starts",
                    format!("{n} starts of {m} minutes run longer than the month"),
                ));
            }
            FlinkRun {
                count: n,
                seconds: m * 60.0,
                kpus,
                whole: true,
            }
        }
        (None, None) => FlinkRun {
            count: 1.0,
            seconds: r.hours()? * 3600.0,
            kpus,
            whole: false,
        },
        (Some(_), None) => {
            return Err(r.err(
                "monthly_starts",
                "monthly_starts needs run_minutes (how long each run lasts)".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(r.err(
                "run_minutes",
                "run_minutes needs monthly_starts (how many runs a month)".into(),
            ))
        }
    };
    let backup = r
        .num("backup_gb")?
        .or(r.num("durable_application_backup_gb")?)
        .unwrap_or(0.0);
    out.usage.flink.push(FlinkUsage {
        name: r.name.into(),
        runs: vec![run],
        backup_gb_hours: backup * r.month_hours,
    });
    Ok(())
}

fn video(r: &Res, out: &mut UsageFile) -> Result<(), PricingError> {
    let hours = r.hours()?;
    let streams = r.num_or("streams", 0.0)?;
    let kbps = r.num_or("bitrate_kbps", 0.0)?;
    let retention = r.num_or("retention_hours", 0.0)?;
    let consumed = r.ranged("consumed_fraction", 0.0, 0.0, 1e6)?;
    let hls = r.ranged("hls_fraction", 0.0, 0.0, 1e6)?;
    // Bit rates are decimal: 1 kbit/s = 1,000 bits/s = 125 bytes/s.
    let bytes_per_h = streams * kbps * 125.0 * 3600.0;
    let ingested = bytes_per_h * hours;
    let gb = |k: &str| -> Result<f64, PricingError> { Ok(r.num_or(k, 0.0)? * BYTES_PER_GB) };
    out.usage.video.push(VideoUsage {
        name: r.name.into(),
        ingested_bytes: rounded(ingested + gb("monthly_ingested_gb")?),
        consumed_bytes: rounded(ingested * consumed + gb("monthly_consumed_gb")?),
        hls_bytes: rounded(ingested * hls + gb("monthly_hls_consumed_gb")?),
        dash_bytes: rounded(gb("monthly_dash_consumed_gb")?),
        // Steady state: `retention` hours of video held while the streams run.
        stored_gb_hours: bytes_per_h * retention / BYTES_PER_GB * hours
            + r.num_or("stored_gb", 0.0)? * r.month_hours,
    });
    Ok(())
}

fn lambda(r: &Res, out: &mut UsageFile) -> Result<(), PricingError> {
    let arch = match r.choice("architecture", &["x86_64", "arm64"])? {
        None | Some("x86_64") => LambdaArch::X86_64,
        Some(_) => LambdaArch::Arm64,
    };
    let memory = r.ranged("memory_mb", 128.0, 128.0, 10_240.0)?;
    if r.table.contains_key("request_duration_ms")
        && r.table.contains_key("average_request_duration")
    {
        return Err(r.err(
            "average_request_duration",
            "give request_duration_ms or its infracost alias average_request_duration, not both"
                .into(),
        ));
    }
    let duration_ms = r
        .num("request_duration_ms")?
        .or(r.num("average_request_duration")?)
        .unwrap_or(0.0);
    let hours = r.hours()?;
    let rate = r.num_or("requests_per_second", 0.0)?;
    let requests = r.num_or("monthly_requests", 0.0)? + rate * hours * 3600.0;
    // Duration is billed rounded up to the next millisecond per invocation.
    let gbs = requests * duration_ms.ceil() / 1000.0 * memory / 1024.0;
    out.usage.lambda.push(LambdaUsage {
        name: r.name.into(),
        architecture: arch,
        requests: rounded(requests),
        gb_seconds: gbs,
    });
    if requests > 0.0 && duration_ms > 0.0 {
        let mean_rate = if rate > 0.0 {
            rate
        } else {
            requests / (r.month_hours * 3600.0)
        };
        out.capacity.push(Capacity::info(
            "lambda",
            r.name,
            "concurrent executions (Little's law: rate × mean duration)",
            capacity::lambda_concurrency(mean_rate, duration_ms / 1000.0),
        ));
    }
    Ok(())
}
