//! SQS queues in the engine: their timers (delays, visibility, long-poll waits), serving
//! long-polling receivers (worker pools and Lambda pollers), dead-letter moves and
//! redrives.

use crate::engine::{Engine, Event, Owner};
use crate::message::Loc;
use crate::model::Architecture;
use crate::services::sqs::queue::TimerEffect;
use crate::services::sqs::SqsQueue;
use crate::sim::stream;
use crate::sim::SimDuration;
use crate::workers::WorkerState;

/// The queues of `arch`, each with its own random stream.
pub(crate) fn queues(arch: &Architecture, seed: u64) -> Vec<SqsQueue> {
    arch.queues
        .iter()
        .enumerate()
        .map(|(i, q)| {
            SqsQueue::new(
                q.clone(),
                i as u32,
                stream(seed, &format!("queue:{}", q.name)),
            )
        })
        .collect()
}

impl Engine<'_> {
    /// Applies the effects of queue `q`'s timer and re-arms it.
    pub(crate) fn on_queue_timer(&mut self, q: u32, gen: u32) {
        let mut effects = std::mem::take(&mut self.effects);
        effects.clear();
        if self.queues[q as usize].on_timer(self.now, gen, &mut self.msgs, &mut effects) {
            for eff in effects.iter().copied() {
                match eff {
                    TimerEffect::ToDeadLetter { slot } => {
                        let dlq = self.arch.queues[q as usize]
                            .dead_letter
                            .map(|d| d.queue)
                            .expect("only queues with a redrive policy dead-letter");
                        self.queues[dlq].move_in(self.now, slot, &mut self.msgs);
                        self.feed_waiters(dlq as u32);
                    }
                }
            }
            self.feed_waiters(q);
        }
        self.effects = effects;
        self.rearm(q);
    }

    /// Arms queue `q`'s timer for its earliest deadline.
    #[inline]
    pub(crate) fn rearm(&mut self, q: u32) {
        if let Some((t, gen)) = self.queues[q as usize].rearm(self.now, &self.msgs) {
            self.at(t, Event::QueueTimer { q, gen });
        }
    }

    /// Serves long-polling receivers of queue `q` while it has visible messages.
    pub(crate) fn feed_waiters(&mut self, q: u32) {
        let qi = q as usize;
        while let Some((poller, max, vis)) = self.queues[qi].next_servable() {
            match self.owners[qi][poller as usize] {
                Owner::Worker { c, w } => {
                    let worker = &mut self.pools[c as usize].workers[w as usize];
                    worker.buf.clear();
                    let n =
                        self.queues[qi].serve(self.now, max, vis, &mut self.msgs, &mut worker.buf);
                    if n == 0 {
                        // Nothing receivable after all (the visible ones had expired).
                        break;
                    }
                    worker.state = WorkerState::Receiving;
                    self.recv_respond(c, w);
                }
                Owner::Lambda { l, p } => {
                    let m = self.mappings[l as usize]
                        .as_mut()
                        .expect("lambda pollers have a mapping");
                    let poller = &mut m.pollers[p as usize];
                    let n = self.queues[qi].serve(
                        self.now,
                        max,
                        vis,
                        &mut self.msgs,
                        &mut poller.batch,
                    );
                    if n == 0 {
                        break;
                    }
                    self.lambda_respond_woken(l, p);
                }
            }
        }
        self.rearm(q);
    }

    pub(crate) fn on_redrive(&mut self, q: u32) {
        let Some(slot) = self.queues[q as usize].take_for_redrive(self.now, &mut self.msgs) else {
            return; // the dead-letter queue is empty: the move task ends
        };
        let origin = self.msgs.get(slot).origin as usize;
        let target = if origin < self.queues.len() && origin != q as usize {
            origin
        } else {
            // Unknown origin: the first queue that dead-letters here.
            self.arch
                .queues
                .iter()
                .position(|s| s.dead_letter.is_some_and(|d| d.queue == q as usize))
                .unwrap_or(q as usize)
        };
        self.queues[target].move_in(self.now, slot, &mut self.msgs);
        self.feed_waiters(target as u32);
        let rate = self.arch.queues[q as usize]
            .redrive
            .map(|r| r.rate_per_s)
            .unwrap_or(1.0);
        let next = self.now + SimDuration::from_secs_f64(1.0 / rate);
        if next <= self.horizon {
            self.at(next, Event::Redrive { q });
        }
    }

    /// Messages still in flight or delayed in a queue although their deadline passed
    /// before the horizon: the queue's timer must have fired for them (every event up to
    /// the horizon runs), so any here means a timer stalled. A self-check, like the
    /// accounting's balance.
    pub(crate) fn overdue_in_queues(&self) -> u64 {
        self.msgs
            .iter_live()
            .filter(|(_, m)| {
                matches!(m.loc, Loc::InFlight | Loc::Delayed)
                    && (m.home as usize) < self.queues.len()
                    && m.deadline < self.horizon
            })
            .count() as u64
    }
}
