//! Amazon Kinesis Video Streams: priced from usage files (the simulation does not model it yet).

pub(crate) mod bill;
pub(crate) mod usage_keys;
