//! The model file as written: plain serde structs, every table with
//! `deny_unknown_fields`, so a misspelt key is an error and not a silent default.
//!
//! Nothing here is validated beyond its type; `super::build` turns these into an
//! [`super::Architecture`]. The tables of one service live in its folder
//! (`services/<svc>/raw.rs`); this file holds the whole file's struct and the shapes
//! several services share (distributions, loads, keys, windows, producers, worker pools).

use crate::input::units::{Bytes, Dur};
pub use crate::services::kinesis::raw::{RawStream, RawStreamConsumer};
pub use crate::services::lambda::raw::RawLambda;
pub use crate::services::sns::raw::{RawSubscription, RawTopic};
pub use crate::services::sqs::raw::RawQueue;
use crate::services::Limits;
use serde::de::{self, value::StrDeserializer, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// The table-array names of a model's components (`[[producer]]`, `[[queue]]`, …), in
/// the order of [`RawModel`]'s fields: the `KIND` of a path `KIND.NAME.FIELD` (`--set`,
/// experiment axes).
pub(crate) const COMPONENT_KINDS: [&str; 15] = [
    "producer",
    "queue",
    "consumer",
    "lambda",
    "stream",
    "stream_consumer",
    "topic",
    "subscription",
    "firehose",
    "batch_job",
    "flink",
    "video_stream",
    "camera",
    "video_viewer",
    "fault",
];

/// A `[[scenario]]`: part of a month made of scenarios.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Its name.
    pub name: String,
    /// Hours of the month it stands for.
    pub hours: f64,
    /// Fields of the model it changes (`"producer.web.load.rate_per_s" = 900`).
    #[serde(default)]
    pub set: toml::Table,
}

/// A whole model file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// Model name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Simulated time after the warm-up.
    pub duration: Dur,
    /// Prefix whose statistics are discarded (default 0).
    #[serde(default)]
    pub warmup: Option<Dur>,
    /// Seed (default 1); `--seed` overrides.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Price table: a bundled name or a path (default `aws-us-east-1`).
    #[serde(default)]
    pub prices: Option<String>,
    /// Interval of the time series (default: a 500th of the run, at least 1 s).
    #[serde(default)]
    pub sample_every: Option<Dur>,
    /// Latency of every AWS API call unless a component sets its own; `"0ms"` makes
    /// every call instantaneous (the textbook-queue setting).
    #[serde(default)]
    pub api_latency: Option<RawDist<Dur>>,
    /// Overrides of AWS limits (`[limits.sqs]`, ...).
    #[serde(default)]
    pub limits: Limits,
    /// The AWS account that owns the model's resources (12 digits, default
    /// `123456789012`): the account in their ARNs, for access policies.
    #[serde(default)]
    pub account_id: Option<String>,
    /// The region in the resources' ARNs (default `us-east-1`).
    #[serde(default)]
    pub region: Option<String>,
    /// The most memory a run's messages and pending events may take (default 4 GiB): a
    /// run that needs more stops there, with its results so far and a warning.
    #[serde(default)]
    pub memory_budget: Option<Bytes>,
    /// How data loses value with age, for producers that do not say (`value = {
    /// half_life = "10m" }`).
    #[serde(default)]
    pub value: Option<super::value::RawValue>,
    /// A month composed of scenarios: each a variant of this model (`set` overrides, as
    /// `--set` takes them) standing for `hours` of the month.
    #[serde(default)]
    pub scenario: Vec<RawScenario>,
    /// Producers.
    #[serde(default)]
    pub producer: Vec<RawProducer>,
    /// SQS queues.
    #[serde(default)]
    pub queue: Vec<RawQueue>,
    /// Worker pools.
    #[serde(default)]
    pub consumer: Vec<RawConsumer>,
    /// Lambda functions (with their event source mappings).
    #[serde(default)]
    pub lambda: Vec<RawLambda>,
    /// Kinesis data streams.
    #[serde(default)]
    pub stream: Vec<RawStream>,
    /// Kinesis consumer applications.
    #[serde(default)]
    pub stream_consumer: Vec<RawStreamConsumer>,
    /// SNS topics.
    #[serde(default)]
    pub topic: Vec<RawTopic>,
    /// SNS subscriptions.
    #[serde(default)]
    pub subscription: Vec<RawSubscription>,
    /// Firehose delivery streams.
    #[serde(default)]
    pub firehose: Vec<crate::services::firehose::raw::RawFirehose>,
    /// Batch jobs.
    #[serde(default)]
    pub batch_job: Vec<crate::batch::raw::RawBatchJob>,
    /// Managed Service for Apache Flink applications.
    #[serde(default)]
    pub flink: Vec<crate::services::flink::raw::RawFlink>,
    /// Kinesis video streams.
    #[serde(default)]
    pub video_stream: Vec<crate::services::video::raw::RawVideoStream>,
    /// Cameras uploading to video streams.
    #[serde(default)]
    pub camera: Vec<crate::services::video::raw::RawCamera>,
    /// Viewers of video streams.
    #[serde(default)]
    pub video_viewer: Vec<crate::services::video::raw::RawVideoViewer>,
    /// Fault scenarios.
    #[serde(default)]
    pub fault: Vec<crate::faults::raw::RawFault>,
}

/// A distribution: a table tagged by `dist`, or a bare quantity meaning a constant.
#[derive(Debug, Clone)]
pub enum RawDist<Q> {
    /// `"80ms"`: always this value.
    Shorthand(Q),
    /// `{ dist = "...", ... }`.
    Tagged(RawDistTagged<Q>),
}

/// The tagged forms of [`RawDist`].
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawDistTagged<Q> {
    /// `{ dist = "constant", value = ... }`
    Constant {
        /// The value.
        value: Q,
    },
    /// `{ dist = "uniform", min = ..., max = ... }`
    Uniform {
        /// Lower bound.
        min: Q,
        /// Upper bound.
        max: Q,
    },
    /// `{ dist = "exponential", mean = ... }`
    Exponential {
        /// Mean.
        mean: Q,
    },
    /// `{ dist = "lognormal", median = ..., p99 = ... }`
    Lognormal {
        /// Median.
        median: Q,
        /// 99th percentile (> median).
        p99: Q,
    },
    /// `{ dist = "empirical", file = "sizes.csv" }`: resample the values of a CSV column.
    Empirical {
        /// CSV file, relative to the model file.
        file: String,
        /// Column to read (default: the first).
        #[serde(default)]
        column: Option<String>,
    },
}

impl<'de, Q: Deserialize<'de>> Deserialize<'de> for RawDist<Q> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<Q>(PhantomData<Q>);
        impl<'de, Q: Deserialize<'de>> Visitor<'de> for V<Q> {
            type Value = RawDist<Q>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity with a unit (a constant) or a table such as { dist = \"lognormal\", median = ..., p99 = ... }")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Q::deserialize(StrDeserializer::<E>::new(s)).map(RawDist::Shorthand)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Q::deserialize(de::value::I64Deserializer::<E>::new(v)).map(RawDist::Shorthand)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Q::deserialize(de::value::U64Deserializer::<E>::new(v)).map(RawDist::Shorthand)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Q::deserialize(de::value::F64Deserializer::<E>::new(v)).map(RawDist::Shorthand)
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
                RawDistTagged::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawDist::Tagged)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An arrival process, tagged by `process`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "process", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawLoad {
    /// Evenly spaced.
    Constant {
        /// Messages per second.
        rate_per_s: f64,
    },
    /// Poisson.
    Poisson {
        /// Messages per second.
        rate_per_s: f64,
    },
    /// Sinusoidal non-homogeneous Poisson.
    Diurnal {
        /// Average messages per second.
        mean_per_s: f64,
        /// Peak rate ÷ mean rate (>= 1).
        peak_to_mean: f64,
        /// Period (default 24h).
        #[serde(default)]
        period: Option<Dur>,
        /// Time of the peak within the period (default: half the period).
        #[serde(default)]
        peak_at: Option<Dur>,
    },
    /// On/off bursts on top of a base rate.
    Bursts {
        /// Rate outside bursts, per second.
        base_per_s: f64,
        /// Rate during bursts, per second.
        burst_per_s: f64,
        /// A burst starts every this long.
        burst_every: Dur,
        /// Each burst lasts this long.
        burst_for: Dur,
        /// Start of the first burst (default: `burst_every`).
        #[serde(default)]
        first_burst_at: Option<Dur>,
    },
    /// Piecewise-constant rates.
    Steps {
        /// `[{ at = "0s", rate_per_s = 100 }, { at = "10m", rate_per_s = 500 }]`.
        steps: Vec<RawStep>,
        /// Repeat the pattern with this period.
        #[serde(default)]
        repeat_every: Option<Dur>,
    },
    /// Replay of a CSV trace.
    Trace {
        /// CSV file, relative to the model file.
        file: String,
        /// Start over at the end.
        #[serde(default)]
        repeat: bool,
    },
}

/// One step of a `steps` load.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// When the rate starts.
    pub at: Dur,
    /// Messages per second from then on.
    pub rate_per_s: f64,
}

/// A distribution of keys or message groups, tagged by `dist`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawKeyDist {
    /// Equally likely keys.
    Uniform {
        /// Number of distinct keys.
        keys: u64,
        /// Key text prefix (default `key-`).
        #[serde(default)]
        prefix: Option<String>,
    },
    /// Zipf-distributed keys.
    Zipf {
        /// Number of distinct keys.
        keys: u64,
        /// Zipf exponent.
        exponent: f64,
        /// Key text prefix (default `key-`).
        #[serde(default)]
        prefix: Option<String>,
    },
}

/// Re-sending of messages (a producer that retries after a timeout, say).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResend {
    /// Probability that a message is sent a second time.
    pub probability: f64,
    /// Delay of the second send.
    pub after: Dur,
}

/// The SDK's retry policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    /// Attempts in all, the first included (default 3).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Base of the exponential backoff (default 1s).
    #[serde(default)]
    pub base: Option<Dur>,
    /// Cap of one backoff (default 20s).
    #[serde(default)]
    pub max_backoff: Option<Dur>,
}

/// A `[[producer]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProducer {
    /// Name.
    pub name: String,
    /// `sqs:NAME`, ...
    pub target: String,
    /// Arrival process.
    pub load: RawLoad,
    /// Message size (default 1KB).
    #[serde(default)]
    pub size: Option<RawDist<Bytes>>,
    /// Messages per send call (default 1).
    #[serde(default)]
    pub batch: Option<u32>,
    /// Longest time a message waits for its batch to fill (default 100ms).
    #[serde(default)]
    pub linger: Option<Dur>,
    /// Message attributes: categorical `{ type = { order = 0.7, refund = 0.3 } }` or
    /// numeric `{ amount = { dist = "uniform", min = 0, max = 500 } }` (see `model::sns`).
    #[serde(default)]
    pub attributes: BTreeMap<String, toml::Value>,
    /// Payload (body) fields, in the same forms, for payload-based filter policies.
    #[serde(default)]
    pub body: BTreeMap<String, toml::Value>,
    /// FIFO message groups.
    #[serde(default)]
    pub group: Option<RawKeyDist>,
    /// Partition keys.
    #[serde(default)]
    pub partition_key: Option<RawKeyDist>,
    /// Per-message delivery delay (SQS `DelaySeconds`).
    #[serde(default)]
    pub delay: Option<Dur>,
    /// Second sends of the same message.
    #[serde(default)]
    pub resend: Option<RawResend>,
    /// Retry policy on throttling.
    #[serde(default)]
    pub retry: Option<RawRetry>,
    /// Most send calls in progress at once (default: 1 for FIFO targets, else unlimited).
    #[serde(default)]
    pub max_in_flight: Option<u32>,
    /// Kinesis: KPL-style aggregation of user records (`aggregation = {}` for the KPL's
    /// defaults).
    #[serde(default)]
    pub aggregation: Option<crate::services::kinesis::raw::RawAggregation>,
    /// How this producer's data loses value with age (default: the model's `value`).
    #[serde(default)]
    pub value: Option<super::value::RawValue>,
    /// Kinesis: how long before sending a record's event happened (a device that
    /// buffers), read by Flink's event-time windows (default 0).
    #[serde(default)]
    pub event_time_lag: Option<RawDist<Dur>>,
    /// Who sends: an IAM ARN (default `arn:aws:iam::ACCOUNT:role/NAME`) or a service
    /// principal (`s3.amazonaws.com`), for access policies.
    #[serde(default)]
    pub principal: Option<String>,
    /// With a service principal: the resource it acts for (`aws:SourceArn`, such as the
    /// bucket of an S3 event notification).
    #[serde(default)]
    pub source_arn: Option<String>,
}

/// A `{ from, for }` window of time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    /// Start.
    pub from: Dur,
    /// Length.
    #[serde(rename = "for")]
    pub length: Dur,
    /// Failure probability in the window (failure windows only).
    #[serde(default)]
    pub probability: Option<f64>,
}

/// ReceiveMessage parameters.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawReceive {
    /// `MaxNumberOfMessages` (default 1).
    #[serde(default)]
    pub max_messages: Option<u32>,
    /// `WaitTimeSeconds` (default: the queue's `receive_wait`).
    #[serde(default)]
    pub wait: Option<Dur>,
    /// `VisibilityTimeout` of the receive (default: the queue's).
    #[serde(default)]
    pub visibility_timeout: Option<Dur>,
}

/// Heartbeat: extend visibility while processing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeartbeat {
    /// Interval between ChangeMessageVisibility calls.
    pub every: Dur,
    /// New visibility timeout set by each call.
    pub extend_to: Dur,
}

/// Target-tracking auto scaling of a worker pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAutoscale {
    /// Fewest workers.
    pub min: u32,
    /// Most workers.
    pub max: u32,
    /// Target backlog per worker; or give `max_latency`.
    #[serde(default)]
    pub target_backlog_per_worker: Option<f64>,
    /// Acceptable latency: target = max_latency / mean processing time (AWS guidance).
    #[serde(default)]
    pub max_latency: Option<Dur>,
    /// Metric period (default 1m).
    #[serde(default)]
    pub evaluate_every: Option<Dur>,
    /// Cooldown after a scale-out (default 60s).
    #[serde(default)]
    pub scale_out_cooldown: Option<Dur>,
    /// Cooldown after a scale-in (default 300s).
    #[serde(default)]
    pub scale_in_cooldown: Option<Dur>,
    /// Time a new worker takes before it polls (default 60s).
    #[serde(default)]
    pub warmup: Option<Dur>,
}

/// Delete mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RawDeleteMode {
    /// DeleteMessage after each message.
    #[default]
    Single,
    /// DeleteMessageBatch after each received batch.
    Batch,
}

/// A `[[consumer]]` worker pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConsumer {
    /// Name.
    pub name: String,
    /// `sqs:NAME`.
    pub source: String,
    /// Workers (each a receive → process → delete loop); with `autoscale`, the start.
    pub workers: u32,
    /// Receive parameters.
    #[serde(default)]
    pub receive: RawReceive,
    /// Processing time per message.
    pub service_time: RawDist<Dur>,
    /// Probability that processing a message fails (it is not deleted).
    #[serde(default)]
    pub failure_probability: Option<f64>,
    /// Windows with a different failure probability.
    #[serde(default)]
    pub failures: Vec<RawWindow>,
    /// `single` or `batch`.
    #[serde(default)]
    pub delete: RawDeleteMode,
    /// Visibility heartbeat.
    #[serde(default)]
    pub heartbeat: Option<RawHeartbeat>,
    /// Windows when the whole pool is down.
    #[serde(default)]
    pub outages: Vec<RawWindow>,
    /// Pause after an empty receive before polling again (default 0).
    #[serde(default)]
    pub poll_interval: Option<Dur>,
    /// Auto scaling.
    #[serde(default)]
    pub autoscale: Option<RawAutoscale>,
    /// Who calls: an IAM ARN (default `arn:aws:iam::ACCOUNT:role/NAME`), for access
    /// policies.
    #[serde(default)]
    pub principal: Option<String>,
}
