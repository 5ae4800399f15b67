//! Validation of the Kinesis parts of a model: `[[stream]]`, what Kinesis decides about
//! producers with a `kinesis:NAME` target (see `model::producer`) and
//! `[[stream_consumer]]`.
//!
//! Every limit checked here is a field of `services::kinesis::limits::KinesisLimits`
//! (overridable in `[limits.kinesis]`); each message names the limit and its source.

use super::raw::*;
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::input::units::format_size;
use crate::load::{Arrival, Dist, DurationDist, KeyDist};
use crate::model::dist::{dur_dist, key_dist};
use crate::model::fields::{check_range, lookup, name_index, outage_windows, prob, reference};
use crate::model::producer::{BatchLimit, Draft, ProducerTarget, Step};
use crate::model::raw::RawModel;
use crate::producers::{Resend, Target};
use crate::services::kinesis::consumer::{CheckpointMode, ReadMode, StreamConsumerSpec};
use crate::services::kinesis::limits::{self as klim, KinesisLimits};
use crate::services::kinesis::producer::AggregationSpec;
use crate::services::kinesis::{CapacityMode, KinesisStream, Reshard, ReshardOp, StreamSpec};
use crate::services::Limits;
use crate::sim::{stream, SimDuration, SimTime};
use std::collections::HashMap;
use std::path::Path;

/// The default Kinesis data-plane call latency (see `services::kinesis::limits`).
pub(crate) fn default_latency() -> DurationDist {
    lognormal_ms(
        klim::DEFAULT_API_LATENCY_MEDIAN_MS,
        klim::DEFAULT_API_LATENCY_P99_MS,
    )
}

/// The default enhanced fan-out propagation (see `services::kinesis::limits`).
pub(crate) fn default_propagation() -> DurationDist {
    lognormal_ms(
        klim::DEFAULT_EFO_PROPAGATION_MEDIAN_MS,
        klim::DEFAULT_EFO_PROPAGATION_P99_MS,
    )
}

/// The default polling read lag (see `services::kinesis::limits`).
pub(crate) fn default_read_lag() -> DurationDist {
    lognormal_ms(
        klim::DEFAULT_READ_LAG_MEDIAN_MS,
        klim::DEFAULT_READ_LAG_P99_MS,
    )
}

fn lognormal_ms(median: f64, p99: f64) -> DurationDist {
    match Dist::lognormal_median_p99(median * 1e6, p99 * 1e6) {
        Ok(d) => DurationDist(d),
        Err(_) => DurationDist(Dist::Constant(median * 1e6)),
    }
}

/// The streams of a model, and their index by name.
pub(crate) struct Streams<'a> {
    /// Index by name.
    pub(crate) idx: HashMap<&'a str, usize>,
    /// Validated streams.
    pub(crate) specs: Vec<StreamSpec>,
    /// Default partition keys of each stream, with their prefix.
    defaults: Vec<Option<(KeyDist, String)>>,
}

/// Validates the `[[stream]]` tables.
pub(crate) fn streams<'a>(
    raw: &'a RawModel,
    limits: &Limits,
    default_api_latency: Option<&DurationDist>,
    base_dir: &Path,
) -> VResult<Streams<'a>> {
    let lim = &limits.kinesis;
    check_limits(lim)?;
    let idx = name_index(
        "stream",
        "stream",
        raw.stream.iter().map(|s| s.name.as_str()),
        None,
    )?;
    let mut specs = Vec::new();
    let mut defaults = Vec::new();
    let mut provisioned_total: u64 = 0;
    for (i, s) in raw.stream.iter().enumerate() {
        let path = FieldPath::item("stream", i, &s.name);
        let spec = stream_spec(s, &path, lim, default_api_latency, base_dir)?;
        if spec.mode == CapacityMode::Provisioned {
            provisioned_total += spec.shards as u64;
            if provisioned_total > lim.account_shard_quota as u64 {
                return Err(Invalid::at(
                    &path.field("shards"),
                    format!(
                        "the provisioned streams of this model need {provisioned_total} shards, above the account's shard quota of {} (source: {})",
                        lim.account_shard_quota,
                        klim::SOURCE_LIMITS
                    ),
                ));
            }
        }
        defaults.push(match &s.partition_key {
            Some(k) => Some(key_dist(k, &path.field("partition_key"))?),
            None => None,
        });
        specs.push(spec);
    }
    Ok(Streams {
        idx,
        specs,
        defaults,
    })
}

/// Overridden limits must keep the model meaningful: rates and sizes above zero.
fn check_limits(lim: &KinesisLimits) -> VResult<()> {
    let positive: [(&str, u64); 14] = [
        ("shard_write_bytes_per_s", lim.shard_write_bytes_per_s.0),
        (
            "shard_write_records_per_s",
            lim.shard_write_records_per_s as u64,
        ),
        ("shard_write_burst_bytes", lim.shard_write_burst_bytes.0),
        (
            "shard_write_burst_records",
            lim.shard_write_burst_records as u64,
        ),
        ("max_record_size", lim.max_record_size.0),
        (
            "put_records_max_records",
            lim.put_records_max_records as u64,
        ),
        ("put_records_max_bytes", lim.put_records_max_bytes.0),
        ("shard_read_bytes_per_s", lim.shard_read_bytes_per_s.0),
        ("shard_read_calls_per_s", lim.shard_read_calls_per_s as u64),
        (
            "get_records_max_records",
            lim.get_records_max_records as u64,
        ),
        ("get_records_max_bytes", lim.get_records_max_bytes.0),
        ("efo_bytes_per_s", lim.efo_bytes_per_s.0),
        ("account_shard_quota", lim.account_shard_quota as u64),
        (
            "on_demand_split_bytes_per_s",
            lim.on_demand_split_bytes_per_s.0,
        ),
    ];
    for (name, v) in positive {
        if v == 0 {
            return Err(Invalid::at(
                &FieldPath::top("limits").field("kinesis").field(name),
                format!("`{name}` must be above zero"),
            ));
        }
    }
    if lim.min_retention.0 > lim.max_retention.0 {
        return Err(Invalid::at(
            &FieldPath::top("limits")
                .field("kinesis")
                .field("min_retention"),
            "min_retention must not exceed max_retention",
        ));
    }
    Ok(())
}

/// Validates one stream, in this order: name, capacity mode and shards, warm throughput,
/// retention, latencies, resharding schedule.
fn stream_spec(
    s: &RawStream,
    path: &FieldPath,
    lim: &KinesisLimits,
    default_api_latency: Option<&DurationDist>,
    base_dir: &Path,
) -> VResult<StreamSpec> {
    check_stream_name(s, path)?;
    let mode = match s.mode {
        RawStreamMode::Provisioned => CapacityMode::Provisioned,
        RawStreamMode::OnDemand => CapacityMode::OnDemand,
        RawStreamMode::OnDemandAdvantage => CapacityMode::OnDemandAdvantage,
    };
    let per_shard = lim.shard_write_bytes_per_s.0.max(1);
    let on_demand_max_shards = lim
        .on_demand_max_write_bytes_per_s
        .0
        .div_ceil(per_shard)
        .min(u32::MAX as u64) as u32;
    let shards = initial_shards(s, path, mode, lim)?;
    let warm = warm_throughput(s, path, mode, lim)?;
    let shards = if mode == CapacityMode::OnDemandAdvantage {
        shards.max(warm.div_ceil(per_shard) as u32)
    } else {
        shards
    };
    let retention = s.retention.map(|d| d.0).unwrap_or(lim.default_retention.0);
    check_range(
        &path.field("retention"),
        "retention period",
        retention,
        lim.min_retention.0,
        lim.max_retention.0,
        klim::SOURCE_LIMITS,
    )?;
    let api_latency = match &s.api_latency {
        Some(d) => dur_dist(d, &path.field("api_latency"), base_dir)?,
        None => default_api_latency.cloned().unwrap_or_else(default_latency),
    };
    let efo_propagation = match &s.efo_propagation {
        Some(d) => dur_dist(d, &path.field("efo_propagation"), base_dir)?,
        None => default_propagation(),
    };
    let read_lag = match &s.read_lag {
        Some(d) => dur_dist(d, &path.field("read_lag"), base_dir)?,
        None => default_read_lag(),
    };
    let mut spec = StreamSpec {
        name: s.name.clone(),
        mode,
        shards,
        retention,
        warm_throughput: warm,
        api_latency,
        efo_propagation,
        read_lag,
        reshards: Vec::new(),
        track_keys: s.track_keys.unwrap_or(false),
        max_shards: if mode.on_demand() {
            on_demand_max_shards.max(shards)
        } else {
            lim.max_shards_per_stream
        },
        limits: lim.clone(),
    };
    spec.reshards = reshards(s, path, &spec, lim)?;
    Ok(spec)
}

/// A stream name: 1 to 128 letters, digits, '-', '_' and '.'.
fn check_stream_name(s: &RawStream, path: &FieldPath) -> VResult<()> {
    let name_ok = !s.name.is_empty()
        && s.name.len() <= 128
        && s.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !name_ok {
        return Err(Invalid::at(
            &path.field("name"),
            format!("\"{}\" is not a valid stream name: 1 to 128 characters of letters, digits, '-', '_' and '.' (source: {})", s.name, klim::SOURCE_LIMITS),
        ));
    }
    Ok(())
}

/// A stream's shards at the start: `shards` of a provisioned stream (within the account's
/// quota); an on-demand stream's initial write capacity in shards (`shards` refused).
fn initial_shards(
    s: &RawStream,
    path: &FieldPath,
    mode: CapacityMode,
    lim: &KinesisLimits,
) -> VResult<u32> {
    let per_shard = lim.shard_write_bytes_per_s.0.max(1);
    Ok(match mode {
        CapacityMode::Provisioned => {
            let Some(n) = s.shards else {
                return Err(Invalid::at(
                    path,
                    "a provisioned stream needs `shards` (or set mode = \"on_demand\")",
                ));
            };
            if n == 0 || n > lim.account_shard_quota {
                return Err(Invalid::at(
                    &path.field("shards"),
                    format!(
                        "shards {n} is outside 1 to the account's shard quota of {} (source: {})",
                        lim.account_shard_quota,
                        klim::SOURCE_LIMITS
                    ),
                ));
            }
            n
        }
        CapacityMode::OnDemand | CapacityMode::OnDemandAdvantage => {
            if s.shards.is_some() {
                return Err(Invalid::at(
                    &path.field("shards"),
                    format!("an on-demand stream sizes itself: remove `shards`, or set mode = \"provisioned\" (source: {})", klim::SOURCE_SIZING),
                ));
            }
            lim.on_demand_initial_write_bytes_per_s
                .0
                .div_ceil(per_shard)
                .max(1) as u32
        }
    })
}

/// A stream's warm throughput, bytes per second (0 when not given): on-demand advantage
/// streams only, up to the on-demand maximum.
fn warm_throughput(
    s: &RawStream,
    path: &FieldPath,
    mode: CapacityMode,
    lim: &KinesisLimits,
) -> VResult<u64> {
    let warm = s.warm_throughput.map(|b| b.0).unwrap_or(0);
    if s.warm_throughput.is_some() && mode != CapacityMode::OnDemandAdvantage {
        return Err(Invalid::at(
            &path.field("warm_throughput"),
            format!("warm throughput applies to on-demand advantage streams: set mode = \"on_demand_advantage\" (source: {})", klim::SOURCE_SIZING),
        ));
    }
    if warm > lim.on_demand_max_write_bytes_per_s.0 {
        return Err(Invalid::at(
            &path.field("warm_throughput"),
            format!(
                "warm throughput {}/s is above the on-demand maximum of {}/s per stream (source: {})",
                format_size(warm),
                lim.on_demand_max_write_bytes_per_s,
                klim::SOURCE_LIMITS
            ),
        ));
    }
    Ok(warm)
}

/// Validates the resharding schedule by applying it to a copy of the stream's topology:
/// every shard named must be open at that time, merged shards adjacent, and every
/// `UpdateShardCount` within AWS's rules.
fn reshards(
    s: &RawStream,
    path: &FieldPath,
    spec: &StreamSpec,
    lim: &KinesisLimits,
) -> VResult<Vec<Reshard>> {
    if s.reshard.is_empty() {
        return Ok(Vec::new());
    }
    let rpath = path.field("reshard");
    if spec.mode.on_demand() {
        return Err(Invalid::at(
            &rpath,
            format!("on-demand streams reshard themselves: scheduled resharding applies to provisioned streams (source: {})", klim::SOURCE_RESHARD),
        ));
    }
    let mut order: Vec<usize> = (0..s.reshard.len()).collect();
    order.sort_by_key(|i| s.reshard[*i].at);
    let mut probe = KinesisStream::new(spec.clone(), 0, 0, stream(0, "probe"));
    let mut updates: Vec<SimDuration> = Vec::new();
    let mut out = Vec::new();
    for i in order {
        let r = &s.reshard[i];
        let p = rpath.index(i);
        let op = match (r.shards, r.split, r.merge) {
            (Some(n), None, None) => ReshardOp::UpdateShardCount(n),
            (None, Some(x), None) => ReshardOp::Split(x),
            (None, None, Some([a, b])) => ReshardOp::Merge(a, b),
            _ => {
                return Err(Invalid::at(
                    &p,
                    "give exactly one of `shards` (UpdateShardCount), `split` (a shard id) or `merge` (two adjacent shard ids)",
                ))
            }
        };
        let open = probe.open_count() as u32;
        if let ReshardOp::UpdateShardCount(n) = op {
            let fpath = p.field("shards");
            if n == 0 || n > 2 * open || 2 * n < open {
                return Err(Invalid::at(
                    &fpath,
                    format!("UpdateShardCount from {open} to {n} shards: AWS allows at most double and at least half the current count (source: {})", klim::SOURCE_RESHARD),
                ));
            }
            if n > lim.max_shards_per_stream || n > lim.account_shard_quota {
                return Err(Invalid::at(
                    &fpath,
                    format!(
                        "UpdateShardCount to {n} shards is above {} shards per stream or the account quota of {} (source: {})",
                        lim.max_shards_per_stream,
                        lim.account_shard_quota,
                        klim::SOURCE_RESHARD
                    ),
                ));
            }
            updates.push(r.at.0);
            let day = SimDuration::from_secs(86_400);
            let recent = updates.iter().filter(|t| r.at.0 < **t + day).count() as u32;
            if recent > lim.update_shard_count_per_24h {
                return Err(Invalid::at(
                    &p.field("at"),
                    format!(
                        "more than {} UpdateShardCount calls within 24 hours (source: {})",
                        lim.update_shard_count_per_24h,
                        klim::SOURCE_RESHARD
                    ),
                ));
            }
        }
        let t = probe.reshard(op, SimTime::ZERO + r.at.0, SimTime::ZERO);
        if t.created.is_empty() {
            let what = match op {
                ReshardOp::Split(x) => format!("shard {x} is not an open shard at {} (shard ids count from 0 in creation order; a split creates two, a merge one, UpdateShardCount as many as its target)", r.at),
                ReshardOp::Merge(a, b) => format!("shards {a} and {b} are not two open shards with adjacent hash-key ranges at {}", r.at),
                ReshardOp::UpdateShardCount(_) => "UpdateShardCount failed".into(),
            };
            return Err(Invalid::at(&p, what));
        }
        if probe.open_count() as u64 > lim.account_shard_quota as u64 {
            return Err(Invalid::at(
                &p,
                format!(
                    "resharding to {} open shards is above the account's shard quota of {} (source: {})",
                    probe.open_count(),
                    lim.account_shard_quota,
                    klim::SOURCE_LIMITS
                ),
            ));
        }
        out.push(Reshard { at: r.at.0, op });
    }
    Ok(out)
}

impl Streams<'_> {
    /// What Kinesis decides about a producer writing to stream `index`.
    pub(crate) fn target<'b>(&'b self, index: usize, lim: &'b KinesisLimits) -> StreamTarget<'b> {
        StreamTarget {
            index,
            default_keys: self.defaults[index].as_ref(),
            lim,
        }
    }
}

/// What Kinesis decides about a producer writing to one of its streams: PutRecords'
/// batch limit, partition keys (the stream's by default) and their length, the record
/// size with its key, KPL aggregation; message groups, delays, duplicate sends and
/// `max_in_flight` are refused, and attributes are not read (records have none).
pub(crate) struct StreamTarget<'a> {
    /// The stream's index.
    pub(crate) index: usize,
    /// The stream's default partition keys, with their prefix.
    pub(crate) default_keys: Option<&'a (KeyDist, String)>,
    /// Kinesis's limits.
    pub(crate) lim: &'a KinesisLimits,
}

impl ProducerTarget for StreamTarget<'_> {
    fn target(&self) -> Target {
        Target::Stream(self.index as u32)
    }

    fn steps(&self) -> &'static [Step] {
        &[
            Step::Group,
            Step::Delay,
            Step::Resend,
            Step::PartitionKey,
            Step::Fit,
            Step::Aggregation,
            Step::Retry,
            Step::MaxInFlight,
        ]
    }

    fn batch_limit(&self) -> BatchLimit {
        BatchLimit {
            max: self.lim.put_records_max_records,
            call: "PutRecords'",
            unit: "records",
            source: klim::SOURCE_LIMITS,
        }
    }

    /// A constant-size record, with its longest partition key, within Kinesis's record
    /// limit.
    fn fit(&self, d: &Draft<'_>) -> VResult<()> {
        let Dist::Constant(v) = d.size.0 else {
            return Ok(());
        };
        let rec = v as u64 + longest_key(d.keys.as_ref(), &d.key_prefix, d.arrival);
        if rec > self.lim.max_record_size.0 {
            return Err(Invalid::at(
                &d.path.field("size"),
                format!(
                    "records of {} (with their partition key) exceed Kinesis's record limit of {} (source: {})",
                    format_size(rec),
                    self.lim.max_record_size,
                    klim::SOURCE_LARGE_RECORDS
                ),
            ));
        }
        Ok(())
    }

    fn group(&self, d: &Draft<'_>) -> VResult<Option<(KeyDist, String)>> {
        if d.raw.group.is_some() {
            return Err(Invalid::at(
                &d.path.field("group"),
                "message groups apply to SQS FIFO queues; a Kinesis producer uses `partition_key`",
            ));
        }
        Ok(None)
    }

    /// The producer's `partition_key`, else the stream's; generated keys and the keys of a
    /// trace within Kinesis's key length.
    fn partition_key(&self, d: &Draft<'_>) -> VResult<Option<(KeyDist, String)>> {
        let keys = match &d.raw.partition_key {
            Some(k) => Some(key_dist(k, &d.path.field("partition_key"))?),
            None => self.default_keys.cloned(),
        };
        let max_chars = self.lim.max_partition_key_chars as usize;
        if let Some((k, key_prefix)) = &keys {
            let id = k.keys().saturating_sub(1);
            let text_len = key_prefix.chars().count()
                + crate::services::kinesis::hash::generated_len("", id) as usize;
            if text_len > max_chars {
                return Err(Invalid::at(
                    &d.path.field("partition_key"),
                    format!(
                        "partition keys \"{key_prefix}…\" reach {text_len} characters, above Kinesis's limit of {max_chars} (source: {})",
                        klim::SOURCE_KEYS
                    ),
                ));
            }
        }
        if let Arrival::Trace(tr) = d.arrival {
            if let Some(k) = tr.keys.iter().find(|k| k.chars().count() > max_chars) {
                return Err(Invalid::at(
                    &d.path.field("load").field("file"),
                    format!(
                        "trace {} has a partition key of {} characters (\"{}…\"), above Kinesis's limit of {max_chars} (source: {})",
                        tr.path,
                        k.chars().count(),
                        k.chars().take(16).collect::<String>(),
                        klim::SOURCE_KEYS
                    ),
                ));
            }
        }
        Ok(keys)
    }

    fn delay(&self, d: &Draft<'_>) -> VResult<SimDuration> {
        refuse(d, "delay", d.raw.delay.is_some())?;
        Ok(SimDuration::ZERO)
    }

    fn resend(&self, d: &Draft<'_>) -> VResult<Option<Resend>> {
        refuse(d, "resend", d.raw.resend.is_some())?;
        Ok(None)
    }

    fn max_in_flight(&self, d: &Draft<'_>) -> VResult<Option<u32>> {
        match d.raw.max_in_flight {
            None => Ok(None),
            Some(_) => Err(Invalid::at(
                &d.path.field("max_in_flight"),
                "max_in_flight applies to SQS and SNS producers",
            )),
        }
    }

    fn aggregation(&self, d: &Draft<'_>) -> VResult<Option<AggregationSpec>> {
        match &d.raw.aggregation {
            None => Ok(None),
            Some(a) => Ok(Some(aggregation(
                a,
                &d.path.field("aggregation"),
                self.lim,
            )?)),
        }
    }
}

/// Refuses a producer `field` that Kinesis targets do not support, when it is `set`.
fn refuse(d: &Draft<'_>, field: &str, set: bool) -> VResult<()> {
    if set {
        return Err(Invalid::at(
            &d.path.field(field),
            format!("`{field}` is not supported for Kinesis targets"),
        ));
    }
    Ok(())
}

/// The longest partition key of a producer's records, bytes: the last generated key,
/// or the longest of a trace's keys, or a random key.
fn longest_key(keys: Option<&KeyDist>, key_prefix: &str, arrival: &Arrival) -> u64 {
    let mut longest = crate::services::kinesis::producer::RANDOM_KEY_LEN as u64;
    if let Some(k) = keys {
        let id = k.keys().saturating_sub(1);
        longest = crate::services::kinesis::hash::generated_len(key_prefix, id) as u64;
    }
    if let Arrival::Trace(tr) = arrival {
        if let Some(m) = tr.keys.iter().map(|k| k.len() as u64).max() {
            longest = m;
        }
    }
    longest
}

/// Validates a producer's `aggregation` table against the KPL's bounds
/// (`services::kinesis::limits`, `KPL_*`) and the stream's record limit.
fn aggregation(
    a: &RawAggregation,
    path: &FieldPath,
    lim: &KinesisLimits,
) -> VResult<AggregationSpec> {
    let max_bytes = a
        .max_bytes
        .map(|b| b.0)
        .unwrap_or(klim::KPL_AGGREGATION_MAX_BYTES);
    let hi = klim::KPL_AGGREGATION_MAX_BYTES_LIMIT.min(lim.max_record_size.0);
    if !(klim::KPL_AGGREGATION_MIN_BYTES..=hi).contains(&max_bytes) {
        return Err(Invalid::at(
            &path.field("max_bytes"),
            format!(
                "aggregation max_bytes {} is outside {} to {}: the KPL's AggregationMaxSize range (at most 1 MiB, the record size it was built for) and Kinesis's record limit of {} (sources: {}, {})",
                format_size(max_bytes),
                format_size(klim::KPL_AGGREGATION_MIN_BYTES),
                format_size(hi),
                lim.max_record_size,
                klim::SOURCE_KPL_CONFIG,
                klim::SOURCE_LARGE_RECORDS
            ),
        ));
    }
    let max_records = a.max_records.unwrap_or(klim::KPL_AGGREGATION_MAX_RECORDS);
    if !(1..=klim::KPL_AGGREGATION_MAX_RECORDS).contains(&max_records) {
        return Err(Invalid::at(
            &path.field("max_records"),
            format!(
                "aggregation max_records {max_records} is outside 1 to {} user records per aggregated record (the KPL's AggregationMaxCount default and aqueduct's maximum; source: {})",
                klim::KPL_AGGREGATION_MAX_RECORDS,
                klim::SOURCE_KPL_CONFIG
            ),
        ));
    }
    let max_buffered = a
        .max_buffered
        .map(|d| d.0)
        .unwrap_or(SimDuration::from_millis(klim::KPL_MAX_BUFFERED_MS));
    if max_buffered.is_zero() {
        return Err(Invalid::at(
            &path.field("max_buffered"),
            format!(
                "aggregation max_buffered must be above zero (the KPL's RecordMaxBufferedTime: default and minimum 100ms; source: {})",
                klim::SOURCE_KPL_CONFIG
            ),
        ));
    }
    Ok(AggregationSpec {
        max_bytes,
        max_records,
        max_buffered,
    })
}

/// Validates the `[[stream_consumer]]` tables; `taken` holds the names of the
/// `[[consumer]]` pools (the two share the `consumer.NAME` metric paths).
pub(crate) fn stream_consumers(
    raw: &[RawStreamConsumer],
    streams: &Streams<'_>,
    taken: &HashMap<&str, usize>,
    limits: &Limits,
    base_dir: &Path,
    warnings: &mut Vec<String>,
) -> VResult<Vec<StreamConsumerSpec>> {
    let lim = &limits.kinesis;
    name_index(
        "stream_consumer",
        "consumer",
        raw.iter().map(|c| c.name.as_str()),
        Some(taken),
    )?;
    let mut out = Vec::new();
    let mut efo_count = vec![0u32; streams.specs.len()];
    for (i, c) in raw.iter().enumerate() {
        let path = FieldPath::item("stream_consumer", i, &c.name);
        out.push(stream_consumer(
            c,
            &path,
            streams,
            &mut efo_count,
            lim,
            base_dir,
            warnings,
        )?);
    }
    Ok(out)
}

/// Validates one stream consumer at `path`, in this order: source, read mode (counted in
/// `efo_count`, enhanced fan-out consumers per stream), `max_records`, polling interval,
/// processing times, failures, outages.
fn stream_consumer(
    c: &RawStreamConsumer,
    path: &FieldPath,
    streams: &Streams<'_>,
    efo_count: &mut [u32],
    lim: &KinesisLimits,
    base_dir: &Path,
    warnings: &mut Vec<String>,
) -> VResult<StreamConsumerSpec> {
    let spath = path.field("source");
    let (_, name) = reference(&c.source, &spath, &["kinesis"])?;
    let st = lookup(&streams.idx, name, "kinesis", "stream", &spath)?;
    let mode = match c.mode {
        RawReadMode::Polling => ReadMode::Polling,
        RawReadMode::Efo => ReadMode::Efo,
    };
    if mode == ReadMode::Efo {
        efo_count[st] += 1;
        check_efo_quota(&streams.specs[st], efo_count[st], path, lim)?;
    }
    let max_records = c.max_records.unwrap_or(lim.get_records_max_records);
    if max_records < 1 || max_records > lim.get_records_max_records {
        return Err(Invalid::at(
            &path.field("max_records"),
            format!(
                "max_records {max_records} is outside GetRecords' limit of 1 to {} (source: {})",
                lim.get_records_max_records,
                klim::SOURCE_LIMITS
            ),
        ));
    }
    let idle = idle_between_reads(c, path, mode, lim, warnings)?;
    let service_time = dur_dist(&c.service_time, &path.field("service_time"), base_dir)?;
    let per_batch = match &c.per_batch {
        Some(d) => dur_dist(d, &path.field("per_batch"), base_dir)?,
        None => DurationDist::zero(),
    };
    let failure_probability = prob(
        &path.field("failure_probability"),
        c.failure_probability.unwrap_or(0.0),
    )?;
    let outages = outage_windows(&c.outages, &path.field("outages"), "consumer")?;
    Ok(StreamConsumerSpec {
        name: c.name.clone(),
        stream: st as u32,
        mode,
        max_records,
        idle_between_reads: idle,
        service_time,
        per_batch,
        failure_probability,
        retry_delay: c
            .retry_delay
            .map(|d| d.0)
            .unwrap_or(SimDuration::from_secs(1)),
        checkpoint: match c.checkpoint {
            RawCheckpoint::Record => CheckpointMode::Record,
            RawCheckpoint::Batch => CheckpointMode::Batch,
        },
        outages,
        firehose: None,
        flink: None,
    })
}

/// The `count` enhanced fan-out consumers of stream `spec` so far within the limit of its
/// capacity mode.
fn check_efo_quota(
    spec: &StreamSpec,
    count: u32,
    path: &FieldPath,
    lim: &KinesisLimits,
) -> VResult<()> {
    let max = if spec.mode == CapacityMode::OnDemandAdvantage {
        lim.efo_consumers_per_stream_advantage
    } else {
        lim.efo_consumers_per_stream
    };
    if count > max {
        return Err(Invalid::at(
            &path.field("mode"),
            format!(
                "stream \"{}\" would have {} enhanced fan-out consumers, above the limit of {max} per stream in {} mode (source: {})",
                spec.name,
                count,
                spec.mode.as_str(),
                klim::SOURCE_EFO
            ),
        ));
    }
    Ok(())
}

/// A polling consumer's pause between reads of a shard (default: the KCL's); refused for
/// enhanced fan-out, and a warning when it is short enough to risk read throttling.
fn idle_between_reads(
    c: &RawStreamConsumer,
    path: &FieldPath,
    mode: ReadMode,
    lim: &KinesisLimits,
    warnings: &mut Vec<String>,
) -> VResult<SimDuration> {
    let idle = c
        .idle_between_reads
        .map(|d| d.0)
        .unwrap_or(SimDuration::from_millis(
            klim::DEFAULT_IDLE_BETWEEN_READS_MS,
        ));
    if c.idle_between_reads.is_some() && mode == ReadMode::Efo {
        return Err(Invalid::at(
            &path.field("idle_between_reads"),
            "enhanced fan-out consumers do not poll: idle_between_reads applies to mode = \"polling\"",
        ));
    }
    let min_idle = SimDuration(1_000_000_000 / lim.shard_read_calls_per_s.max(1) as u64);
    if mode == ReadMode::Polling && idle < min_idle {
        warnings.push(format!(
            "consumer \"{}\" polls every {} per shard: below {} (the {} GetRecords calls/s per shard) its calls risk read throttling (source: {})",
            c.name, idle, min_idle, lim.shard_read_calls_per_s, klim::SOURCE_LIMITS
        ));
    }
    Ok(idle)
}
