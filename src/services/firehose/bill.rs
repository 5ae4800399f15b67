//! Amazon Data Firehose pricing (<https://aws.amazon.com/firehose/pricing/>).

use crate::pricing::{gb, Meter, PricingError};
use serde::{Deserialize, Serialize};

/// Ingest rounding for Direct PUT and Kinesis Data Streams sources: each record is rounded
/// up to the next 5 KB (5,120 B), "at record level, not API call": a PutRecordBatch of two
/// 1 KB records bills 10 KB. Source: <https://aws.amazon.com/de/kinesis/data-firehose/pricing/>
/// (P-tr); Firehose developer guide, limits (P-copy).
pub(crate) const INGEST_ROUNDING_BYTES: u64 = 5 * 1024;

/// Billed ingest bytes of one record of `bytes` (Direct PUT and KDS sources).
///
/// # Formula
/// `max(1, ceil(bytes / 5,120)) × 5,120`: 3 KB → 5 KB, 12 KB → 15 KB, 42 KB → 45 KB.
pub(crate) fn billed_bytes(bytes: u64) -> u64 {
    bytes.div_ceil(INGEST_ROUNDING_BYTES).max(1) * INGEST_ROUNDING_BYTES
}

/// Billed ingest bytes of one PutRecordBatch call: the rounding applies to each record.
///
/// # Formula
/// `Σ_records billed_bytes(record)`.
#[cfg(test)]
pub(crate) fn billed_bytes_of_batch(records: &[u64]) -> u64 {
    records.iter().map(|r| billed_bytes(*r)).sum()
}

/// Where a Firehose stream's data comes from (it decides the ingest price and rounding).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirehoseSource {
    /// Direct PUT (PutRecord, PutRecordBatch): 5 KB rounding per record.
    #[default]
    DirectPut,
    /// A Kinesis data stream: priced as Direct PUT, 5 KB rounding per record.
    Kinesis,
    /// AWS vended logs: no 5 KB rounding.
    VendedLogs,
    /// Amazon MSK.
    Msk,
}

/// Billable usage of one Firehose stream over the measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FirehoseUsage {
    /// Stream name.
    pub name: String,
    /// Source of the data.
    pub source: FirehoseSource,
    /// Billed ingest bytes: for Direct PUT and KDS sources each record rounded up to 5 KB
    /// (`billed_bytes`); for other sources the bytes ingested.
    pub ingest_billed_bytes: u64,
    /// Records are converted to Parquet/ORC (billed on the ingest bytes above).
    pub format_conversion: bool,
    /// VPC delivery: AZ-hours of the stream's delivery subnets (partial hours counted as
    /// whole hours).
    pub vpc_az_hours: f64,
    /// VPC delivery: bytes delivered into the VPC.
    pub vpc_bytes: u64,
    /// Dynamic partitioning: bytes delivered to S3.
    pub dynamic_partitioning_bytes: u64,
    /// Dynamic partitioning: S3 objects delivered.
    pub dynamic_partitioning_objects: u64,
    /// Dynamic partitioning: JQ processing hours (price UNCONFIRMED).
    pub jq_hours: f64,
}

/// Bill lines for Firehose streams.
///
/// # Formula
/// `ingest GB × tiered $/GB` (`firehose.ingest.direct_put` for Direct PUT and KDS sources,
/// with each record rounded up to 5 KB; `.vended_logs`; `.msk`), tiers counted over all
/// streams of a source kind; `+ ingest GB × $/GB` for format conversion; `+ AZ-hours ×
/// $/AZ-hour + VPC GB × $/GB`; `+ partitioned GB × $/GB + objects × $/1,000 objects`.
/// JQ hours are listed as not priced. No free tier.
pub(crate) fn bill_firehose(streams: &[FirehoseUsage], m: &mut Meter) -> Result<(), PricingError> {
    const S: &str = "firehose";
    for f in streams {
        let n = f.name.as_str();
        let (item, id) = match f.source {
            FirehoseSource::DirectPut => (
                "ingest, Direct PUT (5 KB per record)",
                "firehose.ingest.direct_put",
            ),
            FirehoseSource::Kinesis => (
                "ingest from Kinesis Data Streams (5 KB per record)",
                "firehose.ingest.direct_put",
            ),
            FirehoseSource::VendedLogs => ("ingest, vended logs", "firehose.ingest.vended_logs"),
            FirehoseSource::Msk => ("ingest from MSK", "firehose.ingest.msk"),
        };
        let ingest = gb(f.ingest_billed_bytes);
        m.charge(S, n, item, id, ingest)?;
        if f.format_conversion {
            m.charge(
                S,
                n,
                "format conversion",
                "firehose.format_conversion",
                ingest,
            )?;
        }
        m.charge(
            S,
            n,
            "VPC delivery AZ-hours",
            "firehose.vpc.az_hours",
            f.vpc_az_hours,
        )?;
        m.charge(
            S,
            n,
            "VPC delivery data",
            "firehose.vpc.data",
            gb(f.vpc_bytes),
        )?;
        m.charge(
            S,
            n,
            "dynamic partitioning data",
            "firehose.dynamic_partitioning.data",
            gb(f.dynamic_partitioning_bytes),
        )?;
        m.charge(
            S,
            n,
            "dynamic partitioning S3 objects",
            "firehose.dynamic_partitioning.objects",
            f.dynamic_partitioning_objects as f64,
        )?;
        m.charge(
            S,
            n,
            "dynamic partitioning JQ processing",
            "firehose.dynamic_partitioning.jq_hours",
            f.jq_hours,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{BillOptions, PriceTable, BYTES_PER_GB};
    use crate::services::{bill, Usage};

    fn month(streams: Vec<FirehoseUsage>) -> crate::pricing::Bill {
        let usage = Usage {
            window_s: 730.0 * 3600.0,
            firehose: streams,
            ..Usage::default()
        };
        bill(&usage, &PriceTable::bundled(), BillOptions::default()).unwrap()
    }

    #[test]
    fn five_kb_rounding_per_record_not_per_call() {
        // AWS's examples: 3 KB → 5 KB, 12 KB → 15 KB, 42 KB → 45 KB.
        assert_eq!(billed_bytes(3 * 1024), 5 * 1024);
        assert_eq!(billed_bytes(12 * 1024), 15 * 1024);
        assert_eq!(billed_bytes(42 * 1024), 45 * 1024);
        // 5 KB exactly is 5 KB; one byte more is 10 KB.
        assert_eq!(billed_bytes(5 * 1024), 5 * 1024);
        assert_eq!(billed_bytes(5 * 1024 + 1), 10 * 1024);
        // A PutRecordBatch of two 1 KB records bills 10 KB (per record), not 5 KB (the
        // 2 KB call rounded once).
        assert_eq!(billed_bytes_of_batch(&[1024, 1024]), 10 * 1024);
    }

    #[test]
    fn tiers_cross_at_500_tb() {
        // 600 TB (614,400 GB) Direct PUT in one month: 512,000 GB × $0.029 + 102,400 GB ×
        // $0.025 = $14,848 + $2,560 = $17,408.
        let f = FirehoseUsage {
            name: "logs".into(),
            ingest_billed_bytes: 614_400 * BYTES_PER_GB as u64,
            ..FirehoseUsage::default()
        };
        let b = month(vec![f]);
        assert!((b.total - 17_408.0).abs() < 1e-6, "{}", b.total);
        assert!((b.lines[0].unit_usd - 0.025).abs() < 1e-12);
    }

    #[test]
    fn options_add_their_lines() {
        // 1,000 GB billed ingest × $0.029 = $29 + conversion 1,000 × $0.018 = $18;
        // VPC: 2 AZ × 730 h = 1,460 AZ-hours × $0.01 = $14.60 + 900 GB × $0.01 = $9;
        // dynamic partitioning 900 GB × $0.02 = $18 + 2M objects × $0.005/1,000 = $10.
        // Total $98.60.
        let f = FirehoseUsage {
            name: "f".into(),
            ingest_billed_bytes: 1000 * BYTES_PER_GB as u64,
            format_conversion: true,
            vpc_az_hours: 1460.0,
            vpc_bytes: 900 * BYTES_PER_GB as u64,
            dynamic_partitioning_bytes: 900 * BYTES_PER_GB as u64,
            dynamic_partitioning_objects: 2_000_000,
            ..FirehoseUsage::default()
        };
        let b = month(vec![f]);
        assert!((b.total - 98.60).abs() < 1e-9, "{}", b.total);
        assert_eq!(b.lines.len(), 6);
    }
}
