//! Batch jobs in the estimate: node-hours of a run every `every`, reading what the
//! producers put into its store in between.

use crate::batch::{BatchJobSpec, BatchStore};
use crate::estimate::capacity::Capacity;
use crate::estimate::{load_rates, Context};
use crate::producers::Target;
use crate::services::firehose::FirehoseInput;
use crate::services::BatchJobUsage;

/// Estimates every batch job of the model.
///
/// # Formula
/// A steady load of `λ` records/s of mean size `b` bytes into the job's store (the
/// producers that write to it: a queue's, a stream's, a Firehose stream's, and for a
/// Firehose stream that reads a Kinesis stream, that stream's) gives each run
/// `n = λ·every` records of `n·b` bytes, so a run takes
/// `d = startup + (GiB × per_gb + n × per_record) / nodes` (see [`crate::batch`]) and the
/// window holds `window / every` runs: `node-hours = nodes × min(d, every) × window / every /
/// 3600` (a run longer than `every` delays the next, an overrun, so the nodes work at most
/// the whole window; a capacity row compares `d` with `every`). Only producers count:
/// what SNS subscriptions or a Flink sink deliver into the store is noted as left out.
pub(crate) fn estimate_batch_jobs(cx: &mut Context) {
    let arch = cx.arch;
    for spec in &arch.batch_jobs {
        let (rate, bytes_per_s) = store_input(cx, spec);
        let other = match spec.store {
            BatchStore::Queue(q) => arch
                .subscriptions
                .iter()
                .any(|s| s.endpoint == crate::services::sns::Endpoint::Queue(q)),
            BatchStore::Firehose(f) => {
                arch.subscriptions
                    .iter()
                    .any(|s| s.endpoint == crate::services::sns::Endpoint::Firehose(f))
                    || arch.flinks.iter().any(|a| a.sink_firehose == Some(f))
            }
            BatchStore::Stream(s) => arch.flinks.iter().any(|a| a.sink_stream == Some(s)),
        };
        if other {
            cx.notes.push(format!(
                "batch job \"{}\": what SNS subscriptions or a Flink application deliver into {} is not in its estimate, only what producers put there (`aqueduct run` counts it)",
                spec.name, spec.store_text
            ));
        }
        let every = spec.every.as_secs_f64();
        let records = rate * every;
        let d = spec
            .duration(records.round() as u64, (bytes_per_s * every).round() as u64)
            .as_secs_f64();
        let runs = if every > 0.0 { cx.month_s / every } else { 0.0 };
        // A run that outlasts `every` delays the next: the runs then go back to back, and
        // the nodes work at most the whole month.
        cx.usage.batch.push(BatchJobUsage {
            name: spec.name.clone(),
            node_hours: spec.nodes as f64 * d.min(every) * runs / 3600.0,
            node_hour_usd: spec.node_hour_usd,
        });
        cx.capacity.push(Capacity::against(
            "batch_job",
            &spec.name,
            format!(
                "a run's duration, s ({records:.0} records of the {} between runs)",
                spec.every
            ),
            d,
            every,
            "a run outlasts the interval between runs: each run delays the next (overruns) and the results come later and later",
        ));
    }
}

/// Records/s and bytes/s that the producers put into `spec`'s store (mean over the
/// measured window).
fn store_input(cx: &Context, spec: &BatchJobSpec) -> (f64, f64) {
    let arch = cx.arch;
    let feeds = |t: &Target| match spec.store {
        BatchStore::Queue(q) => *t == Target::Queue(q),
        BatchStore::Stream(s) => *t == Target::Stream(s),
        BatchStore::Firehose(f) => {
            *t == Target::Firehose(f)
                || matches!(arch.firehoses[f as usize].input,
                    FirehoseInput::Kinesis(s) if *t == Target::Stream(s))
        }
    };
    let (mut rate, mut bytes) = (0.0, 0.0);
    for p in arch.producers.iter().filter(|p| feeds(&p.target)) {
        let r = load_rates(&p.arrival, arch).mean_per_s;
        rate += r;
        bytes += r * p.size.mean_bytes();
    }
    (rate, bytes)
}
