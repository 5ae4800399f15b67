//! The binary: commands, and bad input (exit code 2, one paragraph naming file, line and
//! field, never a panic).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aqueduct"))
}

/// A scratch directory unique to the test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("aqueduct-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

fn run_args(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A valid model to break one piece at a time.
const GOOD: &str = r#"name = "good"
duration = "1m"

[[producer]]
name = "web"
target = "sqs:jobs"
load = { process = "poisson", rate_per_s = 10 }
size = { dist = "lognormal", median = "2KB", p99 = "40KB" }

[[queue]]
name = "jobs"
visibility_timeout = "30s"

[[consumer]]
name = "workers"
source = "sqs:jobs"
workers = 2
receive = { max_messages = 10, wait = "20s" }
service_time = { dist = "exponential", mean = "50ms" }
"#;

/// Runs `validate` on `text`; asserts exit code 2, no panic, and that stderr names the file,
/// the line (when given) and contains each of `needles`.
fn rejects(name: &str, text: &[u8], line: Option<usize>, needles: &[&str]) {
    let dir = scratch(name);
    let path = write(&dir, "model.toml", text);
    for cmd in ["validate", "run"] {
        let out = run_args(&[cmd, path.to_str().expect("utf-8 path")]);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name} ({cmd}): exit code; stderr: {err}"
        );
        assert!(!err.contains("panicked"), "{name}: panic: {err}");
        let file = path.display().to_string();
        match line {
            Some(l) => assert!(
                err.contains(&format!("{file}:{l}")),
                "{name}: expected {file}:{l} in: {err}"
            ),
            None => assert!(
                err.contains(&file),
                "{name}: expected the file name in: {err}"
            ),
        }
        for n in needles {
            assert!(err.contains(n), "{name}: expected {n:?} in: {err}");
        }
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{name}: one paragraph expected: {err}"
        );
    }
}

#[test]
fn good_model_validates_and_runs() {
    let dir = scratch("good");
    let path = write(&dir, "model.toml", GOOD.as_bytes());
    let out = run_args(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run_args(&[
        "run",
        path.to_str().unwrap(),
        "--json",
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    for key in [
        "aqueduct_version",
        "model",
        "seed",
        "simulated_s",
        "warmup_s",
        "events",
        "wall_s",
        "components",
        "cost",
    ] {
        assert!(v.get(key).is_some(), "summary lacks {key}");
    }
    for key in [
        "currency",
        "period",
        "month_hours",
        "total",
        "services",
        "lines",
    ] {
        assert!(v["cost"].get(key).is_some(), "cost lacks {key}");
    }
    assert!(dir.join("out/run.json").exists());
    let csv = std::fs::read_to_string(dir.join("out/series.csv")).unwrap();
    assert!(csv.starts_with("t_s,"), "{csv}");
}

#[test]
fn default_model_runs_without_arguments() {
    let out = run_args(&["run", "--duration", "2m"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("order-workers") && text.contains("total: $"),
        "{text}"
    );
}

#[test]
fn unknown_field() {
    let bad = GOOD.replace(
        "visibility_timeout = \"30s\"",
        "visibilty_timeout = \"30s\"",
    );
    rejects(
        "unknown-field",
        bad.as_bytes(),
        Some(12),
        &["visibilty_timeout", "unknown field"],
    );
}

#[test]
fn missing_required_field() {
    let bad = GOOD.replace(
        "service_time = { dist = \"exponential\", mean = \"50ms\" }\n",
        "",
    );
    rejects("missing-field", bad.as_bytes(), None, &["service_time"]);
}

#[test]
fn zero_and_negative_rates() {
    let bad = GOOD.replace("rate_per_s = 10", "rate_per_s = 0");
    rejects("zero-rate", bad.as_bytes(), Some(7), &["rate_per_s", "> 0"]);
    let bad = GOOD.replace("rate_per_s = 10", "rate_per_s = -5");
    rejects(
        "negative-rate",
        bad.as_bytes(),
        Some(7),
        &["rate_per_s", "> 0"],
    );
}

#[test]
fn rates_above_one_per_nanosecond_are_refused() {
    // A Poisson rate of 1e300/s drew inter-arrival times of 0 ns: every arrival fell on
    // t = 0 and the run never ended. The kernel's clock counts nanoseconds, so a load
    // faster than 1e9 messages/s is refused at load, naming the field.
    for (rate, what) in [("1e300", "huge-rate"), ("4294967296", "rate-2-32")] {
        let bad = GOOD.replace("rate_per_s = 10", &format!("rate_per_s = {rate}"));
        rejects(
            what,
            bad.as_bytes(),
            Some(7),
            &["rate_per_s", "one message per nanosecond"],
        );
    }
    let bad = GOOD.replace(
        "{ process = \"poisson\", rate_per_s = 10 }",
        "{ process = \"diurnal\", mean_per_s = 1e8, peak_to_mean = 20 }",
    );
    rejects(
        "diurnal-peak",
        bad.as_bytes(),
        Some(7),
        &["peak_to_mean", "nanosecond"],
    );
    // Just under the limit is a valid model.
    let ok = GOOD.replace("rate_per_s = 10", "rate_per_s = 1e9");
    let dir = scratch("rate-1e9");
    let path = write(&dir, "model.toml", ok.as_bytes());
    let out = run_args(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn runs_longer_than_ten_years_are_refused() {
    // `price` integrated a bursts load over 4,000 steps of up to 2,000,000 sub-steps each
    // when warm-up and duration spanned 100,000 days: hours of CPU for one estimate (and a
    // longer span overflows the nanosecond clock). Such a model is refused at load.
    let bad = GOOD.replace(
        "duration = \"1m\"",
        "duration = \"1m\"\nwarmup = \"100000d\"",
    );
    rejects(
        "long-warmup",
        bad.as_bytes(),
        Some(3),
        &["warmup", "10 years"],
    );
    let bad = GOOD.replace("duration = \"1m\"", "duration = \"3651d\"");
    rejects(
        "long-duration",
        bad.as_bytes(),
        Some(2),
        &["duration", "10 years"],
    );
    let path = write(&scratch("long-price"), "model.toml", bad.as_bytes());
    let out = run_args(&["price", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("duration"), "{}", stderr(&out));
}

#[test]
fn autoscaling_evaluated_more_often_than_each_second_is_refused() {
    // `evaluate_every = "0s"` re-evaluated the target tracking policy at one instant
    // forever (and "1ns" a billion times per simulated second): the run never ended.
    for every in ["0s", "1ns", "999ms"] {
        let bad = GOOD.replace(
            "workers = 2",
            &format!("workers = 2\nautoscale = {{ min = 1, max = 4, target_backlog_per_worker = 5, evaluate_every = \"{every}\" }}"),
        );
        rejects(
            "autoscale-every",
            bad.as_bytes(),
            Some(18),
            &["evaluate_every", "at least 1s"],
        );
    }
    let ok = GOOD.replace(
        "workers = 2",
        "workers = 2\nautoscale = { min = 1, max = 4, target_backlog_per_worker = 5, evaluate_every = \"1s\" }",
    );
    let path = write(&scratch("autoscale-1s"), "model.toml", ok.as_bytes());
    let out = run_args(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn heartbeats_more_often_than_each_second_are_refused() {
    // `heartbeat.every = "1ns"` made a billion ChangeMessageVisibility calls per simulated
    // second for each busy worker: the run never ended.
    for every in ["0s", "1ns", "500ms"] {
        let bad = GOOD.replace(
            "workers = 2",
            &format!("workers = 2\nheartbeat = {{ every = \"{every}\", extend_to = \"60s\" }}"),
        );
        rejects(
            "heartbeat-every",
            bad.as_bytes(),
            Some(18),
            &["heartbeat", "every", "at least 1s"],
        );
    }
}

#[test]
fn unknown_unit() {
    let bad = GOOD.replace(
        "visibility_timeout = \"30s\"",
        "visibility_timeout = \"30 parsecs\"",
    );
    rejects(
        "unknown-unit",
        bad.as_bytes(),
        Some(12),
        &["parsecs", "ns, us, ms, s, m, h, d"],
    );
}

#[test]
fn lognormal_p99_below_median() {
    let bad = GOOD.replace("p99 = \"40KB\"", "p99 = \"1KB\"");
    rejects(
        "lognormal",
        bad.as_bytes(),
        Some(8),
        &["size", "p99 > median"],
    );
}

#[test]
fn target_that_does_not_exist() {
    let bad = GOOD.replace("target = \"sqs:jobs\"", "target = \"sqs:jbos\"");
    rejects(
        "dangling-target",
        bad.as_bytes(),
        Some(6),
        &["target", "no queue called \"jbos\"", "\"jobs\""],
    );
}

#[test]
fn empty_file() {
    rejects("empty", b"", None, &["empty"]);
    rejects("blank", b"\n   \n", None, &["empty"]);
}

#[test]
fn not_utf8() {
    let mut bytes = b"name = \"x\"\nduration = \"1m\"\n# caf".to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b"\n");
    rejects("not-utf8", &bytes, Some(3), &["UTF-8"]);
}

#[test]
fn not_toml() {
    rejects("not-toml", b"name = \"x\"\nduration = 1h\n", Some(2), &[]);
    rejects("not-toml-2", b"{ \"json\": true }\n", Some(1), &[]);
}

#[test]
fn trace_with_a_bad_row() {
    let dir = scratch("trace");
    write(
        &dir,
        "day.csv",
        b"t_s,size_bytes\n0.5,100\n1.0,200\nlater,300\n",
    );
    let model = GOOD.replace(
        "load = { process = \"poisson\", rate_per_s = 10 }",
        "load = { process = \"trace\", file = \"day.csv\" }",
    );
    let path = write(&dir, "model.toml", model.as_bytes());
    let out = run_args(&["validate", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("day.csv:4"), "names the CSV line: {err}");
    assert!(err.contains("model.toml:7"), "names the model line: {err}");
}

#[test]
fn sqs_values_outside_aws_limits() {
    // Each names the limit and its source.
    let cases: [(&str, String, usize, &[&str]); 6] = [
        (
            "visibility-13h",
            GOOD.replace("visibility_timeout = \"30s\"", "visibility_timeout = \"13h\""),
            12,
            &["13h", "12h", "sqs-visibility-timeout"],
        ),
        (
            "batch-11",
            GOOD.replace("size = {", "batch = 11\nsize = {"),
            8,
            &["batch 11", "1 to 10", "sqs-batch-api"],
        ),
        (
            "wait-25s",
            GOOD.replace("wait = \"20s\"", "wait = \"25s\""),
            18,
            &["25s", "20s", "quotas-queues"],
        ),
        (
            "max-receive-0",
            GOOD.replace("visibility_timeout = \"30s\"", "dead_letter = { queue = \"dlq\", max_receive_count = 0 }")
                + "\n[[queue]]\nname = \"dlq\"\n",
            12,
            &["max_receive_count 0", "1 to 1000", "dead-letter"],
        ),
        (
            "fifo-with-standard-dlq",
            GOOD.replace("target = \"sqs:jobs\"", "target = \"sqs:jobs.fifo\"\ngroup = { dist = \"uniform\", keys = 4 }")
                .replace("name = \"jobs\"", "name = \"jobs.fifo\"\nkind = \"fifo\"\ndead_letter = { queue = \"dlq\", max_receive_count = 3 }")
                .replace("source = \"sqs:jobs\"", "source = \"sqs:jobs.fifo\"")
                + "\n[[queue]]\nname = \"dlq\"\n",
            14,
            &["dead-letter queue of a FIFO queue must also be FIFO"],
        ),
        (
            "lambda-batch-100-no-window",
            GOOD.to_string()
                + "\n[[lambda]]\nname = \"fn\"\nsource = \"sqs:jobs\"\nbatch_size = 100\nduration = \"10ms\"\n",
            24,
            &["batch size above 10", "batching_window", "with-sqs"],
        ),
    ];
    for (name, text, line, needles) in cases {
        rejects(name, text.as_bytes(), Some(line), needles);
    }
}

#[test]
fn bad_flags_exit_2() {
    let out = run_args(&["run", "--duration", "5 fortnights"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run_args(&["run", "--set", "consumer.nobody.workers=3"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("did you mean"), "{}", stderr(&out));
    let out = run_args(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run_args(&["run", "/no/such/model.toml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn set_overrides_fields() {
    let out = run_args(&[
        "run",
        "--duration",
        "2m",
        "--json",
        "--set",
        "consumer.order-workers.workers=50",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pool = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "order-workers")
        .unwrap();
    assert_eq!(pool["workers_max"], 50);
}

#[test]
fn limits_prints_a_table_that_parses() {
    let out = run_args(&["limits"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let v: toml::Value = toml::from_str(&text).expect("limits output is TOML");
    assert_eq!(
        v["limits"]["sqs"]["max_batch_messages"].as_integer(),
        Some(10)
    );
}

/// A Direct PUT delivery stream to S3, for the Firehose cases below.
const FIREHOSE: &str = r#"name = "fh"
duration = "10m"

[[producer]]
name = "app"
target = "firehose:logs"
load = { process = "poisson", rate_per_s = 10 }
size = "1KB"

[[firehose]]
name = "logs"
buffer = { size = "5MiB", interval = "300s" }
destination = { kind = "s3" }
"#;

#[test]
fn firehose_bad_input_exits_2_with_the_field_and_the_limit() {
    assert!(aqueduct::model::load_str(FIREHOSE, "fh.toml", std::path::Path::new(".")).is_ok());
    let bad = FIREHOSE.replace("size = \"5MiB\"", "size = \"256MiB\"");
    rejects(
        "fh-buffer-size",
        bad.as_bytes(),
        Some(12),
        &["buffer.size", "1MiB to 128MiB", "API_BufferingHints"],
    );
    let bad = FIREHOSE.replace("interval = \"300s\"", "interval = \"901s\"");
    rejects(
        "fh-buffer-interval",
        bad.as_bytes(),
        Some(12),
        &["buffer.interval", "0s to 15m"],
    );
    let bad = FIREHOSE.replace(
        "destination = { kind = \"s3\" }",
        "format_conversion = \"parquet\"\ndestination = { kind = \"s3\" }",
    );
    rejects(
        "fh-conversion-buffer",
        bad.as_bytes(),
        Some(12),
        &["buffer.size", "at least 64MiB", "record-format-conversion"],
    );
    let bad = FIREHOSE.replace("kind = \"s3\"", "kind = \"ftp\"");
    rejects(
        "fh-destination-kind",
        bad.as_bytes(),
        Some(13),
        &["destination", "ftp"],
    );
    let bad = FIREHOSE.replace(
        "name = \"logs\"\n",
        "name = \"logs\"\nsource = \"kinesis:nowhere\"\n",
    );
    rejects(
        "fh-source",
        bad.as_bytes(),
        Some(12),
        &["source", "no stream called \"nowhere\""],
    );
    let bad = FIREHOSE.replace("size = \"1KB\"", "size = \"1001KiB\"");
    rejects(
        "fh-record-size",
        bad.as_bytes(),
        Some(8),
        &["size", "1000KiB", "API_PutRecord"],
    );
    let bad = FIREHOSE.replace("target = \"firehose:logs\"", "target = \"firehose:log\"");
    rejects(
        "fh-target",
        bad.as_bytes(),
        Some(6),
        &["target", "no delivery stream called \"log\""],
    );
    let bad = FIREHOSE.replace(
        "destination = { kind = \"s3\" }",
        "destination = { kind = \"http\", retry_duration = \"3h\" }",
    );
    rejects(
        "fh-retry-duration",
        bad.as_bytes(),
        Some(13),
        &["retry_duration", "2h"],
    );
    let bad = FIREHOSE.replace(
        "destination = { kind = \"s3\" }",
        "destination = { kind = \"http\", retry_interval = \"1ms\" }",
    );
    rejects(
        "fh-retry-interval",
        bad.as_bytes(),
        Some(13),
        &["retry_interval", "shorter than 1s"],
    );
    let bad = FIREHOSE.replace(
        "interval = \"300s\" }",
        "interval = \"0s\" }\ndynamic_partitioning = {}",
    );
    rejects(
        "fh-zero-buffering-partitioned",
        bad.as_bytes(),
        Some(12),
        &["buffer.interval", "zero buffering", "dynamic partitioning"],
    );
    let bad = format!(
        "{}\n[[stream]]\nname = \"clicks\"\nshards = 1\n\n[[firehose]]\nname = \"lake\"\nsource = \"kinesis:clicks\"\ndestination = {{ kind = \"s3\" }}\n\n[[topic]]\nname = \"t\"\n\n[[subscription]]\ntopic = \"t\"\nendpoint = \"firehose:lake\"\n",
        FIREHOSE
    );
    rejects(
        "fh-sns-into-kinesis-source",
        bad.as_bytes(),
        Some(29),
        &["endpoint", "reads a Kinesis stream"],
    );
}

/// A Flink application over a Kinesis stream, for the Flink cases below.
const FLINK: &str = r#"name = "fl"
duration = "10m"

[[producer]]
name = "devices"
target = "kinesis:telemetry"
load = { process = "poisson", rate_per_s = 10 }
partition_key = { dist = "uniform", keys = 10 }

[[stream]]
name = "telemetry"
shards = 1

[[flink]]
name = "app"
source = "kinesis:telemetry"
parallelism = 2
parallelism_per_kpu = 1
cpu_per_record = "1ms"
window = { kind = "sliding", size = "1m", slide = "30s" }
"#;

#[test]
fn flink_bad_input_exits_2_with_the_field_and_the_limit() {
    assert!(aqueduct::model::load_str(FLINK, "fl.toml", std::path::Path::new(".")).is_ok());
    for (name, from, to, line, needles) in [
        (
            "fl-parallelism-0",
            "parallelism = 2",
            "parallelism = 0",
            Some(17),
            &[
                "parallelism",
                "32 KPUs",
                "managed-flink/latest/java/limits.html",
            ][..],
        ),
        (
            "fl-parallelism-quota",
            "parallelism = 2",
            "parallelism = 33",
            Some(17),
            &["parallelism 33", "1 to 32", "[limits.flink] max_kpus"][..],
        ),
        (
            "fl-ppk",
            "parallelism_per_kpu = 1",
            "parallelism_per_kpu = 9",
            Some(18),
            &[
                "parallelism_per_kpu",
                "1 to 8",
                "API_ParallelismConfiguration",
            ][..],
        ),
        (
            "fl-slide",
            "slide = \"30s\"",
            "slide = \"2m\"",
            Some(20),
            &["window.slide", "larger than the window size"][..],
        ),
        (
            "fl-source",
            "source = \"kinesis:telemetry\"",
            "source = \"kinesis:nowhere\"",
            Some(16),
            &["source", "no stream called \"nowhere\""][..],
        ),
        (
            "fl-key-by",
            "parallelism_per_kpu = 1",
            "parallelism_per_kpu = 1\nkey_by = \"attribute:region\"",
            Some(19),
            &["key_by", "partition_key"][..],
        ),
        (
            "fl-sink",
            "cpu_per_record = \"1ms\"",
            "cpu_per_record = \"1ms\"\nsink = { target = \"firehose:nowhere\" }",
            Some(20),
            &["sink.target", "no delivery stream called \"nowhere\""][..],
        ),
        (
            "fl-sink-self",
            "cpu_per_record = \"1ms\"",
            "cpu_per_record = \"1ms\"\nsink = { target = \"kinesis:telemetry\" }",
            Some(20),
            &["sink.target", "own source"][..],
        ),
        (
            "fl-mtbf",
            "cpu_per_record = \"1ms\"",
            "cpu_per_record = \"1ms\"\nfailures = { mtbf = \"1us\" }",
            Some(20),
            &["failures.mtbf", "at least 1s"][..],
        ),
        (
            "fl-panes",
            "slide = \"30s\"",
            "slide = \"59999ms\"",
            Some(20),
            &["window.slide", "panes"][..],
        ),
        (
            "fl-random-keys",
            "partition_key = { dist = \"uniform\", keys = 10 }\n",
            "",
            None,
            &["key_by", "random partition keys"][..],
        ),
        (
            "fl-checkpoint",
            "cpu_per_record = \"1ms\"",
            "cpu_per_record = \"1ms\"\ncheckpoints = { interval = \"10ms\" }",
            Some(20),
            &[
                "checkpoints.interval",
                "at least 1s",
                "API_CheckpointConfiguration",
            ][..],
        ),
    ] {
        let bad = FLINK.replace(from, to);
        assert_ne!(bad, FLINK, "{name}: the mutation did not apply");
        rejects(name, bad.as_bytes(), line, needles);
    }
}

#[test]
fn a_closed_pipe_ends_the_output_without_a_panic() {
    // `aqueduct run ... | head` (issue 19): the reader goes away before the summary is
    // written. The process must end without a panic message (exit 101 before).
    use std::io::Read;
    use std::process::Stdio;
    let mut child = bin()
        .args(["run", "models/default.toml", "--json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(status.code(), Some(101), "{err}");
}

/// A valid Kinesis Video Streams model to break one piece at a time.
const VIDEO: &str = r#"name = "kvs"
duration = "1h"

[[video_stream]]
name = "cams"
retention = "24h"

[[camera]]
name = "site"
target = "video:cams"
bitrate_kbps = 1000
fragment_duration = "2s"

[[video_viewer]]
name = "ops"
source = "video:cams"
protocol = "hls"
"#;

#[test]
fn video_bad_input_exits_2_with_the_field_and_the_limit() {
    assert!(aqueduct::model::load_str(VIDEO, "v.toml", std::path::Path::new(".")).is_ok());
    let bad = VIDEO.replace(
        "bitrate_kbps = 1000",
        "count = 2000000\nbitrate_kbps = 1000",
    );
    rejects("kvs-count", bad.as_bytes(), Some(11), &["count", "1000000"]);
    let bad = VIDEO.replace("bitrate_kbps = 1000\n", "");
    rejects(
        "kvs-no-bitrate",
        bad.as_bytes(),
        Some(8),
        &["camera", "bitrate_kbps", "bitrate_load"],
    );
    let bad = VIDEO.replace("bitrate_kbps = 1000", "bitrate_kbps = 0");
    rejects(
        "kvs-bitrate-0",
        bad.as_bytes(),
        Some(11),
        &["bitrate_kbps", "above 0"],
    );
    let bad = VIDEO.replace("bitrate_kbps = 1000", "bitrate_kbps = -5");
    rejects(
        "kvs-bitrate-neg",
        bad.as_bytes(),
        Some(11),
        &["bitrate_kbps", "above 0"],
    );
    let bad = VIDEO.replace("\"2s\"", "\"21s\"");
    rejects(
        "kvs-fragment-duration",
        bad.as_bytes(),
        Some(12),
        &["fragment_duration", "1s to 20s", "limits.html"],
    );
    let bad = VIDEO.replace("\"2s\"", "\"500ms\"");
    rejects(
        "kvs-fragment-short",
        bad.as_bytes(),
        Some(12),
        &["fragment_duration", "1s to 20s"],
    );
    // 30,000 kbit/s × 20 s = 75 MB, above the 50 MB fragment.
    let bad = VIDEO
        .replace("bitrate_kbps = 1000", "bitrate_kbps = 30000")
        .replace("\"2s\"", "\"20s\"");
    rejects(
        "kvs-fragment-size",
        bad.as_bytes(),
        Some(11),
        &["bitrate_kbps", "fragment_size_max", "limits.html"],
    );
    let bad = VIDEO.replace("retention = \"24h\"", "retention = \"30m\"");
    rejects(
        "kvs-retention-short",
        bad.as_bytes(),
        Some(6),
        &["retention", "1h", "API_CreateStream"],
    );
    let bad = VIDEO.replace("retention = \"24h\"", "retention = \"87601h\"");
    rejects(
        "kvs-retention-long",
        bad.as_bytes(),
        Some(6),
        &["retention", "retention_max"],
    );
    let bad = VIDEO.replace("source = \"video:cams\"", "source = \"video:cam\"");
    rejects(
        "kvs-viewer-stream",
        bad.as_bytes(),
        Some(16),
        &["source", "no video stream called \"cam\""],
    );
    let bad = VIDEO.replace("target = \"video:cams\"", "target = \"video:nowhere\"");
    rejects(
        "kvs-camera-stream",
        bad.as_bytes(),
        Some(10),
        &["target", "no video stream called \"nowhere\""],
    );
    let bad = VIDEO.replace("retention = \"24h\"", "retention = \"0h\"");
    rejects(
        "kvs-hls-no-retention",
        bad.as_bytes(),
        Some(17),
        &["protocol", "HLS", "retention 0"],
    );
    let bad = VIDEO.replace(
        "protocol = \"hls\"",
        "protocol = \"getmedia\"\nper_stream = 4",
    );
    rejects(
        "kvs-getmedia-connections",
        bad.as_bytes(),
        Some(18),
        &["per_stream", "3 connections", "get_media_connections"],
    );
    let bad = VIDEO.replace(
        "protocol = \"hls\"",
        "protocol = \"webrtc\"\nper_stream = 11",
    );
    rejects(
        "kvs-webrtc-viewers",
        bad.as_bytes(),
        Some(18),
        &[
            "per_stream",
            "webrtc_viewers_per_channel",
            "kvswebrtc-limits",
        ],
    );
    let bad = VIDEO.replace("protocol = \"hls\"", "protocol = \"hls\"\nturn_share = 0.5");
    rejects(
        "kvs-webrtc-key-on-hls",
        bad.as_bytes(),
        Some(18),
        &["turn_share", "WebRTC"],
    );
    let bad = VIDEO.replace(
        "fragment_duration = \"2s\"",
        "fragment_duration = \"2s\"\ncontent_store = \"1MiB\"",
    );
    rejects(
        "kvs-content-store",
        bad.as_bytes(),
        Some(13),
        &["content_store", "10MiB", "content_store_min"],
    );
}
