//! Amazon Data Firehose: delivery streams that buffer records and deliver them to a
//! destination (the delivery layer of a streaming architecture).
//!
//! # What is modelled
//!
//! - **Sources.** `direct_put`: producers call PutRecordBatch (≤ 500 records and ≤ 4 MiB
//!   per call, records ≤ 1,000 KiB) and SNS subscriptions deliver to the stream; the
//!   stream's Direct PUT quotas (records/s, calls/s, bytes/s, each a one-second token
//!   bucket) refuse what is over them, and the producer's SDK retries the refused records
//!   (SNS retries with its delivery policy). `kinesis:NAME`: Firehose reads every shard of
//!   the stream as a shared-throughput (polling) consumer, one GetRecords call per shard
//!   per second, on the shard's 5 reads/s and 2 MiB/s; its iterator age is reported as a
//!   stream consumer's (named `firehose:NAME`).
//! - **Lambda transformation** (optional): records are buffered for the function (its own
//!   size and interval), invoked with at most `concurrency` invocations at once; a failed
//!   invocation is retried (`retries`, 3 by default), then its records go to the error
//!   output; records the function reports failed (`record_failure_probability`) go there
//!   too. The function's output is `output_ratio` times its input.
//! - **Buffering hints.** Records wait in a buffer until it holds `size` bytes or its
//!   first record has waited `interval`, whichever comes first; a flush delivers one
//!   object (an S3 object, a bulk request, a staged file for Redshift). A size flush cuts
//!   the buffer at exactly `size` bytes (to a whole record); the rest opens the next
//!   buffer. `interval = "0s"` delivers every call's records at once. Flushes by size and
//!   by interval are counted apart.
//! - **Dynamic partitioning**: one buffer per active partition (the record's partition
//!   key); records of a partition beyond the active-partition quota go to the error
//!   output. **Format conversion** (Parquet/ORC) requires a buffer of at least 64 MiB and
//!   is billed per GB ingested.
//! - **Destinations.** `s3`: one PUT per flush. `http`, `opensearch`, `splunk`: one request
//!   per flush with a latency, a failure probability and outage windows; a failed request
//!   is retried every `retry_interval` while the retry duration (from the first failure)
//!   lasts, then the batch goes to the S3 backup. `redshift`: the flush is staged in S3,
//!   then loaded by COPY commands of `copy_duration`, one at a time, each loading every
//!   staged object: a slow COPY builds a backlog.
//!
//! Records move through the stream as runs (consecutive records of one call or read,
//! with their count, bytes, billed bytes and the creation times of the first and the
//! last); a record's freshness (creation → landed at the destination) is taken at the
//! middle of its run, and the largest freshness at the first record of the oldest run.
//!
//! Every record is accounted for: delivered (`processed`), in the S3 backup or error
//! output (`backed_up`), in a buffer (`waiting`), in a transformation or a delivery
//! attempt or its retry (`in_transit`), or dropped after the producer's retries.

pub mod bill;
pub(crate) mod client;
pub(crate) mod config;
pub(crate) mod engine;
pub(crate) mod estimate;
pub mod limits;
pub mod raw;
pub(crate) mod stream;
pub(crate) mod usage_keys;

use crate::load::{DurationDist, Window};
use crate::sim::SimDuration;

pub use limits::FirehoseLimits;

/// Where a delivery stream's records come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirehoseInput {
    /// PutRecord/PutRecordBatch from producers, and SNS subscriptions.
    DirectPut,
    /// A Kinesis data stream (index).
    Kinesis(u32),
}

/// The kind of a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DestinationKind {
    /// Amazon S3: one object per flush.
    S3,
    /// Amazon Redshift: staged in S3, loaded by COPY commands one at a time.
    Redshift,
    /// Amazon OpenSearch Service: a bulk request per flush.
    OpenSearch,
    /// An HTTP endpoint: a request per flush.
    Http,
    /// Splunk: an HTTP-like endpoint.
    Splunk,
}

impl DestinationKind {
    /// The name used in model files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DestinationKind::S3 => "s3",
            DestinationKind::Redshift => "redshift",
            DestinationKind::OpenSearch => "opensearch",
            DestinationKind::Http => "http",
            DestinationKind::Splunk => "splunk",
        }
    }

    /// True for destinations reached by requests that may fail and be retried.
    pub fn is_endpoint(self) -> bool {
        matches!(
            self,
            DestinationKind::OpenSearch | DestinationKind::Http | DestinationKind::Splunk
        )
    }
}

/// A validated destination.
#[derive(Clone, Debug)]
pub struct DestinationSpec {
    /// What it is.
    pub kind: DestinationKind,
    /// Latency of one delivery request (an S3 PUT, an endpoint's request).
    pub latency: DurationDist,
    /// Probability that one request fails (endpoints and Redshift).
    pub failure_probability: f64,
    /// Windows when the destination is down (every request fails).
    pub outages: Vec<Window>,
    /// How long failed requests of a batch are retried, from its first failure, before
    /// the batch goes to the S3 backup.
    pub retry_duration: SimDuration,
    /// Wait between two attempts of a failed batch.
    pub retry_interval: SimDuration,
    /// Redshift: duration of one COPY command.
    pub copy_duration: DurationDist,
    /// Most delivery requests in progress at once (Redshift: 1 COPY).
    pub concurrency: u32,
}

/// A validated Lambda transformation.
#[derive(Clone, Debug)]
pub struct TransformSpec {
    /// Buffer size before an invocation, bytes.
    pub buffer_size: u64,
    /// Buffer interval before an invocation.
    pub buffer_interval: SimDuration,
    /// Duration of one invocation.
    pub duration: DurationDist,
    /// Most invocations at once.
    pub concurrency: u32,
    /// Probability that an invocation fails (it is retried).
    pub failure_probability: f64,
    /// Probability that the function returns a record as failed (`ProcessingFailed`).
    pub record_failure_probability: f64,
    /// Retries of a failed invocation.
    pub retries: u32,
    /// Bytes out per byte in.
    pub output_ratio: f64,
    /// The function's memory, MB (for its bill).
    pub memory_mb: u32,
}

/// Record format conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Apache Parquet.
    Parquet,
    /// Apache ORC.
    Orc,
}

/// A validated `[[firehose]]` delivery stream.
#[derive(Clone, Debug)]
pub struct FirehoseSpec {
    /// Name.
    pub name: String,
    /// Source.
    pub input: FirehoseInput,
    /// Buffer size hint, bytes.
    pub buffer_size: u64,
    /// Buffer interval hint (0: no buffering).
    pub buffer_interval: SimDuration,
    /// Lambda transformation.
    pub transform: Option<TransformSpec>,
    /// Format conversion.
    pub format_conversion: Option<Format>,
    /// Dynamic partitioning: the active-partition quota (None: off).
    pub active_partitions: Option<u32>,
    /// Destination.
    pub destination: DestinationSpec,
    /// VPC delivery: subnets (AZs) of the stream (0: not in a VPC).
    pub vpc_subnets: u32,
    /// Latency of one PutRecordBatch call, round trip.
    pub api_latency: DurationDist,
    /// Firehose's limits in force.
    pub limits: FirehoseLimits,
}
