//! Flink's assignment of keys to subtasks (`KeyGroupRangeAssignment`), for `String` keys.
//!
//! Written by hand: it is Java code (the key's `String.hashCode()`, Flink's
//! `MathUtils.murmurHash`, key groups) that no crate reproduces, and the simulation must
//! spread keys over subtasks exactly as Flink does for skew to land where it lands in
//! production. <https://nightlies.apache.org/flink/flink-docs-stable/docs/dev/datastream/execution/parallel/>

/// Java's `String.hashCode()` of an ASCII string: `Σ s[i]·31^(n−1−i)` in wrapping 32-bit
/// arithmetic (UTF-16 code units equal the bytes for ASCII).
pub(crate) fn java_hash_code(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

/// Flink's `MathUtils.murmurHash(int)`: one round of MurmurHash3 over the 4 bytes, the
/// finaliser, and the absolute value (0 for `Integer.MIN_VALUE`).
pub(crate) fn murmur_hash(code: i32) -> i32 {
    let mut c = code as u32;
    c = c.wrapping_mul(0xcc9e_2d51);
    c = c.rotate_left(15);
    c = c.wrapping_mul(0x1b87_3593);
    c = c.rotate_left(13);
    c = c.wrapping_mul(5).wrapping_add(0xe654_6b64);
    c ^= 4;
    // bitMix (fmix32)
    c ^= c >> 16;
    c = c.wrapping_mul(0x85eb_ca6b);
    c ^= c >> 13;
    c = c.wrapping_mul(0xc2b2_ae35);
    c ^= c >> 16;
    let h = c as i32;
    if h >= 0 {
        h
    } else if h != i32::MIN {
        -h
    } else {
        0
    }
}

/// Flink's default maximum parallelism for `parallelism` operators:
/// `min(max(roundUpToPowerOfTwo(p + p/2), 128), 32768)`.
pub(crate) fn default_max_parallelism(parallelism: u32) -> u32 {
    let p = parallelism as u64;
    let x = (p + p / 2).max(1).next_power_of_two();
    x.clamp(128, 32_768) as u32
}

/// The subtask (0-based) of key `key` among `parallelism` subtasks with maximum
/// parallelism `max_parallelism`: key group `murmur(hashCode) % maxP`, then
/// `keyGroup × p / maxP`.
#[cfg(test)]
pub(crate) fn subtask_of(key: &str, parallelism: u32, max_parallelism: u32) -> u32 {
    let group = murmur_hash(java_hash_code(key)) as u32 % max_parallelism;
    (group as u64 * parallelism as u64 / max_parallelism as u64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_codes() {
        // Values of "".hashCode(), "a".hashCode(), "hello".hashCode() and
        // "device-17".hashCode() in Java.
        assert_eq!(java_hash_code(""), 0);
        assert_eq!(java_hash_code("a"), 97);
        assert_eq!(java_hash_code("hello"), 99_162_322);
        assert_eq!(java_hash_code("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn max_parallelism_defaults() {
        assert_eq!(default_max_parallelism(1), 128);
        assert_eq!(default_max_parallelism(100), 256);
        assert_eq!(default_max_parallelism(1000), 2048);
        assert_eq!(default_max_parallelism(100_000), 32_768);
    }

    #[test]
    fn keys_spread_over_every_subtask() {
        let p = 8;
        let maxp = default_max_parallelism(p);
        let mut n = vec![0u32; p as usize];
        for i in 1..=10_000 {
            n[subtask_of(&format!("device-{i}"), p, maxp) as usize] += 1;
        }
        // 128 key groups over 8 subtasks: 16 each; 10,000 keys spread evenly within a few
        // standard deviations (sd ≈ 33).
        for c in n {
            assert!((1_050..1_450).contains(&c), "{c}");
        }
    }
}
