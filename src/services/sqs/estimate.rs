//! SQS queues in the estimate: what producers send, what worker pools and Lambda event
//! source mappings receive and delete, redeliveries, dead-letter moves and backlogs, in a
//! fluid model over the time [`Grid`](crate::estimate::Grid).

use crate::estimate::capacity::Capacity;
use crate::estimate::sizes::{chunks_of, fractional_fill, SizeMix};
use crate::estimate::{batch_fill, load_rates, Context, Step};
use crate::input::error::{FieldPath, Invalid};
use crate::load::Arrival;
use crate::services::lambda::estimate::{
    concurrency_limit, FunctionLoad, MappingRates, SqsMappingModel, Warm,
};
use crate::services::lambda::LambdaSource;
use crate::services::sqs::bill::SqsUsage;
use crate::workers::PoolSpec;

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
    /// Lambda mappings: invocations per second (0 for worker pools).
    pub invocations: f64,
    /// Lambda mappings: billed function seconds per second.
    pub billed_s: f64,
    /// Lambda mappings: concurrent executions (mean).
    pub concurrency: f64,
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
        self.invocations += o.invocations * w;
        self.billed_s += o.billed_s * w;
        self.concurrency += o.concurrency * w;
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

/// Rates of worker pool `spec` receiving `inflow` new messages per second that arrive in
/// send calls of `clump` messages on average, with `backlog` true when messages wait in
/// the queue (then every receive returns `max_messages` and no worker is idle).
///
/// # Formula
/// Deliveries `D = inflow × r`; busy workers `B = D × s`. Messages per receive `m` solves
/// `m = (D/c)·T(m)`, the arrivals a worker finds after a cycle `T(m) = L₀ + m·s′`:
/// `m = (D/c)·L₀ / (1 − (D/c)·s′)`, and at least `min(clump, max_messages)` (a batched
/// send makes its messages visible together, and a waiting receive takes them at once),
/// clamped to `[1, max_messages]`; with a backlog, `m = max_messages`. Non-empty
/// receives `D/m`; deletes `D(1 − f)` one by one, or `(D/m)(1 − f^m)` batched; heartbeats
/// `(D/m)·max(0, m·s/every − ½)`. Idle workers `I = c − B − calls × L` poll every
/// `wait + L + poll_interval`: empty receives `max(0, I/(wait + L + poll) − D/m)`.
pub fn pool_rates(
    spec: &PoolSpec,
    model: &PoolModel,
    workers: f64,
    inflow: f64,
    clump: f64,
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
        (a * model.l0 / denom).max(clump).clamp(1.0, max_m)
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
        ..PoolRates::default()
    })
}

/// What flows into a queue from outside the queue model: a producer's messages, or an SNS
/// subscription's deliveries (and its dead-letter moves).
pub struct Feed<'a> {
    /// The queue.
    pub queue: usize,
    /// The arrivals it follows.
    pub arrival: &'a Arrival,
    /// Messages reaching the queue per arrival (1 for a producer; for an SNS
    /// subscription the share its filter passes and that is delivered).
    pub share: f64,
    /// Sizes of the messages as sent.
    pub size: &'a crate::load::SizeDist,
    /// Bytes added to each message on the way (SNS's JSON envelope).
    pub extra_bytes: u64,
    /// Messages per send call at most.
    pub batch: u32,
    /// Longest wait for a batch to fill, s.
    pub linger_s: f64,
    /// Arrivals are evenly spaced (a constant rate).
    pub even: bool,
    /// `send_chunks[k]`: expected billable requests of a send call of `k` messages.
    pub send_chunks: Vec<f64>,
    /// Probability that a message is sent a second time.
    pub resend_probability: f64,
    /// The second copy is stored (not deduplicated).
    pub resend_stored: bool,
    /// Message groups (FIFO queues).
    pub groups: Option<&'a crate::load::KeyDist>,
}

/// Share of a FIFO queue's arriving messages whose group already has a message in flight
/// (so a waiting receive cannot take them), for groups locked `lock_s` seconds per
/// receive.
///
/// # Formula
/// Each feed `i` sends `λᵢ` messages/s over groups with probabilities `p_k`; a group is
/// busy about `ρ_k = min(1, λᵢ·p_k·lock_s)` of the time, so the share is
/// `Σᵢ (λᵢ/λ) Σ_k p_k·ρ_k`.
pub fn fifo_locked_share(feeds: &[(f64, &crate::load::KeyDist)], lock_s: f64) -> f64 {
    let total: f64 = feeds.iter().map(|(r, _)| r).sum();
    if total <= 0.0 || lock_s <= 0.0 {
        return 0.0;
    }
    let mut share = 0.0;
    for (rate, keys) in feeds {
        let n = keys.keys();
        let probs: Vec<f64> = match keys {
            crate::load::KeyDist::Uniform { .. } => vec![1.0 / n as f64; n as usize],
            crate::load::KeyDist::Zipf { exponent, .. } => {
                let w: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-exponent)).collect();
                let h: f64 = w.iter().sum();
                w.into_iter().map(|x| x / h).collect()
            }
        };
        let busy: f64 = probs.iter().map(|p| p * (rate * p * lock_s).min(1.0)).sum();
        share += rate / total * busy;
    }
    share
}

/// A reader of a queue: a worker pool, or a Lambda function's event source mapping.
enum Reader {
    /// Worker pool `c` (index in `arch.consumers`).
    Pool { c: usize, model: PoolModel },
    /// Function `l` (index in `arch.lambdas`).
    Lambda {
        l: usize,
        model: Box<SqsMappingModel>,
        /// Pollers now (time-varying loads).
        pollers: f64,
        /// `(time, concurrency)` of the recent steps, for cold starts (see [`Warm`]).
        warm: Warm,
        /// Cold starts in the measured window.
        cold: f64,
    },
}

impl Reader {
    /// Most new messages per second it can take: a pool with all its workers, a mapping
    /// with `pollers` pollers.
    fn capacity(&self, arch: &crate::model::Architecture, pollers: Option<f64>) -> f64 {
        match self {
            Reader::Pool { c, model } => {
                let spec = &arch.consumers[*c];
                model.capacity(spec.max_workers() as f64, spec.max_messages)
            }
            Reader::Lambda { model, .. } => model.capacity(pollers.unwrap_or(model.max_pollers)),
        }
    }
}

fn mapping_to_pool(r: &MappingRates, pollers: f64) -> PoolRates {
    PoolRates {
        workers: pollers,
        deliveries: r.deliveries,
        busy: r.busy,
        per_receive: r.per_receive,
        receives: r.receives,
        empty_receives: r.empty_receives,
        deletes: r.deletes,
        heartbeats: 0.0,
        exhausted: r.exhausted,
        invocations: r.invocations,
        billed_s: r.billed_s,
        concurrency: r.concurrency,
    }
}

/// Estimates the SQS queues of the model, with their producers, worker pools and Lambda
/// mappings: pushes their usage and capacity rows, and the mappings' load onto their
/// functions.
///
/// # Formula
/// At each step of the grid, per producer: send calls/s `= λ(t) / E[k]` with `k` from
/// [`batch_fill`], each billed `E[max(1, ceil(Σ sizes / 64 KiB))]` requests, plus one call
/// per re-sent message. Per queue: inflow (sends, resends not deduplicated, the messages
/// dead-lettered by its source queues); when it exceeds what its readers can take
/// ([`PoolModel::capacity`], [`SqsMappingModel::capacity`]) or a backlog remains, the
/// backlog grows (or drains) and the readers work flat out, otherwise they serve the
/// inflow, shared in proportion to their workers (pools only) or their capacities; rates
/// from [`pool_rates`] and [`SqsMappingModel::rates`], receives billed by their payload's
/// 64 KiB chunks. A mapping's pollers start at 5, grow by 5 a second while every poller is
/// busy and shrink as idle pollers come back empty (one step: their steady state,
/// [`SqsMappingModel::steady_pollers`]); cold starts are the concurrency above the most
/// used in the last `idle_timeout` (one step: none, unless there is no warm-up). The rates
/// are averaged over the window; `requests/month = rate × month_hours × 3600`.
pub fn estimate_queues(cx: &mut Context) -> Result<(), Invalid> {
    let arch = cx.arch;
    let grid = cx.grid;
    let window_s = cx.month_s;
    let chunk = arch.limits.sqs.billing_chunk.0.max(1);
    let nq = arch.queues.len();
    if nq == 0 {
        return Ok(());
    }
    let mut feeds = std::mem::take(&mut cx.feeds);
    let capacity = &mut cx.capacity;
    let notes = &mut cx.notes;

    // Producers, then what other services feed in (SNS deliveries).
    let mut own = Vec::new();
    for p in &arch.producers {
        let crate::producers::Target::Queue(q) = p.target else {
            continue;
        };
        let q = q as usize;
        let spec = &arch.queues[q];
        let mut mix = SizeMix::new();
        mix.push(1.0, &p.size);
        let send_chunks = mix.chunks_table(p.batch, chunk, &format!("estimate:send:{}", p.name));
        let (resend_probability, resend_stored) = match p.resend {
            Some(r) => (r.probability, !(spec.fifo && r.after < spec.dedup_interval)),
            None => (0.0, false),
        };
        own.push(Feed {
            queue: q,
            arrival: &p.arrival,
            share: 1.0,
            size: &p.size,
            extra_bytes: 0,
            batch: p.batch,
            linger_s: p.linger.as_secs_f64(),
            even: matches!(p.arrival, Arrival::Constant { .. }),
            send_chunks,
            resend_probability,
            resend_stored,
            groups: if spec.fifo { p.keys.as_ref() } else { None },
        });
    }
    own.append(&mut feeds);
    let feeds = own;
    let mut sizes: Vec<SizeMix> = (0..nq).map(|_| SizeMix::new()).collect();
    let mut group_peak: Vec<Option<(f64, u32)>> = vec![None; nq];
    let mut peak_in = vec![0.0; nq];
    for fd in &feeds {
        let q = fd.queue;
        let rates = load_rates(fd.arrival, arch);
        let (mean, peak) = (rates.mean_per_s * fd.share, rates.peak_per_s * fd.share);
        let stored = if fd.resend_stored {
            fd.resend_probability
        } else {
            0.0
        };
        peak_in[q] += peak * (1.0 + stored);
        sizes[q].push_extra(mean.max(1e-12), fd.size, fd.extra_bytes);
        if let Some(k) = fd.groups {
            // Key 0 is the most likely (uniform: all are; Zipf: rank 1).
            let hottest = k.probability(0);
            let entry = group_peak[q].get_or_insert((0.0, k.keys()));
            entry.0 = entry.0.max(peak * hottest);
        }
    }

    // Readers.
    let mut readers: Vec<Vec<Reader>> = (0..nq).map(|_| Vec::new()).collect();
    for (i, c) in arch.consumers.iter().enumerate() {
        let q = c.queue as usize;
        let spec = &arch.queues[q];
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
        readers[q].push(Reader::Pool { c: i, model });
    }
    for (l, f) in arch.lambdas.iter().enumerate() {
        let LambdaSource::Sqs(q) = f.source else {
            continue;
        };
        let q = q as usize;
        let mean_size = sizes[q].mean_of(&format!("estimate:size:{}", arch.queues[q].name), |b| {
            [b as f64]
        })[0];
        let model = SqsMappingModel::new(arch, f, &arch.queues[q], mean_size);
        let pollers = model.min_pollers;
        readers[q].push(Reader::Lambda {
            l,
            model: Box::new(model),
            pollers,
            warm: Warm::new(f),
            cold: 0.0,
        });
    }
    let lambda_path = |l: usize| FieldPath::item("lambda", l, &arch.lambdas[l].name);
    // Each reader's share of its queue's messages while the readers keep up: pools by
    // their workers; with a Lambda mapping on the queue, by capacity.
    let share: Vec<Vec<f64>> = readers
        .iter()
        .map(|rs| {
            let pools_only = rs.iter().all(|r| matches!(r, Reader::Pool { .. }));
            let w: Vec<f64> = rs
                .iter()
                .map(|r| match r {
                    Reader::Pool { c, .. } if pools_only => {
                        arch.consumers[*c].workers.max(1) as f64
                    }
                    _ => r.capacity(arch, None).min(1e12),
                })
                .collect();
            let total: f64 = w.iter().sum();
            w.iter()
                .map(|x| {
                    if total > 0.0 {
                        x / total
                    } else {
                        1.0 / w.len() as f64
                    }
                })
                .collect()
        })
        .collect();
    let recv_chunks: Vec<Vec<f64>> = (0..nq)
        .map(|q| {
            let max_m = readers[q]
                .iter()
                .map(|r| match r {
                    Reader::Pool { c, .. } => arch.consumers[*c].max_messages,
                    Reader::Lambda { .. } => arch.limits.sqs.max_batch_messages,
                })
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

    let mut backlog = vec![0.0; nq];
    let mut backlog_max = vec![0.0f64; nq];
    let mut send_per_s = vec![0.0; nq];
    let mut send_calls_peak = vec![0.0f64; nq];
    let mut recv_peak = vec![0.0f64; nq];
    let mut del_peak = vec![0.0f64; nq];
    let mut avg: Vec<Vec<PoolRates>> = readers
        .iter()
        .map(|rs| vec![PoolRates::default(); rs.len()])
        .collect();
    let mut served_avg: Vec<Vec<f64>> = readers.iter().map(|rs| vec![0.0; rs.len()]).collect();
    let mut recv_chunk_rate = vec![0.0; nq];
    let mut offered = vec![0.0; nq];
    for i in 0..grid.steps {
        let step: Step = grid.step(i);
        let dt = step.dt;
        let weight = step.weight;
        let mut inflow = vec![0.0; nq];
        let mut calls_in = vec![0.0; nq];
        let mut group_feeds: Vec<Vec<(f64, &crate::load::KeyDist)>> = vec![Vec::new(); nq];
        for fd in &feeds {
            let rate = grid.rate(fd.arrival, arch, &step) * fd.share;
            if let Some(g) = fd.groups {
                group_feeds[fd.queue].push((rate, g));
            }
            let fill = batch_fill(rate, fd.batch, fd.linger_s, fd.even);
            let mean_k: f64 = fill.iter().map(|(k, p)| *k as f64 * p).sum();
            let calls = rate / mean_k + rate * fd.resend_probability;
            calls_in[fd.queue] += calls;
            let chunks_rate = rate / mean_k * chunks_of(&fill, &fd.send_chunks)
                + rate * fd.resend_probability * fd.send_chunks.get(1).copied().unwrap_or(1.0);
            send_per_s[fd.queue] += chunks_rate * weight;
            if weight > 0.0 {
                send_calls_peak[fd.queue] = send_calls_peak[fd.queue].max(calls);
            }
            inflow[fd.queue] += rate
                * (1.0
                    + if fd.resend_stored {
                        fd.resend_probability
                    } else {
                        0.0
                    });
        }
        // Queues in passes, so dead-letter queues receive what their sources exhaust.
        let base = inflow.clone();
        let mut step_rates: Vec<Vec<(PoolRates, f64, bool)>> = vec![Vec::new(); nq];
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
                if readers[q].is_empty() {
                    continue;
                }
                let caps: Vec<f64> = readers[q]
                    .iter()
                    .map(|r| match r {
                        Reader::Lambda { pollers, .. } if grid.time_varying => {
                            r.capacity(arch, Some(*pollers))
                        }
                        _ => r.capacity(arch, None),
                    })
                    .collect();
                let cap: f64 = caps.iter().sum();
                let flat_out = backlog[q] > 0.0 || lam >= cap;
                // Messages per send call: they become visible together.
                let clump = if calls_in[q] > 0.0 {
                    (base[q] / calls_in[q]).max(1.0)
                } else {
                    1.0
                };
                let served = if flat_out {
                    cap.min(lam + backlog[q] / dt.max(1e-9))
                } else {
                    lam
                };
                if grid.time_varying {
                    next_backlog[q] = (backlog[q] + (lam - served) * dt).max(0.0);
                } else if lam > cap {
                    next_backlog[q] = f64::INFINITY;
                }
                for (j, r) in readers[q].iter().enumerate() {
                    let part = if flat_out && cap.is_finite() && cap > 0.0 {
                        caps[j] / cap
                    } else {
                        share[q][j]
                    };
                    let x = served * part;
                    let (rates, all_busy) = match r {
                        Reader::Pool { c, model } => {
                            let spec = &arch.consumers[*c];
                            let w = if flat_out {
                                spec.max_workers() as f64
                            } else {
                                workers_of(*c, x * model.r * model.s)
                            };
                            // FIFO: messages of a group with one in flight wait for it.
                            let clump = if group_feeds[q].is_empty() {
                                clump
                            } else {
                                let lock =
                                    model.l0 + clump.min(spec.max_messages as f64) * model.s1;
                                (clump * (1.0 - fifo_locked_share(&group_feeds[q], lock))).max(1.0)
                            };
                            let rates =
                                pool_rates(spec, model, w, x, clump, flat_out).map_err(|m| {
                                    Invalid::at(
                                        &FieldPath::item("consumer", *c, &spec.name)
                                            .field("receive"),
                                        m,
                                    )
                                })?;
                            (rates, flat_out)
                        }
                        Reader::Lambda {
                            l, model, pollers, ..
                        } => {
                            let c = if grid.time_varying {
                                *pollers
                            } else if flat_out {
                                model.max_pollers
                            } else {
                                model.steady_pollers(x)
                            };
                            let mr = model.rates(x, c, clump, flat_out).map_err(|m| {
                                Invalid::at(&lambda_path(*l).field("failure_probability"), m)
                            })?;
                            (mapping_to_pool(&mr, c), mr.all_busy)
                        }
                    };
                    if let Some(dl) = arch.queues[q].dead_letter {
                        next_dlq[dl.queue] += rates.exhausted;
                    }
                    step_rates[q].push((rates, x, all_busy));
                }
            }
            if next_dlq == dlq_in {
                break;
            }
            dlq_in = next_dlq;
        }
        let t_end = (step.to.0 as f64) / 1e9;
        let in_window = if dt > 0.0 {
            weight * arch.duration.as_secs_f64() / dt
        } else {
            0.0
        };
        for q in 0..nq {
            offered[q] += lam_of[q] * weight;
            if weight > 0.0 {
                backlog_max[q] = backlog_max[q].max(next_backlog[q]);
            }
            let (mut recv, mut del) = (0.0, 0.0);
            for (j, (r, x, all_busy)) in step_rates[q].iter().enumerate() {
                avg[q][j].add_scaled(r, weight);
                served_avg[q][j] += x * weight;
                recv_chunk_rate[q] += r.receives
                    * chunks_of(&fractional_fill(r.per_receive), &recv_chunks[q])
                    * weight;
                recv += r.receives + r.empty_receives;
                del += r.deletes;
                if let Reader::Lambda {
                    model,
                    pollers,
                    warm,
                    cold,
                    ..
                } = &mut readers[q][j]
                {
                    if grid.time_varying {
                        *cold += warm.cold_starts(t_end, r.concurrency) * in_window;
                        let idle = (r.workers - r.busy).max(0.0);
                        let poll = model.wait + model.latency;
                        *pollers = if *all_busy || next_backlog[q] > 0.0 {
                            (*pollers + model.step_per_s * dt).min(model.max_pollers)
                        } else if poll > 0.0 {
                            let stop = (idle / poll - r.receives).max(0.0);
                            (*pollers - stop * dt).max(model.min_pollers)
                        } else {
                            *pollers
                        };
                    } else if arch.warmup.is_zero() {
                        *cold += r.concurrency.ceil();
                    }
                }
            }
            if weight > 0.0 {
                recv_peak[q] = recv_peak[q].max(recv);
                del_peak[q] = del_peak[q].max(del);
            }
        }
        backlog = next_backlog;
    }

    let lim = &arch.limits.sqs;
    let duration_s = arch.duration.as_secs_f64();
    for q in 0..nq {
        let spec = &arch.queues[q];
        let mut per_s = send_per_s[q] + recv_chunk_rate[q];
        let mut empty = 0.0;
        for (j, r) in avg[q].iter().enumerate() {
            per_s += r.empty_receives + r.deletes + r.heartbeats;
            empty += r.empty_receives;
            match &readers[q][j] {
                Reader::Pool { c, model } => {
                    let pool = &arch.consumers[*c];
                    let max_w = pool.max_workers() as f64;
                    // Offered load (what arrives), not what the pool manages to serve.
                    let need_mean = offered[q] * share[q][j] * model.r * model.s;
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
                    let busy_peak = peak_in[q] * share[q][j] * model.r * model.s;
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
                Reader::Lambda { l, model, cold, .. } => {
                    let f = &arch.lambdas[*l];
                    let served = served_avg[q][j];
                    // Concurrency per new message served, applied to the offered load.
                    let per_msg = if served > 0.0 {
                        r.concurrency / served
                    } else {
                        0.0
                    };
                    let offered_j = offered[q] * share[q][j];
                    let load: &mut FunctionLoad = &mut cx.functions[*l];
                    load.invocations += r.invocations;
                    load.records += r.deliveries;
                    load.billed_s += r.billed_s;
                    load.cold_starts += if duration_s > 0.0 {
                        cold / duration_s
                    } else {
                        0.0
                    };
                    let need_mean = per_msg * offered_j.max(served);
                    load.concurrency_mean += need_mean;
                    load.concurrency_peak += if offered[q] > 0.0 {
                        need_mean * peak_in[q] / offered[q]
                    } else {
                        0.0
                    };
                    load.limit = Some(concurrency_limit(
                        arch,
                        f,
                        Some((model.max_pollers, "the mapping's maximum concurrency")),
                    ));
                    if spec.fifo {
                        if let Some((_, groups)) = group_peak[q] {
                            capacity.push(Capacity::against(
                                "lambda",
                                &f.name,
                                "concurrent executions at the peak vs message groups",
                                load.concurrency_mean.max(load.concurrency_peak),
                                groups as f64,
                                "FIFO: a message group is in one batch at a time; more groups are needed for this parallelism",
                            ));
                        }
                    }
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
                    "{:.0} messages still waiting at the end of the window: the consumers fall behind",
                    backlog[q]
                )
            } else {
                "builds during peaks and drains after them".into()
            };
            capacity.push(c);
        }
        cx.usage.sqs.push(SqsUsage {
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
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn fifo_locked_share_worked_examples() {
        use crate::load::KeyDist;
        // 10 equally likely groups, 10 msg/s, each receive locks its group 0.5 s: a group
        // gets 1 msg/s, busy 1 × 0.5 = 50% of the time, so half the arrivals find it locked.
        let u = KeyDist::uniform(10).unwrap();
        assert!((fifo_locked_share(&[(10.0, &u)], 0.5) - 0.5).abs() < 1e-12);
        // Two groups, Zipf exponent 1: p = (2/3, 1/3); 6 msg/s, lock 0.5 s:
        // ρ = (min(1, 6·2/3·0.5) = 1, min(1, 6·1/3·0.5) = 1) → share 1.
        let z = KeyDist::zipf(2, 1.0).unwrap();
        assert!((fifo_locked_share(&[(6.0, &z)], 0.5) - 1.0).abs() < 1e-12);
        // Same at 1.5 msg/s: ρ = (0.5, 0.25) → 2/3·0.5 + 1/3·0.25 = 0.41667.
        assert!((fifo_locked_share(&[(1.5, &z)], 0.5) - 0.416_666_666_7).abs() < 1e-9);
    }

    use super::*;
    use crate::estimate::{estimate, test_model as model};

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
        let r = pool_rates(spec, &model, 4.0, 4.0, 1.0, false).unwrap();
        assert!((r.deliveries - 6.0).abs() < 1e-12);
        assert!((r.deletes - 3.0).abs() < 1e-12);
        assert!((r.exhausted - 1.0).abs() < 1e-12);
        let e = estimate(&arch, 730.0).unwrap();
        // The dead-letter queue has no consumer and bills nothing itself.
        assert_eq!(e.usage.sqs[1].requests, 0);
    }
}
