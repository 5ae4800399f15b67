//! The SQS table of a model file as written: `[[queue]]` (see `models/README.md`). Plain
//! serde structs with `deny_unknown_fields`; validated by `super::config`.

use crate::input::units::{Bytes, Dur};
use crate::model::raw::RawDist;
use serde::Deserialize;

/// Queue type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RawQueueKind {
    /// Standard queue.
    #[default]
    Standard,
    /// FIFO queue.
    Fifo,
}

/// A redrive policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeadLetter {
    /// Name of the dead-letter queue.
    pub queue: String,
    /// Receives before a message moves to the dead-letter queue.
    pub max_receive_count: u32,
}

/// A scheduled redrive of a dead-letter queue back to its source queues.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedrive {
    /// When the move task starts.
    pub at: Dur,
    /// Messages moved per second (default 500).
    #[serde(default)]
    pub rate_per_s: Option<f64>,
}

/// A `[[queue]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQueue {
    /// Name.
    pub name: String,
    /// `standard` or `fifo`.
    #[serde(default)]
    pub kind: RawQueueKind,
    /// Default visibility timeout.
    #[serde(default)]
    pub visibility_timeout: Option<Dur>,
    /// Delivery delay.
    #[serde(default)]
    pub delay: Option<Dur>,
    /// Retention period.
    #[serde(default)]
    pub retention: Option<Dur>,
    /// Largest message accepted.
    #[serde(default)]
    pub max_message_size: Option<Bytes>,
    /// Default long-polling wait of receives that do not set one.
    #[serde(default)]
    pub receive_wait: Option<Dur>,
    /// Redrive policy.
    #[serde(default)]
    pub dead_letter: Option<RawDeadLetter>,
    /// Redrive of this dead-letter queue back to its sources.
    #[serde(default)]
    pub redrive: Option<RawRedrive>,
    /// FIFO high-throughput mode.
    #[serde(default)]
    pub high_throughput: Option<bool>,
    /// FIFO content-based deduplication.
    #[serde(default)]
    pub content_based_deduplication: Option<bool>,
    /// Standard queues: probability that a receive leaves an extra copy visible
    /// (at-least-once delivery).
    #[serde(default)]
    pub duplicate_probability: Option<f64>,
    /// Fraction of servers a short poll samples.
    #[serde(default)]
    pub short_poll_sample: Option<f64>,
    /// Latency of each API call on this queue.
    #[serde(default)]
    pub api_latency: Option<RawDist<Dur>>,
    /// Queue policy: an IAM policy document (JSON text).
    #[serde(default)]
    pub policy: Option<String>,
    /// Queue policy read from a JSON file (relative to the model file).
    #[serde(default)]
    pub policy_file: Option<String>,
}
