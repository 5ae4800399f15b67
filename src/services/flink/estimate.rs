//! Managed Flink applications in the estimate: KPU-hours at the configured parallelism
//! (the orchestration KPU added by the bill), running storage, and the busiest subtask's
//! CPU at peak as a capacity row.

use super::app::{KeySpace, ProdKeys};
use super::bill::{FlinkRun, FlinkUsage};
use crate::estimate::capacity::Capacity;
use crate::estimate::{load_rates, Context};
use crate::input::error::Invalid;
use crate::producers::Target;

const SVC: &str = "managed_flink";

/// Estimates every application of the model.
pub(crate) fn estimate_flinks(cx: &mut Context) -> Result<(), Invalid> {
    for f in 0..cx.arch.flinks.len() {
        estimate_flink(cx, f);
    }
    Ok(())
}

/// Estimates application `f`.
///
/// # Formula
/// Usage: one run of the whole month at `ceil(parallelism / parallelism_per_kpu)` KPUs.
/// Capacity: a subtask's share `s_j = Σ_{keys k on j} λ_k / λ` of the records (Flink's
/// key-group assignment of each producer's keys, weighted by the key distribution); the
/// busiest subtask's CPU is `λ_peak × max_j s_j × E[cpu_per_record] × parallelism_per_kpu`
/// against 1 (its share of a KPU's vCPU); above 0.75 for 15 minutes autoscaling doubles
/// the parallelism.
fn estimate_flink(cx: &mut Context, f: usize) {
    let arch = cx.arch;
    let spec = &arch.flinks[f];
    let name = spec.name.as_str();
    let kpus = spec.kpus(spec.parallelism);
    cx.usage.flink.push(FlinkUsage {
        name: name.to_string(),
        runs: vec![FlinkRun {
            count: 1.0,
            seconds: cx.month_s,
            kpus: kpus as f64,
            whole: false,
        }],
        backup_gb_hours: 0.0,
    });
    let mut peak = 0.0;
    let mut prods = Vec::new();
    for p in arch
        .producers
        .iter()
        .filter(|p| p.target == Target::Stream(spec.stream))
    {
        let r = load_rates(&p.arrival, arch);
        peak += r.peak_per_s;
        if let Some(k) = &p.keys {
            prods.push((
                ProdKeys::new(k.clone(), r.mean_per_s.max(1e-12), None),
                p.key_prefix.clone(),
            ));
        }
    }
    let keys = KeySpace::new(prods, spec.parallelism);
    let shares = keys.subtask_shares(spec.parallelism);
    let busiest = shares.iter().copied().fold(0.0, f64::max);
    let cpu = spec.cpu_per_record.mean_s() * spec.parallelism_per_kpu as f64;
    let util = peak * busiest * cpu;
    cx.capacity.push(Capacity::against(
        SVC,
        name,
        format!(
            "busiest subtask's CPU at peak ({} subtasks, {:.1}% of the records on it)",
            spec.parallelism,
            busiest * 100.0
        ),
        util,
        1.0,
        "the busiest subtask cannot keep up: the source is back-pressured and the iterator age grows; raise the parallelism or spread the hot keys",
    ));
    let sink = match (spec.sink_firehose, spec.sink_stream) {
        (Some(f), _) => Some(format!(
            "delivery stream \"{}\"",
            arch.firehoses[f as usize].name
        )),
        (None, Some(s)) => Some(format!("stream \"{}\"", arch.streams[s as usize].name)),
        (None, None) => None,
    };
    if let Some(sink) = sink {
        cx.notes.push(format!(
            "flink \"{name}\": its results into {sink} are not in the estimate (run the model for them)"
        ));
    }
    if spec.autoscaling && util >= spec.scaling.0 as f64 / 100.0 {
        cx.notes.push(format!(
            "flink \"{name}\": the busiest KPU runs at {:.0}% CPU at peak; if that lasts {} minutes autoscaling doubles the parallelism (the estimate bills the configured {} KPUs)",
            util.min(1.0) * 100.0,
            spec.scaling.1,
            kpus
        ));
    }
}
