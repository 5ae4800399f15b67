//! `report.md`: the settings, the answer, the charts, the tables and the command that
//! reproduces it all.

use super::tables::objective_name;
use super::{ChartFile, ChosenSeries, ReportError};
use crate::experiment::slo::{describe, is_seconds, round_sig};
use crate::experiment::{Experiment, Objective, Results, Stats, COST_ALL, COST_EXTRA};
use std::fmt::Write as _;
use std::path::Path;

/// Most rows of a per-point table in the report (the CSV files have them all).
const MAX_ROWS: usize = 200;
/// Most failed runs listed.
const MAX_FAILURES: usize = 20;

fn esc(s: &str) -> String {
    s.replace('|', "\\|")
}

fn unit(metric: &str) -> &'static str {
    if is_seconds(metric) {
        " (s)"
    } else if metric.starts_with("cost.") {
        " (USD/month)"
    } else {
        ""
    }
}

fn mean_ci(s: &Stats) -> String {
    if !s.mean.is_finite() {
        return "n/a".into();
    }
    if s.half.is_finite() {
        format!("{} ± {}", round_sig(s.mean), round_sig(s.half))
    } else {
        round_sig(s.mean)
    }
}

/// Writes the report.
pub(crate) fn write(
    exp: &Experiment,
    r: &Results,
    drawn: &[ChosenSeries<'_>],
    charts: &[ChartFile],
    command: &str,
    path: &Path,
) -> Result<(), ReportError> {
    let rendered = render(exp, r, drawn, charts, command);
    let text = crate::text::without_controls(&rendered);
    std::fs::write(path, text.as_bytes()).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The text of `report.md`, section by section: heading, settings, answer (with
/// objectives), charts, time series, objectives and summary tables, failed runs, files.
fn render(
    exp: &Experiment,
    r: &Results,
    drawn: &[ChosenSeries<'_>],
    charts: &[ChartFile],
    command: &str,
) -> String {
    let mut s = String::new();
    let Some(chosen) = drawn.first() else {
        return s;
    };
    let pct = format!("{}%", round_sig(exp.confidence * 100.0));
    heading(&mut s, exp, command);
    settings_table(&mut s, exp, r, &pct);
    if !exp.slos.is_empty() {
        answer(&mut s, exp, r, &pct);
    }
    chart_section(&mut s, charts, &pct);
    series_section(&mut s, exp, r, chosen, charts);
    other_runs(&mut s, exp, r, &drawn[1..], charts);
    if !exp.slos.is_empty() {
        slo_table(&mut s, exp, r, &pct);
    }
    summary_table(&mut s, exp, r, &pct);
    failed_runs(&mut s, r);
    files_section(&mut s, exp, chosen, &pct);
    s
}

/// The title, the description and the command that reproduces the report.
fn heading(s: &mut String, exp: &Experiment, command: &str) {
    let _ = writeln!(s, "# Experiment `{}`\n", exp.name);
    if !exp.description.trim().is_empty() {
        let _ = writeln!(s, "{}\n", exp.description.trim());
    }
    let cargo = command
        .strip_prefix("aqueduct ")
        .map(|rest| format!("cargo run --release -- {rest}"))
        .unwrap_or_else(|| command.to_string());
    let _ = writeln!(
        s,
        "Reproduce from the repository root with `{command}` (or `{cargo}`). Every file here is \
         a function of the experiment file, the model and aqueduct's version: the number of \
         threads or shards changes no byte.\n"
    );
}

/// The settings table: files, axes and their values, grid, seeds, statistics, unit
/// costs, failed runs and aqueduct's version.
fn settings_table(s: &mut String, exp: &Experiment, r: &Results, pct: &str) {
    let _ = writeln!(s, "| setting | value |\n|---|---|");
    let _ = writeln!(
        s,
        "| experiment file | `{}` |\n| base model | `{}` (model \"{}\") |",
        esc(&exp.source.file),
        esc(&exp.source.model_file),
        esc(&exp.model_name)
    );
    for a in &exp.axes {
        let vals: Vec<&str> = a.values.iter().map(|v| v.label.as_str()).collect();
        let shown = if vals.len() > 12 {
            format!(
                "{} … {} ({} values)",
                vals[..6].join(", "),
                vals[vals.len() - 2..].join(", "),
                vals.len()
            )
        } else {
            vals.join(", ")
        };
        let _ = writeln!(s, "| axis `{}` | {} |", esc(&a.path), esc(&shown));
    }
    let _ = writeln!(
        s,
        "| grid | {} points × {} replications = {} runs |",
        exp.points(),
        exp.replications,
        exp.runs()
    );
    let _ = writeln!(
        s,
        "| seeds | base seed {}; run seed = splitmix64(splitmix64(splitmix64(base) ^ point) ^ replication){} |",
        exp.seed,
        if exp.common_random_numbers {
            " with point = 0 for every point (common random numbers)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "| statistics | per point: mean, standard deviation, min, max and the {pct} confidence interval of the mean (Student's t, replications − 1 degrees of freedom) |"
    );
    if !exp.unit_costs.is_empty() {
        let parts: Vec<String> = exp
            .unit_costs
            .iter()
            .map(|(a, usd)| {
                format!(
                    "{} USD per unit of `{}`",
                    round_sig(*usd),
                    exp.axes[*a].path
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "| unit costs | `{COST_EXTRA}` = {}; `{COST_ALL}` = `cost.total` + `{COST_EXTRA}` (per month) |",
            esc(&parts.join(" + "))
        );
    }
    let _ = writeln!(s, "| failed runs | {} of {} |", r.failed, r.runs);
    let _ = writeln!(s, "| aqueduct | {} |\n", env!("CARGO_PKG_VERSION"));
}

/// `## Charts`: every metric and cost chart (not the time series), SVG with a PNG link.
fn chart_section(s: &mut String, charts: &[ChartFile], pct: &str) {
    if !charts.is_empty() {
        let _ = writeln!(s, "## Charts\n");
        for c in charts
            .iter()
            .filter(|c| matches!(c.kind, "metric" | "cost" | "throughput"))
        {
            let _ = writeln!(s, "### {}\n", esc(&c.title));
            if c.kind == "metric" {
                let _ = writeln!(
                    s,
                    "Each line joins the means of one combination of the other axes; bars are {pct} confidence intervals; a dashed red line marks an objective.\n"
                );
            } else if c.kind == "throughput" {
                let _ = writeln!(
                    s,
                    "One dot per grid point: its mean monthly cost with the {pct} confidence interval against its throughput; hollow dots miss an objective; the line joins the sizing answers, what each throughput costs at the least.\n"
                );
            } else {
                let _ = writeln!(
                    s,
                    "Stacked means per service (and the experiment's unit costs); the black bar is the {pct} confidence interval of the total.\n"
                );
            }
            let _ = writeln!(
                s,
                "![{}]({}.svg)\n\n[PNG]({}.png)\n",
                esc(&c.title),
                c.stem,
                c.stem
            );
        }
    }
}

/// `## Time series of one run`: which run was chosen and its chart, or why there is none.
fn series_section(
    s: &mut String,
    exp: &Experiment,
    r: &Results,
    chosen: &ChosenSeries<'_>,
    charts: &[ChartFile],
) {
    let _ = writeln!(s, "## Time series of one run\n");
    let which = if exp.slos.is_empty() {
        "the first run of the sweep".to_string()
    } else if r.answers.iter().any(|a| a.point.is_some()) {
        format!(
            "the first replication of the sizing answer{}",
            if exp.per.is_empty() {
                ""
            } else {
                " of the last situation that has one"
            }
        )
    } else {
        "the first run of the sweep (no point meets the objectives)".to_string()
    };
    match (&chosen.series, charts.iter().find(|c| c.kind == "series")) {
        (Ok(_), Some(c)) => {
            let _ = writeln!(
                s,
                "{}: {which}, recorded by running it again with the same seed after the sweep.\n\n![{}]({}.svg)\n\n[PNG]({}.png) · [data](series.csv)\n",
                esc(&c.title),
                esc(&c.title),
                c.stem,
                c.stem
            );
            cdf_of(s, exp, chosen, charts);
        }
        (Ok(_), None) => {
            let _ = writeln!(s, "The chosen run ({which}) has no queue, stream consumer, delivery stream or pool to draw; its series is in [series.csv](series.csv).\n");
        }
        (Err(e), _) => {
            let _ = writeln!(
                s,
                "The time series of {which} (point {}, replication {}) could not be recorded: {}\n",
                chosen.point,
                chosen.replication,
                esc(e)
            );
        }
    }
}

/// The shard heat map and the latency distributions of run `d`, when drawn.
fn cdf_of(s: &mut String, exp: &Experiment, d: &ChosenSeries<'_>, charts: &[ChartFile]) {
    let run = d.point * exp.replications as usize + d.replication as usize;
    let heat = format!("shard-heatmap-run-{run}");
    if let Some(c) = charts.iter().find(|c| c.stem == heat) {
        let _ = writeln!(
            s,
            "{}: each cell is a shard in a sample interval, the larger of its bytes and records written as a fraction of the shard's limit (1 MiB/s, 1,000 records/s); red is over it.\n\n![{}]({}.svg)\n\n[PNG]({}.png)\n",
            esc(&c.title),
            esc(&c.title),
            c.stem,
            c.stem
        );
    }
    let stem = format!("latency-cdf-run-{run}");
    if let Some(c) = charts.iter().find(|c| c.stem == stem) {
        let _ = writeln!(
            s,
            "{}: the fraction of messages at or below each latency, on a percentile scale where 90%, 99% and 99.9% are equally spaced.\n\n![{}]({}.svg)\n\n[PNG]({}.png)\n",
            esc(&c.title),
            esc(&c.title),
            c.stem,
            c.stem
        );
    }
}

/// `## Other runs`: the runs drawn besides the chosen one (the experiment's `[report]
/// runs`, or the point closest to the answer that misses an objective).
fn other_runs(
    s: &mut String,
    exp: &Experiment,
    r: &Results,
    drawn: &[ChosenSeries<'_>],
    charts: &[ChartFile],
) {
    if drawn.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Other runs\n");
    for d in drawn {
        let run = d.point * exp.replications as usize + d.replication as usize;
        let _ = writeln!(
            s,
            "### Run {run}: point {} ({}), replication {}\n\nWhy this run: {}.\n",
            d.point,
            esc(&exp.describe(d.point)),
            d.replication,
            esc(&super::drawn_reason(exp, r, d))
        );
        let stem = format!("series-run-{run}");
        match (&d.series, charts.iter().find(|c| c.stem == stem)) {
            (Ok(_), Some(c)) => {
                let _ = writeln!(
                    s,
                    "![{}]({}.svg)\n\n[PNG]({}.png)\n",
                    esc(&c.title),
                    c.stem,
                    c.stem
                );
            }
            (Ok(_), None) => {
                let _ = writeln!(
                    s,
                    "It has no queue, stream consumer, delivery stream or pool to draw.\n"
                );
            }
            (Err(e), _) => {
                let _ = writeln!(s, "Its time series could not be recorded: {}\n", esc(e));
            }
        }
        cdf_of(s, exp, d, charts);
    }
}

/// `## Failed runs`: the first [`MAX_FAILURES`] failures, when runs failed.
fn failed_runs(s: &mut String, r: &Results) {
    if r.failed > 0 {
        let _ = writeln!(
            s,
            "## Failed runs\n\n{} of {} runs failed; their points cannot meet objectives. The first {}:\n",
            r.failed,
            r.runs,
            r.failures.len().min(MAX_FAILURES)
        );
        let _ = writeln!(
            s,
            "| run | point | replication | seed | error |\n|---:|---:|---:|---:|---|"
        );
        for f in r.failures.iter().take(MAX_FAILURES) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                f.run,
                f.point,
                f.replication,
                f.seed,
                esc(&f.error.replace('\n', " "))
            );
        }
        s.push('\n');
    }
}

/// `## Files`: what each file of the report directory holds.
fn files_section(s: &mut String, exp: &Experiment, chosen: &ChosenSeries<'_>, pct: &str) {
    let _ = writeln!(s, "## Files\n");
    let _ = writeln!(
        s,
        "* [runs.csv](runs.csv): one row per run: run number, point, replication, seed, every axis value, every metric kept, and the error of a failed run."
    );
    let _ = writeln!(
        s,
        "* [summary.csv](summary.csv): one row per point: for every metric its mean, standard deviation, min, max and {pct} confidence half-width; [summary_long.csv](summary_long.csv): the same in tidy form, one row per point, metric and statistic (for pandas or R)."
    );
    if !exp.slos.is_empty() {
        let _ = writeln!(
            s,
            "* [slo.csv](slo.csv): per point, each objective's confidence bound, margin and verdict.\n* [sizing.csv](sizing.csv): the answer per situation."
        );
    }
    if chosen.series.is_ok() {
        let _ = writeln!(
            s,
            "* [series.csv](series.csv): the time series of the run drawn above; [series_long.csv](series_long.csv): the same in tidy form, one row per sample and column, with a warm-up flag."
        );
    }
    let _ = writeln!(
        s,
        "* [sweep.json](sweep.json): the experiment and model texts this report comes from (what `aqueduct merge` checks)."
    );
}

fn objective_text(exp: &Experiment) -> String {
    match exp.objective {
        Objective::Metric(_) => format!("the smallest mean `{}`", objective_name(exp)),
        Objective::Axis(_) => format!("the smallest `{}`", objective_name(exp)),
    }
}

fn answer(s: &mut String, exp: &Experiment, r: &Results, pct: &str) {
    let _ = writeln!(s, "## Answer\n");
    let _ = writeln!(
        s,
        "Objectives, each checked at the pessimistic end of the {pct} confidence interval of its mean (the upper bound for `<` and `<=`, the lower bound for `>` and `>=`, both bounds for `==`):\n"
    );
    for o in &exp.slos {
        let _ = writeln!(s, "* `{}` {}", o.metric, esc(&o.text));
    }
    let per = if exp.per.is_empty() {
        String::new()
    } else {
        format!(
            ", for each value of {}",
            exp.per
                .iter()
                .map(|a| format!("`{}`", exp.axes[*a].path))
                .collect::<Vec<_>>()
                .join(" × ")
        )
    };
    let _ = writeln!(
        s,
        "\nThe answer is the point with {} among those that meet every objective with no failed run{per}. Margins are how far the bound is inside the threshold.\n",
        objective_text(exp)
    );
    let choice: Vec<usize> = (0..exp.axes.len())
        .filter(|i| !exp.per.contains(i) && exp.axes[*i].values.len() > 1)
        .collect();
    let mut head: Vec<String> = exp
        .per
        .iter()
        .map(|a| format!("`{}`", exp.axes[*a].path))
        .collect();
    head.extend(choice.iter().map(|a| format!("`{}`", exp.axes[*a].path)));
    head.push(format!(
        "{}{}",
        objective_name(exp),
        unit(objective_name(exp))
    ));
    head.extend(
        exp.slos
            .iter()
            .map(|o| format!("`{}` {}", o.metric, esc(&o.text))),
    );
    head.push("points passing".into());
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
    for a in &r.answers {
        let mut row: Vec<String> = exp
            .per
            .iter()
            .zip(&a.situation)
            .map(|(ax, k)| esc(&exp.axes[*ax].values[*k].label))
            .collect();
        match a.point {
            Some(p) => {
                let c = exp.coords(p);
                row.extend(
                    choice
                        .iter()
                        .map(|ax| format!("**{}**", esc(&exp.axes[*ax].values[c[*ax]].label))),
                );
                let pr = &r.points[p];
                row.push(
                    if pr.objective_half.is_finite() && pr.objective_half > 0.0 {
                        format!(
                            "{} ± {}",
                            round_sig(pr.objective),
                            round_sig(pr.objective_half)
                        )
                    } else {
                        round_sig(pr.objective)
                    },
                );
                for (o, ch) in exp.slos.iter().zip(&pr.checks) {
                    row.push(describe(o, ch));
                }
            }
            None => {
                row.extend(choice.iter().map(|_| "—".to_string()));
                row.push("no point meets every objective".into());
                row.extend(exp.slos.iter().map(|_| "—".to_string()));
            }
        }
        row.push(format!("{} of {}", a.passing, a.points));
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    s.push('\n');
}

fn axis_cells(exp: &Experiment, point: usize) -> Vec<String> {
    exp.axes
        .iter()
        .zip(exp.coords(point))
        .filter(|(a, _)| a.values.len() > 1)
        .map(|(a, i)| esc(&a.values[i].label))
        .collect()
}

fn axis_heads(exp: &Experiment) -> Vec<String> {
    exp.axes
        .iter()
        .filter(|a| a.values.len() > 1)
        .map(|a| format!("`{}`", a.path))
        .collect()
}

fn truncated(s: &mut String, total: usize, file: &str) {
    if total > MAX_ROWS {
        let _ = writeln!(s, "\n… {} more rows in [{file}]({file}).", total - MAX_ROWS);
    }
    s.push('\n');
}

fn slo_table(s: &mut String, exp: &Experiment, r: &Results, pct: &str) {
    let _ = writeln!(
        s,
        "## Which points meet the objectives\n\nEach cell is the {pct} confidence bound compared with the threshold (✓ holds, ✗ does not).\n"
    );
    let mut head = vec!["point".to_string()];
    head.extend(axis_heads(exp));
    head.extend(
        exp.slos
            .iter()
            .map(|o| format!("`{}` {}", o.metric, esc(&o.text))),
    );
    head.push("all".into());
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
    for p in r.points.iter().take(MAX_ROWS) {
        let mut row = vec![p.point.to_string()];
        row.extend(axis_cells(exp, p.point));
        for c in &p.checks {
            row.push(format!(
                "{} {}",
                if c.pass { "✓" } else { "✗" },
                round_sig(c.bound)
            ));
        }
        row.push(super::verdict(p));
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    truncated(s, r.points.len(), "slo.csv");
}

fn summary_table(s: &mut String, exp: &Experiment, r: &Results, pct: &str) {
    let shown = super::shown_metrics(exp);
    let _ = writeln!(
        s,
        "## Summary per point\n\nMean ± half-width of the {pct} confidence interval over the replications.\n"
    );
    let mut head = vec!["point".to_string()];
    head.extend(axis_heads(exp));
    head.push("runs".into());
    head.extend(
        shown
            .iter()
            .map(|m| format!("`{}`{}", exp.metrics[*m], unit(&exp.metrics[*m]))),
    );
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
    for p in r.points.iter().take(MAX_ROWS) {
        let mut row = vec![p.point.to_string()];
        row.extend(axis_cells(exp, p.point));
        row.push(if p.failed > 0 {
            format!("{} ({} failed)", p.ok, p.failed)
        } else {
            p.ok.to_string()
        });
        row.extend(shown.iter().map(|m| mean_ci(&p.stats[*m])));
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    truncated(s, r.points.len(), "summary.csv");
}
