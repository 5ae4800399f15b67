//! A model's expected steady-state usage, computed analytically from its load
//! (`aqueduct price MODEL`), with the capacity its documented limits require.
//!
//! The estimate prices what the model declares: today SQS queues with their producers and
//! worker pools (the components the engine simulates). It is a static answer to compare
//! with a simulation (`aqueduct run`), not a replacement for one: it assumes the pools
//! keep up, and it knows nothing of transients.

use super::capacity::Capacity;
use super::sqs::{chunks, SqsUsage};
use super::Usage;
use crate::consumers::PoolSpec;
use crate::load::{Arrival, Dist, SizeDist};
use crate::model::error::{FieldPath, Invalid};
use crate::model::Architecture;
use crate::sim::{stream, SimTime};
use rand::Rng;

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
pub struct LoadRates {
    /// Mean arrivals per second over the measured window.
    pub mean_per_s: f64,
    /// Highest arrival rate of the load, per second.
    pub peak_per_s: f64,
}

/// Mean and peak rates of `arrival` over the measured window `[warmup, warmup + duration)`.
///
/// # Formula
/// `mean = expected arrivals in the window ÷ window length`; `peak = max λ(t)`: the
/// diurnal peak, the highest piecewise segment, or λ(t) sampled at 10,000 points of the
/// window for traces.
pub fn load_rates(arrival: &Arrival, arch: &Architecture) -> LoadRates {
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
pub fn batch_fill(rate: f64, batch: u32, linger_s: f64, evenly_spaced: bool) -> Vec<(u32, f64)> {
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

/// Messages of a queue come from several producers: their size distributions, weighted by
/// rate.
struct SizeMix<'a> {
    parts: Vec<(f64, &'a SizeDist)>,
}

impl SizeMix<'_> {
    fn constant(&self) -> Option<f64> {
        let first = match self.parts.first()?.1 .0 {
            Dist::Constant(v) => v,
            _ => return None,
        };
        self.parts
            .iter()
            .all(|(_, d)| matches!(d.0, Dist::Constant(v) if v == first))
            .then_some(first.ceil().max(1.0))
    }

    /// `table[k]` = expected billable chunks of a call carrying `k` messages, `k` from 0 to
    /// `max_k` (`table[0]` is unused).
    ///
    /// # Formula
    /// Constant sizes: `max(1, ceil(k × size / chunk))`, exact. Other sizes: the mean of
    /// `max(1, ceil(Σ_k sizes / chunk))` over 20,000 draws from a fixed seed (so the
    /// estimate is reproducible).
    fn chunks_table(&self, max_k: u32, chunk: u64, seed_name: &str) -> Vec<f64> {
        let mut table = vec![1.0; max_k as usize + 1];
        if let Some(v) = self.constant() {
            for (k, t) in table.iter_mut().enumerate() {
                *t = chunks((k as f64 * v) as u64, chunk) as f64;
            }
            return table;
        }
        let total: f64 = self.parts.iter().map(|(w, _)| w).sum();
        if self.parts.is_empty() || total <= 0.0 {
            return table;
        }
        let mut rng = stream(0, seed_name);
        const N: usize = 20_000;
        for (k, t) in table.iter_mut().enumerate().skip(1) {
            let mut sum = 0.0;
            for _ in 0..N {
                let mut bytes = 0u64;
                for _ in 0..k {
                    let mut v: f64 = rng.random::<f64>() * total;
                    let mut dist = self.parts[0].1;
                    for (w, d) in &self.parts {
                        if v < *w {
                            dist = d;
                            break;
                        }
                        v -= w;
                    }
                    bytes += dist.sample(&mut rng) as u64;
                }
                sum += chunks(bytes, chunk) as f64;
            }
            *t = sum / N as f64;
        }
        table
    }
}

/// Expected chunks of a call whose message count follows `fill`.
fn chunks_of(fill: &[(u32, f64)], table: &[f64]) -> f64 {
    fill.iter()
        .map(|(k, p)| p * table[(*k as usize).min(table.len() - 1)])
        .sum()
}

/// `k` messages per call when the mean is a fraction: `floor(k)` and `floor(k) + 1` mixed
/// so the mean is `k`.
fn fractional_fill(k: f64) -> Vec<(u32, f64)> {
    let lo = k.floor().max(1.0);
    let w = (k - lo).clamp(0.0, 1.0);
    let mut v = vec![(lo as u32, 1.0 - w)];
    if w > 0.0 {
        v.push((lo as u32 + 1, w));
    }
    v
}

/// Per-second rates of one worker pool on its queue.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PoolRates {
    /// Workers assumed.
    pub workers: f64,
    /// Messages delivered per second (redeliveries included).
    pub deliveries: f64,
    /// Workers busy processing (mean).
    pub busy: f64,
    /// Messages per non-empty receive.
    pub per_receive: f64,
    /// Non-empty ReceiveMessage calls per second.
    pub receives: f64,
    /// Empty receives per second.
    pub empty_receives: f64,
    /// Delete calls per second.
    pub deletes: f64,
    /// ChangeMessageVisibility (heartbeat) calls per second.
    pub heartbeats: f64,
    /// Messages per second that exhaust their receives (moved to the dead-letter queue).
    pub exhausted: f64,
}

impl PoolRates {
    fn add_scaled(&mut self, o: &PoolRates, w: f64) {
        self.workers += o.workers * w;
        self.deliveries += o.deliveries * w;
        self.busy += o.busy * w;
        self.receives += o.receives * w;
        self.empty_receives += o.empty_receives * w;
        self.deletes += o.deletes * w;
        self.heartbeats += o.heartbeats * w;
        self.exhausted += o.exhausted * w;
    }
}

/// What a worker pool does with each message, independent of the load.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolModel {
    /// Failure probability of a processing.
    pub f: f64,
    /// Receives per message (redeliveries and duplicates included).
    pub r: f64,
    /// Fraction of messages that exhaust their receives (to the dead-letter queue).
    pub exhaust: f64,
    /// Mean service time, s.
    pub s: f64,
    /// Mean API round trip, s.
    pub latency: f64,
    /// Fixed time per receive cycle, s (`L₀`: the receive, and a batched delete).
    pub l0: f64,
    /// Time per message in a cycle, s (`s′`: service, and a one-by-one delete).
    pub s1: f64,
}

impl PoolModel {
    /// The model of `spec` on a queue with the given redrive and duplicate settings.
    ///
    /// # Formula
    /// `r = (1 − f^R)/(1 − f) ÷ (1 − d)` receives per message (`R` = maxReceiveCount, ∞
    /// without a dead-letter queue; `d` = duplicate probability); `f^R` of the messages
    /// are dead-lettered. `L₀ = L` and `s′ = s + (1 − f)·L` with one-by-one deletes,
    /// `L₀ = 2L` and `s′ = s` with batched deletes.
    pub fn new(
        spec: &PoolSpec,
        dead_letter_after: Option<u32>,
        duplicate_probability: f64,
        latency_s: f64,
    ) -> Result<Self, String> {
        let f = spec.failure_probability.clamp(0.0, 1.0);
        let (r, exhaust) = match dead_letter_after {
            Some(n) if f > 0.0 => {
                let fr = f.powi(n as i32);
                let r = if f < 1.0 {
                    (1.0 - fr) / (1.0 - f)
                } else {
                    n as f64
                };
                (r, fr)
            }
            None if f >= 1.0 => {
                return Err("every processing fails and there is no dead-letter queue: messages are received again after every visibility timeout until retention expires them; the steady state is not defined".into());
            }
            _ if f > 0.0 => (1.0 / (1.0 - f), 0.0),
            _ => (1.0, 0.0),
        };
        let s = spec.service_time.mean_s();
        let (l0, s1) = if spec.delete_batch {
            (2.0 * latency_s, s)
        } else {
            (latency_s, s + (1.0 - f) * latency_s)
        };
        Ok(PoolModel {
            f,
            r: r / (1.0 - duplicate_probability.clamp(0.0, 0.99)),
            exhaust,
            s,
            latency: latency_s,
            l0,
            s1,
        })
    }

    /// Most new messages per second `workers` workers can finish (receiving `max` per call).
    ///
    /// # Formula
    /// `c × M / (L₀ + M·s′) / r` (infinite when a cycle takes no time).
    pub fn capacity(&self, workers: f64, max: u32) -> f64 {
        let m = max.max(1) as f64;
        let cycle = self.l0 + m * self.s1;
        if cycle <= 0.0 {
            f64::INFINITY
        } else {
            workers * m / cycle / self.r
        }
    }
}

/// Rates of worker pool `spec` receiving `inflow` new messages per second, with `backlog`
/// true when messages wait in the queue (then every receive returns `max_messages` and no
/// worker is idle).
///
/// # Formula
/// Deliveries `D = inflow × r`; busy workers `B = D × s`. Messages per receive `m` solves
/// `m = (D/c)·T(m)`, the arrivals a worker finds after a cycle `T(m) = L₀ + m·s′`:
/// `m = (D/c)·L₀ / (1 − (D/c)·s′)`, clamped to `[1, max_messages]` (zero latency gives 1
/// per receive while the pool keeps up); with a backlog, `m = max_messages`. Non-empty
/// receives `D/m`; deletes `D(1 − f)` one by one, or `(D/m)(1 − f^m)` batched; heartbeats
/// `(D/m)·max(0, m·s/every − ½)`. Idle workers `I = c − B − calls × L` poll every
/// `wait + L + poll_interval`: empty receives `max(0, I/(wait + L + poll) − D/m)`.
pub fn pool_rates(
    spec: &PoolSpec,
    model: &PoolModel,
    workers: f64,
    inflow: f64,
    backlog: bool,
) -> Result<PoolRates, String> {
    let d = inflow * model.r;
    let busy = d * model.s;
    let c = workers;
    let max_m = spec.max_messages.max(1) as f64;
    let a = if c > 0.0 { d / c } else { f64::INFINITY };
    let denom = 1.0 - a * model.s1;
    let m = if backlog || denom <= 0.0 {
        max_m
    } else {
        (a * model.l0 / denom).clamp(1.0, max_m)
    };
    let receives = d / m;
    let deletes = if spec.delete_batch {
        receives * (1.0 - model.f.powf(m))
    } else {
        d * (1.0 - model.f)
    };
    let heartbeats = match spec.heartbeat {
        Some(h) if !h.every.is_zero() => {
            receives * (m * model.s / h.every.as_secs_f64() - 0.5).max(0.0)
        }
        _ => 0.0,
    };
    let idle = if backlog {
        0.0
    } else {
        (c - busy - (receives + deletes + heartbeats) * model.latency).max(0.0)
    };
    let cycle = spec.wait.as_secs_f64() + model.latency + spec.poll_interval.as_secs_f64();
    let empty = if idle > 0.0 {
        if cycle <= 0.0 {
            return Err("short polling (wait = \"0s\") with zero API latency and no poll_interval makes an unbounded number of empty receives: set receive.wait (long polling) or poll_interval".into());
        }
        (idle / cycle - receives).max(0.0)
    } else {
        0.0
    };
    Ok(PoolRates {
        workers: c,
        deliveries: d,
        busy,
        per_receive: m,
        receives,
        empty_receives: empty,
        deletes,
        heartbeats,
        exhausted: inflow * model.exhaust,
    })
}

/// A producer, prepared for the time steps.
struct Plan<'a> {
    queue: usize,
    arrival: &'a Arrival,
    batch: u32,
    linger_s: f64,
    even: bool,
    send_chunks: Vec<f64>,
    resend_probability: f64,
    resend_stored: bool,
}

/// Estimates the monthly usage of `arch` (a month of `month_hours`) and its capacity.
///
/// # Formula
/// A fluid model over the measured window, in up to 4,000 time steps (one when every load
/// is time-invariant). At each step, per producer: send calls/s `= λ(t) / E[k]` with `k`
/// from [`batch_fill`], each billed `E[max(1, ceil(Σ sizes / 64 KiB))]` requests, plus one
/// call per re-sent message. Per queue: inflow (sends, resends not deduplicated, the
/// messages dead-lettered by its source queues); when it exceeds the pools' capacity
/// ([`PoolModel::capacity`]) or a backlog remains, the backlog grows (or drains) and the
/// pools work flat out, otherwise they serve the inflow, shared in proportion to their
/// workers; rates per pool from [`pool_rates`], receives billed by their payload's 64 KiB
/// chunks. The rates are averaged over the window; `requests/month = rate × month_hours ×
/// 3600`.
pub fn estimate(arch: &Architecture, month_hours: f64) -> Result<Estimate, Invalid> {
    let window_s = month_hours * 3600.0;
    let chunk = arch.limits.sqs.billing_chunk.0.max(1);
    let nq = arch.queues.len();
    let mut notes = vec![format!(
        "analytic estimate of \"{}\": the expected load of its measured window ({}) in a fluid model (backlogs build when the load exceeds what the pools can do), scaled to a {month_hours}-hour month; `aqueduct run` simulates it",
        arch.name, arch.duration
    )];
    let mut capacity = Vec::new();

    // Producers.
    let mut sizes: Vec<SizeMix> = (0..nq).map(|_| SizeMix { parts: Vec::new() }).collect();
    let mut plans = Vec::new();
    let mut group_peak: Vec<Option<(f64, u32)>> = vec![None; nq];
    let mut peak_in = vec![0.0; nq];
    let mut time_varying = false;
    for p in &arch.producers {
        // Streams are estimated below, from their producers' rates.
        let crate::producers::Target::Queue(q) = p.target else {
            if let crate::producers::Target::Topic(t) = p.target {
                notes.push(format!(
                    "producer \"{}\" publishes to SNS topic \"{}\": SNS publishes and deliveries, and the queues its subscriptions feed, are not in this estimate; `aqueduct run` simulates and prices them",
                    p.name, arch.topics[t as usize].name
                ));
            }
            continue;
        };
        let q = q as usize;
        let spec = &arch.queues[q];
        let rates = load_rates(&p.arrival, arch);
        time_varying |= !matches!(
            p.arrival,
            Arrival::Constant { .. } | Arrival::Poisson { .. }
        );
        let mix = SizeMix {
            parts: vec![(1.0, &p.size)],
        };
        let send_chunks = mix.chunks_table(p.batch, chunk, &format!("estimate:send:{}", p.name));
        let (resend_probability, resend_stored) = match p.resend {
            Some(r) => (r.probability, !(spec.fifo && r.after < spec.dedup_interval)),
            None => (0.0, false),
        };
        peak_in[q] += rates.peak_per_s
            * (1.0
                + if resend_stored {
                    resend_probability
                } else {
                    0.0
                });
        sizes[q].parts.push((rates.mean_per_s.max(1e-12), &p.size));
        if let Some(k) = &p.keys {
            let hottest = (0..k.keys().min(1_000_000))
                .map(|i| k.probability(i))
                .fold(0.0, f64::max);
            let entry = group_peak[q].get_or_insert((0.0, k.keys()));
            entry.0 = entry.0.max(rates.peak_per_s * hottest);
        }
        if matches!(p.arrival, Arrival::Trace(_)) {
            notes.push(format!(
                "producer \"{}\": a trace's recorded sizes are not read by the estimate; its size distribution is used",
                p.name
            ));
        }
        plans.push(Plan {
            queue: q,
            arrival: &p.arrival,
            batch: p.batch,
            linger_s: p.linger.as_secs_f64(),
            even: matches!(p.arrival, Arrival::Constant { .. }),
            send_chunks,
            resend_probability,
            resend_stored,
        });
    }

    // Pools.
    let mut pool_of: Vec<Vec<usize>> = vec![Vec::new(); nq];
    let mut models = Vec::new();
    for (i, c) in arch.consumers.iter().enumerate() {
        let q = c.queue as usize;
        let spec = &arch.queues[q];
        pool_of[q].push(i);
        if !c.outages.is_empty() || !c.failure_windows.is_empty() {
            notes.push(format!(
                "consumer \"{}\": outages and failure windows are transients; the estimate ignores them",
                c.name
            ));
        }
        let model = PoolModel::new(
            c,
            spec.dead_letter.map(|d| d.max_receive_count),
            spec.duplicate_probability,
            spec.api_latency.mean_s(),
        )
        .map_err(|m| {
            Invalid::at(
                &FieldPath::item("consumer", i, &c.name).field("failure_probability"),
                m,
            )
        })?;
        models.push(model);
    }
    // Each pool's share of its queue's messages while the pools keep up: its workers.
    let share: Vec<f64> = arch
        .consumers
        .iter()
        .map(|c| {
            let total: f64 = pool_of[c.queue as usize]
                .iter()
                .map(|&o| arch.consumers[o].workers.max(1) as f64)
                .sum();
            c.workers.max(1) as f64 / total
        })
        .collect();
    let recv_chunks: Vec<Vec<f64>> = (0..nq)
        .map(|q| {
            let max_m = pool_of[q]
                .iter()
                .map(|&c| arch.consumers[c].max_messages)
                .max()
                .unwrap_or(1);
            sizes[q].chunks_table(
                max_m,
                chunk,
                &format!("estimate:receive:{}", arch.queues[q].name),
            )
        })
        .collect();
    let workers_of = |c: usize, busy: f64| -> f64 {
        let spec = &arch.consumers[c];
        match spec.autoscale {
            Some(a) => (busy.ceil().max(1.0)).clamp(a.min.max(1) as f64, a.max as f64),
            None => spec.workers as f64,
        }
    };

    // Time steps over [0, horizon); only the measured window is accumulated.
    let warmup = arch.warmup.as_secs_f64();
    let horizon = arch.horizon().as_secs_f64();
    let duration = arch.duration.as_secs_f64();
    let steps: usize = if time_varying { 4000 } else { 1 };
    let (t0, dt) = if time_varying {
        (0.0, horizon / steps as f64)
    } else {
        (warmup, duration)
    };
    let mut backlog = vec![0.0; nq];
    let mut backlog_max = vec![0.0f64; nq];
    let mut send_per_s = vec![0.0; nq];
    let mut send_calls_peak = vec![0.0f64; nq];
    let mut recv_peak = vec![0.0f64; nq];
    let mut del_peak = vec![0.0f64; nq];
    let mut avg: Vec<Vec<PoolRates>> = (0..nq)
        .map(|q| vec![PoolRates::default(); pool_of[q].len()])
        .collect();
    let mut recv_chunk_rate = vec![0.0; nq];
    let mut offered = vec![0.0; nq];
    for step in 0..steps {
        let start = t0 + step as f64 * dt;
        let lo = start.max(warmup);
        let hi = (start + dt).min(horizon);
        let weight = if duration > 0.0 {
            (hi - lo).max(0.0) / duration
        } else {
            0.0
        };
        let (from, to) = (
            SimTime((start * 1e9) as u64),
            SimTime(((start + dt) * 1e9) as u64),
        );
        let mut inflow = vec![0.0; nq];
        for pl in &plans {
            let rate = if time_varying {
                // The step's mean rate, so that a burst shorter than a step still counts.
                pl.arrival.expected_count(from, to) / dt
            } else {
                load_rates(pl.arrival, arch).mean_per_s
            };
            let fill = batch_fill(rate, pl.batch, pl.linger_s, pl.even);
            let mean_k: f64 = fill.iter().map(|(k, p)| *k as f64 * p).sum();
            let calls = rate / mean_k + rate * pl.resend_probability;
            let chunks_rate = rate / mean_k * chunks_of(&fill, &pl.send_chunks)
                + rate * pl.resend_probability * pl.send_chunks.get(1).copied().unwrap_or(1.0);
            send_per_s[pl.queue] += chunks_rate * weight;
            if weight > 0.0 {
                send_calls_peak[pl.queue] = send_calls_peak[pl.queue].max(calls);
            }
            inflow[pl.queue] += rate
                * (1.0
                    + if pl.resend_stored {
                        pl.resend_probability
                    } else {
                        0.0
                    });
        }
        // Queues in passes, so dead-letter queues receive what their sources exhaust.
        let base = inflow.clone();
        let mut step_rates: Vec<Vec<PoolRates>> = vec![Vec::new(); nq];
        let mut dlq_in = vec![0.0; nq];
        let mut next_backlog = backlog.clone();
        let mut lam_of = base.clone();
        for _ in 0..=nq {
            let mut next_dlq = vec![0.0; nq];
            for q in 0..nq {
                let lam = base[q] + dlq_in[q];
                lam_of[q] = lam;
                step_rates[q].clear();
                next_backlog[q] = backlog[q];
                if pool_of[q].is_empty() {
                    continue;
                }
                let busy_guess = |c: usize, x: f64| workers_of(c, x * models[c].r * models[c].s);
                let cap: f64 = pool_of[q]
                    .iter()
                    .map(|&c| {
                        let spec = &arch.consumers[c];
                        models[c].capacity(spec.max_workers() as f64, spec.max_messages)
                    })
                    .sum();
                let flat_out = backlog[q] > 0.0 || lam >= cap;
                let served = if flat_out {
                    cap.min(lam + backlog[q] / dt.max(1e-9))
                } else {
                    lam
                };
                if time_varying {
                    next_backlog[q] = (backlog[q] + (lam - served) * dt).max(0.0);
                } else if lam > cap {
                    next_backlog[q] = f64::INFINITY;
                }
                for &c in &pool_of[q] {
                    let spec = &arch.consumers[c];
                    let part = if flat_out && cap.is_finite() {
                        models[c].capacity(spec.max_workers() as f64, spec.max_messages) / cap
                    } else {
                        share[c]
                    };
                    let x = served * part;
                    let w = if flat_out {
                        spec.max_workers() as f64
                    } else {
                        busy_guess(c, x)
                    };
                    let r = pool_rates(spec, &models[c], w, x, flat_out).map_err(|m| {
                        Invalid::at(
                            &FieldPath::item("consumer", c, &spec.name).field("receive"),
                            m,
                        )
                    })?;
                    if let Some(dl) = arch.queues[q].dead_letter {
                        next_dlq[dl.queue] += r.exhausted;
                    }
                    step_rates[q].push(r);
                }
            }
            if next_dlq == dlq_in {
                break;
            }
            dlq_in = next_dlq;
        }
        backlog = next_backlog;
        for q in 0..nq {
            offered[q] += lam_of[q] * weight;
            if weight > 0.0 {
                backlog_max[q] = backlog_max[q].max(backlog[q]);
            }
            let (mut recv, mut del) = (0.0, 0.0);
            for (j, r) in step_rates[q].iter().enumerate() {
                avg[q][j].add_scaled(r, weight);
                recv_chunk_rate[q] += r.receives
                    * chunks_of(&fractional_fill(r.per_receive), &recv_chunks[q])
                    * weight;
                recv += r.receives + r.empty_receives;
                del += r.deletes;
            }
            if weight > 0.0 {
                recv_peak[q] = recv_peak[q].max(recv);
                del_peak[q] = del_peak[q].max(del);
            }
        }
    }

    let mut usage = Usage {
        window_s,
        ..Usage::default()
    };
    let lim = &arch.limits.sqs;
    for q in 0..nq {
        let spec = &arch.queues[q];
        let mut per_s = send_per_s[q] + recv_chunk_rate[q];
        let mut empty = 0.0;
        for (j, r) in avg[q].iter().enumerate() {
            let c = pool_of[q][j];
            let pool = &arch.consumers[c];
            per_s += r.empty_receives + r.deletes + r.heartbeats;
            empty += r.empty_receives;
            let max_w = pool.max_workers() as f64;
            // Offered load (what arrives), not what the pool manages to serve.
            let need_mean = offered[q] * share[c] * models[c].r * models[c].s;
            capacity.push(Capacity::against(
                "sqs",
                &pool.name,
                "workers busy, mean load",
                need_mean,
                max_w,
                format!(
                    "overloaded: the load needs {:.0} workers; the backlog grows without bound",
                    need_mean.ceil()
                ),
            ));
            let busy_peak = peak_in[q] * share[c] * models[c].r * models[c].s;
            if busy_peak > need_mean * (1.0 + 1e-9) {
                capacity.push(Capacity::against(
                    "sqs",
                    &pool.name,
                    "workers needed at the peak rate",
                    busy_peak,
                    max_w,
                    format!("{:.0} workers keep up with the peak; fewer let a backlog build during peaks", busy_peak.ceil()),
                ));
            }
            if spec.fifo {
                if let Some((_, groups)) = group_peak[q] {
                    capacity.push(Capacity::against(
                        "sqs",
                        &pool.name,
                        "workers needed at the peak vs message groups",
                        busy_peak,
                        groups as f64,
                        "FIFO: a message group is processed by one worker at a time; more groups are needed for this parallelism",
                    ));
                }
            }
        }
        if backlog_max[q].is_finite() && backlog_max[q] > 0.5 {
            let mut c = Capacity::info(
                "sqs",
                &spec.name,
                "largest backlog (fluid estimate), messages",
                backlog_max[q].round(),
            );
            c.verdict = if backlog[q] > 0.5 {
                format!(
                    "{:.0} messages still waiting at the end of the window: the pools fall behind",
                    backlog[q]
                )
            } else {
                "builds during peaks and drains after them".into()
            };
            capacity.push(c);
        }
        usage.sqs.push(SqsUsage {
            name: spec.name.clone(),
            fifo: spec.fifo,
            requests: (per_s * window_s).round() as u64,
            empty_receives: (empty * window_s).round() as u64,
        });
        if let Some(tps) = spec.tps_limit {
            let tps = tps as f64;
            let mb = lim.max_batch_messages as f64;
            let peak_msgs = peak_in[q];
            let advise = |peak_calls: f64| -> String {
                let per_call = (peak_msgs / tps).ceil();
                if spec.high_throughput {
                    format!("over the {tps} TPS of high-throughput mode: spread the load over more queues")
                } else if per_call <= mb && peak_calls > tps {
                    format!("batch at least {per_call} messages per call (up to {mb}), or set high_throughput = true")
                } else {
                    "set high_throughput = true (70,000 TPS per action)".to_string()
                }
            };
            for (what, v) in [
                ("SendMessage calls/s at the peak", send_calls_peak[q]),
                ("ReceiveMessage calls/s at the peak", recv_peak[q]),
                ("DeleteMessage calls/s at the peak", del_peak[q]),
            ] {
                capacity.push(Capacity::against(
                    "sqs",
                    &spec.name,
                    what,
                    v,
                    tps,
                    advise(v),
                ));
            }
            if let (true, Some(limit), Some((g, _))) =
                (spec.high_throughput, spec.group_rps_limit, group_peak[q])
            {
                capacity.push(Capacity::against(
                    "sqs",
                    &spec.name,
                    "sends/s of the busiest message group at the peak",
                    g,
                    limit as f64,
                    "a message group takes 300 sends/s in high-throughput mode: spread keys over more groups",
                ));
            }
        }
    }
    Ok(Estimate {
        usage,
        capacity,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::load_str;
    use std::path::Path;

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

    fn model(body: &str) -> Architecture {
        let src = format!("name = \"t\"\nduration = \"1h\"\napi_latency = \"0ms\"\n{body}");
        load_str(&src, "t.toml", Path::new(".")).unwrap()
    }

    #[test]
    fn sends_receives_deletes_with_chunks() {
        // 10 msg/s of 100 KiB (2 chunks), one worker pool that keeps up, max_messages 1,
        // zero latency: per message 2 (send) + 2 (receive) + 1 (delete) = 5 requests;
        // 10/s × 5 × 730 h × 3,600 s = 131,400,000 requests a month; no empty receives
        // (2 workers, 0.1 busy, served every 0.2 s: 1.9 idle / 20 s = 0.095 polls/s < 10
        // receives/s).
        let arch = model(
            r#"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "constant", rate_per_s = 10 }
size = "100KB"
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 2
receive = { wait = "20s" }
service_time = "10ms"
"#,
        );
        let e = estimate(&arch, 730.0).unwrap();
        assert_eq!(e.usage.sqs[0].requests, 131_400_000);
        assert_eq!(e.usage.sqs[0].empty_receives, 0);
    }

    #[test]
    fn idle_long_pollers_make_empty_receives() {
        // 50 workers, 1 msg/s of 1 KiB, 100 ms each: busy 0.1, idle 49.9 workers polling
        // every 20 s = 2.495 polls/s, of which 1/s are served: 1.495 empty receives/s.
        let arch = model(
            r#"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "poisson", rate_per_s = 1 }
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 50
receive = { wait = "20s" }
service_time = "100ms"
"#,
        );
        let e = estimate(&arch, 730.0).unwrap();
        let per_s = e.usage.sqs[0].empty_receives as f64 / (730.0 * 3600.0);
        assert!((per_s - 1.495).abs() < 1e-6, "{per_s}");
    }

    #[test]
    fn fifo_over_300_tps_asks_for_batching() {
        // 2,000 msg/s into a FIFO queue, sent one by one: 2,000 SendMessage calls/s
        // against 300 TPS: batching at least ceil(2,000 / 300) = 7 per call is needed.
        let arch = model(
            r#"
[[producer]]
name = "p"
target = "sqs:q.fifo"
load = { process = "constant", rate_per_s = 2000 }
group = { dist = "uniform", keys = 100 }
[[queue]]
name = "q.fifo"
kind = "fifo"
"#,
        );
        let e = estimate(&arch, 730.0).unwrap();
        let send = e
            .capacity
            .iter()
            .find(|c| c.what.starts_with("SendMessage"))
            .unwrap();
        assert_eq!(send.value, 2000.0);
        assert_eq!(send.limit, Some(300.0));
        assert!(send.verdict.contains("at least 7"), "{}", send.verdict);
    }

    #[test]
    fn overloaded_pool_is_reported_and_works_flat_out() {
        // 100 msg/s, 2 workers × 100 ms: the load needs 10 workers. The pool works flat
        // out, 10 messages per receive (max_messages): 20 msg/s served, 2 receives/s.
        let arch = model(
            r#"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "poisson", rate_per_s = 100 }
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 2
receive = { max_messages = 10, wait = "20s" }
service_time = "100ms"
delete = "batch"
"#,
        );
        let e = estimate(&arch, 730.0).unwrap();
        let busy = &e.capacity[0];
        assert!((busy.value - 10.0).abs() < 1e-9, "{}", busy.value);
        assert!(busy.verdict.starts_with("overloaded"), "{}", busy.verdict);
        // Sends 100/s + receives 2/s + batched deletes 2/s, no empty receives.
        let per_s = e.usage.sqs[0].requests as f64 / (730.0 * 3600.0);
        assert!((per_s - 104.0).abs() < 1e-6, "{per_s}");
    }

    #[test]
    fn dead_letter_inflow_and_redeliveries() {
        // f = 0.5, maxReceiveCount 2: receives per message 1 + 0.5 = 1.5; a quarter of the
        // messages (0.5²) move to the dead-letter queue; deletes 1 − 0.25 = 0.75 per message.
        let arch = model(
            r#"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "constant", rate_per_s = 4 }
[[queue]]
name = "q"
dead_letter = { queue = "dlq", max_receive_count = 2 }
[[queue]]
name = "dlq"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 4
receive = { wait = "20s" }
service_time = "10ms"
failure_probability = 0.5
"#,
        );
        let spec = &arch.consumers[0];
        let model = PoolModel::new(spec, Some(2), 0.0, 0.0).unwrap();
        assert!((model.r - 1.5).abs() < 1e-12);
        let r = pool_rates(spec, &model, 4.0, 4.0, false).unwrap();
        assert!((r.deliveries - 6.0).abs() < 1e-12);
        assert!((r.deletes - 3.0).abs() < 1e-12);
        assert!((r.exhausted - 1.0).abs() < 1e-12);
        let e = estimate(&arch, 730.0).unwrap();
        // The dead-letter queue has no consumer and bills nothing itself.
        assert_eq!(e.usage.sqs[1].requests, 0);
    }
}
