//! Validation of the `[[firehose]]` tables into [`FirehoseSpec`]s, and what Firehose
//! decides about a producer writing to a delivery stream (its [`ProducerTarget`]).

use super::limits::{self as flim, FirehoseLimits};
use super::raw::{RawBuffer, RawDestination, RawDestinationKind, RawFirehose, RawFormat};
use super::{DestinationKind, DestinationSpec, FirehoseInput, FirehoseSpec, Format, TransformSpec};
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::input::units::format_size;
use crate::load::{Dist, DurationDist, KeyDist, Window};
use crate::model::dist::{dur_dist, key_dist};
use crate::model::fields::{check_range, lookup, name_index, outage_windows, prob, reference};
use crate::model::producer::{BatchLimit, Draft, ProducerTarget, Step};
use crate::model::raw::RawModel;
use crate::producers::{Resend, Target};
use crate::services::kinesis::config::Streams;
use crate::services::kinesis::consumer::{CheckpointMode, ReadMode, StreamConsumerSpec};
use crate::sim::SimDuration;
use std::collections::HashMap;
use std::path::Path;

/// The delivery streams of a model, and their index by name.
pub(crate) struct Firehoses<'a> {
    /// Index by name.
    pub(crate) idx: HashMap<&'a str, usize>,
    /// Validated delivery streams.
    pub(crate) specs: Vec<FirehoseSpec>,
}

/// Validates the `[[firehose]]` tables (after the streams they may read).
pub(crate) fn firehoses<'a>(
    raw: &'a RawModel,
    lim: &FirehoseLimits,
    streams: &Streams<'_>,
    default_api_latency: Option<&DurationDist>,
    base_dir: &Path,
) -> VResult<Firehoses<'a>> {
    check_limits(lim)?;
    let idx = name_index(
        "firehose",
        "delivery stream",
        raw.firehose.iter().map(|f| f.name.as_str()),
        None,
    )?;
    let mut specs = Vec::new();
    for (i, f) in raw.firehose.iter().enumerate() {
        let path = FieldPath::item("firehose", i, &f.name);
        specs.push(firehose(
            f,
            &path,
            lim,
            streams,
            default_api_latency,
            base_dir,
        )?);
    }
    Ok(Firehoses { idx, specs })
}

/// `[limits.firehose]` overrides must keep the model meaningful.
fn check_limits(lim: &FirehoseLimits) -> VResult<()> {
    let path = FieldPath::top("limits").field("firehose");
    let positive: [(&str, u64); 8] = [
        ("max_record_size", lim.max_record_size.0),
        ("put_batch_max_records", lim.put_batch_max_records as u64),
        ("put_batch_max_bytes", lim.put_batch_max_bytes.0),
        ("direct_put_records_per_s", lim.direct_put_records_per_s),
        ("direct_put_requests_per_s", lim.direct_put_requests_per_s),
        ("direct_put_bytes_per_s", lim.direct_put_bytes_per_s.0),
        ("active_partitions", lim.active_partitions as u64),
        ("buffer_size_min", lim.buffer_size_min.0),
    ];
    for (field, v) in positive {
        if v == 0 {
            return Err(Invalid::at(
                &path.field(field),
                format!("{field} must be at least 1"),
            ));
        }
    }
    if lim.max_record_size.0 > lim.put_batch_max_bytes.0
        || lim.max_record_size.0 > lim.direct_put_bytes_per_s.0
    {
        return Err(Invalid::at(
            &path.field("max_record_size"),
            format!(
                "max_record_size {} is larger than put_batch_max_bytes ({}) or direct_put_bytes_per_s ({}): such a record could never be sent",
                lim.max_record_size, lim.put_batch_max_bytes, lim.direct_put_bytes_per_s
            ),
        ));
    }
    if lim.kinesis_read_interval.0.is_zero() {
        return Err(Invalid::at(
            &path.field("kinesis_read_interval"),
            "kinesis_read_interval must be longer than 0s",
        ));
    }
    Ok(())
}

/// The latency of Firehose's data-plane calls when neither the stream nor the model gives
/// one: Kinesis Data Streams' (the same family of PUT APIs).
fn default_latency() -> DurationDist {
    crate::services::kinesis::config::default_latency()
}

fn firehose(
    f: &RawFirehose,
    path: &FieldPath,
    lim: &FirehoseLimits,
    streams: &Streams<'_>,
    default_api_latency: Option<&DurationDist>,
    base_dir: &Path,
) -> VResult<FirehoseSpec> {
    let input = match f.source.as_deref() {
        None | Some("direct_put") => FirehoseInput::DirectPut,
        Some(s) => {
            let spath = path.field("source");
            if !s.contains(':') {
                return Err(Invalid::at(
                    &spath,
                    format!("source \"{s}\" is neither \"direct_put\" nor a stream reference such as \"kinesis:clicks\""),
                ));
            }
            let (_, name) = reference(s, &spath, &["kinesis"])?;
            FirehoseInput::Kinesis(lookup(&streams.idx, name, "kinesis", "stream", &spath)? as u32)
        }
    };
    let kind = match f.destination.kind {
        RawDestinationKind::S3 => DestinationKind::S3,
        RawDestinationKind::Redshift => DestinationKind::Redshift,
        RawDestinationKind::Opensearch => DestinationKind::OpenSearch,
        RawDestinationKind::Http => DestinationKind::Http,
        RawDestinationKind::Splunk => DestinationKind::Splunk,
    };
    let format_conversion = f.format_conversion.map(|x| match x {
        RawFormat::Parquet => Format::Parquet,
        RawFormat::Orc => Format::Orc,
    });
    if format_conversion.is_some() && !matches!(kind, DestinationKind::S3) {
        return Err(Invalid::at(
            &path.field("format_conversion"),
            format!(
                "format conversion delivers Parquet/ORC files to S3; destination \"{}\" cannot take it (source: {})",
                kind.as_str(),
                flim::SOURCE_FORMAT_CONVERSION
            ),
        ));
    }
    let (buffer_size, buffer_interval) = buffer(
        f.buffer.as_ref(),
        &path.field("buffer"),
        kind,
        format_conversion.is_some(),
        lim,
    )?;
    let active_partitions = match &f.dynamic_partitioning {
        None => None,
        Some(p) => {
            if kind != DestinationKind::S3 {
                return Err(Invalid::at(
                    &path.field("dynamic_partitioning"),
                    format!("dynamic partitioning writes S3 prefixes; destination \"{}\" cannot take it (source: {})", kind.as_str(), flim::SOURCE_LIMITS),
                ));
            }
            let n = p.active_partitions.unwrap_or(lim.active_partitions);
            if n == 0 || n > lim.active_partitions {
                return Err(Invalid::at(
                    &path.field("dynamic_partitioning").field("active_partitions"),
                    format!(
                        "active_partitions {n} is outside 1 to the quota of {} (raise `[limits.firehose] active_partitions` after a quota increase; source: {})",
                        lim.active_partitions,
                        flim::SOURCE_LIMITS
                    ),
                ));
            }
            if buffer_interval.is_zero() {
                return Err(Invalid::at(
                    &path.field("buffer").field("interval"),
                    "zero buffering (interval \"0s\") is not available with dynamic partitioning (source: https://docs.aws.amazon.com/firehose/latest/dev/buffering-hints.html)",
                ));
            }
            Some(n)
        }
    };
    // AWS's transformation concurrency is per shard of a Kinesis source.
    let shards = match input {
        FirehoseInput::Kinesis(st) => streams.specs[st as usize].shards.max(1),
        FirehoseInput::DirectPut => 1,
    };
    let transform = match &f.transform {
        None => None,
        Some(t) => Some(transform(
            t,
            &path.field("transform"),
            kind,
            shards,
            lim,
            base_dir,
        )?),
    };
    let destination = destination(
        &f.destination,
        &path.field("destination"),
        kind,
        lim,
        base_dir,
    )?;
    let vpc_subnets = match &f.vpc {
        None => 0,
        Some(v) if v.subnets == 0 => {
            return Err(Invalid::at(
                &path.field("vpc").field("subnets"),
                "a VPC delivery needs at least 1 subnet",
            ))
        }
        Some(v) => v.subnets,
    };
    let api_latency = match &f.api_latency {
        Some(d) => dur_dist(d, &path.field("api_latency"), base_dir)?,
        None => default_api_latency.cloned().unwrap_or_else(default_latency),
    };
    Ok(FirehoseSpec {
        name: f.name.clone(),
        input,
        buffer_size,
        buffer_interval,
        transform,
        format_conversion,
        active_partitions,
        destination,
        vpc_subnets,
        api_latency,
        limits: lim.clone(),
    })
}

/// The destination's buffering hints, within its ranges, its defaults filled in.
fn buffer(
    raw: Option<&RawBuffer>,
    path: &FieldPath,
    kind: DestinationKind,
    conversion: bool,
    lim: &FirehoseLimits,
) -> VResult<(u64, SimDuration)> {
    let (max_size, max_interval, default_interval, size_source) = match kind {
        DestinationKind::S3 | DestinationKind::Redshift => (
            lim.s3_buffer_size_max.0,
            lim.buffer_interval_max.0,
            lim.default_buffer_interval.0,
            flim::SOURCE_BUFFERING,
        ),
        DestinationKind::OpenSearch => (
            lim.opensearch_buffer_size_max.0,
            lim.buffer_interval_max.0,
            lim.default_buffer_interval.0,
            flim::SOURCE_LIMITS,
        ),
        DestinationKind::Http => (
            lim.http_buffer_size_max.0,
            lim.buffer_interval_max.0,
            lim.default_buffer_interval.0,
            "https://docs.aws.amazon.com/firehose/latest/APIReference/API_HttpEndpointBufferingHints.html",
        ),
        DestinationKind::Splunk => (
            lim.splunk_buffer_size_max.0,
            lim.splunk_buffer_interval_max.0,
            lim.splunk_default_buffer_interval.0,
            "https://docs.aws.amazon.com/firehose/latest/APIReference/API_SplunkBufferingHints.html",
        ),
    };
    let default_size = if conversion {
        lim.format_conversion_default_buffer.0
    } else {
        lim.default_buffer_size.0
    };
    let size = raw
        .and_then(|b| b.size)
        .map(|b| b.0)
        .unwrap_or(default_size);
    let interval = raw
        .and_then(|b| b.interval)
        .map(|d| d.0)
        .unwrap_or(default_interval);
    if size < lim.buffer_size_min.0 || size > max_size {
        return Err(Invalid::at(
            &path.field("size"),
            format!(
                "buffer size {} is outside {}'s range of {} to {} (source: {size_source})",
                format_size(size),
                kind.as_str(),
                format_size(lim.buffer_size_min.0),
                format_size(max_size)
            ),
        ));
    }
    if conversion && size < lim.format_conversion_min_buffer.0 {
        return Err(Invalid::at(
            &path.field("size"),
            format!(
                "format conversion needs a buffer of at least {} (buffer size {}; source: {})",
                format_size(lim.format_conversion_min_buffer.0),
                format_size(size),
                flim::SOURCE_FORMAT_CONVERSION
            ),
        ));
    }
    check_range(
        &path.field("interval"),
        "buffer interval",
        interval,
        SimDuration::ZERO,
        max_interval,
        size_source,
    )?;
    Ok((size, interval))
}

fn transform(
    t: &super::raw::RawTransform,
    path: &FieldPath,
    kind: DestinationKind,
    shards: u32,
    lim: &FirehoseLimits,
    base_dir: &Path,
) -> VResult<TransformSpec> {
    let default_buffer = if kind == DestinationKind::Splunk {
        lim.transform_default_buffer_splunk.0
    } else {
        lim.transform_default_buffer.0
    };
    let b = t.buffer.clone().unwrap_or_default();
    let buffer_size = b.size.map(|x| x.0).unwrap_or(default_buffer);
    if buffer_size < lim.transform_buffer_min.0 || buffer_size > lim.transform_buffer_max.0 {
        return Err(Invalid::at(
            &path.field("buffer").field("size"),
            format!(
                "the transformation's buffer size {} is outside AWS's range of {} to {} (source: {})",
                format_size(buffer_size),
                format_size(lim.transform_buffer_min.0),
                format_size(lim.transform_buffer_max.0),
                flim::SOURCE_TRANSFORM
            ),
        ));
    }
    let buffer_interval = b
        .interval
        .map(|d| d.0)
        .unwrap_or(lim.transform_default_interval.0);
    check_range(
        &path.field("buffer").field("interval"),
        "the transformation's buffer interval",
        buffer_interval,
        SimDuration::ZERO,
        lim.buffer_interval_max.0,
        flim::SOURCE_TRANSFORM,
    )?;
    let duration = match &t.duration {
        Some(d) => dur_dist(d, &path.field("duration"), base_dir)?,
        None => DurationDist::constant(flim::DEFAULT_TRANSFORM_DURATION),
    };
    let per_shard = if kind == DestinationKind::Splunk {
        lim.transform_concurrency_splunk
    } else {
        lim.transform_concurrency
    };
    let concurrency = t.concurrency.unwrap_or(per_shard.saturating_mul(shards));
    if concurrency == 0 {
        return Err(Invalid::at(
            &path.field("concurrency"),
            "concurrency must be at least 1",
        ));
    }
    let retries = t.retries.unwrap_or(lim.transform_default_retries);
    if retries > lim.transform_max_retries {
        return Err(Invalid::at(
            &path.field("retries"),
            format!(
                "retries {retries} is above AWS's limit of {} (source: {})",
                lim.transform_max_retries,
                flim::SOURCE_TRANSFORM
            ),
        ));
    }
    let output_ratio = t.output_ratio.unwrap_or(1.0);
    if !output_ratio.is_finite() || !(0.0..=100.0).contains(&output_ratio) {
        return Err(Invalid::at(
            &path.field("output_ratio"),
            format!("output_ratio {output_ratio} must be a number from 0 to 100 (bytes out per byte in)"),
        ));
    }
    let memory_mb = t.memory.unwrap_or(128);
    if !(128..=10_240).contains(&memory_mb) {
        return Err(Invalid::at(
            &path.field("memory"),
            format!("memory {memory_mb} MB is outside Lambda's range of 128 to 10,240 MB (source: https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html)"),
        ));
    }
    Ok(TransformSpec {
        buffer_size,
        buffer_interval,
        duration,
        concurrency,
        failure_probability: prob(
            &path.field("failure_probability"),
            t.failure_probability.unwrap_or(0.0),
        )?,
        record_failure_probability: prob(
            &path.field("record_failure_probability"),
            t.record_failure_probability.unwrap_or(0.0),
        )?,
        retries,
        output_ratio,
        memory_mb,
    })
}

fn destination(
    d: &RawDestination,
    path: &FieldPath,
    kind: DestinationKind,
    lim: &FirehoseLimits,
    base_dir: &Path,
) -> VResult<DestinationSpec> {
    let s3_like = matches!(kind, DestinationKind::S3);
    let refuse = |field: &str, set: bool| -> VResult<()> {
        if set {
            return Err(Invalid::at(
                &path.field(field),
                format!(
                    "`{field}` does not apply to destination \"{}\"",
                    kind.as_str()
                ),
            ));
        }
        Ok(())
    };
    if s3_like {
        refuse("failure_probability", d.failure_probability.is_some())?;
        refuse("outages", !d.outages.is_empty())?;
        refuse("retry_duration", d.retry_duration.is_some())?;
        refuse("retry_interval", d.retry_interval.is_some())?;
    }
    if kind != DestinationKind::Redshift {
        refuse("copy_duration", d.copy_duration.is_some())?;
    } else {
        refuse("concurrency", d.concurrency.is_some())?;
    }
    let default_latency = if kind.is_endpoint() {
        flim::DEFAULT_ENDPOINT_LATENCY
    } else {
        flim::DEFAULT_S3_PUT_LATENCY
    };
    let latency = match &d.latency {
        Some(x) => dur_dist(x, &path.field("latency"), base_dir)?,
        None => DurationDist::constant(default_latency),
    };
    let default_retry = if kind == DestinationKind::Redshift {
        lim.redshift_default_retry_duration.0
    } else {
        lim.default_retry_duration.0
    };
    let retry_duration = d.retry_duration.map(|x| x.0).unwrap_or(default_retry);
    check_range(
        &path.field("retry_duration"),
        "retry duration",
        retry_duration,
        SimDuration::ZERO,
        lim.retry_duration_max.0,
        flim::SOURCE_RETRY,
    )?;
    let retry_interval = d
        .retry_interval
        .map(|x| x.0)
        .unwrap_or(flim::DEFAULT_RETRY_INTERVAL);
    if retry_interval < flim::MIN_RETRY_INTERVAL && kind != DestinationKind::S3 {
        return Err(Invalid::at(
            &path.field("retry_interval"),
            format!(
                "retry_interval {retry_interval} is shorter than {} (a failed request is retried after it, for up to the retry duration)",
                flim::MIN_RETRY_INTERVAL
            ),
        ));
    }
    let copy_duration = match &d.copy_duration {
        Some(x) => dur_dist(x, &path.field("copy_duration"), base_dir)?,
        None => DurationDist::constant(flim::DEFAULT_COPY_DURATION),
    };
    let concurrency = match (kind, d.concurrency) {
        (DestinationKind::Redshift, _) => 1,
        (_, Some(0)) => {
            return Err(Invalid::at(
                &path.field("concurrency"),
                "concurrency must be at least 1",
            ))
        }
        (_, Some(c)) => c,
        (_, None) => u32::MAX,
    };
    let outages: Vec<Window> = outage_windows(&d.outages, &path.field("outages"), "destination")?;
    Ok(DestinationSpec {
        kind,
        latency,
        failure_probability: prob(
            &path.field("failure_probability"),
            d.failure_probability.unwrap_or(0.0),
        )?,
        outages,
        retry_duration,
        retry_interval,
        copy_duration,
        concurrency,
    })
}

/// The stream consumer through which Firehose reads a Kinesis source: polling, one
/// GetRecords call per shard per second, 10,000 records per call, handing records on
/// without processing time (its report is a stream consumer's, `firehose:NAME`).
pub(crate) fn kinesis_reader(spec: &FirehoseSpec, index: u32) -> Option<StreamConsumerSpec> {
    let FirehoseInput::Kinesis(stream) = spec.input else {
        return None;
    };
    Some(StreamConsumerSpec {
        name: format!("firehose:{}", spec.name),
        stream,
        mode: ReadMode::Polling,
        max_records: 10_000,
        idle_between_reads: spec.limits.kinesis_read_interval.0,
        service_time: DurationDist::zero(),
        per_batch: DurationDist::zero(),
        failure_probability: 0.0,
        retry_delay: SimDuration::from_secs(1),
        checkpoint: CheckpointMode::Record,
        outages: Vec::new(),
        firehose: Some(index),
        flink: None,
    })
}

impl Firehoses<'_> {
    /// What Firehose decides about a producer writing to delivery stream `index` (its
    /// `target` field at `path`): a stream reading Kinesis takes no PutRecordBatch.
    pub(crate) fn target(&self, index: usize, path: &FieldPath) -> VResult<FirehoseTarget<'_>> {
        let spec = &self.specs[index];
        if spec.input != FirehoseInput::DirectPut {
            return Err(Invalid::at(
                path,
                format!("delivery stream \"{}\" reads a Kinesis stream: it accepts no PutRecord/PutRecordBatch (write to the Kinesis stream instead; source: {})", spec.name, flim::SOURCE_KINESIS_SOURCE),
            ));
        }
        Ok(FirehoseTarget { index, spec })
    }
}

/// What Firehose decides about a producer writing to one of its delivery streams:
/// PutRecordBatch's limit, the record size (a constant size over 1,000 KiB is refused;
/// larger records of a distribution are refused at run time and counted), partition keys
/// (read by dynamic partitioning); groups, delays, duplicate sends, attributes and
/// aggregation are refused.
pub(crate) struct FirehoseTarget<'a> {
    index: usize,
    spec: &'a FirehoseSpec,
}

impl FirehoseTarget<'_> {
    fn refuse(d: &Draft<'_>, field: &str, set: bool) -> VResult<()> {
        if set {
            return Err(Invalid::at(
                &d.path.field(field),
                format!("`{field}` is not supported for Firehose targets"),
            ));
        }
        Ok(())
    }
}

impl ProducerTarget for FirehoseTarget<'_> {
    fn target(&self) -> Target {
        Target::Firehose(self.index as u32)
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
            max: self.spec.limits.put_batch_max_records,
            call: "PutRecordBatch's",
            unit: "records",
            source: flim::SOURCE_LIMITS,
        }
    }

    fn fit(&self, d: &Draft<'_>) -> VResult<()> {
        Self::refuse(d, "attributes", !d.raw.attributes.is_empty())?;
        Self::refuse(d, "body", !d.raw.body.is_empty())?;
        let Dist::Constant(v) = d.size.0 else {
            return Ok(());
        };
        let max = self.spec.limits.max_record_size.0;
        if v as u64 > max {
            return Err(Invalid::at(
                &d.path.field("size"),
                format!(
                    "records of {} exceed Firehose's record limit of {} (source: {})",
                    format_size(v as u64),
                    format_size(max),
                    flim::SOURCE_PUT_RECORD
                ),
            ));
        }
        Ok(())
    }

    fn group(&self, d: &Draft<'_>) -> VResult<Option<(KeyDist, String)>> {
        Self::refuse(d, "group", d.raw.group.is_some())?;
        Ok(None)
    }

    fn partition_key(&self, d: &Draft<'_>) -> VResult<Option<(KeyDist, String)>> {
        d.raw
            .partition_key
            .as_ref()
            .map(|k| key_dist(k, &d.path.field("partition_key")))
            .transpose()
    }

    fn delay(&self, d: &Draft<'_>) -> VResult<SimDuration> {
        Self::refuse(d, "delay", d.raw.delay.is_some())?;
        Ok(SimDuration::ZERO)
    }

    fn resend(&self, d: &Draft<'_>) -> VResult<Option<Resend>> {
        Self::refuse(d, "resend", d.raw.resend.is_some())?;
        Ok(None)
    }
}
