//! Charts a sizing study needs besides the plots: monthly cost against throughput, and
//! the mark of a vertical axis that does not start at zero.

use super::{color, font, padded, Chart, Draw, Key, Plane, Tips};
use crate::experiment::slo::round_sig;
use crate::experiment::{Experiment, Results, Throughput, COST_ALL};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Whether a vertical range `lo..hi` of values that are never negative should start at
/// zero: only when the smallest value is less than half the largest. Otherwise the
/// differences (a $6.3 bar beside a $7.6 one) would sit in the top sixth of the chart, and
/// the range is chosen from the data instead, with the axis marked as cut.
pub(crate) fn from_zero(lo: f64, hi: f64) -> bool {
    !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo > 0.5 * hi)
}

/// A step of 1, 2 or 5 times a power of ten near `span / 10`, and `x` rounded down to it.
pub(crate) fn round_down(x: f64, span: f64) -> f64 {
    let raw = (span / 10.0).abs().max(f64::MIN_POSITIVE);
    let p = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p);
    (x / step + 1e-9).floor() * step
}

/// Marks a vertical axis that starts at `y0`, not at zero: a break (two slanted strokes
/// with a gap) across its foot at `(x0, y0)` and the note `… axis starts at Y0, not at
/// 0` at its top (`y1`), so that nobody reads the heights of bars or points as ratios.
pub(crate) fn axis_break<'a, DB: DrawingBackend + 'a>(
    root: &DrawingArea<DB, Shift>,
    chart: &Plane<'a, DB>,
    (x0, y0, y1): (f64, f64, f64),
    what: &str,
) -> Draw<DB> {
    let (bx, by) = root.get_base_pixel();
    let (x, y) = chart.backend_coord(&(x0, y0));
    let (x, y) = (x - bx, y - by);
    root.draw(&Polygon::new(
        vec![
            (x - 9, y - 8),
            (x + 9, y - 14),
            (x + 9, y - 20),
            (x - 9, y - 14),
        ],
        WHITE.filled(),
    ))?;
    for d in [0, 6] {
        root.draw(&PathElement::new(
            vec![(x - 9, y - 8 - d), (x + 9, y - 14 - d)],
            BLACK.stroke_width(1),
        ))?;
    }
    let (_, top) = chart.backend_coord(&(x0, y1));
    root.draw(&Text::new(
        format!("{what} axis starts at {}, not at 0", round_sig(y0)),
        (x + 8, top - by + 4),
        font(12).color(&RGBColor(90, 90, 90)),
    ))
}

/// One grid point on the cost-against-throughput chart.
struct Dot {
    x: f64,
    y: f64,
    low: f64,
    high: f64,
    /// Meets every objective (true without objectives).
    pass: bool,
    /// Is a sizing answer.
    answer: bool,
    tip: String,
}

/// Mean monthly cost (the sizing cost: `cost.all` with unit costs, else `cost.total`)
/// against throughput (a metric's mean or an axis's value, see
/// [`Experiment::throughput`]), one dot per grid point with the interval of its cost;
/// the points that meet every objective filled, the others hollow, and the sizing
/// answers joined by a line: what each level of throughput costs at the least.
pub(crate) struct ThroughputChart {
    x_desc: String,
    y_desc: String,
    objectives: bool,
    dots: Vec<Dot>,
}

impl ThroughputChart {
    /// The chart of a sweep, or `None` when it has no throughput or no cost.
    pub(crate) fn new(exp: &Experiment, r: &Results) -> Option<Self> {
        let t = exp.throughput?;
        let cost_name = if exp.metrics.iter().any(|m| m == COST_ALL) {
            COST_ALL
        } else {
            "cost.total"
        };
        let cost = exp.metrics.iter().position(|m| m == cost_name)?;
        let (x_name, unit) = match t {
            Throughput::Axis(a) => (
                exp.axes[a].path.clone(),
                exp.axes[a]
                    .unit
                    .map(|u| format!(" ({u})"))
                    .unwrap_or_default(),
            ),
            Throughput::Metric(m) => (format!("{} (mean)", exp.metrics[m]), String::new()),
        };
        let answers: Vec<usize> = r.answers.iter().filter_map(|a| a.point).collect();
        let mut dots = Vec::new();
        for p in &r.points {
            let x = match t {
                Throughput::Axis(a) => exp.axes[a].values[exp.coords(p.point)[a]]
                    .number
                    .unwrap_or(f64::NAN),
                Throughput::Metric(m) => p.stats[m].mean,
            };
            let s = &p.stats[cost];
            if !(x.is_finite() && s.mean.is_finite()) {
                continue;
            }
            let (low, high) = if s.half.is_finite() {
                (s.low().max(0.0), s.high())
            } else {
                (s.mean, s.mean)
            };
            let pass = exp.slos.is_empty() || p.pass;
            let answer = answers.contains(&p.point);
            dots.push(Dot {
                x,
                y: s.mean,
                low,
                high,
                pass,
                answer,
                tip: format!(
                    "point {} ({}): {} {}, ${:.2} per month (mean){}",
                    p.point,
                    exp.describe(p.point),
                    x_name,
                    round_sig(x),
                    s.mean,
                    if answer {
                        "; the sizing answer"
                    } else if exp.slos.is_empty() {
                        ""
                    } else if pass {
                        "; meets every objective"
                    } else {
                        "; misses an objective"
                    }
                ),
            });
        }
        if dots.is_empty() {
            return None;
        }
        Some(ThroughputChart {
            x_desc: format!("{x_name}{unit}"),
            y_desc: format!("{cost_name} (USD per month, mean)"),
            objectives: !exp.slos.is_empty(),
            dots,
        })
    }

    fn keys(&self) -> Vec<(String, Key)> {
        if !self.objectives {
            return vec![("grid point: mean cost, interval".into(), Key::Box(color(0)))];
        }
        vec![
            ("meets every objective".into(), Key::Box(color(0))),
            (
                "misses an objective (hollow)".into(),
                Key::Box(RGBColor(150, 150, 150).to_rgba()),
            ),
            (
                "sizing answer: the cheapest that meets them".into(),
                Key::Line(color(2)),
            ),
        ]
    }

    /// The vertical range: every interval, padded; from zero unless the values are close
    /// together ([`from_zero`]).
    fn y_range(&self) -> (f64, f64) {
        let lo = self
            .dots
            .iter()
            .map(|d| d.low)
            .fold(f64::INFINITY, f64::min);
        let hi = self
            .dots
            .iter()
            .map(|d| d.high)
            .fold(f64::NEG_INFINITY, f64::max);
        let (y0, y1) = padded(lo, hi);
        if from_zero(lo, hi) {
            (0.0, y1.max(1e-9))
        } else {
            (round_down(y0.max(0.0), y1 - y0), y1)
        }
    }
}

impl Chart for ThroughputChart {
    fn size(&self) -> (u32, u32) {
        super::size_with_legend(&self.keys())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, tips: &mut Tips) -> Draw<DB> {
        let plot = super::plot_beside_legend(root, &self.keys())?;
        let root = &plot;
        let xs = self.dots.iter().map(|d| d.x);
        let (x0, x1) = padded(
            xs.clone().fold(f64::INFINITY, f64::min),
            xs.fold(f64::NEG_INFINITY, f64::max),
        );
        let (y0, y1) = self.y_range();
        let mut chart = ChartBuilder::on(root)
            .caption("Monthly cost against throughput", font(20))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .label_style(font(13))
            .axis_desc_style(font(14))
            .x_label_formatter(&|x| round_sig(*x))
            .y_label_formatter(&|y| round_sig(*y))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        if y0 > 0.0 {
            axis_break(root, &chart, (x0, y0, y1), "the cost")?;
        }
        let mut frontier: Vec<(f64, f64)> = self
            .dots
            .iter()
            .filter(|d| d.answer)
            .map(|d| (d.x, d.y))
            .collect();
        frontier.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart.draw_series(LineSeries::new(frontier, color(2).stroke_width(2)))?;
        let grey = RGBColor(150, 150, 150).to_rgba();
        for d in &self.dots {
            let c = if d.pass { color(0) } else { grey };
            chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                d.x,
                d.low,
                d.y,
                d.high,
                c.stroke_width(1),
                6,
            )))?;
            let style = if d.pass {
                c.filled()
            } else {
                c.stroke_width(2)
            };
            chart.draw_series(std::iter::once(Circle::new((d.x, d.y), 4, style)))?;
            if d.answer {
                chart.draw_series(std::iter::once(Circle::new(
                    (d.x, d.y),
                    8,
                    color(2).stroke_width(2),
                )))?;
            }
            tips.circle(chart.backend_coord(&(d.x, d.y)), 7, &d.tip);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_values_do_not_start_at_zero() {
        // $6.3 against $7.6: the range comes from the data.
        assert!(!from_zero(6.3, 7.6));
        // $975 against $2,200: from zero.
        assert!(from_zero(975.0, 2200.0));
        assert!(from_zero(0.0, 5.0));
        assert!(from_zero(f64::NAN, 5.0));
    }

    #[test]
    fn axes_start_at_a_round_value() {
        for (x, span, want) in [
            (6.27, 1.6, 6.2),
            (6.2, 1.6, 6.2),
            (166.7, 11.0, 166.0),
            (951.0, 1300.0, 800.0),
        ] {
            let got = round_down(x, span);
            assert!((got - want).abs() < 1e-9, "{x}, {span}: {got}");
        }
    }
}
