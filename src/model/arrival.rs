//! A producer's `load`: from its raw table to an [`Arrival`] process, every rate finite,
//! non-negative and within the simulator's time resolution.

use super::raw::{RawLoad, RawStep};
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::input::units::Dur;
use crate::load::arrival::diurnal_shape;
use crate::load::{Arrival, Segment, Trace};
use crate::sim::SimDuration;
use std::path::Path;

/// The highest rate a load may have: one message per nanosecond, the kernel's time
/// resolution (faster arrivals would all fall on the same instant and time would never
/// advance).
pub(crate) const MAX_RATE_PER_S: f64 = crate::load::trace::MAX_PER_SECOND as f64;

/// Validates a load at `path`; a trace file is read relative to `base_dir`.
pub(crate) fn arrival(raw: &RawLoad, path: &FieldPath, base_dir: &Path) -> VResult<Arrival> {
    Ok(match raw {
        RawLoad::Constant { rate_per_s } => Arrival::Constant {
            rate_per_s: positive_rate(&path.field("rate_per_s"), *rate_per_s)?,
        },
        RawLoad::Poisson { rate_per_s } => Arrival::Poisson {
            rate_per_s: positive_rate(&path.field("rate_per_s"), *rate_per_s)?,
        },
        RawLoad::Diurnal {
            mean_per_s,
            peak_to_mean,
            period,
            peak_at,
        } => diurnal(*mean_per_s, *peak_to_mean, *period, *peak_at, path)?,
        RawLoad::Bursts {
            base_per_s,
            burst_per_s,
            burst_every,
            burst_for,
            first_burst_at,
        } => bursts(
            *base_per_s,
            *burst_per_s,
            *burst_every,
            *burst_for,
            *first_burst_at,
            path,
        )?,
        RawLoad::Steps {
            steps,
            repeat_every,
        } => piecewise(steps, *repeat_every, path)?,
        RawLoad::Trace { file, repeat } => {
            let t = Trace::load(&base_dir.join(file), *repeat)
                .map_err(|e| Invalid::at(&path.field("file"), e.to_string()))?;
            if t.is_empty() {
                return Err(Invalid::at(
                    &path.field("file"),
                    format!("trace {} sends no messages", t.path),
                ));
            }
            Arrival::Trace(t.into())
        }
    })
}

/// A sinusoidal load: its mean rate, a peak of 1 to 50 times the mean, a period above
/// zero (default a day) and the time of the peak (default half the period).
fn diurnal(
    mean_per_s: f64,
    peak_to_mean: f64,
    period: Option<Dur>,
    peak_at: Option<Dur>,
    path: &FieldPath,
) -> VResult<Arrival> {
    let mean = positive_rate(&path.field("mean_per_s"), mean_per_s)?;
    if !(peak_to_mean.is_finite() && peak_to_mean >= 1.0) {
        return Err(Invalid::at(
            &path.field("peak_to_mean"),
            format!("peak_to_mean {peak_to_mean} must be >= 1 (the peak is at least the mean)"),
        ));
    }
    if peak_to_mean > 50.0 {
        return Err(Invalid::at(
            &path.field("peak_to_mean"),
            format!(
                "peak_to_mean {peak_to_mean} is above 50: use `bursts` or `steps` for such spikes"
            ),
        ));
    }
    let period = period
        .map(|d| d.0)
        .unwrap_or(SimDuration::from_secs(86_400));
    if period.is_zero() {
        return Err(Invalid::at(
            &path.field("period"),
            "period must be longer than 0s",
        ));
    }
    let peak_at = peak_at.map(|d| d.0).unwrap_or(SimDuration(period.0 / 2));
    rate_within_resolution(&path.field("peak_to_mean"), mean * peak_to_mean)?;
    let (b, a) = diurnal_shape(mean, peak_to_mean);
    Ok(Arrival::Diurnal {
        mean_per_s: mean,
        peak_per_s: mean * peak_to_mean,
        offset_per_s: b,
        amplitude_per_s: a,
        period_ns: period.0,
        peak_at_ns: peak_at.0 % period.0,
    })
}

/// Bursts on a base rate: bursts of `burst_for` (above zero, shorter than `burst_every`)
/// at the first burst's time + k · `burst_every`, the base rate between and before.
fn bursts(
    base_per_s: f64,
    burst_per_s: f64,
    burst_every: Dur,
    burst_for: Dur,
    first_burst_at: Option<Dur>,
    path: &FieldPath,
) -> VResult<Arrival> {
    if !(base_per_s.is_finite() && base_per_s >= 0.0) {
        return Err(Invalid::at(
            &path.field("base_per_s"),
            format!("rate {base_per_s} must be >= 0"),
        ));
    }
    rate_within_resolution(&path.field("base_per_s"), base_per_s)?;
    positive_rate(&path.field("burst_per_s"), burst_per_s)?;
    let every = burst_every.0;
    let len = burst_for.0;
    if len.is_zero() || len >= every {
        return Err(Invalid::at(
            &path.field("burst_for"),
            format!(
                "burst_for {} must be longer than 0s and shorter than burst_every {}",
                len, every
            ),
        ));
    }
    // Bursts at first + k·every (k >= 0), the base rate before the first.
    let first = first_burst_at.map(|d| d.0).unwrap_or(every);
    let segs = vec![
        Segment {
            start_ns: 0,
            rate_per_s: burst_per_s,
        },
        Segment {
            start_ns: len.0,
            rate_per_s: base_per_s,
        },
    ];
    Ok(Arrival::Piecewise {
        segments: segs.into(),
        cycle_ns: Some(every.0),
        start_ns: first.0,
        lead_rate_per_s: base_per_s,
    })
}

/// Piecewise-constant rates (`steps`): the first step at 0s, times increasing, rates at
/// least 0 and not all 0; repeated every `repeat_every` (longer than the last step's
/// start) when given.
fn piecewise(steps: &[RawStep], repeat_every: Option<Dur>, path: &FieldPath) -> VResult<Arrival> {
    if steps.is_empty() {
        return Err(Invalid::at(
            &path.field("steps"),
            "steps needs at least one { at, rate_per_s }",
        ));
    }
    let mut segs = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let spath = path.field("steps").index(i);
        if !(s.rate_per_s.is_finite() && s.rate_per_s >= 0.0) {
            return Err(Invalid::at(
                &spath.field("rate_per_s"),
                format!("rate {} must be >= 0", s.rate_per_s),
            ));
        }
        rate_within_resolution(&spath.field("rate_per_s"), s.rate_per_s)?;
        if i == 0 && !s.at.0.is_zero() {
            return Err(Invalid::at(
                &spath.field("at"),
                "the first step must start at \"0s\"",
            ));
        }
        if i > 0 && s.at.0 .0 <= segs.last().map(|x: &Segment| x.start_ns).unwrap_or(0) {
            return Err(Invalid::at(&spath.field("at"), "step times must increase"));
        }
        segs.push(Segment {
            start_ns: s.at.0 .0,
            rate_per_s: s.rate_per_s,
        });
    }
    if segs.iter().all(|s| s.rate_per_s == 0.0) {
        return Err(Invalid::at(
            &path.field("steps"),
            "every step has rate 0: the producer would send nothing",
        ));
    }
    let cycle = match repeat_every {
        None => None,
        Some(d) => {
            if d.0 .0 <= segs.last().map(|s| s.start_ns).unwrap_or(0) {
                return Err(Invalid::at(
                    &path.field("repeat_every"),
                    "repeat_every must be longer than the last step's start",
                ));
            }
            Some(d.0 .0)
        }
    };
    Ok(Arrival::Piecewise {
        segments: segs.into(),
        cycle_ns: cycle,
        start_ns: 0,
        lead_rate_per_s: 0.0,
    })
}

/// A rate above 0 (messages per second) and within [`MAX_RATE_PER_S`].
pub(crate) fn positive_rate(path: &FieldPath, v: f64) -> VResult<f64> {
    if !v.is_finite() || v <= 0.0 {
        return Err(Invalid::at(
            path,
            format!("rate {v} must be a number > 0 (messages per second)"),
        ));
    }
    rate_within_resolution(path, v)
}

/// Refuses a rate above [`MAX_RATE_PER_S`].
fn rate_within_resolution(path: &FieldPath, v: f64) -> VResult<f64> {
    if v > MAX_RATE_PER_S {
        return Err(Invalid::at(
            path,
            format!("rate {v} per second is above {MAX_RATE_PER_S:e}: the simulator's clock counts nanoseconds, so it cannot place more than one message per nanosecond"),
        ));
    }
    Ok(v)
}
