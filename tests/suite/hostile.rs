//! Hostile input (issue 21): what lies *between* the fields. Each test is a regression
//! test for one class of the issue (see: issue 21), run through the binary where the
//! behaviour is a command's: exit code 0 or 2, never a panic, an abort, a hang, a NaN
//! bill or a clobbered file.
//!
//! `AQUEDUCT_HOSTILE_BIN=/path/to/aqueduct` runs these tests against another build of the
//! binary (to see that they fail on the binary before the fixes; there, a few of them
//! run until killed or exhaust memory: run them one by one under a timeout).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let path = std::env::var("AQUEDUCT_HOSTILE_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_aqueduct").to_string());
    Command::new(path)
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hostile")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn aqueduct(cwd: &Path, args: &[&str]) -> Output {
    bin()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts exit code 2, no panic, and each of `needles` in stderr.
fn refused(what: &str, o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{what}: exit code; stdout: {}; stderr: {err}",
        stdout(o)
    );
    assert!(!err.contains("panicked"), "{what}: panic: {err}");
    for n in needles {
        assert!(err.contains(n), "{what}: expected `{n}` in: {err}");
    }
}

/// A small model: Poisson arrivals at 20/s into one queue, two workers.
const TINY: &str = r#"name = "tiny"
duration = "1m"
warmup = "5s"
seed = 5

[[producer]]
name = "web"
target = "sqs:jobs"
load = { process = "poisson", rate_per_s = 20 }

[[queue]]
name = "jobs"

[[consumer]]
name = "workers"
source = "sqs:jobs"
workers = 2
receive = { wait = "20s" }
service_time = { dist = "exponential", mean = "50ms" }
"#;

/// A sweep of the tiny model: 2 points × 2 replications = 4 runs.
const SWEEP: &str = r#"name = "tiny-sweep"
model = "tiny.toml"
replications = 2
seed = 9
metrics = ["consumer.workers.latency_s.p99", "queue.jobs.backlog_max"]

[axes]
"consumer.workers.workers" = [1, 2]
"#;

fn write_sweep(d: &Path) {
    std::fs::write(d.join("tiny.toml"), TINY).unwrap();
    std::fs::write(d.join("exp.toml"), SWEEP).unwrap();
}

/// Runs shards 1/2 and 2/2 of the sweep into `s1` and `s2`.
fn two_shards(d: &Path) {
    write_sweep(d);
    for k in 1..=2 {
        let o = aqueduct(
            d,
            &[
                "sweep",
                "exp.toml",
                "--shard",
                &format!("{k}/2"),
                "--out",
                &format!("s{k}"),
                "--threads",
                "1",
                "--quiet",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
}

// ---------------------------------------------------------------------------------------
// merge and sweep --shard

#[test]
fn sweep_refuses_a_shard_count_beyond_its_runs() {
    // `--shard 1/1000000000` was accepted, and merging its output allocated 24 GB; a
    // count of 2^64 − 1 ended in "capacity overflow".
    let d = scratch("shard-count");
    write_sweep(&d);
    for shard in [
        "1/1000000000",
        "18446744073709551615/18446744073709551615",
        "5/5",
    ] {
        let o = aqueduct(&d, &["sweep", "exp.toml", "--shard", shard, "--quiet"]);
        refused(shard, &o, &["--shard", "at most the sweep's 4 runs"]);
    }
    assert!(!d.join("reports").exists(), "a refused sweep wrote output");
}

/// Rewrites `key` of the manifest in `dir` to `value` (JSON).
fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let p = dir.join("sweep.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn merge_refuses_manifests_whose_counts_do_not_add_up() {
    // A manifest's shard index 0 or above its count indexed out of bounds; a count of
    // 10^9 sized an allocation of 24 GB; runs, rows and failed were trusted.
    let d = scratch("manifest");
    two_shards(&d);
    let original = std::fs::read(d.join("s1/sweep.json")).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit, &str); 7] = [
        (
            "index 0",
            |v| v["shard"]["index"] = 0.into(),
            "K must be between 1 and N",
        ),
        (
            "index 3",
            |v| v["shard"]["index"] = 3.into(),
            "K must be between 1 and N",
        ),
        (
            "count 10^9",
            |v| v["shard"]["count"] = 1_000_000_000u64.into(),
            "at most the sweep's 4 runs",
        ),
        (
            "count 2^64-1",
            |v| {
                v["shard"]["index"] = u64::MAX.into();
                v["shard"]["count"] = u64::MAX.into()
            },
            "at most the sweep's 4 runs",
        ),
        (
            "runs",
            |v| v["runs"] = 1_000_000_000_000u64.into(),
            "is not points × replications",
        ),
        (
            "rows",
            |v| v["rows"] = 1_000_000.into(),
            "holds at most 2 rows",
        ),
        (
            "fingerprint",
            |v| v["source"]["model_text"] = "name = \"x\"".into(),
            "fingerprint",
        ),
    ];
    for (what, edit, needle) in cases {
        std::fs::write(d.join("s1/sweep.json"), &original).unwrap();
        edit_manifest(&d.join("s1"), edit);
        let o = aqueduct(&d, &["merge", "s1", "s2", "--out", "m"]);
        refused(what, &o, &[needle, "s1"]);
        assert!(!d.join("m/runs.csv").exists(), "{what}: wrote output");
    }
}

#[test]
fn merge_refuses_edited_rows() {
    // merge trusted runs.csv's values (NaN and inf were taken as results) and its axis
    // columns.
    let d = scratch("rows");
    two_shards(&d);
    let original = std::fs::read_to_string(d.join("s1/runs.csv")).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let cols: Vec<&str> = lines[1].split(',').collect();
    // run,point,replication,seed,consumer.workers.workers,latency,backlog,error
    for (what, k, value, needle) in [
        ("NaN value", 5, "NaN", "not a finite number"),
        ("inf value", 6, "inf", "not a finite number"),
        ("axis label", 4, "7", "is not point 0's value"),
    ] {
        let mut row = cols.clone();
        row[k] = value;
        let mut text = format!("{}\n{}\n", lines[0], row.join(","));
        for l in &lines[2..] {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(d.join("s1/runs.csv"), text).unwrap();
        let o = aqueduct(&d, &["merge", "s1", "s2", "--out", "m"]);
        refused(what, &o, &[needle, "runs.csv: line 2"]);
    }
}

#[test]
fn merge_never_writes_over_its_inputs() {
    // `merge s1 s2 --out s1` replaced the shard's runs.csv and sweep.json.
    let d = scratch("merge-out");
    two_shards(&d);
    let before = std::fs::read(d.join("s1/runs.csv")).unwrap();
    let o = aqueduct(&d, &["merge", "s1", "s2", "--out", "s1"]);
    refused("--out s1", &o, &["--out s1", "shard directories"]);
    let o = aqueduct(&d, &["merge", "s1", "s2", "--out", "./s2/../s1"]);
    refused("--out ./s2/../s1", &o, &["shard directories"]);
    assert_eq!(std::fs::read(d.join("s1/runs.csv")).unwrap(), before);
    // The shards are still whole: they merge.
    let o = aqueduct(&d, &["merge", "s1", "s2", "--out", "m"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn an_output_path_that_is_a_file_is_bad_input() {
    // `sweep --out FILE` exited 1; `run --out FILE` simulated, then exited 1.
    let d = scratch("out-file");
    two_shards(&d);
    std::fs::write(d.join("file"), "keep me").unwrap();
    let o = aqueduct(&d, &["sweep", "exp.toml", "--out", "file", "--quiet"]);
    refused("sweep --out FILE", &o, &["--out file", "not a directory"]);
    let o = aqueduct(&d, &["merge", "s1", "s2", "--out", "file"]);
    refused("merge --out FILE", &o, &["--out file", "not a directory"]);
    // A run of about 10^9 events if it started: refused before simulating.
    let long = TINY.replace("duration = \"1m\"", "duration = \"3000d\"");
    std::fs::write(d.join("long.toml"), long).unwrap();
    let o = aqueduct(&d, &["run", "long.toml", "--out", "file"]);
    refused("run --out FILE", &o, &["--out file", "not a directory"]);
    assert_eq!(std::fs::read_to_string(d.join("file")).unwrap(), "keep me");
}

// ---------------------------------------------------------------------------------------
// NaN, inf and clamped bills

/// Asserts that every number of a `price --json` or `run --json` cost object is finite.
fn finite_bill(what: &str, cost: &serde_json::Value) {
    fn walk(what: &str, v: &serde_json::Value) {
        match v {
            serde_json::Value::Null => panic!("{what}: a bill number is null (NaN or inf)"),
            serde_json::Value::Number(n) => {
                assert!(n.as_f64().is_some_and(f64::is_finite), "{what}: {n}")
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(what, x)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(what, x)),
            _ => {}
        }
    }
    walk(what, cost);
}

#[test]
fn price_refuses_a_month_that_is_not_one() {
    // `price --month-hours 1e308` printed $NaN with exit code 0.
    let d = scratch("month-hours");
    let usage = "[sqs.orders]\nmessages_per_second = 200\n";
    std::fs::write(d.join("usage.toml"), usage).unwrap();
    for h in ["1e308", "745", "inf", "NaN", "0"] {
        let o = aqueduct(&d, &["price", "usage.toml", "--month-hours", h]);
        refused(h, &o, &["--month-hours", "at most 744"]);
    }
    let o = aqueduct(
        &d,
        &["price", "usage.toml", "--month-hours", "744", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    finite_bill("744 hours", &doc);
}

#[test]
fn usage_counts_beyond_64_bits_are_refused_not_clamped() {
    // 10^20 requests were billed as 2^64; `shards = 1e308` printed $inf ("total": null).
    let d = scratch("usage-overflow");
    for (what, body) in [
        ("10^20 requests", "[sqs.orders]\nmonthly_requests = 1e20\n"),
        ("1e308 shards", "[kinesis.clicks]\nmode = \"provisioned\"\nshards = 1e308\n"),
        (
            "1e300 records/s",
            "[kinesis.clicks]\nmode = \"on_demand\"\nrecords_per_second = 1e300\nrecord_size_kb = 1\n",
        ),
    ] {
        std::fs::write(d.join("usage.toml"), body).unwrap();
        let o = aqueduct(&d, &["price", "usage.toml", "--json"]);
        refused(what, &o, &["usage.toml"]);
        assert!(
            stderr(&o).contains("overflow"),
            "{what}: {}",
            stderr(&o)
        );
    }
}

/// The bundled price table with `edit` applied to its text.
fn price_table(edit: impl Fn(&str) -> String) -> String {
    let t = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pricing/aws-us-east-1.toml"),
    )
    .unwrap();
    let e = edit(&t);
    assert_ne!(e, t, "the edit changed nothing");
    e
}

#[test]
fn a_price_table_with_a_nan_or_inf_tier_is_refused() {
    // A tier `from = nan` after the first passed the increasing check (NaN compares false).
    let d = scratch("nan-tier");
    for (what, tier) in [("nan", "nan"), ("inf", "inf")] {
        let t = price_table(|t| {
            t.replacen(
                "{ from = 200e9, usd = 0.24 }",
                &format!("{{ from = 200e9, usd = 0.24 }}, {{ from = {tier}, usd = 0.1 }}"),
                1,
            )
        });
        std::fs::write(d.join("prices.toml"), t).unwrap();
        std::fs::write(
            d.join("usage.toml"),
            "prices = \"prices.toml\"\n[sqs.orders]\nmessages_per_second = 200\n",
        )
        .unwrap();
        let o = aqueduct(&d, &["price", "usage.toml"]);
        refused(
            what,
            &o,
            &["prices.toml", "sqs.standard.requests", "finite"],
        );
    }
}

#[test]
fn zero_billing_units_in_limits_are_refused() {
    // `[limits.sqs] billing_chunk = "0B"` gave million-dollar bills.
    let d = scratch("zero-units");
    for (what, table) in [
        ("sqs chunk", "[limits.sqs]\nbilling_chunk = \"0B\"\n"),
        ("sns chunk", "[limits.sns]\nbilling_chunk = \"0KiB\"\n"),
        (
            "kinesis unit",
            "[limits.kinesis]\nput_payload_unit = \"0B\"\n",
        ),
        (
            "kinesis rate",
            "[limits.kinesis]\nshard_write_records_per_s = 0\n",
        ),
    ] {
        std::fs::write(d.join("m.toml"), format!("{TINY}\n{table}")).unwrap();
        for cmd in ["validate", "run"] {
            let o = aqueduct(&d, &[cmd, "m.toml"]);
            refused(what, &o, &["m.toml:", "limits.", "at least 1"]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Metrics that lie

/// A Kinesis stream read by a consumer and a Lambda function: both record their
/// latencies in runs of records.
const KINESIS: &str = r#"name = "k"
duration = "30s"
warmup = "0s"

[[producer]]
name = "clicks"
target = "kinesis:s"
load = { process = "poisson", rate_per_s = 50 }

[[stream]]
name = "s"
shards = 1

[[stream_consumer]]
name = "reader"
source = "kinesis:s"
mode = "polling"
service_time = "20us"

[[lambda]]
name = "enrich"
source = "kinesis:s"
duration = { dist = "exponential", mean = "20ms" }
"#;

#[test]
fn kinesis_latency_minimum_is_a_latency() {
    // LatencyHist::record_n never lowered the minimum: every Kinesis consumer and
    // Kinesis-fed Lambda read 18,446,744,073.7 s.
    let d = scratch("kinesis-min");
    std::fs::write(d.join("k.toml"), KINESIS).unwrap();
    let o = aqueduct(&d, &["run", "k.toml", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut seen = 0;
    for c in doc["components"].as_array().unwrap() {
        if let Some(l) = c.get("latency_s") {
            if l["count"].as_u64().unwrap_or(0) == 0 {
                continue;
            }
            let (min, max) = (l["min"].as_f64().unwrap(), l["max"].as_f64().unwrap());
            assert!(
                min >= 0.0 && min <= max,
                "{}: min {min} max {max}",
                c["name"]
            );
            seen += 1;
        }
    }
    assert!(seen >= 2, "no Kinesis latencies in {doc}");
}

#[test]
fn fifo_order_is_checked_against_the_order_of_acceptance() {
    // Concurrent senders whose throttled sends are retried get accepted out of creation
    // order; SQS keeps the order it accepted them in, and order_violations compared
    // creation order (the README says it stays 0).
    let d = scratch("fifo-order");
    let model = r#"name = "fifo"
duration = "30s"
warmup = "0s"

[[producer]]
name = "fleet"
target = "sqs:jobs.fifo"
load = { process = "poisson", rate_per_s = 600 }
group = { dist = "uniform", keys = 2 }
max_in_flight = 100
retry = { max_attempts = 10, base = "50ms", max_backoff = "1s" }

[[queue]]
name = "jobs.fifo"
kind = "fifo"

[[consumer]]
name = "workers"
source = "sqs:jobs.fifo"
workers = 4
receive = { max_messages = 10, wait = "20s" }
service_time = { dist = "exponential", mean = "1ms" }
"#;
    std::fs::write(d.join("f.toml"), model).unwrap();
    let o = aqueduct(&d, &["run", "f.toml", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let comps = doc["components"].as_array().unwrap();
    let get = |name: &str| comps.iter().find(|c| c["name"] == name).unwrap();
    // The scenario needs retried sends (the FIFO queue takes 300 sends/s unbatched).
    assert!(
        get("fleet")["retries"].as_u64().unwrap() > 0,
        "no retries: {}",
        get("fleet")
    );
    assert!(get("workers")["processed"].as_u64().unwrap() > 1000);
    assert_eq!(get("workers")["order_violations"], 0, "{}", get("workers"));
}

// ---------------------------------------------------------------------------------------
// Wrong units and ranges

#[test]
fn an_objective_in_the_wrong_unit_is_refused() {
    // `"< 2KB"` on a latency was compared as 2,048 s: every point passed.
    let d = scratch("slo-unit");
    write_sweep(&d);
    for (metric, objective, needle) in [
        (
            "consumer.workers.latency_s.p99",
            "< 2KB",
            "not measured in bytes",
        ),
        ("queue.jobs.backlog_max", "< 2KB", "not measured in bytes"),
        ("queue.jobs.backlog_max", "< $5", "not a cost"),
    ] {
        let exp = format!("{SWEEP}\n[slo]\n\"{metric}\" = \"{objective}\"\n");
        std::fs::write(d.join("exp.toml"), exp).unwrap();
        let o = aqueduct(&d, &["sweep", "exp.toml", "--quiet", "--out", "out"]);
        refused(objective, &o, &["exp.toml:", needle]);
        assert!(!d.join("out/runs.csv").exists());
    }
}

/// A Kinesis-fed Lambda function with `maximum_record_age = age`.
fn record_age_model(age: &str) -> String {
    format!("{KINESIS}maximum_record_age = \"{age}\"\n")
}

#[test]
fn maximum_record_age_keeps_to_aws_range() {
    // AWS allows -1 (the default) or 60 s to 7 days; 0 s was accepted and lost every
    // record, and 3,650 days was accepted.
    let d = scratch("record-age");
    for age in ["0s", "59s", "8d", "3650d"] {
        std::fs::write(d.join("m.toml"), record_age_model(age)).unwrap();
        let o = aqueduct(&d, &["validate", "m.toml"]);
        refused(age, &o, &["m.toml:", "maximum_record_age", "1m to 7d"]);
    }
    for age in ["60s", "7d"] {
        std::fs::write(d.join("m.toml"), record_age_model(age)).unwrap();
        let o = aqueduct(&d, &["validate", "m.toml"]);
        assert!(o.status.success(), "{age}: {}", stderr(&o));
    }
}

#[test]
fn usage_files_refuse_fractional_counts_misnamed_fifo_queues_and_unused_keys() {
    let d = scratch("usage-keys");
    for (what, body, needles) in [
        // send_batch = 1.5 was rounded to 2.
        (
            "send_batch 1.5",
            "[sqs.orders]\nmessages_per_second = 10\nsend_batch = 1.5\n",
            &["usage.toml:3", "send_batch", "not a whole number"][..],
        ),
        (
            "shards 2.5",
            "[kinesis.clicks]\nmode = \"provisioned\"\nshards = 2.5\n",
            &["usage.toml:3", "shards", "not a whole number"],
        ),
        // A `.fifo` queue without `fifo = true` was priced at the standard rate.
        (
            ".fifo standard",
            "[sqs.\"payments.fifo\"]\nmessages_per_second = 10\n",
            &["usage.toml:1", "payments.fifo", "fifo = true"],
        ),
        (
            ".fifo fifo = false",
            "[sqs.\"payments.fifo\"]\nfifo = false\nmessages_per_second = 10\n",
            &["usage.toml:2", "fifo = true"],
        ),
        // parallelism_per_kpu was ignored (even mistyped) when kpus was given.
        (
            "parallelism_per_kpu with kpus",
            "[flink.app]\nkpus = 4\nparallelism_per_kpu = 2\n",
            &["usage.toml:3", "parallelism_per_kpu", "parallelism"],
        ),
        (
            "parallelism_per_kpu mistyped",
            "[flink.app]\nkpus = 4\nparallelism_per_kpu = \"two\"\n",
            &["usage.toml:3", "parallelism_per_kpu", "expected a number"],
        ),
    ] {
        std::fs::write(d.join("usage.toml"), body).unwrap();
        let o = aqueduct(&d, &["price", "usage.toml"]);
        refused(what, &o, needles);
    }
    // The same files written right are priced.
    for body in [
        "[sqs.orders]\nmessages_per_second = 10\nsend_batch = 2\n",
        "[sqs.\"payments.fifo\"]\nfifo = true\nmessages_per_second = 10\n",
        "[flink.app]\nparallelism = 8\nparallelism_per_kpu = 2\n",
    ] {
        std::fs::write(d.join("usage.toml"), body).unwrap();
        let o = aqueduct(&d, &["price", "usage.toml"]);
        assert!(o.status.success(), "{body}: {}", stderr(&o));
    }
}

// ---------------------------------------------------------------------------------------
// Results thrown away or hidden, output safety

#[test]
fn an_endless_input_file_is_refused() {
    // `validate /dev/zero` read until memory ran out.
    if !Path::new("/dev/zero").exists() {
        return;
    }
    let d = scratch("dev-zero");
    for args in [
        &["validate", "/dev/zero"][..],
        &["run", "/dev/zero"],
        &["price", "/dev/zero"],
        &["sweep", "/dev/zero", "--quiet"],
    ] {
        let o = aqueduct(&d, args);
        refused(args[0], &o, &["/dev/zero", "larger than 256 MiB"]);
    }
}

#[test]
fn errors_do_not_print_the_files_a_model_points_to() {
    // A model's `file = "/etc/passwd"` printed the first line of /etc/passwd in its error.
    let d = scratch("no-echo");
    let secret = "SECRET-TOKEN-12345";
    std::fs::write(d.join("secret.txt"), format!("{secret}\n{secret}\n")).unwrap();
    for (what, from, to) in [
        (
            "trace",
            "load = { process = \"poisson\", rate_per_s = 20 }",
            "load = { process = \"trace\", file = \"secret.txt\" }",
        ),
        (
            "empirical",
            "service_time = { dist = \"exponential\", mean = \"50ms\" }",
            "service_time = { dist = \"empirical\", file = \"secret.txt\" }",
        ),
    ] {
        std::fs::write(d.join("m.toml"), TINY.replace(from, to)).unwrap();
        let o = aqueduct(&d, &["validate", "m.toml"]);
        refused(what, &o, &["m.toml:", "secret.txt"]);
        assert!(!stderr(&o).contains(secret), "{what}: {}", stderr(&o));
    }
}

#[test]
fn validate_finds_a_price_the_table_lacks() {
    // A price table missing an entry failed after the simulation, with no file or line,
    // while `validate` called the model valid.
    let d = scratch("missing-price");
    let t = price_table(|t| {
        t.replacen(
            "[price.\"sqs.standard.requests\"]",
            "[price.\"sqs.standard.requestz\"]",
            1,
        )
    });
    std::fs::write(d.join("prices.toml"), t).unwrap();
    let model = TINY.replacen("seed = 5\n", "seed = 5\nprices = \"prices.toml\"\n", 1);
    std::fs::write(d.join("m.toml"), model).unwrap();
    for cmd in ["validate", "run"] {
        let o = aqueduct(&d, &[cmd, "m.toml"]);
        refused(cmd, &o, &["m.toml:5", "prices", "sqs.standard.requests"]);
        assert!(stdout(&o).is_empty(), "{cmd}: {}", stdout(&o));
    }
}

#[test]
fn control_characters_in_names_do_not_reach_the_terminal() {
    let d = scratch("control");
    let model = TINY.replace("name = \"tiny\"", "name = \"t\\u001b[2Jiny\"");
    std::fs::write(d.join("m.toml"), model).unwrap();
    let o = aqueduct(&d, &["validate", "m.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains('\u{1b}'), "{}", stdout(&o));
    assert!(stdout(&o).contains("\\u{1b}"), "{}", stdout(&o));
    let model = TINY.replace("target = \"sqs:jobs\"", "target = \"sqs:j\\u001b[2Jobs\"");
    std::fs::write(d.join("m.toml"), model).unwrap();
    let o = aqueduct(&d, &["validate", "m.toml"]);
    refused("target", &o, &["m.toml:"]);
    assert!(!stderr(&o).contains('\u{1b}'), "{}", stderr(&o));
}

#[test]
fn oversized_messages_are_warned_about_and_not_billed_as_chunks() {
    // Messages over the queue's 1 MiB limit were rejected without a warning and billed as
    // gigabytes of 64 KiB chunks.
    let d = scratch("oversized");
    let model = TINY.replace(
        "load = { process = \"poisson\", rate_per_s = 20 }",
        "load = { process = \"poisson\", rate_per_s = 20 }\nsize = { dist = \"lognormal\", median = \"600KiB\", p99 = \"100MiB\" }",
    );
    std::fs::write(d.join("m.toml"), model).unwrap();
    let o = aqueduct(&d, &["run", "m.toml", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let comps = doc["components"].as_array().unwrap();
    let get = |name: &str| comps.iter().find(|c| c["name"] == name).unwrap();
    let (web, jobs) = (get("web"), get("jobs"));
    let n = |c: &serde_json::Value, k: &str| c[k].as_u64().unwrap_or_else(|| panic!("{k}: {c}"));
    let rejected = n(web, "rejected");
    assert!(rejected > 0, "{web}");
    assert_eq!(n(jobs, "rejected_too_large"), rejected);
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings.contains("refused") && warnings.contains("jobs"),
        "{warnings}"
    );
    // An accepted message is at most 1 MiB = 16 chunks on its send and its receive; a
    // delete and an empty receive are one request each; a refused send one request.
    let bound = 16 * n(jobs, "sent")
        + 16 * n(jobs, "received")
        + n(jobs, "deleted")
        + n(jobs, "empty_receives")
        + rejected;
    assert!(n(jobs, "api_requests") <= bound, "{jobs}");
    finite_bill("oversized", &doc["cost"]);
}

#[test]
fn duration_flag_gets_the_checks_of_the_duration_field() {
    // `--duration` skipped the checks that `duration` in the file gets (the 3,650-day
    // cap, the sample count) and aborted on a 4 GiB allocation.
    let d = scratch("duration-flag");
    std::fs::write(d.join("m.toml"), TINY).unwrap();
    let o = aqueduct(&d, &["run", "m.toml", "--duration", "3651d"]);
    refused("--duration 3651d", &o, &["m.toml", "duration", "3650d"]);
    let o = aqueduct(&d, &["run", "m.toml", "--duration", "30s", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["simulated_s"], 30.0);
}

#[test]
fn short_polling_must_take_simulated_time() {
    // The guard against fast short polling caught only exactly 0: `api_latency = "1ns"`
    // made 10^9 empty receives per simulated second and never finished.
    let d = scratch("short-poll");
    for latency in ["1ns", "500us"] {
        let model = TINY
            .replace(
                "receive = { wait = \"20s\" }",
                "receive = { wait = \"0s\" }",
            )
            .replace(
                "name = \"jobs\"\n",
                &format!("name = \"jobs\"\napi_latency = \"{latency}\"\n"),
            );
        std::fs::write(d.join("m.toml"), model).unwrap();
        let o = aqueduct(&d, &["validate", "m.toml"]);
        refused(latency, &o, &["m.toml:", "poll_interval", "short polling"]);
    }
}

#[test]
fn a_zero_time_redelivery_loop_is_refused() {
    // A visibility timeout of 0 s with processing that always fails and zero service and
    // API time redelivered forever at one instant while memory grew.
    let d = scratch("zero-loop");
    let model = TINY
        .replace(
            "name = \"jobs\"\n",
            "name = \"jobs\"\nvisibility_timeout = \"0s\"\napi_latency = \"0s\"\n",
        )
        .replace(
            "service_time = { dist = \"exponential\", mean = \"50ms\" }",
            "service_time = \"0s\"\nfailure_probability = 1.0",
        );
    std::fs::write(d.join("m.toml"), &model).unwrap();
    let o = aqueduct(&d, &["validate", "m.toml"]);
    refused(
        "zero loop",
        &o,
        &["m.toml:", "failure_probability", "forever"],
    );
    // With any time in the loop the clock advances: the model is valid.
    std::fs::write(
        d.join("m.toml"),
        model.replace("service_time = \"0s\"", "service_time = \"1ms\""),
    )
    .unwrap();
    let o = aqueduct(&d, &["validate", "m.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_kinesis_mapping_failing_in_zero_time_forever_is_refused() {
    // A Kinesis Lambda retrying forever (`maximum_retry_attempts = -1`) with a zero
    // duration retried one batch at one instant for ever: the run never ended.
    let d = scratch("kinesis-zero-loop");
    let model = r#"name = "kl"
duration = "1m"
api_latency = "0ms"

[[producer]]
name = "p"
target = "kinesis:s"
load = { process = "poisson", rate_per_s = 10 }

[[stream]]
name = "s"
shards = 1

[[lambda]]
name = "f"
source = "kinesis:s"
duration = "0ms"
failure_probability = 1.0
maximum_retry_attempts = -1
"#;
    std::fs::write(d.join("m.toml"), model).unwrap();
    let o = aqueduct(&d, &["validate", "m.toml"]);
    refused(
        "kinesis zero loop",
        &o,
        &["m.toml:", "failure_probability", "forever"],
    );
    // With time in the loop, or a bound on the retries, it is a valid model.
    for fix in [
        model.replace("duration = \"0ms\"", "duration = \"1ms\""),
        model.replace("= -1", "= 3"),
    ] {
        std::fs::write(d.join("m.toml"), &fix).unwrap();
        let o = aqueduct(&d, &["validate", "m.toml"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
}

#[test]
fn a_zero_sdk_backoff_is_refused() {
    // `retry = { base = "0s" }` with many attempts and zero API latency retried a
    // throttled call at one instant, billions of times.
    let d = scratch("zero-backoff");
    let model = r#"name = "zb"
duration = "1m"
api_latency = "0ms"

[[producer]]
name = "p"
target = "kinesis:s"
load = { process = "constant", rate_per_s = 5000 }
retry = { max_attempts = 4000000000, base = "0s", max_backoff = "1s" }

[[stream]]
name = "s"
shards = 1
"#;
    std::fs::write(d.join("m.toml"), model).unwrap();
    let o = aqueduct(&d, &["validate", "m.toml"]);
    refused(
        "zero base",
        &o,
        &["m.toml:9", "retry.base", "longer than 0s"],
    );
    std::fs::write(
        d.join("m.toml"),
        model.replace(
            "base = \"0s\", max_backoff = \"1s\"",
            "max_backoff = \"0s\"",
        ),
    )
    .unwrap();
    let o = aqueduct(&d, &["validate", "m.toml"]);
    refused("zero cap", &o, &["retry.max_backoff"]);
    // One attempt needs no back-off.
    std::fs::write(
        d.join("m.toml"),
        model.replace("max_attempts = 4000000000", "max_attempts = 1"),
    )
    .unwrap();
    let o = aqueduct(&d, &["validate", "m.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn sns_retries_after_the_end_of_the_run_are_not_counted() {
    // A delivery outage lasting beyond the run counted every future retry (100,015 per
    // message over 23 days) and slowed the run. Within a 2-minute run a message can be
    // retried at most 3 (immediate) + 2 (1 s apart) + 10 (backoff, from 1 s) + 120 / 20
    // (post-backoff, 20 s apart) = 21 times.
    let d = scratch("sns-outage");
    let model = r#"name = "so"
duration = "2m"

[[producer]]
name = "p"
target = "sns:t"
load = { process = "poisson", rate_per_s = 5 }

[[topic]]
name = "t"

[[subscription]]
topic = "t"
endpoint = "sqs:q"
outages = [{ from = "10s", for = "30d" }]

[[queue]]
name = "q"
"#;
    std::fs::write(d.join("m.toml"), model).unwrap();
    let o = aqueduct(&d, &["run", "m.toml", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let produced = doc["accounting"]["produced"].as_f64().unwrap();
    let sub = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "subscription")
        .unwrap();
    let retries = sub["retries"].as_f64().unwrap();
    assert!(retries > produced, "{retries} retries of {produced}");
    assert!(
        retries <= 21.0 * produced,
        "{retries} retries of {produced}"
    );
}

#[test]
fn control_characters_in_an_experiment_reach_neither_the_terminal_nor_the_report() {
    // Issue 21: an escape sequence (ESC [ 2 J clears a terminal) in an experiment's
    // description (shown in report.md) and in an axis value (shown when its runs fail).
    let d = std::env::temp_dir().join(format!("aq-ctl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("m.toml"),
        "name = \"m\"\nduration = \"1m\"\n[[producer]]\nname = \"p\"\ntarget = \"sqs:q\"\nload = { process = \"poisson\", rate_per_s = 5 }\n[[queue]]\nname = \"q\"\n[[consumer]]\nname = \"w\"\nsource = \"sqs:q\"\nworkers = 1\nservice_time = \"10ms\"\n",
    )
    .unwrap();
    std::fs::write(
        d.join("e.toml"),
        "name = \"x\"\ndescription = \"x\\u001b[2Jy\"\nmodel = \"m.toml\"\nreplications = 2\n[axes]\nprices = [\"aws-us-east-1\", \"no\\u001b[2Jsuch.toml\"]\n",
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_aqueduct"))
        .args(["sweep", "e.toml", "--out", "out"])
        .current_dir(&d)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("failed"), "{all}");
    assert!(!all.contains('\u{1b}'), "{all:?}");
    let md = std::fs::read_to_string(d.join("out/report.md")).unwrap();
    assert!(!md.contains('\u{1b}'));
    assert!(md.contains("\\u{1b}"), "the name is shown, escaped");
}

#[test]
fn a_trace_second_of_four_billion_messages_is_refused() {
    // Issue 21: a `second,count` row of 4×10^9 passed the one-message-per-nanosecond cap
    // that a load's rate gets.
    let d = scratch("trace-count");
    std::fs::write(d.join("t.csv"), "second,count\n0,10\n1,4000000000\n").unwrap();
    std::fs::write(
        d.join("m.toml"),
        TINY.replace(
            "load = { process = \"poisson\", rate_per_s = 20 }",
            "load = { process = \"trace\", file = \"t.csv\" }",
        ),
    )
    .unwrap();
    let o = aqueduct(&d, &["validate", "m.toml"]);
    refused(
        "trace-count",
        &o,
        &["t.csv", "3", "1000000000 messages in a second"],
    );
}

/// A backlog that grows without bound: 20,000 messages/s, one worker at 1 s each.
const GROWING: &str = r#"
name = "grow"
duration = "1h"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "poisson", rate_per_s = 20000 }
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 1
receive = { wait = "20s" }
service_time = "1s"
"#;

#[test]
fn a_run_stops_at_its_memory_budget_with_its_results_so_far() {
    // With a 32 MiB budget the run stops long before its hour: exit 1, the partial
    // results printed in full (JSON with `stopped_s` and `"ok": false`), the bill scaled
    // from the window it covered, every message accounted for, and the same place for
    // the same seed.
    let d = scratch("memory-budget");
    std::fs::write(d.join("grow.toml"), GROWING).unwrap();
    let args = ["run", "grow.toml", "--json", "--set", "memory_budget=32MiB"];
    let o = aqueduct(&d, &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("over its memory budget"),
        "{}",
        stderr(&o)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let stopped = doc["stopped_s"].as_f64().expect("stopped_s");
    assert!(stopped > 1.0 && stopped < 600.0, "{stopped}");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["simulated_s"].as_f64(), Some(stopped));
    let a = &doc["accounting"];
    let n = |k: &str| a[k].as_u64().unwrap();
    assert_eq!(
        n("produced"),
        n("processed") + n("in_flight") + n("waiting") + n("in_transit")
    );
    assert!(doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("memory_budget")));
    let again = aqueduct(&d, &args);
    let doc2: serde_json::Value = serde_json::from_str(&stdout(&again)).unwrap();
    assert_eq!(doc2["stopped_s"], doc["stopped_s"]);
    // The default budget lets a short run of the same model end normally.
    let o = aqueduct(&d, &["run", "grow.toml", "--duration", "10s"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A budget too small for anything is bad input.
    let o = aqueduct(&d, &["run", "grow.toml", "--set", "memory_budget=1KB"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("memory_budget"), "{}", stderr(&o));
}

/// Runs the binary with its address space capped at `bytes` (`RLIMIT_AS`), so a run that
/// allocates beyond it aborts (a signal, not an exit code) instead of taking the machine.
#[cfg(unix)]
fn aqueduct_capped(cwd: &Path, args: &[&str], bytes: u64) -> Output {
    let mut cmd = bin();
    cmd.args(args).current_dir(cwd);
    cap_address_space(&mut cmd, bytes);
    cmd.output().expect("the binary runs")
}

/// Caps the address space of `cmd`'s process at `bytes` (`RLIMIT_AS`), set in the child
/// before it runs the binary.
#[cfg(unix)]
pub(super) fn cap_address_space(cmd: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// 1 GiB of address space: far more than any of the models below needs once their
/// structures grow with use, far less than they took when allocated for their limits.
#[cfg(unix)]
const CAP: u64 = 1 << 30;

#[cfg(unix)]
#[test]
fn huge_limits_are_refused_or_grown_into_never_allocated_up_front() {
    let d = scratch("huge-limits");
    // 10^7 shards (allowed by a [limits] override): about 10 GB of shard state before the
    // first record. Refused at load, naming the field and the budget.
    let shards = r#"name = "huge"
duration = "10s"
[limits.kinesis]
max_shards_per_stream = 100000000
account_shard_quota = 100000000
[[producer]]
name = "p"
target = "kinesis:s"
load = { process = "poisson", rate_per_s = 10 }
[[stream]]
name = "s"
shards = 10000000
[[stream_consumer]]
name = "c"
source = "kinesis:s"
service_time = "1ms"
"#;
    std::fs::write(d.join("shards.toml"), shards).unwrap();
    let o = aqueduct_capped(&d, &["run", "shards.toml"], CAP);
    refused(
        "10^7 shards",
        &o,
        &[
            "shards.toml:12",
            "stream",
            "`shards`",
            "memory budget",
            "memory_budget",
        ],
    );
    // Raising the budget is the way through: the same model then loads (validate only).
    let raised = shards.replace(
        "duration = \"10s\"",
        "duration = \"10s\"\nmemory_budget = \"64GiB\"",
    );
    std::fs::write(d.join("raised.toml"), raised).unwrap();
    let o = aqueduct(&d, &["validate", "raised.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A Flink key space of 4·10^9 keys: every key hashed and stored up front.
    let flink = r#"name = "fk"
duration = "10s"
[[producer]]
name = "p"
target = "kinesis:s"
load = { process = "poisson", rate_per_s = 100 }
partition_key = { dist = "uniform", keys = 4000000000 }
[[stream]]
name = "s"
shards = 4
[[flink]]
name = "f"
source = "kinesis:s"
parallelism = 2
cpu_per_record = "100us"
window = { kind = "session", gap = "1m" }
"#;
    std::fs::write(d.join("flink.toml"), flink).unwrap();
    let o = aqueduct_capped(&d, &["run", "flink.toml"], CAP);
    refused(
        "4·10^9 Flink keys",
        &o,
        &["flink", "\"f\"", "keys", "memory budget"],
    );
    // A Lambda SQS mapping allowed 2^32 − 1 concurrent pollers: they are created as the
    // mapping scales up (5 a second), not all at the start (23 GB).
    let conc = r#"name = "conc"
duration = "10s"
[limits.lambda]
account_concurrency = 4294967295
sqs_max_concurrency = 4294967295
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "poisson", rate_per_s = 10 }
[[queue]]
name = "q"
[[lambda]]
name = "f"
source = "sqs:q"
duration = "10ms"
"#;
    std::fs::write(d.join("conc.toml"), conc).unwrap();
    let o = aqueduct_capped(&d, &["run", "conc.toml", "--json"], CAP);
    assert_eq!(
        o.status.code(),
        Some(0),
        "2^32 pollers: {:?} {}",
        o.status,
        stderr(&o)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(doc["metrics"]["lambda.f.invocations"].as_f64().unwrap() > 50.0);
    // 5,000 idle queues: each queue's latency histograms grow with the values recorded
    // (they took 290 KB each at their full range: 1.5 GB).
    let mut idle = String::from(
        "name = \"idle\"\nduration = \"1s\"\n[[producer]]\nname = \"p\"\ntarget = \"sqs:q0\"\nload = { process = \"poisson\", rate_per_s = 10 }\n",
    );
    for i in 0..5000 {
        idle.push_str(&format!("[[queue]]\nname = \"q{i}\"\n"));
    }
    std::fs::write(d.join("idle.toml"), idle).unwrap();
    let o = aqueduct_capped(&d, &["run", "idle.toml"], CAP);
    assert_eq!(
        o.status.code(),
        Some(0),
        "5,000 queues: {:?} {}",
        o.status,
        stderr(&o)
    );
}

#[test]
fn an_interrupted_sweep_keeps_its_finished_runs_and_resumes() {
    // A sweep killed midway left its finished runs in a hidden directory, and the next
    // sweep started over. Now every finished row is flushed, and the same command resumes
    // from them: the result is byte for byte the uninterrupted sweep's.
    let d = scratch("interrupted-sweep");
    // 40 runs of about 50 ms each on one thread: the kill lands midway.
    std::fs::write(
        d.join("tiny.toml"),
        TINY.replace("duration = \"1m\"", "duration = \"1h\""),
    )
    .unwrap();
    std::fs::write(
        d.join("exp.toml"),
        SWEEP.replace("replications = 2", "replications = 20"),
    )
    .unwrap();
    let args = |out: &str| -> Vec<String> {
        [
            "sweep",
            "exp.toml",
            "--out",
            out,
            "--threads",
            "1",
            "--quiet",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let o = aqueduct(
        &d,
        &args("full").iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut child = bin()
        .args(args("int"))
        .current_dir(&d)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for a few finished rows in the staging directory, then kill (SIGKILL: nothing
    // of the sweep's own runs after it).
    let prefix = format!(".aqueduct-partial-{}-", child.id());
    let staging = || {
        std::fs::read_dir(d.join("int")).ok().and_then(|es| {
            es.filter_map(|e| e.ok())
                .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
        })
    };
    let rows = || {
        staging()
            .and_then(|s| std::fs::read_to_string(s.join("runs.csv")).ok())
            .map(|t| t.lines().count().saturating_sub(1))
            .unwrap_or(0)
    };
    let start = std::time::Instant::now();
    while rows() < 3 && start.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = rows();
    let staged = staging().expect("the staging directory stays");
    assert!(
        (3..40).contains(&kept),
        "the kill came at {kept} of 40 runs"
    );
    // Another experiment's sweep into the same directory leaves them alone.
    std::fs::write(d.join("other.toml"), SWEEP.replace("seed = 9", "seed = 10")).unwrap();
    let o = aqueduct(
        &d,
        &["sweep", "other.toml", "--out", "int", "--threads", "1"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("resuming"), "{}", stderr(&o));
    assert!(staged.is_dir());
    // The same command resumes.
    let o = bin()
        .args(["sweep", "exp.toml", "--out", "int", "--threads", "2"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "resuming an interrupted sweep: {kept} of 40 runs were done"
        )),
        "{}",
        stderr(&o)
    );
    assert!(
        !staged.exists(),
        "the interrupted staging directory is gone"
    );
    for f in ["runs.csv", "summary.csv", "sweep.json"] {
        assert_eq!(
            std::fs::read(d.join("full").join(f)).unwrap(),
            std::fs::read(d.join("int").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn a_budget_too_small_for_the_components_statistics_is_refused_not_a_panic() {
    // 40 queues under a 1 MiB budget: no shard, worker or key to blame, only the
    // components' statistics. It panicked ("the total exceeds the per-component bytes only
    // through a part").
    let d = scratch("tiny-budget-many-queues");
    let mut m = String::from("name = \"q\"\nduration = \"1s\"\nmemory_budget = \"1MiB\"\n[[producer]]\nname = \"p\"\ntarget = \"sqs:q0\"\nload = { process = \"poisson\", rate_per_s = 1 }\n");
    for i in 0..40 {
        m.push_str(&format!("[[queue]]\nname = \"q{i}\"\n"));
    }
    std::fs::write(d.join("m.toml"), m).unwrap();
    for cmd in ["validate", "run"] {
        let o = aqueduct(&d, &[cmd, "m.toml"]);
        refused(cmd, &o, &["memory_budget", "statistics of 41 components"]);
    }
}
