//! Amazon SNS limits, retry policies and defaults, with their sources.
//!
//! Every AWS number the SNS model uses is a field of [`SnsLimits`]. The defaults are AWS's
//! documented values, each with the AWS page it comes from (the `SOURCE_*` constants below);
//! a model may override any of them in a `[limits.sns]` table, for example after a quota increase. Modelling
//! defaults that are not AWS quotas (delivery latency, the size of the JSON envelope, the
//! amount of retry jitter) are the constants at the end of this file.

use crate::input::units::{Bytes, Dur};
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// SNS quotas and delivery policies, as AWS documented them when read (2026).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnsLimits {
    /// Messages per second that Publish and PublishBatch accept per account in the Region:
    /// 30,000 in us-east-1 (9,000 in us-west-2 and eu-west-1). AWS's quota table was not
    /// readable; the value is the one reported for the 2025 high-throughput FIFO launch,
    /// which AWS said matches standard topics (a secondary source,
    /// <https://zircon.tech/?p=3781>).
    /// <https://docs.aws.amazon.com/general/latest/gr/sns.html>
    pub regional_publish_per_s: u32,
    /// FIFO topic in the default (topic) throughput scope: messages per second per topic:
    /// 3,000. <https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_sns.FifoThroughputScope.html>
    pub fifo_topic_publish_per_s: u32,
    /// FIFO topic in the topic throughput scope: bytes per second per topic: 20 MB
    /// (FifoThroughputScope, as above; aqueduct's MB is 2^20 bytes).
    pub fifo_topic_bytes_per_s: Bytes,
    /// Default `MaximumMessageSize` of a topic (body and attributes): 256 KiB.
    /// <https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html>
    pub default_max_message_size: Bytes,
    /// Largest `MaximumMessageSize` a topic may set: 1 MiB (large-message-payloads.html;
    /// <https://docs.aws.amazon.com/sns/latest/api/API_SetTopicAttributes.html>).
    pub max_message_size: Bytes,
    /// Smallest `MaximumMessageSize` a topic may set: 1,024 B (API_SetTopicAttributes).
    pub min_message_size_setting: Bytes,
    /// Topics whose `MaximumMessageSize` is above this (256 KiB) may have at most
    /// [`SnsLimits::large_topic_max_subscriptions`] subscriptions, and only SQS, Data
    /// Firehose and Lambda ones (large-message-payloads.html).
    pub large_message_threshold: Bytes,
    /// Subscriptions of a topic whose messages may exceed 256 KiB: 100
    /// (large-message-payloads.html).
    pub large_topic_max_subscriptions: u32,
    /// Messages per PublishBatch call: 10; the batch's total size may not exceed the topic's
    /// `MaximumMessageSize`. <https://docs.aws.amazon.com/sns/latest/dg/sns-batch-api-actions.html>
    pub max_batch_messages: u32,
    /// Subscriptions per FIFO topic: 100. <https://aws.amazon.com/sns/features/>
    pub fifo_max_subscriptions: u32,
    /// Subscriptions per standard topic: 12,500,000 (features page).
    pub standard_max_subscriptions: u32,
    /// FIFO deduplication interval, from publish time: 5 minutes (features page).
    pub dedup_interval: Dur,
    /// Keys of a filter policy: 5 (attribute-based: every key; payload-based: top-level keys).
    /// <https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html>
    pub filter_max_keys: u32,
    /// Value combinations of a filter policy (the product of the array sizes): 150
    /// (subscription-filter-policy-constraints.html).
    pub filter_max_combinations: u32,
    /// Numbers in a filter policy lie within ±10^9, with 5 decimal digits
    /// (subscription-filter-policy-constraints.html).
    pub filter_numeric_bound: f64,
    /// Billing chunk: each 64 KiB of published payload is billed as one request (a secondary
    /// source; no AWS text confirms it).
    /// <https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/>
    pub billing_chunk: Bytes,
    /// AWS-managed endpoints (SQS, Lambda, Data Firehose): retries without delay: 3.
    /// <https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html>
    pub aws_managed_immediate_retries: u32,
    /// AWS-managed endpoints: pre-backoff retries: 2 (sns-message-delivery-retries.html).
    pub aws_managed_pre_backoff_retries: u32,
    /// AWS-managed endpoints: delay between pre-backoff retries: 1 s.
    pub aws_managed_pre_backoff_delay: Dur,
    /// AWS-managed endpoints: backoff retries: 10, exponential from 1 s to 20 s.
    pub aws_managed_backoff_retries: u32,
    /// AWS-managed endpoints: first backoff delay: 1 s.
    pub aws_managed_backoff_min: Dur,
    /// AWS-managed endpoints: last backoff delay: 20 s.
    pub aws_managed_backoff_max: Dur,
    /// AWS-managed endpoints: post-backoff retries: 100,000 (in all 100,015 retries over
    /// 23 days).
    pub aws_managed_post_backoff_retries: u32,
    /// AWS-managed endpoints: delay between post-backoff retries: 20 s.
    pub aws_managed_post_backoff_delay: Dur,
    /// Customer-managed endpoints (SMTP, SMS, mobile push): retries without delay: 0
    /// (sns-message-delivery-retries.html).
    pub customer_managed_immediate_retries: u32,
    /// Customer-managed endpoints: pre-backoff retries: 2, 10 s apart.
    pub customer_managed_pre_backoff_retries: u32,
    /// Customer-managed endpoints: delay between pre-backoff retries: 10 s.
    pub customer_managed_pre_backoff_delay: Dur,
    /// Customer-managed endpoints: backoff retries: 10, exponential from 10 s to 600 s.
    pub customer_managed_backoff_retries: u32,
    /// Customer-managed endpoints: first backoff delay: 10 s.
    pub customer_managed_backoff_min: Dur,
    /// Customer-managed endpoints: last backoff delay: 600 s.
    pub customer_managed_backoff_max: Dur,
    /// Customer-managed endpoints: post-backoff retries: 38, 600 s apart (50 in all, over
    /// about 6 hours).
    pub customer_managed_post_backoff_retries: u32,
    /// Customer-managed endpoints: delay between post-backoff retries: 600 s.
    pub customer_managed_post_backoff_delay: Dur,
    /// HTTP/S default delivery policy: retries: 3.
    /// <https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.retry.html>
    pub http_default_retries: u32,
    /// HTTP/S default delivery policy: delay between retries (`minDelayTarget` =
    /// `maxDelayTarget`): 20 s, linear (SendMessageToHttp.retry.html).
    pub http_default_delay: Dur,
    /// HTTP/S delivery policy: most `numRetries`: 100 (SendMessageToHttp.retry.html).
    pub http_max_retries: u32,
    /// HTTP/S delivery policy: longest `maxDelayTarget`: 3,600 s.
    pub http_max_delay: Dur,
    /// HTTP/S delivery policy: the whole retry schedule may not last longer than 3,600 s,
    /// a hard limit (sns-message-delivery-retries.html).
    pub http_max_retry_time: Dur,
}

impl Default for SnsLimits {
    fn default() -> Self {
        SnsLimits {
            regional_publish_per_s: 30_000,
            fifo_topic_publish_per_s: 3_000,
            fifo_topic_bytes_per_s: Bytes(20 << 20),
            default_max_message_size: Bytes(256 << 10),
            max_message_size: Bytes(1 << 20),
            min_message_size_setting: Bytes(1 << 10),
            large_message_threshold: Bytes(256 << 10),
            large_topic_max_subscriptions: 100,
            max_batch_messages: 10,
            fifo_max_subscriptions: 100,
            standard_max_subscriptions: 12_500_000,
            dedup_interval: Dur(SimDuration::from_secs(300)),
            filter_max_keys: 5,
            filter_max_combinations: 150,
            filter_numeric_bound: 1e9,
            billing_chunk: Bytes(64 << 10),
            aws_managed_immediate_retries: 3,
            aws_managed_pre_backoff_retries: 2,
            aws_managed_pre_backoff_delay: Dur(SimDuration::from_secs(1)),
            aws_managed_backoff_retries: 10,
            aws_managed_backoff_min: Dur(SimDuration::from_secs(1)),
            aws_managed_backoff_max: Dur(SimDuration::from_secs(20)),
            aws_managed_post_backoff_retries: 100_000,
            aws_managed_post_backoff_delay: Dur(SimDuration::from_secs(20)),
            customer_managed_immediate_retries: 0,
            customer_managed_pre_backoff_retries: 2,
            customer_managed_pre_backoff_delay: Dur(SimDuration::from_secs(10)),
            customer_managed_backoff_retries: 10,
            customer_managed_backoff_min: Dur(SimDuration::from_secs(10)),
            customer_managed_backoff_max: Dur(SimDuration::from_secs(600)),
            customer_managed_post_backoff_retries: 38,
            customer_managed_post_backoff_delay: Dur(SimDuration::from_secs(600)),
            http_default_retries: 3,
            http_default_delay: Dur(SimDuration::from_secs(20)),
            http_max_retries: 100,
            http_max_delay: Dur(SimDuration::from_secs(3600)),
            http_max_retry_time: Dur(SimDuration::from_secs(3600)),
        }
    }
}

/// Source of the message-size limits and the restrictions on large-message topics.
pub(crate) const SOURCE_LARGE_MESSAGES: &str =
    "https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html";
/// Source of the PublishBatch limits.
pub(crate) const SOURCE_BATCH: &str =
    "https://docs.aws.amazon.com/sns/latest/dg/sns-batch-api-actions.html";
/// Source of the FIFO topic throughput limits.
pub(crate) const SOURCE_FIFO_THROUGHPUT: &str =
    "https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_sns.FifoThroughputScope.html";
/// Source of the regional publish quota.
pub(crate) const SOURCE_QUOTAS: &str = "https://docs.aws.amazon.com/general/latest/gr/sns.html";
/// Source of the subscription counts, protocols and FIFO deduplication.
pub(crate) const SOURCE_FEATURES: &str = "https://aws.amazon.com/sns/features/";
/// Source of FIFO topics' delivery rules (SQS subscribers only).
pub(crate) const SOURCE_FIFO_DELIVERY: &str =
    "https://docs.aws.amazon.com/sns/latest/dg/fifo-message-delivery.html";
/// Source of the filter-policy constraints.
pub(crate) const SOURCE_FILTER: &str =
    "https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html";
/// Source of the filter operators and the `$or` rules.
pub(crate) const SOURCE_FILTER_LOGIC: &str =
    "https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html";
/// Source of the delivery retry policies.
pub(crate) const SOURCE_RETRIES: &str =
    "https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html";
/// Source of the HTTP/S delivery policy.
pub(crate) const SOURCE_HTTP_POLICY: &str =
    "https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.retry.html";
/// Source of the topic naming rules (FIFO topic names end in `.fifo`).
pub(crate) const SOURCE_NAMES: &str =
    "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html";

/// Default delivery latency (publish → the endpoint has the message) when a model gives
/// none: lognormal with median 73 ms and p99 225 ms, the SNS → Lambda latency measured by
/// a public benchmark (<https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/>, eu-west-1, 2022). It is the only measured SNS delivery
/// latency aqueduct knows of, so it is used for every protocol. A modelling default,
/// not an AWS quota.
pub(crate) const DEFAULT_DELIVERY_LATENCY_MEDIAN_MS: f64 = 73.0;
/// See [`DEFAULT_DELIVERY_LATENCY_MEDIAN_MS`].
pub(crate) const DEFAULT_DELIVERY_LATENCY_P99_MS: f64 = 225.0;
/// Default delivery latency of a FIFO topic's SQS subscriptions (publish → the FIFO queue
/// has the message; calibrated 2026-12-07): lognormal median, ms. The same benchmark
/// measured SNS FIFO → SQS FIFO → Lambda at p50 40.1 ms, p99 497 ms, faster at the median
/// than SNS standard → Lambda (73 ms, whose figure includes Lambda's asynchronous event
/// queue) and 12 ms above SQS FIFO → Lambda (28.1 ms): the SNS hop into a queue is short.
/// With the Lambda mapping's FIFO wake-up (`services::lambda::limits`) the whole path
/// falls within ±25% (p50) and ±35% (p99) of the measurement (`tests/suite/calibration.rs`).
/// A modelling default, not an AWS quota.
pub(crate) const DEFAULT_FIFO_SQS_DELIVERY_MEDIAN_MS: f64 = 10.0;
/// See [`DEFAULT_FIFO_SQS_DELIVERY_MEDIAN_MS`]: p99, ms.
pub(crate) const DEFAULT_FIFO_SQS_DELIVERY_P99_MS: f64 = 60.0;

/// Bytes that SNS's JSON envelope adds to a message delivered without raw message
/// delivery (to SQS, HTTP/S, Lambda), as aqueduct estimates it (AWS documents no figure).
///
/// # Formula
/// A notification is `{"Type", "MessageId", "TopicArn", "Message", "Timestamp",
/// "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL",
/// "MessageAttributes"}`: about 250 bytes of keys and punctuation, a 36-byte message id,
/// a 50-byte topic ARN, a 24-byte timestamp, a 344-byte base64 RSA-2048 signature, a
/// 100-byte certificate URL and a 150-byte unsubscribe URL ≈ 950 bytes, plus the
/// attributes' JSON: rounded to 1 KiB. JSON escaping of the body is not counted.
pub(crate) const ENVELOPE_OVERHEAD_BYTES: u32 = 1024;

/// Default retry jitter: each retry delay is multiplied by a uniform factor in
/// `[1 − j, 1 + j]` with `j = 0.1`. AWS says it "applies jittering to delivery retries"
/// (sns-message-delivery-retries.html) without giving the amount; this is aqueduct's.
pub(crate) const DEFAULT_JITTER: f64 = 0.1;
