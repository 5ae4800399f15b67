//! Amazon Kinesis Data Streams limits and defaults, with their sources.
//!
//! Every AWS number the Kinesis model uses is a field of [`KinesisLimits`]. The defaults are
//! AWS's documented values, each with the AWS page it comes from (the `SOURCE_*` constants
//! below); a model may override any of them in a `[limits.kinesis]` table, for example after a quota increase.
//! Modelling defaults that are not AWS quotas (API latency, push propagation, the on-demand
//! evaluation period) are the constants at the end of this file.

use crate::input::units::{Bytes, Dur};
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// Kinesis Data Streams quotas, as AWS documented them when read (2026).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KinesisLimits {
    /// Write throughput per shard: 1 MiB/s, partition keys included.
    /// <https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html>
    pub shard_write_bytes_per_s: Bytes,
    /// Records written per second per shard: 1,000 (service-sizes-and-limits.html).
    pub shard_write_records_per_s: u32,
    /// Size of a shard's write "capacity tank": a shard "temporarily bursts up to 10 MiB/s,
    /// eventually averaging out to 1 MiB per second", so one 10 MiB record fits an idle
    /// shard. <https://aws.amazon.com/blogs/big-data/amazon-kinesis-data-streams-now-supports-10x-larger-record-sizes-simplifying-real-time-data-processing/>
    pub shard_write_burst_bytes: Bytes,
    /// Records a shard's write budget holds: one second's worth, 1,000 (the per-second
    /// record limit of service-sizes-and-limits.html; AWS documents no record burst).
    pub shard_write_burst_records: u32,
    /// Largest record (data blob before base64, partition key included): 10 MiB (was 1 MiB
    /// before 28 Oct 2025) (the 10x-larger-records blog above).
    pub max_record_size: Bytes,
    /// Records per PutRecords request: 500 (service-sizes-and-limits.html).
    pub put_records_max_records: u32,
    /// Size of one PutRecords request, partition keys included: 10 MiB (was 5 MiB)
    /// (service-sizes-and-limits.html; the 10x-larger-records blog).
    pub put_records_max_bytes: Bytes,
    /// Longest partition key: 256 Unicode characters.
    /// <https://docs.aws.amazon.com/streams/latest/dev/key-concepts.html>
    pub max_partition_key_chars: u32,
    /// Shared read throughput per shard, across all polling (GetRecords) consumers: 2 MiB/s
    /// (service-sizes-and-limits.html).
    pub shard_read_bytes_per_s: Bytes,
    /// GetRecords calls per second per shard, across all polling consumers: 5
    /// (service-sizes-and-limits.html).
    pub shard_read_calls_per_s: u32,
    /// Records one GetRecords call returns at most: 10,000 (service-sizes-and-limits.html).
    pub get_records_max_records: u32,
    /// Data one GetRecords call returns at most: 10 MiB (service-sizes-and-limits.html).
    pub get_records_max_bytes: Bytes,
    /// After a GetRecords call that returns `get_records_max_bytes`, calls within this span
    /// throw `ProvisionedThroughputExceededException`: 5 s (service-sizes-and-limits.html).
    pub get_records_penalty: Dur,
    /// Enhanced fan-out throughput per consumer per shard: 2 MiB/s.
    /// <https://docs.aws.amazon.com/streams/latest/dev/enhanced-consumers.html>
    pub efo_bytes_per_s: Bytes,
    /// Enhanced fan-out consumers per stream (provisioned, on-demand standard): 20.
    /// <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_RegisterStreamConsumer.html>
    pub efo_consumers_per_stream: u32,
    /// Enhanced fan-out consumers per stream in on-demand advantage mode: 50
    /// (API_RegisterStreamConsumer.html).
    pub efo_consumers_per_stream_advantage: u32,
    /// Default retention period: 24 h (service-sizes-and-limits.html).
    pub default_retention: Dur,
    /// Shortest retention period: 24 h (service-sizes-and-limits.html).
    pub min_retention: Dur,
    /// Longest retention period: 8,760 h = 365 days (service-sizes-and-limits.html).
    pub max_retention: Dur,
    /// Provisioned shards per account: 20,000 in us-east-1, us-west-2 and eu-west-1 (was
    /// 500) (service-sizes-and-limits.html).
    pub account_shard_quota: u32,
    /// Shards per stream that UpdateShardCount may reach: 10,000.
    /// <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateShardCount.html>
    pub max_shards_per_stream: u32,
    /// UpdateShardCount calls per stream per rolling 24 hours: 10 (API_UpdateShardCount.html).
    pub update_shard_count_per_24h: u32,
    /// A new on-demand stream's write capacity: 4 MB/s (read: twice that)
    /// (service-sizes-and-limits.html).
    pub on_demand_initial_write_bytes_per_s: Bytes,
    /// An on-demand shard whose write throughput exceeds this is split: 500 KB/s.
    /// <https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html>
    pub on_demand_split_bytes_per_s: Bytes,
    /// Time on-demand scaling takes to add capacity: "within 15 minutes"; a rise to more
    /// than twice the previous peak inside this span is throttled (how-do-i-size-a-stream.html).
    pub on_demand_scale_delay: Dur,
    /// Largest on-demand write throughput per stream: 10 GB/s in us-east-1, us-west-2 and
    /// eu-west-1 (service-sizes-and-limits.html).
    pub on_demand_max_write_bytes_per_s: Bytes,
    /// Billing unit of PUT payload units (provisioned): 25 KB.
    /// <https://aws.amazon.com/kinesis/data-streams/pricing/>
    pub put_payload_unit: Bytes,
    /// On-demand data-in billing: each record rounded up to 1 KB (pricing page above).
    pub on_demand_billing_unit: Bytes,
}

impl Default for KinesisLimits {
    fn default() -> Self {
        KinesisLimits {
            shard_write_bytes_per_s: Bytes(1 << 20),
            shard_write_records_per_s: 1000,
            shard_write_burst_bytes: Bytes(10 << 20),
            shard_write_burst_records: 1000,
            max_record_size: Bytes(10 << 20),
            put_records_max_records: 500,
            put_records_max_bytes: Bytes(10 << 20),
            max_partition_key_chars: 256,
            shard_read_bytes_per_s: Bytes(2 << 20),
            shard_read_calls_per_s: 5,
            get_records_max_records: 10_000,
            get_records_max_bytes: Bytes(10 << 20),
            get_records_penalty: Dur(SimDuration::from_secs(5)),
            efo_bytes_per_s: Bytes(2 << 20),
            efo_consumers_per_stream: 20,
            efo_consumers_per_stream_advantage: 50,
            default_retention: Dur(SimDuration::from_secs(24 * 3600)),
            min_retention: Dur(SimDuration::from_secs(24 * 3600)),
            max_retention: Dur(SimDuration::from_secs(8760 * 3600)),
            account_shard_quota: 20_000,
            max_shards_per_stream: 10_000,
            update_shard_count_per_24h: 10,
            on_demand_initial_write_bytes_per_s: Bytes(4 << 20),
            on_demand_split_bytes_per_s: Bytes(500 << 10),
            on_demand_scale_delay: Dur(SimDuration::from_secs(15 * 60)),
            on_demand_max_write_bytes_per_s: Bytes(10 << 30),
            put_payload_unit: Bytes(25 << 10),
            on_demand_billing_unit: Bytes(1 << 10),
        }
    }
}

/// Source of the shard, record, API and retention limits.
pub const SOURCE_LIMITS: &str =
    "https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html";
/// Source of the 10 MiB record size and the write "capacity tank".
pub const SOURCE_LARGE_RECORDS: &str = "https://aws.amazon.com/blogs/big-data/amazon-kinesis-data-streams-now-supports-10x-larger-record-sizes-simplifying-real-time-data-processing/";
/// Source of the enhanced fan-out consumer limits.
pub const SOURCE_EFO: &str =
    "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_RegisterStreamConsumer.html";
/// Source of the partition-key rules.
pub const SOURCE_KEYS: &str = "https://docs.aws.amazon.com/streams/latest/dev/key-concepts.html";
/// Source of the capacity modes, on-demand scaling and the sizing formula.
pub const SOURCE_SIZING: &str =
    "https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html";
/// Source of the resharding rules.
pub const SOURCE_RESHARD: &str =
    "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateShardCount.html";

/// Default latency of one Kinesis data-plane call (PutRecords, GetRecords), round trip,
/// when the model gives none: lognormal with median 12 ms and p99 50 ms.
///
/// A modelling default, not an AWS quota, set so that simulated propagation falls in the
/// ranges AWS states (about 200 ms to 1 s for polling consumers, about 70 ms with enhanced
/// fan-out: <https://docs.aws.amazon.com/streams/latest/dev/enhanced-consumers.html>);
/// `tests/suite/kinesis.rs` checks it.
pub const DEFAULT_API_LATENCY_MEDIAN_MS: f64 = 12.0;
/// See [`DEFAULT_API_LATENCY_MEDIAN_MS`].
pub const DEFAULT_API_LATENCY_P99_MS: f64 = 50.0;
/// Default enhanced fan-out propagation (accepted put → pushed to the consumer): lognormal
/// with median 60 ms and p99 110 ms, so that put → push averages about 70 ms, AWS's stated
/// figure ("~70 ms with EFO", enhanced-consumers.html; a public benchmark measured the EFO →
/// Lambda path at p50 49 ms, p99 109 ms: <https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/>). A modelling default.
pub const DEFAULT_EFO_PROPAGATION_MEDIAN_MS: f64 = 60.0;
/// See [`DEFAULT_EFO_PROPAGATION_MEDIAN_MS`].
pub const DEFAULT_EFO_PROPAGATION_P99_MS: f64 = 110.0;
/// Default pause between GetRecords calls of a polling consumer: 1 s, the Kinesis Client
/// Library's `idleTimeBetweenReadsInMillis` default (KCL 1.x/2.x polling configuration);
/// AWS warns that below 200 ms calls risk the 5 calls/s limit
/// (<https://docs.aws.amazon.com/streams/latest/dev/kinesis-low-latency.html>).
pub const DEFAULT_IDLE_BETWEEN_READS_MS: u64 = 1000;
/// Period at which the on-demand model measures each shard's write throughput and decides
/// on splits (a modelling choice: AWS does not document its measurement period).
pub const ON_DEMAND_EVALUATION_S: u64 = 60;
/// Period of a stream's retention sweep (expiry is also applied before every read, so
/// the sweep only bounds memory and keeps counters current).
pub const RETENTION_SWEEP_S: u64 = 60;

// ----- KPL aggregation (Kinesis Producer Library client defaults, not AWS quotas) ---------

/// Source of the KPL's configuration defaults and bounds (`default_config.properties`).
pub const SOURCE_KPL_CONFIG: &str = "https://github.com/awslabs/amazon-kinesis-producer/blob/master/java/amazon-kinesis-producer-sample/default_config.properties";
/// Source of the KPL aggregated-record format (magic, protobuf `AggregatedRecord`, MD5).
pub const SOURCE_KPL_FORMAT: &str =
    "https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md";
/// `AggregationMaxSize` default: at most 51,200 bytes packed into one aggregated Kinesis
/// record (KPL default_config.properties, "Default: 51200").
pub const KPL_AGGREGATION_MAX_BYTES: u64 = 51_200;
/// `AggregationMaxSize` lower bound: 64 bytes ("Minimum: 64").
pub const KPL_AGGREGATION_MIN_BYTES: u64 = 64;
/// `AggregationMaxSize` upper bound: 1,048,576 bytes = 1 MiB ("Maximum (inclusive):
/// 1048576"; the KPL notes the backend's record limit).
pub const KPL_AGGREGATION_MAX_BYTES_LIMIT: u64 = 1_048_576;
/// `AggregationMaxCount` default: 4,294,967,295 user records per aggregated record
/// ("Default: 4294967295"; in effect only the size and time limits apply).
pub const KPL_AGGREGATION_MAX_RECORDS: u64 = 4_294_967_295;
/// `RecordMaxBufferedTime` default: 100 ms, the longest a user record waits in the KPL's
/// buffers before it is sent ("Default: 100", also its minimum).
pub const KPL_MAX_BUFFERED_MS: u64 = 100;
/// Fixed bytes of an aggregated record: the 4-byte magic `F3 89 9A C2` before the protobuf
/// message and the 16-byte MD5 of the message after it (`kFixedOverhead` in the KPL's
/// `kinesis_record.cc`; format: [`SOURCE_KPL_FORMAT`]).
pub const KPL_FIXED_OVERHEAD_BYTES: u64 = 20;
/// The partition key the KPL gives an aggregated record: the one-byte `"a"` (it routes the
/// record with an explicit hash key, the first user record's hash, which does not count
/// toward the record's size) (`KinesisRecord::partition_key` in `kinesis_record.cc`).
pub const KPL_AGGREGATED_PARTITION_KEY_BYTES: u64 = 1;
