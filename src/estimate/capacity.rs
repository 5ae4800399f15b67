//! The capacity answer printed beside a bill: the minimum capacity the documented limits
//! require for the expected load (shards, FIFO batching, workers, Lambda concurrency), so
//! the static estimate can be compared with what a simulation shows. Kinesis's per-shard
//! limits and its sizing formula are those of
//! [`KinesisLimits`](crate::services::kinesis::limits::KinesisLimits) (see
//! `ShardSizing`).

use serde::{Deserialize, Serialize};

/// One capacity figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// False when the value is over its limit (the check fails); true for figures with
    /// no limit.
    #[serde(default = "yes")]
    pub ok: bool,
}

fn yes() -> bool {
    true
}

impl Capacity {
    /// A figure with a limit: `ok` when `value <= limit`, else `over`.
    pub(crate) fn against(
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
            ok: value <= limit,
        }
    }

    /// A figure with no limit.
    pub(crate) fn info(
        service: &str,
        component: &str,
        what: impl Into<String>,
        value: f64,
    ) -> Self {
        Capacity {
            service: service.into(),
            component: component.into(),
            what: what.into(),
            value,
            limit: None,
            verdict: String::new(),
            ok: true,
        }
    }
}

/// Renders capacity figures as a table of at most [`crate::text::TEXT_WIDTH`] columns.
pub fn to_table(rows: &[Capacity]) -> String {
    to_table_width(rows, crate::text::TEXT_WIDTH)
}

/// Renders capacity figures as a table of at most `width` columns (a long figure's
/// description wraps).
pub fn to_table_width(rows: &[Capacity], width: usize) -> String {
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
    crate::text::wrap_table(&t, width)
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

/// FIFO topic throughput, topic scope: 3,000 messages/s per topic. Source:
/// <https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_sns.FifoThroughputScope.html>
/// (P).
pub(crate) const SNS_FIFO_TOPIC_MSGS_PER_S: f64 = 3000.0;
/// FIFO topic throughput, topic scope: 20 MB/s per topic (same source).
pub(crate) const SNS_FIFO_TOPIC_MB_PER_S: f64 = 20.0;
/// Default Direct PUT throughput of a Firehose stream in us-east-1: 5 MiB/s (the developer
/// guide and the API reference agree on it; they disagree on records/s, which is not
/// checked). Source: <https://docs.aws.amazon.com/firehose/latest/dev/limits.html> (P-copy),
/// <https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecord.html> (P).
pub(crate) const FIREHOSE_DIRECT_PUT_MIB_PER_S: f64 = 5.0;

/// Concurrency a Lambda function needs, by Little's law.
///
/// # Formula
/// `L = λ × W`: concurrent executions = arrival rate (invocations/s) × mean duration (s).
pub(crate) fn lambda_concurrency(requests_per_s: f64, mean_duration_s: f64) -> f64 {
    requests_per_s * mean_duration_s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn littles_law() {
        // 200 invocations/s lasting 250 ms on average keep 50 executions busy.
        assert_eq!(lambda_concurrency(200.0, 0.25), 50.0);
    }
}
