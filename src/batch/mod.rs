//! Batch jobs (`[[batch_job]]`): the other side of the stream-or-batch question.
//!
//! A batch job collects from a store and runs on a schedule: an SQS queue it drains when
//! it starts, a Kinesis stream it reads back (whatever retention kept since its last
//! run), or the S3 objects a Firehose stream delivered. Each run reads only what landed
//! before it started, then takes
//!
//! # Formula
//! `duration = startup + (GiB read × per_gb + records × per_record) / nodes`
//!
//! and every record it read has its result (time to insight) at the run's end. A run
//! still going at the next scheduled start delays that start until it ends (an
//! *overrun*, reported with the delay). Its cost is `nodes × duration` node-hours at the
//! model's `node_hour_usd`: EMR, Glue and AWS Batch are not priced by aqueduct, so the
//! model gives a unit price and cites its source (`price_source`).
//!
//! Simplifications: a job's reads are not throttled by the queue or the shards (the
//! reading time is part of `per_gb`), and SQS reads are billed as ReceiveMessage and
//! DeleteMessageBatch calls of 10 messages.

pub mod config;
pub(crate) mod engine;
pub(crate) mod estimate;
pub mod raw;

use crate::sim::{SimDuration, SimTime};

/// Where a batch job reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchStore {
    /// An SQS queue (index), drained when a run starts.
    Queue(u32),
    /// A Kinesis data stream (index), read from the job's last position.
    Stream(u32),
    /// The S3 objects delivered by a Firehose stream (index).
    Firehose(u32),
}

/// A validated batch job.
#[derive(Clone, Debug)]
pub struct BatchJobSpec {
    /// Name.
    pub name: String,
    /// Where it reads.
    pub store: BatchStore,
    /// The store as written (`sqs:readings`).
    pub store_text: String,
    /// Interval between scheduled starts.
    pub every: SimDuration,
    /// First scheduled start.
    pub offset: SimDuration,
    /// Fixed start-up time of a run.
    pub startup: SimDuration,
    /// Time for one node to process one GiB, s.
    pub per_gib_s: f64,
    /// Time for one node to process one record, s.
    pub per_record_s: f64,
    /// Nodes.
    pub nodes: u32,
    /// USD per node-hour.
    pub node_hour_usd: f64,
    /// Where the price comes from.
    pub price_source: String,
}

impl BatchJobSpec {
    /// How long a run that reads `records` records of `bytes` bytes takes.
    pub fn duration(&self, records: u64, bytes: u64) -> SimDuration {
        let gib = bytes as f64 / (1u64 << 30) as f64;
        let work = (gib * self.per_gib_s + records as f64 * self.per_record_s) / self.nodes as f64;
        self.startup + SimDuration::from_secs_f64(work)
    }

    /// The scheduled start number `k` (0-based).
    pub(crate) fn slot(&self, k: u64) -> SimTime {
        SimTime(self.offset.0.saturating_add(self.every.0.saturating_mul(k)))
    }
}
