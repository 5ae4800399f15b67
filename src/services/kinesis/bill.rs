//! Amazon Kinesis Data Streams pricing (<https://aws.amazon.com/kinesis/data-streams/pricing/>).

use crate::pricing::{gb, Meter, PricingError};
use serde::{Deserialize, Serialize};

/// Bytes in one PUT payload unit: 25 KB = 25,600 bytes.
///
/// "A PUT Payload Unit is counted in 25KB payload chunks": a 5 KB record is 1 unit, a
/// 45 KB record 2 units. AWS's "1 MB record = 40 units" holds for 1,000 KB (1,024,000 B =
/// 40 × 25,600); a full 1 MiB record (1,048,576 B) is 41 units. Source:
/// <http://aws.amazon.com/kinesis/pricing/> (old capture, P).
pub(crate) const PUT_PAYLOAD_UNIT_BYTES: u64 = 25 * 1024;

/// On-demand ingest rounding: each record is rounded up to 1 KB (1,024 B); "4.5 KB →
/// 5 KB". Source: <https://aws.amazon.com/kinesis/data-streams/pricing/> (P).
pub(crate) const ON_DEMAND_ROUNDING_BYTES: u64 = 1024;

/// PUT payload units of one record of `bytes` (data blob plus partition key).
///
/// # Formula
/// `max(1, ceil(bytes / 25,600))`.
pub(crate) fn put_payload_units(bytes: u64) -> u64 {
    bytes.div_ceil(PUT_PAYLOAD_UNIT_BYTES).max(1)
}

/// Billed bytes of one record written to an on-demand stream.
///
/// # Formula
/// `max(1, ceil(bytes / 1,024)) × 1,024`.
pub(crate) fn on_demand_billed_bytes(bytes: u64) -> u64 {
    bytes.div_ceil(ON_DEMAND_ROUNDING_BYTES).max(1) * ON_DEMAND_ROUNDING_BYTES
}

/// Retention included in every stream's price, hours: 24. Source:
/// <https://aws.amazon.com/kinesis/data-streams/pricing/>.
pub(crate) const INCLUDED_RETENTION_H: f64 = 24.0;

/// End of extended retention (24 hours to 7 days), hours: 168; data held longer is in
/// long-term retention (same source).
pub(crate) const EXTENDED_RETENTION_END_H: f64 = 168.0;

/// GB-hours held in extended and in long-term retention, in steady state, by a stream
/// that keeps data `retention_h` hours, per GB written.
///
/// # Formula
/// A stream writing at a steady rate holds `rate × (min(R, 168) − 24)` between 24 hours
/// and 7 days old and `rate × (R − 168)` beyond 7 days, so `gb` written over a window
/// hold `(gb × max(0, min(R, 168) − 24), gb × max(0, R − 168))` GB-hours over that window.
pub(crate) fn retention_gb_hours(gb: f64, retention_h: f64) -> (f64, f64) {
    (
        gb * (retention_h.min(EXTENDED_RETENTION_END_H) - INCLUDED_RETENTION_H).max(0.0),
        gb * (retention_h - EXTENDED_RETENTION_END_H).max(0.0),
    )
}

/// A stream's capacity mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamMode {
    /// Provisioned shards.
    #[default]
    Provisioned,
    /// On-demand Standard.
    OnDemand,
    /// On-demand Advantage (account-level setting, Nov 2025).
    OnDemandAdvantage,
}

impl StreamMode {
    /// The mode's name in model and usage files.
    pub(crate) fn key(self) -> &'static str {
        match self {
            StreamMode::Provisioned => "provisioned",
            StreamMode::OnDemand => "on_demand",
            StreamMode::OnDemandAdvantage => "on_demand_advantage",
        }
    }

    /// The mode of a name in model and usage files ([`Self::key`]); any other name is
    /// provisioned.
    pub(crate) fn from_key(key: &str) -> Self {
        match key {
            "on_demand" => StreamMode::OnDemand,
            "on_demand_advantage" => StreamMode::OnDemandAdvantage,
            _ => StreamMode::Provisioned,
        }
    }
}

/// A stream's hour-based quantities over a window, all from its open shard-hours: what a
/// run measures, what the estimate expects and what a usage file gives are turned into
/// these by [`shard_hour_usage`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ShardHourUsage {
    /// Open shards × hours (billed for provisioned streams; informative on demand).
    pub(crate) shard_hours: f64,
    /// On-demand Standard: hours the stream existed (0 for the other modes).
    pub(crate) stream_hours: f64,
    /// Enhanced fan-out: registered consumers × shard-hours.
    pub(crate) efo_consumer_shard_hours: f64,
    /// Provisioned: the shard-hours, when the retention is above the included 24 hours.
    pub(crate) extended_retention_shard_hours: f64,
}

/// The hour-based quantities of a stream in `mode` with `shard_hours` open shard-hours
/// over a window of `window_h` hours, `efo_consumers` registered enhanced fan-out
/// consumers and a retention of `retention_h` hours.
///
/// # Formula
/// Stream-hours `= window_h` (on-demand Standard), consumer-shard-hours `= shard_hours ×
/// efo_consumers`, extended-retention shard-hours `= shard_hours` when provisioned and
/// `retention_h > 24` ([`INCLUDED_RETENTION_H`]), else 0.
pub(crate) fn shard_hour_usage(
    mode: StreamMode,
    shard_hours: f64,
    window_h: f64,
    efo_consumers: f64,
    retention_h: f64,
) -> ShardHourUsage {
    ShardHourUsage {
        shard_hours,
        stream_hours: if mode == StreamMode::OnDemand {
            window_h
        } else {
            0.0
        },
        efo_consumer_shard_hours: shard_hours * efo_consumers,
        extended_retention_shard_hours: if mode == StreamMode::Provisioned
            && retention_h > INCLUDED_RETENTION_H
        {
            shard_hours
        } else {
            0.0
        },
    }
}

/// Billable usage of one Kinesis data stream over the measured window. Fields that do not
/// apply to the stream's mode are ignored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KinesisStreamUsage {
    /// Stream name.
    pub name: String,
    /// Capacity mode.
    pub mode: StreamMode,
    /// Provisioned: open shards × hours (shard-hours).
    pub shard_hours: f64,
    /// On-demand Standard: hours the stream existed (stream-hours).
    pub stream_hours: f64,
    /// Provisioned: PUT payload units written (see `put_payload_units`).
    pub put_payload_units: u64,
    /// On-demand: bytes written, each record rounded up to 1 KiB (see
    /// `on_demand_billed_bytes`).
    pub bytes_in_billed: u64,
    /// On-demand: bytes read by shared-throughput (GetRecords) consumers.
    pub bytes_out: u64,
    /// Enhanced fan-out: registered consumers × shards × hours (consumer-shard-hours).
    pub efo_consumer_shard_hours: f64,
    /// Enhanced fan-out: bytes pushed to consumers (summed over consumers).
    pub efo_bytes: u64,
    /// Provisioned: shard-hours while the retention period is above 24 hours (up to 7
    /// days).
    pub extended_retention_shard_hours: f64,
    /// On-demand: data held between 24 hours and 7 days old, GB × hours over the window
    /// (GB = 2^30 B). On-demand Advantage prices all retention beyond 24 hours alike.
    pub extended_retention_gb_hours: f64,
    /// Data held beyond 7 days, GB × hours over the window.
    pub long_term_retention_gb_hours: f64,
    /// Bytes read that were older than 7 days (price UNCONFIRMED).
    pub long_term_retrieval_bytes: u64,
}

/// Bill lines for Kinesis data streams.
///
/// # Formula
/// Provisioned: `shard-hours × $/shard-hour + PUT units × $/unit + extended-retention
/// shard-hours × $/shard-hour + long-term GB-months × $/GB-month + EFO consumer-shard-hours
/// × $/hour + EFO GB × $/GB`. On-demand Standard: `stream-hours × $/hour + GB in (1 KB per
/// record) × $/GB + GB out × $/GB + EFO GB × $/GB + extended and long-term GB-months ×
/// $/GB-month`. On-demand Advantage: no stream-hour; discounted GB in, GB out, EFO GB and
/// one retention rate beyond 24 hours; when any stream uses it, the account pays at least
/// its minimum commitment (25 MiB/s ingest and 25 MiB/s retrieval: see
/// [`Meter::minimum`]). GB-months = GB-hours ÷ month hours. Long-term retrieval is listed
/// as not priced. No free tier.
pub(crate) fn bill_kinesis(
    streams: &[KinesisStreamUsage],
    m: &mut Meter,
) -> Result<(), PricingError> {
    for s in streams {
        let prices = match s.mode {
            StreamMode::Provisioned => "kinesis.provisioned",
            StreamMode::OnDemand => "kinesis.on_demand",
            StreamMode::OnDemandAdvantage => "kinesis.on_demand_advantage",
        };
        match s.mode {
            StreamMode::Provisioned => charge_provisioned(s, prices, m)?,
            StreamMode::OnDemand | StreamMode::OnDemandAdvantage => charge_on_demand(s, prices, m)?,
        }
        charge_fan_out_and_retrieval(s, prices, m)?;
    }
    if streams
        .iter()
        .any(|s| s.mode == StreamMode::OnDemandAdvantage)
    {
        m.minimum(S, "kinesis.on_demand_advantage.ingest_commitment")?;
        m.minimum(S, "kinesis.on_demand_advantage.retrieval_commitment")?;
    }
    Ok(())
}

/// The service key of the bill lines.
const S: &str = "kinesis_data_streams";

/// The price id of `item` under the mode's prices (`kinesis.provisioned.shard_hours`).
fn price_id(prices: &str, item: &str) -> String {
    format!("{prices}.{item}")
}

/// The lines of a provisioned stream: shard-hours, PUT payload units, extended retention
/// (shard-hours) and long-term retention (GB-months).
fn charge_provisioned(
    s: &KinesisStreamUsage,
    prices: &str,
    m: &mut Meter,
) -> Result<(), PricingError> {
    let (n, mh) = (s.name.as_str(), m.month_hours());
    let id = |item: &str| price_id(prices, item);
    m.charge(S, n, "shard-hours", &id("shard_hours"), s.shard_hours)?;
    m.charge(
        S,
        n,
        "PUT payload units (25 KB)",
        &id("put_payload_units"),
        s.put_payload_units as f64,
    )?;
    m.charge(
        S,
        n,
        "extended retention (24 h to 7 d)",
        &id("extended_retention"),
        s.extended_retention_shard_hours,
    )?;
    m.charge(
        S,
        n,
        "long-term retention (over 7 d)",
        &id("long_term_retention"),
        s.long_term_retention_gb_hours / mh,
    )
}

/// The lines of an on-demand stream: stream-hours (Standard only), GB in and out, and
/// retention in GB-months (Standard: extended and long-term apart; Advantage: one line).
fn charge_on_demand(
    s: &KinesisStreamUsage,
    prices: &str,
    m: &mut Meter,
) -> Result<(), PricingError> {
    let (n, mh) = (s.name.as_str(), m.month_hours());
    let id = |item: &str| price_id(prices, item);
    let standard = s.mode == StreamMode::OnDemand;
    if standard {
        m.charge(S, n, "stream-hours", &id("stream_hours"), s.stream_hours)?;
    }
    m.charge(
        S,
        n,
        "data in (1 KB per record)",
        &id("data_in"),
        gb(s.bytes_in_billed),
    )?;
    m.charge(S, n, "data out", &id("data_out"), gb(s.bytes_out))?;
    if standard {
        m.charge(
            S,
            n,
            "extended retention (24 h to 7 d)",
            &id("extended_retention"),
            s.extended_retention_gb_hours / mh,
        )?;
        m.charge(
            S,
            n,
            "long-term retention (over 7 d)",
            &id("long_term_retention"),
            s.long_term_retention_gb_hours / mh,
        )
    } else {
        m.charge(
            S,
            n,
            "retention beyond 24 h",
            &id("retention"),
            (s.extended_retention_gb_hours + s.long_term_retention_gb_hours) / mh,
        )
    }
}

/// The lines every mode has: enhanced fan-out consumer-shard-hours and data, and the
/// (unpriced) long-term retrieval.
fn charge_fan_out_and_retrieval(
    s: &KinesisStreamUsage,
    prices: &str,
    m: &mut Meter,
) -> Result<(), PricingError> {
    let n = s.name.as_str();
    let id = |item: &str| price_id(prices, item);
    m.charge(
        S,
        n,
        "enhanced fan-out consumer-shard-hours",
        &id("efo_consumer_shard_hours"),
        s.efo_consumer_shard_hours,
    )?;
    m.charge(
        S,
        n,
        "enhanced fan-out data",
        &id("efo_data"),
        gb(s.efo_bytes),
    )?;
    m.charge(
        S,
        n,
        "long-term retrieval (data over 7 d old)",
        "kinesis.long_term_retrieval",
        gb(s.long_term_retrieval_bytes),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{BillOptions, PriceTable, BYTES_PER_GB};
    use crate::services::{bill, Usage};

    fn bill_for(streams: Vec<KinesisStreamUsage>, month_hours: f64) -> crate::pricing::Bill {
        let usage = Usage {
            window_s: month_hours * 3600.0,
            kinesis: streams,
            ..Usage::default()
        };
        let opts = BillOptions {
            month_hours,
            free_tier: true,
        };
        bill(&usage, &PriceTable::bundled(), opts).unwrap()
    }

    #[test]
    fn put_payload_units_at_the_boundaries() {
        // AWS's examples: 5 KB → 1 unit, 45 KB → 2 units.
        assert_eq!(put_payload_units(5 * 1024), 1);
        assert_eq!(put_payload_units(45 * 1024), 2);
        // 25 KB is one unit, one byte more is two.
        assert_eq!(put_payload_units(25 * 1024), 1);
        assert_eq!(put_payload_units(25 * 1024 + 1), 2);
        // "1 MB → 40 units": 1,000 KB = 1,024,000 B = 40 × 25,600 B.
        assert_eq!(put_payload_units(1000 * 1024), 40);
        // A full 1 MiB record (1,048,576 B = 40.96 units) is 41.
        assert_eq!(put_payload_units(1 << 20), 41);
        // An empty record still costs one unit.
        assert_eq!(put_payload_units(0), 1);
    }

    #[test]
    fn retention_tiers_in_steady_state() {
        // 100 GB written, kept 200 h: each GB is held 144 h between 24 h and 7 days old
        // (14,400 GB-hours) and 32 h beyond 7 days (3,200 GB-hours). The included 24 h
        // costs nothing: kept 24 h, nothing; kept 48 h, 24 h of extended retention.
        assert_eq!(retention_gb_hours(100.0, 200.0), (14_400.0, 3_200.0));
        assert_eq!(retention_gb_hours(100.0, 24.0), (0.0, 0.0));
        assert_eq!(retention_gb_hours(100.0, 48.0), (2_400.0, 0.0));
    }

    #[test]
    fn on_demand_rounds_each_record_to_1kb() {
        // AWS's example: 4.5 KB → 5 KB.
        assert_eq!(on_demand_billed_bytes(4608), 5 * 1024);
        assert_eq!(on_demand_billed_bytes(1024), 1024);
        assert_eq!(on_demand_billed_bytes(1025), 2048);
        assert_eq!(on_demand_billed_bytes(1), 1024);
    }

    #[test]
    fn provisioned_month() {
        // 2 shards for 730 h = 1,460 shard-hours × $0.015 = $21.90;
        // 100 records/s of 30 KB (2 units) for 730 h = 262.8M records = 525.6M units
        // × $0.014/M = $7.3584. Total $29.2584.
        let s = KinesisStreamUsage {
            name: "clicks".into(),
            shard_hours: 1460.0,
            put_payload_units: 525_600_000,
            ..KinesisStreamUsage::default()
        };
        let b = bill_for(vec![s], 730.0);
        assert!((b.total - 29.2584).abs() < 1e-9, "{}", b.total);
        assert_eq!(b.services.kinesis_data_streams, b.total);
    }

    #[test]
    fn on_demand_standard_month() {
        // 730 stream-hours × $0.04 = $29.20; 100 GB in × $0.08 = $8.00; 200 GB out × $0.04
        // = $8.00; 100 GB EFO × $0.05 = $5.00. 100 GB held 24 h–7 d all month (73,000
        // GB-hours ÷ 730 = 100 GB-months) × $0.10 = $10.00. Total $60.20.
        let s = KinesisStreamUsage {
            name: "od".into(),
            mode: StreamMode::OnDemand,
            stream_hours: 730.0,
            bytes_in_billed: 100 * BYTES_PER_GB as u64,
            bytes_out: 200 * BYTES_PER_GB as u64,
            efo_bytes: 100 * BYTES_PER_GB as u64,
            extended_retention_gb_hours: 73_000.0,
            ..KinesisStreamUsage::default()
        };
        let b = bill_for(vec![s], 730.0);
        assert!((b.total - 60.20).abs() < 1e-9, "{}", b.total);
    }

    #[test]
    fn advantage_minimum_commitment_is_about_101_dollars_a_day() {
        // AWS (Big Data Blog, 2026): "about $100 a day". The check: 25 MiB/s × 86,400 s
        // = 2,109.375 GiB/day × ($0.032 + $0.016) = $101.25/day. An idle Advantage stream
        // over a one-day (24-hour) billing period pays exactly that shortfall.
        let s = KinesisStreamUsage {
            name: "adv".into(),
            mode: StreamMode::OnDemandAdvantage,
            ..KinesisStreamUsage::default()
        };
        let b = bill_for(vec![s.clone()], 24.0);
        assert!((b.total - 101.25).abs() < 1e-9, "{}", b.total);
        assert_eq!(b.lines.len(), 2);
        // Traffic above the commitment pays no shortfall: 3,000 GB in and 3,000 GB out in
        // a day: 3,000 × $0.032 + 3,000 × $0.016 = $96 + $48 = $144.
        let busy = KinesisStreamUsage {
            bytes_in_billed: 3000 * BYTES_PER_GB as u64,
            bytes_out: 3000 * BYTES_PER_GB as u64,
            ..s.clone()
        };
        let b = bill_for(vec![busy], 24.0);
        assert!((b.total - 144.0).abs() < 1e-9, "{}", b.total);
        // Half the ingest commitment used (1,054.6875 GB): the line pays for it, the
        // shortfall line for the other half; ingest still totals $67.50.
        let half = KinesisStreamUsage {
            bytes_in_billed: (1054.6875 * BYTES_PER_GB) as u64,
            ..s
        };
        let b = bill_for(vec![half], 24.0);
        assert!((b.total - 101.25).abs() < 1e-9, "{}", b.total);
        assert_eq!(b.lines.len(), 3);
    }

    #[test]
    fn unconfirmed_retrieval_is_listed() {
        let s = KinesisStreamUsage {
            name: "s".into(),
            shard_hours: 730.0,
            long_term_retrieval_bytes: 10 * BYTES_PER_GB as u64,
            ..KinesisStreamUsage::default()
        };
        let b = bill_for(vec![s], 730.0);
        assert_eq!(b.unpriced.len(), 1);
        assert_eq!(b.unpriced[0].quantity, 10.0);
        // 730 shard-hours × $0.015 = $10.95 only.
        assert!((b.total - 10.95).abs() < 1e-9);
    }
}
