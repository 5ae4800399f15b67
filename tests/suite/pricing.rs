//! Pricing, end to end: the `price` command on usage files and models, the bill of a
//! simulated run against the analytic estimate, and bad input (exit code 2 with file,
//! line and field).

use aqueduct::estimate;
use aqueduct::pricing::{self, BillOptions, PriceTable};
use aqueduct::{engine, model};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_aqueduct");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh directory for one test's files.
fn dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("aqueduct-pricing-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(d: &Path, name: &str, text: &str) -> String {
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The JSON document of a `price` or `run`: written in full whether its checks pass
/// (exit 0, `"ok": true`) or fail (exit 3, `"ok": false`).
fn json(o: &Output) -> Value {
    let code = o.status.code();
    assert!(matches!(code, Some(0 | 3)), "{}", stderr(o));
    let doc: Value = serde_json::from_str(&stdout(o)).expect("valid JSON");
    if let Some(ok) = doc.get("ok") {
        assert_eq!(ok.as_bool(), Some(code == Some(0)), "{}", stderr(o));
    }
    doc
}

fn line<'a>(doc: &'a Value, component: &str, item_starts: &str) -> &'a Value {
    doc["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| {
            l["component"] == component && l["item"].as_str().unwrap().starts_with(item_starts)
        })
        .unwrap_or_else(|| panic!("no line {component} / {item_starts}"))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

// ----- price on a usage file ----------------------------------------------------------------

#[test]
fn price_usage_file_json_is_the_cost_object() {
    let o = run(&["price", "src/pricing/usage-example.toml", "--json"]);
    let doc = json(&o);
    assert_eq!(doc["currency"], "USD");
    assert_eq!(doc["period"], "month");
    assert_eq!(doc["month_hours"], 730.0);
    assert_eq!(doc["input_kind"], "usage");
    for k in [
        "sqs",
        "sns",
        "kinesis_data_streams",
        "firehose",
        "managed_flink",
        "kinesis_video",
        "lambda",
    ] {
        assert!(doc["services"][k].as_f64().unwrap() > 0.0, "{k}");
    }
    // The total is the sum of the lines, and of the subtotals.
    let lines: f64 = doc["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["usd"].as_f64().unwrap())
        .sum();
    let subtotals: f64 = doc["services"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    let total = doc["total"].as_f64().unwrap();
    assert!(close(lines, total, 1e-6) && close(subtotals, total, 1e-6));
    for l in doc["lines"].as_array().unwrap() {
        for k in [
            "service",
            "component",
            "item",
            "quantity",
            "unit",
            "unit_usd",
            "usd",
        ] {
            assert!(l.get(k).is_some(), "line without {k}");
        }
    }
    // flink.nightly: 30 starts of 5 minutes, billed 10 minutes each × 2 KPUs = 10
    // application KPU-hours (× $0.11 = $1.10), and 5 orchestration KPU-hours.
    let app = line(&doc, "nightly", "application KPU-hours");
    assert_eq!(app["quantity"], 10.0);
    assert!(close(app["usd"].as_f64().unwrap(), 1.10, 1e-9));
    assert_eq!(line(&doc, "nightly", "orchestration")["quantity"], 5.0);
    // sns.events: 10M publishes of 100 KiB = 2 chunks each = 20M requests × $0.50/M.
    let p = line(&doc, "events", "publish requests");
    assert_eq!(p["quantity"], 20_000_000.0);
    assert!(close(p["usd"].as_f64().unwrap(), 10.0, 1e-9));
    // firehose.logs: 1,000 records/s of 1 KB, each billed as 5 KB:
    // 1,000 × 730 × 3,600 × 5,120 B / 2^30 = 12,531.28 GB.
    let f = line(&doc, "logs", "ingest");
    let want = 1000.0 * 730.0 * 3600.0 * 5120.0 / 1_073_741_824.0;
    assert!(close(f["quantity"].as_f64().unwrap(), want, 1e-3));
    // kinesis.audit (on demand): 50 records/s of 4.5 KB, each billed as 5 KB.
    let k = line(&doc, "audit", "data in");
    let want = 50.0 * 730.0 * 3600.0 * 5120.0 / 1_073_741_824.0;
    assert!(close(k["quantity"].as_f64().unwrap(), want, 1e-3));
    // Capacity: the FIFO queue's 400 sends/s exceed 300 TPS.
    let cap = doc["capacity"].as_array().unwrap();
    let send = cap
        .iter()
        .find(|c| c["component"] == "payments.fifo" && c["what"] == "SendMessage calls/s")
        .unwrap();
    assert_eq!(send["value"], 400.0);
    assert_eq!(send["limit"], 300.0);
    assert_ne!(send["verdict"], "ok");
    // Lambda concurrency by Little's law: 50/s × 0.12 s = 6.
    let lam = cap.iter().find(|c| c["service"] == "lambda").unwrap();
    assert!(close(lam["value"].as_f64().unwrap(), 6.0, 1e-9));
}

#[test]
fn free_tier_flag_lowers_the_bill_by_the_free_allowances() {
    let d = dir("free");
    let f = write(
        &d,
        "u.toml",
        "[lambda.f]\nmonthly_requests = 3_000_000\nrequest_duration_ms = 120\nmemory_mb = 512\n",
    );
    // 3M requests of 120 ms at 0.5 GB = 180,000 GB-s.
    // Off: $0.60 + 180,000 × $0.0000166667 = $3.600006. On: 2M × $0.20/M = $0.40.
    let off = json(&run(&["price", &f, "--json"]));
    let on = json(&run(&["price", &f, "--json", "--free-tier"]));
    assert!(close(off["total"].as_f64().unwrap(), 3.600006, 1e-9));
    assert!(close(on["total"].as_f64().unwrap(), 0.40, 1e-9));
    assert_eq!(on["free_tier"], true);
    // Lines carry the quantity net of the free tier, so quantity × unit price = amount,
    // and the free units apart (issue 18).
    let lines = on["lines"].as_array().unwrap();
    let req = lines
        .iter()
        .find(|l| l["item"].as_str().unwrap().starts_with("requests"))
        .unwrap();
    assert_eq!(req["quantity"].as_f64().unwrap(), 2_000_000.0);
    assert_eq!(req["free_quantity"].as_f64().unwrap(), 1_000_000.0);
    assert!(close(
        req["quantity"].as_f64().unwrap() * req["unit_usd"].as_f64().unwrap(),
        req["usd"].as_f64().unwrap(),
        1e-12
    ));
    let gbs = lines
        .iter()
        .find(|l| l["unit"].as_str().unwrap().contains("GB-s"))
        .unwrap();
    assert_eq!(gbs["quantity"].as_f64().unwrap(), 0.0, "{gbs}");
    assert_eq!(gbs["free_quantity"].as_f64().unwrap(), 180_000.0);
    // Without the free tier there is no free_quantity key.
    let off_lines = off["lines"].as_array().unwrap();
    assert!(off_lines.iter().all(|l| l.get("free_quantity").is_none()));
}

#[test]
fn advantage_commitment_is_101_25_per_day() {
    // AWS Big Data Blog (2026), "about $100 a day": 25 MiB/s × 86,400 s = 2,109.375 GiB/day
    // × ($0.032 + $0.016) = $101.25/day. An idle On-demand Advantage stream over a 24-hour
    // "month" pays it.
    let d = dir("advantage");
    let f = write(
        &d,
        "u.toml",
        "[kinesis.adv]\nmode = \"on_demand_advantage\"\n",
    );
    let doc = json(&run(&["price", &f, "--json", "--month-hours", "24"]));
    assert!(close(doc["total"].as_f64().unwrap(), 101.25, 1e-9), "{doc}");
}

#[test]
fn human_output_has_lines_subtotals_total_and_capacity() {
    let o = run(&["price", "src/pricing/usage-example.toml"]);
    // The example's FIFO queue is over its TPS on purpose: the checks fail (exit 3) after
    // the whole output.
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("3 capacity checks failed: sqs payments.fifo"));
    let s = stdout(&o);
    assert!(s.contains("subtotals: sqs $"));
    assert!(s.contains("total: $"));
    assert!(s.contains("capacity"));
    assert!(s.contains("shards needed"));
}

// ----- price on a model ---------------------------------------------------------------------

const CONSTANT_MODEL: &str = r#"
name = "constant"
duration = "10m"
warmup = "1m"
api_latency = "0ms"

[[producer]]
name = "p"
target = "sqs:jobs"
load = { process = "constant", rate_per_s = 20 }
size = "100KB"

[[queue]]
name = "jobs"

[[consumer]]
name = "w"
source = "sqs:jobs"
workers = 4
receive = { wait = "20s" }
service_time = "10ms"
"#;

#[test]
fn price_model_json() {
    let d = dir("model");
    let f = write(&d, "m.toml", CONSTANT_MODEL);
    let doc = json(&run(&["price", &f, "--json"]));
    assert_eq!(doc["input_kind"], "model");
    // 20 msg/s of 100 KiB: send 2 + receive 2 + delete 1 = 5 requests per message;
    // 20 × 5 × 730 × 3,600 = 262,800,000 requests × $0.40/M = $105.12.
    let l = line(&doc, "jobs", "standard requests");
    assert_eq!(l["quantity"], 262_800_000.0);
    assert!(close(doc["total"].as_f64().unwrap(), 105.12, 1e-9));
    // Capacity: 20/s × 10 ms = 0.2 busy workers of 4.
    let cap = &doc["capacity"][0];
    assert!(close(cap["value"].as_f64().unwrap(), 0.2, 1e-9));
    assert_eq!(cap["limit"], 4.0);
}

#[test]
fn price_the_bundled_default_model() {
    let o = run(&["price", "models/default.toml"]);
    // Its bursts need more workers than it has: a failed check, exit code 3.
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stdout(&o).contains("workers needed at the peak rate"));
    assert!(stderr(&o).contains("capacity check failed: sqs order-workers"));
}

#[test]
fn ci_gates_ok_and_fail_above() {
    // price: `ok` follows the capacity checks; `cost` holds the same bill as the top level.
    let doc = json(&run(&["price", "models/sns-fanout.toml", "--json"]));
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["cost"]["total"], doc["total"]);
    assert_eq!(doc["cost"]["lines"], doc["lines"]);
    assert!(doc["capacity"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["ok"] == true));
    let total = doc["total"].as_f64().unwrap();
    // A budget under the bill fails, one over it passes.
    let low = format!("{}", (total - 1.0).max(0.0));
    let high = format!("{}", total + 1.0);
    let o = run(&[
        "price",
        "models/sns-fanout.toml",
        "--json",
        "--fail-above",
        &low,
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(json(&o)["ok"], false);
    assert!(
        stderr(&o).contains("is above --fail-above"),
        "{}",
        stderr(&o)
    );
    let o = run(&["price", "models/sns-fanout.toml", "--fail-above", &high]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // run: the same gate on the simulated bill, and the flat metrics map.
    let args = [
        "run",
        "models/sns-fanout.toml",
        "--duration",
        "2m",
        "--json",
    ];
    let doc = json(&run(&args));
    assert_eq!(doc["ok"], true);
    let m = &doc["metrics"];
    assert_eq!(m["cost.total"], doc["cost"]["total"]);
    let billing = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "queue" && c["name"] == "billing")
        .unwrap();
    assert_eq!(
        m["queue.billing.backlog_max"].as_f64(),
        billing["backlog_max"].as_f64()
    );
    assert!(m["consumer.billing-workers.latency_s.p99"]
        .as_f64()
        .is_some());
    assert_eq!(
        m["accounting.produced"].as_f64(),
        doc["accounting"]["produced"].as_f64()
    );
    let bill = doc["cost"]["total"].as_f64().unwrap();
    let mut over = args.to_vec();
    let low = format!("{}", bill / 2.0);
    over.extend(["--fail-above", &low]);
    let o = run(&over);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(json(&o)["ok"], false);
    // The month is stated: factor = month ÷ window.
    assert!((doc["cost"]["month_factor"].as_f64().unwrap() - 730.0 * 60.0 / 2.0).abs() < 1e-6);
    assert_eq!(doc["cost"]["window_s"].as_f64(), Some(120.0));
    let o = run(&["run", "models/sns-fanout.toml", "--duration", "2m"]);
    // (The line wraps at 100 columns, continuing indented.)
    assert!(
        stdout(&o)
            .replace("\n  ", " ")
            .contains("the 2m measured window repeated 21,900× to fill it"),
        "{}",
        stdout(&o)
    );
    // A budget that is not a number of USD is bad input.
    let o = run(&["price", "models/sns-fanout.toml", "--fail-above", "-1"]);
    assert_eq!(o.status.code(), Some(2));
}

// ----- the bill of a run against the analytic bill ------------------------------------------

/// Runs `src` and estimates it; returns (simulated requests/month, analytic requests/month,
/// simulated total, analytic total, scale).
fn sim_and_estimate(src: &str) -> (f64, f64, f64, f64, f64) {
    let arch = model::load_str(src, "m.toml", Path::new(".")).unwrap();
    let out = engine::run(&arch, 11).unwrap();
    let est = estimate::estimate(&arch, 730.0).unwrap();
    let table = PriceTable::bundled();
    let analytic = aqueduct::services::bill(&est.usage, &table, BillOptions::default()).unwrap();
    let scale = 730.0 * 3600.0 / arch.duration.as_secs_f64();
    let sim_req = out.usage.sqs[0].requests as f64 * scale;
    let est_req = est.usage.sqs[0].requests as f64;
    (
        sim_req,
        est_req,
        out.summary.cost.total,
        analytic.total,
        scale,
    )
}

#[test]
fn run_bill_equals_analytic_bill_for_a_constant_rate() {
    // The simulated window holds 20/s × 600 s = 12,000 messages, ± the one at each edge of
    // the window, each 5 requests; one message more or less is 5 requests × the scale
    // (730 h ÷ 10 min = 4,380) = 21,900 requests a month, $0.00876.
    let (sim, est, sim_usd, est_usd, scale) = sim_and_estimate(CONSTANT_MODEL);
    assert!(
        close(sim, est, 2.0 * 5.0 * scale),
        "sim {sim} vs analytic {est}"
    );
    assert!(
        close(sim_usd, est_usd, 2.0 * 5.0 * scale * 0.40e-6),
        "{sim_usd} vs {est_usd}"
    );
}

#[test]
fn run_bill_with_idle_pollers_matches_the_estimate() {
    // 40 workers long-polling a queue that gets 1 message/s: the estimate says
    // (40 − 0.1) idle workers / 20 s − 1 served = 0.995 empty receives/s. In the simulation
    // a served poll is the oldest one, cut short by a little: the simulated rate is within
    // 1% of it (4.003 requests/s measured with seed 11). Requests: 1 × (send + receive + delete) + 0.995 empty = 3.995/s.
    let src = CONSTANT_MODEL
        .replace("rate_per_s = 20", "rate_per_s = 1")
        .replace("size = \"100KB\"", "size = \"1KB\"")
        .replace("workers = 4", "workers = 40")
        .replace("service_time = \"10ms\"", "service_time = \"100ms\"")
        .replace("duration = \"10m\"", "duration = \"2h\"");
    let (sim, est, _, _, _) = sim_and_estimate(&src);
    let per_s = est / (730.0 * 3600.0);
    assert!(close(per_s, 3.995, 1e-6), "{per_s}");
    assert!(close(sim / est, 1.0, 0.01), "sim {sim} vs analytic {est}");
}

// ----- bad input: exit code 2 with file, line and field -------------------------------------

fn fails_with(o: &Output, needles: &[&str]) {
    assert_eq!(
        o.status.code(),
        Some(2),
        "stdout {} stderr {}",
        stdout(o),
        stderr(o)
    );
    let e = stderr(o);
    for n in needles {
        assert!(e.contains(n), "`{n}` not in: {e}");
    }
}

#[test]
fn unknown_usage_key_suggests_the_nearest() {
    let d = dir("unknown-key");
    let f = write(&d, "u.toml", "[sqs.orders]\nmesages_per_second = 10\n");
    fails_with(
        &run(&["price", &f]),
        &[
            &format!("{f}:2:"),
            "sqs.orders.mesages_per_second",
            "did you mean `messages_per_second`",
        ],
    );
}

#[test]
fn unknown_resource_kind_suggests_the_nearest() {
    let d = dir("unknown-kind");
    let f = write(&d, "u.toml", "\n[kinesys.clicks]\nshards = 1\n");
    fails_with(
        &run(&["price", &f]),
        &[&format!("{f}:2:"), "did you mean `kinesis`"],
    );
}

#[test]
fn negative_quantity_is_refused() {
    let d = dir("negative");
    let f = write(
        &d,
        "u.toml",
        "[lambda.f]\nmemory_mb = 512\nmonthly_requests = -5\n",
    );
    fails_with(
        &run(&["price", &f]),
        &[&format!("{f}:3:"), "lambda.f.monthly_requests", "negative"],
    );
}

#[test]
fn wrong_type_is_refused() {
    let d = dir("type");
    let f = write(&d, "u.toml", "[sqs.q]\nfifo = \"yes\"\n");
    fails_with(
        &run(&["price", &f]),
        &[&format!("{f}:2:"), "expected true or false"],
    );
}

const TABLE_WITHOUT_SQS: &str = r#"
name = "partial"
currency = "USD"
read_on = "2026-01-01"

[price."lambda.requests"]
unit = "request"
per = 1_000_000
tiers = [{ from = 0, usd = 0.20 }]
source = "https://example.com"
tag = "S"
read_on = "2026-01-01"
"#;

#[test]
fn model_needing_a_missing_price_fails_at_its_prices_line() {
    let d = dir("missing-model");
    write(&d, "partial.toml", TABLE_WITHOUT_SQS);
    let m = CONSTANT_MODEL.replace(
        "api_latency = \"0ms\"",
        "api_latency = \"0ms\"\nprices = \"partial.toml\"",
    );
    let f = write(&d, "m.toml", &m);
    // `prices` is on line 6 of the model.
    fails_with(
        &run(&["price", &f]),
        &[
            &format!("{f}:6:"),
            "field `prices`",
            "no price `sqs.standard.requests`",
        ],
    );
    // `run` refuses it too, with exit code 2.
    let o = run(&["run", &f]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("sqs.standard.requests"));
}

#[test]
fn usage_needing_a_missing_price_fails_at_the_resource() {
    let d = dir("missing-usage");
    write(&d, "partial.toml", TABLE_WITHOUT_SQS);
    let f = write(
        &d,
        "u.toml",
        "prices = \"partial.toml\"\n\n[lambda.ok]\nmonthly_requests = 10\n\n[sqs.orders]\nmonthly_requests = 10\n",
    );
    fails_with(
        &run(&["price", &f]),
        &[
            &format!("{f}:6:"),
            "sqs.orders",
            "no price `sqs.standard.requests`",
        ],
    );
}

#[test]
fn malformed_custom_table_names_its_line_and_field() {
    let d = dir("malformed");
    let bad = TABLE_WITHOUT_SQS.replace("usd = 0.20", "usd = \"cheap\"");
    let t = write(&d, "bad.toml", &bad);
    let f = write(
        &d,
        "u.toml",
        "prices = \"bad.toml\"\n[lambda.f]\nmonthly_requests = 10\n",
    );
    // The tiers are on line 9 of the table.
    fails_with(
        &run(&["price", &f]),
        &[&format!("{t}:9:"), "tiers", "malformed price table"],
    );
}

#[test]
fn unreadable_custom_table_is_reported_at_prices() {
    let d = dir("unreadable");
    let f = write(
        &d,
        "u.toml",
        "\nprices = \"nowhere.toml\"\n[sqs.q]\nmonthly_requests = 1\n",
    );
    fails_with(&run(&["price", &f]), &[&format!("{f}:2:"), "nowhere.toml"]);
}

#[test]
fn bad_month_hours_is_refused() {
    let o = run(&[
        "price",
        "src/pricing/usage-example.toml",
        "--month-hours",
        "0",
    ]);
    fails_with(&o, &["--month-hours"]);
}

#[test]
fn bad_model_in_price_fails_with_its_line() {
    let d = dir("bad-model");
    let m = CONSTANT_MODEL.replace("workers = 4", "workers = 0");
    let f = write(&d, "m.toml", &m);
    fails_with(&run(&["price", &f]), &[&format!("{f}:"), "workers"]);
}

#[test]
fn a_poller_every_100ms_makes_864000_empty_receives_a_day() {
    // A consumer polling every 100 ms makes 864,000 empty receives a day: 86,400 s ÷ 0.1 s. One short-polling worker on an empty queue, zero latency,
    // 100 ms between polls; priced over a 24-hour "month".
    let src = r#"
name = "idle"
duration = "1h"
api_latency = "0ms"

[[queue]]
name = "q"

[[consumer]]
name = "w"
source = "sqs:q"
workers = 1
receive = { wait = "0s" }
poll_interval = "100ms"
service_time = "10ms"
"#;
    let arch = model::load_str(src, "idle.toml", Path::new(".")).unwrap();
    let est = estimate::estimate(&arch, 24.0).unwrap();
    assert_eq!(est.usage.sqs[0].empty_receives, 864_000);
    assert_eq!(est.usage.sqs[0].requests, 864_000);
    // The simulation agrees: 3,600 s ÷ 0.1 s = 36,000 empty receives in its hour (± the
    // poll at the edge of the window).
    let out = engine::run(&arch, 1).unwrap();
    let sim = out.usage.sqs[0].empty_receives as f64;
    assert!(close(sim, 36_000.0, 1.0), "{sim}");
    // Priced: 864,000 × $0.40/M = $0.3456 a day; with the free tier, nothing.
    let table = PriceTable::bundled();
    let opts = BillOptions {
        month_hours: 24.0,
        free_tier: false,
    };
    let b = aqueduct::services::bill(&est.usage, &table, opts).unwrap();
    assert!(close(b.total, 0.3456, 1e-12), "{}", b.total);
    let free = BillOptions {
        free_tier: true,
        ..opts
    };
    let b = aqueduct::services::bill(&est.usage, &table, free).unwrap();
    assert_eq!(b.total, 0.0);
}

#[test]
fn bursty_default_model_estimate_is_near_its_simulation() {
    // The bundled model: 200 orders/s with a 30 s burst to 600/s every 10 minutes, into 40
    // workers (lognormal service, median 80 ms), receiving up to 10 per call. Bursts build
    // a backlog of about 10,000 messages that receives drain 10 at a time; the fluid model
    // of the estimate follows it. Over two burst cycles (20 minutes) the estimated requests
    // are within 3% of the simulated ones (measured: $624.40 vs $620.58 a month, 0.6%; the
    // largest backlog 9,949 vs 9,891).
    let mut arch = model::load_default().unwrap();
    arch.duration = aqueduct::sim::SimDuration::from_secs(20 * 60);
    let out = engine::run(&arch, 42).unwrap();
    let est = estimate::estimate(&arch, 730.0).unwrap();
    let scale = 730.0 * 3600.0 / arch.duration.as_secs_f64();
    let sim = out.usage.sqs[0].requests as f64 * scale;
    let analytic = est.usage.sqs[0].requests as f64;
    assert!(
        close(analytic / sim, 1.0, 0.03),
        "analytic {analytic} vs simulated {sim}"
    );
    let backlog = est
        .capacity
        .iter()
        .find(|c| c.what.starts_with("largest backlog"))
        .unwrap();
    let sim_backlog = out.summary.metric("queue.orders.backlog_max").unwrap();
    assert!(
        close(backlog.value / sim_backlog, 1.0, 0.15),
        "{} vs {sim_backlog}",
        backlog.value
    );
}

// ----- Lambda and Kinesis: the bill of a run against the analytic bill ---------------------

/// Runs `src` (seed 11) and estimates it; returns both bills over a 730-hour month.
fn both_bills(src: &str) -> (pricing::Bill, pricing::Bill, estimate::Estimate) {
    let arch = model::load_str(src, "m.toml", Path::new(".")).unwrap();
    let out = engine::run(&arch, 11).unwrap();
    let est = estimate::estimate(&arch, 730.0).unwrap();
    let analytic =
        aqueduct::services::bill(&est.usage, &PriceTable::bundled(), BillOptions::default())
            .unwrap();
    (out.summary.cost, analytic, est)
}

/// The quantity of the line of `component` whose item starts with `item` (0 if none).
fn qty(b: &pricing::Bill, component: &str, item: &str) -> f64 {
    b.lines
        .iter()
        .filter(|l| l.component == component && l.item.starts_with(item))
        .map(|l| l.quantity)
        .sum()
}

/// Asserts that the estimate's quantity is within `tol` (relative) of the run's.
fn agrees(run: &pricing::Bill, est: &pricing::Bill, component: &str, item: &str, tol: f64) {
    let (r, e) = (qty(run, component, item), qty(est, component, item));
    assert!(r > 0.0, "the run bills no {component} / {item}");
    assert!(
        close(e / r, 1.0, tol),
        "{component} / {item}: estimate {e} vs run {r} ({:+.2}%)",
        (e / r - 1.0) * 100.0
    );
}

const SQS_LAMBDA_STEADY: &str = r#"
name = "sqs-lambda-steady"
duration = "20m"
warmup = "2m"

[[producer]]
name = "p"
target = "sqs:jobs"
load = { process = "constant", rate_per_s = 50 }
size = "2KB"

[[queue]]
name = "jobs"
dead_letter = { queue = "jobs-dlq", max_receive_count = 5 }

[[queue]]
name = "jobs-dlq"

[[lambda]]
name = "work"
source = "sqs:jobs"
batch_size = 10
memory_mb = 512
duration = "100ms"
per_record = "20ms"
failure_probability = 0.01
report_batch_item_failures = true
invoke_overhead = "30ms"
"#;

#[test]
fn run_bill_matches_the_estimate_for_lambda_behind_sqs() {
    // 50 messages/s, evenly spaced, so the window holds exactly 60,000 of them. The mapping
    // adds pollers until an arrival always finds one waiting, so each receive returns the
    // one message that just arrived: one invocation per delivery. With batch item failures
    // reported, 1% of deliveries come back: 1/0.99 = 1.0101 deliveries per message.
    // Per second: 50.505 invocations (requests), each 100 + 20 = 120 ms at 0.5 GB =
    // 0.06 GB-s → 3.0303 GB-s/s; SQS: 50 sends + 50.505 receives + 50 DeleteMessageBatch
    // = 150.505 requests/s. Tolerance 0.5%: the run's deliveries fail at random (about
    // 600 redeliveries in the window, ±25, i.e. ±0.04% of the invocations), and now and
    // then every poller is busy and a receive takes two messages (measured with seed 11:
    // +0.03% on invocations, +0.01% on SQS requests).
    let (run, est, e) = both_bills(SQS_LAMBDA_STEADY);
    let month = 730.0 * 3600.0;
    assert!(close(
        qty(&est, "work", "requests") / month,
        50.0 / 0.99,
        1e-6
    ));
    assert!(close(
        qty(&est, "work", "duration") / month,
        50.0 / 0.99 * 0.12 * 0.5,
        1e-6
    ));
    assert!(close(
        qty(&est, "jobs", "standard requests") / month,
        50.0 + 50.0 / 0.99 + 50.0,
        1e-6
    ));
    for (c, item) in [
        ("jobs", "standard requests"),
        ("work", "requests"),
        ("work", "duration"),
    ] {
        agrees(&run, &est, c, item, 0.005);
    }
    // Little's law: 50.505 invocations/s × (0.03 s of invoke overhead + 0.12 s) = 7.58
    // concurrent executions of the account's 1,000.
    let cap = e
        .capacity
        .iter()
        .find(|c| c.service == "lambda" && c.component == "work")
        .unwrap();
    assert!(close(cap.value, 50.0 / 0.99 * 0.15, 1e-6), "{}", cap.value);
    assert_eq!(cap.limit, Some(1000.0));
    assert_eq!(cap.verdict, "ok");
}

#[test]
fn run_bill_matches_the_estimate_when_the_mapping_is_capped() {
    // maximum_concurrency = 5 pollers for 80 messages/s of 100 ms + 20 ms per record: one
    // message per invocation would need 80 × 0.12 = 9.6 pollers, so the five are always
    // busy and each receive takes what arrived during its poller's last cycle: the
    // estimate's batch m solves m = a·L₀/(1 − a·s′) with a = 80/0.98/5 per poller, L₀ =
    // 100 ms (+ two API round trips), s′ = 20 ms: about 2.9 messages per invocation.
    // Tolerances: with batch item failures, 3% — the fluid batch size against the run's
    // random ones (measured with seed 11: +1.1% invocations, +0.7% GB-s, +0.6% SQS
    // requests). Without them a failure returns the whole batch; the estimate charges
    // every batch the failure chance of the mean batch, 1 − 0.98^m, but that chance is
    // concave in the batch size, so random batches fail less often than the mean one: 5%
    // (measured: +2.9% invocations, +1.2% SQS requests, +0.1% GB-s).
    let capped = SQS_LAMBDA_STEADY
        .replace("rate_per_s = 50", "rate_per_s = 80")
        .replace(
            "batch_size = 10",
            "batch_size = 10\nmaximum_concurrency = 5",
        )
        .replace("failure_probability = 0.01", "failure_probability = 0.02");
    let (run, est, e) = both_bills(&capped);
    for (c, item) in [
        ("jobs", "standard requests"),
        ("work", "requests"),
        ("work", "duration"),
    ] {
        agrees(&run, &est, c, item, 0.03);
    }
    // Little's law against the mapping's cap: about 4.5 of 5 concurrent executions.
    let cap = e
        .capacity
        .iter()
        .find(|c| c.service == "lambda" && c.what.starts_with("concurrent executions, mean"))
        .unwrap();
    assert_eq!(cap.limit, Some(5.0));
    assert!(cap.value > 4.0 && cap.value < 5.0, "{}", cap.value);
    let whole = capped.replace(
        "report_batch_item_failures = true",
        "report_batch_item_failures = false",
    );
    let (run2, est2, _) = both_bills(&whole);
    for (c, item) in [
        ("jobs", "standard requests"),
        ("work", "requests"),
        ("work", "duration"),
    ] {
        agrees(&run2, &est2, c, item, 0.05);
    }
}

const KINESIS_CONSTANT: &str = r#"
name = "kinesis-constant"
duration = "20m"
warmup = "2m"

[[producer]]
name = "p"
target = "kinesis:s"
load = { process = "constant", rate_per_s = 30 }
size = "30KB"

[[stream]]
name = "s"
mode = "provisioned"
shards = 1

[[lambda]]
name = "f"
source = "kinesis:s"
batch_size = 10
parallelization_factor = 2
memory_mb = 256
duration = "50ms"
per_record = "1ms"
invoke_overhead = "30ms"
"#;

#[test]
fn run_bill_matches_the_estimate_for_a_provisioned_stream_and_its_lambda() {
    // One shard, 30 records/s of 30 KB + a 36-byte random partition key = 30,756 B: 2 PUT
    // payload units each (25,600 B a unit): 60 units/s = 157,680,000 a month; 730
    // shard-hours. The mapping polls once a second and gets 30 records, 15 per lane
    // (factor 2), so each lane invokes on 10 and then 5: 4 invocations/s = 10,512,000 a
    // month, billed 50 + 10 = 60 ms and 50 + 5 = 55 ms at 0.25 GB: (2 × 0.060 + 2 ×
    // 0.055) × 0.25 = 0.0575 GB-s/s. Tolerance 0.5%: the load is evenly spaced, so only
    // the records and polls at the window's edges can differ (measured with seed 11:
    // equal to the unit).
    let (run, est, e) = both_bills(KINESIS_CONSTANT);
    let month = 730.0 * 3600.0;
    assert_eq!(qty(&est, "s", "shard-hours"), 730.0);
    assert_eq!(qty(&est, "s", "PUT payload units"), 157_680_000.0);
    assert!(close(qty(&est, "f", "requests"), 4.0 * month, 1.0));
    assert!(close(qty(&est, "f", "duration") / month, 0.0575, 1e-9));
    for (c, item) in [
        ("s", "shard-hours"),
        ("s", "PUT payload units"),
        ("f", "requests"),
        ("f", "duration"),
    ] {
        agrees(&run, &est, c, item, 0.005);
    }
    // Sizing: 30 records/s × 31 KB (30,756 B rounded up to whole KB) = 930 KiB/s of 1,024
    // and one shared reader: 1 shard, the one configured.
    let shards = e
        .capacity
        .iter()
        .find(|c| c.what.starts_with("shards needed"))
        .unwrap();
    assert_eq!((shards.value, shards.limit), (1.0, Some(1.0)));
    // Concurrency: two lanes can run at once (1 shard × factor 2).
    let conc = e
        .capacity
        .iter()
        .find(|c| c.service == "lambda" && c.what.starts_with("concurrent executions, mean"))
        .unwrap();
    assert_eq!(conc.limit, Some(2.0));
    // 4 invocations/s × (30 ms of invoke overhead, which holds the slot, + 57.5 ms) = 0.35.
    assert!(close(conc.value, 0.35, 1e-9), "{}", conc.value);
}

const KINESIS_ON_DEMAND: &str = r#"
name = "kinesis-on-demand"
duration = "20m"
warmup = "2m"

[[producer]]
name = "p"
target = "kinesis:s"
load = { process = "poisson", rate_per_s = 200 }
size = "4.5KB"
batch = 50
linger = "100ms"

[[stream]]
name = "s"
mode = "on_demand"
retention = "48h"

[[stream_consumer]]
name = "archive"
source = "kinesis:s"
mode = "polling"
service_time = "50us"

[[stream_consumer]]
name = "fan"
source = "kinesis:s"
mode = "efo"
service_time = "50us"

[[lambda]]
name = "f"
source = "kinesis:s"
batch_size = 100
memory_mb = 1024
duration = "30ms"
per_record = "100us"
"#;

#[test]
fn run_bill_matches_the_estimate_for_an_on_demand_stream() {
    // 200 records/s of 4,608 B + a 36-byte key = 4,644 B, billed 5 KB (5,120 B) each:
    // data in 200 × 2,628,000 × 5,120 B / 2^30 = 2,506.3 GB a month; data out for two
    // shared readers (the polling consumer and the Lambda mapping) 2 × 200 × 2,628,000 ×
    // 4,644 B / 2^30 = 4,546.5 GB; enhanced fan-out data for one consumer half that;
    // retention 48 h holds each GB 24 h beyond the included day: 2,273.3 GB × 24 h / 730 h
    // = 74.7 GB-months; 730 stream-hours. The mapping polls each of the 4 shards once a
    // second (50 records, one batch): 4 invocations/s of 30 + 5 = 35 ms at 1 GB.
    // Tolerance 1%: the run's Poisson load puts 240,000 ± 490 records in its window
    // (±0.2%; measured with seed 11: −0.06% to −0.07%); invocations are one a poll
    // whatever the count, of constant durations.
    let (run, est, e) = both_bills(KINESIS_ON_DEMAND);
    let month = 730.0 * 3600.0;
    let gb = 1_073_741_824.0;
    assert!(close(
        qty(&est, "s", "data in"),
        200.0 * month * 5120.0 / gb,
        1e-6
    ));
    assert!(close(
        qty(&est, "s", "data out"),
        2.0 * 200.0 * month * 4644.0 / gb,
        1e-6
    ));
    assert_eq!(qty(&est, "s", "stream-hours"), 730.0);
    assert!(close(qty(&est, "f", "requests"), 4.0 * month, 1.0));
    for (c, item) in [
        ("s", "stream-hours"),
        ("s", "data in"),
        ("s", "data out"),
        ("s", "enhanced fan-out data"),
        ("s", "extended retention"),
        ("f", "requests"),
        ("f", "duration"),
    ] {
        agrees(&run, &est, c, item, 0.01);
    }
    // One enhanced fan-out consumer of the 20 a stream may register.
    let efo = e
        .capacity
        .iter()
        .find(|c| c.what == "enhanced fan-out consumers")
        .unwrap();
    assert_eq!((efo.value, efo.limit), (1.0, Some(20.0)));
}

#[test]
fn bundled_clickstream_estimate_is_near_its_simulation() {
    // models/clickstream.toml: 1,000 records/s (Poisson, lognormal sizes) into 2 shards,
    // a Lambda mapping (batch 100, factor 2, window 500 ms) and a polling archiver. Each
    // poll brings a shard about 500 records, 250 a lane: 3 invocations a lane, 12 a second.
    // Tolerance 2%: Poisson counts (±0.1% over the 30 minutes) and the lognormal
    // durations' sample mean over 21,600 invocations (±0.5%); measured with seed 11:
    // PUT units −0.07%, invocations −0.07%, GB-s +0.8%, total +0.15%.
    let src = std::fs::read_to_string("models/clickstream.toml").unwrap();
    let (run, est, _) = both_bills(&src);
    for (c, item) in [
        ("clicks", "shard-hours"),
        ("clicks", "PUT payload units"),
        ("sessionize", "requests"),
        ("sessionize", "duration"),
    ] {
        agrees(&run, &est, c, item, 0.02);
    }
    assert!(close(est.total / run.total, 1.0, 0.02));
}

#[test]
fn price_bundled_lambda_and_kinesis_models_bills_them() {
    // `price` on the bundled models now prices their Lambda functions and streams.
    // Its month is made of two scenarios: each has its lines.
    let doc = json(&run(&["price", "models/sqs-lambda.toml", "--json"]));
    assert!(doc["services"]["lambda"].as_f64().unwrap() > 0.0, "{doc}");
    for s in ["quiet", "spike"] {
        line(&doc, &format!("make-thumbnail [{s}]"), "requests");
        line(&doc, &format!("make-thumbnail [{s}]"), "duration (arm64)");
        line(&doc, &format!("images [{s}]"), "standard requests");
    }
    let doc = json(&run(&["price", "models/clickstream.toml", "--json"]));
    for k in ["kinesis_data_streams", "lambda"] {
        assert!(doc["services"][k].as_f64().unwrap() > 0.0, "{k}: {doc}");
    }
    // 2 provisioned shards for 730 h = 1,460 shard-hours × $0.015 = $21.90.
    let sh = line(&doc, "clicks", "shard-hours");
    assert_eq!(sh["quantity"], 1460.0);
    assert!(close(sh["usd"].as_f64().unwrap(), 21.90, 1e-9));
    line(&doc, "clicks", "PUT payload units");
    line(&doc, "sessionize", "requests");
    let cap = doc["capacity"].as_array().unwrap();
    assert!(cap
        .iter()
        .any(|c| c["what"].as_str().unwrap().starts_with("shards needed")));
}

#[test]
fn bundled_sqs_lambda_spike_estimate_is_near_its_simulation() {
    // models/sqs-lambda.toml: 100 uploads/s with a 10-minute spike to 1,000/s. The fluid
    // model grows the mapping's pollers by 5 a second while messages wait, as the
    // simulator does, and bills the batches the backlog makes. Tolerance 6%: in the run the
    // pollers also grow on random bursts and then stay (they stop only after a 20 s empty
    // poll), so at the spike's start it has more of them than the fluid model, and near
    // saturation random bursts batch a few messages more (measured with seed 11: SQS
    // requests +3.0%, invocations +4.6%, GB-s +3.6%; with the model's seed 7: +2.3%,
    // +3.6%, +2.7%).
    let src = std::fs::read_to_string("models/sqs-lambda.toml").unwrap();
    let (run, est, _) = both_bills(&src);
    for (c, item) in [
        ("images", "standard requests"),
        ("make-thumbnail", "requests"),
        ("make-thumbnail", "duration"),
    ] {
        agrees(&run, &est, c, item, 0.06);
    }
}

// ----- SNS: the bill of a run against the analytic bill --------------------------------------
//
// The estimate and the simulator agree on the mean; what separates a run's bill from the
// estimate on these steady loads is the Poisson noise of the counts in the run's window:
// a count of N events has a relative standard deviation of about 1/√N (batched calls and
// filtered shares vary less than a Poisson count of the same size, so this bounds them).
// Each tolerance below is 4/√N for the count N behind the line, stated with N.

const SNS_FANOUT_STEADY: &str = r#"
name = "sns-fanout-steady"
duration = "10m"
warmup = "1m"

[[producer]]
name = "shop"
target = "sns:events"
load = { process = "poisson", rate_per_s = 200 }
size = "2KB"
batch = 10
linger = "50ms"
attributes = { type = { order = 0.6, refund = 0.3, void = 0.1 }, amount = { dist = "uniform", min = 0, max = 500 }, tier = { values = { gold = 0.2, silver = 0.8 }, present = 0.5 } }

[[topic]]
name = "events"

[[subscription]]
name = "orders"
topic = "events"
endpoint = "sqs:orders"
filter = { type = ["order"] }
raw_message_delivery = true

[[subscription]]
name = "review"
topic = "events"
endpoint = "sqs:review"
filter = { "$or" = [{ type = ["refund"] }, { amount = [{ numeric = [">", 400] }] }] }

[[subscription]]
name = "gold"
topic = "events"
endpoint = "sqs:gold"
filter = { tier = ["gold"], type = [{ anything-but = ["void"] }] }
raw_message_delivery = true

[[queue]]
name = "orders"
[[queue]]
name = "review"
[[queue]]
name = "gold"

[[consumer]]
name = "orders-w"
source = "sqs:orders"
workers = 8
receive = { wait = "20s" }
service_time = "20ms"

[[consumer]]
name = "review-w"
source = "sqs:review"
workers = 8
receive = { wait = "20s" }
service_time = "20ms"

[[consumer]]
name = "gold-w"
source = "sqs:gold"
workers = 4
receive = { wait = "20s" }
service_time = "20ms"
"#;

#[test]
fn run_bill_matches_the_estimate_for_sns_fan_out_with_filters() {
    // 200 messages/s for 10 minutes: N = 120,000 published, in PublishBatch calls of up to
    // 10 (50 ms linger: Poisson(10) arrivals per linger, E[k] ≈ 9.2, one 64 KiB chunk of
    // 2 KiB messages each): about 13,000 calls, tolerance 4/√13,000 = 3.5%.
    // Filters (worked out in `services::sns::estimate`): orders P(order) = 0.6; review
    // P(refund ∨ amount > 400) = 0.3 + 0.7 × 0.2 = 0.44; gold P(tier = gold) × P(type ≠
    // void) = 0.5 × 0.2 × 0.9 = 0.09; none of them: P(void) × P(amount ≤ 400) = 0.1 × 0.8 =
    // 0.08 filtered out. Deliveries: 1.13 × 120,000 = 135,600 (1.1%). Each queue bills a
    // SendMessage (2 KiB raw, 3 KiB in the envelope: one chunk), a ReceiveMessage and a
    // DeleteMessage per delivery, and its long-polling workers are never idle for 20 s:
    // 72,000 (1.5%), 52,800 (1.7%) and 10,800 (3.8%) deliveries. Measured with seed 11
    // (estimate against run): publishes −0.2%, deliveries −0.2%, queues −0.3%, −0.1%,
    // 0.0%, total −0.2% ($741.26 vs $742.62); filtered out 16.0/s vs 16.19/s (−1.1%).
    let arch = model::load_str(SNS_FANOUT_STEADY, "m.toml", Path::new(".")).unwrap();
    let (run, est, e) = both_bills(SNS_FANOUT_STEADY);
    agrees(&run, &est, "events", "publish requests", 0.035);
    agrees(&run, &est, "events", "deliveries to sqs", 0.011);
    agrees(&run, &est, "orders", "standard requests", 0.015);
    agrees(&run, &est, "review", "standard requests", 0.017);
    agrees(&run, &est, "gold", "standard requests", 0.038);
    assert!(
        close(est.total / run.total, 1.0, 0.011),
        "{} vs {}",
        est.total,
        run.total
    );
    // Filtered out: 0.08 × 200 = 16/s, N = 9,600 in the window: 4/√9,600 = 4.1%.
    let per_s = e
        .capacity
        .iter()
        .find(|c| c.component == "events" && c.what.starts_with("messages/s filtered out"))
        .unwrap()
        .value;
    assert!(close(per_s, 16.0, 1e-6), "{per_s}");
    let out = engine::run(&arch, 11).unwrap();
    let sim = out.summary.metric("topic.events.filtered_out").unwrap() / 600.0;
    assert!(close(sim / per_s, 1.0, 0.041), "{sim} vs {per_s}");
}

const SNS_FIFO_STEADY: &str = r#"
name = "sns-fifo-steady"
duration = "10m"
warmup = "1m"

[[producer]]
name = "payments"
target = "sns:ledger.fifo"
load = { process = "poisson", rate_per_s = 80 }
size = "1KB"
batch = 5
linger = "100ms"
group = { dist = "uniform", keys = 500 }
attributes = { kind = { debit = 0.75, credit = 0.25 } }

[[topic]]
name = "ledger.fifo"
kind = "fifo"

[[subscription]]
name = "all"
topic = "ledger.fifo"
endpoint = "sqs:ledger.fifo"

[[subscription]]
name = "credits"
topic = "ledger.fifo"
endpoint = "sqs:credits.fifo"
filter = { kind = ["credit"] }
raw_message_delivery = true

[[queue]]
name = "ledger.fifo"
kind = "fifo"

[[queue]]
name = "credits.fifo"
kind = "fifo"

[[consumer]]
name = "ledger-w"
source = "sqs:ledger.fifo"
workers = 8
receive = { wait = "20s" }
service_time = "20ms"

[[consumer]]
name = "credits-w"
source = "sqs:credits.fifo"
workers = 4
receive = { wait = "20s" }
service_time = "20ms"
"#;

#[test]
fn run_bill_matches_the_estimate_for_a_fifo_topic() {
    // 80 messages/s of 1 KiB for 10 minutes: N = 48,000 published, in calls of up to 5
    // (100 ms linger: Poisson(8) arrivals, so almost always 5): about 9,700 calls (4.1%);
    // payload GB ∝ 48,000 messages (1.8%). Deliveries: every message to "all", a quarter
    // to "credits": 60,000 FIFO subscription messages and their GB (1.6%); the credits
    // queue's 12,000 deliveries (3.7%), the ledger queue's 48,000 (1.8%). Measured with
    // seed 11 (estimate against run): publish requests +0.05%, publish GB +0.08%,
    // deliveries and their GB +0.2%, queues +0.07% and +0.7%.
    let (run, est, _) = both_bills(SNS_FIFO_STEADY);
    agrees(&run, &est, "ledger.fifo", "FIFO publish requests", 0.041);
    agrees(&run, &est, "ledger.fifo", "FIFO publish payload", 0.018);
    agrees(
        &run,
        &est,
        "ledger.fifo",
        "FIFO subscription messages",
        0.016,
    );
    agrees(
        &run,
        &est,
        "ledger.fifo",
        "FIFO subscription payload",
        0.016,
    );
    agrees(&run, &est, "ledger.fifo", "FIFO requests", 0.018);
    agrees(&run, &est, "credits.fifo", "FIFO requests", 0.037);
}

const SNS_HTTP_FAILURES: &str = r#"
name = "sns-http-failures"
duration = "20m"
warmup = "3m"

[[producer]]
name = "alerts"
target = "sns:alerts"
load = { process = "poisson", rate_per_s = 100 }
size = "3KB"
attributes = { severity = { info = 0.9, critical = 0.1 } }

[[topic]]
name = "alerts"

[[subscription]]
name = "webhook"
topic = "alerts"
endpoint = "https:pager"
failure_probability = 0.5
dead_letter = "sqs:webhook-dlq"

[[subscription]]
name = "audit"
topic = "alerts"
endpoint = "lambda:audit"

[[subscription]]
name = "mail"
topic = "alerts"
endpoint = "email:oncall"
filter = { severity = ["critical"] }

[[queue]]
name = "webhook-dlq"

[[lambda]]
name = "audit"
memory_mb = 256
duration = "50ms"
failure_probability = 0.1
"#;

#[test]
fn run_bill_matches_the_estimate_for_http_failures_and_lambda() {
    // 100 alerts/s for 20 minutes: N = 120,000 Publish calls (1.2%). The webhook fails half
    // its attempts; the HTTP/S default policy retries 3 times, 20 s apart (the 3-minute
    // warm-up covers the 60 s schedule): 1 − ½⁴ = 93.75% delivered, 112,500 billed HTTP
    // deliveries (1.2%), and 6.25% moved to the dead-letter queue, one SendMessage each:
    // 7,500 (4.6%). Email: the 10% critical ones, 12,000 (3.7%). The function fails 10% of
    // its invocations and AWS retries twice: 1 + 0.1 + 0.01 = 1.11 invocations per event,
    // 133,200 (1.1%), 50 ms each at 256 MB (constant, so GB-s follow the invocations; the
    // estimate counts no cold start after the warm-up, the run's few are within the
    // tolerance). Measured with seed 11 (estimate against run): publishes +0.04%, HTTP
    // +0.2%, dead-letter queue −2.6% (2.3σ, σ = 1/√7,500), email +0.5%, invocations
    // +0.1%, GB-s +0.1%, total +0.3% ($930.51 vs $927.56).
    let (run, est, _) = both_bills(SNS_HTTP_FAILURES);
    agrees(&run, &est, "alerts", "publish requests", 0.012);
    agrees(&run, &est, "alerts", "deliveries to http", 0.012);
    agrees(&run, &est, "alerts", "deliveries to email", 0.037);
    agrees(&run, &est, "webhook-dlq", "standard requests", 0.046);
    agrees(&run, &est, "audit", "requests", 0.011);
    agrees(&run, &est, "audit", "duration", 0.012);
    assert!(
        close(est.total / run.total, 1.0, 0.012),
        "{} vs {}",
        est.total,
        run.total
    );
}

#[test]
fn bundled_sns_fanout_estimate_is_near_its_simulation() {
    // models/sns-fanout.toml over 20 minutes (seed 7): 300 events/s in PublishBatch calls
    // of 10 to three queues (orders 70% and refunds 30%, raw; analytics all, in the JSON
    // envelope), each drained by 6 to 30 workers receiving up to 10 per call with batched
    // deletes. The SNS lines are Poisson counts: N ≈ 36,000 calls (2.1%), 720,000
    // deliveries (0.5%). The queues' requests depend on how many messages a receive brings
    // back, which the pool model of `services::sqs::estimate` approximates (it gives the
    // same gap with a producer sending straight to the queue): it counts about 10% fewer
    // per receive than the simulator for "analytics" (6 workers, 50 messages/s each),
    // whose requests it puts 5% above the run's, and 1% for the others. Tolerance 7% per
    // queue, 4% on the total. Measured here (estimate against run): publishes −0.03%,
    // deliveries −0.05%, billing +0.9%, refunds +0.9%, analytics +5.2%, total $1,642.78
    // vs $1,601.62 (+2.6%); over the bundled hour (`aqueduct price` vs `aqueduct run`):
    // publishes −0.1%, deliveries −0.1%, billing +0.8%, refunds +1.0%, analytics +5.3%,
    // total $1,642.78 vs $1,601.91 (+2.6%).
    let mut arch = model::load_file(Path::new("models/sns-fanout.toml")).unwrap();
    arch.duration = aqueduct::sim::SimDuration::from_secs(20 * 60);
    let out = engine::run(&arch, 7).unwrap();
    let e = estimate::estimate(&arch, 730.0).unwrap();
    let est =
        aqueduct::services::bill(&e.usage, &PriceTable::bundled(), BillOptions::default()).unwrap();
    let run = out.summary.cost;
    agrees(&run, &est, "orders", "publish requests", 0.021);
    agrees(&run, &est, "orders", "deliveries to sqs", 0.005);
    for q in ["billing", "refunds", "analytics"] {
        agrees(&run, &est, q, "standard requests", 0.07);
    }
    assert!(
        close(est.total / run.total, 1.0, 0.04),
        "{} vs {}",
        est.total,
        run.total
    );
}

#[test]
fn price_bundled_sns_fanout_bills_the_topic_and_its_queues() {
    // `price models/sns-fanout.toml`: the topic's publishes and deliveries, and the three
    // queues its subscriptions feed, with the filter split in the capacity answer.
    let doc = json(&run(&["price", "models/sns-fanout.toml", "--json"]));
    assert!(doc["services"]["sns"].as_f64().unwrap() > 0.0, "{doc}");
    // 300/s in calls of 10 (Poisson(15) arrivals per 50 ms linger: always 10 but for
    // P(N ≤ 8) = 0.037): ≈ 30.1 calls/s, a few of 2 chunks; ≈ 81.5M requests a month.
    let p = line(&doc, "orders", "publish requests")["quantity"]
        .as_f64()
        .unwrap();
    assert!(close(p / 81.5e6, 1.0, 0.01), "{p}");
    // Deliveries: 0.7 + 0.3 + 1 per message: 600/s × 2,628,000 s.
    assert_eq!(
        line(&doc, "orders", "deliveries to sqs")["quantity"],
        1_576_800_000.0
    );
    for q in ["billing", "refunds", "analytics"] {
        line(&doc, q, "standard requests");
    }
    let cap = doc["capacity"].as_array().unwrap();
    let share = |name: &str| {
        cap.iter()
            .find(|c| c["component"] == name && c["what"].as_str().unwrap().starts_with("share"))
            .unwrap()["value"]
            .as_f64()
            .unwrap()
    };
    assert!(close(share("billing"), 0.7, 1e-12) && close(share("refunds"), 0.3, 1e-12));
    assert!(!doc.to_string().contains("not in this estimate"));
}

const KINESIS_KPL: &str = r#"
name = "kinesis-kpl"
duration = "20m"
warmup = "2m"

[[producer]]
name = "p"
target = "kinesis:s"
load = { process = "poisson", rate_per_s = 2000 }
size = "100B"
batch = 100
partition_key = { dist = "uniform", keys = 100 }
aggregation = { max_buffered = "100ms" }

[[stream]]
name = "s"
shards = 2
"#;

#[test]
fn run_bill_matches_the_estimate_for_a_kpl_aggregating_producer() {
    // 2,000 user records/s of 100 B over 100 keys into 2 shards, shard s taking a share
    // q_s of the keys (by their MD5). An aggregate opens at a user record and is sealed
    // 100 ms later (it never fills 51,200 B: ~1 + 1,000 × 0.1 = 101 records of ~106 B),
    // so with Poisson arrivals a shard writes λ_s / (1 + λ_s T) aggregates per second
    // (renewal: each cycle is T plus the mean gap 1/λ_s), each ~11 KB: one PUT payload
    // unit, ~2 × 1,000 / 101 ≈ 19.8 units/s instead of 2,000. Tolerance 3%: the run's
    // ~43,000 aggregates in its window carry ±0.5% count noise, and a shard's Poisson
    // thinning of the keys is what the estimate's shares assume.
    let (run, est, _) = both_bills(KINESIS_KPL);
    let month = 730.0 * 3600.0;
    let units = qty(&est, "s", "PUT payload units") / month;
    assert!((17.0..23.0).contains(&units), "{units} units/s");
    agrees(&run, &est, "s", "PUT payload units", 0.03);
    agrees(&run, &est, "s", "shard-hours", 1e-9);
}

#[test]
fn price_takes_set_overrides_like_run() {
    // `price MODEL --set PATH=VALUE` prices the model as changed: the same bill and
    // capacity as the file written with that value. A usage file has no model fields.
    let d = dir("set");
    let model = std::fs::read_to_string("models/default.toml").unwrap();
    let changed = model.replace("base_per_s = 200,", "base_per_s = 350,");
    assert_ne!(model, changed);
    let edited = write(&d, "edited.toml", &changed);
    let with_set = json(&run(&[
        "price",
        "models/default.toml",
        "--json",
        "--set",
        "producer.web.load.base_per_s=350",
    ]));
    let by_hand = json(&run(&["price", &edited, "--json"]));
    let plain = json(&run(&["price", "models/default.toml", "--json"]));
    assert_eq!(with_set["lines"], by_hand["lines"]);
    assert_eq!(with_set["capacity"], by_hand["capacity"]);
    assert!(with_set["total"].as_f64().unwrap() > plain["total"].as_f64().unwrap());
    assert_ne!(with_set["capacity"], plain["capacity"]);

    let o = run(&[
        "price",
        "src/pricing/usage-example.toml",
        "--set",
        "sqs.orders.monthly_requests=1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("usage file"), "{}", stderr(&o));
    let o = run(&[
        "price",
        "models/default.toml",
        "--set",
        "consumer.nope.workers=3",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean"), "{}", stderr(&o));
}

// ----- SQS: processing that outlasts the visibility timeout ---------------------------------

/// The slow consumer of `models/slow-consumer.toml` (service time lognormal, median 8 s,
/// p99 60 s; 2% failures; maxReceiveCount 5) at a constant 2 messages/s, so that the
/// window's arrivals are not random, with the visibility timeout `VISIBILITY`.
const SLOW_CONSUMER: &str = r#"
name = "slow"
duration = "1h"
warmup = "10m"

[[producer]]
name = "app"
target = "sqs:jobs"
load = { process = "constant", rate_per_s = 2 }
size = "1KB"

[[queue]]
name = "jobs"
visibility_timeout = "VISIBILITY"
dead_letter = { queue = "jobs-dlq", max_receive_count = 5 }

[[queue]]
name = "jobs-dlq"

[[consumer]]
name = "workers"
source = "sqs:jobs"
workers = 40
receive = { max_messages = 1, wait = "20s" }
service_time = { dist = "lognormal", median = "8s", p99 = "60s" }
failure_probability = 0.02
"#;

#[test]
fn price_counts_the_redeliveries_of_processing_that_outlasts_the_visibility_timeout() {
    // At 15 s, P(S > 15 s − L) = 23.4% of processings end after the message was received
    // again: q = 0.02 + 0.98 × 0.234 = 0.249 of the receives leave it to be received
    // again, (1 − q⁵)/(1 − q) = 1.331 receives per message, each with its processing and
    // (unless it failed) a delete: 1 + 1.331 + 1.331 × 0.98 = 3.636 requests per message,
    // 19.11M a month. Ignoring the timeout (the estimate before) gave 3.020 (−17%).
    //
    // Tolerance 3%: the window's 7,200 messages are not random (constant rate), but each
    // one's receives are: the number of receives N is geometric-like with Var(N) ≈ q/(1 −
    // q)² = 0.44, so the requests (≈ 1 + 1.98 N per message) of 7,200 messages have a
    // relative standard deviation of 1.98 × √(0.44 × 7,200) / (3.64 × 7,200) = 0.43%;
    // the messages in flight at the window's edges (about 40) add up to 0.6%. 3% is five
    // standard deviations of the first, and still far from the 17% the timeout makes.
    let (run, est_bill, est) = both_bills(&SLOW_CONSUMER.replace("VISIBILITY", "15s"));
    agrees(&run, &est_bill, "jobs", "standard requests", 0.03);
    assert!(
        close(est_bill.total / run.total, 1.0, 0.03),
        "price ${:.2} vs run ${:.2}",
        est_bill.total,
        run.total
    );
    let per_msg = qty(&est_bill, "jobs", "standard requests") / (2.0 * 730.0 * 3600.0);
    assert!(close(per_msg, 3.636, 0.002), "{per_msg}");
    // The workers busy include the work done again: 2/s × 1.331 × E[S] (11.64 s) = 31.0.
    let busy = est
        .capacity
        .iter()
        .find(|c| c.what == "workers busy, mean load")
        .unwrap();
    assert!(close(busy.value, 30.99, 0.01), "{}", busy.value);
    // And the price says what it counts and what it leaves out.
    assert!(
        est.notes.iter().any(|n| n
            .contains("23.42% of processings outlast the visibility timeout (15s)")
            && n.contains("but not when these receives happen")),
        "{:?}",
        est.notes
    );
    // At 300 s a processing outlasts it with 1.4 × 10⁻⁵: no note, and 3.020 requests
    // per message as before.
    let (_, bill_300, est_300) = both_bills(&SLOW_CONSUMER.replace("VISIBILITY", "300s"));
    let per_msg = qty(&bill_300, "jobs", "standard requests") / (2.0 * 730.0 * 3600.0);
    assert!(close(per_msg, 3.0204, 0.0005), "{per_msg}");
    assert!(!est_300
        .notes
        .iter()
        .any(|n| n.contains("visibility timeout")));
}

/// Large notifications into a function: 20 events/s of 500 KiB through SNS (1 MiB
/// topic limit) to a subscribed function.
const SNS_LARGE_EVENTS: &str = r#"
name = "sns-large-events"
duration = "20m"
warmup = "1m"

[[producer]]
name = "scans"
target = "sns:scans"
load = { process = "poisson", rate_per_s = 20 }
size = "500KiB"

[[topic]]
name = "scans"
max_message_size = "1MiB"

[[subscription]]
name = "to-fn"
topic = "scans"
endpoint = "lambda:ocr"

[[lambda]]
name = "ocr"
memory_mb = 512
duration = "20ms"
"#;

#[test]
fn asynchronous_events_over_256_kb_are_billed_per_64_kb_chunk() {
    // AWS bills an asynchronous event 1 request for its first 256 KB and 1 more for each
    // further 64 KB, up to 1 MB (https://aws.amazon.com/lambda/pricing/). The function
    // gets the notification: 500 KiB of message and SNS's 1 KiB JSON envelope, 513,024
    // bytes: 1 + ceil((513,024 − 262,144) / 65,536) = 1 + 4 = 5 requests per invocation,
    // in the run exactly and in the estimate within the Poisson count's noise
    // (N ≈ 24,000 events: 3σ ≈ 2%). Events of up to 256 KB stay one request each.
    let (ran, est, _) = both_bills(SNS_LARGE_EVENTS);
    let arch = model::load_str(SNS_LARGE_EVENTS, "m.toml", Path::new(".")).unwrap();
    let out = engine::run(&arch, 11).unwrap();
    let invocations = out.summary.metric("lambda.ocr.invocations").unwrap();
    let factor = 730.0 * 3600.0 / (20.0 * 60.0);
    let requests = qty(&ran, "ocr", "requests");
    assert!(invocations > 20_000.0, "{invocations}");
    assert!(
        close(requests / (invocations * factor), 5.0, 1e-9),
        "{requests} requests for {invocations} invocations × {factor}"
    );
    let item = &ran
        .lines
        .iter()
        .find(|l| l.component == "ocr" && l.item.starts_with("requests"))
        .unwrap()
        .item;
    assert!(
        item.contains("for asynchronous events over 256 KB"),
        "{item}"
    );
    // The count in the label is monthly, as the quantity: 4 of every 5 requests.
    let extra: f64 = item
        .split('(')
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .map(|t| t.replace(',', "").parse().unwrap())
        .unwrap();
    assert!(close(extra / requests, 0.8, 1e-6), "{item} of {requests}");
    agrees(&ran, &est, "ocr", "requests", 0.02);
    // 200 KiB events (with the envelope, 201 KiB): one request per invocation.
    let small = SNS_LARGE_EVENTS.replace("500KiB", "200KiB");
    let (ran, est, _) = both_bills(&small);
    let arch = model::load_str(&small, "m.toml", Path::new(".")).unwrap();
    let out = engine::run(&arch, 11).unwrap();
    let invocations = out.summary.metric("lambda.ocr.invocations").unwrap();
    assert!(close(
        qty(&ran, "ocr", "requests") / (invocations * factor),
        1.0,
        1e-9
    ));
    assert!(close(
        qty(&est, "ocr", "requests") / qty(&ran, "ocr", "requests"),
        1.0,
        0.02
    ));
    // A usage file says the size of its events.
    let d = dir("async-event-size");
    let u = write(
        &d,
        "u.toml",
        "[lambda.ocr]\nmonthly_requests = 1000000\nasync_event_size_kb = 512\n",
    );
    let o = run(&["price", &u, "--json"]);
    let doc = json(&o);
    let l = line(&doc, "ocr", "requests");
    // 512 KB: 1 + (512 − 256) / 64 = 5 requests per event.
    assert_eq!(l["quantity"].as_f64(), Some(5_000_000.0), "{l}");
}

/// A month of scenarios: 720 hours at 20 messages/s, 10 hours of a launch at 200/s.
const LAUNCH_MONTH: &str = r#"
name = "launch-month"
duration = "10m"
warmup = "1m"

[[producer]]
name = "web"
target = "sqs:orders"
load = { process = "poisson", rate_per_s = 20 }

[[queue]]
name = "orders"

[[consumer]]
name = "workers"
source = "sqs:orders"
workers = 40
receive = { max_messages = 10, wait = "20s" }
service_time = "50ms"

[[scenario]]
name = "normal"
hours = 720

[[scenario]]
name = "launch"
hours = 10
set = { "producer.web.load.rate_per_s" = 200 }
"#;

#[test]
fn a_month_of_scenarios_bills_each_for_its_hours_on_one_account() {
    let d = dir("scenarios");
    let m = write(&d, "m.toml", LAUNCH_MONTH);
    let doc = json(&run(&["run", &m, "--json"]));
    let scenarios = doc["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 2);
    let bill = &doc["cost"];
    assert_eq!(bill["month_hours"].as_f64(), Some(730.0));
    // Each scenario's line is its own run's usage for its hours: its window quantity ×
    // hours × 3600 / window, the same in its own share of the bill and in the month.
    for s in scenarios {
        let name = s["name"].as_str().unwrap();
        let hours = s["hours"].as_f64().unwrap();
        let component = format!("orders [{name}]");
        let own = line(&s["run"]["cost"], &component, "standard requests")["quantity"]
            .as_f64()
            .unwrap();
        let month = line(bill, &component, "standard requests")["quantity"]
            .as_f64()
            .unwrap();
        assert_eq!(own, month, "{name}");
        let calls = s["run"]["metrics"]["queue.orders.api_requests"]
            .as_f64()
            .unwrap();
        assert!(
            close(month / (calls * hours * 3600.0 / 600.0), 1.0, 1e-12),
            "{name}: {month} vs {calls} calls"
        );
    }
    // The launch sends 10× the messages an hour: its 10 hours weigh about as much as 100
    // normal hours.
    let q = |n: &str| {
        line(bill, &format!("orders [{n}]"), "standard requests")["quantity"]
            .as_f64()
            .unwrap()
    };
    assert!(
        close(q("launch") / q("normal") * 72.0, 10.0, 0.6),
        "{} {}",
        q("launch"),
        q("normal")
    );
    let metric = |k: &str| doc["metrics"][k].as_f64().unwrap();
    assert!(metric("scenario.launch.producer.web.sent") > 0.0);
    assert_eq!(doc["metrics"]["cost.total"], bill["total"]);
    // Each scenario's own bill is its share of the month: the shares add up to it.
    let shares = metric("scenario.normal.cost.total") + metric("scenario.launch.cost.total");
    assert!(
        close(shares, bill["total"].as_f64().unwrap(), 1e-6),
        "{shares}"
    );
    // The free tier counts the month once: 1M free SQS requests in all, not per scenario.
    let p = json(&run(&["price", &m, "--json", "--free-tier"]));
    let free: f64 = p["cost"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["service"] == "sqs")
        .map(|l| l["free_quantity"].as_f64().unwrap_or(0.0))
        .sum();
    assert_eq!(free, 1_000_000.0);
    // `price` estimates the same month within 5% of the run.
    let est = p["cost"]["total"].as_f64().unwrap();
    let p = json(&run(&["price", &m, "--json"]));
    let est_gross = p["cost"]["total"].as_f64().unwrap();
    let ran = bill["total"].as_f64().unwrap();
    assert!(est < est_gross);
    assert!(
        close(est_gross / ran, 1.0, 0.05),
        "estimate {est_gross} vs run {ran}"
    );
    // The text says how the month was made.
    let o = run(&["run", &m]);
    let out = stdout(&o);
    assert!(out.contains("the month is 720 h of normal"), "{out}");
    assert!(
        out.contains("=== scenario \"launch\": 10 h of the month ==="),
        "{out}"
    );
    // A sweep or a comparison would bill a scenario model as its window repeated all
    // month: they refuse it.
    let exp = write(
        &d,
        "exp.toml",
        "name = \"e\"\nmodel = \"m.toml\"\nreplications = 2\nmetrics = [\"cost.total\"]\n[axes]\n\"consumer.workers.workers\" = [40]\n",
    );
    let sw = d.join("sw");
    let o = run(&["sweep", &exp, "--out", sw.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("scenario"), "{}", stderr(&o));
    let o = run(&["compare", &m, &m]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn bad_scenarios_are_refused() {
    let d = dir("bad-scenarios");
    for (what, edit, needle) in [
        (
            "a duplicate name",
            ("name = \"launch\"", "name = \"normal\""),
            "two scenarios are named",
        ),
        (
            "more than a month",
            ("hours = 720", "hours = 740"),
            "more than a month",
        ),
        ("no hours", ("hours = 10", "hours = 0"), "must be above 0"),
        (
            "a path that is not the model's",
            (
                "producer.web.load.rate_per_s",
                "producer.wbe.load.rate_per_s",
            ),
            "did you mean",
        ),
        (
            "the month's seed",
            ("\"producer.web.load.rate_per_s\" = 200", "\"seed\" = 3"),
            "not a scenario's",
        ),
        (
            "a value the model refuses",
            (
                "\"producer.web.load.rate_per_s\" = 200",
                "\"queue.orders.visibility_timeout\" = \"13h\"",
            ),
            "scenario \"launch\"",
        ),
    ] {
        let m = write(&d, "m.toml", &LAUNCH_MONTH.replace(edit.0, edit.1));
        let o = run(&["run", &m]);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{what}: {}", stderr(&o));
    }
}

#[test]
fn bills_as_csv_and_unit_prices_as_listed() {
    // `--format csv`: one row per bill line, the same numbers as the JSON, the total the
    // sum of `usd`; unit prices read as AWS lists them (0.0000004, not the division's
    // 4.0000000000000003e-7).
    let o = run(&["price", "models/fifo-payments.toml", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "service",
            "component",
            "item",
            "quantity",
            "unit",
            "unit_usd",
            "usd",
            "free_quantity"
        ]
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let doc = json(&run(&["price", "models/fifo-payments.toml", "--json"]));
    let lines = doc["cost"]["lines"].as_array().unwrap();
    assert_eq!(rows.len(), lines.len());
    let mut sum = 0.0;
    for (r, l) in rows.iter().zip(lines) {
        assert_eq!(r[0], l["service"]);
        assert_eq!(r[2], l["item"]);
        // To 12 significant digits.
        let rel = |a: f64, b: f64| (a - b).abs() <= 1e-11 * b.abs().max(1e-300);
        assert!(rel(
            r[3].parse::<f64>().unwrap(),
            l["quantity"].as_f64().unwrap()
        ));
        assert!(rel(
            r[6].parse::<f64>().unwrap(),
            l["usd"].as_f64().unwrap()
        ));
        sum += r[6].parse::<f64>().unwrap();
    }
    assert!(close(sum, doc["cost"]["total"].as_f64().unwrap(), 1e-6));
    assert_eq!(&rows[0][5], "0.0000005", "FIFO requests: $0.50 per million");
    assert!(!text.contains("e-"), "{text}");
    // run takes it too, and refuses it beside --json.
    let o = run(&[
        "run",
        "models/default.toml",
        "--duration",
        "1m",
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("service,component,item,"),
        "{}",
        stdout(&o)
    );
    let o = run(&["run", "models/default.toml", "--format", "csv", "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn an_enhanced_fan_out_mapping_is_billed_per_push_not_per_second() {
    // An EFO mapping is pushed the records that propagated while its last invocation ran;
    // it does not poll once a second. The estimate took the 1 s poll: at 1 record/s it
    // counted 1 − e^−1 = 0.63 invocations per record where a run has one per record
    // (1.66 M against 2.64 M requests a month for models/latency/kinesis-efo-lambda.toml).
    // It now takes a push after each invocation. Measured with seed 11 (estimate against
    // run, 10 minutes, 2 shards, batch 100, 20 ms): 20 records/s −9%, 500/s +6%; the
    // bundled latency model −0.8%. Tolerance 12%: the push cycle is the mean time an
    // invocation holds its lane, where a run's cycles vary with each invocation.
    for rate in [20, 500] {
        let src = format!(
            r#"
name = "efo"
duration = "10m"
warmup = "1m"
[[producer]]
name = "p"
target = "kinesis:s"
load = {{ process = "poisson", rate_per_s = {rate} }}
partition_key = {{ dist = "uniform", keys = 1000 }}
[[stream]]
name = "s"
shards = 2
[[lambda]]
name = "f"
source = "kinesis:s"
consumer = "efo"
batch_size = 100
duration = "20ms"
"#
        );
        let (ran, est, _) = both_bills(&src);
        agrees(&ran, &est, "f", "requests", 0.12);
    }
    let arch = model::load_file(Path::new("models/latency/kinesis-efo-lambda.toml")).unwrap();
    let out = engine::run(&arch, 1).unwrap();
    let est = estimate::estimate(&arch, 730.0).unwrap();
    let est = aqueduct::services::bill(&est.usage, &PriceTable::bundled(), BillOptions::default())
        .unwrap();
    agrees(&out.summary.cost, &est, "consumer", "requests", 0.05);
}

// ----- every bundled model: `price` against `run` ------------------------------------------

/// Bundled models whose run and estimate are not expected to agree, with the reason the
/// estimate itself gives (a note of `price`).
const PRICE_RUN_EXCEPTIONS: &[(&str, &str)] = &[
    // Transient faults (an outage, a throttling storm) are not steady load: the estimate
    // leaves them out and says so.
    ("order-faults", "is a transient; the estimate ignores it"),
];

#[test]
fn price_agrees_with_run_within_five_percent_on_every_bundled_model() {
    // `aqueduct price MODEL` (the analytic estimate) and `aqueduct run MODEL` (a
    // simulation with the model's seed) bill the same month within 5% on every bundled
    // model at steady load: receive batching of worker pools (Poisson arrivals that
    // accumulate while the workers are busy), FIFO group locks (groups released together
    // are received together), batch jobs' node-hours and Flink's window results into
    // Firehose included. Measured on 2026-12-07:
    // the largest gaps are iot-sqs-workers +3.2%, sns-fanout +1.6%, slow-consumer +1.8%
    // and fifo-payments +1.7% (−16.1% before the FIFO model, +18% on iot-sqs-workers
    // before the Poisson one).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut models: Vec<PathBuf> = std::fs::read_dir(root.join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    models.sort();
    assert!(models.len() >= 10, "{models:?}");
    let mut checked = 0;
    for m in &models {
        let name = m.file_stem().unwrap().to_str().unwrap();
        let json = |cmd: &str| -> Value {
            let out = Command::new(BIN)
                .args([cmd, m.to_str().unwrap(), "--json"])
                .output()
                .unwrap();
            // Exit 3: a capacity check or an objective failed; the JSON is still written.
            assert!(
                matches!(out.status.code(), Some(0 | 3)),
                "{cmd} {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice(&out.stdout).unwrap()
        };
        let (run, price) = (json("run"), json("price"));
        let total = |v: &Value| v["cost"]["total"].as_f64().unwrap();
        let (r, p) = (total(&run), total(&price));
        assert!(r > 0.0, "{name}: the run bills nothing");
        if let Some((_, because)) = PRICE_RUN_EXCEPTIONS.iter().find(|(n, _)| *n == name) {
            let notes = price["notes"].to_string();
            assert!(
                notes.contains(because),
                "{name}: price does not say why it differs ({because}): {notes}"
            );
            continue;
        }
        assert!(
            (p / r - 1.0).abs() <= 0.05,
            "{name}: price ${p:.2} vs run ${r:.2} ({:+.1}%)",
            (p / r - 1.0) * 100.0
        );
        checked += 1;
    }
    assert_eq!(checked + PRICE_RUN_EXCEPTIONS.len(), models.len());
}
