//! Amazon Data Firehose: priced from usage files (the simulation does not model it yet).

pub mod bill;
pub(crate) mod usage_keys;
