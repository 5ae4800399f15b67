//! Amazon SNS pricing (<https://aws.amazon.com/sns/pricing/>).

use crate::pricing::{gb, Meter, PricingError};
use serde::{Deserialize, Serialize};

/// A subscription protocol, as SNS prices deliveries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnsProtocol {
    /// Amazon SQS (free).
    #[default]
    Sqs,
    /// AWS Lambda (believed free; not confirmed).
    Lambda,
    /// HTTP and HTTPS endpoints.
    Http,
    /// Email and email-JSON.
    Email,
    /// Mobile push notifications.
    MobilePush,
    /// Amazon Data Firehose.
    Firehose,
    /// SMS text messages (priced per destination country).
    Sms,
}

impl SnsProtocol {
    /// Every protocol, in bill order.
    pub(crate) const ALL: [SnsProtocol; 7] = [
        SnsProtocol::Sqs,
        SnsProtocol::Lambda,
        SnsProtocol::Http,
        SnsProtocol::Email,
        SnsProtocol::MobilePush,
        SnsProtocol::Firehose,
        SnsProtocol::Sms,
    ];

    /// The protocol's name in usage files (`sqs`, `lambda`, `http`, `email`, `mobile_push`,
    /// `firehose`, `sms`).
    pub(crate) fn key(self) -> &'static str {
        match self {
            SnsProtocol::Sqs => "sqs",
            SnsProtocol::Lambda => "lambda",
            SnsProtocol::Http => "http",
            SnsProtocol::Email => "email",
            SnsProtocol::MobilePush => "mobile_push",
            SnsProtocol::Firehose => "firehose",
            SnsProtocol::Sms => "sms",
        }
    }
}

impl From<crate::services::sns::Protocol> for SnsProtocol {
    /// The price list's protocol of a subscription protocol (push is `mobile_push`).
    fn from(p: crate::services::sns::Protocol) -> Self {
        use crate::services::sns::Protocol;
        match p {
            Protocol::Sqs => SnsProtocol::Sqs,
            Protocol::Lambda => SnsProtocol::Lambda,
            Protocol::Http => SnsProtocol::Http,
            Protocol::Firehose => SnsProtocol::Firehose,
            Protocol::Email => SnsProtocol::Email,
            Protocol::Sms => SnsProtocol::Sms,
            Protocol::Push => SnsProtocol::MobilePush,
        }
    }
}

/// Deliveries of a topic to one protocol over the window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SnsDelivery {
    /// The protocol.
    pub protocol: SnsProtocol,
    /// Deliveries (notifications sent to subscribers of this protocol; retries of a failed
    /// delivery are not billed again).
    pub count: u64,
    /// Payload bytes of those deliveries (priced for FIFO topics only).
    pub bytes: u64,
}

/// Billable usage of one SNS topic over the measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SnsUsage {
    /// Topic name.
    pub name: String,
    /// FIFO topic.
    pub fifo: bool,
    /// Billable publish requests: Publish and PublishBatch calls, each 64 KiB chunk of a
    /// call's payload counting as one request (see `crate::services::sqs::bill::chunks`).
    pub publish_requests: u64,
    /// Payload bytes published (priced per GB for FIFO topics).
    pub publish_bytes: u64,
    /// Deliveries by protocol (after filter policies).
    pub deliveries: Vec<SnsDelivery>,
    /// Bytes scanned by payload-based filter policies (price UNCONFIRMED).
    pub payload_filter_bytes: u64,
    /// FIFO message archiving: bytes archived (processing).
    pub archive_bytes: u64,
    /// FIFO message archiving: archive held, GB × hours over the window (GB = 2^30 B).
    pub archive_gb_hours: f64,
}

/// Bill lines for SNS topics.
///
/// # Formula
/// Standard topics: `publish_requests × $/request` (`sns.standard.requests`, 1M free with
/// the free tier) plus, per protocol, `deliveries × $/delivery` (`sns.delivery.<protocol>`:
/// SQS free, HTTP/S per 1M, email per 100K, mobile push per 1M; Lambda, Firehose and SMS
/// are not priced). FIFO topics: `publish_requests × $/request + publish GB × $/GB`
/// (`sns.fifo.publish.*`), and for every delivery whatever the protocol
/// `deliveries × $/delivery + delivered GB × $/GB` (`sns.fifo.delivery.*`), plus
/// archiving (`sns.fifo.archive.*`: GB processed, GB-months stored). Payload-based
/// filtering is listed as not priced.
pub(crate) fn bill_sns(topics: &[SnsUsage], m: &mut Meter) -> Result<(), PricingError> {
    const S: &str = "sns";
    for t in topics {
        let n = t.name.as_str();
        if t.fifo {
            m.charge(
                S,
                n,
                "FIFO publish requests (64 KiB chunks)",
                "sns.fifo.publish.requests",
                t.publish_requests as f64,
            )?;
            m.charge(
                S,
                n,
                "FIFO publish payload",
                "sns.fifo.publish.data",
                gb(t.publish_bytes),
            )?;
            let count: u64 = t.deliveries.iter().map(|d| d.count).sum();
            let bytes: u64 = t.deliveries.iter().map(|d| d.bytes).sum();
            m.charge(
                S,
                n,
                "FIFO subscription messages",
                "sns.fifo.delivery.messages",
                count as f64,
            )?;
            m.charge(
                S,
                n,
                "FIFO subscription payload",
                "sns.fifo.delivery.data",
                gb(bytes),
            )?;
            m.charge(
                S,
                n,
                "FIFO archive processing",
                "sns.fifo.archive.processing",
                gb(t.archive_bytes),
            )?;
            let months = t.archive_gb_hours / m.month_hours();
            m.charge(
                S,
                n,
                "FIFO archive storage",
                "sns.fifo.archive.storage",
                months,
            )?;
        } else {
            m.charge(
                S,
                n,
                "publish requests (64 KiB chunks)",
                "sns.standard.requests",
                t.publish_requests as f64,
            )?;
            for p in SnsProtocol::ALL {
                let count: u64 = t
                    .deliveries
                    .iter()
                    .filter(|d| d.protocol == p)
                    .map(|d| d.count)
                    .sum();
                let item = format!("deliveries to {}", p.key());
                m.charge(
                    S,
                    n,
                    &item,
                    &format!("sns.delivery.{}", p.key()),
                    count as f64,
                )?;
            }
        }
        m.charge(
            S,
            n,
            "payload-based filtering",
            "sns.payload_filtering",
            gb(t.payload_filter_bytes),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{BillOptions, PriceTable, BYTES_PER_GB};
    use crate::services::{bill, Usage};

    fn month(sns: Vec<SnsUsage>, free: bool) -> crate::pricing::Bill {
        let usage = Usage {
            window_s: 730.0 * 3600.0,
            sns,
            ..Usage::default()
        };
        let opts = BillOptions {
            free_tier: free,
            ..BillOptions::default()
        };
        bill(&usage, &PriceTable::bundled(), opts).unwrap()
    }

    fn d(protocol: SnsProtocol, count: u64) -> SnsDelivery {
        SnsDelivery {
            protocol,
            count,
            bytes: 0,
        }
    }

    #[test]
    fn standard_topic_fan_out() {
        // 10M publishes of 100 KiB = 2 chunks each = 20M requests × $0.50/M = $10.00.
        // Deliveries: 10M to SQS (free) + 10M to HTTP × $0.60/M = $6.00
        // + 200K emails × $2.00/100K = $4.00. Total $20.00.
        let t = SnsUsage {
            name: "orders".into(),
            publish_requests: 20_000_000,
            deliveries: vec![
                d(SnsProtocol::Sqs, 10_000_000),
                d(SnsProtocol::Http, 10_000_000),
                d(SnsProtocol::Email, 200_000),
            ],
            ..SnsUsage::default()
        };
        let b = month(vec![t.clone()], false);
        assert!((b.total - 20.0).abs() < 1e-9, "{}", b.total);
        assert_eq!(b.services.sns, b.total);
        // Free tier: 1M publishes ($0.50), 100K HTTP ($0.06), 1K email ($0.02) free:
        // $20.00 − $0.58 = $19.42.
        let b = month(vec![t], true);
        assert!((b.total - 19.42).abs() < 1e-9, "{}", b.total);
    }

    #[test]
    fn unconfirmed_protocols_are_listed_not_priced() {
        let t = SnsUsage {
            name: "t".into(),
            publish_requests: 1000,
            deliveries: vec![d(SnsProtocol::Lambda, 1000), d(SnsProtocol::Sms, 5)],
            ..SnsUsage::default()
        };
        let b = month(vec![t], false);
        assert_eq!(b.unpriced.len(), 2);
        assert_eq!(b.unpriced[0].quantity, 1000.0);
        // Only the publishes are in the total: 1,000 × $0.50/M.
        assert!((b.total - 0.0005).abs() < 1e-12);
    }

    #[test]
    fn fifo_topic_prices_requests_and_gigabytes() {
        // 1M publishes of 1 KiB (1M requests, 1M KiB = 0.95367 GB) to 2 SQS subscribers:
        // publish 1M × $0.30/M = $0.30 + (10^6 × 1024 / 2^30) GB × $0.017;
        // deliveries 2M × $0.01/M = $0.02 + 2 × that GB × $0.001.
        let gbs = 1_000_000.0 * 1024.0 / BYTES_PER_GB;
        let t = SnsUsage {
            name: "t.fifo".into(),
            fifo: true,
            publish_requests: 1_000_000,
            publish_bytes: 1_024_000_000,
            deliveries: vec![SnsDelivery {
                protocol: SnsProtocol::Sqs,
                count: 2_000_000,
                bytes: 2_048_000_000,
            }],
            ..SnsUsage::default()
        };
        let b = month(vec![t], false);
        let want = 0.30 + gbs * 0.017 + 0.02 + 2.0 * gbs * 0.001;
        assert!((b.total - want).abs() < 1e-12, "{} vs {want}", b.total);
        assert_eq!(b.lines.len(), 4);
    }
}
