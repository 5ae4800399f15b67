//! SNS delivery policies: how often, and how long after a failed attempt, SNS retries a
//! delivery (sns-message-delivery-retries.html).
//!
//! A policy has four phases, in order, after the initial attempt:
//!
//! 1. *immediate*: retries with no delay;
//! 2. *pre-backoff*: retries `pre_delay` apart;
//! 3. *backoff*: retries whose delay grows from `min_delay` to `max_delay` along the
//!    backoff function;
//! 4. *post-backoff*: retries `post_delay` apart.
//!
//! (HTTP/S policies use `minDelayTarget` before and `maxDelayTarget` after the backoff.)
//!
//! A delivery makes at most `1 + retries()` attempts: the initial attempt and the retries
//! of the four phases. (AWS's table calls the AWS-managed policy's 3 + 2 + 10 + 100,000 =
//! 100,015 "total attempts" but also says the immediate phase "occurs immediately after
//! the initial delivery attempt"; aqueduct reads the phases as retries, as the HTTP/S
//! policy's `numRetries` is.)
//!
//! # Backoff functions
//! AWS names four (`linear`, `arithmetic`, `geometric`, `exponential`) without formulas.
//! With `n` backoff retries, retry `i` (1 to `n`) of the phase is at fraction
//! `f = (i − 1)/(n − 1)` (`f = 1` when `n = 1`) and waits `min + (max − min)·g(f)`:
//! `linear` g = f; `arithmetic` g = f² (the step grows by a constant amount);
//! `geometric` g = 1 − (1 − f)² (large steps first); `exponential` waits
//! `min·(max/min)^f` instead (a constant ratio), which is how the AWS-managed (1 s → 20 s)
//! and customer-managed (10 s → 600 s) policies' "exponential backoff" is read. These
//! shapes are aqueduct's assumption.
//!
//! # Jitter
//! Each delay is multiplied by a uniform factor in `[1 − jitter, 1 + jitter]`.

use crate::sim::{SimDuration, SimRng};
use rand::Rng;

/// How a backoff phase grows its delay from the minimum to the maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backoff {
    /// Equal steps.
    Linear,
    /// Steps growing by a constant amount (quadratic).
    Arithmetic,
    /// Large steps first, then smaller.
    Geometric,
    /// A constant ratio between successive delays.
    Exponential,
}

/// A delivery policy (retries of the four phases and their delays).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeliveryPolicy {
    /// Retries with no delay.
    pub immediate: u32,
    /// Retries `pre_delay` apart before the backoff.
    pub pre_backoff: u32,
    /// Retries of the backoff phase.
    pub backoff: u32,
    /// Retries `post_delay` apart after the backoff.
    pub post_backoff: u32,
    /// Delay between pre-backoff retries.
    pub pre_delay: SimDuration,
    /// First delay of the backoff phase.
    pub min_delay: SimDuration,
    /// Last delay of the backoff phase.
    pub max_delay: SimDuration,
    /// Delay between post-backoff retries.
    pub post_delay: SimDuration,
    /// Growth of the backoff phase.
    pub function: Backoff,
}

impl DeliveryPolicy {
    /// Retries in all (attempts = 1 + this).
    pub(crate) fn retries(&self) -> u64 {
        self.immediate as u64
            + self.pre_backoff as u64
            + self.backoff as u64
            + self.post_backoff as u64
    }

    /// The nominal wait (before jitter) between attempt `attempt` (1 = the initial one) and
    /// the next, or `None` when `attempt` was the last.
    pub fn delay_after(&self, attempt: u64) -> Option<SimDuration> {
        if attempt == 0 {
            return Some(SimDuration::ZERO);
        }
        let r = attempt; // the retry this delay leads to (1-based)
        let imm = self.immediate as u64;
        let pre = imm + self.pre_backoff as u64;
        let back = pre + self.backoff as u64;
        let post = back + self.post_backoff as u64;
        if r <= imm {
            Some(SimDuration::ZERO)
        } else if r <= pre {
            Some(self.pre_delay)
        } else if r <= back {
            Some(self.backoff_delay(r - pre))
        } else if r <= post {
            Some(self.post_delay)
        } else {
            None
        }
    }

    /// Delay of backoff retry `i` (1-based) of the phase.
    fn backoff_delay(&self, i: u64) -> SimDuration {
        let n = self.backoff as u64;
        let f = if n <= 1 {
            1.0
        } else {
            (i - 1) as f64 / (n - 1) as f64
        };
        let lo = self.min_delay.as_secs_f64();
        let hi = self.max_delay.as_secs_f64();
        let s = match self.function {
            Backoff::Linear => lo + (hi - lo) * f,
            Backoff::Arithmetic => lo + (hi - lo) * f * f,
            Backoff::Geometric => lo + (hi - lo) * (1.0 - (1.0 - f) * (1.0 - f)),
            Backoff::Exponential => {
                if lo > 0.0 {
                    lo * (hi / lo).powf(f)
                } else {
                    hi * f
                }
            }
        };
        SimDuration::from_secs_f64(s)
    }

    /// The whole retry schedule's nominal length (the sum of every delay).
    pub(crate) fn total_time(&self) -> SimDuration {
        let mut total = SimDuration::from_secs_f64(0.0);
        total = total + self.pre_delay.saturating_mul(self.pre_backoff as u64);
        for i in 1..=self.backoff as u64 {
            total = total + self.backoff_delay(i);
        }
        total + self.post_delay.saturating_mul(self.post_backoff as u64)
    }

    /// The wait after attempt `attempt` with jitter applied, or `None` after the last.
    pub(crate) fn jittered_delay_after(
        &self,
        attempt: u64,
        jitter: f64,
        rng: &mut SimRng,
    ) -> Option<SimDuration> {
        let d = self.delay_after(attempt)?;
        if d.is_zero() || jitter <= 0.0 {
            return Some(d);
        }
        let u: f64 = rng.random();
        Some(SimDuration::from_secs_f64(
            d.as_secs_f64() * (1.0 + jitter * (2.0 * u - 1.0)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::sns::limits::SnsLimits;
    use crate::services::sns::Protocol;

    fn secs(d: Option<SimDuration>) -> f64 {
        d.map(|d| d.as_secs_f64()).unwrap_or(f64::NAN)
    }

    #[test]
    fn aws_managed_policy_phases() {
        // AWS: 3 immediate, 2 at 1 s, 10 from 1 s to 20 s, 100,000 at 20 s.
        let p = Protocol::Sqs.default_policy(&SnsLimits::default());
        assert_eq!(p.retries(), 100_015);
        for a in 1..=3 {
            assert_eq!(secs(p.delay_after(a)), 0.0, "immediate retry {a}");
        }
        assert_eq!(secs(p.delay_after(4)), 1.0);
        assert_eq!(secs(p.delay_after(5)), 1.0);
        // Backoff: 1 s · 20^((i−1)/9): 1, 1.395, … , 20.
        assert!((secs(p.delay_after(6)) - 1.0).abs() < 1e-9);
        assert!((secs(p.delay_after(7)) - 20f64.powf(1.0 / 9.0)).abs() < 1e-6);
        assert!((secs(p.delay_after(15)) - 20.0).abs() < 1e-6);
        assert_eq!(secs(p.delay_after(16)), 20.0);
        assert_eq!(secs(p.delay_after(100_015)), 20.0);
        assert!(p.delay_after(100_016).is_none());
        // Over 23 days: 2 × 1 s + Σ backoff + 100,000 × 20 s ≈ 2,000,070 s = 23.15 days.
        let days = p.total_time().as_secs_f64() / 86_400.0;
        assert!((23.0..23.3).contains(&days), "{days}");
    }

    #[test]
    fn customer_managed_policy_is_50_retries_over_about_6_hours() {
        // 0 immediate, 2 at 10 s, 10 from 10 s to 600 s, 38 at 600 s. Total time:
        // 20 + 10·(60^(10/9) − 1)/(60^(1/9) − 1) + 22,800 ≈ 20 + 1,624 + 22,800 s = 6.8 h.
        let p = Protocol::Email.default_policy(&SnsLimits::default());
        assert_eq!(p.retries(), 50);
        assert_eq!(secs(p.delay_after(1)), 10.0);
        assert_eq!(secs(p.delay_after(2)), 10.0);
        assert!((secs(p.delay_after(3)) - 10.0).abs() < 1e-9);
        assert!((secs(p.delay_after(12)) - 600.0).abs() < 1e-6);
        assert_eq!(secs(p.delay_after(50)), 600.0);
        assert!(p.delay_after(51).is_none());
        let r = 60f64.powf(1.0 / 9.0);
        let backoff = 10.0 * (r.powi(10) - 1.0) / (r - 1.0);
        let want = 20.0 + backoff + 38.0 * 600.0;
        assert!((p.total_time().as_secs_f64() - want).abs() < 1e-3);
        assert!((6.0..7.0).contains(&(want / 3600.0)));
    }

    #[test]
    fn http_default_is_three_retries_twenty_seconds_apart() {
        let p = Protocol::Http.default_policy(&SnsLimits::default());
        assert_eq!(p.retries(), 3);
        for a in 1..=3 {
            assert_eq!(secs(p.delay_after(a)), 20.0);
        }
        assert!(p.delay_after(4).is_none());
        assert_eq!(p.total_time().as_secs_f64(), 60.0);
    }

    #[test]
    fn backoff_shapes_run_from_min_to_max() {
        // Five backoff retries from 10 s to 50 s: f = 0, ¼, ½, ¾, 1.
        let mk = |function| DeliveryPolicy {
            immediate: 0,
            pre_backoff: 0,
            backoff: 5,
            post_backoff: 0,
            pre_delay: SimDuration::ZERO,
            min_delay: SimDuration::from_secs(10),
            max_delay: SimDuration::from_secs(50),
            post_delay: SimDuration::ZERO,
            function,
        };
        let delays =
            |p: DeliveryPolicy| -> Vec<f64> { (1..=5).map(|a| secs(p.delay_after(a))).collect() };
        let close = |a: Vec<f64>, b: [f64; 5]| {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
            }
        };
        close(delays(mk(Backoff::Linear)), [10.0, 20.0, 30.0, 40.0, 50.0]);
        // 10 + 40·f²: 10, 12.5, 20, 32.5, 50.
        close(
            delays(mk(Backoff::Arithmetic)),
            [10.0, 12.5, 20.0, 32.5, 50.0],
        );
        // 10 + 40·(1 − (1 − f)²): 10, 27.5, 40, 47.5, 50.
        close(
            delays(mk(Backoff::Geometric)),
            [10.0, 27.5, 40.0, 47.5, 50.0],
        );
        // 10·5^f: 10, 14.95, 22.36, 33.44, 50.
        let e = delays(mk(Backoff::Exponential));
        close(
            e,
            [
                10.0,
                10.0 * 5f64.powf(0.25),
                10.0 * 5f64.sqrt(),
                10.0 * 5f64.powf(0.75),
                50.0,
            ],
        );
    }

    #[test]
    fn jitter_stays_within_its_band() {
        let p = Protocol::Http.default_policy(&SnsLimits::default());
        let mut rng = crate::sim::stream(3, "jitter");
        for _ in 0..1000 {
            let d = p
                .jittered_delay_after(1, 0.1, &mut rng)
                .map(|d| d.as_secs_f64());
            let d = d.unwrap_or(0.0);
            assert!((18.0..=22.0).contains(&d), "{d}");
        }
        assert_eq!(
            p.jittered_delay_after(1, 0.0, &mut rng),
            Some(SimDuration::from_secs(20))
        );
    }
}
