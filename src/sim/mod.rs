//! The simulation kernel: integer virtual time, the pending-event set and random streams
//! (and [`reference`](mod@reference), the hand-written loop the benchmark compares the simulator with).
//!
//! The kernel knows nothing of AWS. Higher layers define their own plain event enum and
//! drive an [`EventQueue`] of it; see `engine` for the loop that does so.

pub(crate) mod deadlines;
pub(crate) mod queue;
pub mod reference;
pub(crate) mod rng;
pub(crate) mod time;

pub(crate) use deadlines::Deadlines;
pub use queue::EventQueue;
pub use rng::stream;
pub(crate) use rng::SimRng;
pub(crate) use time::NANOS_PER_SEC;
pub use time::{SimDuration, SimTime};
