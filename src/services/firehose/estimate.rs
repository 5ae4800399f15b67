//! Firehose delivery streams in the estimate: ingest (each record rounded up to 5 KB),
//! format conversion, dynamic partitioning, VPC delivery, the transformation's Lambda
//! invocations and GB-seconds, the S3 objects the buffers make and the freshness their
//! hints allow; the Direct PUT quotas as capacity rows.
//!
//! The buffer follows the simulator (`super::engine`): a buffer opens with its first
//! record and flushes when it holds the size hint or its first record has waited the
//! interval, whichever comes first.

use super::bill::{billed_bytes, FirehoseSource, FirehoseUsage};
use super::{DestinationKind, FirehoseInput, FirehoseSpec};
use crate::estimate::capacity::Capacity;
use crate::estimate::sizes::{key_probabilities, SizeMix};
use crate::estimate::{load_rates, Context};
use crate::input::error::Invalid;
use crate::producers::{ProducerSpec, Target};
use crate::services::lambda::bill::{LambdaArch, LambdaUsage};
use crate::services::s3::bill::S3Usage;
use crate::services::sns::Endpoint;

const SVC: &str = "firehose";

/// Estimates every delivery stream of the model.
pub(crate) fn estimate_firehoses(cx: &mut Context) -> Result<(), Invalid> {
    for f in 0..cx.arch.firehoses.len() {
        estimate_firehose(cx, f);
    }
    Ok(())
}

/// The flushes per second of one buffer fed `records_per_s` records of `bytes_per_s`
/// bytes, with hints `size` and `interval_s`.
///
/// # Formula
/// A buffer's cycle is the wait for its first record (`1/λ`, Poisson arrivals) plus the
/// time to its flush, `min(size / bytes_per_s, interval)`; flushes per second are the
/// cycle's inverse. A zero interval flushes every arrival: `λ` flushes per second.
pub(crate) fn flushes_per_s(
    records_per_s: f64,
    bytes_per_s: f64,
    size: u64,
    interval_s: f64,
) -> f64 {
    if records_per_s <= 0.0 {
        return 0.0;
    }
    if interval_s <= 0.0 {
        return records_per_s;
    }
    let fill = if bytes_per_s > 0.0 {
        size as f64 / bytes_per_s
    } else {
        f64::INFINITY
    };
    1.0 / (1.0 / records_per_s + fill.min(interval_s))
}

/// The producers writing records into delivery stream `f` (Direct PUT), or into its
/// Kinesis source.
fn sources<'a>(
    arch: &'a crate::model::Architecture,
    spec: &FirehoseSpec,
    f: usize,
) -> Vec<&'a ProducerSpec> {
    arch.producers
        .iter()
        .filter(|p| match (spec.input, p.target) {
            (FirehoseInput::DirectPut, Target::Firehose(t)) => t as usize == f,
            (FirehoseInput::Kinesis(s), Target::Stream(t)) => s == t,
            _ => false,
        })
        .collect()
}

/// Estimates delivery stream `f`.
///
/// # Formula
/// `λ` records/s of mean size `b` from the producers (or the Kinesis source's producers);
/// billed ingest `λ × E[max(1, ⌈size/5,120⌉) × 5,120]`. Transformation: invocations per
/// second from [`flushes_per_s`] on its buffer, times `1 + p + … + p^retries` for an
/// invocation failure probability `p`; records out `λ (1 − p^(retries+1)) (1 − q)` for a
/// record failure probability `q`, bytes out `× output_ratio`. Objects per second: one
/// buffer's [`flushes_per_s`], or with dynamic partitioning the sum over partition keys of
/// a buffer each fed `λ × P(key)`. Error objects: a flush carries one when a record failed
/// since the last, `objects/s × (1 − exp(−failures/s ÷ objects/s))`. Freshness: at most the
/// flush period plus the delivery latency.
fn estimate_firehose(cx: &mut Context, f: usize) {
    let arch = cx.arch;
    let spec = &arch.firehoses[f];
    let month_s = cx.month_s;
    let name = spec.name.as_str();
    let producers = sources(arch, spec, f);
    // Managed Flink applications whose window results come here: (results/s, calls/s,
    // size).
    let flink_sinks: Vec<(f64, f64, crate::load::SizeDist)> = (0..arch.flinks.len())
        .filter(|&a| arch.flinks[a].sink_firehose == Some(f as u32))
        .map(|a| {
            let (results, calls) = crate::services::flink::estimate::results_per_s(arch, a);
            let size = crate::load::SizeDist::constant(arch.flinks[a].result_bytes);
            (results, calls, size)
        })
        .collect();
    let mut mix = SizeMix::new();
    let mut rate = 0.0;
    let mut peak = 0.0;
    for p in &producers {
        let r = load_rates(&p.arrival, arch);
        rate += r.mean_per_s;
        peak += r.peak_per_s;
        mix.push(r.mean_per_s.max(1e-12), &p.size);
    }
    // A window's results arrive together when it fires: their mean rate is the least their
    // peak can be.
    for (r, _, size) in &flink_sinks {
        rate += r;
        peak += r;
        mix.push(r.max(1e-12), size);
    }
    let subscribed = arch
        .subscriptions
        .iter()
        .any(|s| s.endpoint == Endpoint::Firehose(f as u32));
    if subscribed {
        cx.notes.push(format!(
            "delivery stream \"{name}\": what SNS subscriptions deliver to it is not in the estimate (run the model for it)"
        ));
    }
    let [mean_bytes, billed] = if producers.is_empty() && flink_sinks.is_empty() {
        [0.0, 0.0]
    } else {
        mix.mean_of(&format!("firehose:{name}"), |b| {
            [b as f64, billed_bytes(b) as f64]
        })
    };
    let bytes_per_s = rate * mean_bytes;
    // Direct PUT quotas.
    if spec.input == FirehoseInput::DirectPut && (!producers.is_empty() || !flink_sinks.is_empty())
    {
        let lim = &spec.limits;
        let peak_bytes = peak * mean_bytes;
        let calls: f64 = producers
            .iter()
            .map(|p| {
                let r = load_rates(&p.arrival, arch).peak_per_s;
                let per_call = (p.batch as f64).min((r * p.linger.as_secs_f64()).max(1.0));
                r / per_call
            })
            .sum::<f64>()
            + flink_sinks.iter().map(|(_, calls, _)| calls).sum::<f64>();
        cx.capacity.push(Capacity::against(
            SVC,
            name,
            "Direct PUT records/s at peak",
            peak,
            lim.direct_put_records_per_s as f64,
            "over the stream's records/s quota: PutRecordBatch fails and the SDK retries; ask for a quota increase",
        ));
        cx.capacity.push(Capacity::against(
            SVC,
            name,
            "Direct PUT bytes/s at peak",
            peak_bytes,
            lim.direct_put_bytes_per_s.0 as f64,
            "over the stream's bytes/s quota: PutRecordBatch fails and the SDK retries; ask for a quota increase",
        ));
        cx.capacity.push(Capacity::against(
            SVC,
            name,
            "PutRecordBatch calls/s at peak",
            calls,
            lim.direct_put_requests_per_s as f64,
            "over the stream's calls/s quota: batch more records per call",
        ));
    }
    // Transformation.
    let (mut out_rate, mut out_bytes) = (rate, bytes_per_s);
    // Share of the records the transformation delivers; the rest go to the error output.
    let mut ok_share = 1.0;
    // Flushes of a zero-interval buffer: one per arrival into it (a PutRecordBatch call,
    // a read of each shard, an invocation's output).
    let mut arrivals_per_s = match spec.input {
        FirehoseInput::DirectPut => {
            producers
                .iter()
                .map(|p| {
                    let r = load_rates(&p.arrival, arch).mean_per_s;
                    r / (p.batch as f64).min((r * p.linger.as_secs_f64()).max(1.0))
                })
                .sum::<f64>()
                + flink_sinks.iter().map(|(_, calls, _)| calls).sum::<f64>()
        }
        FirehoseInput::Kinesis(st) => {
            let shards = arch.streams[st as usize].shards.max(1) as f64;
            let reads = shards / spec.limits.kinesis_read_interval.0.as_secs_f64();
            reads.min(rate)
        }
    };
    if let Some(t) = &spec.transform {
        let flushes = flushes_per_s(
            rate,
            bytes_per_s,
            t.buffer_size,
            t.buffer_interval.as_secs_f64(),
        );
        let p = t.failure_probability;
        let attempts: f64 = (0..=t.retries).map(|i| p.powi(i as i32)).sum();
        let invocations = flushes * attempts;
        let ok = (1.0 - p.powi(t.retries as i32 + 1)) * (1.0 - t.record_failure_probability);
        out_rate = rate * ok;
        out_bytes = bytes_per_s * ok * t.output_ratio;
        ok_share = ok;
        arrivals_per_s = flushes;
        let gb_s = invocations * t.duration.mean_s() * t.memory_mb as f64 / 1024.0;
        cx.usage.lambda.push(LambdaUsage {
            name: format!("firehose:{name}:transform"),
            architecture: LambdaArch::X86_64,
            requests: (invocations * month_s).round() as u64,
            extra_requests: 0,
            gb_seconds: gb_s * month_s,
        });
        cx.capacity.push(Capacity::against(
            SVC,
            name,
            "transformation invocations in progress (mean)",
            invocations * t.duration.mean_s(),
            t.concurrency as f64,
            "the transformation cannot keep up: raise its concurrency or its buffer",
        ));
    }
    // Buffers and objects.
    let (size, interval) = (spec.buffer_size, spec.buffer_interval.as_secs_f64());
    let objects_per_s = match spec.active_partitions {
        None if interval <= 0.0 => arrivals_per_s.min(out_rate),
        None => flushes_per_s(out_rate, out_bytes, size, interval),
        Some(quota) => {
            let mut shares: Vec<f64> = Vec::new();
            for p in &producers {
                let w = load_rates(&p.arrival, arch).mean_per_s / rate.max(1e-300);
                match p.keys.as_ref().and_then(key_probabilities) {
                    Some(probs) => shares.extend(probs.iter().map(|q| q * w)),
                    None => shares.push(w),
                }
            }
            if shares.len() > quota as usize {
                cx.notes.push(format!(
                    "delivery stream \"{name}\": its producers use {} partition keys, more than its {quota} active partitions; the estimate assumes each gets a buffer (a run sends records of partitions beyond the quota to the error output)",
                    shares.len()
                ));
            }
            shares
                .iter()
                .map(|s| flushes_per_s(out_rate * s, out_bytes * s, size, interval))
                .sum()
        }
    };
    let flush_period = if objects_per_s > 0.0 {
        (size as f64 / out_bytes.max(1e-300)).min(if interval > 0.0 { interval } else { 0.0 })
    } else {
        0.0
    };
    cx.capacity.push(Capacity::info(
        SVC,
        name,
        "objects delivered per hour",
        objects_per_s * 3600.0,
    ));
    cx.capacity.push(Capacity::info(
        SVC,
        name,
        "time to a flush, s (size or interval, whichever first)",
        flush_period,
    ));
    let latency = spec.destination.latency.mean_s()
        + if spec.destination.kind == DestinationKind::Redshift {
            spec.destination.copy_duration.mean_s()
        } else {
            0.0
        };
    cx.capacity.push(Capacity::info(
        SVC,
        name,
        "freshness at most, s (a flush plus the delivery)",
        flush_period + latency,
    ));
    let partitioned = spec.active_partitions.is_some();
    let delivered_bytes = out_bytes * month_s;
    let objects = objects_per_s * month_s;
    cx.usage.firehose.push(FirehoseUsage {
        name: spec.name.clone(),
        source: match spec.input {
            FirehoseInput::DirectPut => FirehoseSource::DirectPut,
            FirehoseInput::Kinesis(_) => FirehoseSource::Kinesis,
        },
        ingest_billed_bytes: (rate * billed * month_s).round() as u64,
        format_conversion: spec.format_conversion.is_some(),
        vpc_az_hours: spec.vpc_subnets as f64 * month_s / 3600.0,
        vpc_bytes: if spec.vpc_subnets > 0 {
            delivered_bytes.round() as u64
        } else {
            0
        },
        dynamic_partitioning_bytes: if partitioned {
            delivered_bytes.round() as u64
        } else {
            0
        },
        dynamic_partitioning_objects: if partitioned {
            objects.round() as u64
        } else {
            0
        },
        jq_hours: 0.0,
    });
    let to_s3 = matches!(
        spec.destination.kind,
        DestinationKind::S3 | DestinationKind::Redshift
    );
    let failed_bytes = bytes_per_s * (1.0 - ok_share) * month_s;
    // Records the transformation fails go to the error output as one object with the next
    // flush that follows them: a flush carries one when at least one failed since the last
    // (Poisson failures at `fail_rate`).
    let fail_rate = (rate - out_rate).max(0.0);
    let error_objects = if objects_per_s > 0.0 {
        objects_per_s * (1.0 - (-fail_rate / objects_per_s).exp()) * month_s
    } else {
        0.0
    };
    cx.usage.s3.push(S3Usage {
        name: format!("firehose:{name}"),
        put_requests: (if to_s3 { objects } else { 0.0 } + error_objects).round() as u64,
        bytes_written: if to_s3 {
            (delivered_bytes + failed_bytes).round() as u64
        } else {
            failed_bytes.round() as u64
        },
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_rate_takes_the_first_condition() {
        // 1,000 records/s of 1 KiB = 1 MiB/s: a 5 MiB buffer fills in 5 s, before a 300 s
        // interval; the first record comes after 1 ms: 1/5.001 flushes/s.
        let r = flushes_per_s(1000.0, 1000.0 * 1024.0, 5 << 20, 300.0);
        assert!((r - 1.0 / (0.001 + 5.12)).abs() < 1e-9, "{r}");
        // 1 record/s: the interval flushes, after the wait for a first record.
        let r = flushes_per_s(1.0, 1024.0, 5 << 20, 60.0);
        assert!((r - 1.0 / 61.0).abs() < 1e-12);
        // Zero interval: every record.
        assert_eq!(flushes_per_s(7.0, 7.0, 1 << 20, 0.0), 7.0);
    }
}
