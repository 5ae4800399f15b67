//! Random small SNS models (standard and FIFO topics; subscriptions to standard and FIFO
//! queues drained by worker pools, to Lambda functions, HTTP/S endpoints with delivery
//! policies, Firehose, email and SMS; filter policies on attributes and bodies, raw
//! delivery, subscription dead-letter queues, failures and outages; Publish and
//! PublishBatch) run end to end: no run may panic, every message must be accounted for,
//! the engine's self-checks must stay silent, and the queues' counts must agree with the
//! accounting.

use crate::common::*;
use proptest::prelude::*;
use std::fmt::Write;

/// The knobs of one random model.
#[derive(Clone, Debug)]
struct Knobs {
    fifo: bool,
    /// FIFO: the message-group throughput scope.
    group_scope: bool,
    latency: u8,
    rate: f64,
    batch: u32,
    linger_ms: u32,
    groups: u32,
    resend: bool,
    subs: Vec<Sub>,
    warmup_s: u32,
    duration_s: u32,
}

/// One subscription.
#[derive(Clone, Debug)]
struct Sub {
    /// 0 standard queue, 1 FIFO queue, 2 Lambda, 3 HTTP, 4 HTTPS, 5 Firehose, 6 email,
    /// 7 SMS (FIFO topics: queues only).
    endpoint: u8,
    /// 0 none, 1 attribute `type`, 2 numeric `amount`, 3 `exists`, 4 `$or`, 5 body.
    filter: u8,
    raw: bool,
    dlq: bool,
    fail: f64,
    outage: Option<(u32, u32, bool)>,
    jitter: bool,
    policy: Option<(u32, u32, u32, u8, Option<u32>)>,
    workers: u32,
    service_ms: u32,
    lambda_retries: u32,
    reserved: Option<u32>,
}

fn sub() -> impl Strategy<Value = Sub> {
    (
        (0u8..8, 0u8..6, any::<bool>(), prop::bool::weighted(0.3)),
        (
            prop_oneof![2 => Just(0.0f64), 1 => 0.0f64..0.5, 1 => Just(1.0f64)],
            prop::option::of((0u32..60, 1u32..60, any::<bool>())),
            any::<bool>(),
        ),
        prop::option::of((
            0u32..8,
            1u32..20,
            0u32..40,
            0u8..4,
            prop::option::of(1u32..20),
        )),
        (1u32..4, 1u32..300, 0u32..=2, prop::option::of(1u32..4)),
    )
        .prop_map(
            |(
                (endpoint, filter, raw, dlq),
                (fail, outage, jitter),
                policy,
                (workers, service_ms, lambda_retries, reserved),
            )| Sub {
                endpoint,
                filter,
                raw,
                dlq,
                fail,
                outage,
                jitter,
                policy,
                workers,
                service_ms,
                lambda_retries,
                reserved,
            },
        )
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        (any::<bool>(), any::<bool>(), 0u8..3),
        (
            prop_oneof![2 => 0.05f64..2.0, 4 => 2.0f64..100.0, 1 => 100.0f64..600.0],
            prop_oneof![Just(1u32), 1u32..=10],
            prop_oneof![Just(0u32), 1u32..300],
            1u32..20,
            prop::bool::weighted(0.2),
        ),
        prop::collection::vec(sub(), 1..=4),
        (prop_oneof![Just(0u32), 1u32..30], 30u32..300),
    )
        .prop_map(
            |(
                (fifo, group_scope, latency),
                (rate, batch, linger_ms, groups, resend),
                mut subs,
                (warmup_s, duration_s),
            )| {
                for s in &mut subs {
                    if fifo {
                        // FIFO topics deliver to SQS queues only.
                        s.endpoint %= 2;
                    } else if s.endpoint == 1 {
                        // A FIFO queue subscribes to FIFO topics only.
                        s.endpoint = 0;
                    }
                }
                Knobs {
                    fifo,
                    group_scope,
                    latency,
                    rate,
                    batch,
                    linger_ms,
                    groups,
                    resend,
                    subs,
                    warmup_s,
                    duration_s,
                }
            },
        )
}

fn model(k: &Knobs) -> String {
    let topic = if k.fifo { "t.fifo" } else { "t" };
    let mut s = String::new();
    s.push_str(&fuzz_header(k.latency, k.duration_s, k.warmup_s));
    writeln!(
        s,
        "[[producer]]\nname = \"p\"\ntarget = \"sns:{topic}\"\nload = {{ process = \"poisson\", rate_per_s = {} }}\nbatch = {}\nlinger = \"{}ms\"\nsize = {{ dist = \"uniform\", min = \"100B\", max = \"8KB\" }}",
        k.rate, k.batch, k.linger_ms
    )
    .unwrap();
    writeln!(
        s,
        "attributes = {{ type = {{ a = 0.6, b = 0.4 }}, amount = {{ dist = \"uniform\", min = 0, max = 100, present = 0.7 }} }}\nbody = {{ \"customer.tier\" = {{ gold = 0.2, silver = 0.8 }} }}"
    )
    .unwrap();
    if k.fifo {
        writeln!(s, "group = {{ dist = \"uniform\", keys = {} }}", k.groups).unwrap();
    }
    if k.resend {
        writeln!(s, "resend = {{ probability = 0.1, after = \"2s\" }}").unwrap();
    }
    writeln!(
        s,
        "[[topic]]\nname = \"{topic}\"\nkind = \"{}\"",
        if k.fifo { "fifo" } else { "standard" }
    )
    .unwrap();
    if k.fifo && k.group_scope {
        writeln!(s, "throughput_scope = \"message_group\"").unwrap();
    }
    let mut tail = String::new();
    let mut dlq = false;
    for (i, sub) in k.subs.iter().enumerate() {
        let endpoint = match sub.endpoint {
            0 => format!("sqs:q{i}"),
            1 => format!("sqs:q{i}.fifo"),
            2 => format!("lambda:f{i}"),
            3 => format!("http:h{i}"),
            4 => format!("https:h{i}"),
            5 => format!("firehose:fh{i}"),
            6 => format!("email:e{i}"),
            _ => format!("sms:m{i}"),
        };
        writeln!(
            s,
            "[[subscription]]\nname = \"s{i}\"\ntopic = \"{topic}\"\nendpoint = \"{endpoint}\"\nfailure_probability = {}",
            sub.fail
        )
        .unwrap();
        match sub.filter {
            1 => writeln!(s, "filter = {{ type = [\"a\"] }}").unwrap(),
            2 => writeln!(
                s,
                "filter = {{ amount = [{{ numeric = [\">\", 20, \"<=\", 80] }}] }}"
            )
            .unwrap(),
            3 => writeln!(s, "filter = {{ amount = [{{ exists = false }}] }}").unwrap(),
            4 => writeln!(
                s,
                "filter = {{ \"$or\" = [{{ type = [\"b\"] }}, {{ amount = [{{ numeric = [\"<\", 10] }}] }}] }}"
            )
            .unwrap(),
            5 => writeln!(
                s,
                "filter_scope = \"body\"\nfilter = {{ customer = {{ tier = [\"gold\"] }} }}"
            )
            .unwrap(),
            _ => {}
        }
        // Raw delivery applies to SQS, HTTP/S and Firehose.
        if sub.raw && matches!(sub.endpoint, 0 | 1 | 3 | 4 | 5) {
            writeln!(s, "raw_message_delivery = true").unwrap();
        }
        if sub.dlq {
            dlq = true;
            writeln!(
                s,
                "dead_letter = \"sqs:{}\"",
                if k.fifo { "dlq.fifo" } else { "dlq" }
            )
            .unwrap();
        }
        if let Some((from, len, partial)) = sub.outage {
            let p = if partial { ", probability = 0.5" } else { "" };
            writeln!(
                s,
                "outages = [{{ from = \"{from}s\", for = \"{len}s\"{p} }}]"
            )
            .unwrap();
        }
        if sub.jitter {
            writeln!(s, "jitter = 0.1").unwrap();
        }
        if let (3 | 4, Some((retries, min, more, backoff, rate))) = (sub.endpoint, sub.policy) {
            let backoff = ["linear", "arithmetic", "geometric", "exponential"][backoff as usize];
            let rate = rate
                .map(|r| format!(", max_receives_per_second = {r}"))
                .unwrap_or_default();
            writeln!(
                s,
                "delivery_policy = {{ num_retries = {retries}, num_no_delay_retries = {}, min_delay = \"{min}s\", max_delay = \"{}s\", backoff = \"{backoff}\"{rate} }}",
                retries.min(1),
                min + more
            )
            .unwrap();
        }
        match sub.endpoint {
            0 | 1 => {
                let q = if sub.endpoint == 1 {
                    format!("q{i}.fifo")
                } else {
                    format!("q{i}")
                };
                writeln!(
                    tail,
                    "[[queue]]\nname = \"{q}\"\nkind = \"{}\"\n[[consumer]]\nname = \"w{i}\"\nsource = \"sqs:{q}\"\nworkers = {}\nreceive = {{ max_messages = 10, wait = \"20s\" }}\nservice_time = {{ dist = \"exponential\", mean = \"{}ms\" }}",
                    if sub.endpoint == 1 { "fifo" } else { "standard" },
                    sub.workers,
                    sub.service_ms
                )
                .unwrap();
            }
            2 => {
                writeln!(
                    tail,
                    "[[lambda]]\nname = \"f{i}\"\nduration = {{ dist = \"exponential\", mean = \"{}ms\" }}\nfailure_probability = {}\nmaximum_retry_attempts = {}",
                    sub.service_ms,
                    sub.fail / 2.0,
                    sub.lambda_retries
                )
                .unwrap();
                if let Some(r) = sub.reserved {
                    writeln!(tail, "reserved_concurrency = {r}").unwrap();
                }
            }
            _ => {}
        }
    }
    if dlq {
        writeln!(
            tail,
            "[[queue]]\nname = \"{}\"\nkind = \"{}\"",
            if k.fifo { "dlq.fifo" } else { "dlq" },
            if k.fifo { "fifo" } else { "standard" }
        )
        .unwrap();
    }
    s + &tail
}

fn check(k: &Knobs, seed: u64) -> Result<(), TestCaseError> {
    let src = model(k);
    let out = run(&src, seed);
    let a = &out.summary.accounting;
    prop_assert!(a.balanced(), "accounting does not balance: {a:?}\n{src}");
    for w in &out.summary.warnings {
        prop_assert!(!w.contains("bug in aqueduct"), "{}\n{}", w, src);
    }
    // The queues' counters against the accounting, where queues hold everything in
    // flight or waiting (a Lambda function's asynchronous events are in flight or waiting
    // too, outside any queue).
    if k.subs.iter().all(|s| s.endpoint != 2) {
        queue_census(&out, &src)?;
    }
    // Every matched copy of a subscription is delivered, dead-lettered, lost or still
    // pending (counted over the whole run when there is no warm-up).
    for i in (0..k.subs.len()).filter(|_| k.warmup_s == 0) {
        let get = |m: &str| metric(&out, &format!("subscription.s{i}.{m}"));
        prop_assert!(
            get("deliveries") + get("dead_lettered") + get("lost") <= get("matched"),
            "subscription s{} delivered more than it matched\n{}",
            i,
            src
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_config(150, 0x736e73))]

    #[test]
    fn random_sns_models_balance_and_agree_with_the_queues(k in knobs(), seed in 0u64..1000) {
        check(&k, seed)?;
    }
}
