//! `[[batch_job]]` as written in the model file.

use crate::input::units::Dur;
use serde::Deserialize;

/// A batch job as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBatchJob {
    /// Name.
    pub name: String,
    /// Where it reads: `sqs:QUEUE` (drained when it starts), `kinesis:STREAM` (read back
    /// within retention) or `s3:FIREHOSE` (the objects a Firehose stream delivered).
    pub store: String,
    /// When it runs.
    pub schedule: RawSchedule,
    /// Fixed start-up time of every run (cluster, containers, job set-up; default 0).
    #[serde(default)]
    pub startup: Option<Dur>,
    /// Processing time of one GiB on one node.
    #[serde(default)]
    pub per_gb: Option<Dur>,
    /// Processing time of one record on one node.
    #[serde(default)]
    pub per_record: Option<Dur>,
    /// Nodes sharing the work (default 1).
    #[serde(default)]
    pub nodes: Option<u32>,
    /// Price of one node for one hour, USD (EMR, Glue and AWS Batch are not priced by
    /// aqueduct: the model gives its own).
    pub node_hour_usd: f64,
    /// Where that price comes from (a URL and the date read).
    pub price_source: String,
}

/// `schedule = { every = "1h", offset = "5m" }` or `{ daily_at = "02:30" }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    /// Interval between starts.
    #[serde(default)]
    pub every: Option<Dur>,
    /// First start (default 0; with `every`).
    #[serde(default)]
    pub offset: Option<Dur>,
    /// Once a day at this time of day, `HH:MM` or `HH:MM:SS` (the run starts at 00:00).
    #[serde(default)]
    pub daily_at: Option<String>,
}
