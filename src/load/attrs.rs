//! Message attributes and payload (body) fields, derived from a message's id instead of
//! stored with it.
//!
//! A producer declares attributes (`attributes = { type = { order = 0.7, refund = 0.3 } }`)
//! and body fields (`body = { amount = { dist = "uniform", min = 0, max = 500 } }`). A
//! message holds neither: its value of attribute `a` is a pure function of the producer's
//! seed for that scope and the message's logical id (`crate::message::Message::id`,
//! shared by fan-out copies and resends), so every subscription, every copy and every
//! retry sees the same value, and a message costs no memory for it.
//!
//! # Formula
//! `h₁ = splitmix64(seed ⊕ id ⊕ fnv1a64(name))`, `h₂ = splitmix64(h₁)`; with
//! `u(h) = (⌊h / 2¹¹⌋ + ½) / 2⁵³ ∈ (0, 1)`, the attribute is absent when
//! `u(h₁) ≥ present`, else its value is the inverse CDF of its distribution at `u(h₂)`
//! (categorical: the first value whose cumulative weight exceeds `u`). `seed` is the run's
//! stream seed for `"attributes:PRODUCER"` or `"body:PRODUCER"`, so values change with the
//! run's seed and not with other components.

use crate::sim::rng::{fnv1a64, splitmix64};

/// How an attribute's values are distributed.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrDist {
    /// String values, value `i` with probability `cumulative[i] − cumulative[i − 1]`.
    Categorical {
        /// The values.
        values: Vec<String>,
        /// Cumulative probabilities (the last is 1).
        cumulative: Vec<f64>,
    },
    /// Numbers.
    Numeric(NumericDist),
}

/// A distribution of numeric attribute values (any sign).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NumericDist {
    /// Always `value`.
    Constant(f64),
    /// Uniform on `[min, max)`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Uniform over the integers `min..=max`.
    Integer {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
    },
    /// Normal.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (> 0).
        sd: f64,
    },
    /// Exponential with the given mean (> 0).
    Exponential {
        /// Mean.
        mean: f64,
    },
    /// Lognormal: `exp(mu + sigma·Z)`.
    LogNormal {
        /// ln of the median.
        mu: f64,
        /// Standard deviation of the underlying normal.
        sigma: f64,
    },
}

impl NumericDist {
    /// The value at quantile `u` ∈ (0, 1).
    pub(crate) fn quantile(&self, u: f64) -> f64 {
        match *self {
            NumericDist::Constant(v) => v,
            NumericDist::Uniform { min, max } => min + (max - min) * u,
            NumericDist::Integer { min, max } => {
                let n = (max - min + 1) as f64;
                (min + ((u * n).floor() as i64).min(max - min)) as f64
            }
            NumericDist::Normal { mean, sd } => mean + sd * std_normal_quantile(u),
            NumericDist::Exponential { mean } => -mean * (1.0 - u).ln(),
            NumericDist::LogNormal { mu, sigma } => (mu + sigma * std_normal_quantile(u)).exp(),
        }
    }

    /// The probability that a value is at most `x` (for tests and estimates).
    pub(crate) fn cdf(&self, x: f64) -> f64 {
        use statrs::distribution::{ContinuousCDF, Normal};
        let phi = |z: f64| Normal::new(0.0, 1.0).map(|n| n.cdf(z)).unwrap_or(0.5);
        match *self {
            NumericDist::Constant(v) => f64::from(u8::from(x >= v)),
            NumericDist::Uniform { min, max } => {
                if max <= min {
                    f64::from(u8::from(x >= min))
                } else {
                    ((x - min) / (max - min)).clamp(0.0, 1.0)
                }
            }
            NumericDist::Integer { min, max } => {
                let k = x.floor() as i64;
                ((k.clamp(min - 1, max) - min + 1) as f64) / ((max - min + 1) as f64)
            }
            NumericDist::Normal { mean, sd } => phi((x - mean) / sd),
            NumericDist::Exponential { mean } => {
                if x <= 0.0 {
                    0.0
                } else {
                    1.0 - (-x / mean).exp()
                }
            }
            NumericDist::LogNormal { mu, sigma } => {
                if x <= 0.0 {
                    0.0
                } else {
                    phi((x.ln() - mu) / sigma)
                }
            }
        }
    }
}

/// The standard normal quantile Φ⁻¹(u) = √2·erf⁻¹(2u − 1).
fn std_normal_quantile(u: f64) -> f64 {
    std::f64::consts::SQRT_2 * statrs::function::erf::erf_inv(2.0 * u - 1.0)
}

/// One declared attribute (or body field) of a producer's messages.
#[derive(Clone, Debug, PartialEq)]
pub struct Attr {
    /// Its name (for body fields, a dotted path such as `customer.tier` for nested JSON).
    pub name: String,
    /// Its values.
    pub dist: AttrDist,
    /// Probability that a message has it (1 = always).
    pub present: f64,
    /// `fnv1a64(name)`, computed once.
    key: u64,
}

/// An attribute's value in one message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum AttrValue {
    /// The message does not have the attribute.
    Absent,
    /// Categorical value number `i` (an index into the attribute's values).
    Str(u32),
    /// A number.
    Num(f64),
}

/// Maps a 64-bit hash to (0, 1).
#[inline]
fn unit(h: u64) -> f64 {
    ((h >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

impl Attr {
    /// An attribute called `name`, present with probability `present`.
    pub(crate) fn new(name: &str, dist: AttrDist, present: f64) -> Self {
        Attr {
            name: name.to_string(),
            dist,
            present,
            key: fnv1a64(name.as_bytes()),
        }
    }

    /// True when the message with logical id `id` has this attribute (see the module docs).
    #[inline]
    pub(crate) fn is_present(&self, seed: u64, id: u64) -> bool {
        self.present >= 1.0 || unit(splitmix64(seed ^ id ^ self.key)) < self.present
    }

    /// This attribute's value in the message with logical id `id` of a producer whose seed
    /// for the attribute's scope is `seed`.
    #[inline]
    pub(crate) fn value(&self, seed: u64, id: u64) -> AttrValue {
        let h1 = splitmix64(seed ^ id ^ self.key);
        if self.present < 1.0 && unit(h1) >= self.present {
            return AttrValue::Absent;
        }
        let u = unit(splitmix64(h1));
        match &self.dist {
            AttrDist::Categorical { cumulative, .. } => {
                let i = cumulative.partition_point(|c| *c <= u);
                AttrValue::Str(i.min(cumulative.len().saturating_sub(1)) as u32)
            }
            AttrDist::Numeric(d) => AttrValue::Num(d.quantile(u)),
        }
    }

    /// The string of categorical value `i`.
    pub(crate) fn value_name(&self, i: u32) -> Option<&str> {
        match &self.dist {
            AttrDist::Categorical { values, .. } => values.get(i as usize).map(String::as_str),
            AttrDist::Numeric(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(weights: &[(&str, f64)]) -> AttrDist {
        let total: f64 = weights.iter().map(|w| w.1).sum();
        let mut acc = 0.0;
        let mut cumulative: Vec<f64> = weights
            .iter()
            .map(|w| {
                acc += w.1 / total;
                acc
            })
            .collect();
        if let Some(l) = cumulative.last_mut() {
            *l = 1.0;
        }
        AttrDist::Categorical {
            values: weights.iter().map(|w| w.0.to_string()).collect(),
            cumulative,
        }
    }

    #[test]
    fn values_are_a_function_of_seed_and_id() {
        let a = Attr::new("type", cat(&[("order", 0.7), ("refund", 0.3)]), 1.0);
        for id in 1..100 {
            assert_eq!(a.value(7, id), a.value(7, id));
        }
        let differ = (1..200)
            .filter(|id| a.value(7, *id) != a.value(8, *id))
            .count();
        assert!(
            differ > 40,
            "another seed gives other values ({differ} of 199 differ)"
        );
    }

    #[test]
    fn categorical_frequencies_follow_the_weights() {
        // 100,000 ids, P(order) = 0.7: the count lies within 0.7n ± 4.4·√(n·0.21)
        // (a 1-in-10⁵ band) = 70,000 ± 638.
        let a = Attr::new("type", cat(&[("order", 0.7), ("refund", 0.3)]), 1.0);
        let n = 100_000u64;
        let orders = (1..=n)
            .filter(|id| a.value(42, *id) == AttrValue::Str(0))
            .count() as f64;
        let half = 4.4 * (n as f64 * 0.21).sqrt();
        assert!((orders - 70_000.0).abs() < half, "{orders}");
    }

    #[test]
    fn presence_and_numeric_quantiles() {
        // Present with probability 0.25; uniform on [0, 500): P(value < 100) = 0.2.
        let a = Attr::new(
            "amount",
            AttrDist::Numeric(NumericDist::Uniform {
                min: 0.0,
                max: 500.0,
            }),
            0.25,
        );
        let n = 80_000u64;
        let mut present = 0u64;
        let mut small = 0u64;
        for id in 1..=n {
            if let AttrValue::Num(x) = a.value(1, id) {
                assert!((0.0..500.0).contains(&x));
                assert!(a.is_present(1, id));
                present += 1;
                if x < 100.0 {
                    small += 1;
                }
            } else {
                assert!(!a.is_present(1, id));
            }
        }
        // 20,000 ± 4.4·√(80,000·0.25·0.75) = ± 540; 0.2 of those ± 4.4·√(20,000·0.16).
        assert!((present as f64 - 20_000.0).abs() < 540.0, "{present}");
        let p = small as f64 / present as f64;
        assert!(
            (p - 0.2).abs() < 4.4 * (0.16 / present as f64).sqrt(),
            "{p}"
        );
    }

    #[test]
    fn quantiles_invert_the_cdfs() {
        let ds = [
            NumericDist::Normal {
                mean: -3.0,
                sd: 2.0,
            },
            NumericDist::Exponential { mean: 5.0 },
            NumericDist::LogNormal {
                mu: 1.0,
                sigma: 0.5,
            },
            NumericDist::Uniform {
                min: -1.0,
                max: 1.0,
            },
        ];
        for d in ds {
            for u in [0.01, 0.2, 0.5, 0.9, 0.999] {
                let x = d.quantile(u);
                assert!((d.cdf(x) - u).abs() < 1e-6, "{d:?} at {u}: {x}");
            }
        }
        let i = NumericDist::Integer { min: 1, max: 3 };
        assert_eq!(i.quantile(0.01), 1.0);
        assert_eq!(i.quantile(0.5), 2.0);
        assert_eq!(i.quantile(0.99), 3.0);
        assert!((i.cdf(2.0) - 2.0 / 3.0).abs() < 1e-12);
    }
}
