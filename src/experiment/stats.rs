//! Statistics of the replications of one grid point: mean, standard deviation, range and
//! the confidence interval of the mean.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Summary statistics of `n` replications of one metric at one grid point.
///
/// Fields that need more observations than there are (the standard deviation and the
/// confidence half-width with fewer than two, everything with none) are `NaN` and are
/// written as empty CSV cells.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// Number of observations (successful runs that reported the metric).
    pub n: usize,
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation (divisor `n − 1`).
    pub sd: f64,
    /// Smallest observation.
    pub min: f64,
    /// Largest observation.
    pub max: f64,
    /// Half-width of the confidence interval of the mean at the experiment's level.
    pub half: f64,
}

impl Stats {
    /// The statistics of `xs` with a confidence interval at level `confidence`
    /// (for example 0.95).
    ///
    /// # Formula
    /// `mean = Σx / n`, `sd = √(Σ(x − mean)² / (n − 1))` (two passes, for accuracy), and
    /// the half-width `t(1 − (1 − confidence)/2; n − 1) · sd / √n`, where `t(p; ν)` is the
    /// `p`-quantile of Student's t distribution with `ν` degrees of freedom (statrs).
    pub fn of(xs: &[f64], confidence: f64) -> Stats {
        let n = xs.len();
        if n == 0 {
            return Stats {
                n,
                mean: f64::NAN,
                sd: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
                half: f64::NAN,
            };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if n < 2 {
            return Stats {
                n,
                mean,
                sd: f64::NAN,
                min,
                max,
                half: f64::NAN,
            };
        }
        let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
        let sd = (ss / (n - 1) as f64).sqrt();
        let half = t_quantile(confidence, n - 1) * sd / (n as f64).sqrt();
        Stats {
            n,
            mean,
            sd,
            min,
            max,
            half,
        }
    }

    /// Lower bound of the confidence interval (`mean − half`).
    pub(crate) fn low(&self) -> f64 {
        self.mean - self.half
    }

    /// Upper bound of the confidence interval (`mean + half`).
    pub(crate) fn high(&self) -> f64 {
        self.mean + self.half
    }
}

/// The two-sided critical value of Student's t: the `1 − (1 − confidence)/2` quantile
/// with `dof` degrees of freedom (`NaN` for a level outside (0, 1) or no freedom).
pub(crate) fn t_quantile(confidence: f64, dof: usize) -> f64 {
    if dof == 0 || !(confidence > 0.0 && confidence < 1.0) {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, dof as f64) {
        Ok(t) => t.inverse_cdf(1.0 - (1.0 - confidence) / 2.0),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_data() {
        // xs = 2, 4, 4, 4, 5, 5, 7, 9: Σ = 40, mean = 5; Σ(x − 5)² = 9+1+1+1+0+0+4+16 = 32;
        // sd = √(32/7) = 2.13809; t(0.975; 7) = 2.364624 (tables); half = 2.364624 ·
        // 2.13809 / √8 = 1.787479.
        let s = Stats::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 0.95);
        assert_eq!(s.n, 8);
        assert_eq!(s.mean, 5.0);
        assert!((s.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!((t_quantile(0.95, 7) - 2.364_624).abs() < 1e-6);
        assert!((s.half - 1.787_479).abs() < 1e-5, "{}", s.half);
        assert_eq!((s.min, s.max), (2.0, 9.0));
    }

    #[test]
    fn degenerate_samples() {
        let one = Stats::of(&[3.0], 0.95);
        assert_eq!(one.mean, 3.0);
        assert!(one.sd.is_nan() && one.half.is_nan());
        assert!(Stats::of(&[], 0.95).mean.is_nan());
        let flat = Stats::of(&[0.0, 0.0, 0.0], 0.95);
        assert_eq!((flat.mean, flat.sd, flat.half), (0.0, 0.0, 0.0));
    }
}
