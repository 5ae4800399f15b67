//! The value of data and the time to insight (issue 16): value functions against the
//! closed forms of the M/M/1 sojourn time, end points of every kind, and bad input.

use crate::common::*;
use std::path::PathBuf;
use std::process::Command;

/// An M/M/1 queue (λ, μ = 1/s) whose producer declares `value`.
fn mm1(lambda: f64, value: &str, measured_s: u64) -> String {
    format!(
        r#"
name = "mm1-value"
duration = "{measured_s}s"
warmup = "500s"
api_latency = "0ms"

[[producer]]
name = "arrivals"
target = "sqs:q"
load = {{ process = "poisson", rate_per_s = {lambda} }}
value = {value}

[[queue]]
name = "q"
retention = "14d"
visibility_timeout = "12h"

[[consumer]]
name = "servers"
source = "sqs:q"
workers = 1
receive = {{ max_messages = 1, wait = "20s" }}
service_time = {{ dist = "exponential", mean = "1s" }}
"#
    )
}

fn metric(out: &aqueduct::engine::RunOutput, path: &str) -> f64 {
    out.summary
        .metric(path)
        .unwrap_or_else(|| panic!("no metric {path}"))
}

fn replicate(src: &str, reps: u64, path: &str) -> Vec<f64> {
    (0..reps)
        .map(|r| {
            let out = run(src, 300 + r);
            assert_balanced(&out);
            metric(&out, path)
        })
        .collect()
}

/// The M/M/1 sojourn time T is exponential with rate a = μ − λ, so
/// * half-life h (θ = ln 2 / h): E[e^(−θT)] = a / (a + θ);
/// * deadline d: P(T ≤ d) = 1 − e^(−a·d);
/// * linear to zero at L: E[max(0, 1 − T/L)] = 1 − (1 − e^(−a·L)) / (a·L).
#[test]
fn mm1_value_matches_the_closed_forms() {
    let (lambda, mu) = (0.5, 1.0);
    let a: f64 = mu - lambda;
    let h = 2.0;
    let theta = std::f64::consts::LN_2 / h;
    let cases = [
        ("{ half_life = \"2s\" }", a / (a + theta)),
        ("{ deadline = \"3s\" }", 1.0 - (-a * 3.0).exp()),
        (
            "{ linear_to_zero = \"4s\" }",
            1.0 - (1.0 - (-a * 4.0f64).exp()) / (a * 4.0),
        ),
    ];
    for (value, theory) in cases {
        let src = mm1(lambda, value, 40_000);
        let per_end_point = replicate(&src, 10, "consumer.servers.value_delivered");
        assert_in_ci(
            &format!("M/M/1 value {value}"),
            &per_end_point,
            theory,
            0.99,
        );
        // The model-wide figure is the same single end point's.
        let total = replicate(&src, 2, "value_delivered");
        assert_eq!(total, per_end_point[..2].to_vec());
    }
}

/// Time to insight at a worker pool is the creation → processed latency of the first
/// processing of each message; with no duplicates the two histograms are the same.
#[test]
fn time_to_insight_of_workers_is_their_latency() {
    let out = run(&mm1(0.5, "{ half_life = \"1m\" }", 5_000), 3);
    for q in ["mean", "p50", "p99", "max"] {
        assert_eq!(
            metric(&out, &format!("consumer.servers.time_to_insight_s.{q}")),
            metric(&out, &format!("consumer.servers.latency_s.{q}")),
            "{q}"
        );
    }
    assert_eq!(
        metric(&out, "time_to_insight_s.p99"),
        metric(&out, "insight.time_to_insight_s.p99")
    );
    let cost = metric(&out, "cost.total");
    let per_month = metric(&out, "insight.value_per_month");
    let usd = metric(&out, "usd_per_value");
    assert!(per_month > 0.0);
    assert!((usd - cost / per_month).abs() <= 1e-12 * usd.abs().max(1e-30));
}

/// A model-level `value` is every producer's default; a producer's own wins.
#[test]
fn model_value_is_the_default() {
    let base = mm1(0.5, "{ deadline = \"0s\" }", 2_000);
    let none = run(&base, 1);
    // A deadline of 0 s: only records ending at age 0 keep their value (none here).
    assert_eq!(metric(&none, "value_delivered"), 0.0);
    let with_default = base.replace("value = { deadline = \"0s\" }\n", "").replace(
        "api_latency = \"0ms\"",
        "api_latency = \"0ms\"\nvalue = { deadline = \"1h\" }",
    );
    let all = run(&with_default, 1);
    assert_eq!(metric(&all, "value_delivered"), 1.0);
    let without = base.replace("value = { deadline = \"0s\" }\n", "");
    let out = run(&without, 1);
    assert!(out.summary.metric("value_delivered").is_none());
    assert!(out.summary.metric("time_to_insight_s.p50").is_some());
}

/// Kinesis → Lambda, Kinesis → stream consumer and Firehose report time to insight; a
/// Firehose buffered for 60 s delivers records between 0 and 60 s old at the flush.
#[test]
fn run_holding_end_points_report_insight() {
    let src = r#"
name = "streams"
duration = "20m"
warmup = "2m"
api_latency = "0ms"
value = { half_life = "30s" }

[[producer]]
name = "sensors"
target = "kinesis:telemetry"
load = { process = "poisson", rate_per_s = 200 }
size = "500B"

[[producer]]
name = "devices"
target = "firehose:archive"
load = { process = "poisson", rate_per_s = 200 }
size = "500B"

[[stream]]
name = "telemetry"
shards = 2

[[lambda]]
name = "alerts"
source = "kinesis:telemetry"
duration = "20ms"

[[stream_consumer]]
name = "dashboard"
source = "kinesis:telemetry"
service_time = "1ms"

[[firehose]]
name = "archive"
buffer = { size = "128MiB", interval = "60s" }
destination = { kind = "s3" }
"#;
    let out = run(src, 5);
    assert_balanced(&out);
    for ep in ["lambda.alerts", "consumer.dashboard", "firehose.archive"] {
        let n = metric(&out, &format!("{ep}.time_to_insight_s.count"));
        assert!(n > 1000.0, "{ep}: {n} records");
        let v = metric(&out, &format!("{ep}.value_delivered"));
        assert!(v > 0.0 && v <= 1.0, "{ep}: value {v}");
    }
    // Firehose: a record waits a uniform part of the 60 s interval, then the delivery.
    let mean = metric(&out, "firehose.archive.time_to_insight_s.mean");
    assert!(mean > 25.0 && mean < 40.0, "firehose mean {mean}");
    let p99 = metric(&out, "firehose.archive.time_to_insight_s.p99");
    assert!(p99 > 55.0 && p99 < 70.0, "firehose p99 {p99}");
    // Half-life 30 s, ages ≈ uniform on [0, 60 s]: mean value ≈ (1 − 2^−2)·30/(60·ln 2).
    let v = metric(&out, "firehose.archive.value_delivered");
    let theory = (1.0 - 0.25) * 30.0 / (60.0 * std::f64::consts::LN_2);
    assert!(
        (v - theory).abs() < 0.06,
        "firehose value {v} vs ≈ {theory}"
    );
    // Streaming end points are fresher than the buffered delivery.
    assert!(metric(&out, "lambda.alerts.value_delivered") > v);
    assert!(metric(&out, "consumer.dashboard.value_delivered") > v);
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aqueduct"))
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("aqueduct-value-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    let p = d.join("model.toml");
    std::fs::write(&p, text).expect("write");
    p
}

/// Runs `validate` and `run` on `text`: exit code 2, one paragraph naming file:line and
/// each of `needles`.
pub(crate) fn refused(name: &str, text: &str, line: usize, needles: &[&str]) {
    let path = scratch(name, text);
    for cmd in ["validate", "run"] {
        let out = bin().args([cmd, path.to_str().unwrap()]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name} ({cmd}): {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        let at = format!("{}:{line}", path.display());
        assert!(err.contains(&at), "{name}: expected {at} in {err}");
        for n in needles {
            assert!(err.contains(n), "{name}: expected {n:?} in {err}");
        }
    }
}

#[test]
fn bad_value_functions_are_refused() {
    let good = mm1(0.5, "{ half_life = \"10m\" }", 60);
    // The producer's `value` is on line 11 of the model.
    let line = good.lines().position(|l| l.starts_with("value")).unwrap() + 1;
    refused(
        "half-life-zero",
        &good.replace("half_life = \"10m\"", "half_life = \"0s\""),
        line,
        &["\"arrivals\"", "`value.half_life`", "longer than 0s"],
    );
    refused(
        "linear-zero",
        &good.replace("half_life = \"10m\"", "linear_to_zero = \"0ms\""),
        line,
        &["`value.linear_to_zero`", "longer than 0s"],
    );
    refused(
        "two-kinds",
        &good.replace(
            "half_life = \"10m\"",
            "half_life = \"10m\", deadline = \"5s\"",
        ),
        line,
        &["`value.deadline`", "only one"],
    );
    refused(
        "empty",
        &good.replace("{ half_life = \"10m\" }", "{}"),
        line,
        &["value", "half_life"],
    );
    refused(
        "negative",
        &good.replace("half_life = \"10m\"", "half_life = \"-5s\""),
        line,
        &["half_life"],
    );
    refused(
        "unknown",
        &good.replace("half_life = \"10m\"", "halflife = \"10m\""),
        line,
        &["halflife"],
    );
}

#[test]
fn producers_of_one_stream_must_agree_on_value() {
    let src = r#"name = "two"
duration = "1m"

[[producer]]
name = "a"
target = "kinesis:s"
load = { process = "poisson", rate_per_s = 1 }
value = { half_life = "1m" }

[[producer]]
name = "b"
target = "kinesis:s"
load = { process = "poisson", rate_per_s = 1 }
value = { half_life = "2m" }

[[stream]]
name = "s"
shards = 1
"#;
    refused(
        "disagree",
        src,
        14,
        &[
            "[[producer]] \"b\", field `value`",
            "\"a\" and \"b\"",
            "stream \"s\"",
        ],
    );
}

/// A batch job on `store` run every hour from t = 0, on a constant load of 100/s.
fn hourly(store_lines: &str, store: &str, job_lines: &str) -> String {
    format!(
        r#"
name = "batch"
duration = "6h"
warmup = "30m"
api_latency = "0ms"
value = {{ half_life = "30m" }}
{store_lines}

[[batch_job]]
name = "hourly"
store = "{store}"
schedule = {{ every = "1h", offset = "5ms" }}
startup = "2m"
nodes = 4
node_hour_usd = 0.192
price_source = "https://aws.amazon.com/ec2/pricing/on-demand/ (m5.xlarge, read 2026-12-06)"
{job_lines}
"#
    )
}

/// On a constant load of r records/s, a run at t reads the r·T records created in
/// (t − T, t], evenly spaced, and ends at t + D with D = startup + r·T·per_record/nodes:
/// their ages at the end are D, D + 1/r, …, D + T − 1/r, whose mean is
/// D + (T − 1/r)/2 ≈ interval/2 + duration, plus the phase of the start between two
/// arrivals (< 1/r; the schedule's 5 ms offset keeps starts off the arrival grid).
#[test]
fn batch_mean_time_to_insight_is_half_the_interval_plus_the_run() {
    let (r, t, startup, per_record, nodes) = (100.0, 3600.0, 120.0, 0.001, 4.0);
    let d = startup + r * t * per_record / nodes;
    let theory = d + (t - 1.0 / r) / 2.0;
    let sqs = hourly(
        "[[producer]]\nname = \"sensors\"\ntarget = \"sqs:readings\"\nload = { process = \"constant\", rate_per_s = 100 }\nsize = \"1KB\"\n\n[[queue]]\nname = \"readings\"\nretention = \"4d\"",
        "sqs:readings",
        "per_record = \"1ms\"",
    );
    let kinesis = hourly(
        "[[producer]]\nname = \"sensors\"\ntarget = \"kinesis:readings\"\nload = { process = \"constant\", rate_per_s = 100 }\nsize = \"1KB\"\n\n[[stream]]\nname = \"readings\"\nshards = 1\nretention = \"24h\"",
        "kinesis:readings",
        "per_record = \"1ms\"",
    );
    for (what, src) in [("sqs", sqs), ("kinesis", kinesis)] {
        let out = run(&src, 1);
        assert_balanced(&out);
        assert_eq!(metric(&out, "batch_job.hourly.runs"), 6.0, "{what}");
        assert_eq!(
            metric(&out, "batch_job.hourly.records"),
            6.0 * r * t,
            "{what}"
        );
        assert!(
            (metric(&out, "batch_job.hourly.run_mean_s") - d).abs() < 1e-6,
            "{what}"
        );
        let mean = metric(&out, "batch_job.hourly.time_to_insight_s.mean");
        assert!(
            (mean - theory).abs() < 1.0 / r,
            "{what}: mean time to insight {mean} s, theory {theory} s"
        );
        let max = metric(&out, "batch_job.hourly.time_to_insight_s.max");
        assert!(
            (max - (t + d - 1.0 / r)).abs() < 1.0 / r,
            "{what}: max {max}"
        );
        assert_eq!(metric(&out, "time_to_insight_s.mean"), mean);
        // Cost: 6 runs × D × 4 nodes in 6 h, scaled to 730 h, at $0.192.
        let node_hours = 6.0 * d * nodes / 3600.0;
        let usd = node_hours * 730.0 / 6.0 * 0.192;
        assert!(
            (metric(&out, "cost.services.batch_job") - usd).abs() < 1e-9,
            "{what}: batch cost"
        );
    }
}

/// A run longer than the interval delays the next start, which begins when it ends.
#[test]
fn batch_overruns_delay_the_next_run() {
    let src = hourly(
        "[[producer]]\nname = \"sensors\"\ntarget = \"sqs:readings\"\nload = { process = \"constant\", rate_per_s = 100 }\n\n[[queue]]\nname = \"readings\"\nretention = \"4d\"",
        "sqs:readings",
        // 360,000 records × 50 ms / 4 nodes = 75 min > 1 h.
        "per_record = \"50ms\"",
    );
    let out = run(&src, 1);
    assert_balanced(&out);
    assert!(metric(&out, "batch_job.hourly.overruns") >= 3.0);
    assert!(metric(&out, "batch_job.hourly.delay_max_s") > 0.0);
    assert!(metric(&out, "batch_job.hourly.run_max_s") > 3600.0);
    // Late runs read more, so they last longer still: the backlog grows.
    let fast = run(&src.replace("50ms", "1ms"), 1);
    assert!(
        metric(&out, "time_to_insight_s.p99") > metric(&fast, "time_to_insight_s.p99") + 3600.0
    );
}

/// Firehose (15 min) → S3 → hourly job: the Firehose delivery is an intermediate step;
/// the run's time to insight is the job's.
#[test]
fn batch_on_firehose_objects() {
    let src = hourly(
        "[[producer]]\nname = \"sensors\"\ntarget = \"firehose:lake\"\nload = { process = \"constant\", rate_per_s = 100 }\nsize = \"1KB\"\n\n[[firehose]]\nname = \"lake\"\nbuffer = { size = \"128MiB\", interval = \"900s\" }\ndestination = { kind = \"s3\" }",
        "s3:lake",
        "per_gb = \"10m\"",
    );
    let out = run(&src, 1);
    assert_balanced(&out);
    let job = metric(&out, "batch_job.hourly.time_to_insight_s.mean");
    let fh = metric(&out, "firehose.lake.time_to_insight_s.mean");
    assert!(fh > 400.0 && fh < 500.0, "firehose mean {fh}");
    // Objects land every 15 min; the job reads those landed before it starts.
    assert!(job > fh + 1000.0, "job {job} vs firehose {fh}");
    assert_eq!(metric(&out, "time_to_insight_s.mean"), job);
    assert!(metric(&out, "batch_job.hourly.records") > 5.0 * 360_000.0);
}

#[test]
fn bad_batch_jobs_are_refused() {
    let good = hourly(
        "[[producer]]\nname = \"sensors\"\ntarget = \"sqs:readings\"\nload = { process = \"constant\", rate_per_s = 100 }\n\n[[queue]]\nname = \"readings\"",
        "sqs:readings",
        "per_record = \"1ms\"",
    );
    let line = |key: &str| good.lines().position(|l| l.starts_with(key)).unwrap() + 1;
    refused(
        "store-missing",
        &good.replace("store = \"sqs:readings\"", "store = \"sqs:readngs\""),
        line("store"),
        &[
            "[[batch_job]] \"hourly\", field `store`",
            "no queue called \"readngs\"",
        ],
    );
    refused(
        "store-kinesis-missing",
        &good.replace("store = \"sqs:readings\"", "store = \"kinesis:readings\""),
        line("store"),
        &["field `store`", "no stream called \"readings\""],
    );
    refused(
        "schedule-empty",
        &good.replace(
            "schedule = { every = \"1h\", offset = \"5ms\" }",
            "schedule = {}",
        ),
        line("schedule"),
        &["field `schedule`", "the schedule is empty"],
    );
    refused(
        "schedule-zero",
        &good.replace("every = \"1h\"", "every = \"0s\""),
        line("schedule"),
        &["`schedule.every`", "at most once a second"],
    );
    refused(
        "daily-bad",
        &good.replace("every = \"1h\", offset = \"5ms\"", "daily_at = \"25:00\""),
        line("schedule"),
        &["`schedule.daily_at`", "not a time of day"],
    );
    refused(
        "no-rate",
        &good.replace("per_record = \"1ms\"", ""),
        line("[[batch_job]]"),
        &["per_gb", "per_record"],
    );
    refused(
        "nodes-zero",
        &good.replace("nodes = 4", "nodes = 0"),
        line("nodes"),
        &["`nodes`", "at least 1"],
    );
}

// ----- compare ----------------------------------------------------------------------

use aqueduct::experiment::compare::{self, Candidate, COLUMNS};

fn candidate(file: &str, text: &str) -> Candidate {
    Candidate {
        file: file.into(),
        text: text.into(),
        arch: aqueduct::model::load_str(
            text,
            file,
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        )
        .unwrap(),
    }
}

fn study(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(format!("iot-{name}")),
    )
    .unwrap()
    .replace("duration = \"6h\"", "duration = \"20m\"")
    .replace("warmup = \"1h\"", "warmup = \"2m\"")
}

/// Common random numbers: the same model under two names gives the same numbers in every
/// replication, so the two rows are exactly equal (and the replications differ).
#[test]
fn identical_models_compare_exactly_equal() {
    let text = study("sqs-workers.toml");
    let c = compare::compare(
        &[candidate("a.toml", &text), candidate("b.toml", &text)],
        3,
        7,
        0.95,
        Vec::new(),
        Some(2),
    )
    .unwrap();
    let (a, b) = (&c.rows[0], &c.rows[1]);
    assert_eq!(a.values.len(), COLUMNS.len());
    for (i, (x, y)) in a.values.iter().zip(&b.values).enumerate() {
        assert_eq!(x.len(), 3, "{}", c.metrics[i]);
        assert_eq!(x, y, "{}", c.metrics[i]);
    }
    assert!(a.values[compare::COST].iter().all(|v| *v > 0.0));
    let p99 = &a.values[compare::TTI_P99];
    assert!(p99[0] != p99[1] || p99[1] != p99[2], "replications differ");
    // Two equal points: neither dominates the other.
    assert!(a.pareto && b.pareto);
}

/// With common random numbers the workload is the same draw in both architectures: the
/// producers generate the same messages.
#[test]
fn common_random_numbers_give_the_same_workload() {
    let c = compare::compare(
        &[
            candidate("sqs.toml", &study("sqs-workers.toml")),
            candidate("kinesis.toml", &study("kinesis-lambda.toml")),
        ],
        2,
        3,
        0.95,
        Vec::new(),
        Some(2),
    )
    .unwrap();
    let i = c
        .metrics
        .iter()
        .position(|m| m == "insight.records")
        .unwrap();
    // Not equal: the end of the window cuts the two paths differently. The Kinesis path
    // holds what arrived since its last GetRecords (a 1 s interval) and within the read lag
    // (median 80 ms, p99 500 ms) when the window ends, at most about 1.5 s of the study's
    // 100 records/s; the SQS path a few. So the counts differ by fewer than 150.
    for r in 0..2 {
        let (a, b) = (c.rows[0].values[i][r], c.rows[1].values[i][r]);
        assert!((a - b).abs() < 150.0, "rep {r}: {a} vs {b}");
    }
}

#[test]
fn pareto_front_on_a_hand_made_table() {
    // (cost, p99): A cheap and slow, B dominated by A, C fast and dear, D dominated by C,
    // E equal to A on cost but faster (dominates A), F NaN.
    let pts = [
        (10.0, 100.0),
        (12.0, 150.0),
        (50.0, 1.0),
        (60.0, 1.0),
        (10.0, 90.0),
        (f64::NAN, 0.5),
        (30.0, 10.0),
    ];
    assert_eq!(
        compare::pareto_front(&pts),
        vec![false, false, true, false, true, false, true]
    );
}

fn compare_bin(args: &[&str]) -> std::process::Output {
    bin().arg("compare").args(args).output().unwrap()
}

#[test]
fn compare_on_differing_producers_is_refused() {
    let a = study("kinesis-lambda.toml");
    let dir = std::env::temp_dir().join(format!("aqueduct-value-{}-cmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pa = dir.join("a.toml");
    std::fs::write(&pa, &a).unwrap();
    let cases = [
        (
            "rate",
            a.replace("rate_per_s = 100", "rate_per_s = 101"),
            "load = ",
            vec!["[[producer]] \"sensors\", field `load`", "another `load`"],
        ),
        (
            "size",
            a.replace("median = \"400B\"", "median = \"500B\""),
            "size = ",
            vec!["field `size`"],
        ),
        (
            "value",
            a.replace("half_life = \"10m\"", "half_life = \"11m\""),
            "value = ",
            vec!["`value`", "another `value`"],
        ),
        (
            "name",
            a.replace("name = \"sensors\"", "name = \"sensor\""),
            "name = \"sensor\"",
            vec!["\"sensor\" is not in"],
        ),
    ];
    for (what, text, line_start, needles) in cases {
        let pb = dir.join(format!("{what}.toml"));
        std::fs::write(&pb, &text).unwrap();
        let out = compare_bin(&[pa.to_str().unwrap(), pb.to_str().unwrap(), "--reps", "2"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        let line = text
            .lines()
            .position(|l| l.starts_with(line_start))
            .unwrap()
            + 1;
        let at = format!("{}:{line}", pb.display());
        assert!(err.contains(&at), "{what}: expected {at} in {err}");
        for n in needles {
            assert!(err.contains(n), "{what}: expected {n:?} in {err}");
        }
    }
}

#[test]
fn compare_chooses_the_cheapest_meeting_objectives_and_writes_its_files() {
    let dir = std::env::temp_dir().join(format!("aqueduct-value-{}-cmp2", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut paths = Vec::new();
    for m in ["sqs-workers.toml", "kinesis-firehose.toml"] {
        let p = dir.join(m);
        std::fs::write(&p, study(m)).unwrap();
        paths.push(p.to_str().unwrap().to_string());
    }
    let out_dir = dir.join("out");
    let out = compare_bin(&[
        &paths[0],
        &paths[1],
        "--reps",
        "2",
        "--slo",
        "time_to_insight_s.p99 < 5m",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Both meet 5 minutes; Firehose's micro-batches cost less than SQS's requests.
    assert!(
        stdout.contains("cheapest meeting every objective: iot-kinesis-firehose"),
        "{stdout}"
    );
    for f in [
        "compare.csv",
        "cost-vs-insight.svg",
        "cost-vs-insight.png",
        "report.md",
    ] {
        assert!(out_dir.join(f).is_file(), "{f}");
    }
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains("Cheapest for each freshness target"));
    // An objective nobody meets: exit code 3.
    let out = compare_bin(&[
        &paths[0],
        &paths[1],
        "--reps",
        "2",
        "--slo",
        "time_to_insight_s.p99 < 1ms",
    ]);
    assert_eq!(out.status.code(), Some(3));
    // A malformed objective is bad input.
    let out = compare_bin(&[&paths[0], &paths[1], "--slo", "time_to_insight_s.p99 2s"]);
    assert_eq!(out.status.code(), Some(2));
    let out = compare_bin(&[&paths[0], &paths[1], "--slo", "nonsense.metric < 2s"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Time to insight and value are metric paths of sweeps (with their intervals) and of
/// their objectives.
#[test]
fn sweeps_take_insight_metrics_and_objectives() {
    let dir = std::env::temp_dir().join(format!("aqueduct-value-{}-sweep", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("m.toml"), mm1(0.5, "{ half_life = \"5s\" }", 600)).unwrap();
    std::fs::write(
        dir.join("exp.toml"),
        r#"name = "insight-sweep"
model = "m.toml"
replications = 3
seed = 4
metrics = ["time_to_insight_s.p99", "value_delivered", "consumer.servers.time_to_insight_s.mean"]

[axes]
"producer.arrivals.load.rate_per_s" = [0.3, 0.6]

[slo]
"time_to_insight_s.p99" = "< 20s"
"value_delivered" = "> 0.3"
"#,
    )
    .unwrap();
    let out = bin()
        .args(["sweep", "exp.toml", "--out", "out", "--quiet"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = std::fs::read_to_string(dir.join("out/summary.csv")).unwrap();
    for m in [
        "time_to_insight_s.p99",
        "value_delivered",
        "consumer.servers.time_to_insight_s.mean",
    ] {
        assert!(summary.contains(m), "{m} in {summary}");
    }
    assert!(dir.join("out/slo.csv").is_file());
}
