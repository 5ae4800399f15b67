//! The keys of a Kinesis data stream in a usage file (`[kinesis.NAME]`, see
//! `src/pricing/USAGE.md`) and their conversion to a [`KinesisStreamUsage`].

use crate::pricing::{fmt_qty, PricingError, BYTES_PER_GB};
use crate::services::kinesis::bill::{
    self as kinesis, shard_hour_usage, KinesisStreamUsage, StreamMode,
};
use crate::services::kinesis::limits::KinesisLimits;
use crate::services::usage_keys::{kib, rounded, UsageTable};

/// The keys of `[kinesis.NAME]`.
pub(crate) const KEYS: &[&str] = &[
    "mode",
    "shards",
    "hours",
    "records_per_second",
    "record_size_kb",
    "consumers",
    "efo_consumers",
    "retention_hours",
    "monthly_on_demand_data_in_gb",
    "monthly_on_demand_data_out_gb",
    "monthly_on_demand_efo_data_out_gb",
    "monthly_on_demand_extended_retention_gb",
    "monthly_on_demand_long_term_retention_gb",
    "monthly_provisioned_put_units",
    "monthly_provisioned_long_term_retention_gb",
    "monthly_provisioned_long_term_retrieval_gb",
    "monthly_provisioned_efo_data_retrieval_gb",
    "monthly_provisioned_efo_consumer_hours",
];

/// The keys of an on-demand stream only.
const ON_DEMAND_KEYS: [&str; 5] = [
    "monthly_on_demand_data_in_gb",
    "monthly_on_demand_data_out_gb",
    "monthly_on_demand_efo_data_out_gb",
    "monthly_on_demand_extended_retention_gb",
    "monthly_on_demand_long_term_retention_gb",
];

/// The keys of a provisioned stream only.
const PROVISIONED_KEYS: [&str; 5] = [
    "monthly_provisioned_put_units",
    "monthly_provisioned_long_term_retention_gb",
    "monthly_provisioned_long_term_retrieval_gb",
    "monthly_provisioned_efo_data_retrieval_gb",
    "monthly_provisioned_efo_consumer_hours",
];

/// A stream of a usage file as its keys describe it, for its usage and its capacity rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct StreamKeys {
    /// Capacity mode.
    pub(crate) mode: StreamMode,
    /// Hours a month the rate keys apply.
    pub(crate) hours: f64,
    /// Records written per second.
    pub(crate) rate: f64,
    /// Bytes per record.
    pub(crate) size: f64,
    /// Shared-throughput consumers.
    pub(crate) consumers: f64,
    /// Enhanced fan-out consumers.
    pub(crate) efo: f64,
    /// Retention, hours.
    pub(crate) retention_h: f64,
    /// Shards AWS's sizing formula needs for the rate.
    pub(crate) needed: u64,
    /// Shards priced: as given, else `needed`.
    pub(crate) shards: f64,
}

/// Reads `[kinesis.NAME]`; pushes a note for what it assumes.
///
/// # Formula
/// Over `hours`: `records = rate × seconds`, written bytes `records × size`. Provisioned:
/// shard-hours `shards × hours` and what follows from them ([`shard_hour_usage`]), PUT
/// units `records × units(size)`, enhanced fan-out bytes `efo × written`. On demand:
/// billed bytes in `records × ceil(size / 1 KB) KB`, out `consumers × written`, enhanced
/// fan-out `efo × written`. Retention in steady state ([`kinesis::retention_gb_hours`]).
/// Each `monthly_*` key adds its quantity as given.
pub(crate) fn read(
    r: &UsageTable,
    notes: &mut Vec<String>,
) -> Result<(KinesisStreamUsage, StreamKeys), PricingError> {
    let k = stream_keys(r, notes)?;
    if let Some(key) = wrong_mode_key(r, k.mode) {
        return Err(r.err(
            key,
            format!("`{key}` does not apply to a {} stream", k.mode.key()),
        ));
    }
    let usage = match k.mode {
        StreamMode::Provisioned => provisioned(r, &k)?,
        StreamMode::OnDemand | StreamMode::OnDemandAdvantage => on_demand(r, &k, notes)?,
    };
    Ok((usage, k))
}

/// The keys every mode shares: mode, hours, rate, record size, readers, retention (within
/// the limits' 24 to 8,760 hours) and shards (provisioned only; by AWS's sizing formula
/// when not given, with a note).
fn stream_keys(r: &UsageTable, notes: &mut Vec<String>) -> Result<StreamKeys, PricingError> {
    let mode = match r.choice("mode", &["provisioned", "on_demand", "on_demand_advantage"])? {
        None | Some("provisioned") => StreamMode::Provisioned,
        Some("on_demand") => StreamMode::OnDemand,
        Some(_) => StreamMode::OnDemandAdvantage,
    };
    let hours = r.hours()?;
    let rate = r.num_or("records_per_second", 0.0)?;
    let size_kb = r.num_or("record_size_kb", 1.0)?;
    let size = kib(size_kb);
    let consumers = r.count_or("consumers", 1.0)?;
    let efo = r.count_or("efo_consumers", 0.0)?;
    let retention = r.num_or("retention_hours", 24.0)?;
    let limits = KinesisLimits::default();
    let (lo, hi) = limits.retention_range_h();
    if !(lo..=hi).contains(&retention) {
        return Err(r.err(
            "retention_hours",
            format!(
                "retention {retention} h is outside AWS's {} to {} hours (service-sizes-and-limits.html)",
                fmt_qty(lo),
                fmt_qty(hi)
            ),
        ));
    }
    let needed = limits.shard_sizing().shards(rate, size_kb, consumers);
    let shards = match (mode, r.count("shards")?) {
        (StreamMode::Provisioned, Some(s)) => s,
        (StreamMode::Provisioned, None) => {
            notes.push(format!(
                "kinesis.{}: no `shards` given; priced with the {needed} shard(s) AWS's sizing formula needs",
                r.name
            ));
            needed as f64
        }
        (_, Some(_)) => {
            return Err(r.err(
                "shards",
                format!("{} streams have no shards to set (they scale by themselves); remove `shards` or use mode = \"provisioned\"", mode.key()),
            ))
        }
        (_, None) => needed as f64,
    };
    Ok(StreamKeys {
        mode,
        hours,
        rate,
        size,
        consumers,
        efo,
        retention_h: retention,
        needed,
        shards,
    })
}

/// The first key given that the other mode's streams have.
fn wrong_mode_key(r: &UsageTable, mode: StreamMode) -> Option<&'static str> {
    let other = if mode == StreamMode::Provisioned {
        ON_DEMAND_KEYS
    } else {
        PROVISIONED_KEYS
    };
    other.into_iter().find(|k| r.has(k))
}

/// Bytes written over the month, and the GB-hours held in extended and long-term
/// retention in steady state.
fn written(k: &StreamKeys) -> (f64, f64, f64) {
    let records = k.rate * (k.hours * 3600.0);
    let write_bytes = records * k.size;
    let (ext, long) = kinesis::retention_gb_hours(write_bytes / BYTES_PER_GB, k.retention_h);
    (write_bytes, ext, long)
}

/// The usage of a provisioned stream.
fn provisioned(r: &UsageTable, k: &StreamKeys) -> Result<KinesisStreamUsage, PricingError> {
    let records = k.rate * (k.hours * 3600.0);
    let (write_bytes, _, long_gb_hours) = written(k);
    let gb_in = |key: &str| -> Result<f64, PricingError> { Ok(r.num_or(key, 0.0)? * BYTES_PER_GB) };
    let hours = shard_hour_usage(k.mode, k.shards * k.hours, k.hours, k.efo, k.retention_h);
    Ok(KinesisStreamUsage {
        name: r.name.into(),
        mode: k.mode,
        shard_hours: hours.shard_hours,
        put_payload_units: rounded(
            records * kinesis::put_payload_units(k.size.ceil() as u64) as f64
                + r.num_or("monthly_provisioned_put_units", 0.0)?,
        ),
        extended_retention_shard_hours: hours.extended_retention_shard_hours,
        long_term_retention_gb_hours: long_gb_hours
            + r.num_or("monthly_provisioned_long_term_retention_gb", 0.0)? * r.month_hours,
        long_term_retrieval_bytes: rounded(gb_in("monthly_provisioned_long_term_retrieval_gb")?),
        efo_consumer_shard_hours: hours.efo_consumer_shard_hours
            + r.num_or("monthly_provisioned_efo_consumer_hours", 0.0)?,
        efo_bytes: rounded(
            k.efo * write_bytes + gb_in("monthly_provisioned_efo_data_retrieval_gb")?,
        ),
        ..KinesisStreamUsage::default()
    })
}

/// The usage of an on-demand stream (Standard or Advantage); a note when it has enhanced
/// fan-out consumers.
fn on_demand(
    r: &UsageTable,
    k: &StreamKeys,
    notes: &mut Vec<String>,
) -> Result<KinesisStreamUsage, PricingError> {
    let records = k.rate * (k.hours * 3600.0);
    let (write_bytes, ext_gb_hours, long_gb_hours) = written(k);
    let mh = r.month_hours;
    let gb_in = |key: &str| -> Result<f64, PricingError> { Ok(r.num_or(key, 0.0)? * BYTES_PER_GB) };
    let hours = shard_hour_usage(k.mode, 0.0, k.hours, k.efo, k.retention_h);
    let usage = KinesisStreamUsage {
        name: r.name.into(),
        mode: k.mode,
        stream_hours: hours.stream_hours,
        bytes_in_billed: rounded(
            records * kinesis::on_demand_billed_bytes(k.size.ceil() as u64) as f64
                + gb_in("monthly_on_demand_data_in_gb")?,
        ),
        bytes_out: rounded(k.consumers * write_bytes + gb_in("monthly_on_demand_data_out_gb")?),
        efo_bytes: rounded(k.efo * write_bytes + gb_in("monthly_on_demand_efo_data_out_gb")?),
        efo_consumer_shard_hours: hours.efo_consumer_shard_hours,
        extended_retention_gb_hours: ext_gb_hours
            + r.num_or("monthly_on_demand_extended_retention_gb", 0.0)? * mh,
        long_term_retention_gb_hours: long_gb_hours
            + r.num_or("monthly_on_demand_long_term_retention_gb", 0.0)? * mh,
        ..KinesisStreamUsage::default()
    };
    if k.efo > 0.0 {
        notes.push(format!(
            "kinesis.{}: enhanced fan-out on an on-demand stream is priced per GB only; a consumer-hour charge, if any, is UNCONFIRMED",
            r.name
        ));
    }
    Ok(usage)
}
