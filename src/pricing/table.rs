//! The price table: dated, sourced prices as data.
//!
//! The bundled table (`aws-us-east-1.toml`, compiled into the binary) is the only place
//! a price appears. A model or a usage file names a table with `prices = "aws-us-east-1"`
//! or a path to a file of the same format.
//!
//! A table has four sections:
//!
//! * `[price."ID"]`: a price with its unit, its tiers, its free tier (and the pool of prices
//!   that share that free tier), its source, confidence tag and date read;
//! * `[unconfirmed."ID"]`: a billable item whose price no source confirms; a
//!   bill that uses it lists it as *not priced* instead of inventing a number;
//! * `[minimum."ID"]`: an account-level minimum commitment (the shortfall is billed);
//! * `[quantity."ID"]`: a billing rule that is a number but not a price (50 GB of running
//!   storage per Flink KPU, the 10-minute minimum per Flink application start).

use crate::input::error::{FieldPath, ModelError, Seg};
use crate::input::{parse_toml, place};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The bundled US East (N. Virginia) price table.
pub(crate) const AWS_US_EAST_1: &str = include_str!("aws-us-east-1.toml");

/// Name of the bundled table.
pub(crate) const BUNDLED_NAME: &str = "aws-us-east-1";

/// A pricing problem (all of them bad input: exit code 2).
#[derive(Debug, Clone, thiserror::Error)]
pub enum PricingError {
    /// The table file cannot be read, parsed or validated (with its line and field).
    #[error("{0}")]
    Table(ModelError),
    /// A price the bill needs is not in the table.
    #[error("price table \"{table}\" has no price `{id}` (needed for {needed_for}); add a [price.\"{id}\"] entry to the table or use the bundled table aws-us-east-1")]
    Missing {
        /// Table name.
        table: String,
        /// Price id.
        id: String,
        /// What needed it (`SERVICE COMPONENT: ITEM`).
        needed_for: String,
        /// Service key of the line that needed it.
        service: String,
        /// Component (resource) name that needed it.
        component: String,
    },
    /// A usage file or a model cannot be priced (with its line and field).
    #[error("{0}")]
    Input(ModelError),
    /// A bill number is not finite (a quantity or a price so large that the amounts
    /// overflow): refused rather than printed as `$inf` or `$NaN`.
    #[error("the bill overflows: {what} is {value}; check the quantities and prices for values far beyond any real use")]
    Overflow {
        /// The bill number (`COMPONENT ITEM quantity`, `total`, ...).
        what: String,
        /// Its value.
        value: f64,
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
    /// What one unit is (`request`, `GB`, `shard-hour`, ...). GB = 2^30 bytes.
    pub unit: String,
    /// The tier prices are quoted per this many units (1, 1,000 or 1,000,000).
    #[serde(default = "one")]
    pub per: f64,
    /// Tiers in increasing `from`; the first starts at 0.
    pub tiers: Vec<Tier>,
    /// Units free each month under AWS's free tier (applied only when asked).
    #[serde(default)]
    pub free_per_month: f64,
    /// Prices naming the same pool share one free allowance (an account-level free tier
    /// such as Lambda's 400,000 GB-s for x86 and Arm together); default: the price's own id.
    #[serde(default)]
    pub free_pool: Option<String>,
    /// Units per month up to which the tiers are known; units above it are reported as
    /// not priced (no source gives the next tier's price). Default: no limit.
    #[serde(default)]
    pub priced_up_to: Option<f64>,
    /// Where the price comes from.
    pub source: String,
    /// Confidence tag: P (AWS's own page), P-tr (an AWS page read in translation or an
    /// older capture), P-copy (a verbatim copy of AWS's text), S (a secondary source).
    pub tag: String,
    /// Date the price was read (YYYY-MM-DD).
    pub read_on: String,
    /// Free text (rounding rules, what is included).
    #[serde(default)]
    pub note: String,
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
    pub(crate) fn cost(&self, quantity: f64, free: f64) -> f64 {
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

    /// The price of one unit at the tier holding unit number `at` (the marginal price
    /// after `at` billable units), USD.
    pub(crate) fn marginal_usd(&self, at: f64) -> f64 {
        self.tiers
            .iter()
            .rev()
            .find(|t| t.from < at)
            .or(self.tiers.first())
            .map(|t| as_listed(t.usd / self.per))
            .unwrap_or(0.0)
    }

    /// The free pool this price draws from.
    pub(crate) fn pool<'a>(&'a self, id: &'a str) -> &'a str {
        self.free_pool.as_deref().unwrap_or(id)
    }
}

/// A billable item no source prices (UNCONFIRMED).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unconfirmed {
    /// What one unit is.
    pub unit: String,
    /// Why it is not priced (what the sources say).
    pub note: String,
}

/// An account-level minimum commitment: each month the account pays for at least
/// `per_hour × month_hours` units of the prices in `counts`, the shortfall at `price`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Minimum {
    /// Price id the shortfall is billed at.
    pub price: String,
    /// Price ids whose billed units count toward the commitment.
    pub counts: Vec<String>,
    /// Committed units (of `price`) per hour.
    pub per_hour: f64,
    /// How `per_hour` is derived (for example `25 MiB/s × 3,600 s ÷ 1,024`).
    pub note: String,
    /// Where the commitment comes from.
    pub source: String,
    /// Confidence tag.
    pub tag: String,
    /// Date read.
    pub read_on: String,
}

/// A billing rule that is a number (not a price).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quantity {
    /// The value.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// Where it comes from.
    pub source: String,
    /// Confidence tag.
    pub tag: String,
    /// Date read.
    pub read_on: String,
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
    #[serde(default)]
    unconfirmed: BTreeMap<String, Unconfirmed>,
    #[serde(default)]
    minimum: BTreeMap<String, Minimum>,
    #[serde(default)]
    quantity: BTreeMap<String, Quantity>,
}

/// A table's text and its file name: where validation failures are placed.
#[derive(Clone, Copy)]
struct TableText<'a> {
    /// The table's TOML text.
    text: &'a str,
    /// The file, as shown in messages.
    file: &'a str,
}

impl TableText<'_> {
    /// The error `message` placed at `[section."id"].key`.
    fn err(&self, section: &str, id: &str, key: &str, message: String) -> PricingError {
        let path = FieldPath {
            segs: vec![
                Seg::Key(section.into()),
                Seg::Key(id.into()),
                Seg::Key(key.into()),
            ],
            name: None,
        };
        PricingError::Table(place(self.text, self.file, &path, message))
    }
}

/// Checks every `[price."ID"]` in id order: the price itself ([`check_price`]), that the
/// prices sharing a free pool give the same `free_per_month`, and that no id is also an
/// `[unconfirmed]` item.
fn check_prices(raw: &RawTable, at: TableText) -> Result<(), PricingError> {
    let mut pools: BTreeMap<&str, (&str, f64)> = BTreeMap::new();
    for (id, p) in &raw.price {
        check_price(id, p, at)?;
        let pool = p.pool(id);
        if let Some((first, amount)) = pools.get(pool) {
            if *amount != p.free_per_month {
                return Err(at.err(
                    "price",
                    id,
                    "free_per_month",
                    format!("prices `{first}` and `{id}` share the free pool `{pool}` but give different free_per_month ({amount} and {})", p.free_per_month),
                ));
            }
        } else {
            pools.insert(pool, (id, p.free_per_month));
        }
        if raw.unconfirmed.contains_key(id) {
            return Err(at.err(
                "unconfirmed",
                id,
                "unit",
                format!("`{id}` is both a price and an unconfirmed item: keep one"),
            ));
        }
    }
    Ok(())
}

/// Checks one price on its own: tiers that start at 0, increase and cost a finite
/// amount >= 0; `per` > 0; `free_per_month` >= 0; `priced_up_to` > 0 when given.
fn check_price(id: &str, p: &Price, at: TableText) -> Result<(), PricingError> {
    if p.tiers.is_empty() || p.tiers[0].from != 0.0 {
        return Err(at.err(
            "price",
            id,
            "tiers",
            format!("price `{id}`: tiers must start with from = 0"),
        ));
    }
    if p.tiers.iter().any(|t| !t.from.is_finite()) {
        return Err(at.err(
            "price",
            id,
            "tiers",
            format!("price `{id}`: tier `from` values must be finite numbers"),
        ));
    }
    if p.tiers.windows(2).any(|w| w[1].from <= w[0].from) {
        return Err(at.err(
            "price",
            id,
            "tiers",
            format!("price `{id}`: tier `from` values must increase"),
        ));
    }
    if p.tiers.iter().any(|t| !(t.usd >= 0.0 && t.usd.is_finite())) {
        return Err(at.err(
            "price",
            id,
            "tiers",
            format!("price `{id}`: tier prices must be finite and >= 0"),
        ));
    }
    if !(p.per > 0.0 && p.per.is_finite()) {
        return Err(at.err(
            "price",
            id,
            "per",
            format!("price `{id}`: `per` must be > 0"),
        ));
    }
    if !(p.free_per_month >= 0.0 && p.free_per_month.is_finite()) {
        return Err(at.err(
            "price",
            id,
            "free_per_month",
            format!("price `{id}`: free_per_month must be >= 0"),
        ));
    }
    if p.priced_up_to.is_some_and(|c| c.is_nan() || c <= 0.0) {
        return Err(at.err(
            "price",
            id,
            "priced_up_to",
            format!("price `{id}`: priced_up_to must be > 0"),
        ));
    }
    Ok(())
}

/// Checks one `[minimum."ID"]`: its shortfall is billed at a price of the table, and
/// `per_hour` is finite and >= 0.
fn check_minimum(id: &str, m: &Minimum, raw: &RawTable, at: TableText) -> Result<(), PricingError> {
    if !raw.price.contains_key(&m.price) {
        return Err(at.err(
            "minimum",
            id,
            "price",
            format!(
                "minimum `{id}` bills its shortfall at `{}`, which is not a price of the table",
                m.price
            ),
        ));
    }
    if !(m.per_hour >= 0.0 && m.per_hour.is_finite()) {
        return Err(at.err(
            "minimum",
            id,
            "per_hour",
            format!("minimum `{id}`: per_hour must be >= 0"),
        ));
    }
    Ok(())
}

/// A set of prices keyed by id (`sqs.standard.requests`, ...).
#[derive(Clone, Debug)]
pub struct PriceTable {
    /// Table name.
    pub name: String,
    /// The file it was read from (`bundled` for the compiled-in table).
    pub file: String,
    /// Currency (USD).
    pub currency: String,
    /// When the table was compiled (YYYY-MM-DD).
    pub read_on: String,
    /// Free-text notes.
    pub notes: String,
    /// Prices by id.
    pub prices: BTreeMap<String, Price>,
    /// Items known to be billable but not priced, by id.
    pub unconfirmed: BTreeMap<String, Unconfirmed>,
    /// Minimum commitments, by id.
    pub minimums: BTreeMap<String, Minimum>,
    /// Billing rules, by id.
    pub quantities: BTreeMap<String, Quantity>,
}

impl PriceTable {
    /// The bundled US East table.
    pub fn bundled() -> PriceTable {
        PriceTable::parse(BUNDLED_NAME, AWS_US_EAST_1)
            .expect("the bundled price table is valid (tested)")
    }

    /// A bundled table by name, or a table file by path (relative to `base`).
    pub fn resolve(spec: &str, base: &Path) -> Result<PriceTable, PricingError> {
        if spec == BUNDLED_NAME {
            return Ok(PriceTable::bundled());
        }
        let path = base.join(spec);
        let shown = path.display().to_string();
        let text = crate::input::read_text(&path).map_err(|e| {
            PricingError::Table(ModelError {
                file: shown.clone(),
                line: None,
                column: None,
                field: String::new(),
                message: format!("cannot read price table (bundled tables: {BUNDLED_NAME}): {e}"),
            })
        })?;
        PriceTable::parse(&shown, &text)
    }

    /// Parses a table; `file` is used in messages. The checks run in the order
    /// written in the file's sections: every price (`check_price`, then its free pool and
    /// its absence from `[unconfirmed]`), then every minimum (`check_minimum`).
    pub(crate) fn parse(file: &str, text: &str) -> Result<PriceTable, PricingError> {
        let raw: RawTable = parse_toml(text, file, None).map_err(|mut m| {
            m.message = format!("malformed price table: {}", m.message);
            PricingError::Table(m)
        })?;
        let at = TableText { text, file };
        check_prices(&raw, at)?;
        for (id, m) in &raw.minimum {
            check_minimum(id, m, &raw, at)?;
        }
        Ok(PriceTable {
            name: raw.name,
            file: if file == BUNDLED_NAME {
                "bundled".into()
            } else {
                file.to_string()
            },
            currency: raw.currency,
            read_on: raw.read_on,
            notes: raw.notes,
            prices: raw.price,
            unconfirmed: raw.unconfirmed,
            minimums: raw.minimum,
            quantities: raw.quantity,
        })
    }

    /// The billing rule `id` (a number), or an error naming what needed it.
    pub(crate) fn quantity(
        &self,
        id: &str,
        service: &str,
        component: &str,
    ) -> Result<f64, PricingError> {
        self.quantities
            .get(id)
            .map(|q| q.value)
            .ok_or_else(|| self.missing(id, &format!("{service} {component}"), service, component))
    }

    /// The error for a missing price or rule.
    pub(crate) fn missing(
        &self,
        id: &str,
        needed_for: &str,
        service: &str,
        component: &str,
    ) -> PricingError {
        PricingError::Missing {
            table: self.name.clone(),
            id: id.to_string(),
            needed_for: needed_for.to_string(),
            service: service.to_string(),
            component: component.to_string(),
        }
    }
}

/// A unit price as AWS lists it: `usd / per` to 12 significant digits, so that $0.40 per
/// million requests reads 0.0000004 and not 4.0000000000000003e-7 (the division's
/// rounding error; every listed price has far fewer digits).
fn as_listed(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(11 - x.abs().log10().floor() as i32);
    if !scale.is_finite() || scale == 0.0 {
        return x;
    }
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_parses() {
        let t = PriceTable::bundled();
        assert!(t.prices.contains_key("sqs.standard.requests"));
        assert_eq!(t.file, "bundled");
    }

    #[test]
    fn every_bundled_price_is_sourced_tagged_and_dated() {
        let t = PriceTable::bundled();
        for (id, p) in &t.prices {
            assert!(p.source.contains("http"), "{id} has no source URL");
            assert!(!p.tag.is_empty(), "{id} has no confidence tag");
            assert_eq!(p.read_on.len(), 10, "{id}: read_on must be YYYY-MM-DD");
            assert!(!p.unit.is_empty(), "{id} has no unit");
        }
        for (id, m) in &t.minimums {
            assert!(m.source.contains("http"), "{id} has no source URL");
        }
        for (id, q) in &t.quantities {
            assert!(q.source.contains("http"), "{id} has no source URL");
        }
    }

    fn price(tiers: &[(f64, f64)]) -> Price {
        Price {
            unit: "request".into(),
            per: 1e6,
            tiers: tiers
                .iter()
                .map(|&(from, usd)| Tier { from, usd })
                .collect(),
            free_per_month: 1e6,
            free_pool: None,
            priced_up_to: None,
            source: String::new(),
            tag: String::new(),
            read_on: String::new(),
            note: String::new(),
        }
    }

    #[test]
    fn tiers_split_quantity() {
        let p = price(&[(0.0, 0.40), (100e9, 0.30)]);
        // 150B requests: 100B × $0.40/M + 50B × $0.30/M = $40,000 + $15,000.
        assert!((p.cost(150e9, 0.0) - 55_000.0).abs() < 1e-6);
        // 1M free: 2M requests bill 1M × $0.40/M = $0.40.
        assert!((p.cost(2e6, 1e6) - 0.40).abs() < 1e-12);
        // The marginal price past 100B is the second tier's: $0.30/M.
        assert!((p.marginal_usd(150e9) - 0.30e-6).abs() < 1e-18);
        assert!((p.marginal_usd(0.0) - 0.40e-6).abs() < 1e-18);
    }

    #[test]
    fn malformed_table_names_line_and_field() {
        let src = "name = \"x\"\ncurrency = \"USD\"\nread_on = \"2026-01-01\"\n\n[price.\"a.b\"]\nunit = \"GB\"\ntiers = [{ from = 0, usd = \"cheap\" }]\nsource = \"s\"\ntag = \"S\"\nread_on = \"2026-01-01\"\n";
        let e = PriceTable::parse("t.toml", src).unwrap_err();
        let PricingError::Table(m) = e else {
            panic!("expected a table error")
        };
        assert_eq!(m.line, Some(7));
        assert!(m.field.contains("tiers"), "{}", m.field);
    }

    #[test]
    fn bad_tiers_are_placed() {
        let src = "name = \"x\"\ncurrency = \"USD\"\nread_on = \"2026-01-01\"\n\n[price.p]\nunit = \"GB\"\ntiers = [{ from = 5, usd = 1 }]\nsource = \"s\"\ntag = \"S\"\nread_on = \"2026-01-01\"\n";
        let PricingError::Table(m) = PriceTable::parse("t.toml", src).unwrap_err() else {
            panic!("expected a table error")
        };
        assert_eq!(m.line, Some(7));
        assert!(m.message.contains("from = 0"));
    }
}
