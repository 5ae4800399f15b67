//! Amazon Managed Service for Apache Flink (formerly Kinesis Data Analytics): a Flink
//! application reading a Kinesis data stream, keyed by partition key, with windows on
//! KPUs.
//!
//! # What is modelled
//!
//! * **Reading.** The Kinesis source reads every shard like the connector's polling
//!   consumer (a GetRecords call at most every `read_interval`, 200 ms by default, on the
//!   shard's shared 5 reads/s and 2 MiB/s) or with enhanced fan-out. It is a reader of the
//!   stream like any `[[stream_consumer]]`, reported as stream consumer `flink:NAME` with
//!   its iterator age (`millisBehindLatest`).
//! * **keyBy.** Each record goes to one of `parallelism` subtasks by its key, as Flink
//!   assigns keys: the key's Java `hashCode`, Flink's murmur hash, its key group among
//!   the maximum parallelism (`roundUpToPowerOfTwo(1.5·p)` within [128, 32,768]), and the
//!   key group's subtask. A hot key therefore loads one subtask. Keys are the partition
//!   keys producers write; the records of a shard are stored as runs without their keys
//!   (see `services::kinesis::shard`), so the reader draws each record's key from the
//!   producers' key distributions restricted to the keys that hash into that shard — the
//!   same distribution, since producers draw keys independently per record.
//! * **KPUs and CPU.** `KPUs = ceil(parallelism / parallelism_per_kpu)`; a KPU is one vCPU
//!   shared by its `parallelism_per_kpu` subtasks, so a subtask spends
//!   `cpu_per_record × parallelism_per_kpu` of wall time per record (a subtask does not
//!   borrow the share of an idle sibling: conservative under skew).
//! * **Backpressure.** A subtask's input buffer holds `(2 × source subtasks + 8) × 32 KiB`
//!   (Flink's network buffers); the source blocks as soon as one record's subtask has no
//!   room, so one slow subtask slows all reading, the next GetRecords waits, and the
//!   iterator age grows. Records the stream's retention removes before they are read are
//!   counted expired by the stream, as for every reader.
//! * **Windows.** Tumbling, sliding and session windows per key, in event time or in
//!   processing time. A record's event time is its creation minus the producer's
//!   `event_time_lag` (a device that buffers before sending). The watermark of a shard is
//!   the largest event time read from it minus `out_of_orderness`; the application's is the
//!   least over the shards (a shard idle for `idle_timeout` stops holding it back). A
//!   window fires when the watermark passes its end, at each subtask once it has processed
//!   the records read before the watermark: one result per key and window. A record whose
//!   every window ended more than `allowed_lateness` before the watermark is dropped and
//!   counted (`late_dropped`); one within the lateness fires its window again (a late
//!   firing). Processing-time windows fire at their end on the wall clock.
//! * **Checkpoints and failures.** Every `interval` a checkpoint takes the source's
//!   positions; it completes once every subtask has processed the records read before it
//!   plus `duration`. Only then do the records count as processed and leave the stream
//!   (the reader's checkpoint moves). A failure (scheduled, or with an exponential `mtbf`)
//!   stops the application for `restart_delay`; it restarts from the last completed
//!   checkpoint: the records read since are read again (`reprocessed`), window state goes
//!   back to the checkpoint's, and results emitted since are emitted again
//!   (`duplicate_results`, duplicates in an at-least-once sink).
//! * **Autoscaling** (on by default, as AWS): every minute the busiest subtask's CPU is a
//!   data point; 15 points in a row at or above 75% double the parallelism (within the KPU
//!   quota), 360 below 10% halve it (never below the configured parallelism). A rescale
//!   is a restart from a checkpoint taken at its start that lasts `rescale_delay`.
//! * **Sinks.** Results can go to a Firehose delivery stream (`sink = { target =
//!   "firehose:NAME" }`, PutRecordBatch under its Direct PUT quotas) or a Kinesis stream
//!   (`"kinesis:NAME"`, each result with its key as partition key, under the shards' write
//!   limits), one record of `result_size` per key and window; refused results are retried
//!   a second later. A stream fed by a sink can be the source of another application.
//!
//! # Legacy SQL applications
//!
//! Kinesis Data Analytics for SQL (discontinued: no new applications since 15 October
//! 2025, applications deleted from 27 January 2026) ran the same windows: a `GROUP BY
//! STEP(ROWTIME BY INTERVAL '1' MINUTE)` is a tumbling window of 1 minute, a `WINDOW
//! RANGE INTERVAL '1' MINUTE PRECEDING` a sliding window; model one as a `[[flink]]`
//! application with that window (KPU prices are the same).

pub(crate) mod app;
pub mod bill;
pub(crate) mod config;
pub(crate) mod engine;
pub(crate) mod estimate;
pub(crate) mod keygroups;
pub mod limits;
pub mod raw;
pub(crate) mod usage_keys;

use crate::load::DurationDist;
use crate::services::kinesis::consumer::ReadMode;
use crate::sim::{SimDuration, SimTime};

/// What a window is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WindowKind {
    /// Windows of `size` every `slide` (tumbling: `slide == size`).
    Sliding {
        /// Length, ns.
        size: SimDuration,
        /// Distance between window starts, ns.
        slide: SimDuration,
    },
    /// A key's records closer than `gap` to each other.
    Session {
        /// Inactivity gap.
        gap: SimDuration,
    },
}

/// A window and its time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowSpec {
    /// Its kind.
    pub kind: WindowKind,
    /// Event time (true) or processing time.
    pub event_time: bool,
    /// Bounded out-of-orderness of the watermark.
    pub out_of_orderness: SimDuration,
    /// Allowed lateness.
    pub allowed_lateness: SimDuration,
    /// A shard idle this long stops holding the watermark back (None: never).
    pub idle_timeout: Option<SimDuration>,
}

/// Checkpointing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckpointSpec {
    /// Interval.
    pub interval: SimDuration,
    /// Time to write a snapshot after the barriers passed.
    pub duration: SimDuration,
    /// Bytes of a snapshot (durable backups).
    pub size_bytes: u64,
}

/// A validated `[[flink]]` application.
#[derive(Clone, Debug)]
pub struct FlinkSpec {
    /// Name.
    pub name: String,
    /// Source stream (index).
    pub stream: u32,
    /// Polling or enhanced fan-out.
    pub mode: ReadMode,
    /// Polling: time between GetRecords calls on a shard.
    pub read_interval: SimDuration,
    /// Records per GetRecords call.
    pub max_records: u32,
    /// Configured parallelism.
    pub parallelism: u32,
    /// Subtasks per KPU.
    pub parallelism_per_kpu: u32,
    /// CPU time of a record on one vCPU.
    pub cpu_per_record: DurationDist,
    /// The window (None: records are processed one by one, no results).
    pub window: Option<WindowSpec>,
    /// Checkpointing (None: off; records count as processed once read into the job).
    pub checkpoints: Option<CheckpointSpec>,
    /// Mean time between failures (None: none at random).
    pub mtbf: Option<SimDuration>,
    /// Scheduled failures.
    pub failures_at: Vec<SimTime>,
    /// Time from a failure to running again.
    pub restart_delay: SimDuration,
    /// Automatic scaling.
    pub autoscaling: bool,
    /// Time a rescale stops the application.
    pub rescale_delay: SimDuration,
    /// Most KPUs (the quota).
    pub max_kpus: u32,
    /// Input buffer of a subtask: bytes per upstream channel (exclusive buffers) and per
    /// gate (floating buffers).
    pub buffer_per_channel: u64,
    /// See `buffer_per_channel`.
    pub buffer_per_gate: u64,
    /// Delivery stream results go to (index).
    pub sink_firehose: Option<u32>,
    /// Kinesis stream results go to (index), each with its key as partition key.
    pub sink_stream: Option<u32>,
    /// Bytes of one result.
    pub result_bytes: u64,
    /// Autoscaling thresholds: (up %, up minutes, down %, down minutes).
    pub scaling: (u32, u32, u32, u32),
}

impl FlinkSpec {
    /// KPUs of `parallelism` subtasks: `ceil(parallelism / parallelism_per_kpu)`.
    pub fn kpus(&self, parallelism: u32) -> u32 {
        parallelism.div_ceil(self.parallelism_per_kpu.max(1))
    }

    /// Input buffer of one keyed subtask at `parallelism` (the source runs at the same
    /// parallelism, one channel from each source subtask), bytes.
    pub fn buffer_bytes(&self, parallelism: u32) -> u64 {
        self.buffer_per_channel * parallelism as u64 + self.buffer_per_gate
    }
}
