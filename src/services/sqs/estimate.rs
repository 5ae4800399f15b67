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
pub(crate) struct PoolRates {
    /// Workers assumed.
    pub(crate) workers: f64,
    /// Messages delivered per second (redeliveries included).
    pub(crate) deliveries: f64,
    /// Workers busy processing (mean).
    pub(crate) busy: f64,
    /// Messages per non-empty receive.
    pub(crate) per_receive: f64,
    /// Non-empty ReceiveMessage calls per second.
    pub(crate) receives: f64,
    /// Empty receives per second.
    pub(crate) empty_receives: f64,
    /// Delete calls per second.
    pub(crate) deletes: f64,
    /// ChangeMessageVisibility (heartbeat) calls per second.
    pub(crate) heartbeats: f64,
    /// Messages per second that exhaust their receives (moved to the dead-letter queue).
    pub(crate) exhausted: f64,
    /// Lambda mappings: invocations per second (0 for worker pools).
    pub(crate) invocations: f64,
    /// Lambda mappings: billed function seconds per second.
    pub(crate) billed_s: f64,
    /// Lambda mappings: concurrent executions (mean).
    pub(crate) concurrency: f64,
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

/// Probability of a late delete below which the estimate takes it as none: fewer than
/// one processing in a million, a change of receives per message below the fluid model's
/// resolution. (Its backlog steps can turn a smaller perturbation into a visible one:
/// `models/default.toml`, with `P(S > 30 s) = 6 × 10⁻⁹`, would move by 1%.)
pub(crate) const NEGLIGIBLE_LATE: f64 = 1e-6;

/// What a worker pool does with each message, independent of the load.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PoolModel {
    /// Failure probability of a processing.
    pub(crate) f: f64,
    /// Probability that a processing outlasts the visibility timeout: its delete comes
    /// after the message was received again (see [`PoolModel::new`]).
    pub(crate) late: f64,
    /// Probability that a receive does not end the message's life (it fails, or its delete
    /// comes too late): `f + (1 − f)·late`.
    pub(crate) q: f64,
    /// Receives per message (redeliveries and duplicates included).
    pub(crate) r: f64,
    /// Fraction of messages that exhaust their receives (to the dead-letter queue).
    pub(crate) exhaust: f64,
    /// Mean service time, s.
    pub(crate) s: f64,
    /// Mean API round trip, s.
    pub(crate) latency: f64,
    /// Fixed time per receive cycle, s (`L₀`: the receive, and a batched delete).
    pub(crate) l0: f64,
    /// Time per message in a cycle, s (`s′`: service, and a one-by-one delete).
    pub(crate) s1: f64,
}

impl PoolModel {
    /// The model of `spec` on a queue with the given redrive and duplicate settings. An
    /// error names the field of the consumer it concerns (`failure_probability` or
    /// `receive`).
    ///
    /// # Formula
    /// A receive makes the message invisible for `V` (the pool's visibility timeout; with
    /// a heartbeat, see [`visible_again_after`]). The worker processes it for a service
    /// time `S`, drawn afresh at every processing; unless the processing fails (`f`), it
    /// then deletes it, and the delete reaches the queue `S + L` after the receive (`L`:
    /// one API round trip, the receive's response and the delete's request).
    ///
    /// When `S + L > V` the message was visible again at `V` and another worker received
    /// it and processes it too. The first worker still finishes and calls DeleteMessage
    /// (billed), but with an outdated receipt handle, which deletes nothing (AWS: "you must
    /// provide the most recently received receipt handle"; the simulator does the same).
    /// So only the latest receive can end the message's life, and every receive is a
    /// fresh trial: no `P(S > 2V)` terms, since the copy's receive starts a timeout of its
    /// own. A receive ends the message's life with `(1 − f)(1 − p)`, where
    ///
    /// `p = P(S > V − L)` ([`DurationDist::exceeds_s`](crate::load::DurationDist::exceeds_s); below [`NEGLIGIBLE_LATE`], 0),
    ///
    /// and leaves it to be received again with `q = f + (1 − f)·p`. The receives per
    /// message are then `N ~ min(R, Geometric)`:
    ///
    /// `r = E[N] = Σ_{k=0..R−1} q^k = (1 − q^R)/(1 − q)`, divided by `1 − d`
    ///
    /// (`R` = maxReceiveCount, ∞ without a dead-letter queue: `1/(1 − q)`; `d` = duplicate
    /// probability); `q^R` of the messages are dead-lettered (some of them processed, late).
    /// Every receive costs a processing (`r × s` busy time per message, which the worker
    /// counts in [`pool_rates`] and the capacity rows) and every processing that does not
    /// fail a delete call (`r·(1 − f)`, late ones included). `L₀ = L` and `s′ = s + (1 −
    /// f)·L` with one-by-one deletes, `L₀ = 2L` and `s′ = s` with batched deletes. With `M
    /// > 1` messages per receive a message also waits for those processed before it; `p`
    /// leaves that out (a note says so, see `visibility_notes`).
    pub(crate) fn new(
        spec: &PoolSpec,
        dead_letter_after: Option<u32>,
        duplicate_probability: f64,
        latency_s: f64,
    ) -> Result<Self, (&'static str, String)> {
        let f = spec.failure_probability.clamp(0.0, 1.0);
        let late = match spec
            .service_time
            .exceeds_s(visible_again_after(spec) - latency_s)
        {
            p if p < NEGLIGIBLE_LATE => 0.0,
            p => p,
        };
        // `f + 0` is `f` exactly: without late deletes the model is unchanged.
        let q = if late > 0.0 { f + (1.0 - f) * late } else { f };
        let (r, exhaust) = match dead_letter_after {
            Some(n) if q > 0.0 => {
                let qr = q.powi(n as i32);
                let r = if q < 1.0 {
                    (1.0 - qr) / (1.0 - q)
                } else {
                    n as f64
                };
                (r, qr)
            }
            None if f >= 1.0 => {
                return Err(("failure_probability", "every processing fails and there is no dead-letter queue: messages are received again after every visibility timeout until retention expires them; the steady state is not defined".into()));
            }
            None if q >= 1.0 => {
                return Err(("receive", format!("every processing outlasts the visibility timeout ({}) and there is no dead-letter queue: messages are received again after every visibility timeout until retention expires them; the steady state is not defined", spec.visibility_timeout)));
            }
            _ if q > 0.0 => (1.0 / (1.0 - q), 0.0),
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
            late,
            q,
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
    pub(crate) fn capacity(&self, workers: f64, max: u32) -> f64 {
        let m = max.max(1) as f64;
        let cycle = self.l0 + m * self.s1;
        if cycle <= 0.0 {
            f64::INFINITY
        } else {
            workers * m / cycle / self.r
        }
    }
}

/// How long after a receive its message becomes visible again while a worker still
/// holds it, s: the pool's visibility timeout `V`; with a heartbeat every `e` that sets
/// the timeout to `X`, infinite when `e < V` and `e < X` (every heartbeat comes before
/// the timeout runs out), `e + X` when `e < V` but `X ≤ e` (the second comes too late),
/// and `V` when `e ≥ V` (the first one does).
pub(crate) fn visible_again_after(spec: &PoolSpec) -> f64 {
    let v = spec.visibility_timeout.as_secs_f64();
    match spec.heartbeat {
        Some(h) if !h.every.is_zero() => {
            let (e, x) = (h.every.as_secs_f64(), h.extend_to.as_secs_f64());
            if e >= v {
                v
            } else if x > e {
                f64::INFINITY
            } else {
                e + x
            }
        }
        _ => v,
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
/// clamped to `[1, max_messages]`; with a backlog, `m = max_messages`. A share `random` of
/// the arrivals come at random (not evenly spaced): `m` is the mix
/// `random·m_random + (1 − random)·m_fluid`, `m_random` from [`random_per_receive`]. Non-empty
/// receives `D/m`; deletes `D(1 − f)` one by one, or `(D/m)(1 − f^m)` batched; heartbeats
/// `(D/m)·max(0, m·s/every − ½)`. Idle workers `I = c − B − calls × L` poll every
/// `wait + L + poll_interval`: empty receives `max(0, I/(wait + L + poll) − D/m)`.
pub(crate) fn pool_rates(
    spec: &PoolSpec,
    model: &PoolModel,
    workers: f64,
    inflow: f64,
    clump: f64,
    random: f64,
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
        let fluid = (a * model.l0 / denom).max(clump).clamp(1.0, max_m);
        if random > 0.0 && a.is_finite() && d > 0.0 {
            let r = random.min(1.0);
            r * random_per_receive(d, c, model, clump, max_m, fluid) + (1.0 - r) * fluid
        } else {
            fluid
        }
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

/// Messages per receive of `c` workers that deliver `d` messages/s arriving at random in
/// send calls of `clump` (see [`pool_rates`]), from the fluid value `start`.
///
/// # Formula
/// A worker is in its cycle `T = L₀ + m·s′` (receiving, processing, deleting) a share
/// `u = min(1, (d/m)·T/c)` of the time; an arriving send call finds no worker waiting with
/// `π = u^c` (workers taken as independent). A call that finds one waiting is received at
/// once: `min(k, M)` messages (`k = clump`, `M = max_messages`). Calls that find none
/// accumulate until a worker comes back; the workers come back `T/c` apart, so a
/// returning worker finds `N = k·Poisson(μ/k)` messages, `μ = d·T/c`, and receives
/// `min(M, E[N | N ≥ 1])`. So `d/m = d(1 − π)/min(k, M) + d·π/min(M, E[N | N ≥ 1])`, solved
/// by damped iteration. With one worker this is `m = E[max(1, N)]` (a worker that comes
/// back to an empty queue waits for the next call); with many idle workers, `π → 0` and
/// `m = min(k, M)`. At 100 messages/s, two workers, `L₀ = 18.6 ms`, `s′ = 3.8 ms`, the fluid
/// model says 1.15 messages per receive, this one 1.42, and `aqueduct run` 1.50.
fn random_per_receive(
    d: f64,
    c: f64,
    model: &PoolModel,
    clump: f64,
    max_m: f64,
    start: f64,
) -> f64 {
    let k = clump.max(1.0);
    let single = k.min(max_m);
    let mut m = start.max(1.0);
    for _ in 0..500 {
        let t = model.l0 + m * model.s1;
        let u = ((d / m) * t / c).min(1.0);
        let pi = u.powf(c);
        let lam = d * t / c / k;
        let p0 = (-lam).exp();
        let acc = if p0 < 1.0 {
            (k * lam / (1.0 - p0)).min(max_m)
        } else {
            single
        };
        let per_s = d * (1.0 - pi) / single + d * pi / acc;
        let next = 0.5 * m + 0.5 * (d / per_s).clamp(1.0, max_m);
        let done = (next - m).abs() < 1e-9;
        m = next;
        if done {
            break;
        }
    }
    m
}

/// What flows into a queue from outside the queue model: a producer's messages, or an SNS
/// subscription's deliveries (and its dead-letter moves).
pub(crate) struct Feed<'a> {
    /// The queue.
    pub(crate) queue: usize,
    /// The arrivals it follows.
    pub(crate) arrival: &'a Arrival,
    /// Messages reaching the queue per arrival (1 for a producer; for an SNS
    /// subscription the share its filter passes and that is delivered).
    pub(crate) share: f64,
    /// Sizes of the messages as sent.
    pub(crate) size: &'a crate::load::SizeDist,
    /// Bytes added to each message on the way (SNS's JSON envelope).
    pub(crate) extra_bytes: u64,
    /// Messages per send call at most.
    pub(crate) batch: u32,
    /// Longest wait for a batch to fill, s.
    pub(crate) linger_s: f64,
    /// Arrivals are evenly spaced (a constant rate).
    pub(crate) even: bool,
    /// `send_chunks[k]`: expected billable requests of a send call of `k` messages.
    pub(crate) send_chunks: Vec<f64>,
    /// Probability that a message is sent a second time.
    pub(crate) resend_probability: f64,
    /// The second copy is stored (not deduplicated).
    pub(crate) resend_stored: bool,
    /// Message groups (FIFO queues).
    pub(crate) groups: Option<&'a crate::load::KeyDist>,
}

impl Context<'_> {
    /// [`fifo_ready_clump`], its feeds' rates and messages per send call rounded to steps
    /// of 0.5% and remembered, so that a load that varies over thousands of steps solves it
    /// a few hundred times.
    pub(crate) fn fifo_clump(
        &self,
        feeds: &[(f64, &crate::load::KeyDist)],
        clump: f64,
        model: &PoolModel,
        max_m: f64,
    ) -> f64 {
        let step = |r: f64| {
            if r > 0.0 {
                (r.ln() * 200.0).round()
            } else {
                f64::NEG_INFINITY
            }
        };
        let rounded: Vec<(f64, &crate::load::KeyDist)> = feeds
            .iter()
            .map(|(r, k)| ((step(*r) / 200.0).exp(), *k))
            .collect();
        // The messages per send call move with the rate when producers linger: rounded too.
        let clump = (step(clump.max(1.0)) / 200.0).exp();
        let mut key = vec![
            clump.to_bits(),
            model.l0.to_bits(),
            model.s1.to_bits(),
            max_m.to_bits(),
        ];
        for (r, k) in &rounded {
            key.push(r.to_bits());
            key.push(k.keys() as u64);
            key.push(match k {
                crate::load::KeyDist::Uniform { .. } => u64::MAX,
                crate::load::KeyDist::Zipf { exponent, .. } => exponent.to_bits(),
            });
        }
        if let Some(v) = self.fifo_cache.borrow().get(&key) {
            return *v;
        }
        let v = fifo_ready_clump(&rounded, clump, model, max_m);
        self.fifo_cache.borrow_mut().insert(key, v);
        v
    }
}

/// Messages per ready event of a FIFO queue served by receives of up to `max_m`
/// messages: what a waiting receive finds at once.
///
/// # Formula
/// Messages come in send calls of `clump` (rate `B = λ/clump`); a message whose group has
/// one in flight waits for it. A receive locks its groups for `τ = L₀ + m·s′` and its
/// delete releases them together, so the groups of one receive that got messages while
/// locked are ready together and are received together, locked together again: a
/// *chain*, which lasts while any of its groups gets a message during each lock. Group
/// `k` (`λ_k` messages/s) gets one within a lock with `σ_k = 1 − e^(−λ_k·τ)`. A send call
/// starts `g_b` locks (its messages whose group is free), drawn by the rate `U_k` at
/// which group `k` is free when a message comes. Over a mean lock `τ` a group is taken
/// `T_k = λ_k/(λ_k·τ + e^(−λ_k·τ))` times a second (taken, locked, and taken again at once
/// if a message came meanwhile), so it is free a share `1 − T_k·τ` of the time and
/// `U_k = λ_k·(1 − T_k·τ)`. A send call starts a chain when one of its messages finds its
/// group free: `S = B·(1 − (1 − f)^clump)` chains a second, `f = ΣU/λ`, each with
/// `g_b = clump·f·B/S` groups. The chain is alive after `n` locks with
/// `1 − (1 − w_n)^(g_b)`, `w_n = Σ_k U_k·σ_b,k·σ_c,k^(n−1) / Σ U_k` (`σ_b` over its first
/// lock `τ_b = L₀ + g_b·s′`, `σ_c` over a chain lock `τ_c = L₀ + m_c·s′`; past 10,000 locks
/// the rest is summed as a geometric series). A group with `λ_k·τ_c ≥ 4`
/// ([`SATURATED_LOCKS`]) is always locked: a chain of its own for ever, each receive
/// taking `m = λ_k·(L₀ + m·s′)` (at most max_messages), `λ_k/m` receives a second. Ready
/// events come at `X = S·(1 + Σ_n (1 − (1 − w_n)^(g_b))) + Σ_sat λ_k/m_k`, each bringing
/// `λ/X` messages; chain receives take `m_c = (λ − λ_sat − ΣU)/(X − S − X_sat)`, solved by
/// damped iteration.
///
/// Measured against `aqueduct run` (the FIFO request lines of the bill) on
/// `models/fifo-payments.toml` (5,000 Zipf(0.8) groups, 500 messages/s in calls of 10, 14
/// workers): +1.7% (100 workers: +0.1%); with uniform groups +0.4%; at 200 messages/s
/// +2.0%. With hot groups it bills too many receives (Zipf 1.2: +11%; 100 keys: +20%):
/// chains that meet in one receive stay merged in the run, and this leaves that out.
fn fifo_ready_clump(
    feeds: &[(f64, &crate::load::KeyDist)],
    clump: f64,
    model: &PoolModel,
    max_m: f64,
) -> f64 {
    let lam: f64 = feeds.iter().map(|(r, _)| r.max(0.0)).sum();
    let clump = clump.clamp(1.0, max_m);
    if lam <= 0.0 {
        return clump;
    }
    let buckets = crate::estimate::sizes::key_buckets(feeds);
    let b = lam / clump;
    let (mut gb, mut mc) = (clump, 1.0f64);
    let mut x = b;
    for _ in 0..100 {
        let tb = model.l0 + gb * model.s1;
        let tc = model.l0 + mc * model.s1;
        let tm = model.l0 + (lam / x).clamp(1.0, max_m) * model.s1;
        let (mut su, mut lam_sat, mut x_sat) = (0.0, 0.0, 0.0);
        // (U_k × groups, σ_b, σ_c) per bucket that is not saturated.
        let mut parts: Vec<(f64, f64, f64)> = Vec::with_capacity(buckets.len());
        for &(count, l) in &buckets {
            if l * tc >= SATURATED_LOCKS {
                // Always locked: its own chain for ever, each receive taking what came
                // during the last lock, `m = λ·(L₀ + m·s′)` (at most max_messages).
                let m = if l * model.s1 < 1.0 {
                    (l * model.l0 / (1.0 - l * model.s1)).clamp(1.0, max_m)
                } else {
                    max_m
                };
                lam_sat += l * count;
                x_sat += l * count / m;
                continue;
            }
            let sb = 1.0 - (-l * tb).exp();
            let sc = 1.0 - (-l * tc).exp();
            let takes = l / (l * tm + (-l * tm).exp());
            let u = (l * (1.0 - takes * tm)).max(0.0);
            su += u * count;
            parts.push((u * count, sb, sc));
        }
        // A send call starts a chain when one of its messages finds its group free.
        let free = (su / lam).clamp(0.0, 1.0);
        let starts = b * (1.0 - (1.0 - free).powf(clump));
        let gb_next = if starts > 0.0 {
            (clump * free * b / starts).clamp(1.0, max_m)
        } else {
            1.0
        };
        let mut chain = 0.0;
        if su > 0.0 {
            let mut pows: Vec<f64> = parts.iter().map(|p| p.1).collect();
            for _ in 0..10_000 {
                let wn: f64 = parts.iter().zip(&pows).map(|(p, q)| p.0 * q).sum::<f64>() / su;
                let alive = 1.0 - (1.0 - wn.min(1.0)).powf(gb);
                chain += alive;
                for (q, p) in pows.iter_mut().zip(&parts) {
                    *q *= p.2;
                }
                if alive < 1e-9 {
                    break;
                }
            }
            // What is left of a long chain: `1 − (1 − w)^g ≈ g·w` for a small `w`, summed
            // as the geometric series it is.
            chain += gb
                * parts
                    .iter()
                    .zip(&pows)
                    .map(|(p, q)| p.0 * q / (1.0 - p.2))
                    .sum::<f64>()
                / su;
        }
        let x_next = starts * (1.0 + chain) + x_sat;
        let locked = lam - lam_sat - su;
        let mc_next = if starts * chain > 0.0 {
            (locked / (starts * chain)).clamp(1.0, max_m)
        } else {
            1.0
        };
        if x_next <= 0.0 {
            break;
        }
        let done = (x_next - x).abs() < 1e-9 * x_next && (mc_next - mc).abs() < 1e-9;
        x = x_next;
        gb = 0.5 * gb + 0.5 * gb_next;
        mc = 0.5 * mc + 0.5 * mc_next;
        if done {
            break;
        }
    }
    (lam / x).clamp(1.0, max_m)
}

/// `λ·τ` from which a group counts as always locked in [`fifo_ready_clump`]: it gets a
/// message during a lock with `1 − e^(−4)` = 98%, so its chain lasts 50 locks on average.
const SATURATED_LOCKS: f64 = 4.0;

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
/// per re-sent message (`step_feeds`). Per queue: inflow (sends, resends not
/// deduplicated, the messages dead-lettered by its source queues); when it exceeds what
/// its readers can take ([`PoolModel::capacity`], [`SqsMappingModel::capacity`]) or a
/// backlog remains, the backlog grows (or drains) and the readers work flat out, otherwise
/// they serve the inflow, shared in proportion to their workers (pools only) or their
/// capacities; rates from [`pool_rates`] and [`SqsMappingModel::rates`] (`serve_step`),
/// receives billed by their payload's 64 KiB chunks. A mapping's pollers start at 5, grow
/// by 5 a second while every poller is busy and shrink as idle pollers come back empty
/// (one step: their steady state, [`SqsMappingModel::steady_pollers`]); cold starts are
/// the concurrency above the most used in the last `idle_timeout` (one step: none, unless
/// there is no warm-up) (`accumulate_step`). The rates are averaged over the window;
/// `requests/month = rate × month_hours × 3600` (`queue_rows`).
pub(crate) fn estimate_queues(cx: &mut Context) -> Result<(), Invalid> {
    let arch = cx.arch;
    let nq = arch.queues.len();
    if nq == 0 {
        return Ok(());
    }
    let chunk = arch.limits.sqs.billing_chunk.0.max(1);
    let other = std::mem::take(&mut cx.feeds);
    let feeds = all_feeds(arch, chunk, other);
    let arrivals = arrivals(arch, &feeds);
    let mut readers = readers(arch, &arrivals.sizes, &mut cx.notes)?;
    visibility_notes(arch, &readers, &mut cx.notes);
    let shares = reader_shares(arch, &readers);
    let recv_chunks = receive_chunks(arch, &readers, &arrivals.sizes, chunk);
    let mut totals = Totals::new(&readers);
    for i in 0..cx.grid.steps {
        let step = cx.grid.step(i);
        let input = step_feeds(cx, &step, &feeds, &mut totals);
        let out = serve_step(cx, &step, &readers, &shares, &totals.backlog, &input)?;
        accumulate_step(cx, &step, &mut readers, &recv_chunks, &out, &mut totals);
        totals.backlog = out.next_backlog;
    }
    for q in 0..nq {
        queue_rows(cx, q, &readers[q], &shares[q], &arrivals, &totals);
    }
    Ok(())
}

/// The feeds of the queues: each producer's sends (with its SendMessageBatch billing table
/// and its resends), then `other` (what other services feed in: SNS deliveries).
fn all_feeds<'a>(
    arch: &'a crate::model::Architecture,
    chunk: u64,
    mut other: Vec<Feed<'a>>,
) -> Vec<Feed<'a>> {
    let mut own = Vec::new();
    for (pi, p) in arch.producers.iter().enumerate() {
        let crate::producers::Target::Queue(q) = p.target else {
            continue;
        };
        if arch.access.denies_producer(pi) {
            // Its sends are denied: no requests reach the queue (the run says so).
            continue;
        }
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
    own.append(&mut other);
    own
}

/// What arrives at each queue from all its feeds (indexed as `arch.queues`).
struct Arrivals<'a> {
    /// Sizes of its messages, weighted by their mean rates.
    sizes: Vec<SizeMix<'a>>,
    /// FIFO queues: sends/s of the busiest message group at the peak, and the groups.
    group_peak: Vec<Option<(f64, u32)>>,
    /// Messages/s stored at the peak (resends that are stored included).
    peak_in: Vec<f64>,
}

/// The [`Arrivals`] of every queue.
fn arrivals<'a>(arch: &crate::model::Architecture, feeds: &[Feed<'a>]) -> Arrivals<'a> {
    let nq = arch.queues.len();
    let mut sizes: Vec<SizeMix> = (0..nq).map(|_| SizeMix::new()).collect();
    let mut group_peak: Vec<Option<(f64, u32)>> = vec![None; nq];
    let mut peak_in = vec![0.0; nq];
    for fd in feeds {
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
    Arrivals {
        sizes,
        group_peak,
        peak_in,
    }
}

/// The readers of each queue: its worker pools (in `arch.consumers` order, with a note for
/// the transients the estimate ignores), then its Lambda mappings.
fn readers(
    arch: &crate::model::Architecture,
    sizes: &[SizeMix],
    notes: &mut Vec<String>,
) -> Result<Vec<Vec<Reader>>, Invalid> {
    let nq = arch.queues.len();
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
        .map_err(|(field, m)| {
            Invalid::at(&FieldPath::item("consumer", i, &c.name).field(field), m)
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
    Ok(readers)
}

/// Smallest probability of a late delete that the notes mention (0.01% of processings).
const LATE_NOTE_FROM: f64 = 1e-4;

/// Notes for the readers whose processing can outlast their queue's visibility timeout:
/// for a worker pool, what the estimate counts of it ([`PoolModel::new`]) and what it
/// leaves out (when the redeliveries happen; with several messages per receive, the wait
/// behind the others); for a Lambda mapping whose function's timeout and batching window
/// exceed the visibility timeout, that its redeliveries are left out.
///
/// # Formula
/// Duplicate processings per message `r·(1 − f) − (1 − f^R)`: the processings that do not
/// fail, but the first (a message has none only when all its `R` receives failed). A full
/// receive of `M` messages is late with about `P(N > V)` for `N` normal with mean
/// `M·(s + L)` and variance `M·Var(S)` (the last message's delete).
fn visibility_notes(
    arch: &crate::model::Architecture,
    readers: &[Vec<Reader>],
    notes: &mut Vec<String>,
) {
    for (q, rs) in readers.iter().enumerate() {
        let queue = &arch.queues[q];
        for r in rs {
            match r {
                Reader::Pool { c, model } => {
                    if let Some(note) = pool_visibility_note(
                        arch,
                        *c,
                        model,
                        queue.dead_letter.map(|d| d.max_receive_count),
                    ) {
                        notes.push(note);
                    }
                }
                Reader::Lambda { l, .. } => {
                    let f = &arch.lambdas[*l];
                    let longest = f.timeout + f.batching_window;
                    if longest > queue.visibility_timeout {
                        notes.push(format!(
                            "lambda \"{}\": an invocation and its batching window may last up to {longest}, longer than the visibility timeout of queue \"{}\" ({}); its messages are then received again while it runs, and the estimate does not count these redeliveries",
                            f.name, queue.name, queue.visibility_timeout
                        ));
                    }
                }
            }
        }
    }
}

/// The note of worker pool `c` (see `visibility_notes`), if its processings can
/// outlast the visibility timeout.
fn pool_visibility_note(
    arch: &crate::model::Architecture,
    c: usize,
    model: &PoolModel,
    dead_letter_after: Option<u32>,
) -> Option<String> {
    let spec = &arch.consumers[c];
    let v = visible_again_after(spec);
    let m = spec.max_messages.max(1) as f64;
    let batch_late = if m > 1.0 && v.is_finite() {
        let var = (spec.service_time.second_moment_s2() - model.s * model.s).max(0.0);
        let (mean, sd) = (m * (model.s + model.latency), (m * var).sqrt());
        if sd > 0.0 {
            0.5 * statrs::function::erf::erfc((v - mean) / (sd * std::f64::consts::SQRT_2))
        } else {
            f64::from(u8::from(mean > v))
        }
    } else {
        0.0
    };
    if model.late < LATE_NOTE_FROM && batch_late < LATE_NOTE_FROM {
        return None;
    }
    let mut note = format!("consumer \"{}\": ", spec.name);
    if model.late >= LATE_NOTE_FROM {
        let never = dead_letter_after.map_or(0.0, |n| model.f.powi(n as i32));
        let duplicates = (model.r * (1.0 - model.f) - (1.0 - never)).max(0.0);
        note.push_str(&format!(
            "{:.2}% of processings outlast the visibility timeout ({}) less an API round trip, and another worker receives and processes the message again; the estimate counts {:.3} receives and {:.3} duplicate processings per message, the late deletes (billed, deleting nothing) and the extra busy time, but not when these receives happen (a visibility timeout later: latency, not cost)",
            model.late * 100.0,
            spec.visibility_timeout,
            model.r,
            duplicates
        ));
    }
    if batch_late >= LATE_NOTE_FROM {
        if model.late >= LATE_NOTE_FROM {
            note.push_str("; ");
        }
        note.push_str(&format!(
            "with up to {} messages per receive, processed one after another, about {:.2}% of full receives end after the visibility timeout ({}); the estimate leaves out this wait behind the other messages, so it counts too few redeliveries (`aqueduct run` shows them)",
            spec.max_messages,
            batch_late * 100.0,
            spec.visibility_timeout
        ));
    }
    Some(note)
}

/// Each reader's share of its queue's messages while the readers keep up: pools by their
/// workers; with a Lambda mapping on the queue, by capacity.
fn reader_shares(arch: &crate::model::Architecture, readers: &[Vec<Reader>]) -> Vec<Vec<f64>> {
    readers
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
        .collect()
}

/// Per queue, `[k]`: the expected billable requests of a receive of `k` messages of the
/// queue's sizes, up to the most any of its readers receives at once.
fn receive_chunks(
    arch: &crate::model::Architecture,
    readers: &[Vec<Reader>],
    sizes: &[SizeMix],
    chunk: u64,
) -> Vec<Vec<f64>> {
    (0..arch.queues.len())
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
        .collect()
}

/// Workers pool `c` runs for `busy` busy workers: all of them, or with auto scaling
/// `ceil(busy)` within its bounds.
fn workers_of(arch: &crate::model::Architecture, c: usize, busy: f64) -> f64 {
    let spec = &arch.consumers[c];
    match spec.autoscale {
        Some(a) => (busy.ceil().max(1.0)).clamp(a.min.max(1) as f64, a.max as f64),
        None => spec.workers as f64,
    }
}

/// The sums and extremes of every queue over the grid (indexed as `arch.queues`; per
/// reader as `readers[q]`).
struct Totals {
    /// Backlog at the end of the last step.
    backlog: Vec<f64>,
    /// Largest backlog at the end of a step of the window.
    backlog_max: Vec<f64>,
    /// Send requests (64 KiB chunks) per second, averaged over the window.
    send_per_s: Vec<f64>,
    /// Most send calls/s in a step of the window.
    send_calls_peak: Vec<f64>,
    /// Most receive calls/s (empty ones included) in a step of the window.
    recv_peak: Vec<f64>,
    /// Most delete calls/s in a step of the window.
    del_peak: Vec<f64>,
    /// Each reader's rates, averaged over the window.
    avg: Vec<Vec<PoolRates>>,
    /// New messages/s each reader served, averaged over the window.
    served_avg: Vec<Vec<f64>>,
    /// Receive requests (64 KiB chunks) per second, averaged over the window.
    recv_chunk_rate: Vec<f64>,
    /// Messages/s offered (arrivals and dead-letter moves), averaged over the window.
    offered: Vec<f64>,
}

impl Totals {
    /// Zeros for these readers.
    fn new(readers: &[Vec<Reader>]) -> Self {
        let nq = readers.len();
        Totals {
            backlog: vec![0.0; nq],
            backlog_max: vec![0.0f64; nq],
            send_per_s: vec![0.0; nq],
            send_calls_peak: vec![0.0f64; nq],
            recv_peak: vec![0.0f64; nq],
            del_peak: vec![0.0f64; nq],
            avg: readers
                .iter()
                .map(|rs| vec![PoolRates::default(); rs.len()])
                .collect(),
            served_avg: readers.iter().map(|rs| vec![0.0; rs.len()]).collect(),
            recv_chunk_rate: vec![0.0; nq],
            offered: vec![0.0; nq],
        }
    }
}

/// What the feeds bring to each queue during one step.
struct StepInput<'a> {
    /// Messages/s stored (resends that are stored included).
    inflow: Vec<f64>,
    /// Send calls/s.
    calls_in: Vec<f64>,
    /// FIFO queues: `(rate, groups)` of each feed.
    group_feeds: Vec<Vec<(f64, &'a crate::load::KeyDist)>>,
    /// Share of the queue's inflow that arrives at random (feeds not evenly spaced).
    random: Vec<f64>,
}

/// The feeds during `step`: each queue's inflow and send calls; adds the send requests to
/// the window's average and the calls to their peak.
fn step_feeds<'a>(cx: &Context, step: &Step, feeds: &[Feed<'a>], t: &mut Totals) -> StepInput<'a> {
    let (arch, grid) = (cx.arch, cx.grid);
    let nq = arch.queues.len();
    let weight = step.weight;
    let mut inflow = vec![0.0; nq];
    let mut calls_in = vec![0.0; nq];
    let mut group_feeds: Vec<Vec<(f64, &crate::load::KeyDist)>> = vec![Vec::new(); nq];
    let mut random = vec![0.0; nq];
    for fd in feeds {
        let rate = grid.rate(fd.arrival, arch, step) * fd.share;
        if rate > 0.0 && !fd.even {
            random[fd.queue] += rate;
        }
        if let Some(g) = fd.groups {
            group_feeds[fd.queue].push((rate, g));
        }
        let fill = batch_fill(rate, fd.batch, fd.linger_s, fd.even);
        let mean_k: f64 = fill.iter().map(|(k, p)| *k as f64 * p).sum();
        let calls = rate / mean_k + rate * fd.resend_probability;
        calls_in[fd.queue] += calls;
        let chunks_rate = rate / mean_k * chunks_of(&fill, &fd.send_chunks)
            + rate * fd.resend_probability * fd.send_chunks.get(1).copied().unwrap_or(1.0);
        t.send_per_s[fd.queue] += chunks_rate * weight;
        if weight > 0.0 {
            t.send_calls_peak[fd.queue] = t.send_calls_peak[fd.queue].max(calls);
        }
        inflow[fd.queue] += rate
            * (1.0
                + if fd.resend_stored {
                    fd.resend_probability
                } else {
                    0.0
                });
    }
    // Messages/s at random → their share of what reaches each queue from its feeds.
    let fed: Vec<f64> = {
        let mut f = vec![0.0; nq];
        for fd in feeds {
            f[fd.queue] += grid.rate(fd.arrival, arch, step) * fd.share;
        }
        f
    };
    for (r, total) in random.iter_mut().zip(&fed) {
        *r = if *total > 0.0 {
            (*r / total).min(1.0)
        } else {
            0.0
        };
    }
    StepInput {
        inflow,
        calls_in,
        group_feeds,
        random,
    }
}

/// A reader during one step: its rates, the new messages/s it served, and whether all its
/// workers (pollers) were busy.
type ReaderStep = (PoolRates, f64, bool);

/// What the queues do during one step.
struct StepOutput {
    /// Per queue and reader: its rates, the new messages/s it served, whether all its
    /// workers (pollers) were busy.
    rates: Vec<Vec<ReaderStep>>,
    /// Backlog at the end of the step.
    next_backlog: Vec<f64>,
    /// Messages/s offered (inflow and dead-letter moves).
    offered: Vec<f64>,
}

/// Serves the queues during `step`, in passes so that dead-letter queues receive what
/// their source queues exhaust (until the moves settle, at most one pass per queue and
/// one more).
fn serve_step(
    cx: &Context,
    step: &Step,
    readers: &[Vec<Reader>],
    shares: &[Vec<f64>],
    backlog: &[f64],
    input: &StepInput,
) -> Result<StepOutput, Invalid> {
    let arch = cx.arch;
    let nq = arch.queues.len();
    let base = input.inflow.clone();
    let mut out = StepOutput {
        rates: vec![Vec::new(); nq],
        next_backlog: backlog.to_vec(),
        offered: base.clone(),
    };
    let mut dlq_in = vec![0.0; nq];
    for _ in 0..=nq {
        let mut next_dlq = vec![0.0; nq];
        for q in 0..nq {
            let lam = base[q] + dlq_in[q];
            out.offered[q] = lam;
            out.rates[q].clear();
            out.next_backlog[q] = backlog[q];
            if readers[q].is_empty() {
                continue;
            }
            let (rates, next) = serve_queue(cx, step, q, lam, backlog[q], readers, shares, input)?;
            out.next_backlog[q] = next;
            for (r, _, _) in &rates {
                if let Some(dl) = arch.queues[q].dead_letter {
                    next_dlq[dl.queue] += r.exhausted;
                }
            }
            out.rates[q] = rates;
        }
        if next_dlq == dlq_in {
            break;
        }
        dlq_in = next_dlq;
    }
    Ok(out)
}

/// Backlogs below this share of the step's messages (backlog and arrivals) are rounding
/// residue: none. Relative, since the residue grows with the numbers subtracted.
const BACKLOG_EPSILON: f64 = 1e-9;

/// Serves queue `q` during `step` with `lam` messages/s arriving and `backlog` waiting:
/// each reader's rates, the new messages/s it served and whether it was all busy, and the
/// backlog at the end of the step.
///
/// # Formula
/// With a backlog, or `lam` at or above the readers' capacity, the readers work flat out
/// and serve `min(capacity, lam + backlog / dt)`, shared by capacity; otherwise they serve
/// `lam`, shared as [`reader_shares`]. Backlog `max(0, backlog + (lam − served)·dt)` on a
/// time-varying grid; on a single step, infinite when `lam` exceeds the capacity.
#[allow(clippy::too_many_arguments)] // the step's inputs, each read by one part
fn serve_queue(
    cx: &Context,
    step: &Step,
    q: usize,
    lam: f64,
    backlog: f64,
    readers: &[Vec<Reader>],
    shares: &[Vec<f64>],
    input: &StepInput,
) -> Result<(Vec<ReaderStep>, f64), Invalid> {
    let (arch, grid) = (cx.arch, cx.grid);
    let dt = step.dt;
    let caps: Vec<f64> = readers[q]
        .iter()
        .map(|r| match r {
            Reader::Lambda { pollers, .. } if grid.time_varying => r.capacity(arch, Some(*pollers)),
            _ => r.capacity(arch, None),
        })
        .collect();
    let cap: f64 = caps.iter().sum();
    let flat_out = backlog > 0.0 || lam >= cap;
    // Messages per send call: they become visible together.
    let clump = if input.calls_in[q] > 0.0 {
        (input.inflow[q] / input.calls_in[q]).max(1.0)
    } else {
        1.0
    };
    let served = if flat_out {
        cap.min(lam + backlog / dt.max(1e-9))
    } else {
        lam
    };
    let mut next_backlog = backlog;
    if grid.time_varying {
        next_backlog = (backlog + (lam - served) * dt).max(0.0);
        // Draining exactly (`served = lam + backlog/dt`) can leave a rounding residue of
        // 1e-17 messages, which would keep the readers flat out for ever.
        if next_backlog < BACKLOG_EPSILON * (1.0 + backlog + lam * dt) {
            next_backlog = 0.0;
        }
    } else if lam > cap {
        next_backlog = f64::INFINITY;
    }
    let mut rates = Vec::with_capacity(readers[q].len());
    for (j, r) in readers[q].iter().enumerate() {
        let part = if flat_out && cap.is_finite() && cap > 0.0 {
            caps[j] / cap
        } else {
            shares[q][j]
        };
        let x = served * part;
        let (rj, all_busy) = reader_rates(
            cx,
            r,
            x,
            clump,
            input.random[q],
            flat_out,
            &input.group_feeds[q],
        )?;
        rates.push((rj, x, all_busy));
    }
    Ok((rates, next_backlog))
}

/// The rates of reader `r` serving `x` new messages/s that arrive `clump` to a send call,
/// (a share `random` of them at random, not evenly spaced), flat out or not, and whether
/// it is all busy.
/// `groups`: the FIFO feeds of its queue.
fn reader_rates(
    cx: &Context,
    r: &Reader,
    x: f64,
    clump: f64,
    random: f64,
    flat_out: bool,
    groups: &[(f64, &crate::load::KeyDist)],
) -> Result<(PoolRates, bool), Invalid> {
    let (arch, grid) = (cx.arch, cx.grid);
    match r {
        Reader::Pool { c, model } => {
            let spec = &arch.consumers[*c];
            let w = if flat_out {
                spec.max_workers() as f64
            } else {
                workers_of(arch, *c, x * model.r * model.s)
            };
            // FIFO: messages of a group with one in flight wait for it.
            let clump = if groups.is_empty() {
                clump
            } else {
                cx.fifo_clump(groups, clump, model, spec.max_messages as f64)
            };
            let rates = pool_rates(spec, model, w, x, clump, random, flat_out).map_err(|m| {
                Invalid::at(
                    &FieldPath::item("consumer", *c, &spec.name).field("receive"),
                    m,
                )
            })?;
            Ok((rates, flat_out))
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
                Invalid::at(
                    &FieldPath::item("lambda", *l, &arch.lambdas[*l].name)
                        .field("failure_probability"),
                    m,
                )
            })?;
            Ok((mapping_to_pool(&mr, c), mr.all_busy))
        }
    }
}

/// Adds the step's rates to the window's averages and peaks, and moves each Lambda
/// mapping's pollers and cold starts on.
fn accumulate_step(
    cx: &Context,
    step: &Step,
    readers: &mut [Vec<Reader>],
    recv_chunks: &[Vec<f64>],
    out: &StepOutput,
    t: &mut Totals,
) {
    let (arch, grid) = (cx.arch, cx.grid);
    let (dt, weight) = (step.dt, step.weight);
    let t_end = (step.to.0 as f64) / 1e9;
    let in_window = if dt > 0.0 {
        weight * arch.duration.as_secs_f64() / dt
    } else {
        0.0
    };
    for q in 0..readers.len() {
        t.offered[q] += out.offered[q] * weight;
        if weight > 0.0 {
            t.backlog_max[q] = t.backlog_max[q].max(out.next_backlog[q]);
        }
        let (mut recv, mut del) = (0.0, 0.0);
        for (j, (r, x, all_busy)) in out.rates[q].iter().enumerate() {
            t.avg[q][j].add_scaled(r, weight);
            t.served_avg[q][j] += x * weight;
            t.recv_chunk_rate[q] +=
                r.receives * chunks_of(&fractional_fill(r.per_receive), &recv_chunks[q]) * weight;
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
                    *pollers = if *all_busy || out.next_backlog[q] > 0.0 {
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
            t.recv_peak[q] = t.recv_peak[q].max(recv);
            t.del_peak[q] = t.del_peak[q].max(del);
        }
    }
}

/// Pushes queue `q`'s usage record, its readers' capacity rows and loads, its backlog row
/// and its TPS rows.
fn queue_rows(
    cx: &mut Context,
    q: usize,
    readers: &[Reader],
    shares: &[f64],
    arrivals: &Arrivals,
    t: &Totals,
) {
    let arch = cx.arch;
    let spec = &arch.queues[q];
    let window_s = cx.month_s;
    let mut per_s = t.send_per_s[q] + t.recv_chunk_rate[q];
    let mut empty = 0.0;
    for r in &t.avg[q] {
        per_s += r.empty_receives + r.deletes + r.heartbeats;
        empty += r.empty_receives;
    }
    let group_peak = arrivals.group_peak[q];
    let peak_in = arrivals.peak_in[q];
    for (j, reader) in readers.iter().enumerate() {
        let offered = t.offered[q] * shares[j];
        match reader {
            Reader::Pool { c, model } => pool_rows(
                cx,
                spec.fifo,
                *c,
                model,
                offered,
                peak_in * shares[j],
                group_peak,
            ),
            Reader::Lambda { l, model, cold, .. } => {
                let load = MappingLoad {
                    l: *l,
                    max_pollers: model.max_pollers,
                    cold: *cold,
                    rates: &t.avg[q][j],
                    served: t.served_avg[q][j],
                    offered_queue: t.offered[q],
                    offered,
                    peak_in,
                };
                mapping_rows(cx, spec.fifo, &load, group_peak)
            }
        }
    }
    if t.backlog_max[q].is_finite() && t.backlog_max[q] > 0.5 {
        let mut c = Capacity::info(
            "sqs",
            &spec.name,
            "largest backlog (fluid estimate), messages",
            t.backlog_max[q].round(),
        );
        c.verdict = if t.backlog[q] > 0.5 {
            format!(
                "{:.0} messages still waiting at the end of the window: the consumers fall behind",
                t.backlog[q]
            )
        } else {
            "builds during peaks and drains after them".into()
        };
        cx.capacity.push(c);
    }
    cx.usage.sqs.push(SqsUsage {
        name: spec.name.clone(),
        fifo: spec.fifo,
        requests: (per_s * window_s).round() as u64,
        empty_receives: (empty * window_s).round() as u64,
    });
    if let Some(tps) = spec.tps_limit {
        let peaks = [
            ("SendMessage calls/s at the peak", t.send_calls_peak[q]),
            ("ReceiveMessage calls/s at the peak", t.recv_peak[q]),
            ("DeleteMessage calls/s at the peak", t.del_peak[q]),
        ];
        tps_rows(cx, q, tps as f64, peak_in, peaks, group_peak);
    }
}

/// The capacity rows of worker pool `c`: workers busy with the offered load
/// (redeliveries included), at the peak rate, and for a FIFO queue against its message
/// groups.
///
/// # Formula
/// Busy workers `offered × r × s` (mean) and `peak × r × s` ([`PoolModel`]).
fn pool_rows(
    cx: &mut Context,
    fifo: bool,
    c: usize,
    model: &PoolModel,
    offered: f64,
    peak: f64,
    group_peak: Option<(f64, u32)>,
) {
    let pool = &cx.arch.consumers[c];
    let max_w = pool.max_workers() as f64;
    // Offered load (what arrives), not what the pool manages to serve.
    let need_mean = offered * model.r * model.s;
    cx.capacity.push(Capacity::against(
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
    let busy_peak = peak * model.r * model.s;
    if busy_peak > need_mean * (1.0 + 1e-9) {
        cx.capacity.push(Capacity::against(
            "sqs",
            &pool.name,
            "workers needed at the peak rate",
            busy_peak,
            max_w,
            format!(
                "{:.0} workers keep up with the peak; fewer let a backlog build during peaks",
                busy_peak.ceil()
            ),
        ));
    }
    if fifo {
        if let Some((_, groups)) = group_peak {
            cx.capacity.push(Capacity::against(
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

/// What a Lambda mapping on a queue did over the window.
struct MappingLoad<'r> {
    /// The function (index in `arch.lambdas`).
    l: usize,
    /// The mapping's most pollers (its maximum concurrency).
    max_pollers: f64,
    /// Cold starts in the measured window.
    cold: f64,
    /// Its rates, averaged over the window.
    rates: &'r PoolRates,
    /// New messages/s it served.
    served: f64,
    /// Messages/s offered to its queue.
    offered_queue: f64,
    /// Messages/s offered to it (its share).
    offered: f64,
    /// Messages/s stored in its queue at the peak.
    peak_in: f64,
}

/// Adds a Lambda mapping's load to its function, and for a FIFO queue its concurrency
/// against the message groups.
///
/// # Formula
/// Concurrency per new message served, applied to the offered load: mean `conc / served ×
/// max(offered, served)`, peak `mean × peak ÷ offered`.
fn mapping_rows(cx: &mut Context, fifo: bool, m: &MappingLoad, group_peak: Option<(f64, u32)>) {
    let arch = cx.arch;
    let duration_s = arch.duration.as_secs_f64();
    let f = &arch.lambdas[m.l];
    let r = m.rates;
    let per_msg = if m.served > 0.0 {
        r.concurrency / m.served
    } else {
        0.0
    };
    let load: &mut FunctionLoad = &mut cx.functions[m.l];
    load.invocations += r.invocations;
    load.records += r.deliveries;
    load.billed_s += r.billed_s;
    load.cold_starts += if duration_s > 0.0 {
        m.cold / duration_s
    } else {
        0.0
    };
    let need_mean = per_msg * m.offered.max(m.served);
    load.concurrency_mean += need_mean;
    load.concurrency_peak += if m.offered_queue > 0.0 {
        need_mean * m.peak_in / m.offered_queue
    } else {
        0.0
    };
    load.limit = Some(concurrency_limit(
        arch,
        f,
        Some((m.max_pollers, "the mapping's maximum concurrency")),
    ));
    if fifo {
        if let Some((_, groups)) = group_peak {
            let value = load.concurrency_mean.max(load.concurrency_peak);
            cx.capacity.push(Capacity::against(
                "lambda",
                &f.name,
                "concurrent executions at the peak vs message groups",
                value,
                groups as f64,
                "FIFO: a message group is in one batch at a time; more groups are needed for this parallelism",
            ));
        }
    }
}

/// The rows of a queue with a TPS limit per action (FIFO): the peak calls/s of `peaks`
/// against `tps`, with the batching or mode that would fit, and in high-throughput mode
/// the busiest message group's sends against its limit.
fn tps_rows(
    cx: &mut Context,
    q: usize,
    tps: f64,
    peak_msgs: f64,
    peaks: [(&str, f64); 3],
    group_peak: Option<(f64, u32)>,
) {
    let spec = &cx.arch.queues[q];
    let mb = cx.arch.limits.sqs.max_batch_messages as f64;
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
    for (what, v) in peaks {
        cx.capacity.push(Capacity::against(
            "sqs",
            &spec.name,
            what,
            v,
            tps,
            advise(v),
        ));
    }
    if let (true, Some(limit), Some((g, _))) =
        (spec.high_throughput, spec.group_rps_limit, group_peak)
    {
        cx.capacity.push(Capacity::against(
            "sqs",
            &spec.name,
            "sends/s of the busiest message group at the peak",
            g,
            limit as f64,
            "a message group takes 300 sends/s in high-throughput mode: spread keys over more groups",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::{estimate, test_model as model};

    #[test]
    fn random_arrivals_mix_by_their_share_of_the_inflow() {
        // Two workers, 100 messages/s, 20 ms API calls, 3.8 ms of work: the fluid model says
        // 1.15 messages per receive; arrivals at random accumulate while both workers are
        // busy (more per receive). Half of them at random: halfway between.
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
service_time = "3.8ms"
delete = "batch"
"#,
        );
        let spec = &arch.consumers[0];
        let pm = PoolModel::new(spec, None, 0.0, 0.0093).unwrap();
        let m = |share: f64| {
            pool_rates(spec, &pm, 2.0, 100.0, 1.0, share, false)
                .unwrap()
                .per_receive
        };
        let (even, half, random) = (m(0.0), m(0.5), m(1.0));
        assert!((even - 1.15).abs() < 0.01, "{even}");
        assert!(random > even + 0.2, "{random} vs {even}");
        assert!((half - (even + random) / 2.0).abs() < 1e-12, "{half}");
    }

    #[test]
    fn fifo_ready_events_of_free_busy_and_saturated_groups() {
        let model = PoolModel {
            f: 0.0,
            late: 0.0,
            q: 0.0,
            r: 1.0,
            exhaust: 0.0,
            s: 0.0038,
            latency: 0.0093,
            l0: 0.0186,
            s1: 0.0038,
        };
        let clump = |keys: &crate::load::KeyDist, rate: f64| {
            fifo_ready_clump(&[(rate, keys)], 10.0, &model, 10.0)
        };
        // A million groups: a message almost never finds its group locked, so each send
        // call of 10 is one ready event of 10.
        let many = crate::load::KeyDist::uniform(1_000_000).unwrap();
        let m = clump(&many, 500.0);
        assert!(m > 9.95 && m <= 10.0, "{m}");
        // One group locked all the time (λ·τ ≥ 4): each receive takes what came during the
        // last lock, max_messages at 300/s and 1,000/s (λ·s′ ≥ 1), never one message per
        // ready event.
        let one = crate::load::KeyDist::uniform(1).unwrap();
        for rate in [300.0, 1000.0] {
            let m = clump(&one, rate);
            assert!((m - 10.0).abs() < 1e-9, "{rate}: {m}");
        }
        // Hotter groups hold more messages back, and release them in smaller clumps.
        let (u, z) = (
            crate::load::KeyDist::uniform(5000).unwrap(),
            crate::load::KeyDist::zipf(5000, 0.8).unwrap(),
        );
        let (mu, mz) = (clump(&u, 500.0), clump(&z, 500.0));
        assert!(mz < mu && mu < 10.0 && mz >= 1.0, "{mz} {mu}");
        // A trickle: finite, one send call's messages.
        let m = clump(&u, 1e-9);
        assert!(m.is_finite() && m >= 1.0, "{m}");
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
        let r = pool_rates(spec, &model, 4.0, 4.0, 1.0, 0.0, false).unwrap();
        assert!((r.deliveries - 6.0).abs() < 1e-12);
        assert!((r.deletes - 3.0).abs() < 1e-12);
        assert!((r.exhausted - 1.0).abs() < 1e-12);
        let e = estimate(&arch, 730.0).unwrap();
        // The dead-letter queue has no consumer and bills nothing itself.
        assert_eq!(e.usage.sqs[1].requests, 0);
    }

    #[test]
    fn processing_that_outlasts_the_visibility_timeout_is_received_again() {
        // Service time lognormal (median 8 s, p99 60 s), 2% failures, visibility 15 s,
        // zero latency, maxReceiveCount 5: p = P(S > 15 s) = 0.233989, q = 0.02 + 0.98 p =
        // 0.249309, r = (1 − q⁵)/(1 − q) = 1.330823 receives per message, q⁵ = 0.000963
        // dead-lettered. Deletes: every processing that does not fail, late or not.
        let arch = model(
            r#"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "constant", rate_per_s = 2 }
[[queue]]
name = "q"
visibility_timeout = "15s"
dead_letter = { queue = "dlq", max_receive_count = 5 }
[[queue]]
name = "dlq"
[[consumer]]
name = "w"
source = "sqs:q"
workers = 40
receive = { max_messages = 1, wait = "20s" }
service_time = { dist = "lognormal", median = "8s", p99 = "60s" }
failure_probability = 0.02
"#,
        );
        let spec = &arch.consumers[0];
        let m = PoolModel::new(spec, Some(5), 0.0, 0.0).unwrap();
        assert!((m.late - 0.233_988_939).abs() < 1e-8, "{}", m.late);
        assert!((m.q - 0.249_309_160).abs() < 1e-8, "{}", m.q);
        assert!((m.r - 1.330_823_294).abs() < 1e-8, "{}", m.r);
        assert!((m.exhaust - 0.000_963_144).abs() < 1e-9, "{}", m.exhaust);
        let r = pool_rates(spec, &m, 40.0, 2.0, 1.0, 0.0, false).unwrap();
        assert!((r.deletes - 2.0 * m.r * 0.98).abs() < 1e-12);
        // Without a dead-letter queue, a processing that always outlasts the timeout has
        // no steady state; a heartbeat that keeps extending it makes the timeout moot.
        let mut always = spec.clone();
        always.service_time =
            crate::load::DurationDist::constant(crate::sim::SimDuration::from_secs(20));
        let e = PoolModel::new(&always, None, 0.0, 0.0).unwrap_err();
        assert_eq!(e.0, "receive");
        always.heartbeat = Some(crate::workers::Heartbeat {
            every: crate::sim::SimDuration::from_secs(10),
            extend_to: crate::sim::SimDuration::from_secs(15),
        });
        assert_eq!(visible_again_after(&always), f64::INFINITY);
        assert_eq!(PoolModel::new(&always, None, 0.0, 0.0).unwrap().late, 0.0);
        // A heartbeat whose extension is shorter than its period lets it expire at
        // every + extend_to = 10 s + 5 s: the 20 s processing is late.
        always.heartbeat = Some(crate::workers::Heartbeat {
            every: crate::sim::SimDuration::from_secs(10),
            extend_to: crate::sim::SimDuration::from_secs(5),
        });
        assert_eq!(visible_again_after(&always), 15.0);
    }
}
