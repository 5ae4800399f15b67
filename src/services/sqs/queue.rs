//! The SQS queue component: standard and FIFO queues.
//!
//! # What is modelled
//!
//! * **Standard queues** keep visible messages in two FIFOs: new messages in send order and
//!   messages whose visibility timeout expired, in the order they came back. A receive takes
//!   whichever head is older, so delivery is oldest-first at best effort, as AWS describes it.
//!   With `duplicate_probability > 0`, a receive also leaves a copy of the message visible
//!   (at-least-once delivery); the copy is counted in `duplicates` when received.
//! * **Short polling** (wait 0) samples a subset of the queue's servers: with a backlog of
//!   `B < 1,000` messages each is found with probability `short_poll_sample` (so a poll can
//!   return nothing while messages exist); from 1,000 messages on a poll fills its batch.
//!   **Long polling** waits up to its wait time and returns as soon as one message is
//!   visible. Waiting receives are served first come, first served.
//! * **Visibility timeout**: a received message is invisible until deleted or until the
//!   timeout; it then becomes visible again with its receive count kept. A delete with an
//!   outdated receipt handle succeeds but deletes nothing (AWS's documented behaviour).
//!   After `max_receive_count` receives without a delete the message moves to the
//!   dead-letter queue when its visibility times out (AWS moves it on the next receive; the
//!   difference is at most one visibility timeout of DLQ residence time).
//! * **Delay**, **retention** (checked when a message would be received, when its visibility
//!   expires and at the end of the run) and the **in-flight limit** (short polls get
//!   `OverLimit`, long polls wait).
//! * **FIFO queues** keep one ordered list per message group (a group is a producer's key
//!   id); a group with a message in flight delivers nothing more; a receive takes as many
//!   messages of one group as it can, then moves to the next ready group. Expired
//!   visibility puts a message back in its place in the group. Sends within the
//!   deduplication interval of an earlier send of the same message id are accepted but not
//!   stored. API calls are throttled per action by token buckets (300/s, or 70,000/s in
//!   high-throughput mode with 300/s per group for sends).
//!
//! Delays and visibility timeouts live in per-queue [`Deadlines`] and the queue keeps a
//! single kernel timer for the earliest of them; long-poll wait times are timed by the
//! receiving client (one event per wait).

use crate::load::DurationDist;
use crate::message::{Exit, Loc, MessageStore};
use crate::metrics::{ComponentReport, LatencyHist};
use crate::sim::{Deadlines, SimDuration, SimRng, SimTime};
use rand::Rng;
use rand_distr::{Binomial, Distribution};
use std::collections::{HashMap, VecDeque};

/// A validated queue.
#[derive(Clone, Debug)]
pub struct QueueSpec {
    /// Name.
    pub name: String,
    /// FIFO queue.
    pub fifo: bool,
    /// Default visibility timeout.
    pub visibility_timeout: SimDuration,
    /// Delivery delay of every message.
    pub delay: SimDuration,
    /// Retention period.
    pub retention: SimDuration,
    /// Largest message accepted, bytes.
    pub max_message_size: u32,
    /// Default long-poll wait.
    pub receive_wait: SimDuration,
    /// Redrive policy.
    pub dead_letter: Option<DeadLetter>,
    /// Scheduled redrive of this dead-letter queue back to its sources.
    pub redrive: Option<Redrive>,
    /// FIFO high-throughput mode.
    pub high_throughput: bool,
    /// Standard queues: probability that a receive leaves a visible copy.
    pub duplicate_probability: f64,
    /// Fraction of servers a short poll samples.
    pub short_poll_sample: f64,
    /// Latency of one API call (round trip).
    pub api_latency: DurationDist,
    /// In-flight limit.
    pub in_flight_limit: u32,
    /// FIFO: API calls per second per action (`None` = unlimited).
    pub tps_limit: Option<u32>,
    /// FIFO high throughput: sends per second per message group.
    pub group_rps_limit: Option<u32>,
    /// FIFO deduplication interval.
    pub dedup_interval: SimDuration,
    /// Billing chunk, bytes.
    pub billing_chunk: u32,
    /// Some queue's dead-letter queue.
    pub is_dead_letter_queue: bool,
}

/// A redrive policy, validated.
#[derive(Clone, Copy, Debug)]
pub struct DeadLetter {
    /// Index of the dead-letter queue.
    pub queue: usize,
    /// Receives before the move.
    pub max_receive_count: u32,
}

/// A scheduled move of a dead-letter queue's messages back to their source queues.
#[derive(Clone, Copy, Debug)]
pub struct Redrive {
    /// Start time.
    pub at: SimDuration,
    /// Messages per second.
    pub rate_per_s: f64,
}

/// Counters of one queue (reset at the end of the warm-up).
#[derive(Clone, Debug, Default)]
pub(crate) struct QueueStats {
    /// Messages accepted from SendMessage(Batch) (stored or deduplicated).
    pub(crate) sent: u64,
    /// Messages moved in as a dead-letter queue, or by a redrive.
    pub(crate) moved_in: u64,
    /// Messages returned by receives (every delivery, redeliveries included).
    pub(crate) received: u64,
    /// Messages deleted.
    pub(crate) deleted: u64,
    /// Receives that returned nothing.
    pub(crate) empty_receives: u64,
    /// Deliveries of a copy, or processings of a message already processed.
    pub(crate) duplicates: u64,
    /// Receives of a message received before.
    pub(crate) redelivered: u64,
    /// Messages moved to the dead-letter queue.
    pub(crate) dead_lettered: u64,
    /// Messages removed by retention.
    pub(crate) expired: u64,
    /// API calls refused with a throttling error.
    pub(crate) throttled: u64,
    /// Short polls refused with `OverLimit`.
    pub(crate) over_limit: u64,
    /// Sends not stored because of deduplication.
    pub(crate) deduplicated: u64,
    /// Sends refused: message larger than the queue's maximum.
    pub(crate) rejected_too_large: u64,
    /// Billable requests (64 KiB chunks of payload, empty receives included).
    pub(crate) api_requests: u64,
    /// SendMessage / SendMessageBatch calls.
    pub(crate) send_calls: u64,
    /// ReceiveMessage calls (completed).
    pub(crate) receive_calls: u64,
    /// DeleteMessage / DeleteMessageBatch calls.
    pub(crate) delete_calls: u64,
    /// ChangeMessageVisibility(Batch) calls.
    pub(crate) change_visibility_calls: u64,
    /// Deletes with an outdated receipt handle (no effect).
    pub(crate) stale_deletes: u64,
    /// Largest backlog (visible + delayed).
    pub(crate) backlog_max: u64,
    /// Largest number in flight.
    pub(crate) inflight_max: u64,
    /// Largest sampled age of the oldest stored message, ns.
    pub(crate) age_of_oldest_max_ns: u64,
    /// Send (enqueue) → first receive.
    pub(crate) wait: LatencyHist,
}

/// Why a send was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SendError {
    /// Larger than the queue's maximum message size: not retryable.
    TooLarge,
}

/// Outcome of a ReceiveMessage call arriving at the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Receive {
    /// Messages were taken into the caller's buffer (how many).
    Got(usize),
    /// Long poll registered; the queue will serve or time it out.
    Waiting,
    /// Nothing (short poll).
    Empty,
    /// Short poll refused at the in-flight limit.
    OverLimit,
    /// Throttled (FIFO TPS limit).
    Throttled,
}

/// A message handed to a consumer: slot, receipt, logical id and production time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Handle {
    /// Slot in the message store.
    pub(crate) slot: u32,
    /// Receipt of this delivery.
    pub(crate) receipt: u32,
    /// Logical id.
    pub(crate) id: u64,
    /// When the producer created the message.
    pub(crate) created: SimTime,
}

/// Something the queue's timer produced that the engine must act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimerEffect {
    /// Move this message to the dead-letter queue.
    ToDeadLetter {
        /// The message slot.
        slot: u32,
    },
}

#[derive(Clone, Copy, Debug)]
struct Waiter {
    poller: u32,
    token: u32,
    max: u32,
    visibility: SimDuration,
}

#[derive(Clone, Debug, Default)]
struct Group {
    msgs: VecDeque<u32>,
    inflight: u32,
    ready: bool,
    bucket: Option<TokenBucket>,
}

/// A token bucket refilled continuously at `rate` per second up to `rate` tokens.
#[derive(Clone, Copy, Debug)]
struct TokenBucket {
    tokens: f64,
    rate: f64,
    last: SimTime,
}

impl TokenBucket {
    fn new(rate: f64) -> Self {
        TokenBucket {
            tokens: rate,
            rate,
            last: SimTime::ZERO,
        }
    }
    fn take(&mut self, now: SimTime) -> bool {
        let dt = (now - self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.rate);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// API actions with their own FIFO throughput limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// SendMessage(Batch).
    Send = 0,
    /// ReceiveMessage.
    Receive = 1,
    /// DeleteMessage(Batch).
    Delete = 2,
}

/// An SQS queue.
pub(crate) struct SqsQueue {
    /// Its validated spec.
    pub(crate) spec: QueueSpec,
    /// Index in the engine's queue list.
    pub(crate) index: u32,
    /// Counters.
    pub(crate) stats: QueueStats,
    rng: SimRng,
    // Standard queues.
    visible: VecDeque<u32>,
    returned: VecDeque<u32>,
    // FIFO queues.
    groups: Vec<Group>,
    group_of: HashMap<u64, u32>,
    ready: VecDeque<u32>,
    dedup: HashMap<u64, SimTime>,
    dedup_expiry: VecDeque<(SimTime, u64)>,
    buckets: Option<[TokenBucket; 3]>,
    // Both.
    visible_count: u64,
    delayed: Deadlines<u32>,
    delayed_count: u64,
    inflight: Deadlines<(u32, u32)>,
    inflight_count: u64,
    waiters: VecDeque<Waiter>,
    poll_tokens: Vec<u32>,
    next_token: u32,
    timer_at: Option<SimTime>,
    timer_gen: u32,
    /// Earliest deadline pushed since the timer was last armed.
    pending_min: Option<SimTime>,
    /// Latency added to every API call (a `latency_spike` fault in force).
    pub(crate) extra_latency: SimDuration,
}

impl SqsQueue {
    /// A new, empty queue.
    pub(crate) fn new(spec: QueueSpec, index: u32, rng: SimRng) -> Self {
        let buckets = spec.tps_limit.map(|tps| [TokenBucket::new(tps as f64); 3]);
        SqsQueue {
            spec,
            index,
            stats: QueueStats::default(),
            rng,
            visible: VecDeque::new(),
            returned: VecDeque::new(),
            groups: Vec::new(),
            group_of: HashMap::new(),
            ready: VecDeque::new(),
            dedup: HashMap::new(),
            dedup_expiry: VecDeque::new(),
            buckets,
            visible_count: 0,
            delayed: Deadlines::new(),
            delayed_count: 0,
            inflight: Deadlines::new(),
            inflight_count: 0,
            waiters: VecDeque::new(),
            poll_tokens: Vec::new(),
            next_token: 1,
            timer_at: None,
            timer_gen: 0,
            pending_min: None,
            extra_latency: SimDuration::ZERO,
        }
    }

    /// Registers a receiving client (a worker, a Lambda poller); returns its poller id.
    pub(crate) fn register_poller(&mut self) -> u32 {
        self.poll_tokens.push(0);
        (self.poll_tokens.len() - 1) as u32
    }

    /// Visible messages.
    pub(crate) fn visible_len(&self) -> u64 {
        self.visible_count
    }

    /// True when a receive could take a message now: any visible message for a standard
    /// queue; a message group with visible messages and none in flight for a FIFO queue.
    pub(crate) fn receivable(&self) -> bool {
        if self.spec.fifo {
            !self.ready.is_empty()
        } else {
            self.visible_count > 0
        }
    }

    /// Visible + delayed messages (`ApproximateNumberOfMessages` + `...Delayed`).
    pub(crate) fn backlog(&self) -> u64 {
        self.visible_count + self.delayed_count
    }

    /// Messages in flight.
    pub(crate) fn inflight_len(&self) -> u64 {
        self.inflight_count
    }

    /// The queue's per-call latency sampler and RNG, for the engine to time API calls.
    pub(crate) fn sample_latency(&mut self) -> SimDuration {
        self.spec.api_latency.sample(&mut self.rng) + self.extra_latency
    }

    /// Counts a billable call carrying `payload` bytes.
    #[inline]
    pub(crate) fn bill(&mut self, payload: u64) {
        let chunk = self.spec.billing_chunk as u64;
        self.stats.api_requests += payload.div_ceil(chunk).max(1);
    }

    /// Checks the FIFO throughput limit of `action`; counts a throttle when refused.
    pub(crate) fn admit(&mut self, action: Action, now: SimTime) -> bool {
        match &mut self.buckets {
            None => true,
            Some(b) => {
                if b[action as usize].take(now) {
                    true
                } else {
                    self.stats.throttled += 1;
                    false
                }
            }
        }
    }

    /// Checks a FIFO high-throughput per-group send limit for `slot`'s group.
    pub(crate) fn admit_group(&mut self, slot: u32, msgs: &MessageStore, now: SimTime) -> bool {
        let Some(rps) = self.spec.group_rps_limit else {
            return true;
        };
        let g = self.group_index(msgs, slot);
        let bucket = self.groups[g as usize]
            .bucket
            .get_or_insert_with(|| TokenBucket::new(rps as f64));
        if bucket.take(now) {
            true
        } else {
            self.stats.throttled += 1;
            false
        }
    }

    /// Stores message `slot` sent at `now` with delivery delay `delay` (the larger of the
    /// queue's and the message's). The caller has billed and admitted the call.
    pub(crate) fn send(
        &mut self,
        now: SimTime,
        slot: u32,
        delay: SimDuration,
        msgs: &mut MessageStore,
    ) -> Result<(), SendError> {
        let (size, id) = {
            let m = msgs.get(slot);
            (m.size, m.id)
        };
        if size > self.spec.max_message_size {
            self.stats.rejected_too_large += 1;
            return Err(SendError::TooLarge);
        }
        self.stats.sent += 1;
        if self.spec.fifo {
            self.purge_dedup(now);
            if let Some(until) = self.dedup.get(&id) {
                if *until > now {
                    self.stats.deduplicated += 1;
                    msgs.exit(slot, Exit::Deduplicated);
                    return Ok(());
                }
            }
            let until = now + self.spec.dedup_interval;
            self.dedup.insert(id, until);
            self.dedup_expiry.push_back((until, id));
        }
        let m = msgs.get_mut(slot);
        m.enqueued = now;
        m.receive_count = 0;
        m.origin = self.index.min(u16::MAX as u32) as u16;
        self.store(now, slot, delay.max(self.spec.delay), msgs);
        Ok(())
    }

    /// Moves message `slot` in (dead-lettering or redrive), keeping its enqueue time.
    pub(crate) fn move_in(&mut self, now: SimTime, slot: u32, msgs: &mut MessageStore) {
        self.stats.moved_in += 1;
        msgs.get_mut(slot).receive_count = 0;
        self.store(now, slot, SimDuration::ZERO, msgs);
    }

    fn store(&mut self, now: SimTime, slot: u32, delay: SimDuration, msgs: &mut MessageStore) {
        let m = msgs.get_mut(slot);
        m.home = self.index;
        if delay.is_zero() {
            self.make_visible(slot, msgs, false);
        } else {
            let at = now + delay;
            m.loc = Loc::Delayed;
            m.deadline = at;
            self.delayed.push(at, slot);
            self.note_deadline(at);
            self.delayed_count += 1;
        }
        self.stats.backlog_max = self.stats.backlog_max.max(self.backlog());
    }

    fn group_index(&mut self, msgs: &MessageStore, slot: u32) -> u32 {
        let m = msgs.get(slot);
        let key = ((m.producer as u64) << 32) | m.key as u64;
        let groups = &mut self.groups;
        *self.group_of.entry(key).or_insert_with(|| {
            groups.push(Group::default());
            (groups.len() - 1) as u32
        })
    }

    /// Puts `slot` among the visible messages. `back_in_place`: a FIFO message returning
    /// after its visibility expired goes back to its ordered place in its group.
    fn make_visible(&mut self, slot: u32, msgs: &mut MessageStore, back_in_place: bool) {
        msgs.get_mut(slot).loc = Loc::Visible;
        self.visible_count += 1;
        if !self.spec.fifo {
            if back_in_place {
                self.returned.push_back(slot);
            } else {
                self.visible.push_back(slot);
            }
            return;
        }
        let g = self.group_index(msgs, slot);
        let group = &mut self.groups[g as usize];
        if back_in_place {
            let key = order_key(msgs, slot);
            let pos = group.msgs.partition_point(|s| order_key(msgs, *s) < key);
            group.msgs.insert(pos, slot);
        } else {
            group.msgs.push_back(slot);
        }
        if group.inflight == 0 && !group.ready {
            group.ready = true;
            self.ready.push_back(g);
        }
    }

    fn purge_dedup(&mut self, now: SimTime) {
        while let Some((t, id)) = self.dedup_expiry.front().copied() {
            if t > now {
                break;
            }
            self.dedup_expiry.pop_front();
            if self.dedup.get(&id).is_some_and(|u| *u <= now) {
                self.dedup.remove(&id);
            }
        }
    }

    /// A ReceiveMessage call arriving at the queue. Up to `max` messages go to `out`.
    ///
    /// A long poll that finds nothing returns [`Receive::Waiting`]: the caller must then
    /// either be served (see [`SqsQueue::next_servable`]) or end the wait with
    /// [`SqsQueue::end_wait`] when its wait time is up.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn receive(
        &mut self,
        now: SimTime,
        poller: u32,
        max: u32,
        wait: SimDuration,
        visibility: SimDuration,
        msgs: &mut MessageStore,
        out: &mut Vec<Handle>,
    ) -> Receive {
        if !self.admit(Action::Receive, now) {
            return Receive::Throttled;
        }
        let at_limit = self.inflight_count >= self.spec.in_flight_limit as u64;
        if wait.is_zero() {
            if at_limit {
                self.stats.over_limit += 1;
                self.stats.receive_calls += 1;
                self.bill(0);
                return Receive::OverLimit;
            }
            let want = self.short_poll_count(max);
            let n = self.take(now, want, visibility, msgs, out);
            self.finish_receive(n, out, msgs);
            return if n == 0 {
                Receive::Empty
            } else {
                Receive::Got(n)
            };
        }
        if !at_limit && self.receivable() && self.waiters.is_empty() {
            let n = self.take(now, max, visibility, msgs, out);
            if n > 0 {
                self.finish_receive(n, out, msgs);
                return Receive::Got(n);
            }
        }
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1).max(1);
        self.poll_tokens[poller as usize] = token;
        self.waiters.push_back(Waiter {
            poller,
            token,
            max,
            visibility,
        });
        Receive::Waiting
    }

    /// Number of messages a short poll finds, by the sampling model in the module docs.
    fn short_poll_count(&mut self, max: u32) -> u32 {
        let b = self.visible_count;
        if b == 0 {
            return 0;
        }
        let p = self.spec.short_poll_sample;
        if b >= crate::services::sqs::limits::SHORT_POLL_FULL_BACKLOG || p >= 1.0 {
            return max;
        }
        let found = Binomial::new(b, p)
            .map(|d| d.sample(&mut self.rng))
            .unwrap_or(b);
        found.min(max as u64) as u32
    }

    /// Bills and counts a completed receive of `n` messages whose handles end `out`.
    fn finish_receive(&mut self, n: usize, out: &[Handle], msgs: &MessageStore) {
        self.stats.receive_calls += 1;
        if n == 0 {
            self.stats.empty_receives += 1;
            self.bill(0);
        } else {
            let payload: u64 = out[out.len() - n..]
                .iter()
                .map(|h| msgs.get(h.slot).size as u64)
                .sum();
            self.bill(payload);
        }
    }

    /// Counts a long poll that ended with nothing.
    pub(crate) fn finish_empty_wait(&mut self) {
        self.stats.receive_calls += 1;
        self.stats.empty_receives += 1;
        self.bill(0);
    }

    /// Takes up to `max` visible messages into `out`, making them in flight; returns how
    /// many. Messages past retention are expired on the way.
    fn take(
        &mut self,
        now: SimTime,
        max: u32,
        visibility: SimDuration,
        msgs: &mut MessageStore,
        out: &mut Vec<Handle>,
    ) -> usize {
        let mut n = 0usize;
        let room = (self.spec.in_flight_limit as u64).saturating_sub(self.inflight_count);
        let max = (max as u64).min(room) as usize;
        while n < max {
            let Some(slot) = self.pop_visible(msgs) else {
                break;
            };
            if self.expired(now, slot, msgs) {
                self.visible_count -= 1;
                self.expire(slot, msgs);
                continue;
            }
            self.visible_count -= 1;
            self.deliver(now, slot, visibility, msgs, out);
            n += 1;
        }
        self.close_ready_group_after_take();
        n
    }

    fn pop_visible(&mut self, msgs: &MessageStore) -> Option<u32> {
        if !self.spec.fifo {
            return match (self.visible.front(), self.returned.front()) {
                (Some(a), Some(b)) => {
                    if msgs.get(*b).enqueued < msgs.get(*a).enqueued {
                        self.returned.pop_front()
                    } else {
                        self.visible.pop_front()
                    }
                }
                (Some(_), None) => self.visible.pop_front(),
                (None, Some(_)) => self.returned.pop_front(),
                (None, None) => None,
            };
        }
        // FIFO: the head of the first ready group; the group stays first in line until it
        // is empty, so one receive takes as many messages of one group as it can.
        while let Some(&g) = self.ready.front() {
            let group = &mut self.groups[g as usize];
            if let Some(slot) = group.msgs.pop_front() {
                group.inflight += 1;
                if group.msgs.is_empty() {
                    group.ready = false;
                    self.ready.pop_front();
                }
                return Some(slot);
            }
            group.ready = false;
            self.ready.pop_front();
        }
        None
    }

    /// Marks a popped FIFO message's group as no longer holding it in flight.
    fn release_group(&mut self, slot: u32, msgs: &MessageStore) {
        if !self.spec.fifo {
            return;
        }
        let g = self.group_index(msgs, slot);
        let group = &mut self.groups[g as usize];
        group.inflight -= 1;
        if group.inflight == 0 && !group.msgs.is_empty() && !group.ready {
            group.ready = true;
            self.ready.push_back(g);
        }
    }

    fn close_ready_group_after_take(&mut self) {
        // A FIFO group with messages left but one in flight must leave the ready list; it
        // re-enters when its in-flight count drops to zero.
        if !self.spec.fifo {
            return;
        }
        while let Some(&g) = self.ready.front() {
            let group = &mut self.groups[g as usize];
            if group.inflight > 0 {
                group.ready = false;
                self.ready.pop_front();
            } else {
                break;
            }
        }
    }

    fn expired(&self, now: SimTime, slot: u32, msgs: &MessageStore) -> bool {
        now >= msgs.get(slot).enqueued + self.spec.retention
    }

    fn expire(&mut self, slot: u32, msgs: &mut MessageStore) {
        if self.spec.fifo {
            // The group no longer holds it (it was counted in flight by pop_visible).
            self.release_group(slot, msgs);
        }
        self.stats.expired += 1;
        msgs.exit(slot, Exit::Expired);
    }

    fn deliver(
        &mut self,
        now: SimTime,
        slot: u32,
        visibility: SimDuration,
        msgs: &mut MessageStore,
        out: &mut Vec<Handle>,
    ) {
        let dup = self.spec.duplicate_probability > 0.0
            && self.rng.random::<f64>() < self.spec.duplicate_probability;
        let m = msgs.get_mut(slot);
        m.receive_count = m.receive_count.saturating_add(1);
        m.receipt = m.receipt.wrapping_add(1);
        m.loc = Loc::InFlight;
        let deadline = now + visibility;
        m.deadline = deadline;
        let (receipt, id, first, enq, created) =
            (m.receipt, m.id, m.receive_count == 1, m.enqueued, m.created);
        self.inflight.push(deadline, (slot, receipt));
        self.note_deadline(deadline);
        self.inflight_count += 1;
        self.stats.inflight_max = self.stats.inflight_max.max(self.inflight_count);
        self.stats.received += 1;
        if first {
            self.stats.wait.record(now - enq);
        } else {
            self.stats.redelivered += 1;
        }
        out.push(Handle {
            slot,
            receipt,
            id,
            created,
        });
        if dup {
            // At-least-once: another copy stays visible and will be delivered again.
            let copy = msgs.copy(slot, true);
            let c = msgs.get_mut(copy);
            c.enqueued = enq;
            c.home = self.index;
            self.make_visible(copy, msgs, true);
        }
    }

    /// The next long-polling waiter that can be served now, if any (messages visible and
    /// room in flight). The caller then calls [`SqsQueue::serve`] for it.
    pub(crate) fn next_servable(&mut self) -> Option<(u32, u32, SimDuration)> {
        if !self.receivable() || self.inflight_count >= self.spec.in_flight_limit as u64 {
            return None;
        }
        while let Some(w) = self.waiters.front().copied() {
            if self.poll_tokens[w.poller as usize] == w.token {
                return Some((w.poller, w.max, w.visibility));
            }
            self.waiters.pop_front();
        }
        None
    }

    /// Serves the first waiter (returned by [`SqsQueue::next_servable`]) with up to `max`
    /// messages into `out`; returns how many (possibly 0 if all visible ones had expired,
    /// in which case it keeps waiting).
    pub(crate) fn serve(
        &mut self,
        now: SimTime,
        max: u32,
        visibility: SimDuration,
        msgs: &mut MessageStore,
        out: &mut Vec<Handle>,
    ) -> usize {
        let n = self.take(now, max, visibility, msgs, out);
        if n > 0 {
            if let Some(w) = self.waiters.pop_front() {
                self.poll_tokens[w.poller as usize] = 0;
            }
            self.finish_receive(n, out, msgs);
        }
        n
    }

    /// Cancels `poller`'s long poll (its consumer went down).
    pub(crate) fn cancel_wait(&mut self, poller: u32) {
        self.poll_tokens[poller as usize] = 0;
    }

    /// `poller`'s wait time is up: if it is still waiting, its receive ends empty (billed
    /// as an empty receive) and this returns true.
    pub(crate) fn end_wait(&mut self, poller: u32) -> bool {
        if self.poll_tokens[poller as usize] == 0 {
            return false;
        }
        self.poll_tokens[poller as usize] = 0;
        self.finish_empty_wait();
        true
    }

    /// DeleteMessage of one message; true if it was deleted. Billing is the caller's.
    pub(crate) fn delete(&mut self, h: Handle, msgs: &mut MessageStore) -> bool {
        if !msgs.is_live(h.slot, h.id) {
            self.stats.stale_deletes += 1;
            return false;
        }
        let m = msgs.get(h.slot);
        if m.loc != Loc::InFlight || m.home != self.index || m.receipt != h.receipt {
            self.stats.stale_deletes += 1;
            return false;
        }
        self.inflight_count -= 1;
        self.release_group(h.slot, msgs);
        self.stats.deleted += 1;
        msgs.exit(h.slot, Exit::Processed);
        self.compact_inflight(msgs);
        true
    }

    /// Drops the visibility deadlines of messages no longer in flight here once they
    /// outnumber the live ones: a deleted message's deadline would otherwise stay until it
    /// comes due (30 s by default: `rate × 30 s` entries at a high load). Amortized O(1)
    /// per delete. It drops exactly the entries that [`Self::next_deadline`] would skip (the
    /// message is gone, elsewhere or received again) and keeps the order of the others, so
    /// the timer is armed at the same times and every result is unchanged.
    fn compact_inflight(&mut self, msgs: &MessageStore) {
        if self.inflight.len() <= 2 * self.inflight_count as usize + 1024 {
            return;
        }
        let index = self.index;
        self.inflight.retain(|_, (slot, receipt)| {
            let m = msgs.get(slot);
            m.loc == Loc::InFlight && m.home == index && m.receipt == receipt
        });
    }

    /// Records that a consumer finished processing `h` (before deleting it): counts a
    /// duplicate when this copy was processed before, was a copy, or is gone.
    pub(crate) fn on_processed(&mut self, h: Handle, msgs: &mut MessageStore) {
        if !msgs.is_live(h.slot, h.id) {
            self.stats.duplicates += 1;
            return;
        }
        let m = msgs.get_mut(h.slot);
        if m.is_repeat() {
            self.stats.duplicates += 1;
        }
        m.mark_processed();
    }

    /// ChangeMessageVisibility: the message becomes visible `timeout` from now. Returns
    /// false for an outdated handle.
    pub(crate) fn change_visibility(
        &mut self,
        now: SimTime,
        h: Handle,
        timeout: SimDuration,
        msgs: &mut MessageStore,
    ) -> bool {
        if !msgs.is_live(h.slot, h.id) {
            return false;
        }
        let m = msgs.get_mut(h.slot);
        if m.loc != Loc::InFlight || m.home != self.index || m.receipt != h.receipt {
            return false;
        }
        m.deadline = now + timeout;
        let d = m.deadline;
        self.inflight.push(d, (h.slot, h.receipt));
        self.note_deadline(d);
        true
    }

    /// The earliest time the queue's timer must fire, if any.
    fn next_deadline(&mut self, msgs: &MessageStore) -> Option<SimTime> {
        // Drop stale heads so the timer is not armed for deleted messages.
        while let Some((_, (slot, receipt))) = self.inflight.peek() {
            let m = msgs.get(slot);
            if m.loc == Loc::InFlight && m.home == self.index && m.receipt == receipt {
                break;
            }
            self.inflight.pop();
        }
        let mut t = None::<SimTime>;
        for c in [
            self.inflight.peek().map(|x| x.0),
            self.delayed.peek().map(|x| x.0),
        ]
        .into_iter()
        .flatten()
        {
            t = Some(t.map_or(c, |x| x.min(c)));
        }
        t
    }

    #[inline]
    fn note_deadline(&mut self, t: SimTime) {
        if self.pending_min.is_none_or(|m| t < m) {
            self.pending_min = Some(t);
        }
    }

    /// Re-arms the queue's single timer if its earliest deadline moved earlier; returns
    /// `(time, generation)` of a timer event the engine must schedule at `now` or later.
    ///
    /// While the timer is armed only deadlines pushed since then can move it earlier, so
    /// this is O(1); when it is not armed the earliest live deadline is searched (skipping
    /// entries made stale by deletes and served long polls). A deadline already past (one
    /// pushed by a caller that re-armed only later) fires at `now`: the armed time is the
    /// time of the event, which [`SqsQueue::on_timer`] checks.
    #[inline]
    pub(crate) fn rearm(&mut self, now: SimTime, msgs: &MessageStore) -> Option<(SimTime, u32)> {
        let next = match self.timer_at {
            Some(armed) => match self.pending_min.take() {
                Some(d) if d < armed => d,
                _ => return None,
            },
            None => {
                self.pending_min = None;
                self.next_deadline(msgs)?
            }
        };
        let next = next.max(now);
        if self.timer_at.is_some_and(|armed| armed <= next) {
            return None;
        }
        self.timer_gen = self.timer_gen.wrapping_add(1);
        self.timer_at = Some(next);
        Some((next, self.timer_gen))
    }

    /// The timer fired: applies every due deadline. Effects for the engine go to `out`.
    pub(crate) fn on_timer(
        &mut self,
        now: SimTime,
        gen: u32,
        msgs: &mut MessageStore,
        out: &mut Vec<TimerEffect>,
    ) -> bool {
        if gen != self.timer_gen || self.timer_at != Some(now) {
            return false;
        }
        self.timer_at = None;
        while let Some((_, slot)) = self.delayed.pop_due(now) {
            self.delayed_count -= 1;
            self.make_visible(slot, msgs, false);
        }
        while let Some((_, (slot, receipt))) = self.inflight.pop_due(now) {
            let m = msgs.get(slot);
            if m.loc != Loc::InFlight
                || m.home != self.index
                || m.receipt != receipt
                || m.deadline > now
            {
                continue; // deleted, re-received or extended
            }
            self.inflight_count -= 1;
            let (rc, enq) = (m.receive_count as u32, m.enqueued);
            if now >= enq + self.spec.retention {
                // pop_visible counted a FIFO message in its group: release it.
                self.expire(slot, msgs);
                continue;
            }
            match self.spec.dead_letter {
                Some(dl) if rc >= dl.max_receive_count => {
                    self.release_group(slot, msgs);
                    self.stats.dead_lettered += 1;
                    msgs.get_mut(slot).loc = Loc::Transit;
                    out.push(TimerEffect::ToDeadLetter { slot });
                }
                _ => {
                    self.release_group(slot, msgs);
                    self.make_visible(slot, msgs, true);
                }
            }
        }
        true
    }

    /// Age of the oldest stored (visible or delayed) message at `now`.
    pub(crate) fn age_of_oldest(&self, now: SimTime, msgs: &MessageStore) -> SimDuration {
        let mut oldest: Option<SimTime> = None;
        let mut see = |t: SimTime| oldest = Some(oldest.map_or(t, |o: SimTime| o.min(t)));
        if self.spec.fifo {
            for g in &self.groups {
                if let Some(s) = g.msgs.front() {
                    see(msgs.get(*s).enqueued);
                }
            }
        } else {
            if let Some(s) = self.visible.front() {
                see(msgs.get(*s).enqueued);
            }
            if let Some(s) = self.returned.front() {
                see(msgs.get(*s).enqueued);
            }
        }
        if let Some((_, s)) = self.delayed.peek() {
            see(msgs.get(s).enqueued);
        }
        oldest.map(|o| now - o).unwrap_or(SimDuration::ZERO)
    }

    /// Samples the age of the oldest message into the running maximum.
    pub(crate) fn sample_age(&mut self, now: SimTime, msgs: &MessageStore) -> SimDuration {
        let age = self.age_of_oldest(now, msgs);
        self.stats.age_of_oldest_max_ns = self.stats.age_of_oldest_max_ns.max(age.0);
        age
    }

    /// Resets the counters at the end of the warm-up; maxima restart from the present.
    pub(crate) fn reset_stats(&mut self) {
        self.stats = QueueStats {
            backlog_max: self.backlog(),
            inflight_max: self.inflight_count,
            ..QueueStats::default()
        };
    }

    /// At the end of the run: expires every stored message past retention (so they are
    /// counted as lost, not waiting).
    pub(crate) fn expire_overdue(&mut self, now: SimTime, msgs: &mut MessageStore) {
        let retention = self.spec.retention;
        let overdue = |s: &u32, msgs: &MessageStore| now >= msgs.get(*s).enqueued + retention;
        let mut gone: Vec<u32> = Vec::new();
        if self.spec.fifo {
            for g in &mut self.groups {
                g.msgs.retain(|s| {
                    let o = overdue(s, msgs);
                    if o {
                        gone.push(*s);
                    }
                    !o
                });
            }
        } else {
            for dq in [&mut self.visible, &mut self.returned] {
                dq.retain(|s| {
                    let o = overdue(s, msgs);
                    if o {
                        gone.push(*s);
                    }
                    !o
                });
            }
        }
        self.visible_count -= gone.len() as u64;
        for s in gone {
            self.stats.expired += 1;
            msgs.exit(s, Exit::Expired);
        }
    }

    /// Takes one visible message out for a redrive (oldest first), if any.
    pub(crate) fn take_for_redrive(
        &mut self,
        now: SimTime,
        msgs: &mut MessageStore,
    ) -> Option<u32> {
        loop {
            let slot = self.pop_visible(msgs)?;
            self.visible_count -= 1;
            if self.spec.fifo {
                self.release_group(slot, msgs);
            }
            if self.expired(now, slot, msgs) {
                self.stats.expired += 1;
                msgs.exit(slot, Exit::Expired);
                continue;
            }
            msgs.get_mut(slot).loc = Loc::Transit;
            return Some(slot);
        }
    }

    /// The component report.
    pub(crate) fn report(&self) -> ComponentReport {
        let s = &self.stats;
        let mut r = ComponentReport::new("queue", &self.spec.name);
        r.text("type", if self.spec.fifo { "fifo" } else { "standard" })
            .count("sent", s.sent)
            .count("moved_in", s.moved_in)
            .count("received", s.received)
            .count("deleted", s.deleted)
            .count("empty_receives", s.empty_receives)
            .count("duplicates", s.duplicates)
            .count("redelivered", s.redelivered)
            .count("dead_lettered", s.dead_lettered)
            .count("expired", s.expired)
            .count("throttled", s.throttled)
            .count("over_limit", s.over_limit)
            .count("deduplicated", s.deduplicated)
            .count("rejected_too_large", s.rejected_too_large)
            .count("stale_deletes", s.stale_deletes)
            .count("backlog", self.backlog())
            .count("in_flight", self.inflight_count)
            .count("backlog_max", s.backlog_max)
            .count("inflight_max", s.inflight_max)
            .real("age_of_oldest_max_s", s.age_of_oldest_max_ns as f64 / 1e9)
            .count("api_requests", s.api_requests)
            .count("send_calls", s.send_calls)
            .count("receive_calls", s.receive_calls)
            .count("delete_calls", s.delete_calls)
            .count("change_visibility_calls", s.change_visibility_calls)
            .latency("wait_s", &s.wait)
            .headline(&[
                "sent",
                "received",
                "deleted",
                "empty_receives",
                "redelivered",
                "dead_lettered",
                "expired",
                "throttled",
                "backlog_max",
                "age_of_oldest_max_s",
                "api_requests",
                "wait_s",
            ]);
        r
    }
}

/// Order of messages within a FIFO group: enqueue time, then id.
fn order_key(msgs: &MessageStore, slot: u32) -> (SimTime, u64) {
    let m = msgs.get(slot);
    (m.enqueued, m.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::new_message;
    use crate::sim::stream;

    fn spec() -> QueueSpec {
        QueueSpec {
            name: "q".into(),
            fifo: false,
            visibility_timeout: SimDuration::from_secs(30),
            delay: SimDuration::ZERO,
            retention: SimDuration::from_secs(345_600),
            max_message_size: 1 << 20,
            receive_wait: SimDuration::ZERO,
            dead_letter: None,
            redrive: None,
            high_throughput: false,
            duplicate_probability: 0.0,
            short_poll_sample: 1.0,
            api_latency: DurationDist::zero(),
            in_flight_limit: 120_000,
            tps_limit: None,
            group_rps_limit: None,
            dedup_interval: SimDuration::from_secs(300),
            billing_chunk: 65_536,
            is_dead_letter_queue: false,
        }
    }

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn a_deadline_already_past_when_re_arming_fires_now() {
        // A message received at 0 s with a 60 s visibility timeout arms the timer for
        // 60 s. At 10 s its visibility is changed to 15 s (deadline 25 s) but nothing
        // re-arms until 30 s. The timer must then fire at 30 s (not be armed for 25 s,
        // a time already past, which `on_timer` would never match) and return the message.
        let mut msgs = MessageStore::default();
        let mut q = SqsQueue::new(spec(), 0, stream(1, "q"));
        let poller = q.register_poller();
        let slot = msgs.create(new_message(1, at(0), 100, 0, 0));
        q.send(at(0), slot, SimDuration::ZERO, &mut msgs).unwrap();
        let mut out = Vec::new();
        let got = q.receive(
            at(0),
            poller,
            1,
            SimDuration::ZERO,
            SimDuration::from_secs(60),
            &mut msgs,
            &mut out,
        );
        assert_eq!(got, Receive::Got(1));
        let (t, gen) = q
            .rearm(at(0), &msgs)
            .expect("armed for the visibility timeout");
        assert_eq!(t, at(60));
        assert!(q.change_visibility(at(10), out[0], SimDuration::from_secs(15), &mut msgs));
        let (t, gen2) = q.rearm(at(30), &msgs).expect("re-armed earlier");
        assert_eq!(t, at(30));
        assert_ne!(gen, gen2);
        let mut effects = Vec::new();
        assert!(
            !q.on_timer(at(60), gen, &mut msgs, &mut effects),
            "stale timer"
        );
        assert!(q.on_timer(at(30), gen2, &mut msgs, &mut effects));
        assert_eq!(q.inflight_len(), 0);
        assert_eq!(q.visible_len(), 1);
        assert_eq!(msgs.get(slot).loc, Loc::Visible);
    }

    #[test]
    fn a_timer_due_now_is_not_re_armed() {
        // A is delayed 25 s (the timer is armed for 25 s); B is received at 0 s with a
        // 60 s visibility timeout, changed at 20 s to 2 s (deadline 22 s), and nothing
        // re-arms before 25 s. Re-arming at 25 s needs no second event: the one pending
        // for 25 s fires now and handles both deadlines.
        let mut msgs = MessageStore::default();
        let mut q = SqsQueue::new(spec(), 0, stream(1, "q"));
        let poller = q.register_poller();
        let a = msgs.create(new_message(1, at(0), 100, 0, 0));
        q.send(at(0), a, SimDuration::from_secs(25), &mut msgs)
            .unwrap();
        let b = msgs.create(new_message(2, at(0), 100, 0, 0));
        q.send(at(0), b, SimDuration::ZERO, &mut msgs).unwrap();
        let mut out = Vec::new();
        let got = q.receive(
            at(0),
            poller,
            1,
            SimDuration::ZERO,
            SimDuration::from_secs(60),
            &mut msgs,
            &mut out,
        );
        assert_eq!(got, Receive::Got(1));
        let (t, gen) = q.rearm(at(0), &msgs).unwrap();
        assert_eq!(t, at(25));
        assert!(q.change_visibility(at(20), out[0], SimDuration::from_secs(2), &mut msgs));
        assert_eq!(q.rearm(at(25), &msgs), None);
        let mut effects = Vec::new();
        assert!(q.on_timer(at(25), gen, &mut msgs, &mut effects));
        assert_eq!(q.visible_len(), 2);
        assert_eq!(q.inflight_len(), 0);
    }
}
