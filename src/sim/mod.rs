//! The simulation kernel: integer virtual time, the pending-event set and random streams.
//!
//! The kernel knows nothing of AWS. Higher layers define their own plain event enum and
//! drive an [`EventQueue`] of it; see `engine` for the loop that does so.

pub mod deadlines;
pub mod queue;
pub mod rng;
pub mod time;

pub use deadlines::Deadlines;
pub use queue::EventQueue;
pub use rng::{stream, SimRng};
pub use time::{SimDuration, SimTime, NANOS_PER_SEC};
