//! The `[[flink]]` table of a model file as written (see `models/README.md`). Plain serde
//! structs with `deny_unknown_fields`; validated by `super::config`.

use crate::input::units::{Bytes, Dur};
use crate::model::raw::RawDist;
use crate::services::kinesis::raw::RawReadMode;
use serde::Deserialize;

/// `window = { kind = "tumbling", size = "1m" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlinkWindow {
    /// `tumbling`, `sliding` or `session`.
    pub kind: String,
    /// Window size (tumbling and sliding).
    #[serde(default)]
    pub size: Option<Dur>,
    /// Slide (sliding windows; at most the size).
    #[serde(default)]
    pub slide: Option<Dur>,
    /// Inactivity gap (session windows).
    #[serde(default)]
    pub gap: Option<Dur>,
    /// `event` (default) or `processing` time.
    #[serde(default)]
    pub time: Option<String>,
    /// Event time: the watermark's bounded out-of-orderness (default 0s).
    #[serde(default)]
    pub out_of_orderness: Option<Dur>,
    /// Event time: allowed lateness (default 0s).
    #[serde(default)]
    pub allowed_lateness: Option<Dur>,
    /// Event time: a shard without records for this long stops holding the watermark
    /// back (Flink's `withIdleness`; default: never).
    #[serde(default)]
    pub idle_timeout: Option<Dur>,
}

/// `failures = { mtbf = "24h", at = ["2h"] }`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawFlinkFailures {
    /// Mean time between failures (exponential; default: none).
    #[serde(default)]
    pub mtbf: Option<Dur>,
    /// Failures at these times (from the start of the run).
    #[serde(default)]
    pub at: Vec<Dur>,
}

/// `checkpoints = { interval = "60s", duration = "2s" }`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawFlinkCheckpoints {
    /// Interval (default 60s, the service's default); `"0s"` turns checkpointing off.
    #[serde(default)]
    pub interval: Option<Dur>,
    /// Time to write a snapshot once the barriers have passed every subtask (default 1s).
    #[serde(default)]
    pub duration: Option<Dur>,
    /// Size of a snapshot, for durable backups (default 0: none kept).
    #[serde(default)]
    pub size: Option<Bytes>,
}

/// `sink = "firehose:NAME"` or `"kinesis:NAME"` with the result size.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlinkSink {
    /// `kinesis:NAME` or `firehose:NAME`.
    pub target: String,
    /// Bytes of one result (default 100 B).
    #[serde(default)]
    pub result_size: Option<Bytes>,
}

/// A `[[flink]]` application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlink {
    /// Name.
    pub name: String,
    /// `kinesis:NAME`.
    pub source: String,
    /// `polling` (default) or `efo`.
    #[serde(default)]
    pub read: RawReadMode,
    /// Polling: time between GetRecords calls on a shard (default 200ms, the connector's).
    #[serde(default)]
    pub read_interval: Option<Dur>,
    /// Records per GetRecords call (the connector's `SHARD_GETRECORDS_MAX`, default and most
    /// 10,000).
    #[serde(default)]
    pub max_records: Option<u32>,
    /// `Parallelism` (default 1).
    #[serde(default)]
    pub parallelism: Option<i64>,
    /// `ParallelismPerKPU` (1–8, default 1).
    #[serde(default)]
    pub parallelism_per_kpu: Option<i64>,
    /// CPU time of one record on one vCPU.
    pub cpu_per_record: RawDist<Dur>,
    /// `partition_key` (default) or `attribute:NAME`.
    #[serde(default)]
    pub key_by: Option<String>,
    /// The window (default: none, records are processed one by one).
    #[serde(default)]
    pub window: Option<RawFlinkWindow>,
    /// Checkpoints.
    #[serde(default)]
    pub checkpoints: Option<RawFlinkCheckpoints>,
    /// Failures.
    #[serde(default)]
    pub failures: Option<RawFlinkFailures>,
    /// Time from a failure to running again (default 30s).
    #[serde(default)]
    pub restart_delay: Option<Dur>,
    /// Automatic scaling (default true, as AWS).
    #[serde(default)]
    pub autoscaling: Option<bool>,
    /// Time from the start of a rescale to running again (default 60s).
    #[serde(default)]
    pub rescale_delay: Option<Dur>,
    /// Where results go (default: nowhere; counted only).
    #[serde(default)]
    pub sink: Option<RawFlinkSink>,
}
