//! Worker pools in the engine: workers receiving from SQS, processing, deleting,
//! heartbeats, outages and auto scaling.

use crate::engine::Owner;
use crate::engine::{Engine, Event};
use crate::model::Architecture;
use crate::services::sqs::queue::Action;
use crate::services::sqs::Receive;
use crate::services::sqs::SqsQueue;
use crate::sim::stream;
use crate::workers::WorkerPool;
use crate::workers::WorkerState;
use rand::Rng;

/// The worker pools of `arch`: each worker (up to the pool's maximum) is registered as a
/// poller of its queue, and `owners[q]` records which worker each poller id of queue `q`
/// is.
pub(crate) fn pools(
    arch: &Architecture,
    seed: u64,
    queues: &mut [SqsQueue],
    owners: &mut [Vec<Owner>],
) -> Vec<WorkerPool> {
    arch.consumers
        .iter()
        .enumerate()
        .map(|(c, spec)| {
            let q = spec.queue as usize;
            let pollers = (0..spec.max_workers())
                .map(|w| {
                    owners[q].push(Owner::Worker { c: c as u32, w });
                    queues[q].register_poller()
                })
                .collect();
            WorkerPool::new(
                spec.clone(),
                stream(seed, &format!("consumer:{}", spec.name)),
                pollers,
            )
        })
        .collect()
}

impl Engine<'_> {
    /// Worker `w` of pool `c` starts a ReceiveMessage call.
    pub(crate) fn worker_receive(&mut self, c: u32, w: u32) {
        let pool = &mut self.pools[c as usize];
        let wi = w as usize;
        if pool.down || pool.workers[wi].az_down {
            pool.workers[wi].state = WorkerState::Down;
            return;
        }
        if pool.workers[wi].retiring {
            self.retire(c, w);
            return;
        }
        let q = pool.spec.queue as usize;
        let latency = self.queues[q].sample_latency();
        let worker = &mut self.pools[c as usize].workers[wi];
        worker.state = WorkerState::Receiving;
        worker.leg = latency;
        let gen = worker.gen;
        let leg = latency.half();
        if leg.is_zero() {
            self.on_recv_arrive(c, w);
        } else {
            self.at(self.now + leg, Event::RecvArrive { c, w, gen });
        }
    }

    pub(crate) fn on_recv_arrive(&mut self, c: u32, w: u32) {
        let now = self.now;
        let pool = &mut self.pools[c as usize];
        let spec = &pool.spec;
        let (q, max, wait, vis) = (
            spec.queue,
            spec.max_messages,
            spec.wait,
            spec.visibility_timeout,
        );
        let worker = &mut pool.workers[w as usize];
        worker.buf.clear();
        let poller = worker.poller;
        let r = self.queues[q as usize].receive(
            now,
            poller,
            max,
            wait,
            vis,
            &mut self.msgs,
            &mut worker.buf,
        );
        match r {
            Receive::Got(_) | Receive::Empty | Receive::OverLimit => self.recv_respond(c, w),
            Receive::Waiting => {
                worker.state = WorkerState::Waiting;
                let until = now + wait;
                worker.wait_until = until;
                // A pending timeout that fires by then re-arms itself for `until`.
                if worker.timer_at.is_none_or(|t| t > until) {
                    worker.timer_at = Some(until);
                    self.at(until, Event::PollTimeout { c, w });
                }
            }
            Receive::Throttled => {
                // The SDK retries a throttled receive after its back-off.
                let pool = &mut self.pools[c as usize];
                let backoff = crate::producers::RetryPolicy::default().backoff(1, &mut pool.rng);
                let worker = &mut pool.workers[w as usize];
                worker.state = WorkerState::Sleeping;
                let gen = worker.gen;
                let at = now + (worker.leg - worker.leg.half()) + backoff;
                self.at(at, Event::Resume { c, w, gen });
            }
        }
        self.rearm(q);
    }

    pub(crate) fn on_poll_timeout(&mut self, c: u32, w: u32) {
        let now = self.now;
        let pool = &mut self.pools[c as usize];
        let worker = &mut pool.workers[w as usize];
        if worker.timer_at != Some(now) {
            return; // replaced by an earlier one
        }
        worker.timer_at = None;
        if worker.state != WorkerState::Waiting {
            return; // served meanwhile, or the pool went down
        }
        if worker.wait_until > now {
            // A later wait than the one that armed it: wait on.
            let until = worker.wait_until;
            worker.timer_at = Some(until);
            self.at(until, Event::PollTimeout { c, w });
            return;
        }
        let poller = worker.poller;
        let q = pool.spec.queue as usize;
        if self.queues[q].end_wait(poller) {
            self.pools[c as usize].workers[w as usize].buf.clear();
            self.recv_respond(c, w);
        }
    }

    /// The response leg of a receive (the buffer holds what it returns).
    pub(crate) fn recv_respond(&mut self, c: u32, w: u32) {
        let worker = &mut self.pools[c as usize].workers[w as usize];
        worker.state = WorkerState::Receiving;
        let leg = worker.leg - worker.leg.half();
        let gen = worker.gen;
        if leg.is_zero() {
            self.on_recv_return(c, w);
        } else {
            self.at(self.now + leg, Event::RecvReturn { c, w, gen });
        }
    }

    pub(crate) fn on_recv_return(&mut self, c: u32, w: u32) {
        let pool = &mut self.pools[c as usize];
        pool.stats.receives += 1;
        let worker = &mut pool.workers[w as usize];
        if worker.buf.is_empty() {
            pool.stats.empty_receives += 1;
            let pause = pool.spec.poll_interval;
            if pause.is_zero() {
                self.worker_receive(c, w);
            } else {
                let worker = &mut self.pools[c as usize].workers[w as usize];
                worker.state = WorkerState::Sleeping;
                let gen = worker.gen;
                self.at(self.now + pause, Event::Resume { c, w, gen });
            }
            return;
        }
        worker.pos = 0;
        worker.to_delete.clear();
        if let Some(hb) = pool.spec.heartbeat {
            let gen = worker.gen;
            self.at(self.now + hb.every, Event::Heartbeat { c, w, gen });
        }
        self.start_processing(c, w);
    }

    fn start_processing(&mut self, c: u32, w: u32) {
        let now = self.now;
        let pool = &mut self.pools[c as usize];
        let wi = w as usize;
        let h = pool.workers[wi].buf[pool.workers[wi].pos];
        if self.msgs.is_live(h.slot, h.id) {
            let m = self.msgs.get(h.slot);
            pool.stats.wait.record(now - m.enqueued);
        }
        let service = pool.spec.service_time.sample(&mut pool.rng);
        let p_fail = pool.spec.failure_probability_at(now);
        let failing = p_fail > 0.0 && pool.rng.random::<f64>() < p_fail;
        pool.set_busy(wi, now);
        let worker = &mut pool.workers[wi];
        worker.failing = failing;
        worker.state = WorkerState::Processing;
        let gen = worker.gen;
        self.at(now + service, Event::ProcessDone { c, w, gen });
    }

    pub(crate) fn on_process_done(&mut self, c: u32, w: u32) {
        let now = self.now;
        let since = self.measure_from;
        let pool = &mut self.pools[c as usize];
        let wi = w as usize;
        pool.set_idle(wi, now, since);
        let worker = &pool.workers[wi];
        let h = worker.buf[worker.pos];
        let q = pool.spec.queue as usize;
        let live = self.msgs.is_live(h.slot, h.id);
        let repeat = !live || self.msgs.get(h.slot).is_repeat();
        let (group, accepted, producer) = if live {
            let m = self.msgs.get(h.slot);
            (
                ((m.producer as u64) << 32) | m.key as u64,
                m.enqueued.0,
                m.producer,
            )
        } else {
            (u64::MAX, 0, 0)
        };
        if worker.failing {
            pool.stats.failed += 1;
            if self.queues[q].spec.fifo {
                // FIFO: processing the rest of the batch would overtake the failed message
                // of its group; leave them in flight to reappear in order (AWS's guidance).
                let worker = &mut pool.workers[wi];
                worker.pos = worker.buf.len() - 1;
            }
            self.next_message(c, w);
            return;
        }
        self.queues[q].on_processed(h, &mut self.msgs);
        let pool = &mut self.pools[c as usize];
        if repeat {
            pool.stats.duplicates += 1;
        }
        if self.queues[q].spec.fifo && group != u64::MAX && !repeat {
            pool.check_order(group, (accepted, h.id));
        }
        pool.stats.processed += 1;
        pool.stats.latency.record(now - h.created);
        pool.interval.record(now - h.created);
        if !repeat {
            self.insight(self.insight.pools[c as usize], h.created, producer);
        }
        let pool = &mut self.pools[c as usize];
        if pool.spec.delete_batch {
            pool.workers[wi].to_delete.push(h);
            self.next_message(c, w);
        } else {
            self.delete_call(c, w);
        }
    }

    /// Starts a DeleteMessage (or DeleteMessageBatch) call.
    fn delete_call(&mut self, c: u32, w: u32) {
        let q = self.pools[c as usize].spec.queue as usize;
        let latency = self.queues[q].sample_latency();
        let worker = &mut self.pools[c as usize].workers[w as usize];
        worker.state = WorkerState::Deleting;
        worker.leg = latency;
        let gen = worker.gen;
        let leg = latency.half();
        if leg.is_zero() {
            self.on_delete_arrive(c, w);
        } else {
            self.at(self.now + leg, Event::DeleteArrive { c, w, gen });
        }
    }

    pub(crate) fn on_delete_arrive(&mut self, c: u32, w: u32) {
        let now = self.now;
        let pool = &mut self.pools[c as usize];
        let q = pool.spec.queue;
        let qi = q as usize;
        let worker = &mut pool.workers[w as usize];
        let admitted = self.queues[qi].admit(Action::Delete, now);
        if admitted {
            self.queues[qi].bill(0);
            self.queues[qi].stats.delete_calls += 1;
            pool.stats.delete_calls += 1;
            if pool.spec.delete_batch {
                for h in worker.to_delete.drain(..) {
                    self.queues[qi].delete(h, &mut self.msgs);
                }
            } else {
                let h = worker.buf[worker.pos];
                self.queues[qi].delete(h, &mut self.msgs);
            }
        } else {
            // A throttled delete is not retried by this model: the message reappears after
            // its visibility timeout (counted in the queue's `throttled`).
            worker.to_delete.clear();
        }
        let leg = worker.leg - worker.leg.half();
        let gen = worker.gen;
        // Freed in-flight room may let waiting receives through.
        self.feed_waiters(q);
        if leg.is_zero() {
            self.on_resume(c, w);
        } else {
            self.at(now + leg, Event::Resume { c, w, gen });
        }
    }

    /// Moves to the next message of the buffer, or finishes the batch.
    fn next_message(&mut self, c: u32, w: u32) {
        let pool = &mut self.pools[c as usize];
        let worker = &mut pool.workers[w as usize];
        worker.pos += 1;
        if worker.pos < worker.buf.len() {
            self.start_processing(c, w);
            return;
        }
        // Batch done: stop its heartbeats.
        worker.gen = worker.gen.wrapping_add(1);
        if pool.spec.delete_batch && !worker.to_delete.is_empty() {
            worker.buf.clear();
            self.delete_call(c, w);
        } else {
            worker.buf.clear();
            self.worker_receive(c, w);
        }
    }

    pub(crate) fn on_resume(&mut self, c: u32, w: u32) {
        let pool = &self.pools[c as usize];
        let worker = &pool.workers[w as usize];
        match worker.state {
            WorkerState::Deleting if !pool.spec.delete_batch => self.next_message(c, w),
            WorkerState::Deleting | WorkerState::Sleeping | WorkerState::Receiving => {
                self.worker_receive(c, w)
            }
            _ => {}
        }
    }

    pub(crate) fn on_heartbeat(&mut self, c: u32, w: u32, gen: u32) {
        let now = self.now;
        let pool = &mut self.pools[c as usize];
        let worker = &pool.workers[w as usize];
        if worker.gen != gen || worker.buf.is_empty() {
            return;
        }
        let Some(hb) = pool.spec.heartbeat else {
            return;
        };
        let q = pool.spec.queue as usize;
        let from = worker.pos;
        let mut extended = false;
        // ChangeMessageVisibilityBatch over the messages the worker still holds (≤ 10 per
        // call, all from one receive): those processed and waiting for the batch delete,
        // and those not yet finished.
        for h in worker.to_delete.iter().chain(&worker.buf[from..]).copied() {
            extended |= self.queues[q].change_visibility(now, h, hb.extend_to, &mut self.msgs);
        }
        if extended {
            self.queues[q].bill(0);
            self.queues[q].stats.change_visibility_calls += 1;
            pool.stats.heartbeats += 1;
        }
        self.at(now + hb.every, Event::Heartbeat { c, w, gen });
        // The new deadlines may be earlier than the one the queue's timer is armed for.
        self.rearm(q as u32);
    }

    // ----- pool-level events -----------------------------------------------------------

    /// Worker `wi` of pool `c` stops where it is (an outage, or its availability zone
    /// lost): its pending events are void, a long poll it waits in is cancelled, and the
    /// messages it holds stay in flight until their visibility times out. A worker that
    /// is off, starting or down already is left as it is.
    pub(crate) fn take_worker_down(&mut self, c: u32, wi: usize) {
        let now = self.now;
        let since = self.measure_from;
        let pool = &mut self.pools[c as usize];
        let state = pool.workers[wi].state;
        if matches!(
            state,
            WorkerState::Off | WorkerState::Starting | WorkerState::Down
        ) {
            return;
        }
        if state == WorkerState::Processing {
            pool.set_idle(wi, now, since);
        }
        if state == WorkerState::Waiting {
            let q = pool.spec.queue as usize;
            self.queues[q].cancel_wait(pool.workers[wi].poller);
        }
        let worker = &mut self.pools[c as usize].workers[wi];
        worker.gen = worker.gen.wrapping_add(1);
        worker.buf.clear();
        worker.to_delete.clear();
        worker.state = WorkerState::Down;
    }

    pub(crate) fn on_outage(&mut self, c: u32, start: bool) {
        let q = self.pools[c as usize].spec.queue as usize;
        if start {
            self.pools[c as usize].down = true;
            for wi in 0..self.pools[c as usize].workers.len() {
                self.take_worker_down(c, wi);
            }
        } else {
            let pool = &mut self.pools[c as usize];
            pool.down = false;
            let down: Vec<u32> = (0..pool.workers.len() as u32)
                .filter(|w| {
                    let w = &pool.workers[*w as usize];
                    w.state == WorkerState::Down && !w.az_down
                })
                .collect();
            for w in down {
                self.worker_receive(c, w);
            }
        }
        self.rearm(q as u32);
    }

    /// Target tracking on visible messages per worker.
    pub(crate) fn on_autoscale(&mut self, c: u32) {
        let now = self.now;
        let ci = c as usize;
        let Some(a) = self.pools[ci].spec.autoscale else {
            return;
        };
        let q = self.pools[ci].spec.queue as usize;
        let backlog = self.queues[q].visible_len() as f64;
        let desired = ((backlog / a.target_backlog_per_worker).ceil() as u32).clamp(a.min, a.max);
        let pool = &mut self.pools[ci];
        let current = pool
            .workers
            .iter()
            .filter(|w| w.state != WorkerState::Off && !w.retiring)
            .count() as u32;
        let out_ok = pool
            .last_scale_out
            .is_none_or(|t| now >= t + a.scale_out_cooldown);
        let in_ok = pool
            .last_scale_in
            .is_none_or(|t| now >= t + a.scale_in_cooldown)
            && pool
                .last_scale_out
                .is_none_or(|t| now >= t + a.scale_out_cooldown);
        if desired > current && out_ok {
            pool.account(now);
            let mut need = desired - current;
            pool.stats.scale_outs += 1;
            pool.last_scale_out = Some(now);
            let mut launched = Vec::new();
            for (wi, worker) in pool.workers.iter_mut().enumerate() {
                if need == 0 {
                    break;
                }
                if worker.retiring {
                    // Cancel a pending retirement first.
                    worker.retiring = false;
                    need -= 1;
                } else if worker.state == WorkerState::Off {
                    worker.state = WorkerState::Starting;
                    worker.gen = worker.gen.wrapping_add(1);
                    launched.push((wi as u32, worker.gen));
                    need -= 1;
                }
            }
            pool.active += launched.len() as u32;
            pool.stats.workers_max = pool.stats.workers_max.max(pool.active);
            for (w, gen) in launched {
                self.at(now + a.warmup, Event::WorkerOn { c, w, gen });
            }
        } else if desired < current && in_ok {
            pool.stats.scale_ins += 1;
            pool.last_scale_in = Some(now);
            let mut excess = current - desired;
            let mut idle = Vec::new();
            // Retire from the end of the list; idle workers stop at once, busy ones after
            // their current batch.
            for wi in (0..pool.workers.len()).rev() {
                if excess == 0 {
                    break;
                }
                let worker = &mut pool.workers[wi];
                if worker.state == WorkerState::Off || worker.retiring {
                    continue;
                }
                worker.retiring = true;
                excess -= 1;
                if matches!(
                    worker.state,
                    WorkerState::Waiting | WorkerState::Sleeping | WorkerState::Starting
                ) {
                    idle.push(wi as u32);
                }
            }
            for w in idle {
                let worker = &self.pools[ci].workers[w as usize];
                if worker.state == WorkerState::Waiting {
                    self.queues[q].cancel_wait(worker.poller);
                }
                self.retire(c, w);
            }
        }
        let next = now + a.evaluate_every;
        if next <= self.horizon {
            self.at(next, Event::Autoscale { c });
        }
    }

    /// Takes worker `w` out of pool `c`.
    fn retire(&mut self, c: u32, w: u32) {
        let now = self.now;
        let pool = &mut self.pools[c as usize];
        pool.account(now);
        let worker = &mut pool.workers[w as usize];
        worker.retiring = false;
        worker.state = WorkerState::Off;
        worker.gen = worker.gen.wrapping_add(1);
        worker.buf.clear();
        pool.active -= 1;
    }
}
