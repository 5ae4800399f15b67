//! The price table: dated, sourced prices as data.
//!
//! The bundled table (`aws-us-east-1.toml`, compiled into the binary) is the only place
//! a price appears. A model names a table with `prices = "aws-us-east-1"` or a path to a
//! file of the same format.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The bundled US East (N. Virginia) price table.
pub const AWS_US_EAST_1: &str = include_str!("aws-us-east-1.toml");

/// A price-table problem.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PricingError {
    /// The table file cannot be read or parsed.
    #[error("{file}: {message}")]
    Table {
        /// Table file.
        file: String,
        /// What is wrong (with line and column when known).
        message: String,
    },
    /// A price the bill needs is not in the table.
    #[error("price table \"{table}\" has no price `{id}` (needed for {needed_for})")]
    Missing {
        /// Table name.
        table: String,
        /// Price id.
        id: String,
        /// What needed it.
        needed_for: String,
    },
}

/// One tier: from `from` units per month (inclusive) the price is `usd` per `per` units.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// First unit (per month) at this price.
    pub from: f64,
    /// USD per `per` units.
    pub usd: f64,
}

/// One price.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// What one unit is (`request`, `GB`, `shard-hour`, ...).
    pub unit: String,
    /// The tier prices are quoted per this many units (1 or 1,000,000).
    #[serde(default = "one")]
    pub per: f64,
    /// Tiers in increasing `from`; the first starts at 0.
    pub tiers: Vec<Tier>,
    /// Units free each month under AWS's free tier (applied only when asked).
    #[serde(default)]
    pub free_per_month: f64,
    /// Where the price comes from.
    pub source: String,
    /// Confidence tag of the reference (P, P-tr, P-copy, S).
    pub tag: String,
    /// Date the price was read (YYYY-MM-DD).
    pub read_on: String,
}

fn one() -> f64 {
    1.0
}

impl Price {
    /// Cost of `quantity` units in a month, after `free` free units.
    ///
    /// # Formula
    /// `Σ_tiers (units of quantity falling in the tier) × usd / per`, where the first
    /// `free` units cost nothing and tiers are counted from the first billable unit.
    pub fn cost(&self, quantity: f64, free: f64) -> f64 {
        let billable = (quantity - free).max(0.0);
        let mut usd = 0.0;
        for (i, t) in self.tiers.iter().enumerate() {
            let end = self
                .tiers
                .get(i + 1)
                .map(|n| n.from)
                .unwrap_or(f64::INFINITY);
            let lo = t.from.max(0.0);
            if billable <= lo {
                break;
            }
            let units = billable.min(end) - lo;
            usd += units * t.usd / self.per;
        }
        usd
    }

    /// The price of one unit at the first tier, USD.
    pub fn unit_usd(&self) -> f64 {
        self.tiers.first().map(|t| t.usd / self.per).unwrap_or(0.0)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    name: String,
    currency: String,
    read_on: String,
    #[serde(default)]
    notes: String,
    price: BTreeMap<String, Price>,
}

/// A set of prices keyed by id (`sqs.standard.requests`, ...).
#[derive(Clone, Debug)]
pub struct PriceTable {
    /// Table name.
    pub name: String,
    /// Currency (USD).
    pub currency: String,
    /// When the table was compiled (YYYY-MM-DD).
    pub read_on: String,
    /// Free-text notes.
    pub notes: String,
    /// Prices by id.
    pub prices: BTreeMap<String, Price>,
}

impl PriceTable {
    /// The bundled US East table.
    pub fn bundled() -> PriceTable {
        PriceTable::parse("aws-us-east-1", AWS_US_EAST_1)
            .expect("the bundled price table is valid (tested)")
    }

    /// A bundled table by name, or a table file by path (relative to `base`).
    pub fn resolve(spec: &str, base: &Path) -> Result<PriceTable, PricingError> {
        if spec == "aws-us-east-1" {
            return Ok(PriceTable::bundled());
        }
        let path = base.join(spec);
        let text = std::fs::read_to_string(&path).map_err(|e| PricingError::Table {
            file: path.display().to_string(),
            message: format!("cannot read price table (bundled tables: aws-us-east-1): {e}"),
        })?;
        PriceTable::parse(&path.display().to_string(), &text)
    }

    /// Parses a table; `file` is used in messages.
    pub fn parse(file: &str, text: &str) -> Result<PriceTable, PricingError> {
        let raw: RawTable = toml::from_str(text).map_err(|e| PricingError::Table {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        for (id, p) in &raw.price {
            if p.tiers.is_empty() || p.tiers[0].from != 0.0 {
                return Err(PricingError::Table {
                    file: file.into(),
                    message: format!("price `{id}`: tiers must start with from = 0"),
                });
            }
            if p.tiers.windows(2).any(|w| w[1].from <= w[0].from) {
                return Err(PricingError::Table {
                    file: file.into(),
                    message: format!("price `{id}`: tier `from` values must increase"),
                });
            }
            if p.tiers.iter().any(|t| !(t.usd >= 0.0 && t.usd.is_finite())) || p.per <= 0.0 {
                return Err(PricingError::Table {
                    file: file.into(),
                    message: format!("price `{id}`: prices must be >= 0 and `per` > 0"),
                });
            }
        }
        Ok(PriceTable {
            name: raw.name,
            currency: raw.currency,
            read_on: raw.read_on,
            notes: raw.notes,
            prices: raw.price,
        })
    }

    /// The price `id`, or an error naming what needed it.
    pub fn get(&self, id: &str, needed_for: &str) -> Result<&Price, PricingError> {
        self.prices.get(id).ok_or_else(|| PricingError::Missing {
            table: self.name.clone(),
            id: id.to_string(),
            needed_for: needed_for.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_parses() {
        let t = PriceTable::bundled();
        assert!(t.prices.contains_key("sqs.standard.requests"));
    }

    #[test]
    fn tiers_split_quantity() {
        let p = Price {
            unit: "request".into(),
            per: 1e6,
            tiers: vec![
                Tier {
                    from: 0.0,
                    usd: 0.40,
                },
                Tier {
                    from: 100e9,
                    usd: 0.30,
                },
            ],
            free_per_month: 1e6,
            source: String::new(),
            tag: String::new(),
            read_on: String::new(),
        };
        // 150B requests: 100B × $0.40/M + 50B × $0.30/M = $40,000 + $15,000.
        assert!((p.cost(150e9, 0.0) - 55_000.0).abs() < 1e-6);
        // 1M free: 2M requests bill 1M × $0.40/M = $0.40.
        assert!((p.cost(2e6, 1e6) - 0.40).abs() < 1e-12);
    }
}
