//! The Kinesis tables of a model file as written: `[[stream]]` and `[[stream_consumer]]`
//! (see `models/README.md`). Plain serde structs with `deny_unknown_fields`; validated by
//! `super::config`.

use crate::input::units::{Bytes, Dur};
use crate::model::raw::{RawDist, RawKeyDist, RawWindow};
use serde::Deserialize;

/// Capacity mode of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RawStreamMode {
    /// A fixed number of shards (default).
    #[default]
    Provisioned,
    /// On-demand standard.
    OnDemand,
    /// On-demand advantage (warm throughput, 50 enhanced fan-out consumers).
    OnDemandAdvantage,
}

/// One resharding operation: give `at` and exactly one of `shards`, `split`, `merge`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReshard {
    /// When (from the start of the run, warm-up included).
    pub at: Dur,
    /// `UpdateShardCount` (uniform scaling) to this many shards.
    #[serde(default)]
    pub shards: Option<u32>,
    /// `SplitShard` of this shard id at the middle of its hash-key range.
    #[serde(default)]
    pub split: Option<u32>,
    /// `MergeShards` of these two adjacent shard ids.
    #[serde(default)]
    pub merge: Option<[u32; 2]>,
}

/// A `[[stream]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStream {
    /// Name.
    pub name: String,
    /// `provisioned` (default), `on_demand` or `on_demand_advantage`.
    #[serde(default)]
    pub mode: RawStreamMode,
    /// Provisioned: the number of shards (required).
    #[serde(default)]
    pub shards: Option<u32>,
    /// Retention period (default 24h; 24h to 8760h).
    #[serde(default)]
    pub retention: Option<Dur>,
    /// On-demand advantage: warm write throughput per second, such as `"50MiB"`.
    #[serde(default)]
    pub warm_throughput: Option<Bytes>,
    /// Partition keys of producers that do not give their own.
    #[serde(default)]
    pub partition_key: Option<RawKeyDist>,
    /// Latency of each data-plane call (PutRecords, GetRecords), round trip.
    #[serde(default)]
    pub api_latency: Option<RawDist<Dur>>,
    /// Enhanced fan-out propagation: accepted put → push.
    #[serde(default)]
    pub efo_propagation: Option<RawDist<Dur>>,
    /// Polling read lag: accepted put → readable by GetRecords.
    #[serde(default)]
    pub read_lag: Option<RawDist<Dur>>,
    /// Scheduled resharding.
    #[serde(default)]
    pub reshard: Vec<RawReshard>,
    /// Keep each record's key to verify per-key order (a check for tests; costs memory).
    #[serde(default)]
    pub track_keys: Option<bool>,
}

/// How a stream consumer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RawReadMode {
    /// GetRecords polling, shared throughput (default).
    #[default]
    Polling,
    /// Enhanced fan-out.
    Efo,
}

/// Where a stream consumer checkpoints when a record fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RawCheckpoint {
    /// At the last record processed (default).
    #[default]
    Record,
    /// Only after whole batches.
    Batch,
}

/// A `[[stream_consumer]]`: a KCL-style application reading a stream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStreamConsumer {
    /// Name (reported as a `consumer`).
    pub name: String,
    /// `kinesis:NAME`.
    pub source: String,
    /// `polling` (default) or `efo`.
    #[serde(default)]
    pub mode: RawReadMode,
    /// Records per GetRecords call or push (default and most 10,000).
    #[serde(default)]
    pub max_records: Option<u32>,
    /// Polling: time between GetRecords calls on a shard (default 1s, as the KCL).
    #[serde(default)]
    pub idle_between_reads: Option<Dur>,
    /// Processing time per record.
    pub service_time: RawDist<Dur>,
    /// Processing time per batch, checkpoint included (default 0).
    #[serde(default)]
    pub per_batch: Option<RawDist<Dur>>,
    /// Probability that processing a record fails (its batch is retried from the
    /// checkpoint).
    #[serde(default)]
    pub failure_probability: Option<f64>,
    /// Wait after a failed batch (default 1s).
    #[serde(default)]
    pub retry_delay: Option<Dur>,
    /// `record` (default: retry from the failed record) or `batch` (retry whole batches).
    #[serde(default)]
    pub checkpoint: RawCheckpoint,
    /// Windows when the application is down.
    #[serde(default)]
    pub outages: Vec<RawWindow>,
}

/// A Kinesis producer's `aggregation = { ... }`: KPL-style aggregation (see
/// `services::kinesis::producer`). Every field defaults to the KPL's default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAggregation {
    /// `AggregationMaxSize`: most bytes per aggregated record (default 51,200 bytes; 64
    /// bytes to 1 MiB).
    #[serde(default)]
    pub max_bytes: Option<Bytes>,
    /// `AggregationMaxCount`: most user records per aggregated record (default
    /// 4,294,967,295).
    #[serde(default)]
    pub max_records: Option<u64>,
    /// `RecordMaxBufferedTime`: an aggregate is sent at most this long after its first user
    /// record (default 100ms).
    #[serde(default)]
    pub max_buffered: Option<Dur>,
}
