//! Latency histograms.

use crate::sim::SimDuration;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Largest value the histogram resolves, µs (2⁴⁴ µs ≈ 203 days); larger values are
/// recorded as this.
const MAX_TRACKABLE_US: u64 = 1 << 44;

/// A latency histogram: HDR buckets in microseconds with three significant digits (so every
/// percentile is within 0.1% of the exact value), plus an exact count, sum and maximum in
/// nanoseconds (so the mean and max are exact).
#[derive(Clone)]
pub(crate) struct LatencyHist {
    hist: Histogram<u64>,
    count: u64,
    sum_ns: u128,
    min_ns: u64,
    max_ns: u64,
}

impl std::fmt::Debug for LatencyHist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LatencyHist(n={}, mean={}s)", self.count, self.mean_s())
    }
}

impl Default for LatencyHist {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHist {
    /// An empty histogram.
    pub(crate) fn new() -> Self {
        LatencyHist {
            // Auto-resizing from a small range: the buckets are those of a histogram
            // bounded at MAX_TRACKABLE_US (the bucket layout depends only on the lowest
            // value and the precision), but the counts grow only as far as the largest
            // value recorded. Allocated at full range, each histogram took 290 KB, so
            // every idle queue cost that much.
            hist: {
                let mut h =
                    Histogram::new_with_bounds(1, 2, 3).expect("static histogram bounds are valid");
                h.auto(true);
                h
            },
            count: 0,
            sum_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }

    /// Records one observation.
    #[inline]
    pub(crate) fn record(&mut self, d: SimDuration) {
        let ns = d.as_nanos();
        self.count += 1;
        self.sum_ns += ns as u128;
        if ns > self.max_ns {
            self.max_ns = ns;
        }
        if ns < self.min_ns {
            self.min_ns = ns;
        }
        // Round to the nearest microsecond.
        self.put(((ns + 500) / 1000).min(MAX_TRACKABLE_US), 1);
    }

    /// Records `n` observations of the same value (a run of records).
    #[inline]
    pub(crate) fn record_n(&mut self, d: SimDuration, n: u64) {
        if n == 0 {
            return;
        }
        let ns = d.as_nanos();
        self.count += n;
        self.sum_ns += ns as u128 * n as u128;
        if ns > self.max_ns {
            self.max_ns = ns;
        }
        if ns < self.min_ns {
            self.min_ns = ns;
        }
        self.put(((ns + 500) / 1000).min(MAX_TRACKABLE_US), n);
    }

    /// Counts `n` observations of `us` in the buckets, growing them to reach `us` (only a
    /// failed allocation could stop that; the value is then clamped to the buckets).
    #[inline]
    fn put(&mut self, us: u64, n: u64) {
        if self.hist.record_n(us, n).is_err() {
            self.hist.saturating_record_n(us, n);
        }
    }

    /// Adds every observation of `other`.
    pub(crate) fn add(&mut self, other: &LatencyHist) {
        if other.count == 0 {
            return;
        }
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
        // Same bounds on both sides: adding cannot fail.
        let _ = self.hist.add(&other.hist);
    }

    /// Number of observations.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Forgets every observation (the tests reuse a histogram; a run never does).
    #[cfg(test)]
    pub(crate) fn clear(&mut self) {
        self.hist.reset();
        self.count = 0;
        self.sum_ns = 0;
        self.min_ns = u64::MAX;
        self.max_ns = 0;
    }

    /// Exact mean in seconds (0 when empty).
    pub(crate) fn mean_s(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ns as f64 / self.count as f64 / 1e9
        }
    }

    /// The `q`-quantile (0 ≤ q ≤ 1) in seconds (0 when empty).
    pub(crate) fn quantile_s(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.hist.value_at_quantile(q) as f64 / 1e6
    }

    /// The distribution as `(seconds, fraction of the observations at or below)` points,
    /// from the histogram's buckets: a point wherever the fraction grew by 0.5% or the
    /// value by 25% since the last point, and the last bucket (so at most a few hundred
    /// points); empty when empty. For the charts of a run's report.
    pub(crate) fn cdf(&self) -> Vec<(f64, f64)> {
        let total = self.hist.len();
        if total == 0 {
            return Vec::new();
        }
        let mut out: Vec<(f64, f64)> = Vec::new();
        let mut seen = 0u64;
        let mut pending = None;
        for it in self.hist.iter_recorded() {
            seen += it.count_since_last_iteration();
            let v = it.value_iterated_to() as f64 / 1e6;
            let f = seen as f64 / total as f64;
            match out.last() {
                Some((lv, lf)) if f - lf < 0.005 && v < lv * 1.25 => pending = Some((v, f)),
                _ => {
                    out.push((v, f));
                    pending = None;
                }
            }
        }
        out.extend(pending);
        out
    }

    /// The summary written to reports.
    pub(crate) fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.count,
            min: if self.count == 0 {
                0.0
            } else {
                self.min_ns as f64 / 1e9
            },
            mean: self.mean_s(),
            p50: self.quantile_s(0.50),
            p90: self.quantile_s(0.90),
            p99: self.quantile_s(0.99),
            p999: self.quantile_s(0.999),
            max: self.max_ns as f64 / 1e9,
        }
    }
}

/// Latency statistics in seconds, as written to the JSON summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct LatencySummary {
    /// Number of observations.
    pub(crate) count: u64,
    /// Exact minimum, s.
    pub(crate) min: f64,
    /// Exact mean, s.
    pub(crate) mean: f64,
    /// Median, s.
    pub(crate) p50: f64,
    /// 90th percentile, s.
    pub(crate) p90: f64,
    /// 99th percentile, s.
    pub(crate) p99: f64,
    /// 99.9th percentile, s.
    pub(crate) p999: f64,
    /// Exact maximum, s.
    pub(crate) max: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cdf_rises_to_one_through_the_quantiles() {
        let mut h = LatencyHist::new();
        assert!(h.cdf().is_empty());
        // 1 ms … 10 s, one observation each millisecond: F(x) = x / 10 s.
        for i in 1..=10_000u64 {
            h.record(SimDuration::from_millis(i));
        }
        let cdf = h.cdf();
        assert!(cdf.len() > 50 && cdf.len() < 1000, "{}", cdf.len());
        assert!(cdf.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        let last = cdf.last().unwrap();
        assert_eq!(last.1, 1.0);
        assert!((last.0 - 10.0).abs() < 0.01, "{last:?}");
        for (v, f) in &cdf {
            assert!((f - v / 10.0).abs() < 0.006, "F({v}) = {f}");
        }
    }

    #[test]
    fn mean_and_max_are_exact_quantiles_close() {
        let mut h = LatencyHist::new();
        for i in 1..=1000u64 {
            h.record(SimDuration::from_millis(i));
        }
        let s = h.summary();
        assert_eq!(s.count, 1000);
        assert!((s.mean - 0.5005).abs() < 1e-12);
        assert_eq!(s.max, 1.0);
        assert!((s.p50 - 0.5).abs() <= 0.5 * 0.001 + 1e-6, "p50 {}", s.p50);
        assert!((s.p99 - 0.99).abs() <= 0.99 * 0.001 + 1e-6, "p99 {}", s.p99);
        h.clear();
        assert_eq!(h.summary().count, 0);
    }

    #[test]
    fn record_n_keeps_the_minimum_and_maximum() {
        // Issue 21: record_n never lowered the minimum, which stayed at u64::MAX ns
        // (18,446,744,073.7 s) for every histogram fed only by runs of records.
        let mut h = LatencyHist::new();
        h.record_n(SimDuration::from_millis(30), 5);
        h.record_n(SimDuration::from_millis(10), 2);
        h.record_n(SimDuration::from_millis(20), 0);
        let s = h.summary();
        assert_eq!(s.count, 7);
        assert_eq!(s.min, 0.010);
        assert_eq!(s.max, 0.030);
    }
}

/// The latencies of one sample interval, for the time series: a coarse histogram of 4
/// buckets per power of two of nanoseconds (each bucket about 19% wide), emptied at
/// every sample. Cheap enough to record every message: a few bit operations and an
/// increment, and 2 KiB per component.
#[derive(Clone)]
pub(crate) struct IntervalLatency {
    buckets: Box<[u64; IntervalLatency::BUCKETS]>,
    count: u64,
}

impl Default for IntervalLatency {
    fn default() -> Self {
        IntervalLatency {
            buckets: Box::new([0; IntervalLatency::BUCKETS]),
            count: 0,
        }
    }
}

impl IntervalLatency {
    /// Four sub-buckets for each of the 64 powers of two.
    const BUCKETS: usize = 256;

    /// The bucket of `ns`: 4 × the position of its highest bit + its next two bits.
    #[inline]
    fn bucket(ns: u64) -> usize {
        if ns < 4 {
            return ns as usize;
        }
        let hi = 63 - ns.leading_zeros() as usize;
        4 * hi + ((ns >> (hi - 2)) & 3) as usize
    }

    /// The middle of bucket `b`, in seconds.
    fn middle_s(b: usize) -> f64 {
        if b < 8 {
            return b as f64 * 1e-9;
        }
        let (hi, sub) = (b / 4, b % 4);
        let lo = (4 + sub) as f64 * 2f64.powi(hi as i32 - 2);
        lo * (1.0 + 0.125) * 1e-9
    }

    /// Records one observation.
    #[inline]
    pub(crate) fn record(&mut self, d: SimDuration) {
        self.buckets[Self::bucket(d.as_nanos())] += 1;
        self.count += 1;
    }

    /// The `q` quantile (0 to 1) of the interval's observations, in seconds (the middle of
    /// its bucket, within about 10%), or NaN when there were none; then empties it.
    pub(crate) fn take_quantile_s(&mut self, q: f64) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        let mut at = 0;
        for (b, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                at = b;
                break;
            }
        }
        self.buckets.fill(0);
        self.count = 0;
        Self::middle_s(at)
    }
}

#[cfg(test)]
mod interval_tests {
    use super::*;

    #[test]
    fn an_intervals_quantile_is_within_its_bucket_and_it_empties() {
        let mut l = IntervalLatency::default();
        // 1 ms … 1000 ms: p99 is 990 ms, p50 500 ms.
        for ms in 1..=1000u64 {
            l.record(SimDuration(ms * 1_000_000));
        }
        let mut again = l.clone();
        let p99 = l.take_quantile_s(0.99);
        assert!((p99 / 0.990 - 1.0).abs() < 0.12, "{p99}");
        let p50 = again.take_quantile_s(0.5);
        assert!((p50 / 0.5 - 1.0).abs() < 0.12, "{p50}");
        assert!(l.take_quantile_s(0.99).is_nan());
        // Every bucket holds the values whose middle it reports, to 12%.
        for ns in [5u64, 17, 1_000, 123_456, 9_876_543_210, u64::MAX / 3] {
            let m = IntervalLatency::middle_s(IntervalLatency::bucket(ns)) * 1e9;
            assert!((m / ns as f64 - 1.0).abs() < 0.13, "{ns}: {m}");
        }
    }
}
