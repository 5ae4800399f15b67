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
/// window holds `window / every` runs: `node-hours = nodes × d × window / every / 3600`.
/// A run longer than `every` delays the next (an overrun): a capacity row compares them.
pub(crate) fn estimate_batch_jobs(cx: &mut Context) {
    let arch = cx.arch;
    for spec in &arch.batch_jobs {
        let (rate, bytes_per_s) = store_input(cx, spec);
        let every = spec.every.as_secs_f64();
        let records = rate * every;
        let d = spec
            .duration(records.round() as u64, (bytes_per_s * every).round() as u64)
            .as_secs_f64();
        let runs = if every > 0.0 { cx.month_s / every } else { 0.0 };
        cx.usage.batch.push(BatchJobUsage {
            name: spec.name.clone(),
            node_hours: spec.nodes as f64 * d * runs / 3600.0,
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
