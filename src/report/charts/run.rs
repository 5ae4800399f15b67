//! The charts of one run (`aqueduct run --out DIR`): its time series, the latency
//! percentiles and distributions of its components and its monthly cost by component.

use super::{color, font, save, side_legend, Chart, Draw, Key, SeriesChart, Tips};
use crate::engine::RunSummary;
use crate::experiment::slo::round_sig;
use crate::metrics::TimeSeries;
use crate::report::{ChartFile, ReportError};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::Value;
use std::path::Path;

/// The percentiles drawn for each latency, in the order of the legend.
const PERCENTILES: [&str; 4] = ["p50", "p90", "p99", "max"];

/// Width of the legend drawn to the right of the data, in pixels.
const LEGEND_W: u32 = 190;

/// Draws the run's charts into `dir`: `series` (when it has a queue, stream consumer,
/// delivery stream or pool), `shard-heatmap` (when a stream has per-shard columns),
/// `latency` and `latency-cdf` (when a component measured a latency) and `cost` (when the
/// bill has a line).
pub(crate) fn draw_run(
    summary: &RunSummary,
    series: &TimeSeries,
    dir: &Path,
) -> Result<Vec<ChartFile>, ReportError> {
    let mut out = Vec::new();
    let chart = SeriesChart::new(
        format!(
            "Model {}, seed {}: time series of the run",
            summary.model, summary.seed
        ),
        series,
        summary.warmup_s,
    );
    if !chart.is_empty() {
        let svg = save(&chart, dir, "series")?;
        out.push(ChartFile {
            stem: "series".into(),
            title: chart.title.clone(),
            kind: "series",
            svg,
        });
    }
    if let Some(map) = super::heatmap::ShardHeatMap::new(
        "Write utilisation of each Kinesis shard".into(),
        series,
        summary.warmup_s,
    ) {
        let svg = save(&map, dir, "shard-heatmap")?;
        out.push(ChartFile {
            stem: "shard-heatmap".into(),
            title: map.title.clone(),
            kind: "heatmap",
            svg,
        });
    }
    let lat = LatencyChart::new(summary);
    if !lat.rows.is_empty() {
        let svg = save(&lat, dir, "latency")?;
        out.push(ChartFile {
            stem: "latency".into(),
            title: "Latency percentiles of each component".into(),
            kind: "latency",
            svg,
        });
    }
    let cdf = CdfChart::new(summary);
    if !cdf.lines.is_empty() {
        let svg = save(&cdf, dir, "latency-cdf")?;
        out.push(ChartFile {
            stem: "latency-cdf".into(),
            title: "Latency distributions".into(),
            kind: "cdf",
            svg,
        });
    }
    let cost = CostBars::new(summary);
    if !cost.bars.is_empty() {
        let svg = save(&cost, dir, "cost")?;
        out.push(ChartFile {
            stem: "cost".into(),
            title: "Monthly cost by component".into(),
            kind: "cost",
            svg,
        });
    }
    Ok(out)
}

/// The latency summaries of a run: `(label, [p50, p90, p99, max])` for every field of a
/// component that holds a latency summary with observations, then the time to insight.
pub(crate) fn latencies(summary: &RunSummary) -> Vec<(String, [f64; 4])> {
    let pick = |v: &Value| -> Option<[f64; 4]> {
        if v.get("count").and_then(Value::as_f64).unwrap_or(0.0) <= 0.0 {
            return None;
        }
        let mut q = [0.0; 4];
        for (i, p) in PERCENTILES.iter().enumerate() {
            q[i] = v.get(p)?.as_f64()?;
        }
        Some(q)
    };
    let mut rows = Vec::new();
    for c in &summary.components {
        for (k, v) in &c.fields {
            if let Some(q) = v.as_object().and_then(|_| pick(v)) {
                rows.push((format!("{} {} {k}", c.kind, c.name), q));
            }
        }
    }
    if let Some(q) = summary
        .insight
        .as_ref()
        .and_then(|i| pick(&i.time_to_insight_s))
    {
        rows.push(("insight time to insight (all end points)".to_string(), q));
    }
    rows
}

/// Cuts a label to `n` characters with an ellipsis in the middle, so that its start (the
/// name) and its end (the field) both show.
fn cut(s: &str, n: usize) -> String {
    let count = s.chars().count();
    if count <= n {
        s.to_string()
    } else {
        let head = (n - 1) / 2;
        let tail = n - 1 - head;
        let mut t: String = s.chars().take(head).collect();
        t.push('…');
        t.extend(s.chars().skip(count - tail));
        t
    }
}

/// p50, p90, p99 and max of every latency of a run, on a logarithmic axis, one slot per
/// latency, the legend beside the data.
struct LatencyChart {
    rows: Vec<(String, [f64; 4])>,
}

impl LatencyChart {
    fn new(summary: &RunSummary) -> Self {
        LatencyChart {
            rows: latencies(summary)
                .into_iter()
                .filter(|(_, q)| q.iter().all(|x| x.is_finite() && *x > 0.0))
                .collect(),
        }
    }
}

impl Chart for LatencyChart {
    fn size(&self) -> (u32, u32) {
        let w = self.rows.len() as u32 * 150 + 120 + LEGEND_W;
        (w.clamp(super::SIZE.0, 2400), super::SIZE.1)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, tips: &mut Tips) -> Draw<DB> {
        root.fill(&WHITE)?;
        let (w, _) = root.dim_in_pixel();
        let (plot, side) = root.split_horizontally(w - LEGEND_W);
        let n = self.rows.len();
        let lo = self
            .rows
            .iter()
            .flat_map(|(_, q)| q.iter().copied())
            .fold(f64::INFINITY, f64::min);
        let hi = self
            .rows
            .iter()
            .flat_map(|(_, q)| q.iter().copied())
            .fold(0.0, f64::max);
        let (y0, y1) = ((lo / 2.0).log10().floor(), (hi * 2.0).log10().ceil());
        let y1 = if y1 <= y0 { y0 + 1.0 } else { y1 };
        let mut chart = ChartBuilder::on(&plot)
            .caption("Latency percentiles of each component", font(20))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), y0..y1)?;
        // The kind is in the tooltip; the axis shows the name and the field.
        let labels: Vec<String> = self
            .rows
            .iter()
            .map(|(l, _)| cut(l.split_once(' ').map_or(l.as_str(), |(_, rest)| rest), 22))
            .collect();
        let x_fmt = move |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("component: latency")
            .y_desc("seconds (log scale)")
            .label_style(font(12))
            .axis_desc_style(font(14))
            .x_label_style(font(11))
            .x_labels(n + 1)
            .y_labels(((y1 - y0) as usize + 1).clamp(2, 12))
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|y| crate::text::fmt_secs(10f64.powf(*y)))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        for (i, (_, q)) in self.rows.iter().enumerate() {
            let x = i as f64;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x, q[0].log10()), (x, q[3].log10())],
                BLACK.mix(0.3).stroke_width(1),
            )))?;
        }
        for (k, p) in PERCENTILES.iter().enumerate() {
            let c = color(k);
            chart.draw_series(
                self.rows
                    .iter()
                    .enumerate()
                    .map(|(i, (_, q))| Circle::new((i as f64, q[k].log10()), 5, c.filled())),
            )?;
            for (i, (label, q)) in self.rows.iter().enumerate() {
                tips.circle(
                    chart.backend_coord(&(i as f64, q[k].log10())),
                    7,
                    &format!("{label}: {p} {}", crate::text::fmt_secs(q[k])),
                );
            }
        }
        let keys: Vec<(String, Key)> = PERCENTILES
            .iter()
            .enumerate()
            .map(|(k, p)| (p.to_string(), Key::Box(color(k))))
            .collect();
        side_legend(&side, &keys, 60)
    }
}

/// Highest percentile level drawn: 99.99% (`-log10(1 - 0.9999) = 4`).
const CDF_TOP: f64 = 4.0;

/// Every latency distribution of a run: the latency (log scale) against the fraction of
/// observations at or below it, on a percentile scale (`-log10(1 - F)`: 0%, 90%, 99%,
/// 99.9%, 99.99% equally spaced) so that the tail shows; the legend beside the data.
pub(crate) struct CdfChart {
    /// The chart's title.
    pub(crate) title: String,
    /// (legend, [(log10 seconds, -log10(1 - F))]).
    pub(crate) lines: Vec<(String, Vec<(f64, f64)>)>,
}

impl CdfChart {
    /// The distributions of `summary`, titled "Latency distributions".
    pub(crate) fn new(summary: &RunSummary) -> Self {
        let mut lines = Vec::new();
        for c in &summary.components {
            for (field, pts) in &c.distributions {
                let pts: Vec<(f64, f64)> = pts
                    .iter()
                    .filter(|(v, _)| *v > 0.0)
                    .map(|(v, f)| (v.log10(), (-(1.0 - f).max(0.0).log10()).min(CDF_TOP)))
                    .collect();
                if !pts.is_empty() {
                    lines.push((format!("{} {}", c.name, field), pts));
                }
            }
        }
        CdfChart {
            title: "Latency distributions".into(),
            lines,
        }
    }

    fn keys(&self) -> Vec<(String, Key)> {
        self.lines
            .iter()
            .enumerate()
            .map(|(i, (l, _))| (l.clone(), Key::Line(color(i))))
            .collect()
    }
}

impl Chart for CdfChart {
    fn size(&self) -> (u32, u32) {
        super::size_with_legend(&self.keys())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, tips: &mut Tips) -> Draw<DB> {
        let plot = super::plot_beside_legend(root, &self.keys())?;
        let xs = self.lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0));
        let x0 = xs.clone().fold(f64::INFINITY, f64::min).floor();
        let x1 = xs.fold(f64::NEG_INFINITY, f64::max).ceil();
        let x1 = if x1 <= x0 { x0 + 1.0 } else { x1 };
        let mut chart = ChartBuilder::on(&plot)
            .caption(&self.title, font(20))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, 0.0..CDF_TOP + 0.15)?;
        chart
            .configure_mesh()
            .x_desc("latency (log scale)")
            .y_desc("observations at or below (percentile scale)")
            .label_style(font(12))
            .axis_desc_style(font(14))
            .x_labels(((x1 - x0) as usize + 1).clamp(2, 12))
            .y_labels(9)
            .x_label_formatter(&|x| crate::text::fmt_secs(10f64.powf(*x)))
            .y_label_formatter(&|y| {
                if (y - y.round()).abs() < 1e-9 {
                    format!("{}%", round_sig(100.0 * (1.0 - 10f64.powf(-y.round()))))
                } else {
                    String::new()
                }
            })
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        for (i, (name, pts)) in self.lines.iter().enumerate() {
            let c = color(i);
            chart.draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))?;
            // Tooltips at p50, p90, p99 and p99.9 (-log10(1 - q)).
            for (y, p) in [
                (std::f64::consts::LOG10_2, "p50"),
                (1.0, "p90"),
                (2.0, "p99"),
                (3.0, "p99.9"),
            ] {
                if let Some(q) = pts.iter().find(|q| q.1 >= y - 1e-9) {
                    tips.circle(
                        chart.backend_coord(q),
                        6,
                        &format!("{name}: {p} ≤ {}", crate::text::fmt_secs(10f64.powf(q.0))),
                    );
                }
            }
        }
        Ok(())
    }
}

/// The bill of a run, summed by component (and service), one labelled bar each.
struct CostBars {
    bars: Vec<(String, f64)>,
}

impl CostBars {
    fn new(summary: &RunSummary) -> Self {
        let mut bars: Vec<(String, f64)> = Vec::new();
        for l in &summary.cost.lines {
            let name = format!("{}: {}", l.service, l.component);
            match bars.iter_mut().find(|(n, _)| *n == name) {
                Some(b) => b.1 += l.usd,
                None => bars.push((name, l.usd)),
            }
        }
        bars.retain(|(_, usd)| usd.is_finite() && *usd > 0.0);
        CostBars { bars }
    }
}

impl Chart for CostBars {
    fn size(&self) -> (u32, u32) {
        let w = self.bars.len() as u32 * 130 + 160;
        (w.clamp(super::SIZE.0, 2400), super::SIZE.1)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, tips: &mut Tips) -> Draw<DB> {
        root.fill(&WHITE)?;
        let n = self.bars.len();
        let top = self.bars.iter().map(|b| b.1).fold(0.0, f64::max) * 1.15;
        let top = if top > 0.0 { top } else { 1.0 };
        let mut chart = ChartBuilder::on(root)
            .caption("Monthly cost by component", font(20))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.6..(n as f64 - 0.4), 0.0..top)?;
        let labels: Vec<String> = self.bars.iter().map(|(l, _)| cut(l, 20)).collect();
        let x_fmt = move |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("service: component")
            .y_desc("USD per month")
            .label_style(font(12))
            .axis_desc_style(font(14))
            .x_label_style(font(11))
            .x_labels(n + 1)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|y| round_sig(*y))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        let c = color(0);
        chart.draw_series(self.bars.iter().enumerate().map(|(i, (_, usd))| {
            Rectangle::new(
                [(i as f64 - 0.35, 0.0), (i as f64 + 0.35, *usd)],
                c.filled(),
            )
        }))?;
        for (i, (name, usd)) in self.bars.iter().enumerate() {
            let label = format!("${usd:.2}");
            chart.plotting_area().draw(&Text::new(
                label.clone(),
                (i as f64, *usd),
                font(12).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Bottom,
                )),
            ))?;
            tips.rect(
                chart.backend_coord(&(i as f64 - 0.35, *usd)),
                chart.backend_coord(&(i as f64 + 0.35, 0.0)),
                &format!("{name}: {label} per month"),
            );
        }
        Ok(())
    }
}
