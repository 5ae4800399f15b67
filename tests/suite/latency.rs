//! The latency mechanisms of issue 22 one by one: each default does the work the
//! calibration needs (turning it off gives the old, optimistic figure), each override is
//! checked, and Lambda's enhanced fan-out mappings read by push.

use crate::common::*;
use aqueduct::model;
use std::path::Path;

/// The error of loading model text (panics when it loads).
fn refused(src: &str) -> String {
    model::load_str(src, "m.toml", Path::new("."))
        .err()
        .unwrap_or_else(|| panic!("the model should be refused:\n{src}"))
        .to_string()
}

/// An SQS (standard or FIFO) queue at 2 messages/s drained by a 1 ms function, with
/// `extra` lines on the function.
fn sqs_lambda(fifo: bool, extra: &str) -> String {
    let (q, kind, group) = if fifo {
        (
            "q.fifo",
            "kind = \"fifo\"",
            "group = { dist = \"uniform\", keys = 100 }",
        )
    } else {
        ("q", "", "")
    };
    format!(
        r#"
name = "m"
duration = "10m"

[[producer]]
name = "p"
target = "sqs:{q}"
load = {{ process = "poisson", rate_per_s = 2 }}
{group}

[[queue]]
name = "{q}"
{kind}

[[lambda]]
name = "f"
source = "sqs:{q}"
duration = "1ms"
{extra}
"#
    )
}

/// A one-shard stream at 5 records/s read by a 1 ms function, with `stream` lines on the
/// stream and `extra` on the function.
fn kinesis_lambda(stream: &str, extra: &str) -> String {
    format!(
        r#"
name = "m"
duration = "10m"

[[producer]]
name = "p"
target = "kinesis:s"
load = {{ process = "poisson", rate_per_s = 5 }}

[[stream]]
name = "s"
shards = 1
{stream}

[[lambda]]
name = "f"
source = "kinesis:s"
duration = "1ms"
{extra}
"#
    )
}

#[test]
fn the_sqs_mapping_defaults_make_the_measured_median_and_turn_off() {
    let p50 = |src: &str| metric(&run(src, 3), "lambda.f.latency_s.p50") * 1e3;
    let with = p50(&sqs_lambda(false, ""));
    let without = p50(&sqs_lambda(
        false,
        "invoke_overhead = \"0ms\"\npoll_wakeup = \"0ms\"",
    ));
    // The API legs alone give about 9 ms; the wake-up and invoke overhead add about 8.
    assert!(without < 11.0 && with > without + 5.0, "{without} → {with}");
}

#[test]
fn a_fifo_queue_wakes_its_mapping_with_a_long_tail() {
    let p99 = |src: &str| metric(&run(src, 3), "lambda.f.latency_s.p99") * 1e3;
    let standard = p99(&sqs_lambda(false, ""));
    let fifo = p99(&sqs_lambda(true, ""));
    assert!(
        fifo > 3.0 * standard,
        "standard {standard} ms, FIFO {fifo} ms"
    );
    // The FIFO default is the mapping's: overriding it takes the tail away.
    let flat = p99(&sqs_lambda(true, "poll_wakeup = \"2ms\""));
    assert!(flat < standard, "FIFO with a 2 ms wake-up: {flat} ms");
}

#[test]
fn the_read_lag_delays_polling_reads_and_turns_off() {
    let mean = |src: &str| metric(&run(src, 3), "lambda.f.latency_s.mean") * 1e3;
    let with = mean(&kinesis_lambda("", ""));
    let without = mean(&kinesis_lambda(
        "read_lag = \"0ms\"",
        "invoke_overhead = \"0ms\"",
    ));
    // Half the 1 s poll interval plus the legs without; the lag adds about 100 ms.
    assert!((480.0..560.0).contains(&without), "{without}");
    assert!(with > without + 60.0, "{without} → {with}");
}

#[test]
fn an_efo_mapping_is_pushed_records_without_polling() {
    let out = run(&kinesis_lambda("", "consumer = \"efo\""), 5);
    assert_balanced(&out);
    assert_eq!(metric(&out, "stream.s.get_records_calls"), 0.0);
    assert!(metric(&out, "stream.s.efo_bytes") > 0.0);
    assert_eq!(metric(&out, "stream.s.efo_consumers"), 1.0);
    assert!(metric(&out, "stream.s.efo_consumer_shard_hours") > 0.0);
    let produced = out.summary.accounting.produced as f64;
    assert!(metric(&out, "lambda.f.processed") >= produced - 5.0);
    // Pushed within about 50 ms, where polling waits half a second.
    let p50 = metric(&out, "lambda.f.latency_s.p50");
    assert!(p50 < 0.1, "{p50}");
    let polled = run(&kinesis_lambda("", ""), 5);
    assert!(metric(&polled, "lambda.f.latency_s.p50") > 0.4);
}

#[test]
fn an_efo_mapping_follows_a_reshard() {
    // Two shards split into four at 3 minutes: the mapping drains the parents, then reads
    // the children, and every record is processed once.
    let src = kinesis_lambda(
        "reshard = [{ at = \"3m\", shards = 2 }]",
        "consumer = \"efo\"\nparallelization_factor = 2",
    )
    .replace("shards = 1", "shards = 1\nretention = \"24h\"");
    let out = run(&src, 2);
    assert_balanced(&out);
    assert!(metric(&out, "stream.s.shards_total") > 1.0);
    let a = &out.summary.accounting;
    assert!(a.waiting + a.in_flight <= 5, "{a:?}");
    assert_eq!(metric(&out, "lambda.f.duplicates"), 0.0);
}

#[test]
fn latency_overrides_are_checked() {
    let e = refused(&sqs_lambda(false, "consumer = \"efo\""));
    assert!(e.contains("consumer") && e.contains("Kinesis"), "{e}");
    let e = refused(&kinesis_lambda("", "consumer = \"push\""));
    assert!(e.contains("consumer") && e.contains("\"push\""), "{e}");
    let e = refused(&kinesis_lambda("", "poll_wakeup = \"5ms\""));
    assert!(e.contains("poll_wakeup") && e.contains("read_lag"), "{e}");
    let e = refused(&kinesis_lambda(
        "",
        "invoke_overhead = { dist = \"lognormal\", median = \"5ms\", p99 = \"1ms\" }",
    ));
    assert!(e.contains("invoke_overhead"), "{e}");
    let e = refused(&kinesis_lambda("read_lag = \"-1ms\"", ""));
    assert!(e.contains("read_lag"), "{e}");
    // An asynchronously invoked function has no mapping.
    let e = refused(
        r#"
name = "m"
duration = "1m"
[[producer]]
name = "p"
target = "sns:t"
load = { process = "poisson", rate_per_s = 1 }
[[topic]]
name = "t"
[[subscription]]
topic = "t"
endpoint = "lambda:f"
[[lambda]]
name = "f"
duration = "1ms"
invoke_overhead = "5ms"
"#,
    );
    assert!(
        e.contains("invoke_overhead") && e.contains("delivery_latency"),
        "{e}"
    );
}

#[test]
fn efo_mappings_count_against_the_streams_registered_consumers() {
    let with = |n: usize| {
        let mut src = kinesis_lambda("", "consumer = \"efo\"");
        for i in 0..n {
            src.push_str(&format!(
                "\n[[stream_consumer]]\nname = \"c{i}\"\nsource = \"kinesis:s\"\nmode = \"efo\"\nservice_time = \"1ms\"\n"
            ));
        }
        src
    };
    // The mapping and 19 consumers: the 20 a provisioned stream allows.
    model::load_str(&with(19), "m.toml", Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let e = refused(&with(20));
    assert!(
        e.contains("\"f\"") && e.contains("consumer") && e.contains("21"),
        "{e}"
    );
}
