//! Shared helpers of the integration tests.
#![allow(dead_code)]

use aqueduct::engine::{self, RunOutput};
use aqueduct::model::{self, Architecture};
use std::path::Path;

/// Loads model text (relative paths resolve against the repository root).
pub fn arch(src: &str) -> Architecture {
    model::load_str(
        src,
        "test-model.toml",
        Path::new(env!("CARGO_MANIFEST_DIR")),
    )
    .unwrap_or_else(|e| panic!("test model is invalid: {e}"))
}

/// Runs model text with `seed`.
pub fn run(src: &str, seed: u64) -> RunOutput {
    let a = arch(src);
    engine::run(&a, seed).unwrap_or_else(|e| panic!("run failed: {e}"))
}

/// Mean and confidence half-width (Student's t) of independent replications, as the
/// experiment layer computes them.
pub fn ci(values: &[f64], level: f64) -> (f64, f64) {
    assert!(
        values.len() >= 2,
        "a confidence interval needs at least two replications"
    );
    let s = aqueduct::experiment::Stats::of(values, level);
    (s.mean, s.half)
}

/// Asserts that `expected` lies in the `level` confidence interval of `values`.
pub fn assert_in_ci(what: &str, values: &[f64], expected: f64, level: f64) {
    let (mean, hw) = ci(values, level);
    assert!(
        (mean - expected).abs() <= hw,
        "{what}: theory {expected:.5} is outside the {:.0}% CI {mean:.5} ± {hw:.5} (n = {})",
        level * 100.0,
        values.len()
    );
}

/// A metric of a run (panics with the path when missing).
pub fn metric(out: &RunOutput, path: &str) -> f64 {
    out.summary
        .metric(path)
        .unwrap_or_else(|| panic!("no metric {path}"))
}

/// Asserts that every message of the run is accounted for.
pub fn assert_balanced(out: &RunOutput) {
    let a = &out.summary.accounting;
    assert!(a.balanced(), "accounting does not balance: {a:?}");
}

/// The configuration of the random-model property tests: `cases` cases from a fixed seed,
/// so every run of the suite tries the same models. For exploration, the environment
/// variables `AQUEDUCT_FUZZ_SEED` and `AQUEDUCT_FUZZ_CASES` replace the seed and the count.
pub fn fuzz_config(cases: u32, seed: u64) -> proptest::test_runner::Config {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    proptest::test_runner::Config {
        cases: env("AQUEDUCT_FUZZ_CASES").map_or(cases, |c| c as u32),
        rng_seed: proptest::test_runner::RngSeed::Fixed(env("AQUEDUCT_FUZZ_SEED").unwrap_or(seed)),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// The top of a random model: its name, duration, warm-up and API latency (0: none,
/// 1: a constant 4 ms, else uniform 1–30 ms; constant latencies keep calls in order).
pub fn fuzz_header(latency: u8, duration_s: u32, warmup_s: u32) -> String {
    let latency = match latency {
        0 => "\"0ms\"",
        1 => "\"4ms\"",
        _ => "{ dist = \"uniform\", min = \"1ms\", max = \"30ms\" }",
    };
    format!(
        "name = \"fuzz\"\nduration = \"{duration_s}s\"\nwarmup = \"{warmup_s}s\"\napi_latency = {latency}\n"
    )
}

/// The queues' in-flight and stored messages against the run's accounting.
pub fn queue_census(
    out: &aqueduct::engine::RunOutput,
    src: &str,
) -> Result<(), proptest::test_runner::TestCaseError> {
    let a = &out.summary.accounting;
    let mut in_flight = 0.0;
    let mut stored = 0.0;
    for c in out.summary.components.iter().filter(|c| c.kind == "queue") {
        in_flight += c.get("in_flight").unwrap();
        stored += c.get("backlog").unwrap();
    }
    proptest::prop_assert_eq!(in_flight, a.in_flight as f64, "in flight\n{}", src);
    proptest::prop_assert_eq!(
        stored,
        (a.waiting + a.dead_lettered) as f64,
        "stored\n{}",
        src
    );
    Ok(())
}
