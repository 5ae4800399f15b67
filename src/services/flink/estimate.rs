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
    // Results into a delivery stream are estimated with it (`results_per_s`).
    if let (None, Some(s)) = (spec.sink_firehose, spec.sink_stream) {
        cx.notes.push(format!(
            "flink \"{name}\": its results into stream \"{}\" are not in the estimate (run the model for them)",
            arch.streams[s as usize].name
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

/// Window results per second of application `f` (mean over the measured window): what
/// its sink receives; and the sink calls per second that bring them (each subtask's
/// firing of a tumbling or sliding window at once, a session's result on its own).
///
/// # Formula
/// Each key `k` of the source's producers gets `λ_k` records/s (Poisson). A window emits a
/// result per key with a record in it: tumbling and sliding windows of `size` every
/// `slide`, `(1 − e^(−λ_k·size)) / slide`; session windows with gap `g` end when a record
/// is followed by a gap longer than `g`, `λ_k·e^(−λ_k·g)`. Late records that fire a window
/// again are left out (`aqueduct run` counts them).
pub(crate) fn results_per_s(arch: &crate::model::Architecture, f: usize) -> (f64, f64) {
    use super::WindowKind;
    let spec = &arch.flinks[f];
    let Some(w) = &spec.window else {
        return (0.0, 0.0);
    };
    let feeds: Vec<(f64, &crate::load::KeyDist)> = arch
        .producers
        .iter()
        .filter(|p| p.target == Target::Stream(spec.stream))
        .filter_map(|p| Some((load_rates(&p.arrival, arch).mean_per_s, p.keys.as_ref()?)))
        .collect();
    let results: f64 = crate::estimate::sizes::key_buckets(&feeds)
        .iter()
        .map(|&(count, l)| {
            count
                * match w.kind {
                    WindowKind::Sliding { size, slide } => {
                        let slide = slide.as_secs_f64();
                        if slide > 0.0 {
                            -(-l * size.as_secs_f64()).exp_m1() / slide
                        } else {
                            0.0
                        }
                    }
                    WindowKind::Session { gap } => l * (-l * gap.as_secs_f64()).exp(),
                }
        })
        .sum();
    let calls = match w.kind {
        // A subtask puts its results in PutRecordBatch calls of at most 500.
        WindowKind::Sliding { slide, .. } if slide.as_secs_f64() > 0.0 => (spec.parallelism as f64
            / slide.as_secs_f64())
        .max(results / 500.0)
        .min(results),
        _ => results,
    };
    (results, calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(window: &str, keys: &str) -> crate::model::Architecture {
        crate::estimate::test_model(&format!(
            r#"
[[producer]]
name = "p"
target = "kinesis:s"
load = {{ process = "poisson", rate_per_s = 10 }}
size = "100B"
partition_key = {keys}

[[stream]]
name = "s"
shards = 1

[[flink]]
name = "f"
source = "kinesis:s"
parallelism = 2
cpu_per_record = "10us"
window = {window}
sink = {{ target = "firehose:out", result_size = "50B" }}

[[firehose]]
name = "out"
destination = {{ kind = "s3" }}
"#
        ))
    }

    #[test]
    fn window_results_per_key_with_records() {
        // 10 records/s over 100 equally likely keys: λ_k = 0.1/s.
        let uniform = "{ dist = \"uniform\", keys = 100 }";
        // Tumbling 1 min: a key has a record in a window with 1 − e^(−6); 100 keys ÷ 60 s.
        let a = model("{ kind = \"tumbling\", size = \"1m\" }", uniform);
        let (r, calls) = results_per_s(&a, 0);
        let want = 100.0 * (1.0 - (-6.0f64).exp()) / 60.0;
        assert!((r - want).abs() < 1e-9 * want, "{r} vs {want}");
        // Two subtasks fire each window: 2 calls a minute.
        assert!((calls - 2.0 / 60.0).abs() < 1e-12, "{calls}");
        // Sliding 1 min every 10 s: six times the results.
        let a = model(
            "{ kind = \"sliding\", size = \"1m\", slide = \"10s\" }",
            uniform,
        );
        assert!((results_per_s(&a, 0).0 - 6.0 * want).abs() < 1e-9 * want);
        // Sessions with a 5 s gap: a record followed by 5 s of silence, λ_k·e^(−0.5).
        let a = model("{ kind = \"session\", gap = \"5s\" }", uniform);
        let want = 100.0 * 0.1 * (-0.5f64).exp();
        assert!((results_per_s(&a, 0).0 - want).abs() < 1e-9 * want);
        // One hot key among 10 (Zipf 2): fewer distinct keys per window than uniform.
        let zipf = "{ dist = \"zipf\", keys = 10, exponent = 2.0 }";
        let a = model("{ kind = \"tumbling\", size = \"1s\" }", zipf);
        let h: f64 = (1..=10).map(|k| (k as f64).powi(-2)).sum();
        let want: f64 = (1..=10)
            .map(|k| 1.0 - (-10.0 * (k as f64).powi(-2) / h).exp())
            .sum();
        assert!((results_per_s(&a, 0).0 - want).abs() < 1e-9 * want);
    }
}
