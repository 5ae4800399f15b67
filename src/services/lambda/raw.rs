//! The Lambda table of a model file as written: `[[lambda]]` (see `models/README.md`).
//! Plain serde structs with `deny_unknown_fields`; validated by `super::config`.

use crate::input::units::Dur;
use crate::model::raw::RawDist;
use serde::Deserialize;

/// Lambda CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum RawArch {
    /// x86_64 (default).
    #[default]
    #[serde(rename = "x86_64")]
    X86,
    /// arm64 (Graviton).
    #[serde(rename = "arm64")]
    Arm,
}

/// A `[[lambda]]` function and its event source mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLambda {
    /// Name.
    pub name: String,
    /// Event source mapping: `sqs:NAME` or `kinesis:NAME`; none for functions invoked by
    /// SNS subscriptions.
    #[serde(default)]
    pub source: Option<String>,
    /// Records per invocation (SQS default 10, Kinesis default 100).
    #[serde(default)]
    pub batch_size: Option<u32>,
    /// `MaximumBatchingWindowInSeconds` (0–300 s).
    #[serde(default)]
    pub batching_window: Option<Dur>,
    /// SQS mapping `ScalingConfig.MaximumConcurrency` (2–1,000).
    #[serde(default)]
    pub maximum_concurrency: Option<u32>,
    /// Reserved concurrency of the function.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// Memory, MB (default 128).
    #[serde(default)]
    pub memory_mb: Option<u32>,
    /// `x86_64` (default) or `arm64`.
    #[serde(default)]
    pub architecture: RawArch,
    /// Time per invocation.
    pub duration: RawDist<Dur>,
    /// Extra time per record (default 0).
    #[serde(default)]
    pub per_record: Option<RawDist<Dur>>,
    /// Extra time of a cold start.
    #[serde(default)]
    pub cold_start: Option<RawDist<Dur>>,
    /// Idle time after which an execution environment is reclaimed.
    #[serde(default)]
    pub idle_timeout: Option<Dur>,
    /// Function timeout (default 3s, AWS's default).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Probability that a record fails.
    #[serde(default)]
    pub failure_probability: Option<f64>,
    /// SQS: `ReportBatchItemFailures` (partial batch responses).
    #[serde(default)]
    pub report_batch_item_failures: Option<bool>,
    /// Kinesis: concurrent batches per shard (1–10).
    #[serde(default)]
    pub parallelization_factor: Option<u32>,
    /// Kinesis: retries of a failed batch (−1 = until the records expire, the default).
    #[serde(default)]
    pub maximum_retry_attempts: Option<i64>,
    /// Kinesis: split failed batches.
    #[serde(default)]
    pub bisect_on_error: Option<bool>,
    /// Kinesis: skip records older than this.
    #[serde(default)]
    pub maximum_record_age: Option<Dur>,
    /// The function's execution role (default `arn:aws:iam::ACCOUNT:role/NAME`), the
    /// caller of its event source mapping, for access policies.
    #[serde(default)]
    pub principal: Option<String>,
}
