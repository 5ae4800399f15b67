//! Distributions of non-negative quantities: service times, latencies, message sizes.
//!
//! [`Dist`] works in a base unit chosen by its user (nanoseconds for [`DurationDist`],
//! bytes for [`SizeDist`]). Constructors validate their parameters and return a
//! [`DistError`] naming the problem, so a value of these types is always valid.

use crate::sim::{SimDuration, SimRng};
use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};
use std::fmt;
use std::sync::Arc;

/// The standard normal quantile at 0.99, z₀.₉₉, used to turn a (median, p99) pair into
/// lognormal parameters.
pub(crate) const Z_99: f64 = 2.326_347_874_040_841;

/// An invalid distribution parameter, with a message for the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct DistError(pub(crate) String);

/// A distribution over non-negative reals in some base unit.
#[derive(Clone, Debug)]
pub enum Dist {
    /// Always `value`.
    Constant(f64),
    /// Uniform on `[lo, hi]`.
    Uniform {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean: f64,
    },
    /// Lognormal: `exp(mu + sigma·Z)`.
    LogNormal {
        /// Mean of the underlying normal (ln of the median).
        mu: f64,
        /// Standard deviation of the underlying normal.
        sigma: f64,
    },
    /// Resampling (with replacement) of observed values, for example from a CSV file.
    Empirical(Arc<[f64]>),
}

impl Dist {
    /// A constant. `value` must be finite and >= 0.
    pub(crate) fn constant(value: f64) -> Result<Self, DistError> {
        check_nonneg("value", value)?;
        Ok(Dist::Constant(value))
    }

    /// Uniform on `[lo, hi]`; needs `0 <= lo <= hi`.
    pub(crate) fn uniform(lo: f64, hi: f64) -> Result<Self, DistError> {
        check_nonneg("min", lo)?;
        check_nonneg("max", hi)?;
        if hi < lo {
            return Err(DistError(format!(
                "uniform distribution needs min <= max, got min {lo} > max {hi}"
            )));
        }
        Ok(Dist::Uniform { lo, hi })
    }

    /// Exponential with mean `mean` (> 0).
    pub(crate) fn exponential(mean: f64) -> Result<Self, DistError> {
        check_nonneg("mean", mean)?;
        if mean == 0.0 {
            return Err(DistError(
                "exponential distribution needs a mean > 0 (use a constant of 0 instead)".into(),
            ));
        }
        Ok(Dist::Exponential { mean })
    }

    /// Lognormal given its median and 99th percentile.
    ///
    /// # Formula
    /// `mu = ln(median)`, `sigma = ln(p99 / median) / z₀.₉₉` with `z₀.₉₉ = 2.3263…`.
    pub(crate) fn lognormal_median_p99(median: f64, p99: f64) -> Result<Self, DistError> {
        check_nonneg("median", median)?;
        check_nonneg("p99", p99)?;
        if median <= 0.0 {
            return Err(DistError(
                "lognormal distribution needs a median > 0".into(),
            ));
        }
        if p99 <= median {
            return Err(DistError(format!(
                "lognormal distribution needs p99 > median, got p99 {} <= median {} (a p99 equal to the median is a constant)",
                fmt_num(p99),
                fmt_num(median)
            )));
        }
        Ok(Dist::LogNormal {
            mu: median.ln(),
            sigma: (p99 / median).ln() / Z_99,
        })
    }

    /// Resampling of `values` (at least one, all finite and >= 0).
    pub(crate) fn empirical(values: Vec<f64>) -> Result<Self, DistError> {
        if values.is_empty() {
            return Err(DistError(
                "empirical distribution needs at least one value".into(),
            ));
        }
        for v in &values {
            check_nonneg("value", *v)?;
        }
        Ok(Dist::Empirical(values.into()))
    }

    /// One draw.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut SimRng) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Uniform { lo, hi } => {
                if lo == hi {
                    *lo
                } else {
                    rng.random_range(*lo..=*hi)
                }
            }
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Empirical(values) => values[rng.random_range(0..values.len())],
        }
    }

    /// The mean.
    pub(crate) fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Uniform { lo, hi } => (lo + hi) / 2.0,
            Dist::Exponential { mean } => *mean,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Empirical(v) => v.iter().sum::<f64>() / v.len() as f64,
        }
    }

    /// `P(X > x)`, the survival function.
    ///
    /// # Formula
    /// Constant `v`: 1 if `v > x`, else 0; uniform: `(hi − x)/(hi − lo)` clamped to
    /// [0, 1]; exponential: `e^(−x/mean)`; lognormal: `½·erfc((ln x − μ)/(σ√2))`;
    /// empirical: the share of values above `x`.
    pub(crate) fn survival(&self, x: f64) -> f64 {
        match self {
            Dist::Constant(v) => f64::from(u8::from(*v > x)),
            Dist::Uniform { lo, hi } => {
                if hi <= lo {
                    f64::from(u8::from(*lo > x))
                } else {
                    ((hi - x) / (hi - lo)).clamp(0.0, 1.0)
                }
            }
            Dist::Exponential { mean } => {
                if x <= 0.0 {
                    1.0
                } else {
                    (-x / mean).exp()
                }
            }
            Dist::LogNormal { mu, sigma } => {
                if x <= 0.0 {
                    1.0
                } else {
                    0.5 * statrs::function::erf::erfc(
                        (x.ln() - mu) / (sigma * std::f64::consts::SQRT_2),
                    )
                }
            }
            Dist::Empirical(values) => {
                values.iter().filter(|v| **v > x).count() as f64 / values.len().max(1) as f64
            }
        }
    }

    /// The second raw moment `E[X²]` (used by the Pollaczek–Khinchine formula).
    pub(crate) fn second_moment(&self) -> f64 {
        match self {
            Dist::Constant(v) => v * v,
            Dist::Uniform { lo, hi } => (lo * lo + lo * hi + hi * hi) / 3.0,
            Dist::Exponential { mean } => 2.0 * mean * mean,
            Dist::LogNormal { mu, sigma } => (2.0 * mu + 2.0 * sigma * sigma).exp(),
            Dist::Empirical(v) => v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64,
        }
    }

    /// True when every draw is exactly zero.
    pub(crate) fn is_zero(&self) -> bool {
        match self {
            Dist::Constant(v) => *v == 0.0,
            Dist::Uniform { lo, hi } => *lo == 0.0 && *hi == 0.0,
            Dist::Empirical(v) => v.iter().all(|x| *x == 0.0),
            _ => false,
        }
    }
}

fn check_nonneg(name: &str, v: f64) -> Result<(), DistError> {
    if !v.is_finite() || v < 0.0 {
        return Err(DistError(format!(
            "`{name}` must be a finite value >= 0, got {v}"
        )));
    }
    Ok(())
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// A distribution of durations (base unit: nanoseconds).
#[derive(Clone, Debug)]
pub struct DurationDist(pub Dist);

impl DurationDist {
    /// Always zero.
    pub(crate) fn zero() -> Self {
        DurationDist(Dist::Constant(0.0))
    }
    /// Always `d`.
    pub(crate) fn constant(d: SimDuration) -> Self {
        DurationDist(Dist::Constant(d.0 as f64))
    }
    /// One draw, rounded to the nearest nanosecond.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut SimRng) -> SimDuration {
        match self.0 {
            Dist::Constant(v) => SimDuration(v as u64),
            // Draws are >= 0, so adding ½ and truncating rounds to nearest.
            _ => SimDuration((self.0.sample(rng) + 0.5) as u64),
        }
    }
    /// True when every draw is zero (no random number is then drawn).
    pub(crate) fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
    /// Mean in seconds.
    pub(crate) fn mean_s(&self) -> f64 {
        self.0.mean() / 1e9
    }
    /// `P(X > x_s)` with `x_s` in seconds (0 for an infinite `x_s`).
    pub(crate) fn exceeds_s(&self, x_s: f64) -> f64 {
        if x_s == f64::INFINITY {
            return 0.0;
        }
        self.0.survival(x_s * 1e9)
    }
    /// Second moment in seconds².
    pub(crate) fn second_moment_s2(&self) -> f64 {
        self.0.second_moment() / 1e18
    }
}

/// A distribution of message sizes (base unit: bytes). Draws are rounded up to whole
/// bytes and are at least 1 byte.
#[derive(Clone, Debug)]
pub struct SizeDist(pub Dist);

impl SizeDist {
    /// Always `bytes`.
    pub(crate) fn constant(bytes: u64) -> Self {
        SizeDist(Dist::Constant(bytes as f64))
    }
    /// One draw in bytes, at least 1.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut SimRng) -> u32 {
        let v = match self.0 {
            Dist::Constant(v) => v,
            _ => self.0.sample(rng),
        };
        (v.ceil().clamp(1.0, u32::MAX as f64)) as u32
    }
    /// Mean in bytes.
    pub(crate) fn mean_bytes(&self) -> f64 {
        self.0.mean().max(1.0)
    }
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dist::Constant(v) => write!(f, "constant({v})"),
            Dist::Uniform { lo, hi } => write!(f, "uniform({lo}, {hi})"),
            Dist::Exponential { mean } => write!(f, "exponential(mean {mean})"),
            Dist::LogNormal { mu, sigma } => write!(f, "lognormal(mu {mu}, sigma {sigma})"),
            Dist::Empirical(v) => write!(f, "empirical({} values)", v.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn survival_of_each_duration_distribution() {
        let d = |x: Dist| DurationDist(x);
        // Constant 2 s: above 1 s always, above 2 s never.
        let c = d(Dist::constant(2e9).unwrap());
        assert_eq!((c.exceeds_s(1.0), c.exceeds_s(2.0)), (1.0, 0.0));
        // Uniform on [1 s, 3 s]: a quarter above 2.5 s.
        let u = d(Dist::uniform(1e9, 3e9).unwrap());
        assert!((u.exceeds_s(2.5) - 0.25).abs() < 1e-12);
        // Exponential of mean 1 s: e^−2 above 2 s.
        let e = d(Dist::exponential(1e9).unwrap());
        assert!((e.exceeds_s(2.0) - (-2.0f64).exp()).abs() < 1e-12);
        // Lognormal: half above the median; median 8 s, p99 60 s: 1% above 60 s and
        // ½·erfc(ln(15/8) / (0.86612·√2)) = 0.233989 above 15 s.
        let l = d(Dist::lognormal_median_p99(8e9, 60e9).unwrap());
        assert!((l.exceeds_s(8.0) - 0.5).abs() < 1e-12);
        assert!((l.exceeds_s(60.0) - 0.01).abs() < 1e-9);
        assert!((l.exceeds_s(15.0) - 0.233_988_939).abs() < 1e-8);
        // Empirical: 2 of 4 values above 2.5 s; nothing outlasts an infinite timeout.
        let v = d(Dist::empirical(vec![1e9, 2e9, 3e9, 4e9]).unwrap());
        assert_eq!((v.exceeds_s(2.5), v.exceeds_s(f64::INFINITY)), (0.5, 0.0));
    }

    use super::*;
    use crate::sim::stream;

    #[test]
    fn lognormal_hits_its_quantiles() {
        // median 80, p99 900: sigma = ln(900/80)/2.32635 = 2.42037/2.32635 = 1.040415.
        let d = Dist::lognormal_median_p99(80.0, 900.0).unwrap();
        let Dist::LogNormal { mu, sigma } = d else {
            unreachable!()
        };
        assert!((mu - 80f64.ln()).abs() < 1e-12);
        assert!((sigma - 1.040_415).abs() < 1e-5, "sigma {sigma}");
        let mut rng = stream(1, "t");
        let mut xs: Vec<f64> = (0..200_000).map(|_| d.sample(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        let med = xs[100_000];
        let p99 = xs[198_000];
        // Sample quantiles of 200k draws: the binomial standard error of the p99 rank is
        // sqrt(200k·0.01·0.99) = 44 ranks, well within the 2% band checked here.
        assert!((med / 80.0 - 1.0).abs() < 0.02, "median {med}");
        assert!((p99 / 900.0 - 1.0).abs() < 0.05, "p99 {p99}");
    }

    #[test]
    fn constructors_reject_bad_parameters() {
        assert!(Dist::lognormal_median_p99(100.0, 50.0)
            .unwrap_err()
            .0
            .contains("p99 > median"));
        assert!(Dist::uniform(5.0, 1.0).is_err());
        assert!(Dist::exponential(-1.0).is_err());
        assert!(Dist::exponential(0.0).is_err());
        assert!(Dist::constant(f64::NAN).is_err());
        assert!(Dist::empirical(vec![]).is_err());
    }

    #[test]
    fn moments() {
        let e = Dist::exponential(2.0).unwrap();
        assert_eq!(e.mean(), 2.0);
        assert_eq!(e.second_moment(), 8.0);
        let u = Dist::uniform(0.0, 3.0).unwrap();
        assert_eq!(u.second_moment(), 3.0);
    }

    #[test]
    fn sizes_are_at_least_one_byte() {
        let mut rng = stream(1, "t");
        let s = SizeDist(Dist::uniform(0.0, 0.5).unwrap());
        for _ in 0..100 {
            assert_eq!(s.sample(&mut rng), 1);
        }
    }
}
