//! Amazon Data Firehose: flush cadence from first principles, freshness bounds, the 5 KB
//! rounding of the run's bill, Direct PUT quotas, endpoint outages and the S3 backup,
//! dynamic partitioning, the transformation, Redshift COPY backlogs, Kinesis and SNS
//! sources, the analytic estimate against the run, and random models that must account
//! for every record.

use crate::common::*;
use aqueduct::{engine, estimate, pricing};
use proptest::prelude::*;

/// A Direct PUT model: one producer of constant-size records at a constant rate, one call
/// per record, zero API latency, into one delivery stream with `firehose` lines.
fn direct(rate: f64, size: &str, duration: &str, firehose: &str) -> String {
    format!(
        r#"
name = "fh"
duration = "{duration}"
api_latency = "0ms"

[[producer]]
name = "app"
target = "firehose:logs"
load = {{ process = "constant", rate_per_s = {rate} }}
size = "{size}"

[[firehose]]
name = "logs"
{firehose}
"#
    )
}

#[test]
fn size_flushes_every_size_over_rate() {
    // 1,000 records/s of 1 KiB (the first at 0 s, the last at 3,600 s: 3,600,001 records):
    // a 5 MiB buffer holds exactly 5,120 records and fills in 5.12 s, long before the
    // 300 s interval: floor(3,600,001 / 5,120) = 703 objects of 5,120 records; the rest
    // waits in the buffer.
    let out = run(
        &direct(
            1000.0,
            "1KiB",
            "1h",
            "buffer = { size = \"5MiB\", interval = \"300s\" }\ndestination = { kind = \"s3\", latency = \"0ms\" }",
        ),
        1,
    );
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("firehose.logs.{k}"));
    assert_eq!(m("records_in"), 3_600_001.0);
    assert_eq!(m("flushes_by_size"), 703.0);
    assert_eq!(m("flushes_by_interval"), 0.0);
    assert_eq!(m("objects"), 703.0);
    assert_eq!(m("delivered"), 703.0 * 5120.0);
    assert_eq!(out.summary.accounting.waiting, 3_600_001 - 703 * 5120);
    // A record waits for the 5,120 records of its object: at most 5.119 s.
    assert!(
        m("freshness_s.max") <= 5.119 + 1e-9,
        "{}",
        m("freshness_s.max")
    );
    assert!(m("freshness_s.max") >= 5.11, "{}", m("freshness_s.max"));
    // Half the fill time on average.
    assert!(
        (m("freshness_s.mean") - 2.56).abs() < 0.01,
        "{}",
        m("freshness_s.mean")
    );
}

#[test]
fn interval_flushes_every_interval_and_bounds_freshness() {
    // 10 records/s of 1 KiB never fill 5 MiB: the buffer opens with the record of 0 s and
    // flushes 60 s later; the record of 60 s comes after the timer (it was scheduled
    // later) and opens the next buffer. In an hour: flushes at 60 k s, 60 of them. No
    // record is older than the interval plus the delivery (a constant 250 ms PUT) when it
    // lands.
    let out = run(
        &direct(
            10.0,
            "1KiB",
            "1h",
            "buffer = { size = \"5MiB\", interval = \"60s\" }\ndestination = { kind = \"s3\", latency = \"250ms\" }",
        ),
        1,
    );
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("firehose.logs.{k}"));
    assert_eq!(m("flushes_by_interval"), 60.0);
    assert_eq!(m("flushes_by_size"), 0.0);
    assert!(
        m("freshness_s.max") <= 60.25 + 1e-9,
        "{}",
        m("freshness_s.max")
    );
    assert!(m("freshness_s.max") >= 60.2, "{}", m("freshness_s.max"));
    // The youngest record of a flush lands after the PUT only.
    assert!(m("freshness_s.min") <= 0.35, "{}", m("freshness_s.min"));
}

#[test]
fn poisson_freshness_stays_under_interval_plus_delivery() {
    // Random arrivals, random S3 latency up to 300 ms: whatever the seed, no record lands
    // later than the interval plus the slowest PUT after its creation.
    for seed in 1..=4 {
        let src = r#"
name = "fh"
duration = "30m"
api_latency = "0ms"

[[producer]]
name = "app"
target = "firehose:logs"
load = { process = "poisson", rate_per_s = 40 }
size = { dist = "lognormal", median = "1KB", p99 = "20KB" }

[[firehose]]
name = "logs"
buffer = { size = "1MiB", interval = "10s" }
destination = { kind = "s3", latency = { dist = "uniform", min = "10ms", max = "300ms" } }
"#;
        let out = run(src, seed);
        assert_balanced(&out);
        let max = metric(&out, "firehose.logs.freshness_s.max");
        assert!(max <= 10.3 + 1e-9, "seed {seed}: {max}");
        assert!(metric(&out, "firehose.logs.flushes_by_size") > 0.0);
        assert!(metric(&out, "firehose.logs.flushes_by_interval") > 0.0);
    }
}

#[test]
fn ingest_is_billed_in_5_kb_records() {
    // 3 KiB records bill as 5 KiB each: 100/s for 10 minutes, 0 s to 600 s = 60,001
    // records, billed 60,001 × 5,120 bytes (not × 3,072). The run's bill scales the window to a
    // 730-hour month (× 4,380) at $0.029/GB.
    let out = run(
        &direct(100.0, "3KiB", "10m", "destination = { kind = \"s3\" }"),
        1,
    );
    let billed = metric(&out, "firehose.logs.billed_bytes");
    assert_eq!(metric(&out, "firehose.logs.records_in"), 60_001.0);
    assert_eq!(billed, 60_001.0 * 5120.0);
    assert_eq!(out.usage.firehose[0].ingest_billed_bytes, 60_001 * 5120);
    let line = out
        .summary
        .cost
        .lines
        .iter()
        .find(|l| l.service == "firehose")
        .expect("an ingest line");
    let gb_month = 60_001.0 * 5120.0 / 1_073_741_824.0 * 4380.0;
    assert!((line.quantity - gb_month).abs() < 1e-6, "{}", line.quantity);
    assert!((line.usd - gb_month * 0.029).abs() < 1e-6, "{}", line.usd);
}

#[test]
fn direct_put_quota_throttles_and_the_sdk_retries() {
    // A quota of 500 records/s against 1,000 records/s offered: about half the attempts
    // are refused; the stream takes in no more than the quota allows (500/s over the
    // window, plus the one-second bucket it starts with).
    let src = format!(
        "{}\n[limits.firehose]\ndirect_put_records_per_s = 500\n",
        direct(1000.0, "1KiB", "2m", "destination = { kind = \"s3\" }")
    );
    let out = run(&src, 3);
    assert_balanced(&out);
    let throttled = metric(&out, "firehose.logs.throttled");
    let records = metric(&out, "firehose.logs.records_in");
    assert!(throttled > 0.0);
    assert!(records <= 500.0 * 120.0 + 500.0, "{records}");
    assert!(records >= 0.95 * 500.0 * 120.0, "{records}");
    assert!(metric(&out, "producer.app.retries") > 0.0);
    assert!(metric(&out, "producer.app.dropped") > 0.0);
    assert_eq!(
        metric(&out, "producer.app.dropped"),
        out.summary.accounting.dropped as f64
    );
}

#[test]
fn endpoint_outage_longer_than_the_retry_duration_sends_exactly_the_affected_batches_to_backup() {
    // 100 records/s, flushed every 60 s: flush k at 60 k s (see the test above). The
    // endpoint is down from 600 s to 1,000 s; a failed request is retried every 10 s for
    // 120 s. A batch whose first attempt comes before 880 s fails its 13 attempts (t, t +
    // 10, …, t + 120 < 1,000) and goes to the S3 backup: flushes 10 to 14. Flush 15
    // (900 s) fails 10 attempts and lands at 1,000 s, when the outage is over; flush 16
    // (960 s) fails 4 and lands at 1,000 s.
    let out = run(
        &direct(
            100.0,
            "1KiB",
            "30m",
            r#"buffer = { size = "64MiB", interval = "60s" }
destination = { kind = "http", latency = "0ms", retry_duration = "120s", retry_interval = "10s", outages = [{ from = "600s", for = "400s" }] }"#,
        ),
        1,
    );
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("firehose.logs.{k}"));
    assert_eq!(m("backups"), 5.0);
    assert_eq!(m("delivery_failures"), 5.0 * 13.0 + 10.0 + 4.0);
    // Each backed-up batch holds one interval's records.
    let per_batch = m("backed_up") / 5.0;
    assert_eq!(per_batch, 6000.0);
    assert_eq!(m("backed_up"), out.summary.accounting.backed_up as f64);
    // Everything else landed.
    assert_eq!(
        m("delivered") + m("backed_up") + out.summary.accounting.waiting as f64,
        m("records_in")
    );
}

#[test]
fn dynamic_partitioning_keeps_a_buffer_per_partition_and_refuses_beyond_the_quota() {
    // 20 partition keys, uniform, into at most 5 active partitions: records of other keys
    // go to the error output while 5 buffers hold theirs.
    let src = r#"
name = "fh"
duration = "10m"
api_latency = "0ms"

[[producer]]
name = "app"
target = "firehose:logs"
load = { process = "poisson", rate_per_s = 200 }
size = "1KiB"
partition_key = { dist = "uniform", keys = 20 }

[[firehose]]
name = "logs"
buffer = { size = "1MiB", interval = "60s" }
dynamic_partitioning = { active_partitions = 5 }
destination = { kind = "s3" }
"#;
    let out = run(src, 5);
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("firehose.logs.{k}"));
    assert_eq!(m("active_partitions_max"), 5.0);
    assert!(m("partition_overflow") > 0.0);
    assert_eq!(m("partition_overflow"), m("backed_up"));
    // Each flush is one partition's: more objects than one buffer would make (one flush a
    // minute).
    assert!(m("objects") > 2.0 * 10.0, "{}", m("objects"));
    // Dynamic partitioning is billed per GB delivered and per 1,000 objects.
    let dp = &out.usage.firehose[0];
    assert_eq!(dp.dynamic_partitioning_objects as f64, m("objects"));
    assert_eq!(dp.dynamic_partitioning_bytes as f64, m("delivered_bytes"));
}

#[test]
fn vpc_delivery_bills_az_hours_of_the_month() {
    // 2 subnets: 2 × 730 AZ-hours a month whatever the length of the run.
    for duration in ["10m", "1h"] {
        let out = run(
            &direct(
                10.0,
                "1KiB",
                duration,
                "vpc = { subnets = 2 }\ndestination = { kind = \"s3\" }",
            ),
            1,
        );
        let line = out
            .summary
            .cost
            .lines
            .iter()
            .find(|l| l.item == "VPC delivery AZ-hours")
            .expect("an AZ-hour line");
        assert!(
            (line.quantity - 1460.0).abs() < 1e-6,
            "{duration}: {}",
            line.quantity
        );
    }
}

#[test]
fn transformation_failures_go_to_the_error_output() {
    // Every invocation fails: after 1 + 3 retries each batch goes to the error output.
    let src = direct(
        50.0,
        "1KiB",
        "10m",
        r#"transform = { failure_probability = 1.0, retries = 3, duration = "50ms" }
destination = { kind = "s3" }"#,
    );
    let out = run(&src, 1);
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("firehose.logs.{k}"));
    assert_eq!(m("delivered"), 0.0);
    assert!(m("transform_failed") > 0.0);
    assert_eq!(m("transform_failed"), m("backed_up"));
    // Every invocation failed; each batch had 4 attempts (a 60 s transformation buffer:
    // about 10 batches in 10 minutes).
    assert_eq!(m("invocations"), m("invocation_failures"));
    assert!(
        (m("invocations") / 4.0).floor() >= 9.0,
        "{}",
        m("invocations")
    );
    // Record-level failures with an output ratio: half the bytes come out.
    let src = direct(
        50.0,
        "1KiB",
        "10m",
        r#"transform = { record_failure_probability = 0.1, output_ratio = 0.5, duration = "50ms" }
buffer = { size = "1MiB", interval = "0s" }
destination = { kind = "s3" }"#,
    );
    let out = run(&src, 1);
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("firehose.logs.{k}"));
    let share = m("transform_failed") / m("records_in");
    assert!((share - 0.1).abs() < 0.01, "{share}");
    let per = m("delivered_bytes") / m("delivered");
    assert!((per - 512.0).abs() <= 1.0, "{per}");
    // The transformation is billed as a Lambda function.
    assert!(out
        .usage
        .lambda
        .iter()
        .any(|l| l.name == "firehose:logs:transform" && l.requests > 0));
}

#[test]
fn a_slow_redshift_copy_builds_a_backlog() {
    // Flushes every 10 s (10 MiB at 1 MiB/s), each staged in S3; a COPY of 25 s loads all
    // staged files at once, one COPY at a time: COPYs batch 2–3 files, records wait for
    // the COPY, and the freshness grows past the interval.
    let out = run(
        &direct(
            1024.0,
            "1KiB",
            "20m",
            r#"buffer = { size = "10MiB", interval = "900s" }
destination = { kind = "redshift", latency = "0ms", copy_duration = "25s" }"#,
        ),
        1,
    );
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("firehose.logs.{k}"));
    let objects = m("objects");
    let copies = m("copy_commands");
    assert!(objects >= 119.0, "{objects}");
    assert!(copies < objects / 2.0, "{copies} COPYs for {objects} files");
    assert!(
        m("freshness_s.max") > 25.0 + 10.0,
        "{}",
        m("freshness_s.max")
    );
}

#[test]
fn kinesis_source_reads_every_shard_once_a_second() {
    let src = r#"
name = "fh"
duration = "10m"
api_latency = "0ms"

[[producer]]
name = "app"
target = "kinesis:clicks"
load = { process = "poisson", rate_per_s = 500 }
size = "1KiB"
batch = 100
linger = "50ms"

[[stream]]
name = "clicks"
shards = 2
read_lag = "0ms"              # records readable at once: the cadence alone sets the age

[[firehose]]
name = "lake"
source = "kinesis:clicks"
buffer = { size = "1MiB", interval = "60s" }
destination = { kind = "s3", latency = "0ms" }
"#;
    let out = run(src, 2);
    assert_balanced(&out);
    let recs = metric(&out, "firehose.lake.records_in");
    assert!(recs > 0.98 * 500.0 * 600.0, "{recs}");
    // GetRecords once a second per shard: about 2 × 600 calls.
    let reads = metric(&out, "consumer.firehose:lake.reads");
    assert!((1190.0..=1210.0).contains(&reads), "{reads}");
    // Records wait up to a second to be read, then for their 1 MiB buffer (about 2 s).
    assert!(metric(&out, "firehose.lake.freshness_s.max") < 1.0 + 2.1 + 0.2);
    assert!(metric(&out, "firehose.lake.iterator_age_max_s") <= 1.0 + 1e-9);
    // Billed as a Kinesis source, 5 KB per record.
    assert_eq!(
        out.usage.firehose[0].source,
        aqueduct::services::firehose::bill::FirehoseSource::Kinesis
    );
}

#[test]
fn sns_subscription_delivers_into_a_delivery_stream() {
    let src = r#"
name = "fh"
duration = "10m"
api_latency = "0ms"

[[producer]]
name = "app"
target = "sns:events"
load = { process = "poisson", rate_per_s = 20 }
size = "1KiB"

[[topic]]
name = "events"

[[subscription]]
topic = "events"
endpoint = "firehose:archive"

[[firehose]]
name = "archive"
buffer = { size = "1MiB", interval = "60s" }
destination = { kind = "s3", latency = "0ms" }
"#;
    let out = run(src, 4);
    assert_balanced(&out);
    let recs = metric(&out, "firehose.archive.records_in");
    let published = metric(&out, "topic.events.published");
    let sub = out
        .summary
        .components
        .iter()
        .find(|c| c.kind == "subscription")
        .expect("the subscription");
    // Every delivery is a record of the stream; the last few are still on their way.
    assert_eq!(recs, sub.get("deliveries").unwrap());
    assert!(
        recs <= published && recs >= published - 50.0,
        "{recs} of {published}"
    );
    assert!(metric(&out, "firehose.archive.delivered") > 0.0);
}

/// The monthly Firehose and S3 lines of a run and of `aqueduct price MODEL`.
fn run_and_estimate(src: &str) -> (f64, f64) {
    let arch = arch(src);
    let out = engine::run(&arch, 9).unwrap();
    let est = estimate::estimate(&arch, 730.0).unwrap();
    let table = pricing::PriceTable::bundled();
    let bill =
        aqueduct::services::bill(&est.usage, &table, pricing::BillOptions::default()).unwrap();
    let part = |b: &pricing::Bill| b.services.firehose + b.services.s3 + b.services.lambda;
    (part(&out.summary.cost), part(&bill))
}

#[test]
fn price_agrees_with_the_run_on_steady_loads() {
    // Constant load, size-triggered flushes: ingest, objects and storage agree closely.
    let (run_usd, est_usd) = run_and_estimate(&direct(
        1000.0,
        "3KiB",
        "1h",
        "buffer = { size = \"5MiB\", interval = \"300s\" }\ndestination = { kind = \"s3\" }",
    ));
    assert!(
        (run_usd - est_usd).abs() <= 0.02 * run_usd,
        "{run_usd} vs {est_usd}"
    );
    // Poisson load with random sizes, interval-triggered flushes, a transformation.
    let src = r#"
name = "fh"
duration = "2h"
api_latency = "0ms"

[[producer]]
name = "app"
target = "firehose:logs"
load = { process = "poisson", rate_per_s = 50 }
size = { dist = "lognormal", median = "1KB", p99 = "12KB" }
batch = 50
linger = "200ms"

[[firehose]]
name = "logs"
buffer = { size = "64MiB", interval = "120s" }
transform = { duration = "100ms", record_failure_probability = 0.01, memory = 256 }
destination = { kind = "s3" }
"#;
    let (run_usd, est_usd) = run_and_estimate(src);
    assert!(
        (run_usd - est_usd).abs() <= 0.03 * run_usd,
        "{run_usd} vs {est_usd}"
    );
    // The bundled model: a Kinesis source (5 KB units of each record), a transformation
    // whose failed records make error objects.
    let bundled = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/firehose-s3.toml"),
    )
    .unwrap();
    let (run_usd, est_usd) = run_and_estimate(&bundled);
    assert!(
        (run_usd - est_usd).abs() <= 0.02 * run_usd,
        "{run_usd} vs {est_usd}"
    );
}

/// One random delivery stream model.
#[derive(Clone, Debug)]
struct Knobs {
    rate: f64,
    size_kib: u32,
    batch: u32,
    buffer_mib: u32,
    interval_s: u32,
    transform: Option<(f64, f64, u32)>,
    partitions: Option<(u32, u32)>,
    destination: u8,
    fail: f64,
    outage: Option<(u32, u32)>,
    retry_s: u32,
    quota: Option<u32>,
    duration_s: u32,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        (1.0f64..400.0, 1u32..64, 1u32..50, 1u32..8, 0u32..120),
        proptest::option::of((0.0f64..0.6, 0.0f64..0.3, 0u32..4)),
        proptest::option::of((1u32..40, 1u32..8)),
        (0u8..5, 0.0f64..0.5),
        proptest::option::of((0u32..300, 1u32..300)),
        (0u32..200, proptest::option::of(10u32..400), 60u32..600),
    )
        .prop_map(
            |(
                (rate, size_kib, batch, buffer_mib, interval_s),
                transform,
                partitions,
                (destination, fail),
                outage,
                (retry_s, quota, duration_s),
            )| Knobs {
                rate,
                size_kib,
                batch,
                buffer_mib,
                interval_s,
                transform,
                partitions,
                destination,
                fail,
                outage,
                retry_s,
                quota,
                duration_s,
            },
        )
}

fn fuzz_model(k: &Knobs) -> String {
    let kind = ["s3", "http", "opensearch", "splunk", "redshift"][k.destination as usize];
    let (buffer_mib, interval_s) = if kind == "splunk" {
        (k.buffer_mib.min(5), k.interval_s.min(60))
    } else {
        (k.buffer_mib, k.interval_s)
    };
    let partition_key = match k.partitions {
        Some((keys, _)) => {
            format!("partition_key = {{ dist = \"zipf\", keys = {keys}, exponent = 1.1 }}")
        }
        None => String::new(),
    };
    let mut fh =
        format!("buffer = {{ size = \"{buffer_mib}MiB\", interval = \"{interval_s}s\" }}\n");
    if let Some((fail, rec_fail, retries)) = k.transform {
        fh.push_str(&format!(
            "transform = {{ failure_probability = {fail}, record_failure_probability = {rec_fail}, retries = {retries}, duration = {{ dist = \"exponential\", mean = \"200ms\" }}, concurrency = 2, buffer = {{ size = \"1MiB\", interval = \"5s\" }} }}\n"
        ));
    }
    if let (Some((_, active)), "s3") = (k.partitions, kind) {
        fh.push_str(&format!(
            "dynamic_partitioning = {{ active_partitions = {active} }}\n"
        ));
    }
    let dest = match kind {
        "s3" => "destination = { kind = \"s3\", latency = { dist = \"uniform\", min = \"10ms\", max = \"2s\" } }".to_string(),
        "redshift" => format!(
            "destination = {{ kind = \"redshift\", copy_duration = {{ dist = \"exponential\", mean = \"20s\" }}, failure_probability = {}, retry_duration = \"{}s\"{} }}",
            k.fail,
            k.retry_s,
            k.outage.map_or(String::new(), |(f, l)| format!(", outages = [{{ from = \"{f}s\", for = \"{l}s\" }}]"))
        ),
        _ => format!(
            "destination = {{ kind = \"{kind}\", latency = {{ dist = \"exponential\", mean = \"300ms\" }}, failure_probability = {}, retry_duration = \"{}s\", retry_interval = \"7s\", concurrency = 3{} }}",
            k.fail,
            k.retry_s,
            k.outage.map_or(String::new(), |(f, l)| format!(", outages = [{{ from = \"{f}s\", for = \"{l}s\" }}]"))
        ),
    };
    fh.push_str(&dest);
    let limits = match k.quota {
        Some(q) => format!("\n[limits.firehose]\ndirect_put_records_per_s = {q}\n"),
        None => String::new(),
    };
    format!(
        r#"
name = "fuzz"
duration = "{}s"
warmup = "7s"
api_latency = {{ dist = "uniform", min = "1ms", max = "30ms" }}

[[producer]]
name = "app"
target = "firehose:logs"
load = {{ process = "poisson", rate_per_s = {} }}
size = {{ dist = "exponential", mean = "{}KiB" }}
batch = {}
linger = "100ms"
retry = {{ max_attempts = 4 }}
{partition_key}

[[firehose]]
name = "logs"
{fh}
{limits}"#,
        k.duration_s, k.rate, k.size_kib, k.batch
    )
}

proptest! {
    #![proptest_config(fuzz_config(40, 0xF1_8E05E))]

    /// Every record is accounted for (delivered, backed up, buffered, in a transformation
    /// or delivery, dropped), the run is a function of its seed, and the stream's own
    /// counts agree with the ledger.
    #[test]
    fn random_delivery_streams_account_for_every_record(k in knobs(), seed in 0u64..1000) {
        let src = fuzz_model(&k);
        let out = run(&src, seed);
        let a = &out.summary.accounting;
        prop_assert!(a.balanced(), "{a:?}\n{src}");
        prop_assert!(out.summary.warnings.iter().all(|w| !w.contains("bug")), "{:?}", out.summary.warnings);
        let m = |p: &str| metric(&out, &format!("firehose.logs.{p}"));
        prop_assert!(m("backed_up") >= m("transform_failed") + m("partition_overflow"));
        let again = run(&src, seed);
        prop_assert_eq!(
            serde_json::to_string(&out.summary.components).unwrap(),
            serde_json::to_string(&again.summary.components).unwrap()
        );
    }
}
