//! Validation of the Lambda parts of a model: `[[lambda]]` functions and their event
//! source mappings on SQS queues and Kinesis streams (functions invoked by SNS
//! subscriptions are checked further in `services::sns::config`).
//!
//! Every limit checked here is a field of `services::lambda::limits::LambdaLimits`
//! (overridable in `[limits.lambda]`); each message names the limit and its source.

use super::raw::*;
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::load::{Dist, DurationDist};
use crate::model::dist::dur_dist;
use crate::model::fields::{check_range, lookup, name_index, prob, reference};
use crate::model::raw::RawModel;
use crate::services::lambda::limits::{self as lamlim, LambdaLimits};
use crate::services::lambda::{Arch, LambdaSource, LambdaSpec};
use crate::services::sqs::config::Queues;
use crate::services::sqs::QueueSpec;
use crate::services::Limits;
use crate::sim::SimDuration;
use std::collections::HashMap;
use std::path::Path;

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

/// A lognormal default of `median_ms` and `p99_ms` (constants of
/// `services::lambda::limits`).
fn default_lognormal(median_ms: f64, p99_ms: f64) -> DurationDist {
    DurationDist(
        Dist::lognormal_median_p99(median_ms * 1e6, p99_ms * 1e6)
            .expect("static latency defaults are valid"),
    )
}

/// The mapping's latency settings: invoke overhead, SQS long-poll wake-up (default by
/// queue type) and the Kinesis consumer type; each applies to its kind of mapping only.
struct MappingLatency {
    invoke_overhead: DurationDist,
    poll_wakeup: DurationDist,
    efo: bool,
}

/// Validates `invoke_overhead`, `poll_wakeup` and `consumer` for the function's source.
fn mapping_latency(
    l: &RawLambda,
    path: &FieldPath,
    source: LambdaSource,
    queues: &Queues<'_>,
    base_dir: &Path,
) -> VResult<MappingLatency> {
    if matches!(source, LambdaSource::Async) {
        for (field, set) in [
            ("invoke_overhead", l.invoke_overhead.is_some()),
            ("poll_wakeup", l.poll_wakeup.is_some()),
            ("consumer", l.consumer.is_some()),
        ] {
            if set {
                return Err(Invalid::at(
                    &path.field(field),
                    format!("`{field}` applies to event source mappings (`source = \"sqs:NAME\"` or `\"kinesis:NAME\"`); an asynchronously invoked function's latency is its subscription's `delivery_latency`"),
                ));
            }
        }
    }
    let invoke_overhead = match &l.invoke_overhead {
        Some(d) => dur_dist(d, &path.field("invoke_overhead"), base_dir)?,
        None => default_lognormal(
            lamlim::DEFAULT_INVOKE_OVERHEAD_MEDIAN_MS,
            lamlim::DEFAULT_INVOKE_OVERHEAD_P99_MS,
        ),
    };
    let poll_wakeup = match (&l.poll_wakeup, source) {
        (Some(_), LambdaSource::Kinesis(_)) => {
            return Err(Invalid::at(
                &path.field("poll_wakeup"),
                format!("`poll_wakeup` applies to SQS event source mappings (long polls); a Kinesis mapping's read delay is its stream's `read_lag` (source: {})", lamlim::SOURCE_LATENCY_MEASURED),
            ))
        }
        (Some(d), _) => dur_dist(d, &path.field("poll_wakeup"), base_dir)?,
        (None, LambdaSource::Sqs(q)) if queues.specs[q as usize].fifo => default_lognormal(
            lamlim::DEFAULT_FIFO_WAKEUP_MEDIAN_MS,
            lamlim::DEFAULT_FIFO_WAKEUP_P99_MS,
        ),
        (None, LambdaSource::Sqs(_)) => default_lognormal(
            lamlim::DEFAULT_SQS_WAKEUP_MEDIAN_MS,
            lamlim::DEFAULT_SQS_WAKEUP_P99_MS,
        ),
        (None, _) => DurationDist::zero(),
    };
    let efo = match (l.consumer.as_deref(), source) {
        (None | Some("polling"), _) => false,
        (Some("efo"), LambdaSource::Kinesis(_)) => true,
        (Some("efo"), _) => {
            return Err(Invalid::at(
                &path.field("consumer"),
                "`consumer = \"efo\"` (enhanced fan-out) applies to Kinesis event source mappings",
            ))
        }
        (Some(other), _) => {
            return Err(Invalid::at(
                &path.field("consumer"),
                format!("unknown consumer type \"{other}\": \"polling\" (GetRecords, the default) or \"efo\" (enhanced fan-out; source: {})", lamlim::SOURCE_KINESIS_ESM),
            ))
        }
    };
    Ok(MappingLatency {
        invoke_overhead,
        poll_wakeup,
        efo,
    })
}

/// The Lambda functions of a model, and their index by name.
pub(crate) struct Lambdas<'a> {
    /// Index by name.
    pub(crate) idx: HashMap<&'a str, usize>,
    /// Validated functions.
    pub(crate) specs: Vec<LambdaSpec>,
}

/// Validates the `[[lambda]]` tables: unique names, then each function in turn; the
/// warnings say where a mapping's settings go against AWS's advice.
pub(crate) fn lambdas<'a>(
    raw: &'a RawModel,
    queues: &Queues<'_>,
    stream_idx: &HashMap<&str, usize>,
    limits: &Limits,
    base_dir: &Path,
    warnings: &mut Vec<String>,
) -> VResult<Lambdas<'a>> {
    let idx = name_index(
        "lambda",
        "lambda",
        raw.lambda.iter().map(|l| l.name.as_str()),
        None,
    )?;
    let mut specs = Vec::new();
    for (i, l) in raw.lambda.iter().enumerate() {
        let path = FieldPath::item("lambda", i, &l.name);
        specs.push(lambda(
            l,
            &path,
            queues,
            stream_idx,
            &limits.lambda,
            base_dir,
            warnings,
        )?);
    }
    efo_quota(raw, &specs, limits)?;
    Ok(Lambdas { idx, specs })
}

/// Enhanced fan-out mappings are registered stream consumers: with the stream's
/// `[[stream_consumer]]`s of mode `efo` they must stay within the stream's 20 (on-demand
/// advantage: 50) registered consumers.
fn efo_quota(raw: &RawModel, specs: &[LambdaSpec], limits: &Limits) -> VResult<()> {
    use crate::services::kinesis::raw::{RawReadMode, RawStreamMode};
    let mut count = vec![0u32; raw.stream.len()];
    for c in &raw.stream_consumer {
        if c.mode == RawReadMode::Efo {
            if let Some(st) = raw
                .stream
                .iter()
                .position(|s| Some(s.name.as_str()) == c.source.strip_prefix("kinesis:"))
            {
                count[st] += 1;
            }
        }
    }
    for (i, spec) in specs.iter().enumerate() {
        let LambdaSource::Kinesis(st) = spec.source else {
            continue;
        };
        if !spec.efo {
            continue;
        }
        let st = st as usize;
        count[st] += 1;
        let stream = &raw.stream[st];
        let max = limits
            .kinesis
            .efo_consumers(stream.mode == RawStreamMode::OnDemandAdvantage);
        if count[st] > max {
            return Err(Invalid::at(
                &FieldPath::item("lambda", i, &spec.name).field("consumer"),
                format!(
                    "stream \"{}\" would have {} enhanced fan-out consumers (stream consumers and Lambda mappings), above the limit of {max} per stream (source: {})",
                    stream.name,
                    count[st],
                    crate::services::kinesis::limits::SOURCE_EFO
                ),
            ));
        }
    }
    Ok(())
}

/// Validates one function at `path`, in this order: source, memory, timeout, batching
/// window, reserved concurrency, the mapping's settings for its source, partial batch
/// responses, per-record and cold-start times, Kinesis settings, duration, failures.
fn lambda(
    l: &RawLambda,
    path: &FieldPath,
    queues: &Queues<'_>,
    stream_idx: &HashMap<&str, usize>,
    lim: &LambdaLimits,
    base_dir: &Path,
    warnings: &mut Vec<String>,
) -> VResult<LambdaSpec> {
    let source = lambda_source(l, path, &queues.idx, stream_idx)?;
    let f = function_settings(l, path, lim)?;
    let batch_size = match source {
        LambdaSource::Sqs(q) => sqs_mapping(l, path, &queues.specs[q as usize], lim, &f, warnings)?,
        LambdaSource::Kinesis(_) => kinesis_mapping(l, path, lim)?,
        LambdaSource::Async => l.batch_size.unwrap_or(1),
    };
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
    let (parallelization_factor, maximum_retry_attempts) = kinesis_settings(l, path, lim)?;
    let latency = mapping_latency(l, path, source, queues, base_dir)?;
    let duration = dur_dist(&l.duration, &path.field("duration"), base_dir)?;
    let failure_probability = prob(
        &path.field("failure_probability"),
        l.failure_probability.unwrap_or(0.0),
    )?;
    // A Kinesis mapping retries a failed batch at once until it succeeds or its records
    // expire; a batch that always fails in no time at all would retry forever at one
    // instant, with the simulated clock standing still (the records never age).
    if matches!(source, LambdaSource::Kinesis(_))
        && failure_probability >= 1.0
        && maximum_retry_attempts.is_none()
        && duration.is_zero()
        && per_record.is_zero()
    {
        return Err(Invalid::at(
            &path.field("failure_probability"),
            "every invocation fails in zero time and maximum_retry_attempts is -1 (infinite): the mapping would retry the same batch forever at one instant; give the function a duration or a finite maximum_retry_attempts",
        ));
    }
    Ok(LambdaSpec {
        name: l.name.clone(),
        source,
        batch_size,
        batching_window: f.window,
        maximum_concurrency: l.maximum_concurrency,
        reserved_concurrency: l.reserved_concurrency,
        memory_mb: f.memory_mb,
        arch: match l.architecture {
            RawArch::X86 => Arch::X86,
            RawArch::Arm => Arch::Arm,
        },
        duration,
        per_record,
        cold_start,
        idle_timeout: l
            .idle_timeout
            .map(|d| d.0)
            .unwrap_or(SimDuration::from_secs(lamlim::DEFAULT_IDLE_TIMEOUT_S)),
        timeout: f.timeout,
        failure_probability,
        report_batch_item_failures: l.report_batch_item_failures.unwrap_or(false),
        parallelization_factor,
        maximum_retry_attempts,
        bisect_on_error: l.bisect_on_error.unwrap_or(false),
        maximum_record_age: l.maximum_record_age.map(|d| d.0),
        invoke_overhead: latency.invoke_overhead,
        poll_wakeup: latency.poll_wakeup,
        efo: latency.efo,
    })
}

/// A function's event source: none (invoked asynchronously), or the `sqs:NAME` or
/// `kinesis:NAME` of its event source mapping.
fn lambda_source(
    l: &RawLambda,
    path: &FieldPath,
    queue_idx: &HashMap<&str, usize>,
    stream_idx: &HashMap<&str, usize>,
) -> VResult<LambdaSource> {
    let Some(s) = &l.source else {
        return Ok(LambdaSource::Async);
    };
    let spath = path.field("source");
    let (kind, name) = reference(s, &spath, &["sqs", "kinesis"])?;
    Ok(if kind == "kinesis" {
        LambdaSource::Kinesis(lookup(stream_idx, name, kind, "stream", &spath)? as u32)
    } else {
        LambdaSource::Sqs(lookup(queue_idx, name, "sqs", "queue", &spath)? as u32)
    })
}

/// The settings of a function itself, whatever its source.
struct FunctionSettings {
    /// Memory, MB.
    memory_mb: u32,
    /// Function timeout.
    timeout: SimDuration,
    /// The mapping's batching window.
    window: SimDuration,
}

/// A function's memory, timeout, batching window and reserved concurrency, each within
/// Lambda's limits (checked in that order).
fn function_settings(
    l: &RawLambda,
    path: &FieldPath,
    lim: &LambdaLimits,
) -> VResult<FunctionSettings> {
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
    Ok(FunctionSettings {
        memory_mb,
        timeout,
        window,
    })
}

/// An SQS event source mapping on `queue`: its batch size (returned) and maximum
/// concurrency within the mapping's limits, no Kinesis-only settings, and a warning when
/// the queue's visibility timeout is shorter than AWS advises.
fn sqs_mapping(
    l: &RawLambda,
    path: &FieldPath,
    queue: &QueueSpec,
    lim: &LambdaLimits,
    f: &FunctionSettings,
    warnings: &mut Vec<String>,
) -> VResult<u32> {
    let window = f.window;
    let max = if queue.fifo {
        lim.sqs_max_batch_fifo
    } else {
        lim.sqs_max_batch_standard
    };
    let batch_size = l.batch_size.unwrap_or(lim.sqs_default_batch);
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
    let advised = SimDuration(f.timeout.0.saturating_mul(6)) + window;
    if queue.visibility_timeout < advised {
        warnings.push(format!(
            "queue \"{}\" has a visibility timeout of {} but AWS advises at least 6 × the timeout of lambda \"{}\" + its batching window = {} ({})",
            queue.name, queue.visibility_timeout, l.name, advised, lamlim::SOURCE_SQS_ESM
        ));
    }
    Ok(batch_size)
}

/// A Kinesis event source mapping: its batch size (returned) within the mapping's limits,
/// and no SQS-only maximum concurrency.
fn kinesis_mapping(l: &RawLambda, path: &FieldPath, lim: &LambdaLimits) -> VResult<u32> {
    let batch_size = l.batch_size.unwrap_or(lim.kinesis_default_batch);
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
    Ok(batch_size)
}

/// A Kinesis mapping's parallelization factor (default 1) and retries of a failed batch
/// (`None`: until the records expire), within Lambda's limits.
fn kinesis_settings(
    l: &RawLambda,
    path: &FieldPath,
    lim: &LambdaLimits,
) -> VResult<(u32, Option<u32>)> {
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
    if let Some(age) = l.maximum_record_age {
        let (lo, hi) = (lim.min_record_age.0, lim.max_record_age.0);
        if age.0 < lo || age.0 > hi {
            return Err(Invalid::at(
                &path.field("maximum_record_age"),
                format!(
                    "maximum record age {} is outside Lambda's limits of {lo} to {hi} (leave it out for AWS's default of -1, no limit; source: {})",
                    age.0,
                    lamlim::SOURCE_ESM_API
                ),
            ));
        }
    }
    Ok((parallelization_factor, maximum_retry_attempts))
}
