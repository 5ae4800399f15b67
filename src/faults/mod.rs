//! Fault scenarios (`[[fault]]`): what goes wrong, where, and when, and what it cost.
//!
//! A fault hits one component for a while, once (`from`) or at random (`rate_per_hour`,
//! a Poisson process of starts; the next occurrence is drawn after the previous one
//! ends, so a fault never overlaps itself):
//! - `outage`: a worker pool is down (its workers stop; the messages they hold stay in
//!   flight until their visibility times out). A pool's `outages` windows are faults of
//!   this kind.
//! - `endpoint_down`: every delivery attempt of a subscription fails, and SNS retries it
//!   by the subscription's delivery policy.
//! - `throttle`: a share of the SendMessage/Publish calls on a queue or topic fail with a
//!   throttling error; the producers' SDKs retry them with back-off (standard retry mode)
//!   and drop them after their last attempt.
//! - `capacity_loss`: a share of a pool's workers is gone (an availability zone of
//!   three: `share = 0.34`; the share of workers is rounded to the nearest one, at least
//!   one and not all).
//! - `latency_spike`: every API call on a queue, or the first attempt of every delivery
//!   a subscription starts, takes `extra_latency` longer (retries keep their policy's
//!   delays).
//!
//! Every run reports each fault (component kind `fault`): its occurrences and time
//! active; the retries, dead-lettered, expired, dropped and lost messages counted from
//! each start until the component recovered; the backlog of the component it hit before
//! it and at its worst (`delayed`: the messages held back, peak minus before); and the
//! time to recover: from the end of an occurrence until the backlog is back at or under
//! its level before the fault (checked at every time-series sample, so to within the
//! sampling interval).

pub(crate) mod config;
pub(crate) mod engine;
pub mod raw;

use crate::load::DurationDist;
use crate::sim::SimTime;

/// What goes wrong.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultKind {
    /// The pool is down.
    Outage,
    /// The subscription's endpoint fails every attempt.
    EndpointDown,
    /// This share of calls is throttled.
    Throttle {
        /// Share of calls refused (0–1].
        share: f64,
    },
    /// This share of the pool's workers is gone.
    CapacityLoss {
        /// Share of workers lost (0–1).
        share: f64,
    },
    /// Calls or deliveries take this much longer.
    LatencySpike {
        /// Added latency.
        extra: crate::sim::SimDuration,
    },
}

/// The component a fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    /// A worker pool (index).
    Pool(u32),
    /// An SNS subscription (index).
    Subscription(u32),
    /// An SQS queue (index).
    Queue(u32),
    /// An SNS topic (index).
    Topic(u32),
}

/// When a fault happens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultWhen {
    /// Once, at this time.
    Once(SimTime),
    /// At random, this many times an hour on average.
    Random {
        /// Mean starts per hour.
        rate_per_hour: f64,
    },
}

/// A validated fault.
#[derive(Clone, Debug)]
pub struct FaultSpec {
    /// Name in reports.
    pub name: String,
    /// What goes wrong.
    pub kind: FaultKind,
    /// Where.
    pub target: FaultTarget,
    /// The target as written (`consumer:billing-workers`).
    pub target_text: String,
    /// When.
    pub when: FaultWhen,
    /// How long each occurrence lasts.
    pub length: DurationDist,
    /// Written as a `[[fault]]` (not a pool's `outages` window).
    pub listed: bool,
}

impl FaultKind {
    /// The kind's name in model files.
    pub fn key(&self) -> &'static str {
        match self {
            FaultKind::Outage => "outage",
            FaultKind::EndpointDown => "endpoint_down",
            FaultKind::Throttle { .. } => "throttle",
            FaultKind::CapacityLoss { .. } => "capacity_loss",
            FaultKind::LatencySpike { .. } => "latency_spike",
        }
    }
}
