//! Amazon S3 pricing of what other services write (<https://aws.amazon.com/s3/pricing/>).

use crate::pricing::{gb, Meter, PricingError};
use serde::{Deserialize, Serialize};

/// What a component wrote to S3 Standard over the measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct S3Usage {
    /// The writer (`firehose:NAME`).
    pub name: String,
    /// PUT requests (objects written).
    pub put_requests: u64,
    /// Bytes written.
    pub bytes_written: u64,
}

/// Bill lines for S3 writes.
///
/// # Formula
/// `PUT requests × $/1,000 requests + GB written × $/GB-month`: the storage line is what
/// one month's writes cost for each month they are kept (the first month's; data kept
/// longer adds the same each month, and data deleted earlier costs less). Tiers count the
/// GB of every writer together. No free tier unless `--free-tier`.
pub(crate) fn bill_s3(writers: &[S3Usage], m: &mut Meter) -> Result<(), PricingError> {
    const S: &str = "s3";
    for w in writers {
        let n = w.name.as_str();
        m.charge(
            S,
            n,
            "PUT requests (S3 Standard)",
            "s3.standard.put_requests",
            w.put_requests as f64,
        )?;
        m.charge(
            S,
            n,
            "storage of a month's writes, per month kept (S3 Standard)",
            "s3.standard.storage",
            gb(w.bytes_written),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{BillOptions, PriceTable, BYTES_PER_GB};
    use crate::services::{bill, Usage};

    #[test]
    fn puts_and_storage() {
        // One month: 1,000,000 PUTs × $0.005/1,000 = $5; 100 GB × $0.023 = $2.30.
        let usage = Usage {
            window_s: 730.0 * 3600.0,
            s3: vec![S3Usage {
                name: "w".into(),
                put_requests: 1_000_000,
                bytes_written: 100 * BYTES_PER_GB as u64,
            }],
            ..Usage::default()
        };
        let b = bill(&usage, &PriceTable::bundled(), BillOptions::default()).unwrap();
        assert!((b.total - 7.30).abs() < 1e-9, "{}", b.total);
        assert!((b.services.s3 - 7.30).abs() < 1e-9);
    }
}
