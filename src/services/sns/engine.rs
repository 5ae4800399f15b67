//! The SNS flow: producers publishing to topics, fan-out through filter policies,
//! deliveries and their retries, subscription dead-letter queues, and Lambda functions
//! invoked asynchronously by subscriptions (see `services::sns` for the model).
//!
//! Every delivery is a message in the slab (the original for the first matching
//! subscription, a copy for each other one), so the ledger balances as for SQS: while a
//! delivery waits for its latency or a retry it is in transit; it leaves as processed
//! (at a sink, or after a Lambda invocation), moves into a queue (waiting, or
//! dead-lettered in a subscription DLQ), or is lost.
//!
//! # Asynchronous Lambda invocation
//! A subscription hands a message to the function's event queue (AWS accepts the event at
//! once: the delivery has succeeded). The queue invokes the function as concurrency
//! allows, one event per invocation. While its own invocations hold all the concurrency
//! it may use, the queue waits for one to end; otherwise a throttled invoke (counted in
//! `throttles`) is retried after a back-off that doubles from 1 s to 5 minutes; an
//! invocation that fails (the function's
//! `failure_probability`, or a timeout) is retried after 1 minute and then 2 minutes (up
//! to `maximum_retry_attempts`, default 2), then the event is lost; an event older than 6
//! hours is dropped as lost (invocation-async-error-handling.html). Events in the queue
//! count as waiting, running ones as in flight.

use crate::engine::{sample_rate, Engine, Event};
use crate::load::attrs::Attr;
use crate::message::{Exit, Loc, Message};
use crate::metrics::ComponentReport;
use crate::model::Architecture;
use crate::producers::Target;
use crate::services::lambda::function::Invocation;
use crate::services::sns::bill::{SnsDelivery, SnsProtocol, SnsUsage};
use crate::services::sns::filter::{CompiledFilter, Scope};
use crate::services::sns::subscription::RESERVED;
use crate::services::sns::topic::Bucket;
use crate::services::sns::{Endpoint, Protocol, SnsSubscription, SnsTopic};
use crate::services::sqs::queue::Action;
use crate::services::sqs::SendError;
use crate::sim::rng::stream_seed;
use crate::sim::{stream, Deadlines, SimDuration, SimTime};
use rand::Rng;
use std::collections::VecDeque;

/// Home of a message held by a function's asynchronous event queue (no SQS queue).
const ASYNC_HOME: u32 = u32::MAX;

/// A running asynchronous invocation.
#[derive(Clone, Copy, Debug)]
struct Running {
    slot: u32,
    tries: u8,
    inv: Invocation,
}

/// The asynchronous event queue of a function that subscriptions invoke.
pub(crate) struct AsyncQueue {
    /// Events waiting for concurrency: (slot, invocations failed so far).
    queue: VecDeque<(u32, u8)>,
    /// Failed events waiting for their retry.
    retries: Deadlines<(u32, u8)>,
    running: Vec<Option<Running>>,
    free: Vec<u32>,
    timer_at: Option<SimTime>,
    timer_gen: u32,
    backoff: SimDuration,
    max_retries: u8,
    /// Events accepted from subscriptions.
    accepted: u64,
    /// Events lost after their last retry.
    lost: u64,
    /// Events dropped for being older than the maximum event age.
    expired: u64,
}

/// The SNS state of a run.
pub(crate) struct Sns {
    /// Topics, by model order.
    pub(crate) topics: Vec<SnsTopic>,
    /// Subscriptions, by model order.
    pub(crate) subs: Vec<SnsSubscription>,
    /// The account's regional publish quota.
    regional: Bucket,
    /// Per producer: the seeds of its attributes and of its body fields.
    seeds: Vec<(u64, u64)>,
    /// `filters[s][p]`: subscription `s`'s policy compiled for producer `p`'s schema.
    filters: Vec<Vec<Option<CompiledFilter>>>,
    /// Per Lambda function: its asynchronous event queue, if a subscription invokes it.
    pub(crate) asyncs: Vec<Option<AsyncQueue>>,
    scratch: Vec<u32>,
}

impl Sns {
    /// Builds the topics, subscriptions and compiled filters of `arch`.
    pub(crate) fn new(arch: &Architecture, seed: u64) -> Self {
        let topics = arch
            .topics
            .iter()
            .map(|t| SnsTopic::new(t.clone(), stream(seed, &format!("topic:{}", t.name))))
            .collect();
        let subs = arch
            .subscriptions
            .iter()
            .map(|s| {
                SnsSubscription::new(s.clone(), stream(seed, &format!("subscription:{}", s.name)))
            })
            .collect();
        let seeds = arch
            .producers
            .iter()
            .map(|p| {
                (
                    stream_seed(seed, &format!("attributes:{}", p.name)),
                    stream_seed(seed, &format!("body:{}", p.name)),
                )
            })
            .collect();
        let filters = arch
            .subscriptions
            .iter()
            .map(|s| {
                arch.producers
                    .iter()
                    .map(|p| match &s.filter {
                        Some(f) if p.target == Target::Topic(s.topic) => {
                            Some(f.compile(match f.scope {
                                Scope::Attributes => &p.attributes,
                                Scope::Body => &p.body,
                            }))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let lim = &arch.limits.lambda;
        let asyncs = arch
            .lambdas
            .iter()
            .enumerate()
            .map(|(l, f)| {
                let invoked = arch
                    .subscriptions
                    .iter()
                    .any(|s| s.endpoint == Endpoint::Lambda(l as u32));
                invoked.then(|| AsyncQueue {
                    queue: VecDeque::new(),
                    retries: Deadlines::new(),
                    running: Vec::new(),
                    free: Vec::new(),
                    timer_at: None,
                    timer_gen: 0,
                    backoff: lim.async_throttle_backoff_min.0,
                    max_retries: f
                        .maximum_retry_attempts
                        .unwrap_or(lim.async_max_retry_attempts)
                        .min(lim.async_max_retry_attempts)
                        .min(u8::MAX as u32) as u8,
                    accepted: 0,
                    lost: 0,
                    expired: 0,
                })
            })
            .collect();
        Sns {
            topics,
            subs,
            regional: Bucket::new(arch.limits.sns.regional_publish_per_s as f64),
            seeds,
            filters,
            asyncs,
            scratch: Vec::new(),
        }
    }

    /// Time-series column names, in the order [`Engine::sns_sample`] fills them.
    pub(crate) fn columns(arch: &Architecture) -> Vec<String> {
        let mut out = Vec::new();
        for t in &arch.topics {
            for m in ["published_per_s", "deliveries_per_s"] {
                out.push(format!("topic.{}.{m}", t.name));
            }
        }
        for s in &arch.subscriptions {
            out.push(format!("subscription.{}.pending", s.name));
        }
        out
    }
}

/// The FIFO message group of a message (its producer and key).
#[inline]
fn group_of(m: &Message) -> u64 {
    ((m.producer as u64) << 32) | m.key as u64
}

fn protocol_index(p: Protocol) -> usize {
    Protocol::ALL.iter().position(|x| *x == p).unwrap_or(0)
}

impl Engine<'_> {
    // ----- publishing ------------------------------------------------------------------

    /// Starts (or retries) Publish/PublishBatch call `call` of producer `p`.
    pub(crate) fn publish_transmit(&mut self, p: u32, call: u32) {
        let Target::Topic(t) = self.producers[p as usize].spec.target else {
            return;
        };
        let topic = &mut self.sns.topics[t as usize];
        let latency = topic.spec.api_latency.sample(&mut topic.rng);
        let prod = &mut self.producers[p as usize];
        prod.calls[call as usize].latency = latency;
        prod.stats.calls += 1;
        let leg = latency.half();
        if leg.is_zero() {
            self.on_publish_arrive(p, call);
        } else {
            self.at(self.now + leg, Event::PublishArrive { p, call });
        }
    }

    /// A publish call reaches its topic: size checks, throttling, billing, deduplication
    /// and fan-out.
    pub(crate) fn on_publish_arrive(&mut self, p: u32, call: u32) {
        let now = self.now;
        let pi = p as usize;
        let Target::Topic(t) = self.producers[pi].spec.target else {
            return;
        };
        let ti = t as usize;
        if self.arch.access.denies_producer(pi) {
            return self.deny_call(p, call);
        }
        let slots = std::mem::take(&mut self.producers[pi].calls[call as usize].msgs);
        let n = slots.len() as u32;
        let payload: u64 = slots.iter().map(|s| self.msgs.get(*s).size as u64).sum();
        let max = self.sns.topics[ti].spec.max_message_size as u64;
        if n > 1 && payload > max {
            // PublishBatch over the topic's maximum size: the whole call is refused.
            self.producers[pi].stats.rejected += n as u64;
            self.sns.topics[ti].stats.rejected_too_large += n as u64;
            for s in &slots {
                self.msgs.exit(*s, Exit::Dropped);
            }
            self.producers[pi].calls[call as usize].msgs = slots;
            self.call_finished(p, call);
            return;
        }
        let storm = self.faults.topic_throttled(ti, self.arch);
        let regional_ok = self.sns.regional.has(now, n as f64);
        if storm || !self.sns.topics[ti].admit(now, n, payload, regional_ok) {
            self.producers[pi].stats.throttled += n as u64;
            self.sns.topics[ti].stats.throttled += n as u64;
            self.producers[pi].calls[call as usize].msgs = slots;
            self.retry_or_drop(p, call);
            return;
        }
        self.sns.regional.take(n as f64);
        self.sns.topics[ti].bill(payload);
        let resend = self.producers[pi].spec.resend;
        for &slot in &slots {
            let (size, id, is_copy) = {
                let m = self.msgs.get(slot);
                (m.size as u64, m.id, m.is_copy())
            };
            let resend_copy = match resend {
                Some(r) if !is_copy && self.producers[pi].rng.random::<f64>() < r.probability => {
                    Some((self.msgs.copy(slot, true), r.after))
                }
                _ => None,
            };
            if size > max {
                self.producers[pi].stats.rejected += 1;
                self.sns.topics[ti].stats.rejected_too_large += 1;
                self.msgs.exit(slot, Exit::Dropped);
            } else {
                self.producers[pi].stats.sent += 1;
                if self.sns.topics[ti].is_duplicate(now, id) {
                    self.sns.topics[ti].stats.deduplicated += 1;
                    self.msgs.exit(slot, Exit::Deduplicated);
                } else {
                    self.sns.topics[ti].stats.published += 1;
                    self.fan_out(ti, slot);
                }
            }
            if let Some((copy, after)) = resend_copy {
                self.producers[pi].stats.resent += 1;
                self.at(now + after, Event::Resend { p, slot: copy });
            }
        }
        self.producers[pi].calls[call as usize].msgs = slots;
        self.call_finished(p, call);
    }

    /// Evaluates every subscription's filter for message `slot` published to topic `ti`
    /// and starts one delivery per match.
    fn fan_out(&mut self, ti: usize, slot: u32) {
        let now = self.now;
        let (p, id, size, group, is_copy) = {
            let m = self.msgs.get(slot);
            (
                m.producer as usize,
                m.id,
                m.size as u64,
                group_of(m),
                m.is_copy(),
            )
        };
        let mut matched = std::mem::take(&mut self.sns.scratch);
        matched.clear();
        let (attr_seed, body_seed) = self.sns.seeds[p];
        let pspec = &self.arch.producers[p];
        for k in 0..self.sns.topics[ti].spec.subscriptions.len() {
            let s = self.sns.topics[ti].spec.subscriptions[k];
            let si = s as usize;
            let ok = match &self.sns.filters[si][p] {
                None => true,
                Some(f) => {
                    let (schema, seed): (&[Attr], u64) = match self.sns.subs[si].spec.filter_scope {
                        Scope::Attributes => (&pspec.attributes, attr_seed),
                        Scope::Body => (&pspec.body, body_seed),
                    };
                    f.matches(schema, seed, id)
                }
            };
            if self.sns.subs[si].spec.filter_scope == Scope::Body
                && self.sns.subs[si].spec.filter.is_some()
            {
                self.sns.topics[ti].stats.payload_filter_bytes += size;
            }
            if ok {
                matched.push(s);
            }
        }
        if matched.is_empty() {
            self.sns.topics[ti].stats.filtered_out += 1;
            self.msgs.exit(slot, Exit::FilteredOut);
        } else {
            self.msgs.get_mut(slot).enqueued = now;
            for (k, &s) in matched.iter().enumerate() {
                let copy = if k == 0 {
                    slot
                } else {
                    self.msgs.copy(slot, is_copy)
                };
                self.sns.subs[s as usize].start(now, copy, group);
                self.sub_arm(s);
            }
        }
        self.sns.scratch = matched;
    }

    // ----- deliveries ------------------------------------------------------------------

    /// Arms subscription `s`'s timer for its earliest pending attempt.
    #[inline]
    fn sub_arm(&mut self, s: u32) {
        if let Some((t, gen)) = self.sns.subs[s as usize].arm(self.now) {
            self.at(t, Event::SubTimer { s, gen });
        }
    }

    /// Subscription `s`'s timer: makes every attempt that is due.
    pub(crate) fn on_sub_timer(&mut self, s: u32, gen: u32) {
        let now = self.now;
        if !self.sns.subs[s as usize].fire(now, gen) {
            return;
        }
        while let Some((slot, attempt)) = self.sns.subs[s as usize].pop_due(now) {
            self.attempt(s, slot, attempt);
        }
        self.sub_arm(s);
    }

    /// One delivery attempt of `slot` by subscription `s`.
    fn attempt(&mut self, s: u32, slot: u32, raw_attempt: u32) {
        let now = self.now;
        let si = s as usize;
        let reserved = raw_attempt & RESERVED != 0;
        let attempt = raw_attempt & !RESERVED;
        let sub = &mut self.sns.subs[si];
        let group = if sub.spec.fifo {
            group_of(self.msgs.get(slot))
        } else {
            0
        };
        if sub.hold_if_blocked(group, slot, attempt) {
            return;
        }
        if !reserved {
            if let Some(at) = sub.throttle(now) {
                sub.push(at, slot, attempt | RESERVED);
                return;
            }
        }
        sub.stats.attempts += 1;
        let ti = sub.spec.topic as usize;
        if attempt > 1 {
            sub.stats.retries += 1;
            self.sns.topics[ti].stats.retries += 1;
        }
        if self.sns.subs[si].endpoint_fails(now) {
            return self.failed_attempt(s, slot, attempt, group);
        }
        let (envelope, published, size) = {
            let m = self.msgs.get(slot);
            (self.sns.subs[si].spec.envelope, m.enqueued, m.size)
        };
        let delivered_size = size.saturating_add(envelope);
        match self.sns.subs[si].spec.endpoint {
            Endpoint::Queue(q) => {
                let qi = q as usize;
                if self.arch.access.denies_delivery(si) {
                    // The queue's policy does not let SNS send: a client error (the
                    // notification fails), not retried.
                    self.sns.subs[si].stats.denied += 1;
                    self.sns.topics[ti].stats.denied += 1;
                    self.give_up(s, slot);
                    return self.fifo_release(s, slot, group);
                }
                let storm = self.faults.queue_throttled(qi, self.arch);
                if storm
                    || !self.queues[qi].admit(Action::Send, now)
                    || !self.queues[qi].admit_group(slot, &self.msgs, now)
                {
                    // SQS throttled the send: a server-side error, retried by the policy.
                    return self.failed_attempt(s, slot, attempt, group);
                }
                self.msgs.get_mut(slot).size = delivered_size;
                self.queues[qi].bill(delivered_size as u64);
                self.queues[qi].stats.send_calls += 1;
                match self.queues[qi].send(now, slot, SimDuration::ZERO, &mut self.msgs) {
                    Ok(()) => {
                        self.delivered(
                            s,
                            attempt,
                            delivered_size as u64,
                            size as u64,
                            now - published,
                        );
                        self.feed_waiters(q);
                    }
                    Err(SendError::TooLarge) => {
                        // A client error: SNS does not retry it.
                        self.sns.subs[si].stats.client_errors += 1;
                        self.give_up(s, slot);
                    }
                }
            }
            Endpoint::Lambda(l) => {
                if delivered_size as u64 > self.arch.limits.lambda.async_max_payload_bytes {
                    self.sns.subs[si].stats.client_errors += 1;
                    self.give_up(s, slot);
                } else {
                    self.delivered(
                        s,
                        attempt,
                        delivered_size as u64,
                        size as u64,
                        now - published,
                    );
                    // The event the function gets is the notification (billed by size).
                    self.msgs.get_mut(slot).size = delivered_size;
                    self.async_accept(l, slot);
                }
            }
            Endpoint::Firehose(f) => {
                let created = self.msgs.get(slot).created;
                let key = self.msgs.get(slot).key;
                let max = self.arch.firehoses[f as usize].limits.max_record_size.0;
                if delivered_size as u64 > max {
                    // A client error: SNS does not retry it.
                    self.sns.subs[si].stats.client_errors += 1;
                    self.give_up(s, slot);
                    return self.fifo_release(s, slot, group);
                }
                if !self.firehose_from_sns(f, created, delivered_size as u64, key) {
                    // Over the stream's Direct PUT quotas: a throttling error, retried.
                    return self.failed_attempt(s, slot, attempt, group);
                }
                self.delivered(
                    s,
                    attempt,
                    delivered_size as u64,
                    size as u64,
                    now - published,
                );
                self.msgs.exit(slot, Exit::Handed);
            }
            Endpoint::Sink(_) => {
                self.delivered(
                    s,
                    attempt,
                    delivered_size as u64,
                    size as u64,
                    now - published,
                );
                self.msgs.exit(slot, Exit::Processed);
            }
        }
        self.fifo_release(s, slot, group);
    }

    /// Counts a successful delivery of `bytes` (the envelope included) carrying a
    /// `payload` of the published size.
    fn delivered(&mut self, s: u32, attempt: u32, bytes: u64, payload: u64, latency: SimDuration) {
        let sub = &mut self.sns.subs[s as usize];
        sub.finish();
        let st = &mut sub.stats;
        st.deliveries += 1;
        st.delivered_bytes += bytes;
        st.attempts_max = st.attempts_max.max(attempt as u64);
        st.latency.record(latency);
        let k = protocol_index(sub.spec.protocol);
        let topic = &mut self.sns.topics[sub.spec.topic as usize].stats;
        topic.deliveries[k] += 1;
        topic.delivered_bytes[k] += payload;
        topic.latency.record(latency);
    }

    /// A failed attempt: schedule the next one by the policy, or give up.
    ///
    /// Retries that would fall inside a window where the endpoint is certainly down
    /// (an outage with probability 1) are not scheduled one by one: they would fail
    /// without drawing anything, so they are counted here (attempts, retries, failures,
    /// each delay drawn with its jitter as it would have been) and only the first retry
    /// that may succeed, or the last one of the policy, is scheduled. A long outage then
    /// costs one pending entry per message instead of one per retry. (Not with
    /// `max_receives_per_second`, whose slots every attempt takes.)
    fn failed_attempt(&mut self, s: u32, slot: u32, attempt: u32, group: u64) {
        let now = self.now;
        let horizon = self.horizon;
        let sub = &mut self.sns.subs[s as usize];
        let topic = &mut self.sns.topics[sub.spec.topic as usize].stats;
        sub.stats.failures += 1;
        topic.delivery_failures += 1;
        let skip = sub.spec.max_receives_per_second.is_none();
        let mut at = now;
        let mut a = attempt;
        loop {
            let Some(d) = sub.retry_delay(a) else {
                self.give_up(s, slot);
                self.fifo_release(s, slot, group);
                return;
            };
            let next = at + d;
            let more = sub.spec.policy.delay_after(a as u64 + 1).is_some();
            // Attempts after the end of the run are not counted: the run stops first.
            if skip && more && next <= horizon && sub.certainly_down(next) {
                // Attempt a + 1 at `next` fails for sure: count it and draw the next delay.
                a += 1;
                at = next;
                sub.stats.attempts += 1;
                sub.stats.retries += 1;
                sub.stats.failures += 1;
                topic.retries += 1;
                topic.delivery_failures += 1;
                continue;
            }
            sub.block(group, slot);
            sub.push(next, slot, a + 1);
            return;
        }
    }

    /// Retries are exhausted (or the endpoint refused the message for good): to the
    /// subscription's dead-letter queue, or lost.
    fn give_up(&mut self, s: u32, slot: u32) {
        let now = self.now;
        let si = s as usize;
        self.sns.subs[si].finish();
        let ti = self.sns.subs[si].spec.topic as usize;
        if let Some(q) = self.sns.subs[si]
            .spec
            .dead_letter
            .filter(|_| !self.arch.access.denies_dead_letter(si))
        {
            let qi = q as usize;
            let size = self.msgs.get(slot).size as u64;
            self.queues[qi].bill(size);
            self.queues[qi].stats.send_calls += 1;
            if self.queues[qi]
                .send(now, slot, SimDuration::ZERO, &mut self.msgs)
                .is_ok()
            {
                self.sns.subs[si].stats.dead_lettered += 1;
                self.sns.topics[ti].stats.dead_lettered += 1;
                self.feed_waiters(q);
                return;
            }
        }
        self.sns.subs[si].stats.lost += 1;
        self.sns.topics[ti].stats.lost += 1;
        self.msgs.exit(slot, Exit::Lost);
    }

    /// FIFO: `slot` is done; let the attempts it held back go, in order.
    fn fifo_release(&mut self, s: u32, slot: u32, group: u64) {
        while let Some((next, attempt)) = self.sns.subs[s as usize].next_released(group, slot) {
            self.attempt(s, next, attempt);
        }
    }

    // ----- asynchronous Lambda invocation ---------------------------------------------

    /// Function `l` accepts message `slot` into its asynchronous event queue.
    fn async_accept(&mut self, l: u32, slot: u32) {
        let now = self.now;
        let m = self.msgs.get_mut(slot);
        m.loc = Loc::Visible;
        m.home = ASYNC_HOME;
        m.enqueued = now;
        if let Some(aq) = self.sns.asyncs[l as usize].as_mut() {
            aq.accepted += 1;
            aq.queue.push_back((slot, 0));
        }
        self.async_drain(l);
    }

    /// Invokes function `l` on queued events while concurrency allows.
    fn async_drain(&mut self, l: u32) {
        let now = self.now;
        let li = l as usize;
        let max_age = self.arch.limits.lambda.async_max_event_age.0;
        let (bmin, bmax) = (
            self.arch.limits.lambda.async_throttle_backoff_min.0,
            self.arch.limits.lambda.async_throttle_backoff_max.0,
        );
        let measured = now >= self.measure_from;
        loop {
            let Some(aq) = self.sns.asyncs[li].as_mut() else {
                return;
            };
            let Some(&(slot, tries)) = aq.queue.front() else {
                return;
            };
            let enqueued = self.msgs.get(slot).enqueued;
            if now - enqueued >= max_age {
                aq.queue.pop_front();
                aq.expired += 1;
                self.msgs.exit(slot, Exit::Lost);
                continue;
            }
            let f = &self.lambdas[li];
            let free = match f.reserved {
                Some(r) => f.running < r,
                None => self.account_pool > 0,
            };
            if !free && f.running > 0 {
                // No concurrency now, but one of its own invocations will end and drain
                // the queue again: no throttled invoke to count or retry.
                return;
            }
            match self.lambdas[li].start(now, 1, &mut self.account_pool) {
                Some(inv) => {
                    aq.queue.pop_front();
                    aq.backoff = bmin;
                    let r = Running { slot, tries, inv };
                    let i = match aq.free.pop() {
                        Some(i) => {
                            aq.running[i as usize] = Some(r);
                            i
                        }
                        None => {
                            aq.running.push(Some(r));
                            (aq.running.len() - 1) as u32
                        }
                    };
                    self.msgs.get_mut(slot).loc = Loc::InFlight;
                    // Each invocation, a retry's too, is billed by the event's size.
                    let extra = self
                        .arch
                        .limits
                        .lambda
                        .async_requests(self.msgs.get(slot).size as u64)
                        - 1;
                    self.lambdas[li].stats.extra_requests += extra;
                    if measured {
                        self.lambdas[li].stats.wait.record(now - enqueued);
                    }
                    self.at(now + inv.runs_for, Event::AsyncDone { l, i });
                }
                None => {
                    let wait = aq.backoff;
                    aq.backoff = SimDuration(aq.backoff.0.saturating_mul(2)).min(bmax);
                    self.async_arm(l, now + wait);
                    return;
                }
            }
        }
    }

    /// Arms function `l`'s event-queue timer for `at` unless it is armed earlier.
    fn async_arm(&mut self, l: u32, at: SimTime) {
        let Some(aq) = self.sns.asyncs[l as usize].as_mut() else {
            return;
        };
        if aq.timer_at.is_some_and(|t| t <= at) {
            return;
        }
        aq.timer_gen = aq.timer_gen.wrapping_add(1);
        aq.timer_at = Some(at);
        let gen = aq.timer_gen;
        self.at(at.max(self.now), Event::AsyncTimer { l, gen });
    }

    /// Function `l`'s event-queue timer: due retries rejoin the queue, which drains.
    pub(crate) fn on_async_timer(&mut self, l: u32, gen: u32) {
        let now = self.now;
        let Some(aq) = self.sns.asyncs[l as usize].as_mut() else {
            return;
        };
        if aq.timer_gen != gen {
            return;
        }
        aq.timer_at = None;
        while let Some((_, e)) = aq.retries.pop_due(now) {
            aq.queue.push_back(e);
        }
        let next = aq.retries.peek().map(|(t, _)| t);
        self.async_drain(l);
        if let Some(t) = next {
            self.async_arm(l, t);
        }
    }

    /// An asynchronous invocation of function `l` ended.
    pub(crate) fn on_async_done(&mut self, l: u32, i: u32) {
        let now = self.now;
        let li = l as usize;
        let measured = now >= self.measure_from;
        let Some(aq) = self.sns.asyncs[li].as_mut() else {
            return;
        };
        let Some(r) = aq.running.get_mut(i as usize).and_then(Option::take) else {
            return;
        };
        aq.free.push(i);
        let f = &mut self.lambdas[li];
        f.finish(now, r.inv.runs_for, &mut self.account_pool, measured);
        let fails = r.inv.timed_out || f.record_fails();
        if !fails {
            f.stats.processed += 1;
            let m = self.msgs.get(r.slot);
            let (created, producer, repeat) = (m.created, m.producer, m.is_repeat());
            f.stats.latency.record(now - created);
            if !repeat {
                let value = self.arch.values.producers[producer as usize];
                self.insight
                    .one(self.insight.lambdas[li], now - created, value);
            }
            self.msgs.exit(r.slot, Exit::Processed);
        } else {
            f.stats.failed += 1;
            f.stats.failed_invocations += 1;
            if r.tries < aq.max_retries {
                let lim = &self.arch.limits.lambda;
                let delay = if r.tries == 0 {
                    lim.async_first_retry_delay.0
                } else {
                    lim.async_second_retry_delay.0
                };
                self.msgs.get_mut(r.slot).loc = Loc::Visible;
                aq.retries.push(now + delay, (r.slot, r.tries + 1));
                self.async_arm(l, now + delay);
            } else {
                aq.lost += 1;
                self.msgs.exit(r.slot, Exit::Lost);
            }
        }
        self.async_drain(l);
    }

    // ----- warm-up, sampling, reports, usage ------------------------------------------

    /// Restarts the SNS statistics at the end of the warm-up.
    pub(crate) fn sns_warmup_end(&mut self) {
        for t in &mut self.sns.topics {
            t.reset_stats();
        }
        for s in &mut self.sns.subs {
            s.reset_stats();
        }
        for aq in self.sns.asyncs.iter_mut().flatten() {
            aq.accepted = 0;
            aq.lost = 0;
            aq.expired = 0;
        }
    }

    /// Fills the SNS columns of a time-series row from `i`; returns the next column.
    pub(crate) fn sns_sample(&self, row: &mut [f64], counts: &mut [u64], mut i: usize) -> usize {
        let dt = self.sample_every.as_secs_f64();
        let first = self.now == SimTime::ZERO;
        let mut rate = |i: usize, total: u64| sample_rate(counts, i, total, dt, first);
        for t in &self.sns.topics {
            row[i] = rate(i, t.stats.published);
            row[i + 1] = rate(i + 1, t.deliveries());
            i += 2;
        }
        for s in &self.sns.subs {
            row[i] = s.in_progress as f64;
            i += 1;
        }
        i
    }

    /// Topic then subscription reports, in model order.
    pub(crate) fn sns_reports(&self) -> Vec<ComponentReport> {
        let mut out = Vec::new();
        for t in &self.sns.topics {
            let pending = t
                .spec
                .subscriptions
                .iter()
                .map(|s| self.sns.subs[*s as usize].in_progress)
                .sum();
            out.push(t.report(pending));
        }
        for s in &self.sns.subs {
            out.push(s.report(&self.sns.topics[s.spec.topic as usize].spec.name));
        }
        out
    }

    /// Adds the asynchronous event queue's counters to the reports of functions that
    /// subscriptions invoke.
    pub(crate) fn sns_patch_lambda_reports(&self, components: &mut [ComponentReport]) {
        for (l, aq) in self.sns.asyncs.iter().enumerate() {
            let Some(aq) = aq else { continue };
            let name = &self.lambdas[l].spec.name;
            if let Some(r) = components
                .iter_mut()
                .find(|c| c.kind == "lambda" && &c.name == name)
            {
                r.count("async_events", aq.accepted)
                    .count(
                        "async_queued",
                        aq.queue.len() as u64 + aq.retries.len() as u64,
                    )
                    .count("async_lost", aq.lost)
                    .count("async_expired", aq.expired);
            }
        }
    }

    /// Billable usage of every topic over the measured window.
    pub(crate) fn sns_usage(&self) -> Vec<SnsUsage> {
        self.sns
            .topics
            .iter()
            .map(|t| SnsUsage {
                name: t.spec.name.clone(),
                fifo: t.spec.fifo,
                publish_requests: t.stats.publish_requests,
                publish_bytes: t.stats.publish_bytes,
                deliveries: Protocol::ALL
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| t.stats.deliveries[*k] > 0)
                    .map(|(k, p)| SnsDelivery {
                        protocol: SnsProtocol::from(*p),
                        count: t.stats.deliveries[k],
                        bytes: t.stats.delivered_bytes[k],
                    })
                    .collect(),
                payload_filter_bytes: t.stats.payload_filter_bytes,
                ..SnsUsage::default()
            })
            .collect()
    }
}
