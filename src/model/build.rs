//! From raw model structs to a validated [`Architecture`].

use super::raw::*;
use super::Architecture;
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::input::units::{format_size, parse_duration, parse_size, Bytes, Dur};
use crate::load::arrival::diurnal_shape;
use crate::load::Window;
use crate::load::{Arrival, Dist, DurationDist, KeyDist, Segment, SizeDist, Trace};
use crate::producers::{ProducerSpec, Resend, RetryPolicy, Target};
use crate::services::lambda::limits as lamlim;
use crate::services::lambda::raw::RawArch;
use crate::services::lambda::{Arch, LambdaSource, LambdaSpec};
use crate::services::sqs::limits::{self as sqslim, SqsLimits};
use crate::services::sqs::queue::{DeadLetter, QueueSpec, Redrive};
use crate::services::sqs::raw::RawQueueKind;
use crate::sim::{SimDuration, SimTime};
use crate::workers::{Autoscale, Heartbeat, PoolSpec};
use std::collections::HashMap;
use std::path::Path;

/// Builds the architecture; the first problem found is returned.
pub fn build(raw: RawModel, source: &str, base_dir: &Path) -> VResult<Architecture> {
    let top = |k: &str| FieldPath::top(k);
    if raw.name.trim().is_empty() {
        return Err(Invalid::at(
            &top("name"),
            "the model name must not be empty",
        ));
    }
    let duration = raw.duration.0;
    if duration.is_zero() {
        return Err(Invalid::at(
            &top("duration"),
            "duration must be longer than 0s",
        ));
    }
    let warmup = raw.warmup.map(|d| d.0).unwrap_or(SimDuration::ZERO);
    if duration.0.saturating_add(warmup.0) > MAX_HORIZON.0 {
        // Blame the longer of the two.
        let field = if warmup > duration {
            "warmup"
        } else {
            "duration"
        };
        return Err(Invalid::at(
            &top(field),
            format!("warm-up and duration together ({warmup} + {duration}) exceed the longest run aqueduct simulates, {MAX_HORIZON} (10 years): the simulated clock and the price estimate are sized for runs of days to months"),
        ));
    }
    let total = duration + warmup;
    let sample_every = match raw.sample_every {
        Some(d) if d.0.is_zero() => {
            return Err(Invalid::at(
                &top("sample_every"),
                "sample_every must be longer than 0s",
            ))
        }
        Some(d) => Some(d.0),
        None => None,
    };
    if sample_every.is_some_and(|s| total.0 / s.0.max(1) > 1_000_000) {
        return Err(Invalid::at(
            &top("sample_every"),
            format!("sample_every {} would record more than 1,000,000 samples over {}; use a longer interval", sample_every.unwrap_or_default(), total),
        ));
    }
    let default_latency = match &raw.api_latency {
        Some(d) => Some(dur_dist(d, &top("api_latency"), base_dir)?),
        None => None,
    };
    let limits = raw.limits.clone();

    // Names of each kind must be unique.
    let queue_idx = name_index(
        "queue",
        "queue",
        raw.queue.iter().map(|q| q.name.as_str()),
        None,
    )?;
    let mut queues = Vec::new();
    for (i, q) in raw.queue.iter().enumerate() {
        queues.push(queue(
            q,
            i,
            &queue_idx,
            &raw.queue,
            &limits.sqs,
            default_latency.as_ref(),
            base_dir,
        )?);
    }
    for q in 0..queues.len() {
        if let Some(dl) = queues[q].dead_letter {
            queues[dl.queue].is_dead_letter_queue = true;
        }
    }
    for (i, q) in queues.iter().enumerate() {
        if q.redrive.is_some() && !q.is_dead_letter_queue {
            return Err(Invalid::at(
                &FieldPath::item("queue", i, &q.name).field("redrive"),
                "redrive moves a dead-letter queue's messages back to their source queues, but no queue names this one as its dead_letter queue",
            ));
        }
    }

    let streams = crate::services::kinesis::config::streams(
        &raw,
        &limits,
        default_latency.as_ref(),
        base_dir,
    )?;
    let mut topics =
        crate::services::sns::config::topics(&raw, &limits, default_latency.as_ref(), base_dir)?;

    name_index(
        "producer",
        "producer",
        raw.producer.iter().map(|p| p.name.as_str()),
        None,
    )?;
    let mut producers = Vec::new();
    for (i, p) in raw.producer.iter().enumerate() {
        let path = FieldPath::item("producer", i, &p.name);
        if p.target.starts_with("kinesis:") {
            producers.push(crate::services::kinesis::config::producer(
                p, &path, &streams, &limits, base_dir,
            )?);
            continue;
        }
        if p.target.starts_with("sns:") {
            producers.push(crate::services::sns::config::producer(
                p, &path, &topics, &limits, base_dir,
            )?);
            continue;
        }
        producers.push(producer(
            p,
            &path,
            &queue_idx,
            &queues,
            &limits.sqs,
            base_dir,
        )?);
    }

    let cnames = name_index(
        "consumer",
        "consumer",
        raw.consumer.iter().map(|c| c.name.as_str()),
        None,
    )?;
    let mut consumers = Vec::new();
    for (i, c) in raw.consumer.iter().enumerate() {
        let path = FieldPath::item("consumer", i, &c.name);
        consumers.push(consumer(
            c,
            &path,
            &queue_idx,
            &queues,
            &limits.sqs,
            base_dir,
        )?);
    }

    let mut warnings = Vec::new();
    let lnames = name_index(
        "lambda",
        "lambda",
        raw.lambda.iter().map(|l| l.name.as_str()),
        None,
    )?;
    let mut lambdas = Vec::new();
    for (i, l) in raw.lambda.iter().enumerate() {
        let path = FieldPath::item("lambda", i, &l.name);
        lambdas.push(lambda(
            l,
            &path,
            &queue_idx,
            &queues,
            &streams.idx,
            &limits,
            base_dir,
            &mut warnings,
        )?);
    }
    let subscriptions = crate::services::sns::config::subscriptions(
        &raw,
        &mut topics,
        &queue_idx,
        &mut queues,
        &lnames,
        &lambdas,
        &producers,
        &limits,
        base_dir,
        &mut warnings,
    )?;
    let stream_consumers = crate::services::kinesis::config::stream_consumers(
        &raw.stream_consumer,
        &streams,
        &cnames,
        &limits,
        base_dir,
        &mut warnings,
    )?;
    let streams = streams.specs;
    let topics = topics.specs;
    // One consumer per queue: two pollers on one queue compete, which is legal but
    // almost always a modelling mistake; say so.
    for (q, spec) in queues.iter().enumerate() {
        let pools = consumers.iter().filter(|c| c.queue as usize == q).count();
        let fns = lambdas
            .iter()
            .filter(|l| l.source == LambdaSource::Sqs(q as u32))
            .count();
        if pools + fns > 1 {
            warnings.push(format!(
                "queue \"{}\" has {} consumers: they compete for its messages",
                spec.name,
                pools + fns
            ));
        }
    }

    Ok(Architecture {
        name: raw.name,
        description: raw.description.unwrap_or_default(),
        source: source.to_string(),
        base_dir: base_dir.to_path_buf(),
        duration,
        warmup,
        seed: raw.seed.unwrap_or(1),
        prices: raw.prices.unwrap_or_else(|| "aws-us-east-1".into()),
        sample_every,
        limits,
        producers,
        queues,
        consumers,
        lambdas,
        streams,
        stream_consumers,
        topics,
        subscriptions,
        warnings,
    })
}

/// The default cold-start distribution (see `services::lambda::limits`).
fn default_cold_start() -> DurationDist {
    DurationDist(
        Dist::lognormal_median_p99(
            lamlim::DEFAULT_COLD_START_MEDIAN_MS * 1e6,
            lamlim::DEFAULT_COLD_START_P99_MS * 1e6,
        )
        .expect("static default cold start is valid"),
    )
}

#[allow(clippy::too_many_arguments)]
fn lambda(
    l: &RawLambda,
    path: &FieldPath,
    queue_idx: &HashMap<&str, usize>,
    queues: &[QueueSpec],
    stream_idx: &HashMap<&str, usize>,
    limits: &crate::services::Limits,
    base_dir: &Path,
    warnings: &mut Vec<String>,
) -> VResult<LambdaSpec> {
    let lim = &limits.lambda;
    let source = match &l.source {
        None => LambdaSource::Async,
        Some(s) => {
            let spath = path.field("source");
            let (kind, name) = reference(s, &spath, &["sqs", "kinesis"])?;
            if kind == "kinesis" {
                LambdaSource::Kinesis(lookup(stream_idx, name, kind, "stream", &spath)? as u32)
            } else {
                LambdaSource::Sqs(lookup(queue_idx, name, "sqs", "queue", &spath)? as u32)
            }
        }
    };
    let memory_mb = l.memory_mb.unwrap_or(lim.min_memory_mb);
    if memory_mb < lim.min_memory_mb || memory_mb > lim.max_memory_mb {
        return Err(Invalid::at(
            &path.field("memory_mb"),
            format!(
                "memory {memory_mb} MB is outside Lambda's limits of {} to {} MB (source: {})",
                lim.min_memory_mb,
                lim.max_memory_mb,
                lamlim::SOURCE_QUOTAS
            ),
        ));
    }
    let timeout = l.timeout.map(|d| d.0).unwrap_or(SimDuration::from_secs(3));
    check_range(
        &path.field("timeout"),
        "function timeout",
        timeout,
        SimDuration::from_millis(1),
        lim.max_timeout.0,
        lamlim::SOURCE_QUOTAS,
    )?;
    let window = l.batching_window.map(|d| d.0).unwrap_or(SimDuration::ZERO);
    check_range(
        &path.field("batching_window"),
        "batching window",
        window,
        SimDuration::ZERO,
        lim.max_batching_window.0,
        lamlim::SOURCE_SQS_ESM,
    )?;
    if let Some(r) = l.reserved_concurrency {
        if r == 0 || r > lim.account_concurrency {
            return Err(Invalid::at(
                &path.field("reserved_concurrency"),
                format!("reserved concurrency {r} must be between 1 and the account's {} concurrent executions (source: {})", lim.account_concurrency, lamlim::SOURCE_QUOTAS),
            ));
        }
    }
    let batch_size;
    match source {
        LambdaSource::Sqs(q) => {
            let queue = &queues[q as usize];
            let max = if queue.fifo {
                lim.sqs_max_batch_fifo
            } else {
                lim.sqs_max_batch_standard
            };
            batch_size = l.batch_size.unwrap_or(lim.sqs_default_batch);
            if batch_size < 1 || batch_size > max {
                return Err(Invalid::at(
                    &path.field("batch_size"),
                    format!("batch size {batch_size} is outside the SQS event source mapping's limits of 1 to {max} for a {} queue (source: {})", if queue.fifo { "FIFO" } else { "standard" }, lamlim::SOURCE_SQS_ESM),
                ));
            }
            if batch_size > lim.sqs_batch_without_window && window < SimDuration::from_secs(1) {
                return Err(Invalid::at(
                    &path.field("batch_size"),
                    format!(
                        "a batch size above {} needs a batching_window of at least 1s (source: {})",
                        lim.sqs_batch_without_window,
                        lamlim::SOURCE_SQS_ESM
                    ),
                ));
            }
            if let Some(m) = l.maximum_concurrency {
                if m < lim.sqs_min_maximum_concurrency || m > lim.sqs_max_concurrency {
                    return Err(Invalid::at(
                        &path.field("maximum_concurrency"),
                        format!("maximum concurrency {m} is outside the SQS event source mapping's limits of {} to {} (source: {})", lim.sqs_min_maximum_concurrency, lim.sqs_max_concurrency, lamlim::SOURCE_SQS_SCALING),
                    ));
                }
            }
            for (field, set) in [
                ("parallelization_factor", l.parallelization_factor.is_some()),
                ("maximum_retry_attempts", l.maximum_retry_attempts.is_some()),
                ("bisect_on_error", l.bisect_on_error.is_some()),
                ("maximum_record_age", l.maximum_record_age.is_some()),
            ] {
                if set {
                    return Err(Invalid::at(
                        &path.field(field),
                        format!("`{field}` applies to Kinesis event source mappings, not SQS"),
                    ));
                }
            }
            // AWS: visibility timeout >= 6 × function timeout + batching window.
            let advised = SimDuration(timeout.0.saturating_mul(6)) + window;
            if queue.visibility_timeout < advised {
                warnings.push(format!(
                    "queue \"{}\" has a visibility timeout of {} but AWS advises at least 6 × the timeout of lambda \"{}\" + its batching window = {} ({})",
                    queue.name, queue.visibility_timeout, l.name, advised, lamlim::SOURCE_SQS_ESM
                ));
            }
        }
        LambdaSource::Kinesis(_) => {
            batch_size = l.batch_size.unwrap_or(lim.kinesis_default_batch);
            if batch_size < 1 || batch_size > lim.kinesis_max_batch {
                return Err(Invalid::at(
                    &path.field("batch_size"),
                    format!("batch size {batch_size} is outside the Kinesis event source mapping's limits of 1 to {} (source: {})", lim.kinesis_max_batch, lamlim::SOURCE_KINESIS_ESM),
                ));
            }
            if l.maximum_concurrency.is_some() {
                return Err(Invalid::at(
                    &path.field("maximum_concurrency"),
                    "`maximum_concurrency` applies to SQS event source mappings; a Kinesis mapping's concurrency is shards × parallelization_factor",
                ));
            }
        }
        LambdaSource::Async => {
            batch_size = l.batch_size.unwrap_or(1);
        }
    }
    if l.report_batch_item_failures.is_some()
        && !matches!(source, LambdaSource::Sqs(_) | LambdaSource::Kinesis(_))
    {
        return Err(Invalid::at(
            &path.field("report_batch_item_failures"),
            "partial batch responses apply to event source mappings only",
        ));
    }
    let per_record = match &l.per_record {
        Some(d) => dur_dist(d, &path.field("per_record"), base_dir)?,
        None => DurationDist::zero(),
    };
    let cold_start = match &l.cold_start {
        Some(d) => dur_dist(d, &path.field("cold_start"), base_dir)?,
        None => default_cold_start(),
    };
    let parallelization_factor = l.parallelization_factor.unwrap_or(1);
    if parallelization_factor < 1 || parallelization_factor > lim.max_parallelization_factor {
        return Err(Invalid::at(
            &path.field("parallelization_factor"),
            format!("parallelization factor {parallelization_factor} is outside Lambda's limits of 1 to {} (source: {})", lim.max_parallelization_factor, lamlim::SOURCE_KINESIS_ESM),
        ));
    }
    let maximum_retry_attempts = match l.maximum_retry_attempts {
        None | Some(-1) => None,
        Some(n) if n >= 0 && n <= lim.max_retry_attempts as i64 => Some(n as u32),
        Some(n) => {
            return Err(Invalid::at(
                &path.field("maximum_retry_attempts"),
                format!("maximum retry attempts {n} is outside Lambda's limits of -1 (infinite) to {} (source: {})", lim.max_retry_attempts, lamlim::SOURCE_KINESIS_ESM),
            ))
        }
    };
    Ok(LambdaSpec {
        name: l.name.clone(),
        source,
        batch_size,
        batching_window: window,
        maximum_concurrency: l.maximum_concurrency,
        reserved_concurrency: l.reserved_concurrency,
        memory_mb,
        arch: match l.architecture {
            RawArch::X86 => Arch::X86,
            RawArch::Arm => Arch::Arm,
        },
        duration: dur_dist(&l.duration, &path.field("duration"), base_dir)?,
        per_record,
        cold_start,
        idle_timeout: l
            .idle_timeout
            .map(|d| d.0)
            .unwrap_or(SimDuration::from_secs(lamlim::DEFAULT_IDLE_TIMEOUT_S)),
        timeout,
        failure_probability: prob(
            &path.field("failure_probability"),
            l.failure_probability.unwrap_or(0.0),
        )?,
        report_batch_item_failures: l.report_batch_item_failures.unwrap_or(false),
        parallelization_factor,
        maximum_retry_attempts,
        bisect_on_error: l.bisect_on_error.unwrap_or(false),
        maximum_record_age: l.maximum_record_age.map(|d| d.0),
    })
}

/// Indexes the components of `[[table]]` by name (`what` names one in messages); a name
/// used twice, or already `taken` by another table sharing the namespace, is an error at
/// its `name` field.
pub(crate) fn name_index<'a>(
    table: &str,
    what: &str,
    names: impl IntoIterator<Item = &'a str>,
    taken: Option<&HashMap<&str, usize>>,
) -> VResult<HashMap<&'a str, usize>> {
    let mut idx = HashMap::new();
    for (i, name) in names.into_iter().enumerate() {
        if taken.is_some_and(|t| t.contains_key(name)) || idx.insert(name, i).is_some() {
            return Err(Invalid::at(
                &FieldPath::item(table, i, name).field("name"),
                format!("a {what} called \"{name}\" is already defined"),
            ));
        }
    }
    Ok(idx)
}

/// Outage windows (`[{ from, for }]`, no probability, none overlapping), sorted by start;
/// `who` is what goes down, for messages.
pub(crate) fn outage_windows(
    raw: &[RawWindow],
    path: &FieldPath,
    who: &str,
) -> VResult<Vec<Window>> {
    let mut outages = Vec::new();
    for (i, w) in raw.iter().enumerate() {
        let wpath = path.index(i);
        if w.probability.is_some() {
            return Err(Invalid::at(
                &wpath.field("probability"),
                format!("an outage has no probability: the {who} is down for the whole window"),
            ));
        }
        if w.length.0.is_zero() {
            return Err(Invalid::at(
                &wpath.field("for"),
                "an outage must last longer than 0s",
            ));
        }
        outages.push(Window {
            from: SimTime::ZERO + w.from.0,
            until: SimTime::ZERO + w.from.0 + w.length.0,
            probability: 1.0,
        });
    }
    outages.sort_by_key(|w| w.from);
    if outages.windows(2).any(|w| w[1].from < w[0].until) {
        return Err(Invalid::at(path, "outage windows overlap"));
    }
    Ok(outages)
}

/// A producer's `max_in_flight` (>= 1 when given).
pub(crate) fn max_in_flight(p: &RawProducer, path: &FieldPath) -> VResult<Option<u32>> {
    match p.max_in_flight {
        Some(0) => Err(Invalid::at(
            &path.field("max_in_flight"),
            "max_in_flight must be at least 1",
        )),
        other => Ok(other),
    }
}

/// Parses a `kind:name` reference.
pub(crate) fn reference<'a>(
    s: &'a str,
    path: &FieldPath,
    allowed: &[&str],
) -> VResult<(&'a str, &'a str)> {
    let Some((kind, name)) = s.split_once(':') else {
        return Err(Invalid::at(
            path,
            format!(
                "\"{s}\" is not a reference: write KIND:NAME, such as \"sqs:billing\" (kinds: {})",
                allowed.join(", ")
            ),
        ));
    };
    if !allowed.contains(&kind) {
        return Err(Invalid::at(
            path,
            format!(
                "unknown component kind \"{kind}\" in \"{s}\": expected one of {}",
                allowed.join(", ")
            ),
        ));
    }
    Ok((kind, name))
}

pub(crate) fn lookup(
    map: &HashMap<&str, usize>,
    name: &str,
    kind: &str,
    what: &str,
    path: &FieldPath,
) -> VResult<usize> {
    map.get(name).copied().ok_or_else(|| {
        let mut known: Vec<&&str> = map.keys().collect();
        known.sort();
        let known: Vec<String> = known.iter().map(|k| format!("\"{k}\"")).collect();
        Invalid::at(
            path,
            format!(
                "no {what} called \"{name}\" ({kind}:{name}); {}",
                if known.is_empty() {
                    format!("the model defines no {what}")
                } else {
                    format!("defined: {}", known.join(", "))
                }
            ),
        )
    })
}

pub(crate) fn check_range(
    path: &FieldPath,
    what: &str,
    v: SimDuration,
    lo: SimDuration,
    hi: SimDuration,
    source: &str,
) -> VResult<()> {
    if v < lo || v > hi {
        return Err(Invalid::at(
            path,
            format!("{what} {v} is outside AWS's limits of {lo} to {hi} (source: {source})"),
        ));
    }
    Ok(())
}

pub(crate) fn prob(path: &FieldPath, v: f64) -> VResult<f64> {
    if !(0.0..=1.0).contains(&v) || v.is_nan() {
        return Err(Invalid::at(
            path,
            format!("{v} is not a probability: expected a value from 0 to 1"),
        ));
    }
    Ok(v)
}

/// A producer's message size distribution (`size`; 1 KiB when not given).
pub(crate) fn producer_size(
    p: &RawProducer,
    path: &FieldPath,
    base_dir: &Path,
) -> VResult<SizeDist> {
    match &p.size {
        Some(s) => size_dist(s, &path.field("size"), base_dir),
        None => Ok(SizeDist::constant(1024)),
    }
}

/// How long a producer's batch may wait to fill (`linger`; 100 ms when not given).
pub(crate) fn producer_linger(p: &RawProducer) -> SimDuration {
    p.linger
        .map(|d| d.0)
        .unwrap_or(SimDuration::from_millis(100))
}

/// Refuses `aggregation` on a producer that does not write to a Kinesis stream.
pub(crate) fn no_aggregation(
    p: &RawProducer,
    path: &FieldPath,
) -> VResult<Option<crate::services::kinesis::producer::AggregationSpec>> {
    match p.aggregation {
        None => Ok(None),
        Some(_) => Err(Invalid::at(
            &path.field("aggregation"),
            "aggregation (KPL-style) applies to Kinesis producers",
        )),
    }
}

/// A producer's SDK retry policy (`retry`, at `path`), defaults filled in.
pub(crate) fn retry_policy(raw: Option<&RawRetry>, path: &FieldPath) -> VResult<RetryPolicy> {
    let d = RetryPolicy::default();
    let Some(r) = raw else { return Ok(d) };
    let max_attempts = r.max_attempts.unwrap_or(d.max_attempts);
    if max_attempts == 0 {
        return Err(Invalid::at(
            &path.field("max_attempts"),
            "max_attempts counts the first attempt: it must be >= 1",
        ));
    }
    Ok(RetryPolicy {
        max_attempts,
        base: r.base.map(|x| x.0).unwrap_or(d.base),
        max_backoff: r.max_backoff.map(|x| x.0).unwrap_or(d.max_backoff),
    })
}

/// A producer's duplicate sends (`resend`, at `path`).
pub(crate) fn resend(raw: Option<&RawResend>, path: &FieldPath) -> VResult<Option<Resend>> {
    raw.map(|r| {
        Ok(Resend {
            probability: prob(&path.field("probability"), r.probability)?,
            after: r.after.0,
        })
    })
    .transpose()
}

/// The longest run (warm-up and duration together): 10 years, far beyond any useful
/// simulation, and far below the overflow of the nanosecond clock (584 years).
pub const MAX_HORIZON: SimDuration = SimDuration(3650 * 86_400 * 1_000_000_000);

/// The highest rate a load may have: one message per nanosecond, the kernel's time
/// resolution (faster arrivals would all fall on the same instant and time would never
/// advance).
pub const MAX_RATE_PER_S: f64 = 1e9;

fn positive_rate(path: &FieldPath, v: f64) -> VResult<f64> {
    if !v.is_finite() || v <= 0.0 {
        return Err(Invalid::at(
            path,
            format!("rate {v} must be a number > 0 (messages per second)"),
        ));
    }
    rate_within_resolution(path, v)
}

/// Refuses a rate above [`MAX_RATE_PER_S`].
fn rate_within_resolution(path: &FieldPath, v: f64) -> VResult<f64> {
    if v > MAX_RATE_PER_S {
        return Err(Invalid::at(
            path,
            format!("rate {v} per second is above {MAX_RATE_PER_S:e}: the simulator's clock counts nanoseconds, so it cannot place more than one message per nanosecond"),
        ));
    }
    Ok(v)
}

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
    let dead_letter = match &q.dead_letter {
        None => None,
        Some(dl) => {
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
            Some(DeadLetter {
                queue: target,
                max_receive_count: dl.max_receive_count,
            })
        }
    };
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
        None => default_latency.cloned().unwrap_or_else(default_sqs_latency),
    };
    Ok(QueueSpec {
        name: q.name.clone(),
        fifo,
        visibility_timeout: vt,
        delay,
        retention,
        max_message_size: max_size.0.min(u32::MAX as u64) as u32,
        receive_wait: wait,
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

/// The default SQS API-call latency (see `services::sqs::limits`).
pub fn default_sqs_latency() -> DurationDist {
    DurationDist(
        Dist::lognormal_median_p99(
            sqslim::DEFAULT_API_LATENCY_MEDIAN_MS * 1e6,
            sqslim::DEFAULT_API_LATENCY_P99_MS * 1e6,
        )
        .expect("static default latency is valid"),
    )
}

fn producer(
    p: &RawProducer,
    path: &FieldPath,
    queue_idx: &HashMap<&str, usize>,
    queues: &[QueueSpec],
    lim: &SqsLimits,
    base_dir: &Path,
) -> VResult<ProducerSpec> {
    let tpath = path.field("target");
    let (kind, name) = reference(&p.target, &tpath, &["sqs", "sns", "kinesis"])?;
    let target = match kind {
        "sqs" => Target::Queue(lookup(queue_idx, name, kind, "queue", &tpath)? as u32),
        _ => unreachable!("reference() only admits the kinds listed"),
    };
    let arrival = arrival(&p.load, &path.field("load"), base_dir)?;
    let size = producer_size(p, path, base_dir)?;
    let batch = p.batch.unwrap_or(1);
    let Target::Queue(q) = target else {
        unreachable!("kinesis targets are built by model::kinesis")
    };
    let queue = &queues[q as usize];
    if batch < 1 || batch > lim.max_batch_messages {
        return Err(Invalid::at(
            &path.field("batch"),
            format!("batch {batch} is outside SendMessageBatch's limit of 1 to {} messages (source: {})", lim.max_batch_messages, sqslim::SOURCE_BATCH),
        ));
    }
    if let Dist::Constant(v) = size.0 {
        if v as u64 > queue.max_message_size as u64 {
            return Err(Invalid::at(
                &path.field("size"),
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
                &path.field("batch"),
                format!(
                    "a batch of {batch} messages of {} exceeds SendMessageBatch's {} payload limit (source: {})",
                    format_size(v as u64),
                    lim.max_batch_payload,
                    sqslim::SOURCE_BATCH
                ),
            ));
        }
    }
    let linger = producer_linger(p);
    let (keys, key_prefix) = match (&p.group, &p.partition_key) {
        (Some(_), Some(_)) => {
            return Err(Invalid::at(
                &path.field("group"),
                "give either `group` (FIFO message groups) or `partition_key`, not both",
            ))
        }
        (Some(k), None) => {
            let (d, pre) = key_dist(k, &path.field("group"))?;
            (Some(d), pre)
        }
        (None, Some(k)) => {
            let (d, pre) = key_dist(k, &path.field("partition_key"))?;
            (Some(d), pre)
        }
        (None, None) => (None, "key-".to_string()),
    };
    if queue.fifo && keys.is_none() && !matches!(&arrival, Arrival::Trace(t) if !t.keys.is_empty())
    {
        return Err(Invalid::at(
            &path.field("group"),
            format!("queue \"{}\" is FIFO: every message needs a message group; add group = {{ dist = \"uniform\", keys = 10 }} (source: {})", queue.name, sqslim::SOURCE_FIFO),
        ));
    }
    let attributes =
        crate::services::sns::config::attributes(&p.attributes, &path.field("attributes"))?;
    let body = crate::services::sns::config::attributes(&p.body, &path.field("body"))?;
    let delay = p.delay.map(|d| d.0).unwrap_or(SimDuration::ZERO);
    check_range(
        &path.field("delay"),
        "message delay",
        delay,
        SimDuration::ZERO,
        lim.max_delay.0,
        sqslim::SOURCE_QUOTAS,
    )?;
    if queue.fifo && !delay.is_zero() {
        return Err(Invalid::at(
            &path.field("delay"),
            "FIFO queues do not support per-message delays (set the queue's delay instead)",
        ));
    }
    let resend = resend(p.resend.as_ref(), &path.field("resend"))?;
    let retry = retry_policy(p.retry.as_ref(), &path.field("retry"))?;
    Ok(ProducerSpec {
        name: p.name.clone(),
        target,
        arrival,
        size,
        batch,
        linger,
        keys,
        key_prefix,
        attributes,
        body,
        delay,
        resend,
        retry,
        max_in_flight: max_in_flight(p, path)?,
        aggregation: no_aggregation(p, path)?,
    })
}

fn consumer(
    c: &RawConsumer,
    path: &FieldPath,
    queue_idx: &HashMap<&str, usize>,
    queues: &[QueueSpec],
    lim: &SqsLimits,
    base_dir: &Path,
) -> VResult<PoolSpec> {
    let spath = path.field("source");
    let (_, name) = reference(&c.source, &spath, &["sqs"])?;
    let q = lookup(queue_idx, name, "sqs", "queue", &spath)?;
    let queue = &queues[q];
    if c.workers == 0 && c.autoscale.is_none() {
        return Err(Invalid::at(
            &path.field("workers"),
            "a worker pool needs at least 1 worker",
        ));
    }
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
    let service_time = dur_dist(&c.service_time, &path.field("service_time"), base_dir)?;
    let failure_probability = prob(
        &path.field("failure_probability"),
        c.failure_probability.unwrap_or(0.0),
    )?;
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
    let outages = outage_windows(&c.outages, &path.field("outages"), "pool")?;
    let heartbeat = match &c.heartbeat {
        None => None,
        Some(h) => {
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
            Some(Heartbeat {
                every: h.every.0,
                extend_to: h.extend_to.0,
            })
        }
    };
    let autoscale = match &c.autoscale {
        None => None,
        Some(a) => {
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
            if a.max > 100_000 {
                return Err(Invalid::at(&apath.field("max"), "at most 100,000 workers"));
            }
            if c.workers < a.min || c.workers > a.max {
                return Err(Invalid::at(
                    &path.field("workers"),
                    format!(
                        "the starting workers {} must lie within autoscale min {} and max {}",
                        c.workers, a.min, a.max
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
            Some(Autoscale {
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
    };
    if c.workers > 100_000 {
        return Err(Invalid::at(
            &path.field("workers"),
            "at most 100,000 workers",
        ));
    }
    let poll_interval = c.poll_interval.map(|d| d.0).unwrap_or(SimDuration::ZERO);
    if wait.is_zero() && poll_interval.is_zero() && queue.api_latency.is_zero() {
        // Each empty short poll would be followed by the next at the same instant, forever.
        return Err(Invalid::at(
            &path.field("poll_interval"),
            "short polling (receive wait 0s) with zero API latency polls infinitely often: set a poll_interval longer than 0s, a receive wait, or an api_latency",
        ));
    }
    Ok(PoolSpec {
        name: c.name.clone(),
        queue: q as u32,
        workers: c.workers,
        max_messages,
        wait,
        visibility_timeout,
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

/// A duration distribution.
pub fn dur_dist(raw: &RawDist<Dur>, path: &FieldPath, base_dir: &Path) -> VResult<DurationDist> {
    let d = dist(
        raw,
        path,
        base_dir,
        |d| d.0 .0 as f64,
        |s| parse_duration(s).map(|d| d.0 as f64),
        "duration",
    )?;
    Ok(DurationDist(d))
}

/// A size distribution.
pub fn size_dist(raw: &RawDist<Bytes>, path: &FieldPath, base_dir: &Path) -> VResult<SizeDist> {
    let d = dist(
        raw,
        path,
        base_dir,
        |b| b.0 as f64,
        |s| parse_size(s).map(|b| b as f64),
        "size",
    )?;
    Ok(SizeDist(d))
}

fn dist<Q: Copy>(
    raw: &RawDist<Q>,
    path: &FieldPath,
    base_dir: &Path,
    base: fn(&Q) -> f64,
    parse: fn(&str) -> Result<f64, String>,
    what: &str,
) -> VResult<Dist> {
    let err = |e: crate::load::DistError| Invalid::at(path, e.0);
    match raw {
        RawDist::Shorthand(q) => Dist::constant(base(q)).map_err(err),
        RawDist::Tagged(t) => match t {
            RawDistTagged::Constant { value } => Dist::constant(base(value)).map_err(err),
            RawDistTagged::Uniform { min, max } => Dist::uniform(base(min), base(max)).map_err(err),
            RawDistTagged::Exponential { mean } => Dist::exponential(base(mean)).map_err(err),
            RawDistTagged::Lognormal { median, p99 } => {
                Dist::lognormal_median_p99(base(median), base(p99)).map_err(|e| {
                    // Restate the values with their units.
                    let _ = e;
                    Invalid::at(
                        path,
                        format!(
                            "lognormal distribution needs p99 > median (got median {}, p99 {})",
                            fmt_q(base(median), what),
                            fmt_q(base(p99), what)
                        ),
                    )
                })
            }
            RawDistTagged::Empirical { file, column } => {
                let values = empirical(&base_dir.join(file), column.as_deref(), parse, what)
                    .map_err(|m| Invalid::at(&path.field("file"), m))?;
                Dist::empirical(values).map_err(err)
            }
        },
    }
}

fn fmt_q(v: f64, what: &str) -> String {
    if what == "duration" {
        SimDuration(v as u64).to_string()
    } else {
        format_size(v as u64)
    }
}

/// Reads one column of an empirical-distribution CSV: values with units (`"2KB"`,
/// `"80ms"`), or plain numbers when the header says the unit (`size_bytes`, `time_ms`,
/// `time_s`).
fn empirical(
    path: &Path,
    column: Option<&str>,
    parse: fn(&str) -> Result<f64, String>,
    what: &str,
) -> Result<Vec<f64>, String> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes.as_slice());
    let headers = rdr
        .headers()
        .map_err(|e| format!("{shown}:1: cannot read the header row: {e}"))?
        .clone();
    let col = match column {
        Some(c) => headers
            .iter()
            .position(|h| h == c)
            .ok_or_else(|| format!("{shown}:1: no column \"{c}\""))?,
        None => 0,
    };
    let header = headers.get(col).unwrap_or("");
    let scale = if header.ends_with("_bytes") && what == "size" {
        Some(1.0)
    } else if header.ends_with("_ms") && what == "duration" {
        Some(1e6)
    } else if header.ends_with("_s") && what == "duration" {
        Some(1e9)
    } else {
        None
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            format!(
                "{shown}:{}: malformed row: {e}",
                e.position().map(|p| p.line()).unwrap_or(0)
            )
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let field = rec.get(col).unwrap_or("");
        let v = match (scale, field.parse::<f64>()) {
            (Some(s), Ok(x)) if x >= 0.0 && x.is_finite() => x * s,
            _ => parse(field).map_err(|m| format!("{shown}:{line}: {m}"))?,
        };
        out.push(v);
    }
    if out.is_empty() {
        return Err(format!("{shown}: no values"));
    }
    Ok(out)
}

pub(crate) fn key_dist(raw: &RawKeyDist, path: &FieldPath) -> VResult<(KeyDist, String)> {
    let (d, prefix) = match raw {
        RawKeyDist::Uniform { keys, prefix } => (KeyDist::uniform(*keys), prefix),
        RawKeyDist::Zipf {
            keys,
            exponent,
            prefix,
        } => (KeyDist::zipf(*keys, *exponent), prefix),
    };
    let d = d.map_err(|e| Invalid::at(path, e.0))?;
    Ok((d, prefix.clone().unwrap_or_else(|| "key-".into())))
}

pub(crate) fn arrival(raw: &RawLoad, path: &FieldPath, base_dir: &Path) -> VResult<Arrival> {
    Ok(match raw {
        RawLoad::Constant { rate_per_s } => Arrival::Constant {
            rate_per_s: positive_rate(&path.field("rate_per_s"), *rate_per_s)?,
        },
        RawLoad::Poisson { rate_per_s } => Arrival::Poisson {
            rate_per_s: positive_rate(&path.field("rate_per_s"), *rate_per_s)?,
        },
        RawLoad::Diurnal {
            mean_per_s,
            peak_to_mean,
            period,
            peak_at,
        } => {
            let mean = positive_rate(&path.field("mean_per_s"), *mean_per_s)?;
            if !(peak_to_mean.is_finite() && *peak_to_mean >= 1.0) {
                return Err(Invalid::at(
                    &path.field("peak_to_mean"),
                    format!(
                        "peak_to_mean {peak_to_mean} must be >= 1 (the peak is at least the mean)"
                    ),
                ));
            }
            if *peak_to_mean > 50.0 {
                return Err(Invalid::at(&path.field("peak_to_mean"), format!("peak_to_mean {peak_to_mean} is above 50: use `bursts` or `steps` for such spikes")));
            }
            let period = period
                .map(|d| d.0)
                .unwrap_or(SimDuration::from_secs(86_400));
            if period.is_zero() {
                return Err(Invalid::at(
                    &path.field("period"),
                    "period must be longer than 0s",
                ));
            }
            let peak_at = peak_at.map(|d| d.0).unwrap_or(SimDuration(period.0 / 2));
            rate_within_resolution(&path.field("peak_to_mean"), mean * peak_to_mean)?;
            let (b, a) = diurnal_shape(mean, *peak_to_mean);
            Arrival::Diurnal {
                mean_per_s: mean,
                peak_per_s: mean * peak_to_mean,
                offset_per_s: b,
                amplitude_per_s: a,
                period_ns: period.0,
                peak_at_ns: peak_at.0 % period.0,
            }
        }
        RawLoad::Bursts {
            base_per_s,
            burst_per_s,
            burst_every,
            burst_for,
            first_burst_at,
        } => {
            if !(base_per_s.is_finite() && *base_per_s >= 0.0) {
                return Err(Invalid::at(
                    &path.field("base_per_s"),
                    format!("rate {base_per_s} must be >= 0"),
                ));
            }
            rate_within_resolution(&path.field("base_per_s"), *base_per_s)?;
            positive_rate(&path.field("burst_per_s"), *burst_per_s)?;
            let every = burst_every.0;
            let len = burst_for.0;
            if len.is_zero() || len >= every {
                return Err(Invalid::at(
                    &path.field("burst_for"),
                    format!(
                        "burst_for {} must be longer than 0s and shorter than burst_every {}",
                        len, every
                    ),
                ));
            }
            // Bursts at first + k·every (k >= 0), the base rate before the first.
            let first = first_burst_at.map(|d| d.0).unwrap_or(every);
            let segs = vec![
                Segment {
                    start_ns: 0,
                    rate_per_s: *burst_per_s,
                },
                Segment {
                    start_ns: len.0,
                    rate_per_s: *base_per_s,
                },
            ];
            Arrival::Piecewise {
                segments: segs.into(),
                cycle_ns: Some(every.0),
                start_ns: first.0,
                lead_rate_per_s: *base_per_s,
            }
        }
        RawLoad::Steps {
            steps,
            repeat_every,
        } => {
            if steps.is_empty() {
                return Err(Invalid::at(
                    &path.field("steps"),
                    "steps needs at least one { at, rate_per_s }",
                ));
            }
            let mut segs = Vec::new();
            for (i, s) in steps.iter().enumerate() {
                let spath = path.field("steps").index(i);
                if !(s.rate_per_s.is_finite() && s.rate_per_s >= 0.0) {
                    return Err(Invalid::at(
                        &spath.field("rate_per_s"),
                        format!("rate {} must be >= 0", s.rate_per_s),
                    ));
                }
                rate_within_resolution(&spath.field("rate_per_s"), s.rate_per_s)?;
                if i == 0 && !s.at.0.is_zero() {
                    return Err(Invalid::at(
                        &spath.field("at"),
                        "the first step must start at \"0s\"",
                    ));
                }
                if i > 0 && s.at.0 .0 <= segs.last().map(|x: &Segment| x.start_ns).unwrap_or(0) {
                    return Err(Invalid::at(&spath.field("at"), "step times must increase"));
                }
                segs.push(Segment {
                    start_ns: s.at.0 .0,
                    rate_per_s: s.rate_per_s,
                });
            }
            if segs.iter().all(|s| s.rate_per_s == 0.0) {
                return Err(Invalid::at(
                    &path.field("steps"),
                    "every step has rate 0: the producer would send nothing",
                ));
            }
            let cycle = match repeat_every {
                None => None,
                Some(d) => {
                    if d.0 .0 <= segs.last().map(|s| s.start_ns).unwrap_or(0) {
                        return Err(Invalid::at(
                            &path.field("repeat_every"),
                            "repeat_every must be longer than the last step's start",
                        ));
                    }
                    Some(d.0 .0)
                }
            };
            Arrival::Piecewise {
                segments: segs.into(),
                cycle_ns: cycle,
                start_ns: 0,
                lead_rate_per_s: 0.0,
            }
        }
        RawLoad::Trace { file, repeat } => {
            let t = Trace::load(&base_dir.join(file), *repeat)
                .map_err(|e| Invalid::at(&path.field("file"), e.to_string()))?;
            if t.is_empty() {
                return Err(Invalid::at(
                    &path.field("file"),
                    format!("trace {} sends no messages", t.path),
                ));
            }
            Arrival::Trace(t.into())
        }
    })
}
