//! Kinesis consumers: KCL-style polling applications (one record processor per shard
//! lease, GetRecords on the shard's shared throughput) and enhanced fan-out applications
//! (SubscribeToShard, records pushed on a dedicated 2 MiB/s per shard).
//!
//! # What is modelled
//!
//! Each consumer holds one **lease** per shard. A lease is a sequential record processor:
//!
//! * **polling**: GetRecords (request leg, the shard's shared read limits, response leg),
//!   then processing of the batch, a checkpoint, and the next GetRecords no sooner than
//!   `idle_between_reads` after the previous call started (KCL's
//!   `idleTimeBetweenReadsInMillis`, default 1 s). A throttled call is retried after the
//!   SDK's backoff.
//! * **enhanced fan-out**: records are pushed `efo_propagation` (about 70 ms) after they
//!   were put, within the consumer's own 2 MiB/s per shard; a push carries every record
//!   that has propagated (at most `max_records`), and the next push follows as soon as the
//!   batch is processed and more records have propagated.
//!
//! Processing a batch of `n` records takes `per_batch` plus `n` draws of `service_time`
//! (for `n > 64` the sum is drawn from its normal approximation). Each record fails with
//! `failure_probability`; a failure stops the batch and, after `retry_delay`, the lease
//! reads again from its checkpoint, so a failed batch is retried in order. Where the
//! checkpoint is depends on `checkpoint`:
//!
//! * `record` (default): the application checkpoints the last record it processed before
//!   the failure (KCL's `checkpoint(record)`), so the retry starts at the failed record;
//! * `batch`: the application checkpoints only after a whole batch, so the retry starts
//!   over at the batch's first record and the records processed before the failure are
//!   processed again (counted in `duplicates`). With large batches and a per-record
//!   failure probability this can stall a shard: a 10,000-record batch at 1% fails
//!   almost surely every time.
//!
//! A record exits the accounting as processed at the checkpoint that passes it.
//!
//! A child shard (after resharding) is leased only once the consumer has drained all its
//! parents, as the KCL does, so per-key order survives resharding. During an outage every
//! lease stops; records held in flight go back to the checkpoint.
//!
//! # Accounting
//!
//! A stream with `k` readers (consumers and Lambda mappings) keeps one copy of every
//! accepted record per reader: the record is counted once in `produced` and `k − 1` times
//! in `copies`, and each copy ends processed, expired (retention removed it before that
//! reader fetched it), lost (a Lambda mapping gave up on it), in flight or waiting.

use crate::load::DurationDist;
use crate::load::Window;
use crate::metrics::{ComponentReport, LatencyHist};
use crate::services::kinesis::shard::Budget;
use crate::services::kinesis::Slice;
use crate::sim::{SimDuration, SimRng, SimTime};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::HashMap;

/// How a consumer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// GetRecords polling on the shard's shared throughput.
    Polling,
    /// Enhanced fan-out (SubscribeToShard push).
    Efo,
}

impl ReadMode {
    /// The model-file spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ReadMode::Polling => "polling",
            ReadMode::Efo => "efo",
        }
    }
}

/// Where a consumer checkpoints when a record fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointMode {
    /// At the last record processed: the retry starts at the failed record.
    Record,
    /// Only after whole batches: the retry starts over at the batch's first record.
    Batch,
}

/// A validated `[[stream_consumer]]`.
#[derive(Clone, Debug)]
pub struct StreamConsumerSpec {
    /// Name.
    pub name: String,
    /// Stream index.
    pub stream: u32,
    /// Polling or enhanced fan-out.
    pub mode: ReadMode,
    /// Records per GetRecords call (`Limit`) or per push, at most.
    pub max_records: u32,
    /// Polling: shortest time between the starts of two GetRecords calls on a shard.
    pub idle_between_reads: SimDuration,
    /// Processing time per record.
    pub service_time: DurationDist,
    /// Processing time per batch (checkpointing included).
    pub per_batch: DurationDist,
    /// Probability that processing a record fails.
    pub failure_probability: f64,
    /// Wait after a failed batch before reading again from the checkpoint.
    pub retry_delay: SimDuration,
    /// Where the checkpoint is when a record fails.
    pub checkpoint: CheckpointMode,
    /// Windows when the whole application is down.
    pub outages: Vec<Window>,
    /// The Firehose delivery stream (index) this reader hands its records to: Firehose's
    /// own reader of a Kinesis source (None: a `[[stream_consumer]]`).
    pub firehose: Option<u32>,
    /// The Flink application (index) this reader is the source of (None: not Flink's).
    pub flink: Option<u32>,
}

/// What a lease is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LeaseState {
    /// Waiting for its parent shards to be drained.
    Blocked,
    /// Polling: pausing until the next GetRecords.
    Idle,
    /// Polling: GetRecords request leg.
    Requesting,
    /// Polling: GetRecords response leg.
    Responding,
    /// Processing its batch.
    Processing,
    /// Waiting after a throttle or a failed batch.
    Backoff,
    /// Enhanced fan-out: subscribed, no record to push.
    Subscribed,
    /// Enhanced fan-out: a push is on its way.
    Pushing,
    /// The shard is closed and drained: nothing more to do.
    Done,
    /// The consumer is down.
    Down,
}

/// A consumer's lease on one shard.
#[derive(Clone, Debug)]
pub(crate) struct Lease {
    /// State.
    pub(crate) state: LeaseState,
    /// Generation: bumped when pending events for this lease become void.
    pub(crate) gen: u32,
    /// Latency of the call in progress.
    pub(crate) leg: SimDuration,
    /// The batch in hand.
    pub(crate) batch: Vec<Slice>,
    /// Records in `batch`.
    pub(crate) batch_records: u64,
    /// Start of the last GetRecords call.
    pub(crate) last_call: SimTime,
    /// Start of the current processing.
    pub(crate) busy_since: SimTime,
    /// Processing time of the current batch.
    pub(crate) busy_for: SimDuration,
    /// Records of the batch processed before a failure (`None`: the batch succeeds).
    pub(crate) fail_after: Option<u64>,
    /// Since when the lease is held (not blocked, not done), for utilisation.
    pub(crate) held_since: Option<SimTime>,
    /// Enhanced fan-out: the consumer's own read budget on this shard.
    pub(crate) efo_budget: Budget,
    /// Enhanced fan-out: the push in flight delivers records that arrived by this time.
    pub(crate) cutoff: SimTime,
}

impl Lease {
    /// A blocked lease with an enhanced fan-out budget of `efo_bytes_per_s`.
    pub(crate) fn new(efo_bytes_per_s: u64, now: SimTime) -> Self {
        let mut efo_budget = Budget::new(efo_bytes_per_s, efo_bytes_per_s);
        efo_budget.refill(now);
        Lease {
            state: LeaseState::Blocked,
            gen: 0,
            leg: SimDuration::ZERO,
            batch: Vec::new(),
            batch_records: 0,
            last_call: SimTime::ZERO,
            busy_since: SimTime::ZERO,
            busy_for: SimDuration::ZERO,
            fail_after: None,
            held_since: None,
            efo_budget,
            cutoff: SimTime::ZERO,
        }
    }
}

/// Counters of a consumer (reset at the warm-up).
#[derive(Clone, Debug, Default)]
pub(crate) struct ReaderStats {
    /// Records processed and checkpointed.
    pub(crate) processed: u64,
    /// Records whose processing failed (each failure stops its batch).
    pub(crate) failed: u64,
    /// Records processed in a batch that later failed (they are processed again).
    pub(crate) duplicates: u64,
    /// GetRecords calls served, or pushes received.
    pub(crate) reads: u64,
    /// Reads that returned nothing.
    pub(crate) empty_reads: u64,
    /// GetRecords calls refused by the shard's read limits.
    pub(crate) read_throttled: u64,
    /// Bytes read.
    pub(crate) bytes_read: u64,
    /// Largest iterator age (age of the last record of a read, or lag behind the tip).
    pub(crate) iterator_age_max_ns: u64,
    /// Records processed out of order for their partition key (key tracking only).
    pub(crate) order_violations: u64,
    /// Busy time, ns.
    pub(crate) busy_ns: u128,
    /// Lease time (leases held × time), ns.
    pub(crate) lease_ns: u128,
    /// Arrival at the stream → start of processing.
    pub(crate) wait: LatencyHist,
    /// Creation at the producer → end of processing.
    pub(crate) latency: LatencyHist,
}

/// A Kinesis consumer's run-time state.
pub(crate) struct StreamReader {
    /// Its spec.
    pub(crate) spec: StreamConsumerSpec,
    /// Its reader slot in the stream's shards.
    pub(crate) slot: usize,
    /// Random stream.
    pub(crate) rng: SimRng,
    /// One lease per shard of the stream, by shard id.
    pub(crate) leases: Vec<Lease>,
    /// In an outage.
    pub(crate) down: bool,
    /// Counters.
    pub(crate) stats: ReaderStats,
    /// Key tracking: last per-key sequence processed, by `producer << 32 | key`.
    pub(crate) last_kseq: HashMap<u64, u32>,
}

impl StreamReader {
    /// A consumer with no lease yet.
    pub(crate) fn new(spec: StreamConsumerSpec, slot: usize, rng: SimRng) -> Self {
        StreamReader {
            spec,
            slot,
            rng,
            leases: Vec::new(),
            down: false,
            stats: ReaderStats::default(),
            last_kseq: HashMap::new(),
        }
    }

    /// Resets counters at the end of the warm-up.
    pub(crate) fn reset_stats(&mut self, now: SimTime) {
        self.stats = ReaderStats::default();
        for l in &mut self.leases {
            if l.held_since.is_some() {
                l.held_since = Some(now);
            }
            if l.state == LeaseState::Processing {
                l.busy_since = l.busy_since.max(now);
            }
        }
    }

    /// Brings busy and lease time up to `now` (end of the run).
    pub(crate) fn finish(&mut self, now: SimTime, since: SimTime) {
        for l in &mut self.leases {
            if let Some(h) = l.held_since {
                self.stats.lease_ns += (now - h.max(since)).0 as u128;
                l.held_since = Some(now);
            }
            if l.state == LeaseState::Processing {
                self.stats.busy_ns += (now - l.busy_since.max(since)).0 as u128;
                l.busy_since = now;
            }
        }
    }

    /// The component report (kind `consumer`, so metric paths match SQS consumers).
    pub(crate) fn report(&self, stream: &str, expired: u64) -> ComponentReport {
        let s = &self.stats;
        let utilization = if s.lease_ns > 0 {
            s.busy_ns as f64 / s.lease_ns as f64
        } else {
            0.0
        };
        let mut r = ComponentReport::new("consumer", &self.spec.name);
        r.text("source", &format!("kinesis:{stream}"))
            .text("mode", self.spec.mode.as_str())
            .count("processed", s.processed)
            .count("failed", s.failed)
            .count("duplicates", s.duplicates)
            .count("expired", expired)
            .count("reads", s.reads)
            .count("empty_reads", s.empty_reads)
            .count("read_throttled", s.read_throttled)
            .count("bytes_read", s.bytes_read)
            .count("order_violations", s.order_violations)
            .count(
                "leases",
                self.leases
                    .iter()
                    .filter(|l| l.held_since.is_some())
                    .count() as u64,
            )
            .real("iterator_age_max_s", s.iterator_age_max_ns as f64 / 1e9)
            .real("utilization", utilization)
            .latency("wait_s", &s.wait)
            .latency("latency_s", &s.latency)
            .headline(&[
                "mode",
                "processed",
                "failed",
                "expired",
                "read_throttled",
                "iterator_age_max_s",
                "utilization",
                "wait_s",
                "latency_s",
            ]);
        r
    }
}

/// Processing time of a batch of `n` records: `per_batch` + the sum of `n` draws of
/// `per_record`.
///
/// # Formula
/// Exact sums up to 64 records; above, the normal approximation of the sum,
/// `n·μ + Z·√(n·σ²)` clipped at zero (central limit theorem), so the cost does not grow
/// with the batch. Constant times are exact for any `n`.
pub(crate) fn batch_time(
    per_batch: &DurationDist,
    per_record: &DurationDist,
    n: u64,
    rng: &mut SimRng,
) -> SimDuration {
    let base = per_batch.sample(rng);
    let d = &per_record.0;
    let sum_ns = if let crate::load::Dist::Constant(v) = d {
        v * n as f64
    } else if n <= 64 {
        (0..n).map(|_| d.sample(rng)).sum::<f64>()
    } else {
        let mean = d.mean();
        let var = (d.second_moment() - mean * mean).max(0.0);
        let z: f64 = StandardNormal.sample(rng);
        (n as f64 * mean + z * (n as f64 * var).sqrt()).max(0.0)
    };
    base + SimDuration::from_secs_f64(sum_ns / 1e9)
}

/// Records processed before the first failure in a batch of `n` when each fails with
/// probability `p`, or `None` when none fails.
///
/// # Formula
/// The number of successes before the first failure is geometric:
/// `k = ⌊ln(1 − u) / ln(1 − p)⌋` for `u` uniform on [0, 1).
pub(crate) fn first_failure(p: f64, n: u64, rng: &mut SimRng) -> Option<u64> {
    if p <= 0.0 || n == 0 {
        return None;
    }
    if p >= 1.0 {
        return Some(0);
    }
    let u: f64 = rng.random();
    let k = ((1.0 - u).ln() / (1.0 - p).ln()).floor();
    if k < n as f64 {
        Some(k as u64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Dist;
    use crate::sim::stream;

    #[test]
    fn first_failure_is_geometric() {
        // P(no failure in 10 records at p = 0.1) = 0.9^10 = 0.3487.
        let mut rng = stream(5, "f");
        let n = 100_000;
        let ok = (0..n)
            .filter(|_| first_failure(0.1, 10, &mut rng).is_none())
            .count() as f64
            / n as f64;
        let p = 0.9f64.powi(10);
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!((ok - p).abs() < 4.0 * se, "{ok} vs {p}");
    }

    #[test]
    fn batch_time_sums() {
        let mut rng = stream(5, "b");
        let c = DurationDist(Dist::Constant(1e6));
        let z = DurationDist(Dist::Constant(0.0));
        assert_eq!(
            batch_time(&z, &c, 1000, &mut rng),
            SimDuration::from_secs(1)
        );
        // Exponential, mean 1 ms, 10,000 records: mean 10 s, sd 0.1 s.
        let e = DurationDist(Dist::Exponential { mean: 1e6 });
        let t = batch_time(&z, &e, 10_000, &mut rng).as_secs_f64();
        assert!((t - 10.0).abs() < 0.5, "{t}");
    }
}
