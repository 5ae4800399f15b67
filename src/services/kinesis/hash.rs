//! Partition keys and the 128-bit hash-key space.
//!
//! Kinesis hashes a record's partition key with MD5 and reads the 16-byte digest as an
//! unsigned 128-bit integer (big-endian); the record goes to the open shard whose
//! contiguous hash-key range contains it
//! (<https://docs.aws.amazon.com/streams/latest/dev/key-concepts.html>). At creation, and
//! after a uniform `UpdateShardCount`, shard `i` of `n` owns
//! `[⌊i·2¹²⁸/n⌋, ⌊(i+1)·2¹²⁸/n⌋ − 1]`, the ranges `CreateStream` reports (for three shards
//! the first ends at 113427455640312821154458202477256070484).

use md5::{Digest, Md5};

/// The hash key of a partition key: MD5 of its UTF-8 bytes as a big-endian `u128`.
pub(crate) fn hash_key(partition_key: &str) -> u128 {
    let digest = Md5::digest(partition_key.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest);
    u128::from_be_bytes(b)
}

/// The hash key of the generated key `{prefix}{id + 1}` (see `load::keys`), written into
/// `buf` (reused, so hashing allocates nothing once `buf` has grown).
pub(crate) fn hash_generated(prefix: &str, id: u32, buf: &mut String) -> u128 {
    use std::fmt::Write as _;
    buf.clear();
    buf.push_str(prefix);
    let _ = write!(buf, "{}", id as u64 + 1);
    hash_key(buf)
}

/// Length in bytes of the generated key `{prefix}{id + 1}`.
pub(crate) fn generated_len(prefix: &str, id: u32) -> u32 {
    let mut n = id as u64 + 1;
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    prefix.len() as u32 + digits
}

/// Start of range `i` of `n` even ranges over the whole hash-key space: `⌊i·2¹²⁸/n⌋`.
pub(crate) fn even_start(i: u32, n: u32) -> u128 {
    debug_assert!(n >= 1 && i <= n);
    if i == 0 {
        return 0;
    }
    // 2¹²⁸ = q·n + r, computed without overflow from u128::MAX = 2¹²⁸ − 1.
    let n128 = n as u128;
    let (mut q, mut r) = (u128::MAX / n128, u128::MAX % n128 + 1);
    if r == n128 {
        q += 1;
        r = 0;
    }
    // i < n here (i == n is the end of the space, not a start).
    q * i as u128 + (r * i as u128) / n128
}

/// The inclusive range of shard `i` of `n` even ranges.
pub(crate) fn even_range(i: u32, n: u32) -> (u128, u128) {
    let start = even_start(i, n);
    let end = if i + 1 == n {
        u128::MAX
    } else {
        even_start(i + 1, n) - 1
    };
    (start, end)
}

/// Where `SplitShard` divides `[start, end]` in the middle: the second child starts here.
/// `None` when the range holds a single hash key and cannot be split.
pub(crate) fn midpoint(start: u128, end: u128) -> Option<u128> {
    if end <= start {
        return None;
    }
    Some(start + (end - start) / 2 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_known_keys() {
        // md5("key-1") = 21af6b8b5e2244835679bbdbe0ab03a6 (md5sum), as an integer
        // 44775357070821016797045618461742138278.
        assert_eq!(hash_key("key-1"), 0x21af6b8b5e2244835679bbdbe0ab03a6u128);
        assert_eq!(hash_key("key-1"), 44775357070821016797045618461742138278);
        let mut buf = String::new();
        assert_eq!(hash_generated("key-", 0, &mut buf), hash_key("key-1"));
        assert_eq!(generated_len("key-", 0), 5);
        assert_eq!(generated_len("key-", 9), 6);
        assert_eq!(generated_len("key-", 99_999), 10);
    }

    #[test]
    fn even_ranges_match_create_stream() {
        // Two shards: [0, 2^127 - 1], [2^127, 2^128 - 1].
        assert_eq!(even_range(0, 2), (0, (1u128 << 127) - 1));
        assert_eq!(even_range(1, 2), (1u128 << 127, u128::MAX));
        // Three shards, as CreateStream reports them.
        assert_eq!(even_range(0, 3).1, 113427455640312821154458202477256070484);
        assert_eq!(even_range(2, 3).0, 226854911280625642308916404954512140970);
        assert_eq!(even_range(0, 1), (0, u128::MAX));
        // Ranges tile the space.
        for n in [1u32, 3, 7, 64, 1000] {
            for i in 0..n - 1 {
                assert_eq!(even_range(i, n).1 + 1, even_range(i + 1, n).0);
            }
        }
        assert_eq!(midpoint(0, u128::MAX), Some(1u128 << 127));
        assert_eq!(midpoint(5, 5), None);
        assert_eq!(midpoint(4, 5), Some(5));
    }
}
