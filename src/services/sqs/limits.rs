//! Amazon SQS limits and defaults, with their sources.
//!
//! Every AWS number the SQS model uses is a field here. The defaults are AWS's documented
//! values, each with the AWS page it comes from (the `SOURCE_*` constants below); a model
//! may override any of them in a `[limits.sqs]` table, for example when AWS raises a quota or grants an increase.

use crate::input::units::{Bytes, Dur};
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// SQS quotas, as AWS documented them when read (2026).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqsLimits {
    /// Messages per batch request (SendMessageBatch, DeleteMessageBatch,
    /// ChangeMessageVisibilityBatch) and ReceiveMessage's `MaxNumberOfMessages`: 10.
    /// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-batch-api.html>
    pub max_batch_messages: u32,
    /// Total payload of one SendMessageBatch: 1 MiB (sqs-batch-api.html).
    pub max_batch_payload: Bytes,
    /// Largest `MaximumMessageSize` a queue may set, and its default: 1 MiB (since 2026; was
    /// 256 KiB). <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html>
    pub max_message_size: Bytes,
    /// Smallest `MaximumMessageSize` a queue may set: 1 KiB (API_SetQueueAttributes).
    pub min_message_size_setting: Bytes,
    /// Default visibility timeout: 30 s.
    /// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html>
    pub default_visibility_timeout: Dur,
    /// Largest visibility timeout: 12 h (sqs-visibility-timeout.html).
    pub max_visibility_timeout: Dur,
    /// Longest long-polling wait: 20 s.
    /// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html>
    pub max_receive_wait: Dur,
    /// Longest delivery delay: 15 min (quotas-queues.html).
    pub max_delay: Dur,
    /// Shortest retention period: 60 s.
    /// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html>
    pub min_retention: Dur,
    /// Longest retention period: 14 days (quotas-messages.html).
    pub max_retention: Dur,
    /// Default retention period: 4 days (quotas-messages.html).
    pub default_retention: Dur,
    /// In-flight messages per standard queue: about 120,000; short polling then gets
    /// `OverLimit`, long polling gets nothing (quotas-queues.html).
    pub in_flight_standard: u32,
    /// In-flight messages per FIFO queue: 120,000 (was 20,000).
    /// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-fifo.html>
    pub in_flight_fifo: u32,
    /// FIFO transactions per second per API action without high throughput: 300.
    /// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/troubleshooting-fifo-throttling-issues.html>
    pub fifo_tps_per_action: u32,
    /// FIFO high-throughput transactions per second per API action (us-east-1, us-west-2,
    /// eu-west-1): 70,000 (AWS News Blog, Nov 2023).
    pub fifo_high_throughput_tps_per_action: u32,
    /// Requests per second per message group in high-throughput mode: 300
    /// (high-throughput-fifo.html, 2023).
    pub fifo_high_throughput_group_rps: u32,
    /// FIFO deduplication interval: 5 minutes (using-messagededuplicationid-property).
    pub dedup_interval: Dur,
    /// Largest `maxReceiveCount` of a redrive policy: 1,000 (sqs-configure-dead-letter-queue).
    pub max_receive_count: u32,
    /// Billing chunk: each 64 KiB of payload in a request is billed as one request.
    /// <https://aws.amazon.com/jp/sqs/features/>
    pub billing_chunk: Bytes,
}

impl Default for SqsLimits {
    fn default() -> Self {
        SqsLimits {
            max_batch_messages: 10,
            max_batch_payload: Bytes(1 << 20),
            max_message_size: Bytes(1 << 20),
            min_message_size_setting: Bytes(1 << 10),
            default_visibility_timeout: Dur(SimDuration::from_secs(30)),
            max_visibility_timeout: Dur(SimDuration::from_secs(12 * 3600)),
            max_receive_wait: Dur(SimDuration::from_secs(20)),
            max_delay: Dur(SimDuration::from_secs(15 * 60)),
            min_retention: Dur(SimDuration::from_secs(60)),
            max_retention: Dur(SimDuration::from_secs(14 * 86_400)),
            default_retention: Dur(SimDuration::from_secs(4 * 86_400)),
            in_flight_standard: 120_000,
            in_flight_fifo: 120_000,
            fifo_tps_per_action: 300,
            fifo_high_throughput_tps_per_action: 70_000,
            fifo_high_throughput_group_rps: 300,
            dedup_interval: Dur(SimDuration::from_secs(300)),
            max_receive_count: 1000,
            billing_chunk: Bytes(64 << 10),
        }
    }
}

/// Where the limits above come from, for messages that cite them.
pub(crate) const SOURCE_QUOTAS: &str =
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html";
/// Source of the visibility-timeout limits.
pub(crate) const SOURCE_VISIBILITY: &str =
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html";
/// Source of the batch limits.
pub(crate) const SOURCE_BATCH: &str =
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-batch-api.html";
/// Source of the message-size and retention limits.
pub(crate) const SOURCE_MESSAGES: &str =
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html";
/// Source of the dead-letter-queue rules.
pub(crate) const SOURCE_DLQ: &str =
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html";
/// Source of the FIFO limits.
pub(crate) const SOURCE_FIFO: &str =
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-fifo.html";

/// Default latency of one SQS API call (request and response), when the model gives none:
/// lognormal with median 7 ms and p99 40 ms.
///
/// This is a modelling default, not an AWS quota. It is set so that simulated end-to-end
/// latencies fall near public measurements (SQS standard → Lambda p50 16 ms, p99 105 ms:
/// <https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/>; mqperf send p95 49 ms: <https://softwaremill.com/mqperf/>); `tests/` checks the
/// default model against that anchor.
pub(crate) const DEFAULT_API_LATENCY_MEDIAN_MS: f64 = 7.0;
/// See [`DEFAULT_API_LATENCY_MEDIAN_MS`].
pub(crate) const DEFAULT_API_LATENCY_P99_MS: f64 = 40.0;
/// Default fraction of a queue's servers that one short-polling ReceiveMessage samples.
/// AWS documents the sampling but not the fraction; see `services::sqs` for the model.
pub(crate) const DEFAULT_SHORT_POLL_SAMPLE: f64 = 0.5;
/// Backlog at and above which a short poll is assumed to find a full batch: AWS says
/// that with fewer than 1,000 messages a short poll may return fewer than requested.
pub(crate) const SHORT_POLL_FULL_BACKLOG: u64 = 1000;
