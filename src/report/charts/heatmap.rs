//! The write utilisation of each Kinesis shard over time: a heat map per stream.

use super::{font, Chart, Draw, Tips, SIZE};
use crate::experiment::slo::round_sig;
use crate::metrics::TimeSeries;
use crate::report::tables::split_column;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Width of the colour key beside the data, in pixels.
const KEY_W: u32 = 170;
/// Most columns of cells: longer series are drawn in bins of several samples, each the
/// largest of its samples (a peak stays visible), which keeps the SVG small.
const MAX_CELLS: usize = 240;
/// Colour steps: a cell shows its utilisation rounded to a twentieth (cells of the same
/// step that follow each other are drawn as one rectangle, which keeps the SVG small).
const STEPS: f64 = 20.0;

/// For each stream of a run with per-shard columns (`stream.NAME.shard-K.write_utilization`:
/// the larger of the bytes and records written in a sample interval as a fraction of the
/// shard's 1 MiB/s and 1,000 records/s), a panel of shard × time cells coloured from white
/// (idle) to dark blue (at the limit), red above it (throttled); a dashed line ends the
/// warm-up.
pub(crate) struct ShardHeatMap {
    pub(crate) title: String,
    minutes: bool,
    t: Vec<f64>,
    warmup: f64,
    /// (stream, utilisation per shard per sample).
    streams: Vec<(String, Vec<Vec<f64>>)>,
}

impl ShardHeatMap {
    /// The heat map of series `s` under `title`, or `None` without per-shard columns.
    pub(crate) fn new(title: String, s: &TimeSeries, warmup_s: f64) -> Option<Self> {
        let mut streams: Vec<(String, Vec<Vec<f64>>)> = Vec::new();
        for c in &s.columns {
            let (kind, name, shard, metric) = split_column(c);
            if kind != "stream" || metric != "write_utilization" || shard.is_none() {
                continue;
            }
            let Some(v) = s.column(c) else { continue };
            match streams.iter_mut().find(|(n, _)| n == name) {
                Some((_, shards)) => shards.push(v),
                None => streams.push((name.to_string(), vec![v])),
            }
        }
        if streams.is_empty() || s.t_s.len() < 2 {
            return None;
        }
        let horizon = s.t_s.last().copied().unwrap_or(0.0);
        let minutes = horizon > 600.0;
        let scale = if minutes { 60.0 } else { 1.0 };
        // Bins of `k` samples after the first: bin j covers samples (j-1)·k+1 ..= j·k and
        // ends at the last of them.
        let n = s.t_s.len();
        let k = (n - 1).div_ceil(MAX_CELLS).max(1);
        let mut t = vec![s.t_s[0] / scale];
        let mut ends = Vec::new();
        let mut i = k;
        while i < n + k - 1 {
            let end = i.min(n - 1);
            t.push(s.t_s[end] / scale);
            ends.push(end);
            i += k;
        }
        for (_, shards) in &mut streams {
            for v in shards.iter_mut() {
                let mut binned = vec![v[0]];
                let mut start = 1;
                for end in &ends {
                    binned.push(
                        v[start..=*end]
                            .iter()
                            .copied()
                            .filter(|x| x.is_finite())
                            .fold(0.0, f64::max),
                    );
                    start = end + 1;
                }
                *v = binned;
            }
        }
        Some(ShardHeatMap {
            title,
            minutes,
            t,
            warmup: warmup_s / scale,
            streams,
        })
    }

    fn panel_h(shards: usize) -> u32 {
        (90 + 16 * shards as u32).clamp(170, 620)
    }
}

/// The colour of utilisation `u` (already rounded to a step).
fn shade(u: f64) -> RGBColor {
    if u > 1.0 {
        return RGBColor(214, 39, 40);
    }
    // White (247, 251, 255) to dark blue (8, 48, 107).
    let u = u.clamp(0.0, 1.0);
    let mix = |a: f64, b: f64| (a + (b - a) * u).round() as u8;
    RGBColor(mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0))
}

/// `u` rounded to a colour step; anything above 1 stays above it.
fn step(u: f64) -> f64 {
    if !u.is_finite() || u <= 0.0 {
        0.0
    } else if u > 1.0 {
        2.0
    } else {
        (u * STEPS).round() / STEPS
    }
}

impl Chart for ShardHeatMap {
    fn size(&self) -> (u32, u32) {
        let h: u32 = self
            .streams
            .iter()
            .map(|(_, s)| Self::panel_h(s.len()))
            .sum();
        (SIZE.0 + KEY_W, h + 40)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, tips: &mut Tips) -> Draw<DB> {
        root.fill(&WHITE)?;
        let root = root.titled(&self.title, font(15))?;
        let (w, _) = root.dim_in_pixel();
        let (plot, key) = root.split_horizontally(w - KEY_W);
        // The colour key.
        for (i, (u, label)) in [
            (0.0, "idle"),
            (0.25, "25%"),
            (0.5, "50%"),
            (0.75, "75%"),
            (1.0, "100% of the limit"),
            (2.0, "over it: throttled"),
        ]
        .iter()
        .enumerate()
        {
            let y = 40 + 20 * i as i32;
            key.draw(&Rectangle::new(
                [(10, y - 7), (26, y + 7)],
                shade(*u).filled(),
            ))?;
            key.draw(&Rectangle::new(
                [(10, y - 7), (26, y + 7)],
                BLACK.stroke_width(1),
            ))?;
            key.draw(&Text::new(label.to_string(), (34, y - 7), font(12)))?;
        }
        key.draw(&Text::new(
            "write utilisation".to_string(),
            (8, 14),
            font(12),
        ))?;
        let heights: Vec<u32> = self
            .streams
            .iter()
            .map(|(_, s)| Self::panel_h(s.len()))
            .collect();
        let mut areas = Vec::new();
        let mut rest = plot;
        for (k, h) in heights.iter().enumerate() {
            if k + 1 == heights.len() {
                areas.push(rest);
                break;
            }
            let (a, b) = rest.split_vertically(*h);
            areas.push(a);
            rest = b;
        }
        let t0 = self.t.first().copied().unwrap_or(0.0);
        let t1 = self.t.last().copied().unwrap_or(1.0).max(t0 + 1e-9);
        let t_desc = if self.minutes {
            "simulated time (minutes)"
        } else {
            "simulated time (s)"
        };
        for (area, (name, shards)) in areas.iter().zip(&self.streams) {
            let n = shards.len();
            let mut chart = ChartBuilder::on(area)
                .caption(
                    format!("Stream {name}: write utilisation per shard (of 1 MiB/s or 1,000 records/s)"),
                    font(14),
                )
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(t0..t1, -0.5..(n as f64 - 0.5))?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(t_desc)
                .y_desc("shard")
                .label_style(font(12))
                .axis_desc_style(font(13))
                .y_labels(n.min(16))
                .x_label_formatter(&|x| round_sig(*x))
                .y_label_formatter(&|y| {
                    let i = y.round();
                    if (y - i).abs() < 1e-6 && i >= 0.0 {
                        format!("{}", i as i64)
                    } else {
                        String::new()
                    }
                })
                .draw()?;
            for (s, v) in shards.iter().enumerate() {
                // Sample j covers (t[j-1], t[j]]; runs of one colour are one rectangle.
                let mut cells: Vec<Rectangle<(f64, f64)>> = Vec::new();
                let mut j = 1;
                while j < self.t.len() {
                    let u = step(v[j]);
                    let start = self.t[j - 1];
                    while j + 1 < self.t.len() && step(v[j + 1]) == u {
                        j += 1;
                    }
                    if u > 0.0 {
                        cells.push(Rectangle::new(
                            [(start, s as f64 - 0.5), (self.t[j], s as f64 + 0.5)],
                            shade(u).filled(),
                        ));
                    }
                    j += 1;
                }
                chart.draw_series(cells)?;
                let peak = self
                    .t
                    .iter()
                    .zip(v)
                    .filter(|(t, x)| **t > self.warmup && x.is_finite())
                    .map(|(_, x)| *x)
                    .fold(0.0, f64::max);
                tips.rect(
                    chart.backend_coord(&(t0, s as f64 - 0.5)),
                    chart.backend_coord(&(t1, s as f64 + 0.5)),
                    &format!(
                        "stream {name}, shard {s}: peak write utilisation after the warm-up {}%",
                        round_sig(peak * 100.0)
                    ),
                );
            }
            if self.warmup > t0 && self.warmup < t1 {
                chart.draw_series(DashedLineSeries::new(
                    vec![(self.warmup, -0.5), (self.warmup, n as f64 - 0.5)],
                    6,
                    4,
                    BLACK.stroke_width(1),
                ))?;
                chart.draw_series(std::iter::once(Text::new(
                    "end of warm-up".to_string(),
                    (self.warmup, n as f64 - 0.5),
                    font(11),
                )))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_from_white_to_blue_and_red_over_the_limit() {
        assert_eq!(step(0.0), 0.0);
        assert_eq!(step(0.52), 0.5);
        assert_eq!(step(1.0), 1.0);
        assert_eq!(step(1.3), 2.0);
        assert_eq!(step(f64::NAN), 0.0);
        assert_eq!(shade(0.0), RGBColor(247, 251, 255));
        assert_eq!(shade(1.0), RGBColor(8, 48, 107));
        assert_eq!(shade(2.0), RGBColor(214, 39, 40));
    }
}
