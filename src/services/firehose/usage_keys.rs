//! The keys of an Amazon Data Firehose stream in a usage file (`[firehose.NAME]`, see
//! `src/pricing/USAGE.md`) and their conversion to a [`FirehoseUsage`].

use crate::pricing::{PricingError, BYTES_PER_GB};
use crate::services::firehose::bill::{self as firehose, FirehoseSource, FirehoseUsage};
use crate::services::usage_keys::{kib, rounded, UsageTable};

/// The keys of `[firehose.NAME]`.
pub(crate) const KEYS: &[&str] = &[
    "source",
    "records_per_second",
    "record_size_kb",
    "monthly_records",
    "hours",
    "monthly_data_ingested_gb",
    "format_conversion",
    "vpc_azs",
    "dynamic_partitioning",
    "monthly_s3_objects",
    "monthly_jq_hours",
];

/// What a Firehose stream of a usage file takes in, for its capacity rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct FirehoseIngest {
    /// Its source.
    pub(crate) source: FirehoseSource,
    /// Records per second.
    pub(crate) rate: f64,
    /// Bytes per record.
    pub(crate) size: f64,
}

/// Reads `[firehose.NAME]`; pushes a note when ingested GB are given as such.
///
/// # Formula
/// Records `rate × seconds + monthly_records`; billed ingest `records × billed bytes of a
/// record` (Direct PUT and Kinesis sources: rounded up to 5 KB, [`firehose::billed_bytes`])
/// `+ monthly_data_ingested_gb`; VPC AZ-hours `azs × ceil(hours)`; VPC and dynamic
/// partitioning bytes: the data delivered.
pub(crate) fn read(
    r: &UsageTable,
    notes: &mut Vec<String>,
) -> Result<(FirehoseUsage, FirehoseIngest), PricingError> {
    let source = match r.choice("source", &["direct_put", "kinesis", "vended_logs", "msk"])? {
        None | Some("direct_put") => FirehoseSource::DirectPut,
        Some("kinesis") => FirehoseSource::Kinesis,
        Some("vended_logs") => FirehoseSource::VendedLogs,
        Some(_) => FirehoseSource::Msk,
    };
    let hours = r.hours()?;
    let rate = r.num_or("records_per_second", 0.0)?;
    let size = kib(r.num_or("record_size_kb", 1.0)?);
    let records = rate * hours * 3600.0 + r.num_or("monthly_records", 0.0)?;
    let raw = records * size;
    let per_record = match source {
        FirehoseSource::DirectPut | FirehoseSource::Kinesis => {
            firehose::billed_bytes(size.ceil() as u64) as f64
        }
        _ => size,
    };
    let given_gb = r.num_or("monthly_data_ingested_gb", 0.0)?;
    if given_gb > 0.0 {
        notes.push(format!(
            "firehose.{}: monthly_data_ingested_gb is priced as given; aqueduct cannot round it up to 5 KB per record (give records_per_second and record_size_kb for that)",
            r.name
        ));
    }
    let billed = records * per_record + given_gb * BYTES_PER_GB;
    let delivered = raw + given_gb * BYTES_PER_GB;
    let azs = r.num_or("vpc_azs", 0.0)?;
    let dp = r.flag("dynamic_partitioning")?;
    for k in ["monthly_s3_objects", "monthly_jq_hours"] {
        if !dp && r.has(k) {
            return Err(r.err(
                k,
                format!("`{k}` is billed with dynamic partitioning only: add dynamic_partitioning = true"),
            ));
        }
    }
    let usage = FirehoseUsage {
        name: r.name.into(),
        source,
        ingest_billed_bytes: rounded(billed),
        format_conversion: r.flag("format_conversion")?,
        vpc_az_hours: azs * hours.ceil(),
        vpc_bytes: if azs > 0.0 { rounded(delivered) } else { 0 },
        dynamic_partitioning_bytes: if dp { rounded(delivered) } else { 0 },
        dynamic_partitioning_objects: rounded(r.num_or("monthly_s3_objects", 0.0)?),
        jq_hours: r.num_or("monthly_jq_hours", 0.0)?,
    };
    Ok((usage, FirehoseIngest { source, rate, size }))
}
