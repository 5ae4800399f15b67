//! The keys of an SQS queue in a usage file (`[sqs.NAME]`, see `src/pricing/USAGE.md`)
//! and their conversion to an [`SqsUsage`].

use crate::pricing::PricingError;
use crate::services::sqs::bill::{chunks, SqsUsage};
use crate::services::sqs::limits::SqsLimits;
use crate::services::usage_keys::{kib, rounded, UsageTable};

/// The keys of `[sqs.NAME]`.
pub(crate) const KEYS: &[&str] = &[
    "fifo",
    "high_throughput",
    "monthly_requests",
    "request_size_kb",
    "messages_per_second",
    "message_size_kb",
    "send_batch",
    "receive_batch",
    "delete_batch",
    "empty_receives_per_second",
    "hours",
];

/// The API calls a queue of a usage file makes, for its capacity rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SqsCalls {
    /// A FIFO queue.
    pub(crate) fifo: bool,
    /// In high-throughput mode.
    pub(crate) high_throughput: bool,
    /// Messages per second.
    pub(crate) rate: f64,
    /// Messages per SendMessageBatch call.
    pub(crate) send_batch: f64,
    /// Messages per non-empty ReceiveMessage call.
    pub(crate) receive_batch: f64,
    /// One DeleteMessageBatch per receive.
    pub(crate) delete_batch: bool,
    /// Empty receives per second.
    pub(crate) empty_per_s: f64,
}

/// Reads `[sqs.NAME]`.
///
/// # Formula
/// Over `hours`: sends `msgs / send_batch × chunks(send_batch × size)`, receives `msgs /
/// receive_batch × chunks(receive_batch × size)`, deletes `msgs` (or `msgs /
/// receive_batch` batched), empty receives `rate × seconds`, and `monthly_requests ×
/// chunks(request_size)` as given; 64 KiB chunks ([`chunks`]).
pub(crate) fn read(r: &UsageTable) -> Result<(SqsUsage, SqsCalls), PricingError> {
    let lim = SqsLimits::default();
    let chunk = lim.billing_chunk.0;
    let max_batch = lim.max_batch_messages as f64;
    let fifo = r.flag("fifo")?;
    if !fifo && r.name.ends_with(".fifo") {
        // A standard queue's name has letters, digits, hyphens and underscores only; the
        // `.fifo` suffix is a FIFO queue's (CreateQueue, QueueName). Priced at the
        // standard rate, it would be billed 20% under its FIFO price.
        return Err(r.err(
            if r.has("fifo") { "fifo" } else { "" },
            format!(
                "`{}` is a FIFO queue's name (only FIFO queue names end in .fifo): add fifo = true, or rename it (source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html)",
                r.name
            ),
        ));
    }
    let high = r.flag("high_throughput")?;
    if high && !fifo {
        return Err(r.err(
            "high_throughput",
            "high-throughput mode applies to FIFO queues only (add fifo = true)".into(),
        ));
    }
    let hours = r.hours()?;
    let monthly = r.num_or("monthly_requests", 0.0)?;
    let req_kb = r.num_or("request_size_kb", 0.0)?;
    let rate = r.num_or("messages_per_second", 0.0)?;
    let size = kib(r.num_or("message_size_kb", 1.0)?);
    let send_b = r.count_ranged("send_batch", 1.0, 1.0, max_batch)?;
    let recv_b = r.count_ranged("receive_batch", 1.0, 1.0, max_batch)?;
    let delete_batch = r.flag("delete_batch")?;
    let empty_rate = r.num_or("empty_receives_per_second", 0.0)?;
    let secs = hours * 3600.0;
    let msgs = rate * secs;
    let sends = msgs / send_b * chunks((send_b * size).ceil() as u64, chunk) as f64;
    let receives = msgs / recv_b * chunks((recv_b * size).ceil() as u64, chunk) as f64;
    let deletes = if delete_batch { msgs / recv_b } else { msgs };
    let empties = empty_rate * secs;
    let explicit = monthly * chunks(kib(req_kb).ceil() as u64, chunk) as f64;
    let usage = SqsUsage {
        name: r.name.into(),
        fifo,
        requests: rounded(explicit + sends + receives + deletes + empties),
        empty_receives: rounded(empties),
    };
    let calls = SqsCalls {
        fifo,
        high_throughput: high,
        rate,
        send_batch: send_b,
        receive_batch: recv_b,
        delete_batch,
        empty_per_s: empty_rate,
    };
    Ok((usage, calls))
}
