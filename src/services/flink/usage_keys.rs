//! The keys of a Managed Service for Apache Flink application in a usage file
//! (`[flink.NAME]`, see `src/pricing/USAGE.md`) and their conversion to a [`FlinkUsage`].

use crate::pricing::PricingError;
use crate::services::flink::bill::{FlinkRun, FlinkUsage};
use crate::services::usage_keys::UsageTable;

/// The keys of `[flink.NAME]`.
pub(crate) const KEYS: &[&str] = &[
    "kpus",
    "kinesis_processing_units",
    "parallelism",
    "parallelism_per_kpu",
    "hours",
    "monthly_starts",
    "run_minutes",
    "backup_gb",
    "durable_application_backup_gb",
];

/// Reads `[flink.NAME]`.
///
/// # Formula
/// KPUs as given, or `ceil(parallelism / parallelism_per_kpu)` (default 1); one run of
/// `hours`, or `monthly_starts` runs of `run_minutes` each; backup GB-hours `backup_gb ×
/// month hours`.
pub(crate) fn read(r: &UsageTable) -> Result<FlinkUsage, PricingError> {
    let kpus = kpus(r)?;
    let run = run(r, kpus)?;
    let backup = r
        .num("backup_gb")?
        .or(r.num("durable_application_backup_gb")?)
        .unwrap_or(0.0);
    Ok(FlinkUsage {
        name: r.name.into(),
        runs: vec![run],
        backup_gb_hours: backup * r.month_hours,
    })
}

/// The application's KPUs: `kpus` (or its alias), or from its parallelism.
fn kpus(r: &UsageTable) -> Result<f64, PricingError> {
    // Read (and checked) whether or not it is used, so that a mistyped value is refused.
    let per = r.count_ranged("parallelism_per_kpu", 1.0, 1.0, 8.0)?;
    if r.has("parallelism_per_kpu") && !r.has("parallelism") {
        return Err(r.err(
            "parallelism_per_kpu",
            "parallelism_per_kpu applies to `parallelism`, which is not given: KPUs are `kpus`, or parallelism / parallelism_per_kpu".into(),
        ));
    }
    Ok(
        match (
            r.num("kpus")?.or(r.num("kinesis_processing_units")?),
            r.count("parallelism")?,
        ) {
            (Some(_), Some(_)) => {
                return Err(r.err(
                    "parallelism",
                    "give either kpus or parallelism (with parallelism_per_kpu), not both".into(),
                ))
            }
            (Some(k), None) => k,
            (None, Some(p)) => (p / per).ceil(),
            (None, None) => 1.0,
        },
    )
}

/// How the application runs: all along for `hours`, or `monthly_starts` runs of
/// `run_minutes` each (billed whole).
fn run(r: &UsageTable, kpus: f64) -> Result<FlinkRun, PricingError> {
    let starts = r.count("monthly_starts")?;
    let run_minutes = r.num("run_minutes")?;
    match (starts, run_minutes) {
        (Some(n), Some(m)) => {
            if r.has("hours") {
                return Err(r.err(
                    "hours",
                    "give either hours (an application that keeps running) or monthly_starts with run_minutes, not both".into(),
                ));
            }
            if n * m / 60.0 > r.month_hours {
                return Err(r.err(
                    "monthly_starts",
                    format!("{n} starts of {m} minutes run longer than the month"),
                ));
            }
            Ok(FlinkRun {
                count: n,
                seconds: m * 60.0,
                kpus,
                whole: true,
            })
        }
        (None, None) => Ok(FlinkRun {
            count: 1.0,
            seconds: r.hours()? * 3600.0,
            kpus,
            whole: false,
        }),
        (Some(_), None) => Err(r.err(
            "monthly_starts",
            "monthly_starts needs run_minutes (how long each run lasts)".into(),
        )),
        (None, Some(_)) => Err(r.err(
            "run_minutes",
            "run_minutes needs monthly_starts (how many runs a month)".into(),
        )),
    }
}
