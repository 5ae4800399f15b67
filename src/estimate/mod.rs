//! A model's expected steady-state usage, computed analytically from its load
//! (`aqueduct price MODEL`), with the capacity its documented limits require.
//!
//! The estimate prices what the model declares: SNS topics with their publishers, filter
//! policies and deliveries (`sns`), SQS queues with their producers, worker pools and
//! Lambda event source mappings (`sqs`, `lambda`), and Kinesis data streams with their
//! producers, consumer applications and Lambda mappings (`kinesis`). It is a
//! static answer to compare with a simulation (`aqueduct run`), not a replacement for one:
//! it follows the expected load in a fluid model and knows nothing of random transients.
//!
//! Each service's part is the `estimate` module of its folder under [`crate::services`]
//! (re-exported here as `sns`, `sqs`, `lambda` and `kinesis`); this module holds
//! what they share (`Context`, `Grid`, the capacity rows of [`capacity`]) and the
//! reading of usage files ([`usage_file`]), which `aqueduct price` bills without a model.
//!
//! # How the parts fit
//! [`estimate`] builds a `Context`: the model, the time `Grid` of the fluid model, the
//! usage records and capacity rows found so far, and one `lambda::FunctionLoad` per
//! Lambda function. Each service part reads its components from the model, pushes its
//! usage records and capacity rows, and adds the invocations it causes to the functions'
//! loads; `lambda::finish` then turns the loads into Lambda usage and concurrency rows.
//! A part that feeds another runs before it: `sns` first, whose deliveries to queues
//! (and subscription dead-letter moves) become feeds of the queue model (`sqs::Feed`,
//! in `Context::feeds`) and whose Lambda subscriptions add asynchronous invocations to
//! the functions' loads.

pub mod capacity;
pub(crate) mod sizes;
pub mod usage_file;

pub(crate) use crate::services::firehose::estimate as firehose;
pub(crate) use crate::services::kinesis::estimate as kinesis;
pub(crate) use crate::services::lambda::estimate as lambda;
pub(crate) use crate::services::sns::estimate as sns;
pub(crate) use crate::services::sqs::estimate as sqs;

use crate::input::error::Invalid;
use crate::load::Arrival;
use crate::model::Architecture;
use crate::services::Usage;
use crate::sim::SimTime;
use capacity::Capacity;

/// The estimate of a model.
#[derive(Clone, Debug)]
pub struct Estimate {
    /// Expected usage over a window of one month.
    pub usage: Usage,
    /// Capacity figures.
    pub capacity: Vec<Capacity>,
    /// Assumptions the estimate made, for the user.
    pub notes: Vec<String>,
}

/// Rates of one producer's load over the measured window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LoadRates {
    /// Mean arrivals per second over the measured window.
    pub(crate) mean_per_s: f64,
    /// Highest arrival rate of the load, per second.
    pub(crate) peak_per_s: f64,
}

/// Mean and peak rates of `arrival` over the measured window `[warmup, warmup + duration)`.
///
/// # Formula
/// `mean = expected arrivals in the window ÷ window length`; `peak = max λ(t)`: the
/// diurnal peak, the highest piecewise segment, or λ(t) sampled at 10,000 points of the
/// window for traces.
pub(crate) fn load_rates(arrival: &Arrival, arch: &Architecture) -> LoadRates {
    let from = SimTime::ZERO + arch.warmup;
    let to = SimTime::ZERO + arch.horizon();
    let window = arch.duration.as_secs_f64();
    let mean = if window > 0.0 {
        arrival.expected_count(from, to) / window
    } else {
        0.0
    };
    let peak = match arrival {
        Arrival::Constant { rate_per_s } | Arrival::Poisson { rate_per_s } => *rate_per_s,
        Arrival::Diurnal { peak_per_s, .. } => *peak_per_s,
        Arrival::Piecewise {
            segments,
            lead_rate_per_s,
            ..
        } => segments
            .iter()
            .map(|s| s.rate_per_s)
            .fold(*lead_rate_per_s, f64::max),
        Arrival::Trace(_) => {
            let span = (to.0 - from.0).max(1);
            (0..10_000u64)
                .map(|i| arrival.rate_at(SimTime(from.0 + span / 10_000 * i)))
                .fold(mean, f64::max)
        }
    };
    LoadRates {
        mean_per_s: mean,
        peak_per_s: peak.max(mean),
    }
}

/// The distribution of messages per SendMessageBatch call of a producer that sends
/// batches of up to `batch`, flushing a partial batch `linger_s` after its first message.
///
/// # Formula
/// Evenly spaced arrivals: `k = min(batch, max(1, ceil(λ·linger)))` always. Otherwise
/// (Poisson, and as an approximation for the other processes) `k = min(batch, 1 + N)` with
/// `N ~ Poisson(λ·linger)` arrivals during the linger. Returns `(k, P(k))` pairs.
pub(crate) fn batch_fill(
    rate: f64,
    batch: u32,
    linger_s: f64,
    evenly_spaced: bool,
) -> Vec<(u32, f64)> {
    if batch <= 1 {
        return vec![(1, 1.0)];
    }
    let mu = rate * linger_s;
    if evenly_spaced {
        let k = (mu.ceil().max(1.0) as u32).min(batch);
        return vec![(k, 1.0)];
    }
    let mut out = Vec::new();
    let mut p = (-mu).exp();
    let mut below = 0.0;
    for n in 0..batch - 1 {
        out.push((n + 1, p));
        below += p;
        p *= mu / (n + 1) as f64;
    }
    out.push((batch, (1.0 - below).max(0.0)));
    out.retain(|(_, p)| *p > 0.0);
    out
}

/// `E[g(N)]` for `N ~ Poisson(mu)`.
///
/// # Formula
/// `Σ P(N = n) g(n)` over `n` within `mu ± (10√mu + 10)`, the probabilities built from the
/// mode outwards in log space (the tails beyond carry less than 10⁻²⁰).
pub(crate) fn poisson_mean(mu: f64, g: impl Fn(u64) -> f64) -> f64 {
    if mu <= 0.0 {
        return g(0);
    }
    let span = 10.0 * mu.sqrt() + 10.0;
    let lo = (mu - span).floor().max(0.0) as u64;
    let hi = (mu + span).ceil() as u64;
    let mode = mu.floor() as u64;
    let ln_mode = mode as f64 * mu.ln() - mu - ln_factorial(mode);
    let mut sum = 0.0;
    let mut total = 0.0;
    let mut p = ln_mode.exp();
    for n in mode..=hi {
        sum += p * g(n);
        total += p;
        p *= mu / (n + 1) as f64;
    }
    let mut p = ln_mode.exp();
    let mut n = mode;
    while n > lo {
        p *= n as f64 / mu;
        n -= 1;
        sum += p * g(n);
        total += p;
    }
    if total > 0.0 {
        sum / total
    } else {
        g(mu.round() as u64)
    }
}

/// `ln(n!)`, exactly summed up to 256, by Stirling's series above.
fn ln_factorial(n: u64) -> f64 {
    if n <= 256 {
        return (2..=n).map(|i| (i as f64).ln()).sum();
    }
    let x = n as f64;
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x * x * x)
}

/// Steps of the fluid model when some load varies in time.
pub(crate) const TIME_STEPS: usize = 4000;

/// The time grid of the fluid model.
///
/// # Formula
/// One step over the measured window when every load is time-invariant (constant or
/// Poisson); otherwise [`TIME_STEPS`] equal steps over warm-up and window, so that backlogs
/// built during the warm-up carry over. A step's weight is the share of the measured window
/// it covers (the weights sum to 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Grid {
    /// Start of the first step, s.
    pub(crate) t0: f64,
    /// Step length, s.
    pub(crate) dt: f64,
    /// Number of steps.
    pub(crate) steps: usize,
    /// Whether some load varies in time.
    pub(crate) time_varying: bool,
    warmup: f64,
    horizon: f64,
    duration: f64,
}

/// One step of a [`Grid`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Step {
    /// Start, from the start of the run.
    pub(crate) from: SimTime,
    /// End.
    pub(crate) to: SimTime,
    /// Length, s.
    pub(crate) dt: f64,
    /// Share of the measured window it covers (0 during the warm-up).
    pub(crate) weight: f64,
}

impl Grid {
    /// The grid of `arch`.
    pub(crate) fn new(arch: &Architecture) -> Self {
        let time_varying = arch.producers.iter().any(|p| {
            !matches!(
                p.arrival,
                Arrival::Constant { .. } | Arrival::Poisson { .. }
            )
        });
        let warmup = arch.warmup.as_secs_f64();
        let horizon = arch.horizon().as_secs_f64();
        let duration = arch.duration.as_secs_f64();
        let steps = if time_varying { TIME_STEPS } else { 1 };
        let (t0, dt) = if time_varying {
            (0.0, horizon / steps as f64)
        } else {
            (warmup, duration)
        };
        Grid {
            t0,
            dt,
            steps,
            time_varying,
            warmup,
            horizon,
            duration,
        }
    }

    /// Step `i`.
    pub(crate) fn step(&self, i: usize) -> Step {
        let start = self.t0 + i as f64 * self.dt;
        let lo = start.max(self.warmup);
        let hi = (start + self.dt).min(self.horizon);
        let weight = if self.duration > 0.0 {
            (hi - lo).max(0.0) / self.duration
        } else {
            0.0
        };
        Step {
            from: SimTime((start * 1e9) as u64),
            to: SimTime(((start + self.dt) * 1e9) as u64),
            dt: self.dt,
            weight,
        }
    }

    /// The rate of `arrival` during `step`: its mean over the step when the grid is
    /// time-varying (so a burst shorter than a step still counts), else its mean over the
    /// measured window.
    pub(crate) fn rate(&self, arrival: &Arrival, arch: &Architecture, step: &Step) -> f64 {
        if self.time_varying {
            arrival.expected_count(step.from, step.to) / step.dt
        } else {
            load_rates(arrival, arch).mean_per_s
        }
    }
}

/// What the parts of the estimate share while they run.
pub(crate) struct Context<'a> {
    /// The model.
    pub(crate) arch: &'a Architecture,
    /// Seconds in the billing month (the usage window).
    pub(crate) month_s: f64,
    /// The fluid model's time grid.
    pub(crate) grid: Grid,
    /// Usage found so far, over a window of one month.
    pub(crate) usage: Usage,
    /// Capacity rows found so far.
    pub(crate) capacity: Vec<Capacity>,
    /// Assumptions made, for the user.
    pub(crate) notes: Vec<String>,
    /// The load of each Lambda function (indexed as `arch.lambdas`).
    pub(crate) functions: Vec<lambda::FunctionLoad>,
    /// What other services send into queues (SNS deliveries), for the queue model.
    pub(crate) feeds: Vec<sqs::Feed<'a>>,
    /// FIFO queues' messages per ready event, by the quantized inputs of
    /// [`Context::fifo_clump`].
    pub(crate) fifo_cache: std::cell::RefCell<std::collections::HashMap<Vec<u64>, f64>>,
}

/// Estimates the monthly usage of `arch` (a month of `month_hours`) and its capacity.
///
/// # Formula
/// A fluid model over the measured window on the `Grid`; each part's rates are averaged
/// over the window and scaled to the month: `quantity/month = rate × month_hours × 3600`.
/// SNS topics: `sns::estimate_topics`; SQS queues, pools and Lambda mappings:
/// `sqs::estimate_queues`; Kinesis streams: `kinesis::estimate_streams`; Lambda usage
/// and concurrency: `lambda::finish`.
pub fn estimate(arch: &Architecture, month_hours: f64) -> Result<Estimate, Invalid> {
    let month_s = month_hours * 3600.0;
    let mut cx = Context {
        arch,
        month_s,
        grid: Grid::new(arch),
        usage: Usage {
            window_s: month_s,
            ..Usage::default()
        },
        capacity: Vec::new(),
        notes: vec![format!(
            "analytic estimate of \"{}\": the expected load of its measured window ({}) in a fluid model (backlogs build when the load exceeds what the consumers can do), scaled to a {month_hours}-hour month; `aqueduct run` simulates it",
            arch.name, arch.duration
        )],
        functions: arch
            .lambdas
            .iter()
            .map(|_| lambda::FunctionLoad::default())
            .collect(),
        feeds: Vec::new(),
        fifo_cache: Default::default(),
    };
    for p in &arch.producers {
        if matches!(p.arrival, Arrival::Trace(_)) {
            cx.notes.push(format!(
                "producer \"{}\": a trace's recorded sizes are not read by the estimate; its size distribution is used",
                p.name
            ));
        }
    }
    // A pool's `outages` are noted with the pool.
    for f in arch.faults.iter().filter(|f| f.listed) {
        {
            cx.notes.push(format!(
                "fault \"{}\" ({} of {}) is a transient; the estimate ignores it: `aqueduct run` simulates it",
                f.name,
                f.kind.key(),
                f.target_text
            ));
        }
    }
    sns::estimate_topics(&mut cx)?;
    sqs::estimate_queues(&mut cx)?;
    kinesis::estimate_streams(&mut cx)?;
    firehose::estimate_firehoses(&mut cx)?;
    crate::services::flink::estimate::estimate_flinks(&mut cx)?;
    crate::services::video::estimate::estimate_video(&mut cx);
    crate::batch::estimate::estimate_batch_jobs(&mut cx);
    lambda::finish(&mut cx);
    Ok(Estimate {
        usage: cx.usage,
        capacity: cx.capacity,
        notes: cx.notes,
    })
}

/// A model from `body` with a one-hour window and zero API latency, for tests.
#[cfg(test)]
pub(crate) fn test_model(body: &str) -> Architecture {
    let src = format!("name = \"t\"\nduration = \"1h\"\napi_latency = \"0ms\"\n{body}");
    crate::model::load_str(&src, "t.toml", std::path::Path::new("."))
        .unwrap_or_else(|e| panic!("test model: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_means() {
        // E[N] = μ and E[N²] = μ + μ² for N ~ Poisson(μ), at small and large μ.
        for mu in [0.3, 4.0, 250.0, 5000.0] {
            let m = poisson_mean(mu, |n| n as f64);
            let m2 = poisson_mean(mu, |n| (n * n) as f64);
            assert!((m - mu).abs() < 1e-9 * mu.max(1.0), "{mu}: {m}");
            assert!((m2 - mu - mu * mu).abs() < 1e-8 * mu * mu, "{mu}: {m2}");
        }
        // P(N ≥ 1) at μ = 2: 1 − e^−2 = 0.864665.
        let p = poisson_mean(2.0, |n| if n >= 1 { 1.0 } else { 0.0 });
        assert!((p - (1.0 - (-2.0f64).exp())).abs() < 1e-12);
    }

    #[test]
    fn batch_fill_of_evenly_spaced_and_poisson_loads() {
        // 50 msg/s evenly spaced, linger 100 ms: λ·linger = 5 → 5 per call (batch 10).
        assert_eq!(batch_fill(50.0, 10, 0.1, true), vec![(5, 1.0)]);
        // 500/s fills batches of 10 before the linger ends.
        assert_eq!(batch_fill(500.0, 10, 0.1, true), vec![(10, 1.0)]);
        // Poisson at 10/s, linger 100 ms, batch 2: P(N = 0) = e^−1 → 1 message, else 2:
        // E[k] = e^−1 + 2(1 − e^−1) = 2 − e^−1 = 1.632.
        let f = batch_fill(10.0, 2, 0.1, false);
        let mean: f64 = f.iter().map(|(k, p)| *k as f64 * p).sum();
        assert!((mean - (2.0 - (-1.0f64).exp())).abs() < 1e-12);
    }
}
