//! The keys of an SNS topic in a usage file (`[sns.NAME]`, see `src/pricing/USAGE.md`)
//! and their conversion to an [`SnsUsage`].

use crate::pricing::{PricingError, BYTES_PER_GB};
use crate::services::sns::bill::{SnsDelivery, SnsProtocol, SnsUsage};
use crate::services::sqs::bill::chunks;
use crate::services::sqs::limits::SqsLimits;
use crate::services::usage_keys::{kib, rounded, UsageTable};

/// The keys of `[sns.NAME]`.
pub(crate) const KEYS: &[&str] = &[
    "fifo",
    "monthly_requests",
    "request_size_kb",
    "messages_per_second",
    "message_size_kb",
    "publish_batch",
    "hours",
    "sqs_subscriptions",
    "lambda_subscriptions",
    "http_subscriptions",
    "email_subscriptions",
    "mobile_push_subscriptions",
    "firehose_subscriptions",
    "sms_subscriptions",
    "monthly_sqs_deliveries",
    "monthly_lambda_deliveries",
    "monthly_http_deliveries",
    "monthly_email_deliveries",
    "monthly_mobile_push_deliveries",
    "monthly_firehose_deliveries",
    "monthly_sms_deliveries",
    "monthly_payload_filter_gb",
    "monthly_archive_processed_gb",
    "archive_storage_gb",
];

/// What a topic of a usage file publishes, for its capacity rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SnsPublishes {
    /// A FIFO topic.
    pub(crate) fifo: bool,
    /// Messages per second.
    pub(crate) rate: f64,
    /// Bytes per message.
    pub(crate) size: f64,
}

/// Reads `[sns.NAME]`.
///
/// # Formula
/// Publish requests `monthly_requests × chunks(request_size) + msgs / batch ×
/// chunks(batch × size)` (64 KiB chunks); per protocol, deliveries `subscriptions ×
/// messages + monthly deliveries`, of the messages' mean size.
pub(crate) fn read(r: &UsageTable) -> Result<(SnsUsage, SnsPublishes), PricingError> {
    let chunk = SqsLimits::default().billing_chunk.0;
    let fifo = r.flag("fifo")?;
    let hours = r.hours()?;
    let monthly = r.num_or("monthly_requests", 0.0)?;
    let req_b = kib(r.num_or("request_size_kb", 0.0)?);
    let rate = r.num_or("messages_per_second", 0.0)?;
    let size = kib(r.num_or("message_size_kb", 1.0)?);
    let batch = r.count_ranged("publish_batch", 1.0, 1.0, 10.0)?;
    let msgs = rate * hours * 3600.0;
    let requests = monthly * chunks(req_b.ceil() as u64, chunk) as f64
        + msgs / batch * chunks((batch * size).ceil() as u64, chunk) as f64;
    let messages = monthly + msgs;
    let mean_size = if messages > 0.0 {
        (monthly * req_b + msgs * size) / messages
    } else {
        0.0
    };
    let deliveries = deliveries(r, fifo, messages, mean_size)?;
    let fifo_only = ["monthly_archive_processed_gb", "archive_storage_gb"];
    for k in fifo_only {
        if !fifo && r.has(k) {
            return Err(r.err(k, "message archiving applies to FIFO topics only".into()));
        }
    }
    let usage = SnsUsage {
        name: r.name.into(),
        fifo,
        publish_requests: rounded(requests),
        publish_bytes: rounded(monthly * req_b + msgs * size),
        deliveries,
        payload_filter_bytes: rounded(r.num_or("monthly_payload_filter_gb", 0.0)? * BYTES_PER_GB),
        archive_bytes: rounded(r.num_or("monthly_archive_processed_gb", 0.0)? * BYTES_PER_GB),
        archive_gb_hours: r.num_or("archive_storage_gb", 0.0)? * r.month_hours,
    };
    Ok((usage, SnsPublishes { fifo, rate, size }))
}

/// The deliveries of `messages` of `mean_size` bytes, per protocol: `subscriptions ×
/// messages + monthly deliveries` (a FIFO topic delivers to SQS only).
fn deliveries(
    r: &UsageTable,
    fifo: bool,
    messages: f64,
    mean_size: f64,
) -> Result<Vec<SnsDelivery>, PricingError> {
    let mut deliveries = Vec::new();
    for p in SnsProtocol::ALL {
        let subs = r.count_or(&format!("{}_subscriptions", p.key()), 0.0)?;
        let explicit = r.num_or(&format!("monthly_{}_deliveries", p.key()), 0.0)?;
        let count = subs * messages + explicit;
        if count > 0.0 {
            if fifo && p != SnsProtocol::Sqs {
                return Err(r.err(
                    &format!("{}_subscriptions", p.key()),
                    format!("FIFO topics deliver only to SQS queues, not to {}", p.key()),
                ));
            }
            deliveries.push(SnsDelivery {
                protocol: p,
                count: rounded(count),
                bytes: rounded(count * mean_size),
            });
        }
    }
    Ok(deliveries)
}
