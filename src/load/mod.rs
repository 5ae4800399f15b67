//! Load: arrival processes, message-size distributions, key/group distributions and
//! trace replay.

pub mod arrival;
pub mod attrs;
pub mod dist;
pub mod keys;
pub mod trace;

pub use arrival::{Arrival, ArrivalState, Segment};
pub use dist::{Dist, DistError, DurationDist, SizeDist};
pub use keys::KeyDist;
pub use trace::{Trace, TraceError};

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
