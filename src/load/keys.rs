//! Distributions of partition keys and FIFO message groups.
//!
//! Keys are drawn as ids `0..n`; the key's text, which Kinesis hashes, is
//! `"{prefix}{id + 1}"` (so with a Zipf distribution `key-1` is the most popular key).

use crate::load::dist::DistError;
use crate::sim::SimRng;
use rand::Rng;
use rand_distr::{Distribution, Zipf};

/// A distribution over key ids `0..keys`.
#[derive(Clone, Debug)]
pub enum KeyDist {
    /// Every key equally likely.
    Uniform {
        /// Number of distinct keys.
        keys: u32,
    },
    /// Zipf: key of rank k (1-based) has probability ∝ k^(−exponent).
    Zipf {
        /// Number of distinct keys.
        keys: u32,
        /// Zipf exponent `s` (>= 0; 0 is uniform).
        exponent: f64,
        /// The sampler.
        sampler: Zipf<f64>,
    },
}

impl KeyDist {
    /// Uniform over `keys` (1 to 2³²−1) keys.
    pub(crate) fn uniform(keys: u64) -> Result<Self, DistError> {
        Ok(KeyDist::Uniform {
            keys: check_keys(keys)?,
        })
    }

    /// Zipf over `keys` keys with exponent `exponent` (finite, >= 0).
    pub(crate) fn zipf(keys: u64, exponent: f64) -> Result<Self, DistError> {
        let keys = check_keys(keys)?;
        if !exponent.is_finite() || exponent < 0.0 {
            return Err(DistError(format!(
                "zipf exponent must be >= 0, got {exponent}"
            )));
        }
        let sampler = Zipf::new(keys as f64, exponent)
            .map_err(|e| DistError(format!("invalid zipf parameters: {e}")))?;
        Ok(KeyDist::Zipf {
            keys,
            exponent,
            sampler,
        })
    }

    /// Number of distinct keys.
    pub(crate) fn keys(&self) -> u32 {
        match self {
            KeyDist::Uniform { keys } | KeyDist::Zipf { keys, .. } => *keys,
        }
    }

    /// One key id in `0..keys`.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut SimRng) -> u32 {
        match self {
            KeyDist::Uniform { keys } => {
                if *keys == 1 {
                    0
                } else {
                    rng.random_range(0..*keys)
                }
            }
            KeyDist::Zipf { sampler, keys, .. } => {
                let k: f64 = sampler.sample(rng);
                (k as u32).clamp(1, *keys) - 1
            }
        }
    }

    /// Probability of key id `k`.
    pub(crate) fn probability(&self, k: u32) -> f64 {
        match self {
            KeyDist::Uniform { keys } => 1.0 / *keys as f64,
            KeyDist::Zipf { keys, exponent, .. } => {
                let h: f64 = (1..=*keys).map(|i| (i as f64).powf(-exponent)).sum();
                ((k + 1) as f64).powf(-exponent) / h
            }
        }
    }
}

fn check_keys(keys: u64) -> Result<u32, DistError> {
    if keys == 0 || keys > u32::MAX as u64 {
        return Err(DistError(format!(
            "the number of keys must be between 1 and {}, got {keys}",
            u32::MAX
        )));
    }
    Ok(keys as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::stream;

    #[test]
    fn zipf_rank_one_is_most_popular() {
        let d = KeyDist::zipf(100, 1.2).unwrap();
        let mut rng = stream(3, "keys");
        let n = 200_000;
        let mut counts = vec![0u32; 100];
        for _ in 0..n {
            counts[d.sample(&mut rng) as usize] += 1;
        }
        let p0 = d.probability(0);
        let se = (p0 * (1.0 - p0) / n as f64).sqrt();
        let f0 = counts[0] as f64 / n as f64;
        // Within 4 binomial standard errors of the exact Zipf probability.
        assert!((f0 - p0).abs() < 4.0 * se, "freq {f0} vs p {p0}");
        assert!(counts[0] > counts[1] && counts[1] > counts[9]);
    }

    #[test]
    fn rejects_zero_keys() {
        assert!(KeyDist::uniform(0).is_err());
        assert!(KeyDist::zipf(10, -1.0).is_err());
    }
}
