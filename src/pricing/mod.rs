//! Pricing: the dated price table, usage records and the monthly bill.
//!
//! A simulated run records the billable units it produced ([`Usage`]) over its measured
//! window; [`bill`] scales them to a month and prices them with a [`PriceTable`].

pub mod table;

pub use table::{Price, PriceTable, PricingError, Tier};

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Hours in the billing month used unless the user says otherwise (as AWS's pricing
/// calculator and infracost).
pub const DEFAULT_MONTH_HOURS: f64 = 730.0;

/// One line of a bill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BillLine {
    /// Service key (`sqs`, `sns`, `kinesis_data_streams`, `firehose`, `managed_flink`,
    /// `kinesis_video`, `lambda`).
    pub service: String,
    /// Component (model name) the line belongs to.
    pub component: String,
    /// What is billed, for example `standard requests (64 KiB chunks)`.
    pub item: String,
    /// Billable quantity per month, in `unit`s.
    pub quantity: f64,
    /// Unit of `quantity`.
    pub unit: String,
    /// Price of one unit, USD (the marginal tier price for tiered items).
    pub unit_usd: f64,
    /// Amount, USD per month.
    pub usd: f64,
}

/// Subtotals per service, USD per month.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
    /// AWS Lambda.
    pub lambda: f64,
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
            "lambda" => &mut self.lambda,
            _ => return,
        };
        *slot += usd;
    }
}

/// A monthly bill (the `cost` object of the JSON summary).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bill {
    /// Always `USD`.
    pub currency: String,
    /// Always `month`.
    pub period: String,
    /// Hours in the month the bill was scaled to.
    pub month_hours: f64,
    /// Price table used (name and date read).
    pub price_table: String,
    /// Total, USD per month.
    pub total: f64,
    /// Subtotals per service.
    pub services: ServiceTotals,
    /// The lines.
    pub lines: Vec<BillLine>,
}

impl Default for Bill {
    fn default() -> Self {
        Bill {
            currency: "USD".into(),
            period: "month".into(),
            month_hours: DEFAULT_MONTH_HOURS,
            price_table: String::new(),
            total: 0.0,
            services: ServiceTotals::default(),
            lines: Vec::new(),
        }
    }
}

impl Bill {
    /// An empty bill for a month of `month_hours` priced with `table`.
    pub fn new(month_hours: f64, table: &PriceTable) -> Self {
        Bill {
            month_hours,
            price_table: format!("{} (read {})", table.name, table.read_on),
            ..Bill::default()
        }
    }

    /// Adds a line and updates the totals.
    pub fn push(&mut self, line: BillLine) {
        self.total += line.usd;
        self.services.add(&line.service, line.usd);
        self.lines.push(line);
    }

    /// The bill as a readable table.
    pub fn to_table(&self) -> String {
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
        let mut s = crate::metrics::summary::render_table(&rows);
        let _ = writeln!(
            s,
            "total: ${:.2} per {}-hour month ({})",
            self.total, self.month_hours, self.price_table
        );
        s
    }
}

fn fmt_qty(q: f64) -> String {
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

/// Billable usage of one SQS queue over the measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SqsUsage {
    /// Queue name.
    pub name: String,
    /// FIFO queue (priced at the FIFO rate).
    pub fifo: bool,
    /// Billable requests: every API call, each 64 KiB chunk of payload counting as one
    /// request, empty receives included.
    pub requests: u64,
}

/// Billable usage of a run over its measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Length of the measured window, s.
    pub window_s: f64,
    /// SQS queues.
    pub sqs: Vec<SqsUsage>,
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

/// Prices `usage`, scaled from its window to a month.
///
/// # Formula
/// `monthly quantity = quantity × month_hours × 3600 / window_s`, then each price's tiers
/// (and, when enabled, its free allowance, shared by every component of the service).
pub fn bill(usage: &Usage, table: &PriceTable, opts: BillOptions) -> Result<Bill, PricingError> {
    let mut out = Bill::new(opts.month_hours, table);
    let scale = if usage.window_s > 0.0 {
        opts.month_hours * 3600.0 / usage.window_s
    } else {
        0.0
    };
    crate::services::sqs::pricing::bill_lines(&usage.sqs, scale, table, opts, &mut out)?;
    Ok(out)
}
