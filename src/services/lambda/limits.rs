//! AWS Lambda limits used by functions and event source mappings, with sources.
//!
//! Defaults are AWS's documented values, each with the AWS page it comes from (the
//! `SOURCE_*` constants below); a model may override them in `[limits.lambda]`.

use crate::input::units::{Bytes, Dur};
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// Lambda quotas and event-source-mapping rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LambdaLimits {
    /// Concurrent executions per account and Region: 1,000 (raisable).
    /// <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>
    pub account_concurrency: u32,
    /// Longest function timeout: 15 minutes (gettingstarted-limits.html).
    pub max_timeout: Dur,
    /// Smallest memory setting, MB: 128 (how-aws-pricing-works whitepaper).
    pub min_memory_mb: u32,
    /// Largest memory setting, MB: 10,240 (gettingstarted-limits.html).
    pub max_memory_mb: u32,
    /// SQS event source mapping: largest batch for a standard queue: 10,000.
    /// <https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>
    pub sqs_max_batch_standard: u32,
    /// SQS event source mapping: largest batch for a FIFO queue: 10 (with-sqs.html).
    pub sqs_max_batch_fifo: u32,
    /// SQS event source mapping: default batch size: 10 (with-sqs.html).
    pub sqs_default_batch: u32,
    /// Batch sizes above this need a batching window of at least 1 s: 10 (with-sqs.html).
    pub sqs_batch_without_window: u32,
    /// Longest batching window: 300 s (invocation-eventsourcemapping).
    pub max_batching_window: Dur,
    /// SQS event source mapping: concurrent batches at the start: 5.
    /// <https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html>
    pub sqs_initial_concurrency: u32,
    /// SQS event source mapping: concurrency added per minute while messages wait: 300
    /// (was 60 before 2023) (services-sqs-scaling.html).
    pub sqs_scale_up_per_minute: u32,
    /// SQS event source mapping: most concurrent batches per mapping: 1,000
    /// (services-sqs-scaling.html).
    pub sqs_max_concurrency: u32,
    /// Smallest `ScalingConfig.MaximumConcurrency`: 2 (services-sqs-scaling.html).
    pub sqs_min_maximum_concurrency: u32,
    /// Kinesis event source mapping: largest batch: 10,000.
    /// <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>
    pub kinesis_max_batch: u32,
    /// Kinesis event source mapping: default batch size: 100 (with-kinesis.html).
    pub kinesis_default_batch: u32,
    /// Largest parallelization factor: 10 (with-kinesis.html).
    pub max_parallelization_factor: u32,
    /// Largest `MaximumRetryAttempts` (−1 = infinite): 10,000 (API_CreateEventSourceMapping).
    pub max_retry_attempts: u32,
    /// Shortest `MaximumRecordAgeInSeconds` other than −1 (infinite): 60 s; values from 0
    /// to 59 "fall within the parameter's absolute range" but are not allowed.
    /// <https://docs.aws.amazon.com/lambda/latest/api/API_EventSourceMappingConfiguration.html>
    pub min_record_age: Dur,
    /// Longest `MaximumRecordAgeInSeconds`: 604,800 s = 7 days
    /// (API_EventSourceMappingConfiguration.html).
    pub max_record_age: Dur,
    /// Synchronous invocation payload (the batch handed to the function): 6 MB
    /// (with-sqs.html, 2023).
    pub max_sync_payload_bytes: u64,
    /// Asynchronous invocation payload (an SNS notification): 1 MB (was 256 KB)
    /// (AWS Compute Blog, 29 Jan 2026,
    /// <https://aws.amazon.com/blogs/compute/more-room-to-build-serverless-services-now-support-payloads-up-to-1-mb/>).
    pub async_max_payload_bytes: u64,
    /// Asynchronous events are billed one request for their first 256 KB ...
    /// (<https://aws.amazon.com/lambda/pricing/>, read 2026-12-07: "You are charged for 1
    /// request per each asynchronous Event for first 256 KB").
    pub async_request_bytes: Bytes,
    /// ... and one more request for each further 64 KB chunk, up to the 1 MB payload
    /// ("Individual event size beyond 256 KB is charged 1 additional request for each
    /// 64 KB of chunk upto 1 MB"; same page).
    pub async_request_chunk: Bytes,
    /// Asynchronous invocation: retries of an event whose invocation returned an error,
    /// the default and the most `MaximumRetryAttempts` allows: 2.
    /// <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html>
    pub async_max_retry_attempts: u32,
    /// Asynchronous invocation: wait before the first retry of a failed event: 1 minute
    /// (invocation-async-error-handling.html).
    pub async_first_retry_delay: Dur,
    /// Asynchronous invocation: wait before the second retry: 2 minutes
    /// (invocation-async-error-handling.html).
    pub async_second_retry_delay: Dur,
    /// Asynchronous invocation: longest time an event stays in the function's event queue
    /// (`MaximumEventAgeInSeconds`, default and maximum): 6 hours
    /// (invocation-async-error-handling.html).
    pub async_max_event_age: Dur,
    /// Asynchronous invocation: first wait before retrying an event throttled for lack of
    /// concurrency: 1 s, doubling up to [`LambdaLimits::async_throttle_backoff_max`]
    /// (invocation-async-error-handling.html).
    pub async_throttle_backoff_min: Dur,
    /// Asynchronous invocation: longest wait between throttled retries: 5 minutes.
    pub async_throttle_backoff_max: Dur,
}

impl Default for LambdaLimits {
    fn default() -> Self {
        LambdaLimits {
            account_concurrency: 1000,
            max_timeout: Dur(SimDuration::from_secs(900)),
            min_memory_mb: 128,
            max_memory_mb: 10_240,
            sqs_max_batch_standard: 10_000,
            sqs_max_batch_fifo: 10,
            sqs_default_batch: 10,
            sqs_batch_without_window: 10,
            max_batching_window: Dur(SimDuration::from_secs(300)),
            sqs_initial_concurrency: 5,
            sqs_scale_up_per_minute: 300,
            sqs_max_concurrency: 1000,
            sqs_min_maximum_concurrency: 2,
            kinesis_max_batch: 10_000,
            kinesis_default_batch: 100,
            max_parallelization_factor: 10,
            max_retry_attempts: 10_000,
            min_record_age: Dur(SimDuration::from_secs(60)),
            max_record_age: Dur(SimDuration::from_secs(604_800)),
            max_sync_payload_bytes: 6 * 1024 * 1024,
            async_max_payload_bytes: 1 << 20,
            async_request_bytes: Bytes(256 << 10),
            async_request_chunk: Bytes(64 << 10),
            async_max_retry_attempts: 2,
            async_first_retry_delay: Dur(SimDuration::from_secs(60)),
            async_second_retry_delay: Dur(SimDuration::from_secs(120)),
            async_max_event_age: Dur(SimDuration::from_secs(6 * 3600)),
            async_throttle_backoff_min: Dur(SimDuration::from_secs(1)),
            async_throttle_backoff_max: Dur(SimDuration::from_secs(300)),
        }
    }
}

impl LambdaLimits {
    /// Requests billed for one asynchronous invocation of an event of `bytes`.
    ///
    /// # Formula
    /// `1 + ceil(max(0, bytes − 256 KB) / 64 KB)`: a 512 KiB event is 5 requests
    /// (<https://aws.amazon.com/lambda/pricing/>).
    pub(crate) fn async_requests(&self, bytes: u64) -> u64 {
        1 + bytes
            .saturating_sub(self.async_request_bytes.0)
            .div_ceil(self.async_request_chunk.0.max(1))
    }
}

/// Source of Lambda's prices and billing rules (requests of asynchronous events).
pub(crate) const SOURCE_PRICING: &str = "https://aws.amazon.com/lambda/pricing/";

/// Source of the SQS event-source-mapping rules.
pub(crate) const SOURCE_SQS_ESM: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html";
/// Source of the SQS scaling rules.
pub(crate) const SOURCE_SQS_SCALING: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html";
/// Source of the Kinesis event-source-mapping rules.
pub(crate) const SOURCE_KINESIS_ESM: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html";
/// Source of the event-source-mapping parameters' ranges (`MaximumRecordAgeInSeconds`).
pub(crate) const SOURCE_ESM_API: &str =
    "https://docs.aws.amazon.com/lambda/latest/api/API_EventSourceMappingConfiguration.html";
/// Source of the asynchronous-invocation retry rules.
pub(crate) const SOURCE_ASYNC: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html";
/// Source of the function quotas.
pub(crate) const SOURCE_QUOTAS: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html";

/// Default cold-start latency (a modelling default, not an AWS quota): lognormal with
/// median 250 ms and p99 1.2 s, typical of managed runtimes.
pub(crate) const DEFAULT_COLD_START_MEDIAN_MS: f64 = 250.0;
/// See [`DEFAULT_COLD_START_MEDIAN_MS`].
pub(crate) const DEFAULT_COLD_START_P99_MS: f64 = 1200.0;
/// Default time an idle execution environment is kept before it is reclaimed (a
/// modelling default: AWS does not document it).
pub(crate) const DEFAULT_IDLE_TIMEOUT_S: u64 = 600;

/// Long-poll wait of an SQS event source mapping's receives: 20 s, the longest long poll
/// ("the event source mapping uses long polling"; services-sqs-scaling.html).
pub(crate) const SQS_ESM_WAIT: SimDuration = SimDuration::from_secs(20);
/// Time between two GetRecords calls of a Kinesis event source mapping on one shard
/// ("Lambda polls each shard at a base rate of once per second"; with-kinesis.html; a
/// modelling default).
pub(crate) const KINESIS_ESM_POLL_INTERVAL: SimDuration = SimDuration::from_secs(1);

// ----- Latency defaults of event source mappings (calibrated 2026-12-07) -----------------
//
// AWS documents no figure for these; each is a lognormal modelling default, overridable per
// function, calibrated so that low-rate models with default settings reproduce the
// published measurements of Bite-Sized Serverless, "Serverless Messaging: Latency Compared"
// (eu-west-1, 4–5 September 2022, 1,024 messages per path, producer timestamp → consumer
// handler), <https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/>,
// within ±25% at p50 and ±35% at p99 (`tests/suite/calibration.rs` holds every row).

/// Source of the latency calibration of the mapping defaults below.
pub(crate) const SOURCE_LATENCY_MEASURED: &str =
    "https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/";

/// Invoke overhead of an event source mapping (batch in hand → handler running: the
/// poller's synchronous Invoke through Lambda's front end to a warm execution
/// environment; "Lambda event source mappings ... invoke your function synchronously",
/// <https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html>):
/// median, ms. With the SQS wake-up below it makes the SQS standard path's p50 16 ms
/// and p99 105 ms (SOURCE_LATENCY_MEASURED).
pub(crate) const DEFAULT_INVOKE_OVERHEAD_MEDIAN_MS: f64 = 3.0;
/// See [`DEFAULT_INVOKE_OVERHEAD_MEDIAN_MS`]: p99, ms.
pub(crate) const DEFAULT_INVOKE_OVERHEAD_P99_MS: f64 = 70.0;
/// Long-poll wake-up of an SQS mapping on a standard queue (message visible → the
/// waiting ReceiveMessage of one of the mapping's pollers returns it; long polling
/// "returns messages as soon as they become available",
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html>,
/// after the wait request's server notices them): median, ms.
pub(crate) const DEFAULT_SQS_WAKEUP_MEDIAN_MS: f64 = 2.0;
/// See [`DEFAULT_SQS_WAKEUP_MEDIAN_MS`]: p99, ms.
pub(crate) const DEFAULT_SQS_WAKEUP_P99_MS: f64 = 40.0;
/// Long-poll wake-up of an SQS mapping on a FIFO queue: a FIFO receive must also lock the
/// message group and check receive-request-attempt deduplication before it returns
/// (<https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html>),
/// and the measured FIFO path has a 645 ms p99 where the standard one has 105 ms
/// (SOURCE_LATENCY_MEASURED): median, ms.
pub(crate) const DEFAULT_FIFO_WAKEUP_MEDIAN_MS: f64 = 12.0;
/// See [`DEFAULT_FIFO_WAKEUP_MEDIAN_MS`]: p99, ms.
pub(crate) const DEFAULT_FIFO_WAKEUP_P99_MS: f64 = 550.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asynchronous_requests_by_event_size() {
        // One request for the first 256 KB, one more per further 64 KB (or part of it).
        let l = LambdaLimits::default();
        for (bytes, requests) in [
            (0, 1),
            (256 << 10, 1),
            ((256 << 10) + 1, 2),
            (320 << 10, 2),
            ((320 << 10) + 1, 3),
            (512 << 10, 5),
            (1 << 20, 13),
        ] {
            assert_eq!(l.async_requests(bytes), requests, "{bytes} bytes");
        }
    }
}
