//! Distributions of a model file: durations and sizes (constant, uniform, exponential,
//! lognormal, or resampled from a CSV column), and the key distributions of message groups
//! and partition keys.

use super::raw::{RawDist, RawDistTagged, RawKeyDist};
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::input::units::{format_size, parse_duration, parse_size, Bytes, Dur};
use crate::load::{Dist, DurationDist, KeyDist, SizeDist};
use crate::sim::SimDuration;
use std::path::Path;

/// A duration distribution.
pub(crate) fn dur_dist(
    raw: &RawDist<Dur>,
    path: &FieldPath,
    base_dir: &Path,
) -> VResult<DurationDist> {
    let d = dist(
        raw,
        path,
        base_dir,
        |d| d.0 .0 as f64,
        |s| parse_duration(s).map(|d| d.0 as f64),
        "duration",
    )?;
    Ok(DurationDist(d))
}

/// A size distribution.
pub(crate) fn size_dist(
    raw: &RawDist<Bytes>,
    path: &FieldPath,
    base_dir: &Path,
) -> VResult<SizeDist> {
    let d = dist(
        raw,
        path,
        base_dir,
        |b| b.0 as f64,
        |s| parse_size(s).map(|b| b as f64),
        "size",
    )?;
    Ok(SizeDist(d))
}

/// A distribution of quantities `Q` (`base` gives a quantity's value in the base unit,
/// `parse` reads one from a CSV cell; `what` is "duration" or "size", for messages).
fn dist<Q: Copy>(
    raw: &RawDist<Q>,
    path: &FieldPath,
    base_dir: &Path,
    base: fn(&Q) -> f64,
    parse: fn(&str) -> Result<f64, String>,
    what: &str,
) -> VResult<Dist> {
    let err = |e: crate::load::DistError| Invalid::at(path, e.0);
    match raw {
        RawDist::Shorthand(q) => Dist::constant(base(q)).map_err(err),
        RawDist::Tagged(t) => match t {
            RawDistTagged::Constant { value } => Dist::constant(base(value)).map_err(err),
            RawDistTagged::Uniform { min, max } => Dist::uniform(base(min), base(max)).map_err(err),
            RawDistTagged::Exponential { mean } => Dist::exponential(base(mean)).map_err(err),
            RawDistTagged::Lognormal { median, p99 } => {
                Dist::lognormal_median_p99(base(median), base(p99)).map_err(|e| {
                    // Restate the values with their units.
                    let _ = e;
                    Invalid::at(
                        path,
                        format!(
                            "lognormal distribution needs p99 > median (got median {}, p99 {})",
                            fmt_q(base(median), what),
                            fmt_q(base(p99), what)
                        ),
                    )
                })
            }
            RawDistTagged::Empirical { file, column } => {
                let values = empirical(&base_dir.join(file), column.as_deref(), parse, what)
                    .map_err(|m| Invalid::at(&path.field("file"), m))?;
                Dist::empirical(values).map_err(err)
            }
        },
    }
}

/// A value in the base unit, shown with its unit.
fn fmt_q(v: f64, what: &str) -> String {
    if what == "duration" {
        SimDuration(v as u64).to_string()
    } else {
        format_size(v as u64)
    }
}

/// Reads one column of an empirical-distribution CSV: values with units (`"2KB"`,
/// `"80ms"`), or plain numbers when the header says the unit (`size_bytes`, `time_ms`,
/// `time_s`).
fn empirical(
    path: &Path,
    column: Option<&str>,
    parse: fn(&str) -> Result<f64, String>,
    what: &str,
) -> Result<Vec<f64>, String> {
    let shown = path.display().to_string();
    let bytes = crate::input::read_file(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes.as_slice());
    let headers = rdr
        .headers()
        .map_err(|e| format!("{shown}:1: cannot read the header row: {e}"))?
        .clone();
    let col = match column {
        Some(c) => headers
            .iter()
            .position(|h| h == c)
            .ok_or_else(|| format!("{shown}:1: no column \"{c}\""))?,
        None => 0,
    };
    let header = headers.get(col).unwrap_or("");
    let scale = if header.ends_with("_bytes") && what == "size" {
        Some(1.0)
    } else if header.ends_with("_ms") && what == "duration" {
        Some(1e6)
    } else if header.ends_with("_s") && what == "duration" {
        Some(1e9)
    } else {
        None
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            format!(
                "{shown}:{}: malformed row: {e}",
                e.position().map(|p| p.line()).unwrap_or(0)
            )
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let field = rec.get(col).unwrap_or("");
        let v = match (scale, field.parse::<f64>()) {
            (Some(s), Ok(x)) if x >= 0.0 && x.is_finite() => x * s,
            // The cell is not echoed: a model may point at any file (issue 21).
            _ => parse(field).map_err(|_| {
                format!(
                    "{shown}:{line}: column {} is not a {what} (a number with a unit, such as 2KB or 80ms)",
                    col + 1
                )
            })?,
        };
        out.push(v);
    }
    if out.is_empty() {
        return Err(format!("{shown}: no values"));
    }
    Ok(out)
}

/// A key distribution (message groups, partition keys) and its key prefix (default
/// `key-`).
pub(crate) fn key_dist(raw: &RawKeyDist, path: &FieldPath) -> VResult<(KeyDist, String)> {
    let (d, prefix) = match raw {
        RawKeyDist::Uniform { keys, prefix } => (KeyDist::uniform(*keys), prefix),
        RawKeyDist::Zipf {
            keys,
            exponent,
            prefix,
        } => (KeyDist::zipf(*keys, *exponent), prefix),
    };
    let d = d.map_err(|e| Invalid::at(path, e.0))?;
    Ok((d, prefix.clone().unwrap_or_else(|| "key-".into())))
}
