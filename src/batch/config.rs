//! Validates `[[batch_job]]` tables.

use super::raw::{RawBatchJob, RawSchedule};
use super::{BatchJobSpec, BatchStore};
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::input::units::parse_duration;
use crate::model::fields::{lookup, name_index, reference};
use crate::services::firehose::{DestinationKind, FirehoseSpec};
use crate::sim::SimDuration;
use std::collections::HashMap;

/// The components a batch job may read, by name.
pub(crate) struct Stores<'a> {
    /// SQS queues.
    pub(crate) queues: &'a HashMap<&'a str, usize>,
    /// Kinesis data streams.
    pub(crate) streams: &'a HashMap<&'a str, usize>,
    /// Firehose delivery streams.
    pub(crate) firehoses: &'a HashMap<&'a str, usize>,
    /// Their specs (an `s3:` store needs an S3 destination).
    pub(crate) firehose_specs: &'a [FirehoseSpec],
}

/// Validates every batch job.
pub(crate) fn batch_jobs(raw: &[RawBatchJob], stores: &Stores<'_>) -> VResult<Vec<BatchJobSpec>> {
    name_index(
        "batch_job",
        "batch job",
        raw.iter().map(|j| j.name.as_str()),
        None,
    )?;
    raw.iter()
        .enumerate()
        .map(|(i, j)| batch_job(j, &FieldPath::item("batch_job", i, &j.name), stores))
        .collect()
}

fn batch_job(j: &RawBatchJob, path: &FieldPath, stores: &Stores<'_>) -> VResult<BatchJobSpec> {
    let spath = path.field("store");
    let (kind, name) = reference(&j.store, &spath, &["sqs", "kinesis", "s3"])?;
    let store = match kind {
        "sqs" => BatchStore::Queue(lookup(stores.queues, name, kind, "queue", &spath)? as u32),
        "kinesis" => {
            BatchStore::Stream(lookup(stores.streams, name, kind, "stream", &spath)? as u32)
        }
        _ => {
            let f = lookup(stores.firehoses, name, "s3", "delivery stream", &spath)?;
            if stores.firehose_specs[f].destination.kind != DestinationKind::S3 {
                return Err(Invalid::at(
                    &spath,
                    format!("delivery stream \"{name}\" does not deliver to S3: an s3: store reads the objects of a stream with destination kind \"s3\""),
                ));
            }
            BatchStore::Firehose(f as u32)
        }
    };
    let (every, offset) = schedule(&j.schedule, &path.field("schedule"))?;
    let nodes = j.nodes.unwrap_or(1);
    if nodes == 0 {
        return Err(Invalid::at(
            &path.field("nodes"),
            "a batch job needs at least 1 node",
        ));
    }
    if j.per_gb.is_none() && j.per_record.is_none() {
        return Err(Invalid::at(
            path,
            "give per_gb (time for one node to process 1 GiB) or per_record (for one record), or both",
        ));
    }
    if !j.node_hour_usd.is_finite() || j.node_hour_usd < 0.0 {
        return Err(Invalid::at(
            &path.field("node_hour_usd"),
            format!(
                "node_hour_usd must be a finite price of 0 or more, not {}",
                j.node_hour_usd
            ),
        ));
    }
    if j.price_source.trim().is_empty() {
        return Err(Invalid::at(
            &path.field("price_source"),
            "say where the node-hour price comes from (a URL and the date read): aqueduct does not price EMR, Glue or AWS Batch",
        ));
    }
    Ok(BatchJobSpec {
        name: j.name.clone(),
        store,
        store_text: j.store.clone(),
        every,
        offset,
        startup: j.startup.map(|d| d.0).unwrap_or(SimDuration::ZERO),
        per_gib_s: j.per_gb.map(|d| d.0.as_secs_f64()).unwrap_or(0.0),
        per_record_s: j.per_record.map(|d| d.0.as_secs_f64()).unwrap_or(0.0),
        nodes,
        node_hour_usd: j.node_hour_usd,
        price_source: j.price_source.clone(),
    })
}

/// `(every, offset)` of a schedule.
fn schedule(s: &RawSchedule, path: &FieldPath) -> VResult<(SimDuration, SimDuration)> {
    match (&s.every, &s.daily_at) {
        (Some(_), Some(_)) => Err(Invalid::at(
            &path.field("daily_at"),
            "give either every (with an offset) or daily_at, not both",
        )),
        (None, None) => Err(Invalid::at(
            path,
            "the schedule is empty: give every = \"1h\" (and an offset), or daily_at = \"02:30\"",
        )),
        (Some(every), None) => {
            if every.0 < SimDuration::from_secs(1) {
                return Err(Invalid::at(
                    &path.field("every"),
                    format!(
                        "every = {} is not modelled: a batch job runs at most once a second",
                        every.0
                    ),
                ));
            }
            Ok((every.0, s.offset.map(|d| d.0).unwrap_or(SimDuration::ZERO)))
        }
        (None, Some(at)) => {
            if s.offset.is_some() {
                return Err(Invalid::at(
                    &path.field("offset"),
                    "offset goes with every; daily_at is the time of day itself",
                ));
            }
            let t = time_of_day(at).ok_or_else(|| {
                Invalid::at(
                    &path.field("daily_at"),
                    format!("\"{at}\" is not a time of day: write HH:MM or HH:MM:SS, from 00:00 to 23:59:59"),
                )
            })?;
            Ok((SimDuration::from_secs(86_400), t))
        }
    }
}

/// `HH:MM[:SS]` → time since midnight.
fn time_of_day(s: &str) -> Option<SimDuration> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let mut secs = 0u64;
    for (i, (p, max)) in parts.iter().zip([23u64, 59, 59]).enumerate() {
        if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u64 = p.parse().ok()?;
        if v > max {
            return None;
        }
        secs += v * [3600, 60, 1][i];
    }
    // parse_duration is the model's own reading of durations: keep one clock.
    parse_duration(&format!("{secs}s")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        assert_eq!(time_of_day("02:30"), Some(SimDuration::from_secs(9000)));
        assert_eq!(
            time_of_day("23:59:59"),
            Some(SimDuration::from_secs(86_399))
        );
        assert_eq!(time_of_day("24:00"), None);
        assert_eq!(time_of_day("2:30"), None);
        assert_eq!(time_of_day("02:61"), None);
    }
}
