//! Quantities with units, as written in model files.
//!
//! Durations are strings such as `"250ms"`, `"30s"`, `"5m"`, `"12h"`, `"4d"` (also `ns`,
//! `us`); sizes are strings such as `"512B"`, `"2KB"`, `"1MiB"` where, as AWS bills them,
//! `KB` = `KiB` = 1,024 bytes, `MB` = `MiB` = 1,048,576 bytes and so on. A bare number is
//! rejected: the unit is never guessed.

use crate::sim::{SimDuration, NANOS_PER_SEC};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Duration units accepted in model files, with their length in nanoseconds.
const DURATION_UNITS: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", NANOS_PER_SEC),
    ("sec", NANOS_PER_SEC),
    ("m", 60 * NANOS_PER_SEC),
    ("min", 60 * NANOS_PER_SEC),
    ("h", 3_600 * NANOS_PER_SEC),
    ("d", 86_400 * NANOS_PER_SEC),
];

/// Size units accepted in model files (case-insensitive), with their length in bytes.
const SIZE_UNITS: &[(&str, u64)] = &[
    ("b", 1),
    ("kb", 1 << 10),
    ("kib", 1 << 10),
    ("mb", 1 << 20),
    ("mib", 1 << 20),
    ("gb", 1 << 30),
    ("gib", 1 << 30),
    ("tb", 1 << 40),
    ("tib", 1 << 40),
];

fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    let num: String = s[..end].chars().filter(|c| *c != '_').collect();
    let value: f64 = num.parse().ok()?;
    Some((value, s[end..].trim()))
}

/// Parses `"250ms"`-style durations.
pub fn parse_duration(s: &str) -> Result<SimDuration, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!("duration \"{s}\" is negative; durations are >= 0"));
    }
    let (value, unit) = split_number(t).ok_or_else(|| {
        format!("\"{s}\" is not a duration: expected a number with a unit, such as \"250ms\", \"30s\", \"5m\", \"12h\" or \"4d\"")
    })?;
    if unit.is_empty() {
        return Err(format!(
            "duration \"{s}\" has no unit: write it with one, such as \"{value}s\" or \"{value}ms\""
        ));
    }
    let scale = DURATION_UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, n)| *n)
        .ok_or_else(|| {
            format!("unknown duration unit \"{unit}\" in \"{s}\": expected one of ns, us, ms, s, m, h, d")
        })?;
    let ns = value * scale as f64;
    if !ns.is_finite() || ns >= u64::MAX as f64 / 2.0 {
        return Err(format!("duration \"{s}\" is too long"));
    }
    Ok(SimDuration(ns.round() as u64))
}

/// Parses `"2KB"`-style sizes into bytes (1 KB = 1,024 B).
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!("size \"{s}\" is negative; sizes are >= 0"));
    }
    let (value, unit) = split_number(t).ok_or_else(|| {
        format!("\"{s}\" is not a size: expected a number with a unit, such as \"512B\", \"2KB\" or \"1MiB\"")
    })?;
    if unit.is_empty() {
        return Err(format!(
            "size \"{s}\" has no unit: write it with one, such as \"{value}B\" or \"{value}KB\""
        ));
    }
    let lower = unit.to_ascii_lowercase();
    let scale = SIZE_UNITS
        .iter()
        .find(|(u, _)| *u == lower)
        .map(|(_, n)| *n)
        .ok_or_else(|| {
            format!("unknown size unit \"{unit}\" in \"{s}\": expected one of B, KB, MB, GB, TB (1 KB = 1,024 B) or KiB, MiB, GiB, TiB")
        })?;
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 / 2.0 {
        return Err(format!("size \"{s}\" is too large"));
    }
    Ok(bytes.round() as u64)
}

/// Formats a byte count with the largest binary unit that divides it exactly.
pub(crate) fn format_size(bytes: u64) -> String {
    for (unit, scale) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= scale && bytes % scale == 0 {
            return format!("{}{}", bytes / scale, unit);
        }
    }
    format!("{bytes}B")
}

/// A duration read from a model file (a string with a unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub SimDuration);

/// A size in bytes read from a model file (a string with a unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Bytes(pub u64);

struct StrVisitor<T> {
    what: &'static str,
    parse: fn(&str) -> Result<T, String>,
}

impl<T> Visitor<'_> for StrVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} string with a unit", self.what)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Err(E::custom(format!(
            "{v} has no unit: write the {} as a string with a unit, such as {}",
            self.what,
            if self.what == "duration" {
                format!("\"{v}s\" or \"{v}ms\"")
            } else {
                format!("\"{v}B\" or \"{v}KB\"")
            }
        )))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.visit_i64(v as i64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Err(E::custom(format!(
            "{v} has no unit: write the {} as a string with a unit",
            self.what
        )))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrVisitor {
            what: "duration",
            parse: |s| parse_duration(s).map(Dur),
        })
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrVisitor {
            what: "size",
            parse: |s| parse_size(s).map(Bytes),
        })
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_size(self.0))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_size(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("250ms").unwrap(),
            SimDuration::from_millis(250)
        );
        assert_eq!(
            parse_duration("1.5s").unwrap(),
            SimDuration::from_millis(1500)
        );
        assert_eq!(parse_duration("5m").unwrap(), SimDuration::from_secs(300));
        assert_eq!(
            parse_duration("12h").unwrap(),
            SimDuration::from_secs(43_200)
        );
        assert_eq!(
            parse_duration("4d").unwrap(),
            SimDuration::from_secs(345_600)
        );
        assert_eq!(parse_duration("0ms").unwrap(), SimDuration::ZERO);
        assert_eq!(parse_duration("20 s").unwrap(), SimDuration::from_secs(20));
        assert!(parse_duration("30 parsecs")
            .unwrap_err()
            .contains("unknown duration unit"));
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("-3s").unwrap_err().contains("negative"));
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn sizes_are_binary() {
        assert_eq!(parse_size("2KB").unwrap(), 2048);
        assert_eq!(parse_size("64KiB").unwrap(), 65_536);
        assert_eq!(parse_size("1MB").unwrap(), 1_048_576);
        assert_eq!(parse_size("512B").unwrap(), 512);
        assert_eq!(parse_size("1.5kb").unwrap(), 1536);
        assert!(parse_size("3 furlongs")
            .unwrap_err()
            .contains("unknown size unit"));
        assert_eq!(format_size(65_536), "64KiB");
        assert_eq!(format_size(1000), "1000B");
    }
}
