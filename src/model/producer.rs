//! One validator for every `[[producer]]`, whatever its target.
//!
//! The common part is done here once: the name, the `target` reference, the load, the
//! message size, the batch (against the target's batch call), the linger, message
//! attributes and body fields, FIFO message groups, duplicate sends, the retry policy,
//! `max_in_flight` and `aggregation`. The target's service says only what differs, by
//! implementing [`ProducerTarget`] in its `config.rs`: its batch limit, how a message
//! fits its size limits, which keys it takes, whether it is FIFO, its delays, and the
//! order of the checks (see [`Step`]).

use crate::input::error::{FieldPath, Invalid, VResult};
use crate::load::{Arrival, KeyDist, SizeDist};
use crate::model::arrival::arrival;
use crate::model::dist::{key_dist, size_dist};
use crate::model::fields::{lookup, name_index, prob, reference};
use crate::model::raw::{RawProducer, RawResend, RawRetry};
use crate::producers::{ProducerSpec, Resend, RetryPolicy, Target};
use crate::services::firehose::config::Firehoses;
use crate::services::kinesis::config::Streams;
use crate::services::kinesis::producer::AggregationSpec;
use crate::services::sns::config::{attributes, Topics};
use crate::services::sqs::config::Queues;
use crate::services::Limits;
use crate::sim::SimDuration;
use std::path::Path;

/// A check of a producer that comes after its target, load, size and batch. A target
/// lists them in its own order ([`ProducerTarget::steps`]): the order decides which of
/// several problems of one producer is reported, and each target keeps the order its
/// validator had before the three were merged into this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The message size (and a batch's payload) against the target's limits
    /// ([`ProducerTarget::fit`]).
    Fit,
    /// `group`: FIFO message groups ([`ProducerTarget::group`]).
    Group,
    /// `partition_key` ([`ProducerTarget::partition_key`]).
    PartitionKey,
    /// A FIFO target needs a message group for every message ([`ProducerTarget::fifo`]).
    FifoGroups,
    /// `attributes` and `body` (see `services::sns::config::attributes`). A target that
    /// does not list this step does not read them.
    Attributes,
    /// `delay` ([`ProducerTarget::delay`]).
    Delay,
    /// `resend` ([`ProducerTarget::resend`]).
    Resend,
    /// `retry`: the SDK's retry policy, the same for every target.
    Retry,
    /// `max_in_flight` ([`ProducerTarget::max_in_flight`]).
    MaxInFlight,
    /// `aggregation` ([`ProducerTarget::aggregation`]).
    Aggregation,
}

/// The limit of a target's batch call, for the message of a `batch` out of range.
pub(crate) struct BatchLimit {
    /// Most messages (or records) per call.
    pub(crate) max: u32,
    /// The call, possessive: `"SendMessageBatch's"`.
    pub(crate) call: &'static str,
    /// What it sends: `"messages"` or `"records"`.
    pub(crate) unit: &'static str,
    /// Where AWS documents the limit.
    pub(crate) source: &'static str,
}

/// A FIFO target, for the rule that every message needs a message group.
pub(crate) struct FifoTarget<'a> {
    /// What the target is: `"queue"`, `"topic"`.
    pub(crate) what: &'static str,
    /// Its name.
    pub(crate) name: &'a str,
    /// Where AWS documents the rule.
    pub(crate) source: &'static str,
}

/// A producer under validation: what the common part found, and the keys found so far.
pub(crate) struct Draft<'a> {
    /// The producer as written.
    pub(crate) raw: &'a RawProducer,
    /// Its place in the model, `producer.NAME`.
    pub(crate) path: &'a FieldPath,
    /// Its validated load.
    pub(crate) arrival: &'a Arrival,
    /// Its validated message size, bytes.
    pub(crate) size: &'a SizeDist,
    /// Messages per send call.
    pub(crate) batch: u32,
    /// Message groups or partition keys, once the [`Step::Group`] or
    /// [`Step::PartitionKey`] step found them.
    pub(crate) keys: Option<KeyDist>,
    /// The text prefix of those keys (`key-` by default).
    pub(crate) key_prefix: String,
}

/// What a producer's target service decides. The provided methods are the common rules;
/// a service overrides those its API does otherwise.
pub(crate) trait ProducerTarget {
    /// The producer's target.
    fn target(&self) -> Target;

    /// The checks after target, load, size and batch, in the order they run.
    fn steps(&self) -> &'static [Step];

    /// The limit of the target's batch call.
    fn batch_limit(&self) -> BatchLimit;

    /// Checks that the producer's messages fit the target's size limits.
    fn fit(&self, d: &Draft<'_>) -> VResult<()>;

    /// The producer's message groups (`group`), with their prefix; by default a key
    /// distribution, refused together with `partition_key`.
    fn group(&self, d: &Draft<'_>) -> VResult<Option<(KeyDist, String)>> {
        let p = d.raw;
        match (&p.group, &p.partition_key) {
            (Some(_), Some(_)) => Err(Invalid::at(
                &d.path.field("group"),
                "give either `group` (FIFO message groups) or `partition_key`, not both",
            )),
            (Some(k), None) => Ok(Some(key_dist(k, &d.path.field("group"))?)),
            (None, _) => Ok(None),
        }
    }

    /// The producer's partition keys (`partition_key`), with their prefix; by default a
    /// key distribution used as the message groups.
    fn partition_key(&self, d: &Draft<'_>) -> VResult<Option<(KeyDist, String)>> {
        d.raw
            .partition_key
            .as_ref()
            .map(|k| key_dist(k, &d.path.field("partition_key")))
            .transpose()
    }

    /// The target when it is FIFO (none by default).
    fn fifo(&self) -> Option<FifoTarget<'_>> {
        None
    }

    /// The per-message delay (`delay`).
    fn delay(&self, d: &Draft<'_>) -> VResult<SimDuration>;

    /// Duplicate sends (`resend`), by default taken as written.
    fn resend(&self, d: &Draft<'_>) -> VResult<Option<Resend>> {
        resend(d.raw.resend.as_ref(), &d.path.field("resend"))
    }

    /// Most send calls in progress at once (`max_in_flight`, at least 1 when given).
    fn max_in_flight(&self, d: &Draft<'_>) -> VResult<Option<u32>> {
        match d.raw.max_in_flight {
            Some(0) => Err(Invalid::at(
                &d.path.field("max_in_flight"),
                "max_in_flight must be at least 1",
            )),
            other => Ok(other),
        }
    }

    /// KPL-style aggregation (`aggregation`), by default refused: it applies to Kinesis.
    fn aggregation(&self, d: &Draft<'_>) -> VResult<Option<AggregationSpec>> {
        match d.raw.aggregation {
            None => Ok(None),
            Some(_) => Err(Invalid::at(
                &d.path.field("aggregation"),
                "aggregation (KPL-style) applies to Kinesis producers",
            )),
        }
    }
}

/// The components a producer may send to.
pub(crate) struct Targets<'m, 'a> {
    /// SQS queues.
    pub(crate) queues: &'m Queues<'a>,
    /// SNS topics.
    pub(crate) topics: &'m Topics<'a>,
    /// Kinesis data streams.
    pub(crate) streams: &'m Streams<'a>,
    /// Firehose delivery streams.
    pub(crate) firehoses: &'m Firehoses<'a>,
}

/// Validates the `[[producer]]` tables: unique names, then each producer in turn.
pub(crate) fn producers(
    raw: &[RawProducer],
    targets: &Targets<'_, '_>,
    limits: &Limits,
    base_dir: &Path,
) -> VResult<Vec<ProducerSpec>> {
    name_index(
        "producer",
        "producer",
        raw.iter().map(|p| p.name.as_str()),
        None,
    )?;
    raw.iter()
        .enumerate()
        .map(|(i, p)| {
            let path = FieldPath::item("producer", i, &p.name);
            producer(p, &path, targets, limits, base_dir)
        })
        .collect()
}

/// Validates one producer at `path`: its target, load, size and batch, then the target's
/// [`Step`]s in the target's order.
pub(crate) fn producer(
    p: &RawProducer,
    path: &FieldPath,
    targets: &Targets<'_, '_>,
    limits: &Limits,
    base_dir: &Path,
) -> VResult<ProducerSpec> {
    let rules = resolve(p, path, targets, limits)?;
    let arrival = arrival(&p.load, &path.field("load"), base_dir)?;
    let size = match &p.size {
        Some(s) => size_dist(s, &path.field("size"), base_dir)?,
        None => SizeDist::constant(1024),
    };
    let batch = batch(p, path, &rules.batch_limit())?;
    let mut draft = Draft {
        raw: p,
        path,
        arrival: &arrival,
        size: &size,
        batch,
        keys: None,
        key_prefix: "key-".to_string(),
    };
    let mut parts = Parts::default();
    for step in rules.steps() {
        run_step(*step, rules.as_ref(), &mut draft, &mut parts)?;
    }
    let Draft {
        keys, key_prefix, ..
    } = draft;
    let event_time_lag = match &p.event_time_lag {
        None => None,
        Some(d) => {
            let lpath = path.field("event_time_lag");
            if !matches!(rules.target(), Target::Stream(_)) {
                return Err(Invalid::at(
                    &lpath,
                    "event_time_lag applies to producers writing to a Kinesis stream (read by a [[flink]] application's event-time windows)",
                ));
            }
            Some(crate::model::dist::dur_dist(d, &lpath, base_dir)?)
        }
    };
    Ok(ProducerSpec {
        name: p.name.clone(),
        target: rules.target(),
        arrival,
        size,
        batch,
        linger: p
            .linger
            .map(|d| d.0)
            .unwrap_or(SimDuration::from_millis(100)),
        keys,
        key_prefix,
        attributes: parts.attributes,
        body: parts.body,
        delay: parts.delay,
        resend: parts.resend,
        retry: parts.retry,
        max_in_flight: parts.max_in_flight,
        aggregation: parts.aggregation,
        event_time_lag,
    })
}

/// What the steps other than the keys produce (defaults: none given).
#[derive(Default)]
struct Parts {
    attributes: Vec<crate::load::attrs::Attr>,
    body: Vec<crate::load::attrs::Attr>,
    delay: SimDuration,
    resend: Option<Resend>,
    retry: RetryPolicy,
    max_in_flight: Option<u32>,
    aggregation: Option<AggregationSpec>,
}

/// Runs one step of a producer's validation, recording what it finds.
fn run_step(
    step: Step,
    rules: &dyn ProducerTarget,
    d: &mut Draft<'_>,
    parts: &mut Parts,
) -> VResult<()> {
    let (p, path) = (d.raw, d.path);
    match step {
        Step::Fit => rules.fit(d)?,
        Step::Group | Step::PartitionKey => {
            let found = if step == Step::Group {
                rules.group(d)?
            } else {
                rules.partition_key(d)?
            };
            if let Some((keys, prefix)) = found {
                d.keys = Some(keys);
                d.key_prefix = prefix;
            }
        }
        Step::FifoGroups => fifo_groups(rules, d)?,
        Step::Attributes => {
            parts.attributes = attributes(&p.attributes, &path.field("attributes"))?;
            parts.body = attributes(&p.body, &path.field("body"))?;
        }
        Step::Delay => parts.delay = rules.delay(d)?,
        Step::Resend => parts.resend = rules.resend(d)?,
        Step::Retry => parts.retry = retry_policy(p.retry.as_ref(), &path.field("retry"))?,
        Step::MaxInFlight => parts.max_in_flight = rules.max_in_flight(d)?,
        Step::Aggregation => parts.aggregation = rules.aggregation(d)?,
    }
    Ok(())
}

/// Parses the `target` reference and finds the component it names; the result is the
/// rules of the component's service.
fn resolve<'t>(
    p: &RawProducer,
    path: &FieldPath,
    targets: &'t Targets<'_, '_>,
    limits: &'t Limits,
) -> VResult<Box<dyn ProducerTarget + 't>> {
    let tpath = path.field("target");
    let (kind, name) = reference(&p.target, &tpath, &["sqs", "sns", "kinesis", "firehose"])?;
    Ok(match kind {
        "sqs" => {
            let q = lookup(&targets.queues.idx, name, kind, "queue", &tpath)?;
            Box::new(targets.queues.target(q, &limits.sqs))
        }
        "sns" => {
            let t = lookup(&targets.topics.idx, name, kind, "topic", &tpath)?;
            Box::new(targets.topics.target(t, &limits.sns))
        }
        "firehose" => {
            let f = lookup(
                &targets.firehoses.idx,
                name,
                kind,
                "delivery stream",
                &tpath,
            )?;
            Box::new(targets.firehoses.target(f, &tpath)?)
        }
        _ => {
            let s = lookup(&targets.streams.idx, name, "kinesis", "stream", &tpath)?;
            Box::new(targets.streams.target(s, &limits.kinesis))
        }
    })
}

/// Messages per send call (`batch`, default 1) within the target's batch call's limit.
fn batch(p: &RawProducer, path: &FieldPath, limit: &BatchLimit) -> VResult<u32> {
    let batch = p.batch.unwrap_or(1);
    if batch < 1 || batch > limit.max {
        return Err(Invalid::at(
            &path.field("batch"),
            format!(
                "batch {batch} is outside {} limit of 1 to {} {} (source: {})",
                limit.call, limit.max, limit.unit, limit.source
            ),
        ));
    }
    Ok(batch)
}

/// A FIFO target needs a message group for every message: from `group` (or
/// `partition_key`) or from the keys of a trace.
fn fifo_groups(rules: &dyn ProducerTarget, d: &Draft<'_>) -> VResult<()> {
    let Some(fifo) = rules.fifo() else {
        return Ok(());
    };
    if d.keys.is_none() && !matches!(d.arrival, Arrival::Trace(t) if !t.keys.is_empty()) {
        return Err(Invalid::at(
            &d.path.field("group"),
            format!("{} \"{}\" is FIFO: every message needs a message group; add group = {{ dist = \"uniform\", keys = 10 }} (source: {})", fifo.what, fifo.name, fifo.source),
        ));
    }
    Ok(())
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
    let policy = RetryPolicy {
        max_attempts,
        base: r.base.map(|x| x.0).unwrap_or(d.base),
        max_backoff: r.max_backoff.map(|x| x.0).unwrap_or(d.max_backoff),
    };
    // A zero back-off retries a throttled call at the same instant: with zero API latency
    // the simulated clock would stand still for every attempt.
    if max_attempts > 1 {
        for (field, v) in [("base", policy.base), ("max_backoff", policy.max_backoff)] {
            if v.is_zero() {
                return Err(Invalid::at(
                    &path.field(field),
                    format!("{field} must be longer than 0s when retries are allowed (max_attempts {max_attempts}): the SDK waits between attempts"),
                ));
            }
        }
    }
    Ok(policy)
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
