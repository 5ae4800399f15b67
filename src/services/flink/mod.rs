//! Amazon Managed Service for Apache Flink: priced from usage files (the simulation does not model it yet).

pub mod bill;
pub(crate) mod usage_keys;
