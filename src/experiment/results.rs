//! From the rows of `runs.csv` to per-point statistics, the objectives' verdicts and the
//! sizing answer.

use super::error::ExperimentError;
use super::slo::Check;
use super::spec::{Experiment, Objective};
use super::stats::Stats;
use super::sweep::{open_runs, RunRecord};
use std::collections::BTreeMap;
use std::path::Path;

/// Most failures kept with their messages (all are counted).
pub(crate) const MAX_FAILURES_KEPT: usize = 100;

/// The results of one grid point.
#[derive(Clone, Debug, PartialEq)]
pub struct PointResult {
    /// Grid point.
    pub point: usize,
    /// Runs that succeeded.
    pub ok: usize,
    /// Runs that failed.
    pub failed: usize,
    /// Statistics per kept metric (same order as [`Experiment::metrics`]).
    pub stats: Vec<Stats>,
    /// Verdict per objective (same order as [`Experiment::slos`]).
    pub checks: Vec<Check>,
    /// Every objective holds at its confidence bound and no run failed.
    pub pass: bool,
    /// The value the sizing search minimises: the objective metric's mean, or the
    /// objective axis's value.
    pub objective: f64,
    /// Confidence half-width of `objective` (0 for an axis).
    pub objective_half: f64,
}

/// A failed run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Run number.
    pub run: usize,
    /// Grid point.
    pub point: usize,
    /// Replication.
    pub replication: u32,
    /// Seed.
    pub seed: u64,
    /// What went wrong.
    pub error: String,
}

/// The sizing answer for one situation (one combination of the `per` axes' values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Value index of each `per` axis (same order as [`Experiment::per`]).
    pub situation: Vec<usize>,
    /// The cheapest point that meets every objective, if any.
    pub point: Option<usize>,
    /// Points of this situation that meet every objective.
    pub passing: usize,
    /// Points of this situation.
    pub points: usize,
}

/// Everything a report needs, computed from `runs.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Results {
    /// One entry per grid point, in point order.
    pub points: Vec<PointResult>,
    /// Runs in total.
    pub runs: usize,
    /// Runs that failed.
    pub failed: usize,
    /// The first `MAX_FAILURES_KEPT` failures.
    pub failures: Vec<Failure>,
    /// Sizing answers (empty without objectives), in the order of the situations.
    pub answers: Vec<Answer>,
    /// The run whose time series the report draws: the first replication of the last
    /// answer's point, or run 0 when nothing passes.
    pub chosen: (usize, u32),
}

impl Results {
    /// Reads `runs.csv` at `path` (complete, in run order) and computes the results.
    pub fn read(exp: &Experiment, path: &Path) -> Result<Results, ExperimentError> {
        let mut acc = Accumulator::new(exp);
        for r in open_runs(exp, path)? {
            acc.push(r?)?;
        }
        acc.finish(&path.display().to_string())
    }

    /// Computes the results from records in run order (all of them).
    pub fn from_records(
        exp: &Experiment,
        records: impl IntoIterator<Item = RunRecord>,
    ) -> Result<Results, ExperimentError> {
        let mut acc = Accumulator::new(exp);
        for r in records {
            acc.push(r)?;
        }
        acc.finish("the runs")
    }
}

/// Folds rows into per-point statistics, one point at a time.
struct Accumulator<'e> {
    exp: &'e Experiment,
    next_run: usize,
    values: Vec<Vec<f64>>,
    ok: usize,
    failed_here: usize,
    points: Vec<PointResult>,
    failed: usize,
    failures: Vec<Failure>,
}

impl<'e> Accumulator<'e> {
    fn new(exp: &'e Experiment) -> Self {
        Accumulator {
            exp,
            next_run: 0,
            values: vec![Vec::new(); exp.metrics.len()],
            ok: 0,
            failed_here: 0,
            points: Vec::with_capacity(exp.points()),
            failed: 0,
            failures: Vec::new(),
        }
    }

    fn push(&mut self, r: RunRecord) -> Result<(), ExperimentError> {
        if r.run != self.next_run {
            return Err(ExperimentError::Merge(format!(
                "run {} is missing or out of order (found run {} instead): the results are incomplete",
                self.next_run, r.run
            )));
        }
        self.next_run += 1;
        match &r.error {
            Some(e) => {
                self.failed += 1;
                self.failed_here += 1;
                if self.failures.len() < MAX_FAILURES_KEPT {
                    self.failures.push(Failure {
                        run: r.run,
                        point: r.point,
                        replication: r.replication,
                        seed: r.seed,
                        error: e.clone(),
                    });
                }
            }
            None => {
                self.ok += 1;
                for (k, v) in r.values.iter().enumerate() {
                    if let (Some(v), Some(col)) = (v, self.values.get_mut(k)) {
                        col.push(*v);
                    }
                }
            }
        }
        if r.replication + 1 == self.exp.replications {
            self.close_point(r.point);
        }
        Ok(())
    }

    fn close_point(&mut self, point: usize) {
        let exp = self.exp;
        let stats: Vec<Stats> = self
            .values
            .iter()
            .map(|xs| Stats::of(xs, exp.confidence))
            .collect();
        let checks: Vec<Check> = exp.slos.iter().map(|s| s.check(&stats[s.index])).collect();
        let pass = self.failed_here == 0 && checks.iter().all(|c| c.pass);
        let (objective, objective_half) = match exp.objective {
            Objective::Metric(m) => (stats[m].mean, stats[m].half),
            Objective::Axis(a) => (
                exp.axes[a].values[exp.coords(point)[a]]
                    .number
                    .unwrap_or(f64::NAN),
                0.0,
            ),
        };
        self.points.push(PointResult {
            point,
            ok: self.ok,
            failed: self.failed_here,
            stats,
            checks,
            pass,
            objective,
            objective_half,
        });
        for col in &mut self.values {
            col.clear();
        }
        self.ok = 0;
        self.failed_here = 0;
    }

    fn finish(self, shown: &str) -> Result<Results, ExperimentError> {
        let exp = self.exp;
        if self.next_run != exp.runs() {
            return Err(ExperimentError::Merge(format!(
                "{shown}: {} of {} runs: the results are incomplete",
                self.next_run,
                exp.runs()
            )));
        }
        let mut answers = Vec::new();
        if !exp.slos.is_empty() {
            let mut groups: BTreeMap<Vec<usize>, Answer> = BTreeMap::new();
            for p in &self.points {
                let coords = exp.coords(p.point);
                let key: Vec<usize> = exp.per.iter().map(|a| coords[*a]).collect();
                let g = groups.entry(key.clone()).or_insert(Answer {
                    situation: key,
                    point: None,
                    passing: 0,
                    points: 0,
                });
                g.points += 1;
                if p.pass && p.objective.is_finite() {
                    g.passing += 1;
                    let better = match g.point {
                        None => true,
                        // Strictly cheaper: ties go to the earlier point.
                        Some(b) => p.objective < self.points[b].objective,
                    };
                    if better {
                        g.point = Some(p.point);
                    }
                }
            }
            answers = groups.into_values().collect();
        }
        let chosen = answers
            .iter()
            .rev()
            .find_map(|a| a.point)
            .map(|p| (p, 0))
            .unwrap_or((0, 0));
        Ok(Results {
            points: self.points,
            runs: self.next_run,
            failed: self.failed,
            failures: self.failures,
            answers,
            chosen,
        })
    }
}

impl Results {
    /// The point that misses an objective and comes closest to the answer: in the
    /// situation of the chosen run, the next cheaper point than the answer (the largest
    /// objective below the answer's) that misses; without a cheaper one, or without an
    /// answer, the missing point with the fewest unmet objectives and then the smallest
    /// shortfall relative to its threshold. `None` without objectives or when every point
    /// meets them.
    pub fn best_failing(&self, exp: &Experiment) -> Option<usize> {
        if exp.slos.is_empty() {
            return None;
        }
        let answer = self.answers.iter().rev().find_map(|a| a.point);
        let situation = |p: usize| -> Vec<usize> {
            let c = exp.coords(p);
            exp.per.iter().map(|a| c[*a]).collect()
        };
        let here: Vec<&PointResult> = self
            .points
            .iter()
            .filter(|p| !p.pass)
            .filter(|p| answer.is_none_or(|a| situation(p.point) == situation(a)))
            .collect();
        if let Some(a) = answer {
            let cost = self.points[a].objective;
            let cheaper = here
                .iter()
                .filter(|p| p.objective.is_finite() && p.objective < cost)
                .fold(None::<&PointResult>, |best, p| match best {
                    Some(b) if b.objective >= p.objective => Some(b),
                    _ => Some(p),
                });
            if let Some(p) = cheaper {
                return Some(p.point);
            }
        }
        let shortfall = |p: &PointResult| -> (usize, f64) {
            let unmet = p.checks.iter().filter(|c| !c.pass).count() + usize::from(p.failed > 0);
            let worst = exp
                .slos
                .iter()
                .zip(&p.checks)
                .map(|(s, c)| {
                    let r = c.margin / s.threshold.abs().max(f64::MIN_POSITIVE);
                    if r.is_nan() {
                        f64::NEG_INFINITY
                    } else {
                        r
                    }
                })
                .fold(f64::INFINITY, f64::min);
            (unmet, worst)
        };
        here.iter()
            .fold(None::<(&PointResult, (usize, f64))>, |best, p| {
                let s = shortfall(p);
                match best {
                    Some((b, bs)) if bs.0 < s.0 || (bs.0 == s.0 && bs.1 >= s.1) => Some((b, bs)),
                    _ => Some((p, s)),
                }
            })
            .map(|(p, _)| p.point)
    }

    /// The runs whose time series the report draws, as (point, replication): the chosen
    /// run first, then the experiment's `[report] runs`, or by default the first
    /// replication of [`Results::best_failing`]; each once.
    pub fn drawn_runs(&self, exp: &Experiment) -> Vec<(usize, u32)> {
        let mut out = vec![self.chosen];
        let more: Vec<(usize, u32)> = match &exp.report_runs {
            Some(runs) => runs.iter().map(|r| exp.run_position(*r)).collect(),
            None => self.best_failing(exp).map(|p| (p, 0)).into_iter().collect(),
        };
        for r in more {
            if !out.contains(&r) {
                out.push(r);
            }
        }
        out
    }
}
