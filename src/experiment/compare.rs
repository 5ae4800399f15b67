//! `aqueduct compare`: several architectures on the same workload, side by side.
//!
//! Common random numbers: replication `r` runs every model with the same seed, and a
//! component's random stream derives from (seed, component name), so producers with the
//! same name and the same workload (load, sizes, keys, attributes, value) draw the same
//! arrivals, sizes and keys in every model. [`check_common_workload`] refuses models whose
//! producers differ, naming the producer and the field. Differences between the
//! architectures' results then come from the architectures, not from the luck of the
//! draw, and identical models compare exactly equal.
//!
//! Each architecture gets [`COLUMNS`] (with their confidence intervals over the
//! replications, from [`Stats`]); objectives (`--slo`) are checked at the pessimistic
//! bound of the interval, as in sweeps, and the cheapest architecture meeting all of them
//! is chosen. The Pareto front of monthly cost against time-to-insight p99 marks the
//! architectures no other beats on both.

use super::slo::{self, Check, Slo};
use super::stats::Stats;
use crate::engine::{self, RunSummary};
use crate::input::{place, FieldPath, ModelError};
use crate::model::Architecture;
use crate::producers::Target;
use rayon::prelude::*;

/// A metric of the comparison: its path (a summary metric, or one of the sums below) and
/// its column title.
pub const COLUMNS: [(&str, &str); 11] = [
    ("cost.total", "monthly cost (USD)"),
    ("time_to_insight_s.p50", "time to insight p50 (s)"),
    ("time_to_insight_s.p99", "time to insight p99 (s)"),
    ("time_to_insight_s.mean", "time to insight mean (s)"),
    ("value_delivered", "value delivered"),
    ("usd_per_value", "USD per unit of value"),
    ("insight.records", "records with a result"),
    ("throttles", "throttles"),
    ("duplicates", "duplicates"),
    ("losses", "losses"),
    ("latency_max_p99_s", "worst component latency p99 (s)"),
];

/// Index of monthly cost in [`COLUMNS`].
pub const COST: usize = 0;
/// Index of time-to-insight p99 in [`COLUMNS`].
pub const TTI_P99: usize = 2;

/// One architecture to compare.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Its file, as shown in messages.
    pub file: String,
    /// Its text (to place errors at their lines).
    pub text: String,
    /// The validated model.
    pub arch: Architecture,
}

/// One architecture's results.
#[derive(Clone, Debug)]
pub struct Row {
    /// Its file.
    pub file: String,
    /// Its model name.
    pub model: String,
    /// Its model's description.
    pub description: String,
    /// Statistics of each of [`COLUMNS`] (then of each objective's metric not among
    /// them), over the replications.
    pub stats: Vec<Stats>,
    /// Each replication's values, in the same order.
    pub values: Vec<Vec<f64>>,
    /// The verdict of each objective.
    pub checks: Vec<Check>,
    /// On the Pareto front of cost against time-to-insight p99.
    pub pareto: bool,
}

/// The comparison.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Metric paths, in row order: [`COLUMNS`] then the objectives' other metrics.
    pub metrics: Vec<String>,
    /// One row per architecture, in the order given.
    pub rows: Vec<Row>,
    /// The objectives.
    pub slos: Vec<Slo>,
    /// The cheapest architecture meeting every objective (row index), if any.
    pub chosen: Option<usize>,
    /// Replications.
    pub reps: u32,
    /// First seed (replication r runs with seed + r).
    pub seed: u64,
    /// Confidence level.
    pub confidence: f64,
}

/// Checks that every candidate's producers are the first one's: the same names and the
/// same workload. The first difference is an error placed at the producer (or field) of
/// the later file.
pub fn check_common_workload(c: &[Candidate]) -> Result<(), ModelError> {
    let Some(first) = c.first() else {
        return Ok(());
    };
    let a = &first.arch;
    for other in &c[1..] {
        let b = &other.arch;
        for (i, p) in b.producers.iter().enumerate() {
            let path = FieldPath::item("producer", i, &p.name);
            let Some(j) = a.producers.iter().position(|q| q.name == p.name) else {
                return Err(place(
                    &other.text,
                    &other.file,
                    &path.field("name"),
                    format!(
                        "producer \"{}\" is not in {}: common random numbers need the same producers (same names) in every model compared",
                        p.name, first.file
                    ),
                ));
            };
            let q = &a.producers[j];
            let fields: [(&str, String, String); 6] = [
                (
                    "load",
                    format!("{:?}", p.arrival),
                    format!("{:?}", q.arrival),
                ),
                ("size", format!("{:?}", p.size), format!("{:?}", q.size)),
                (
                    match p.target {
                        Target::Queue(_) | Target::Topic(_) => "group",
                        Target::Stream(_) | Target::Firehose(_) => "partition_key",
                    },
                    format!("{:?} {}", p.keys, p.key_prefix),
                    format!("{:?} {}", q.keys, q.key_prefix),
                ),
                (
                    "attributes",
                    format!("{:?}", p.attributes),
                    format!("{:?}", q.attributes),
                ),
                ("body", format!("{:?}", p.body), format!("{:?}", q.body)),
                (
                    "value",
                    format!("{:?}", b.values.producers[i]),
                    format!("{:?}", a.values.producers[j]),
                ),
            ];
            for (field, mine, theirs) in fields {
                if mine != theirs {
                    let message = format!(
                        "producer \"{}\" has another `{field}` than in {}: common random numbers need the same workload in every model compared",
                        p.name, first.file
                    );
                    // A producer without its own `value` has the model's: point there.
                    let span = |p: &FieldPath| crate::input::locate::span_of(&other.text, p);
                    let mut at = path.field(field);
                    if field == "value"
                        && span(&at) == span(&path)
                        && span(&FieldPath::top("value")).is_some()
                    {
                        at = FieldPath::top("value");
                    }
                    return Err(place(&other.text, &other.file, &at, message));
                }
            }
        }
        if let Some(q) = a
            .producers
            .iter()
            .find(|q| !b.producers.iter().any(|p| p.name == q.name))
        {
            return Err(place(
                &other.text,
                &other.file,
                &FieldPath::top("producer"),
                format!(
                    "producer \"{}\" of {} is missing: common random numbers need the same producers in every model compared",
                    q.name, first.file
                ),
            ));
        }
    }
    Ok(())
}

/// A metric of a run: a summary path, or `throttles` (Σ of every component's `throttled`
/// and `throttles`), `duplicates` (Σ over worker pools', stream consumers' and Lambda
/// functions' `duplicates`), `losses` (expired + dropped + lost + dead-lettered
/// + denied messages) or `latency_max_p99_s` (the largest p99 `latency_s` of any component).
pub fn metric(s: &RunSummary, path: &str) -> Option<f64> {
    let sum = |keys: &[&str], kinds: Option<&[&str]>| -> f64 {
        s.components
            .iter()
            .filter(|c| kinds.is_none_or(|k| k.contains(&c.kind.as_str())))
            .flat_map(|c| keys.iter().filter_map(|k| c.get(k)))
            .fold(0.0, |a, b| a + b)
    };
    match path {
        "throttles" => Some(sum(&["throttled", "throttles"], None)),
        "duplicates" => Some(sum(&["duplicates"], Some(&["consumer", "lambda"]))),
        "losses" => {
            let a = &s.accounting;
            Some((a.expired + a.dropped + a.lost + a.dead_lettered + a.denied) as f64)
        }
        "latency_max_p99_s" => Some(
            s.components
                .iter()
                .filter_map(|c| c.get("latency_s.p99"))
                .fold(0.0, f64::max),
        ),
        _ => s.metric(path),
    }
}

/// Parses `--slo` texts: `METRIC OP THRESHOLD`, such as `time_to_insight_s.p99 < 30s`.
pub fn parse_slos(texts: &[String]) -> Result<Vec<Slo>, String> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let t = t.trim();
            let at = t
                .find(['<', '>', '='])
                .ok_or_else(|| format!("--slo \"{t}\": write METRIC OP THRESHOLD, such as \"time_to_insight_s.p99 < 30s\""))?;
            let metric = t[..at].trim();
            if metric.is_empty() {
                return Err(format!("--slo \"{t}\": the metric is missing before the comparison"));
            }
            slo::parse(metric, COLUMNS.len() + i, &t[at..]).map_err(|m| format!("--slo \"{t}\": {m}"))
        })
        .collect()
}

/// The Pareto front of `(cost, time)` points, both to be minimised: a point is on it when
/// no other is at least as good on both and better on one. NaN points are never on it.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<bool> {
    points
        .iter()
        .map(|&(c, t)| {
            c.is_finite()
                && t.is_finite()
                && !points.iter().any(|&(c2, t2)| {
                    c2.is_finite() && t2.is_finite() && c2 <= c && t2 <= t && (c2 < c || t2 < t)
                })
        })
        .collect()
}

impl Comparison {
    /// The cheapest architecture (row index) whose time-to-insight p99 is below
    /// `seconds` at the upper bound of its confidence interval, if any.
    pub fn cheapest_within(&self, seconds: f64) -> Option<usize> {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                let s = &r.stats[TTI_P99];
                let upper = s.mean + if s.half.is_finite() { s.half } else { 0.0 };
                s.n > 0 && upper < seconds
            })
            .min_by(|(_, a), (_, b)| a.stats[COST].mean.total_cmp(&b.stats[COST].mean))
            .map(|(i, _)| i)
    }
}

/// Freshness targets (time-to-insight p99, s) for which a comparison names the cheapest
/// architecture: 1 s, 10 s, 1 min, 5 min, 15 min, 1 h, 2 h, 1 day.
pub const FRESHNESS_TARGETS: [f64; 8] = [1.0, 10.0, 60.0, 300.0, 900.0, 3600.0, 7200.0, 86_400.0];

/// Runs every candidate `reps` times (replication r with seed `seed + r`, the same for
/// every candidate) on `threads` threads and compares them.
pub fn compare(
    candidates: &[Candidate],
    reps: u32,
    seed: u64,
    confidence: f64,
    slos: Vec<Slo>,
    threads: Option<usize>,
) -> Result<Comparison, String> {
    let mut metrics: Vec<String> = COLUMNS.iter().map(|(p, _)| p.to_string()).collect();
    let mut slos = slos;
    for s in &mut slos {
        match metrics.iter().position(|m| *m == s.metric) {
            Some(i) => s.index = i,
            None => {
                s.index = metrics.len();
                metrics.push(s.metric.clone());
            }
        }
    }
    let jobs: Vec<(usize, u32)> = (0..candidates.len())
        .flat_map(|c| (0..reps).map(move |r| (c, r)))
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| e.to_string())?;
    let outs: Vec<Result<RunSummary, String>> = pool.install(|| {
        jobs.par_iter()
            .map(|&(c, r)| {
                engine::run(&candidates[c].arch, seed.wrapping_add(r as u64))
                    .map(|o| o.summary)
                    .map_err(|e| format!("{}: {e}", candidates[c].file))
            })
            .collect()
    });
    let mut summaries: Vec<Vec<RunSummary>> = vec![Vec::new(); candidates.len()];
    for ((c, _), o) in jobs.iter().zip(outs) {
        summaries[*c].push(o?);
    }
    // An objective on a metric no candidate reports is a mistake in the command line.
    for s in &slos {
        if !summaries
            .iter()
            .flatten()
            .any(|r| metric(r, &s.metric).is_some())
        {
            return Err(format!(
                "--slo {} {}: no model reports the metric `{}` (paths such as time_to_insight_s.p99, value_delivered, cost.total, consumer.NAME.latency_s.p99)",
                s.metric, s.text, s.metric
            ));
        }
    }
    let mut rows: Vec<Row> = candidates
        .iter()
        .zip(&summaries)
        .map(|(c, runs)| {
            let values: Vec<Vec<f64>> = metrics
                .iter()
                .map(|m| runs.iter().filter_map(|r| metric(r, m)).collect())
                .collect();
            let stats: Vec<Stats> = values.iter().map(|v| Stats::of(v, confidence)).collect();
            let checks = slos.iter().map(|s| s.check(&stats[s.index])).collect();
            Row {
                file: c.file.clone(),
                model: c.arch.name.clone(),
                description: c.arch.description.clone(),
                stats,
                values,
                checks,
                pareto: false,
            }
        })
        .collect();
    let points: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.stats[COST].mean, r.stats[TTI_P99].mean))
        .collect();
    for (r, on) in rows.iter_mut().zip(pareto_front(&points)) {
        r.pareto = on;
    }
    let chosen = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.checks.iter().all(|c| c.pass))
        .min_by(|(_, a), (_, b)| a.stats[COST].mean.total_cmp(&b.stats[COST].mean))
        .map(|(i, _)| i);
    Ok(Comparison {
        metrics,
        rows,
        slos,
        chosen,
        reps,
        seed,
        confidence,
    })
}
