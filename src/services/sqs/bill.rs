//! Amazon SQS pricing (<https://aws.amazon.com/sqs/pricing/>).

use crate::pricing::{fmt_qty, Meter, PricingError};
use serde::{Deserialize, Serialize};

/// Billable usage of one SQS queue over the measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SqsUsage {
    /// Queue name.
    pub name: String,
    /// FIFO queue (priced at the FIFO rate).
    pub fifo: bool,
    /// Billable requests: every API call, each 64 KiB chunk of payload counting as one
    /// request (see `chunks`), empty receives included.
    pub requests: u64,
    /// Of `requests`, the receives that returned nothing (for the bill's wording).
    pub empty_receives: u64,
}

/// Billable requests of one API call carrying `payload` bytes, with AWS's `chunk`
/// (64 KiB = 65,536 bytes).
///
/// # Formula
/// `max(1, ceil(payload / chunk))`: a call with no payload (receive, delete) is one
/// request; "a single API call with a 256 KB payload is billed as four requests".
/// Source: <https://aws.amazon.com/jp/sqs/features/> (P-tr).
pub(crate) fn chunks(payload: u64, chunk: u64) -> u64 {
    payload.div_ceil(chunk.max(1)).max(1)
}

/// Bill lines for SQS queues.
///
/// # Formula
/// `requests/month = billable requests × scale` (each 64 KiB chunk of a request's payload
/// is one request, empty receives included). Standard and FIFO requests are priced at
/// `sqs.standard.requests` and `sqs.fifo.requests` with their volume tiers counted over
/// all queues of the account; the free tier (1M requests/month, one allowance shared by
/// standard and FIFO queues) goes to queues in order when enabled.
pub(crate) fn bill_sqs(queues: &[SqsUsage], m: &mut Meter) -> Result<(), PricingError> {
    for q in queues {
        let (kind, id) = if q.fifo {
            ("FIFO", "sqs.fifo.requests")
        } else {
            ("standard", "sqs.standard.requests")
        };
        let item = if q.empty_receives > 0 {
            format!(
                "{kind} requests (64 KiB chunks; {} empty receives)",
                fmt_qty((q.empty_receives as f64 * m.scale()).round())
            )
        } else {
            format!("{kind} requests (64 KiB chunks)")
        };
        m.charge("sqs", &q.name, &item, id, q.requests as f64)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{BillOptions, PriceTable};
    use crate::services::{bill, Usage};

    fn month(sqs: Vec<SqsUsage>, free: bool) -> crate::pricing::Bill {
        let usage = Usage {
            window_s: 730.0 * 3600.0,
            sqs,
            ..Usage::default()
        };
        let opts = BillOptions {
            free_tier: free,
            ..BillOptions::default()
        };
        bill(&usage, &PriceTable::bundled(), opts).unwrap()
    }

    fn q(name: &str, fifo: bool, requests: u64) -> SqsUsage {
        SqsUsage {
            name: name.into(),
            fifo,
            requests,
            empty_receives: 0,
        }
    }

    #[test]
    fn chunk_boundaries() {
        const K64: u64 = 64 * 1024;
        // A receive or delete carries nothing: 1 request.
        assert_eq!(chunks(0, K64), 1);
        // 64 KiB exactly is one chunk; one byte more is two.
        assert_eq!(chunks(K64, K64), 1);
        assert_eq!(chunks(K64 + 1, K64), 2);
        // AWS's example: 256 KB = 4 requests; a full 1 MiB message = 16.
        assert_eq!(chunks(256 * 1024, K64), 4);
        assert_eq!(chunks(1 << 20, K64), 16);
    }

    #[test]
    fn standard_tiers_cross_at_100_billion() {
        // 150B requests in one queue: 100B × $0.40/M + 50B × $0.30/M = $40,000 + $15,000.
        let b = month(vec![q("big", false, 150_000_000_000)], false);
        assert!((b.total - 55_000.0).abs() < 1e-6, "{}", b.total);
        // The same 150B split over two queues (80B + 70B) costs the same: tiers count the
        // account's total. Second queue: 20B × $0.40/M + 50B × $0.30/M = $8,000 + $15,000.
        let b = month(
            vec![q("a", false, 80_000_000_000), q("b", false, 70_000_000_000)],
            false,
        );
        assert!((b.total - 55_000.0).abs() < 1e-6);
        assert!((b.lines[0].usd - 32_000.0).abs() < 1e-6);
        assert!((b.lines[1].usd - 23_000.0).abs() < 1e-6);
        assert!((b.lines[1].unit_usd - 0.30e-6).abs() < 1e-15);
        // Past 200B: 250B = 100B × 0.40 + 100B × 0.30 + 50B × 0.24 = 40,000 + 30,000 + 12,000.
        let b = month(vec![q("huge", false, 250_000_000_000)], false);
        assert!((b.total - 82_000.0).abs() < 1e-6);
    }

    #[test]
    fn free_tier_is_one_allowance_for_standard_and_fifo() {
        // 600K standard + 600K FIFO requests. Without the free tier:
        // 0.6 × $0.40 + 0.6 × $0.50 = $0.24 + $0.30 = $0.54.
        let qs = vec![q("s", false, 600_000), q("f.fifo", true, 600_000)];
        let b = month(qs.clone(), false);
        assert!((b.total - 0.54).abs() < 1e-12);
        // With it: the first 1M requests are free across both kinds. The standard queue
        // takes 600K of it; the FIFO queue gets the remaining 400K and pays for 200K:
        // 0.2 × $0.50 = $0.10.
        let b = month(qs, true);
        assert!((b.total - 0.10).abs() < 1e-12, "{}", b.total);
        assert!(b.lines[1].item.contains("after free tier"));
    }

    #[test]
    fn window_scales_to_the_month() {
        // 1,000 requests in one hour of a 730-hour month: 730,000 requests × $0.40/M.
        let usage = Usage {
            window_s: 3600.0,
            sqs: vec![q("q", false, 1000)],
            ..Usage::default()
        };
        let b = bill(&usage, &PriceTable::bundled(), BillOptions::default()).unwrap();
        assert_eq!(b.lines[0].quantity, 730_000.0);
        assert!((b.total - 0.292).abs() < 1e-12);
    }
}
