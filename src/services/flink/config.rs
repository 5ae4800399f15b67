//! Validation of the `[[flink]]` tables into [`FlinkSpec`]s, and the Kinesis reader each
//! application reads its source through.

use super::limits::{self as lim, FlinkLimits};
use super::raw::{RawFlink, RawFlinkWindow};
use super::{CheckpointSpec, FlinkSpec, WindowKind, WindowSpec};
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::load::{Arrival, DurationDist};
use crate::model::dist::dur_dist;
use crate::model::fields::{lookup, name_index, reference};
use crate::model::raw::RawModel;
use crate::producers::{ProducerSpec, Target};
use crate::services::firehose::config::Firehoses;
use crate::services::firehose::FirehoseInput;
use crate::services::kinesis::config::Streams;
use crate::services::kinesis::consumer::{CheckpointMode, ReadMode, StreamConsumerSpec};
use crate::services::kinesis::raw::RawReadMode;
use crate::sim::{SimDuration, SimTime};
use std::path::Path;

/// Validates the `[[flink]]` tables (after the streams, delivery streams and producers
/// they refer to).
pub(crate) fn flinks(
    raw: &RawModel,
    lim: &FlinkLimits,
    streams: &Streams<'_>,
    firehoses: &Firehoses<'_>,
    producers: &[ProducerSpec],
    base_dir: &Path,
) -> VResult<Vec<FlinkSpec>> {
    check_limits(lim)?;
    name_index(
        "flink",
        "application",
        raw.flink.iter().map(|f| f.name.as_str()),
        None,
    )?;
    raw.flink
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let path = FieldPath::item("flink", i, &f.name);
            flink(f, &path, lim, streams, firehoses, producers, base_dir)
        })
        .collect()
}

/// `[limits.flink]` overrides must keep the model meaningful.
fn check_limits(lim: &FlinkLimits) -> VResult<()> {
    let path = FieldPath::top("limits").field("flink");
    if lim.scale_up_cpu_percent > 100 || lim.scale_down_cpu_percent >= lim.scale_up_cpu_percent {
        return Err(Invalid::at(
            &path.field("scale_down_cpu_percent"),
            format!(
                "the scale-down threshold ({}%) must be below the scale-up threshold ({}%), which is at most 100%",
                lim.scale_down_cpu_percent, lim.scale_up_cpu_percent
            ),
        ));
    }
    if lim.getrecords_interval.0.is_zero() {
        return Err(Invalid::at(
            &path.field("getrecords_interval"),
            "getrecords_interval must be longer than 0s",
        ));
    }
    Ok(())
}

fn flink(
    f: &RawFlink,
    path: &FieldPath,
    lim: &FlinkLimits,
    streams: &Streams<'_>,
    firehoses: &Firehoses<'_>,
    producers: &[ProducerSpec],
    base_dir: &Path,
) -> VResult<FlinkSpec> {
    let spath = path.field("source");
    let (_, sname) = reference(&f.source, &spath, &["kinesis"])?;
    let stream = lookup(&streams.idx, sname, "kinesis", "stream", &spath)? as u32;
    let mode = match f.read {
        RawReadMode::Polling => ReadMode::Polling,
        RawReadMode::Efo => ReadMode::Efo,
    };
    let read_interval = f
        .read_interval
        .map(|d| d.0)
        .unwrap_or(lim.getrecords_interval.0);
    if read_interval.is_zero() {
        return Err(Invalid::at(
            &path.field("read_interval"),
            "read_interval must be longer than 0s",
        ));
    }
    let ppk = f.parallelism_per_kpu.unwrap_or(1);
    if ppk < 1 || ppk > lim.max_parallelism_per_kpu as i64 {
        return Err(Invalid::at(
            &path.field("parallelism_per_kpu"),
            format!(
                "parallelism_per_kpu {ppk} is outside AWS's limits of 1 to {} (source: {})",
                lim.max_parallelism_per_kpu,
                lim::SOURCE_PARALLELISM
            ),
        ));
    }
    let ppk = ppk as u32;
    let parallelism = f.parallelism.unwrap_or(1);
    let max_p = lim.max_kpus as i64 * ppk as i64;
    if parallelism < 1 || parallelism > max_p {
        return Err(Invalid::at(
            &path.field("parallelism"),
            format!(
                "parallelism {parallelism} is outside 1 to {max_p}: the quota is {} KPUs per application at {ppk} subtasks per KPU ([limits.flink] max_kpus; source: {})",
                lim.max_kpus,
                lim::SOURCE_LIMITS
            ),
        ));
    }
    let parallelism = parallelism as u32;
    let cpu_per_record = dur_dist(&f.cpu_per_record, &path.field("cpu_per_record"), base_dir)?;
    check_key_by(f, path, stream, streams, producers)?;
    let window = match &f.window {
        None => None,
        Some(w) => Some(window(w, &path.field("window"))?),
    };
    let checkpoints = checkpoints(f, path, lim)?;
    let (mtbf, failures_at) = failures(f, path)?;
    let (sink_firehose, sink_stream) = match &f.sink {
        None => (None, None),
        Some(s) => {
            let tpath = path.field("sink").field("target");
            let (kind, name) = reference(&s.target, &tpath, &["firehose", "kinesis"])?;
            if window.is_none() {
                return Err(Invalid::at(
                    &tpath,
                    "a sink carries window results: give the application a `window`",
                ));
            }
            if kind == "kinesis" {
                let i = lookup(&streams.idx, name, "kinesis", "stream", &tpath)? as u32;
                if i == stream {
                    return Err(Invalid::at(
                        &tpath,
                        format!("the sink is the application's own source \"{name}\": its results would be read back as input"),
                    ));
                }
                (None, Some(i))
            } else {
                let i = lookup(&firehoses.idx, name, "firehose", "delivery stream", &tpath)?;
                if firehoses.specs[i].input != FirehoseInput::DirectPut {
                    return Err(Invalid::at(
                        &tpath,
                        format!("delivery stream \"{name}\" reads a Kinesis stream: Flink's Firehose sink writes with PutRecordBatch, which only a Direct PUT stream accepts"),
                    ));
                }
                (Some(i as u32), None)
            }
        }
    };
    let result_bytes = match f.sink.as_ref().and_then(|s| s.result_size) {
        Some(b) if b.0 == 0 => {
            return Err(Invalid::at(
                &path.field("sink").field("result_size"),
                "result_size must be at least 1 byte",
            ))
        }
        Some(b) => b.0,
        None => lim::DEFAULT_RESULT_BYTES,
    };
    Ok(FlinkSpec {
        name: f.name.clone(),
        stream,
        mode,
        read_interval,
        max_records: match f.max_records {
            None => lim.getrecords_max,
            Some(n) if n >= 1 && n <= lim.getrecords_max => n,
            Some(n) => {
                return Err(Invalid::at(
                    &path.field("max_records"),
                    format!(
                        "max_records {n} is outside GetRecords' limits of 1 to {} (source: {})",
                        lim.getrecords_max,
                        lim::SOURCE_KINESIS_CONNECTOR
                    ),
                ))
            }
        },
        parallelism,
        parallelism_per_kpu: ppk,
        cpu_per_record,
        window,
        checkpoints,
        mtbf,
        failures_at,
        restart_delay: f
            .restart_delay
            .map(|d| d.0)
            .unwrap_or(lim::DEFAULT_RESTART_DELAY),
        autoscaling: f.autoscaling.unwrap_or(true),
        rescale_delay: f
            .rescale_delay
            .map(|d| d.0)
            .unwrap_or(lim::DEFAULT_RESCALE_DELAY),
        max_kpus: lim.max_kpus,
        buffer_per_channel: lim.buffers_per_channel as u64 * lim.network_segment.0,
        buffer_per_gate: lim.floating_buffers_per_gate as u64 * lim.network_segment.0,
        sink_firehose,
        sink_stream,
        result_bytes,
        scaling: (
            lim.scale_up_cpu_percent,
            lim.scale_up_minutes,
            lim.scale_down_cpu_percent,
            lim.scale_down_minutes,
        ),
    })
}

/// `key_by`: the partition key, which every producer of the stream must draw from a key
/// distribution (random keys and trace keys cannot be reproduced at the reader).
fn check_key_by(
    f: &RawFlink,
    path: &FieldPath,
    stream: u32,
    streams: &Streams<'_>,
    producers: &[ProducerSpec],
) -> VResult<()> {
    let kpath = path.field("key_by");
    match f.key_by.as_deref() {
        None | Some("partition_key") => {}
        Some(other) => {
            return Err(Invalid::at(
                &kpath,
                format!("key_by \"{other}\" is not supported: the simulation keys records by their \"partition_key\" (records in a Kinesis stream carry no attributes)"),
            ))
        }
    }
    for p in producers {
        if p.target != Target::Stream(stream) {
            continue;
        }
        if matches!(p.arrival, Arrival::Trace(_)) {
            return Err(Invalid::at(
                &kpath,
                format!("producer \"{}\" replays a trace into stream \"{}\": the application cannot key its records (give the producer a `partition_key` distribution instead)", p.name, streams.specs[stream as usize].name),
            ));
        }
        if p.keys.is_none() {
            return Err(Invalid::at(
                &kpath,
                format!("producer \"{}\" writes random partition keys into stream \"{}\": every record would be its own key; give it `partition_key = {{ keys = N }}`", p.name, streams.specs[stream as usize].name),
            ));
        }
    }
    Ok(())
}

/// Most windows one record may belong to (`size / slide` of a sliding window).
const MAX_WINDOWS_PER_RECORD: u64 = 1000;

/// Most panes (of `gcd(size, slide)`) in one window: a window's firing reads them all.
const MAX_PANES_PER_WINDOW: u64 = 10_000;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn positive(
    v: Option<crate::input::units::Dur>,
    path: &FieldPath,
    what: &str,
) -> VResult<SimDuration> {
    match v {
        Some(d) if !d.0.is_zero() => Ok(d.0),
        Some(_) => Err(Invalid::at(path, format!("{what} must be longer than 0s"))),
        None => Err(Invalid::at(path, format!("this window needs a `{what}`"))),
    }
}

fn window(w: &RawFlinkWindow, path: &FieldPath) -> VResult<WindowSpec> {
    let kind = match w.kind.as_str() {
        "tumbling" => {
            let size = positive(w.size, &path.field("size"), "size")?;
            WindowKind::Sliding { size, slide: size }
        }
        "sliding" => {
            let size = positive(w.size, &path.field("size"), "size")?;
            let slide = positive(w.slide, &path.field("slide"), "slide")?;
            if slide > size {
                return Err(Invalid::at(
                    &path.field("slide"),
                    format!("slide {slide} is larger than the window size {size}: records between windows would belong to none"),
                ));
            }
            let pane = gcd(size.0, slide.0);
            if size.0 / pane > MAX_PANES_PER_WINDOW {
                return Err(Invalid::at(
                    &path.field("slide"),
                    format!("size {size} and slide {slide} share no divisor longer than {}: a window would be {} panes (at most {MAX_PANES_PER_WINDOW}); make the size a multiple of a longer common step", SimDuration(pane), size.0 / pane),
                ));
            }
            if size.0 / slide.0 > MAX_WINDOWS_PER_RECORD {
                return Err(Invalid::at(
                    &path.field("slide"),
                    format!("a record belongs to size/slide = {} windows; at most {MAX_WINDOWS_PER_RECORD} are modelled (Flink keeps a copy of each record's aggregate per window too): use a longer slide", size.0 / slide.0),
                ));
            }
            WindowKind::Sliding { size, slide }
        }
        "session" => WindowKind::Session {
            gap: positive(w.gap, &path.field("gap"), "gap")?,
        },
        other => {
            return Err(Invalid::at(
                &path.field("kind"),
                format!("unknown window kind \"{other}\": expected \"tumbling\", \"sliding\" or \"session\""),
            ))
        }
    };
    for (given, field) in [
        (
            w.size.is_some() && matches!(kind, WindowKind::Session { .. }),
            "size",
        ),
        (w.slide.is_some() && w.kind == "tumbling", "slide"),
        (w.gap.is_some() && w.kind != "session", "gap"),
    ] {
        if given {
            return Err(Invalid::at(
                &path.field(field),
                format!("a {} window has no `{field}`", w.kind),
            ));
        }
    }
    let event_time = match w.time.as_deref() {
        None | Some("event") => true,
        Some("processing") => false,
        Some(other) => {
            return Err(Invalid::at(
                &path.field("time"),
                format!("unknown time \"{other}\": expected \"event\" or \"processing\""),
            ))
        }
    };
    if !event_time {
        for (given, field) in [
            (w.out_of_orderness.is_some(), "out_of_orderness"),
            (w.allowed_lateness.is_some(), "allowed_lateness"),
            (w.idle_timeout.is_some(), "idle_timeout"),
        ] {
            if given {
                return Err(Invalid::at(
                    &path.field(field),
                    format!(
                        "{field} applies to event-time windows; this window is in processing time"
                    ),
                ));
            }
        }
    }
    if !event_time && matches!(kind, WindowKind::Session { .. }) {
        return Err(Invalid::at(
            &path.field("time"),
            "session windows are modelled in event time only",
        ));
    }
    if let Some(t) = w.idle_timeout {
        if t.0.is_zero() {
            return Err(Invalid::at(
                &path.field("idle_timeout"),
                "idle_timeout must be longer than 0s",
            ));
        }
    }
    Ok(WindowSpec {
        kind,
        event_time,
        out_of_orderness: w.out_of_orderness.map(|d| d.0).unwrap_or(SimDuration::ZERO),
        allowed_lateness: w.allowed_lateness.map(|d| d.0).unwrap_or(SimDuration::ZERO),
        idle_timeout: w.idle_timeout.map(|d| d.0),
    })
}

fn checkpoints(
    f: &RawFlink,
    path: &FieldPath,
    lim: &FlinkLimits,
) -> VResult<Option<CheckpointSpec>> {
    let c = f.checkpoints.clone().unwrap_or_default();
    let interval = c.interval.map(|d| d.0).unwrap_or(lim.checkpoint_interval.0);
    if interval.is_zero() {
        if f.failures
            .as_ref()
            .is_some_and(|x| x.mtbf.is_some() || !x.at.is_empty())
        {
            return Err(Invalid::at(
                &path.field("checkpoints").field("interval"),
                "failures need checkpoints to restart from: give an interval longer than 0s",
            ));
        }
        return Ok(None);
    }
    if interval < SimDuration::from_secs(1) {
        return Err(Invalid::at(
            &path.field("checkpoints").field("interval"),
            format!("a checkpoint interval of {interval} is not modelled: at least 1s (Managed Flink's default is 60s and it pauses 5s between checkpoints; source: {})", lim::SOURCE_CHECKPOINTS),
        ));
    }
    Ok(Some(CheckpointSpec {
        interval,
        duration: c.duration.map(|d| d.0).unwrap_or(SimDuration::from_secs(1)),
        size_bytes: c.size.map(|b| b.0).unwrap_or(0),
    }))
}

fn failures(f: &RawFlink, path: &FieldPath) -> VResult<(Option<SimDuration>, Vec<SimTime>)> {
    let Some(x) = &f.failures else {
        return Ok((None, Vec::new()));
    };
    let mtbf = match x.mtbf {
        Some(d) if d.0 < SimDuration::from_secs(1) => {
            return Err(Invalid::at(
                &path.field("failures").field("mtbf"),
                format!(
                    "mtbf = {} is not modelled: at least 1s between failures on average",
                    d.0
                ),
            ))
        }
        other => other.map(|d| d.0),
    };
    let mut at: Vec<SimTime> = x.at.iter().map(|d| SimTime::ZERO + d.0).collect();
    at.sort();
    Ok((mtbf, at))
}

/// The reader an application reads its source stream through: the connector's polling
/// consumer (or enhanced fan-out), reported as stream consumer `flink:NAME`.
pub(crate) fn kinesis_reader(spec: &FlinkSpec, index: u32) -> StreamConsumerSpec {
    StreamConsumerSpec {
        name: format!("flink:{}", spec.name),
        stream: spec.stream,
        mode: spec.mode,
        max_records: spec.max_records,
        idle_between_reads: spec.read_interval,
        service_time: DurationDist::zero(),
        per_batch: DurationDist::zero(),
        failure_probability: 0.0,
        retry_delay: SimDuration::from_secs(1),
        checkpoint: CheckpointMode::Record,
        outages: Vec::new(),
        firehose: None,
        flink: Some(index),
    }
}
