//! Reading one resource table of a usage file (`[sqs.orders]`, `[kinesis.clicks]`, ...):
//! typed values with the checks and messages every service's keys share.
//!
//! Each service's `usage_keys.rs` names its keys and turns a table into its usage record
//! with a [`UsageTable`]; the file itself (TOML, resource kinds, unknown keys, capacity
//! rows) is read by [`crate::estimate::usage_file`].

use crate::input::{place, FieldPath, ModelError};
use crate::pricing::PricingError;
use std::collections::BTreeMap;
use toml::{Table, Value};

/// Where the keys of a table read from another format than TOML are (an infracost YAML
/// usage file): key → `(line, column, field as the file spells it)`; the key `""` places
/// the table itself.
pub(crate) type KeyPlaces = BTreeMap<String, (usize, usize, String)>;

/// One resource table of a usage file, being read.
pub(crate) struct UsageTable<'a> {
    /// The file's text, to place errors.
    pub(crate) src: &'a str,
    /// The file's name in messages.
    pub(crate) file: &'a str,
    /// Path of the table (`sqs.orders`).
    pub(crate) path: FieldPath,
    /// The resource's name (`orders`).
    pub(crate) name: &'a str,
    /// Its keys.
    pub(crate) table: &'a Table,
    /// Hours in the month the quantities are for.
    pub(crate) month_hours: f64,
    /// Where its keys are, when the file is not TOML (`None`: found in `src`).
    pub(crate) places: Option<&'a KeyPlaces>,
}

impl UsageTable<'_> {
    /// An input error at `key` of the table (at the table itself when `key` is empty).
    pub(crate) fn err(&self, key: &str, message: String) -> PricingError {
        if let Some(places) = self.places {
            let (line, column, field) = places
                .get(key)
                .or_else(|| places.get(""))
                .cloned()
                .unwrap_or_default();
            return PricingError::Input(ModelError {
                file: self.file.to_string(),
                line: (line > 0).then_some(line),
                column: (column > 0).then_some(column),
                field,
                message,
            });
        }
        let path = if key.is_empty() {
            self.path.clone()
        } else {
            self.path.field(key)
        };
        PricingError::Input(place(self.src, self.file, &path, message))
    }

    /// A number >= 0 (integers and floats accepted).
    pub(crate) fn num(&self, key: &str) -> Result<Option<f64>, PricingError> {
        let v = match self.table.get(key) {
            None => return Ok(None),
            Some(Value::Integer(i)) => *i as f64,
            Some(Value::Float(f)) => *f,
            Some(other) => {
                return Err(self.err(
                    key,
                    format!("expected a number, found {}", other.type_str()),
                ))
            }
        };
        if !v.is_finite() {
            return Err(self.err(key, format!("{v} is not a finite number")));
        }
        if v < 0.0 {
            return Err(self.err(
                key,
                format!("{v} is negative: usage quantities must be >= 0"),
            ));
        }
        Ok(Some(v))
    }

    /// A number >= 0, or `default` when the key is absent.
    pub(crate) fn num_or(&self, key: &str, default: f64) -> Result<f64, PricingError> {
        Ok(self.num(key)?.unwrap_or(default))
    }

    /// A number within `[lo, hi]`.
    pub(crate) fn ranged(
        &self,
        key: &str,
        default: f64,
        lo: f64,
        hi: f64,
    ) -> Result<f64, PricingError> {
        let v = self.num_or(key, default)?;
        if v < lo || v > hi {
            return Err(self.err(key, format!("{v} is outside {lo} to {hi}")));
        }
        Ok(v)
    }

    /// A whole number >= 0 (a count: shards, consumers, messages per batch), or `None`
    /// when absent. `1.5` is refused rather than rounded.
    pub(crate) fn count(&self, key: &str) -> Result<Option<f64>, PricingError> {
        let v = self.num(key)?;
        match v {
            Some(x) if x.fract() != 0.0 => Err(self.err(
                key,
                format!("{x} is not a whole number: `{key}` counts things"),
            )),
            _ => Ok(v),
        }
    }

    /// A whole number >= 0, or `default` when absent.
    pub(crate) fn count_or(&self, key: &str, default: f64) -> Result<f64, PricingError> {
        Ok(self.count(key)?.unwrap_or(default))
    }

    /// A whole number within `[lo, hi]`, or `default` when absent.
    pub(crate) fn count_ranged(
        &self,
        key: &str,
        default: f64,
        lo: f64,
        hi: f64,
    ) -> Result<f64, PricingError> {
        self.count(key)?;
        self.ranged(key, default, lo, hi)
    }

    /// `true` or `false` (false when absent).
    pub(crate) fn flag(&self, key: &str) -> Result<bool, PricingError> {
        match self.table.get(key) {
            None => Ok(false),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(other) => Err(self.err(
                key,
                format!("expected true or false, found {}", other.type_str()),
            )),
        }
    }

    /// One of `options` (None when absent).
    pub(crate) fn choice<'c>(
        &self,
        key: &str,
        options: &[&'c str],
    ) -> Result<Option<&'c str>, PricingError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => options
                .iter()
                .copied()
                .find(|o| o == s)
                .map(Some)
                .ok_or_else(|| self.err(key, format!("\"{s}\" is not one of {}", quoted(options)))),
            Some(other) => Err(self.err(
                key,
                format!(
                    "expected one of {}, found {}",
                    quoted(options),
                    other.type_str()
                ),
            )),
        }
    }

    /// Hours per month the rate keys apply (default: the whole month).
    pub(crate) fn hours(&self) -> Result<f64, PricingError> {
        let h = self.num_or("hours", self.month_hours)?;
        if h > self.month_hours {
            return Err(self.err(
                "hours",
                format!("{h} hours is more than the {}-hour month", self.month_hours),
            ));
        }
        Ok(h)
    }

    /// True when the table gives `key`.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }
}

/// `"a", "b"`: options in a message.
fn quoted(options: &[&str]) -> String {
    options
        .iter()
        .map(|o| format!("\"{o}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// KiB to bytes.
pub(crate) fn kib(v: f64) -> f64 {
    v * 1024.0
}

/// A quantity rounded to a whole count (negative values to 0).
pub(crate) fn rounded(v: f64) -> u64 {
    v.round().max(0.0) as u64
}
