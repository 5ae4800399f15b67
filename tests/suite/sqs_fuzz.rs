//! Random small SQS models (standard and FIFO queues, dead-letter queues and redrive,
//! delays, duplicates, worker pools with heartbeats, outages and autoscaling, Lambda
//! mappings) run end to end: no run may panic, every message must be accounted for, the
//! queues' own counts must agree with a census of the message store, and FIFO order must
//! hold wherever the model keeps it.

use crate::common::*;
use proptest::prelude::*;
use std::fmt::Write;

/// The knobs of one random model.
#[derive(Clone, Debug)]
struct Knobs {
    fifo: bool,
    high_throughput: bool,
    dlq_retention_s: u32,
    latency: u8,
    rate: f64,
    batch: u32,
    linger_ms: u32,
    groups: u32,
    delay_s: u32,
    visibility_s: u32,
    retention_s: u32,
    dlq: Option<u32>,
    redrive_at_s: Option<u32>,
    dup: f64,
    inflight_limit: Option<u32>,
    resend: bool,
    pool: Option<Pool>,
    lambda: Option<Lambda>,
    warmup_s: u32,
    duration_s: u32,
}

#[derive(Clone, Debug)]
struct Pool {
    workers: u32,
    max_messages: u32,
    wait_s: u32,
    vis_s: Option<u32>,
    service_ms: u32,
    fail: f64,
    batch_delete: bool,
    heartbeat: Option<(u32, u32)>,
    outage: Option<(u32, u32)>,
    autoscale: Option<(u32, u32)>,
}

#[derive(Clone, Debug)]
struct Lambda {
    batch: u32,
    window_ms: u32,
    duration_ms: u32,
    fail: f64,
    partial: bool,
    reserved: Option<u32>,
    max_conc: Option<u32>,
}

fn pool() -> impl Strategy<Value = Pool> {
    (
        (1u32..6, 1u32..=10, prop_oneof![Just(0u32), 1u32..=20]),
        (
            prop::option::of(1u32..60),
            prop_oneof![1u32..3000, 3000u32..60_000],
            0.0f64..0.4,
            any::<bool>(),
        ),
        (
            prop::option::of((1u32..10, 1u32..20)),
            prop::option::of((0u32..120, 1u32..60)),
            prop::option::of((1u32..3, 1u32..8)),
        ),
    )
        .prop_map(
            |(
                (workers, max_messages, wait_s),
                (vis_s, service_ms, fail, batch_delete),
                (hb, outage, auto),
            )| Pool {
                // The starting workers lie within the autoscaling range.
                workers: auto.map_or(workers, |(min, more)| workers.clamp(min, min + more)),
                max_messages,
                wait_s,
                vis_s,
                service_ms,
                fail,
                batch_delete,
                heartbeat: hb.map(|(every, more)| (every, every + more)),
                outage,
                autoscale: auto.map(|(min, more)| (min, min + more)),
            },
        )
}

fn lambda() -> impl Strategy<Value = Lambda> {
    (
        (1u32..=10, prop_oneof![Just(0u32), 1u32..2000], 1u32..2000),
        (0.0f64..0.3, any::<bool>()),
        (prop::option::of(1u32..6), prop::option::of(2u32..8)),
    )
        .prop_map(
            |((batch, window_ms, duration_ms), (fail, partial), (reserved, max_conc))| Lambda {
                batch,
                window_ms,
                duration_ms,
                fail,
                partial,
                reserved,
                max_conc,
            },
        )
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        (
            any::<bool>(),
            0u8..3,
            prop_oneof![2 => 0.02f64..0.5, 4 => 0.5f64..60.0, 1 => 200.0f64..400.0],
            1u32..=10,
            0u32..500,
            1u32..20,
        ),
        (
            prop_oneof![3 => Just(0u32), 1 => 1u32..10],
            1u32..90,
            prop_oneof![Just(60u32), Just(90), Just(345_600)],
            prop::option::of(1u32..4),
            prop::option::of(30u32..200),
        ),
        (
            prop_oneof![3 => Just(0.0f64), 1 => 0.0f64..0.3],
            prop::option::of(2u32..40),
            prop::bool::weighted(0.2),
        ),
        (prop::option::of(pool()), prop::option::of(lambda())),
        (prop_oneof![Just(0u32), 1u32..40], 30u32..600),
        (any::<bool>(), prop_oneof![Just(60u32), Just(345_600)]),
    )
        .prop_map(
            |(
                (fifo, latency, rate, batch, linger_ms, groups),
                (delay_s, visibility_s, retention_s, dlq, redrive_at_s),
                (dup, inflight_limit, resend),
                (pool, lambda),
                (warmup_s, duration_s),
                (high_throughput, dlq_retention_s),
            )| {
                let mut k = Knobs {
                    fifo,
                    high_throughput,
                    dlq_retention_s,
                    latency,
                    rate,
                    batch,
                    linger_ms,
                    groups,
                    delay_s,
                    visibility_s,
                    retention_s,
                    dlq,
                    redrive_at_s,
                    dup,
                    inflight_limit,
                    resend,
                    pool,
                    lambda,
                    warmup_s,
                    duration_s,
                };
                if k.pool.is_none() && k.lambda.is_none() {
                    k.pool = Some(Pool {
                        workers: 2,
                        max_messages: 10,
                        wait_s: 20,
                        vis_s: None,
                        service_ms: 50,
                        fail: 0.1,
                        batch_delete: false,
                        heartbeat: None,
                        outage: None,
                        autoscale: None,
                    });
                }
                if k.redrive_at_s.is_some() && k.dlq.is_none() {
                    k.dlq = Some(1);
                }
                k
            },
        )
}

fn model(k: &Knobs) -> String {
    let q = if k.fifo { "q.fifo" } else { "q" };
    let dlq = if k.fifo { "dlq.fifo" } else { "dlq" };
    let mut s = String::new();
    s.push_str(&fuzz_header(k.latency, k.duration_s, k.warmup_s));
    if let Some(n) = k.inflight_limit {
        writeln!(
            s,
            "[limits.sqs]\nin_flight_standard = {n}\nin_flight_fifo = {n}"
        )
        .unwrap();
    }
    writeln!(
        s,
        "[[producer]]\nname = \"p\"\ntarget = \"sqs:{q}\"\nload = {{ process = \"poisson\", rate_per_s = {} }}\nbatch = {}\nlinger = \"{}ms\"",
        k.rate, k.batch, k.linger_ms
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
        "[[queue]]\nname = \"{q}\"\nkind = \"{}\"\nvisibility_timeout = \"{}s\"\ndelay = \"{}s\"\nretention = \"{}s\"",
        if k.fifo { "fifo" } else { "standard" },
        k.visibility_s,
        k.delay_s,
        k.retention_s
    )
    .unwrap();
    if k.fifo {
        writeln!(s, "high_throughput = {}", k.high_throughput).unwrap();
    } else if k.dup > 0.0 {
        writeln!(s, "duplicate_probability = {}", k.dup).unwrap();
    }
    if let Some(n) = k.dlq {
        writeln!(
            s,
            "dead_letter = {{ queue = \"{dlq}\", max_receive_count = {n} }}"
        )
        .unwrap();
        writeln!(
            s,
            "[[queue]]\nname = \"{dlq}\"\nkind = \"{}\"\nretention = \"{}s\"",
            if k.fifo { "fifo" } else { "standard" },
            k.dlq_retention_s
        )
        .unwrap();
        if let Some(at) = k.redrive_at_s {
            writeln!(s, "redrive = {{ at = \"{at}s\", rate_per_s = 20 }}").unwrap();
        }
    }
    if let Some(p) = &k.pool {
        writeln!(
            s,
            "[[consumer]]\nname = \"w\"\nsource = \"sqs:{q}\"\nworkers = {}\nservice_time = {{ dist = \"exponential\", mean = \"{}ms\" }}\nfailure_probability = {}\ndelete = \"{}\"",
            p.workers,
            p.service_ms,
            p.fail,
            if p.batch_delete { "batch" } else { "single" }
        )
        .unwrap();
        let vis = p
            .vis_s
            .map(|v| format!(", visibility_timeout = \"{v}s\""))
            .unwrap_or_default();
        writeln!(
            s,
            "receive = {{ max_messages = {}, wait = \"{}s\"{vis} }}",
            p.max_messages, p.wait_s
        )
        .unwrap();
        if p.wait_s == 0 {
            writeln!(s, "poll_interval = \"200ms\"").unwrap();
        }
        if let Some((every, to)) = p.heartbeat {
            writeln!(
                s,
                "heartbeat = {{ every = \"{every}s\", extend_to = \"{to}s\" }}"
            )
            .unwrap();
        }
        if let Some((from, len)) = p.outage {
            writeln!(s, "outages = [{{ from = \"{from}s\", for = \"{len}s\" }}]").unwrap();
        }
        if let Some((min, max)) = p.autoscale {
            writeln!(
                s,
                "autoscale = {{ min = {min}, max = {max}, target_backlog_per_worker = 5, evaluate_every = \"10s\", warmup = \"5s\" }}"
            )
            .unwrap();
        }
    }
    if let Some(l) = &k.lambda {
        writeln!(
            s,
            "[[lambda]]\nname = \"fn\"\nsource = \"sqs:{q}\"\nbatch_size = {}\nduration = {{ dist = \"exponential\", mean = \"{}ms\" }}\ntimeout = \"3s\"\nfailure_probability = {}\nreport_batch_item_failures = {}",
            l.batch, l.duration_ms, l.fail, l.partial
        )
        .unwrap();
        if l.window_ms > 0 {
            writeln!(s, "batching_window = \"{}ms\"", l.window_ms).unwrap();
        }
        if let Some(r) = l.reserved {
            writeln!(s, "reserved_concurrency = {r}").unwrap();
        }
        if let Some(m) = l.max_conc {
            writeln!(s, "maximum_concurrency = {m}").unwrap();
        }
    }
    s
}

fn check(k: &Knobs, seed: u64) -> Result<(), TestCaseError> {
    let src = model(k);
    let out = run(&src, seed);
    let a = &out.summary.accounting;
    prop_assert!(a.balanced(), "accounting does not balance: {a:?}\n{src}");
    // The engine's self-checks (balance, stalled queue timers) report as warnings.
    for w in &out.summary.warnings {
        prop_assert!(!w.contains("bug in aqueduct"), "{}\n{}", w, src);
    }
    // The queues' counters against the census of the message store.
    queue_census(&out, &src)?;
    // FIFO order, where the model keeps it: a single client (max_in_flight 1), no late
    // resends, and no dead-letter queue (a message whose visibility expires mid-processing
    // may move to it, letting its group go on while the slow consumer still finishes it
    // late: out of order in AWS too).
    if k.fifo && k.dlq.is_none() && !k.resend {
        for path in ["consumer.w.order_violations", "lambda.fn.order_violations"] {
            if let Some(v) = out.summary.metric(path) {
                prop_assert_eq!(v, 0.0, "{}\n{}", path, src);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_sqs_models_balance_and_agree_with_the_census(k in knobs(), seed in 0u64..1000) {
        check(&k, seed)?;
    }
}
