//! Charts, drawn once for SVG and once for PNG from the same code.
//!
//! Text is drawn with DejaVu Sans, embedded in the binary and registered with plotters'
//! `ab_glyph` text renderer, so charts need no system fonts or fontconfig.

use super::{slug, ChartFile, ChosenSeries, ReportError};
use crate::experiment::slo::{is_seconds, round_sig};
use crate::experiment::{Experiment, Op, Results, Stats, COST_ALL, COST_EXTRA};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Once;

pub(crate) mod heatmap;
pub(crate) mod run;
pub(crate) mod sizing;

/// DejaVu Sans 2.37 (see `fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
const SIZE: (u32, u32) = (960, 600);

/// Registers the bundled font as plotters' `sans-serif` (once per process).
pub(crate) fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is a constant of the build: a failure here is caught by the tests.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

type Draw<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Something that draws itself on any backend.
trait Chart {
    fn size(&self) -> (u32, u32) {
        SIZE
    }
    /// Draws the chart on `root`, adding a tooltip for each mark to `tips`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, tips: &mut Tips) -> Draw<DB>;
}

/// The tooltips of a chart's marks, in pixels, written into its SVG as transparent shapes
/// with a `<title>` (a browser shows it when the pointer rests on the mark).
#[derive(Default)]
pub(crate) struct Tips(Vec<String>);

impl Tips {
    /// A circle of radius `r` pixels around `at`.
    pub(crate) fn circle(&mut self, at: (i32, i32), r: i32, text: &str) {
        self.0.push(format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"{r}\" fill=\"#000\" fill-opacity=\"0\"><title>{}</title></circle>",
            at.0,
            at.1,
            super::html::esc(text)
        ));
    }

    /// The rectangle between two corners.
    pub(crate) fn rect(&mut self, a: (i32, i32), b: (i32, i32), text: &str) {
        let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
        let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
        self.0.push(format!(
            "<rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\" fill=\"#000\" fill-opacity=\"0\"><title>{}</title></rect>",
            (x1 - x0).max(1),
            (y1 - y0).max(1),
            super::html::esc(text)
        ));
    }

    /// `svg` with the tooltips added last (on top of everything drawn).
    pub(crate) fn insert_into(&self, svg: &str) -> String {
        if self.0.is_empty() {
            return svg.to_string();
        }
        let at = svg.rfind("</svg>").unwrap_or(svg.len());
        let mut out = String::with_capacity(svg.len() + self.0.len() * 120);
        out.push_str(&svg[..at]);
        out.push_str("<g class=\"tips\">\n");
        for t in &self.0 {
            out.push_str(t);
            out.push('\n');
        }
        out.push_str("</g>\n");
        out.push_str(&svg[at..]);
        out
    }
}

/// Draws `chart` as `dir/stem.svg` (with its tooltips) and `dir/stem.png`; returns the
/// SVG text.
fn save<C: Chart>(chart: &C, dir: &Path, stem: &str) -> Result<String, ReportError> {
    register_fonts();
    let path = dir.join(format!("{stem}.svg"));
    let mut text = String::new();
    let mut tips = Tips::default();
    draw_to(
        chart,
        SVGBackend::with_string(&mut text, chart.size()),
        &path,
        &mut tips,
    )?;
    let svg = tips.insert_into(&text);
    std::fs::write(&path, svg.as_bytes()).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    let png = dir.join(format!("{stem}.png"));
    draw_to(
        chart,
        BitMapBackend::new(&png, chart.size()),
        &png,
        &mut Tips::default(),
    )?;
    Ok(svg)
}

/// Draws `chart` on `backend`, which writes `path`.
fn draw_to<C: Chart, DB: DrawingBackend>(
    chart: &C,
    backend: DB,
    path: &Path,
    tips: &mut Tips,
) -> Result<(), ReportError> {
    let root = backend.into_drawing_area();
    chart
        .draw(&root, tips)
        .and_then(|_| root.present())
        .map_err(|e| ReportError::Chart {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Draws every chart of the report into `dir`: the plots, the cost by service, the cost
/// against throughput, and for each run of `drawn` (the chosen run first) its time series
/// (`series`, then `series-run-N`) and latency distributions (`latency-cdf-run-N`).
pub(crate) fn draw_all(
    exp: &Experiment,
    r: &Results,
    drawn: &[ChosenSeries<'_>],
    dir: &Path,
) -> Result<Vec<ChartFile>, ReportError> {
    let mut out = Vec::new();
    for (i, plot) in exp.plots.iter().enumerate() {
        let chart = MetricChart::new(exp, r, plot);
        if chart.series.is_empty() {
            continue;
        }
        let stem = format!("fig{}-{}", i + 1, slug(&exp.metrics[plot.y]));
        let svg = save(&chart, dir, &stem)?;
        out.push(ChartFile {
            stem,
            title: plot.title.clone(),
            kind: "metric",
            svg,
        });
    }
    let cost = CostChart::new(exp, r);
    if !cost.parts.is_empty() {
        let svg = save(&cost, dir, "cost-by-service")?;
        out.push(ChartFile {
            stem: "cost-by-service".into(),
            title: "Monthly cost per grid point, by service".into(),
            kind: "cost",
            svg,
        });
    }
    if let Some(chart) = sizing::ThroughputChart::new(exp, r) {
        let svg = save(&chart, dir, "cost-vs-throughput")?;
        out.push(ChartFile {
            stem: "cost-vs-throughput".into(),
            title: "Monthly cost against throughput".into(),
            kind: "throughput",
            svg,
        });
    }
    for (k, d) in drawn.iter().enumerate() {
        let run = d.point * exp.replications as usize + d.replication as usize;
        if let Ok(series) = d.series {
            let chart = SeriesChart::of_point(exp, d.point, d.replication, series);
            if !chart.panels.is_empty() {
                let (stem, kind) = if k == 0 {
                    ("series".to_string(), "series")
                } else {
                    (format!("series-run-{run}"), "series-run")
                };
                let svg = save(&chart, dir, &stem)?;
                out.push(ChartFile {
                    stem,
                    title: chart.title.clone(),
                    kind,
                    svg,
                });
            }
        }
        let shards = d
            .series
            .as_ref()
            .ok()
            .filter(|s| s.columns.iter().any(|c| c.ends_with(".write_utilization")));
        if let Some(series) = shards {
            let title = format!("Run {run}: write utilisation of each Kinesis shard");
            let warmup = exp
                .architecture(d.point)
                .map_or(0.0, |a| a.warmup.as_secs_f64());
            if let Some(map) = heatmap::ShardHeatMap::new(title, series, warmup) {
                let stem = format!("shard-heatmap-run-{run}");
                let svg = save(&map, dir, &stem)?;
                out.push(ChartFile {
                    stem,
                    title: map.title.clone(),
                    kind: "heatmap",
                    svg,
                });
            }
        }
        if let Some(summary) = d.summary {
            let mut cdf = run::CdfChart::new(summary);
            cdf.title = format!("Run {run}: latency distributions");
            if !cdf.lines.is_empty() {
                let stem = format!("latency-cdf-run-{run}");
                let svg = save(&cdf, dir, &stem)?;
                out.push(ChartFile {
                    stem,
                    title: cdf.title.clone(),
                    kind: "cdf",
                    svg,
                });
            }
        }
    }
    Ok(out)
}

/// Tableau's ten colours without the red, which marks objectives.
const COLORS: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn color(i: usize) -> RGBAColor {
    match COLORS.get(i) {
        Some(c) => c.to_rgba(),
        None => Palette99::pick(i).to_rgba(),
    }
}

fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// Pads a data range for drawing; a flat range gets room around it.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - d, hi + d);
    }
    let d = (hi - lo) * 0.08;
    (lo - d, hi + d)
}

fn unit_of(metric: &str) -> &'static str {
    if is_seconds(metric) {
        " (s)"
    } else if metric.starts_with("cost.") {
        " (USD per month)"
    } else {
        ""
    }
}

struct Mark {
    x: f64,
    low: f64,
    mean: f64,
    high: f64,
    /// The tooltip: the horizontal value, the mean and its interval, in the metric's unit.
    tip: String,
}

/// A metric against an axis: one line per combination of the other axes' values, with
/// confidence bars, and the objective's threshold as a dashed line.
struct MetricChart {
    title: String,
    x_desc: String,
    y_desc: String,
    /// Labels of a categorical horizontal axis.
    categories: Option<Vec<String>>,
    series: Vec<(String, Vec<Mark>)>,
    /// Objectives on the drawn metrics: (value, legend).
    thresholds: Vec<(f64, String)>,
    log_y: bool,
    /// Lowest value of the vertical axis (0 for metrics that are never negative).
    floor: Option<f64>,
}

impl MetricChart {
    fn new(exp: &Experiment, r: &Results, plot: &crate::experiment::Plot) -> Self {
        let ax = &exp.axes[plot.x];
        let ys: Vec<usize> = std::iter::once(plot.y)
            .chain(plot.more_y.iter().copied())
            .collect();
        let names: Vec<&str> = ys.iter().map(|y| exp.metrics[*y].as_str()).collect();
        // With several metrics, the legend names each by what differs from the others.
        let (common, short) = common_prefix(&names);
        let numeric = ax.is_numeric();
        let others: Vec<usize> = (0..exp.axes.len())
            .filter(|i| *i != plot.x && exp.axes[*i].values.len() > 1)
            .collect();
        let tf = |v: f64| if plot.log_y { v.log10() } else { v };
        // Metrics that are never negative get no bar or axis below zero.
        let nonneg = ys.iter().all(|y| {
            r.points
                .iter()
                .all(|p| p.stats[*y].min.is_nan() || p.stats[*y].min >= 0.0)
        });
        let mut series = Vec::new();
        for (k, y) in ys.iter().enumerate() {
            let metric = &exp.metrics[*y];
            let mut groups: BTreeMap<Vec<usize>, Vec<Mark>> = BTreeMap::new();
            for p in &r.points {
                let s: &Stats = &p.stats[*y];
                if !s.mean.is_finite() || (plot.log_y && s.mean <= 0.0) {
                    continue;
                }
                let c = exp.coords(p.point);
                let x = if numeric {
                    ax.values[c[plot.x]].number.unwrap_or(0.0)
                } else {
                    c[plot.x] as f64
                };
                let (low, high) = if s.half.is_finite() {
                    (s.low(), s.high())
                } else {
                    (s.mean, s.mean)
                };
                let low = if plot.log_y && low <= 0.0 {
                    s.mean
                } else if nonneg {
                    low.max(0.0)
                } else {
                    low
                };
                let tip = format!(
                    "{} = {}: {metric} mean {}{}{}",
                    ax.short(),
                    ax.values[c[plot.x]].label,
                    round_sig(s.mean),
                    unit_of(metric),
                    if s.half.is_finite() {
                        format!(
                            ", {}% CI {} to {}",
                            round_sig(exp.confidence * 100.0),
                            round_sig(low),
                            round_sig(high)
                        )
                    } else {
                        String::new()
                    }
                );
                groups
                    .entry(others.iter().map(|o| c[*o]).collect())
                    .or_default()
                    .push(Mark {
                        x,
                        low: tf(low),
                        mean: tf(s.mean),
                        high: tf(high),
                        tip,
                    });
            }
            for (key, mut marks) in groups {
                marks.sort_by(|a, b| a.x.total_cmp(&b.x));
                let mut parts: Vec<String> = Vec::new();
                if ys.len() > 1 {
                    parts.push(short[k].clone());
                }
                parts.extend(others.iter().zip(&key).map(|(o, v)| {
                    format!(
                        "{} = {}",
                        exp.axes[*o].short(),
                        exp.axes[*o].values[*v].label
                    )
                }));
                let label = if parts.is_empty() {
                    format!("mean, {:.0}% CI", exp.confidence * 100.0)
                } else {
                    parts.join(", ")
                };
                series.push((label, marks));
            }
        }
        let thresholds = exp
            .slos
            .iter()
            .filter(|s| {
                ys.contains(&s.index) && s.op != Op::Eq && (!plot.log_y || s.threshold > 0.0)
            })
            .map(|s| {
                let which = if ys.len() > 1 {
                    format!(
                        "{} ",
                        short[ys.iter().position(|y| *y == s.index).unwrap_or(0)]
                    )
                } else {
                    String::new()
                };
                (tf(s.threshold), format!("objective {which}{}", s.text))
            })
            .collect();
        let unit = ax.unit.map(|u| format!(" ({u})")).unwrap_or_default();
        let y_name = if ys.len() > 1 && !common.is_empty() {
            common.clone()
        } else {
            names.join(", ")
        };
        MetricChart {
            title: plot.title.clone(),
            x_desc: format!("{}{unit}", ax.path),
            y_desc: format!(
                "{}{}{}",
                y_name,
                unit_of(names[0]),
                if plot.log_y { ", log scale" } else { "" }
            ),
            categories: (!numeric).then(|| ax.values.iter().map(|v| v.label.clone()).collect()),
            series,
            thresholds,
            log_y: plot.log_y,
            floor: (nonneg && !plot.log_y).then_some(0.0),
        }
    }

    /// The legend's entries: a line per series, a dashed red line per objective.
    fn keys(&self) -> Vec<(String, Key)> {
        let mut keys: Vec<(String, Key)> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, (l, _))| (l.clone(), Key::Line(color(i))))
            .collect();
        keys.extend(
            self.thresholds
                .iter()
                .map(|(_, l)| (l.clone(), Key::Dashed(RED.to_rgba()))),
        );
        keys
    }
}

/// The dotted path segments that `names` share at their start, and what is left of each
/// (the whole name when nothing is left).
fn common_prefix(names: &[&str]) -> (String, Vec<String>) {
    let split: Vec<Vec<&str>> = names.iter().map(|n| n.split('.').collect()).collect();
    let shortest = split.iter().map(Vec::len).min().unwrap_or(0);
    let mut n = 0;
    while n + 1 < shortest && split.iter().all(|s| s[n] == split[0][n]) {
        n += 1;
    }
    if names.len() < 2 {
        n = 0;
    }
    let common = split.first().map(|s| s[..n].join(".")).unwrap_or_default();
    let short = split.iter().map(|s| s[n..].join(".")).collect();
    (common, short)
}

/// How an entry of a legend is drawn.
#[derive(Clone, Copy)]
pub(crate) enum Key {
    /// A line.
    Line(RGBAColor),
    /// A dashed line.
    Dashed(RGBAColor),
    /// A filled square.
    Box(RGBAColor),
}

/// The size of a chart whose legend of `keys` lies to the right of its data.
pub(crate) fn size_with_legend(keys: &[(String, Key)]) -> (u32, u32) {
    (
        SIZE.0 + legend_width(keys.iter().map(|(l, _)| l.as_str())),
        SIZE.1,
    )
}

/// Fills `root` white, draws the legend of `keys` on its right (from 60 pixels down) and
/// returns the area left for the data.
pub(crate) fn plot_beside_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    keys: &[(String, Key)],
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let (plot, side) =
        root.split_horizontally(w - legend_width(keys.iter().map(|(l, _)| l.as_str())));
    side_legend(&side, keys, 60)?;
    Ok(plot)
}

/// The width of a legend for `labels`, in pixels (about 7 px a character of 12 px text).
pub(crate) fn legend_width<'a>(labels: impl Iterator<Item = &'a str>) -> u32 {
    let chars = labels.map(|l| l.chars().count()).max().unwrap_or(0) as u32;
    (chars * 7 + 48).clamp(120, 420)
}

/// Draws a legend in `area`, which lies beside the data, from `top` pixels down.
pub(crate) fn side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    keys: &[(String, Key)],
    top: i32,
) -> Draw<DB> {
    for (i, (name, key)) in keys.iter().enumerate() {
        let y = top + 20 * i as i32;
        match key {
            Key::Line(c) => {
                area.draw(&PathElement::new(vec![(6, y), (28, y)], c.stroke_width(2)))?
            }
            Key::Dashed(c) => {
                area.draw(&PathElement::new(vec![(6, y), (13, y)], c.stroke_width(2)))?;
                area.draw(&PathElement::new(vec![(19, y), (28, y)], c.stroke_width(2)))?;
            }
            Key::Box(c) => area.draw(&Rectangle::new([(10, y - 6), (22, y + 6)], c.filled()))?,
        }
        area.draw(&Text::new(name.clone(), (34, y - 7), font(12)))?;
    }
    Ok(())
}

/// The plotting area of a chart with numeric coordinates on both axes.
type Plane<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

impl MetricChart {
    /// The horizontal range: one slot per category, or the marks' range padded.
    fn x_range(&self) -> (f64, f64) {
        let xs = self.series.iter().flat_map(|(_, m)| m.iter().map(|m| m.x));
        match &self.categories {
            Some(c) => (-0.5, c.len() as f64 - 0.5),
            None => padded(
                xs.clone().fold(f64::INFINITY, f64::min),
                xs.fold(f64::NEG_INFINITY, f64::max),
            ),
        }
    }

    /// The vertical range: every confidence bar and the threshold, padded, and not
    /// below the floor.
    fn y_range(&self) -> (f64, f64) {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for (_, marks) in &self.series {
            for m in marks {
                lo = lo.min(m.low);
                hi = hi.max(m.high);
            }
        }
        for (t, _) in &self.thresholds {
            lo = lo.min(*t);
            hi = hi.max(*t);
        }
        let (y0, y1) = padded(lo, hi);
        match self.floor {
            // Values that are never negative start at 0 unless they lie close together
            // (then from a round value below them, the axis marked as cut).
            Some(f) if sizing::from_zero(lo, hi) => (y0.max(f), y1),
            Some(f) => (sizing::round_down(y0, y1 - y0).max(f), y1),
            None => (y0, y1),
        }
    }

    /// The grid, the axis labels (category names, or powers of ten on a log scale) and
    /// the axis descriptions, for a vertical range `y0..y1`.
    fn draw_mesh<'a, DB: DrawingBackend + 'a>(
        &self,
        chart: &mut Plane<'a, DB>,
        y0: f64,
        y1: f64,
    ) -> Draw<DB> {
        let categories = self.categories.clone();
        let x_fmt = move |x: &f64| match &categories {
            Some(c) => {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                    c[i as usize].clone()
                } else {
                    String::new()
                }
            }
            None => round_sig(*x),
        };
        let log_y = self.log_y;
        let y_fmt = move |y: &f64| {
            if log_y {
                round_sig(10f64.powf(*y))
            } else {
                round_sig(*y)
            }
        };
        // On a log scale, one label per power of ten.
        let y_labels = if self.log_y {
            ((y1 - y0).floor() as usize + 1).clamp(2, 12)
        } else {
            10
        };
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .label_style(font(13))
            .axis_desc_style(font(14))
            .y_labels(y_labels)
            .x_labels(self.categories.as_ref().map(|c| c.len() + 1).unwrap_or(10))
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
    }

    /// Each series (line of means, confidence bars, dots), the objective's dashed line
    /// across `x0..x1`, and the legend.
    fn draw_marks<'a, DB: DrawingBackend + 'a>(
        &self,
        chart: &mut Plane<'a, DB>,
        x0: f64,
        x1: f64,
        tips: &mut Tips,
    ) -> Draw<DB> {
        for (i, (label, marks)) in self.series.iter().enumerate() {
            let c = color(i);
            for m in marks {
                let at = chart.backend_coord(&(m.x, m.mean));
                tips.circle(at, 7, &format!("{label}: {}", m.tip));
            }
            chart.draw_series(LineSeries::new(
                marks.iter().map(|m| (m.x, m.mean)),
                c.stroke_width(2),
            ))?;
            chart.draw_series(marks.iter().map(|m| {
                ErrorBar::new_vertical(m.x, m.low, m.mean, m.high, c.stroke_width(1), 8)
            }))?;
            chart.draw_series(
                marks
                    .iter()
                    .map(|m| Circle::new((m.x, m.mean), 3, c.filled())),
            )?;
        }
        for (t, _) in &self.thresholds {
            chart.draw_series(DashedLineSeries::new(
                vec![(x0, *t), (x1, *t)],
                8,
                6,
                RED.stroke_width(2),
            ))?;
        }
        Ok(())
    }
}

impl Chart for MetricChart {
    fn size(&self) -> (u32, u32) {
        size_with_legend(&self.keys())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, tips: &mut Tips) -> Draw<DB> {
        let plot = plot_beside_legend(root, &self.keys())?;
        let root = &plot;
        let (x0, x1) = self.x_range();
        let (y0, y1) = self.y_range();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, font(20))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        self.draw_mesh(&mut chart, y0, y1)?;
        if !self.log_y && y0 > 0.0 {
            sizing::axis_break(root, &chart, (x0, y0, y1), "the vertical")?;
        }
        self.draw_marks(&mut chart, x0, x1, tips)
    }
}

/// Mean monthly cost per point, stacked by service, with the confidence bar of the total.
struct CostChart {
    labels: Vec<String>,
    x_desc: String,
    /// (legend, mean per point).
    parts: Vec<(String, Vec<f64>)>,
    /// Low and high of the total per point.
    total: Vec<(f64, f64, f64)>,
}

impl CostChart {
    fn new(exp: &Experiment, r: &Results) -> Self {
        let multi: Vec<usize> = (0..exp.axes.len())
            .filter(|i| exp.axes[*i].values.len() > 1)
            .collect();
        let labels = r
            .points
            .iter()
            .map(|p| {
                let c = exp.coords(p.point);
                if multi.is_empty() {
                    format!("{}", p.point)
                } else {
                    multi
                        .iter()
                        .map(|a| exp.axes[*a].values[c[*a]].label.clone())
                        .collect::<Vec<_>>()
                        .join(" / ")
                }
            })
            .collect();
        let x_desc = if multi.is_empty() {
            "grid point".to_string()
        } else {
            format!(
                "grid point ({})",
                multi
                    .iter()
                    .map(|a| exp.axes[*a].short())
                    .collect::<Vec<_>>()
                    .join(" / ")
            )
        };
        let mut parts = Vec::new();
        for (m, name) in exp.metrics.iter().enumerate() {
            let legend = if let Some(s) = name.strip_prefix("cost.services.") {
                s.to_string()
            } else if name == COST_EXTRA {
                "unit costs (experiment)".to_string()
            } else {
                continue;
            };
            let means: Vec<f64> = r
                .points
                .iter()
                .map(|p| p.stats[m].mean)
                .map(|x| if x.is_finite() { x } else { 0.0 })
                .collect();
            if means.iter().any(|x| *x != 0.0) {
                parts.push((legend, means));
            }
        }
        let total_metric = if exp.metrics.iter().any(|m| m == COST_ALL) {
            COST_ALL
        } else {
            "cost.total"
        };
        let total = match exp.metrics.iter().position(|m| m == total_metric) {
            Some(t) => r
                .points
                .iter()
                .map(|p| {
                    let s = p.stats[t];
                    if s.half.is_finite() {
                        (s.low(), s.mean, s.high())
                    } else {
                        (s.mean, s.mean, s.mean)
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        CostChart {
            labels,
            x_desc,
            parts,
            total,
        }
    }
}

impl CostChart {
    /// Characters of the longest label.
    fn label_len(&self) -> usize {
        self.labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(1)
    }
}

impl CostChart {
    /// The legend's entries: a square per part, the interval of the total.
    fn keys(&self) -> Vec<(String, Key)> {
        let mut keys: Vec<(String, Key)> = self
            .parts
            .iter()
            .enumerate()
            .map(|(k, (l, _))| (l.clone(), Key::Box(color(k))))
            .collect();
        if !self.total.is_empty() {
            keys.push((
                "total: confidence interval".into(),
                Key::Line(BLACK.to_rgba()),
            ));
        }
        keys
    }

    fn legend_w(&self) -> u32 {
        legend_width(self.keys().iter().map(|(l, _)| l.as_str()))
    }
}

impl Chart for CostChart {
    fn size(&self) -> (u32, u32) {
        let w = self.labels.len() as u32 * 28 + 200;
        (w.clamp(SIZE.0, 2400) + self.legend_w(), SIZE.1)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, tips: &mut Tips) -> Draw<DB> {
        root.fill(&WHITE)?;
        let (w, _) = root.dim_in_pixel();
        let (plot, side) = root.split_horizontally(w - self.legend_w());
        side_legend(&side, &self.keys(), 60)?;
        let root = &plot;
        let n = self.labels.len();
        let mut top = 0.0f64;
        let mut low = f64::INFINITY;
        for i in 0..n {
            let sum: f64 = self.parts.iter().map(|(_, v)| v[i]).sum();
            top = top.max(sum);
            low = low.min(sum);
            if let Some((lo, _, hi)) = self.total.get(i) {
                top = top.max(*hi);
                low = low.min(*lo);
            }
        }
        // Totals close together (issue 19: $6.3 against $7.6) get a range from the data,
        // the axis marked as cut; others start at 0.
        let (bottom, top) = if sizing::from_zero(low, top) {
            (0.0, if top > 0.0 { top * 1.3 } else { 1.0 })
        } else {
            let span = top - low;
            (
                sizing::round_down(low - 0.3 * span, span * 1.6),
                top + 0.3 * span,
            )
        };
        // Every bar gets its label: across when they fit (about 7 px a character), turned
        // upright when the bars are at least 14 px apart, else every k-th across.
        let width = root.dim_in_pixel().0.saturating_sub(120) as usize;
        let per_label = self.label_len() * 7 + 12;
        let across = n * per_label <= width.max(1);
        let upright = !across && width / n.max(1) >= 14;
        let every = if across || upright {
            1
        } else {
            (n * per_label).div_ceil(width.max(1)).max(1)
        };
        let label_area = if upright {
            (self.label_len() as u32 * 7 + 16).clamp(48, 200)
        } else {
            48
        };
        let mut chart = ChartBuilder::on(root)
            .caption("Monthly cost per grid point, by service", font(20))
            .margin(14)
            .x_label_area_size(label_area)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.6..(n as f64 - 0.4), bottom..top)?;
        let labels = self.labels.clone();
        let x_fmt = move |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6
                && i >= 0.0
                && (i as usize) < labels.len()
                && (i as usize) % every == 0
            {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(&self.x_desc)
            .y_desc("USD per month (mean)")
            .label_style(font(12))
            .axis_desc_style(font(14))
            .x_label_style(font(11))
            .x_labels(if upright { 0 } else { n + 1 })
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|y| round_sig(*y))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        if upright {
            // Drawn here rather than by the mesh, which centres turned labels on the axis.
            let (x0, y0) = root.get_base_pixel();
            for (i, l) in self.labels.iter().enumerate() {
                let (x, y) = chart.backend_coord(&(i as f64, bottom));
                root.draw(&Text::new(
                    l.clone(),
                    (x - x0, y - y0 + 8),
                    font(11).transform(FontTransform::Rotate90),
                ))?;
            }
        }
        let mut base = vec![0.0f64; n];
        for (k, (legend, means)) in self.parts.iter().enumerate() {
            let c = color(k);
            let bars: Vec<Rectangle<(f64, f64)>> = (0..n)
                .map(|i| {
                    // On a cut axis a part below its foot shows from the foot.
                    let b = base[i].max(bottom);
                    base[i] += means[i];
                    let t = base[i].max(bottom);
                    if t > b {
                        tips.rect(
                            chart.backend_coord(&(i as f64 - 0.38, b)),
                            chart.backend_coord(&(i as f64 + 0.38, t)),
                            &format!(
                                "{}: {legend} ${:.2} per month (mean)",
                                self.labels[i], means[i]
                            ),
                        );
                    }
                    Rectangle::new([(i as f64 - 0.38, b), (i as f64 + 0.38, t)], c.filled())
                })
                .collect();
            chart.draw_series(bars)?;
        }
        for (i, (lo, mean, hi)) in self.total.iter().enumerate() {
            tips.circle(
                chart.backend_coord(&(i as f64, *hi)),
                5,
                &format!(
                    "{}: total ${mean:.2} per month (mean), interval ${lo:.2} to ${hi:.2}",
                    self.labels[i]
                ),
            );
        }
        chart.draw_series(self.total.iter().enumerate().map(|(i, (lo, mean, hi))| {
            ErrorBar::new_vertical(i as f64, *lo, *mean, *hi, BLACK.stroke_width(1), 6)
        }))?;
        if bottom > 0.0 {
            sizing::axis_break(root, &chart, (-0.6, bottom, top), "the cost")?;
        }
        Ok(())
    }
}

/// (panel title, y description, [(legend, values)]).
type Panel = (String, String, Vec<(String, Vec<f64>)>);

/// The chosen run's queues (backlog, age of the oldest message), stream consumers
/// (iterator age), Firehose streams (age of the oldest undelivered record) and worker
/// pools over time.
pub(crate) struct SeriesChart {
    title: String,
    minutes: bool,
    t: Vec<f64>,
    /// End of the warm-up, in the unit of `t` (shaded).
    warmup: f64,
    panels: Vec<Panel>,
}

impl SeriesChart {
    /// The chart of the run at `point`, replication `rep` of a sweep.
    fn of_point(exp: &Experiment, point: usize, rep: u32, s: &crate::metrics::TimeSeries) -> Self {
        let run = point * exp.replications as usize + rep as usize;
        let c = exp.coords(point);
        let settings: Vec<String> = exp
            .axes
            .iter()
            .zip(&c)
            .filter(|(a, _)| a.values.len() > 1)
            .map(|(a, i)| format!("{} = {}", a.short(), a.values[*i].label))
            .collect();
        let settings = if settings.is_empty() {
            String::new()
        } else {
            format!(" ({})", settings.join(", "))
        };
        let warmup = exp
            .architecture(point)
            .map_or(0.0, |a| a.warmup.as_secs_f64());
        SeriesChart::new(
            format!(
                "Run {run}: point {point}{settings}, replication {rep}, seed {}",
                exp.seed_of(point, rep)
            ),
            s,
            warmup,
        )
    }

    /// The chart of series `s` under `title`; the first `warmup_s` seconds are shaded.
    pub(crate) fn new(title: String, s: &crate::metrics::TimeSeries, warmup_s: f64) -> Self {
        let horizon = s.t_s.last().copied().unwrap_or(0.0);
        let minutes = horizon > 600.0;
        let t = s
            .t_s
            .iter()
            .map(|x| if minutes { x / 60.0 } else { *x })
            .collect();
        let mut panels = Vec::new();
        for (prefix, suffix, title, desc) in [
            (
                "queue.",
                ".backlog",
                "Backlog (visible and delayed messages)",
                "messages",
            ),
            (
                "queue.",
                ".age_of_oldest_s",
                "Age of the oldest message",
                "seconds",
            ),
            (
                "consumer.",
                ".latency_p99_s",
                "Latency (p99) of the messages each pool finished in each interval",
                "seconds",
            ),
            (
                "consumer.",
                ".iterator_age_s",
                "Iterator age of the stream consumers",
                "seconds",
            ),
            (
                "firehose.",
                ".data_freshness_s",
                "Firehose: age of the oldest record not yet delivered",
                "seconds",
            ),
        ] {
            let lines: Vec<(String, Vec<f64>)> = s
                .columns
                .iter()
                .filter(|c| c.starts_with(prefix) && c.ends_with(suffix))
                // Per-shard columns (`consumer.NAME.shard-N.iterator_age_s`) stay in the CSV.
                .filter(|c| !c.contains(".shard-"))
                .filter_map(|c| {
                    let v = s.column(c)?;
                    let name = c
                        .strip_prefix(prefix)
                        .and_then(|x| x.strip_suffix(suffix))
                        .unwrap_or(c)
                        .to_string();
                    Some((name, v))
                })
                .collect();
            let nonzero: Vec<(String, Vec<f64>)> = lines
                .iter()
                .filter(|(_, v)| v.iter().any(|x| *x != 0.0))
                .cloned()
                .collect();
            let lines = if nonzero.is_empty() {
                lines.into_iter().take(1).collect()
            } else {
                nonzero
            };
            if !lines.is_empty() {
                panels.push((title.to_string(), desc.to_string(), lines));
            }
        }
        // Busy workers against the pool's size, pool by pool.
        let mut pools = Vec::new();
        for col in s
            .columns
            .iter()
            .filter(|c| c.starts_with("consumer.") && c.ends_with(".busy"))
        {
            let name = &col["consumer.".len()..col.len() - ".busy".len()];
            if let Some(v) = s.column(col) {
                pools.push((format!("{name}: busy"), v));
            }
            if let Some(v) = s.column(&format!("consumer.{name}.workers")) {
                pools.push((format!("{name}: workers"), v));
            }
        }
        if !pools.is_empty() {
            panels.push((
                "Workers busy and in the pool".into(),
                "workers".into(),
                pools,
            ));
        }
        SeriesChart {
            title,
            minutes,
            t,
            warmup: if minutes { warmup_s / 60.0 } else { warmup_s },
            panels,
        }
    }

    /// Whether there is anything to draw.
    pub(crate) fn is_empty(&self) -> bool {
        self.panels.is_empty()
    }
}

impl SeriesChart {
    /// The legend's entries of a panel: the warm-up (when there is one), a line per series.
    fn keys(&self, lines: &[(String, Vec<f64>)]) -> Vec<(String, Key)> {
        let mut keys = Vec::new();
        if self.warmup > self.t.first().copied().unwrap_or(0.0) {
            keys.push((
                "warm-up (not measured)".to_string(),
                Key::Box(RGBColor(120, 120, 120).mix(0.15)),
            ));
        }
        keys.extend(
            lines
                .iter()
                .enumerate()
                .map(|(i, (name, _))| (name.clone(), Key::Line(color(i)))),
        );
        keys
    }

    fn legend_w(&self) -> u32 {
        let keys: Vec<(String, Key)> = self.panels.iter().flat_map(|p| self.keys(&p.2)).collect();
        legend_width(keys.iter().map(|(l, _)| l.as_str()))
    }
}

impl Chart for SeriesChart {
    fn size(&self) -> (u32, u32) {
        (
            SIZE.0 + self.legend_w(),
            260 * self.panels.len() as u32 + 40,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _: &mut Tips) -> Draw<DB> {
        root.fill(&WHITE)?;
        // About 0.55 em a character: shrink the title until it fits.
        let width = root.dim_in_pixel().0 as f64;
        let size = (width / (0.58 * self.title.chars().count().max(1) as f64)).clamp(9.0, 15.0);
        let title_style = font(size as u32);
        let root = root.titled(&self.title, title_style)?;
        let areas = root.split_evenly((self.panels.len(), 1));
        let t0 = self.t.first().copied().unwrap_or(0.0);
        let t1 = self.t.last().copied().unwrap_or(1.0).max(t0 + 1e-9);
        let t_desc = if self.minutes {
            "simulated time (minutes; warm-up shaded)"
        } else {
            "simulated time (s; warm-up shaded)"
        };
        let legend_w = self.legend_w();
        for (whole, (title, desc, lines)) in areas.iter().zip(&self.panels) {
            let (w, _) = whole.dim_in_pixel();
            let (area, side) = whole.split_horizontally(w - legend_w);
            side_legend(&side, &self.keys(lines), 50)?;
            let area = &area;
            let hi = lines
                .iter()
                .flat_map(|(_, v)| v.iter().copied())
                .filter(|x| x.is_finite())
                .fold(0.0f64, f64::max);
            let hi = if hi > 0.0 { hi * 1.08 } else { 1.0 };
            let mut chart = ChartBuilder::on(area)
                .caption(title.as_str(), font(15))
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(80)
                .build_cartesian_2d(t0..t1, 0.0..hi)?;
            chart
                .configure_mesh()
                .x_desc(t_desc)
                .y_desc(desc.as_str())
                .label_style(font(12))
                .axis_desc_style(font(13))
                .x_label_formatter(&|x| round_sig(*x))
                .y_label_formatter(&|y| round_sig(*y))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            if self.warmup > t0 {
                let shade = RGBColor(120, 120, 120).mix(0.15);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(t0, 0.0), (self.warmup.min(t1), hi)],
                    shade.filled(),
                )))?;
            }
            for (i, (_, v)) in lines.iter().enumerate() {
                // An interval without a value (no message finished) leaves a gap.
                let mut run: Vec<(f64, f64)> = Vec::new();
                for (t, x) in self.t.iter().copied().zip(v.iter().copied()) {
                    if x.is_finite() {
                        run.push((t, x));
                    } else if !run.is_empty() {
                        chart.draw_series(LineSeries::new(
                            std::mem::take(&mut run),
                            color(i).stroke_width(1),
                        ))?;
                    }
                }
                chart.draw_series(LineSeries::new(run, color(i).stroke_width(1)))?;
            }
        }
        Ok(())
    }
}
