//! A delivery stream at run time: its Direct PUT quotas, buffers (one per active
//! partition), the Lambda transformation stage, the deliveries in progress, counters and
//! its report. The engine moves records between them (`super::engine`).

use super::{DestinationKind, FirehoseSpec};
use crate::metrics::{ComponentReport, LatencyHist};
use crate::sim::{SimDuration, SimRng, SimTime};
use hdrhistogram::Histogram;
use std::collections::{HashMap, VecDeque};

/// Consecutive records of one call or one read: their count, bytes, billed bytes and the
/// creation times of the first and the last (the others are taken as evenly spaced).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    /// Creation of the first record.
    pub(crate) first: SimTime,
    /// Creation of the last record.
    pub(crate) last: SimTime,
    /// Records.
    pub(crate) count: u32,
    /// Bytes.
    pub(crate) bytes: u64,
    /// Billed ingest bytes (each record rounded up to 5 KB).
    pub(crate) billed: u64,
    /// Partition key (0 without dynamic partitioning).
    pub(crate) key: u32,
}

impl Run {
    /// One record created at `t`.
    pub(crate) fn one(t: SimTime, bytes: u64, billed: u64, key: u32) -> Run {
        Run {
            first: t,
            last: t,
            count: 1,
            bytes,
            billed,
            key,
        }
    }

    /// The middle of the creation times (the time used for the run's freshness).
    #[inline]
    pub(crate) fn mid(&self) -> SimTime {
        SimTime(self.first.0 + (self.last.0 - self.first.0) / 2)
    }

    /// Splits after the first `k` records (`0 < k < count`), sharing bytes in proportion
    /// and keeping the even spacing of creation times.
    pub(crate) fn split(self, k: u32) -> (Run, Run) {
        debug_assert!(k > 0 && k < self.count);
        let n = self.count as u128;
        let span = (self.last.0 - self.first.0) as u128;
        let at = |i: u128| SimTime(self.first.0 + (span * i / (n - 1).max(1)) as u64);
        let bytes_a = (self.bytes as u128 * k as u128 / n) as u64;
        let billed_a = (self.billed as u128 * k as u128 / n) as u64;
        (
            Run {
                first: self.first,
                last: at(k as u128 - 1),
                count: k,
                bytes: bytes_a,
                billed: billed_a,
                key: self.key,
            },
            Run {
                first: at(k as u128),
                last: self.last,
                count: self.count - k,
                bytes: self.bytes - bytes_a,
                billed: self.billed - billed_a,
                key: self.key,
            },
        )
    }
}

/// A one-second token bucket: `rate` tokens per second, at most `rate` banked.
#[derive(Clone, Debug)]
pub(crate) struct Bucket {
    rate: f64,
    tokens: f64,
    last: SimTime,
}

impl Bucket {
    /// A full bucket of `rate` per second.
    pub(crate) fn new(rate: u64) -> Self {
        Bucket {
            rate: rate as f64,
            tokens: rate as f64,
            last: SimTime::ZERO,
        }
    }

    /// Whole tokens available at `now`.
    pub(crate) fn available(&mut self, now: SimTime) -> u64 {
        let dt = (now - self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.rate);
        self.last = now;
        self.tokens.max(0.0) as u64
    }

    /// Takes `n` tokens (after [`Bucket::available`] at the same instant).
    pub(crate) fn take(&mut self, n: u64) {
        self.tokens -= n as f64;
    }
}

/// Records waiting for a flush (a destination buffer, or the transformation's).
#[derive(Clone, Debug, Default)]
pub(crate) struct Buffer {
    /// The runs, oldest first.
    pub(crate) runs: Vec<Run>,
    /// Records held.
    pub(crate) records: u64,
    /// Bytes held.
    pub(crate) bytes: u64,
    /// Generation of its interval timer (a flush voids the timer).
    pub(crate) gen: u32,
    /// Partition key it holds.
    pub(crate) key: u32,
}

/// What [`Buffer::fill`] did with a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fill {
    /// The buffer took the whole run and still holds less than its size hint.
    Kept,
    /// The buffer reached its size hint (flush it); the records that did not fit, if any.
    Full(Option<Run>),
}

impl Buffer {
    /// Adds `run` to this buffer, which holds less than `size` bytes: whole, or cut after
    /// the record that brings it to `size` (a record's bytes taken as the run's mean).
    pub(crate) fn fill(&mut self, size: u64, run: Run) -> Fill {
        let room = size.saturating_sub(self.bytes);
        let (take, rest) = if run.bytes < room {
            (run, None)
        } else {
            let per = (run.bytes / run.count.max(1) as u64).max(1);
            let k = room.div_ceil(per).clamp(1, run.count as u64) as u32;
            if k < run.count {
                let (a, b) = run.split(k);
                (a, Some(b))
            } else {
                (run, None)
            }
        };
        self.records += take.count as u64;
        self.bytes += take.bytes;
        self.runs.push(take);
        if self.bytes >= size {
            Fill::Full(rest)
        } else {
            Fill::Kept
        }
    }

    /// Creation of the oldest record held.
    pub(crate) fn oldest(&self) -> Option<SimTime> {
        self.runs.first().map(|r| r.first)
    }
}

/// What a batch in progress is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Being transformed by the Lambda function.
    Transform,
    /// A delivery request (S3 PUT, endpoint request) in progress or waiting to retry.
    Deliver,
    /// Redshift: the staging PUT to S3.
    Stage,
    /// Redshift: staged in S3, waiting for a COPY.
    Staged,
    /// Redshift: a COPY command loading it (with the other staged batches).
    Copy,
}

/// A batch in progress: an invocation's records, or a flushed object's.
#[derive(Clone, Debug)]
pub(crate) struct Batch {
    /// The runs.
    pub(crate) runs: Vec<Run>,
    /// Records.
    pub(crate) records: u64,
    /// Bytes.
    pub(crate) bytes: u64,
    /// Attempts made so far.
    pub(crate) attempts: u32,
    /// When its first attempt failed (the retry duration counts from there).
    pub(crate) first_failure: Option<SimTime>,
    /// What it is doing.
    pub(crate) phase: Phase,
}

/// A slab of batches with a free list.
#[derive(Clone, Debug, Default)]
pub(crate) struct Batches {
    /// The slots.
    pub(crate) slots: Vec<Batch>,
    free: Vec<u32>,
    /// Slots in use.
    pub(crate) live: u32,
}

impl Batches {
    /// Takes a slot for `runs` (emptying it) in `phase`.
    pub(crate) fn open(&mut self, runs: &mut Vec<Run>, phase: Phase) -> u32 {
        let (records, bytes) = runs
            .iter()
            .fold((0u64, 0u64), |(r, b), x| (r + x.count as u64, b + x.bytes));
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Batch {
                    runs: Vec::new(),
                    records: 0,
                    bytes: 0,
                    attempts: 0,
                    first_failure: None,
                    phase,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let b = &mut self.slots[i as usize];
        b.runs.clear();
        b.runs.append(runs);
        b.records = records;
        b.bytes = bytes;
        b.attempts = 0;
        b.first_failure = None;
        b.phase = phase;
        self.live += 1;
        i
    }

    /// Frees slot `i`.
    pub(crate) fn close(&mut self, i: u32) {
        self.slots[i as usize].runs.clear();
        self.slots[i as usize].records = 0;
        self.free.push(i);
        self.live -= 1;
    }

    /// Slots in use (their indices).
    pub(crate) fn iter_live(&self) -> impl Iterator<Item = &Batch> {
        self.slots
            .iter()
            .filter(|b| b.records > 0 || !b.runs.is_empty())
    }
}

/// Why a buffer was flushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlushBy {
    /// It reached its size hint.
    Size,
    /// Its first record waited the interval (or the interval is zero).
    Interval,
}

/// Counters of a delivery stream (restarted at the end of the warm-up).
#[derive(Clone, Debug)]
pub(crate) struct FirehoseStats {
    /// Records accepted into the stream.
    pub(crate) records_in: u64,
    /// Bytes accepted.
    pub(crate) bytes_in: u64,
    /// Billed ingest bytes (each record rounded up to 5 KB).
    pub(crate) billed_bytes: u64,
    /// PutRecordBatch calls accepted (fully or partly).
    pub(crate) put_calls: u64,
    /// Records refused by the Direct PUT quotas (each attempt).
    pub(crate) throttled: u64,
    /// Records refused for their size (over 1,000 KiB).
    pub(crate) rejected: u64,
    /// Flushes by size.
    pub(crate) flushes_by_size: u64,
    /// Flushes by interval.
    pub(crate) flushes_by_interval: u64,
    /// Objects delivered: S3 objects, endpoint requests that succeeded, Redshift staged
    /// files.
    pub(crate) objects: u64,
    /// Sizes of the flushed objects, bytes.
    pub(crate) object_bytes: Histogram<u64>,
    /// Records landed at the destination.
    pub(crate) delivered: u64,
    /// Bytes landed at the destination.
    pub(crate) delivered_bytes: u64,
    /// Records written to the S3 backup or error output instead.
    pub(crate) backed_up: u64,
    /// Bytes of those.
    pub(crate) backed_up_bytes: u64,
    /// Records the transformation failed (part of `backed_up`).
    pub(crate) transform_failed: u64,
    /// Records beyond the active-partition quota (part of `backed_up`).
    pub(crate) partition_overflow: u64,
    /// Delivery attempts that failed.
    pub(crate) delivery_failures: u64,
    /// Delivery retries.
    pub(crate) delivery_retries: u64,
    /// Batches sent to the S3 backup after their retry duration.
    pub(crate) backups: u64,
    /// Redshift COPY commands run.
    pub(crate) copy_commands: u64,
    /// S3 PUT requests (objects, staged files, backup objects, and one error object per
    /// flush that follows records failed by the transformation or beyond the partition
    /// quota).
    pub(crate) s3_puts: u64,
    /// Lambda invocations of the transformation (retries included).
    pub(crate) invocations: u64,
    /// Invocations that failed.
    pub(crate) invocation_failures: u64,
    /// Σ invocation duration, ns.
    pub(crate) invoke_ns: u128,
    /// Freshness of delivered records (creation → landed).
    pub(crate) freshness: LatencyHist,
    /// Most active partitions at once.
    pub(crate) partitions_max: u64,
}

impl Default for FirehoseStats {
    fn default() -> Self {
        FirehoseStats {
            records_in: 0,
            bytes_in: 0,
            billed_bytes: 0,
            put_calls: 0,
            throttled: 0,
            rejected: 0,
            flushes_by_size: 0,
            flushes_by_interval: 0,
            objects: 0,
            // Grown as objects are recorded (the same buckets as a histogram bounded
            // at 2^40; allocating that range up front cost ~270 KB per stream).
            object_bytes: {
                let mut h =
                    Histogram::new_with_bounds(1, 2, 3).expect("static histogram bounds are valid");
                h.auto(true);
                h
            },
            delivered: 0,
            delivered_bytes: 0,
            backed_up: 0,
            backed_up_bytes: 0,
            transform_failed: 0,
            partition_overflow: 0,
            delivery_failures: 0,
            delivery_retries: 0,
            backups: 0,
            copy_commands: 0,
            s3_puts: 0,
            invocations: 0,
            invocation_failures: 0,
            invoke_ns: 0,
            freshness: LatencyHist::new(),
            partitions_max: 0,
        }
    }
}

/// A delivery stream at run time.
pub(crate) struct DeliveryStream {
    /// Its spec.
    pub(crate) spec: FirehoseSpec,
    /// Random stream.
    pub(crate) rng: SimRng,
    /// Direct PUT quotas: records, calls, bytes per second.
    pub(crate) quota: [Bucket; 3],
    /// Destination buffers (one per active partition; slot 0 without partitioning).
    pub(crate) buffers: Vec<Buffer>,
    /// Dynamic partitioning: the buffer of each active partition key.
    pub(crate) partition_of: HashMap<u32, u32>,
    /// Free buffer slots.
    pub(crate) free_buffers: Vec<u32>,
    /// The transformation's buffer.
    pub(crate) tbuf: Buffer,
    /// Invocations in progress or waiting.
    pub(crate) invocations: Batches,
    /// Invocations running now.
    pub(crate) running_invocations: u32,
    /// Invocations waiting for a free slot of the concurrency.
    pub(crate) waiting_invocations: VecDeque<u32>,
    /// Deliveries in progress, waiting, staged or loading.
    pub(crate) deliveries: Batches,
    /// Deliveries holding a slot of the destination's concurrency.
    pub(crate) running_deliveries: u32,
    /// Deliveries waiting for a slot.
    pub(crate) waiting_deliveries: VecDeque<u32>,
    /// Redshift: staged batches waiting for a COPY.
    pub(crate) staged: Vec<u32>,
    /// Redshift: the batches the running COPY loads (empty: no COPY running).
    pub(crate) copying: Vec<u32>,
    /// Records bound for the error output since the last flush: they are written as one
    /// error object with the next flush's.
    pub(crate) pending_errors: u64,
    /// Counters.
    pub(crate) stats: FirehoseStats,
}

impl DeliveryStream {
    /// A delivery stream holding nothing.
    pub(crate) fn new(spec: FirehoseSpec, rng: SimRng) -> Self {
        let lim = &spec.limits;
        let quota = [
            Bucket::new(lim.direct_put_records_per_s),
            Bucket::new(lim.direct_put_requests_per_s),
            Bucket::new(lim.direct_put_bytes_per_s.0),
        ];
        let partitioned = spec.active_partitions.is_some();
        DeliveryStream {
            spec,
            rng,
            quota,
            buffers: if partitioned {
                Vec::new()
            } else {
                vec![Buffer::default()]
            },
            partition_of: HashMap::new(),
            free_buffers: Vec::new(),
            tbuf: Buffer::default(),
            invocations: Batches::default(),
            running_invocations: 0,
            waiting_invocations: VecDeque::new(),
            deliveries: Batches::default(),
            running_deliveries: 0,
            waiting_deliveries: VecDeque::new(),
            staged: Vec::new(),
            copying: Vec::new(),
            pending_errors: 0,
            stats: FirehoseStats::default(),
        }
    }

    /// How many of `records` records (`bytes` bytes) in one call the Direct PUT quotas
    /// admit at `now` (0: the call itself is refused); takes the tokens.
    pub(crate) fn admit(&mut self, now: SimTime, records: u64, bytes: u64) -> u64 {
        if self.quota[1].available(now) < 1 {
            return 0;
        }
        // The call counts against the calls quota even when no record is admitted.
        self.quota[1].take(1);
        let by_records = self.quota[0].available(now);
        let by_bytes = self.quota[2].available(now);
        let per_record = (bytes / records.max(1)).max(1);
        let k = records.min(by_records).min(by_bytes / per_record);
        if k == 0 {
            return 0;
        }
        self.quota[0].take(k);
        self.quota[2].take(if k == records { bytes } else { k * per_record });
        k
    }

    /// The buffer of partition `key`: its slot, or None when the active-partition quota
    /// is reached (the record goes to the error output).
    pub(crate) fn buffer_for(&mut self, key: u32) -> Option<u32> {
        let Some(quota) = self.spec.active_partitions else {
            return Some(0);
        };
        if let Some(b) = self.partition_of.get(&key) {
            return Some(*b);
        }
        if self.partition_of.len() as u32 >= quota {
            return None;
        }
        let b = match self.free_buffers.pop() {
            Some(b) => b,
            None => {
                self.buffers.push(Buffer::default());
                (self.buffers.len() - 1) as u32
            }
        };
        self.buffers[b as usize].key = key;
        self.partition_of.insert(key, b);
        self.stats.partitions_max = self
            .stats
            .partitions_max
            .max(self.partition_of.len() as u64);
        Some(b)
    }

    /// Buffer `b` was flushed: with dynamic partitioning its partition is no longer active.
    pub(crate) fn release_buffer(&mut self, b: u32) {
        if self.spec.active_partitions.is_some() {
            let key = self.buffers[b as usize].key;
            self.partition_of.remove(&key);
            self.free_buffers.push(b);
        }
    }

    /// Creation of the oldest record not yet delivered (AWS's DataFreshness is `now` minus
    /// this).
    pub(crate) fn oldest(&self) -> Option<SimTime> {
        let mut oldest: Option<SimTime> = None;
        let mut see = |t: Option<SimTime>| {
            if let Some(t) = t {
                oldest = Some(oldest.map_or(t, |o| o.min(t)));
            }
        };
        for b in &self.buffers {
            see(b.oldest());
        }
        see(self.tbuf.oldest());
        for b in self.invocations.iter_live() {
            see(b.runs.iter().map(|r| r.first).min());
        }
        for b in self.deliveries.iter_live() {
            see(b.runs.iter().map(|r| r.first).min());
        }
        oldest
    }

    /// Records held in buffers (waiting), and in transformations and deliveries (in
    /// transit).
    pub(crate) fn census(&self) -> (u64, u64) {
        let waiting = self.buffers.iter().map(|b| b.records).sum::<u64>() + self.tbuf.records;
        let transit = self
            .invocations
            .iter_live()
            .chain(self.deliveries.iter_live())
            .map(|b| b.records)
            .sum();
        (waiting, transit)
    }

    /// Records and bytes in buffers now.
    pub(crate) fn buffered(&self) -> (u64, u64) {
        let r = self.buffers.iter().map(|b| b.records).sum::<u64>() + self.tbuf.records;
        let b = self.buffers.iter().map(|b| b.bytes).sum::<u64>() + self.tbuf.bytes;
        (r, b)
    }

    /// Restarts the counters (end of the warm-up).
    pub(crate) fn reset_stats(&mut self) {
        self.stats = FirehoseStats::default();
        self.stats.partitions_max = self.partition_of.len() as u64;
    }

    /// The component report (`kind = "firehose"`).
    pub(crate) fn report(&self, iterator_age_max_s: Option<f64>) -> ComponentReport {
        let s = &self.stats;
        let spec = &self.spec;
        let mut r = ComponentReport::new("firehose", &spec.name);
        r.text(
            "source",
            match spec.input {
                super::FirehoseInput::DirectPut => "direct_put",
                super::FirehoseInput::Kinesis(_) => "kinesis",
            },
        )
        .text("destination", spec.destination.kind.as_str())
        .real("buffer_size_bytes", spec.buffer_size as f64)
        .real("buffer_interval_s", spec.buffer_interval.as_secs_f64())
        .count("records_in", s.records_in)
        .count("bytes_in", s.bytes_in)
        .count("billed_bytes", s.billed_bytes)
        .count("put_calls", s.put_calls)
        .count("throttled", s.throttled)
        .count("rejected", s.rejected)
        .count("flushes_by_size", s.flushes_by_size)
        .count("flushes_by_interval", s.flushes_by_interval)
        .count("objects", s.objects)
        .real(
            "object_bytes_p50",
            s.object_bytes.value_at_quantile(0.5) as f64,
        )
        .real("object_bytes_max", s.object_bytes.max() as f64)
        .count("delivered", s.delivered)
        .count("delivered_bytes", s.delivered_bytes)
        .count("backed_up", s.backed_up)
        .count("transform_failed", s.transform_failed)
        .count("partition_overflow", s.partition_overflow)
        .count("delivery_failures", s.delivery_failures)
        .count("delivery_retries", s.delivery_retries)
        .count("backups", s.backups)
        .count("s3_puts", s.s3_puts)
        .latency("freshness_s", &s.freshness);
        if spec.transform.is_some() {
            r.count("invocations", s.invocations)
                .count("invocation_failures", s.invocation_failures);
        }
        if spec.active_partitions.is_some() {
            r.count("active_partitions_max", s.partitions_max);
        }
        if spec.destination.kind == DestinationKind::Redshift {
            r.count("copy_commands", s.copy_commands);
        }
        if let Some(age) = iterator_age_max_s {
            r.real("iterator_age_max_s", age);
        }
        r.headline(&[
            "records_in",
            "objects",
            "delivered",
            "backed_up",
            "freshness_s",
        ]);
        r
    }

    /// Σ invocation time × memory, GB-seconds (the transformation's Lambda bill).
    pub(crate) fn transform_gb_seconds(&self) -> f64 {
        let mb = self.spec.transform.as_ref().map_or(0, |t| t.memory_mb) as f64;
        self.stats.invoke_ns as f64 / 1e9 * mb / 1024.0
    }
}

/// Duration from `a` to `b`, zero if `b` is earlier.
#[inline]
pub(crate) fn since(a: SimTime, b: SimTime) -> SimDuration {
    SimDuration(b.0.saturating_sub(a.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_shares_bytes_and_times() {
        let r = Run {
            first: SimTime(0),
            last: SimTime(900),
            count: 10,
            bytes: 1000,
            billed: 51_200,
            key: 3,
        };
        let (a, b) = r.split(4);
        assert_eq!((a.count, b.count), (4, 6));
        assert_eq!(a.bytes + b.bytes, 1000);
        assert_eq!(a.billed + b.billed, 51_200);
        assert_eq!((a.first, a.last), (SimTime(0), SimTime(300)));
        assert_eq!((b.first, b.last), (SimTime(400), SimTime(900)));
        assert_eq!(b.key, 3);
    }

    #[test]
    fn fill_cuts_at_the_size() {
        let run = |count: u32, bytes: u64| Run {
            first: SimTime(0),
            last: SimTime(0),
            count,
            bytes,
            billed: 0,
            key: 0,
        };
        let mut b = Buffer::default();
        assert_eq!(b.fill(1000, run(3, 300)), Fill::Kept);
        // 10 records of 100 B: 7 fill the 700 B left; 3 are the rest.
        let Fill::Full(Some(rest)) = b.fill(1000, run(10, 1000)) else {
            panic!("the buffer is full")
        };
        assert_eq!(
            (b.records, b.bytes, rest.count, rest.bytes),
            (10, 1000, 3, 300)
        );
        // One record bigger than the size: taken whole.
        let mut b = Buffer::default();
        assert_eq!(b.fill(1000, run(1, 5000)), Fill::Full(None));
        assert_eq!(b.bytes, 5000);
    }

    #[test]
    fn bucket_refills_one_second() {
        let mut b = Bucket::new(100);
        assert_eq!(b.available(SimTime::ZERO), 100);
        b.take(100);
        assert_eq!(b.available(SimTime::ZERO), 0);
        assert_eq!(b.available(SimTime(500_000_000)), 50);
        // Never more than one second's worth.
        assert_eq!(b.available(SimTime(10_000_000_000)), 100);
    }
}
