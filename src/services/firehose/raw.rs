//! The `[[firehose]]` table of a model file as written (see `models/README.md`). Plain
//! serde structs with `deny_unknown_fields`; validated by `super::config`.

use crate::input::units::{Bytes, Dur};
use crate::model::raw::{RawDist, RawWindow};
use serde::Deserialize;

/// Buffering hints: `{ size = "5MiB", interval = "300s" }`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawBuffer {
    /// Size hint (default per destination).
    #[serde(default)]
    pub size: Option<Bytes>,
    /// Interval hint (default per destination; `"0s"`: no buffering).
    #[serde(default)]
    pub interval: Option<Dur>,
}

/// A Lambda transformation: `transform = { duration = "200ms", ... }`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawTransform {
    /// The transformation's own buffer (default 1 MB and 60 s; Splunk 256 KB).
    #[serde(default)]
    pub buffer: Option<RawBuffer>,
    /// Duration of one invocation (default 100ms).
    #[serde(default)]
    pub duration: Option<RawDist<Dur>>,
    /// Most invocations at once (default 5 per shard of a Kinesis source, 10 for Splunk;
    /// 5 or 10 for a Direct PUT stream).
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Probability that an invocation fails (default 0).
    #[serde(default)]
    pub failure_probability: Option<f64>,
    /// Probability that the function returns a record as `ProcessingFailed` (default 0).
    #[serde(default)]
    pub record_failure_probability: Option<f64>,
    /// Retries of a failed invocation (default 3; 0 to 300).
    #[serde(default)]
    pub retries: Option<u32>,
    /// Bytes out per byte in (default 1).
    #[serde(default)]
    pub output_ratio: Option<f64>,
    /// The function's memory, MB (default 128).
    #[serde(default)]
    pub memory: Option<u32>,
}

/// A destination kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawDestinationKind {
    /// Amazon S3.
    S3,
    /// Amazon Redshift.
    Redshift,
    /// Amazon OpenSearch Service.
    Opensearch,
    /// An HTTP endpoint.
    Http,
    /// Splunk.
    Splunk,
}

/// `destination = { kind = "s3", ... }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDestination {
    /// `s3`, `redshift`, `opensearch`, `http` or `splunk`.
    pub kind: RawDestinationKind,
    /// Latency of one request (S3 PUT: 50ms; endpoints: 200ms by default).
    #[serde(default)]
    pub latency: Option<RawDist<Dur>>,
    /// Probability that a request fails (default 0).
    #[serde(default)]
    pub failure_probability: Option<f64>,
    /// Windows when the destination is down.
    #[serde(default)]
    pub outages: Vec<RawWindow>,
    /// How long a failed batch is retried (0 to 7,200 s; 300 s by default, Redshift
    /// 3,600 s).
    #[serde(default)]
    pub retry_duration: Option<Dur>,
    /// Wait between two attempts (default 10s).
    #[serde(default)]
    pub retry_interval: Option<Dur>,
    /// Redshift: duration of one COPY command (default 10s).
    #[serde(default)]
    pub copy_duration: Option<RawDist<Dur>>,
    /// Most requests in progress at once (default: unlimited; Redshift: 1 COPY).
    #[serde(default)]
    pub concurrency: Option<u32>,
}

/// Record format conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawFormat {
    /// Apache Parquet.
    Parquet,
    /// Apache ORC.
    Orc,
}

/// `dynamic_partitioning = { active_partitions = 500 }`: partition on the record's
/// partition key.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPartitioning {
    /// The active-partition quota (default: `[limits.firehose] active_partitions`, 500).
    #[serde(default)]
    pub active_partitions: Option<u32>,
}

/// `vpc = { subnets = 2 }`: delivery into a VPC.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVpc {
    /// Subnets (one per AZ), billed per AZ-hour.
    pub subnets: u32,
}

/// A `[[firehose]]` delivery stream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFirehose {
    /// Name.
    pub name: String,
    /// `direct_put` (default) or `kinesis:NAME`.
    #[serde(default)]
    pub source: Option<String>,
    /// Buffering hints.
    #[serde(default)]
    pub buffer: Option<RawBuffer>,
    /// Lambda transformation.
    #[serde(default)]
    pub transform: Option<RawTransform>,
    /// `parquet` or `orc`.
    #[serde(default)]
    pub format_conversion: Option<RawFormat>,
    /// Dynamic partitioning on the partition key.
    #[serde(default)]
    pub dynamic_partitioning: Option<RawPartitioning>,
    /// Destination.
    pub destination: RawDestination,
    /// VPC delivery.
    #[serde(default)]
    pub vpc: Option<RawVpc>,
    /// Latency of one PutRecordBatch call (default: the model's `api_latency`).
    #[serde(default)]
    pub api_latency: Option<RawDist<Dur>>,
}
