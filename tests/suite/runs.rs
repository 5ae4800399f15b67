//! Whole runs: determinism, accounting, and every bundled model.

use crate::common::*;
use aqueduct::engine;
use aqueduct::model;
use std::path::Path;

fn without_wall(mut v: serde_json::Value) -> serde_json::Value {
    v["wall_s"] = serde_json::Value::Null;
    v
}

#[test]
fn same_seed_same_json() {
    let a = model::load_default().expect("default model");
    let mut a = a;
    a.duration = aqueduct::sim::SimDuration::from_secs(300);
    let x = engine::run(&a, 11).expect("run");
    let y = engine::run(&a, 11).expect("run");
    let z = engine::run(&a, 12).expect("run");
    let jx = without_wall(serde_json::to_value(&x.summary).unwrap());
    let jy = without_wall(serde_json::to_value(&y.summary).unwrap());
    let jz = without_wall(serde_json::to_value(&z.summary).unwrap());
    assert_eq!(
        serde_json::to_string(&jx).unwrap(),
        serde_json::to_string(&jy).unwrap()
    );
    assert_ne!(
        serde_json::to_string(&jx).unwrap(),
        serde_json::to_string(&jz).unwrap()
    );
    // The time series too, byte for byte.
    let mut cx = Vec::new();
    let mut cy = Vec::new();
    x.series.write_csv(&mut cx).unwrap();
    y.series.write_csv(&mut cy).unwrap();
    assert_eq!(cx, cy);
}

#[test]
fn adding_a_component_leaves_others_random_numbers_alone() {
    // Streams are keyed by component name: a second, unrelated producer/queue pair must not
    // change what the first pipeline does.
    let base = r#"
name = "a"
duration = "10m"
api_latency = "0ms"
[[producer]]
name = "p1"
target = "sqs:q1"
load = { process = "poisson", rate_per_s = 20 }
[[queue]]
name = "q1"
[[consumer]]
name = "c1"
source = "sqs:q1"
workers = 3
receive = { wait = "20s" }
service_time = { dist = "exponential", mean = "100ms" }
"#;
    let extra = format!(
        "{base}\n[[producer]]\nname = \"p2\"\ntarget = \"sqs:q2\"\nload = {{ process = \"poisson\", rate_per_s = 7 }}\n[[queue]]\nname = \"q2\"\n"
    );
    let a = run(base, 5);
    let b = run(&extra, 5);
    for path in [
        "producer.p1.generated",
        "consumer.c1.latency_s.mean",
        "consumer.c1.latency_s.p99",
        "queue.q1.received",
    ] {
        assert_eq!(metric(&a, path), metric(&b, path), "{path}");
    }
}

#[test]
fn every_bundled_model_runs_and_balances() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("models/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let mut a = model::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        // Keep the suite quick: at most 20 simulated minutes per model.
        a.duration = a.duration.min(aqueduct::sim::SimDuration::from_secs(1200));
        let out = engine::run(&a, a.seed).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_balanced(&out);
        assert!(
            out.summary.accounting.processed > 0 || out.summary.accounting.waiting > 0,
            "{}",
            path.display()
        );
        n += 1;
    }
    assert!(n >= 3, "expected at least three bundled models, found {n}");
}

#[test]
fn default_model_latency_is_near_the_measured_anchor() {
    // SQS standard → consumer, p50 around 16 ms end to end in public measurements
    // (https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/). The default model's queue wait (send → first receive) plus one
    // receive leg should be of that order at its base load: check the median wait of the
    // queue lies between 1 ms and 50 ms outside bursts (the first 9 minutes).
    let mut a = model::load_default().expect("default");
    a.duration = aqueduct::sim::SimDuration::from_secs(240);
    let out = engine::run(&a, 3).expect("run");
    let p50 = metric(&out, "queue.orders.wait_s.p50");
    let lat50 = metric(&out, "consumer.order-workers.latency_s.p50");
    assert!(p50 < 0.050, "queue wait p50 {p50}");
    assert!(
        (0.050..1.0).contains(&lat50),
        "end-to-end p50 {lat50} (includes ~80 ms processing)"
    );
}

#[test]
fn time_series_rates_run_through_the_warm_up() {
    // Regression: the counters restart at the end of the warm-up, and the rate columns
    // of the sample taken then read 0 (warm-up on the sample grid) or a fraction of the
    // true rate (off the grid). Constant 100 msg/s, each processed in 1 ms with no API
    // latency, sampled every 1 s: every row after t = 0 must read 100/s sent, received and
    // processed: the message sent at t = k s falls in the row of k + 1 s on both sides of
    // the reset (off the grid at 10.5 s, the row of 11 s adds the 50 counted before the
    // reset and the 50 after it).
    for warmup in ["10s", "10500ms"] {
        let src = format!(
            r#"
name = "warm"
duration = "20s"
warmup = "{warmup}"
api_latency = "0ms"
sample_every = "1s"
[[producer]]
name = "p"
target = "sqs:q"
load = {{ process = "constant", rate_per_s = 100 }}
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 2
receive = {{ wait = "20s" }}
service_time = "1ms"
"#
        );
        let out = run(&src, 1);
        assert_balanced(&out);
        for col in [
            "producer.p.sent_per_s",
            "queue.q.received_per_s",
            "consumer.w.processed_per_s",
        ] {
            let v = out.series.column(col).unwrap();
            for (t, x) in out.series.t_s.iter().zip(v) {
                if *t > 0.0 {
                    assert_eq!(x, 100.0, "warm-up {warmup}: {col} at {t} s");
                }
            }
        }
    }
}

/// Issue 18: a month extrapolated from a window that is not representative of the load
/// says so. `steps` at 100/s with a 10-minute spike to 1,000/s that does not repeat, in
/// a 30-minute window after a 2-minute warm-up: the window averages
/// (100·18 + 1000·10 + 100·2)/30 = 400/s, the load runs at 100/s for ever after. Bursts
/// every 10 minutes over a whole number of cycles (the default model) average what they
/// do in the long run: no warning.
#[test]
fn a_window_that_is_not_the_long_run_load_warns() {
    let spike = arch(
        r#"
        name = "spike"
        duration = "30m"
        warmup = "2m"
        api_latency = "0ms"

        [[producer]]
        name = "uploads"
        target = "sqs:q"
        load = { process = "steps", steps = [
            { at = "0s", rate_per_s = 1 },
            { at = "10m", rate_per_s = 10 },
            { at = "20m", rate_per_s = 1 },
        ] }

        [[queue]]
        name = "q"
        "#,
    );
    let out = engine::run(&spike, 1).expect("run");
    let w = &out.summary.warnings;
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("\"uploads\"") && w[0].contains("4.00/s") && w[0].contains("1.00/s"),
        "{w:?}"
    );
    let mut d = model::load_default().expect("default");
    d.duration = aqueduct::sim::SimDuration::from_secs(1200);
    let out = engine::run(&d, 1).expect("run");
    assert!(
        out.summary.warnings.is_empty(),
        "{:?}",
        out.summary.warnings
    );
}
