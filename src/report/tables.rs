//! The CSV tables: `summary.csv` (per point) and its tidy form `summary_long.csv`,
//! `slo.csv` (objectives per point), `sizing.csv` (the answer per situation), and
//! `series_long.csv`, the tidy form of a run's time series.

use super::ReportError;
use crate::experiment::{Experiment, Objective, Results};
use crate::metrics::series::fmt_value;
use crate::metrics::TimeSeries;
use std::path::Path;

/// A number for CSV: shortest round-trip form; empty when not finite.
pub(crate) fn num(x: f64) -> String {
    if x.is_finite() {
        fmt_value(x)
    } else {
        String::new()
    }
}

/// Suffix of the confidence half-width columns: `ci95` for 0.95, `ci99.9` for 0.999.
pub(crate) fn ci_name(confidence: f64) -> String {
    format!("ci{}", fmt_value((confidence * 1000.0).round() / 10.0))
}

/// The name of what the sizing search minimises.
pub(crate) fn objective_name(exp: &Experiment) -> &str {
    match exp.objective {
        Objective::Metric(m) => &exp.metrics[m],
        Objective::Axis(a) => &exp.axes[a].path,
    }
}

fn writer(path: &Path) -> Result<csv::Writer<std::fs::File>, ReportError> {
    csv::Writer::from_path(path).map_err(|e| io(path, e))
}

fn io(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

fn axis_labels(exp: &Experiment, point: usize) -> Vec<String> {
    exp.axes
        .iter()
        .zip(exp.coords(point))
        .map(|(a, i)| a.values[i].label.clone())
        .collect()
}

/// `summary.csv`: one row per point: `point`, the axes, `runs` (succeeded), `failed`,
/// then for every metric `M.mean`, `M.sd`, `M.min`, `M.max` and `M.ci95` (the
/// half-width of the confidence interval of the mean).
pub(crate) fn write_summary(exp: &Experiment, r: &Results, path: &Path) -> Result<(), ReportError> {
    let mut w = writer(path)?;
    let ci = ci_name(exp.confidence);
    let mut h = vec!["point".to_string()];
    h.extend(exp.axes.iter().map(|a| a.path.clone()));
    h.push("runs".into());
    h.push("failed".into());
    for m in &exp.metrics {
        for s in ["mean", "sd", "min", "max", ci.as_str()] {
            h.push(format!("{m}.{s}"));
        }
    }
    w.write_record(&h).map_err(|e| io(path, e))?;
    for p in &r.points {
        let mut row = vec![p.point.to_string()];
        row.extend(axis_labels(exp, p.point));
        row.push(p.ok.to_string());
        row.push(p.failed.to_string());
        for s in &p.stats {
            for x in [s.mean, s.sd, s.min, s.max, s.half] {
                row.push(num(x));
            }
        }
        w.write_record(&row).map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))
}

/// `summary_long.csv`, the tidy form of `summary.csv` (for pandas, R or a spreadsheet's
/// pivot table): one row per point, metric and statistic: `point`, the axes, `runs`,
/// `failed`, `metric`, `stat` (`mean`, `sd`, `min`, `max`, `ci95`) and `value` (empty
/// where `summary.csv` has an empty cell). Pivoting `stat` back into `metric.stat`
/// columns gives `summary.csv`.
pub(crate) fn write_summary_long(
    exp: &Experiment,
    r: &Results,
    path: &Path,
) -> Result<(), ReportError> {
    let mut w = writer(path)?;
    let ci = ci_name(exp.confidence);
    let mut h = vec!["point".to_string()];
    h.extend(exp.axes.iter().map(|a| a.path.clone()));
    h.extend(["runs", "failed", "metric", "stat", "value"].map(String::from));
    w.write_record(&h).map_err(|e| io(path, e))?;
    for p in &r.points {
        let mut id = vec![p.point.to_string()];
        id.extend(axis_labels(exp, p.point));
        id.push(p.ok.to_string());
        id.push(p.failed.to_string());
        for (m, s) in exp.metrics.iter().zip(&p.stats) {
            for (stat, x) in [
                ("mean", s.mean),
                ("sd", s.sd),
                ("min", s.min),
                ("max", s.max),
                (ci.as_str(), s.half),
            ] {
                let mut row = id.clone();
                row.extend([m.clone(), stat.to_string(), num(x)]);
                w.write_record(&row).map_err(|e| io(path, e))?;
            }
        }
    }
    w.flush().map_err(|e| io(path, e))
}

/// A time-series column name split into its parts: `(kind, component, shard, metric)`.
/// Kinds and metric names hold no dot, so the kind is the text before the first dot, the
/// metric the text after the last one, and the component everything between, dots
/// included (`queue.ledger.fifo.backlog` is the `backlog` of queue `ledger.fifo`). A
/// per-shard column of a stream consumer (`consumer.NAME.shard-K.iterator_age_s`) or of a
/// stream (`stream.NAME.shard-K.write_utilization`) gives shard `K`.
pub(crate) fn split_column(name: &str) -> (&str, &str, Option<u32>, &str) {
    let (kind, rest) = name.split_once('.').unwrap_or(("", name));
    let (middle, metric) = rest.rsplit_once('.').unwrap_or(("", rest));
    if kind == "consumer" || kind == "stream" {
        if let Some((component, shard)) = middle.rsplit_once(".shard-") {
            if let Ok(k) = shard.parse::<u32>() {
                return (kind, component, Some(k), metric);
            }
        }
    }
    (kind, middle, None, metric)
}

/// `series_long.csv`, the tidy form of `series.csv`: one row per sample and column:
/// `t_s`, `warmup` (1 when the sample's interval lies in the warm-up of `warmup_s`
/// seconds: its rates were counted before measuring began; else 0), `kind`, `component`,
/// `shard` (empty but for per-shard columns), `metric` and `value` (empty when it does not
/// exist, as the latency of an interval in which no message finished); see
/// [`split_column`].
pub(crate) fn write_series_long(
    s: &TimeSeries,
    warmup_s: f64,
    path: &Path,
) -> Result<(), ReportError> {
    let mut w = writer(path)?;
    w.write_record([
        "t_s",
        "warmup",
        "kind",
        "component",
        "shard",
        "metric",
        "value",
    ])
    .map_err(|e| io(path, e))?;
    let parts: Vec<(&str, &str, String, &str)> = s
        .columns
        .iter()
        .map(|c| {
            let (k, comp, shard, m) = split_column(c);
            (k, comp, shard.map(|x| x.to_string()).unwrap_or_default(), m)
        })
        .collect();
    let width = s.columns.len();
    for (r, t) in s.t_s.iter().enumerate() {
        let t_text = fmt_value(*t);
        let warm = if in_warmup(*t, warmup_s) { "1" } else { "0" };
        for (c, (k, comp, shard, m)) in parts.iter().enumerate() {
            let x = s.values[r * width + c];
            let v = if x.is_nan() {
                String::new()
            } else {
                fmt_value(x)
            };
            w.write_record([t_text.as_str(), warm, k, comp, shard, m, &v])
                .map_err(|e| io(path, e))?;
        }
    }
    w.flush().map_err(|e| io(path, e))
}

/// Whether the sample at `t_s` belongs to the warm-up of `warmup_s` seconds: a sample
/// describes the interval that ends at it, so the one at the end of the warm-up does.
pub(crate) fn in_warmup(t_s: f64, warmup_s: f64) -> bool {
    warmup_s > 0.0 && t_s <= warmup_s
}

/// `slo.csv`: one row per point: `point`, the axes, then for every objective
/// `M.bound` (the confidence bound compared), `M.margin` and `M.pass`, then `pass` (all
/// objectives hold and no run failed), `objective` and `objective.ci95` (what the sizing
/// search minimises, named in `report.md`).
pub(crate) fn write_slo(exp: &Experiment, r: &Results, path: &Path) -> Result<(), ReportError> {
    let mut w = writer(path)?;
    let ci = ci_name(exp.confidence);
    let mut h = vec!["point".to_string()];
    h.extend(exp.axes.iter().map(|a| a.path.clone()));
    for s in &exp.slos {
        h.push(format!("{}.bound", s.metric));
        h.push(format!("{}.margin", s.metric));
        h.push(format!("{}.pass", s.metric));
    }
    h.extend([
        "pass".to_string(),
        "objective".into(),
        format!("objective.{ci}"),
    ]);
    w.write_record(&h).map_err(|e| io(path, e))?;
    for p in &r.points {
        let mut row = vec![p.point.to_string()];
        row.extend(axis_labels(exp, p.point));
        for c in &p.checks {
            row.push(num(c.bound));
            row.push(num(c.margin));
            row.push(c.pass.to_string());
        }
        row.push(p.pass.to_string());
        row.push(num(p.objective));
        row.push(num(p.objective_half));
        w.write_record(&row).map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))
}

/// `sizing.csv`: one row per situation (per combination of the `[sizing] per` axes):
/// the point chosen (empty when none meets the objectives), every axis's value (the
/// situation's values when nothing passes), `objective`, `objective.ci95`, every
/// objective's `M.bound` and `M.margin`, and how many of the situation's points pass.
pub(crate) fn write_sizing(exp: &Experiment, r: &Results, path: &Path) -> Result<(), ReportError> {
    let mut w = writer(path)?;
    let ci = ci_name(exp.confidence);
    let mut h = vec!["point".to_string()];
    h.extend(exp.axes.iter().map(|a| a.path.clone()));
    h.push("objective".into());
    h.push(format!("objective.{ci}"));
    for s in &exp.slos {
        h.push(format!("{}.bound", s.metric));
        h.push(format!("{}.margin", s.metric));
    }
    h.extend(["passing".to_string(), "points".into()]);
    w.write_record(&h).map_err(|e| io(path, e))?;
    for a in &r.answers {
        let mut row = Vec::new();
        match a.point {
            Some(p) => {
                let pr = &r.points[p];
                row.push(p.to_string());
                row.extend(axis_labels(exp, p));
                row.push(num(pr.objective));
                row.push(num(pr.objective_half));
                for c in &pr.checks {
                    row.push(num(c.bound));
                    row.push(num(c.margin));
                }
            }
            None => {
                row.push(String::new());
                for (i, ax) in exp.axes.iter().enumerate() {
                    row.push(match exp.per.iter().position(|x| *x == i) {
                        Some(k) => ax.values[a.situation[k]].label.clone(),
                        None => String::new(),
                    });
                }
                row.push(String::new());
                row.push(String::new());
                for _ in &exp.slos {
                    row.push(String::new());
                    row.push(String::new());
                }
            }
        }
        row.push(a.passing.to_string());
        row.push(a.points.to_string());
        w.write_record(&row).map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_column_names() {
        assert_eq!(ci_name(0.95), "ci95");
        assert_eq!(ci_name(0.999), "ci99.9");
        assert_eq!(ci_name(0.9), "ci90");
    }

    #[test]
    fn column_names_split_at_the_first_and_last_dot() {
        assert_eq!(
            split_column("queue.ledger.fifo.backlog"),
            ("queue", "ledger.fifo", None, "backlog")
        );
        assert_eq!(
            split_column("producer.web.sent_per_s"),
            ("producer", "web", None, "sent_per_s")
        );
        assert_eq!(
            split_column("consumer.readers.shard-12.iterator_age_s"),
            ("consumer", "readers", Some(12), "iterator_age_s")
        );
        assert_eq!(
            split_column("stream.clicks.shard-3.write_utilization"),
            ("stream", "clicks", Some(3), "write_utilization")
        );
        // Only a number after `shard-` is a shard.
        assert_eq!(
            split_column("consumer.a.shard-x.busy"),
            ("consumer", "a.shard-x", None, "busy")
        );
    }

    #[test]
    fn the_sample_that_ends_the_warm_up_belongs_to_it() {
        assert!(in_warmup(10.0, 10.0));
        assert!(!in_warmup(20.0, 10.0));
        assert!(!in_warmup(0.0, 0.0));
    }
}
