//! Mutated model files never crash aqueduct. Each bundled model in `models/` has each of
//! its leaf values (numbers, durations, sizes, strings, booleans, arrays) replaced, one at
//! a time, by edge values: zero, −1, huge and non-finite numbers, `"0s"`, `"1ns"`,
//! `"100000d"`, `"0B"`, `"2GB"`, `""`, values of the wrong type and unknown references.
//! Every mutant is loaded and validated, priced (`aqueduct price MODEL`: the estimate, the
//! bill, the capacity table) and, when valid, run for a few simulated seconds. Nothing may
//! panic or hang, and a refused model's error names the field.
//!
//! The enumeration is deterministic: every model × every leaf × a third of the edge values,
//! rotating with the leaf so that each value is tried on a third of the leaves (about
//! 3,500 mutants; set `AQUEDUCT_BAD_INPUT_ALL=1` for all of them, about 10,700). Each
//! mutant runs on a worker thread under a generous watchdog so that a hang fails the test
//! with the mutant's name instead of stalling the suite.

use aqueduct::engine;
use aqueduct::estimate::{self, capacity};
use aqueduct::model::{self, Architecture};
use aqueduct::pricing::{self, BillOptions, PriceTable};
use aqueduct::sim::SimDuration;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;
use toml::Value;

/// (The rich models' loads are steady: a time-varying load makes each price estimate a
/// 4,000-step fluid model, and the bundled models already vary theirs.)
///
/// A Kinesis model using every feature the bundled models leave out: on-demand and
/// provisioned streams, resharding, short retention, enhanced fan-out, checkpoint modes,
/// outages, a Lambda mapping with bisection, retries and a record age, limits overrides.
const KINESIS_RICH: &str = r#"
name = "kinesis-rich"
duration = "20s"
warmup = "2s"
seed = 3
sample_every = "1s"
[limits.kinesis]
min_retention = "1m"
[[producer]]
name = "p"
target = "kinesis:s"
load = { process = "poisson", rate_per_s = 300 }
size = { dist = "uniform", min = "100B", max = "4KB" }
batch = 20
linger = "50ms"
partition_key = { dist = "zipf", keys = 50, exponent = 1.1, prefix = "t-" }
retry = { max_attempts = 4, base = "50ms", max_backoff = "1s" }
[[producer]]
name = "q"
target = "kinesis:od"
load = { process = "constant", rate_per_s = 50 }
[[stream]]
name = "s"
shards = 2
retention = "2m"
api_latency = "10ms"
efo_propagation = { dist = "uniform", min = "20ms", max = "90ms" }
track_keys = true
reshard = [{ at = "3s", split = 0 }, { at = "6s", merge = [2, 3] }, { at = "9s", shards = 4 }]
[[stream]]
name = "od"
mode = "on_demand_advantage"
warm_throughput = "8MiB"
partition_key = { dist = "uniform", keys = 10 }
[[stream_consumer]]
name = "kcl"
source = "kinesis:s"
max_records = 100
idle_between_reads = "200ms"
service_time = { dist = "exponential", mean = "300us" }
per_batch = "5ms"
failure_probability = 0.02
checkpoint = "batch"
retry_delay = "100ms"
outages = [{ from = "4s", for = "3s" }]
[[stream_consumer]]
name = "efo"
source = "kinesis:od"
mode = "efo"
service_time = "100us"
[[lambda]]
name = "fn"
source = "kinesis:s"
batch_size = 50
batching_window = "200ms"
parallelization_factor = 3
bisect_on_error = true
maximum_retry_attempts = 2
maximum_record_age = "60s"
report_batch_item_failures = true
failure_probability = 0.01
memory_mb = 256
architecture = "arm64"
duration = { dist = "lognormal", median = "20ms", p99 = "200ms" }
per_record = "100us"
cold_start = "300ms"
idle_timeout = "5m"
timeout = "5s"
"#;

/// An SNS and SQS model using every feature the bundled models leave out: FIFO topics and
/// queues, filter policies of every operator, body filtering, delivery policies, dead-letter
/// queues and redrive, Lambda, HTTP/S and sink subscriptions, autoscaling, heartbeats.
const SNS_RICH: &str = r#"
name = "sns-rich"
duration = "20s"
warmup = "2s"
api_latency = "5ms"
[limits.sqs]
in_flight_standard = 1000
[[producer]]
name = "web"
target = "sns:t"
load = { process = "poisson", rate_per_s = 100 }
batch = 10
linger = "20ms"
attributes = { type = { order = 0.7, refund = 0.3 }, amount = { dist = "uniform", min = 0, max = 500 }, coupon = { values = { SAVE10 = 1 }, present = 0.4 }, tries = { dist = "integer", min = 1, max = 5 } }
body = { "customer.tier" = { gold = 0.1, silver = 0.9 } }
resend = { probability = 0.05, after = "1s" }
[[producer]]
name = "ledger"
target = "sns:f.fifo"
load = { process = "constant", rate_per_s = 30 }
group = { dist = "zipf", keys = 20, exponent = 1.0 }
max_in_flight = 1
[[topic]]
name = "t"
max_message_size = "128KiB"
delivery_latency = "50ms"
[[topic]]
name = "f.fifo"
kind = "fifo"
throughput_scope = "message_group"
[[subscription]]
name = "orders"
topic = "t"
endpoint = "sqs:orders"
filter = { type = ["order"], amount = [{ numeric = [">", 100, "<=", 500] }] }
raw_message_delivery = true
dead_letter = "sqs:dlq"
failure_probability = 0.1
outages = [{ from = "5s", for = "2s", probability = 0.5 }]
jitter = 0.1
[[subscription]]
name = "hook"
topic = "t"
endpoint = "https:partner"
filter = { "$or" = [{ type = [{ anything-but = ["refund"] }] }, { coupon = [{ exists = true }] }] }
delivery_policy = { num_retries = 5, num_no_delay_retries = 1, num_min_delay_retries = 1, num_max_delay_retries = 1, min_delay = "1s", max_delay = "4s", backoff = "exponential", max_receives_per_second = 20 }
failure_probability = 0.2
[[subscription]]
name = "fn"
topic = "t"
endpoint = "lambda:handler"
filter_scope = "body"
filter = { customer = { tier = [{ prefix = "go" }] } }
[[subscription]]
name = "mail"
topic = "t"
endpoint = "email:ops"
filter = { type = [{ equals-ignore-case = "REFUND" }] }
[[subscription]]
name = "fire"
topic = "t"
endpoint = "firehose:archive"
[[subscription]]
name = "ledger"
topic = "f.fifo"
endpoint = "sqs:ledger.fifo"
dead_letter = "sqs:ledger-dlq.fifo"
[[queue]]
name = "orders"
visibility_timeout = "5s"
dead_letter = { queue = "dlq", max_receive_count = 2 }
duplicate_probability = 0.01
[[queue]]
name = "dlq"
redrive = { at = "10s", rate_per_s = 50 }
[[queue]]
name = "ledger.fifo"
kind = "fifo"
high_throughput = true
[[queue]]
name = "ledger-dlq.fifo"
kind = "fifo"
[[consumer]]
name = "workers"
source = "sqs:orders"
workers = 2
receive = { max_messages = 10, wait = "1s", visibility_timeout = "3s" }
service_time = { dist = "exponential", mean = "30ms" }
failure_probability = 0.05
failures = [{ from = "3s", for = "2s", probability = 0.5 }]
delete = "batch"
heartbeat = { every = "1s", extend_to = "4s" }
autoscale = { min = 1, max = 6, max_latency = "1s", evaluate_every = "2s", warmup = "1s", scale_out_cooldown = "2s", scale_in_cooldown = "4s" }
[[lambda]]
name = "handler"
duration = "15ms"
reserved_concurrency = 3
maximum_retry_attempts = 1
[[lambda]]
name = "ledger-fn"
source = "sqs:ledger.fifo"
batch_size = 5
duration = "10ms"
failure_probability = 0.02
report_batch_item_failures = true
"#;

/// One step into a TOML document.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// The edge values substituted for every leaf.
fn edge_values() -> Vec<(&'static str, Value)> {
    let mut bad_table = toml::Table::new();
    bad_table.insert("nope".into(), Value::Integer(1));
    vec![
        ("0", Value::Integer(0)),
        ("1", Value::Integer(1)),
        ("10001", Value::Integer(10_001)),
        ("-1", Value::Integer(-1)),
        ("2^32", Value::Integer(1 << 32)),
        ("1e300", Value::Float(1e300)),
        ("nan", Value::Float(f64::NAN)),
        ("-inf", Value::Float(f64::NEG_INFINITY)),
        ("0.999", Value::Float(0.999)),
        ("\"0s\"", Value::String("0s".into())),
        ("\"1ns\"", Value::String("1ns".into())),
        ("\"1ms\"", Value::String("1ms".into())),
        ("\"30d\"", Value::String("30d".into())),
        ("\"100000d\"", Value::String("100000d".into())),
        ("\"0B\"", Value::String("0B".into())),
        ("\"2GB\"", Value::String("2GB".into())),
        ("\"\"", Value::String(String::new())),
        ("\"-5ms\"", Value::String("-5ms".into())),
        ("\"sqs:nope\"", Value::String("sqs:nope".into())),
        ("true", Value::Boolean(true)),
        ("[]", Value::Array(vec![])),
        ("{ nope = 1 }", Value::Table(bad_table)),
    ]
}

/// Every leaf of `v` (scalars and arrays; arrays are also entered), as paths.
fn leaves(v: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Table(t) => {
            for (k, x) in t {
                path.push(Step::Key(k.clone()));
                leaves(x, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            // An array of tables is a list of components, not a value: enter it only.
            if !a.iter().all(Value::is_table) || a.is_empty() {
                out.push(path.clone());
            }
            for (i, x) in a.iter().enumerate() {
                path.push(Step::Index(i));
                leaves(x, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn at<'a>(v: &'a mut Value, path: &[Step]) -> &'a mut Value {
    match path.split_first() {
        None => v,
        Some((Step::Key(k), rest)) => at(v.get_mut(k.as_str()).expect("path exists"), rest),
        Some((Step::Index(i), rest)) => at(v.get_mut(*i).expect("path exists"), rest),
    }
}

fn show(path: &[Step]) -> String {
    let mut s = String::new();
    for st in path {
        match st {
            Step::Key(k) if s.is_empty() => s.push_str(k),
            Step::Key(k) => {
                s.push('.');
                s.push_str(k)
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// What happened to one mutant.
enum Outcome {
    /// Loaded, priced and run.
    Ran,
    /// Refused at load or by the estimate, with this error.
    Refused(model::ModelError),
    /// The run (not the load) failed.
    RunFailed(String),
}

/// Loads, prices and (briefly) runs model text; panics propagate.
fn exercise(text: &str, file: &str, base: &Path) -> Outcome {
    let mut arch: Architecture = match model::load_str(text, file, base) {
        Ok(a) => a,
        Err(e) => return Outcome::Refused(e),
    };
    // `aqueduct price MODEL`.
    match estimate::estimate(&arch, pricing::DEFAULT_MONTH_HOURS) {
        Ok(est) => {
            let _ = capacity::to_table(&est.capacity);
            if let Ok(table) = PriceTable::resolve(&arch.prices, &arch.base_dir) {
                if let Ok(bill) = aqueduct::services::bill(
                    &est.usage,
                    &table,
                    BillOptions {
                        month_hours: pricing::DEFAULT_MONTH_HOURS,
                        free_tier: true,
                    },
                ) {
                    let _ = bill.to_table();
                }
            }
        }
        Err(inv) => return Outcome::Refused(model::place(text, file, &inv.path, inv.message)),
    }
    // `aqueduct run MODEL --duration 2s`, with the warm-up cut to at most a second.
    arch.duration = arch.duration.min(SimDuration::from_secs(2));
    arch.warmup = arch.warmup.min(SimDuration::from_secs(1));
    match engine::run(&arch, arch.seed) {
        Ok(out) => {
            let _ = out.summary.to_table();
            let _ = serde_json::to_string(&out.summary).expect("the summary serializes");
            Outcome::Ran
        }
        Err(e) => Outcome::RunFailed(e.to_string()),
    }
}

#[test]
fn mutated_bundled_models_never_panic_and_name_the_field() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the bundled models: {files:?}");
    let mut models: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            (name, std::fs::read_to_string(f).unwrap())
        })
        .collect();
    models.push(("kinesis-rich.toml".into(), KINESIS_RICH.into()));
    models.push(("sns-rich.toml".into(), SNS_RICH.into()));
    let edges = edge_values();
    let mut failures = Vec::new();
    let (mut ran, mut refused, mut total, mut hangs) = (0, 0, 0, 0);
    for (name, text) in &models {
        // The unmutated model is valid.
        match exercise(text, name, &root.join("models")) {
            Outcome::Ran => {}
            Outcome::Refused(e) => panic!("{name} is refused: {e}"),
            Outcome::RunFailed(e) => panic!("{name} does not run: {e}"),
        }
        let doc: Value = toml::from_str(text).unwrap();
        let mut paths = Vec::new();
        leaves(&doc, &mut Vec::new(), &mut paths);
        let all = std::env::var_os("AQUEDUCT_BAD_INPUT_ALL").is_some();
        for (p, path) in paths.iter().enumerate() {
            for (e, (label, edge)) in edges.iter().enumerate() {
                if !all && (p + e) % 3 != 0 {
                    continue;
                }
                let mut m = doc.clone();
                *at(&mut m, path) = edge.clone();
                let mutant = toml::to_string(&m).expect("the mutant serializes");
                let what = format!("{name}: {} = {label}", show(path));
                total += 1;
                let (tx, rx) = mpsc::channel();
                let base = root.join("models");
                let file = format!("models/{name}");
                std::thread::spawn(move || {
                    let r = catch_unwind(AssertUnwindSafe(|| exercise(&mutant, &file, &base)));
                    let _ = tx.send(r);
                });
                let started = std::time::Instant::now();
                let got = rx.recv_timeout(Duration::from_secs(60));
                if started.elapsed() > Duration::from_millis(500) {
                    eprintln!("slow mutant ({:.1?}): {what}", started.elapsed());
                }
                match got {
                    Ok(Ok(Outcome::Ran)) => ran += 1,
                    Ok(Ok(Outcome::Refused(e))) => {
                        refused += 1;
                        if e.field.is_empty() {
                            failures.push(format!("{what}: refused without naming a field: {e}"));
                        }
                    }
                    Ok(Ok(Outcome::RunFailed(e))) => {
                        failures.push(format!("{what}: loaded but the run failed: {e}"))
                    }
                    Ok(Err(p)) => {
                        let msg = p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        failures.push(format!("{what}: panicked: {msg}"));
                    }
                    Err(_) => {
                        // The stuck thread keeps its core: stop after a few.
                        failures.push(format!("{what}: still running after 60 s (a hang)"));
                        hangs += 1;
                        assert!(hangs < 3, "{}", failures.join("\n"));
                    }
                }
            }
        }
    }
    eprintln!("{total} mutants: {ran} ran, {refused} refused");
    assert!(
        failures.is_empty(),
        "{} of {total} mutants failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
