//! Validation of the `[[consumer]]` worker pools of a model: each a set of workers running
//! receive → process → delete loops on an SQS queue, with failures, outages, a visibility
//! heartbeat and auto scaling.

use super::dist::dur_dist;
use super::fields::{check_range, lookup, name_index, outage_windows, prob, reference};
use super::raw::{RawAutoscale, RawConsumer, RawDeleteMode};
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::load::{DurationDist, Window};
use crate::services::sqs::config::Queues;
use crate::services::sqs::limits::{self as sqslim, SqsLimits};
use crate::services::sqs::QueueSpec;
use crate::sim::{SimDuration, SimTime};
use crate::workers::{Autoscale, Heartbeat, PoolSpec};
use std::collections::HashMap;
use std::path::Path;

/// The shortest cycle of a short-polling worker (its `poll_interval`, or the mean API
/// latency of its receives): 1 ms. Faster polling only spends simulation time on empty
/// receives at one instant after another.
const MIN_SHORT_POLL_CYCLE: SimDuration = SimDuration(1_000_000);

/// Most workers of one pool.
const MAX_WORKERS: u32 = 100_000;

/// Validates the `[[consumer]]` tables: unique names, then each pool in turn. Returns the
/// index of the names (shared with `[[stream_consumer]]`) and the pools.
pub(crate) fn pools<'a>(
    raw: &'a [RawConsumer],
    queues: &Queues<'_>,
    lim: &SqsLimits,
    base_dir: &Path,
) -> VResult<(HashMap<&'a str, usize>, Vec<PoolSpec>)> {
    let names = name_index(
        "consumer",
        "consumer",
        raw.iter().map(|c| c.name.as_str()),
        None,
    )?;
    let mut pools = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        let path = FieldPath::item("consumer", i, &c.name);
        pools.push(pool(c, &path, queues, lim, base_dir)?);
    }
    Ok((names, pools))
}

/// Validates one pool at `path`, in this order: source, workers, receive parameters,
/// processing time, failures, outages, heartbeat, auto scaling, polling.
fn pool(
    c: &RawConsumer,
    path: &FieldPath,
    queues: &Queues<'_>,
    lim: &SqsLimits,
    base_dir: &Path,
) -> VResult<PoolSpec> {
    let spath = path.field("source");
    let (_, name) = reference(&c.source, &spath, &["sqs"])?;
    let q = lookup(&queues.idx, name, "sqs", "queue", &spath)?;
    let queue = &queues.specs[q];
    if c.workers == 0 && c.autoscale.is_none() {
        return Err(Invalid::at(
            &path.field("workers"),
            "a worker pool needs at least 1 worker",
        ));
    }
    let receive = receive(c, path, queue, lim)?;
    let service_time = dur_dist(&c.service_time, &path.field("service_time"), base_dir)?;
    let failure_probability = prob(
        &path.field("failure_probability"),
        c.failure_probability.unwrap_or(0.0),
    )?;
    let failure_windows = failure_windows(c, path)?;
    let outages = outage_windows(&c.outages, &path.field("outages"), "pool")?;
    let heartbeat = heartbeat(c, path, lim)?;
    let autoscale = match &c.autoscale {
        None => None,
        Some(a) => Some(autoscale(a, c.workers, path, &service_time)?),
    };
    if c.workers > MAX_WORKERS {
        return Err(Invalid::at(
            &path.field("workers"),
            "at most 100,000 workers",
        ));
    }
    let poll_interval = c.poll_interval.map(|d| d.0).unwrap_or(SimDuration::ZERO);
    // Each empty short poll is followed by the next after one API call: with a latency of
    // 0 at the same instant, forever; with 1 ns, 10^9 times a simulated second (issue 21).
    if receive.wait.is_zero()
        && poll_interval < MIN_SHORT_POLL_CYCLE
        && queue.api_latency.mean_s() < MIN_SHORT_POLL_CYCLE.as_secs_f64()
    {
        return Err(Invalid::at(
            &path.field("poll_interval"),
            format!("short polling (receive wait 0s) with an API latency under {MIN_SHORT_POLL_CYCLE} polls more than 1,000 times a simulated second per worker: set a poll_interval of at least {MIN_SHORT_POLL_CYCLE}, a receive wait, or an api_latency of at least {MIN_SHORT_POLL_CYCLE}"),
        ));
    }
    // A message that always fails, is redelivered at once and costs no time would be
    // received, failed and redelivered at one instant forever (issue 21).
    if failure_probability >= 1.0
        && queue.dead_letter.is_none()
        && receive.visibility_timeout.is_zero()
        && service_time.is_zero()
        && queue.api_latency.is_zero()
    {
        return Err(Invalid::at(
            &path.field("failure_probability"),
            "every processing fails, the visibility timeout is 0s and processing and API calls take no time: a message would be redelivered at one instant forever; give the queue a dead_letter, a visibility timeout, or a service_time or api_latency above 0",
        ));
    }
    Ok(PoolSpec {
        name: c.name.clone(),
        queue: q as u32,
        workers: c.workers,
        max_messages: receive.max_messages,
        wait: receive.wait,
        visibility_timeout: receive.visibility_timeout,
        service_time,
        failure_probability,
        failure_windows,
        delete_batch: c.delete == RawDeleteMode::Batch,
        heartbeat,
        outages,
        poll_interval,
        autoscale,
    })
}

/// A pool's ReceiveMessage parameters, defaults filled in.
struct Receive {
    max_messages: u32,
    wait: SimDuration,
    visibility_timeout: SimDuration,
}

/// A pool's `receive`: messages per call, wait and visibility timeout (by default the
/// queue's), each within SQS's limits (checked in that order).
fn receive(
    c: &RawConsumer,
    path: &FieldPath,
    queue: &QueueSpec,
    lim: &SqsLimits,
) -> VResult<Receive> {
    let rpath = path.field("receive");
    let max_messages = c.receive.max_messages.unwrap_or(1);
    if max_messages < 1 || max_messages > lim.max_batch_messages {
        return Err(Invalid::at(
            &rpath.field("max_messages"),
            format!("max_messages {max_messages} is outside ReceiveMessage's limit of 1 to {} (source: {})", lim.max_batch_messages, sqslim::SOURCE_BATCH),
        ));
    }
    let wait = c.receive.wait.map(|d| d.0).unwrap_or(queue.receive_wait);
    check_range(
        &rpath.field("wait"),
        "receive wait time",
        wait,
        SimDuration::ZERO,
        lim.max_receive_wait.0,
        sqslim::SOURCE_QUOTAS,
    )?;
    let visibility_timeout = c
        .receive
        .visibility_timeout
        .map(|d| d.0)
        .unwrap_or(queue.visibility_timeout);
    check_range(
        &rpath.field("visibility_timeout"),
        "visibility timeout",
        visibility_timeout,
        SimDuration::ZERO,
        lim.max_visibility_timeout.0,
        sqslim::SOURCE_VISIBILITY,
    )?;
    Ok(Receive {
        max_messages,
        wait,
        visibility_timeout,
    })
}

/// A pool's `failures`: windows with their own failure probability.
fn failure_windows(c: &RawConsumer, path: &FieldPath) -> VResult<Vec<Window>> {
    let mut failure_windows = Vec::new();
    for (i, w) in c.failures.iter().enumerate() {
        let wpath = path.field("failures").index(i);
        let p = w
            .probability
            .ok_or_else(|| Invalid::at(&wpath, "a failure window needs a `probability`"))?;
        failure_windows.push(Window {
            from: SimTime::ZERO + w.from.0,
            until: SimTime::ZERO + w.from.0 + w.length.0,
            probability: prob(&wpath.field("probability"), p)?,
        });
    }
    Ok(failure_windows)
}

/// A pool's visibility `heartbeat`: every second or less often, extending visibility to
/// more than its interval and within SQS's limit.
fn heartbeat(c: &RawConsumer, path: &FieldPath, lim: &SqsLimits) -> VResult<Option<Heartbeat>> {
    let Some(h) = &c.heartbeat else {
        return Ok(None);
    };
    let hpath = path.field("heartbeat");
    // ChangeMessageVisibility sets whole seconds, so a heartbeat more often than
    // each second extends nothing more; "1ns" made a billion calls per second.
    if h.every.0 < SimDuration::from_secs(1) {
        return Err(Invalid::at(
            &hpath.field("every"),
            format!("heartbeat interval {} must be at least 1s: ChangeMessageVisibility's timeout is a whole number of seconds (source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html)", h.every.0),
        ));
    }
    check_range(
        &hpath.field("extend_to"),
        "visibility timeout",
        h.extend_to.0,
        SimDuration::ZERO,
        lim.max_visibility_timeout.0,
        sqslim::SOURCE_VISIBILITY,
    )?;
    if h.extend_to.0 <= h.every.0 {
        return Err(Invalid::at(&hpath.field("extend_to"), format!("extend_to {} must be longer than the heartbeat interval {} or messages reappear between heartbeats", h.extend_to, h.every)));
    }
    Ok(Some(Heartbeat {
        every: h.every.0,
        extend_to: h.extend_to.0,
    }))
}

/// A pool's `autoscale`: bounds holding the starting `workers`, a target backlog per
/// worker (given, or from an acceptable latency and the mean processing time), an
/// evaluation period of at least 1 s, cooldowns and warm-up.
fn autoscale(
    a: &RawAutoscale,
    workers: u32,
    path: &FieldPath,
    service_time: &DurationDist,
) -> VResult<Autoscale> {
    let apath = path.field("autoscale");
    if a.min > a.max || a.max == 0 {
        return Err(Invalid::at(
            &apath,
            format!(
                "autoscale needs 0 <= min <= max and max >= 1, got min {} max {}",
                a.min, a.max
            ),
        ));
    }
    if a.max > MAX_WORKERS {
        return Err(Invalid::at(&apath.field("max"), "at most 100,000 workers"));
    }
    if workers < a.min || workers > a.max {
        return Err(Invalid::at(
            &path.field("workers"),
            format!(
                "the starting workers {} must lie within autoscale min {} and max {}",
                workers, a.min, a.max
            ),
        ));
    }
    let target = match (a.target_backlog_per_worker, a.max_latency) {
        (Some(t), None) => t,
        (None, Some(l)) => {
            // AWS guidance: acceptable backlog per instance = acceptable latency /
            // average processing time.
            l.0.as_secs_f64() / service_time.mean_s().max(1e-9)
        }
        _ => {
            return Err(Invalid::at(
                &apath,
                "give exactly one of target_backlog_per_worker or max_latency",
            ))
        }
    };
    if !(target > 0.0 && target.is_finite()) {
        return Err(Invalid::at(
            &apath,
            format!("target backlog per worker {target} must be > 0"),
        ));
    }
    if let Some(e) = a.evaluate_every {
        // Target tracking acts on CloudWatch metrics, whose finest (high-resolution)
        // period is 1 second; a zero period re-evaluated at one instant forever.
        if e.0 < SimDuration::from_secs(1) {
            return Err(Invalid::at(
                &apath.field("evaluate_every"),
                format!("evaluate_every {} must be at least 1s, CloudWatch's finest metric resolution (source: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/publishingMetrics.html#high-resolution-metrics)", e.0),
            ));
        }
    }
    Ok(Autoscale {
        min: a.min,
        max: a.max,
        target_backlog_per_worker: target,
        evaluate_every: a
            .evaluate_every
            .map(|d| d.0)
            .unwrap_or(SimDuration::from_secs(60)),
        scale_out_cooldown: a
            .scale_out_cooldown
            .map(|d| d.0)
            .unwrap_or(SimDuration::from_secs(60)),
        scale_in_cooldown: a
            .scale_in_cooldown
            .map(|d| d.0)
            .unwrap_or(SimDuration::from_secs(300)),
        warmup: a.warmup.map(|d| d.0).unwrap_or(SimDuration::from_secs(60)),
    })
}
