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

impl KinesisLimits {
    /// The per-shard limits AWS's sizing formula divides by, in KiB/s and records/s.
    pub(crate) fn shard_sizing(&self) -> ShardSizing {
        ShardSizing {
            write_kib_per_s: self.shard_write_bytes_per_s.0 as f64 / 1024.0,
            write_records_per_s: self.shard_write_records_per_s as f64,
            read_kib_per_s: self.shard_read_bytes_per_s.0 as f64 / 1024.0,
        }
    }

    /// Enhanced fan-out consumers a stream may register: 50 in on-demand advantage
    /// mode, else 20 ([`Self::efo_consumers_per_stream`]).
    pub(crate) fn efo_consumers(&self, advantage: bool) -> u32 {
        if advantage {
            self.efo_consumers_per_stream_advantage
        } else {
            self.efo_consumers_per_stream
        }
    }

    /// The retention periods a stream may have, hours: `(24, 8,760)` by default.
    pub(crate) fn retention_range_h(&self) -> (f64, f64) {
        (
            self.min_retention.0.as_secs_f64() / 3600.0,
            self.max_retention.0.as_secs_f64() / 3600.0,
        )
    }
}

/// The per-shard limits AWS's sizing formula divides by (see
/// [`KinesisLimits::shard_sizing`]; AWS's: 1,024 KiB/s and 1,000 records/s of writes,
/// 2,048 KiB/s of shared reads).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ShardSizing {
    /// Write throughput per shard, KiB/s.
    pub(crate) write_kib_per_s: f64,
    /// Records written per second per shard.
    pub(crate) write_records_per_s: f64,
    /// Shared read throughput per shard, KiB/s.
    pub(crate) read_kib_per_s: f64,
}

impl ShardSizing {
    /// Shards a provisioned stream needs, by AWS's sizing formula with these limits.
    ///
    /// # Formula
    /// `ceil(max(write_KiB/write_limit, records/record_limit, read_KiB/read_limit))` where
    /// `write_KiB = records/s × record size in KB rounded up to a whole KB` and `read_KiB =
    /// write_KiB × shared-throughput consumers`
    /// (<https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html>). At
    /// least 1.
    pub(crate) fn shards(&self, records_per_s: f64, record_kib: f64, consumers: f64) -> u64 {
        let write_kib = records_per_s * record_kib.ceil().max(1.0);
        let read_kib = write_kib * consumers;
        let need = (write_kib / self.write_kib_per_s)
            .max(records_per_s / self.write_records_per_s)
            .max(read_kib / self.read_kib_per_s);
        (need.ceil() as u64).max(1)
    }
}

/// Source of the shard, record, API and retention limits.
pub(crate) const SOURCE_LIMITS: &str =
    "https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html";
/// Source of the 10 MiB record size and the write "capacity tank".
pub(crate) const SOURCE_LARGE_RECORDS: &str = "https://aws.amazon.com/blogs/big-data/amazon-kinesis-data-streams-now-supports-10x-larger-record-sizes-simplifying-real-time-data-processing/";
/// Source of the enhanced fan-out consumer limits.
pub(crate) const SOURCE_EFO: &str =
    "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_RegisterStreamConsumer.html";
/// Source of the partition-key rules.
pub(crate) const SOURCE_KEYS: &str =
    "https://docs.aws.amazon.com/streams/latest/dev/key-concepts.html";
/// Source of the capacity modes, on-demand scaling and the sizing formula.
pub(crate) const SOURCE_SIZING: &str =
    "https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html";
/// Source of the resharding rules.
pub(crate) const SOURCE_RESHARD: &str =
    "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateShardCount.html";

/// Default latency of one Kinesis data-plane call (PutRecords, GetRecords), round trip,
/// when the model gives none: lognormal with median 12 ms and p99 50 ms.
///
/// A modelling default, not an AWS quota, set so that simulated propagation falls in the
/// ranges AWS states (about 200 ms to 1 s for polling consumers, about 70 ms with enhanced
/// fan-out: <https://docs.aws.amazon.com/streams/latest/dev/enhanced-consumers.html>);
/// `tests/suite/kinesis.rs` checks it.
pub(crate) const DEFAULT_API_LATENCY_MEDIAN_MS: f64 = 12.0;
/// See [`DEFAULT_API_LATENCY_MEDIAN_MS`].
pub(crate) const DEFAULT_API_LATENCY_P99_MS: f64 = 50.0;
// ----- Latency defaults (calibrated 2026-12-07) ------------------------------------------
//
// Modelling defaults, overridable per stream, calibrated against AWS's statement of
// propagation delay (building-consumers.html: "an average of around 200 ms if you have one
// consumer reading from the stream", polling five times a second; "around 1000 ms if you
// have five consumers"; "typically an average of 70 ms whether you have one consumer or
// five" with enhanced fan-out) and the published measurements of Bite-Sized Serverless
// (eu-west-1, September 2022: Kinesis → Lambda polling p50 627 ms, p99 1,580 ms; enhanced
// fan-out → Lambda p50 49.4 ms, p99 109 ms). `tests/suite/calibration.rs` holds them.
// SOURCE_PROPAGATION: <https://docs.aws.amazon.com/streams/latest/dev/building-consumers.html>;
// SOURCE_LATENCY_MEASURED: <https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/>.

/// Default enhanced fan-out propagation (accepted put → pushed to the consumer): lognormal
/// median, ms. With the Lambda mapping's invoke overhead the EFO → Lambda path gives the
/// measured p50 49 ms and p99 109 ms (SOURCE_LATENCY_MEASURED), and a KCL-style consumer
/// averages about AWS's 70 ms (SOURCE_PROPAGATION).
pub(crate) const DEFAULT_EFO_PROPAGATION_MEDIAN_MS: f64 = 45.0;
/// See [`DEFAULT_EFO_PROPAGATION_MEDIAN_MS`]: p99, ms.
pub(crate) const DEFAULT_EFO_PROPAGATION_P99_MS: f64 = 90.0;
/// Default polling read lag (accepted put → readable by GetRecords, drawn per call: a
/// record put less than the lag before a call reaches the shard is left for a later call):
/// lognormal median, ms. AWS says records "are available to be read immediately after they
/// are written" (<https://docs.aws.amazon.com/streams/latest/dev/kinesis-low-latency.html>)
/// yet states a 200 ms average for one consumer polling five times a second, where half
/// the 200 ms interval and the call's own latency explain about 115 ms; the rest is this
/// lag, which also brings the polling → Lambda path to the measured p50 627 ms, p99
/// 1,580 ms (SOURCE_LATENCY_MEASURED).
pub(crate) const DEFAULT_READ_LAG_MEDIAN_MS: f64 = 80.0;
/// See [`DEFAULT_READ_LAG_MEDIAN_MS`]: p99, ms.
pub(crate) const DEFAULT_READ_LAG_P99_MS: f64 = 500.0;
/// Default pause between GetRecords calls of a polling consumer: 1 s, the Kinesis Client
/// Library's `idleTimeBetweenReadsInMillis` default (KCL 1.x/2.x polling configuration);
/// AWS warns that below 200 ms calls risk the 5 calls/s limit
/// (<https://docs.aws.amazon.com/streams/latest/dev/kinesis-low-latency.html>).
pub(crate) const DEFAULT_IDLE_BETWEEN_READS_MS: u64 = 1000;
/// Period at which the on-demand model measures each shard's write throughput and decides
/// on splits (a modelling choice: AWS does not document its measurement period).
pub(crate) const ON_DEMAND_EVALUATION_S: u64 = 60;
/// Period of a stream's retention sweep (expiry is also applied before every read, so
/// the sweep only bounds memory and keeps counters current).
pub(crate) const RETENTION_SWEEP_S: u64 = 60;

// ----- KPL aggregation (Kinesis Producer Library client defaults, not AWS quotas) ---------

/// Source of the KPL's configuration defaults and bounds (`default_config.properties`).
pub(crate) const SOURCE_KPL_CONFIG: &str = "https://github.com/awslabs/amazon-kinesis-producer/blob/master/java/amazon-kinesis-producer-sample/default_config.properties";
/// `AggregationMaxSize` default: at most 51,200 bytes packed into one aggregated Kinesis
/// record (KPL default_config.properties, "Default: 51200").
pub(crate) const KPL_AGGREGATION_MAX_BYTES: u64 = 51_200;
/// `AggregationMaxSize` lower bound: 64 bytes ("Minimum: 64").
pub(crate) const KPL_AGGREGATION_MIN_BYTES: u64 = 64;
/// `AggregationMaxSize` upper bound: 1,048,576 bytes = 1 MiB ("Maximum (inclusive):
/// 1048576"; the KPL notes the backend's record limit).
pub(crate) const KPL_AGGREGATION_MAX_BYTES_LIMIT: u64 = 1_048_576;
/// `AggregationMaxCount` default: 4,294,967,295 user records per aggregated record
/// ("Default: 4294967295"; in effect only the size and time limits apply).
pub(crate) const KPL_AGGREGATION_MAX_RECORDS: u64 = 4_294_967_295;
/// `RecordMaxBufferedTime` default: 100 ms, the longest a user record waits in the KPL's
/// buffers before it is sent ("Default: 100", also its minimum).
pub(crate) const KPL_MAX_BUFFERED_MS: u64 = 100;
/// Fixed bytes of an aggregated record: the 4-byte magic `F3 89 9A C2` before the protobuf
/// message and the 16-byte MD5 of the message after it (`kFixedOverhead` in the KPL's
/// `kinesis_record.cc`; format: <https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md>).
pub(crate) const KPL_FIXED_OVERHEAD_BYTES: u64 = 20;
/// The partition key the KPL gives an aggregated record: the one-byte `"a"` (it routes the
/// record with an explicit hash key, the first user record's hash, which does not count
/// toward the record's size) (`KinesisRecord::partition_key` in `kinesis_record.cc`).
pub(crate) const KPL_AGGREGATED_PARTITION_KEY_BYTES: u64 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_by_awss_formula() {
        let aws = KinesisLimits::default().shard_sizing();
        // 1,000 records/s of 3 KB: 3,000 KiB/s ÷ 1,024 = 2.93 → 3 shards (bandwidth).
        assert_eq!(aws.shards(1000.0, 3.0, 1.0), 3);
        // 2,500 records/s of 0.2 KB (rounded up to 1 KB): 2,500 KiB/s → 2.44; records
        // 2,500 ÷ 1,000 = 2.5 → 3 shards (record count).
        assert_eq!(aws.shards(2500.0, 0.2, 1.0), 3);
        // 500 records/s of 1 KB read by 5 consumers: write 0.49, read 2,500 ÷ 2,048 = 1.22
        // → 2 shards (reads).
        assert_eq!(aws.shards(500.0, 1.0, 5.0), 2);
        // 4.5 KB records are counted as 5 KB: 1,000/s → 5,000 KiB/s ÷ 1,024 = 4.88 → 5.
        assert_eq!(aws.shards(1000.0, 4.5, 1.0), 5);
        // An idle stream still has one shard.
        assert_eq!(aws.shards(0.0, 1.0, 1.0), 1);
    }

    #[test]
    fn shards_with_a_models_own_limits() {
        // A quota of 2 MiB/s and 2,000 records/s a shard (and 4 MiB/s of reads) halves the
        // shards: 1,000 records/s of 3 KB = 3,000 KiB/s ÷ 2,048 = 1.46 → 2 (AWS's: 3).
        let doubled = ShardSizing {
            write_kib_per_s: 2048.0,
            write_records_per_s: 2000.0,
            read_kib_per_s: 4096.0,
        };
        assert_eq!(doubled.shards(1000.0, 3.0, 1.0), 2);
        let aws = KinesisLimits::default().shard_sizing();
        assert_eq!(
            (
                aws.write_kib_per_s,
                aws.write_records_per_s,
                aws.read_kib_per_s
            ),
            (1024.0, 1000.0, 2048.0)
        );
        assert_eq!(aws.shards(1000.0, 3.0, 1.0), 3);
        assert_eq!(KinesisLimits::default().retention_range_h(), (24.0, 8760.0));
        assert_eq!(KinesisLimits::default().efo_consumers(false), 20);
        assert_eq!(KinesisLimits::default().efo_consumers(true), 50);
    }
}
