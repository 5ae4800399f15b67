//! Amazon SQS: standard and FIFO queues, dead-letter queues (`queue`), their limits
//! ([`limits`]), prices (`bill`) and analytic estimate (`estimate`).

pub(crate) mod bill;
pub(crate) mod config;
pub(crate) mod engine;
pub(crate) mod estimate;
pub mod limits;
pub(crate) mod queue;
pub mod raw;
pub(crate) mod usage_keys;

pub use queue::{DeadLetter, QueueSpec, Redrive};
pub(crate) use queue::{Handle, Receive, SendError, SqsQueue};
