//! Lambda functions behind SQS event source mappings (see `services::lambda::function`
//! for the model).

use crate::engine::Owner;
use crate::engine::{Engine, Event};
use crate::model::Architecture;
use crate::services::lambda::function::LambdaFn;
use crate::services::lambda::function::{throttle_backoff, PollerState, SqsMapping};
use crate::services::lambda::LambdaSource;
use crate::services::sqs::queue::Action;
use crate::services::sqs::Receive;
use crate::sim::stream;
use crate::sim::SimDuration;

/// The SQS mapping of function `l` (the engine only routes mapping events to functions
/// that have one).
fn mapping(maps: &[Option<SqsMapping>], l: u32) -> &SqsMapping {
    maps[l as usize]
        .as_ref()
        .expect("events of a mapping only exist for functions with one")
}

/// See [`mapping`].
fn mapping_mut(maps: &mut [Option<SqsMapping>], l: u32) -> &mut SqsMapping {
    maps[l as usize]
        .as_mut()
        .expect("events of a mapping only exist for functions with one")
}

/// Long-poll wait of the mapping's receives (AWS's event source mapping long-polls).
const ESM_WAIT: SimDuration = crate::services::lambda::limits::SQS_ESM_WAIT;

/// The functions of `arch`, and the SQS event source mapping of each (by function index)
/// if it has one. Its pollers are registered with the queue as the mapping scales up
/// ([`Engine::poller_start`]).
pub(crate) fn functions(
    arch: &Architecture,
    seed: u64,
) -> (Vec<LambdaFn>, Vec<Option<SqsMapping>>) {
    let lim = &arch.limits.lambda;
    let mut mappings = Vec::new();
    let lambdas = arch
        .lambdas
        .iter()
        .map(|spec| {
            mappings.push(match spec.source {
                LambdaSource::Sqs(q) => {
                    let max = spec.maximum_concurrency.unwrap_or(lim.sqs_max_concurrency);
                    Some(SqsMapping::new(
                        q,
                        max,
                        lim.sqs_initial_concurrency,
                        lim.sqs_scale_up_per_minute.div_ceil(60),
                    ))
                }
                _ => None,
            });
            LambdaFn::new(spec.clone(), stream(seed, &format!("lambda:{}", spec.name)))
        })
        .collect();
    (lambdas, mappings)
}

/// The account's concurrency left to functions without reserved concurrency.
pub(crate) fn unreserved_concurrency(arch: &Architecture) -> u32 {
    let reserved: u32 = arch
        .lambdas
        .iter()
        .filter_map(|l| l.reserved_concurrency)
        .sum();
    arch.limits
        .lambda
        .account_concurrency
        .saturating_sub(reserved)
}

impl Engine<'_> {
    /// Starts the mapping's first pollers and its scaling clock.
    pub(crate) fn start_mappings(&mut self) {
        let mut any = false;
        for l in 0..self.mappings.len() {
            let Some(m) = &mut self.mappings[l] else {
                continue;
            };
            any = true;
            let n = m.min_pollers;
            for p in 0..n {
                self.poller_start(l as u32, p);
            }
        }
        if any {
            self.at(self.now + SimDuration::from_secs(1), Event::LambdaScale);
        }
    }

    /// Starts poller `p` of function `l`, creating it (and registering it with the queue,
    /// recorded in `owners`) if the mapping has not had that many yet.
    fn poller_start(&mut self, l: u32, p: u32) {
        let m = mapping_mut(&mut self.mappings, l);
        while m.pollers.len() as u32 <= p {
            let q = m.queue as usize;
            let id = self.queues[q].register_poller();
            self.owners[q].push(Owner::Lambda {
                l,
                p: m.pollers.len() as u32,
            });
            m.add_poller(id);
        }
        let poller = &mut m.pollers[p as usize];
        if poller.state != PollerState::Off {
            return;
        }
        poller.state = PollerState::Receiving;
        poller.gen = poller.gen.wrapping_add(1);
        m.active += 1;
        let active = m.active;
        let st = &mut self.lambdas[l as usize].stats;
        st.pollers_max = st.pollers_max.max(active);
        self.poller_receive(l, p);
    }

    fn poller_stop(&mut self, l: u32, p: u32) {
        let m = mapping_mut(&mut self.mappings, l);
        let poller = &mut m.pollers[p as usize];
        poller.state = PollerState::Off;
        poller.gen = poller.gen.wrapping_add(1);
        m.active -= 1;
    }

    /// Every second: while messages wait, add pollers (300 per minute at most).
    pub(crate) fn on_lambda_scale(&mut self) {
        for l in 0..self.mappings.len() {
            let Some(m) = &self.mappings[l] else { continue };
            let q = m.queue as usize;
            if self.queues[q].visible_len() == 0 || m.active >= m.max_pollers {
                continue;
            }
            let add = m.step.min(m.max_pollers - m.active);
            // The pollers that are off, lowest first, then new ones.
            let off: Vec<u32> = (0..m.pollers.len() as u32)
                .filter(|p| m.pollers[*p as usize].state == PollerState::Off)
                .chain(m.pollers.len() as u32..m.max_pollers)
                .take(add as usize)
                .collect();
            for p in off {
                self.poller_start(l as u32, p);
            }
        }
        let next = self.now + SimDuration::from_secs(1);
        if next <= self.horizon {
            self.at(next, Event::LambdaScale);
        }
    }

    /// Starts a ReceiveMessage call of poller `p` of function `l`.
    pub(crate) fn poller_receive(&mut self, l: u32, p: u32) {
        let q = mapping(&self.mappings, l).queue as usize;
        let latency = self.queues[q].sample_latency();
        let m = mapping_mut(&mut self.mappings, l);
        let poller = &mut m.pollers[p as usize];
        poller.state = PollerState::Receiving;
        poller.leg = latency;
        let gen = poller.gen;
        if latency.half().is_zero() {
            self.on_lambda_recv_arrive(l, p);
        } else {
            self.at(
                self.now + latency.half(),
                Event::LambdaRecvArrive { l, p, gen },
            );
        }
    }

    pub(crate) fn on_lambda_recv_arrive(&mut self, l: u32, p: u32) {
        let now = self.now;
        let spec = &self.lambdas[l as usize].spec;
        let (batch_size, window) = (spec.batch_size, spec.batching_window);
        let m = mapping_mut(&mut self.mappings, l);
        let q = m.queue;
        let qi = q as usize;
        let poller = &mut m.pollers[p as usize];
        let room = batch_size
            .saturating_sub(poller.batch.len() as u32)
            .clamp(1, 10);
        let wait = if poller.batch.is_empty() {
            ESM_WAIT
        } else {
            // Gathering a batch: wait no longer than the rest of the window.
            (poller.batch_since + window - now).min(ESM_WAIT)
        };
        let vis = self.queues[qi].spec.visibility_timeout;
        let before = poller.batch.len();
        let r = self.queues[qi].receive(
            now,
            poller.poller,
            room,
            wait,
            vis,
            &mut self.msgs,
            &mut poller.batch,
        );
        match r {
            Receive::Got(_) | Receive::Empty | Receive::OverLimit => {
                let _ = before;
                self.lambda_respond(l, p);
            }
            Receive::Waiting => {
                poller.state = PollerState::Waiting;
                poller.wait_seq = poller.wait_seq.wrapping_add(1);
                let seq = poller.wait_seq;
                self.at(now + wait, Event::LambdaPollTimeout { l, p, seq });
            }
            Receive::Throttled => {
                poller.state = PollerState::Holding;
                let gen = poller.gen;
                let backoff = throttle_backoff(1, &mut self.lambdas[l as usize].rng);
                self.at(now + backoff, Event::LambdaHold { l, p, gen });
            }
        }
        self.rearm(q);
    }

    pub(crate) fn on_lambda_poll_timeout(&mut self, l: u32, p: u32, seq: u32) {
        let m = mapping(&self.mappings, l);
        let poller = &m.pollers[p as usize];
        if poller.state != PollerState::Waiting || poller.wait_seq != seq {
            return;
        }
        let q = m.queue as usize;
        if self.queues[q].end_wait(poller.poller) {
            self.lambda_respond(l, p);
        }
    }

    /// The response leg of a mapping receive.
    pub(crate) fn lambda_respond(&mut self, l: u32, p: u32) {
        self.lambda_respond_after(l, p, SimDuration::ZERO);
    }

    /// The response leg of a waiting long poll that was handed messages: it returns after
    /// the mapping's `poll_wakeup` (see `services::lambda::limits::DEFAULT_SQS_WAKEUP_MEDIAN_MS`).
    pub(crate) fn lambda_respond_woken(&mut self, l: u32, p: u32) {
        let f = &mut self.lambdas[l as usize];
        let wake = f.spec.poll_wakeup.sample(&mut f.invoke_rng);
        self.lambda_respond_after(l, p, wake);
    }

    /// The response leg of a mapping receive, `extra` later than the network leg.
    fn lambda_respond_after(&mut self, l: u32, p: u32, extra: SimDuration) {
        let m = mapping_mut(&mut self.mappings, l);
        let poller = &mut m.pollers[p as usize];
        poller.state = PollerState::Receiving;
        let leg = poller.leg - poller.leg.half() + extra;
        let gen = poller.gen;
        if leg.is_zero() {
            self.on_lambda_recv_return(l, p);
        } else {
            self.at(self.now + leg, Event::LambdaRecvReturn { l, p, gen });
        }
    }

    pub(crate) fn on_lambda_recv_return(&mut self, l: u32, p: u32) {
        let now = self.now;
        let li = l as usize;
        self.lambdas[li].stats.receives += 1;
        let (batch_size, window, max_payload) = {
            let s = &self.lambdas[li].spec;
            (
                s.batch_size,
                s.batching_window,
                self.arch.limits.lambda.max_sync_payload_bytes,
            )
        };
        let m = mapping_mut(&mut self.mappings, li as u32);
        let min = m.min_pollers;
        let active = m.active;
        let poller = &mut m.pollers[p as usize];
        if poller.batch.is_empty() {
            // Nothing came: the queue is empty. Shrink towards the minimum.
            if active > min {
                self.poller_stop(l, p);
            } else {
                self.poller_receive(l, p);
            }
            return;
        }
        if poller.payload == 0 {
            poller.batch_since = now;
        }
        poller.payload = poller
            .batch
            .iter()
            .map(|h| self.msgs.get(h.slot).size as u64)
            .sum();
        let full = poller.batch.len() as u32 >= batch_size || poller.payload >= max_payload;
        if window.is_zero() || full || now >= poller.batch_since + window {
            self.lambda_invoke(l, p);
        } else {
            self.poller_receive(l, p);
        }
    }

    /// Invokes the function on poller `p`'s batch (or backs off when throttled).
    fn lambda_invoke(&mut self, l: u32, p: u32) {
        let now = self.now;
        let li = l as usize;
        let n = mapping(&self.mappings, li as u32).pollers[p as usize]
            .batch
            .len() as u32;
        let started = self.lambdas[li].start(now, n, &mut self.account_pool);
        let overhead = if started.is_some() {
            let f = &mut self.lambdas[li];
            f.spec.invoke_overhead.sample(&mut f.invoke_rng)
        } else {
            SimDuration::ZERO
        };
        let m = mapping_mut(&mut self.mappings, li as u32);
        let poller = &mut m.pollers[p as usize];
        let gen = poller.gen;
        match started {
            Some(inv) => {
                poller.throttled = 0;
                poller.inv = Some(inv);
                poller.state = PollerState::Invoking;
                let stats = &mut self.lambdas[li].stats;
                for h in &poller.batch {
                    if self.msgs.is_live(h.slot, h.id) {
                        stats.wait.record(now - self.msgs.get(h.slot).enqueued);
                    }
                }
                // The synchronous Invoke's overhead, then the run (billed: `runs_for`).
                self.at(
                    now + overhead + inv.runs_for,
                    Event::LambdaInvokeDone { l, p, gen },
                );
            }
            None => {
                poller.throttled += 1;
                poller.state = PollerState::Holding;
                let backoff = throttle_backoff(poller.throttled, &mut self.lambdas[li].rng);
                self.at(now + backoff, Event::LambdaHold { l, p, gen });
            }
        }
    }

    /// A back-off ended: retry the invoke, or the receive.
    pub(crate) fn on_lambda_hold(&mut self, l: u32, p: u32) {
        let m = mapping(&self.mappings, l);
        if m.pollers[p as usize].batch.is_empty() {
            self.poller_receive(l, p);
        } else {
            self.lambda_invoke(l, p);
        }
    }

    pub(crate) fn on_lambda_invoke_done(&mut self, l: u32, p: u32) {
        let now = self.now;
        let li = l as usize;
        let measured = now >= self.measure_from;
        let m = mapping_mut(&mut self.mappings, li as u32);
        let q = m.queue as usize;
        let poller = &mut m.pollers[p as usize];
        let inv = poller.inv.take().expect("an invocation was running");
        let f = &mut self.lambdas[li];
        f.finish(now, inv.runs_for, &mut self.account_pool, measured);
        let partial = f.spec.report_batch_item_failures;
        // Decide each record's fate; keep the ones to delete at the front of the batch.
        let mut keep = 0;
        let mut any_failed = false;
        let n = poller.batch.len();
        let mut fails = 0u64;
        let fifo = self.queues[q].spec.fifo;
        for i in 0..n {
            if fifo && any_failed {
                // FIFO: records after a failed one are returned with it, unprocessed, so
                // the group keeps its order (AWS: a failed batch is retried before more
                // messages of the group are received).
                continue;
            }
            let fails_now = inv.timed_out || f.record_fails();
            if fails_now {
                any_failed = true;
                fails += 1;
            } else {
                poller.batch.swap(keep, i);
                keep += 1;
            }
        }
        if any_failed && !partial {
            // One failure fails the batch: nothing is deleted, everything reappears.
            f.stats.failed += n as u64;
            f.stats.failed_invocations += 1;
            keep = 0;
        } else {
            f.stats.failed += fails;
            if fails > 0 {
                f.stats.failed_invocations += 1;
            }
        }
        for i in 0..keep {
            let h = poller.batch[i];
            let live = self.msgs.is_live(h.slot, h.id);
            let repeat = !live || self.msgs.get(h.slot).is_repeat();
            if fifo && live && !repeat {
                let m = self.msgs.get(h.slot);
                f.check_order(
                    ((m.producer as u64) << 32) | m.key as u64,
                    (m.enqueued.0, h.id),
                );
            }
            let producer = if live {
                self.msgs.get(h.slot).producer
            } else {
                0
            };
            self.queues[q].on_processed(h, &mut self.msgs);
            f.stats.processed += 1;
            if repeat {
                f.stats.duplicates += 1;
            } else {
                let value = self.arch.values.producers[producer as usize];
                self.insight
                    .one(self.insight.lambdas[li], now - h.created, value);
            }
            f.stats.latency.record(now - h.created);
        }
        poller.batch.truncate(keep);
        poller.payload = 0;
        if keep == 0 {
            self.poller_receive(l, p);
            return;
        }
        // DeleteMessageBatch calls (10 entries each), issued together.
        let latency = self.queues[q].sample_latency();
        poller.leg = latency;
        poller.state = PollerState::Deleting;
        let gen = poller.gen;
        if latency.half().is_zero() {
            self.on_lambda_delete_arrive(l, p);
        } else {
            self.at(
                now + latency.half(),
                Event::LambdaDeleteArrive { l, p, gen },
            );
        }
    }

    pub(crate) fn on_lambda_delete_arrive(&mut self, l: u32, p: u32) {
        let now = self.now;
        let m = mapping_mut(&mut self.mappings, l);
        let q = m.queue;
        let qi = q as usize;
        let poller = &mut m.pollers[p as usize];
        let max = self.arch.limits.sqs.max_batch_messages.max(1) as usize;
        for chunk in poller.batch.chunks(max) {
            if self.queues[qi].admit(Action::Delete, now) {
                self.queues[qi].bill(0);
                self.queues[qi].stats.delete_calls += 1;
                for h in chunk {
                    self.queues[qi].delete(*h, &mut self.msgs);
                }
            }
        }
        poller.batch.clear();
        let leg = poller.leg - poller.leg.half();
        let gen = poller.gen;
        self.feed_waiters(q);
        if leg.is_zero() {
            self.poller_receive(l, p);
        } else {
            self.at(now + leg, Event::LambdaHold { l, p, gen });
        }
    }
}
