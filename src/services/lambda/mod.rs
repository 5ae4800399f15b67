//! AWS Lambda as a consumer: functions, their execution environments (cold starts,
//! concurrency) and the event source mappings that feed them.
//!
//! `function` holds the functions and the state of their mappings; the event handlers
//! of the SQS mapping are in `engine_sqs.rs` and those of the Kinesis mapping (shard
//! lanes, parallelization factor, retries and bisection) in `engine_kinesis.rs`, both in
//! the engine layer. Asynchronous invocations (by SNS subscriptions, with their queue and
//! retries) are handled in `services/sns/engine.rs`.
//! [`limits`], [`bill`] (prices) and `estimate` (the analytic estimate) complete the
//! folder.

pub mod bill;
pub(crate) mod config;
pub(crate) mod engine_kinesis;
pub(crate) mod engine_sqs;
pub(crate) mod estimate;
pub(crate) mod function;
pub mod limits;
pub mod raw;
pub(crate) mod usage_keys;

use crate::load::DurationDist;
use crate::sim::SimDuration;

/// Where a function's events come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LambdaSource {
    /// An SQS event source mapping on queue `index`.
    Sqs(u32),
    /// A Kinesis event source mapping on stream `index`.
    Kinesis(u32),
    /// Invoked asynchronously by other services (SNS subscriptions), no mapping.
    Async,
}

/// CPU architecture (priced differently).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// x86_64.
    X86,
    /// arm64 (Graviton).
    Arm,
}

/// A validated Lambda function with its event source mapping settings.
#[derive(Clone, Debug)]
pub struct LambdaSpec {
    /// Name.
    pub name: String,
    /// Event source.
    pub source: LambdaSource,
    /// Records per invocation (most).
    pub batch_size: u32,
    /// Longest wait to fill a batch.
    pub batching_window: SimDuration,
    /// SQS mapping: `ScalingConfig.MaximumConcurrency` (None: up to the mapping's maximum).
    pub maximum_concurrency: Option<u32>,
    /// The function's reserved concurrency (None: shares the account's unreserved pool).
    pub reserved_concurrency: Option<u32>,
    /// Memory, MB (billing: GB-seconds = memory/1024 × billed seconds).
    pub memory_mb: u32,
    /// Architecture.
    pub arch: Arch,
    /// Time per invocation, besides the per-record time.
    pub duration: DurationDist,
    /// Extra time per record of the batch.
    pub per_record: DurationDist,
    /// Extra time of an invocation that starts a new execution environment.
    pub cold_start: DurationDist,
    /// Idle environments are reclaimed after this long.
    pub idle_timeout: SimDuration,
    /// Function timeout: an invocation running longer fails.
    pub timeout: SimDuration,
    /// Probability that one record fails.
    pub failure_probability: f64,
    /// SQS: report batch item failures (only failed records return to the queue);
    /// otherwise one failure fails the whole batch.
    pub report_batch_item_failures: bool,
    /// Kinesis: concurrent batches per shard (1–10).
    pub parallelization_factor: u32,
    /// Kinesis: retries of a failed batch (None: until the records expire).
    pub maximum_retry_attempts: Option<u32>,
    /// Kinesis: split a failed batch in two and retry the halves.
    pub bisect_on_error: bool,
    /// Kinesis: skip records older than this (None: until they expire).
    pub maximum_record_age: Option<SimDuration>,
    /// Event source mappings: time from the mapping holding a batch to the function's
    /// handler starting (the mapping's synchronous Invoke through Lambda's front end and
    /// placement), not billed. Default: `limits::DEFAULT_INVOKE_OVERHEAD_*`.
    pub invoke_overhead: DurationDist,
    /// SQS mappings: time for a waiting long poll of the mapping to return once a message
    /// has been handed to it (the mapping's poller fleet waking up). Default:
    /// `limits::DEFAULT_SQS_WAKEUP_*` (standard) or `limits::DEFAULT_FIFO_WAKEUP_*` (FIFO).
    pub poll_wakeup: DurationDist,
    /// Kinesis mappings: enhanced fan-out (a registered stream consumer pushes records
    /// with the stream's `efo_propagation`) instead of GetRecords polling.
    pub efo: bool,
}
