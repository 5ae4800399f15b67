//! Amazon Kinesis Video Streams: ingest against bitrate × time, the PutMedia data-rate
//! quota, content stores against outages, stored GB in steady state, AWS's own pricing
//! example to the cent (run and estimate), grouped identical cameras against cameras
//! simulated one by one, and the accounting of every fragment.

use crate::common::*;
use aqueduct::pricing::{self, BillOptions, PriceTable};
use aqueduct::{engine, estimate};

/// A model of one video stream fed by one camera group, with extra `camera` lines and
/// extra tables after it.
fn model(duration: &str, retention: &str, camera: &str, extra: &str) -> String {
    format!(
        r#"
name = "kvs"
duration = "{duration}"

[[video_stream]]
name = "cams"
retention = "{retention}"

[[camera]]
name = "site"
target = "video:cams"
{camera}

{extra}
"#
    )
}

const GB: f64 = 1_073_741_824.0;

#[test]
fn ingest_bytes_equal_bitrate_times_time() {
    // 5 cameras at 2,000 kbit/s (250,000 B/s) for an hour, 2 s fragments of 500,000 B
    // each uploaded in 0.4 s over 10 Mbit/s: captured = Σ bitrate × time exactly; the
    // fragment captured at 3,600 s is still uploading when the run ends.
    let out = run(
        &model(
            "1h",
            "0h",
            "count = 5\nbitrate_kbps = 2000\nfragment_duration = \"2s\"",
            "",
        ),
        1,
    );
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("video_stream.cams.{k}"));
    let per_camera = 2000.0 * 125.0 * 3600.0;
    assert_eq!(m("captured_bytes"), 5.0 * per_camera);
    assert_eq!(out.summary.accounting.in_transit, 5);
    assert_eq!(m("bytes_in"), 5.0 * per_camera - 5.0 * 500_000.0);
    assert_eq!(m("fragments"), 5.0 * 1799.0);
    assert_eq!(m("throttled") + m("dropped_at_device") + m("late"), 0.0);
    // A fragment is PERSISTED after its upload (0.4 s), the network both ways (2 × 50 ms)
    // and the persist latency (500 ms).
    assert!(
        (m("ack_persisted_s.p50") - 1.0).abs() < 0.002,
        "{}",
        m("ack_persisted_s.p50")
    );

    // A bitrate drawn per fragment: the mean of the distribution × time, within 1%.
    let out = run(
        &model(
            "1h",
            "0h",
            "count = 50\nbitrate_kbps = { dist = \"uniform\", min = 500, max = 1500 }",
            "",
        ),
        7,
    );
    assert_balanced(&out);
    let captured = metric(&out, "video_stream.cams.captured_bytes");
    let expected = 50.0 * 1000.0 * 125.0 * 3600.0;
    assert!(
        (captured / expected - 1.0).abs() < 0.01,
        "{captured} vs {expected}"
    );
}

#[test]
fn data_rate_quota_throttles_exactly_the_excess() {
    // A camera at 1,200 kbit/s (150,000 B/s) on a stream whose PutMedia quota is lowered to
    // 100,000 B/s: over an hour the stream admits R × T (plus the one-second bucket it
    // starts with); the excess (B − R) × T fills the 10 MiB store, which then drops
    // the oldest fragments. Fragments are 300,000 B (2 s).
    let (b, r, t, frag) = (150_000.0, 100_000.0, 3600.0, 300_000.0);
    let store = 10.0 * 1024.0 * 1024.0;
    let src = model(
        "1h",
        "0h",
        "bitrate_kbps = 1200\ncontent_store = \"10MiB\"",
        "[limits.video]\nput_media_bytes_per_s = 100000",
    );
    let out = run(&src, 1);
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("video_stream.cams.{k}"));
    let bytes_in = m("bytes_in");
    assert!(
        (bytes_in - r * t).abs() <= r + frag,
        "ingested {bytes_in}, quota × time {}",
        r * t
    );
    // What is not ingested is dropped, except what the store still holds.
    let a = &out.summary.accounting;
    let held = (a.waiting + a.in_transit) as f64 * frag;
    assert!(held <= store && held >= store - 2.0 * frag, "{held}");
    assert_eq!(m("captured_bytes"), b * t);
    assert_eq!(m("dropped_bytes"), b * t - bytes_in - held);
    let excess = (b - r) * t - store;
    assert!(
        (m("dropped_bytes") - excess).abs() <= r + 2.0 * frag,
        "dropped {} vs (B − R)·T − store {excess}",
        m("dropped_bytes")
    );
    assert!(m("throttled") > 0.0);
    // Under the default quota (12.5 MB/s) nothing waits and nothing is dropped.
    let out = run(&src.replace("put_media_bytes_per_s = 100000", ""), 1);
    let m = |k: &str| metric(&out, &format!("video_stream.cams.{k}"));
    assert_eq!(m("throttled") + m("dropped_at_device"), 0.0);
}

#[test]
fn a_store_smaller_than_the_outage_drops_the_difference() {
    // 1,000 kbit/s in 2 s fragments of 250,000 B; the network is down from 601 s to
    // 1,201 s: the 300 fragments captured meanwhile (602 s … 1,200 s) need 75 MB, the
    // 10 MiB store holds floor(10,485,760 / 250,000) = 41 of them, so 259 are dropped.
    let frag = 250_000u64;
    let store = 10u64 << 20;
    let captured_in_outage = 300u64;
    let held = store / frag;
    let src = model(
        "1h",
        "0h",
        "bitrate_kbps = 1000\ncontent_store = \"10MiB\"\noutages = [{ from = \"601s\", for = \"600s\" }]",
        "",
    );
    let out = run(&src, 1);
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("video_stream.cams.{k}"));
    assert_eq!(m("dropped_at_device"), (captured_in_outage - held) as f64);
    assert_eq!(
        m("dropped_bytes"),
        ((captured_in_outage - held) * frag) as f64
    );
    // The kept fragments (captured at 1,120 s + 2k, k = 0…40) upload back to back from
    // 1,201 s, 0.2 s each (250,000 B over 10 Mbit/s): k's PERSISTED ack comes at 1,201 +
    // 0.2(k + 1) + 0.6 (network both ways, persist) − (1,120 + 2k) = 81.8 − 1.8k s after
    // its capture: late (over 10 s) for k < 39.9, 40 fragments; the oldest 81.8 s.
    assert_eq!(m("late"), 40.0);
    assert!((m("ack_persisted_s.max") - 81.8).abs() < 1e-6);
    // A store of at least outage × bitrate keeps every fragment: the k-th of the 300
    // (captured at 602 + 2k) is acknowledged 599.8 − 1.8k s after its capture, all late;
    // so are the first 28 captured during the 60 s catch-up (m-th: 59.8 − 1.8m s > 10 s).
    let out = run(&src.replace("\"10MiB\"", "\"100MiB\""), 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "video_stream.cams.dropped_at_device"), 0.0);
    assert_eq!(
        metric(&out, "video_stream.cams.late"),
        (captured_in_outage + 28) as f64
    );
    assert!((metric(&out, "video_stream.cams.ack_persisted_s.max") - 599.8).abs() < 1e-6);
    // An upload cut by the outage is retried.
    let cut = model(
        "1h",
        "0h",
        "bitrate_kbps = 1000\noutages = [{ from = \"600100ms\", for = \"60s\" }]",
        "",
    );
    let out = run(&cut, 1);
    assert_balanced(&out);
    assert_eq!(metric(&out, "video_stream.cams.retried"), 1.0);
}

#[test]
fn stored_gb_in_steady_state_is_ingest_rate_times_retention() {
    // 20 cameras at 800 kbit/s (100,000 B/s each), retention 1 h, warmed up for 1 h.
    let src = format!(
        "warmup = \"1h\"\nsample_every = \"1m\"\n{}",
        model("2h", "1h", "count = 20\nbitrate_kbps = 800", "")
    );
    let out = run(&src, 1);
    assert_balanced(&out);
    assert!(
        out.summary.warnings.is_empty(),
        "{:?}",
        out.summary.warnings
    );
    let expected = 20.0 * 100_000.0 * 3600.0 / GB;
    let mean = metric(&out, "video_stream.cams.stored_gb.mean");
    assert!((mean / expected - 1.0).abs() < 1e-3, "{mean} vs {expected}");
    let series = out
        .series
        .column("video.cams.stored_gb")
        .expect("the stored GB column");
    let last = *series.last().expect("samples");
    assert!((last / expected - 1.0).abs() < 1e-3, "{last} vs {expected}");
    // Without a warm-up the store is still filling, and the run says so.
    let out = run(&model("2h", "1h", "count = 20\nbitrate_kbps = 800", ""), 1);
    assert!(out.summary.warnings.iter().any(|w| w.contains("warm-up")));
}

/// AWS's pricing example 1 (https://aws.amazon.com/kinesis/video-streams/pricing/): 100
/// users each streaming 7 MB a minute for 10 minutes a day, two HLS viewers per live
/// stream, 24 hours of retention. AWS: ingested 30 × (7,000 / 1,024) GB × $0.0085 =
/// $1.74; HLS 30 × (14,000 / 1,024) × $0.0119 = $4.88; stored 7,000 / 1,024 GB × $0.023
/// = $0.16; total $6.78 in a 30-day month.
const AWS_EXAMPLE: &str = r#"
name = "aws-pricing-example-1"
duration = "24h"
warmup = "24h"

[[video_stream]]
name = "app"
retention = "24h"

[[camera]]
name = "phones"
target = "video:app"
count = 100
# 7 MiB a minute: 7 × 2^20 × 8 / 60 bit/s; 15 s fragments are 1,835,008 B exactly.
bitrate_kbps = 978.6709333333333
fragment_duration = "15s"
recording = { for = "10m", every = "24h" }

[[video_viewer]]
name = "watchers"
source = "video:app"
protocol = "hls"
per_stream = 2
"#;

#[test]
fn aws_pricing_example_to_the_cent() {
    let out = run(AWS_EXAMPLE, 1);
    assert_balanced(&out);
    assert_eq!(
        metric(&out, "video_stream.app.bytes_in"),
        7000.0 * 1024.0 * 1024.0
    );
    let table = PriceTable::bundled();
    let month = BillOptions {
        month_hours: 720.0,
        ..BillOptions::default()
    };
    let cents = |v: f64| (v * 100.0).round() / 100.0;
    let check = |b: &pricing::Bill, what: &str| {
        let line = |item: &str| {
            b.lines
                .iter()
                .find(|l| l.item == item)
                .unwrap_or_else(|| panic!("{what}: no line {item}"))
                .usd
        };
        assert_eq!(cents(line("data ingested")), 1.74, "{what}");
        assert_eq!(cents(line("data consumed via HLS")), 4.88, "{what}");
        assert_eq!(cents(line("data stored")), 0.16, "{what}");
        assert_eq!(cents(b.total), 6.78, "{what}: {}", b.total);
    };
    let b = aqueduct::services::bill(&out.usage, &table, month).expect("bill");
    check(&b, "run");
    // `price MODEL`: the estimate of the same model.
    let a = arch(AWS_EXAMPLE);
    let e = estimate::estimate(&a, 720.0).expect("estimate");
    let b = aqueduct::services::bill(&e.usage, &table, month).expect("bill");
    check(&b, "estimate");
}

#[test]
fn grouped_identical_cameras_match_cameras_simulated_one_by_one() {
    // A constant bitrate makes every device of a group identical (simulated once); a
    // uniform distribution from 900 to 900 gives the same fragments but takes the
    // one-by-one path. Half the streams have two HLS viewers, a quarter a GetMedia reader.
    let viewers = r#"
[[video_viewer]]
name = "hls"
source = "video:cams"
protocol = "hls"
per_stream = 2
share = 0.5

[[video_viewer]]
name = "reader"
source = "video:cams"
protocol = "getmedia"
share = 0.25
"#;
    let cam = "count = 8\nfragment_duration = \"4s\"\noutages = [{ from = \"10m\", for = \"5m\" }]\noutages_every = \"30m\"";
    let grouped = run(
        &model("2h", "1h", &format!("{cam}\nbitrate_kbps = 900"), viewers),
        3,
    );
    let single = run(
        &model(
            "2h",
            "1h",
            &format!("{cam}\nbitrate_kbps = {{ dist = \"uniform\", min = 900, max = 900 }}"),
            viewers,
        ),
        3,
    );
    assert_balanced(&grouped);
    assert_eq!(grouped.summary.accounting, single.summary.accounting);
    let g = &grouped.summary.components;
    let s = &single.summary.components;
    let pick = |c: &[aqueduct::metrics::ComponentReport]| {
        c.iter()
            .find(|c| c.kind == "video_stream")
            .expect("video stream")
            .fields
            .clone()
    };
    assert_eq!(pick(g), pick(s));
    let m = |k: &str| metric(&grouped, &format!("video_stream.cams.{k}"));
    assert_eq!(m("bytes_out.hls"), 2.0 * m("bytes_in") / 2.0);
    assert_eq!(m("bytes_out.getmedia"), m("bytes_in") / 4.0);
    assert_eq!(m("playback_latency_s.count"), m("fragments") * 2.0 / 2.0);
}

#[test]
fn random_outages_and_bitrates_account_for_every_fragment() {
    let src = model(
        "6h",
        "2h",
        "count = 30\nbitrate_kbps = { dist = \"lognormal\", median = 2000, p99 = 6000 }\ncontent_store = \"20MiB\"\nrandom_outages = { every = \"1h\", for = \"5m\" }",
        "[[video_viewer]]\nname = \"v\"\nsource = \"video:cams\"\nprotocol = \"dash\"\nshare = 0.1",
    );
    let a = run(&src, 11);
    assert_balanced(&a);
    let m = |k: &str| metric(&a, &format!("video_stream.cams.{k}"));
    assert!(m("dropped_at_device") > 0.0 && m("retried") > 0.0 && m("late") > 0.0);
    assert!(m("bytes_out.dash") > 0.0);
    // Same seed, same bytes.
    let b = run(&src, 11);
    assert_eq!(
        serde_json::to_string(&a.summary.components).expect("json"),
        serde_json::to_string(&b.summary.components).expect("json")
    );
    // The run's bill prices what the run measured.
    let bill = engine::run(&arch(&src), 11).expect("run").summary.cost;
    // DASH's price is unconfirmed: listed as not priced, with the quantity consumed.
    let dash = bill
        .unpriced
        .iter()
        .find(|u| u.item == "data consumed via DASH")
        .expect("DASH listed as not priced");
    assert!(dash.quantity > 0.0);
}

#[test]
fn viewers_read_only_while_they_watch() {
    // HLS viewers watching 08:00–10:00 every day read the fragments PERSISTED then: a
    // fragment captured by t is persisted at t + 0.8 s (0.2 s upload, 0.6 s of network and
    // persistence), so those captured at 28,800 s … 35,998 s: 3,600 a day per camera.
    let src = model(
        "2d",
        "24h",
        "count = 3\nbitrate_kbps = 1000",
        "[[video_viewer]]\nname = \"ops\"\nsource = \"video:cams\"\nprotocol = \"hls\"\nper_stream = 2\nwatching = { from = \"8h\", for = \"2h\", every = \"24h\" }",
    );
    let out = run(&src, 1);
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("video_stream.cams.{k}"));
    assert_eq!(m("bytes_out.hls"), 2.0 * 3.0 * 2.0 * 3600.0 * 250_000.0);
    assert_eq!(m("playback_latency_s.count"), 2.0 * 3.0 * 2.0 * 3600.0);
    // The estimate reads the same share of the time: 2 h of 24.
    let e = estimate::estimate(&arch(&src), 730.0).expect("estimate");
    let v = &e.usage.video[0];
    let expected = 3.0 * 2.0 * 125_000.0 * 730.0 * 3600.0 * 2.0 / 24.0;
    assert!(
        (v.hls_bytes as f64 / expected - 1.0).abs() < 1e-9,
        "{} vs {expected}",
        v.hls_bytes
    );
}

#[test]
fn webrtc_sessions_signaling_and_turn_minutes_are_counted_not_priced() {
    // 10 cameras, half of them with 2 WebRTC viewers opening 24 sessions a day each, for 10
    // days: 5 signaling channels, Poisson(2,400) sessions, 10 messages each, and a
    // Binomial(sessions, 0.2) of them relayed by TURN for 90 s, billed as 2 minutes.
    let src = model(
        "10d",
        "0h",
        "count = 10\nbitrate_kbps = 500",
        r#"[[video_viewer]]
name = "peers"
source = "video:cams"
protocol = "webrtc"
share = 0.5
per_stream = 2
sessions_per_day = 24
session_length = "90s"
"#,
    );
    let out = run(&src, 5);
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("video_stream.cams.{k}"));
    assert_eq!(m("active_signaling_channels"), 5.0);
    let sessions = m("webrtc_sessions");
    let mean = 5.0 * 2.0 * 24.0 * 10.0;
    assert!((sessions - mean).abs() < 4.0 * mean.sqrt(), "{sessions}");
    assert_eq!(m("signaling_messages"), 10.0 * sessions);
    let relayed = m("turn_minutes") / 2.0;
    assert_eq!(relayed.fract(), 0.0);
    let sd = (sessions * 0.2 * 0.8).sqrt();
    assert!((relayed - 0.2 * sessions).abs() < 4.0 * sd, "{relayed}");
    // WebRTC media does not go through the stream.
    assert_eq!(m("bytes_out.getmedia") + m("bytes_out.hls"), 0.0);
    // Not priced: listed with their quantities; the channels are a monthly count (5, not
    // scaled from 10 days to a month).
    let bill = &out.summary.cost;
    let q = |item: &str| {
        bill.unpriced
            .iter()
            .find(|u| u.item == item)
            .unwrap_or_else(|| panic!("{item} not listed"))
            .quantity
    };
    assert_eq!(q("WebRTC active signaling channels"), 5.0);
    let scale = 730.0 / 240.0;
    assert!((q("WebRTC signaling messages") / (10.0 * sessions * scale) - 1.0).abs() < 1e-9);
    assert!(bill.lines.iter().all(|l| !l.item.contains("WebRTC")));
}

#[test]
fn a_bitrate_load_ingests_its_integral() {
    // A steps load read as kbit/s: 1,000 for the first hour, 3,000 for the second. Each 2 s
    // fragment takes the rate at its start: 1,800 fragments of 250,000 B, then 1,800 of
    // 750,000 B: captured = ∫ bitrate dt = (1,000 + 3,000) × 125 × 3,600 B.
    let src = model(
        "2h",
        "0h",
        "count = 4\nbitrate_load = { process = \"steps\", steps = [{ at = \"0s\", rate_per_s = 1000 }, { at = \"1h\", rate_per_s = 3000 }] }",
        "",
    );
    let out = run(&src, 1);
    assert_balanced(&out);
    let m = |k: &str| metric(&out, &format!("video_stream.cams.{k}"));
    assert_eq!(m("captured_bytes"), 4.0 * 4000.0 * 125.0 * 3600.0);
    // The estimate takes the load's mean over the window: 2,000 kbit/s.
    let e = estimate::estimate(&arch(&src), 730.0).expect("estimate");
    let expected = 4.0 * 2000.0 * 125.0 * 730.0 * 3600.0;
    let got = e.usage.video[0].ingested_bytes as f64;
    assert!((got / expected - 1.0).abs() < 1e-9, "{got} vs {expected}");
}
