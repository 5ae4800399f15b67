//! The `[[fault]]` tables of a model file as written.

use crate::input::units::Dur;
use crate::model::raw::RawDist;
use serde::Deserialize;

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawFaultKind {
    /// A worker pool is down (`consumer:NAME`).
    Outage,
    /// A subscription's endpoint (HTTP/S, Lambda, SQS, ...) fails every delivery
    /// (`subscription:NAME`).
    EndpointDown,
    /// A share of the calls to a queue or topic fail with a throttling error and go
    /// through the SDK's retries (`sqs:NAME`, `sns:NAME`).
    Throttle,
    /// A share of a pool's workers is gone (one availability zone of three: 0.33)
    /// (`consumer:NAME`).
    CapacityLoss,
    /// Every API call on a queue, or every delivery of a subscription, takes longer
    /// (`sqs:NAME`, `subscription:NAME`).
    LatencySpike,
}

/// A `[[fault]]`: scheduled (`from`) or random (`rate_per_hour`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    /// Name in reports (default `KIND-TARGET`).
    #[serde(default)]
    pub name: Option<String>,
    /// What goes wrong.
    pub kind: RawFaultKind,
    /// The component it hits: `consumer:NAME`, `subscription:NAME`, `sqs:NAME`,
    /// `sns:NAME`.
    pub target: String,
    /// Scheduled: when it starts (simulated time from the start of the run).
    #[serde(default)]
    pub from: Option<Dur>,
    /// Random: mean occurrences per hour (a Poisson process of starts, the next drawn
    /// after the previous one ends).
    #[serde(default)]
    pub rate_per_hour: Option<f64>,
    /// How long each occurrence lasts (a constant for a scheduled fault, any
    /// distribution for a random one).
    #[serde(rename = "for")]
    pub length: RawDist<Dur>,
    /// `throttle`: the share of calls refused; `capacity_loss`: the share of workers lost.
    #[serde(default)]
    pub share: Option<f64>,
    /// `latency_spike`: the latency added to each call or delivery.
    #[serde(default)]
    pub extra_latency: Option<Dur>,
}
