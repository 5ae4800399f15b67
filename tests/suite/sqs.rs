//! SQS semantics, one focused scenario each, with the expected outcome derived in a
//! comment. API latencies are zero unless a test says otherwise, so the arithmetic is
//! exact.

use crate::common::*;

#[test]
fn processing_longer_than_the_visibility_timeout_duplicates() {
    // Service time S ~ Uniform(0, 2 s), visibility timeout 1.5 s, plenty of idle workers.
    // A receive ends in a delete only if its processing finishes within 1.5 s:
    // p = P(S ≤ 1.5) = 0.75. Receives per message N ~ Geometric(p), E[N] = 1/p = 4/3, and
    // every receive's processing completes, so duplicates per deleted message
    // = E[N] − 1 = 1/3, and so are redeliveries.
    let src = r#"
name = "vt"
duration = "2000s"
warmup = "100s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "poisson", rate_per_s = 5 }
[[queue]]
name = "q"
visibility_timeout = "1500ms"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 40
receive = { max_messages = 1, wait = "20s" }
service_time = { dist = "uniform", min = "0s", max = "2s" }
"#;
    let mut dups = Vec::new();
    let mut redel = Vec::new();
    for seed in 0..10 {
        let out = run(src, 40 + seed);
        assert_balanced(&out);
        let deleted = metric(&out, "queue.q.deleted");
        dups.push(metric(&out, "consumer.w.duplicates") / deleted);
        redel.push(metric(&out, "queue.q.redelivered") / deleted);
    }
    assert_in_ci("duplicates per message", &dups, 1.0 / 3.0, 0.99);
    assert_in_ci("redeliveries per message", &redel, 1.0 / 3.0, 0.99);
}

#[test]
fn always_failing_messages_reach_the_dlq_after_max_receive_count() {
    // 2 msg/s for 60 s (a trace) = 120 messages, every processing fails,
    // maxReceiveCount 3, visibility 1 s: each message is received exactly 3 times, then
    // moves to the DLQ. After 5 minutes all 120 are there: received = 360.
    let src = r#"
name = "dlq"
duration = "300s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "trace", file = "tests/data/sixty-two.csv" }
[[queue]]
name = "q"
visibility_timeout = "1s"
dead_letter = { queue = "dlq", max_receive_count = 3 }
[[queue]]
name = "dlq"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 4
receive = { max_messages = 1, wait = "20s" }
service_time = "100ms"
failure_probability = 1.0
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let sent = metric(&out, "queue.q.sent");
    assert_eq!(sent, 120.0);
    assert_eq!(metric(&out, "queue.q.dead_lettered"), sent);
    assert_eq!(metric(&out, "queue.q.received"), 3.0 * sent);
    assert_eq!(metric(&out, "queue.dlq.moved_in"), sent);
    assert_eq!(metric(&out, "queue.dlq.backlog"), sent);
    assert_eq!(out.summary.accounting.dead_lettered as f64, sent);
    assert_eq!(metric(&out, "consumer.w.processed"), 0.0);
}

#[test]
fn fifo_order_holds_per_group() {
    // 10^6 messages in 100 groups, 10 workers taking batches of 10, 1% failures (which
    // would reorder a careless consumer): successful processings per group must stay in
    // send order. High-throughput mode keeps the 300 TPS limit out of the way.
    let src = r#"
name = "fifo-order"
duration = "500s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:orders.fifo"
load = { process = "poisson", rate_per_s = 2000 }
batch = 10
linger = "0ms"
group = { dist = "uniform", keys = 100 }
[[queue]]
name = "orders.fifo"
kind = "fifo"
high_throughput = true
visibility_timeout = "2s"
[[consumer]]
name = "w"
source = "sqs:orders.fifo"
workers = 10
receive = { max_messages = 10, wait = "20s" }
service_time = { dist = "exponential", mean = "3ms" }
failure_probability = 0.01
delete = "batch"
"#;
    let out = run(src, 9);
    assert_balanced(&out);
    let processed = metric(&out, "consumer.w.processed");
    assert!(processed > 900_000.0, "processed {processed}");
    assert_eq!(metric(&out, "consumer.w.order_violations"), 0.0);
    assert!(metric(&out, "consumer.w.failed") > 5_000.0);
}

#[test]
fn fifo_throughput_limits() {
    // Non-high-throughput FIFO: 300 SendMessage calls/s. An unbatched producer offering
    // 500/s (constant, no retries) gets exactly 300/s through; the rest are throttled and
    // dropped. A producer batching 10 per call at 5,000 msg/s makes 500 calls/s and gets
    // 300 calls/s = 3,000 msg/s through.
    let model = |rate: u32, batch: u32| {
        format!(
            r#"
name = "fifo-tps"
duration = "100s"
warmup = "10s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q.fifo"
load = {{ process = "constant", rate_per_s = {rate} }}
batch = {batch}
linger = "1s"
group = {{ dist = "uniform", keys = 1000 }}
retry = {{ max_attempts = 1 }}
[[queue]]
name = "q.fifo"
kind = "fifo"
"#
        )
    };
    let out = run(&model(500, 1), 1);
    assert_balanced(&out);
    let sent = metric(&out, "queue.q.fifo.sent") / 100.0;
    assert!((sent - 300.0).abs() <= 0.5, "unbatched: {sent}/s");
    let dropped = metric(&out, "producer.p.dropped");
    assert!((dropped / 100.0 - 200.0).abs() <= 1.0, "dropped {dropped}");
    assert!(metric(&out, "queue.q.fifo.throttled") > 0.0);

    let out = run(&model(5000, 10), 1);
    assert_balanced(&out);
    let sent = metric(&out, "queue.q.fifo.sent") / 100.0;
    assert!((sent - 3000.0).abs() <= 10.0, "batched: {sent}/s");
}

#[test]
fn fifo_deduplicates_within_five_minutes() {
    // 60 messages (a trace of one per second for 60 s) each sent again after `after`. Within the 5-minute
    // deduplication interval the second send is accepted but not delivered; after 6
    // minutes it is a new message.
    let model = |after: &str| {
        format!(
            r#"
name = "dedup"
duration = "900s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q.fifo"
load = {{ process = "trace", file = "tests/data/sixty.csv" }}
group = {{ dist = "uniform", keys = 5 }}
resend = {{ probability = 1.0, after = "{after}" }}
[[queue]]
name = "q.fifo"
kind = "fifo"
[[consumer]]
name = "w"
source = "sqs:q.fifo"
workers = 2
receive = {{ wait = "20s" }}
service_time = "10ms"
"#
        )
    };
    let out = run(&model("4m"), 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "producer.p.generated"), 60.0);
    assert_eq!(metric(&out, "queue.q.fifo.deduplicated"), 60.0);
    assert_eq!(metric(&out, "consumer.w.processed"), 60.0);
    assert_eq!(out.summary.accounting.deduplicated, 60);

    let out = run(&model("6m"), 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "queue.q.fifo.deduplicated"), 0.0);
    assert_eq!(metric(&out, "consumer.w.processed"), 120.0);
    assert_eq!(metric(&out, "consumer.w.duplicates"), 60.0);
}

#[test]
fn empty_receives_of_idle_consumers() {
    // One short-polling worker with nothing to read, polling every 100 ms for a day:
    // polls at t = 0, 0.1 s, ..., 86,400 s = 864,001 empty receives (86,400 s ÷
    // 0.1 s = 864,000 a day, plus the poll at t = 0).
    let short = r#"
name = "idle"
duration = "1d"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:other"
load = { process = "constant", rate_per_s = 0.001 }
[[queue]]
name = "q"
[[queue]]
name = "other"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 1
receive = { wait = "0s" }
poll_interval = "100ms"
service_time = "1ms"
"#;
    let out = run(short, 1);
    assert_eq!(metric(&out, "queue.q.empty_receives"), 864_001.0);
    assert_eq!(metric(&out, "queue.q.api_requests"), 864_001.0);
    // Long polling: 3 workers each return empty every 20 s: over 1 h, receives end at
    // 20 s, 40 s, ..., 3,600 s = 180 per worker = 540.
    let long = short
        .replace("duration = \"1d\"", "duration = \"1h\"")
        .replace(
            "workers = 1\nreceive = { wait = \"0s\" }\npoll_interval = \"100ms\"",
            "workers = 3\nreceive = { wait = \"20s\" }",
        );
    let out = run(&long, 1);
    assert_eq!(metric(&out, "queue.q.empty_receives"), 540.0);
}

#[test]
fn short_polling_can_miss_messages_long_polling_does_not() {
    // A backlog of a few messages and short polls sampling half the servers: some polls
    // come back empty although messages are waiting; long polls never do while messages
    // are visible.
    let src = r#"
name = "sample"
duration = "600s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "poisson", rate_per_s = 2 }
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 1
receive = { wait = "0s", max_messages = 10 }
poll_interval = "1s"
service_time = "10ms"
"#;
    let out = run(src, 2);
    assert_balanced(&out);
    let receives = metric(&out, "queue.q.receive_calls");
    let empty = metric(&out, "queue.q.empty_receives");
    // With ~2 messages waiting per poll and p = 0.5, P(empty | B messages) = 0.5^B > 0.
    assert!(
        empty > 0.05 * receives && empty < 0.6 * receives,
        "{empty} of {receives}"
    );
}

#[test]
fn no_message_is_received_before_its_delay() {
    // Queue delay 10 s and a per-message delay of 12 s: nothing is received within 12 s
    // of its send (wait_s counts from the send).
    let src = r#"
name = "delay"
duration = "600s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "poisson", rate_per_s = 3 }
delay = "12s"
[[queue]]
name = "q"
delay = "10s"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 2
receive = { wait = "20s" }
service_time = "10ms"
"#;
    let out = run(src, 3);
    assert_balanced(&out);
    assert!(metric(&out, "queue.q.wait_s.min") >= 12.0);
    assert!(metric(&out, "queue.q.wait_s.max") < 12.1);
}

#[test]
fn retention_expiry_is_counted() {
    // 10 msg/s for 100 s (a trace) = 1,000 messages, retention 60 s, nobody reads them:
    // by the end (300 s) all 1,000 have expired.
    let src = r#"
name = "retention"
duration = "300s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "trace", file = "tests/data/thousand.csv" }
[[queue]]
name = "q"
retention = "60s"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "queue.q.expired"), 1000.0);
    assert_eq!(out.summary.accounting.expired, 1000);
}

#[test]
fn lambda_ramp_never_exceeds_5_plus_300_per_minute() {
    // A backlog builds at 3,000 msg/s against a function of 1 s per invocation: the mapping
    // scales its pollers, but never beyond 5 + 300·t/60 (5 more each second).
    let src = r#"
name = "ramp"
duration = "180s"
api_latency = "0ms"
sample_every = "1s"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "constant", rate_per_s = 3000 }
[[queue]]
name = "q"
visibility_timeout = "10m"
[[lambda]]
name = "fn"
source = "sqs:q"
batch_size = 10
duration = "1s"
timeout = "10s"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let pollers = out.series.column("lambda.fn.pollers").unwrap();
    let conc = out.series.column("lambda.fn.concurrency").unwrap();
    for (i, t) in out.series.t_s.iter().enumerate() {
        let bound = 5.0 + 300.0 * t / 60.0;
        assert!(
            pollers[i] <= bound + 1e-9,
            "t = {t}: {} pollers > {bound}",
            pollers[i]
        );
        assert!(
            conc[i] <= bound + 1e-9,
            "t = {t}: concurrency {} > {bound}",
            conc[i]
        );
    }
    // It does ramp: 300 concurrent batches of 10 msgs/s are needed; by 180 s
    // (5 + 5·179 = 900 allowed) it has reached that.
    assert!(metric(&out, "lambda.fn.concurrency_max") >= 300.0);
    assert!(metric(&out, "lambda.fn.cold_starts") >= 300.0);
}

#[test]
fn outage_redelivers_in_flight_messages() {
    // Workers go down at 200 s for 100 s while each holds a message being processed
    // (service 10 s): those messages are neither deleted nor lost; they reappear after
    // the 30 s visibility timeout and are processed after the outage.
    let src = r#"
name = "outage"
duration = "600s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "constant", rate_per_s = 0.5 }
[[queue]]
name = "q"
visibility_timeout = "30s"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 10
receive = { wait = "20s" }
service_time = "10s"
outages = [{ from = "200s", for = "100s" }]
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    // 5 messages in flight at 200 s are redelivered once each.
    assert_eq!(metric(&out, "queue.q.redelivered"), 5.0);
    // During the outage 50 messages queue up; the backlog peaks at 50 at 300 s.
    assert_eq!(metric(&out, "queue.q.backlog_max"), 55.0);
    assert_eq!(metric(&out, "consumer.w.duplicates"), 0.0);
}

#[test]
fn heartbeat_prevents_redelivery() {
    // Service 60 s against a 20 s visibility timeout: without a heartbeat every message is
    // redelivered; extending to 30 s every 10 s keeps them invisible.
    let model = |hb: &str| {
        format!(
            r#"
name = "hb"
duration = "1200s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = {{ process = "constant", rate_per_s = 0.05 }}
[[queue]]
name = "q"
visibility_timeout = "20s"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 10
receive = {{ wait = "20s" }}
service_time = "60s"
{hb}
"#
        )
    };
    let out = run(&model(""), 1);
    assert!(metric(&out, "queue.q.redelivered") > 20.0);
    let out = run(
        &model("heartbeat = { every = \"10s\", extend_to = \"30s\" }"),
        1,
    );
    assert_balanced(&out);
    assert_eq!(metric(&out, "queue.q.redelivered"), 0.0);
    assert_eq!(metric(&out, "consumer.w.duplicates"), 0.0);
    assert!(metric(&out, "queue.q.change_visibility_calls") > 0.0);
}

#[test]
fn autoscaling_follows_backlog() {
    // Target 10 visible messages per worker; a step from 20 to 200 msg/s at 10 min with
    // 100 ms processing needs ~20 workers: the pool must scale out, and back in after the
    // step down at 30 min.
    let src = r#"
name = "scale"
duration = "60m"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "steps", steps = [
  { at = "0s", rate_per_s = 20 }, { at = "10m", rate_per_s = 200 }, { at = "30m", rate_per_s = 20 },
] }
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 3
receive = { wait = "20s" }
service_time = "100ms"
autoscale = { min = 2, max = 50, target_backlog_per_worker = 10, warmup = "30s" }
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    assert!(metric(&out, "consumer.w.workers_max") >= 20.0);
    assert!(metric(&out, "consumer.w.scale_outs") >= 1.0);
    assert!(metric(&out, "consumer.w.scale_ins") >= 1.0);
    let w = out.series.column("consumer.w.workers").unwrap();
    assert!(*w.last().unwrap() < 10.0, "scaled back in: {:?}", w.last());
}

#[test]
fn billing_counts_chunks_and_empty_receives() {
    // One message (a one-row trace) of 130 KiB: SendMessage = ceil(130/64) = 3 requests; its ReceiveMessage
    // returns 130 KiB = 3 requests; DeleteMessage = 1. Zero-latency worker long-polls with
    // 20 s waits over 100 s: it receives the message at t = 0 and otherwise returns empty
    // at 20, 40, 60, 80, 100 s (the first wait starts after the delete at 1 s, so at
    // 21, 41, 61, 81 s: 4 empty receives).
    let src = r#"
name = "bill"
duration = "100s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "trace", file = "tests/data/one.csv" }
size = "130KB"
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 1
receive = { wait = "20s" }
service_time = "1s"
"#;
    let out = run(src, 1);
    assert_eq!(metric(&out, "queue.q.empty_receives"), 4.0);
    assert_eq!(metric(&out, "queue.q.api_requests"), 3.0 + 3.0 + 1.0 + 4.0);
}

#[test]
fn in_flight_limit_caps_receives() {
    // With the in-flight limit lowered to 50 (a [limits.sqs] override), 100 long-polling
    // workers with 10 s of work each can hold at most 50 messages; long polls get nothing
    // (no error), short polls get OverLimit.
    let model = |receive: &str| {
        format!(
            r#"
name = "inflight"
duration = "300s"
api_latency = "0ms"
[limits.sqs]
in_flight_standard = 50
[[producer]]
name = "p"
target = "sqs:q"
load = {{ process = "constant", rate_per_s = 20 }}
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 100
{receive}
service_time = "10s"
"#
        )
    };
    let out = run(&model("receive = { wait = \"20s\" }"), 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "queue.q.inflight_max"), 50.0);
    assert_eq!(metric(&out, "queue.q.over_limit"), 0.0);
    let out = run(
        &model("receive = { wait = \"0s\" }\npoll_interval = \"1s\""),
        1,
    );
    assert_balanced(&out);
    assert_eq!(metric(&out, "queue.q.inflight_max"), 50.0);
    assert!(metric(&out, "queue.q.over_limit") > 0.0);
}

#[test]
fn dead_letter_redrive_returns_messages_to_their_source() {
    // Every processing fails during the first 60 s and maxReceiveCount is 1, so the
    // 120 messages sent then (a trace of 2/s) go to the DLQ. At 120 s a redrive moves
    // them back at 10/s; the failures are over, so all 120 are then processed.
    let src = r#"
name = "redrive"
duration = "600s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "trace", file = "tests/data/sixty-two.csv" }
[[queue]]
name = "q"
visibility_timeout = "5s"
dead_letter = { queue = "dlq", max_receive_count = 1 }
[[queue]]
name = "dlq"
redrive = { at = "120s", rate_per_s = 10 }
[[consumer]]
name = "w"
source = "sqs:q"
workers = 4
receive = { wait = "20s" }
service_time = "100ms"
failures = [{ from = "0s", for = "61s", probability = 1.0 }]
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "queue.q.dead_lettered"), 120.0);
    assert_eq!(metric(&out, "queue.q.moved_in"), 120.0);
    assert_eq!(metric(&out, "consumer.w.processed"), 120.0);
    assert_eq!(metric(&out, "queue.dlq.backlog"), 0.0);
    assert_eq!(out.summary.accounting.processed, 120);
}

#[test]
fn at_least_once_delivery_makes_the_configured_duplicates() {
    // duplicate_probability 0.1: every delivery leaves another copy with probability 0.1,
    // and copies can be duplicated in turn, so copies per original = Σ_{k≥1} 0.1^k
    // = 0.1/0.9 = 0.1111.
    let src = r#"
name = "dup"
duration = "1000s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "poisson", rate_per_s = 20 }
[[queue]]
name = "q"
duplicate_probability = 0.1
[[consumer]]
name = "w"
source = "sqs:q"
workers = 5
receive = { wait = "20s" }
service_time = "10ms"
"#;
    let ratios: Vec<f64> = (0..10)
        .map(|s| {
            let out = run(src, 70 + s);
            assert_balanced(&out);
            metric(&out, "consumer.w.duplicates") / metric(&out, "producer.p.sent")
        })
        .collect();
    assert_in_ci("copies per original", &ratios, 0.1 / 0.9, 0.99);
}

#[test]
fn reserved_concurrency_throttles_lambda() {
    // 100 msg/s, one message per 200 ms invocation, needs ~20 concurrent executions; a
    // reservation of 3 caps it at 3 and the rest of the invokes are throttled and retried.
    let src = r#"
name = "reserved"
duration = "300s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "poisson", rate_per_s = 100 }
[[queue]]
name = "q"
visibility_timeout = "10m"
[[lambda]]
name = "fn"
source = "sqs:q"
batch_size = 1
reserved_concurrency = 3
duration = "200ms"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "lambda.fn.concurrency_max"), 3.0);
    assert!(metric(&out, "lambda.fn.throttles") > 100.0);
    // Capacity 3 / 0.2 s = 15 invocations/s: processed ≈ 15 × 300 = 4,500.
    let processed = metric(&out, "lambda.fn.processed");
    assert!((4000.0..=4501.0).contains(&processed), "{processed}");
}

#[test]
fn partial_batch_responses_retry_only_failed_records() {
    // Records fail with probability 0.1. With ReportBatchItemFailures only the failed
    // records return to the queue: redeliveries per receive ≈ 0.1. Without it, one
    // failure returns the whole batch: with full batches of 10, P(batch fails)
    // = 1 − 0.9^10 = 0.651, so most records come back.
    let model = |partial: bool| {
        format!(
            r#"
name = "partial"
duration = "600s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = {{ process = "poisson", rate_per_s = 200 }}
[[queue]]
name = "q"
visibility_timeout = "2s"
[[lambda]]
name = "fn"
source = "sqs:q"
batch_size = 10
batching_window = "1s"
duration = "50ms"
failure_probability = 0.1
report_batch_item_failures = {partial}
"#
        )
    };
    let with: Vec<f64> = (0..8)
        .map(|s| {
            let out = run(&model(true), 90 + s);
            assert_balanced(&out);
            metric(&out, "queue.q.redelivered") / metric(&out, "queue.q.received")
        })
        .collect();
    assert_in_ci(
        "redeliveries with partial batch responses",
        &with,
        0.1,
        0.99,
    );
    let out = run(&model(false), 90);
    assert_balanced(&out);
    let without = metric(&out, "queue.q.redelivered") / metric(&out, "queue.q.received");
    assert!(without > 0.3, "without partial responses: {without}");
}

#[test]
fn fifo_lambda_keeps_group_order() {
    // A FIFO queue behind a Lambda mapping with 0.5% record failures and partial batch
    // responses: records after a failed one are returned with it, so successful
    // processings per group stay in order. (A failure blocks its group until the
    // visibility timeout, 1 s here, so longer timeouts cut throughput sharply.)
    let src = r#"
name = "fifo-lambda"
duration = "300s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q.fifo"
load = { process = "poisson", rate_per_s = 200 }
batch = 10
linger = "20ms"
group = { dist = "zipf", keys = 50, exponent = 1.0 }
[[queue]]
name = "q.fifo"
kind = "fifo"
high_throughput = true
visibility_timeout = "1s"
[[lambda]]
name = "fn"
source = "sqs:q.fifo"
batch_size = 10
timeout = "5s"
duration = { dist = "exponential", mean = "20ms" }
failure_probability = 0.005
report_batch_item_failures = true
"#;
    let out = run(src, 4);
    assert_balanced(&out);
    assert!(metric(&out, "lambda.fn.processed") > 50_000.0);
    assert!(metric(&out, "lambda.fn.failed") > 100.0);
    assert_eq!(metric(&out, "lambda.fn.order_violations"), 0.0);
}

#[test]
fn sdk_retries_recover_throttled_sends() {
    // A FIFO queue (300 sends/s) hit by a 2 s burst of 1,500 msg/s on a 50 msg/s base:
    // the token bucket (300 tokens, 300/s) passes about 900 of the 3,000 burst sends; the
    // SDK retries the rest (3 attempts in all, backoff up to 2 s then 4 s), so some get
    // through on retry. Every message ends sent or dropped. The producer is a fleet
    // (`max_in_flight = 1000`): a single FIFO client sends one call at a time.
    let src = r#"
name = "retry"
duration = "60s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q.fifo"
load = { process = "steps", steps = [
  { at = "0s", rate_per_s = 50 }, { at = "10s", rate_per_s = 1500 }, { at = "12s", rate_per_s = 50 },
] }
group = { dist = "uniform", keys = 100 }
max_in_flight = 1000
[[queue]]
name = "q.fifo"
kind = "fifo"
"#;
    let out = run(src, 3);
    assert_balanced(&out);
    let generated = metric(&out, "producer.p.generated");
    let sent = metric(&out, "producer.p.sent");
    let dropped = metric(&out, "producer.p.dropped");
    assert_eq!(sent + dropped, generated);
    assert!(metric(&out, "producer.p.retries") > 1000.0);
    assert!(dropped > 0.0 && dropped < metric(&out, "producer.p.throttled"));
}

#[test]
fn high_throughput_fifo_limits_each_group() {
    // High-throughput FIFO: 300 sends/s per message group. 500 msg/s into one group get
    // 300/s through; spread over 10 groups all 500/s pass.
    let model = |groups: u32| {
        format!(
            r#"
name = "ht"
duration = "100s"
warmup = "10s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q.fifo"
load = {{ process = "constant", rate_per_s = 500 }}
group = {{ dist = "uniform", keys = {groups} }}
retry = {{ max_attempts = 1 }}
[[queue]]
name = "q.fifo"
kind = "fifo"
high_throughput = true
"#
        )
    };
    let out = run(&model(1), 1);
    assert_balanced(&out);
    let rate = metric(&out, "queue.q.fifo.sent") / 100.0;
    assert!((rate - 300.0).abs() <= 0.5, "{rate}");
    let out = run(&model(10), 1);
    let rate = metric(&out, "queue.q.fifo.sent") / 100.0;
    assert!((rate - 500.0).abs() <= 0.5, "{rate}");
}

#[test]
fn batches_never_exceed_one_mib() {
    // Messages of 400 KiB (an empirical size distribution read from a CSV) with batch = 10:
    // SendMessageBatch carries at most 1 MiB, so a batch closes after 2 messages (a third
    // would make 1,200 KiB). 10 messages/s for 100 s: ~500 calls; each call is
    // ceil(800 KiB / 64 KiB) = 13 billable requests.
    let src = r#"
name = "batch-payload"
duration = "100s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "constant", rate_per_s = 10 }
size = { dist = "empirical", file = "tests/data/sizes-400k.csv" }
batch = 10
linger = "10s"
[[queue]]
name = "q"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let generated = metric(&out, "producer.p.generated");
    let calls = metric(&out, "queue.q.send_calls");
    assert!(
        (calls - (generated / 2.0).floor()).abs() <= 1.0,
        "{calls} calls for {generated} messages"
    );
    assert_eq!(metric(&out, "queue.q.api_requests"), 13.0 * calls);
}

#[test]
fn a_heartbeat_shorter_than_the_visibility_timeout_keeps_the_queue_timer_alive() {
    // Regression: a heartbeat that sets a deadline *earlier* than the one the queue's timer
    // is armed for must re-arm the timer. Here the consumer's visibility timeout is 60 s
    // and its heartbeat sets 15 s every 10 s: at 10 s message A's deadline moves from
    // 60 s to 25 s. If nothing re-arms the timer until B is sent at 30 s, the timer was
    // armed for 25 s (already past) at 30 s and never fired again: no visibility timeout
    // of this queue expired for the rest of the run.
    //
    // One worker, every processing (100 s) fails, messages A at 0 s and B at 30 s:
    //   0 s: A received.  Heartbeats 10..90 s → A's last deadline 90 + 15 = 105 s.
    // 100 s: A fails; B (visible since 30 s) received; its last heartbeat 190 s → 205 s.
    // 105 s: A reappears.   200 s: B fails; A received again (redelivery 1).
    // 205 s: B reappears.   300 s: A fails; B received again (redelivery 2).
    // 305 s: A reappears.   350 s: end, B in flight, A visible.
    let src = r#"
name = "hb-timer"
duration = "350s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "trace", file = "tests/data/zero-and-thirty.csv" }
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 1
receive = { wait = "20s", visibility_timeout = "60s" }
service_time = "100s"
failure_probability = 1.0
heartbeat = { every = "10s", extend_to = "15s" }
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "queue.q.received"), 4.0);
    assert_eq!(metric(&out, "queue.q.redelivered"), 2.0);
    assert_eq!(metric(&out, "queue.q.in_flight"), 1.0);
    assert_eq!(metric(&out, "queue.q.backlog"), 1.0);
}

#[test]
fn a_heartbeat_covers_processed_messages_awaiting_the_batch_delete() {
    // A worker that deletes in batches still holds its processed messages until the
    // DeleteMessageBatch call: its heartbeat must keep them invisible too, or they reappear
    // and are processed twice although the worker did its job.
    //
    // Ten messages at 0 s, received together (max_messages 10); 1 s of work each, so the
    // batch delete happens at 10 s; visibility 5 s, heartbeat every 2 s setting 5 s. With
    // every held message extended (2 → 7 s, 4 → 9 s, 6 → 11 s, 8 → 13 s) nothing reappears:
    // 10 received, 10 deleted, no redelivery. (Extending only the unfinished ones let
    // message 1 reappear at 5 s, messages 2-3 at 7 s and 4-5 at 9 s, and message 1 again
    // in the second round: 6 stale deletes and 6 redeliveries.)
    let src = r#"
name = "hb-batch"
duration = "60s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "trace", file = "tests/data/ten-at-zero.csv" }
batch = 10
linger = "1s"
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 1
receive = { max_messages = 10, wait = "20s", visibility_timeout = "5s" }
service_time = "1s"
delete = "batch"
heartbeat = { every = "2s", extend_to = "5s" }
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "queue.q.received"), 10.0);
    assert_eq!(metric(&out, "queue.q.deleted"), 10.0);
    assert_eq!(metric(&out, "queue.q.redelivered"), 0.0);
    assert_eq!(metric(&out, "queue.q.stale_deletes"), 0.0);
    assert_eq!(metric(&out, "consumer.w.duplicates"), 0.0);
}

#[test]
fn lambda_pollers_max_survives_the_warm_up() {
    // The mapping starts 5 pollers and keeps at least 5. At 2 msg/s each message is taken
    // at once by a waiting poller, so no backlog ever adds pollers: 5 pollers run for the
    // whole measured window, and pollers_max (reset at the end of the warm-up) is 5, not 0.
    let src = r#"
name = "esm-warmup"
duration = "60s"
warmup = "60s"
api_latency = "0ms"
sample_every = "10s"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "constant", rate_per_s = 2 }
[[queue]]
name = "q"
[[lambda]]
name = "fn"
source = "sqs:q"
batch_size = 1
duration = "10ms"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let pollers = out.series.column("lambda.fn.pollers").unwrap();
    assert!(pollers.iter().all(|p| *p == 5.0), "{pollers:?}");
    assert_eq!(metric(&out, "lambda.fn.pollers_max"), 5.0);
}

#[test]
fn short_polling_without_latency_or_pause_is_refused() {
    // Regression: with api_latency = "0ms", short polling (wait 0 s) and no poll_interval,
    // an empty receive is followed by the next one at the same instant, forever: the run
    // never advanced its clock and overflowed the stack. Such a model asks for infinitely
    // many receives per second, so it is refused with the field to change.
    let model = |extra: &str| {
        format!(
            r#"
name = "short"
duration = "10s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = {{ process = "constant", rate_per_s = 1 }}
[[queue]]
name = "q"
short_poll_sample = 1.0
[[consumer]]
name = "w"
source = "sqs:q"
workers = 1
receive = {{ wait = "0s" }}
service_time = "10ms"
{extra}
"#
        )
    };
    let e = aqueduct::model::load_str(&model(""), "short.toml", std::path::Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(e.contains("poll_interval"), "{e}");
    // A pause between empty receives makes it a valid model that runs: messages at
    // 0, 1, …, 10 s, polls every 100 ms that find every message (sample 1.0); the one sent
    // at 10 s is received at 10 s but its 10 ms of work end after the horizon: 10 processed.
    let out = run(&model("poll_interval = \"100ms\""), 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "consumer.w.processed"), 10.0);
}

#[test]
fn a_throttled_fifo_producer_with_zero_latency_keeps_its_stack() {
    // Regression: a FIFO producer sends one call at a time (max_in_flight 1); with zero
    // API latency each call that follows a response started inside the previous one's
    // response, so after a throttled call's retry every call queued meanwhile ran nested
    // one level deeper: thousands of levels, and the run died of a stack overflow.
    //
    // 30,000 msg/s (one message per call) against a FIFO queue whose limit is raised to
    // 20,000 calls/s: the token bucket (20,000 tokens, 20,000/s) is empty after about 2 s;
    // a throttled call then backs off while the next ones queue up, and they all go when
    // its retry passes. The bucket runs dry when 20,000 + 20,000·t = 30,000·t, at t = 2 s,
    // with 60,000 sent; in all the queue accepts at most 20,000 + 20,000/s × 5 s = 120,000.
    let src = r#"
name = "deep"
duration = "5s"
api_latency = "0ms"
[limits.sqs]
fifo_tps_per_action = 20000
[[producer]]
name = "p"
target = "sqs:q.fifo"
load = { process = "constant", rate_per_s = 30000 }
group = { dist = "uniform", keys = 100 }
[[queue]]
name = "q.fifo"
kind = "fifo"
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    let sent = metric(&out, "queue.q.fifo.sent");
    assert!(sent > 60_000.0 && sent <= 120_000.0, "{sent}");
    assert!(metric(&out, "producer.p.throttled") > 0.0);
}
