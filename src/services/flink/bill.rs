//! Amazon Managed Service for Apache Flink pricing
//! (<https://docs.aws.amazon.com/managed-flink/latest/java/how-pricing.html>).

use crate::pricing::{Meter, PricingError};
use serde::{Deserialize, Serialize};

/// One application run (from a start to a stop) inside the measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FlinkRun {
    /// How many identical runs this record stands for (1 for a simulated run; a usage file
    /// says "30 starts of 5 minutes" as one record).
    pub count: f64,
    /// Running time of each run inside the window, s.
    pub seconds: f64,
    /// Mean application KPUs during the run (`Parallelism / ParallelismPerKPU`), the
    /// orchestration KPU excluded.
    pub kpus: f64,
    /// The run started inside the window (and stopped, or is a usage-file run of a known
    /// length), so the 10-minute minimum per start applies. A run already going when the
    /// window opens, or still going when it closes, is billed by the second only.
    pub whole: bool,
}

/// Billable usage of one Flink application over the measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FlinkUsage {
    /// Application name.
    pub name: String,
    /// Its runs.
    pub runs: Vec<FlinkRun>,
    /// Durable application backups held, GB × hours over the window (GB = 2^30 B).
    pub backup_gb_hours: f64,
}

/// Billed seconds of one run of `seconds`: per-second billing with a minimum of
/// `minimum_s` (600 s) for a run that started in the window.
///
/// # Formula
/// `max(seconds, minimum_s)` if `whole`, else `seconds`.
pub(crate) fn billed_seconds(seconds: f64, whole: bool, minimum_s: f64) -> f64 {
    if whole {
        seconds.max(minimum_s)
    } else {
        seconds
    }
}

/// Bill lines for Flink applications.
///
/// # Formula
/// For each run: `billed_s = max(seconds, 600)` if it started in the window, else
/// `seconds`. `application KPU-hours = Σ count × billed_s × kpus / 3600`;
/// `orchestration KPU-hours = Σ count × billed_s × 1 / 3600`; both at
/// `managed_flink.kpu_hours`. Running storage: `Σ count × seconds × kpus × 50 GB / 3600`
/// GB-hours ÷ month hours = GB-months at `managed_flink.running_storage`; backups:
/// GB-hours ÷ month hours at `managed_flink.backups`. The 50 GB, the orchestration KPU
/// and the 600 s come from the table's `[quantity]` section. No free tier.
pub(crate) fn bill_flink(apps: &[FlinkUsage], m: &mut Meter) -> Result<(), PricingError> {
    const S: &str = "managed_flink";
    for a in apps {
        let n = a.name.as_str();
        let t = m.table();
        let min_s = t.quantity("managed_flink.minimum_seconds_per_start", S, n)?;
        let orch = t.quantity("managed_flink.orchestration_kpus_per_application", S, n)?;
        let gb_per_kpu = t.quantity("managed_flink.running_storage_gb_per_kpu", S, n)?;
        let mut app_kpu_h = 0.0;
        let mut orch_kpu_h = 0.0;
        let mut storage_gb_h = 0.0;
        for r in &a.runs {
            let billed = billed_seconds(r.seconds, r.whole, min_s);
            app_kpu_h += r.count * billed * r.kpus / 3600.0;
            orch_kpu_h += r.count * billed * orch / 3600.0;
            storage_gb_h += r.count * r.seconds * r.kpus * gb_per_kpu / 3600.0;
        }
        m.charge(
            S,
            n,
            "application KPU-hours",
            "managed_flink.kpu_hours",
            app_kpu_h,
        )?;
        m.charge(
            S,
            n,
            "orchestration KPU-hours",
            "managed_flink.kpu_hours",
            orch_kpu_h,
        )?;
        m.charge(
            S,
            n,
            "running application storage (50 GB per KPU)",
            "managed_flink.running_storage",
            storage_gb_h / m.month_hours(),
        )?;
        m.charge(
            S,
            n,
            "durable application backups",
            "managed_flink.backups",
            a.backup_gb_hours / m.month_hours(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{BillOptions, PriceTable};
    use crate::services::{bill, Usage};

    fn month(apps: Vec<FlinkUsage>) -> crate::pricing::Bill {
        let usage = Usage {
            window_s: 730.0 * 3600.0,
            flink: apps,
            ..Usage::default()
        };
        bill(&usage, &PriceTable::bundled(), BillOptions::default()).unwrap()
    }

    fn app(runs: Vec<FlinkRun>) -> FlinkUsage {
        FlinkUsage {
            name: "app".into(),
            runs,
            backup_gb_hours: 0.0,
        }
    }

    #[test]
    fn aws_per_second_examples() {
        // how-pricing.html: "an application running for 20 minutes and 10 seconds will be
        // charged for 20 minutes and 10 seconds"; "an application that is running for 5
        // minutes will be charged the ten-minute minimum"; "15 minutes corresponds to 0.25
        // hours".
        assert_eq!(billed_seconds(1210.0, true, 600.0), 1210.0);
        assert_eq!(billed_seconds(300.0, true, 600.0), 600.0);
        assert_eq!(billed_seconds(900.0, true, 600.0) / 3600.0, 0.25);
        // A run that was already going when the window opened has no minimum.
        assert_eq!(billed_seconds(300.0, false, 600.0), 300.0);
    }

    #[test]
    fn ten_minute_minimum_per_start() {
        // 30 starts of 5 minutes with 2 KPUs: each billed 10 minutes × (2 + 1) KPUs =
        // 0.5 KPU-hour; 30 × 0.5 = 15 KPU-hours × $0.11 = $1.65. Running storage is for
        // the time actually run: 30 × 300 s × 2 KPU × 50 GB / 3,600 = 250 GB-hours ÷ 730 =
        // 0.34247 GB-months × $0.10 = $0.034247.
        let b = month(vec![app(vec![FlinkRun {
            count: 30.0,
            seconds: 300.0,
            kpus: 2.0,
            whole: true,
        }])]);
        let kpu = b.lines[0].usd + b.lines[1].usd;
        assert!((kpu - 1.65).abs() < 1e-12, "{kpu}");
        assert!((b.lines[2].usd - 250.0 / 730.0 * 0.10).abs() < 1e-12);
        // The same runs at 11 minutes are billed by the second: 30 × 660 s × 3 KPU /
        // 3,600 = 16.5 KPU-hours × $0.11 = $1.815.
        let b = month(vec![app(vec![FlinkRun {
            count: 30.0,
            seconds: 660.0,
            kpus: 2.0,
            whole: true,
        }])]);
        assert!((b.lines[0].usd + b.lines[1].usd - 1.815).abs() < 1e-12);
    }

    #[test]
    fn always_on_application_month() {
        // 4 KPUs all month (730 h): (4 + 1) × 730 = 3,650 KPU-hours × $0.11 = $401.50;
        // storage 4 × 50 GB = 200 GB-months × $0.10 = $20; backups 10 GB held all month =
        // 7,300 GB-hours ÷ 730 = 10 GB-months × $0.023 = $0.23. Total $421.73.
        let mut a = app(vec![FlinkRun {
            count: 1.0,
            seconds: 730.0 * 3600.0,
            kpus: 4.0,
            whole: false,
        }]);
        a.backup_gb_hours = 7300.0;
        let b = month(vec![a]);
        assert!((b.total - 421.73).abs() < 1e-9, "{}", b.total);
        assert_eq!(b.services.managed_flink, b.total);
    }
}
