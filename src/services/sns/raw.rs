//! The SNS tables of a model file as written: `[[topic]]` and `[[subscription]]`. Filter
//! policies and attribute distributions stay TOML values here; `super::config` validates
//! them with messages that name the exact key.

use crate::input::units::{Bytes, Dur};
use crate::model::raw::{RawDist, RawWindow};
use serde::Deserialize;

/// Topic type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RawTopicKind {
    /// Standard topic.
    #[default]
    Standard,
    /// FIFO topic.
    Fifo,
}

/// FIFO topic throughput scope (`FifoThroughputScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawThroughputScope {
    /// 3,000 messages/s and 20 MB/s per topic, deduplication across the topic (default).
    Topic,
    /// High throughput: the regional quota, deduplication per message group.
    MessageGroup,
}

/// A `[[topic]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    /// Name (FIFO topics end in `.fifo`).
    pub name: String,
    /// `standard` or `fifo`.
    #[serde(default)]
    pub kind: RawTopicKind,
    /// `MaximumMessageSize` (1 KiB to 1 MiB, default 256 KiB).
    #[serde(default)]
    pub max_message_size: Option<Bytes>,
    /// FIFO: `topic` (default) or `message_group`.
    #[serde(default)]
    pub throughput_scope: Option<RawThroughputScope>,
    /// Latency of each Publish/PublishBatch call.
    #[serde(default)]
    pub api_latency: Option<RawDist<Dur>>,
    /// Delivery latency of its subscriptions that set none.
    #[serde(default)]
    pub delivery_latency: Option<RawDist<Dur>>,
    /// Topic policy: an IAM policy document (JSON text).
    #[serde(default)]
    pub policy: Option<String>,
    /// Topic policy read from a JSON file (relative to the model file).
    #[serde(default)]
    pub policy_file: Option<String>,
}

/// What a filter policy reads (`FilterPolicyScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawFilterScope {
    /// Message attributes (`MessageAttributes`, the default).
    Attributes,
    /// The message body (`MessageBody`).
    Body,
}

/// An HTTP/S backoff function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawBackoff {
    /// Linear (AWS's default).
    Linear,
    /// Arithmetic.
    Arithmetic,
    /// Geometric.
    Geometric,
    /// Exponential.
    Exponential,
}

/// An HTTP/S delivery policy (`healthyRetryPolicy` and `throttlePolicy`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDeliveryPolicy {
    /// `numRetries`: retries in all phases (0–100, default 3).
    #[serde(default)]
    pub num_retries: Option<u32>,
    /// `numNoDelayRetries` (default 0).
    #[serde(default)]
    pub num_no_delay_retries: Option<u32>,
    /// `numMinDelayRetries`: pre-backoff retries at `min_delay` (default 0).
    #[serde(default)]
    pub num_min_delay_retries: Option<u32>,
    /// `numMaxDelayRetries`: post-backoff retries at `max_delay` (default 0).
    #[serde(default)]
    pub num_max_delay_retries: Option<u32>,
    /// `minDelayTarget` (default 20s).
    #[serde(default)]
    pub min_delay: Option<Dur>,
    /// `maxDelayTarget` (default 20s).
    #[serde(default)]
    pub max_delay: Option<Dur>,
    /// `backoffFunction` (default linear).
    #[serde(default)]
    pub backoff: Option<RawBackoff>,
    /// `throttlePolicy.maxReceivesPerSecond`.
    #[serde(default)]
    pub max_receives_per_second: Option<u32>,
}

/// A `[[subscription]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubscription {
    /// Name in reports (default `TOPIC-KIND-ENDPOINT`).
    #[serde(default)]
    pub name: Option<String>,
    /// Topic name.
    pub topic: String,
    /// `sqs:NAME`, `lambda:NAME`, `http:NAME` (or `https:`), `firehose:NAME`,
    /// `email:NAME`, `sms:NAME`, `push:NAME`.
    pub endpoint: String,
    /// Filter policy.
    #[serde(default)]
    pub filter: Option<toml::Value>,
    /// `attributes` (default) or `body`.
    #[serde(default)]
    pub filter_scope: Option<RawFilterScope>,
    /// Raw message delivery (SQS, HTTP/S, Firehose).
    #[serde(default)]
    pub raw_message_delivery: Option<bool>,
    /// Subscription dead-letter queue: `sqs:NAME`.
    #[serde(default)]
    pub dead_letter: Option<String>,
    /// Publish → arrival at the endpoint.
    #[serde(default)]
    pub delivery_latency: Option<RawDist<Dur>>,
    /// Probability that a delivery attempt fails.
    #[serde(default)]
    pub failure_probability: Option<f64>,
    /// Windows when attempts fail (with `probability`, default 1).
    #[serde(default)]
    pub outages: Vec<RawWindow>,
    /// HTTP/S delivery policy.
    #[serde(default)]
    pub delivery_policy: Option<RawDeliveryPolicy>,
    /// Retry jitter, a fraction of each delay (default 0.1).
    #[serde(default)]
    pub jitter: Option<f64>,
    /// Who calls Subscribe: an IAM ARN (default `arn:aws:iam::ACCOUNT:role/NAME`).
    #[serde(default)]
    pub principal: Option<String>,
}
