//! Random-number streams.
//!
//! Every component draws from its own stream, derived from the run's seed and the
//! component's *name* (never its position), so adding, removing or reordering components
//! leaves every other component's random numbers unchanged.
//!
//! The generator is xoshiro256++ (`rand_xoshiro`, version pinned in `Cargo.lock`): fast,
//! 256 bits of state, and specified bit for bit, so streams are the same on every platform
//! and every build. A stream's 64-bit seed is `splitmix64(seed ^ fnv1a64(name))`, expanded
//! to the full state by `Xoshiro256PlusPlus::seed_from_u64` (itself SplitMix64).

use rand::SeedableRng;
pub(crate) use rand_xoshiro::Xoshiro256PlusPlus as SimRng;

/// FNV-1a, 64-bit: a fixed, documented hash of a stream name. Written by hand because
/// std's `DefaultHasher` is explicitly not stable across Rust releases, and a stream's
/// identity must be.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64's output function: a bijective mixer of 64-bit values.
#[inline]
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The 64-bit seed of the stream called `name` in a run seeded with `seed`.
pub(crate) fn stream_seed(seed: u64, name: &str) -> u64 {
    splitmix64(seed ^ fnv1a64(name.as_bytes()))
}

/// The random stream called `name` (for example `"consumer:billing-workers"`) in a run
/// seeded with `seed`.
pub fn stream(seed: u64, name: &str) -> SimRng {
    SimRng::seed_from_u64(stream_seed(seed, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_depend_on_name_and_seed_only() {
        let a: u64 = stream(42, "queue:billing").random();
        let b: u64 = stream(42, "queue:billing").random();
        let c: u64 = stream(42, "queue:shipping").random();
        let d: u64 = stream(43, "queue:billing").random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn fnv_matches_reference_vectors() {
        // Reference values of FNV-1a 64 (from the FNV specification's test suite).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn generator_output_is_pinned() {
        // If this value changes, every seeded result in the project changes: the
        // generator or its seeding was altered. Pin the crate version instead.
        let x: u64 = stream(1, "pin").random();
        assert_eq!(x, stream(1, "pin").random::<u64>());
        let mut r = SimRng::seed_from_u64(0);
        let first: u64 = r.random();
        assert_eq!(first, PINNED_FIRST_OUTPUT);
    }
    /// First output of xoshiro256++ seeded by `seed_from_u64(0)` (rand_xoshiro 0.7).
    const PINNED_FIRST_OUTPUT: u64 = 5_987_356_902_031_041_503;
}
