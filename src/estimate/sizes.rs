//! Expected billable units of message and record sizes: SQS 64 KiB chunks of a call's
//! payload, Kinesis PUT payload units and 1 KB-rounded bytes of a record.

use crate::load::{Dist, KeyDist, SizeDist};
pub(crate) use crate::services::sqs::bill::chunks;
use crate::sim::{stream, SimRng};
use rand::Rng;

/// Draws of a Monte Carlo expectation.
const DRAWS: usize = 20_000;

/// Key lengths of a key space up to this many keys are counted key by key; larger spaces
/// are approximated by their uniform digit counts.
const KEYS_COUNTED: u32 = 1 << 20;

/// One source of messages or records: its share of the traffic, its sizes and the lengths
/// of the partition keys added to each (Kinesis counts the key against the record).
pub(crate) struct Part<'a> {
    /// Share (any positive weight; the rate of the producer).
    pub(crate) weight: f64,
    /// Data sizes.
    pub(crate) size: &'a SizeDist,
    /// `(key length in bytes, probability)`; `[(0, 1.0)]` when nothing is added.
    pub(crate) keys: Vec<(u64, f64)>,
}

/// Messages of a queue, or records of a stream, come from several producers: their size
/// distributions, weighted by rate.
pub(crate) struct SizeMix<'a> {
    /// The sources.
    pub(crate) parts: Vec<Part<'a>>,
}

impl<'a> SizeMix<'a> {
    /// An empty mix.
    pub(crate) fn new() -> Self {
        SizeMix { parts: Vec::new() }
    }

    /// Adds a source of `size` with no key, weighted `weight`.
    pub(crate) fn push(&mut self, weight: f64, size: &'a SizeDist) {
        self.push_extra(weight, size, 0);
    }

    /// Adds a source of `size` with `extra` bytes added to each message (SNS's JSON
    /// envelope), weighted `weight`.
    pub(crate) fn push_extra(&mut self, weight: f64, size: &'a SizeDist, extra: u64) {
        self.parts.push(Part {
            weight,
            size,
            keys: vec![(extra, 1.0)],
        });
    }

    /// The one size every source has, when all are the same constant and add the same
    /// number of bytes.
    fn constant(&self) -> Option<f64> {
        let first = self.parts.first()?;
        let (&Dist::Constant(v), [(extra, _)]) = (&first.size.0, first.keys.as_slice()) else {
            return None;
        };
        self.parts
            .iter()
            .all(|p| matches!(p.size.0, Dist::Constant(w) if w == v) && p.keys == first.keys)
            .then_some(v.ceil().max(1.0) + *extra as f64)
    }

    /// Every size with its probability, when all sources have constant sizes.
    fn discrete(&self) -> Option<Vec<(u64, f64)>> {
        let total: f64 = self.parts.iter().map(|p| p.weight).sum();
        if total <= 0.0 {
            return None;
        }
        let mut out = Vec::new();
        for p in &self.parts {
            let Dist::Constant(v) = p.size.0 else {
                return None;
            };
            let bytes = v.ceil().max(1.0) as u64;
            for (len, q) in &p.keys {
                out.push((bytes + len, p.weight / total * q));
            }
        }
        Some(out)
    }

    /// The mean size in bytes, key included.
    ///
    /// # Formula
    /// `Σ weight × (E[size] + E[key length]) ÷ Σ weight`, sizes drawn as whole bytes of at
    /// least 1: a constant `v` is `max(1, ceil(v))`, a continuous size adds half a byte on
    /// average.
    pub(crate) fn mean_bytes(&self) -> f64 {
        let total: f64 = self.parts.iter().map(|p| p.weight).sum();
        if total <= 0.0 {
            return 0.0;
        }
        self.parts
            .iter()
            .map(|p| {
                let size = match p.size.0 {
                    Dist::Constant(v) => v.ceil().max(1.0),
                    _ => p.size.mean_bytes() + 0.5,
                };
                let key: f64 = p.keys.iter().map(|(l, q)| *l as f64 * q).sum();
                p.weight / total * (size + key)
            })
            .sum()
    }

    /// One draw: a source by weight, then its size and key length, in bytes.
    fn sample(&self, total: f64, rng: &mut SimRng) -> u64 {
        let mut v: f64 = rng.random::<f64>() * total;
        let mut part = &self.parts[0];
        for p in &self.parts {
            if v < p.weight {
                part = p;
                break;
            }
            v -= p.weight;
        }
        let mut bytes = part.size.sample(rng) as u64;
        if part.keys.len() == 1 {
            bytes += part.keys[0].0;
        } else {
            let mut u: f64 = rng.random();
            for (len, q) in &part.keys {
                if u < *q {
                    bytes += len;
                    break;
                }
                u -= q;
            }
        }
        bytes
    }

    /// The mean of `f(bytes)` over one message or record.
    ///
    /// # Formula
    /// Constant sizes: `Σ P(bytes) · f(bytes)`, exact. Other sizes: the mean of `f` over
    /// 20,000 draws from a fixed seed named `seed_name` (so the estimate is reproducible).
    pub(crate) fn mean_of<const N: usize>(
        &self,
        seed_name: &str,
        f: impl Fn(u64) -> [f64; N],
    ) -> [f64; N] {
        let mut out = [0.0; N];
        if let Some(d) = self.discrete() {
            for (bytes, p) in d {
                for (o, v) in out.iter_mut().zip(f(bytes)) {
                    *o += p * v;
                }
            }
            return out;
        }
        let total: f64 = self.parts.iter().map(|p| p.weight).sum();
        if self.parts.is_empty() || total <= 0.0 {
            return out;
        }
        let mut rng = stream(0, seed_name);
        for _ in 0..DRAWS {
            let bytes = self.sample(total, &mut rng);
            for (o, v) in out.iter_mut().zip(f(bytes)) {
                *o += v;
            }
        }
        out.map(|v| v / DRAWS as f64)
    }

    /// `table[k]` = expected billable chunks of a call carrying `k` messages, `k` from 0 to
    /// `max_k` (`table[0]` is unused).
    ///
    /// # Formula
    /// Constant sizes: `max(1, ceil(k × size / chunk))`, exact. Other sizes: the mean of
    /// `max(1, ceil(Σ_k sizes / chunk))` over 20,000 draws from a fixed seed (so the
    /// estimate is reproducible).
    pub(crate) fn chunks_table(&self, max_k: u32, chunk: u64, seed_name: &str) -> Vec<f64> {
        self.sum_table(max_k, seed_name, |_, bytes| [chunks(bytes, chunk) as f64])
            .into_iter()
            .map(|[c]| c)
            .collect()
    }

    /// `table[k]` = the mean of `f(k, Σ sizes)` over calls carrying `k` messages, `k` from
    /// 0 to `max_k` (`table[0]` is `f(0, 0)`; with no source every entry is `f(k, 0)`).
    ///
    /// # Formula
    /// Constant sizes: `f(k, k × size)`, exact. Other sizes: the mean of `f(k, Σ_k sizes)`
    /// over 20,000 draws from a fixed seed named `seed_name`.
    pub(crate) fn sum_table<const N: usize>(
        &self,
        max_k: u32,
        seed_name: &str,
        f: impl Fn(u32, u64) -> [f64; N],
    ) -> Vec<[f64; N]> {
        if let Some(v) = self.constant() {
            return (0..=max_k).map(|k| f(k, (k as f64 * v) as u64)).collect();
        }
        let total: f64 = self.parts.iter().map(|p| p.weight).sum();
        if self.parts.is_empty() || total <= 0.0 {
            return (0..=max_k).map(|k| f(k, 0)).collect();
        }
        let mut rng = stream(0, seed_name);
        let mut table = vec![f(0, 0)];
        for k in 1..=max_k {
            let mut sum = [0.0; N];
            for _ in 0..DRAWS {
                let bytes: u64 = (0..k).map(|_| self.sample(total, &mut rng)).sum();
                for (s, v) in sum.iter_mut().zip(f(k, bytes)) {
                    *s += v;
                }
            }
            table.push(sum.map(|s| s / DRAWS as f64));
        }
        table
    }
}

/// Lengths of the partition keys `{prefix}{id + 1}` drawn from `keys`, as `(bytes,
/// probability)` pairs.
///
/// # Formula
/// `P(len) = Σ P(id)` over the ids whose key has that length. Key spaces above 2²⁰ keys
/// are taken as uniform over their digit counts (their popular keys are short ids, so a
/// Zipf space is slightly overstated: by a byte or two per record).
pub(crate) fn key_lengths(keys: &KeyDist, prefix: &str) -> Vec<(u64, f64)> {
    let n = keys.keys();
    let probs = key_probabilities(keys);
    let mut out: Vec<(u64, f64)> = Vec::new();
    let mut add = |len: u64, p: f64| match out.iter_mut().find(|(l, _)| *l == len) {
        Some(e) => e.1 += p,
        None => out.push((len, p)),
    };
    match probs {
        Some(p) => {
            for (id, q) in p.iter().enumerate() {
                add(
                    crate::services::kinesis::hash::generated_len(prefix, id as u32) as u64,
                    *q,
                );
            }
        }
        None => {
            // Ids 1..=n by digit count.
            let mut lo: u64 = 1;
            while lo <= n as u64 {
                let hi = (lo * 10 - 1).min(n as u64);
                let len = crate::services::kinesis::hash::generated_len(prefix, (lo - 1) as u32);
                add(len as u64, (hi - lo + 1) as f64 / n as f64);
                lo *= 10;
            }
        }
    }
    out
}

/// The probability of every key id of `keys`, or `None` above 2²⁰ keys.
///
/// # Formula
/// Uniform: `1/n`; Zipf: `(id + 1)^−s / Σ_k k^−s` (the normaliser computed once).
pub(crate) fn key_probabilities(keys: &KeyDist) -> Option<Vec<f64>> {
    let n = keys.keys();
    if n > KEYS_COUNTED {
        return None;
    }
    Some(match keys {
        KeyDist::Uniform { .. } => vec![1.0 / n as f64; n as usize],
        KeyDist::Zipf { exponent, .. } => {
            let w: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-exponent)).collect();
            let h: f64 = w.iter().sum();
            w.into_iter().map(|x| x / h).collect()
        }
    })
}

/// Expected chunks of a call whose message count follows `fill`.
pub(crate) fn chunks_of(fill: &[(u32, f64)], table: &[f64]) -> f64 {
    fill.iter()
        .map(|(k, p)| p * table[(*k as usize).min(table.len() - 1)])
        .sum()
}

/// `k` messages per call when the mean is a fraction: `floor(k)` and `floor(k) + 1` mixed
/// so the mean is `k`.
pub(crate) fn fractional_fill(k: f64) -> Vec<(u32, f64)> {
    let lo = k.floor().max(1.0);
    let w = (k - lo).clamp(0.0, 1.0);
    let mut v = vec![(lo as u32, 1.0 - w)];
    if w > 0.0 {
        v.push((lo as u32 + 1, w));
    }
    v
}

/// The keys (FIFO message groups, partition keys) of feeds of `(records/s, keys)` as
/// buckets of equally busy keys: `(keys, records/s of each)`, at most a few hundred whatever the number of keys (up to 2³² − 1).
///
/// Zipf ranks 1 to 64 are buckets of their own; beyond, ranks `[a, b)` with `b ≈ 1.03·a`
/// share a bucket, their weights summed by the midpoint integral of `x^(−s)`, which is
/// within 10⁻⁵ of the sum from rank 64 on.
pub(crate) fn key_buckets(feeds: &[(f64, &crate::load::KeyDist)]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for (rate, keys) in feeds {
        if *rate <= 0.0 {
            continue;
        }
        let n = keys.keys() as u64;
        match keys {
            crate::load::KeyDist::Uniform { .. } => out.push((n as f64, rate / n as f64)),
            crate::load::KeyDist::Zipf { exponent, .. } => {
                let s = *exponent;
                let mut parts: Vec<(f64, f64)> = Vec::new();
                let mut a = 1u64;
                while a <= n {
                    let b = if a <= 64 {
                        a + 1
                    } else {
                        ((a as f64 * 1.03).ceil() as u64).min(n + 1)
                    };
                    let weight = if b == a + 1 {
                        (a as f64).powf(-s)
                    } else if (s - 1.0).abs() < 1e-12 {
                        ((b as f64 - 0.5) / (a as f64 - 0.5)).ln()
                    } else {
                        ((b as f64 - 0.5).powf(1.0 - s) - (a as f64 - 0.5).powf(1.0 - s))
                            / (1.0 - s)
                    };
                    parts.push(((b - a) as f64, weight));
                    a = b;
                }
                let h: f64 = parts.iter().map(|(_, w)| w).sum();
                out.extend(parts.into_iter().map(|(c, w)| (c, rate * w / h / c)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lengths_by_digit_count() {
        // 100,000 uniform keys "user-1" … "user-100000": 9 of 1 digit (6 bytes), 90 of 2,
        // 900 of 3, 9,000 of 4, 90,000 of 5 (10 bytes) and 1 of 6 (11 bytes).
        let k = KeyDist::uniform(100_000).unwrap();
        let l = key_lengths(&k, "user-");
        let p = |len: u64| {
            l.iter()
                .find(|(x, _)| *x == len)
                .map(|e| e.1)
                .unwrap_or(0.0)
        };
        assert!((p(6) - 9e-5).abs() < 1e-12);
        assert!((p(10) - 0.9).abs() < 1e-9);
        assert!((p(11) - 1e-5).abs() < 1e-12);
        let sum: f64 = l.iter().map(|e| e.1).sum();
        assert!((sum - 1.0).abs() < 1e-9);
    }

    #[test]
    fn mean_of_constant_sizes_is_exact() {
        // 30 KB records with 10-byte keys: 30,730 B = 2 PUT payload units (25,600 B each).
        let size = SizeDist::constant(30 * 1024);
        let mix = SizeMix {
            parts: vec![Part {
                weight: 1.0,
                size: &size,
                keys: vec![(10, 1.0)],
            }],
        };
        let [units, bytes] = mix.mean_of("t", |b| [chunks(b, 25_600) as f64, b as f64]);
        assert_eq!(units, 2.0);
        assert_eq!(bytes, 30_730.0);
    }
}
