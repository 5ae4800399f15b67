//! Fault scenarios: each kind against what it must do, the SDK's retries under a
//! throttling storm, accounting under random faults, and bad fault tables.

use crate::common::{assert_balanced, assert_in_ci, metric, run};
use proptest::prelude::*;

/// One message a second through SNS to an HTTPS endpoint, down for 10 minutes from
/// 100 s: written as the subscription's `outages` or as a `[[fault]]`.
fn webhook(as_fault: bool) -> String {
    let (outage, fault) = if as_fault {
        (
            "",
            "[[fault]]\nname = \"down\"\nkind = \"endpoint_down\"\ntarget = \"subscription:hook\"\nfrom = \"100s\"\nfor = \"10m\"\n",
        )
    } else {
        ("outages = [{ from = \"100s\", for = \"10m\" }]", "")
    };
    format!(
        r#"
name = "webhook"
duration = "1800s"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sns:t"
load = {{ process = "constant", rate_per_s = 1 }}
[[topic]]
name = "t"
delivery_latency = "0ms"
[[subscription]]
name = "hook"
topic = "t"
endpoint = "https:partner"
jitter = 0
{outage}
{fault}
"#
    )
}

#[test]
fn an_endpoint_down_fault_is_the_outage_window_it_describes() {
    let window = run(&webhook(false), 1);
    let fault = run(&webhook(true), 1);
    assert_balanced(&fault);
    for m in [
        "deliveries",
        "attempts",
        "retries",
        "lost",
        "delivery_failures",
    ] {
        let k = format!("subscription.hook.{m}");
        assert_eq!(metric(&fault, &k), metric(&window, &k), "{k}");
    }
    // Default HTTP/S policy: tries at t, t+20, t+40, t+60; down on [100, 700): messages
    // at 100 … 639 run out (540), as in the SNS suite's exact count.
    assert_eq!(metric(&fault, "subscription.hook.lost"), 540.0);
    assert_eq!(metric(&fault, "fault.down.lost"), 540.0);
    assert_eq!(metric(&fault, "fault.down.occurrences"), 1.0);
    assert_eq!(metric(&fault, "fault.down.active_s"), 600.0);
    assert_eq!(
        metric(&fault, "fault.down.retries"),
        metric(&fault, "subscription.hook.retries")
    );
}

/// Producers sending straight to a queue whose sends are throttled (share `p`) for the
/// whole run.
fn storm(share: f64) -> String {
    format!(
        r#"
name = "storm"
duration = "20m"
api_latency = "1ms"
[[producer]]
name = "p"
target = "sqs:q"
load = {{ process = "poisson", rate_per_s = 20 }}
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 2
receive = {{ max_messages = 10, wait = "20s" }}
service_time = "1ms"
[[fault]]
name = "storm"
kind = "throttle"
target = "sqs:q"
share = {share}
from = "0s"
for = "20m"
"#
    )
}

#[test]
fn a_throttling_storm_raises_sdk_retries_as_the_retry_policy_says() {
    // Standard retry mode: 3 attempts. A call fails each attempt independently with
    // probability p, so it is retried once with probability p and twice with p²
    // (E[retries] = p + p²), and dropped after the third failure (p³).
    let p = 0.3;
    let (mut retries, mut dropped) = (Vec::new(), Vec::new());
    for seed in 1..=12 {
        let out = run(&storm(p), seed);
        assert_balanced(&out);
        let n = metric(&out, "producer.p.generated");
        retries.push(metric(&out, "producer.p.retries") / n);
        dropped.push(metric(&out, "producer.p.dropped") / n);
        assert_eq!(
            metric(&out, "fault.storm.retries"),
            metric(&out, "producer.p.retries")
        );
    }
    assert_in_ci("retries per message", &retries, p + p * p, 0.99);
    assert_in_ci("dropped share", &dropped, p * p * p, 0.99);
    // No storm, no retries.
    let src = storm(p);
    let calm = run(&src[..src.find("[[fault]]").unwrap()], 1);
    assert_eq!(metric(&calm, "producer.p.retries"), 0.0);
}

#[test]
fn a_lost_availability_zone_takes_its_share_of_a_saturated_pool() {
    // Three workers that always have work (100/s offered, 100 ms each: 30/s served).
    // Losing one zone of three for the middle 10 minutes of 30 leaves two: 20/s then.
    let src = |fault: bool| {
        format!(
            r#"
name = "az"
duration = "30m"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = {{ process = "constant", rate_per_s = 100 }}
[[queue]]
name = "q"
retention = "14d"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 3
receive = {{ wait = "20s" }}
service_time = "100ms"
{}
"#,
            if fault {
                "[[fault]]\nname = \"az\"\nkind = \"capacity_loss\"\ntarget = \"consumer:w\"\nshare = 0.34\nfrom = \"10m\"\nfor = \"10m\""
            } else {
                ""
            }
        )
    };
    let full = run(&src(false), 1);
    let lost = run(&src(true), 1);
    assert_balanced(&lost);
    let all = metric(&full, "consumer.w.processed");
    assert!((all - 54_000.0).abs() <= 3.0, "{all}");
    let got = metric(&lost, "consumer.w.processed");
    // 10 minutes at 20/s instead of 30/s: 6,000 fewer (± the messages in hand).
    assert!((all - got - 6_000.0).abs() <= 3.0, "{all} - {got}");
    assert_eq!(metric(&lost, "fault.az.occurrences"), 1.0);
    assert_eq!(
        metric(&lost, "fault.az.unrecovered"),
        1.0,
        "a saturated pool never drains"
    );
}

#[test]
fn a_latency_spike_delays_every_call_on_the_queue() {
    let src = |extra: &str| {
        format!(
            r#"
name = "spike"
duration = "10m"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = {{ process = "constant", rate_per_s = 1 }}
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 1
receive = {{ wait = "20s" }}
service_time = "0ms"
{extra}
"#
        )
    };
    let calm = run(&src(""), 1);
    let out = run(
        &src("[[fault]]\nname = \"slow\"\nkind = \"latency_spike\"\ntarget = \"sqs:q\"\nextra_latency = \"400ms\"\nfrom = \"0s\"\nfor = \"10m\""),
        1,
    );
    assert_balanced(&out);
    // A send (0.2 s to arrive), then a long-polling worker's receive response (0.2 s) on
    // top of the calm run's latency.
    let p50 = |o| metric(o, "consumer.w.latency_s.p50");
    assert!(
        (p50(&out) - p50(&calm) - 0.4).abs() < 0.01,
        "{} vs {}",
        p50(&out),
        p50(&calm)
    );
}

#[test]
fn pool_outages_are_faults_and_show_in_reports() {
    let src = r#"
name = "pool-down"
duration = "30m"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "constant", rate_per_s = 10 }
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 4
receive = { max_messages = 10, wait = "20s" }
service_time = "10ms"
outages = [{ from = "5m", for = "5m" }]
"#;
    let out = run(src, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "fault.w-outage-1.occurrences"), 1.0);
    // 5 minutes of 10/s pile up, then drain quickly.
    let delayed = metric(&out, "fault.w-outage-1.delayed");
    assert!((2900.0..=3000.0).contains(&delayed), "{delayed}");
    let ttr = metric(&out, "fault.w-outage-1.time_to_recover_s");
    assert!(ttr > 0.0 && ttr < 120.0, "{ttr}");
    assert_eq!(metric(&out, "fault.w-outage-1.recovered"), 1.0);
}

#[test]
fn touching_windows_hold_one_after_the_other() {
    // Two outages of one pool, the second starting as the first ends, both given as the
    // pool's `outages` and as two [[fault]] tables written in the other order: the pool is
    // down for the 10 minutes of both, whatever order the windows come in.
    let base = r#"
name = "touching"
duration = "30m"
api_latency = "0ms"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "constant", rate_per_s = 10 }
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 2
receive = { max_messages = 10, wait = "20s" }
service_time = "1ms"
"#;
    let windows = run(
        &format!("{base}outages = [{{ from = \"5m\", for = \"5m\" }}, {{ from = \"10m\", for = \"5m\" }}]\n"),
        1,
    );
    let faults = run(
        &format!(
            "{base}[[fault]]\nname = \"second\"\nkind = \"outage\"\ntarget = \"consumer:w\"\nfrom = \"10m\"\nfor = \"5m\"\n[[fault]]\nname = \"first\"\nkind = \"outage\"\ntarget = \"consumer:w\"\nfrom = \"5m\"\nfor = \"5m\"\n"
        ),
        1,
    );
    for out in [&windows, &faults] {
        assert_balanced(out);
        // 10 minutes of 10/s held back: the queue's backlog peaks at about 6,000.
        let peak = metric(out, "queue.q.backlog_max");
        assert!((5_990.0..=6_010.0).contains(&peak), "{peak}");
    }
    assert_eq!(metric(&faults, "fault.first.active_s"), 300.0);
    assert_eq!(metric(&faults, "fault.second.active_s"), 300.0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    /// Whatever faults strike, every message is accounted for.
    #[test]
    fn accounting_balances_under_random_faults(
        seed in 1u64..1_000,
        outage_rate in 0.5f64..30.0,
        hook_rate in 0.5f64..30.0,
        share in 0.05f64..1.0,
        az in 0.1f64..0.9,
        len_s in 1u32..300,
    ) {
        let src = format!(r#"
name = "chaos"
duration = "20m"
[[producer]]
name = "direct"
target = "sqs:q"
load = {{ process = "poisson", rate_per_s = 30 }}
[[producer]]
name = "pub"
target = "sns:t"
load = {{ process = "poisson", rate_per_s = 20 }}
[[topic]]
name = "t"
[[subscription]]
name = "to-q"
topic = "t"
endpoint = "sqs:q"
[[subscription]]
name = "hook"
topic = "t"
endpoint = "https:partner"
[[queue]]
name = "q"
visibility_timeout = "10s"
dead_letter = {{ queue = "dlq", max_receive_count = 3 }}
[[queue]]
name = "dlq"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 5
receive = {{ max_messages = 10, wait = "20s" }}
service_time = {{ dist = "exponential", mean = "50ms" }}
failure_probability = 0.05
[[fault]]
name = "out"
kind = "outage"
target = "consumer:w"
rate_per_hour = {outage_rate}
for = {{ dist = "exponential", mean = "{len_s}s" }}
[[fault]]
name = "hook"
kind = "endpoint_down"
target = "subscription:hook"
rate_per_hour = {hook_rate}
for = "{len_s}s"
[[fault]]
name = "storm"
kind = "throttle"
target = "sqs:q"
share = {share}
rate_per_hour = {outage_rate}
for = "{len_s}s"
[[fault]]
name = "az"
kind = "capacity_loss"
target = "consumer:w"
share = {az}
rate_per_hour = {hook_rate}
for = "{len_s}s"
[[fault]]
name = "slow"
kind = "latency_spike"
target = "subscription:to-q"
extra_latency = "2s"
rate_per_hour = {outage_rate}
for = "{len_s}s"
"#);
        let out = run(&src, seed);
        prop_assert!(out.summary.accounting.balanced(), "{:?}", out.summary.accounting);
    }
}

#[test]
fn bad_faults_are_refused_at_their_field() {
    let base = webhook(true);
    let line = |needle: &str| base.lines().position(|l| l.contains(needle)).unwrap() + 1;
    crate::value::refused(
        "fault-target",
        &base.replace("subscription:hook", "subscription:nope"),
        line("target = \"subscription:hook\""),
        &["`target`", "no [[subscription]] named \"nope\""],
    );
    crate::value::refused(
        "fault-kind-target",
        &base.replace("subscription:hook", "sqs:hook"),
        line("target = \"subscription:hook\""),
        &["endpoint_down fault hits subscription:NAME"],
    );
    crate::value::refused(
        "fault-when",
        &base.replace("from = \"100s\"", "from = \"100s\"\nrate_per_hour = 2"),
        line("[[fault]]"),
        &["either scheduled", "exactly one"],
    );
    let twice = format!(
        "{base}\n[[fault]]\nname = \"again\"\nkind = \"endpoint_down\"\ntarget = \"subscription:hook\"\nfrom = \"5m\"\nfor = \"10m\"\n"
    );
    crate::value::refused(
        "fault-overlap",
        &twice,
        twice.lines().position(|l| l == "name = \"again\"").unwrap(),
        &["\"again\"", "\"down\"", "cannot both hold"],
    );
    crate::value::refused(
        "fault-share",
        &storm(1.5),
        storm(1.5)
            .lines()
            .position(|l| l.starts_with("share"))
            .unwrap()
            + 1,
        &["`share`", "outside (0, 1]"],
    );
}

#[test]
fn a_faults_report_gives_each_key_once() {
    // A fault's report wrote `kind` twice ("fault", then "outage"); JSON readers keep one of
    // the two, so the report's kind depended on the reader. Its own kind is `fault_kind`.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aqueduct"))
        .args([
            "run",
            "models/order-faults.toml",
            "--json",
            "--duration",
            "20m",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let components = doc["components"].as_array().unwrap();
    // Compact JSON: one `"kind":` per component object, none written twice.
    assert_eq!(text.matches("\"kind\":").count(), components.len());
    let faults: Vec<_> = components.iter().filter(|c| c["kind"] == "fault").collect();
    assert!(!faults.is_empty());
    for f in faults {
        assert!(f["fault_kind"].is_string(), "{f}");
    }
}
