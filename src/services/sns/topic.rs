//! The SNS topic component: admission (throttling), FIFO deduplication and its counters.
//! The engine (`services::sns::engine`) does the fan-out.

use super::Protocol;
use crate::load::DurationDist;
use crate::metrics::{ComponentReport, LatencyHist};
use crate::sim::{SimDuration, SimRng, SimTime};
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};

/// A validated topic.
#[derive(Clone, Debug)]
pub struct TopicSpec {
    /// Name (FIFO topics end in `.fifo`).
    pub name: String,
    /// FIFO topic.
    pub fifo: bool,
    /// FIFO: message-group throughput scope (high throughput: only the regional quota and
    /// deduplication per message group); otherwise the topic scope's own limits.
    pub group_scope: bool,
    /// `MaximumMessageSize`, bytes.
    pub max_message_size: u32,
    /// Latency of one Publish/PublishBatch call (round trip).
    pub api_latency: DurationDist,
    /// FIFO topic scope: messages per second (`None`: no per-topic limit).
    pub publish_per_s: Option<u32>,
    /// FIFO topic scope: bytes per second.
    pub bytes_per_s: Option<u64>,
    /// FIFO deduplication interval.
    pub dedup_interval: SimDuration,
    /// Billing chunk, bytes.
    pub billing_chunk: u32,
    /// Subscriptions (indices), in model order.
    pub subscriptions: Vec<u32>,
}

/// Counters of a topic (reset at the end of the warm-up).
#[derive(Clone, Debug, Default)]
pub(crate) struct TopicStats {
    /// Messages accepted (not throttled, not too large, not deduplicated).
    pub(crate) published: u64,
    /// Publish / PublishBatch calls admitted.
    pub(crate) publish_calls: u64,
    /// Billable publish requests (64 KiB chunks of each admitted call's payload).
    pub(crate) publish_requests: u64,
    /// Payload bytes of admitted calls.
    pub(crate) publish_bytes: u64,
    /// Messages in calls refused by throttling (each attempt counts).
    pub(crate) throttled: u64,
    /// Messages refused as larger than the topic allows.
    pub(crate) rejected_too_large: u64,
    /// FIFO: messages dropped as repeats of a message id within the dedup interval.
    pub(crate) deduplicated: u64,
    /// Messages that matched no subscription.
    pub(crate) filtered_out: u64,
    /// Successful deliveries, by protocol (index of [`Protocol::ALL`]).
    pub(crate) deliveries: [u64; 7],
    /// Payload bytes of successful deliveries (the published size, without the JSON
    /// envelope: what FIFO delivery pricing counts), by protocol.
    pub(crate) delivered_bytes: [u64; 7],
    /// Failed delivery attempts.
    pub(crate) delivery_failures: u64,
    /// Delivery retries made.
    pub(crate) retries: u64,
    /// Deliveries that a subscribed queue's policy refused to SNS.
    pub(crate) denied: u64,
    /// Deliveries moved to a subscription dead-letter queue.
    pub(crate) dead_lettered: u64,
    /// Deliveries lost (retries exhausted, no dead-letter queue).
    pub(crate) lost: u64,
    /// Bytes evaluated by payload-based filter policies.
    pub(crate) payload_filter_bytes: u64,
    /// Publish → successful delivery.
    pub(crate) latency: LatencyHist,
}

/// A token bucket refilled at `rate` per second, holding at most `cap`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bucket {
    tokens: f64,
    rate: f64,
    cap: f64,
    last: SimTime,
}

impl Bucket {
    /// A full bucket of `rate` per second holding one second's worth.
    pub(crate) fn new(rate: f64) -> Self {
        Bucket {
            tokens: rate,
            rate,
            cap: rate,
            last: SimTime::ZERO,
        }
    }

    fn refill(&mut self, now: SimTime) {
        let dt = (now - self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.cap);
        self.last = now;
    }

    /// True if `n` tokens are there now (without taking them).
    pub(crate) fn has(&mut self, now: SimTime, n: f64) -> bool {
        self.refill(now);
        // A request larger than the bucket passes when the bucket is full (it cannot
        // ever be admitted otherwise).
        self.tokens >= n.min(self.cap)
    }

    /// Takes `n` tokens (after [`Bucket::has`] said yes).
    pub(crate) fn take(&mut self, n: f64) {
        self.tokens -= n.min(self.cap);
    }
}

/// A topic at run time.
pub(crate) struct SnsTopic {
    /// Its spec.
    pub(crate) spec: TopicSpec,
    /// Counters.
    pub(crate) stats: TopicStats,
    /// Random stream (API latency).
    pub(crate) rng: SimRng,
    msgs_bucket: Option<Bucket>,
    bytes_bucket: Option<Bucket>,
    dedup: HashMap<u64, SimTime>,
    dedup_expiry: VecDeque<(SimTime, u64)>,
}

impl SnsTopic {
    /// A topic that has published nothing.
    pub(crate) fn new(spec: TopicSpec, rng: SimRng) -> Self {
        let msgs_bucket = spec.publish_per_s.map(|r| Bucket::new(r as f64));
        let bytes_bucket = spec.bytes_per_s.map(|r| Bucket::new(r as f64));
        SnsTopic {
            spec,
            stats: TopicStats::default(),
            rng,
            msgs_bucket,
            bytes_bucket,
            dedup: HashMap::new(),
            dedup_expiry: VecDeque::new(),
        }
    }

    /// Checks the topic's own throughput limits for a call of `n` messages and `bytes`;
    /// takes the tokens when `regional_ok` and the topic's limits allow it.
    pub(crate) fn admit(&mut self, now: SimTime, n: u32, bytes: u64, regional_ok: bool) -> bool {
        let m_ok = self
            .msgs_bucket
            .as_mut()
            .is_none_or(|b| b.has(now, n as f64));
        let b_ok = self
            .bytes_bucket
            .as_mut()
            .is_none_or(|b| b.has(now, bytes as f64));
        let ok = m_ok && b_ok && regional_ok;
        if ok {
            if let Some(b) = &mut self.msgs_bucket {
                b.take(n as f64);
            }
            if let Some(b) = &mut self.bytes_bucket {
                b.take(bytes as f64);
            }
        }
        ok
    }

    /// FIFO: true when message `id` was published within the dedup interval (it must be
    /// dropped); otherwise records it.
    pub(crate) fn is_duplicate(&mut self, now: SimTime, id: u64) -> bool {
        if !self.spec.fifo {
            return false;
        }
        while let Some((t, old)) = self.dedup_expiry.front().copied() {
            if t > now {
                break;
            }
            self.dedup_expiry.pop_front();
            if self.dedup.get(&old).is_some_and(|u| *u <= now) {
                self.dedup.remove(&old);
            }
        }
        if self.dedup.get(&id).is_some_and(|u| *u > now) {
            return true;
        }
        let until = now + self.spec.dedup_interval;
        self.dedup.insert(id, until);
        self.dedup_expiry.push_back((until, id));
        false
    }

    /// Counts an admitted call carrying `payload` bytes.
    pub(crate) fn bill(&mut self, payload: u64) {
        let chunk = self.spec.billing_chunk.max(1) as u64;
        self.stats.publish_calls += 1;
        self.stats.publish_requests += payload.div_ceil(chunk).max(1);
        self.stats.publish_bytes += payload;
    }

    /// Resets the counters at the end of the warm-up.
    pub(crate) fn reset_stats(&mut self) {
        self.stats = TopicStats::default();
    }

    /// Successful deliveries, all protocols.
    pub(crate) fn deliveries(&self) -> u64 {
        self.stats.deliveries.iter().sum()
    }

    /// The component report; `pending` is the deliveries waiting or retrying now.
    pub(crate) fn report(&self, pending: u64) -> ComponentReport {
        let s = &self.stats;
        let mut by = Map::new();
        for (i, p) in Protocol::ALL.iter().enumerate() {
            if s.deliveries[i] > 0 {
                by.insert(p.key().into(), Value::from(s.deliveries[i]));
            }
        }
        let mut r = ComponentReport::new("topic", &self.spec.name);
        r.text("type", if self.spec.fifo { "fifo" } else { "standard" })
            .count("subscriptions", self.spec.subscriptions.len() as u64)
            .count("published", s.published)
            .count("publish_calls", s.publish_calls)
            .count("publish_requests", s.publish_requests)
            .count("publish_bytes", s.publish_bytes)
            .count("throttled", s.throttled)
            .count("rejected_too_large", s.rejected_too_large)
            .count("deduplicated", s.deduplicated)
            .count("filtered_out", s.filtered_out)
            .count("deliveries", self.deliveries())
            .value("deliveries_by_protocol", Value::Object(by))
            .count("delivery_failures", s.delivery_failures)
            .count("retries", s.retries)
            .count("denied", s.denied)
            .count("dead_lettered", s.dead_lettered)
            .count("lost", s.lost)
            .count("pending", pending)
            .count("payload_filter_bytes", s.payload_filter_bytes)
            .latency("latency_s", &s.latency)
            .headline(&[
                "published",
                "throttled",
                "filtered_out",
                "deliveries",
                "delivery_failures",
                "retries",
                "dead_lettered",
                "lost",
                "latency_s",
            ]);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::stream;

    fn spec(fifo: bool) -> TopicSpec {
        TopicSpec {
            name: "t".into(),
            fifo,
            group_scope: false,
            max_message_size: 256 << 10,
            api_latency: DurationDist::zero(),
            publish_per_s: fifo.then_some(3000),
            bytes_per_s: fifo.then_some(20 << 20),
            dedup_interval: SimDuration::from_secs(300),
            billing_chunk: 64 << 10,
            subscriptions: Vec::new(),
        }
    }

    #[test]
    fn fifo_deduplicates_within_five_minutes() {
        let mut t = SnsTopic::new(spec(true), stream(1, "t"));
        assert!(!t.is_duplicate(SimTime(0), 7));
        assert!(t.is_duplicate(SimTime(299 * 1_000_000_000), 7));
        // At 300 s the interval has passed: accepted again.
        assert!(!t.is_duplicate(SimTime(300 * 1_000_000_000), 7));
        let mut s = SnsTopic::new(spec(false), stream(1, "t"));
        assert!(!s.is_duplicate(SimTime(0), 7) && !s.is_duplicate(SimTime(1), 7));
    }

    #[test]
    fn fifo_topic_scope_admits_3000_messages_a_second() {
        // A full bucket of 3,000: 300 calls of 10 pass at t = 0, the 301st does not; half a
        // second later 1,500 tokens are back.
        let mut t = SnsTopic::new(spec(true), stream(1, "t"));
        let passed = (0..301)
            .filter(|_| t.admit(SimTime(0), 10, 100, true))
            .count();
        assert_eq!(passed, 300);
        let half = SimTime(500_000_000);
        let passed = (0..200).filter(|_| t.admit(half, 10, 100, true)).count();
        assert_eq!(passed, 150);
        // Regional refusal takes nothing from the topic's buckets.
        let later = SimTime(2_000_000_000);
        assert!(!t.admit(later, 10, 100, false));
        assert_eq!(
            (0..301).filter(|_| t.admit(later, 10, 100, true)).count(),
            300
        );
    }

    #[test]
    fn billing_counts_64_kib_chunks() {
        // 200 KiB → 4 chunks; an empty call still bills 1.
        let mut t = SnsTopic::new(spec(false), stream(1, "t"));
        t.bill(200 << 10);
        t.bill(0);
        assert_eq!(t.stats.publish_requests, 5);
        assert_eq!(t.stats.publish_calls, 2);
    }
}
