//! SNS topics in the estimate: Publish and PublishBatch calls (billed by 64 KiB chunks;
//! FIFO topics also by payload GB), the share of messages each subscription's filter
//! policy passes, deliveries per protocol with their retries, and what the deliveries
//! feed: SQS queues (as [`Feed`]s of the queue model, with the delivered size) and Lambda
//! functions (asynchronous invocations).
//!
//! The model follows the simulator (`services::sns::engine` and the components of
//! `services::sns`):
//! * a producer's calls carry `k` messages with `k` from [`batch_fill`]; a call is billed
//!   `max(1, ceil(payload / 64 KiB))` requests; the producer closes a PublishBatch before
//!   its payload would pass the topic's `MaximumMessageSize` (so `k` messages whose sizes
//!   sum above it are counted as about `k` calls, at least one request each); a single
//!   Publish of a message larger than that is billed and the message refused;
//! * a published message is checked against every subscription's filter
//!   ([`match_probability`]); one that matches none is filtered out;
//! * a delivery attempt fails with the subscription's `failure_probability` and is retried
//!   by its delivery policy (`1 + retries` attempts in all); a delivery the endpoint
//!   refuses as too large (an SQS queue's maximum message size, Lambda's asynchronous
//!   payload limit) is not retried; what is given up goes to the subscription's
//!   dead-letter queue, or is lost;
//! * an SQS delivery is one SendMessage of the message (plus the JSON envelope without raw
//!   message delivery); a Lambda delivery is one event of the function's asynchronous
//!   queue, invoked alone and retried after a failed invocation (up to
//!   `maximum_retry_attempts`).
//!
//! Not modelled, as transients of a fluid model: outages of an endpoint, throttled
//! publishes (the capacity answer compares the peak with the quotas instead), the delivery
//! latency (tens of milliseconds), and the days an AWS-managed retry schedule may run.

use crate::estimate::capacity::Capacity;
use crate::estimate::sizes::{chunks, SizeMix};
use crate::estimate::{batch_fill, load_rates, Context};
use crate::input::error::Invalid;
use crate::load::attrs::{Attr, AttrDist, NumericDist};
use crate::load::Arrival;
use crate::model::Architecture;
use crate::producers::{ProducerSpec, Target};
use crate::services::lambda::estimate::{concurrency_limit, DurationModel, Warm};
use crate::services::sns::bill::{SnsDelivery, SnsProtocol, SnsUsage};
use crate::services::sns::filter::{
    Condition, FilterPolicy, Literal, Matcher, Scope, NUMBER_SCALE,
};
use crate::services::sns::{Endpoint, Protocol, SubscriptionSpec, TopicSpec};
use crate::services::sqs::estimate::Feed;
use crate::sim::rng::stream_seed;

/// Joint attribute outcomes summed before [`match_probability`] falls back to drawing.
const MAX_OUTCOMES: f64 = (1u64 << 20) as f64;

/// Message ids drawn by [`match_probability`]'s Monte Carlo fallback.
pub(crate) const MATCH_DRAWS: u64 = 100_000;

/// How a filter's match probability was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    /// Summed over the attributes' joint outcomes.
    Exact,
    /// The share of [`MATCH_DRAWS`] message ids that match.
    MonteCarlo,
}

/// One outcome of an attribute in a message: absent, categorical value `i`, or a number
/// standing for a cell of numbers that every matcher of the policies treats alike.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Absent,
    Str(usize),
    Num(f64),
}

/// The outcomes of one attribute that the alternatives tell apart: which alternatives
/// each leaves possible (a bit mask), whether the attribute is present, and the
/// probability.
struct Pattern {
    mask: Vec<u64>,
    present: bool,
    p: f64,
}

/// `P(X < x)` for a numeric attribute.
fn below(d: &NumericDist, x: f64) -> f64 {
    match *d {
        NumericDist::Constant(v) => f64::from(u8::from(v < x)),
        NumericDist::Integer { min, max } => {
            let n = (max - min + 1) as f64;
            (x.ceil() - min as f64).clamp(0.0, n) / n
        }
        _ => d.cdf(x),
    }
}

/// The numbers a matcher compares with.
fn numbers(m: &Matcher) -> Vec<f64> {
    match m {
        Matcher::ExactNumber(v) => vec![*v],
        Matcher::Numeric { lo, hi } => lo.iter().chain(hi.iter()).map(|b| b.value).collect(),
        Matcher::AnythingBut(list) => list
            .iter()
            .filter_map(|l| match l {
                Literal::Num(v) => Some(*v),
                Literal::Str(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The outcomes of attribute `attr` (None: no producer attribute of that name) against
/// `conds`, the conditions on its key, with their probabilities.
///
/// # Formula
/// Absent: `1 − present`. Categorical value `i`: `present × (c_i − c_{i−1})`. Numbers: the
/// numbers `b` the conditions mention cut the line into cells; AWS compares numbers to 5
/// decimal places (`filter::NUMBER_SCALE`), so each `b` owns `[(n − ½)·10⁻⁵, (n +
/// ½)·10⁻⁵)` with `n = round(b·10⁵)`, and the gaps between are cells too; a cell `[lo, hi)` has `present ×
/// (P(X < hi) − P(X < lo))` by the distribution's CDF (integers counted exactly).
fn outcomes(attr: Option<&Attr>, conds: &[&Condition]) -> Vec<(Outcome, f64)> {
    let Some(a) = attr else {
        return vec![(Outcome::Absent, 1.0)];
    };
    let present = a.present.clamp(0.0, 1.0);
    let mut out = Vec::new();
    if present < 1.0 {
        out.push((Outcome::Absent, 1.0 - present));
    }
    match &a.dist {
        AttrDist::Categorical { cumulative, .. } => {
            let mut prev = 0.0;
            for (i, c) in cumulative.iter().enumerate() {
                out.push((Outcome::Str(i), present * (c - prev).max(0.0)));
                prev = *c;
            }
        }
        AttrDist::Numeric(d) => {
            let mut points: Vec<i64> = conds
                .iter()
                .flat_map(|c| c.matchers.iter().flat_map(numbers))
                .map(|b| (b * NUMBER_SCALE).round() as i64)
                .collect();
            points.sort_unstable();
            points.dedup();
            let cell = |lo: f64, hi: f64, at: f64| {
                (
                    Outcome::Num(at),
                    present * (below(d, hi) - below(d, lo)).max(0.0),
                )
            };
            let inside = |lo: f64, hi: f64| match (lo.is_finite(), hi.is_finite()) {
                (true, true) => (lo + hi) / 2.0,
                (false, true) => hi - 1.0,
                (true, false) => lo + 1.0,
                (false, false) => 0.0,
            };
            let mut lo = f64::NEG_INFINITY;
            for n in points {
                let (a, b) = (
                    (n as f64 - 0.5) / NUMBER_SCALE,
                    (n as f64 + 0.5) / NUMBER_SCALE,
                );
                if a > lo {
                    out.push(cell(lo, a, inside(lo, a)));
                }
                out.push(cell(a, b, n as f64 / NUMBER_SCALE));
                lo = b;
            }
            out.push(cell(lo, f64::INFINITY, inside(lo, f64::INFINITY)));
        }
    }
    out.retain(|(_, p)| *p > 0.0);
    out
}

/// Whether condition `c` holds for outcome `o` of attribute `attr` (as the simulator's
/// compiled filter decides it).
fn holds(c: &Condition, o: Outcome, attr: Option<&Attr>) -> bool {
    match o {
        Outcome::Absent => c.matchers.contains(&Matcher::Exists(false)),
        Outcome::Str(i) => attr
            .and_then(|a| a.value_name(i as u32))
            .is_some_and(|v| c.matchers.iter().any(|m| m.accepts_str(v))),
        Outcome::Num(x) => c.matchers.iter().any(|m| m.accepts_num(x)),
    }
}

/// The probability that a message whose attributes (or body fields) are `schema` matches
/// at least one of `policies`, and how it was found. `seed_name` names the fixed seed of
/// the Monte Carlo fallback.
///
/// # Formula
/// A message's attributes are independent: each is drawn from its own hash of the
/// message id (`load::attrs`). A policy is a union of alternatives (`$or` expanded), each
/// an AND of conditions on keys, so the probability is a sum over the joint outcomes of
/// the keys the policies name (see `outcomes`: absent, each categorical value, each cell
/// of numbers between the numbers mentioned): `Σ Π_k P(o_k)` over the joint outcomes for
/// which some alternative has every condition met. Outcomes of a key that leave the same
/// alternatives possible are merged first, so categorical values and numeric cells
/// collapse into "passes" and "fails" and the sum has few terms; the walk drops a branch
/// once no alternative is left. An alternative with `exists = false` also needs some
/// attribute present: `1 − Π (1 − present)` over the attributes no policy names, unless a
/// named one is present. Exact but for floating-point CDFs. Should the merged joint
/// outcomes number more than 2²⁰ (many keys with many distinct cells), the probability is
/// instead the share of the message ids `1..=100,000` that match, by the simulator's own
/// matcher and attribute generator, from a fixed seed: a binomial estimate within
/// `3√(p(1 − p)/100,000)` ≤ 0.5% of the truth.
pub(crate) fn match_probability(
    policies: &[&FilterPolicy],
    schema: &[Attr],
    seed_name: &str,
) -> (f64, Method) {
    match_probability_within(policies, schema, seed_name, MAX_OUTCOMES)
}

/// [`match_probability`], drawing when the merged joint outcomes exceed `max_outcomes`.
fn match_probability_within(
    policies: &[&FilterPolicy],
    schema: &[Attr],
    seed_name: &str,
    max_outcomes: f64,
) -> (f64, Method) {
    let alts: Vec<&Vec<Condition>> = policies.iter().flat_map(|p| &p.alternatives).collect();
    if alts.is_empty() {
        return (0.0, Method::Exact);
    }
    let words = alts.len().div_ceil(64);
    let bit = |j: usize| (j / 64, 1u64 << (j % 64));
    let mut plain = vec![0u64; words];
    let mut all = vec![0u64; words];
    for (j, alt) in alts.iter().enumerate() {
        let (w, b) = bit(j);
        all[w] |= b;
        if !alt
            .iter()
            .any(|c| c.matchers.contains(&Matcher::Exists(false)))
        {
            plain[w] |= b;
        }
    }
    let mut keys: Vec<&str> = alts
        .iter()
        .flat_map(|a| a.iter().map(|c| c.key.as_str()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut patterns: Vec<Vec<Pattern>> = Vec::new();
    let mut joint = 1.0;
    for key in &keys {
        let attr = schema.iter().find(|a| a.name == *key);
        let conds: Vec<&Condition> = alts
            .iter()
            .flat_map(|a| a.iter())
            .filter(|c| c.key == *key)
            .collect();
        let mut pats: Vec<Pattern> = Vec::new();
        for (o, p) in outcomes(attr, &conds) {
            let mut mask = vec![0u64; words];
            for (j, alt) in alts.iter().enumerate() {
                if alt
                    .iter()
                    .filter(|c| c.key == *key)
                    .all(|c| holds(c, o, attr))
                {
                    let (w, b) = bit(j);
                    mask[w] |= b;
                }
            }
            let present = o != Outcome::Absent;
            match pats
                .iter_mut()
                .find(|q| q.mask == mask && q.present == present)
            {
                Some(q) => q.p += p,
                None => pats.push(Pattern { mask, present, p }),
            }
        }
        joint *= pats.len() as f64;
        patterns.push(pats);
    }
    if joint > max_outcomes {
        let seed = stream_seed(0, seed_name);
        let compiled: Vec<_> = policies.iter().map(|p| p.compile(schema)).collect();
        let hits = (1..=MATCH_DRAWS)
            .filter(|id| compiled.iter().any(|f| f.matches(schema, seed, *id)))
            .count();
        return (hits as f64 / MATCH_DRAWS as f64, Method::MonteCarlo);
    }
    let other_any = 1.0
        - schema
            .iter()
            .filter(|a| !keys.contains(&a.name.as_str()))
            .map(|a| 1.0 - a.present.clamp(0.0, 1.0))
            .product::<f64>();
    let walk = Walk {
        patterns: &patterns,
        plain: &plain,
        other_any,
    };
    (walk.sum(0, &all, false, 1.0).clamp(0.0, 1.0), Method::Exact)
}

/// The sum over joint outcomes of [`match_probability`].
struct Walk<'a> {
    patterns: &'a [Vec<Pattern>],
    plain: &'a [u64],
    other_any: f64,
}

impl Walk<'_> {
    /// The probability mass of the outcomes of keys `k..` that match, given the
    /// alternatives `alive` after the first `k` keys, whether one of those is present, and
    /// the probability `p` of their outcomes.
    fn sum(&self, k: usize, alive: &[u64], any: bool, p: f64) -> f64 {
        if k == self.patterns.len() {
            let plain = alive.iter().zip(self.plain).any(|(a, b)| a & b != 0);
            return if plain || any { p } else { p * self.other_any };
        }
        let mut total = 0.0;
        for pat in &self.patterns[k] {
            let next: Vec<u64> = alive.iter().zip(&pat.mask).map(|(a, b)| a & b).collect();
            if next.iter().any(|w| *w != 0) {
                total += self.sum(k + 1, &next, any || pat.present, p * pat.p);
            }
        }
        total
    }
}

/// A producer's messages on their way through a topic: per call of `k` messages, the
/// billed requests, the messages published and the billed payload bytes.
struct Publisher<'a> {
    spec: &'a ProducerSpec,
    topic: usize,
    /// `table[k] = [requests, published, bytes]` of a call of `k` messages.
    table: Vec<[f64; 3]>,
    /// Probability that a message is published a second time (`resend`).
    resend: f64,
    /// The second copy is published (not deduplicated by a FIFO topic).
    resend_published: bool,
    /// Mean message size, bytes.
    mean_size: f64,
    /// Billed requests per second, mean over the window.
    requests: f64,
    /// Messages published per second, mean over the window.
    published: f64,
    /// Payload bytes billed per second, mean over the window.
    bytes: f64,
    /// Messages published per arrival (after the window: `published / mean arrivals`).
    ratio: f64,
    /// Highest arrival rate, per second.
    peak: f64,
}

impl Publisher<'_> {
    /// Requests, published messages and payload bytes per second at `rate` arrivals per
    /// second.
    ///
    /// # Formula
    /// Calls of `k` messages with `P(k)` from [`batch_fill`], `calls = rate / E[k]`, each
    /// worth `table[k]`; plus `rate × resend` single-message calls (published unless a
    /// FIFO topic deduplicates them).
    fn rates(&self, rate: f64) -> [f64; 3] {
        let s = self.spec;
        let fill = batch_fill(
            rate,
            s.batch,
            s.linger.as_secs_f64(),
            matches!(s.arrival, Arrival::Constant { .. }),
        );
        let mean_k: f64 = fill.iter().map(|(k, p)| *k as f64 * p).sum();
        let calls = if mean_k > 0.0 { rate / mean_k } else { 0.0 };
        let at = |k: u32| self.table[(k as usize).min(self.table.len() - 1)];
        let mut out = [0.0; 3];
        for (k, p) in &fill {
            for (o, v) in out.iter_mut().zip(at(*k)) {
                *o += calls * p * v;
            }
        }
        let again = rate * self.resend;
        let one = at(1);
        out[0] += again * one[0];
        out[2] += again * one[2];
        if self.resend_published {
            out[1] += again * one[1];
        }
        out
    }
}

/// What a subscription does with a message its filter passes, from one producer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct DeliveryModel {
    /// Delivery attempts per message (the initial one and the retries).
    pub(crate) attempts: f64,
    /// Share delivered.
    pub(crate) delivered: f64,
    /// Share given up (retries exhausted, or refused as too large): to the subscription's
    /// dead-letter queue, or lost.
    pub(crate) given_up: f64,
}

impl DeliveryModel {
    /// The deliveries of a subscription whose attempts fail with probability `f`, retried
    /// up to `retries` times, to an endpoint that refuses a share `too_large` of the
    /// messages for good.
    ///
    /// # Formula
    /// `N = retries`: every attempt fails with `f`, so `P(all N + 1 fail) = f^(N+1)` and the
    /// attempts are `Σ_{i=0..N} f^i = (1 − f^(N+1)) / (1 − f)` (`N + 1` when `f = 1`). The
    /// first attempt that does not fail delivers the message, unless the endpoint refuses
    /// it (no retries): delivered `(1 − too_large)(1 − f^(N+1))`, given up the rest.
    pub(crate) fn new(f: f64, retries: u64, too_large: f64) -> Self {
        let f = f.clamp(0.0, 1.0);
        let n = retries as f64 + 1.0;
        let all_fail = if f > 0.0 { f.powf(n) } else { 0.0 };
        let attempts = if f < 1.0 {
            (1.0 - all_fail) / (1.0 - f)
        } else {
            n
        };
        let delivered = (1.0 - too_large.clamp(0.0, 1.0)) * (1.0 - all_fail);
        DeliveryModel {
            attempts,
            delivered,
            given_up: 1.0 - delivered,
        }
    }
}

/// One (subscription, producer) pair: the share of the producer's published messages the
/// subscription's filter passes, and what becomes of them.
struct Route {
    /// The subscription (index in `arch.subscriptions`).
    sub: usize,
    /// Its endpoint.
    endpoint: Endpoint,
    /// The publisher (index in the publishers).
    producer: usize,
    /// Share of the publisher's messages its filter passes.
    matched: f64,
    /// What becomes of them.
    delivery: DeliveryModel,
    /// A Lambda endpoint: requests billed per invocation beyond the first, for events
    /// over 256 KB (mean over the events the function accepts).
    extra_requests: f64,
}

/// Estimates the SNS topics of the model: pushes their usage and capacity rows, the
/// deliveries to SQS queues (and subscription dead-letter moves) as feeds of the queue
/// model, and the asynchronous invocations of subscribed Lambda functions onto their
/// loads.
///
/// # Formula
/// Per producer at each step of the grid: requests, published messages and payload bytes
/// per second from its batches (a call of `k` messages of total
/// size `S` is billed `max(1, ceil(S / 64 KiB))` requests and publishes its `k` messages
/// when `S` is within the topic's maximum; `k` messages summing above it go in smaller
/// calls, `max(k, ceil(S/64 KiB))` requests; a single message above it is billed and
/// refused). Per subscription and producer: matched
/// `= published × P(filter passes)` ([`match_probability`]); deliveries, retries and
/// losses by [`DeliveryModel`]; filtered out `= published × P(no filter passes)` (filters
/// of the attribute and body scopes are independent). Deliveries are billed per protocol
/// with their published payload (FIFO: per GB). An SQS subscription's deliveries are a
/// feed of its queue of `published/arrival × P(match) × delivered` per arrival, one
/// SendMessage of `size + envelope` each; what is given up feeds the subscription's
/// dead-letter queue at its published size. A Lambda subscription's deliveries are
/// events invoked one at a time, each `Σ_{i=0..R} f^i` invocations (`R` retries of a
/// failed invocation, `f` the function's failure probability), `f^(R+1)` of them lost.
/// Capacity: the account's publish quota and a FIFO topic's messages and bytes per second
/// at the peak rate, an HTTP/S subscription's attempts per second at the peak against its
/// `max_receives_per_second`.
pub(crate) fn estimate_topics<'a>(cx: &mut Context<'a>) -> Result<(), Invalid> {
    let arch: &'a Architecture = cx.arch;
    if arch.topics.is_empty() {
        return Ok(());
    }
    let mut pubs = publishers(arch, &mut cx.notes);
    let routes = routes(arch, &pubs, &mut cx.notes);
    let mut invoked = invoked(arch);
    publish_over_grid(cx, &mut pubs, &routes, &mut invoked);
    topic_rows(cx, &pubs, &routes);
    subscription_rows(cx, &pubs, &routes);
    queue_feeds(cx, &pubs, &routes);
    lambda_loads(cx, &pubs, &routes, invoked);
    Ok(())
}

/// Follows the publishers over the grid: their requests, published messages and bytes
/// (means over the window), then their messages per arrival and peak arrivals; and the
/// events of the subscribed functions, whose cold starts follow the load in time.
fn publish_over_grid(
    cx: &Context,
    pubs: &mut [Publisher],
    routes: &[Route],
    invoked: &mut [Invoked],
) {
    let (arch, grid) = (cx.arch, cx.grid);
    let duration_s = arch.duration.as_secs_f64();
    for i in 0..grid.steps {
        let step = grid.step(i);
        let published: Vec<f64> = pubs
            .iter_mut()
            .map(|pb| {
                let r = pb.rates(grid.rate(&pb.spec.arrival, arch, &step));
                pb.requests += r[0] * step.weight;
                pb.published += r[1] * step.weight;
                pb.bytes += r[2] * step.weight;
                r[1]
            })
            .collect();
        for inv in invoked.iter_mut() {
            let (events, extra): (f64, f64) = routes
                .iter()
                .filter(|r| r.endpoint == Endpoint::Lambda(inv.l as u32))
                .map(|r| {
                    let e = published[r.producer] * r.matched * r.delivery.delivered;
                    (e, e * r.extra_requests)
                })
                .fold((0.0, 0.0), |(a, b), (e, x)| (a + e, b + x));
            inv.events += events * step.weight;
            inv.extra_requests += extra * step.weight;
            let conc = events * inv.per_event * inv.duration.mean_s(1.0);
            if grid.time_varying {
                let in_window = if step.dt > 0.0 {
                    step.weight * duration_s / step.dt
                } else {
                    0.0
                };
                inv.cold += inv.warm.cold_starts(step.to.0 as f64 / 1e9, conc) * in_window;
            } else if arch.warmup.is_zero() {
                inv.cold += conc.ceil();
            }
        }
    }
    for pb in pubs.iter_mut() {
        let rates = load_rates(&pb.spec.arrival, arch);
        pb.ratio = if rates.mean_per_s > 0.0 {
            pb.published / rates.mean_per_s
        } else {
            0.0
        };
        pb.peak = rates.peak_per_s;
    }
}

/// Each topic's usage record (publishes, deliveries per protocol, payload filtering) and
/// capacity rows (messages filtered out, a FIFO topic's messages and bytes per second at
/// the peak), then the account's publishes at the peak against the regional quota.
fn topic_rows(cx: &mut Context, pubs: &[Publisher], routes: &[Route]) {
    let arch = cx.arch;
    let month_s = cx.month_s;
    let mut quota_peak = 0.0;
    for (ti, topic) in arch.topics.iter().enumerate() {
        let mut usage = SnsUsage {
            name: topic.name.clone(),
            fifo: topic.fifo,
            ..SnsUsage::default()
        };
        // Per protocol (as `Protocol::ALL`): deliveries/s and their payload bytes/s.
        let mut by_protocol = [(0.0f64, 0.0f64); Protocol::ALL.len()];
        let (mut peak_msgs, mut peak_bytes, mut filtered) = (0.0, 0.0, 0.0);
        for (pi, pb) in pubs.iter().enumerate().filter(|(_, pb)| pb.topic == ti) {
            usage.publish_requests += (pb.requests * month_s).round() as u64;
            usage.publish_bytes += (pb.bytes * month_s).round() as u64;
            let peak = pb.peak * (1.0 + pb.resend);
            peak_msgs += peak;
            peak_bytes += peak * pb.mean_size;
            for r in routes.iter().filter(|r| r.producer == pi) {
                let sub = &arch.subscriptions[r.sub];
                let k = Protocol::ALL
                    .iter()
                    .position(|x| *x == sub.protocol)
                    .unwrap_or(0);
                let n = pb.published * r.matched * r.delivery.delivered;
                by_protocol[k].0 += n;
                by_protocol[k].1 += n * pb.mean_size;
                if sub.filter_scope == Scope::Body && sub.filter.is_some() {
                    usage.payload_filter_bytes +=
                        (pb.published * pb.mean_size * month_s).round() as u64;
                }
            }
            filtered += pb.published * none_match(arch, &topic.subscriptions, pb.spec);
        }
        quota_peak += peak_msgs;
        for (proto, (n, b)) in Protocol::ALL.iter().zip(by_protocol) {
            if n > 0.0 {
                usage.deliveries.push(SnsDelivery {
                    protocol: SnsProtocol::from(*proto),
                    count: (n * month_s).round() as u64,
                    bytes: (b * month_s).round() as u64,
                });
            }
        }
        cx.usage.sns.push(usage);
        if filtered > 0.0 {
            cx.capacity.push(Capacity::info(
                "sns",
                &topic.name,
                "messages/s filtered out (no subscription's filter passes them)",
                filtered,
            ));
        }
        fifo_topic_rows(cx, topic, peak_msgs, peak_bytes);
    }
    let regional = arch.limits.sns.regional_publish_per_s as f64;
    cx.capacity.push(Capacity::against(
        "sns",
        "(account)",
        "Publish and PublishBatch messages/s at the peak, all topics (regional quota)",
        quota_peak,
        regional,
        format!(
            "over the account's regional publish quota ({regional} messages/s; {}): calls are throttled and retried; ask for a quota increase",
            crate::services::sns::limits::SOURCE_QUOTAS
        ),
    ));
}

/// A FIFO topic's messages and MB per second at the peak against its topic-scope limits.
fn fifo_topic_rows(cx: &mut Context, topic: &TopicSpec, peak_msgs: f64, peak_bytes: f64) {
    let over = "calls are throttled and retried: set throughput_scope = \"message_group\" (high throughput: the regional quota only)";
    if let Some(limit) = topic.publish_per_s {
        cx.capacity.push(Capacity::against(
            "sns",
            &topic.name,
            "FIFO publishes, messages/s at the peak (topic throughput scope)",
            peak_msgs,
            limit as f64,
            format!("over the FIFO topic's {limit} messages/s: {over}"),
        ));
    }
    if let Some(limit) = topic.bytes_per_s {
        let mib = (1u64 << 20) as f64;
        cx.capacity.push(Capacity::against(
            "sns",
            &topic.name,
            "FIFO publishes, MB/s at the peak (topic throughput scope)",
            peak_bytes / mib,
            limit as f64 / mib,
            format!("over the FIFO topic's {} MB/s: {over}", limit as f64 / mib),
        ));
    }
}

/// The feeds of queues: an SQS subscription's deliveries (one SendMessage of `size +
/// envelope` each), and what a subscription gives up to its dead-letter queue (at the
/// published size).
fn queue_feeds<'a>(cx: &mut Context<'a>, pubs: &[Publisher<'a>], routes: &[Route]) {
    let arch = cx.arch;
    let sqs_chunk = arch.limits.sqs.billing_chunk.0.max(1);
    for r in routes {
        let sub = &arch.subscriptions[r.sub];
        let pb = &pubs[r.producer];
        let p = pb.spec;
        let per_arrival = pb.ratio * r.matched;
        let mut push = |queue: usize, share: f64, extra: u64| {
            if share <= 0.0 {
                return;
            }
            let q = &arch.queues[queue];
            let mut mix = SizeMix::new();
            mix.push_extra(1.0, &p.size, extra);
            cx.feeds.push(Feed {
                queue,
                arrival: &p.arrival,
                share,
                size: &p.size,
                extra_bytes: extra,
                batch: 1,
                linger_s: 0.0,
                even: false,
                send_chunks: mix.chunks_table(
                    1,
                    sqs_chunk,
                    &format!("estimate:deliver:{}:{}:{extra}", q.name, p.name),
                ),
                resend_probability: 0.0,
                resend_stored: false,
                groups: if q.fifo { p.keys.as_ref() } else { None },
            });
        };
        // A queue whose policy denies SNS gets nothing: every delivery is given up.
        let (delivered, given_up) = if arch.access.denies_delivery(r.sub) {
            (0.0, 1.0)
        } else {
            (r.delivery.delivered, r.delivery.given_up)
        };
        if let Endpoint::Queue(q) = sub.endpoint {
            push(q as usize, per_arrival * delivered, sub.envelope as u64);
        }
        if let Some(q) = sub
            .dead_letter
            .filter(|_| !arch.access.denies_dead_letter(r.sub))
        {
            push(q as usize, per_arrival * given_up, 0);
        }
    }
}

/// Adds the subscribed functions' asynchronous invocations to their loads, with a row for
/// the events lost after the last retry.
fn lambda_loads(cx: &mut Context, pubs: &[Publisher], routes: &[Route], invoked: Vec<Invoked>) {
    let arch = cx.arch;
    let duration_s = arch.duration.as_secs_f64();
    for inv in invoked {
        let spec = &arch.lambdas[inv.l];
        let peak_events: f64 = routes
            .iter()
            .filter(|r| r.endpoint == Endpoint::Lambda(inv.l as u32))
            .map(|r| {
                let pb = &pubs[r.producer];
                pb.peak * pb.ratio * r.matched * r.delivery.delivered
            })
            .sum();
        let invocations = inv.events * inv.per_event;
        let mean_s = inv.duration.mean_s(1.0);
        let load = &mut cx.functions[inv.l];
        load.invocations += invocations;
        load.extra_requests += inv.extra_requests * inv.per_event;
        load.records += invocations;
        load.billed_s += invocations * inv.duration.billed_s(1.0);
        load.cold_starts += if duration_s > 0.0 {
            inv.cold / duration_s
        } else {
            0.0
        };
        load.concurrency_mean += invocations * mean_s;
        load.concurrency_peak += peak_events.max(inv.events) * inv.per_event * mean_s;
        if load.limit.is_none() {
            load.limit = Some(concurrency_limit(arch, spec, None));
        }
        if inv.lost > 0.0 && inv.events > 0.0 {
            cx.capacity.push(Capacity::info(
                "lambda",
                &spec.name,
                "asynchronous events lost/s after the last retry (expected)",
                inv.events * inv.lost,
            ));
        }
    }
}

/// The publishers of the model's topics, with their call tables.
fn publishers<'a>(arch: &'a Architecture, notes: &mut Vec<String>) -> Vec<Publisher<'a>> {
    let mut pubs = Vec::new();
    for (pi, p) in arch.producers.iter().enumerate() {
        let Target::Topic(t) = p.target else {
            continue;
        };
        if arch.access.denies_producer(pi) {
            notes.push(format!(
                "producer \"{}\": the topic's policy denies its publishes; the estimate leaves it out",
                p.name
            ));
            continue;
        }
        let topic = &arch.topics[t as usize];
        let max = topic.max_message_size as u64;
        let chunk = topic.billing_chunk.max(1) as u64;
        let mut mix = SizeMix::new();
        mix.push(1.0, &p.size);
        let table = mix.sum_table(
            p.batch.max(1),
            &format!("estimate:publish:{}", p.name),
            |k, s| {
                if s <= max {
                    [chunks(s, chunk) as f64, k as f64, s as f64]
                } else if k == 1 {
                    // Billed, then refused as too large.
                    [chunks(s, chunk) as f64, 0.0, s as f64]
                } else {
                    // The producer closes a batch before it passes the maximum, so `k`
                    // messages summing above it go in smaller calls: about `k` publishes,
                    // billed at least one request each and at least the sum's chunks.
                    [(chunks(s, chunk) as f64).max(k as f64), k as f64, s as f64]
                }
            },
        );
        let (resend, resend_published) = match p.resend {
            Some(r) => (
                r.probability,
                !(topic.fifo && r.after < topic.dedup_interval),
            ),
            None => (0.0, false),
        };
        let batch = p.batch.max(1) as f64;
        let refused = 1.0 - table.last().map(|t| t[1]).unwrap_or(batch) / batch;
        if refused > 1e-3 {
            notes.push(format!(
                "producer \"{}\": {:.1}% of the messages of a full {}-message call are refused by topic \"{}\" (above its maximum message size of {} B, alone or in all): they are dropped",
                p.name,
                refused * 100.0,
                p.batch,
                topic.name,
                max
            ));
        }
        pubs.push(Publisher {
            spec: p,
            topic: t as usize,
            table,
            resend,
            resend_published,
            mean_size: mix.mean_bytes(),
            requests: 0.0,
            published: 0.0,
            bytes: 0.0,
            ratio: 0.0,
            peak: 0.0,
        });
    }
    pubs
}

/// Every (subscription, publisher of its topic) pair, with its filter's match probability
/// and its delivery model.
fn routes(arch: &Architecture, pubs: &[Publisher], notes: &mut Vec<String>) -> Vec<Route> {
    let mut routes = Vec::new();
    for (si, sub) in arch.subscriptions.iter().enumerate() {
        if !sub.outages.is_empty() {
            notes.push(format!(
                "subscription \"{}\": outages are transients; the estimate ignores them",
                sub.name
            ));
        }
        for (pi, pb) in pubs.iter().enumerate() {
            if pb.topic != sub.topic as usize {
                continue;
            }
            let p = pb.spec;
            let matched = match &sub.filter {
                None => 1.0,
                Some(f) => {
                    let (m, how) = match_probability(
                        &[f],
                        schema_of(p, f.scope),
                        &format!("estimate:filter:{}:{}", sub.name, p.name),
                    );
                    if how == Method::MonteCarlo {
                        notes.push(format!(
                            "subscription \"{}\": the share of producer \"{}\"'s messages its filter passes ({m:.4}) is drawn from {MATCH_DRAWS} message ids (too many attribute outcomes to sum)",
                            sub.name, p.name
                        ));
                    }
                    m
                }
            };
            let (refused, extra_requests) = size_outcomes(arch, sub, p);
            routes.push(Route {
                sub: si,
                endpoint: sub.endpoint,
                producer: pi,
                matched,
                delivery: DeliveryModel::new(
                    sub.failure_probability,
                    sub.policy.retries(),
                    refused,
                ),
                extra_requests,
            });
        }
    }
    routes
}

/// A Lambda function that subscriptions invoke asynchronously.
struct Invoked {
    /// Its index in `arch.lambdas`.
    l: usize,
    /// Invocations per event (retries of failed invocations included).
    per_event: f64,
    /// Share of the events lost after the last retry.
    lost: f64,
    duration: DurationModel,
    warm: Warm,
    /// Cold starts in the measured window.
    cold: f64,
    /// Events per second, mean over the window.
    events: f64,
    /// Requests per second billed beyond one per invocation of those events (before
    /// retries), mean over the window.
    extra_requests: f64,
}

/// The functions that subscriptions invoke.
///
/// # Formula
/// An event is invoked, and a failed invocation retried up to `R = min(maximum retry
/// attempts, 2)` times: `Σ_{i=0..R} f^i` invocations, `f^(R+1)` of the events lost
/// ([`DeliveryModel`] with the function's failure probability).
fn invoked(arch: &Architecture) -> Vec<Invoked> {
    let lim = &arch.limits.lambda;
    let mut out = Vec::new();
    for (l, f) in arch.lambdas.iter().enumerate() {
        if !arch
            .subscriptions
            .iter()
            .any(|s| s.endpoint == Endpoint::Lambda(l as u32))
        {
            continue;
        }
        let r = f
            .maximum_retry_attempts
            .unwrap_or(lim.async_max_retry_attempts)
            .min(lim.async_max_retry_attempts);
        let d = DeliveryModel::new(f.failure_probability, r as u64, 0.0);
        out.push(Invoked {
            l,
            per_event: d.attempts,
            lost: d.given_up,
            duration: DurationModel::new(f),
            warm: Warm::new(f),
            cold: 0.0,
            events: 0.0,
            extra_requests: 0.0,
        });
    }
    out
}

/// The subscriptions' rows: the share each filter passes, an HTTP/S subscription's
/// attempts at the peak against its `max_receives_per_second`, expected retries and
/// what is given up.
fn subscription_rows(cx: &mut Context, pubs: &[Publisher], routes: &[Route]) {
    let arch = cx.arch;
    for (si, sub) in arch.subscriptions.iter().enumerate() {
        let (mut matched, mut given_up, mut attempts, mut peak) = (0.0, 0.0, 0.0, 0.0);
        for r in routes.iter().filter(|r| r.sub == si) {
            let pb = &pubs[r.producer];
            let m = pb.published * r.matched;
            matched += m;
            given_up += m * r.delivery.given_up;
            attempts += m * r.delivery.attempts;
            peak += pb.peak * pb.ratio * r.matched * r.delivery.attempts;
        }
        if sub.filter.is_some() {
            let total: f64 = pubs
                .iter()
                .filter(|pb| pb.topic == sub.topic as usize)
                .map(|pb| pb.published)
                .sum();
            cx.capacity.push(Capacity::info(
                "sns",
                &sub.name,
                "share of the topic's messages its filter policy passes",
                if total > 0.0 { matched / total } else { 0.0 },
            ));
        }
        if let Some(rps) = sub.max_receives_per_second {
            cx.capacity.push(Capacity::against(
                "sns",
                &sub.name,
                "delivery attempts/s at the peak (max_receives_per_second)",
                peak,
                rps,
                "over the subscription's max_receives_per_second: deliveries wait for their slot and fall ever further behind",
            ));
        }
        if attempts > matched * (1.0 + 1e-9) {
            cx.capacity.push(Capacity::info(
                "sns",
                &sub.name,
                "delivery retries/s (expected)",
                attempts - matched,
            ));
        }
        if given_up > 0.0 {
            let what = match sub.dead_letter {
                Some(q) => format!(
                    "deliveries moved to dead-letter queue \"{}\"/s (expected)",
                    arch.queues[q as usize].name
                ),
                None => "deliveries lost/s, no dead-letter queue (expected)".to_string(),
            };
            cx.capacity
                .push(Capacity::info("sns", &sub.name, what, given_up));
            let schedule = sub.policy.total_time();
            if schedule > arch.duration && sub.failure_probability > 0.0 {
                cx.notes.push(format!(
                    "subscription \"{}\": a delivery is given up only after its retry schedule ({:.1} h); the estimate counts the steady state, a run of {} gives up fewer",
                    sub.name,
                    schedule.as_secs_f64() / 3600.0,
                    arch.duration
                ));
            }
        }
    }
}

/// The attributes or body fields of producer `p` that a policy of `scope` reads.
fn schema_of(p: &ProducerSpec, scope: Scope) -> &[Attr] {
    match scope {
        Scope::Attributes => &p.attributes,
        Scope::Body => &p.body,
    }
}

/// What the size of producer `p`'s messages does at subscription `sub`'s endpoint: the
/// share it refuses as too large (no retries: above an SQS queue's maximum message size,
/// Lambda's asynchronous payload limit or Firehose's record limit, with the JSON
/// envelope), and, for a Lambda endpoint, the requests billed per invocation beyond the
/// first (0 for other endpoints).
///
/// # Formula
/// One pass over the notification's size `b` (message and envelope): `P(b > limit)`, and
/// `E[async_requests(b) − 1 | b ≤ limit]` with `async_requests(b) = 1 + ceil(max(0, b −
/// 256 KB) / 64 KB)` ([`crate::services::lambda::limits::LambdaLimits::async_requests`]).
fn size_outcomes(arch: &Architecture, sub: &SubscriptionSpec, p: &ProducerSpec) -> (f64, f64) {
    let lim = &arch.limits.lambda;
    let limit = match sub.endpoint {
        Endpoint::Queue(q) => arch.queues[q as usize].max_message_size as u64,
        Endpoint::Lambda(_) => lim.async_max_payload_bytes,
        Endpoint::Firehose(f) => arch.firehoses[f as usize].limits.max_record_size.0,
        Endpoint::Sink(_) => return (0.0, 0.0),
    };
    let lambda = matches!(sub.endpoint, Endpoint::Lambda(_));
    let mut mix = SizeMix::new();
    mix.push_extra(1.0, &p.size, sub.envelope as u64);
    let [refused, extra] = mix.mean_of(
        &format!("estimate:too-large:{}:{}", sub.name, p.name),
        |b| {
            if b > limit {
                [1.0, 0.0]
            } else if lambda {
                [0.0, (lim.async_requests(b) - 1) as f64]
            } else {
                [0.0, 0.0]
            }
        },
    );
    let extra = if refused < 1.0 {
        extra / (1.0 - refused)
    } else {
        0.0
    };
    (refused, extra)
}

/// The probability that none of subscriptions `subs` passes a message of producer `p`.
///
/// # Formula
/// 0 when some subscription has no filter; otherwise `Π_scope (1 − P(some filter of that
/// scope passes))`: attributes and body fields are drawn from different seeds, so the two
/// scopes are independent ([`match_probability`] over each scope's policies together).
fn none_match(arch: &Architecture, subs: &[u32], p: &ProducerSpec) -> f64 {
    let filters: Vec<&FilterPolicy> = subs
        .iter()
        .filter_map(|s| arch.subscriptions[*s as usize].filter.as_ref())
        .collect();
    if filters.len() < subs.len() || subs.is_empty() {
        return if subs.is_empty() { 1.0 } else { 0.0 };
    }
    [Scope::Attributes, Scope::Body]
        .iter()
        .map(|scope| {
            let of: Vec<&FilterPolicy> = filters
                .iter()
                .copied()
                .filter(|f| f.scope == *scope)
                .collect();
            if of.is_empty() {
                return 1.0;
            }
            let (any, _) = match_probability(
                &of,
                schema_of(p, *scope),
                &format!("estimate:filtered:{}", p.name),
            );
            1.0 - any
        })
        .product()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::{estimate, test_model};

    const MONTH_S: f64 = 730.0 * 3600.0;

    /// A producer with these attributes publishing to a topic whose subscriptions (HTTP
    /// sinks) have these filters.
    fn filtered(attributes: &str, filters: &[&str]) -> Architecture {
        let mut src = format!(
            "[[producer]]\nname = \"p\"\ntarget = \"sns:t\"\nload = {{ process = \"poisson\", rate_per_s = 10 }}\nattributes = {attributes}\n[[topic]]\nname = \"t\"\n"
        );
        for (i, f) in filters.iter().enumerate() {
            src += &format!(
                "[[subscription]]\nname = \"s{i}\"\ntopic = \"t\"\nendpoint = \"http:h{i}\"\nfilter = {f}\n"
            );
        }
        test_model(&src)
    }

    /// The exact probability of subscription `i`'s filter, checked against the simulator's
    /// own matcher over 200,000 message ids: within 4.5 binomial standard deviations.
    ///
    /// AWS compares numbers to 5 decimal places, so a bound `b` also excludes (or includes)
    /// the numbers within 5·10⁻⁶ of it: the exact answer differs from the textbook one by
    /// at most the density there × 10⁻⁵ (below 10⁻⁶ in these examples).
    fn exact(arch: &Architecture, i: usize) -> f64 {
        let f = arch.subscriptions[i].filter.as_ref().unwrap();
        let schema = &arch.producers[0].attributes;
        let (p, how) = match_probability(&[f], schema, "t");
        assert_eq!(how, Method::Exact);
        let compiled = f.compile(schema);
        let seed = stream_seed(5, "attributes:p");
        let n = 200_000u64;
        let hits = (1..=n)
            .filter(|id| compiled.matches(schema, seed, *id))
            .count() as f64;
        let band = 4.5 * (p * (1.0 - p) / n as f64).sqrt() + 1e-9;
        assert!(
            (hits / n as f64 - p).abs() <= band,
            "filter {i}: exact {p} vs simulated {}",
            hits / n as f64
        );
        p
    }

    const ATTRS: &str = r#"{ type = { order = 0.5, refund = 0.3, void = 0.2 }, region = { "eu-west-1" = 0.2, "eu-central-1" = 0.1, "us-east-1" = 0.5, "ap-south-1" = 0.2 }, amount = { dist = "uniform", min = 0, max = 500 }, score = { dist = "normal", mean = 0, sd = 1 }, tries = { dist = "integer", min = 1, max = 5 }, coupon = { values = { SAVE10 = 1 }, present = 0.4 }, channel = { web = 0.6, app = 0.4 }, tier = { gold = 0.1, silver = 0.9 } }"#;

    #[test]
    fn filter_match_probabilities_worked_examples() {
        let cases: [(&str, f64); 15] = [
            // Exact match: P(order) = 0.5.
            (r#"{ type = ["order"] }"#, 0.5),
            // OR within a key: 0.5 + 0.3.
            (r#"{ type = ["order", "refund"] }"#, 0.8),
            // anything-but: 1 − 0.3.
            (r#"{ type = [{ anything-but = ["refund"] }] }"#, 0.7),
            // prefix "eu-": eu-west-1 + eu-central-1 = 0.2 + 0.1.
            (r#"{ region = [{ prefix = "eu-" }] }"#, 0.3),
            // suffix "east-1": us-east-1 only.
            (r#"{ region = [{ suffix = "east-1" }] }"#, 0.5),
            // Uniform on [0, 500): (100, 200] holds 100/500.
            (r#"{ amount = [{ numeric = [">", 100, "<=", 200] }] }"#, 0.2),
            // Standard normal above 1.96: 1 − Φ(1.96) = 0.0249979.
            (r#"{ score = [{ numeric = [">", 1.96] }] }"#, 0.024_997_9),
            // Integers 1..=5: "= 3" is 1/5; [2, 4) holds 2 and 3: 2/5; anything-but 1, 2: 3/5.
            (r#"{ tries = [{ numeric = ["=", 3] }] }"#, 0.2),
            (r#"{ tries = [{ numeric = [">=", 2, "<", 4] }] }"#, 0.4),
            (r#"{ tries = [{ anything-but = [1, 2] }] }"#, 0.6),
            // exists: present in 40%; absent in 60% (the others are always present, so
            // `exists = false` finds some attribute).
            (r#"{ coupon = [{ exists = true }] }"#, 0.4),
            (r#"{ coupon = [{ exists = false }] }"#, 0.6),
            // $or across keys, inclusion–exclusion: P(order) + P(amount > 400) − both =
            // 0.5 + 0.2 − 0.5 × 0.2 = 0.6.
            (
                r#"{ "$or" = [{ type = ["order"] }, { amount = [{ numeric = [">", 400] }] }] }"#,
                0.6,
            ),
            // AND with $or: P(order or refund) × P(web or gold) = 0.8 × (0.6 + 0.1 − 0.06)
            // = 0.8 × 0.64 = 0.512.
            (
                r#"{ type = ["order", "refund"], "$or" = [{ channel = ["web"] }, { tier = ["gold"] }] }"#,
                0.512,
            ),
            // A key no producer declares matches nothing.
            (r#"{ nope = ["x"] }"#, 0.0),
        ];
        let filters: Vec<&str> = cases.iter().map(|c| c.0).collect();
        let arch = filtered(ATTRS, &filters);
        for (i, (f, want)) in cases.iter().enumerate() {
            let p = exact(&arch, i);
            assert!((p - want).abs() < 1e-6, "{f}: {p} vs {want}");
        }
    }

    #[test]
    fn exists_false_needs_some_attribute() {
        // coupon (40%) and extra (50%): `coupon exists = false` needs the message to have
        // some attribute: P(no coupon) × P(extra) = 0.6 × 0.5 = 0.3.
        let two = r#"{ coupon = { values = { SAVE10 = 1 }, present = 0.4 }, extra = { values = { x = 1 }, present = 0.5 } }"#;
        let arch = filtered(two, &[r#"{ coupon = [{ exists = false }] }"#]);
        assert!((exact(&arch, 0) - 0.3).abs() < 1e-12);
        // With coupon alone, a message without it has no attribute at all: never.
        let one = r#"{ coupon = { values = { SAVE10 = 1 }, present = 0.4 } }"#;
        let arch = filtered(one, &[r#"{ coupon = [{ exists = false }] }"#]);
        assert_eq!(exact(&arch, 0), 0.0);
    }

    #[test]
    fn union_of_subscriptions_and_the_monte_carlo_fallback() {
        let arch = filtered(
            ATTRS,
            &[
                r#"{ type = ["order"] }"#,
                r#"{ type = ["refund"], amount = [{ numeric = ["<", 250] }] }"#,
            ],
        );
        let f: Vec<&FilterPolicy> = arch
            .subscriptions
            .iter()
            .filter_map(|s| s.filter.as_ref())
            .collect();
        let schema = &arch.producers[0].attributes;
        // Some subscription passes: P(order) + P(refund) × P(amount < 250) = 0.5 + 0.3 ×
        // 0.5 = 0.65; the rest, 0.35, is filtered out.
        let (any, how) = match_probability(&f, schema, "t");
        assert_eq!(how, Method::Exact);
        assert!((any - 0.65).abs() < 1e-6, "{any}");
        assert!((none_match(&arch, &[0, 1], &arch.producers[0]) - 0.35).abs() < 1e-6);
        // Forced to draw: 100,000 ids within 4.5 σ = 4.5 × √(0.65 × 0.35 / 100,000) =
        // 0.0068 of the exact value.
        let (mc, how) = match_probability_within(&f, schema, "t", 0.0);
        assert_eq!(how, Method::MonteCarlo);
        assert!((mc - 0.65).abs() < 0.0068, "{mc}");
    }

    #[test]
    fn delivery_retries_worked_examples() {
        // HTTP/S default policy, 3 retries, attempts failing half the time: 1 + ½ + ¼ + ⅛
        // = 1.875 attempts; 1 − ½⁴ = 0.9375 delivered; 0.0625 given up.
        let d = DeliveryModel::new(0.5, 3, 0.0);
        assert!((d.attempts - 1.875).abs() < 1e-12);
        assert!((d.delivered - 0.9375).abs() < 1e-12);
        assert!((d.given_up - 0.0625).abs() < 1e-12);
        // AWS-managed policy (100,015 retries): ½^100,016 is nothing; 2 attempts.
        let d = DeliveryModel::new(0.5, 100_015, 0.0);
        assert!((d.attempts - 2.0).abs() < 1e-12 && d.given_up == 0.0);
        // An endpoint that always fails: every attempt made, nothing delivered.
        let d = DeliveryModel::new(1.0, 3, 0.0);
        assert_eq!((d.attempts, d.delivered), (4.0, 0.0));
        // 10% too large for the endpoint: 0.9 × 0.9375 delivered.
        let d = DeliveryModel::new(0.5, 3, 0.1);
        assert!((d.delivered - 0.84375).abs() < 1e-12);
    }

    fn line(e: &crate::estimate::Estimate, topic: &str) -> SnsUsage {
        e.usage
            .sns
            .iter()
            .find(|u| u.name == topic)
            .cloned()
            .unwrap()
    }

    fn deliveries(u: &SnsUsage, p: SnsProtocol) -> u64 {
        u.deliveries
            .iter()
            .filter(|d| d.protocol == p)
            .map(|d| d.count)
            .sum()
    }

    #[test]
    fn publish_batches_are_billed_by_64_kib_chunks() {
        // 100 msg/s of 100 KiB, evenly spaced, batch 2 with a long linger: 50 calls/s of
        // 200 KiB = 4 chunks: 200 requests/s × 2,628,000 s = 525,600,000 a month. The
        // subscription delivers 100 KiB + the 1 KiB envelope = 2 chunks per SendMessage:
        // 200 requests/s on the queue (no consumer).
        let src = r#"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 100 }
size = "100KB"
batch = 2
linger = "1s"
[[topic]]
name = "t"
[[subscription]]
topic = "t"
endpoint = "sqs:q"
[[queue]]
name = "q"
"#;
        let e = estimate(&test_model(src), 730.0).unwrap();
        let t = line(&e, "t");
        assert_eq!(t.publish_requests, 525_600_000);
        assert_eq!(deliveries(&t, SnsProtocol::Sqs), 262_800_000);
        assert_eq!(e.usage.sqs[0].requests, 525_600_000);
        // Sizes uniform on [100, 140] KiB: a pair sums to more than the topic's 256 KiB
        // with P = (280 − 256)² / (2 × 40²) = 0.18 (a triangular density on [200, 280]):
        // the producer sends those two separately, counted as max(2, 5 chunks) = 5
        // requests; the rest (200 to 256 KiB) are 4 chunks: 50 × (0.82 × 4 + 0.18 × 5)
        // = 209 requests/s, all 100 messages/s published. The sums are drawn (20,000
        // pairs): the share is within 4.5 × √(0.18 × 0.82 / 20,000) = 1.2% of 0.18, so the
        // requests within 50 × 1 × 0.012 = 0.6/s.
        let uniform = src.replace(
            "size = \"100KB\"",
            "size = { dist = \"uniform\", min = \"100KB\", max = \"140KB\" }",
        );
        let e = estimate(&test_model(&uniform), 730.0).unwrap();
        let t = line(&e, "t");
        let requests = t.publish_requests as f64 / MONTH_S;
        assert!((requests - 209.0).abs() < 0.6, "{requests}");
        let sqs = deliveries(&t, SnsProtocol::Sqs) as f64 / MONTH_S;
        assert!((sqs - 100.0).abs() < 1e-6, "{sqs}");
        assert!(!e
            .notes
            .iter()
            .any(|n| n.contains("of a full 2-message call")));
    }

    #[test]
    fn fifo_topic_bills_requests_and_gigabytes() {
        // 10 msg/s of 1 KiB, one per Publish: 10 requests/s and 10 KiB/s; two SQS
        // subscriptions, one passing only credits (25%): 12.5 deliveries/s of 1 KiB.
        let src = r#"
[[producer]]
name = "p"
target = "sns:t.fifo"
load = { process = "constant", rate_per_s = 10 }
size = "1KB"
group = { dist = "uniform", keys = 10 }
attributes = { kind = { debit = 0.75, credit = 0.25 } }
[[topic]]
name = "t.fifo"
kind = "fifo"
[[subscription]]
topic = "t.fifo"
endpoint = "sqs:a.fifo"
[[subscription]]
topic = "t.fifo"
endpoint = "sqs:b.fifo"
filter = { kind = ["credit"] }
[[queue]]
name = "a.fifo"
kind = "fifo"
[[queue]]
name = "b.fifo"
kind = "fifo"
"#;
        let e = estimate(&test_model(src), 730.0).unwrap();
        let t = line(&e, "t.fifo");
        assert!(t.fifo);
        assert_eq!(t.publish_requests, 26_280_000);
        assert_eq!(t.publish_bytes, 26_280_000 * 1024);
        assert_eq!(t.deliveries[0].count, 32_850_000);
        assert_eq!(t.deliveries[0].bytes, 32_850_000 * 1024);
        // The topic scope's limits: 10 of 3,000 messages/s, 0.0098 of 20 MB/s.
        let row = e
            .capacity
            .iter()
            .find(|c| c.what.starts_with("FIFO publishes, messages/s"))
            .unwrap();
        assert_eq!((row.value, row.limit), (10.0, Some(3000.0)));
        assert_eq!(row.verdict, "ok");
        // 5,000 messages/s is over it.
        let e = estimate(
            &test_model(&src.replace("rate_per_s = 10", "rate_per_s = 5000")),
            730.0,
        )
        .unwrap();
        let row = e
            .capacity
            .iter()
            .find(|c| c.what.starts_with("FIFO publishes, messages/s"))
            .unwrap();
        assert!(row.verdict.contains("message_group"), "{}", row.verdict);
    }

    #[test]
    fn http_retries_dead_letters_and_throttle() {
        // 100 msg/s, attempts failing half the time: 93.75 deliveries/s billed, 87.5
        // retries/s, 6.25 moves/s into the dead-letter queue (one SendMessage each).
        // max_receives_per_second = 50 against 100 × 1.875 = 187.5 attempts/s.
        let src = r#"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 100 }
[[topic]]
name = "t"
[[subscription]]
name = "hook"
topic = "t"
endpoint = "https:x"
failure_probability = 0.5
dead_letter = "sqs:dlq"
delivery_policy = { num_retries = 3, min_delay = "20s", max_delay = "20s", max_receives_per_second = 50 }
[[queue]]
name = "dlq"
"#;
        let e = estimate(&test_model(src), 730.0).unwrap();
        let t = line(&e, "t");
        assert_eq!(
            deliveries(&t, SnsProtocol::Http),
            (93.75 * MONTH_S).round() as u64
        );
        assert_eq!(e.usage.sqs[0].requests, (6.25 * MONTH_S).round() as u64);
        let row = |what: &str| {
            e.capacity
                .iter()
                .find(|c| c.component == "hook" && c.what.starts_with(what))
                .unwrap()
                .clone()
        };
        assert!((row("delivery retries").value - 87.5).abs() < 1e-9);
        let throttle = row("delivery attempts/s");
        assert!((throttle.value - 187.5).abs() < 1e-9);
        assert_eq!(throttle.limit, Some(50.0));
        assert_ne!(throttle.verdict, "ok");
    }

    #[test]
    fn lambda_subscription_invokes_asynchronously() {
        // 10 events/s; the function fails half its invocations and retries once:
        // 1 + ½ = 1.5 invocations per event (15/s), ¼ of the events lost. 100 ms at
        // 128 MB: 15 × 0.1 × 0.125 = 0.1875 GB-s/s; concurrency 15 × 0.1 = 1.5.
        // (A warm-up, so that the environments are warm: no cold starts.)
        let src = r#"
warmup = "1m"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 10 }
[[topic]]
name = "t"
[[subscription]]
topic = "t"
endpoint = "lambda:f"
[[lambda]]
name = "f"
memory_mb = 128
duration = "100ms"
failure_probability = 0.5
maximum_retry_attempts = 1
"#;
        let e = estimate(&test_model(src), 730.0).unwrap();
        let l = &e.usage.lambda[0];
        assert_eq!(l.requests, (15.0 * MONTH_S).round() as u64);
        assert!((l.gb_seconds / MONTH_S - 0.1875).abs() < 1e-9);
        let conc = e
            .capacity
            .iter()
            .find(|c| c.service == "lambda" && c.what.starts_with("concurrent"))
            .unwrap();
        assert!((conc.value - 1.5).abs() < 1e-9);
        let lost = e
            .capacity
            .iter()
            .find(|c| c.what.starts_with("asynchronous events lost"))
            .unwrap();
        assert!((lost.value - 2.5).abs() < 1e-9);
        assert!(!e.notes.iter().any(|n| n.contains("bills it nothing")));
    }

    #[test]
    fn regional_publish_quota_in_the_capacity_answer() {
        // 40,000 messages/s over two topics against us-east-1's 30,000.
        let src = r#"
[[producer]]
name = "a"
target = "sns:t"
load = { process = "poisson", rate_per_s = 25000 }
[[producer]]
name = "b"
target = "sns:u"
load = { process = "poisson", rate_per_s = 15000 }
[[topic]]
name = "t"
[[topic]]
name = "u"
"#;
        let e = estimate(&test_model(src), 730.0).unwrap();
        let q = e
            .capacity
            .iter()
            .find(|c| c.component == "(account)" && c.service == "sns")
            .unwrap();
        assert_eq!((q.value, q.limit), (40_000.0, Some(30_000.0)));
        assert!(q.verdict.contains("quota"), "{}", q.verdict);
        // No subscription: everything is filtered out.
        let out: f64 = e
            .capacity
            .iter()
            .filter(|c| c.what.starts_with("messages/s filtered out"))
            .map(|c| c.value)
            .sum();
        assert!((out - 40_000.0).abs() < 1e-6, "{out}");
    }
}
