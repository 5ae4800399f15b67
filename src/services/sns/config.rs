//! Validation of the SNS parts of a model: `[[topic]]`, what SNS decides about producers
//! with an `sns:NAME` target (see `model::producer`), message attributes and body fields, and `[[subscription]]` (endpoints, filter
//! policies, delivery policies, dead-letter queues).
//!
//! Every limit checked here is a field of `services::sns::limits::SnsLimits` (overridable in
//! `[limits.sns]`); each message names the limit and its source.

use super::raw::*;
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::input::units::format_size;
use crate::load::attrs::{Attr, AttrDist, NumericDist};
use crate::load::{Dist, DurationDist, KeyDist};
use crate::model::dist::dur_dist;
use crate::model::fields::{check_range, lookup, prob, reference};
use crate::model::producer::{BatchLimit, Draft, FifoTarget, ProducerTarget, Step};
use crate::model::raw::{RawModel, RawWindow};
use crate::producers::{ProducerSpec, Target};
use crate::services::firehose::{FirehoseInput, FirehoseSpec};
use crate::services::lambda::limits::{LambdaLimits, SOURCE_ASYNC};
use crate::services::lambda::{LambdaSource, LambdaSpec};
use crate::services::sns::filter::{self, FilterLimits, Scope};
use crate::services::sns::limits::{self as slim, SnsLimits};
use crate::services::sns::retry::{Backoff, DeliveryPolicy};
use crate::services::sns::{Endpoint, Protocol, SubscriptionSpec, TopicSpec};
use crate::services::sqs::QueueSpec;
use crate::services::Limits;
use crate::sim::{SimDuration, SimTime};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// Source of the subscription dead-letter-queue rules.
const SOURCE_DLQ: &str = "https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html";
/// Source of raw message delivery.
const SOURCE_RAW: &str =
    "https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html";

/// The default delivery latency of a FIFO topic's SQS subscriptions (see
/// `services::sns::limits::DEFAULT_FIFO_SQS_DELIVERY_MEDIAN_MS`).
pub(crate) fn default_fifo_sqs_delivery_latency() -> DurationDist {
    DurationDist(
        Dist::lognormal_median_p99(
            slim::DEFAULT_FIFO_SQS_DELIVERY_MEDIAN_MS * 1e6,
            slim::DEFAULT_FIFO_SQS_DELIVERY_P99_MS * 1e6,
        )
        .expect("static default delivery latency is valid"),
    )
}

/// The default delivery latency (see `services::sns::limits`).
pub(crate) fn default_delivery_latency() -> DurationDist {
    match Dist::lognormal_median_p99(
        slim::DEFAULT_DELIVERY_LATENCY_MEDIAN_MS * 1e6,
        slim::DEFAULT_DELIVERY_LATENCY_P99_MS * 1e6,
    ) {
        Ok(d) => DurationDist(d),
        Err(_) => DurationDist(Dist::Constant(
            slim::DEFAULT_DELIVERY_LATENCY_MEDIAN_MS * 1e6,
        )),
    }
}

/// The topics of a model, and their index by name.
pub(crate) struct Topics<'a> {
    /// Index by name.
    pub(crate) idx: HashMap<&'a str, usize>,
    /// Validated topics (their subscription lists are filled by [`subscriptions`]).
    pub(crate) specs: Vec<TopicSpec>,
    /// Each topic's default delivery latency for its subscriptions.
    delivery: Vec<Option<DurationDist>>,
}

/// Overridden limits must keep the model meaningful.
fn check_limits(lim: &SnsLimits) -> VResult<()> {
    let lpath = FieldPath::top("limits").field("sns");
    for (field, v) in [
        ("regional_publish_per_s", lim.regional_publish_per_s as u64),
        (
            "fifo_topic_publish_per_s",
            lim.fifo_topic_publish_per_s as u64,
        ),
        ("fifo_topic_bytes_per_s", lim.fifo_topic_bytes_per_s.0),
        ("max_message_size", lim.max_message_size.0),
        ("default_max_message_size", lim.default_max_message_size.0),
        ("max_batch_messages", lim.max_batch_messages as u64),
        ("filter_max_keys", lim.filter_max_keys as u64),
        (
            "filter_max_combinations",
            lim.filter_max_combinations as u64,
        ),
        ("billing_chunk", lim.billing_chunk.0),
    ] {
        if v == 0 {
            return Err(Invalid::at(
                &lpath.field(field),
                format!("{field} must be above 0"),
            ));
        }
    }
    if lim.min_message_size_setting > lim.max_message_size
        || lim.default_max_message_size > lim.max_message_size
    {
        return Err(Invalid::at(
            &lpath.field("max_message_size"),
            "max_message_size must be at least min_message_size_setting and default_max_message_size",
        ));
    }
    if lim.aws_managed_backoff_min > lim.aws_managed_backoff_max
        || lim.customer_managed_backoff_min > lim.customer_managed_backoff_max
    {
        return Err(Invalid::at(
            &lpath,
            "a backoff phase's minimum delay is above its maximum",
        ));
    }
    if !(lim.filter_numeric_bound > 0.0 && lim.filter_numeric_bound.is_finite()) {
        return Err(Invalid::at(
            &lpath.field("filter_numeric_bound"),
            "must be a number above 0",
        ));
    }
    Ok(())
}

fn topic_name_ok(name: &str) -> bool {
    // CreateTopic: up to 256 letters, digits, hyphens and underscores; FIFO names end in
    // ".fifo".
    !name.is_empty()
        && name.len() <= 256
        && name
            .trim_end_matches(".fifo")
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Validates the `[[topic]]` tables.
pub(crate) fn topics<'a>(
    raw: &'a RawModel,
    limits: &Limits,
    default_api_latency: Option<&DurationDist>,
    base_dir: &Path,
) -> VResult<Topics<'a>> {
    let lim = &limits.sns;
    check_limits(lim)?;
    let mut idx = HashMap::new();
    let mut specs = Vec::new();
    let mut delivery = Vec::new();
    for (i, t) in raw.topic.iter().enumerate() {
        let path = FieldPath::item("topic", i, &t.name);
        if idx.insert(t.name.as_str(), i).is_some() {
            return Err(Invalid::at(
                &path.field("name"),
                format!("a topic called \"{}\" is already defined", t.name),
            ));
        }
        let fifo = t.kind == RawTopicKind::Fifo;
        if !topic_name_ok(&t.name) {
            return Err(Invalid::at(
                &path.field("name"),
                format!("\"{}\" is not a valid topic name: up to 256 letters, digits, '-' and '_' (FIFO names end in \".fifo\") (source: {})", t.name, slim::SOURCE_NAMES),
            ));
        }
        if fifo != t.name.ends_with(".fifo") {
            return Err(Invalid::at(
                &path.field("name"),
                if fifo {
                    format!("a FIFO topic's name must end in \".fifo\": call it \"{}.fifo\" (source: {})", t.name, slim::SOURCE_NAMES)
                } else {
                    format!("only FIFO topics may end in \".fifo\": add kind = \"fifo\" or rename it (source: {})", slim::SOURCE_NAMES)
                },
            ));
        }
        let max = t.max_message_size.unwrap_or(lim.default_max_message_size);
        if max < lim.min_message_size_setting || max > lim.max_message_size {
            return Err(Invalid::at(
                &path.field("max_message_size"),
                format!(
                    "maximum message size {} is outside AWS's limits of {} to {} (source: {})",
                    max,
                    lim.min_message_size_setting,
                    lim.max_message_size,
                    slim::SOURCE_LARGE_MESSAGES
                ),
            ));
        }
        if t.throughput_scope.is_some() && !fifo {
            return Err(Invalid::at(
                &path.field("throughput_scope"),
                format!(
                    "throughput_scope applies to FIFO topics only (source: {})",
                    slim::SOURCE_FIFO_THROUGHPUT
                ),
            ));
        }
        let group_scope = t.throughput_scope == Some(RawThroughputScope::MessageGroup);
        let api_latency = match &t.api_latency {
            Some(d) => dur_dist(d, &path.field("api_latency"), base_dir)?,
            None => default_api_latency
                .cloned()
                .unwrap_or_else(crate::services::sqs::config::default_latency),
        };
        delivery.push(match &t.delivery_latency {
            Some(d) => Some(dur_dist(d, &path.field("delivery_latency"), base_dir)?),
            None => None,
        });
        let topic_scope = fifo && !group_scope;
        specs.push(TopicSpec {
            name: t.name.clone(),
            fifo,
            group_scope,
            max_message_size: max.0.min(u32::MAX as u64) as u32,
            api_latency,
            publish_per_s: topic_scope.then_some(lim.fifo_topic_publish_per_s),
            bytes_per_s: topic_scope.then_some(lim.fifo_topic_bytes_per_s.0),
            dedup_interval: lim.dedup_interval.0,
            billing_chunk: lim.billing_chunk.0.clamp(1, u32::MAX as u64) as u32,
            subscriptions: Vec::new(),
        });
    }
    Ok(Topics {
        idx,
        specs,
        delivery,
    })
}

fn number(v: &toml::Value, path: &FieldPath) -> VResult<f64> {
    match v {
        toml::Value::Integer(i) => Ok(*i as f64),
        toml::Value::Float(f) if f.is_finite() => Ok(*f),
        _ => Err(Invalid::at(path, format!("expected a number, got {v}"))),
    }
}

/// Validates a producer's `attributes` or `body` table. Each entry is one of
/// * `{ order = 0.7, refund = 0.3 }`: string values with weights;
/// * `{ values = { order = 0.7, refund = 0.3 }, present = 0.9 }`: the same, present in a
///   fraction of the messages;
/// * `{ dist = "uniform", min = 0, max = 500 }` (also `"integer"` with min/max,
///   `"normal"` with mean/sd, `"exponential"` with mean, `"lognormal"` with median/p99,
///   `"constant"` with value), optionally with `present`.
pub(crate) fn attributes(
    raw: &BTreeMap<String, toml::Value>,
    path: &FieldPath,
) -> VResult<Vec<Attr>> {
    let mut out = Vec::new();
    for (name, v) in raw {
        out.push(attribute(name, v, &path.field(name))?);
    }
    Ok(out)
}

/// One attribute `name` at `apath`: its `present` fraction, then its numeric (`dist`) or
/// categorical values.
fn attribute(name: &str, v: &toml::Value, apath: &FieldPath) -> VResult<Attr> {
    let toml::Value::Table(t) = v else {
        return Err(Invalid::at(apath, "an attribute is a table: { order = 0.7, refund = 0.3 } or { dist = \"uniform\", min = 0, max = 500 }"));
    };
    let present = match t.get("present") {
        Some(p) => prob(&apath.field("present"), number(p, &apath.field("present"))?)?,
        None => 1.0,
    };
    let dist = if let Some(d) = t.get("dist") {
        let kind = numeric_kind(t, d, apath)?;
        AttrDist::Numeric(numeric(t, kind, apath)?)
    } else {
        categorical(t, apath)?
    };
    Ok(Attr::new(name, dist, present))
}

/// The distribution a numeric attribute names in `dist`, every other key of its table
/// (`present` aside) being one that distribution takes.
fn numeric_kind<'t>(t: &'t toml::Table, d: &'t toml::Value, apath: &FieldPath) -> VResult<&'t str> {
    let dpath = apath.field("dist");
    let toml::Value::String(kind) = d else {
        return Err(Invalid::at(&dpath, "dist names a distribution: \"uniform\", \"integer\", \"normal\", \"exponential\", \"lognormal\" or \"constant\""));
    };
    let allowed: &[&str] = match kind.as_str() {
        "uniform" | "integer" => &["min", "max"],
        "normal" => &["mean", "sd"],
        "exponential" => &["mean"],
        "lognormal" => &["median", "p99"],
        "constant" => &["value"],
        other => {
            return Err(Invalid::at(&dpath, format!("unknown distribution \"{other}\": expected uniform, integer, normal, exponential, lognormal or constant")));
        }
    };
    for k in t.keys() {
        if k != "dist" && k != "present" && !allowed.contains(&k.as_str()) {
            return Err(Invalid::at(
                &apath.field(k),
                format!(
                    "unknown key `{k}` for a {kind} distribution: expected {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(kind)
}

/// The numeric distribution `kind` (checked by [`numeric_kind`]) with its parameters.
fn numeric(t: &toml::Table, kind: &str, apath: &FieldPath) -> VResult<NumericDist> {
    let get = |k: &str| -> VResult<f64> {
        match t.get(k) {
            Some(v) => number(v, &apath.field(k)),
            None => Err(Invalid::at(
                apath,
                format!("a {kind} distribution needs `{k}`"),
            )),
        }
    };
    Ok(match kind {
        "uniform" => {
            let (min, max) = (get("min")?, get("max")?);
            if max < min {
                return Err(Invalid::at(
                    &apath.field("max"),
                    format!("max {max} is below min {min}"),
                ));
            }
            NumericDist::Uniform { min, max }
        }
        "integer" => {
            let (min, max) = (get("min")?, get("max")?);
            if max < min
                || min.fract() != 0.0
                || max.fract() != 0.0
                || min.abs() > 1e15
                || max.abs() > 1e15
            {
                return Err(Invalid::at(apath, format!("an integer distribution needs whole numbers min <= max, got {min} and {max}")));
            }
            NumericDist::Integer {
                min: min as i64,
                max: max as i64,
            }
        }
        "normal" => {
            let sd = get("sd")?;
            if sd <= 0.0 {
                return Err(Invalid::at(&apath.field("sd"), "sd must be above 0"));
            }
            NumericDist::Normal {
                mean: get("mean")?,
                sd,
            }
        }
        "exponential" => {
            let mean = get("mean")?;
            if mean <= 0.0 {
                return Err(Invalid::at(&apath.field("mean"), "mean must be above 0"));
            }
            NumericDist::Exponential { mean }
        }
        "lognormal" => {
            let (median, p99) = (get("median")?, get("p99")?);
            match Dist::lognormal_median_p99(median, p99) {
                Ok(Dist::LogNormal { mu, sigma }) => NumericDist::LogNormal { mu, sigma },
                Ok(_) | Err(_) => {
                    return Err(Invalid::at(apath, format!("a lognormal distribution needs 0 < median < p99, got median {median}, p99 {p99}")));
                }
            }
        }
        _ => NumericDist::Constant(get("value")?),
    })
}

/// A categorical attribute: value = weight pairs, directly or under `values` (then with
/// `present` only beside them); weights >= 0, at least one above 0.
fn categorical(t: &toml::Table, apath: &FieldPath) -> VResult<AttrDist> {
    let (weights, wpath) = match t.get("values") {
        Some(toml::Value::Table(w)) => {
            for k in t.keys() {
                if k != "values" && k != "present" {
                    return Err(Invalid::at(
                        &apath.field(k),
                        format!(
                            "unknown key `{k}`: a categorical attribute has `values` and `present`"
                        ),
                    ));
                }
            }
            (w, apath.field("values"))
        }
        Some(_) => {
            return Err(Invalid::at(
                &apath.field("values"),
                "values is a table of value = weight",
            ));
        }
        None => (t, apath.clone()),
    };
    let mut values = Vec::new();
    let mut ws = Vec::new();
    for (value, w) in weights {
        if value == "present" && t.get("values").is_none() {
            continue;
        }
        let w = number(w, &wpath.field(value))?;
        if w < 0.0 {
            return Err(Invalid::at(&wpath.field(value), "weights must be >= 0"));
        }
        values.push(value.clone());
        ws.push(w);
    }
    let total: f64 = ws.iter().sum();
    if values.is_empty() || total <= 0.0 {
        return Err(Invalid::at(
            apath,
            "an attribute needs at least one value with a weight above 0",
        ));
    }
    let mut acc = 0.0;
    let mut cumulative: Vec<f64> = ws
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect();
    if let Some(last) = cumulative.last_mut() {
        *last = 1.0;
    }
    Ok(AttrDist::Categorical { values, cumulative })
}

impl Topics<'_> {
    /// What SNS decides about a producer publishing to topic `index`.
    pub(crate) fn target<'b>(&'b self, index: usize, lim: &'b SnsLimits) -> TopicTarget<'b> {
        TopicTarget {
            index,
            topic: &self.specs[index],
            lim,
        }
    }
}

/// What SNS decides about a producer publishing to one of its topics: PublishBatch's
/// limit, the topic's message size, message groups for FIFO topics; partition keys and
/// per-message delays are refused.
pub(crate) struct TopicTarget<'a> {
    /// The topic's index.
    pub(crate) index: usize,
    /// The topic.
    pub(crate) topic: &'a TopicSpec,
    /// SNS's limits.
    pub(crate) lim: &'a SnsLimits,
}

impl ProducerTarget for TopicTarget<'_> {
    fn target(&self) -> Target {
        Target::Topic(self.index as u32)
    }

    fn steps(&self) -> &'static [Step] {
        &[
            Step::Fit,
            Step::Group,
            Step::PartitionKey,
            Step::FifoGroups,
            Step::Delay,
            Step::Attributes,
            Step::Resend,
            Step::Retry,
            Step::MaxInFlight,
            Step::Aggregation,
        ]
    }

    fn batch_limit(&self) -> BatchLimit {
        BatchLimit {
            max: self.lim.max_batch_messages,
            call: "PublishBatch's",
            unit: "messages",
            source: slim::SOURCE_BATCH,
        }
    }

    /// A constant message size within the topic's maximum, and so the whole of a
    /// PublishBatch of them.
    fn fit(&self, d: &Draft<'_>) -> VResult<()> {
        let Dist::Constant(v) = d.size.0 else {
            return Ok(());
        };
        let (topic, lim, batch) = (self.topic, self.lim, d.batch);
        let max = topic.max_message_size as u64;
        if v as u64 > max {
            return Err(Invalid::at(
                &d.path.field("size"),
                format!(
                    "messages of {} exceed topic \"{}\"'s maximum message size of {} (`max_message_size`, AWS's limit is {} by default, up to {}) (source: {})",
                    format_size(v as u64),
                    topic.name,
                    format_size(max),
                    lim.default_max_message_size,
                    lim.max_message_size,
                    slim::SOURCE_LARGE_MESSAGES
                ),
            ));
        }
        if batch > 1 && v as u64 * batch as u64 > max {
            return Err(Invalid::at(
                &d.path.field("batch"),
                format!(
                    "a PublishBatch of {batch} messages of {} exceeds topic \"{}\"'s maximum message size of {} for the whole batch (source: {})",
                    format_size(v as u64),
                    topic.name,
                    format_size(max),
                    slim::SOURCE_BATCH
                ),
            ));
        }
        Ok(())
    }

    fn partition_key(&self, d: &Draft<'_>) -> VResult<Option<(KeyDist, String)>> {
        if d.raw.partition_key.is_some() {
            return Err(Invalid::at(
                &d.path.field("partition_key"),
                "SNS topics have no partition keys; FIFO topics take message groups: `group`",
            ));
        }
        Ok(None)
    }

    fn fifo(&self) -> Option<FifoTarget<'_>> {
        self.topic.fifo.then_some(FifoTarget {
            what: "topic",
            name: &self.topic.name,
            source: slim::SOURCE_FIFO_DELIVERY,
        })
    }

    fn delay(&self, d: &Draft<'_>) -> VResult<SimDuration> {
        if d.raw.delay.is_some() {
            return Err(Invalid::at(&d.path.field("delay"), "per-message delays are an SQS feature; SNS delivers at once (set the subscribed queue's delay instead)"));
        }
        Ok(SimDuration::ZERO)
    }
}

fn filter_path(base: &FieldPath, steps: &[filter::Step]) -> FieldPath {
    let mut p = base.clone();
    for s in steps {
        p = match s {
            filter::Step::Key(k) => p.field(k),
            filter::Step::Index(i) => p.index(*i),
        };
    }
    p
}

fn outages(raw: &[RawWindow], path: &FieldPath) -> VResult<Vec<(SimTime, SimTime, f64)>> {
    let mut out = Vec::new();
    for (i, w) in raw.iter().enumerate() {
        let wpath = path.index(i);
        if w.length.0.is_zero() {
            return Err(Invalid::at(
                &wpath.field("for"),
                "an outage must last longer than 0s",
            ));
        }
        let p = match w.probability {
            Some(p) => prob(&wpath.field("probability"), p)?,
            None => 1.0,
        };
        out.push((
            SimTime::ZERO + w.from.0,
            SimTime::ZERO + w.from.0 + w.length.0,
            p,
        ));
    }
    out.sort_by_key(|w| w.0);
    if out.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err(Invalid::at(path, "outage windows overlap"));
    }
    Ok(out)
}

fn http_policy(
    r: &RawDeliveryPolicy,
    path: &FieldPath,
    lim: &SnsLimits,
) -> VResult<DeliveryPolicy> {
    let src = slim::SOURCE_HTTP_POLICY;
    let num = r.num_retries.unwrap_or(lim.http_default_retries);
    if num > lim.http_max_retries {
        return Err(Invalid::at(
            &path.field("num_retries"),
            format!(
                "num_retries {num} is above AWS's limit of {} (source: {src})",
                lim.http_max_retries
            ),
        ));
    }
    let no_delay = r.num_no_delay_retries.unwrap_or(0);
    let min_n = r.num_min_delay_retries.unwrap_or(0);
    let max_n = r.num_max_delay_retries.unwrap_or(0);
    let fixed = no_delay as u64 + min_n as u64 + max_n as u64;
    if fixed > num as u64 {
        return Err(Invalid::at(path, format!("num_no_delay_retries + num_min_delay_retries + num_max_delay_retries = {fixed} exceeds num_retries = {num}: num_retries counts the retries of every phase (source: {src})")));
    }
    let default_delay = lim.http_default_delay.0;
    let min_delay = r.min_delay.map(|d| d.0).unwrap_or(default_delay);
    let max_delay = r
        .max_delay
        .map(|d| d.0)
        .unwrap_or(default_delay.max(min_delay));
    check_range(
        &path.field("min_delay"),
        "min_delay (minDelayTarget)",
        min_delay,
        SimDuration::from_secs(1),
        lim.http_max_delay.0,
        src,
    )?;
    check_range(
        &path.field("max_delay"),
        "max_delay (maxDelayTarget)",
        max_delay,
        min_delay,
        lim.http_max_delay.0,
        src,
    )?;
    let function = match r.backoff.unwrap_or(RawBackoff::Linear) {
        RawBackoff::Linear => Backoff::Linear,
        RawBackoff::Arithmetic => Backoff::Arithmetic,
        RawBackoff::Geometric => Backoff::Geometric,
        RawBackoff::Exponential => Backoff::Exponential,
    };
    let policy = DeliveryPolicy {
        immediate: no_delay,
        pre_backoff: min_n,
        backoff: num - fixed as u32,
        post_backoff: max_n,
        pre_delay: min_delay,
        min_delay,
        max_delay,
        post_delay: max_delay,
        function,
    };
    let total = policy.total_time();
    if total > lim.http_max_retry_time.0 {
        return Err(Invalid::at(
            path,
            format!(
                "this delivery policy retries for {} in all; AWS's hard limit on an HTTP/S policy's total retry time is {} (source: {})",
                total,
                lim.http_max_retry_time,
                slim::SOURCE_RETRIES
            ),
        ));
    }
    if r.max_receives_per_second == Some(0) {
        return Err(Invalid::at(
            &path.field("max_receives_per_second"),
            "max_receives_per_second must be at least 1",
        ));
    }
    Ok(policy)
}

/// Validates the `[[subscription]]` tables (and the asynchronous Lambda functions they
/// invoke); fills each topic's subscription list and marks subscription dead-letter queues.
#[allow(clippy::too_many_arguments)]
pub(crate) fn subscriptions(
    raw: &RawModel,
    topics: &mut Topics<'_>,
    queue_idx: &HashMap<&str, usize>,
    queues: &mut [QueueSpec],
    lambda_idx: &HashMap<&str, usize>,
    lambdas: &[LambdaSpec],
    firehose_idx: &HashMap<&str, usize>,
    firehoses: &[FirehoseSpec],
    producers: &[ProducerSpec],
    limits: &Limits,
    base_dir: &Path,
    warnings: &mut Vec<String>,
) -> VResult<Vec<SubscriptionSpec>> {
    let lim = &limits.sns;
    check_async_retries(raw, &limits.lambda)?;
    let mut seen = Seen::default();
    let mut out: Vec<SubscriptionSpec> = Vec::new();
    for (i, s) in raw.subscription.iter().enumerate() {
        let known = Known {
            topics,
            queue_idx,
            queues,
            lambda_idx,
            lambdas,
            firehose_idx,
            firehoses,
            producers,
        };
        let sub = subscription(s, i, &known, &mut seen, lim, base_dir, warnings)?;
        topics.specs[sub.topic as usize]
            .subscriptions
            .push(out.len() as u32);
        out.push(sub);
    }
    check_subscription_limits(&topics.specs, &out, lim)?;
    for sub in &out {
        if let Some(q) = sub.dead_letter {
            queues[q as usize].is_dead_letter_queue = true;
        }
        if let Endpoint::Queue(q) = sub.endpoint {
            let topic = &topics.specs[sub.topic as usize];
            warn_oversized(sub, topic, &queues[q as usize], warnings);
        }
    }
    for (t, topic) in topics.specs.iter().enumerate() {
        let has_producer = producers
            .iter()
            .any(|p| p.target == Target::Topic(t as u32));
        if topic.subscriptions.is_empty() && has_producer {
            warnings.push(format!(
                "topic \"{}\" has no subscriptions: every message published to it is filtered out",
                topic.name
            ));
        }
    }
    Ok(out)
}

/// An asynchronously invoked function (no `source`) retries a failed event 0 to
/// `async_max_retry_attempts` times.
fn check_async_retries(raw: &RawModel, llim: &LambdaLimits) -> VResult<()> {
    for (i, l) in raw.lambda.iter().enumerate() {
        if l.source.is_none() {
            if let Some(n) = l.maximum_retry_attempts {
                if n < 0 || n > llim.async_max_retry_attempts as i64 {
                    return Err(Invalid::at(
                        &FieldPath::item("lambda", i, &l.name).field("maximum_retry_attempts"),
                        format!("an asynchronously invoked function retries a failed event 0 to {} times (source: {SOURCE_ASYNC})", llim.async_max_retry_attempts),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The validated components a subscription may name.
struct Known<'k, 'a> {
    topics: &'k Topics<'a>,
    queue_idx: &'k HashMap<&'k str, usize>,
    queues: &'k [QueueSpec],
    lambda_idx: &'k HashMap<&'k str, usize>,
    lambdas: &'k [LambdaSpec],
    firehose_idx: &'k HashMap<&'k str, usize>,
    firehoses: &'k [FirehoseSpec],
    producers: &'k [ProducerSpec],
}

/// The subscriptions validated so far: their names, and their (topic, endpoint) pairs.
#[derive(Default)]
struct Seen {
    names: HashMap<String, usize>,
    pairs: HashSet<(usize, String)>,
}

/// Validates subscription `i`, in this order: topic, endpoint, name, FIFO rules, filter
/// policy, raw delivery, dead-letter queue, latency, failures, outages, delivery policy,
/// jitter.
fn subscription(
    s: &RawSubscription,
    i: usize,
    known: &Known<'_, '_>,
    seen: &mut Seen,
    lim: &SnsLimits,
    base_dir: &Path,
    warnings: &mut Vec<String>,
) -> VResult<SubscriptionSpec> {
    let shown = s
        .name
        .clone()
        .unwrap_or_else(|| format!("{}→{}", s.topic, s.endpoint));
    let path = FieldPath::item("subscription", i, &shown);
    let t = lookup(
        &known.topics.idx,
        &s.topic,
        "sns",
        "topic",
        &path.field("topic"),
    )?;
    let topic = &known.topics.specs[t];
    let fifo = topic.fifo;
    let epath = path.field("endpoint");
    let (protocol, endpoint, ename) = resolve_endpoint(s, &epath, known)?;
    let name = unique_name(s, i, &path, t, protocol, ename, seen)?;
    check_fifo_endpoint(topic, protocol, endpoint, &epath, known.queues)?;
    let scope = match s.filter_scope {
        Some(RawFilterScope::Body) => Scope::Body,
        _ => Scope::Attributes,
    };
    let filter = match &s.filter {
        None => None,
        Some(v) => Some(filter_policy(
            v, scope, &path, t, &name, known, lim, warnings,
        )?),
    };
    let (raw_delivery, envelope) = delivery_format(s, &path, protocol)?;
    let dead_letter = dead_letter(s, &path, fifo, known)?;
    let latency = match &s.delivery_latency {
        Some(d) => dur_dist(d, &path.field("delivery_latency"), base_dir)?,
        None => known.topics.delivery[t].clone().unwrap_or_else(|| {
            if fifo && protocol == Protocol::Sqs {
                default_fifo_sqs_delivery_latency()
            } else {
                default_delivery_latency()
            }
        }),
    };
    let failure_probability = prob(
        &path.field("failure_probability"),
        s.failure_probability.unwrap_or(0.0),
    )?;
    let outages = outages(&s.outages, &path.field("outages"))?;
    let (policy, max_rps) = match (&s.delivery_policy, protocol) {
        (Some(r), Protocol::Http) => (
            http_policy(r, &path.field("delivery_policy"), lim)?,
            r.max_receives_per_second.map(|x| x as f64),
        ),
        (Some(_), p) => {
            return Err(Invalid::at(&path.field("delivery_policy"), format!("only HTTP/S subscriptions take a delivery policy; SNS applies its own to {} endpoints (source: {})", p.key(), slim::SOURCE_RETRIES)));
        }
        (None, p) => (p.default_policy(lim), None),
    };
    let jitter = s.jitter.unwrap_or(slim::DEFAULT_JITTER);
    if !(0.0..1.0).contains(&jitter) {
        return Err(Invalid::at(
            &path.field("jitter"),
            format!("jitter {jitter} must be from 0 to below 1 (a fraction of each retry delay)"),
        ));
    }
    if let Endpoint::Lambda(l) = endpoint {
        if known.lambdas[l as usize].source != LambdaSource::Async {
            warnings.push(format!(
                "lambda \"{}\" is invoked by subscription \"{name}\" and also has an event source mapping: both share its concurrency",
                known.lambdas[l as usize].name
            ));
        }
    }
    Ok(SubscriptionSpec {
        name,
        topic: t as u32,
        endpoint,
        protocol,
        endpoint_text: s.endpoint.clone(),
        filter,
        filter_scope: scope,
        raw: raw_delivery,
        envelope,
        dead_letter,
        latency,
        failure_probability,
        outages,
        policy,
        jitter,
        max_receives_per_second: max_rps,
        fifo,
    })
}

/// A subscription's `endpoint`: `PROTOCOL:NAME`, the name being a queue or function of
/// the model for SQS and Lambda endpoints. Returns the protocol, the endpoint and the name.
fn resolve_endpoint<'s>(
    s: &'s RawSubscription,
    epath: &FieldPath,
    known: &Known<'_, '_>,
) -> VResult<(Protocol, Endpoint, &'s str)> {
    let (kind, ename) = reference(
        &s.endpoint,
        epath,
        &[
            "sqs", "lambda", "http", "https", "firehose", "email", "sms", "push",
        ],
    )?;
    if ename.is_empty() {
        return Err(Invalid::at(
            epath,
            "the endpoint needs a name after the colon",
        ));
    }
    let protocol = Protocol::from_key(kind)
        .ok_or_else(|| Invalid::at(epath, format!("unknown protocol {kind}")))?;
    let endpoint = match protocol {
        Protocol::Sqs => {
            Endpoint::Queue(lookup(known.queue_idx, ename, "sqs", "queue", epath)? as u32)
        }
        Protocol::Lambda => {
            Endpoint::Lambda(lookup(known.lambda_idx, ename, "lambda", "lambda", epath)? as u32)
        }
        // A `[[firehose]]` of that name is simulated; another name is a counted sink.
        Protocol::Firehose => match known.firehose_idx.get(ename) {
            Some(f) if known.firehoses[*f].input != FirehoseInput::DirectPut => {
                return Err(Invalid::at(
                    epath,
                    format!("delivery stream \"{ename}\" reads a Kinesis stream: it accepts no records from SNS (source: {})", crate::services::firehose::limits::SOURCE_KINESIS_SOURCE),
                ))
            }
            Some(f) => Endpoint::Firehose(*f as u32),
            None => Endpoint::Sink(Protocol::Firehose),
        },
        p => Endpoint::Sink(p),
    };
    Ok((protocol, endpoint, ename))
}

/// A subscription's name (default `TOPIC-PROTOCOL-NAME`), distinct from the others', and
/// its endpoint, subscribed to topic `t` once only.
fn unique_name(
    s: &RawSubscription,
    i: usize,
    path: &FieldPath,
    t: usize,
    protocol: Protocol,
    ename: &str,
    seen: &mut Seen,
) -> VResult<String> {
    let name = s
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{}", s.topic, protocol.key(), ename));
    if name.trim().is_empty() {
        return Err(Invalid::at(
            &path.field("name"),
            "the name must not be empty",
        ));
    }
    if seen.names.insert(name.clone(), i).is_some() {
        return Err(Invalid::at(
            &path.field("name"),
            format!(
                "a subscription called \"{name}\" is already defined (give each a distinct `name`)"
            ),
        ));
    }
    if !seen
        .pairs
        .insert((t, format!("{}:{}", protocol.key(), ename)))
    {
        return Err(Invalid::at(&path.field("endpoint"), format!("topic \"{}\" already has a subscription to {}: SNS keeps one subscription per endpoint", s.topic, s.endpoint)));
    }
    Ok(name)
}

/// A FIFO topic delivers to SQS queues only, and a FIFO queue takes deliveries from FIFO
/// topics only.
fn check_fifo_endpoint(
    topic: &TopicSpec,
    protocol: Protocol,
    endpoint: Endpoint,
    epath: &FieldPath,
    queues: &[QueueSpec],
) -> VResult<()> {
    if topic.fifo && protocol != Protocol::Sqs {
        return Err(Invalid::at(
            epath,
            format!("FIFO topic \"{}\" delivers only to SQS queues (FIFO or standard), not to {} endpoints; subscribe a Lambda function through an SQS queue (source: {})", topic.name, protocol.key(), slim::SOURCE_FIFO_DELIVERY),
        ));
    }
    if let Endpoint::Queue(q) = endpoint {
        if queues[q as usize].fifo && !topic.fifo {
            return Err(Invalid::at(
                epath,
                format!(
                    "queue \"{}\" is FIFO: only a FIFO topic can deliver to it (source: {})",
                    queues[q as usize].name,
                    slim::SOURCE_FIFO_DELIVERY
                ),
            ));
        }
    }
    Ok(())
}

/// A subscription's filter policy (`filter`) on topic `t`; a warning when it names keys
/// that no producer of the topic declares.
#[allow(clippy::too_many_arguments)]
fn filter_policy(
    v: &toml::Value,
    scope: Scope,
    path: &FieldPath,
    t: usize,
    name: &str,
    known: &Known<'_, '_>,
    lim: &SnsLimits,
    warnings: &mut Vec<String>,
) -> VResult<filter::FilterPolicy> {
    let flim = FilterLimits {
        max_keys: lim.filter_max_keys,
        max_combinations: lim.filter_max_combinations,
        numeric_bound: lim.filter_numeric_bound,
    };
    let fpath = path.field("filter");
    let p = filter::parse(v, scope, &flim, slim::SOURCE_FILTER)
        .map_err(|e| Invalid::at(&filter_path(&fpath, &e.path), e.message))?;
    // Keys no producer of the topic declares match only `exists = false`.
    let declared: HashSet<&str> = known
        .producers
        .iter()
        .filter(|pr| pr.target == Target::Topic(t as u32))
        .flat_map(|pr| match scope {
            Scope::Attributes => pr.attributes.iter(),
            Scope::Body => pr.body.iter(),
        })
        .map(|a| a.name.as_str())
        .collect();
    let mut missing: Vec<&str> = p
        .alternatives
        .iter()
        .flatten()
        .map(|c| c.key.as_str())
        .filter(|k| !declared.contains(k))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if !missing.is_empty() {
        warnings.push(format!(
            "subscription \"{name}\" filters on {} {} that no producer of topic \"{}\" declares (in `{}`): only {{ exists = false }} matches a missing one",
            if scope == Scope::Body { "body field(s)" } else { "attribute(s)" },
            missing.iter().map(|m| format!("\"{m}\"")).collect::<Vec<_>>().join(", "),
            known.topics.specs[t].name,
            if scope == Scope::Body { "body" } else { "attributes" },
        ));
    }
    Ok(p)
}

/// Raw message delivery (SQS, HTTP/S and Firehose endpoints only) and the JSON envelope
/// that wraps a message otherwise, bytes.
fn delivery_format(
    s: &RawSubscription,
    path: &FieldPath,
    protocol: Protocol,
) -> VResult<(bool, u32)> {
    let raw_delivery = s.raw_message_delivery.unwrap_or(false);
    if raw_delivery
        && !matches!(
            protocol,
            Protocol::Sqs | Protocol::Http | Protocol::Firehose
        )
    {
        return Err(Invalid::at(&path.field("raw_message_delivery"), format!("raw message delivery applies to SQS, HTTP/S and Firehose subscriptions (source: {SOURCE_RAW})")));
    }
    let envelope = if raw_delivery
        || !matches!(
            protocol,
            Protocol::Sqs | Protocol::Http | Protocol::Lambda | Protocol::Firehose
        ) {
        0
    } else {
        slim::ENVELOPE_OVERHEAD_BYTES
    };
    Ok((raw_delivery, envelope))
}

/// A subscription's dead-letter queue: an SQS queue of the topic's type.
fn dead_letter(
    s: &RawSubscription,
    path: &FieldPath,
    fifo: bool,
    known: &Known<'_, '_>,
) -> VResult<Option<u32>> {
    let Some(d) = &s.dead_letter else {
        return Ok(None);
    };
    let dpath = path.field("dead_letter");
    let (_, qn) = reference(d, &dpath, &["sqs"])?;
    let q = lookup(known.queue_idx, qn, "sqs", "queue", &dpath)?;
    if known.queues[q].fifo != fifo {
        return Err(Invalid::at(
            &dpath,
            format!("the dead-letter queue of a subscription to a {} topic must be a {} queue (\"{}\" is {}) (source: {SOURCE_DLQ})",
                if fifo { "FIFO" } else { "standard" },
                if fifo { "FIFO" } else { "standard" },
                qn,
                if known.queues[q].fifo { "FIFO" } else { "standard" }),
        ));
    }
    Ok(Some(q as u32))
}

/// Per-topic subscription limits: a FIFO topic's, a large-message topic's (which also
/// takes SQS, Firehose and Lambda endpoints only), a standard topic's.
fn check_subscription_limits(
    topics: &[TopicSpec],
    subs: &[SubscriptionSpec],
    lim: &SnsLimits,
) -> VResult<()> {
    for (t, topic) in topics.iter().enumerate() {
        let n = topic.subscriptions.len() as u64;
        let tpath = FieldPath::item("topic", t, &topic.name);
        let large = topic.max_message_size as u64 > lim.large_message_threshold.0;
        let (max, why, src) = if topic.fifo {
            (
                lim.fifo_max_subscriptions as u64,
                "a FIFO topic",
                slim::SOURCE_FEATURES,
            )
        } else if large {
            (
                lim.large_topic_max_subscriptions as u64,
                "a topic whose messages may exceed 256 KiB",
                slim::SOURCE_LARGE_MESSAGES,
            )
        } else {
            (
                lim.standard_max_subscriptions as u64,
                "a standard topic",
                slim::SOURCE_FEATURES,
            )
        };
        if n > max {
            return Err(Invalid::at(&tpath, format!("topic \"{}\" has {n} subscriptions; AWS allows at most {max} for {why} (source: {src})", topic.name)));
        }
        if large {
            for s in &topic.subscriptions {
                let sub = &subs[*s as usize];
                if !matches!(
                    sub.protocol,
                    Protocol::Sqs | Protocol::Firehose | Protocol::Lambda
                ) {
                    return Err(Invalid::at(
                        &FieldPath::item("subscription", *s as usize, &sub.name).field("endpoint"),
                        format!("topic \"{}\" allows messages of {} (above {}): such topics accept only SQS, Firehose and Lambda subscriptions, not {} (source: {})",
                            topic.name, format_size(topic.max_message_size as u64), lim.large_message_threshold, sub.protocol.key(), slim::SOURCE_LARGE_MESSAGES),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Warns when a subscription may deliver messages (with their envelope) larger than its
/// queue accepts.
fn warn_oversized(
    sub: &SubscriptionSpec,
    topic: &TopicSpec,
    queue: &QueueSpec,
    warnings: &mut Vec<String>,
) {
    let biggest = topic.max_message_size as u64 + sub.envelope as u64;
    if biggest > queue.max_message_size as u64 {
        warnings.push(format!(
            "subscription \"{}\" may deliver messages of up to {} (topic maximum{}) to queue \"{}\", whose maximum is {}: larger ones fail and go to the dead-letter queue or are lost",
            sub.name,
            format_size(biggest),
            if sub.envelope > 0 { " + JSON envelope" } else { "" },
            queue.name,
            format_size(queue.max_message_size as u64)
        ));
    }
}
