//! The files of `aqueduct compare`: `compare.csv`, the chart of monthly cost against
//! time-to-insight p99 with the Pareto front marked (`cost-vs-insight.svg` and `.png`),
//! and `compare.md`. Like sweep reports, a function of the comparison only (no dates, no
//! wall-clock times).

use super::charts::{register_fonts, Tips};
use super::{ChartFile, ReportError};
use crate::experiment::compare::{Comparison, COLUMNS, COST, FRESHNESS_TARGETS, TTI_P99};
use crate::metrics::series::fmt_value;
use crate::text::fmt_secs;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

const FAMILY: &str = "sans-serif";

fn io(path: &Path) -> impl Fn(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A number for tables: seconds as durations, others with 4 significant digits.
pub fn cell(metric: &str, x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    if crate::experiment::slo::is_seconds(metric) {
        fmt_secs(x)
    } else if metric.starts_with("cost") {
        format!("${x:.2}")
    } else if x == 0.0 {
        "0".into()
    } else if x.abs() < 1e-2 || x.abs() >= 1e7 {
        format!("{x:.3e}")
    } else if x.abs() >= 100.0 || x.fract() == 0.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.4}")
    }
}

/// Renders rows as a plain-text table (the first row is the header).
pub fn render_table(rows: &[Vec<String>]) -> String {
    crate::text::render_table(rows)
}

/// The title of metric `i` of the comparison.
pub fn title(c: &Comparison, i: usize) -> String {
    COLUMNS
        .get(i)
        .map(|(_, t)| t.to_string())
        .unwrap_or_else(|| c.metrics[i].clone())
}

/// The side-by-side table: one row per metric, one column per architecture, means with
/// their confidence half-widths.
pub fn table_rows(c: &Comparison) -> Vec<Vec<String>> {
    let mut rows = vec![std::iter::once("metric".to_string())
        .chain(c.rows.iter().map(|r| r.model.clone()))
        .collect::<Vec<_>>()];
    for (i, m) in c.metrics.iter().enumerate() {
        let mut row = vec![title(c, i)];
        for r in &c.rows {
            let s = &r.stats[i];
            row.push(if s.n == 0 {
                "-".into()
            } else if s.half.is_finite() && s.half > 0.0 {
                format!("{} ± {}", cell(m, s.mean), cell(m, s.half))
            } else {
                cell(m, s.mean)
            });
        }
        rows.push(row);
    }
    let mut pareto = vec!["Pareto front (cost × p99)".to_string()];
    pareto.extend(
        c.rows
            .iter()
            .map(|r| if r.pareto { "yes" } else { "no" }.to_string()),
    );
    rows.push(pareto);
    for (k, s) in c.slos.iter().enumerate() {
        let mut row = vec![format!("objective {} {}", s.metric, s.text)];
        row.extend(
            c.rows
                .iter()
                .map(|r| if r.checks[k].pass { "meets" } else { "fails" }.to_string()),
        );
        rows.push(row);
    }
    rows
}

/// The cheapest architecture for each freshness target: rows of (target, model, cost).
pub fn freshness_rows(c: &Comparison) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "time to insight p99 below".to_string(),
        "cheapest architecture".into(),
        "monthly cost".into(),
    ]];
    for t in FRESHNESS_TARGETS {
        let (name, cost) = match c.cheapest_within(t) {
            Some(i) => (
                c.rows[i].model.clone(),
                cell("cost.total", c.rows[i].stats[COST].mean),
            ),
            None => ("none".into(), "-".into()),
        };
        rows.push(vec![target_name(t), name, cost]);
    }
    rows
}

/// A freshness target as people write it: `1s`, `5m`, `1h`, `1d`.
fn target_name(s: f64) -> String {
    for (unit, n) in [("d", 86_400.0), ("h", 3600.0), ("m", 60.0)] {
        if s >= n && (s / n).fract() == 0.0 {
            return format!("{}{unit}", s / n);
        }
    }
    format!("{s}s")
}

/// Writes `compare.csv`: a row per architecture and metric with mean, half-width,
/// standard deviation, min, max and n.
pub fn write_csv(c: &Comparison, path: &Path) -> Result<(), ReportError> {
    let f = std::fs::File::create(path).map_err(io(path))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(f));
    let e = |e: csv::Error| ReportError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    w.write_record([
        "file", "model", "metric", "mean", "ci_half", "sd", "min", "max", "n", "pareto", "chosen",
    ])
    .map_err(e)?;
    for (ri, r) in c.rows.iter().enumerate() {
        for (i, m) in c.metrics.iter().enumerate() {
            let s = &r.stats[i];
            w.write_record([
                r.file.clone(),
                r.model.clone(),
                m.clone(),
                fmt_value(s.mean),
                fmt_value(s.half),
                fmt_value(s.sd),
                fmt_value(s.min),
                fmt_value(s.max),
                s.n.to_string(),
                r.pareto.to_string(),
                (c.chosen == Some(ri)).to_string(),
            ])
            .map_err(e)?;
        }
    }
    w.flush().map_err(io(path))
}

/// Draws the chart of monthly cost (x) against time-to-insight p99 (y), one point per
/// architecture with its confidence intervals, the Pareto front joined by a line.
/// The SVG (with a tooltip on each point) is also written into `report.html`.
pub fn write_chart(c: &Comparison, dir: &Path, stem: &str) -> Result<Vec<String>, ReportError> {
    register_fonts();
    let svg = dir.join(format!("{stem}.svg"));
    let mut text = String::new();
    let mut tips = Tips::default();
    draw(
        c,
        SVGBackend::with_string(&mut text, (960, 600)).into_drawing_area(),
        &svg,
        &mut tips,
    )?;
    std::fs::write(&svg, tips.insert_into(&text)).map_err(io(&svg))?;
    let png = dir.join(format!("{stem}.png"));
    draw(
        c,
        BitMapBackend::new(&png, (960, 600)).into_drawing_area(),
        &png,
        &mut Tips::default(),
    )?;
    Ok(vec![format!("{stem}.svg"), format!("{stem}.png")])
}

/// Writes `report.html`: the page of the comparison, with the chart `chart_stem.svg` of
/// `dir` inline (written by [`write_chart`] before). `command` reproduces it.
pub fn write_html(
    c: &Comparison,
    chart_stem: &str,
    command: &str,
    dir: &Path,
) -> Result<(), ReportError> {
    let svg_path = dir.join(format!("{chart_stem}.svg"));
    let chart = std::fs::read_to_string(&svg_path)
        .ok()
        .map(|svg| ChartFile {
            stem: chart_stem.to_string(),
            title: "Monthly cost against time to insight p99".into(),
            kind: "compare",
            svg,
        });
    let page = super::html::compare(c, chart.as_ref(), command);
    let path = dir.join("report.html");
    std::fs::write(&path, page).map_err(io(&path))
}

fn draw<DB: DrawingBackend>(
    c: &Comparison,
    root: DrawingArea<DB, plotters::coord::Shift>,
    path: &Path,
    tips: &mut Tips,
) -> Result<(), ReportError> {
    let err = |e: String| ReportError::Chart {
        path: path.to_path_buf(),
        message: e,
    };
    let pts: Vec<(f64, f64, f64, f64, &str, bool)> = c
        .rows
        .iter()
        .map(|r| {
            let (x, y) = (&r.stats[COST], &r.stats[TTI_P99]);
            let h = |s: &crate::experiment::Stats| if s.half.is_finite() { s.half } else { 0.0 };
            (x.mean, y.mean, h(x), h(y), r.model.as_str(), r.pareto)
        })
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    let span = |v: Vec<f64>| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() {
            (0.0, 1.0)
        } else {
            let pad = ((hi - lo) * 0.15).max(hi.abs() * 0.1).max(1e-9);
            ((lo - pad).max(0.0), hi + pad)
        }
    };
    let (x0, x1) = span(pts.iter().flat_map(|p| [p.0 - p.2, p.0 + p.2]).collect());
    // Times to insight span milliseconds to hours: a logarithmic axis.
    let ys: Vec<f64> = pts.iter().map(|p| p.1).filter(|y| *y > 0.0).collect();
    let y0 = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let y1 = ys.iter().copied().fold(0.0, f64::max);
    let (y0, y1) = if y0.is_finite() && y1 > 0.0 {
        (y0 / 3.0, y1 * 3.0)
    } else {
        (1e-3, 1.0)
    };
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Monthly cost against time to insight p99 (Pareto front in red)",
            (FAMILY, 22),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("monthly cost (USD)")
        .y_desc("time to insight p99 (s, log scale)")
        .y_label_formatter(&|y| fmt_secs(*y))
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let pts: Vec<_> = pts.into_iter().filter(|p| p.1 > 0.0).collect();
    let mut front: Vec<(f64, f64)> = pts.iter().filter(|p| p.5).map(|p| (p.0, p.1)).collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    chart
        .draw_series(LineSeries::new(front, RED.stroke_width(2)))
        .map_err(|e| err(e.to_string()))?;
    for p in &pts {
        let color = if p.5 { RED } else { RGBColor(31, 119, 180) };
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(p.0 - p.2, p.1), (p.0 + p.2, p.1)],
                color.stroke_width(1),
            )))
            .map_err(|e| err(e.to_string()))?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(p.0, (p.1 - p.3).max(y0)), (p.0, p.1 + p.3)],
                color.stroke_width(1),
            )))
            .map_err(|e| err(e.to_string()))?;
        chart
            .draw_series(std::iter::once(Circle::new((p.0, p.1), 6, color.filled())))
            .map_err(|e| err(e.to_string()))?;
        tips.circle(
            chart.backend_coord(&(p.0, p.1)),
            8,
            &format!(
                "{}: {} ± {} per month, time to insight p99 {} ± {}{}",
                p.4,
                cell("cost.total", p.0),
                cell("cost.total", p.2),
                fmt_secs(p.1),
                fmt_secs(p.3),
                if p.5 { " (Pareto front)" } else { "" }
            ),
        );
        chart
            .draw_series(std::iter::once(Text::new(
                p.4.to_string(),
                (p.0, p.1 * 1.15),
                (FAMILY, 15).into_font().color(&BLACK),
            )))
            .map_err(|e| err(e.to_string()))?;
    }
    root.present().map_err(|e| err(e.to_string()))
}

/// Writes `compare.md`: what was compared and how, the table, the chart, the objectives
/// and the choice. `command` reproduces it.
pub fn write_markdown(
    c: &Comparison,
    chart_stem: &str,
    command: &str,
    path: &Path,
) -> Result<(), ReportError> {
    let mut s = String::new();
    let _ = writeln!(s, "# Architectures compared\n");
    let _ = writeln!(
        s,
        "{} architectures on the same workload, {} replications each with common random numbers (replication r runs every model with seed {} + r, and every producer draws the same arrivals, sizes and keys), {:.0}% confidence intervals.\n",
        c.rows.len(),
        c.reps,
        c.seed,
        100.0 * c.confidence
    );
    let _ = writeln!(s, "Reproduce with:\n\n```\n{command}\n```\n");
    let _ = writeln!(s, "| file | model | what it is |\n|---|---|---|");
    for r in &c.rows {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} |",
            r.file,
            r.model,
            r.description.replace('|', "\\|")
        );
    }
    let _ = writeln!(s, "\n## Side by side\n");
    let rows = table_rows(c);
    let _ = writeln!(s, "| {} |", rows[0].join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(rows[0].len()));
    for r in &rows[1..] {
        let _ = writeln!(s, "| {} |", r.join(" | "));
    }
    let front: Vec<&str> = c
        .rows
        .iter()
        .filter(|r| r.pareto)
        .map(|r| r.model.as_str())
        .collect();
    let _ = writeln!(
        s,
        "\nOn the Pareto front of monthly cost against time-to-insight p99: {}.",
        if front.is_empty() {
            "none".to_string()
        } else {
            front.join(", ")
        }
    );
    let _ = writeln!(
        s,
        "\nMonthly cost is what aqueduct prices: the AWS services of its price table, and batch jobs at the node-hour price their model gives; the compute of worker pools (`consumer.NAME.worker_hours`) is not priced.\n"
    );
    let _ = writeln!(
        s,
        "Time to insight: creation of a record → its result at an end point (worker pool, Lambda, stream consumer, Firehose destination, batch job). Value delivered: the mean value of a record at that moment under the producers' `value` functions. Throttles, duplicates and losses (expired, dropped, lost, dead-lettered) are summed over the model.\n"
    );
    let _ = writeln!(s, "## Cheapest for each freshness target\n");
    let fr = freshness_rows(c);
    let _ = writeln!(s, "| {} |\n|---|---|---|", fr[0].join(" | "));
    for r in &fr[1..] {
        let _ = writeln!(s, "| {} |", r.join(" | "));
    }
    let _ = writeln!(
        s,
        "\nAn architecture qualifies when the upper bound of its confidence interval of the time-to-insight p99 is below the target.\n"
    );
    let _ = writeln!(
        s,
        "![Monthly cost against time to insight p99]({chart_stem}.svg)\n\nThe Pareto front (red) holds the architectures that no other beats on both monthly cost and time-to-insight p99.\n"
    );
    if !c.slos.is_empty() {
        let _ = writeln!(s, "## Objectives\n");
        for slo in &c.slos {
            let _ = writeln!(s, "* `{} {}`", slo.metric, slo.text);
        }
        let _ = writeln!(
            s,
            "\nChecked at the pessimistic bound of each confidence interval.\n"
        );
        match c.chosen {
            Some(i) => {
                let r = &c.rows[i];
                let _ = writeln!(
                    s,
                    "**Cheapest architecture meeting every objective: {}** (`{}`), {} per month.",
                    r.model,
                    r.file,
                    cell("cost.total", r.stats[COST].mean)
                );
            }
            None => {
                let _ = writeln!(s, "**No architecture meets every objective.**");
            }
        }
    }
    std::fs::write(path, s).map_err(io(path))
}
