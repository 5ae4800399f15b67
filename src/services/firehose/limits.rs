//! Amazon Data Firehose limits and defaults, with their sources.
//!
//! Every AWS number the Firehose model uses is a field of [`FirehoseLimits`], with the AWS
//! page it comes from (the `SOURCE_*` constants); a model may override any of them in a
//! `[limits.firehose]` table, for example after a quota increase. Modelling defaults that
//! AWS does not document (the latency of an S3 PUT or of an endpoint's response, the wait
//! between delivery retries) are the constants at the end of this file, each overridable
//! on the delivery stream.

use crate::input::units::{Bytes, Dur};
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// Firehose quotas (record size, PutRecordBatch, Direct PUT throughput, active partitions).
pub const SOURCE_LIMITS: &str = "https://docs.aws.amazon.com/firehose/latest/dev/limits.html";
/// PutRecord: the largest record, 1,000 KiB before base64 encoding.
pub const SOURCE_PUT_RECORD: &str =
    "https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecord.html";
/// Buffering hints: ranges and defaults (S3, OpenSearch, HTTP, Splunk).
pub const SOURCE_BUFFERING: &str =
    "https://docs.aws.amazon.com/firehose/latest/APIReference/API_BufferingHints.html";
/// Lambda data transformation: buffer (0.2–3 MB, 1 MB default; 256 KB for Splunk),
/// interval (60 s default) and retries (3 default).
pub const SOURCE_TRANSFORM: &str =
    "https://docs.aws.amazon.com/firehose/latest/APIReference/API_ProcessorParameter.html";
/// Retry duration of endpoint destinations (0–7,200 s; OpenSearch and HTTP 300 s by
/// default, Redshift 3,600 s).
pub const SOURCE_RETRY: &str = "https://docs.aws.amazon.com/firehose/latest/APIReference/API_AmazonopensearchserviceRetryOptions.html";
/// Record format conversion: the 64 MiB minimum buffer size.
pub const SOURCE_FORMAT_CONVERSION: &str =
    "https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html";
/// Kinesis Data Streams as a source: Firehose reads each shard once per second.
pub const SOURCE_KINESIS_SOURCE: &str =
    "https://docs.aws.amazon.com/firehose/latest/dev/writing-with-kinesis-streams.html";

/// Firehose quotas and documented defaults, as AWS gave them when read (2026).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirehoseLimits {
    /// Largest record: 1,000 KiB (before base64). [`SOURCE_PUT_RECORD`]
    pub max_record_size: Bytes,
    /// Records per PutRecordBatch call: 500. [`SOURCE_LIMITS`]
    pub put_batch_max_records: u32,
    /// Bytes per PutRecordBatch call: 4 MiB. [`SOURCE_LIMITS`]
    pub put_batch_max_bytes: Bytes,
    /// Direct PUT: records per second per stream (us-east-1, us-west-2, eu-west-1:
    /// 500,000; 100,000 in many other Regions). [`SOURCE_LIMITS`]
    pub direct_put_records_per_s: u64,
    /// Direct PUT: PutRecord and PutRecordBatch calls per second per stream (2,000).
    /// [`SOURCE_LIMITS`]
    pub direct_put_requests_per_s: u64,
    /// Direct PUT: bytes per second per stream (5 MiB). [`SOURCE_LIMITS`]
    pub direct_put_bytes_per_s: Bytes,
    /// Dynamic partitioning: active partitions per stream (500 by default; up to 5,000 on
    /// request). [`SOURCE_LIMITS`]
    pub active_partitions: u32,
    /// Buffer size range of S3 (and Redshift's S3 staging): 1 to 128 MiB. [`SOURCE_BUFFERING`]
    pub s3_buffer_size_max: Bytes,
    /// Buffer size range of OpenSearch: 1 to 100 MiB. [`SOURCE_LIMITS`]
    pub opensearch_buffer_size_max: Bytes,
    /// Buffer size range of HTTP endpoints: 1 to 64 MiB.
    /// <https://docs.aws.amazon.com/firehose/latest/APIReference/API_HttpEndpointBufferingHints.html>
    pub http_buffer_size_max: Bytes,
    /// Buffer size range of Splunk: 1 to 5 MiB.
    /// <https://docs.aws.amazon.com/firehose/latest/APIReference/API_SplunkBufferingHints.html>
    pub splunk_buffer_size_max: Bytes,
    /// Smallest buffer size of every destination: 1 MiB. [`SOURCE_BUFFERING`]
    pub buffer_size_min: Bytes,
    /// Longest buffer interval: 900 s (0 s = no buffering). [`SOURCE_BUFFERING`]
    pub buffer_interval_max: Dur,
    /// Longest buffer interval of Splunk: 60 s (API_SplunkBufferingHints).
    pub splunk_buffer_interval_max: Dur,
    /// Default buffer size (every destination): 5 MiB. [`SOURCE_BUFFERING`]
    pub default_buffer_size: Bytes,
    /// Default buffer interval (S3, Redshift, OpenSearch, HTTP): 300 s. [`SOURCE_BUFFERING`]
    pub default_buffer_interval: Dur,
    /// Default buffer interval of Splunk: 60 s (API_SplunkBufferingHints).
    pub splunk_default_buffer_interval: Dur,
    /// Format conversion to Parquet/ORC: smallest buffer size, 64 MiB (default 128 MiB).
    /// [`SOURCE_FORMAT_CONVERSION`]
    pub format_conversion_min_buffer: Bytes,
    /// Format conversion: default buffer size, 128 MiB. [`SOURCE_FORMAT_CONVERSION`]
    pub format_conversion_default_buffer: Bytes,
    /// Lambda transformation: smallest buffer, 0.2 MB (aqueduct's MB is 2^20 bytes).
    /// [`SOURCE_TRANSFORM`]
    pub transform_buffer_min: Bytes,
    /// Lambda transformation: largest buffer, 3 MB. [`SOURCE_TRANSFORM`]
    pub transform_buffer_max: Bytes,
    /// Lambda transformation: default buffer, 1 MB (256 KB for Splunk). [`SOURCE_TRANSFORM`]
    pub transform_default_buffer: Bytes,
    /// Lambda transformation: default buffer for Splunk, 256 KB. [`SOURCE_TRANSFORM`]
    pub transform_default_buffer_splunk: Bytes,
    /// Lambda transformation: default buffer interval, 60 s (range 0 to 900 s).
    /// [`SOURCE_TRANSFORM`]
    pub transform_default_interval: Dur,
    /// Lambda transformation: default retries of a failed invocation, 3 (0 to 300).
    /// [`SOURCE_TRANSFORM`]
    pub transform_default_retries: u32,
    /// Lambda transformation: most retries, 300. [`SOURCE_TRANSFORM`]
    pub transform_max_retries: u32,
    /// Lambda transformation: outstanding invocations per shard of a Kinesis source (and,
    /// as a modelling choice, per Direct PUT stream): 5 for S3, Redshift and OpenSearch.
    /// [`SOURCE_LIMITS`]
    pub transform_concurrency: u32,
    /// Lambda transformation: outstanding invocations per shard for Splunk: 10.
    /// [`SOURCE_LIMITS`]
    pub transform_concurrency_splunk: u32,
    /// Longest retry duration of an endpoint destination: 7,200 s. [`SOURCE_RETRY`]
    pub retry_duration_max: Dur,
    /// Default retry duration of OpenSearch, HTTP and Splunk destinations: 300 s.
    /// [`SOURCE_RETRY`]; Splunk's API reference gives no default and is taken as HTTP's.
    pub default_retry_duration: Dur,
    /// Default retry duration of Redshift: 3,600 s.
    /// <https://docs.aws.amazon.com/firehose/latest/APIReference/API_RedshiftRetryOptions.html>
    pub redshift_default_retry_duration: Dur,
    /// Kinesis source: Firehose calls GetRecords on each shard once per second.
    /// [`SOURCE_KINESIS_SOURCE`]
    pub kinesis_read_interval: Dur,
}

impl Default for FirehoseLimits {
    fn default() -> Self {
        const MIB: u64 = 1 << 20;
        FirehoseLimits {
            max_record_size: Bytes(1000 * 1024),
            put_batch_max_records: 500,
            put_batch_max_bytes: Bytes(4 * MIB),
            direct_put_records_per_s: 500_000,
            direct_put_requests_per_s: 2_000,
            direct_put_bytes_per_s: Bytes(5 * MIB),
            active_partitions: 500,
            s3_buffer_size_max: Bytes(128 * MIB),
            opensearch_buffer_size_max: Bytes(100 * MIB),
            http_buffer_size_max: Bytes(64 * MIB),
            splunk_buffer_size_max: Bytes(5 * MIB),
            buffer_size_min: Bytes(MIB),
            buffer_interval_max: Dur(SimDuration::from_secs(900)),
            splunk_buffer_interval_max: Dur(SimDuration::from_secs(60)),
            default_buffer_size: Bytes(5 * MIB),
            default_buffer_interval: Dur(SimDuration::from_secs(300)),
            splunk_default_buffer_interval: Dur(SimDuration::from_secs(60)),
            format_conversion_min_buffer: Bytes(64 * MIB),
            format_conversion_default_buffer: Bytes(128 * MIB),
            transform_buffer_min: Bytes(MIB / 5),
            transform_buffer_max: Bytes(3 * MIB),
            transform_default_buffer: Bytes(MIB),
            transform_default_buffer_splunk: Bytes(256 * 1024),
            transform_default_interval: Dur(SimDuration::from_secs(60)),
            transform_default_retries: 3,
            transform_max_retries: 300,
            transform_concurrency: 5,
            transform_concurrency_splunk: 10,
            retry_duration_max: Dur(SimDuration::from_secs(7200)),
            default_retry_duration: Dur(SimDuration::from_secs(300)),
            redshift_default_retry_duration: Dur(SimDuration::from_secs(3600)),
            kinesis_read_interval: Dur(SimDuration::from_secs(1)),
        }
    }
}

/// Modelling default: latency of one S3 PUT of a delivered object (AWS publishes no
/// figure; S3's first-byte latencies are tens of milliseconds). Overridable per stream
/// (`destination.latency`).
pub(crate) const DEFAULT_S3_PUT_LATENCY: SimDuration = SimDuration::from_millis(50);

/// Modelling default: round trip of one request to an HTTP, OpenSearch or Splunk endpoint
/// (overridable: `destination.latency`).
pub(crate) const DEFAULT_ENDPOINT_LATENCY: SimDuration = SimDuration::from_millis(200);

/// Modelling default: wait between two delivery attempts of a batch that failed (AWS
/// retries "until the retry duration expires" and documents no interval; overridable:
/// `destination.retry_interval`).
pub(crate) const DEFAULT_RETRY_INTERVAL: SimDuration = SimDuration::from_secs(10);

/// The shortest `retry_interval` a model may give: 1 s (a modelling bound that keeps a
/// retry duration of up to 7,200 s at a few thousand attempts per batch).
pub(crate) const MIN_RETRY_INTERVAL: SimDuration = SimDuration::from_secs(1);

/// Modelling default: a Redshift COPY command's duration (overridable:
/// `destination.copy_duration`).
pub(crate) const DEFAULT_COPY_DURATION: SimDuration = SimDuration::from_secs(10);

/// Modelling default: duration of one Lambda transformation invocation (overridable:
/// `transform.duration`).
pub(crate) const DEFAULT_TRANSFORM_DURATION: SimDuration = SimDuration::from_millis(100);
