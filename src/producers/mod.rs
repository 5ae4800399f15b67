//! Producers: the clients that send messages, with the AWS SDK's retry behaviour.

pub(crate) mod engine;

use crate::load::attrs::Attr;
use crate::load::{Arrival, ArrivalState, KeyDist, SizeDist};
use crate::metrics::ComponentReport;
use crate::sim::{SimDuration, SimRng};
use rand::Rng;

/// Where a producer sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// An SQS queue (index).
    Queue(u32),
    /// A Kinesis data stream (index).
    Stream(u32),
    /// An SNS topic (index).
    Topic(u32),
    /// A Firehose delivery stream (index).
    Firehose(u32),
}

/// The SDK's retry policy ("standard" retry mode).
///
/// # Formula
/// Retry `i` (1-based) waits `min(b·base·2^i, max_backoff)` with `b` uniform on [0, 1]
/// (exponential backoff with full jitter), as the AWS SDKs and Tools reference guide gives
/// it: `min(b·r^i, MAX_BACKOFF)` with `r = 2` and `MAX_BACKOFF = 20 s`; default 3 attempts
/// in all. <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (>= 1).
    pub max_attempts: u32,
    /// Base of the backoff (the SDK's implicit 1 s).
    pub base: SimDuration,
    /// Cap of one backoff.
    pub max_backoff: SimDuration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base: SimDuration::from_secs(1),
            max_backoff: SimDuration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 = first retry).
    pub(crate) fn backoff(&self, retry: u32, rng: &mut SimRng) -> SimDuration {
        let b: f64 = rng.random();
        let cap = self.base.as_secs_f64() * 2f64.powi(retry.min(62) as i32);
        SimDuration::from_secs_f64((b * cap).min(self.max_backoff.as_secs_f64()))
    }
}

/// Second sends of the same message.
#[derive(Clone, Copy, Debug)]
pub struct Resend {
    /// Probability that a message is sent again.
    pub probability: f64,
    /// After this long.
    pub after: SimDuration,
}

/// A validated producer.
#[derive(Clone, Debug)]
pub struct ProducerSpec {
    /// Name.
    pub name: String,
    /// Destination.
    pub target: Target,
    /// Arrival process.
    pub arrival: Arrival,
    /// Message sizes.
    pub size: SizeDist,
    /// Messages per send call.
    pub batch: u32,
    /// Longest wait for a batch to fill.
    pub linger: SimDuration,
    /// Keys (partition keys or FIFO groups).
    pub keys: Option<KeyDist>,
    /// Key text prefix.
    pub key_prefix: String,
    /// Message attributes (values derived from each message's id: `load::attrs`).
    pub attributes: Vec<Attr>,
    /// Payload (body) fields, for payload-based filter policies.
    pub body: Vec<Attr>,
    /// Per-message delivery delay.
    pub delay: SimDuration,
    /// Second sends.
    pub resend: Option<Resend>,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Most send calls in progress at once (`None`: 1 for FIFO targets, so sends keep their
    /// order, and unlimited otherwise).
    pub max_in_flight: Option<u32>,
    /// Kinesis: KPL-style aggregation of user records (None: off).
    pub aggregation: Option<crate::services::kinesis::producer::AggregationSpec>,
    /// Kinesis: time from a record's event to its creation (None: none), read by Flink's
    /// event-time windows.
    pub event_time_lag: Option<crate::load::DurationDist>,
}

/// Counters of a producer.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProducerStats {
    /// Messages created.
    pub(crate) generated: u64,
    /// Messages accepted by the target.
    pub(crate) sent: u64,
    /// Send calls made (attempts, retries included).
    pub(crate) calls: u64,
    /// Attempts refused by throttling (per message).
    pub(crate) throttled: u64,
    /// Retry attempts (per message).
    pub(crate) retries: u64,
    /// Messages given up after the last attempt.
    pub(crate) dropped: u64,
    /// Messages refused as too large (not retried).
    pub(crate) rejected: u64,
    /// Second sends.
    pub(crate) resent: u64,
    /// Messages refused by the target's access policy (AuthorizationError: not retried).
    pub(crate) denied: u64,
    /// Kinesis: records accepted by the stream (aggregates count once; `sent` counts user
    /// records).
    pub(crate) kinesis_records: u64,
    /// Kinesis: aggregated records (of two or more user records) sealed by KPL-style
    /// aggregation.
    pub(crate) aggregated: u64,
}

/// One send call in progress: its messages and attempt number.
#[derive(Clone, Debug, Default)]
pub(crate) struct Call {
    /// Message slots.
    pub(crate) msgs: Vec<u32>,
    /// Attempt number (1 = first).
    pub(crate) attempt: u32,
    /// Latency of the current attempt (the response leg is its second half).
    pub(crate) latency: SimDuration,
}

/// A producer's run-time state.
pub(crate) struct Producer {
    /// Its spec.
    pub(crate) spec: ProducerSpec,
    /// Random stream.
    pub(crate) rng: SimRng,
    /// Arrival process state.
    pub(crate) arrival: ArrivalState,
    /// Messages waiting for their batch to fill.
    pub(crate) batch: Vec<u32>,
    /// Payload of `batch`, bytes.
    pub(crate) batch_bytes: u64,
    /// Generation of the current batch's linger timer.
    pub(crate) linger_gen: u32,
    /// Most calls in progress at once (attempts and back-offs included); 1 keeps the send
    /// order, as a FIFO producer must.
    pub(crate) max_in_flight: u32,
    /// Calls in progress now.
    pub(crate) in_flight: u32,
    /// Calls waiting for room.
    pub(crate) waiting: std::collections::VecDeque<u32>,
    /// The engine is handing freed room to waiting calls (see `Engine::on_send_done`).
    pub(crate) draining: bool,
    /// Responses that came back while draining, still to hand on.
    pub(crate) done_pending: u32,
    /// Send calls in progress (slab).
    pub(crate) calls: Vec<Call>,
    free_calls: Vec<u32>,
    /// Counters.
    pub(crate) stats: ProducerStats,
}

impl Producer {
    /// A producer that has sent nothing.
    pub(crate) fn new(spec: ProducerSpec, rng: SimRng) -> Self {
        let batch = Vec::with_capacity(spec.batch as usize);
        Producer {
            spec,
            rng,
            arrival: ArrivalState::default(),
            batch,
            batch_bytes: 0,
            linger_gen: 0,
            max_in_flight: u32::MAX,
            in_flight: 0,
            waiting: std::collections::VecDeque::new(),
            draining: false,
            done_pending: 0,
            calls: Vec::new(),
            free_calls: Vec::new(),
            stats: ProducerStats::default(),
        }
    }

    /// Moves the current batch into a new call slot; returns the slot.
    pub(crate) fn open_call(&mut self) -> u32 {
        let i = match self.free_calls.pop() {
            Some(i) => i,
            None => {
                self.calls.push(Call::default());
                (self.calls.len() - 1) as u32
            }
        };
        let c = &mut self.calls[i as usize];
        c.msgs.clear();
        c.msgs.append(&mut self.batch);
        self.batch_bytes = 0;
        c.attempt = 1;
        i
    }

    /// A call slot holding one message.
    pub(crate) fn open_single(&mut self, slot: u32) -> u32 {
        let i = match self.free_calls.pop() {
            Some(i) => i,
            None => {
                self.calls.push(Call::default());
                (self.calls.len() - 1) as u32
            }
        };
        let c = &mut self.calls[i as usize];
        c.msgs.clear();
        c.msgs.push(slot);
        c.attempt = 1;
        i
    }

    /// Releases a finished call slot.
    pub(crate) fn close_call(&mut self, i: u32) {
        self.calls[i as usize].msgs.clear();
        self.free_calls.push(i);
    }

    /// Draws the next message's size and key.
    #[inline]
    pub(crate) fn draw(&mut self) -> (u32, u32) {
        if let crate::load::Arrival::Trace(tr) = &self.spec.arrival {
            let (size, key) = tr.row_attrs(&self.arrival);
            let size = size.unwrap_or_else(|| self.spec.size.sample(&mut self.rng));
            let key = match key {
                Some(k) => k,
                None => self
                    .spec
                    .keys
                    .as_ref()
                    .map(|k| k.sample(&mut self.rng))
                    .unwrap_or(0),
            };
            return (size, key);
        }
        let size = self.spec.size.sample(&mut self.rng);
        let key = match &self.spec.keys {
            Some(k) => k.sample(&mut self.rng),
            None => 0,
        };
        (size, key)
    }

    /// Resets counters at the end of the warm-up.
    pub(crate) fn reset_stats(&mut self) {
        self.stats = ProducerStats::default();
    }

    /// The component report.
    pub(crate) fn report(&self, window_s: f64) -> ComponentReport {
        let s = &self.stats;
        let mut r = ComponentReport::new("producer", &self.spec.name);
        r.count("generated", s.generated)
            .count("sent", s.sent)
            .count("calls", s.calls)
            .count("throttled", s.throttled)
            .count("retries", s.retries)
            .count("dropped", s.dropped)
            .count("rejected", s.rejected)
            .count("denied", s.denied)
            .count("resent", s.resent)
            .real(
                "rate_per_s",
                if window_s > 0.0 {
                    s.generated as f64 / window_s
                } else {
                    0.0
                },
            );
        if self.spec.aggregation.is_some() {
            // Throttles and retries of an aggregating producer count Kinesis records.
            r.count("kinesis_records_sent", s.kinesis_records)
                .count("aggregated_records", s.aggregated)
                .real(
                    "user_records_per_record",
                    if s.kinesis_records > 0 {
                        s.sent as f64 / s.kinesis_records as f64
                    } else {
                        0.0
                    },
                );
        }
        r.headline(&[
            "generated",
            "sent",
            "rate_per_s",
            "throttled",
            "retries",
            "dropped",
        ]);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::stream;

    #[test]
    fn backoff_is_capped_full_jitter() {
        let p = RetryPolicy::default();
        let mut rng = stream(1, "r");
        for retry in 1..10 {
            for _ in 0..100 {
                let d = p.backoff(retry, &mut rng).as_secs_f64();
                let cap = (2f64.powi(retry as i32)).min(20.0);
                assert!((0.0..=cap).contains(&d), "retry {retry}: {d}");
            }
        }
    }
}
