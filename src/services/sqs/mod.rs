//! Amazon SQS: standard and FIFO queues, dead-letter queues, their limits and prices.

pub mod bill;
pub mod estimate;
pub mod limits;
pub mod queue;
pub mod usage_keys;

pub use queue::{Handle, QueueSpec, Receive, SendError, SqsQueue};
