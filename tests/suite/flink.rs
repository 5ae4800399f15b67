//! Managed Service for Apache Flink: capacity and backpressure from first principles,
//! tumbling-window counts, the late share a short watermark delay drops (derived),
//! reprocessing after a restart from a checkpoint, autoscaling's doubling and halving,
//! key skew on Flink's key groups, a Firehose sink, and the bill from the run.

use crate::common::*;

/// One producer of `rate` records/s (constant load, 100 B, one record per call, zero API
/// latency) over `keys` uniform keys into a stream of `shards` shards, and one
/// application with `flink` lines.
fn model(rate: f64, keys: u32, shards: u32, duration: &str, producer: &str, flink: &str) -> String {
    format!(
        r#"
name = "flink"
duration = "{duration}"
api_latency = "0ms"

[[producer]]
name = "devices"
target = "kinesis:telemetry"
load = {{ process = "constant", rate_per_s = {rate} }}
size = "100B"
partition_key = {{ dist = "uniform", keys = {keys}, prefix = "device-" }}
{producer}

[[stream]]
name = "telemetry"
mode = "provisioned"
shards = {shards}

[[flink]]
name = "app"
source = "kinesis:telemetry"
{flink}
"#
    )
}

#[test]
fn capacity_is_subtasks_over_cpu_and_the_iterator_age_grows_at_the_excess() {
    // One subtask at 1.5 ms a record serves C = 666.7 records/s; λ = 900/s arrive in one
    // shard, read 400 records a call (up to 2,000/s: reading is not the limit). Over
    // T = 600 s the subtask processes C·T = 400,000 records, and its input buffer,
    // (2 + 8) × 32 KiB = 327,680 B, holds B = 3,276 records of 100 B more: the source has
    // read C·T + B. The record read last was written at (C·T + B)/λ, so the iterator age
    // at the end is T − (C·T + B)/λ = 600 − 403,276/900 = 151.9 s, within a read's
    // worth of arrivals (400/900 s) and a sampling step.
    let out = run(
        &model(
            900.0,
            100,
            1,
            "10m",
            "",
            "parallelism = 1\nmax_records = 400\ncpu_per_record = \"1500us\"\nautoscaling = false\ncheckpoints = { interval = \"0s\" }",
        ),
        1,
    );
    assert_balanced(&out);
    let read = metric(&out, "flink.app.records_in");
    let expect = 600.0 / 0.0015 + 3276.0;
    assert!((read - expect).abs() < 500.0, "{read} vs {expect}");
    let age = metric(&out, "flink.app.iterator_age_max_s");
    let expect_age = 600.0 - expect / 900.0;
    assert!(
        (age - expect_age).abs() < 1.5,
        "iterator age {age} vs {expect_age}"
    );
    // The subtask was busy all along.
    let cpu = metric(&out, "flink.app.cpu_utilization.mean");
    assert!(cpu > 0.999, "{cpu}");
    // Twice the subtasks keep up: the age stays within a read interval or two.
    let out = run(
        &model(
            900.0,
            100,
            1,
            "10m",
            "",
            "parallelism = 2\nmax_records = 400\ncpu_per_record = \"1500us\"\nautoscaling = false\ncheckpoints = { interval = \"0s\" }",
        ),
        1,
    );
    assert!(metric(&out, "flink.app.iterator_age_max_s") < 1.0);
    // Everything but the arrivals of the last read interval (0.2 s: 180) was read.
    let read = metric(&out, "flink.app.records_in");
    assert!((540_001.0 - 200.0..=540_001.0).contains(&read), "{read}");
}

#[test]
fn tumbling_windows_give_one_result_per_key_and_window() {
    // 10 keys at 1,000 records/s: every key is in every 1-minute window (a key misses a
    // window with probability (9/10)^60,000). Over 10 minutes the watermark passes the
    // ends of windows 0..8 (the last ends at the horizon): 10 × 9 = 90 results exactly,
    // no late record (no event-time lag).
    let out = run(
        &model(
            1000.0,
            10,
            2,
            "10m",
            "",
            "parallelism = 2\ncpu_per_record = \"10us\"\nwindow = { kind = \"tumbling\", size = \"1m\", out_of_orderness = \"2s\" }",
        ),
        3,
    );
    assert_balanced(&out);
    assert_eq!(metric(&out, "flink.app.windows_emitted"), 90.0);
    assert_eq!(metric(&out, "flink.app.late_dropped"), 0.0);
    // A result is emitted once the watermark passes the window's end: at least the
    // out-of-orderness later, and within one read interval (200 ms) and a little more.
    let p50 = metric(&out, "flink.app.result_latency_s.p50");
    assert!((2.0..2.6).contains(&p50), "{p50}");
    // Sliding windows of 1 minute every 30 s: windows −1..17 whose end the watermark
    // passed: 18 windows (window −1 holds the first 30 s) × 10 keys.
    let out = run(
        &model(
            1000.0,
            10,
            2,
            "10m",
            "",
            "parallelism = 2\ncpu_per_record = \"10us\"\nwindow = { kind = \"sliding\", size = \"1m\", slide = \"30s\", out_of_orderness = \"2s\" }",
        ),
        3,
    );
    assert_eq!(metric(&out, "flink.app.windows_emitted"), 190.0);
}

#[test]
fn a_watermark_shorter_than_the_lag_drops_the_derived_share() {
    // Event-time lag uniform on [0, D], bounded out-of-orderness B < D, tumbling windows
    // of S. At a high rate some record has a lag near 0 in every read, so the watermark is
    // about the present minus B (plus up to a read interval behind). A record created at c
    // with lag ℓ has event time t = c − ℓ; its window is purged when the watermark passes
    // its end, so it is dropped when its window ends in (t, t + ℓ − B]: for t uniform in
    // its window, probability (ℓ − B)/S when ℓ > B. Over ℓ ~ U[0, D]:
    //   share = ∫_B^D (ℓ − B)/S dℓ / D = (D − B)² / (2 D S).
    // D = 40 s, B = 10 s, S = 60 s: 900 / 4,800 = 0.1875. The watermark trails by up to
    // one read interval (0.2 s) more, which acts as a larger B: the share then lies in
    // [(D − B − 0.4)² / (2 D S), (D − B)² / (2 D S)].
    let share = |b: f64| (40.0 - b) * (40.0 - b) / (2.0 * 40.0 * 60.0);
    let mut shares = Vec::new();
    for seed in 1..=5 {
        let out = run(
            &model(
                2000.0,
                50,
                2,
                "20m",
                "event_time_lag = { dist = \"uniform\", min = \"0s\", max = \"40s\" }",
                "parallelism = 2\ncpu_per_record = \"10us\"\nwindow = { kind = \"tumbling\", size = \"1m\", out_of_orderness = \"10s\" }",
            ),
            seed,
        );
        assert_balanced(&out);
        shares.push(metric(&out, "flink.app.late_dropped") / metric(&out, "flink.app.records_in"));
    }
    let (mean, hw) = ci(&shares, 0.99);
    assert!(
        mean + hw >= share(10.4) && mean - hw <= share(10.0),
        "late share {mean:.5} ± {hw:.5} outside [{:.5}, {:.5}]",
        share(10.4),
        share(10.0)
    );
}

#[test]
fn a_restart_reprocesses_the_records_since_the_last_checkpoint() {
    // 1,000 records/s; checkpoints every 60 s take 1 s; a failure at 150 s: the last
    // completed checkpoint was triggered at 120 s, so the records read in [120 s, 150 s)
    // are read again: 30,000, within a read interval (200 records) either way.
    let out = run(
        &model(
            1000.0,
            100,
            2,
            "5m",
            "",
            "parallelism = 2\ncpu_per_record = \"10us\"\ncheckpoints = { interval = \"60s\", duration = \"1s\" }\nfailures = { at = [\"150s\"] }\nrestart_delay = \"20s\"\nwindow = { kind = \"tumbling\", size = \"1m\" }",
        ),
        1,
    );
    assert_balanced(&out);
    assert_eq!(metric(&out, "flink.app.restarts"), 1.0);
    let re = metric(&out, "flink.app.reprocessed");
    assert!((re - 30_000.0).abs() <= 400.0, "reprocessed {re}");
    assert_eq!(metric(&out, "flink.app.downtime_s"), 20.0);
    // The window [120 s, 180 s) had not fired at the failure; window [60 s, 120 s) fired
    // before the checkpoint at 120 s completed? It fired at ≈ 120.2 s, after the trigger:
    // the restored state fires it again, 100 duplicate results.
    assert_eq!(metric(&out, "flink.app.duplicate_results"), 100.0);
    // Nothing is lost, and the records are processed once the checkpoints cover them.
    assert_eq!(out.summary.accounting.expired, 0);
}

#[test]
fn autoscaling_doubles_after_15_busy_minutes_and_halves_after_6_idle_hours() {
    // 1 subtask at 1 ms a record, 900 records/s: 90% CPU from the first minute, so the 15th
    // data point (at 15 min) doubles the parallelism to 2 (2 KPUs). Then the load drops to
    // 10/s (1% CPU): 360 minutes below 10% halve it back to the configured 1.
    let producer = "";
    let src = format!(
        r#"
name = "scale"
duration = "8h"
api_latency = "0ms"

[[producer]]
name = "devices"
target = "kinesis:telemetry"
load = {{ process = "steps", steps = [{{ at = "0s", rate_per_s = 900 }}, {{ at = "30m", rate_per_s = 10 }}] }}
size = "100B"
partition_key = {{ dist = "uniform", keys = 100, prefix = "device-" }}
{producer}

[[stream]]
name = "telemetry"
mode = "provisioned"
shards = 2

[[flink]]
name = "app"
source = "kinesis:telemetry"
parallelism = 1
cpu_per_record = "1ms"
"#
    );
    let out = run(&src, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "flink.app.kpus_max"), 2.0);
    assert_eq!(metric(&out, "flink.app.rescales"), 2.0);
    // The bill: 1 KPU for 15 min, 2 KPUs from 15 min until the scale-down at 30 + 360 min,
    // then 1 again; each with the orchestration KPU.
    let bill = &out.summary.cost;
    let kpu_h: f64 = bill
        .lines
        .iter()
        .filter(|l| l.item == "application KPU-hours")
        .map(|l| l.quantity)
        .sum();
    let window_h = 8.0;
    let expect = (0.25 * 1.0 + (6.5 - 0.25) * 2.0 + (window_h - 6.5) * 1.0) * 730.0 / window_h;
    assert!(
        (kpu_h - expect).abs() < 0.02 * expect,
        "{kpu_h} vs {expect}"
    );
}

#[test]
fn a_hot_key_loads_one_subtask() {
    // Zipf keys with exponent 1.5 over 1,000 keys: key 1 carries 1/ζ(1.5) ≈ 38% of the
    // records. At 8 subtasks the busiest subtask carries at least that; at 2,000 records/s
    // and 1 ms a record it needs 0.76 s of CPU a second and more: it is the bottleneck
    // while the other subtasks idle.
    let out = run(
        &model(
            2000.0,
            1000,
            4,
            "10m",
            "",
            "parallelism = 8\ncpu_per_record = \"1ms\"\nautoscaling = false",
        )
        .replace(
            "partition_key = { dist = \"uniform\", keys = 1000, prefix = \"device-\" }",
            "partition_key = { dist = \"zipf\", keys = 1000, exponent = 1.5, prefix = \"device-\" }",
        ),
        1,
    );
    let max = metric(&out, "flink.app.cpu_utilization.max_subtask");
    let mean = metric(&out, "flink.app.cpu_utilization.mean");
    assert!(max > 0.75, "busiest subtask {max}");
    assert!(mean < 0.5 * max, "mean {mean} vs max {max}");
}

#[test]
fn results_reach_a_firehose_sink() {
    let src = model(
        1000.0,
        10,
        2,
        "10m",
        "",
        "parallelism = 2\ncpu_per_record = \"10us\"\nwindow = { kind = \"tumbling\", size = \"1m\" }\nsink = { target = \"firehose:results\", result_size = \"100B\" }",
    ) + "\n[[firehose]]\nname = \"results\"\nbuffer = { size = \"1MiB\", interval = \"60s\" }\ndestination = { kind = \"s3\", latency = \"0ms\" }\n";
    let out = run(&src, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "flink.app.windows_emitted"), 90.0);
    assert_eq!(metric(&out, "firehose.results.records_in"), 90.0);
    assert_eq!(out.summary.accounting.copies, 90);
}

#[test]
fn kpu_hours_bill_the_run_with_the_orchestration_kpu() {
    // 3 subtasks at 2 per KPU: 2 KPUs, plus the orchestration KPU, for the whole month.
    let out = run(
        &model(
            100.0,
            10,
            1,
            "1h",
            "",
            "parallelism = 3\nparallelism_per_kpu = 2\ncpu_per_record = \"10us\"",
        ),
        1,
    );
    let bill = &out.summary.cost;
    let q = |what: &str| {
        bill.lines
            .iter()
            .find(|l| l.item == what)
            .map(|l| (l.quantity, l.usd))
            .unwrap_or_else(|| panic!("no line {what}"))
    };
    let (app, app_usd) = q("application KPU-hours");
    let (orch, _) = q("orchestration KPU-hours");
    assert_eq!(app, 2.0 * 730.0);
    assert_eq!(orch, 730.0);
    assert!((app_usd - 1460.0 * 0.11).abs() < 0.005);
    // Running storage: 50 GB per KPU for the month: 100 GB-months at $0.10.
    let (gb, _) = q("running application storage (50 GB per KPU)");
    assert!((gb - 100.0).abs() < 1e-9);
}

#[test]
fn session_windows_close_when_the_watermark_passes_the_gap() {
    // 10 keys send for 60 s, then pause 60 s, five times over 10 minutes. A key's records
    // are milliseconds apart while it sends, so each on-period is one session per key. A
    // session closes when the watermark passes its last record plus the 5 s gap; the
    // watermark only moves with new records, so the session of an on-period fires when the
    // next one starts: 4 × 10 = 40 results (the last on-period's sessions stay open).
    let out = run(
        &model(
            1000.0,
            10,
            2,
            "10m",
            "",
            "parallelism = 2\ncpu_per_record = \"10us\"\nwindow = { kind = \"session\", gap = \"5s\", out_of_orderness = \"1s\" }",
        )
        .replace(
            "load = { process = \"constant\", rate_per_s = 1000 }",
            "load = { process = \"steps\", steps = [{ at = \"0s\", rate_per_s = 1000 }, { at = \"60s\", rate_per_s = 0 }], repeat_every = \"120s\" }",
        ),
        1,
    );
    assert_balanced(&out);
    assert_eq!(metric(&out, "flink.app.windows_emitted"), 40.0);
    // Each fired a pause later: its end (last record + 5 s) to the next on-period's first
    // read, about 55 s.
    let p50 = metric(&out, "flink.app.result_latency_s.p50");
    assert!((54.0..57.0).contains(&p50), "{p50}");
}

#[test]
fn processing_time_windows_fire_on_the_clock() {
    // Processing time: a 1-minute window fires at its end on the wall clock, whatever the
    // records' event times: 10 windows end by the 10-minute horizon, 10 keys each.
    let out = run(
        &model(
            1000.0,
            10,
            2,
            "10m",
            "event_time_lag = \"30s\"",
            "parallelism = 2\ncpu_per_record = \"10us\"\nwindow = { kind = \"tumbling\", size = \"1m\", time = \"processing\" }",
        ),
        1,
    );
    assert_balanced(&out);
    assert_eq!(metric(&out, "flink.app.windows_emitted"), 100.0);
    assert_eq!(metric(&out, "flink.app.late_dropped"), 0.0);
    assert!(metric(&out, "flink.app.result_latency_s.max") < 1e-6);
}

#[test]
fn results_in_a_kinesis_sink_feed_the_next_application() {
    // Application A averages 10 keys over 1-minute windows into stream "averages"
    // (9 windows × 10 keys = 90 results in 10 minutes, each with its key as partition
    // key); application B reads them: 90 records in, and every message is accounted for.
    let src = model(
        1000.0,
        10,
        2,
        "10m",
        "",
        "parallelism = 2\ncpu_per_record = \"10us\"\nwindow = { kind = \"tumbling\", size = \"1m\" }\nsink = { target = \"kinesis:averages\", result_size = \"100B\" }",
    ) + r#"
[[stream]]
name = "averages"
mode = "provisioned"
shards = 2

[[flink]]
name = "b"
source = "kinesis:averages"
parallelism = 2
cpu_per_record = "10us"
window = { kind = "tumbling", size = "5m" }
"#;
    let out = run(&src, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "flink.app.windows_emitted"), 90.0);
    assert_eq!(metric(&out, "stream.averages.records_put"), 90.0);
    assert_eq!(metric(&out, "flink.b.records_in"), 90.0);
    // B keys its input by the same device keys: 10 keys in its first 5-minute window.
    assert_eq!(metric(&out, "flink.b.windows_emitted"), 10.0);
}

#[test]
fn a_records_insight_is_its_windows_result() {
    // Issue 16's value of data at a Flink end point: a record's time to insight ends when
    // its window's result is emitted. Records are created evenly over each 1-minute
    // window; its result comes when the watermark passes the end, B = 2 s later, plus up to
    // a read interval (0.2 s) and a little processing: age at the result a ∈ [B + d,
    // 60 + B + d], d ∈ [0, 0.45 s]. Mean: 30 + B + d. With value half-life 60 s, the value
    // delivered is (1/ln 2)(2^(−(B+d)/60) − 2^(−(60+B+d)/60)).
    let out = run(
        &model(
            1000.0,
            10,
            2,
            "10m",
            "value = { half_life = \"1m\" }",
            "parallelism = 2\ncpu_per_record = \"10us\"\nwindow = { kind = \"tumbling\", size = \"1m\", out_of_orderness = \"2s\" }",
        ),
        1,
    );
    // Windows 0..8 fired: 9 × 60,000 records.
    assert_eq!(metric(&out, "flink.app.time_to_insight_s.count"), 540_000.0);
    let mean = metric(&out, "flink.app.time_to_insight_s.mean");
    assert!((32.0..=32.45).contains(&mean), "{mean}");
    let v = |d: f64| {
        ((-(2.0 + d) / 60.0f64).exp2() - (-(62.0 + d) / 60.0f64).exp2()) / std::f64::consts::LN_2
    };
    let got = metric(&out, "flink.app.value_delivered");
    assert!(
        got <= v(0.0) + 1e-3 && got >= v(0.45) - 1e-3,
        "{got} vs [{}, {}]",
        v(0.45),
        v(0.0)
    );
    // Flink's own Kinesis reader is not an end point (it hands records on).
    assert!(out
        .summary
        .metric("consumer.flink:app.time_to_insight_s.count")
        .is_none());
}

#[test]
fn three_applications_chain_through_kinesis_sinks() {
    // A → stream b → B → stream c → C: C's records are B's results, keyed by A's source
    // keys (it panicked on an empty key space before).
    let src = model(
        1000.0,
        10,
        2,
        "10m",
        "",
        "parallelism = 2\ncpu_per_record = \"10us\"\nwindow = { kind = \"tumbling\", size = \"1m\" }\nsink = { target = \"kinesis:b\" }",
    ) + r#"
[[stream]]
name = "b"
shards = 1

[[stream]]
name = "c"
shards = 1

[[flink]]
name = "second"
source = "kinesis:b"
cpu_per_record = "10us"
window = { kind = "tumbling", size = "1m" }
sink = { target = "kinesis:c" }

[[flink]]
name = "third"
source = "kinesis:c"
cpu_per_record = "10us"
"#;
    let out = run(&src, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "flink.app.windows_emitted"), 90.0);
    let second = metric(&out, "flink.second.windows_emitted");
    assert!(second > 0.0);
    assert_eq!(metric(&out, "flink.third.records_in"), second);
}
