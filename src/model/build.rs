//! From raw model structs to a validated [`Architecture`]: the run's settings, then each
//! kind of component in a fixed order (queues, streams, topics, Firehose delivery streams,
//! producers, worker pools, Lambda functions, subscriptions, stream consumers), the first problem found being the
//! one reported. The components of one service are validated in its folder
//! (`services/<svc>/config.rs`); producers in [`super::producer`], worker pools in
//! [`super::workers`]. The field checks they share are in [`super::fields`].

use super::producer::{producers, Targets};
use super::raw::RawModel;
use super::Architecture;
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::load::DurationDist;
use crate::services::firehose::config::{firehoses, kinesis_reader};
use crate::services::kinesis::config::{stream_consumers, streams};
use crate::services::lambda::config::lambdas;
use crate::services::lambda::{LambdaSource, LambdaSpec};
use crate::services::sns::config::{subscriptions, topics};
use crate::services::sqs::config::queues;
use crate::services::sqs::QueueSpec;
use crate::sim::SimDuration;
use crate::workers::PoolSpec;
use std::path::Path;

/// The longest run (warm-up and duration together): 10 years, far beyond any useful
/// simulation, and far below the overflow of the nanosecond clock (584 years).
pub(crate) const MAX_HORIZON: SimDuration = SimDuration(3650 * 86_400 * 1_000_000_000);

/// The default of a model's `memory_budget`: 4 GiB of messages and pending events (about
/// 60 million waiting messages).
pub(crate) const DEFAULT_MEMORY_BUDGET: u64 = 4 << 30;

/// Builds the architecture; the first problem found is returned.
pub(crate) fn build(raw: RawModel, source: &str, base_dir: &Path) -> VResult<Architecture> {
    let run = run_settings(&raw, base_dir)?;
    let default_latency = run.default_latency.as_ref();
    let limits = raw.limits.clone();
    limits.check()?;
    let mut queues = queues(&raw, &limits.sqs, default_latency, base_dir)?;
    let streams = streams(&raw, &limits, default_latency, base_dir)?;
    let mut topics = topics(&raw, &limits, default_latency, base_dir)?;
    let firehoses = firehoses(&raw, &limits.firehose, &streams, default_latency, base_dir)?;
    let targets = Targets {
        queues: &queues,
        topics: &topics,
        streams: &streams,
        firehoses: &firehoses,
    };
    let producers = producers(&raw.producer, &targets, &limits, base_dir)?;
    let (cnames, consumers) = super::workers::pools(&raw.consumer, &queues, &limits.sqs, base_dir)?;
    let mut warnings = Vec::new();
    let lambdas = lambdas(
        &raw,
        &queues,
        &streams.idx,
        &limits,
        base_dir,
        &mut warnings,
    )?;
    let subscriptions = subscriptions(
        &raw,
        &mut topics,
        &queues.idx,
        &mut queues.specs,
        &lambdas.idx,
        &lambdas.specs,
        &firehoses.idx,
        &firehoses.specs,
        &producers,
        &limits,
        base_dir,
        &mut warnings,
    )?;
    let mut stream_consumers = stream_consumers(
        &raw.stream_consumer,
        &streams,
        &cnames,
        &limits,
        base_dir,
        &mut warnings,
    )?;
    let batch_jobs = crate::batch::config::batch_jobs(
        &raw.batch_job,
        &crate::batch::config::Stores {
            queues: &queues.idx,
            streams: &streams.idx,
            firehoses: &firehoses.idx,
            firehose_specs: &firehoses.specs,
        },
    )?;
    // Firehose reads a Kinesis source through a reader of its own.
    for (i, f) in firehoses.specs.iter().enumerate() {
        stream_consumers.extend(kinesis_reader(f, i as u32));
    }
    // And so does Flink.
    let flinks = crate::services::flink::config::flinks(
        &raw,
        &limits.flink,
        &streams,
        &firehoses,
        &producers,
        base_dir,
    )?;
    for (i, f) in flinks.iter().enumerate() {
        stream_consumers.push(crate::services::flink::config::kinesis_reader(f, i as u32));
    }
    let firehoses = firehoses.specs;
    let stream_names: Vec<&str> = streams.specs.iter().map(|s| s.name.as_str()).collect();
    let values = super::value::values(
        raw.value.as_ref(),
        &raw.producer
            .iter()
            .map(|p| p.value.as_ref())
            .collect::<Vec<_>>(),
        &producers,
        &stream_names,
        &firehoses,
        &subscriptions,
    )?;
    let video = crate::services::video::config::video(
        &raw,
        &limits.video,
        run.warmup,
        base_dir,
        &mut warnings,
    )?;
    let (queues, lambdas) = (queues.specs, lambdas.specs);
    let (streams, topics) = (streams.specs, topics.specs);
    warn_competing_consumers(&queues, &consumers, &lambdas, &mut warnings);
    let access = super::access::access(
        &raw,
        base_dir,
        &topics,
        &queues,
        &producers,
        &subscriptions,
        &consumers,
        &lambdas,
        &mut warnings,
    )?;
    let queue_names: Vec<String> = queues.iter().map(|q| q.name.clone()).collect();
    let topic_names: Vec<String> = topics.iter().map(|t| t.name.clone()).collect();
    let faults = crate::faults::config::faults(
        &raw.fault,
        &crate::faults::config::FaultTargets {
            pools: &consumers,
            subscriptions: &subscriptions,
            queues: &queue_names,
            topics: &topic_names,
        },
        base_dir,
    )?;
    let memory_budget = match raw.memory_budget {
        Some(b) if b.0 < (1 << 20) => {
            return Err(Invalid::at(
                &FieldPath::top("memory_budget"),
                format!("memory_budget {} is below 1 MiB: no run fits", b.0),
            ))
        }
        Some(b) => b.0,
        None => DEFAULT_MEMORY_BUDGET,
    };
    let horizon = crate::sim::SimTime::ZERO + run.warmup + run.duration;
    for f in &faults {
        if let crate::faults::FaultWhen::Once(t) = f.when {
            if t >= horizon {
                warnings.push(format!(
                    "fault \"{}\" starts at {}, after the run ends ({}): it never happens",
                    f.name,
                    t - crate::sim::SimTime::ZERO,
                    run.warmup + run.duration
                ));
            }
        }
    }
    let mut arch = Architecture {
        name: raw.name,
        description: raw.description.unwrap_or_default(),
        source: source.to_string(),
        base_dir: base_dir.to_path_buf(),
        duration: run.duration,
        warmup: run.warmup,
        seed: raw.seed.unwrap_or(1),
        prices: raw.prices.unwrap_or_else(|| "aws-us-east-1".into()),
        sample_every: run.sample_every,
        limits,
        producers,
        queues,
        consumers,
        lambdas,
        streams,
        stream_consumers,
        topics,
        subscriptions,
        firehoses,
        batch_jobs,
        values,
        flinks,
        video,
        warnings,
        access,
        faults,
        memory_budget,
        components_bytes: 0,
        scenarios: Vec::new(),
    };
    arch.components_bytes = super::footprint::check(&arch)?;
    Ok(arch)
}

/// The settings of the run as a whole.
struct RunSettings {
    /// Measured duration.
    duration: SimDuration,
    /// Warm-up.
    warmup: SimDuration,
    /// Time-series interval, when given.
    sample_every: Option<SimDuration>,
    /// The model's `api_latency`, the default of every component's.
    default_latency: Option<DurationDist>,
}

/// Validates the model's top-level settings, in this order: name, duration, warm-up and
/// duration within [`MAX_HORIZON`], `sample_every`, `api_latency`.
fn run_settings(raw: &RawModel, base_dir: &Path) -> VResult<RunSettings> {
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
        Some(d) => Some(super::dist::dur_dist(d, &top("api_latency"), base_dir)?),
        None => None,
    };
    Ok(RunSettings {
        duration,
        warmup,
        sample_every,
        default_latency,
    })
}

/// One consumer per queue: two pollers on one queue compete, which is legal but almost
/// always a modelling mistake; say so.
fn warn_competing_consumers(
    queues: &[QueueSpec],
    consumers: &[PoolSpec],
    lambdas: &[LambdaSpec],
    warnings: &mut Vec<String>,
) {
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
}
