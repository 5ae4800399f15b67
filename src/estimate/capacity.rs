//! The capacity answer printed beside a bill: the minimum capacity the documented limits
//! require for the expected load (shards, FIFO batching, workers, Lambda concurrency), so
//! the static estimate can be compared with what a simulation shows.

use serde::{Deserialize, Serialize};

/// One capacity figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// Service key (`sqs`, `kinesis_data_streams`, `lambda`, ...).
    pub service: String,
    /// Component.
    pub component: String,
    /// What is measured (`SendMessage calls/s at peak`, `shards needed`, ...).
    pub what: String,
    /// The value.
    pub value: f64,
    /// The documented limit it is compared with, or the capacity configured, if any.
    pub limit: Option<f64>,
    /// `ok`, or what the user must change.
    pub verdict: String,
}

impl Capacity {
    /// A figure with a limit: `ok` when `value <= limit`, else `over`.
    pub fn against(
        service: &str,
        component: &str,
        what: impl Into<String>,
        value: f64,
        limit: f64,
        over: impl Into<String>,
    ) -> Self {
        Capacity {
            service: service.into(),
            component: component.into(),
            what: what.into(),
            value,
            limit: Some(limit),
            verdict: if value <= limit {
                "ok".into()
            } else {
                over.into()
            },
        }
    }

    /// A figure with no limit.
    pub fn info(service: &str, component: &str, what: impl Into<String>, value: f64) -> Self {
        Capacity {
            service: service.into(),
            component: component.into(),
            what: what.into(),
            value,
            limit: None,
            verdict: String::new(),
        }
    }
}

/// Renders capacity figures as a table.
pub fn to_table(rows: &[Capacity]) -> String {
    let mut t = vec![vec![
        "capacity".to_string(),
        "component".into(),
        "value".into(),
        "limit".into(),
        "verdict".into(),
    ]];
    for c in rows {
        t.push(vec![
            format!("{}: {}", c.service, c.what),
            c.component.clone(),
            fmt(c.value),
            c.limit.map(fmt).unwrap_or_else(|| "-".into()),
            c.verdict.clone(),
        ]);
    }
    crate::text::render_table(&t)
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 {
        crate::pricing::fmt_qty(v)
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// Per-shard write limit, KiB/s (1 MiB/s). Source:
/// <https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html> (P).
pub const SHARD_WRITE_KIB_PER_S: f64 = 1024.0;
/// Per-shard write limit, records/s.
pub const SHARD_WRITE_RECORDS_PER_S: f64 = 1000.0;
/// Per-shard shared read limit, KiB/s (2 MiB/s).
pub const SHARD_READ_KIB_PER_S: f64 = 2048.0;

/// Enhanced fan-out consumers per stream (Provisioned, On-demand Standard): 20. Source:
/// <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_RegisterStreamConsumer.html>
/// (P-copy).
pub const KINESIS_EFO_CONSUMERS: f64 = 20.0;
/// Enhanced fan-out consumers per stream in On-demand Advantage: 50 (same source).
pub const KINESIS_EFO_CONSUMERS_ADVANTAGE: f64 = 50.0;
/// FIFO topic throughput, topic scope: 3,000 messages/s per topic. Source:
/// <https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_sns.FifoThroughputScope.html>
/// (P).
pub const SNS_FIFO_TOPIC_MSGS_PER_S: f64 = 3000.0;
/// FIFO topic throughput, topic scope: 20 MB/s per topic (same source).
pub const SNS_FIFO_TOPIC_MB_PER_S: f64 = 20.0;
/// Default Direct PUT throughput of a Firehose stream in us-east-1: 5 MiB/s (the developer
/// guide and the API reference agree on it; they disagree on records/s, which is not
/// checked). Source: <https://docs.aws.amazon.com/firehose/latest/dev/limits.html> (P-copy),
/// <https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecord.html> (P).
pub const FIREHOSE_DIRECT_PUT_MIB_PER_S: f64 = 5.0;

/// The per-shard limits AWS's sizing formula divides by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShardSizing {
    /// Write throughput per shard, KiB/s.
    pub write_kib_per_s: f64,
    /// Records written per second per shard.
    pub write_records_per_s: f64,
    /// Shared read throughput per shard, KiB/s.
    pub read_kib_per_s: f64,
}

impl ShardSizing {
    /// AWS's documented limits ([`SHARD_WRITE_KIB_PER_S`], [`SHARD_WRITE_RECORDS_PER_S`],
    /// [`SHARD_READ_KIB_PER_S`]).
    pub const AWS: ShardSizing = ShardSizing {
        write_kib_per_s: SHARD_WRITE_KIB_PER_S,
        write_records_per_s: SHARD_WRITE_RECORDS_PER_S,
        read_kib_per_s: SHARD_READ_KIB_PER_S,
    };

    /// Shards a provisioned stream needs, by AWS's sizing formula with these limits.
    ///
    /// # Formula
    /// `ceil(max(write_KiB/write_limit, records/record_limit, read_KiB/read_limit))` where
    /// `write_KiB = records/s × record size in KB rounded up to a whole KB` and `read_KiB =
    /// write_KiB × shared-throughput consumers`
    /// (<https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html>). At
    /// least 1.
    pub fn shards(&self, records_per_s: f64, record_kib: f64, consumers: f64) -> u64 {
        let write_kib = records_per_s * record_kib.ceil().max(1.0);
        let read_kib = write_kib * consumers;
        let need = (write_kib / self.write_kib_per_s)
            .max(records_per_s / self.write_records_per_s)
            .max(read_kib / self.read_kib_per_s);
        (need.ceil() as u64).max(1)
    }
}

/// Shards a provisioned stream needs, by AWS's sizing formula.
///
/// # Formula
/// `ceil(max(write_KiB/1024, records/1000, read_KiB/2048))` where `write_KiB = records/s ×
/// record size in KB rounded up to a whole KB` and `read_KiB = write_KiB × shared-throughput
/// consumers` (<https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html>).
/// At least 1. See [`ShardSizing::shards`].
pub fn kinesis_shards(records_per_s: f64, record_kib: f64, consumers: f64) -> u64 {
    ShardSizing::AWS.shards(records_per_s, record_kib, consumers)
}

/// Concurrency a Lambda function needs, by Little's law.
///
/// # Formula
/// `L = λ × W`: concurrent executions = arrival rate (invocations/s) × mean duration (s).
pub fn lambda_concurrency(requests_per_s: f64, mean_duration_s: f64) -> f64 {
    requests_per_s * mean_duration_s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_by_awss_formula() {
        // 1,000 records/s of 3 KB: 3,000 KiB/s ÷ 1,024 = 2.93 → 3 shards (bandwidth).
        assert_eq!(kinesis_shards(1000.0, 3.0, 1.0), 3);
        // 2,500 records/s of 0.2 KB (rounded up to 1 KB): 2,500 KiB/s → 2.44; records
        // 2,500 ÷ 1,000 = 2.5 → 3 shards (record count).
        assert_eq!(kinesis_shards(2500.0, 0.2, 1.0), 3);
        // 500 records/s of 1 KB read by 5 consumers: write 0.49, read 2,500 ÷ 2,048 = 1.22
        // → 2 shards (reads).
        assert_eq!(kinesis_shards(500.0, 1.0, 5.0), 2);
        // 4.5 KB records are counted as 5 KB: 1,000/s → 5,000 KiB/s ÷ 1,024 = 4.88 → 5.
        assert_eq!(kinesis_shards(1000.0, 4.5, 1.0), 5);
        // An idle stream still has one shard.
        assert_eq!(kinesis_shards(0.0, 1.0, 1.0), 1);
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
        assert_eq!(ShardSizing::AWS.shards(1000.0, 3.0, 1.0), 3);
    }

    #[test]
    fn littles_law() {
        // 200 invocations/s lasting 250 ms on average keep 50 executions busy.
        assert_eq!(lambda_concurrency(200.0, 0.25), 50.0);
    }
}
