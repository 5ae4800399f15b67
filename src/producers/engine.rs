//! Producers in the engine: arrivals, batches, send calls with the SDK's retries, and
//! SendMessage(Batch) reaching an SQS queue.

use crate::engine::{Engine, Event};
use crate::message::{new_message, Exit};
use crate::model::Architecture;
use crate::producers::Producer;
use crate::producers::Target;
use crate::services::sqs::queue::Action;
use crate::services::sqs::SendError;
use crate::sim::stream;
use rand::Rng;

/// The producers of `arch`, each with its own random stream; a producer sending to a FIFO
/// queue or topic keeps one call in flight unless the model says otherwise (so that a
/// FIFO client keeps its order).
pub(crate) fn producers(arch: &Architecture, seed: u64) -> Vec<Producer> {
    arch.producers
        .iter()
        .map(|p| {
            let mut prod = Producer::new(p.clone(), stream(seed, &format!("producer:{}", p.name)));
            let fifo = match p.target {
                Target::Queue(q) => arch.queues[q as usize].fifo,
                Target::Topic(t) => arch.topics[t as usize].fifo,
                Target::Stream(_) | Target::Firehose(_) => false,
            };
            prod.max_in_flight = p.max_in_flight.unwrap_or(if fifo { 1 } else { u32::MAX });
            prod
        })
        .collect()
}

impl Engine<'_> {
    // ----- producers -------------------------------------------------------------------

    pub(crate) fn on_arrival(&mut self, p: u32) {
        match self.producers[p as usize].spec.target {
            Target::Stream(_) => return self.on_stream_arrival(p),
            Target::Firehose(_) => return self.on_firehose_arrival(p),
            Target::Queue(_) | Target::Topic(_) => {}
        }
        let now = self.now;
        let (size, key) = self.producers[p as usize].draw();
        // A batch call has a payload limit (SendMessageBatch 1 MiB; PublishBatch the
        // topic's maximum message size): a message that would overflow the batch sends
        // the batch first.
        let max_payload = match self.producers[p as usize].spec.target {
            Target::Topic(t) => self.arch.topics[t as usize].max_message_size as u64,
            _ => self.arch.limits.sqs.max_batch_payload.0,
        };
        let prod = &self.producers[p as usize];
        if !prod.batch.is_empty() && prod.batch_bytes + size as u64 > max_payload {
            self.flush(p);
        }
        let prod = &mut self.producers[p as usize];
        let id = self.next_id;
        self.next_id += 1;
        let slot = self.msgs.create(new_message(id, now, size, key, p as u16));
        prod.stats.generated += 1;
        prod.batch.push(slot);
        prod.batch_bytes += size as u64;
        let full = prod.batch.len() as u32 >= prod.spec.batch;
        let first_of_batch = prod.batch.len() == 1;
        let linger = prod.spec.linger;
        self.schedule_next_arrival(p);
        if full {
            self.flush(p);
        } else if first_of_batch {
            let prod = &mut self.producers[p as usize];
            prod.linger_gen = prod.linger_gen.wrapping_add(1);
            let gen = prod.linger_gen;
            self.at(now + linger, Event::Linger { p, gen });
        }
    }

    /// Schedules producer `p`'s next arrival, if it comes before the end of the run (every
    /// target's arrival handler calls this after drawing the message's size and key).
    pub(crate) fn schedule_next_arrival(&mut self, p: u32) {
        let now = self.now;
        let prod = &mut self.producers[p as usize];
        let next = prod
            .spec
            .arrival
            .next(&mut prod.arrival, now, &mut prod.rng);
        if let Some(t) = next {
            if t <= self.horizon {
                self.at(t.max(now), Event::Arrival { p });
            }
        }
    }

    /// Sends the producer's current batch.
    pub(crate) fn flush(&mut self, p: u32) {
        let prod = &mut self.producers[p as usize];
        prod.linger_gen = prod.linger_gen.wrapping_add(1);
        let call = prod.open_call();
        self.start_call(p, call);
    }

    /// Starts call `call`, or queues it while the producer has `max_in_flight` calls in
    /// progress (1 for FIFO targets: a FIFO producer sends in order).
    fn start_call(&mut self, p: u32, call: u32) {
        let prod = &mut self.producers[p as usize];
        if prod.in_flight >= prod.max_in_flight {
            prod.waiting.push_back(call);
            return;
        }
        prod.in_flight += 1;
        self.transmit(p, call);
    }

    /// Call `call` of producer `p` is over (sent, or dropped after its last attempt): its
    /// slot is freed, and once the response is back the producer may start a waiting call.
    pub(crate) fn call_finished(&mut self, p: u32, call: u32) {
        let prod = &mut self.producers[p as usize];
        let latency = prod.calls[call as usize].latency;
        prod.close_call(call);
        if prod.max_in_flight == u32::MAX {
            prod.in_flight = prod.in_flight.saturating_sub(1);
            return;
        }
        let response = latency - latency.half();
        if response.is_zero() {
            self.on_send_done(p);
        } else {
            self.at(self.now + response, Event::SendDone { p });
        }
    }

    /// A response is back: the next waiting call goes, or there is one call fewer.
    ///
    /// With zero latency the next call completes inside `transmit` and its response comes
    /// back here at once: those are handed on by the loop below rather than by recursion,
    /// whose depth would grow with the waiting calls (tens of thousands for a throttled
    /// high-throughput FIFO producer: a stack overflow).
    pub(crate) fn on_send_done(&mut self, p: u32) {
        let prod = &mut self.producers[p as usize];
        if prod.draining {
            prod.done_pending += 1;
            return;
        }
        prod.draining = true;
        let mut pending = 1u32;
        while pending > 0 {
            pending -= 1;
            let prod = &mut self.producers[p as usize];
            match prod.waiting.pop_front() {
                Some(next) => self.transmit(p, next),
                None => prod.in_flight -= 1,
            }
            pending += std::mem::take(&mut self.producers[p as usize].done_pending);
        }
        self.producers[p as usize].draining = false;
    }

    /// Starts (or retries) send call `call` of producer `p`.
    pub(crate) fn transmit(&mut self, p: u32, call: u32) {
        if let Target::Topic(_) = self.producers[p as usize].spec.target {
            return self.publish_transmit(p, call);
        }
        let Target::Queue(q) = self.producers[p as usize].spec.target else {
            unreachable!("stream producers send through put_transmit")
        };
        let latency = self.queues[q as usize].sample_latency();
        let prod = &mut self.producers[p as usize];
        prod.calls[call as usize].latency = latency;
        prod.stats.calls += 1;
        let leg = latency.half();
        if leg.is_zero() {
            self.on_send_arrive(p, call);
        } else {
            self.at(self.now + leg, Event::SendArrive { p, call });
        }
    }

    pub(crate) fn on_send_arrive(&mut self, p: u32, call: u32) {
        let now = self.now;
        let Target::Queue(q) = self.producers[p as usize].spec.target else {
            unreachable!("stream producers send through put_transmit")
        };
        let qi = q as usize;
        let pi = p as usize;
        if self.arch.access.denies_producer(pi) {
            return self.deny_call(p, call);
        }
        let storm = self.faults.queue_throttled(qi, self.arch);
        if storm || !self.queues[qi].admit(Action::Send, now) {
            let n = self.producers[pi].calls[call as usize].msgs.len() as u64;
            self.producers[pi].stats.throttled += n;
            self.retry_or_drop(p, call);
            return;
        }
        let mut msgs_of_call = std::mem::take(&mut self.producers[pi].calls[call as usize].msgs);
        // A message over the queue's size limit is refused, not stored: its bytes are not
        // billed as 64 KiB chunks (the call still is, as one request).
        let max = self.queues[qi].spec.max_message_size as u64;
        let payload: u64 = msgs_of_call
            .iter()
            .map(|s| self.msgs.get(*s).size as u64)
            .filter(|b| *b <= max)
            .sum();
        self.queues[qi].bill(payload);
        self.queues[qi].stats.send_calls += 1;
        let delay = self.producers[pi].spec.delay;
        let resend = self.producers[pi].spec.resend;
        let mut keep = 0;
        for i in 0..msgs_of_call.len() {
            let slot = msgs_of_call[i];
            if !self.queues[qi].admit_group(slot, &self.msgs, now) {
                self.producers[pi].stats.throttled += 1;
                msgs_of_call[keep] = slot;
                keep += 1;
                continue;
            }
            let is_copy = self.msgs.get(slot).is_copy();
            // A resend is scheduled before the send so the copy exists even if the
            // original is deduplicated away.
            let resend_copy = match resend {
                Some(r) if !is_copy && self.producers[pi].rng.random::<f64>() < r.probability => {
                    Some((self.msgs.copy(slot, true), r.after))
                }
                _ => None,
            };
            match self.queues[qi].send(now, slot, delay, &mut self.msgs) {
                Ok(()) => self.producers[pi].stats.sent += 1,
                Err(SendError::TooLarge) => {
                    self.producers[pi].stats.rejected += 1;
                    self.msgs.exit(slot, Exit::Dropped);
                }
            }
            if let Some((copy, after)) = resend_copy {
                self.producers[pi].stats.resent += 1;
                self.at(now + after, Event::Resend { p, slot: copy });
            }
        }
        msgs_of_call.truncate(keep);
        self.producers[pi].calls[call as usize].msgs = msgs_of_call;
        if keep == 0 {
            self.call_finished(p, call);
        } else {
            self.retry_or_drop(p, call);
        }
        self.feed_waiters(q);
    }

    /// The target's access policy refuses call `call` (AuthorizationError): the SDK does
    /// not retry it, and its messages are lost to the producer (`denied`). Not billed: the
    /// request fails authorization before the service handles it.
    pub(crate) fn deny_call(&mut self, p: u32, call: u32) {
        let prod = &mut self.producers[p as usize];
        let slots = std::mem::take(&mut prod.calls[call as usize].msgs);
        prod.stats.denied += slots.len() as u64;
        for s in &slots {
            self.msgs.exit(*s, Exit::Denied);
        }
        self.producers[p as usize].calls[call as usize].msgs = slots;
        self.call_finished(p, call);
    }

    /// After a throttled attempt: retry with back-off, or drop the call's messages.
    pub(crate) fn retry_or_drop(&mut self, p: u32, call: u32) {
        let now = self.now;
        let prod = &mut self.producers[p as usize];
        let c = &mut prod.calls[call as usize];
        if c.attempt < prod.spec.retry.max_attempts {
            let retry = c.attempt;
            c.attempt += 1;
            let response = c.latency - c.latency.half();
            prod.stats.retries += c.msgs.len() as u64;
            let backoff = prod.spec.retry.backoff(retry, &mut prod.rng);
            self.at(now + response + backoff, Event::SendRetry { p, call });
        } else {
            let slots = std::mem::take(&mut c.msgs);
            prod.stats.dropped += slots.len() as u64;
            for s in &slots {
                self.msgs.exit(*s, Exit::Dropped);
            }
            self.producers[p as usize].calls[call as usize].msgs = slots;
            self.call_finished(p, call);
        }
    }

    pub(crate) fn on_resend(&mut self, p: u32, slot: u32) {
        let call = self.producers[p as usize].open_single(slot);
        self.start_call(p, call);
    }
}
