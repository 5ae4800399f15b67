//! Amazon SQS: standard and FIFO queues, dead-letter queues ([`queue`]), their limits
//! ([`limits`]), prices ([`bill`]) and analytic estimate ([`estimate`]).

pub mod bill;
pub mod config;
pub(crate) mod engine;
pub mod estimate;
pub mod limits;
pub mod queue;
pub mod raw;
pub mod usage_keys;

pub use queue::{Handle, QueueSpec, Receive, SendError, SqsQueue};
