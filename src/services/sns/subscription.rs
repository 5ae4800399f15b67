//! The SNS subscription component: pending deliveries and retries in one [`Deadlines`] set
//! with a single kernel timer, endpoint failures and outages, the HTTP/S throttle, FIFO
//! group order, and the counters.

use super::filter::{FilterPolicy, Scope};
use super::retry::DeliveryPolicy;
use super::{Endpoint, Protocol};
use crate::load::DurationDist;
use crate::metrics::{ComponentReport, LatencyHist};
use crate::sim::{Deadlines, SimDuration, SimRng, SimTime};
use rand::Rng;
use std::collections::{HashMap, VecDeque};

/// A validated subscription.
#[derive(Clone, Debug)]
pub struct SubscriptionSpec {
    /// Name (the model's, or `TOPIC-KIND-ENDPOINT`).
    pub name: String,
    /// Topic index.
    pub topic: u32,
    /// Where it delivers.
    pub endpoint: Endpoint,
    /// Its protocol.
    pub protocol: Protocol,
    /// The endpoint as written (`sqs:billing`).
    pub endpoint_text: String,
    /// Filter policy (`None`: every message).
    pub filter: Option<FilterPolicy>,
    /// What the policy reads.
    pub filter_scope: Scope,
    /// Raw message delivery (no JSON envelope).
    pub raw: bool,
    /// Bytes added to each delivered message (the envelope; 0 with raw delivery or for
    /// sinks whose size does not matter).
    pub envelope: u32,
    /// Subscription dead-letter queue (SQS queue index).
    pub dead_letter: Option<u32>,
    /// Publish → arrival at the endpoint.
    pub latency: DurationDist,
    /// Probability that a delivery attempt fails.
    pub failure_probability: f64,
    /// Windows `[from, until)` in which attempts fail, each with its probability (1 = all).
    pub outages: Vec<(SimTime, SimTime, f64)>,
    /// Retry policy.
    pub policy: DeliveryPolicy,
    /// Retry jitter (fraction of each delay, ±).
    pub jitter: f64,
    /// HTTP/S `maxReceivesPerSecond`.
    pub max_receives_per_second: Option<f64>,
    /// The topic is FIFO (deliveries of a message group stay in order).
    pub fifo: bool,
}

/// Counters of a subscription (reset at the end of the warm-up).
#[derive(Clone, Debug, Default)]
pub(crate) struct SubscriptionStats {
    /// Messages that matched its filter (deliveries started).
    pub(crate) matched: u64,
    /// Successful deliveries.
    pub(crate) deliveries: u64,
    /// Bytes delivered (envelope included).
    pub(crate) delivered_bytes: u64,
    /// Delivery attempts made.
    pub(crate) attempts: u64,
    /// Most attempts a successful delivery needed.
    pub(crate) attempts_max: u64,
    /// Failed attempts (endpoint failure, outage, throttling at the endpoint).
    pub(crate) failures: u64,
    /// Retries made (attempts after the first).
    pub(crate) retries: u64,
    /// Attempts postponed by `max_receives_per_second`.
    pub(crate) throttled: u64,
    /// Deliveries refused by the endpoint for good (message too large): no retries.
    pub(crate) client_errors: u64,
    /// Deliveries the queue's policy refused to SNS (not retried).
    pub(crate) denied: u64,
    /// Deliveries moved to the dead-letter queue.
    pub(crate) dead_lettered: u64,
    /// Deliveries lost.
    pub(crate) lost: u64,
    /// Publish → successful delivery.
    pub(crate) latency: LatencyHist,
}

/// A FIFO message group's delivery state on one subscription.
#[derive(Clone, Debug, Default)]
struct Group {
    /// Planned arrival of the group's latest delivery (arrivals never overtake).
    last_at: SimTime,
    /// The message whose retries hold the group back.
    blocker: Option<u32>,
    /// Deliveries waiting behind the blocker, in order: (slot, attempt).
    held: VecDeque<(u32, u32)>,
}

/// Bit of a pending entry's attempt number marking a slot already reserved by the
/// `max_receives_per_second` throttle.
pub(crate) const RESERVED: u32 = 1 << 31;

/// A subscription at run time.
pub(crate) struct SnsSubscription {
    /// Its spec.
    pub(crate) spec: SubscriptionSpec,
    /// Counters.
    pub(crate) stats: SubscriptionStats,
    /// Random stream (latency, failures, jitter).
    pub(crate) rng: SimRng,
    /// Deliveries started and not finished (in transit, retrying or held).
    pub(crate) in_progress: u64,
    pending: Deadlines<(u32, u32)>,
    timer_at: Option<SimTime>,
    timer_gen: u32,
    next_free: SimTime,
    groups: HashMap<u64, Group>,
    /// Latency added to every delivery (a `latency_spike` fault in force).
    pub(crate) extra_latency: SimDuration,
}

impl SnsSubscription {
    /// A subscription with nothing pending.
    pub(crate) fn new(spec: SubscriptionSpec, rng: SimRng) -> Self {
        SnsSubscription {
            spec,
            stats: SubscriptionStats::default(),
            rng,
            in_progress: 0,
            pending: Deadlines::new(),
            timer_at: None,
            timer_gen: 0,
            next_free: SimTime::ZERO,
            groups: HashMap::new(),
            extra_latency: SimDuration::ZERO,
        }
    }

    /// Starts the delivery of `slot` published at `now` (FIFO: of message group `group`);
    /// its first attempt is due after the delivery latency, never before the group's
    /// previous delivery.
    pub(crate) fn start(&mut self, now: SimTime, slot: u32, group: u64) {
        self.stats.matched += 1;
        self.in_progress += 1;
        let mut at = now + self.spec.latency.sample(&mut self.rng) + self.extra_latency;
        if self.spec.fifo {
            let g = self.groups.entry(group).or_default();
            at = at.max(g.last_at);
            g.last_at = at;
        }
        self.pending.push(at, (slot, 1));
    }

    /// Schedules attempt `attempt` of `slot` at `at`.
    #[inline]
    pub(crate) fn push(&mut self, at: SimTime, slot: u32, attempt: u32) {
        self.pending.push(at, (slot, attempt));
    }

    /// The next attempt due at or before `now`: (slot, attempt).
    #[inline]
    pub(crate) fn pop_due(&mut self, now: SimTime) -> Option<(u32, u32)> {
        self.pending.pop_due(now).map(|(_, x)| x)
    }

    /// Re-arms the single timer for the earliest pending attempt (never before `now`) if
    /// it moved earlier or the timer is not armed; returns `(time, generation)` of an event
    /// to schedule.
    pub(crate) fn arm(&mut self, now: SimTime) -> Option<(SimTime, u32)> {
        let (t, _) = self.pending.peek()?;
        let t = t.max(now);
        if self.timer_at.is_some_and(|a| a <= t) {
            return None;
        }
        self.timer_gen = self.timer_gen.wrapping_add(1);
        self.timer_at = Some(t);
        Some((t, self.timer_gen))
    }

    /// The timer fired: true if this event is the armed one (the caller then pops what is
    /// due and re-arms).
    pub(crate) fn fire(&mut self, now: SimTime, gen: u32) -> bool {
        if gen != self.timer_gen || self.timer_at != Some(now) {
            return false;
        }
        self.timer_at = None;
        true
    }

    /// Whether an attempt at `now` fails at the endpoint: drawn with the probability of
    /// the outage window around `now` (1 unless the window says otherwise), else with the
    /// endpoint's `failure_probability`.
    pub(crate) fn endpoint_fails(&mut self, now: SimTime) -> bool {
        // The most certain of the windows around `now` (a fault's window may cover one of
        // the model's own).
        let p = self
            .spec
            .outages
            .iter()
            .filter(|(from, until, _)| now >= *from && now < *until)
            .map(|w| w.2)
            .reduce(f64::max)
            .unwrap_or(self.spec.failure_probability);
        p >= 1.0 || (p > 0.0 && self.rng.random::<f64>() < p)
    }

    /// True when an attempt at `t` fails for sure (an outage window of probability 1).
    pub(crate) fn certainly_down(&self, t: SimTime) -> bool {
        self.spec
            .outages
            .iter()
            .any(|(from, until, p)| t >= *from && t < *until && *p >= 1.0)
    }

    /// `max_receives_per_second`: `None` if an attempt may go now (and takes the slot),
    /// else the time of the slot reserved for it.
    pub(crate) fn throttle(&mut self, now: SimTime) -> Option<SimTime> {
        let rate = self.spec.max_receives_per_second?;
        let gap = SimDuration::from_secs_f64(1.0 / rate);
        if now >= self.next_free {
            self.next_free = now + gap;
            None
        } else {
            let at = self.next_free;
            self.next_free = at + gap;
            self.stats.throttled += 1;
            Some(at)
        }
    }

    /// The wait after failed attempt `attempt`, with jitter; `None` after the last.
    pub(crate) fn retry_delay(&mut self, attempt: u32) -> Option<SimDuration> {
        self.spec
            .policy
            .jittered_delay_after(attempt as u64, self.spec.jitter, &mut self.rng)
    }

    /// FIFO: true (and the attempt is held) when another message of `group` is retrying.
    pub(crate) fn hold_if_blocked(&mut self, group: u64, slot: u32, attempt: u32) -> bool {
        if !self.spec.fifo {
            return false;
        }
        match self.groups.get_mut(&group) {
            Some(g) if g.blocker.is_some_and(|b| b != slot) => {
                g.held.push_back((slot, attempt));
                true
            }
            _ => false,
        }
    }

    /// FIFO: a failed attempt of `slot` holds `group` back until it is done.
    pub(crate) fn block(&mut self, group: u64, slot: u32) {
        if self.spec.fifo {
            let g = self.groups.entry(group).or_default();
            if g.blocker.is_none() {
                g.blocker = Some(slot);
            }
        }
    }

    /// FIFO: `slot` is done (delivered, dead-lettered or lost). If it was holding `group`
    /// back, the group is free again; returns the next held attempt to make now, if any.
    /// Call again (after making that attempt) until it returns `None`.
    pub(crate) fn next_released(&mut self, group: u64, slot: u32) -> Option<(u32, u32)> {
        if !self.spec.fifo {
            return None;
        }
        let g = self.groups.get_mut(&group)?;
        if g.blocker == Some(slot) {
            g.blocker = None;
        }
        if g.blocker.is_some() {
            return None;
        }
        g.held.pop_front()
    }

    /// A delivery finished (any outcome).
    #[inline]
    pub(crate) fn finish(&mut self) {
        self.in_progress = self.in_progress.saturating_sub(1);
    }

    /// Resets the counters at the end of the warm-up.
    pub(crate) fn reset_stats(&mut self) {
        self.stats = SubscriptionStats::default();
    }

    /// The component report (kind `subscription`).
    pub(crate) fn report(&self, topic: &str) -> ComponentReport {
        let s = &self.stats;
        let mut r = ComponentReport::new("subscription", &self.spec.name);
        r.text("topic", topic)
            .text("endpoint", &self.spec.endpoint_text)
            .text("protocol", self.spec.protocol.key())
            .text(
                "filter_scope",
                match (&self.spec.filter, self.spec.filter_scope) {
                    (None, _) => "none",
                    (Some(_), Scope::Attributes) => "attributes",
                    (Some(_), Scope::Body) => "body",
                },
            )
            .count("matched", s.matched)
            .count("deliveries", s.deliveries)
            .count("delivered_bytes", s.delivered_bytes)
            .count("attempts", s.attempts)
            .count("attempts_max", s.attempts_max)
            .count("delivery_failures", s.failures)
            .count("retries", s.retries)
            .count("throttled", s.throttled)
            .count("client_errors", s.client_errors)
            .count("denied", s.denied)
            .count("dead_lettered", s.dead_lettered)
            .count("lost", s.lost)
            .count("pending", self.in_progress)
            .latency("latency_s", &s.latency)
            .headline(&[
                "matched",
                "deliveries",
                "delivery_failures",
                "retries",
                "dead_lettered",
                "lost",
                "pending",
                "latency_s",
            ]);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::sns::limits::SnsLimits;
    use crate::sim::stream;

    fn spec(fifo: bool) -> SubscriptionSpec {
        SubscriptionSpec {
            name: "s".into(),
            topic: 0,
            endpoint: Endpoint::Sink(Protocol::Http),
            protocol: Protocol::Http,
            endpoint_text: "http:x".into(),
            filter: None,
            filter_scope: Scope::Attributes,
            raw: false,
            envelope: 0,
            dead_letter: None,
            latency: DurationDist::zero(),
            failure_probability: 0.0,
            outages: vec![(SimTime(10), SimTime(20), 1.0)],
            policy: Protocol::Http.default_policy(&SnsLimits::default()),
            jitter: 0.0,
            max_receives_per_second: Some(2.0),
            fifo,
        }
    }

    #[test]
    fn outage_window_is_half_open() {
        let mut s = SnsSubscription::new(spec(false), stream(1, "s"));
        assert!(!s.endpoint_fails(SimTime(9)));
        assert!(s.endpoint_fails(SimTime(10)));
        assert!(s.endpoint_fails(SimTime(19)));
        assert!(!s.endpoint_fails(SimTime(20)));
    }

    #[test]
    fn throttle_reserves_slots_half_a_second_apart() {
        // 2 per second: at t = 0 three attempts → now, 0.5 s, 1 s.
        let mut s = SnsSubscription::new(spec(false), stream(1, "s"));
        assert_eq!(s.throttle(SimTime(0)), None);
        assert_eq!(s.throttle(SimTime(0)), Some(SimTime(500_000_000)));
        assert_eq!(s.throttle(SimTime(0)), Some(SimTime(1_000_000_000)));
        assert_eq!(s.stats.throttled, 2);
        // Later, after the reserved slots: free again.
        assert_eq!(s.throttle(SimTime(5_000_000_000)), None);
    }

    #[test]
    fn fifo_group_holds_behind_a_retrying_message() {
        let mut s = SnsSubscription::new(spec(true), stream(1, "s"));
        s.block(7, 100);
        assert!(
            !s.hold_if_blocked(7, 100, 2),
            "the blocker's own retry goes"
        );
        assert!(s.hold_if_blocked(7, 101, 1));
        assert!(s.hold_if_blocked(7, 102, 1));
        assert!(!s.hold_if_blocked(8, 200, 1), "other groups are free");
        assert_eq!(s.next_released(7, 101), None, "not the blocker: still held");
        assert_eq!(s.next_released(7, 100), Some((101, 1)));
        assert_eq!(s.next_released(7, 100), Some((102, 1)));
        assert_eq!(s.next_released(7, 100), None);
    }

    #[test]
    fn fifo_arrivals_never_overtake() {
        // Latency uniform 0–1 s: each arrival is at least the group's previous one.
        let mut sp = spec(true);
        sp.latency = DurationDist(crate::load::Dist::uniform(0.0, 1e9).expect("valid"));
        let mut s = SnsSubscription::new(sp, stream(4, "s"));
        for i in 0..200u32 {
            s.start(SimTime(i as u64 * 1_000_000), i, 1);
        }
        let mut last = 0u32;
        let mut n = 0;
        while let Some((slot, _)) = s.pop_due(SimTime::MAX) {
            assert!(n == 0 || slot > last, "{slot} after {last}");
            last = slot;
            n += 1;
        }
        assert_eq!(n, 200);
        // Control: a standard topic's subscription lets later messages overtake.
        let mut sp = spec(false);
        sp.latency = DurationDist(crate::load::Dist::uniform(0.0, 1e9).expect("valid"));
        let mut s = SnsSubscription::new(sp, stream(4, "s"));
        for i in 0..200u32 {
            s.start(SimTime(i as u64 * 1_000_000), i, 1);
        }
        let mut overtakes = 0;
        let mut last = 0u32;
        while let Some((slot, _)) = s.pop_due(SimTime::MAX) {
            if slot < last {
                overtakes += 1;
            }
            last = last.max(slot);
        }
        assert!(overtakes > 50, "{overtakes}");
    }
}
