//! Hostile random input that keeps running (issue 21): random models of every component
//! kind with extreme and boundary values, random usage files and damaged price tables,
//! each run through the binary under a wall-clock watchdog and an address-space cap.
//!
//! Every case must end with exit code 0 (or 3 from `price`, a failed capacity check), 1
//! only when the run stopped at its memory budget, or 2 with an `error:` line; never a
//! panic, an abort, a signal or the watchdog. A run that ends is checked: its messages
//! balance and every number of its bill is finite.
//!
//! The watchdog is the bound on work: a case's rates (at most 5,000 messages a second)
//! and durations (at most 20 simulated seconds) bound its messages to about 10^5, so its
//! events (retry storms and fan-out included) to a few million; 60 s of wall clock is
//! more than ten times what the slowest of them takes on the 2-core CI machine. A case
//! the watchdog kills is a loop that does work without advancing the simulated clock.
//!
//! The cases come from a fixed seed; `AQUEDUCT_FUZZ_SEED` and `AQUEDUCT_FUZZ_CASES`
//! explore others (see `common::fuzz_config`); `HOSTILE_DEBUG=1` prints the cases that
//! take over 2 s and the refusals of the coverage test. A test also checks that most random
//! models run (not refused), so that the suite keeps testing the engine and not only the
//! validation.

use super::common::fuzz_config;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Wall-clock limit of one case.
const WATCHDOG: Duration = Duration::from_secs(60);
/// Address-space cap of one case: a run that allocates beyond it aborts.
const ADDRESS_SPACE: u64 = 2 << 30;

/// Draws values for one case from a list of random numbers.
struct Pick {
    v: Vec<u32>,
    i: usize,
}

impl Pick {
    fn n(&mut self, k: usize) -> usize {
        let x = self.v[self.i % self.v.len()];
        self.i += 1;
        x as usize % k
    }
    fn of<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.n(xs.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.n(100) < percent
    }
}

/// Durations at and near the boundaries: zero, one nanosecond, typical, long.
const SHORT: [&str; 6] = ["0s", "1ns", "1ms", "50ms", "1s", "30s"];
/// Service and processing times, constant or drawn.
const SERVICE: [&str; 6] = [
    "\"0s\"",
    "\"1ns\"",
    "\"5ms\"",
    "{ dist = \"exponential\", mean = \"20ms\" }",
    "{ dist = \"lognormal\", median = \"10ms\", p99 = \"2s\" }",
    "\"3s\"",
];
/// Message sizes from the smallest to over the limits.
const SIZES: [&str; 7] = [
    "\"1B\"",
    "\"1KB\"",
    "\"1KB\"",
    "\"256KB\"",
    "\"1000KiB\"",
    "\"2MiB\"",
    "{ dist = \"lognormal\", median = \"2KB\", p99 = \"900KB\" }",
];
/// Probabilities, boundaries included.
const PROB: [&str; 5] = ["0", "0.001", "0.5", "0.999", "1"];

/// A load process with a rate of at most 5,000 a second.
fn load(p: &mut Pick) -> String {
    let rate = p.of(&["0.001", "1", "50", "800", "5000"]);
    match p.n(5) {
        0 | 1 => format!("{{ process = \"poisson\", rate_per_s = {rate} }}"),
        2 => format!(
            "{{ process = \"diurnal\", mean_per_s = {rate}, peak_to_mean = {}, period = \"{}\" }}",
            p.of(&["1.01", "2", "3", "20"]),
            p.of(&["1s", "10s", "24h"])
        ),
        3 => format!(
            "{{ process = \"bursts\", base_per_s = {}, burst_per_s = {rate}, burst_every = \"{}\", burst_for = \"{}\" }}",
            p.of(&["0.001", "1", "10"]),
            p.of(&["1s", "5s", "1h"]),
            p.of(&["1ns", "1ms", "1s", "4s"])
        ),
        _ => format!(
            "{{ process = \"steps\", steps = [{{ at = \"0s\", rate_per_s = {rate} }}, {{ at = \"{}\", rate_per_s = {} }}] }}",
            p.of(&["1ns", "1s", "5s"]),
            p.of(&["0.001", "100", "5000"])
        ),
    }
}

fn producer(s: &mut String, p: &mut Pick, name: &str, target: &str, keys: bool) {
    writeln!(
        s,
        "[[producer]]\nname = \"{name}\"\ntarget = \"{target}\"\nload = {}\nsize = {}",
        load(p),
        p.of(&SIZES)
    )
    .unwrap();
    if p.chance(40) {
        // SQS and SNS batches hold 10; Kinesis and Firehose 500.
        let most = if target.starts_with("sqs") || target.starts_with("sns") {
            "10"
        } else {
            "500"
        };
        writeln!(
            s,
            "batch = {}\nlinger = \"{}\"",
            p.of(&["1", "2", most]),
            p.of(&SHORT)
        )
        .unwrap();
    }
    if keys {
        let n = p.of(&["1", "7", "1000", "100000"]);
        if p.chance(50) {
            writeln!(s, "partition_key = {{ dist = \"uniform\", keys = {n} }}").unwrap();
        } else {
            writeln!(
                s,
                "partition_key = {{ dist = \"zipf\", keys = {n}, exponent = {} }}",
                p.of(&["0", "1.2", "4"])
            )
            .unwrap();
        }
    }
    if p.chance(15) {
        writeln!(
            s,
            "retry = {{ max_attempts = {}, base = \"{}\" }}",
            p.of(&["1", "3", "20"]),
            p.of(&["1ms", "100ms"])
        )
        .unwrap();
    }
}

fn queue(s: &mut String, p: &mut Pick, name: &str, fifo: bool) {
    writeln!(
        s,
        "[[queue]]\nname = \"{name}\"\nkind = \"{}\"\nvisibility_timeout = \"{}\"\ndelay = \"{}\"\nretention = \"{}\"",
        if fifo { "fifo" } else { "standard" },
        p.of(&["0s", "1s", "30s", "12h"]),
        p.of(&["0s", "1s", "15m"]),
        p.of(&["1m", "4d", "14d"])
    )
    .unwrap();
    if !fifo && p.chance(20) {
        writeln!(s, "duplicate_probability = {}", p.of(&PROB)).unwrap();
    }
}

fn pool(s: &mut String, p: &mut Pick, name: &str, source: &str) {
    let wait = p.of(&["0s", "1s", "20s"]);
    writeln!(
        s,
        "[[consumer]]\nname = \"{name}\"\nsource = \"{source}\"\nworkers = {}\nservice_time = {}\nfailure_probability = {}\nreceive = {{ max_messages = {}, wait = \"{wait}\" }}",
        p.of(&["1", "4", "200", "3000"]),
        p.of(&SERVICE),
        p.of(&PROB),
        p.of(&["1", "10"]),
    )
    .unwrap();
    if wait == "0s" {
        writeln!(s, "poll_interval = \"{}\"", p.of(&["1ms", "200ms"])).unwrap();
    }
    if p.chance(20) {
        writeln!(
            s,
            "outages = [{{ from = \"{}\", for = \"{}\" }}]",
            p.of(&["0s", "2s"]),
            p.of(&["1ns", "3s", "1h"])
        )
        .unwrap();
    }
}

/// A function; `source` "" for one invoked by SNS (no mapping).
fn lambda(s: &mut String, p: &mut Pick, name: &str, source: &str, kinesis: bool) {
    writeln!(
        s,
        "[[lambda]]\nname = \"{name}\"\nduration = {}\nfailure_probability = {}\nmemory_mb = {}",
        p.of(&SERVICE),
        p.of(&PROB),
        p.of(&["128", "1769", "10240"]),
    )
    .unwrap();
    if source.is_empty() {
        return;
    }
    let (batch, window) = if kinesis || p.chance(70) {
        (p.of(&["1", "10", "100"]), p.of(&["0s", "1ms", "1s"]))
    } else {
        (p.of(&["1", "10"]), p.of(&["0s", "1ms", "500ms"]))
    };
    writeln!(
        s,
        "source = \"{source}\"\nbatch_size = {batch}\nbatching_window = \"{}\"",
        if batch == "100" && !kinesis {
            "1s"
        } else {
            window
        }
    )
    .unwrap();
    if kinesis {
        writeln!(
            s,
            "maximum_retry_attempts = {}\nparallelization_factor = {}\nbisect_on_error = {}",
            p.of(&["-1", "0", "3", "10000"]),
            p.of(&["1", "10"]),
            p.of(&["true", "false"])
        )
        .unwrap();
        if p.chance(30) {
            writeln!(s, "consumer = \"efo\"").unwrap();
        }
    } else if p.chance(30) {
        writeln!(s, "reserved_concurrency = {}", p.of(&["1", "5", "1000"])).unwrap();
    }
}

fn stream(s: &mut String, p: &mut Pick, name: &str) {
    if p.chance(30) {
        writeln!(s, "[[stream]]\nname = \"{name}\"\nmode = \"on_demand\"").unwrap();
    } else {
        writeln!(
            s,
            "[[stream]]\nname = \"{name}\"\nmode = \"provisioned\"\nshards = {}\nretention = \"{}\"",
            p.of(&["1", "3", "64", "1000"]),
            p.of(&["24h", "365d"])
        )
        .unwrap();
    }
}

/// Faults on components of the model (`targets`: `kind:name` of each that takes one).
fn faults(s: &mut String, p: &mut Pick, targets: &[(&str, &str)]) {
    for (i, (kinds, target)) in targets.iter().enumerate() {
        if !p.chance(35) {
            continue;
        }
        let kinds: Vec<&str> = kinds.split(',').collect();
        let kind = kinds[p.n(kinds.len())];
        write!(
            s,
            "[[fault]]\nname = \"f{i}\"\nkind = \"{kind}\"\ntarget = \"{target}\"\n"
        )
        .unwrap();
        match kind {
            "capacity_loss" | "throttle" => {
                writeln!(s, "share = {}", p.of(&["0.01", "0.5", "0.99"])).unwrap()
            }
            "latency_spike" => {
                writeln!(s, "extra_latency = \"{}\"", p.of(&["1ns", "400ms", "10s"])).unwrap()
            }
            _ => {}
        }
        if p.chance(50) {
            writeln!(
                s,
                "from = \"{}\"\nfor = \"{}\"",
                p.of(&["0s", "1s", "5s"]),
                p.of(&["1ns", "2s", "1h"])
            )
            .unwrap();
        } else {
            writeln!(
                s,
                "rate_per_hour = {}\nfor = {{ dist = \"exponential\", mean = \"{}\" }}",
                p.of(&["1", "360", "3600"]),
                p.of(&["1ms", "2s"])
            )
            .unwrap();
        }
    }
}

/// A random model of one of seven shapes; returns its text and its shape.
fn model(p: &mut Pick) -> (String, &'static str) {
    let mut s = String::new();
    writeln!(
        s,
        "name = \"hostile\"\nduration = \"{}\"\nwarmup = \"{}\"\napi_latency = {}\nmemory_budget = \"256MiB\"",
        p.of(&["1s", "7s", "20s"]),
        p.of(&["0s", "1ns", "2s"]),
        p.of(&["\"0ms\"", "\"1ns\"", "\"4ms\"", "{ dist = \"uniform\", min = \"1ms\", max = \"30ms\" }"])
    )
    .unwrap();
    let shape = [
        "sqs",
        "sns",
        "kinesis",
        "firehose",
        "flink",
        "video",
        "sqs-lambda",
    ][p.n(7)];
    match shape {
        "sqs" | "sqs-lambda" => {
            let fifo = p.chance(30);
            let q = if fifo { "q.fifo" } else { "q" };
            producer(&mut s, p, "p", &format!("sqs:{q}"), false);
            if fifo {
                writeln!(
                    s,
                    "group = {{ dist = \"uniform\", keys = {} }}",
                    p.of(&["1", "10", "100000"])
                )
                .unwrap();
            }
            queue(&mut s, p, q, fifo);
            if p.chance(50) {
                let dlq = if fifo { "dlq.fifo" } else { "dlq" };
                writeln!(
                    s,
                    "dead_letter = {{ queue = \"{dlq}\", max_receive_count = {} }}",
                    p.of(&["1", "3", "1000"])
                )
                .unwrap();
                queue(&mut s, p, dlq, fifo);
            }
            if shape == "sqs" {
                pool(&mut s, p, "w", &format!("sqs:{q}"));
                faults(
                    &mut s,
                    p,
                    &[
                        ("outage,capacity_loss,latency_spike", "consumer:w"),
                        ("throttle,latency_spike", &format!("sqs:{q}")),
                    ],
                );
            } else {
                lambda(&mut s, p, "fn", &format!("sqs:{q}"), false);
                faults(
                    &mut s,
                    p,
                    &[("throttle,latency_spike", &format!("sqs:{q}"))],
                );
            }
        }
        "sns" => {
            let fifo = p.chance(20);
            let (t, q) = if fifo {
                ("t.fifo", "q.fifo")
            } else {
                ("t", "q")
            };
            producer(&mut s, p, "p", &format!("sns:{t}"), false);
            if fifo {
                writeln!(s, "group = {{ dist = \"uniform\", keys = 10 }}").unwrap();
            }
            writeln!(
                s,
                "attributes = {{ type = {{ order = 0.7, refund = 0.3 }} }}"
            )
            .unwrap();
            writeln!(
                s,
                "[[topic]]\nname = \"{t}\"\nkind = \"{}\"",
                if fifo { "fifo" } else { "standard" }
            )
            .unwrap();
            writeln!(
                s,
                "[[subscription]]\nname = \"to-q\"\ntopic = \"{t}\"\nendpoint = \"sqs:{q}\"\nraw_message_delivery = {}",
                p.of(&["true", "false"])
            )
            .unwrap();
            if p.chance(50) {
                writeln!(
                    s,
                    "filter = {{ type = [\"{}\"] }}",
                    p.of(&["order", "none"])
                )
                .unwrap();
            }
            let mut targets = vec![(
                "endpoint_down,latency_spike",
                "subscription:to-q".to_string(),
            )];
            if !fifo {
                writeln!(
                    s,
                    "[[subscription]]\nname = \"hook\"\ntopic = \"{t}\"\nendpoint = \"https:hook\"\nfailure_probability = {}",
                    p.of(&PROB)
                )
                .unwrap();
                writeln!(
                    s,
                    "[[subscription]]\nname = \"to-fn\"\ntopic = \"{t}\"\nendpoint = \"lambda:fn\""
                )
                .unwrap();
                lambda(&mut s, p, "fn", "", false);
                targets.push((
                    "endpoint_down,latency_spike",
                    "subscription:hook".to_string(),
                ));
            }
            queue(&mut s, p, q, fifo);
            pool(&mut s, p, "w", &format!("sqs:{q}"));
            targets.push(("throttle", format!("sns:{t}")));
            let t: Vec<(&str, &str)> = targets.iter().map(|(k, n)| (*k, n.as_str())).collect();
            faults(&mut s, p, &t);
        }
        "kinesis" => {
            producer(&mut s, p, "p", "kinesis:s", true);
            stream(&mut s, p, "s");
            if p.chance(60) {
                writeln!(
                    s,
                    "[[stream_consumer]]\nname = \"c\"\nsource = \"kinesis:s\"\nmode = \"{}\"\nservice_time = {}",
                    p.of(&["polling", "efo"]),
                    p.of(&SERVICE)
                )
                .unwrap();
            }
            if p.chance(60) {
                lambda(&mut s, p, "fn", "kinesis:s", true);
            }
        }
        "firehose" => {
            let direct = p.chance(60);
            if direct {
                producer(&mut s, p, "p", "firehose:f", false);
            } else {
                producer(&mut s, p, "p", "kinesis:s", true);
                stream(&mut s, p, "s");
            }
            writeln!(
                s,
                "[[firehose]]\nname = \"f\"\nsource = \"{}\"\nbuffer = {{ size = \"{}\", interval = \"{}\" }}",
                if direct { "direct_put" } else { "kinesis:s" },
                p.of(&["1MiB", "5MiB", "128MiB"]),
                p.of(&["0s", "1s", "900s"])
            )
            .unwrap();
            if p.chance(30) {
                writeln!(
                    s,
                    "transform = {{ duration = {}, failure_probability = {}, record_failure_probability = {}, output_ratio = {} }}",
                    p.of(&SERVICE),
                    p.of(&PROB),
                    p.of(&PROB),
                    p.of(&["0", "1", "3"])
                )
                .unwrap();
            }
            if p.chance(50) {
                writeln!(
                    s,
                    "destination = {{ kind = \"http\", latency = {}, failure_probability = {}, retry_duration = \"{}\" }}",
                    p.of(&SERVICE),
                    p.of(&PROB),
                    p.of(&["0s", "60s", "7200s"])
                )
                .unwrap();
            } else {
                writeln!(s, "destination = {{ kind = \"s3\" }}").unwrap();
            }
        }
        "flink" => {
            producer(&mut s, p, "p", "kinesis:s", true);
            stream(&mut s, p, "s");
            let window = match p.n(3) {
                0 => format!(
                    "{{ kind = \"tumbling\", size = \"{}\" }}",
                    p.of(&["1ms", "1s", "1m"])
                ),
                1 => format!(
                    "{{ kind = \"sliding\", size = \"{}\", slide = \"{}\" }}",
                    p.of(&["1s", "1m"]),
                    p.of(&["7ms", "1s", "1m"])
                ),
                _ => format!(
                    "{{ kind = \"session\", gap = \"{}\" }}",
                    p.of(&["1ns", "1s", "1m"])
                ),
            };
            writeln!(
                s,
                "[[flink]]\nname = \"a\"\nsource = \"kinesis:s\"\nparallelism = {}\ncpu_per_record = {}\nwindow = {window}",
                p.of(&["1", "4", "32"]),
                p.of(&["\"0s\"", "\"1ns\"", "\"100us\"", "\"10ms\""])
            )
            .unwrap();
        }
        _ => {
            writeln!(
                s,
                "[[video_stream]]\nname = \"v\"\nretention = \"{}\"",
                p.of(&["0s", "1h", "168h"])
            )
            .unwrap();
            writeln!(
                s,
                "[[camera]]\nname = \"c\"\ntarget = \"video:v\"\ncount = {}\nbitrate_kbps = {}\nfragment_duration = \"{}\"",
                p.of(&["1", "100", "10000"]),
                p.of(&["1", "1000", "{ dist = \"lognormal\", median = 1000, p99 = 8000 }"]),
                p.of(&["1s", "2s", "20s"])
            )
            .unwrap();
            if p.chance(50) {
                writeln!(
                    s,
                    "outages = [{{ from = \"{}\", for = \"{}\" }}]",
                    p.of(&["0s", "1s"]),
                    p.of(&["1ns", "5s"])
                )
                .unwrap();
            }
            if p.chance(50) {
                writeln!(
                    s,
                    "[[video_viewer]]\nname = \"o\"\nsource = \"video:v\"\nprotocol = \"{}\"\nshare = {}",
                    p.of(&["hls", "dash", "getmedia"]),
                    p.of(&["0.01", "1"])
                )
                .unwrap();
            }
        }
    }
    (s, shape)
}

static CASE: AtomicU32 = AtomicU32::new(0);

/// A fresh directory for one case.
fn case_dir() -> PathBuf {
    let n = CASE.fetch_add(1, Ordering::Relaxed);
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hostile-random")
        .join(format!("{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What one case did.
struct Ended {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `dir` under the watchdog and the address-space cap; a signal, a
/// panic or the watchdog is a failure naming `what`.
fn run_guarded(dir: &Path, args: &[&str], what: &str) -> Result<Ended, TestCaseError> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aqueduct"));
    cmd.args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    super::hostile::cap_address_space(&mut cmd, ADDRESS_SPACE);
    let mut child = cmd.spawn().expect("the binary starts");
    // Read the pipes on threads so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            return Err(TestCaseError::fail(format!(
                "{what}: still running after {WATCHDOG:?} (a loop that does not advance the simulated clock?)"
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if std::env::var("HOSTILE_DEBUG").is_ok() && start.elapsed() > Duration::from_secs(2) {
        eprintln!("SLOW {:?}: {what}", start.elapsed());
    }
    let stdout = t_out.join().unwrap();
    let stderr = t_err.join().unwrap();
    prop_assert!(!stderr.contains("panicked"), "{}: panic: {}", what, stderr);
    let Some(code) = status.code() else {
        return Err(TestCaseError::fail(format!(
            "{what}: killed by a signal ({status:?}; an abort, or memory beyond {} GiB): {stderr}",
            ADDRESS_SPACE >> 30
        )));
    };
    Ok(Ended {
        code,
        stdout,
        stderr,
    })
}

/// Every number of a bill is finite (JSON has no NaN: a NaN or inf becomes `null`).
fn finite(what: &str, v: &serde_json::Value) -> Result<(), TestCaseError> {
    match v {
        serde_json::Value::Null => Err(TestCaseError::fail(format!(
            "{what}: a bill number is null"
        ))),
        serde_json::Value::Number(n) => {
            prop_assert!(n.as_f64().is_some_and(f64::is_finite), "{}: {}", what, n);
            Ok(())
        }
        serde_json::Value::Array(a) => a.iter().try_for_each(|x| finite(what, x)),
        serde_json::Value::Object(o) => o.values().try_for_each(|x| finite(what, x)),
        _ => Ok(()),
    }
}

/// The shapes of [`model`].
const SHAPES: [&str; 7] = [
    "sqs",
    "sns",
    "kinesis",
    "firehose",
    "flink",
    "video",
    "sqs-lambda",
];

fn check_model(v: Vec<u32>) -> Result<(), TestCaseError> {
    let (text, _) = model(&mut Pick { v, i: 0 });
    let dir = case_dir();
    std::fs::write(dir.join("m.toml"), &text).unwrap();
    let what = format!("model\n{text}");
    let e = run_guarded(&dir, &["run", "m.toml", "--json"], &what)?;
    match e.code {
        2 => {
            prop_assert!(e.stderr.starts_with("error: "), "{}: {}", what, e.stderr);
            prop_assert!(
                e.stderr.contains("m.toml"),
                "{}: the error names no file: {}",
                what,
                e.stderr
            );
        }
        0 | 1 => {
            if e.code == 1 {
                prop_assert!(
                    e.stderr.contains("memory budget"),
                    "{}: exit 1: {}",
                    what,
                    e.stderr
                );
            }
            let doc: serde_json::Value = serde_json::from_str(&e.stdout)
                .map_err(|err| TestCaseError::fail(format!("{what}: JSON: {err}")))?;
            let a: aqueduct::metrics::Accounting =
                serde_json::from_value(doc["accounting"].clone()).unwrap();
            prop_assert!(
                a.balanced(),
                "{}: accounting does not balance: {:?}",
                what,
                a
            );
            finite(&what, &doc["cost"])?;
            for w in doc["warnings"].as_array().unwrap() {
                prop_assert!(
                    !w.as_str().unwrap().contains("bug in aqueduct"),
                    "{}: {}",
                    what,
                    w
                );
            }
            // The estimate of the same model, under the same guards.
            let what = format!("price of the {what}");
            let e = run_guarded(&dir, &["price", "m.toml", "--json"], &what)?;
            priced_cleanly(&what, &e)?;
        }
        c => {
            return Err(TestCaseError::fail(format!(
                "{what}: exit code {c}: {}",
                e.stderr
            )))
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_config(140, 21))]
    #[test]
    fn random_hostile_models_end_cleanly(v in proptest::collection::vec(any::<u32>(), 48)) {
        check_model(v)?;
    }
}

/// A `price --json` that ended: a bill with finite numbers (exit 0, or 3 for a failed
/// capacity check), or bad input (exit 2 with an `error:` line).
fn priced_cleanly(what: &str, e: &Ended) -> Result<(), TestCaseError> {
    match e.code {
        0 | 3 => {
            let doc: serde_json::Value = serde_json::from_str(&e.stdout)
                .map_err(|err| TestCaseError::fail(format!("{what}: JSON: {err}")))?;
            finite(what, &doc["cost"])
        }
        2 => {
            prop_assert!(e.stderr.starts_with("error: "), "{}: {}", what, e.stderr);
            Ok(())
        }
        c => Err(TestCaseError::fail(format!(
            "{what}: exit code {c}: {}",
            e.stderr
        ))),
    }
}

/// A random usage file: every kind, keys with extreme values (huge, zero, fractional,
/// negative, not a number).
fn usage_file(p: &mut Pick) -> String {
    const VALUES: [&str; 9] = [
        "0",
        "1",
        "2.5",
        "-1",
        "1e308",
        "nan",
        "inf",
        "18446744073709551615",
        "\"x\"",
    ];
    let kinds: [(&str, &[&str]); 6] = [
        (
            "sqs.q",
            &[
                "monthly_requests",
                "request_size_kb",
                "messages_per_second",
                "message_size_kb",
                "send_batch",
                "receive_batch",
                "empty_receives_per_second",
                "hours",
            ],
        ),
        (
            "sns.t",
            &[
                "monthly_requests",
                "messages_per_second",
                "publish_batch",
                "sqs_subscriptions",
                "monthly_sqs_deliveries",
                "monthly_payload_filter_gb",
            ],
        ),
        (
            "kinesis.s",
            &[
                "shards",
                "records_per_second",
                "consumers",
                "efo_consumers",
                "retention_hours",
                "monthly_on_demand_data_in_gb",
                "monthly_provisioned_put_units",
            ],
        ),
        (
            "firehose.f",
            &[
                "records_per_second",
                "monthly_records",
                "monthly_data_ingested_gb",
                "vpc_azs",
                "monthly_s3_objects",
            ],
        ),
        (
            "lambda.l",
            &[
                "monthly_requests",
                "request_duration_ms",
                "memory_mb",
                "requests_per_second",
            ],
        ),
        (
            "flink.a",
            &[
                "kpus",
                "parallelism",
                "hours",
                "monthly_starts",
                "backup_gb",
            ],
        ),
    ];
    let mut s = String::new();
    for (table, keys) in kinds {
        if !p.chance(60) {
            continue;
        }
        writeln!(s, "[{table}]").unwrap();
        for key in keys {
            if p.chance(50) {
                writeln!(s, "{key} = {}", p.of(&VALUES)).unwrap();
            }
        }
    }
    s
}

fn check_usage(v: Vec<u32>) -> Result<(), TestCaseError> {
    let mut p = Pick { v, i: 0 };
    let text = usage_file(&mut p);
    let dir = case_dir();
    std::fs::write(dir.join("u.toml"), &text).unwrap();
    let what = format!("usage file\n{text}");
    let e = run_guarded(&dir, &["price", "u.toml", "--json"], &what)?;
    priced_cleanly(&what, &e)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_config(60, 2121))]
    #[test]
    fn random_usage_files_price_cleanly(v in proptest::collection::vec(any::<u32>(), 64)) {
        check_usage(v)?;
    }
}

/// The bundled price table with one number replaced by an extreme value, priced for a
/// small usage file that uses every service.
fn check_price_table(v: Vec<u32>) -> Result<(), TestCaseError> {
    let mut p = Pick { v, i: 0 };
    let table = include_str!("../../src/pricing/aws-us-east-1.toml");
    // The numbers of the table's entries (usd, from, per, free allowances).
    let spots: Vec<usize> = table
        .match_indices(|c: char| c.is_ascii_digit())
        .map(|(i, _)| i)
        .filter(|&i| {
            let line_start = table[..i].rfind('\n').map_or(0, |n| n + 1);
            let line = &table[line_start..];
            !line.starts_with('#')
                && (i == 0
                    || !table.as_bytes()[i - 1].is_ascii_alphanumeric()
                        && table.as_bytes()[i - 1] != b'.'
                        && table.as_bytes()[i - 1] != b'-')
                && !line.starts_with("read_on")
                && !line.starts_with("source")
                && !line.starts_with("notes")
        })
        .collect();
    let at = spots[p.n(spots.len())];
    let end = at
        + table[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == 'e'))
            .unwrap();
    let bad = p.of(&["nan", "inf", "-1", "1e308", "0", "-0.0", "1e-320"]);
    let damaged = format!("{}{bad}{}", &table[..at], &table[end..]);
    let dir = case_dir();
    std::fs::write(dir.join("t.toml"), &damaged).unwrap();
    let usage = "prices = \"t.toml\"\n[sqs.q]\nmessages_per_second = 100\n[sns.t]\nmonthly_requests = 1000000\n[kinesis.s]\nshards = 2\nrecords_per_second = 500\n[firehose.f]\nrecords_per_second = 100\n[lambda.l]\nmonthly_requests = 1000000\nrequest_duration_ms = 100\n[flink.a]\nkpus = 2\n";
    std::fs::write(dir.join("u.toml"), usage).unwrap();
    let what = format!("price table with `{}` → `{bad}`", &table[at..end]);
    let e = run_guarded(&dir, &["price", "u.toml", "--json"], &what)?;
    priced_cleanly(&what, &e)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_config(40, 212121))]
    #[test]
    fn damaged_price_tables_are_refused_or_priced_finitely(v in proptest::collection::vec(any::<u32>(), 4)) {
        check_price_table(v)?;
    }
}

/// The random models must mostly run, or the suite would test only the validation: over
/// a fixed set of cases, every shape runs at least a third of the times it is drawn.
#[test]
fn most_random_models_run() {
    let mut runner = proptest::test_runner::TestRunner::new(fuzz_config(70, 77));
    let mut ran = [0u32; 7];
    let mut tried = [0u32; 7];
    for _ in 0..70 {
        let v = proptest::collection::vec(any::<u32>(), 48)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let (text, shape) = model(&mut Pick { v, i: 0 });
        let k = SHAPES.iter().position(|s| *s == shape).unwrap();
        tried[k] += 1;
        let dir = case_dir();
        std::fs::write(dir.join("m.toml"), &text).unwrap();
        // Only validation (under the guards): the runs are the property test's.
        let o = run_guarded(
            &dir,
            &["validate", "m.toml"],
            &format!("validate of the model\n{text}"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        if o.code == 0 {
            ran[k] += 1;
        } else if std::env::var("HOSTILE_DEBUG").is_ok() {
            eprintln!("{shape}: {}", o.stderr);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    for k in 0..7 {
        assert!(
            tried[k] == 0 || ran[k] * 3 >= tried[k],
            "shape {}: {} of {} random models load; the generator drifted from the model format",
            SHAPES[k],
            ran[k],
            tried[k]
        );
    }
}
