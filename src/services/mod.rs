//! The AWS services, one folder each, and their registry (this file): every service's
//! limits ([`Limits`], the `[limits]` table of a model), usage ([`Usage`]) and the bill of
//! them all ([`bill`]).
//!
//! # A service's folder
//!
//! `services/<service>/` holds everything that is only that service's, each file in the
//! layer its name gives (see the table in the crate root; `tests/suite/layers.rs` checks
//! it):
//!
//! | file | layer | what it holds |
//! |---|---|---|
//! | `mod.rs` | services | what is modelled, in prose; the public names |
//! | `limits.rs` | services | the AWS limits, each with its AWS documentation URL, overridable in `[limits.<service>]` |
//! | components (`queue.rs`, `stream.rs`, `topic.rs`, …) | services | the simulated resources: state, AWS semantics, counters, the report of each |
//! | `bill.rs` | services | the usage record and the pure pricing function, with a `# Formula` section |
//! | `raw.rs`, `config.rs` | model | the model file's tables (serde structs with `deny_unknown_fields`) and their validation into the component's spec, with placed errors |
//! | `estimate.rs` | estimate | the analytic steady-state usage and capacity answer of `aqueduct price MODEL` |
//! | `engine*.rs` | engine | the event handlers: `impl Engine` blocks that move messages through the components |
//!
//! Unit tests sit at the end of the file they test.
//!
//! # Adding a service
//!
//! 1. Create `services/<service>/` with the files above (a service priced from usage files
//!    only needs `mod.rs` and `bill.rs`, as [`flink`] today).
//! 2. Register it here: `pub mod <service>;`, its limits in [`Limits`], its usage records
//!    in [`Usage`] and its pricing function in [`bill`].
//! 3. The model file: its tables in `model::raw::RawModel`, its specs in
//!    `model::Architecture`, and the call of its `config` in `model::build`.
//! 4. The engine: its event variants and their `match` arms in `engine::Event` and
//!    `Engine::dispatch`, and its state (built by its own constructor) with the calls of
//!    its start, warm-up, sample, finish, census, usage and report hooks in `engine/mod.rs`.
//! 5. `aqueduct price`: the call of its estimate in `estimate::estimate`, and its kind in
//!    the usage-file parser (`estimate::usage_file`).
//!
//! The engine's events stay one flat enum (not one enum per service wrapped in the
//! engine's) on purpose: see the note on `engine::Event`.

pub mod firehose;
pub mod flink;
pub mod kinesis;
pub mod lambda;
pub mod s3;
pub mod sns;
pub mod sqs;
pub(crate) mod usage_keys;
pub mod video;

use crate::pricing::{Bill, BillOptions, Meter, PriceTable, PricingError};
use serde::{Deserialize, Serialize};

pub use firehose::bill::FirehoseUsage;
pub use flink::bill::FlinkUsage;
pub use kinesis::bill::KinesisStreamUsage;
pub use lambda::bill::LambdaUsage;
pub use s3::bill::S3Usage;
pub use sns::bill::SnsUsage;
pub use sqs::bill::SqsUsage;
pub use video::bill::VideoUsage;

/// Every overridable AWS limit, by service (`[limits.sqs]` in a model).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Amazon SQS.
    pub sqs: sqs::limits::SqsLimits,
    /// AWS Lambda.
    pub lambda: lambda::limits::LambdaLimits,
    /// Amazon Kinesis Data Streams.
    pub kinesis: kinesis::limits::KinesisLimits,
    /// Amazon SNS.
    pub sns: sns::limits::SnsLimits,
    /// Amazon Data Firehose.
    pub firehose: firehose::limits::FirehoseLimits,
    /// Amazon Managed Service for Apache Flink.
    pub flink: flink::limits::FlinkLimits,
    /// Amazon Kinesis Video Streams.
    pub video: video::limits::VideoLimits,
}

impl Limits {
    /// The limits as the `[limits]` table of a model file (`aqueduct limits`).
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        #[derive(Serialize)]
        struct Table<'a> {
            limits: &'a Limits,
        }
        toml::to_string_pretty(&Table { limits: self })
    }

    /// Checks overrides that would make the model meaningless: every size, rate, count
    /// and billing unit must be at least 1 (a 0-byte billing chunk bills each request as
    /// millions; a 0 rate never admits anything), except retry counts, which may be 0;
    /// `filter_numeric_bound` must be finite and > 0. Returns the field
    /// (`limits.SERVICE.KEY`) and the message.
    pub(crate) fn check(&self) -> Result<(), crate::input::error::Invalid> {
        use crate::input::{error::Invalid, units::parse_size, FieldPath};
        let doc = toml::Value::try_from(self).map_err(|e| {
            Invalid::at(
                &FieldPath::top("limits"),
                format!("cannot read the limits: {e}"),
            )
        })?;
        let Some(services) = doc.as_table() else {
            return Ok(());
        };
        for (service, table) in services {
            let Some(table) = table.as_table() else {
                continue;
            };
            for (key, v) in table {
                let path = FieldPath::top("limits").field(service).field(key);
                let bad = match v {
                    toml::Value::Integer(i) => *i < 1 && !key.contains("retr"),
                    toml::Value::Float(f) => !(f.is_finite() && *f > 0.0),
                    // Sizes are written with units; durations may be 0.
                    toml::Value::String(s) => parse_size(s).is_ok_and(|b| b == 0),
                    _ => false,
                };
                if bad {
                    return Err(Invalid::at(
                        &path,
                        format!(
                            "{v} is not a usable limit: sizes, rates, counts and billing units must be at least 1"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The AWS documentation pages the default limits come from.
    pub fn sources() -> [&'static str; 30] {
        [
            sqs::limits::SOURCE_QUOTAS,
            sqs::limits::SOURCE_MESSAGES,
            sqs::limits::SOURCE_FIFO,
            lambda::limits::SOURCE_QUOTAS,
            lambda::limits::SOURCE_SQS_SCALING,
            lambda::limits::SOURCE_KINESIS_ESM,
            lambda::limits::SOURCE_PRICING,
            kinesis::limits::SOURCE_LIMITS,
            kinesis::limits::SOURCE_LARGE_RECORDS,
            sns::limits::SOURCE_QUOTAS,
            sns::limits::SOURCE_LARGE_MESSAGES,
            sns::limits::SOURCE_FILTER,
            sns::limits::SOURCE_RETRIES,
            firehose::limits::SOURCE_LIMITS,
            firehose::limits::SOURCE_PUT_RECORD,
            firehose::limits::SOURCE_BUFFERING,
            firehose::limits::SOURCE_TRANSFORM,
            firehose::limits::SOURCE_RETRY,
            firehose::limits::SOURCE_FORMAT_CONVERSION,
            flink::limits::SOURCE_PRICING,
            flink::limits::SOURCE_LIMITS,
            flink::limits::SOURCE_AUTOSCALING,
            flink::limits::SOURCE_PARALLELISM,
            flink::limits::SOURCE_CHECKPOINTS,
            flink::limits::SOURCE_KINESIS_CONNECTOR,
            flink::limits::SOURCE_NETWORK_BUFFERS,
            flink::limits::SOURCE_KEY_GROUPS,
            video::limits::SOURCE_LIMITS,
            video::limits::SOURCE_RETENTION,
            video::limits::SOURCE_WEBRTC_LIMITS,
        ]
    }
}

/// Billable usage of a run (or of a usage file, or of a model's expected load) over its
/// measured window. Every record holds quantities accumulated over `window_s`; [`bill`]
/// scales them to a month.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// Length of the measured window, s.
    pub window_s: f64,
    /// SQS queues.
    pub sqs: Vec<SqsUsage>,
    /// SNS topics.
    pub sns: Vec<SnsUsage>,
    /// Kinesis data streams.
    pub kinesis: Vec<KinesisStreamUsage>,
    /// Firehose streams.
    pub firehose: Vec<FirehoseUsage>,
    /// Managed Service for Apache Flink applications.
    pub flink: Vec<FlinkUsage>,
    /// Kinesis video streams.
    pub video: Vec<VideoUsage>,
    /// Lambda functions.
    pub lambda: Vec<LambdaUsage>,
    /// What other services write to S3 (Firehose objects, staged files, backups).
    pub s3: Vec<S3Usage>,
    /// Batch jobs (`[[batch_job]]`): not an AWS service, priced by the model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub batch: Vec<BatchJobUsage>,
}

/// A batch job's node-hours over the window, at the price its model gives (EMR, Glue and
/// AWS Batch are not in aqueduct's price table).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchJobUsage {
    /// The job's name.
    pub name: String,
    /// Node-hours over the window.
    pub node_hours: f64,
    /// USD per node-hour (the model's `node_hour_usd`).
    pub node_hour_usd: f64,
}

impl Usage {
    /// True when no resource has a record.
    pub fn is_empty(&self) -> bool {
        self.sqs.is_empty()
            && self.sns.is_empty()
            && self.kinesis.is_empty()
            && self.firehose.is_empty()
            && self.flink.is_empty()
            && self.video.is_empty()
            && self.lambda.is_empty()
            && self.s3.is_empty()
            && self.batch.is_empty()
    }
}

/// Prices `usage`, scaled from its window to a month.
///
/// # Formula
/// `monthly quantity = quantity × month_hours × 3600 / window_s`, then each price's tiers
/// (and, when enabled, its free allowance, shared by every component of the service); see
/// each service's function for its billable units.
pub fn bill(usage: &Usage, table: &PriceTable, opts: BillOptions) -> Result<Bill, PricingError> {
    let mut m = Meter::new(table, opts, usage.window_s);
    charge_all(usage, &mut m)?;
    m.finish()
}

/// One scenario of a month: its usage over its measured window, and the hours of the
/// month it stands for.
#[derive(Clone, Copy, Debug)]
pub struct MonthPart<'a> {
    /// The scenario's name.
    pub name: &'a str,
    /// Hours of the month.
    pub hours: f64,
    /// Its usage.
    pub usage: &'a Usage,
}

/// The bill of a month composed of scenarios (a model's `[[scenario]]` tables).
///
/// # Formula
/// Each scenario's window quantities × `hours × 3600 ÷ window_s`, its lines named
/// `component [scenario]`, all charged on one account's month of `Σ hours` (so tiers, the
/// free tier and minimum commitments count the month once, as AWS does, not once per
/// scenario).
pub fn bill_month(
    parts: &[MonthPart<'_>],
    table: &PriceTable,
    free_tier: bool,
) -> Result<Bill, PricingError> {
    let hours: f64 = parts.iter().map(|p| p.hours).sum();
    let opts = BillOptions {
        month_hours: hours,
        free_tier,
    };
    let mut m = Meter::new(table, opts, hours * 3600.0);
    for p in parts {
        m.scenario(p.name, p.hours, p.usage.window_s);
        charge_all(p.usage, &mut m)?;
    }
    m.finish()
}

/// Charges every service's lines of `usage` on `m`.
fn charge_all(usage: &Usage, m: &mut Meter<'_>) -> Result<(), PricingError> {
    sqs::bill::bill_sqs(&usage.sqs, m)?;
    sns::bill::bill_sns(&usage.sns, m)?;
    kinesis::bill::bill_kinesis(&usage.kinesis, m)?;
    firehose::bill::bill_firehose(&usage.firehose, m)?;
    flink::bill::bill_flink(&usage.flink, m)?;
    video::bill::bill_video(&usage.video, m)?;
    lambda::bill::bill_lambda(&usage.lambda, m)?;
    s3::bill::bill_s3(&usage.s3, m)?;
    for b in &usage.batch {
        m.charge_at_model_price(
            "batch_job",
            &b.name,
            "node-hours (price given by the model)",
            "node-hour",
            b.node_hour_usd,
            b.node_hours,
        );
    }
    Ok(())
}
