//! The value of data and the time to insight.
//!
//! A producer's data loses value with age ([`ValueFn`]); every place where a record's
//! processing ends (an *end point*: a worker pool, a Lambda function, a Kinesis stream
//! consumer, a Firehose destination, a batch job) records, per record, its time to
//! insight (creation → result available) and its value at that moment (`Insight`).
//!
//! Records held as runs (Kinesis, Firehose, batch jobs) end many at once, with creation
//! times spread evenly over an interval: `Insight::record_span` takes the run whole. Its
//! value is the exact mean over the evenly spaced ages (closed forms below, no loop over
//! records), and its ages enter the histogram at up to `SPAN_POINTS` evenly spaced
//! points, so a run spanning an hour shows its spread in the percentiles.

use crate::metrics::latency::{LatencyHist, LatencySummary};
use crate::sim::SimDuration;

/// Points at which a run of records enters the time-to-insight histogram.
pub(crate) const SPAN_POINTS: u64 = 16;

/// How a record's value falls with its age (1 when created).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueFn {
    /// `{ half_life = "10m" }`: value 2^(−age / half_life) (exponential decay).
    HalfLife {
        /// Half-life, s (> 0).
        s: f64,
    },
    /// `{ linear_to_zero = "1h" }`: value max(0, 1 − age / horizon).
    LinearToZero {
        /// Age at which the value reaches zero, s (> 0).
        s: f64,
    },
    /// `{ deadline = "5s" }`: value 1 up to the deadline (inclusive), 0 after.
    Deadline {
        /// Deadline, s (≥ 0).
        s: f64,
    },
}

impl ValueFn {
    /// The value of a record of age `age_s` seconds.
    #[inline]
    pub fn at(&self, age_s: f64) -> f64 {
        match *self {
            ValueFn::HalfLife { s } => (-std::f64::consts::LN_2 * age_s / s).exp(),
            ValueFn::LinearToZero { s } => (1.0 - age_s / s).max(0.0),
            ValueFn::Deadline { s } => {
                if age_s <= s {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// Σ of the values of `n` records whose ages are evenly spaced from `a` to `b`
    /// seconds (`a` and `b` in either order; one record has age `a`). Exact, in
    /// constant time.
    pub fn sum_over_span(&self, a: f64, b: f64, n: u64) -> f64 {
        if n == 0 {
            return 0.0;
        }
        if n == 1 || a == b {
            return n as f64 * self.at(a);
        }
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let nf = n as f64;
        let step = (hi - lo) / (nf - 1.0);
        match *self {
            ValueFn::HalfLife { s } => {
                // Σ_{i<n} e^{−k(lo + i·step)} = e^{−k·lo} (1 − r^n)/(1 − r), r = e^{−k·step}.
                let k = std::f64::consts::LN_2 / s;
                let x = -k * step;
                (-k * lo).exp() * (x * nf).exp_m1() / x.exp_m1()
            }
            ValueFn::LinearToZero { s } => {
                // Records with age < s count 1 − age/s: the first m of them.
                let m = count_below(lo, step, n, s, false);
                let mf = m as f64;
                let ages = mf * lo + step * mf * (mf - 1.0) / 2.0;
                (mf - ages / s).max(0.0)
            }
            ValueFn::Deadline { s } => count_below(lo, step, n, s, true) as f64,
        }
    }
}

/// How many of `lo + i·step` (i < n, step > 0) are below `x` (or at most `x` when
/// `inclusive`).
fn count_below(lo: f64, step: f64, n: u64, x: f64, inclusive: bool) -> u64 {
    if lo > x || (!inclusive && lo == x) {
        return 0;
    }
    let r = (x - lo) / step;
    // i ≤ r (inclusive) or i < r.
    let k = if inclusive { r.floor() + 1.0 } else { r.ceil() };
    let mut k = k.clamp(0.0, n as f64) as u64;
    // Guard the float rounding at the boundary.
    while k > 0 && {
        let age = lo + (k - 1) as f64 * step;
        age > x || (!inclusive && age >= x)
    } {
        k -= 1;
    }
    while k < n && {
        let age = lo + k as f64 * step;
        age < x || (inclusive && age <= x)
    } {
        k += 1;
    }
    k
}

/// What one end point delivered: its records' time to insight and value.
#[derive(Clone, Debug, Default)]
pub(crate) struct Insight {
    /// Time to insight of every record (creation → result).
    pub(crate) time: LatencyHist,
    /// Σ value of the records with a value function.
    pub(crate) value_sum: f64,
    /// Records with a value function.
    pub(crate) valued: u64,
}

impl Insight {
    /// One record of age `age` ended here; `value` is its producer's value function.
    #[inline]
    pub(crate) fn record(&mut self, age: SimDuration, value: Option<ValueFn>) {
        self.time.record(age);
        if let Some(v) = value {
            self.value_sum += v.at(age.as_secs_f64());
            self.valued += 1;
        }
    }

    /// `n` records ended here, with ages evenly spaced from `oldest` to `youngest`.
    pub(crate) fn record_span(
        &mut self,
        oldest: SimDuration,
        youngest: SimDuration,
        n: u64,
        value: Option<ValueFn>,
    ) {
        if n == 0 {
            return;
        }
        if n == 1 || oldest == youngest {
            self.time.record_n(oldest, n);
        } else {
            // Up to SPAN_POINTS groups of (nearly) equal size, each at its middle age.
            let groups = n.min(SPAN_POINTS);
            let (a, b) = (oldest.0 as f64, youngest.0 as f64);
            let step = (b - a) / (n - 1) as f64;
            let mut start = 0u64;
            for g in 0..groups {
                let end = n * (g + 1) / groups;
                let mid = (start + end - 1) as f64 / 2.0;
                self.time
                    .record_n(SimDuration((a + step * mid).round() as u64), end - start);
                start = end;
            }
        }
        if let Some(v) = value {
            self.value_sum += v.sum_over_span(oldest.as_secs_f64(), youngest.as_secs_f64(), n);
            self.valued += n;
        }
    }

    /// Records that ended here.
    pub(crate) fn records(&self) -> u64 {
        self.time.count()
    }

    /// Mean value of the records with a value function (None without one).
    pub(crate) fn value_delivered(&self) -> Option<f64> {
        (self.valued > 0).then(|| self.value_sum / self.valued as f64)
    }

    /// The time-to-insight summary.
    pub(crate) fn summary(&self) -> LatencySummary {
        self.time.summary()
    }

    /// Adds `other` to this one.
    pub(crate) fn merge(&mut self, other: &Insight) {
        self.time.add(&other.time);
        self.value_sum += other.value_sum;
        self.valued += other.valued;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(v: ValueFn, a: f64, b: f64, n: u64) -> f64 {
        if n == 1 {
            return v.at(a);
        }
        (0..n)
            .map(|i| v.at(a + (b - a) * i as f64 / (n - 1) as f64))
            .sum()
    }

    #[test]
    fn spans_match_the_sum_over_records() {
        let fns = [
            ValueFn::HalfLife { s: 7.0 },
            ValueFn::LinearToZero { s: 30.0 },
            ValueFn::Deadline { s: 12.0 },
        ];
        let spans = [
            (0.0, 60.0, 61),
            (60.0, 0.0, 61),
            (3.0, 3.0, 5),
            (0.0, 11.5, 24),
            (10.0, 40.0, 7),
            (40.0, 100.0, 9),
            (5.0, 6.0, 1),
            (0.0, 24.0, 3),
            (0.0, 30.0, 31),
        ];
        for v in fns {
            for (a, b, n) in spans {
                let exact = brute(v, a, b, n);
                let fast = v.sum_over_span(a, b, n);
                assert!(
                    (exact - fast).abs() < 1e-9 * n as f64,
                    "{v:?} over {a}..{b} × {n}: {fast} ≠ {exact}"
                );
            }
        }
    }

    #[test]
    fn value_functions_have_their_shapes() {
        let h = ValueFn::HalfLife { s: 10.0 };
        assert!((h.at(10.0) - 0.5).abs() < 1e-12);
        assert!((h.at(20.0) - 0.25).abs() < 1e-12);
        let l = ValueFn::LinearToZero { s: 10.0 };
        assert_eq!(l.at(5.0), 0.5);
        assert_eq!(l.at(15.0), 0.0);
        let d = ValueFn::Deadline { s: 5.0 };
        assert_eq!(d.at(5.0), 1.0);
        assert_eq!(d.at(5.000001), 0.0);
    }

    #[test]
    fn a_span_spreads_over_the_histogram() {
        let mut i = Insight::default();
        i.record_span(
            SimDuration::from_secs(100),
            SimDuration::ZERO,
            1001,
            Some(ValueFn::Deadline { s: 50.0 }),
        );
        let s = i.summary();
        assert_eq!(s.count, 1001);
        assert!((s.mean - 50.0).abs() < 0.01, "mean {}", s.mean);
        assert!(s.p99 > 90.0 && s.p50 > 40.0 && s.p50 < 60.0, "{s:?}");
        // Ages 0, 0.1, …, 50: 501 records within the deadline.
        assert!((i.value_delivered().unwrap() - 501.0 / 1001.0).abs() < 1e-12);
    }
}
