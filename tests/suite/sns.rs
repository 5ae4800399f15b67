//! SNS semantics, one focused scenario each, with the expected outcome derived in a
//! comment: fan-out, filter policies, delivery retries (HTTP/S, AWS-managed), dead-letter
//! queues, FIFO topics (order, deduplication), throttling, asynchronous Lambda, billing,
//! the bundled fan-out model, and bad input through the binary.
//!
//! Latencies are zero and jitter off unless a test says otherwise, so the arithmetic is
//! exact.

use crate::common::*;
use aqueduct::services::sns::limits::SnsLimits;
use aqueduct::services::sns::Protocol;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Asserts that `count` successes out of `n` lie within `z` standard deviations of the
/// binomial mean `n·p` (z = 4: a false alarm about once in 16,000 checks).
fn assert_binomial(what: &str, count: f64, n: f64, p: f64) {
    let z = 4.0;
    let half = z * (n * p * (1.0 - p)).sqrt();
    assert!(
        (count - n * p).abs() <= half,
        "{what}: {count} of {n} is outside {:.1} ± {half:.1} (p = {p})",
        n * p
    );
}

#[test]
fn fan_out_delivers_publishes_times_matching_subscriptions() {
    // A constant 10 msg/s over a 100 s horizon publishes at 0, 0.1, …, 100 s: 1,001
    // messages. Every message has region = "eu" (weight 1), so of the four subscriptions
    // the one filtering region = ["us"] never matches and three do: 3 × 1,001 = 3,003
    // deliveries, 2 × 1,001 = 2,002 copies, and nothing is filtered out. With zero latency
    // every delivery is done at once: the two queues' consumers process 2,002, the HTTP
    // endpoint 1,001.
    let src = r#"
name = "fanout"
duration = "100s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 10 }
attributes = { region = { eu = 1 } }
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
topic = "t"
endpoint = "sqs:a"
[[subscription]]
topic = "t"
endpoint = "sqs:b"
filter = { region = ["eu"] }
[[subscription]]
topic = "t"
endpoint = "http:hook"
[[subscription]]
topic = "t"
endpoint = "http:us-only"
filter = { region = ["us"] }
[[queue]]
name = "a"
[[queue]]
name = "b"
[[consumer]]
name = "wa"
source = "sqs:a"
workers = 4
receive = { max_messages = 10, wait = "20s" }
service_time = "1ms"
[[consumer]]
name = "wb"
source = "sqs:b"
workers = 4
receive = { max_messages = 10, wait = "20s" }
service_time = "1ms"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let published = metric(&out, "topic.t.published");
    assert_eq!(published, 1001.0);
    assert_eq!(metric(&out, "topic.t.deliveries"), 3.0 * published);
    assert_eq!(metric(&out, "topic.t.filtered_out"), 0.0);
    assert_eq!(
        metric(&out, "topic.t.deliveries_by_protocol.sqs"),
        2.0 * published
    );
    assert_eq!(
        metric(&out, "topic.t.deliveries_by_protocol.http"),
        published
    );
    assert_eq!(metric(&out, "subscription.t-http-us-only.matched"), 0.0);
    assert_eq!(out.summary.accounting.copies, 2002);
    assert_eq!(metric(&out, "queue.a.sent"), published);
    assert_eq!(metric(&out, "queue.b.sent"), published);
    // The deliveries at t = 100 s may still be in their consumers' hands at the end.
    let a = &out.summary.accounting;
    assert_eq!(
        metric(&out, "consumer.wa.processed")
            + metric(&out, "consumer.wb.processed")
            + (a.in_flight + a.waiting) as f64,
        2.0 * published
    );
}

#[test]
fn a_message_matching_no_subscription_is_filtered_out() {
    // type ∈ {order, refund}; the only subscription takes "void": every message leaves
    // as filtered out, none is delivered.
    let src = r#"
name = "none"
duration = "60s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 5 }
attributes = { type = { order = 1, refund = 1 } }
[[topic]]
name = "t"
[[subscription]]
topic = "t"
endpoint = "http:x"
filter = { type = ["void"] }
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let published = metric(&out, "topic.t.published");
    assert_eq!(metric(&out, "topic.t.filtered_out"), published);
    assert_eq!(out.summary.accounting.filtered_out as f64, published);
    assert_eq!(metric(&out, "topic.t.deliveries"), 0.0);
}

#[test]
fn seventy_thirty_attribute_mix_filters_within_the_binomial_ci() {
    // type = order with probability 0.7. Over n published messages the "order"
    // subscription matches Binomial(n, 0.7) of them: within 0.7n ± 4·√(0.21n). Every
    // message is either an order or a refund, so the two subscriptions together match
    // exactly n.
    let src = r#"
name = "mix"
duration = "600s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "poisson", rate_per_s = 100 }
attributes = { type = { order = 0.7, refund = 0.3 } }
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
name = "orders"
topic = "t"
endpoint = "http:orders"
filter = { type = ["order"] }
[[subscription]]
name = "refunds"
topic = "t"
endpoint = "http:refunds"
filter = { type = ["refund"] }
"#;
    for seed in [3, 4] {
        let out = run(src, seed);
        assert_balanced(&out);
        let n = metric(&out, "topic.t.published");
        let orders = metric(&out, "subscription.orders.deliveries");
        assert_binomial("orders", orders, n, 0.7);
        assert_eq!(orders + metric(&out, "subscription.refunds.deliveries"), n);
    }
}

#[test]
fn every_filter_operator_on_a_run() {
    // Attributes: type ∈ {order .5, refund .3, void .2}; amount ~ Uniform[0, 500);
    // store ∈ {eu-west .5, us-east .25, eu-north .25}; coupon = SAVE10 in 40% of the
    // messages. Body: tier ∈ {gold .1, silver .9}. Expected match probabilities:
    //   exact type = order                         0.5
    //   anything-but order                         0.5  (exactly the complement)
    //   prefix "eu-"                               0.75
    //   suffix "-east"                             0.25
    //   numeric (100, 200]                         0.2
    //   exists coupon                              0.4
    //   exists = false coupon                      0.6  (exactly the complement)
    //   $or: type = void OR amount > 450           0.2 + 0.8 × 0.1 = 0.28
    //   body tier = gold                           0.1
    //   equals-ignore-case ORDER                   0.5  (the same messages as exact)
    let src = r#"
name = "ops"
duration = "400s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "poisson", rate_per_s = 100 }
attributes = { type = { order = 0.5, refund = 0.3, void = 0.2 }, amount = { dist = "uniform", min = 0, max = 500 }, store = { eu-west = 0.5, us-east = 0.25, eu-north = 0.25 }, coupon = { values = { SAVE10 = 1 }, present = 0.4 } }
body = { tier = { gold = 0.1, silver = 0.9 } }
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
name = "exact"
topic = "t"
endpoint = "http:1"
filter = { type = ["order"] }
[[subscription]]
name = "anything-but"
topic = "t"
endpoint = "http:2"
filter = { type = [{ anything-but = ["order"] }] }
[[subscription]]
name = "prefix"
topic = "t"
endpoint = "http:3"
filter = { store = [{ prefix = "eu-" }] }
[[subscription]]
name = "suffix"
topic = "t"
endpoint = "http:4"
filter = { store = [{ suffix = "-east" }] }
[[subscription]]
name = "numeric"
topic = "t"
endpoint = "http:5"
filter = { amount = [{ numeric = [">", 100, "<=", 200] }] }
[[subscription]]
name = "exists"
topic = "t"
endpoint = "http:6"
filter = { coupon = [{ exists = true }] }
[[subscription]]
name = "not-exists"
topic = "t"
endpoint = "http:7"
filter = { coupon = [{ exists = false }] }
[[subscription]]
name = "or"
topic = "t"
endpoint = "http:8"
filter = { "$or" = [{ type = ["void"] }, { amount = [{ numeric = [">", 450] }] }] }
[[subscription]]
name = "body"
topic = "t"
endpoint = "http:9"
filter_scope = "body"
filter = { tier = ["gold"] }
[[subscription]]
name = "ignore-case"
topic = "t"
endpoint = "http:10"
filter = { type = [{ equals-ignore-case = "ORDER" }] }
"#;
    let out = run(src, 11);
    assert_balanced(&out);
    let n = metric(&out, "topic.t.published");
    let d = |s: &str| metric(&out, &format!("subscription.{s}.deliveries"));
    for (s, p) in [
        ("exact", 0.5),
        ("anything-but", 0.5),
        ("prefix", 0.75),
        ("suffix", 0.25),
        ("numeric", 0.2),
        ("exists", 0.4),
        ("not-exists", 0.6),
        ("or", 0.28),
        ("body", 0.1),
    ] {
        assert_binomial(s, d(s), n, p);
    }
    assert_eq!(d("exact") + d("anything-but"), n);
    assert_eq!(d("exists") + d("not-exists"), n);
    assert_eq!(d("ignore-case"), d("exact"));
    // Payload-based filtering scans every published message's bytes once (one body
    // policy): 1 KiB each.
    assert_eq!(metric(&out, "topic.t.payload_filter_bytes"), n * 1024.0);
}

/// Attempts a delivery needs when its endpoint is down until `end`, first attempted at `t`
/// (seconds), with `delays` the policy's waits after attempts 1, 2, …; `None` when the
/// policy runs out first.
fn attempts_until(t: f64, end: f64, delays: &[f64]) -> Option<u64> {
    let mut at = t;
    let mut n = 1u64;
    for d in delays {
        if at >= end {
            return Some(n);
        }
        at += d;
        n += 1;
    }
    (at >= end).then_some(n)
}

const HTTP_DOWN: &str = r#"
name = "http-down"
duration = "1800s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 1 }
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
name = "hook"
topic = "t"
endpoint = "https:partner"
outages = [{ from = "0s", for = "OUTAGE" }]
jitter = 0
POLICY
DLQ
[[queue]]
name = "dlq"
"#;

fn http_down(outage: &str, policy: &str, dlq: &str) -> String {
    HTTP_DOWN
        .replace("OUTAGE", outage)
        .replace("POLICY", policy)
        .replace("DLQ", dlq)
}

#[test]
fn http_endpoint_down_for_five_minutes_gets_everything_through_retries() {
    // One message a second at t = 0, 1, …, 1800 (1,801). The endpoint is down on
    // [0, 300 s). Policy: 20 retries 30 s apart (linear, 600 s in all ≤ 3,600 s), no
    // jitter. A message first tried at t < 300 is tried at t, t + 30, t + 60, … and gets
    // through at the first attempt at or after 300 s: 1 + ⌈(300 − t)/30⌉ attempts, at
    // most 11 (t = 0); later messages need one. Nothing is lost.
    let src = http_down(
        "5m",
        r#"delivery_policy = { num_retries = 20, min_delay = "30s", max_delay = "30s" }"#,
        "",
    );
    let out = run(&src, 1);
    assert_balanced(&out);
    let delays = vec![30.0; 20];
    let mut want_attempts = 0u64;
    for t in 0..=1800u64 {
        want_attempts += attempts_until(t as f64, 300.0, &delays).expect("within the policy");
    }
    let n = 1801.0;
    assert_eq!(metric(&out, "topic.t.published"), n);
    assert_eq!(metric(&out, "subscription.hook.deliveries"), n);
    assert_eq!(metric(&out, "subscription.hook.lost"), 0.0);
    assert_eq!(
        metric(&out, "subscription.hook.attempts"),
        want_attempts as f64
    );
    assert_eq!(metric(&out, "subscription.hook.attempts_max"), 11.0);
    assert_eq!(
        metric(&out, "subscription.hook.retries"),
        want_attempts as f64 - n
    );
    assert_eq!(
        metric(&out, "subscription.hook.delivery_failures"),
        want_attempts as f64 - n
    );
    // With the default jitter (±10%) the count per message varies, but every message still
    // gets through within the policy's 21 attempts.
    let jittered = src.replace("jitter = 0\n", "");
    let out = run(&jittered, 2);
    assert_balanced(&out);
    assert_eq!(metric(&out, "subscription.hook.deliveries"), n);
    assert_eq!(metric(&out, "subscription.hook.lost"), 0.0);
    let max = metric(&out, "subscription.hook.attempts_max");
    assert!((10.0..=12.0).contains(&max), "{max}");
}

#[test]
fn http_endpoint_down_longer_than_the_policy_loses_exactly_the_exhausted_messages() {
    // Default HTTP/S policy: 3 retries 20 s apart, so a message is tried at t, t + 20,
    // t + 40, t + 60. Down on [0, 600 s): a message gets through iff t + 60 ≥ 600, i.e.
    // t ≥ 540. Messages at t = 0 … 539 (540 of them) run out of retries; the other 1,261
    // get through.
    let out = run(&http_down("10m", "", ""), 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "subscription.hook.lost"), 540.0);
    assert_eq!(metric(&out, "subscription.hook.deliveries"), 1261.0);
    assert_eq!(out.summary.accounting.lost, 540);
    let delays = [20.0, 20.0, 20.0];
    let mut want = 0u64;
    for t in 0..=1800u64 {
        want += attempts_until(t as f64, 600.0, &delays).unwrap_or(4);
    }
    assert_eq!(metric(&out, "subscription.hook.attempts"), want as f64);
    // With a dead-letter queue the same 540 are dead-lettered instead of lost, and wait
    // there.
    let out = run(&http_down("10m", "", r#"dead_letter = "sqs:dlq""#), 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "subscription.hook.lost"), 0.0);
    assert_eq!(metric(&out, "subscription.hook.dead_lettered"), 540.0);
    assert_eq!(metric(&out, "queue.dlq.backlog"), 540.0);
    assert_eq!(out.summary.accounting.dead_lettered, 540);
    assert_eq!(out.summary.accounting.lost, 0);
}

#[test]
fn sqs_endpoint_outage_is_retried_by_the_aws_managed_policy() {
    // An SQS subscription whose queue is unreachable on [0, 120 s); one message a second
    // for 300 s. The AWS-managed policy (3 immediate, 2 at 1 s, 10 from 1 s to 20 s,
    // 100,000 at 20 s) keeps retrying: every message gets through, each after exactly
    // the attempts that the documented schedule needs to reach 120 s.
    let src = r#"
name = "sqs-down"
duration = "300s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 1 }
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
name = "s"
topic = "t"
endpoint = "sqs:q"
outages = [{ from = "0s", for = "120s" }]
jitter = 0
[[queue]]
name = "q"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let policy = Protocol::Sqs.default_policy(&SnsLimits::default());
    let delays: Vec<f64> = (1..=40)
        .map(|a| {
            policy
                .delay_after(a)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)
        })
        .collect();
    let mut want = 0u64;
    let mut most = 0u64;
    for t in 0..=300u64 {
        let a = attempts_until(t as f64, 120.0, &delays).expect("within 40 attempts");
        want += a;
        most = most.max(a);
    }
    // t = 0: 4 attempts at 0 s, then 1, 2, then the backoff 1 → 20 s reaches 70.1 s after
    // 15 retries, then 90.1, 110.1, 130.1 s: 19 attempts.
    assert_eq!(most, 19);
    assert_eq!(metric(&out, "subscription.s.deliveries"), 301.0);
    assert_eq!(metric(&out, "subscription.s.attempts"), want as f64);
    assert_eq!(metric(&out, "subscription.s.attempts_max"), most as f64);
    assert_eq!(metric(&out, "queue.q.sent"), 301.0);
}

#[test]
fn fifo_topic_into_fifo_queue_keeps_group_order_end_to_end() {
    // A FIFO topic with 20 message groups feeds a FIFO queue through a subscription whose
    // delivery latency varies (lognormal) and whose endpoint fails 30% of attempts, so
    // retries happen all the time. SNS holds a group's later messages until the earlier
    // one is delivered, and the queue and its workers keep the order: no worker ever
    // processes a message of a group after a later one (order_violations = 0). A second
    // subscription to a standard queue gets every message too.
    //
    // Publishing takes no time here: the producer sends each message without waiting for
    // the previous one's response, so with a random publish latency two messages could
    // reach the topic in the other order, and the topic orders what it receives (as an
    // SQS FIFO queue does; see models/fifo-payments.toml). Zero publish latency makes the
    // creation order the publish order, which SNS must then keep.
    let src = r#"
name = "fifo"
duration = "300s"
warmup = "10s"
[[producer]]
name = "p"
target = "sns:orders.fifo"
load = { process = "poisson", rate_per_s = 50 }
group = { dist = "uniform", keys = 20 }
[[topic]]
name = "orders.fifo"
kind = "fifo"
api_latency = "0ms"
[[subscription]]
name = "ordered"
topic = "orders.fifo"
endpoint = "sqs:orders.fifo"
failure_probability = 0.3
[[subscription]]
name = "copy"
topic = "orders.fifo"
endpoint = "sqs:copy"
[[queue]]
name = "orders.fifo"
kind = "fifo"
[[queue]]
name = "copy"
[[consumer]]
name = "w"
source = "sqs:orders.fifo"
workers = 8
receive = { max_messages = 10, wait = "20s" }
service_time = { dist = "exponential", mean = "20ms" }
[[consumer]]
name = "c"
source = "sqs:copy"
workers = 4
receive = { max_messages = 10, wait = "20s" }
service_time = "1ms"
"#;
    for seed in [1, 2] {
        let out = run(src, seed);
        assert_balanced(&out);
        assert!(metric(&out, "subscription.ordered.retries") > 1000.0);
        assert_eq!(metric(&out, "consumer.w.order_violations"), 0.0);
        let processed = metric(&out, "consumer.w.processed");
        assert!(processed > 0.9 * metric(&out, "topic.orders.fifo.published"));
        assert_eq!(metric(&out, "subscription.ordered.lost"), 0.0);
    }
}

#[test]
fn fifo_topic_deduplicates_repeats_within_five_minutes() {
    // Half the messages are published a second time 30 s later (inside the 5-minute
    // deduplication interval): the topic drops every repeat, so deliveries = published
    // = generated and deduplicated = resent.
    let src = r#"
name = "dedup"
duration = "300s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t.fifo"
load = { process = "poisson", rate_per_s = 20 }
group = { dist = "uniform", keys = 5 }
resend = { probability = 0.5, after = "30s" }
[[topic]]
name = "t.fifo"
kind = "fifo"
delivery_latency = "0ms"
[[subscription]]
topic = "t.fifo"
endpoint = "sqs:q"
[[queue]]
name = "q"
"#;
    let out = run(src, 5);
    assert_balanced(&out);
    let resent = metric(&out, "producer.p.resent");
    assert!(resent > 1000.0);
    // Resends still in flight at the end (published in the last 30 s) are not yet
    // deduplicated: compare with those that reached the topic.
    let dedup = metric(&out, "topic.t.fifo.deduplicated");
    assert!(
        dedup <= resent && dedup >= resent - 20.0 * 30.0 * 0.5 * 1.5,
        "{dedup} vs {resent}"
    );
    assert_eq!(
        metric(&out, "topic.t.fifo.published"),
        metric(&out, "topic.t.fifo.deliveries")
    );
    assert_eq!(out.summary.accounting.deduplicated as f64, dedup);
}

#[test]
fn regional_publish_quota_throttles_the_excess() {
    // A quota of 100 msg/s (overridden from 30,000) against 150 msg/s offered for 120 s:
    // the bucket (100 tokens, 100/s) admits 100 + 100·120 ≈ 12,100 messages at most; the
    // rest is throttled and retried by the SDK (3 attempts), then dropped.
    let src = r#"
name = "quota"
duration = "120s"
api_latency = "0ms"
[limits.sns]
regional_publish_per_s = 100
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 150 }
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
topic = "t"
endpoint = "http:x"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let published = metric(&out, "topic.t.published");
    assert!(published <= 100.0 + 100.0 * 120.0 + 1.0, "{published}");
    assert!(published >= 0.95 * 100.0 * 120.0, "{published}");
    assert!(metric(&out, "topic.t.throttled") > 0.0);
    assert!(metric(&out, "producer.p.retries") > 0.0);
    assert!(metric(&out, "producer.p.dropped") > 0.0);
}

#[test]
fn fifo_topic_scope_admits_three_thousand_messages_a_second() {
    // Topic scope: 3,000 msg/s per topic. 4,000 msg/s offered for 10 s: at most
    // 3,000 + 3,000·10 = 33,000 published; the message-group scope has only the regional
    // 30,000 msg/s and takes everything.
    let src = r#"
name = "fifo-rate"
duration = "10s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t.fifo"
load = { process = "constant", rate_per_s = 4000 }
group = { dist = "uniform", keys = 100 }
retry = { max_attempts = 1 }
[[topic]]
name = "t.fifo"
kind = "fifo"
SCOPE
delivery_latency = "0ms"
[[subscription]]
topic = "t.fifo"
endpoint = "sqs:q"
[[queue]]
name = "q"
"#;
    let out = run(&src.replace("SCOPE", ""), 1);
    assert_balanced(&out);
    let published = metric(&out, "topic.t.fifo.published");
    assert!((30_000.0..=33_001.0).contains(&published), "{published}");
    assert!(metric(&out, "topic.t.fifo.throttled") > 0.0);
    let out = run(
        &src.replace("SCOPE", "throughput_scope = \"message_group\""),
        1,
    );
    assert_eq!(metric(&out, "topic.t.fifo.throttled"), 0.0);
    assert_eq!(metric(&out, "topic.t.fifo.published"), 40_001.0);
}

#[test]
fn lambda_subscription_retries_failed_invocations_twice() {
    // SNS invokes the function asynchronously; each invocation fails with probability
    // 0.5 and Lambda retries a failed event twice (after 1 and 2 minutes), so an event is
    // lost with probability 0.5³ = 0.125 and processed with 0.875. Events still queued or
    // retrying at the end are neither; among the decided ones the loss rate is
    // Binomial(n, 0.125).
    let src = r#"
name = "lambda"
duration = "1800s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "poisson", rate_per_s = 10 }
[[topic]]
name = "t"
[[subscription]]
topic = "t"
endpoint = "lambda:f"
[[lambda]]
name = "f"
duration = "20ms"
failure_probability = 0.5
"#;
    let out = run(src, 7);
    assert_balanced(&out);
    let lost = metric(&out, "lambda.f.async_lost");
    let processed = metric(&out, "lambda.f.processed");
    assert_binomial("lost events", lost, lost + processed, 0.125);
    assert_eq!(metric(&out, "subscription.t-lambda-f.lost"), 0.0);
    assert_eq!(
        metric(&out, "lambda.f.async_events"),
        metric(&out, "topic.t.deliveries")
    );
    // The measured SNS → Lambda latency (p50 73 ms, https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/) is the default
    // delivery latency; the function's 20 ms comes on top, plus cold starts.
    let p50 = metric(&out, "subscription.t-lambda-f.latency_s.p50");
    assert!((0.065..0.082).contains(&p50), "{p50}");
}

#[test]
fn raw_delivery_and_the_json_envelope_change_the_delivered_size() {
    // 2 KiB messages: a raw subscription delivers 2,048 bytes each, a non-raw one
    // 2,048 + 1,024 (the envelope estimate) = 3,072.
    let src = r#"
name = "raw"
duration = "60s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 10 }
size = "2KB"
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
name = "raw"
topic = "t"
endpoint = "sqs:a"
raw_message_delivery = true
[[subscription]]
name = "wrapped"
topic = "t"
endpoint = "sqs:b"
[[queue]]
name = "a"
[[queue]]
name = "b"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let n = metric(&out, "topic.t.published");
    assert_eq!(metric(&out, "subscription.raw.delivered_bytes"), n * 2048.0);
    assert_eq!(
        metric(&out, "subscription.wrapped.delivered_bytes"),
        n * 3072.0
    );
}

#[test]
fn large_messages_bill_64_kib_chunks_and_publish_batch_groups_calls() {
    // A 1 MiB topic takes 512 KiB messages: each Publish is 8 chunks of 64 KiB. A
    // PublishBatch of 10 × 1 KiB is one call and one billed request.
    let src = r#"
name = "large"
duration = "60s"
api_latency = "0ms"
[[producer]]
name = "big"
target = "sns:large"
load = { process = "constant", rate_per_s = 1 }
size = "512KiB"
[[producer]]
name = "small"
target = "sns:small"
load = { process = "constant", rate_per_s = 100 }
size = "1KB"
batch = 10
linger = "1s"
[[topic]]
name = "large"
max_message_size = "1MiB"
delivery_latency = "0ms"
[[topic]]
name = "small"
delivery_latency = "0ms"
[[subscription]]
topic = "large"
endpoint = "sqs:q"
raw_message_delivery = true
[[subscription]]
topic = "small"
endpoint = "http:h"
[[queue]]
name = "q"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let big = metric(&out, "topic.large.published");
    assert_eq!(big, 61.0);
    assert_eq!(metric(&out, "topic.large.publish_requests"), 8.0 * big);
    // The SQS send of each (raw) delivery is billed by its chunks too; the queue has no
    // consumer, so those are its only requests.
    assert_eq!(metric(&out, "queue.q.api_requests"), 8.0 * big);
    let small = metric(&out, "topic.small.published");
    let calls = metric(&out, "topic.small.publish_calls");
    assert_eq!(calls, (small / 10.0).ceil());
    assert_eq!(metric(&out, "topic.small.publish_requests"), calls);
}

#[test]
fn bill_prices_publishes_and_deliveries() {
    // 10 msg/s of 1 KiB for 600 s = 6,001 publishes (1 request each) delivered to one
    // HTTP endpoint and one SQS queue. A month of 730 h scales the window by
    // 730·3600/600 = 4,380: 6,001 × 4,380 publishes at $0.50/M plus the same number of
    // HTTP deliveries at $0.60/M (SQS deliveries are free): $1.10/M × 26,284,380.
    let src = r#"
name = "bill"
duration = "600s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 10 }
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
topic = "t"
endpoint = "http:h"
[[subscription]]
topic = "t"
endpoint = "sqs:q"
[[queue]]
name = "q"
"#;
    let out = run(src, 1);
    let scaled = 6001.0 * 730.0 * 3600.0 / 600.0;
    let want = scaled * 0.5e-6 + scaled * 0.6e-6;
    let sns = metric(&out, "cost.services.sns");
    assert!((sns - want).abs() < 1e-6, "{sns} vs {want}");
    assert_eq!(out.usage.sns.len(), 1);
    assert_eq!(out.usage.sns[0].publish_requests, 6001);

    // The same load on a FIFO topic with one SQS subscription: publishes at $0.30/M plus
    // $0.017/GB of payload, deliveries at $0.01/M plus $0.001/GB (the payload, without the
    // envelope the non-raw delivery adds). 6,001 × 1 KiB = 6,001 / 2^20 GB per window.
    let fifo = src
        .replace("name = \"t\"\n", "name = \"t.fifo\"\nkind = \"fifo\"\n")
        .replace("sns:t", "sns:t.fifo")
        .replace("topic = \"t\"\nendpoint = \"http:h\"\n[[subscription]]\n", "")
        .replace("topic = \"t\"", "topic = \"t.fifo\"")
        .replace(
            "load = { process = \"constant\", rate_per_s = 10 }",
            "load = { process = \"constant\", rate_per_s = 10 }\ngroup = { dist = \"uniform\", keys = 4 }",
        );
    let out = run(&fifo, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "topic.t.fifo.deliveries"), 6001.0);
    let gb = scaled * 1024.0 / (1u64 << 30) as f64;
    let want = scaled * 0.30e-6 + gb * 0.017 + scaled * 0.01e-6 + gb * 0.001;
    let sns = metric(&out, "cost.services.sns");
    assert!((sns - want).abs() < 1e-9, "{sns} vs {want}");
}

#[test]
fn runs_are_a_function_of_model_and_seed() {
    let src = std::fs::read_to_string(model_path("sns-fanout.toml")).expect("bundled model");
    let a = run(&src.replace("duration = \"1h\"", "duration = \"5m\""), 9);
    let b = run(&src.replace("duration = \"1h\"", "duration = \"5m\""), 9);
    let strip = |o: &aqueduct::engine::RunOutput| {
        let mut s = o.summary.clone();
        s.wall_s = 0.0;
        serde_json::to_string(&s).expect("serialises")
    };
    assert_eq!(strip(&a), strip(&b));
    let c = run(&src.replace("duration = \"1h\"", "duration = \"5m\""), 10);
    assert_ne!(strip(&a), strip(&c));
}

fn model_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name)
}

#[test]
fn bundled_fan_out_model_runs_and_balances() {
    // models/sns-fanout.toml: 300 orders/s into a topic; billing takes type = order (70%),
    // refunds type = refund (30%), analytics everything. Each pool keeps up, so its
    // processed count tracks its subscription's deliveries.
    let arch = aqueduct::model::load_file(&model_path("sns-fanout.toml")).expect("valid");
    let out = aqueduct::engine::run(&arch, arch.seed).expect("runs");
    assert_balanced(&out);
    let n = metric(&out, "topic.orders.published");
    assert!(n > 900_000.0, "{n}");
    assert_binomial(
        "billing",
        metric(&out, "subscription.billing.matched"),
        n,
        0.7,
    );
    assert_eq!(
        metric(&out, "subscription.billing.matched") + metric(&out, "subscription.refunds.matched"),
        n
    );
    assert_eq!(metric(&out, "subscription.analytics.matched"), n);
    for (sub, pool) in [
        ("billing", "billing-workers"),
        ("refunds", "refund-workers"),
        ("analytics", "analytics-workers"),
    ] {
        let d = metric(&out, &format!("subscription.{sub}.deliveries"));
        let p = metric(&out, &format!("consumer.{pool}.processed"));
        assert!(
            (p - d).abs() <= 0.002 * d + 50.0,
            "{pool}: {p} vs {sub}: {d}"
        );
    }
    assert!(metric(&out, "cost.services.sns") > 0.0);
    assert!(
        out.summary.warnings.is_empty(),
        "{:?}",
        out.summary.warnings
    );
}

// ----- bad input through the binary ----------------------------------------------------

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("aqueduct-sns-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Runs `validate` and `run` on `text`: exit code 2, no panic, one line naming the file
/// and every needle.
fn rejects(name: &str, text: &str, needles: &[&str]) {
    let dir = scratch(name);
    let path = dir.join("model.toml");
    std::fs::write(&path, text).expect("write");
    for cmd in ["validate", "run"] {
        let out = Command::new(env!("CARGO_BIN_EXE_aqueduct"))
            .args([cmd, path.to_str().expect("utf-8 path")])
            .output()
            .expect("the binary runs");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{name} ({cmd}): {err}");
        assert!(!err.contains("panicked"), "{name}: panic: {err}");
        assert!(err.contains(&path.display().to_string()), "{name}: {err}");
        for n in needles {
            assert!(err.contains(n), "{name}: expected {n:?} in: {err}");
        }
        assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
    }
}

const BASE: &str = r#"name = "bad"
duration = "1m"

[[producer]]
name = "p"
target = "sns:t"
load = { process = "poisson", rate_per_s = 10 }
attributes = { a = { x = 1 } }

[[topic]]
name = "t"

[[queue]]
name = "q"
"#;

#[test]
fn filter_policy_with_six_keys() {
    rejects(
        "six-keys",
        &format!("{BASE}\n[[subscription]]\ntopic = \"t\"\nendpoint = \"sqs:q\"\nfilter = {{ a = [\"1\"], b = [\"1\"], c = [\"1\"], d = [\"1\"], e = [\"1\"], f = [\"1\"] }}\n"),
        &["model.toml:19", "filter", "6 keys", "at most 5", "subscription-filter-policy-constraints"],
    );
}

#[test]
fn filter_policy_with_too_many_combinations() {
    rejects(
        "combinations",
        &format!("{BASE}\n[[subscription]]\ntopic = \"t\"\nendpoint = \"sqs:q\"\nfilter = {{ a = [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\"], b = [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\"], c = [\"1\",\"2\"] }}\n"),
        &["160 value combinations", "at most 150"],
    );
}

#[test]
fn filter_policy_with_a_bad_operator_names_the_key() {
    rejects(
        "bad-operator",
        &format!("{BASE}\n[[subscription]]\ntopic = \"t\"\nendpoint = \"sqs:q\"\nfilter = {{ a = [{{ numeric = [\">\", 1, \">\", 2] }}] }}\n"),
        &["model.toml:19", "filter.a[0].numeric[2]", "two lower bounds"],
    );
}

#[test]
fn fifo_topic_subscribed_by_a_lambda_or_an_http_endpoint() {
    let fifo = r#"name = "bad"
duration = "1m"

[[topic]]
name = "t.fifo"
kind = "fifo"

[[lambda]]
name = "f"
duration = "10ms"

[[subscription]]
topic = "t.fifo"
endpoint = "ENDPOINT"
"#;
    rejects(
        "fifo-lambda",
        &fifo.replace("ENDPOINT", "lambda:f"),
        &[
            "model.toml:14",
            "delivers only to SQS queues",
            "fifo-message-delivery",
        ],
    );
    rejects(
        "fifo-http",
        &fifo.replace("ENDPOINT", "https:partner"),
        &[
            "model.toml:14",
            "delivers only to SQS queues",
            "not to http",
        ],
    );
}

#[test]
fn subscription_to_a_topic_that_does_not_exist() {
    rejects(
        "no-topic",
        &format!("{BASE}\n[[subscription]]\ntopic = \"nope\"\nendpoint = \"sqs:q\"\n"),
        &[
            "model.toml:17",
            "no topic called \"nope\"",
            "defined: \"t\"",
        ],
    );
}

#[test]
fn message_larger_than_the_topic_allows() {
    rejects(
        "too-large",
        &BASE.replace(
            "load = { process = \"poisson\", rate_per_s = 10 }",
            "load = { process = \"poisson\", rate_per_s = 10 }\nsize = \"300KB\"",
        ),
        &[
            "model.toml:8",
            "300KiB",
            "maximum message size of 256KiB",
            "large-message-payloads",
        ],
    );
    // A 1 MiB topic takes them, but then only SQS, Firehose and Lambda may subscribe.
    let large = BASE
        .replace(
            "name = \"t\"\n",
            "name = \"t\"\nmax_message_size = \"1MiB\"\n",
        )
        .replace(
            "load = { process = \"poisson\", rate_per_s = 10 }",
            "load = { process = \"poisson\", rate_per_s = 10 }\nsize = \"300KB\"",
        );
    rejects(
        "large-http",
        &format!("{large}\n[[subscription]]\ntopic = \"t\"\nendpoint = \"http:x\"\n"),
        &["only SQS, Firehose and Lambda", "large-message-payloads"],
    );
    rejects(
        "above-1mib",
        &BASE.replace(
            "name = \"t\"\n",
            "name = \"t\"\nmax_message_size = \"2MiB\"\n",
        ),
        &["maximum message size 2MiB is outside AWS's limits of 1KiB to 1MiB"],
    );
}

#[test]
fn delivery_policies_outside_aws_limits() {
    // 100 retries of 60 s = 6,000 s, above the 3,600 s hard limit.
    rejects(
        "http-too-long",
        &format!("{BASE}\n[[subscription]]\ntopic = \"t\"\nendpoint = \"http:x\"\ndelivery_policy = {{ num_retries = 100, min_delay = \"60s\", max_delay = \"60s\" }}\n"),
        &["model.toml:19", "retries for 100m in all", "total retry time is 1h", "sns-message-delivery-retries"],
    );
    rejects(
        "policy-on-sqs",
        &format!("{BASE}\n[[subscription]]\ntopic = \"t\"\nendpoint = \"sqs:q\"\ndelivery_policy = {{ num_retries = 5 }}\n"),
        &["only HTTP/S subscriptions take a delivery policy"],
    );
    rejects(
        "fifo-queue-standard-topic",
        &(BASE.replace(
            "[[queue]]\nname = \"q\"",
            "[[queue]]\nname = \"q.fifo\"\nkind = \"fifo\"",
        ) + "\n[[subscription]]\ntopic = \"t\"\nendpoint = \"sqs:q.fifo\"\n"),
        &["only a FIFO topic can deliver to it"],
    );
}

#[test]
fn email_outage_is_retried_by_the_customer_managed_policy() {
    // An email endpoint down on [0, 15 min); one message every 10 s for an hour. The
    // customer-managed policy (no immediate retries; 2 at 10 s; 10 from 10 s to 600 s; 38
    // at 600 s) reaches past 15 minutes for every message, each after the attempts the
    // documented schedule needs.
    let src = r#"
name = "email-down"
duration = "3600s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 0.1 }
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
name = "mail"
topic = "t"
endpoint = "email:ops"
outages = [{ from = "0s", for = "15m" }]
jitter = 0
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let policy = Protocol::Email.default_policy(&SnsLimits::default());
    let delays: Vec<f64> = (1..=50)
        .map(|a| {
            policy
                .delay_after(a)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)
        })
        .collect();
    let mut want = 0u64;
    for k in 0..=360u64 {
        want += attempts_until(k as f64 * 10.0, 900.0, &delays).expect("within the policy");
    }
    assert_eq!(metric(&out, "subscription.mail.deliveries"), 361.0);
    assert_eq!(metric(&out, "subscription.mail.attempts"), want as f64);
    assert_eq!(metric(&out, "topic.t.deliveries_by_protocol.email"), 361.0);
}

#[test]
fn max_receives_per_second_spaces_http_deliveries() {
    // 10 msg/s offered to an endpoint that takes 4/s: deliveries are spaced 250 ms apart,
    // so over 60 s at most 4·60 + 1 = 241 get through and the rest wait their turn
    // (pending, in transit), none lost.
    let src = r#"
name = "throttle"
duration = "60s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 10 }
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
name = "h"
topic = "t"
endpoint = "http:slow"
delivery_policy = { max_receives_per_second = 4 }
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let delivered = metric(&out, "subscription.h.deliveries");
    assert!((240.0..=241.0).contains(&delivered), "{delivered}");
    assert_eq!(
        metric(&out, "subscription.h.pending"),
        metric(&out, "topic.t.published") - delivered
    );
    assert!(metric(&out, "subscription.h.throttled") > 300.0);
    assert_eq!(out.summary.accounting.in_transit as f64, 601.0 - delivered);
}

#[test]
fn a_queue_refusing_a_large_message_is_a_client_error_without_retries() {
    // The queue takes at most 2 KiB; 2 KiB messages plus the 1 KiB envelope do not fit.
    // SNS does not retry client errors: each message goes to the subscription's
    // dead-letter queue after one attempt.
    let src = r#"
name = "client-error"
duration = "60s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 1 }
size = "2KB"
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
name = "s"
topic = "t"
endpoint = "sqs:small"
dead_letter = "sqs:dlq"
[[queue]]
name = "small"
max_message_size = "2KiB"
[[queue]]
name = "dlq"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let n = metric(&out, "topic.t.published");
    assert_eq!(metric(&out, "subscription.s.client_errors"), n);
    assert_eq!(metric(&out, "subscription.s.attempts"), n);
    assert_eq!(metric(&out, "subscription.s.dead_lettered"), n);
    assert_eq!(metric(&out, "queue.dlq.backlog"), n);
    assert_eq!(metric(&out, "queue.small.rejected_too_large"), n);
    // The model warns that such messages cannot fit.
    assert!(out
        .summary
        .warnings
        .iter()
        .any(|w| w.contains("larger ones fail")));
}

#[test]
fn an_overloaded_function_queues_events_and_drops_the_too_old() {
    // 20 events/s into a function that runs one invocation of 200 ms at a time (5/s): the
    // event queue grows by about 15/s. With the maximum event age lowered to 1 minute
    // (from 6 hours), events that waited longer are dropped as lost. Invocations never
    // overlap beyond the reserved concurrency of 1.
    let src = r#"
name = "overload"
duration = "600s"
api_latency = "0ms"
[limits.lambda]
async_max_event_age = "1m"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "poisson", rate_per_s = 20 }
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
topic = "t"
endpoint = "lambda:f"
[[lambda]]
name = "f"
duration = "200ms"
cold_start = "0ms"
reserved_concurrency = 1
"#;
    let out = run(src, 3);
    assert_balanced(&out);
    assert_eq!(metric(&out, "lambda.f.concurrency_max"), 1.0);
    // At most 5 invocations a second: 600 s × 5 = 3,000 (+1 for the boundary).
    let processed = metric(&out, "lambda.f.processed");
    assert!((2990.0..=3001.0).contains(&processed), "{processed}");
    let expired = metric(&out, "lambda.f.async_expired");
    assert!(expired > 5000.0, "{expired}");
    // Whatever waits at the end waited less than a minute: at most about 60 s × 20/s.
    assert!(metric(&out, "lambda.f.async_queued") < 1500.0);
    assert_eq!(out.summary.accounting.lost as f64, expired);
}

#[test]
fn a_large_message_topic_takes_at_most_100_subscriptions() {
    // A topic allowing 1 MiB messages may have 100 subscriptions; the 101st is refused.
    let mut text = BASE.replace(
        "name = \"t\"\n",
        "name = \"t\"\nmax_message_size = \"1MiB\"\n",
    );
    for i in 0..101 {
        text.push_str(&format!(
            "\n[[queue]]\nname = \"q{i}\"\n[[subscription]]\ntopic = \"t\"\nendpoint = \"sqs:q{i}\"\n"
        ));
    }
    rejects(
        "101-subscriptions",
        &text,
        &["101 subscriptions", "at most 100", "large-message-payloads"],
    );
}

#[test]
fn publish_batches_close_before_the_topic_maximum() {
    // Messages of 100–140 KiB, batch = 2, topic maximum 256 KiB: a pair summing above
    // 256 KiB (18% of pairs) is sent as two Publish calls instead of being refused, so
    // every message is published and none is dropped.
    let src = r#"
name = "split"
duration = "200s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "constant", rate_per_s = 20 }
size = { dist = "uniform", min = "100KB", max = "140KB" }
batch = 2
linger = "1s"
[[topic]]
name = "t"
[[subscription]]
topic = "t"
endpoint = "sqs:q"
raw_message_delivery = true
[[queue]]
name = "q"
"#;
    let out = run(src, 5);
    assert_balanced(&out);
    assert_eq!(metric(&out, "producer.p.dropped"), 0.0);
    assert_eq!(metric(&out, "producer.p.rejected"), 0.0);
    let generated = metric(&out, "producer.p.generated");
    assert!((metric(&out, "topic.t.published") - generated).abs() <= 2.0);
}
