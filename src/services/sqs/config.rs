//! Validation of the SQS parts of a model: `[[queue]]` (names, timings, sizes, dead-letter
//! queues and their redrive, FIFO options) and what SQS decides about a producer with an
//! `sqs:NAME` target (its batch limit, message sizes and delays).
//!
//! Every limit checked here is a field of `services::sqs::limits::SqsLimits` (overridable in
//! `[limits.sqs]`); each message names the limit and its source.

use super::raw::*;
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::input::units::{format_size, Bytes};
use crate::load::{Dist, DurationDist};
use crate::model::arrival::positive_rate;
use crate::model::dist::dur_dist;
use crate::model::fields::{check_range, lookup, name_index, prob};
use crate::model::producer::{BatchLimit, Draft, FifoTarget, ProducerTarget, Step};
use crate::model::raw::RawModel;
use crate::producers::Target;
use crate::services::sqs::limits::{self as sqslim, SqsLimits};
use crate::services::sqs::queue::{DeadLetter, QueueSpec, Redrive};
use crate::sim::SimDuration;
use std::collections::HashMap;
use std::path::Path;

/// The default SQS API-call latency (see `services::sqs::limits`).
pub(crate) fn default_latency() -> DurationDist {
    DurationDist(
        Dist::lognormal_median_p99(
            sqslim::DEFAULT_API_LATENCY_MEDIAN_MS * 1e6,
            sqslim::DEFAULT_API_LATENCY_P99_MS * 1e6,
        )
        .expect("static default latency is valid"),
    )
}

/// The queues of a model, and their index by name.
pub(crate) struct Queues<'a> {
    /// Index by name.
    pub(crate) idx: HashMap<&'a str, usize>,
    /// Validated queues (`is_dead_letter_queue` set for the queues a redrive policy names;
    /// SNS subscriptions mark theirs later).
    pub(crate) specs: Vec<QueueSpec>,
}

impl Queues<'_> {
    /// What SQS decides about a producer sending to queue `index`.
    pub(crate) fn target<'b>(&'b self, index: usize, lim: &'b SqsLimits) -> QueueTarget<'b> {
        QueueTarget {
            index,
            queue: &self.specs[index],
            lim,
        }
    }
}

/// Validates the `[[queue]]` tables: each queue, then the dead-letter queues their redrive
/// policies name, then that every `redrive` belongs to such a dead-letter queue.
pub(crate) fn queues<'a>(
    raw: &'a RawModel,
    lim: &SqsLimits,
    default_api_latency: Option<&DurationDist>,
    base_dir: &Path,
) -> VResult<Queues<'a>> {
    let idx = name_index(
        "queue",
        "queue",
        raw.queue.iter().map(|q| q.name.as_str()),
        None,
    )?;
    let mut specs = Vec::new();
    for (i, q) in raw.queue.iter().enumerate() {
        specs.push(queue(
            q,
            i,
            &idx,
            &raw.queue,
            lim,
            default_api_latency,
            base_dir,
        )?);
    }
    for q in 0..specs.len() {
        if let Some(dl) = specs[q].dead_letter {
            specs[dl.queue].is_dead_letter_queue = true;
        }
    }
    for (i, q) in specs.iter().enumerate() {
        if q.redrive.is_some() && !q.is_dead_letter_queue {
            return Err(Invalid::at(
                &FieldPath::item("queue", i, &q.name).field("redrive"),
                "redrive moves a dead-letter queue's messages back to their source queues, but no queue names this one as its dead_letter queue",
            ));
        }
    }
    Ok(Queues { idx, specs })
}

/// Validates queue `i` of the model (`all`, indexed by `idx`), in this order: name,
/// timings, maximum message size, dead-letter queue, redrive, FIFO options, short-poll
/// sample, API latency.
fn queue(
    q: &RawQueue,
    i: usize,
    idx: &HashMap<&str, usize>,
    all: &[RawQueue],
    lim: &SqsLimits,
    default_latency: Option<&DurationDist>,
    base_dir: &Path,
) -> VResult<QueueSpec> {
    let path = FieldPath::item("queue", i, &q.name);
    let fifo = q.kind == RawQueueKind::Fifo;
    check_name(q, &path, fifo)?;
    let timings = timings(q, &path, lim)?;
    let max_size = max_message_size(q, &path, lim)?;
    let dead_letter = dead_letter(q, i, &path, fifo, idx, all, lim)?;
    let redrive = match &q.redrive {
        None => None,
        Some(r) => {
            let rate = r.rate_per_s.unwrap_or(500.0);
            positive_rate(&path.field("redrive").field("rate_per_s"), rate)?;
            Some(Redrive {
                at: r.at.0,
                rate_per_s: rate,
            })
        }
    };
    let (high_throughput, dup) = fifo_options(q, &path, fifo)?;
    let sample = q
        .short_poll_sample
        .unwrap_or(sqslim::DEFAULT_SHORT_POLL_SAMPLE);
    if !(sample > 0.0 && sample <= 1.0) {
        return Err(Invalid::at(
            &path.field("short_poll_sample"),
            format!("{sample} must be in (0, 1]"),
        ));
    }
    let api_latency = match &q.api_latency {
        Some(d) => dur_dist(d, &path.field("api_latency"), base_dir)?,
        None => default_latency
            .cloned()
            .unwrap_or_else(self::default_latency),
    };
    Ok(QueueSpec {
        name: q.name.clone(),
        fifo,
        visibility_timeout: timings.visibility_timeout,
        delay: timings.delay,
        retention: timings.retention,
        max_message_size: max_size.0.min(u32::MAX as u64) as u32,
        receive_wait: timings.receive_wait,
        dead_letter,
        redrive,
        high_throughput,
        duplicate_probability: dup,
        short_poll_sample: sample,
        api_latency,
        in_flight_limit: if fifo {
            lim.in_flight_fifo
        } else {
            lim.in_flight_standard
        },
        tps_limit: if !fifo {
            None
        } else if high_throughput {
            Some(lim.fifo_high_throughput_tps_per_action)
        } else {
            Some(lim.fifo_tps_per_action)
        },
        group_rps_limit: if fifo && high_throughput {
            Some(lim.fifo_high_throughput_group_rps)
        } else {
            None
        },
        dedup_interval: lim.dedup_interval.0,
        billing_chunk: lim.billing_chunk.0.clamp(1, u32::MAX as u64) as u32,
        is_dead_letter_queue: false,
    })
}

/// A queue name: up to 80 letters, digits, '-' and '_', ending in ".fifo" exactly when the
/// queue is FIFO.
fn check_name(q: &RawQueue, path: &FieldPath, fifo: bool) -> VResult<()> {
    let name_ok = q.name.len() <= 80
        && !q.name.is_empty()
        && q.name
            .trim_end_matches(".fifo")
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !name_ok {
        return Err(Invalid::at(
            &path.field("name"),
            format!("\"{}\" is not a valid queue name: up to 80 characters of letters, digits, '-' and '_' (FIFO names end in \".fifo\") (source: {})", q.name, sqslim::SOURCE_FIFO),
        ));
    }
    if fifo != q.name.ends_with(".fifo") {
        return Err(Invalid::at(
            &path.field("name"),
            if fifo {
                format!(
                    "a FIFO queue's name must end in \".fifo\": call it \"{}.fifo\" (source: {})",
                    q.name,
                    sqslim::SOURCE_FIFO
                )
            } else {
                format!("only FIFO queues may end in \".fifo\": add kind = \"fifo\" or rename it (source: {})", sqslim::SOURCE_FIFO)
            },
        ));
    }
    Ok(())
}

/// A queue's timings, defaults filled in.
struct Timings {
    visibility_timeout: SimDuration,
    delay: SimDuration,
    retention: SimDuration,
    receive_wait: SimDuration,
}

/// A queue's visibility timeout, delivery delay, retention period and receive wait, each
/// within SQS's limits (checked in that order).
fn timings(q: &RawQueue, path: &FieldPath, lim: &SqsLimits) -> VResult<Timings> {
    let vt = q
        .visibility_timeout
        .map(|d| d.0)
        .unwrap_or(lim.default_visibility_timeout.0);
    check_range(
        &path.field("visibility_timeout"),
        "visibility timeout",
        vt,
        SimDuration::ZERO,
        lim.max_visibility_timeout.0,
        sqslim::SOURCE_VISIBILITY,
    )?;
    let delay = q.delay.map(|d| d.0).unwrap_or(SimDuration::ZERO);
    check_range(
        &path.field("delay"),
        "delay",
        delay,
        SimDuration::ZERO,
        lim.max_delay.0,
        sqslim::SOURCE_QUOTAS,
    )?;
    let retention = q.retention.map(|d| d.0).unwrap_or(lim.default_retention.0);
    check_range(
        &path.field("retention"),
        "retention period",
        retention,
        lim.min_retention.0,
        lim.max_retention.0,
        sqslim::SOURCE_MESSAGES,
    )?;
    let wait = q.receive_wait.map(|d| d.0).unwrap_or(SimDuration::ZERO);
    check_range(
        &path.field("receive_wait"),
        "receive wait time",
        wait,
        SimDuration::ZERO,
        lim.max_receive_wait.0,
        sqslim::SOURCE_QUOTAS,
    )?;
    Ok(Timings {
        visibility_timeout: vt,
        delay,
        retention,
        receive_wait: wait,
    })
}

/// A queue's `max_message_size` (default: the largest SQS accepts), within SQS's limits.
fn max_message_size(q: &RawQueue, path: &FieldPath, lim: &SqsLimits) -> VResult<Bytes> {
    let max_size = q.max_message_size.unwrap_or(lim.max_message_size);
    if max_size < lim.min_message_size_setting || max_size > lim.max_message_size {
        return Err(Invalid::at(
            &path.field("max_message_size"),
            format!(
                "maximum message size {} is outside AWS's limits of {} to {} (source: {})",
                max_size,
                lim.min_message_size_setting,
                lim.max_message_size,
                sqslim::SOURCE_MESSAGES
            ),
        ));
    }
    Ok(max_size)
}

/// A queue's redrive policy: another queue of the same type, and a receive count within
/// SQS's limits.
fn dead_letter(
    q: &RawQueue,
    i: usize,
    path: &FieldPath,
    fifo: bool,
    idx: &HashMap<&str, usize>,
    all: &[RawQueue],
    lim: &SqsLimits,
) -> VResult<Option<DeadLetter>> {
    let Some(dl) = &q.dead_letter else {
        return Ok(None);
    };
    let dpath = path.field("dead_letter");
    let target = lookup(idx, &dl.queue, "sqs", "queue", &dpath.field("queue"))?;
    if target == i {
        return Err(Invalid::at(
            &dpath.field("queue"),
            "a queue cannot be its own dead-letter queue",
        ));
    }
    let tfifo = all[target].kind == RawQueueKind::Fifo;
    if tfifo != fifo {
        return Err(Invalid::at(
            &dpath.field("queue"),
            format!(
                "the dead-letter queue of a {} queue must also be {} (\"{}\" is {}) (source: {})",
                if fifo { "FIFO" } else { "standard" },
                if fifo { "FIFO" } else { "standard" },
                dl.queue,
                if tfifo { "FIFO" } else { "standard" },
                sqslim::SOURCE_DLQ
            ),
        ));
    }
    if dl.max_receive_count < 1 || dl.max_receive_count > lim.max_receive_count {
        return Err(Invalid::at(
            &dpath.field("max_receive_count"),
            format!(
                "max_receive_count {} is outside AWS's limits of 1 to {} (source: {})",
                dl.max_receive_count,
                lim.max_receive_count,
                sqslim::SOURCE_DLQ
            ),
        ));
    }
    Ok(Some(DeadLetter {
        queue: target,
        max_receive_count: dl.max_receive_count,
    }))
}

/// The options of one queue type only: high throughput and content-based deduplication
/// (FIFO), duplicate deliveries (standard). Returns high throughput and the duplicate
/// probability.
fn fifo_options(q: &RawQueue, path: &FieldPath, fifo: bool) -> VResult<(bool, f64)> {
    let high_throughput = q.high_throughput.unwrap_or(false);
    if high_throughput && !fifo {
        return Err(Invalid::at(
            &path.field("high_throughput"),
            "high-throughput mode applies to FIFO queues only",
        ));
    }
    if q.content_based_deduplication.is_some() && !fifo {
        return Err(Invalid::at(
            &path.field("content_based_deduplication"),
            "content-based deduplication applies to FIFO queues only",
        ));
    }
    let dup = prob(
        &path.field("duplicate_probability"),
        q.duplicate_probability.unwrap_or(0.0),
    )?;
    if dup > 0.0 && fifo {
        return Err(Invalid::at(&path.field("duplicate_probability"), "FIFO queues deliver exactly once: duplicate_probability applies to standard queues only"));
    }
    Ok((high_throughput, dup))
}

/// What SQS decides about a producer sending to one of its queues.
pub(crate) struct QueueTarget<'a> {
    /// The queue's index.
    pub(crate) index: usize,
    /// The queue.
    pub(crate) queue: &'a QueueSpec,
    /// SQS's limits.
    pub(crate) lim: &'a SqsLimits,
}

impl ProducerTarget for QueueTarget<'_> {
    fn target(&self) -> Target {
        Target::Queue(self.index as u32)
    }

    fn steps(&self) -> &'static [Step] {
        &[
            Step::Fit,
            Step::Group,
            Step::PartitionKey,
            Step::FifoGroups,
            Step::Attributes,
            Step::Delay,
            Step::Resend,
            Step::Retry,
            Step::MaxInFlight,
            Step::Aggregation,
        ]
    }

    fn batch_limit(&self) -> BatchLimit {
        BatchLimit {
            max: self.lim.max_batch_messages,
            call: "SendMessageBatch's",
            unit: "messages",
            source: sqslim::SOURCE_BATCH,
        }
    }

    /// A constant message size within the queue's maximum, and a batch of them within
    /// SendMessageBatch's payload limit.
    fn fit(&self, d: &Draft<'_>) -> VResult<()> {
        let Dist::Constant(v) = d.size.0 else {
            return Ok(());
        };
        let (queue, lim, batch) = (self.queue, self.lim, d.batch);
        if v as u64 > queue.max_message_size as u64 {
            return Err(Invalid::at(
                &d.path.field("size"),
                format!(
                    "messages of {} exceed queue \"{}\"'s maximum message size of {} (source: {})",
                    format_size(v as u64),
                    queue.name,
                    format_size(queue.max_message_size as u64),
                    sqslim::SOURCE_MESSAGES
                ),
            ));
        }
        if batch > 1 && v as u64 * batch as u64 > lim.max_batch_payload.0 {
            return Err(Invalid::at(
                &d.path.field("batch"),
                format!(
                    "a batch of {batch} messages of {} exceeds SendMessageBatch's {} payload limit (source: {})",
                    format_size(v as u64),
                    lim.max_batch_payload,
                    sqslim::SOURCE_BATCH
                ),
            ));
        }
        Ok(())
    }

    fn fifo(&self) -> Option<FifoTarget<'_>> {
        self.queue.fifo.then_some(FifoTarget {
            what: "queue",
            name: &self.queue.name,
            source: sqslim::SOURCE_FIFO,
        })
    }

    /// A per-message delay (`DelaySeconds`) within SQS's limit; FIFO queues take none.
    fn delay(&self, d: &Draft<'_>) -> VResult<SimDuration> {
        let path = d.path;
        let delay = d.raw.delay.map(|d| d.0).unwrap_or(SimDuration::ZERO);
        check_range(
            &path.field("delay"),
            "message delay",
            delay,
            SimDuration::ZERO,
            self.lim.max_delay.0,
            sqslim::SOURCE_QUOTAS,
        )?;
        if self.queue.fifo && !delay.is_zero() {
            return Err(Invalid::at(
                &path.field("delay"),
                "FIFO queues do not support per-message delays (set the queue's delay instead)",
            ));
        }
        Ok(delay)
    }
}
