//! Load: arrival processes, message-size distributions, key/group distributions and
//! trace replay.

pub(crate) mod arrival;
pub mod attrs;
pub(crate) mod dist;
pub(crate) mod keys;
pub(crate) mod trace;

pub use arrival::{Arrival, ArrivalState, Segment};
pub(crate) use dist::DistError;
pub use dist::{Dist, DurationDist, SizeDist};
pub use keys::KeyDist;
pub use trace::Trace;

use crate::sim::SimTime;

/// A `{from, for}` window, optionally with a probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Start.
    pub from: SimTime,
    /// End (exclusive).
    pub until: SimTime,
    /// Probability (failure windows).
    pub probability: f64,
}
