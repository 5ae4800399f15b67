//! Amazon Kinesis Video Streams: priced from usage files (the simulation does not model it yet).

pub mod bill;
pub mod usage_keys;
