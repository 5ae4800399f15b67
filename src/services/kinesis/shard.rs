//! A shard: its hash-key range, its records (stored compactly as runs), its write and read
//! budgets and the position of every reader in it.
//!
//! # Record storage
//!
//! A stream keeps every unexpired record some consumer has not read yet: at 50,000
//! records/s with a consumer down for an hour that is 180 million records, so records are
//! not stored one by one. A shard stores **runs**: consecutive records that arrived within a
//! short *merge window* of each other, kept as one 40-byte [`Run`] (arrival of the first
//! and last record, count, total bytes, total producer-side delay). Inside a run, record
//! `i` of `n` is taken to have arrived at `t0 + span·i/(n−1)` (evenly spaced: exact for
//! constant-rate producers) and to weigh `bytes/n`.
//!
//! The merge window is `lag/1024`, at least 1 ms and at most 4 s, where `lag` is the age
//! of the oldest record the slowest reader has not fetched (the age of the oldest stored
//! record when the shard has no reader). So while consumers keep up, runs hold the records
//! of one millisecond; when a consumer falls behind by an hour, runs span 3.5 s and a
//! shard holds about ten thousand of them instead of millions of records. The error this
//! adds to a record's latency is below `lag/1024`, i.e. under 0.1% of that latency — the
//! resolution of the latency histograms anyway.
//!
//! Positions are per-shard sequence numbers **of user records**: user record `k` of the
//! shard (from 0) has sequence number `k`. Without KPL-style aggregation a user record is
//! a Kinesis record; an aggregated Kinesis record of `n` user records takes `n`
//! consecutive numbers (like the KPL's sub-sequence numbers), so cursors, checkpoints,
//! expiry and the census count user records, while a run also counts its Kinesis records
//! (`krecs`) for the limits that count those: the write limit (one per aggregate) and
//! GetRecords' 10,000 records per call. Inside a run, user records are taken to be spread
//! evenly over its Kinesis records, and an aggregate's user records to have been created at
//! their mean creation time (the producer keeps the exact sum): mean latencies are exact,
//! the spread of up to `max_buffered` within one aggregate is not seen by the histograms.
//! A reader's [`Cursor`] holds its checkpoint, its fetch position and the records it holds
//! in flight.

use crate::services::firehose::bill::INGEST_ROUNDING_BYTES as FIREHOSE_UNIT_BYTES;
use crate::sim::{SimDuration, SimTime};
use std::collections::VecDeque;

/// Nanoseconds per second, as an `i128` for budget arithmetic.
const NS: i128 = 1_000_000_000;

/// A budget that refills continuously: a token bucket in exact integer arithmetic (tokens
/// are kept in units × 10⁹ so that a refill over any whole number of nanoseconds is exact).
/// The level may go below zero when a taker is allowed to overdraw it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    level: i128,
    rate: i128,
    cap: i128,
    last: SimTime,
}

impl Budget {
    /// A full budget of `cap` units refilled at `rate_per_s` units per second.
    pub(crate) fn new(rate_per_s: u64, cap: u64) -> Self {
        Budget {
            level: cap as i128 * NS,
            rate: rate_per_s as i128,
            cap: cap as i128 * NS,
            last: SimTime::ZERO,
        }
    }

    /// Brings the level up to `now`.
    #[inline]
    pub(crate) fn refill(&mut self, now: SimTime) {
        if now > self.last {
            let dt = (now.0 - self.last.0) as i128;
            self.level = (self.level + dt * self.rate).min(self.cap);
            self.last = now;
        }
    }

    /// True if `units` can be taken without going below zero.
    #[inline]
    pub(crate) fn has(&self, units: u64) -> bool {
        self.level >= units as i128 * NS
    }

    /// True if the level is above zero.
    #[inline]
    pub(crate) fn positive(&self) -> bool {
        self.level > 0
    }

    /// Takes `units` (the level may go negative).
    #[inline]
    pub(crate) fn take(&mut self, units: u64) {
        self.level -= units as i128 * NS;
    }

    /// Time from `now` (after a refill) until the level reaches `units`.
    #[cfg(test)]
    pub(crate) fn time_until(&self, units: u64) -> SimDuration {
        let need = units as i128 * NS - self.level;
        if need <= 0 || self.rate == 0 {
            return SimDuration::ZERO;
        }
        let ns = (need + self.rate - 1) / self.rate;
        SimDuration(ns.min(u64::MAX as i128) as u64)
    }

    /// Time until the level is above zero.
    pub(crate) fn time_until_positive(&self) -> SimDuration {
        if self.level > 0 || self.rate == 0 {
            return SimDuration::ZERO;
        }
        let ns = (-self.level) / self.rate + 1;
        SimDuration(ns.min(u64::MAX as i128) as u64)
    }
}

/// Consecutive records of a shard stored as one entry (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    /// Sequence number of the first record.
    pub(crate) seq0: u64,
    /// Arrival of the first record.
    pub(crate) t0: SimTime,
    /// Arrival of the last record − `t0`, ns.
    pub(crate) span: u32,
    /// User records.
    pub(crate) count: u32,
    /// Total bytes (data blob + partition key) of the records.
    pub(crate) bytes: u64,
    /// Σ over the user records of (arrival at the stream − creation at the producer), ns.
    pub(crate) lead: u64,
    /// Kinesis records (equal to `count` without aggregation).
    pub(crate) krecs: u32,
    /// Σ over the Kinesis records of their size in 5 KB units (at least 1 each): what
    /// Firehose bills a Kinesis source's records by.
    pub(crate) units_5k: u64,
}

impl Run {
    /// Arrival of record `i` of the run.
    #[inline]
    pub(crate) fn time_of(&self, i: u32) -> SimTime {
        if self.count <= 1 || i == 0 {
            return self.t0;
        }
        let off = self.span as u128 * i as u128 / (self.count - 1) as u128;
        SimTime(self.t0.0 + off as u64)
    }

    /// Bytes of records `0..i` of the run.
    #[inline]
    fn bytes_before(&self, i: u32) -> u64 {
        (self.bytes as u128 * i as u128 / self.count as u128) as u64
    }

    /// 5 KB units of records `0..i` of the run.
    #[inline]
    fn units_before(&self, i: u32) -> u64 {
        (self.units_5k as u128 * i as u128 / self.count as u128) as u64
    }

    /// Producer-side delay of records `0..i` of the run.
    #[inline]
    fn lead_before(&self, i: u32) -> u64 {
        (self.lead as u128 * i as u128 / self.count as u128) as u64
    }

    /// Kinesis records among user records `0..i` of the run (rounded up: a piece of an
    /// aggregate counts as the aggregate).
    #[inline]
    fn krecs_before(&self, i: u32) -> u32 {
        if self.krecs == self.count {
            return i;
        }
        (self.krecs as u64 * i as u64).div_ceil(self.count.max(1) as u64) as u32
    }

    /// Records of the run that arrived at or before `c`: the records `i` with
    /// `time_of(i) <= c`. `time_of` rounds down, so record `i` has arrived by `c` exactly
    /// when `span·i < (c − t0 + 1)·(count − 1)`; counting with the same rounding keeps the
    /// two consistent (a reader told that a record arrived at `t` finds it at `t`).
    #[inline]
    fn count_until(&self, c: SimTime) -> u32 {
        if c < self.t0 {
            0
        } else if self.count <= 1 || self.span == 0 {
            self.count
        } else {
            let n1 = (self.count - 1) as u128;
            let span = self.span as u128;
            let k = ((c.0 - self.t0.0) as u128 + 1) * n1;
            k.div_ceil(span).min(self.count as u128) as u32
        }
    }

    /// The largest `j` with `bytes_before(j) <= limit`.
    #[inline]
    fn index_within_bytes(&self, limit: u64) -> u32 {
        if self.bytes == 0 {
            return self.count;
        }
        let j = ((limit as u128 + 1) * self.count as u128 - 1) / self.bytes as u128;
        j.min(self.count as u128) as u32
    }
}

/// A piece of a run handed to a reader: `count` records that arrived from `t_first` to
/// `t_last` (evenly spaced), with their bytes and producer-side delay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Slice {
    /// Arrival of the first record.
    pub(crate) t_first: SimTime,
    /// Arrival of the last record.
    pub(crate) t_last: SimTime,
    /// Records.
    pub(crate) count: u32,
    /// Bytes.
    pub(crate) bytes: u64,
    /// Σ (arrival − creation), ns.
    pub(crate) lead: u64,
    /// Kinesis records (equal to `count` without aggregation).
    pub(crate) krecs: u32,
    /// Their size in 5 KB units (see [`Run::units_5k`]).
    pub(crate) units_5k: u64,
}

impl Slice {
    /// Mid-point of the arrivals (the time used for the slice's latencies).
    #[inline]
    pub(crate) fn t_mid(&self) -> SimTime {
        SimTime(self.t_first.0 + (self.t_last.0 - self.t_first.0) / 2)
    }

    /// Mean producer-side delay of a record of the slice.
    #[inline]
    pub(crate) fn mean_lead(&self) -> SimDuration {
        SimDuration(self.lead / self.count.max(1) as u64)
    }

    /// Splits the slice after its first `k` records (`0 < k < count`), keeping the even
    /// spacing of arrivals and sharing bytes and delay in proportion.
    pub(crate) fn split(self, k: u32) -> (Slice, Slice) {
        let n = self.count as u64;
        let span = (self.t_last.0 - self.t_first.0) as u128;
        let at =
            |i: u64| SimTime(self.t_first.0 + (span * i as u128 / (n - 1).max(1) as u128) as u64);
        let bytes_a = (self.bytes as u128 * k as u128 / n as u128) as u64;
        let lead_a = (self.lead as u128 * k as u128 / n as u128) as u64;
        let units_a = (self.units_5k as u128 * k as u128 / n as u128) as u64;
        let krecs_a = if self.krecs == self.count {
            k
        } else {
            ((self.krecs as u64 * k as u64).div_ceil(n) as u32).min(self.krecs)
        };
        (
            Slice {
                t_first: self.t_first,
                t_last: at(k as u64 - 1),
                count: k,
                bytes: bytes_a,
                lead: lead_a,
                krecs: krecs_a,
                units_5k: units_a,
            },
            Slice {
                t_first: at(k as u64),
                t_last: self.t_last,
                count: self.count - k,
                bytes: self.bytes - bytes_a,
                lead: self.lead - lead_a,
                krecs: self.krecs - krecs_a,
                units_5k: self.units_5k - units_a,
            },
        )
    }
}

/// Moves user records from the front of `q` (splitting a slice if needed) to `out` until
/// `n` Kinesis records have moved; returns (user records, Kinesis records) moved. Without
/// aggregation the two are equal and this is [`take_front`].
pub(crate) fn take_front_krecs(
    q: &mut VecDeque<Slice>,
    n: u64,
    out: &mut Vec<Slice>,
) -> (u64, u64) {
    let (mut users, mut moved) = (0, 0);
    while moved < n {
        let Some(front) = q.front_mut() else { break };
        let want = n - moved;
        if front.krecs as u64 <= want {
            moved += front.krecs as u64;
            users += front.count as u64;
            out.push(*front);
            q.pop_front();
        } else {
            let k = ((front.count as u64 * want) / front.krecs.max(1) as u64)
                .clamp(1, front.count as u64 - 1) as u32;
            let (a, b) = front.split(k);
            moved += a.krecs as u64;
            users += a.count as u64;
            out.push(a);
            *front = b;
            if a.krecs == 0 {
                moved += 1;
            }
        }
    }
    (users, moved)
}

/// Moves the first `n` records of `q` (splitting a slice if needed) to `out`; returns the
/// records moved.
pub(crate) fn take_front(q: &mut VecDeque<Slice>, n: u64, out: &mut Vec<Slice>) -> u64 {
    let mut moved = 0;
    while moved < n {
        let Some(front) = q.front_mut() else { break };
        let want = n - moved;
        if front.count as u64 <= want {
            moved += front.count as u64;
            out.push(*front);
            q.pop_front();
        } else {
            let (a, b) = front.split(want as u32);
            out.push(a);
            *front = b;
            moved += want;
        }
    }
    moved
}

/// One reader's position in a shard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// Checkpoint: every record before it has been processed by this reader (or was lost).
    pub(crate) done: u64,
    /// Next record to fetch.
    pub(crate) fetched: u64,
    /// Records fetched and not yet processed (or lost).
    pub(crate) inflight: u64,
    /// Records this reader lost to retention in this shard (reset at the warm-up).
    pub(crate) expired: u64,
}

/// What a read returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReadOut {
    /// User records.
    pub(crate) records: u64,
    /// Kinesis records (equal to `records` without aggregation).
    pub(crate) krecs: u64,
    /// Bytes.
    pub(crate) bytes: u64,
    /// Arrival of the last record returned.
    pub(crate) last_arrival: SimTime,
}

/// Counters of one shard (reset at the warm-up, except the interval counters).
#[derive(Clone, Debug, Default)]
pub(crate) struct ShardStats {
    /// Kinesis records accepted.
    pub(crate) records_in: u64,
    /// User records in them (equal to `records_in` without aggregation).
    pub(crate) users_in: u64,
    /// Bytes accepted (data + partition keys).
    pub(crate) bytes_in: u64,
    /// Records refused with `ProvisionedThroughputExceededException`.
    pub(crate) throttled: u64,
    /// Bytes accepted since the last time-series sample.
    pub(crate) sample_bytes: u64,
    /// Records accepted since the last time-series sample.
    pub(crate) sample_records: u64,
    /// Bytes offered (accepted or refused) since the last on-demand evaluation.
    pub(crate) eval_bytes: u64,
    /// Records offered since the last on-demand evaluation.
    pub(crate) eval_records: u64,
}

/// Per-record entry of the optional key log used to verify per-key ordering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyMark {
    /// `producer << 32 | key id`.
    pub(crate) key: u64,
    /// Sequence of the record among its producer's records with that key (from 0).
    pub(crate) kseq: u32,
}

/// A shard.
#[derive(Clone, Debug)]
pub(crate) struct Shard {
    /// Shard id (`shardId-00000000000N` in AWS's numbering: creation order).
    pub(crate) id: u32,
    /// First hash key of its range.
    pub(crate) start: u128,
    /// Last hash key of its range (inclusive).
    pub(crate) end: u128,
    /// Shards it was split or merged from.
    pub(crate) parents: Vec<u32>,
    /// Shards it was split or merged into.
    pub(crate) children: Vec<u32>,
    /// Accepts writes.
    pub(crate) open: bool,
    /// When it was created.
    pub(crate) opened_at: SimTime,
    /// When it was closed by resharding.
    pub(crate) closed_at: Option<SimTime>,
    runs: VecDeque<Run>,
    keys: VecDeque<KeyMark>,
    keys_base: u64,
    head: u64,
    tail: u64,
    window: u64,
    window_until: SimTime,
    /// The arrival of the oldest record a reader has not fetched, as last looked up:
    /// (sequence number, arrival). Kept only while that record's run is not the last one
    /// (earlier runs never change), so a shard holding many runs (a reader behind, or one
    /// that checkpoints late) does not search them on every new run.
    oldest_arrival: Option<(u64, SimTime)>,
    write_bytes: Budget,
    write_records: Budget,
    read_calls: Budget,
    read_bytes: Budget,
    read_blocked_until: SimTime,
    /// Position of each reader of the stream, by reader slot.
    pub(crate) cursors: Vec<Cursor>,
    /// Enhanced fan-out readers (bit = reader slot) waiting for data in this shard.
    pub(crate) efo_waiting: u64,
    /// Split scheduled by on-demand scaling.
    pub(crate) split_pending: bool,
    /// Counters.
    pub(crate) stats: ShardStats,
}

/// Shortest merge window, ns.
const MIN_WINDOW_NS: u64 = 1_000_000;
/// Longest merge window, ns (a run's span must fit a `u32`).
const MAX_WINDOW_NS: u64 = 4_000_000_000;

/// The per-shard limits a shard enforces, in plain units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ShardLimits {
    /// Write bytes per second.
    pub(crate) write_bytes_per_s: u64,
    /// Write records per second.
    pub(crate) write_records_per_s: u64,
    /// Write budget size, bytes.
    pub(crate) write_burst_bytes: u64,
    /// Write budget size, records.
    pub(crate) write_burst_records: u64,
    /// Shared read bytes per second.
    pub(crate) read_bytes_per_s: u64,
    /// Shared read calls per second.
    pub(crate) read_calls_per_s: u64,
    /// A read returning this many bytes blocks further reads for `read_penalty`.
    pub(crate) read_max_bytes: u64,
    /// See `read_max_bytes`.
    pub(crate) read_penalty: SimDuration,
}

impl Shard {
    /// A new, empty, open shard owning `[start, end]`, with `readers` reader slots.
    pub(crate) fn new(
        id: u32,
        start: u128,
        end: u128,
        parents: Vec<u32>,
        now: SimTime,
        readers: usize,
        lim: &ShardLimits,
    ) -> Self {
        let mut write_bytes = Budget::new(lim.write_bytes_per_s, lim.write_burst_bytes);
        let mut write_records = Budget::new(lim.write_records_per_s, lim.write_burst_records);
        // The read budget holds one second's worth: a call may overdraw it (up to the
        // 10 MiB a call returns), and no call passes until it is above zero again.
        let mut read_bytes = Budget::new(lim.read_bytes_per_s, lim.read_bytes_per_s);
        let mut read_calls = Budget::new(lim.read_calls_per_s, lim.read_calls_per_s);
        for b in [
            &mut write_bytes,
            &mut write_records,
            &mut read_bytes,
            &mut read_calls,
        ] {
            b.last = now;
        }
        Shard {
            id,
            start,
            end,
            parents,
            children: Vec::new(),
            open: true,
            opened_at: now,
            closed_at: None,
            runs: VecDeque::new(),
            keys: VecDeque::new(),
            keys_base: 0,
            head: 0,
            tail: 0,
            window: MIN_WINDOW_NS,
            window_until: SimTime::ZERO,
            oldest_arrival: None,
            write_bytes,
            write_records,
            read_calls,
            read_bytes,
            read_blocked_until: SimTime::ZERO,
            cursors: vec![Cursor::default(); readers],
            efo_waiting: 0,
            split_pending: false,
            stats: ShardStats::default(),
        }
    }

    /// Sequence number of the first unexpired record still stored.
    pub(crate) fn head(&self) -> u64 {
        self.head
    }

    /// Runs stored (for memory reporting).
    pub(crate) fn runs_len(&self) -> usize {
        self.runs.len()
    }

    /// Admits a record of `bytes` (data + partition key) at `now` if both write budgets
    /// allow it, taking from them; counts a throttle otherwise.
    #[inline]
    pub(crate) fn admit_write(&mut self, now: SimTime, bytes: u64) -> bool {
        self.stats.eval_bytes += bytes;
        self.stats.eval_records += 1;
        self.write_bytes.refill(now);
        self.write_records.refill(now);
        if self.open && self.write_bytes.has(bytes) && self.write_records.has(1) {
            self.write_bytes.take(bytes);
            self.write_records.take(1);
            true
        } else {
            self.stats.throttled += 1;
            false
        }
    }

    /// Stores an admitted Kinesis record of `users` user records (1 without aggregation)
    /// that arrived at `now`; `lead` is Σ over its user records of (arrival − creation),
    /// ns; `marks` are their key marks (key tracking only; else empty).
    #[inline]
    pub(crate) fn append(
        &mut self,
        now: SimTime,
        bytes: u64,
        users: u32,
        lead: u64,
        marks: &[KeyMark],
    ) {
        let users = users.max(1);
        let units = bytes.div_ceil(FIREHOSE_UNIT_BYTES).max(1);
        self.stats.records_in += 1;
        self.stats.users_in += users as u64;
        self.stats.bytes_in += bytes;
        self.stats.sample_bytes += bytes;
        self.stats.sample_records += 1;
        if !marks.is_empty() {
            if self.keys.is_empty() {
                self.keys_base = self.tail;
            }
            self.keys.extend(marks.iter().copied());
        }
        let seq = self.tail;
        self.tail += users as u64;
        if let Some(r) = self.runs.back_mut() {
            let dt = now.0 - r.t0.0;
            if dt <= self.window
                && r.count.checked_add(users).is_some()
                && r.bytes.checked_add(bytes).is_some()
                && r.lead.checked_add(lead).is_some()
            {
                r.count += users;
                r.krecs += 1;
                r.units_5k += units;
                r.span = dt as u32;
                r.bytes += bytes;
                r.lead += lead;
                return;
            }
        }
        // The reader lag moves slowly: re-measure it at most once per window.
        if now >= self.window_until {
            self.window = self.merge_window(now);
            self.window_until = now + SimDuration(self.window);
        }
        self.runs.push_back(Run {
            seq0: seq,
            t0: now,
            span: 0,
            count: users,
            bytes,
            lead,
            krecs: 1,
            units_5k: units,
        });
    }

    /// The merge window for a run starting at `now` (see the module docs).
    fn merge_window(&mut self, now: SimTime) -> u64 {
        let oldest = if self.cursors.is_empty() {
            self.head
        } else {
            self.cursors
                .iter()
                .map(|c| c.fetched)
                .min()
                .unwrap_or(self.tail)
                .max(self.head)
        };
        let arrival = match self.oldest_arrival {
            Some((seq, t)) if seq == oldest => Some(t),
            _ => {
                self.oldest_arrival = None;
                self.run_index(oldest).map(|i| {
                    let r = &self.runs[i];
                    let t = r.time_of((oldest - r.seq0) as u32);
                    if i + 1 < self.runs.len() {
                        self.oldest_arrival = Some((oldest, t));
                    }
                    t
                })
            }
        };
        let lag = match arrival {
            Some(t) => now.0.saturating_sub(t.0),
            None => 0,
        };
        (lag / 1024).clamp(MIN_WINDOW_NS, MAX_WINDOW_NS)
    }

    /// Index in `runs` of the run holding sequence number `seq`.
    #[inline]
    fn run_index(&self, seq: u64) -> Option<usize> {
        let i = self.runs.partition_point(|r| r.seq0 <= seq);
        if i == 0 {
            return None;
        }
        let r = &self.runs[i - 1];
        if seq < r.seq0 + r.count as u64 {
            Some(i - 1)
        } else {
            None
        }
    }

    /// Arrival time of the stored record `seq`.
    pub(crate) fn arrival_of(&self, seq: u64) -> Option<SimTime> {
        let i = self.run_index(seq)?;
        let r = &self.runs[i];
        Some(r.time_of((seq - r.seq0) as u32))
    }

    /// Age at `now` of the oldest record this reader has not fetched (zero when it has
    /// fetched everything): the lag behind the tip of the shard.
    pub(crate) fn lag(&self, slot: usize, now: SimTime) -> SimDuration {
        let from = self.cursors[slot].fetched.max(self.head);
        match self.arrival_of(from) {
            Some(t) => now - t,
            None => SimDuration::ZERO,
        }
    }

    /// Removes records older than `retention` at `now`. For each reader, the records it had
    /// not fetched are counted in its cursor's `expired`. Returns the record copies lost:
    /// the sum over readers, or the records removed when the shard has no reader.
    pub(crate) fn expire(&mut self, now: SimTime, retention: SimDuration) -> u64 {
        if now.0 < retention.0 {
            return 0;
        }
        let cutoff = SimTime(now.0 - retention.0);
        let mut lost = 0;
        while let Some(r) = self.runs.front().copied() {
            let k = r.count_until(cutoff);
            let new_head = r.seq0 + k as u64;
            if new_head > self.head {
                lost += self.account_expiry(self.head, new_head);
                self.head = new_head;
            }
            if k == r.count {
                self.runs.pop_front();
            } else {
                break;
            }
        }
        self.trim_keys();
        lost
    }

    fn account_expiry(&mut self, old: u64, new: u64) -> u64 {
        if self.cursors.is_empty() {
            return new - old;
        }
        let mut lost = 0;
        for c in &mut self.cursors {
            if c.fetched < new {
                let n = new - c.fetched.max(old);
                c.expired += n;
                lost += n;
                c.fetched = new;
                if c.inflight == 0 {
                    c.done = new;
                }
            }
        }
        lost
    }

    /// Reader `slot` fetched `records` records from its fetch position.
    #[inline]
    pub(crate) fn mark_fetched(&mut self, slot: usize, records: u64) {
        let head = self.head;
        let c = &mut self.cursors[slot];
        c.fetched = c.fetched.max(head) + records;
        c.inflight += records;
    }

    /// Reader `slot` processed everything it fetched: its checkpoint moves to its fetch
    /// position (records skipped by expiry in between were counted as expired). Returns
    /// the records processed.
    #[inline]
    pub(crate) fn checkpoint(&mut self, slot: usize) -> u64 {
        let c = &mut self.cursors[slot];
        let n = c.inflight;
        c.done = c.fetched;
        c.inflight = 0;
        n
    }

    /// Reader `slot` processed the first `k` records it holds in flight: its checkpoint
    /// moves past them (the rest stay in flight). Returns `k`.
    pub(crate) fn checkpoint_prefix(&mut self, slot: usize, k: u64) -> u64 {
        let c = &mut self.cursors[slot];
        let k = k.min(c.inflight);
        c.done += k;
        c.inflight -= k;
        k
    }

    /// Reader `slot` abandons what it holds in flight and will read again from its
    /// checkpoint. Records of the abandoned batch that expired meanwhile cannot be read
    /// again: they are counted in its `expired` and returned.
    pub(crate) fn rewind(&mut self, slot: usize) -> u64 {
        let head = self.head;
        let c = &mut self.cursors[slot];
        let lost = head.saturating_sub(c.done).min(c.inflight);
        c.expired += lost;
        c.done += lost;
        c.inflight = 0;
        c.fetched = c.done.max(head);
        lost
    }

    /// Reader `slot` finished with `n` records it held in flight (processed, or lost).
    #[inline]
    pub(crate) fn settle(&mut self, slot: usize, n: u64) {
        let c = &mut self.cursors[slot];
        c.inflight -= n.min(c.inflight);
    }

    /// Reader `slot` hands its fetched records over to its own buffers (a Lambda
    /// mapping): the checkpoint moves with the fetch position at once.
    pub(crate) fn release(&mut self, slot: usize) {
        let c = &mut self.cursors[slot];
        c.done = c.fetched;
    }

    /// Drops stored records that no reader needs any more (processed by every reader, or
    /// expired). Call after checkpoints.
    pub(crate) fn trim(&mut self) {
        let keep_from = match self.cursors.iter().map(|c| c.done).min() {
            Some(d) => d.max(self.head),
            None => self.head,
        };
        while let Some(r) = self.runs.front() {
            if r.seq0 + r.count as u64 <= keep_from {
                self.runs.pop_front();
            } else {
                break;
            }
        }
        self.head = keep_from.max(self.head);
        self.trim_keys();
    }

    fn trim_keys(&mut self) {
        let keep_from = match self.cursors.iter().map(|c| c.done).min() {
            Some(d) => d.min(self.head),
            None => self.head,
        };
        while self.keys_base < keep_from && !self.keys.is_empty() {
            self.keys.pop_front();
            self.keys_base += 1;
        }
    }

    /// The key marks of records `from..to` (only with key tracking on).
    pub(crate) fn key_marks(&self, from: u64, to: u64) -> impl Iterator<Item = KeyMark> + '_ {
        let a = from.saturating_sub(self.keys_base) as usize;
        let b = to.saturating_sub(self.keys_base) as usize;
        self.keys
            .range(a.min(self.keys.len())..b.min(self.keys.len()))
            .copied()
    }

    /// Checks the shared read limits for a GetRecords call at `now`: the 5 calls/s, the
    /// 2 MiB/s (the budget must be above zero) and the penalty after a 10 MiB read. Takes
    /// one call from the budget when admitted.
    pub(crate) fn admit_read(&mut self, now: SimTime) -> bool {
        self.read_calls.refill(now);
        self.read_bytes.refill(now);
        if now < self.read_blocked_until || !self.read_calls.has(1) || !self.read_bytes.positive() {
            return false;
        }
        self.read_calls.take(1);
        true
    }

    /// Charges a GetRecords call that returned `bytes` to the shared read budget.
    pub(crate) fn charge_read(&mut self, now: SimTime, bytes: u64, lim: &ShardLimits) {
        self.read_bytes.take(bytes);
        if bytes >= lim.read_max_bytes {
            self.read_blocked_until = now + lim.read_penalty;
        }
    }

    /// Reads from sequence number `from` (at or after the head) at most `max_records`
    /// Kinesis records and `max_bytes` bytes (but always the first record, if any) that
    /// arrived at or before `cutoff`, appending one slice per run touched to `out`.
    pub(crate) fn read(
        &self,
        from: u64,
        max_records: u64,
        max_bytes: u64,
        cutoff: SimTime,
        out: &mut Vec<Slice>,
    ) -> ReadOut {
        let mut res = ReadOut::default();
        let from = from.max(self.head);
        let Some(mut i) = self.run_index(from) else {
            return res;
        };
        let mut seq = from;
        while i < self.runs.len() && res.krecs < max_records {
            let r = &self.runs[i];
            let a = (seq - r.seq0) as u32;
            let mut b = r.count_until(cutoff).min(r.count);
            let left_k = max_records - res.krecs;
            // User records in `left_k` Kinesis records of this run.
            let left = if r.krecs == r.count {
                left_k
            } else {
                (left_k as u128 * r.count as u128).div_ceil(r.krecs.max(1) as u128) as u64
            }
            .min(u32::MAX as u64) as u32;
            b = b.min(a.saturating_add(left));
            // Bytes: the first record always; then as many as fit.
            let budget = max_bytes.saturating_sub(res.bytes);
            let by_bytes = r.index_within_bytes(r.bytes_before(a).saturating_add(budget));
            let floor = if res.records == 0 { a + 1 } else { a };
            b = b.min(by_bytes.max(floor));
            if b <= a {
                break;
            }
            let bytes = r.bytes_before(b) - r.bytes_before(a);
            let s = Slice {
                t_first: r.time_of(a),
                t_last: r.time_of(b - 1),
                count: b - a,
                bytes,
                lead: r.lead_before(b) - r.lead_before(a),
                krecs: r.krecs_before(b) - r.krecs_before(a),
                units_5k: r.units_before(b) - r.units_before(a),
            };
            out.push(s);
            res.records += s.count as u64;
            res.krecs += s.krecs as u64;
            res.bytes += bytes;
            res.last_arrival = s.t_last;
            seq += s.count as u64;
            if b < r.count {
                break;
            }
            i += 1;
        }
        res
    }

    /// Closes the shard to writes (resharding).
    pub(crate) fn close(&mut self, now: SimTime) {
        self.open = false;
        self.closed_at = Some(now);
    }

    /// True when reader `slot` has processed (or lost) every record of this closed shard.
    pub(crate) fn drained_by(&self, slot: usize) -> bool {
        !self.open && self.cursors[slot].done.max(self.head) >= self.tail
    }

    /// Records stored and not yet expired.
    pub(crate) fn stored(&self) -> u64 {
        self.tail - self.head
    }

    /// End-of-run census of reader `slot`: (in flight, waiting).
    pub(crate) fn census(&self, slot: usize) -> (u64, u64) {
        let c = &self.cursors[slot];
        (c.inflight, self.tail - c.fetched.max(self.head))
    }

    /// Resets the counters at the end of the warm-up.
    pub(crate) fn reset_stats(&mut self) {
        let eval_bytes = self.stats.eval_bytes;
        let eval_records = self.stats.eval_records;
        self.stats = ShardStats {
            eval_bytes,
            eval_records,
            ..ShardStats::default()
        };
        for c in &mut self.cursors {
            c.expired = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> ShardLimits {
        ShardLimits {
            write_bytes_per_s: 1 << 20,
            write_records_per_s: 1000,
            write_burst_bytes: 10 << 20,
            write_burst_records: 1000,
            read_bytes_per_s: 2 << 20,
            read_calls_per_s: 5,
            read_max_bytes: 10 << 20,
            read_penalty: SimDuration::from_secs(5),
        }
    }

    #[test]
    fn a_record_has_arrived_at_its_own_arrival_time() {
        // `time_of` rounds down; `count_until` used to round the other way, so a record
        // could be reported as not yet arrived at its own arrival time (10 ns over 3 gaps:
        // record 1 arrives at 3 ns, but 3 ns counted only record 0). An enhanced fan-out
        // push due exactly then found nothing, rescheduled itself at the same instant, and
        // the run never ended.
        for (count, span) in [(4u32, 10u32), (10, 3), (7, 1_000_003), (2, 1), (1000, 999)] {
            let r = Run {
                seq0: 0,
                t0: SimTime(100),
                span,
                count,
                bytes: 1000,
                lead: 0,
                krecs: count,
                units_5k: count as u64,
            };
            for i in 0..count {
                let t = r.time_of(i);
                assert!(r.count_until(t) > i, "{count}/{span}: record {i} at {t:?}");
                if t.0 > r.t0.0 {
                    // Just before it, record i has not arrived (times are non-decreasing).
                    let before = r.count_until(SimTime(t.0 - 1));
                    assert!(before <= i, "{count}/{span}: record {i} before {t:?}");
                }
            }
            assert_eq!(r.count_until(SimTime(99)), 0);
            assert_eq!(r.count_until(SimTime(100 + span as u64)), count);
        }
    }

    #[test]
    fn budget_refills_exactly() {
        let mut b = Budget::new(1000, 1000);
        for _ in 0..1000 {
            assert!(b.has(1));
            b.take(1);
        }
        assert!(!b.has(1));
        // 1 ms later exactly one token is back.
        b.refill(SimTime(1_000_000));
        assert!(b.has(1));
        b.take(1);
        assert!(!b.has(1));
        assert_eq!(b.time_until(1), SimDuration(1_000_000));
    }

    #[test]
    fn a_ten_mib_record_needs_the_full_tank() {
        // The tank holds 10 MiB and refills at 1 MiB/s: one 10 MiB record passes, the
        // next one needs 10 s.
        let mut s = Shard::new(0, 0, u128::MAX, vec![], SimTime::ZERO, 0, &lim());
        assert!(s.admit_write(SimTime::ZERO, 10 << 20));
        assert!(!s.admit_write(SimTime(5_000_000_000), 10 << 20));
        assert!(s.admit_write(SimTime(10_000_000_000), 10 << 20));
    }

    #[test]
    fn shared_reads_five_calls_per_second_and_the_ten_mib_penalty() {
        let l = lim();
        let mut s = Shard::new(0, 0, u128::MAX, vec![], SimTime::ZERO, 2, &l);
        // Five calls pass in the same instant, the sixth is refused.
        for _ in 0..5 {
            assert!(s.admit_read(SimTime::ZERO));
        }
        assert!(!s.admit_read(SimTime::ZERO));
        // A call that returns 10 MiB blocks reads for 5 s, even once the call budget and
        // the byte budget (2 MiB − 10 MiB + 2 MiB/s × 4.5 s > 0) would allow them.
        let t = SimTime(1_000_000_000);
        assert!(s.admit_read(t));
        s.charge_read(t, 10 << 20, &l);
        assert!(!s.admit_read(SimTime(5_500_000_000)));
        assert!(s.admit_read(SimTime(6_000_000_000)));
    }

    #[test]
    fn runs_interpolate_and_expire_exactly() {
        // One reader, which never reads: a record every 100 ms for 1,000 s. Its lag grows,
        // so once it passes 1024 × 100 ms ≈ 102 s records merge into runs. With a 100 s
        // retention, at t = 500.05 s the records of t <= 400.05 s (k = 0..=4000, 4,001 of
        // them) have expired, whatever runs they were merged into.
        let mut s = Shard::new(0, 0, u128::MAX, vec![], SimTime::ZERO, 1, &lim());
        for k in 0..10_000u64 {
            let t = SimTime(k * 100_000_000);
            assert!(s.admit_write(t, 100));
            s.append(t, 100, 1, 0, &[]);
        }
        assert!(s.runs_len() < 5_000, "runs merged: {}", s.runs_len());
        let lost = s.expire(SimTime(500_050_000_000), SimDuration::from_secs(100));
        assert_eq!(lost, 4001);
        assert_eq!(s.head(), 4001);
        assert_eq!(s.cursors[0].expired, 4001);
        assert_eq!(s.arrival_of(4001), Some(SimTime(400_100_000_000)));
        for k in [4001u64, 5000, 7777, 9999] {
            assert_eq!(
                s.arrival_of(k),
                Some(SimTime(k * 100_000_000)),
                "record {k}"
            );
        }
        let mut out = Vec::new();
        let r = s.read(0, 10, u64::MAX, SimTime::MAX, &mut out);
        assert_eq!(r.records, 10);
        assert_eq!(r.bytes, 1000);
        assert_eq!(out[0].t_first, SimTime(400_100_000_000));
        assert_eq!(r.last_arrival, SimTime(401_000_000_000));
    }

    #[test]
    fn reads_respect_bytes_records_and_cutoff() {
        let mut s = Shard::new(0, 0, u128::MAX, vec![], SimTime::ZERO, 1, &lim());
        for _ in 0..10 {
            s.append(SimTime::ZERO, 1000, 1, 0, &[]);
        }
        let mut out = Vec::new();
        // 2,500 bytes: two records fit.
        let r = s.read(0, 100, 2500, SimTime::MAX, &mut out);
        assert_eq!((r.records, r.bytes), (2, 2000));
        // At least one record even when it does not fit.
        out.clear();
        let r = s.read(3, 100, 10, SimTime::MAX, &mut out);
        assert_eq!((r.records, r.bytes), (1, 1000));
        // Nothing arrived before the cutoff.
        out.clear();
        s.append(SimTime(1_000_000_000), 1000, 1, 0, &[]);
        let r = s.read(0, 100, u64::MAX, SimTime(500), &mut out);
        assert_eq!(r.records, 10);
    }
}
