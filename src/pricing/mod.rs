//! Pricing: the dated price table, the meter that applies it and the monthly bill.
//!
//! Plain usage numbers in, bill lines out. This module knows no service: each service
//! prices its own usage in the `bill` module of its folder under [`crate::services`]
//! (functions with a `# Formula` section, such as
//! `crate::services::sqs::bill::bill_sqs`) by charging lines through a `Meter`, which
//! keeps the account-level state that crosses components: volume tiers, free tiers shared
//! by several prices, minimum commitments. The usage records are
//! [`crate::services::Usage`], and [`crate::services::bill`] runs every service's pricing
//! over a run's, a usage file's or an estimate's usage, so `aqueduct price` and `aqueduct
//! run` share one pricing path.

pub mod table;

pub use table::{Price, PriceTable, PricingError, Tier};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Hours in the billing month used unless the user says otherwise (as AWS's pricing
/// calculator and infracost).
pub const DEFAULT_MONTH_HOURS: f64 = 730.0;

/// The longest billing month: 31 days of 24 hours.
pub const MAX_MONTH_HOURS: f64 = 744.0;

/// Bytes in one GB as AWS bills data (2^30, the convention of aqueduct's sizes).
pub(crate) const BYTES_PER_GB: f64 = 1_073_741_824.0;

/// One line of a bill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BillLine {
    /// Service key (`sqs`, `sns`, `kinesis_data_streams`, `firehose`, `managed_flink`,
    /// `kinesis_video`, `lambda`, `s3`).
    pub service: String,
    /// Component (model or usage-file name) the line belongs to.
    pub component: String,
    /// What is billed, for example `standard requests (64 KiB chunks)`.
    pub item: String,
    /// Billable quantity per month, in `unit`s: net of the free tier when it is subtracted
    /// (so `quantity × unit_usd = usd` for an untiered price, to 12 significant digits). In
    /// JSON to 12 significant digits, without the float noise of a sum
    /// (`0.30000000000000004`).
    #[serde(serialize_with = "listed")]
    pub quantity: f64,
    /// Units the free tier covered (only with the free tier subtracted; absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub free_quantity: f64,
    /// Unit of `quantity`.
    pub unit: String,
    /// Price of one unit, USD (the marginal tier price for tiered items), as the price
    /// table lists it.
    #[serde(serialize_with = "listed")]
    pub unit_usd: f64,
    /// Amount, USD per month (exact in JSON, so that costs per unit can be derived from
    /// it; the text bill shows cents).
    pub usd: f64,
}

/// A billable quantity the price table cannot price (an UNCONFIRMED price, or usage above
/// the last known tier).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Unpriced {
    /// Service key.
    pub service: String,
    /// Component.
    pub component: String,
    /// What would be billed.
    pub item: String,
    /// Quantity per month, in `unit`s.
    pub quantity: f64,
    /// Unit of `quantity`.
    pub unit: String,
    /// Why it is not priced.
    pub reason: String,
}

/// Subtotals per service, USD per month.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceTotals {
    /// Amazon SQS.
    pub sqs: f64,
    /// Amazon SNS.
    pub sns: f64,
    /// Amazon Kinesis Data Streams.
    pub kinesis_data_streams: f64,
    /// Amazon Data Firehose.
    pub firehose: f64,
    /// Amazon Managed Service for Apache Flink.
    pub managed_flink: f64,
    /// Amazon Kinesis Video Streams.
    pub kinesis_video: f64,
    /// Amazon S3 (what Firehose writes).
    #[serde(default)]
    pub s3: f64,
    /// AWS Lambda.
    pub lambda: f64,
    /// Batch jobs, at the model's node-hour prices (absent when there are none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub batch_job: f64,
}

impl ServiceTotals {
    fn add(&mut self, service: &str, usd: f64) {
        let slot = match service {
            "sqs" => &mut self.sqs,
            "sns" => &mut self.sns,
            "kinesis_data_streams" => &mut self.kinesis_data_streams,
            "firehose" => &mut self.firehose,
            "managed_flink" => &mut self.managed_flink,
            "kinesis_video" => &mut self.kinesis_video,
            "s3" => &mut self.s3,
            "lambda" => &mut self.lambda,
            "batch_job" => &mut self.batch_job,
            _ => return,
        };
        *slot += usd;
    }

    /// `(service key, subtotal)` pairs in a fixed order.
    pub(crate) fn pairs(&self) -> [(&'static str, f64); 9] {
        [
            ("sqs", self.sqs),
            ("sns", self.sns),
            ("kinesis_data_streams", self.kinesis_data_streams),
            ("firehose", self.firehose),
            ("managed_flink", self.managed_flink),
            ("kinesis_video", self.kinesis_video),
            ("s3", self.s3),
            ("lambda", self.lambda),
            ("batch_job", self.batch_job),
        ]
    }
}

/// A monthly bill (the `cost` object of the JSON summary).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Bill {
    /// Always `USD`.
    pub currency: String,
    /// Always `month`.
    pub period: String,
    /// Hours in the month the bill was scaled to.
    pub month_hours: f64,
    /// The window the quantities were measured over, seconds (a run's measured duration;
    /// a month for a usage file).
    #[serde(default)]
    pub window_s: f64,
    /// How the window became the month: monthly quantity = window quantity × this factor
    /// (`month_hours × 3600 ÷ window_s`; the window is taken to repeat all month).
    #[serde(default)]
    pub month_factor: f64,
    /// Price table used (name and date read).
    pub price_table: String,
    /// Whether AWS's free tiers were subtracted.
    #[serde(default)]
    pub free_tier: bool,
    /// Total, USD per month (priced lines only).
    pub total: f64,
    /// Subtotals per service.
    pub services: ServiceTotals,
    /// The lines.
    pub lines: Vec<BillLine>,
    /// Billable quantities the table cannot price (not in `total`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unpriced: Vec<Unpriced>,
    /// A month composed of scenarios (a model's `[[scenario]]` tables): each one's hours
    /// and how its window filled them. Its lines name their scenario after the component
    /// (`orders [launch]`); `window_s` and `month_factor` are then 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<ScenarioShare>,
}

/// One scenario's part of a month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioShare {
    /// Its name.
    pub name: String,
    /// Hours of the month it stands for.
    pub hours: f64,
    /// Its measured window, seconds.
    pub window_s: f64,
    /// Its window quantities × this = its quantities in the month (`hours × 3600 ÷
    /// window_s`).
    pub month_factor: f64,
}

impl Bill {
    /// Checks that every number of the bill is finite.
    pub(crate) fn check_finite(&self) -> Result<(), PricingError> {
        let bad = |what: String, value: f64| {
            if value.is_finite() {
                Ok(())
            } else {
                Err(PricingError::Overflow { what, value })
            }
        };
        for l in &self.lines {
            let at = format!("{} {} {}", l.service, l.component, l.item);
            bad(format!("the quantity of {at}"), l.quantity)?;
            bad(format!("the unit price of {at}"), l.unit_usd)?;
            bad(format!("the amount of {at}"), l.usd)?;
        }
        for u in &self.unpriced {
            bad(
                format!("the quantity of {} {} {}", u.service, u.component, u.item),
                u.quantity,
            )?;
        }
        for (service, usd) in self.services.pairs() {
            bad(format!("the {service} subtotal"), usd)?;
        }
        bad("the total".into(), self.total)
    }
}

impl Default for Bill {
    fn default() -> Self {
        Bill {
            currency: "USD".into(),
            period: "month".into(),
            month_hours: DEFAULT_MONTH_HOURS,
            window_s: 0.0,
            month_factor: 0.0,
            price_table: String::new(),
            free_tier: false,
            total: 0.0,
            services: ServiceTotals::default(),
            lines: Vec::new(),
            unpriced: Vec::new(),
            scenarios: Vec::new(),
        }
    }
}

impl Bill {
    /// An empty bill for a month of `month_hours` priced with `table`.
    pub(crate) fn new(month_hours: f64, table: &PriceTable) -> Self {
        Bill {
            month_hours,
            price_table: format!("{} (read {})", table.name, table.read_on),
            ..Bill::default()
        }
    }

    /// Adds a line and updates the totals.
    pub(crate) fn push(&mut self, line: BillLine) {
        self.total += line.usd;
        self.services.add(&line.service, line.usd);
        self.lines.push(line);
    }

    /// The bill's lines as CSV, one row per line: `service, component, item, quantity,
    /// unit, unit_usd, usd, free_quantity` (the total is the sum of `usd`; quantities that
    /// cannot be priced are left out, as from the total). Numbers to 12 significant
    /// digits, so that none reads `730584.0000000001`.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut rows = vec![[
            "service",
            "component",
            "item",
            "quantity",
            "unit",
            "unit_usd",
            "usd",
            "free_quantity",
        ]
        .map(String::from)];
        for l in &self.lines {
            rows.push([
                l.service.clone(),
                l.component.clone(),
                l.item.clone(),
                table::as_listed(l.quantity).to_string(),
                l.unit.clone(),
                table::as_listed(l.unit_usd).to_string(),
                table::as_listed(l.usd).to_string(),
                table::as_listed(l.free_quantity).to_string(),
            ]);
        }
        for r in rows {
            // Writing to memory cannot fail.
            let _ = w.write_record(&r);
        }
        w.into_inner()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The bill as a readable table: lines, per-service subtotals, total, and what could
    /// not be priced.
    pub fn to_table(&self) -> String {
        self.to_table_width(crate::text::TEXT_WIDTH)
    }

    /// The bill as text, its table at most `width` columns wide (a long item wraps).
    pub fn to_table_width(&self, width: usize) -> String {
        let mut rows = vec![vec![
            "monthly cost".to_string(),
            "component".into(),
            "quantity".into(),
            "unit".into(),
            "USD/unit".into(),
            "USD".into(),
        ]];
        for l in &self.lines {
            rows.push(vec![
                format!("{}: {}", l.service, l.item),
                l.component.clone(),
                fmt_qty(l.quantity),
                l.unit.clone(),
                format!("{:.10}", l.unit_usd)
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string(),
                format!("{:.2}", l.usd),
            ]);
        }
        let mut s = crate::text::wrap_table(&rows, width);
        let subtotals: Vec<String> = self
            .services
            .pairs()
            .iter()
            .filter(|(k, v)| *v != 0.0 || self.lines.iter().any(|l| l.service == *k))
            .map(|(k, v)| format!("{k} ${v:.2}"))
            .collect();
        if !subtotals.is_empty() {
            let line = format!("subtotals: {}", subtotals.join(" · "));
            s.push_str(&crate::text::wrap(&line, width, 2));
        }
        // How the window became the month, unless it was a month already (a usage file).
        let month = self.month_hours * 3600.0;
        let scaled = if !self.scenarios.is_empty() {
            let parts: Vec<String> = self
                .scenarios
                .iter()
                .map(|s| {
                    if (s.month_factor - 1.0).abs() < 1e-9 {
                        // An estimate: its window is its hours.
                        format!("{} h of {}", s.hours, s.name)
                    } else {
                        format!(
                            "{} h of {} (its {} window repeated {}×)",
                            s.hours,
                            s.name,
                            crate::text::fmt_duration(crate::sim::SimDuration::from_secs_f64(
                                s.window_s
                            )),
                            fmt_factor(s.month_factor)
                        )
                    }
                })
                .collect();
            format!("; the month is {}", parts.join(", "))
        } else if self.window_s > 0.0 && (self.window_s - month).abs() > 1e-6 * month {
            format!(
                "; the {} measured window repeated {}× to fill it",
                crate::text::fmt_duration(crate::sim::SimDuration::from_secs_f64(self.window_s)),
                fmt_factor(self.month_factor)
            )
        } else {
            String::new()
        };
        let total = format!(
            "total: ${:.2} per {}-hour month ({}{}){scaled}",
            self.total,
            self.month_hours,
            self.price_table,
            if self.free_tier {
                ", free tier subtracted"
            } else {
                ""
            }
        );
        s.push_str(&crate::text::wrap(&total, width, 2));
        for u in &self.unpriced {
            let line = format!(
                "not priced: {}: {} ({}): {} {} per month — {}",
                u.service,
                u.item,
                u.component,
                fmt_qty(u.quantity),
                u.unit,
                u.reason
            );
            s.push_str(&crate::text::wrap(&line, width, 2));
        }
        s
    }
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// Serializes a quantity or unit price to 12 significant digits ([`table::as_listed`]).
fn listed<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(table::as_listed(*v))
}

/// A quantity with thousands separators when whole, else three decimals.
pub(crate) fn fmt_qty(q: f64) -> String {
    if q.fract() == 0.0 && q.abs() < 1e15 {
        let s = format!("{}", q as i64);
        // Thousands separators.
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 && c.is_ascii_digit() {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{q:.3}")
    }
}

/// Options of a bill.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BillOptions {
    /// Hours in a month.
    pub month_hours: f64,
    /// Subtract AWS's monthly free tiers.
    pub free_tier: bool,
}

impl Default for BillOptions {
    fn default() -> Self {
        BillOptions {
            month_hours: DEFAULT_MONTH_HOURS,
            free_tier: false,
        }
    }
}

/// Prices lines against a table, keeping the account-level state that crosses components
/// and services' lines: units billed so far per price (for volume tiers), free allowance
/// used per free pool, and the minimum commitments.
#[derive(Debug)]
pub(crate) struct Meter<'t> {
    table: &'t PriceTable,
    opts: BillOptions,
    scale: f64,
    /// The scenario whose usage is being charged, named after each line's component.
    part: Option<String>,
    /// Minimum commitments asked for while charging scenarios: evaluated once, at the end.
    deferred: Vec<(String, String)>,
    /// Monthly counts charged while charging scenarios (a channel active in any of them is
    /// active for the month): the largest per line, charged once at the end.
    per_month: Vec<((String, String, String, String), f64)>,
    billed: BTreeMap<String, f64>,
    free_used: BTreeMap<String, f64>,
    bill: Bill,
}

impl<'t> Meter<'t> {
    /// A meter for quantities measured over `window_s` seconds (scaled to a month of
    /// `opts.month_hours`).
    pub(crate) fn new(table: &'t PriceTable, opts: BillOptions, window_s: f64) -> Self {
        let scale = month_factor(opts.month_hours, window_s);
        let mut bill = Bill::new(opts.month_hours, table);
        bill.free_tier = opts.free_tier;
        bill.window_s = window_s;
        bill.month_factor = scale;
        Meter {
            table,
            opts,
            scale,
            part: None,
            deferred: Vec::new(),
            per_month: Vec::new(),
            billed: BTreeMap::new(),
            free_used: BTreeMap::new(),
            bill,
        }
    }

    /// The price table.
    pub(crate) fn table(&self) -> &'t PriceTable {
        self.table
    }

    /// Hours in the month.
    pub(crate) fn month_hours(&self) -> f64 {
        self.opts.month_hours
    }

    /// Charges what follows as scenario `name`, whose window quantities × `factor` are
    /// its quantities in the month; minimum commitments wait for [`Meter::finish`].
    pub(crate) fn scenario(&mut self, name: &str, hours: f64, window_s: f64) {
        let factor = month_factor(hours, window_s);
        self.scale = factor;
        self.part = Some(name.to_string());
        self.bill.window_s = 0.0;
        self.bill.month_factor = 0.0;
        self.bill.scenarios.push(ScenarioShare {
            name: name.to_string(),
            hours,
            window_s,
            month_factor: factor,
        });
    }

    /// Charges `qty` units of price `id` that are already a count for the month (not
    /// scaled by the window); in a month of scenarios, the largest count of any scenario,
    /// once.
    pub(crate) fn charge_per_month(
        &mut self,
        service: &str,
        component: &str,
        item: &str,
        id: &str,
        qty: f64,
    ) -> Result<(), PricingError> {
        if qty.is_nan() || qty <= 0.0 || self.scale <= 0.0 {
            return Ok(());
        }
        if self.part.is_none() {
            return self.charge_monthly(service, component, item, id, qty);
        }
        let key = (service.into(), component.into(), item.into(), id.into());
        match self.per_month.iter_mut().find(|(k, _)| *k == key) {
            Some((_, q)) => *q = q.max(qty),
            None => self.per_month.push((key, qty)),
        }
        Ok(())
    }

    /// Month ÷ window: the factor from window quantities to monthly quantities.
    pub(crate) fn scale(&self) -> f64 {
        self.scale
    }

    /// Charges `window_qty` units (measured over the window) of price `id` as a line.
    ///
    /// # Formula
    /// `q = window_qty × scale`. With the free tier on, `free = min(q, allowance left in
    /// the price's free pool)`. The line costs `cost(B + q − free) − cost(B)` where `B` is
    /// the units of `id` billed so far this month (by earlier lines: tiers are
    /// account-wide) and `cost` the tiered price. Units above `priced_up_to`, and every
    /// unit of an `[unconfirmed]` item, are listed as not priced. Zero quantities make no
    /// line.
    pub(crate) fn charge(
        &mut self,
        service: &str,
        component: &str,
        item: &str,
        id: &str,
        window_qty: f64,
    ) -> Result<(), PricingError> {
        if window_qty.is_nan() || window_qty <= 0.0 {
            return Ok(());
        }
        let qty = window_qty * self.scale;
        match &self.part {
            Some(part) => {
                let component = format!("{component} [{part}]");
                self.charge_monthly(service, &component, item, id, qty)
            }
            None => self.charge_monthly(service, component, item, id, qty),
        }
    }

    /// Charges `window_qty` units (measured over the window) at `unit_usd` each, a price
    /// the model gives (not the price table: no tiers, no free tier).
    pub(crate) fn charge_at_model_price(
        &mut self,
        service: &str,
        component: &str,
        item: &str,
        unit: &str,
        unit_usd: f64,
        window_qty: f64,
    ) {
        if window_qty.is_nan() || window_qty <= 0.0 || self.scale <= 0.0 {
            return;
        }
        let q = window_qty * self.scale;
        let component = match &self.part {
            Some(part) => format!("{component} [{part}]"),
            None => component.to_string(),
        };
        self.bill.push(BillLine {
            service: service.into(),
            component,
            item: item.into(),
            quantity: q,
            unit: unit.into(),
            unit_usd,
            usd: q * unit_usd,
            free_quantity: 0.0,
        });
    }

    fn charge_monthly(
        &mut self,
        service: &str,
        component: &str,
        item: &str,
        id: &str,
        qty: f64,
    ) -> Result<(), PricingError> {
        if let Some(u) = self.table.unconfirmed.get(id) {
            self.bill.unpriced.push(Unpriced {
                service: service.into(),
                component: component.into(),
                item: item.into(),
                quantity: qty,
                unit: u.unit.clone(),
                reason: u.note.clone(),
            });
            return Ok(());
        }
        let table = self.table;
        let price = table.prices.get(id).ok_or_else(|| {
            table.missing(
                id,
                &format!("{service} {component}: {item}"),
                service,
                component,
            )
        })?;
        let mut free = 0.0;
        if self.opts.free_tier && price.free_per_month > 0.0 {
            let used = self
                .free_used
                .entry(price.pool(id).to_string())
                .or_default();
            free = (price.free_per_month - *used).clamp(0.0, qty);
            *used += free;
        }
        let before = self.billed.get(id).copied().unwrap_or(0.0);
        let after = before + (qty - free);
        self.billed.insert(id.to_string(), after);
        let cap = price.priced_up_to.unwrap_or(f64::INFINITY);
        let (lo, hi) = (before.min(cap), after.min(cap));
        let usd = price.cost(hi, 0.0) - price.cost(lo, 0.0);
        if after > cap {
            self.bill.unpriced.push(Unpriced {
                service: service.into(),
                component: component.into(),
                item: item.into(),
                quantity: after - before.max(cap),
                unit: price.unit.clone(),
                reason: format!(
                    "the price table gives `{id}` only up to {} {} a month",
                    fmt_qty(cap),
                    price.unit
                ),
            });
        }
        self.bill.push(BillLine {
            service: service.into(),
            component: component.into(),
            item: if free > 0.0 {
                format!("{item}, after free tier")
            } else {
                item.to_string()
            },
            quantity: qty - free,
            free_quantity: free,
            unit: price.unit.clone(),
            unit_usd: price.marginal_usd(hi),
            usd,
        });
        Ok(())
    }

    /// Bills the shortfall of the account-level minimum commitment `id`, if the month's
    /// billed units of the prices it counts fall short of it.
    ///
    /// # Formula
    /// `committed = per_hour × month_hours`; `used = Σ units billed of each price in
    /// counts`; if `used < committed`, a line of `committed − used` units of the
    /// commitment's price.
    pub(crate) fn minimum(&mut self, service: &str, id: &str) -> Result<(), PricingError> {
        if self.part.is_some() {
            let d = &mut self.deferred;
            if !d.iter().any(|(s, i)| s == service && i == id) {
                d.push((service.to_string(), id.to_string()));
            }
            return Ok(());
        }
        let table = self.table;
        let m = table
            .minimums
            .get(id)
            .ok_or_else(|| table.missing(id, &format!("{service} account"), service, ""))?;
        let committed = m.per_hour * self.opts.month_hours;
        let used: f64 = m
            .counts
            .iter()
            .map(|c| self.billed.get(c).copied().unwrap_or(0.0))
            .sum();
        if used < committed {
            let item = format!("minimum commitment shortfall ({})", m.note);
            self.charge_monthly(service, "(account)", &item, &m.price, committed - used)?;
        }
        Ok(())
    }

    /// The bill so far (with the minimum commitments a month of scenarios deferred).
    pub(crate) fn finish(mut self) -> Result<Bill, PricingError> {
        // A month of scenarios: its monthly counts and minimum commitments, once.
        if self.part.take().is_some() {
            for ((service, component, item, id), q) in std::mem::take(&mut self.per_month) {
                self.charge_monthly(&service, &component, &item, &id, q)?;
            }
            for (service, id) in std::mem::take(&mut self.deferred) {
                self.minimum(&service, &id)?;
            }
        }
        self.bill.check_finite()?;
        Ok(self.bill)
    }
}

/// Bytes as GB (2^30 bytes).
pub(crate) fn gb(bytes: u64) -> f64 {
    bytes as f64 / BYTES_PER_GB
}

/// Window quantities × this = quantities over `hours` (0 for an empty window).
fn month_factor(hours: f64, window_s: f64) -> f64 {
    if window_s > 0.0 {
        hours * 3600.0 / window_s
    } else {
        0.0
    }
}

/// A month factor as a person reads it: `730`, `8,760`, `12.17`.
fn fmt_factor(f: f64) -> String {
    if f >= 100.0 || (f - f.round()).abs() < 1e-9 {
        fmt_qty(f.round())
    } else {
        format!("{f:.2}")
    }
}
