//! Fidelity: with zero API latencies a Poisson producer, a standard queue, long polling
//! with `max_messages = 1` and c workers is the textbook M/G/c queue, so queueing theory
//! decides these tests. Each test runs independent replications (different seeds) and
//! checks that theory lies inside the 99% confidence interval of the simulated mean;
//! Little's law is checked on every run. Seeds are fixed, so results are reproducible.

use crate::common::*;

/// A textbook queue: Poisson(λ) arrivals, `c` workers, service `service` (TOML).
fn textbook(lambda: f64, c: u32, service: &str, measured_s: u64, warmup_s: u64) -> String {
    format!(
        r#"
name = "textbook"
duration = "{measured_s}s"
warmup = "{warmup_s}s"
api_latency = "0ms"
sample_every = "1s"

[[producer]]
name = "arrivals"
target = "sqs:q"
load = {{ process = "poisson", rate_per_s = {lambda} }}

[[queue]]
name = "q"
retention = "14d"
visibility_timeout = "12h"

[[consumer]]
name = "servers"
source = "sqs:q"
workers = {c}
receive = {{ max_messages = 1, wait = "20s" }}
service_time = {service}
"#
    )
}

struct Rep {
    w: f64,
    wq: f64,
    p99: f64,
    lambda_hat: f64,
    l_time_avg: f64,
}

fn replicate(src: &str, reps: u64, base_seed: u64) -> Vec<Rep> {
    (0..reps)
        .map(|r| {
            let out = run(src, base_seed + r);
            assert_balanced(&out);
            let window = out.summary.simulated_s;
            // Time-average number in system from the 1 s samples after the warm-up.
            let backlog = out.series.column("queue.q.backlog").expect("series");
            let inflight = out.series.column("queue.q.in_flight").expect("series");
            let warm = out.summary.warmup_s;
            let idx: Vec<usize> = (0..out.series.t_s.len())
                .filter(|i| out.series.t_s[*i] > warm)
                .collect();
            let l = idx.iter().map(|i| backlog[*i] + inflight[*i]).sum::<f64>() / idx.len() as f64;
            Rep {
                w: metric(&out, "consumer.servers.latency_s.mean"),
                wq: metric(&out, "consumer.servers.wait_s.mean"),
                p99: metric(&out, "consumer.servers.latency_s.p99"),
                lambda_hat: metric(&out, "producer.arrivals.generated") / window,
                l_time_avg: l,
            }
        })
        .collect()
}

/// Little's law L = λW on each replication: the difference L − λ̂·W has a CI containing 0.
fn check_little(reps: &[Rep]) {
    let diffs: Vec<f64> = reps
        .iter()
        .map(|r| r.l_time_avg - r.lambda_hat * r.w)
        .collect();
    assert_in_ci("Little's law L − λW", &diffs, 0.0, 0.99);
}

/// Erlang C: probability that an arrival waits in M/M/c with offered load a = λ/μ.
fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / c as f64;
    let mut term = 1.0;
    let mut sum = 1.0; // k = 0
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let last = term * a / c as f64 / (1.0 - rho);
    last / (sum + last)
}

#[test]
fn mm1_at_rho_0_5() {
    // λ = 0.5, μ = 1: W = 1/(μ−λ) = 2 s, Wq = ρ/(μ−λ) = 1 s, p99 = ln(100)/(μ−λ) = 9.2103 s.
    let src = textbook(
        0.5,
        1,
        r#"{ dist = "exponential", mean = "1s" }"#,
        100_000,
        1_000,
    );
    let reps = replicate(&src, 12, 100);
    let w: Vec<f64> = reps.iter().map(|r| r.w).collect();
    let wq: Vec<f64> = reps.iter().map(|r| r.wq).collect();
    let p99: Vec<f64> = reps.iter().map(|r| r.p99).collect();
    assert_in_ci("M/M/1 ρ=0.5 W", &w, 2.0, 0.99);
    assert_in_ci("M/M/1 ρ=0.5 Wq", &wq, 1.0, 0.99);
    assert_in_ci("M/M/1 ρ=0.5 sojourn p99", &p99, 100f64.ln() / 0.5, 0.99);
    check_little(&reps);
}

#[test]
fn mm1_at_rho_0_8() {
    // λ = 0.8, μ = 1: W = 1/(1−0.8) = 5 s, Wq = 0.8/0.2 = 4 s, p99 = ln(100)/0.2 = 23.026 s.
    let src = textbook(
        0.8,
        1,
        r#"{ dist = "exponential", mean = "1s" }"#,
        300_000,
        2_000,
    );
    let reps = replicate(&src, 12, 200);
    let w: Vec<f64> = reps.iter().map(|r| r.w).collect();
    let wq: Vec<f64> = reps.iter().map(|r| r.wq).collect();
    let p99: Vec<f64> = reps.iter().map(|r| r.p99).collect();
    assert_in_ci("M/M/1 ρ=0.8 W", &w, 5.0, 0.99);
    assert_in_ci("M/M/1 ρ=0.8 Wq", &wq, 4.0, 0.99);
    assert_in_ci("M/M/1 ρ=0.8 sojourn p99", &p99, 100f64.ln() / 0.2, 0.99);
    check_little(&reps);
}

#[test]
fn mmc_c3_rho_0_8() {
    // c = 3, μ = 1, λ = 2.4 (ρ = 0.8): a = 2.4, Erlang C(3, 2.4) = 0.64719;
    // Wq = C/(cμ − λ) = 0.64719/0.6 = 1.07865 s; W = Wq + 1 = 2.07865 s.
    let c = erlang_c(3, 2.4);
    assert!((c - 0.647_19).abs() < 1e-4, "Erlang C {c}");
    let src = textbook(
        2.4,
        3,
        r#"{ dist = "exponential", mean = "1s" }"#,
        100_000,
        1_000,
    );
    let reps = replicate(&src, 12, 300);
    let wq: Vec<f64> = reps.iter().map(|r| r.wq).collect();
    let w: Vec<f64> = reps.iter().map(|r| r.w).collect();
    assert_in_ci("M/M/3 Wq", &wq, c / 0.6, 0.99);
    assert_in_ci("M/M/3 W", &w, c / 0.6 + 1.0, 0.99);
    check_little(&reps);
}

#[test]
fn mmc_c10_rho_0_9() {
    // c = 10, μ = 1, λ = 9 (ρ = 0.9): Erlang C(10, 9) = 0.668732; Wq = C/(10 − 9) = 0.668732 s.
    let c = erlang_c(10, 9.0);
    assert!((c - 0.668_732).abs() < 1e-5, "Erlang C {c}");
    let src = textbook(
        9.0,
        10,
        r#"{ dist = "exponential", mean = "1s" }"#,
        60_000,
        1_000,
    );
    let reps = replicate(&src, 12, 400);
    let wq: Vec<f64> = reps.iter().map(|r| r.wq).collect();
    let w: Vec<f64> = reps.iter().map(|r| r.w).collect();
    assert_in_ci("M/M/10 Wq", &wq, c, 0.99);
    assert_in_ci("M/M/10 W", &w, c + 1.0, 0.99);
    check_little(&reps);
}

#[test]
fn md1_matches_pollaczek_khinchine() {
    // M/D/1, λ = 0.7, D = 1 s: Wq = λD²/(2(1−ρ)) = 0.7/(2·0.3) = 1.16667 s, W = 2.16667 s.
    let src = textbook(0.7, 1, r#""1s""#, 100_000, 1_000);
    let reps = replicate(&src, 12, 500);
    let wq: Vec<f64> = reps.iter().map(|r| r.wq).collect();
    assert_in_ci("M/D/1 Wq", &wq, 0.7 / 0.6, 0.99);
    check_little(&reps);
}

#[test]
fn mg1_lognormal_matches_pollaczek_khinchine() {
    // M/G/1 with lognormal service, median 0.5 s, p99 3 s:
    // σ = ln(6)/2.32635 = 0.770203, μ_ln = ln 0.5;
    // E[S] = 0.5·e^{σ²/2} = 0.672643 s, E[S²] = 0.25·e^{2σ²} = 0.818837 s²;
    // λ = 1.0: ρ = 0.672643; Wq = λE[S²]/(2(1−ρ)) = 0.818837/(2·0.327357) = 1.25068 s.
    let sigma = 6f64.ln() / 2.326_347_874_040_841;
    let es = 0.5 * (sigma * sigma / 2.0).exp();
    let es2 = 0.25 * (2.0 * sigma * sigma).exp();
    let wq_theory = es2 / (2.0 * (1.0 - es));
    assert!((wq_theory - 1.250_68).abs() < 1e-4, "{wq_theory}");
    let src = textbook(
        1.0,
        1,
        r#"{ dist = "lognormal", median = "500ms", p99 = "3s" }"#,
        200_000,
        2_000,
    );
    let reps = replicate(&src, 12, 600);
    let wq: Vec<f64> = reps.iter().map(|r| r.wq).collect();
    let w: Vec<f64> = reps.iter().map(|r| r.w).collect();
    assert_in_ci("M/G/1 Wq", &wq, wq_theory, 0.99);
    assert_in_ci("M/G/1 W", &w, wq_theory + es, 0.99);
    check_little(&reps);
}
