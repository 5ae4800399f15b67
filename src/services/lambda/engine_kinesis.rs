//! Lambda event source mappings on Kinesis streams.
//!
//! # What is modelled
//!
//! As AWS documents (<https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>),
//! the mapping reads every shard with GetRecords on the shard's shared throughput, about
//! once per second per shard (`POLL_INTERVAL`, a modelling default), each call returning
//! up to 10,000 records; it buffers at most `max(10,000, factor × batch_size)` records per
//! shard and stops polling while the buffer is full. The shard's records are spread over
//! `parallelization_factor` lanes (1–10); each lane invokes the function on one batch at a
//! time, in order, so up to `factor` batches per shard run at once.
//!
//! A lane invokes when it holds `batch_size` records, when its first record has waited
//! `batching_window`, or when the payload reaches the 6 MB synchronous-invoke limit. The
//! invocation uses the function runtime of `services::lambda::function` (concurrency, cold
//! starts, timeout, GB-seconds). A throttled invoke is retried after the runtime's back-off.
//!
//! When a record fails (or the invocation times out) the batch fails: the lane retries it
//! at once and blocks until it succeeds (per-shard order), its records expire (retention),
//! they exceed `maximum_record_age`, or `maximum_retry_attempts` retries have failed; then
//! the batch is discarded (counted as `lost`, as if sent to an on-failure destination).
//! With `bisect_on_error` a failed batch is split in two and the halves are retried in
//! order; with `report_batch_item_failures` the records before the first failed one are
//! checkpointed and the retry starts at the failed record.
//!
//! With KPL-aggregated records (see `services::kinesis::producer`) `batch_size`, the
//! buffer and GetRecords' 10,000 count Kinesis records, as AWS documents ("the number of records"
//! Lambda reads, with deaggregation left to the function's code); the function's
//! `per_record` time, its failures and `processed`/`latency_s` are per user record, as
//! the function deaggregates and handles each. With `report_batch_item_failures` the
//! checkpoint is taken at the failed user record (a simplification: AWS reports the
//! Kinesis record's sequence number, so a real retry starts at the aggregate's first
//! user record).
//!
//! **Enhanced fan-out** (`consumer = "efo"`): the mapping is a registered stream consumer
//! (<https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>, "To minimize latency
//! and maximize read throughput, create a data stream consumer with enhanced fan-out"): it
//! does not poll and does not use the shard's shared read limits; records are pushed to it
//! the stream's `efo_propagation` after they were put, as to a KCL-style EFO consumer
//! (`services::kinesis::consumer`), and each push goes to the lanes as a fetch would.
//! Simplification: the consumer's own 2 MiB/s per shard is not enforced for a mapping
//! (the buffer's limit still holds it back).
//!
//! The lanes do not know partition keys (records are stored without them, see
//! `services::kinesis::shard`): a fetched batch is spread evenly over the lanes. Per-key
//! order is therefore assumed rather than checked, and a single hot key inside a shard
//! gets the concurrency of all lanes instead of one — an approximation that only matters
//! for factors above 1.

use crate::engine::{Engine, Event};
use crate::producers::RetryPolicy;
use crate::services::kinesis::consumer::first_failure;
use crate::services::kinesis::shard::{take_front, take_front_krecs};
use crate::services::kinesis::Slice;
use crate::services::lambda::function::{throttle_backoff, Invocation};
use crate::sim::{SimDuration, SimTime};
use std::collections::VecDeque;

/// Time between two GetRecords calls of a mapping on one shard (AWS: "Lambda polls each
/// shard at a base rate of once per second"; a modelling default).
pub(crate) const POLL_INTERVAL: SimDuration =
    crate::services::lambda::limits::KINESIS_ESM_POLL_INTERVAL;

/// What a mapping's shard poller is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PollState {
    /// Waiting for the parent shards to be drained.
    Blocked,
    /// Waiting for its next poll.
    Idle,
    /// GetRecords request leg.
    Requesting,
    /// GetRecords response leg.
    Responding,
    /// The shard is closed and drained.
    Done,
}

/// One lane of a shard: batches of it are invoked one at a time, in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lane {
    queue: VecDeque<Slice>,
    /// User records queued.
    queued: u64,
    /// Kinesis records queued.
    queued_k: u64,
    batch: Vec<Slice>,
    batch_records: u64,
    /// An invocation (or an invoke back-off) is in progress.
    busy: bool,
    /// A batching-window timer is pending.
    timer: bool,
    inv: Option<Invocation>,
    started: SimTime,
    attempts: u32,
    throttled: u32,
    /// Most records the next batch may take (halved by bisection).
    cap: u64,
    /// When the lane's oldest buffered record was handed to it (batching window).
    since: Option<SimTime>,
}

/// The mapping's state on one shard.
#[derive(Clone, Debug)]
pub(crate) struct EsmShard {
    state: PollState,
    leg: SimDuration,
    last_poll: SimTime,
    fetched: Vec<Slice>,
    lanes: Vec<Lane>,
    rr: usize,
    /// Enhanced fan-out: the push due holds the records put at or before this instant.
    cutoff: SimTime,
    /// User records fetched and not yet finished (in the lanes).
    buffered: u64,
    /// Kinesis records fetched and not yet finished (the buffer's limit counts these).
    buffered_k: u64,
}

/// A Lambda event source mapping on a stream.
pub(crate) struct KinesisMapping {
    /// Function index.
    pub(crate) l: u32,
    /// Stream index.
    pub(crate) stream: u32,
    /// Reader slot in the stream's shards.
    pub(crate) slot: usize,
    shards: Vec<EsmShard>,
    /// Largest iterator age seen, ns (reset at the warm-up).
    pub(crate) iterator_age_max_ns: u64,
    /// Records discarded after their retries (reset at the warm-up).
    pub(crate) lost: u64,
    /// Records that expired while being retried (reset at the warm-up).
    pub(crate) expired: u64,
    /// Enhanced fan-out: records are pushed (no polling).
    pub(crate) efo: bool,
}

impl KinesisMapping {
    /// A mapping of function `l` on `stream`, holding reader `slot`; `efo`: enhanced
    /// fan-out instead of polling.
    pub(crate) fn new(l: u32, stream: u32, slot: usize, efo: bool) -> Self {
        KinesisMapping {
            l,
            stream,
            slot,
            efo,
            shards: Vec::new(),
            iterator_age_max_ns: 0,
            lost: 0,
            expired: 0,
        }
    }

    /// Resets the counters at the end of the warm-up.
    pub(crate) fn reset_stats(&mut self) {
        self.iterator_age_max_ns = 0;
        self.lost = 0;
        self.expired = 0;
    }
}

impl Engine<'_> {
    /// Starts the Kinesis mappings' pollers on the shards without parents.
    pub(crate) fn kinesis_lambda_start(&mut self) {
        for m in 0..self.kin.mappings.len() {
            let st = self.kin.mappings[m].stream as usize;
            let n = self.kin.streams[st].shards.len();
            self.grow_esm(m, n);
            for s in 0..n {
                if self.kin.streams[st].shards[s].parents.is_empty() {
                    self.esm_start(m as u32, s as u32);
                }
            }
        }
    }

    /// Gives mapping `m` state for `shards` shards.
    pub(crate) fn grow_esm(&mut self, m: usize, shards: usize) {
        let l = self.kin.mappings[m].l as usize;
        let spec = &self.lambdas[l].spec;
        let factor = spec.parallelization_factor.max(1) as usize;
        let cap = spec.batch_size as u64;
        let map = &mut self.kin.mappings[m];
        while map.shards.len() < shards {
            map.shards.push(EsmShard {
                state: PollState::Blocked,
                leg: SimDuration::ZERO,
                last_poll: SimTime::ZERO,
                fetched: Vec::new(),
                lanes: vec![
                    Lane {
                        cap,
                        ..Lane::default()
                    };
                    factor
                ],
                rr: 0,
                cutoff: SimTime::ZERO,
                buffered: 0,
                buffered_k: 0,
            });
        }
    }

    /// Starts mapping `m`'s poller on shard `s` if it is blocked and its parents are drained.
    pub(crate) fn esm_maybe_start(&mut self, m: u32, s: u32) {
        let map = &self.kin.mappings[m as usize];
        if map.shards[s as usize].state != PollState::Blocked {
            return;
        }
        let st = map.stream as usize;
        let ready = self.kin.streams[st].shards[s as usize]
            .parents
            .iter()
            .all(|p| map.shards[*p as usize].state == PollState::Done);
        if ready {
            self.esm_start(m, s);
        }
    }

    fn esm_start(&mut self, m: u32, s: u32) {
        let map = &mut self.kin.mappings[m as usize];
        let sh = &mut map.shards[s as usize];
        sh.state = PollState::Idle;
        if map.efo {
            self.esm_efo_next(m, s);
            return;
        }
        // Pollers start at random phases within one interval.
        let l = map.l as usize;
        let phase = if self.now == SimTime::ZERO {
            use rand::Rng;
            SimDuration(self.lambdas[l].rng.random_range(0..POLL_INTERVAL.0))
        } else {
            SimDuration::ZERO
        };
        self.at(self.now + phase, Event::EsmPoll { m, s });
    }

    /// A poller event of mapping `m` on shard `s`.
    pub(crate) fn on_esm_poll(&mut self, m: u32, s: u32) {
        let map = &self.kin.mappings[m as usize];
        let state = map.shards[s as usize].state;
        if map.efo {
            match state {
                PollState::Idle => self.esm_efo_next(m, s),
                PollState::Requesting => self.esm_push(m, s),
                PollState::Done => {}
                PollState::Blocked | PollState::Responding => {
                    debug_assert!(false, "push event of a blocked or responding shard")
                }
            }
            return;
        }
        match state {
            PollState::Idle => self.esm_request(m, s),
            PollState::Requesting => self.esm_arrive(m, s),
            PollState::Responding => self.esm_return(m, s),
            // A poll scheduled before the shard was finished by its last batch.
            PollState::Done => {}
            PollState::Blocked => debug_assert!(false, "poll event of a blocked shard"),
        }
    }

    fn esm_buffer_cap(&self, m: usize) -> u64 {
        let l = self.kin.mappings[m].l as usize;
        let spec = &self.lambdas[l].spec;
        let st = self.kin.mappings[m].stream as usize;
        let per_call = self.kin.streams[st].spec.limits.get_records_max_records as u64;
        per_call.max(spec.parallelization_factor as u64 * spec.batch_size as u64)
    }

    fn esm_request(&mut self, m: u32, s: u32) {
        let now = self.now;
        let cap = self.esm_buffer_cap(m as usize);
        let map = &mut self.kin.mappings[m as usize];
        let st = map.stream as usize;
        let sh = &mut map.shards[s as usize];
        if sh.buffered_k >= cap {
            // The buffer is full: skip this poll.
            self.at(now + POLL_INTERVAL, Event::EsmPoll { m, s });
            return;
        }
        let stream = &mut self.kin.streams[st];
        let latency = stream.spec.api_latency.sample(&mut stream.rng);
        sh.leg = latency;
        sh.last_poll = now;
        sh.state = PollState::Requesting;
        self.at(now + latency.half(), Event::EsmPoll { m, s });
    }

    fn esm_arrive(&mut self, m: u32, s: u32) {
        let now = self.now;
        let cap = self.esm_buffer_cap(m as usize);
        let map = &mut self.kin.mappings[m as usize];
        let st = map.stream as usize;
        let slot = map.slot;
        let l = map.l as usize;
        let stream = &mut self.kin.streams[st];
        self.msgs.ledger.expired += stream.expire_shard(s, now);
        let lim = *stream.shard_limits();
        let max_bytes = stream.spec.limits.get_records_max_bytes.0;
        let max_records = stream.spec.limits.get_records_max_records as u64;
        let shard = &mut stream.shards[s as usize];
        let sh = &mut map.shards[s as usize];
        let response = sh.leg - sh.leg.half();
        if !shard.admit_read(now) {
            stream.stats.read_throttled += 1;
            let backoff = RetryPolicy::default().backoff(1, &mut self.lambdas[l].rng);
            sh.state = PollState::Idle;
            self.at(now + response + backoff, Event::EsmPoll { m, s });
            return;
        }
        sh.fetched.clear();
        let room = cap.saturating_sub(sh.buffered_k).clamp(1, max_records);
        let from = shard.cursors[slot].fetched;
        // Records put within the read lag are not readable yet.
        let lag = stream.spec.read_lag.sample(&mut stream.lag_rng);
        let cutoff = SimTime(now.0.saturating_sub(lag.0));
        let out = shard.read(from, room, max_bytes, cutoff, &mut sh.fetched);
        shard.mark_fetched(slot, out.records);
        shard.release(slot);
        shard.charge_read(now, out.bytes, &lim);
        stream.note_read_age(now, &sh.fetched);
        stream.stats.get_records_calls += 1;
        stream.stats.bytes_out += out.bytes;
        self.lambdas[l].stats.receives += 1;
        if out.records > 0 {
            let age = now - out.last_arrival;
            stream.note_iterator_age(age);
            map.iterator_age_max_ns = map.iterator_age_max_ns.max(age.0);
        }
        sh.state = PollState::Responding;
        self.at(now + response, Event::EsmPoll { m, s });
    }

    fn esm_return(&mut self, m: u32, s: u32) {
        let now = self.now;
        let map = &mut self.kin.mappings[m as usize];
        let sh = &mut map.shards[s as usize];
        let factor = sh.lanes.len();
        let fetched = std::mem::take(&mut sh.fetched);
        let mut records = 0;
        let mut krecs = 0;
        for sl in fetched.iter().copied() {
            records += sl.count as u64;
            krecs += sl.krecs as u64;
            if factor == 1 || (sl.count as usize) < factor {
                let lane = &mut sh.lanes[sh.rr % factor];
                lane.queue.push_back(sl);
                lane.queued += sl.count as u64;
                lane.queued_k += sl.krecs as u64;
                sh.rr = (sh.rr + 1) % factor;
            } else {
                // Spread a large slice evenly over the lanes.
                let mut rest = sl;
                for i in 0..factor {
                    let part = (rest.count as usize / (factor - i)) as u32;
                    let piece = if i + 1 == factor || part >= rest.count {
                        rest
                    } else {
                        let (a, b) = rest.split(part);
                        rest = b;
                        a
                    };
                    let lane = &mut sh.lanes[i];
                    lane.queue.push_back(piece);
                    lane.queued += piece.count as u64;
                    lane.queued_k += piece.krecs as u64;
                }
            }
        }
        sh.buffered += records;
        sh.buffered_k += krecs;
        sh.fetched = fetched;
        sh.state = PollState::Idle;
        let next = sh.last_poll + POLL_INTERVAL;
        let efo = map.efo;
        for lane in 0..factor {
            self.lane_kick(m, s, lane as u32);
        }
        if !self.esm_finish_shard(m, s) {
            if efo {
                self.esm_efo_next(m, s);
            } else {
                self.at(next.max(now), Event::EsmPoll { m, s });
            }
        }
    }

    /// Enhanced fan-out: schedules the next push of shard `s`, or subscribes and waits for
    /// records (the stream wakes the mapping through `wake_efo`).
    pub(crate) fn esm_efo_next(&mut self, m: u32, s: u32) {
        let now = self.now;
        let cap = self.esm_buffer_cap(m as usize);
        let map = &mut self.kin.mappings[m as usize];
        let (st, slot) = (map.stream as usize, map.slot);
        let sh = &mut map.shards[s as usize];
        if sh.state != PollState::Idle {
            return;
        }
        if sh.buffered_k >= cap {
            // The buffer is full: look again a poll interval later.
            self.at(now + POLL_INTERVAL, Event::EsmPoll { m, s });
            return;
        }
        let stream = &mut self.kin.streams[st];
        let shard = &mut stream.shards[s as usize];
        if shard.drained_by(slot) {
            self.esm_finish_shard(m, s);
            return;
        }
        let from = shard.cursors[slot].fetched.max(shard.head());
        let Some(first) = shard.arrival_of(from) else {
            shard.efo_waiting |= 1u64 << slot;
            return;
        };
        let d = stream.spec.efo_propagation.sample(&mut stream.rng);
        let at = now.max(first + d);
        sh.cutoff = SimTime(at.0.saturating_sub(d.0));
        sh.state = PollState::Requesting;
        self.at(at, Event::EsmPoll { m, s });
    }

    /// Enhanced fan-out: a push of the records that have propagated reaches the mapping.
    fn esm_push(&mut self, m: u32, s: u32) {
        let now = self.now;
        let cap = self.esm_buffer_cap(m as usize);
        let map = &mut self.kin.mappings[m as usize];
        let (st, slot, l) = (map.stream as usize, map.slot, map.l as usize);
        let stream = &mut self.kin.streams[st];
        self.msgs.ledger.expired += stream.expire_shard(s, now);
        let max_bytes = stream.spec.limits.get_records_max_bytes.0;
        let max_records = stream.spec.limits.get_records_max_records as u64;
        let shard = &mut stream.shards[s as usize];
        let sh = &mut map.shards[s as usize];
        sh.fetched.clear();
        let room = cap.saturating_sub(sh.buffered_k).clamp(1, max_records);
        let from = shard.cursors[slot].fetched;
        let out = shard.read(from, room, max_bytes, sh.cutoff, &mut sh.fetched);
        sh.state = PollState::Idle;
        if out.records == 0 {
            // Expired meanwhile.
            self.esm_efo_next(m, s);
            return;
        }
        shard.mark_fetched(slot, out.records);
        shard.release(slot);
        stream.note_read_age(now, &sh.fetched);
        stream.stats.efo_bytes += out.bytes;
        self.lambdas[l].stats.receives += 1;
        let age = now - out.last_arrival;
        stream.note_iterator_age(age);
        map.iterator_age_max_ns = map.iterator_age_max_ns.max(age.0);
        sh.last_poll = now;
        self.esm_return(m, s);
    }

    /// When the shard is closed and everything fetched from it is finished, the mapping
    /// is done with it and starts its children. Returns true when done.
    fn esm_finish_shard(&mut self, m: u32, s: u32) -> bool {
        let map = &self.kin.mappings[m as usize];
        let st = map.stream as usize;
        let sh = &map.shards[s as usize];
        if sh.state != PollState::Idle
            || sh.buffered > 0
            || !self.kin.streams[st].shards[s as usize].drained_by(map.slot)
        {
            return false;
        }
        self.kin.mappings[m as usize].shards[s as usize].state = PollState::Done;
        let children = self.kin.streams[st].shards[s as usize].children.clone();
        for c in children {
            self.esm_maybe_start(m, c);
        }
        true
    }

    /// Lane `lane` of shard `s` starts its next batch if it can.
    fn lane_kick(&mut self, m: u32, s: u32, lane: u32) {
        let now = self.now;
        let map = &mut self.kin.mappings[m as usize];
        let l = map.l as usize;
        let spec = &self.lambdas[l].spec;
        let (batch_size, window) = (spec.batch_size as u64, spec.batching_window);
        let max_payload = self.arch.limits.lambda.max_sync_payload_bytes;
        let ln = &mut map.shards[s as usize].lanes[lane as usize];
        if ln.busy || ln.queued == 0 {
            return;
        }
        let since = *ln.since.get_or_insert(now);
        if ln.queued_k < batch_size.min(ln.cap) && !window.is_zero() && now < since + window {
            if !ln.timer {
                ln.timer = true;
                self.at(
                    since + window,
                    Event::EsmLane {
                        m,
                        sl: s << 4 | lane,
                    },
                );
            }
            return;
        }
        // Form the batch: up to batch_size (or the bisected cap) Kinesis records and 6 MB.
        ln.batch.clear();
        let mut want = batch_size.min(ln.cap).max(1);
        let avg = ln
            .queue
            .front()
            .map(|f| f.bytes / f.krecs.max(1) as u64)
            .unwrap_or(0)
            .max(1);
        want = want.min((max_payload / avg).max(1));
        let (n, k) = take_front_krecs(&mut ln.queue, want, &mut ln.batch);
        ln.queued -= n;
        ln.queued_k = ln.queued_k.saturating_sub(k);
        ln.batch_records = n;
        ln.since = if ln.queued > 0 { Some(now) } else { None };
        self.lane_invoke(m, s, lane);
    }

    /// Invokes the function on the lane's batch, after dropping records too old to retry.
    fn lane_invoke(&mut self, m: u32, s: u32, lane: u32) {
        let now = self.now;
        let map = &mut self.kin.mappings[m as usize];
        let l = map.l as usize;
        let st = map.stream as usize;
        let slot = map.slot;
        let retention = self.kin.streams[st].spec.retention;
        let max_age = self.lambdas[l].spec.maximum_record_age;
        let sh = &mut map.shards[s as usize];
        let ln = &mut sh.lanes[lane as usize];
        // Records past retention expired; records past the maximum age are skipped.
        let mut dropped_expired = 0;
        let mut dropped_old = 0;
        let mut dropped_k = 0;
        ln.batch.retain(|sl| {
            let age = now - sl.t_mid();
            if age >= retention {
                dropped_expired += sl.count as u64;
                dropped_k += sl.krecs as u64;
                false
            } else if max_age.is_some_and(|a| age > a) {
                dropped_old += sl.count as u64;
                dropped_k += sl.krecs as u64;
                false
            } else {
                true
            }
        });
        let dropped = dropped_expired + dropped_old;
        if dropped > 0 {
            ln.batch_records -= dropped;
            sh.buffered -= dropped;
            sh.buffered_k = sh.buffered_k.saturating_sub(dropped_k);
            map.expired += dropped_expired;
            map.lost += dropped_old;
            self.msgs.ledger.expired += dropped_expired;
            self.msgs.ledger.lost += dropped_old;
            self.kin.streams[st].stats.expired += dropped_expired;
            self.kin.streams[st].shards[s as usize].settle(slot, dropped);
        }
        let ln = &mut self.kin.mappings[m as usize].shards[s as usize].lanes[lane as usize];
        if ln.batch_records == 0 {
            ln.attempts = 0;
            ln.busy = false;
            self.lane_kick(m, s, lane);
            self.esm_finish_if_idle(m, s);
            return;
        }
        let n = ln.batch_records.min(u32::MAX as u64) as u32;
        match self.lambdas[l].start(now, n, &mut self.account_pool) {
            Some(inv) => {
                let f = &mut self.lambdas[l];
                // The synchronous Invoke's overhead, then the run (billed: `runs_for`).
                let overhead = f.spec.invoke_overhead.sample(&mut f.invoke_rng);
                ln.throttled = 0;
                ln.inv = Some(inv);
                ln.busy = true;
                ln.started = now;
                let stats = &mut self.lambdas[l].stats;
                for sl in &ln.batch {
                    stats.wait.record_n(now - sl.t_mid(), sl.count as u64);
                }
                self.at(
                    now + overhead + inv.runs_for,
                    Event::EsmLane {
                        m,
                        sl: s << 4 | lane,
                    },
                );
            }
            None => {
                ln.throttled += 1;
                ln.busy = true;
                ln.inv = None;
                let backoff = throttle_backoff(ln.throttled, &mut self.lambdas[l].rng);
                self.at(
                    now + backoff,
                    Event::EsmLane {
                        m,
                        sl: s << 4 | lane,
                    },
                );
            }
        }
    }

    fn esm_finish_if_idle(&mut self, m: u32, s: u32) {
        let sh = &self.kin.mappings[m as usize].shards[s as usize];
        if sh.state == PollState::Idle && sh.buffered == 0 {
            self.esm_finish_shard(m, s);
        }
    }

    /// A lane event: an invocation ended, a throttle back-off or a batching window passed.
    pub(crate) fn on_esm_lane(&mut self, m: u32, sl: u32) {
        let now = self.now;
        let (s, lane) = (sl >> 4, sl & 15);
        let map = &mut self.kin.mappings[m as usize];
        let l = map.l as usize;
        let st = map.stream as usize;
        let slot = map.slot;
        let sh = &mut map.shards[s as usize];
        let ln = &mut sh.lanes[lane as usize];
        if !ln.busy {
            // A batching window passed.
            ln.timer = false;
            self.lane_kick(m, s, lane);
            return;
        }
        let Some(inv) = ln.inv.take() else {
            // A throttle back-off passed: try the invoke again.
            ln.busy = false;
            self.lane_invoke(m, s, lane);
            return;
        };
        let measured = now >= self.measure_from;
        let f = &mut self.lambdas[l];
        f.finish(now, inv.runs_for, &mut self.account_pool, measured);
        let n = ln.batch_records;
        let fail = if inv.timed_out {
            Some(0)
        } else {
            first_failure(f.spec.failure_probability, n, &mut f.rng)
        };
        let ok = match fail {
            None => n,
            Some(k) if f.spec.report_batch_item_failures => k,
            Some(_) => 0,
        };
        // Checkpoint the records that succeeded (the front of the batch).
        if ok > 0 {
            let mut done = Vec::new();
            let mut q: VecDeque<Slice> = ln.batch.drain(..).collect();
            take_front(&mut q, ok, &mut done);
            let done_k: u64 = done.iter().map(|sl| sl.krecs as u64).sum();
            sh.buffered_k = sh.buffered_k.saturating_sub(done_k);
            let ep = &mut self.insight.points[self.insight.lambdas[l] as usize];
            for sl in &done {
                f.stats
                    .latency
                    .record_n(now - sl.t_mid() + sl.mean_lead(), sl.count as u64);
                let lead = sl.mean_lead().0;
                ep.stats.record_span(
                    now.saturating_since(SimTime(sl.t_first.0.saturating_sub(lead))),
                    now.saturating_since(SimTime(sl.t_last.0.saturating_sub(lead))),
                    sl.count as u64,
                    self.arch.values.streams[st],
                );
            }
            ln.batch.extend(q);
            f.stats.processed += ok;
            self.msgs.ledger.processed += ok;
            sh.buffered -= ok;
            self.kin.streams[st].shards[s as usize].settle(slot, ok);
        }
        ln.batch_records -= ok;
        ln.busy = false;
        if fail.is_none() {
            ln.attempts = 0;
            ln.cap = f.spec.batch_size as u64;
            ln.batch.clear();
        } else {
            let left = ln.batch_records;
            let left_k: u64 = ln.batch.iter().map(|sl| sl.krecs as u64).sum();
            f.stats.failed += if inv.timed_out { left } else { 1 };
            f.stats.failed_invocations += 1;
            ln.attempts += 1;
            let give_up = f
                .spec
                .maximum_retry_attempts
                .is_some_and(|max| ln.attempts > max);
            if give_up {
                ln.attempts = 0;
                ln.cap = f.spec.batch_size as u64;
                ln.batch.clear();
                ln.batch_records = 0;
                sh.buffered -= left;
                sh.buffered_k = sh.buffered_k.saturating_sub(left_k);
                map.lost += left;
                self.msgs.ledger.lost += left;
                self.kin.streams[st].shards[s as usize].settle(slot, left);
            } else {
                // Retry in order: the batch goes back to the front of the lane.
                ln.cap = if f.spec.bisect_on_error && left_k > 1 {
                    left_k.div_ceil(2)
                } else {
                    left_k.max(1)
                };
                for sl in ln.batch.drain(..).rev() {
                    ln.queue.push_front(sl);
                }
                ln.queued += left;
                ln.queued_k += left_k;
                ln.batch_records = 0;
                // A retry does not wait for a batching window.
                ln.since = Some(SimTime::ZERO);
            }
        }
        self.lane_kick(m, s, lane);
        self.esm_finish_if_idle(m, s);
    }

    /// Reshards: mapping state for new shards; start children whose parents are drained.
    pub(crate) fn esm_reshard(&mut self, st: u32, created: &[u32]) {
        let n = self.kin.streams[st as usize].shards.len();
        for m in 0..self.kin.mappings.len() {
            if self.kin.mappings[m].stream != st {
                continue;
            }
            self.grow_esm(m, n);
            for s in created {
                self.esm_maybe_start(m as u32, *s);
            }
        }
    }

    /// Adds the mappings' Kinesis fields to their functions' reports.
    pub(crate) fn patch_lambda_reports(&self, components: &mut [crate::metrics::ComponentReport]) {
        for map in &self.kin.mappings {
            let name = &self.lambdas[map.l as usize].spec.name;
            let stream = &self.kin.streams[map.stream as usize].spec.name;
            if let Some(r) = components
                .iter_mut()
                .find(|c| c.kind == "lambda" && &c.name == name)
            {
                r.text("source", &format!("kinesis:{stream}"))
                    .count("expired", map.expired)
                    .count("lost", map.lost)
                    .real("iterator_age_max_s", map.iterator_age_max_ns as f64 / 1e9);
            }
        }
    }
}
