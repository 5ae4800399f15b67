//! Arrival processes: long-run rates lie in their confidence intervals; the diurnal
//! process follows its sinusoid per phase bucket.

use crate::common::*;
use aqueduct::load::{Arrival, ArrivalState};
use aqueduct::model::raw::RawModel;
use aqueduct::sim::{stream, SimTime};

/// The arrival process of the first producer of a one-producer model with `load`.
fn arrival(load: &str) -> Arrival {
    let src = format!(
        r#"
name = "a"
duration = "1h"
[[producer]]
name = "p"
target = "sqs:q"
load = {load}
[[queue]]
name = "q"
"#
    );
    let _: RawModel = toml::from_str(&src).expect("toml");
    arch(&src).producers[0].arrival.clone()
}

/// Counts of arrivals in `[0, horizon_s)` split in `buckets` equal buckets.
fn counts(a: &Arrival, seed: u64, horizon_s: f64, buckets: usize) -> Vec<f64> {
    let mut rng = stream(seed, "arrivals-test");
    let mut st = ArrivalState::default();
    let horizon = SimTime((horizon_s * 1e9) as u64);
    let mut out = vec![0.0; buckets];
    let mut t = SimTime::ZERO;
    while let Some(next) = a.next(&mut st, t, &mut rng) {
        if next >= horizon {
            break;
        }
        let b = ((next.0 as f64 / horizon.0 as f64) * buckets as f64) as usize;
        out[b.min(buckets - 1)] += 1.0;
        t = next;
    }
    out
}

fn mean_rate_reps(load: &str, horizon_s: f64) -> Vec<f64> {
    let a = arrival(load);
    (0..20)
        .map(|r| counts(&a, 1000 + r, horizon_s, 1)[0] / horizon_s)
        .collect()
}

#[test]
fn poisson_rate() {
    assert_in_ci(
        "poisson 50/s",
        &mean_rate_reps(r#"{ process = "poisson", rate_per_s = 50 }"#, 2000.0),
        50.0,
        0.99,
    );
}

#[test]
fn constant_rate_is_exact() {
    // 40/s for 1,000 s: exactly 40,000 arrivals at t = 0, 0.025 s, ..., 999.975 s.
    let a = arrival(r#"{ process = "constant", rate_per_s = 40 }"#);
    assert_eq!(counts(&a, 1, 1000.0, 1)[0], 40_000.0);
}

#[test]
fn bursts_rate() {
    // base 10/s, 200/s for 30 s every 300 s, first burst at 300 s. Over [0, 3000 s):
    // bursts at 300, 600, ..., 2700 (9 bursts): 9·30·200 + (3000 − 270)·10 = 54,000 + 27,300
    // = 81,300 arrivals = 27.1/s.
    let load = r#"{ process = "bursts", base_per_s = 10, burst_per_s = 200, burst_every = "300s", burst_for = "30s" }"#;
    assert_in_ci("bursts", &mean_rate_reps(load, 3000.0), 27.1, 0.99);
    let a = arrival(load);
    assert!((a.expected_count(SimTime::ZERO, SimTime(3_000_000_000_000)) - 81_300.0).abs() < 1.0);
}

#[test]
fn steps_rate() {
    // 20/s for 500 s, then 80/s: over 2,000 s, 10,000 + 120,000 = 130,000 = 65/s.
    let load = r#"{ process = "steps", steps = [{ at = "0s", rate_per_s = 20 }, { at = "500s", rate_per_s = 80 }] }"#;
    assert_in_ci("steps", &mean_rate_reps(load, 2000.0), 65.0, 0.99);
}

#[test]
fn diurnal_follows_its_sinusoid_per_phase_bucket() {
    // mean 20/s, peak-to-mean 1.8, period 1 h, peak at 30 min: λ(t) = 20 + 16·cos(2π(t−1800)/3600).
    // Over 24 one-hour periods, each of 12 phase buckets (5 min) holds on average
    // ∫ λ over the bucket; check each bucket's per-period count against its CI.
    let load = r#"{ process = "diurnal", mean_per_s = 20, peak_to_mean = 1.8, period = "1h", peak_at = "30m" }"#;
    let a = arrival(load);
    let periods = 24;
    let buckets = 12;
    let mut per_bucket: Vec<Vec<f64>> = vec![Vec::new(); buckets];
    let c = counts(&a, 77, 3600.0 * periods as f64, periods * buckets);
    for p in 0..periods {
        for b in 0..buckets {
            per_bucket[b].push(c[p * buckets + b]);
        }
    }
    for (b, values) in per_bucket.iter().enumerate() {
        let from = b as f64 * 300.0;
        let expected = a.expected_count(
            SimTime((from * 1e9) as u64),
            SimTime(((from + 300.0) * 1e9) as u64),
        );
        assert_in_ci(&format!("diurnal bucket {b}"), values, expected, 0.99);
    }
    // And the whole: 24 h at 20/s.
    let total: f64 = c.iter().sum();
    let reps: Vec<f64> = (0..periods)
        .map(|p| c[p * buckets..(p + 1) * buckets].iter().sum::<f64>() / 3600.0)
        .collect();
    assert_in_ci("diurnal mean rate", &reps, 20.0, 0.99);
    assert!(total > 0.0);
}

#[test]
fn diurnal_with_clipped_trough_keeps_its_mean() {
    // peak-to-mean 3 clips the trough at zero; the mean must still be 10/s.
    let load = r#"{ process = "diurnal", mean_per_s = 10, peak_to_mean = 3, period = "10m" }"#;
    assert_in_ci("clipped diurnal", &mean_rate_reps(load, 6000.0), 10.0, 0.99);
}

#[test]
fn diurnal_with_a_long_zero_trough_keeps_its_mean() {
    // peak-to-mean 20: the rate is zero for most of each period, which the generator skips
    // instead of thinning through it; the mean must still be 10/s.
    let load = r#"{ process = "diurnal", mean_per_s = 10, peak_to_mean = 20, period = "10m" }"#;
    assert_in_ci(
        "deeply clipped diurnal",
        &mean_rate_reps(load, 6000.0),
        10.0,
        0.99,
    );
}

#[test]
fn trace_replays_counts() {
    // tests/data/counts.csv holds per-second counts; a non-repeating replay sends
    // exactly their sum, and the rate over the trace's length is that sum / length.
    let a = arrival(r#"{ process = "trace", file = "tests/data/counts.csv" }"#);
    let c = counts(&a, 1, 100.0, 1)[0];
    assert_eq!(c, 3.0 + 5.0 + 0.0 + 2.0);
}
