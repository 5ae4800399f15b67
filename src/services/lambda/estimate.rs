//! Lambda functions in the estimate: billed duration, the SQS event source mapping's
//! pollers and batches, and the load each function ends with (invocations, GB-seconds,
//! concurrency by Little's law).
//!
//! The SQS mapping is modelled on what the simulator does (`services::lambda::function`,
//! `services::lambda::engine_sqs`): pollers long-poll the queue, a poller that gets messages
//! invokes the function on them (with a batching window of 0, on whatever one receive
//! returned), deletes the successful ones with DeleteMessageBatch calls of 10 and polls
//! again. Pollers are added (5 a second) while messages wait and stopped when a long poll
//! comes back empty, down to 5.

use crate::estimate::capacity::{lambda_concurrency, Capacity};
use crate::estimate::Context;
use crate::load::{Dist, DurationDist};
use crate::model::Architecture;
use crate::services::kinesis::estimate::LATENCY_DRAWS;
use crate::services::lambda::bill::{LambdaArch, LambdaUsage};
use crate::services::lambda::limits as llim;
use crate::services::lambda::{Arch, LambdaSource, LambdaSpec};
use crate::services::sns::Endpoint;
use crate::services::sqs::QueueSpec;
use crate::sim::stream;
use rand_distr::{Distribution, StandardNormal};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

/// Draws of the Monte Carlo billed-duration estimate.
const DURATION_DRAWS: usize = 4000;

/// Per-record draws summed one by one before the normal approximation of their sum.
const EXACT_RECORD_DRAWS: u64 = 64;

/// What one invocation of a function costs in time.
#[derive(Clone, Debug)]
pub(crate) struct DurationModel {
    d0: DurationDist,
    d1: DurationDist,
    /// Mean extra time of a cold start, s.
    pub(crate) cold_start_s: f64,
    /// Memory, GB (MB / 1,024).
    pub(crate) memory_gb: f64,
    timeout_ns: f64,
    /// Mean invoke overhead of an event source mapping's invocations, s (0 for functions
    /// invoked asynchronously): it holds the concurrency slot but is not billed.
    overhead_s: f64,
    name: String,
    /// Billed seconds by batch size, computed once: by index up to [`BILLED_DENSE`]
    /// (NaN: not yet), in the map above it. The estimate asks for the same few sizes
    /// millions of times (every term of a Poisson sum, every shard, every time step).
    billed_dense: RefCell<Vec<f64>>,
    billed: RefCell<HashMap<u64, f64>>,
}

/// Batch sizes whose billed seconds [`DurationModel`] caches in a vector (the largest
/// batch an event source mapping takes is 10,000).
const BILLED_DENSE: u64 = 10_001;

impl DurationModel {
    /// The model of `spec`.
    pub(crate) fn new(spec: &LambdaSpec) -> Self {
        DurationModel {
            d0: spec.duration.clone(),
            d1: spec.per_record.clone(),
            cold_start_s: spec.cold_start.mean_s(),
            memory_gb: spec.memory_mb as f64 / 1024.0,
            timeout_ns: spec.timeout.0 as f64,
            overhead_s: match spec.source {
                crate::services::lambda::LambdaSource::Async => 0.0,
                _ => spec.invoke_overhead.mean_s(),
            },
            name: spec.name.clone(),
            billed_dense: RefCell::new(Vec::new()),
            billed: RefCell::new(HashMap::new()),
        }
    }

    /// Mean time of the part of an invocation that does not depend on its records, s.
    pub(crate) fn fixed_s(&self) -> f64 {
        self.d0.mean_s()
    }

    /// Mean time per record, s.
    pub(crate) fn per_record_s(&self) -> f64 {
        self.d1.mean_s()
    }

    /// Mean duration of an invocation of `k` records, s.
    ///
    /// # Formula
    /// `E[duration] + k × E[per_record]`.
    pub(crate) fn mean_s(&self, k: f64) -> f64 {
        self.fixed_s() + k * self.per_record_s()
    }

    /// Mean time an invocation of `k` records holds its concurrency slot (and, on a
    /// Kinesis shard, its lane), s.
    ///
    /// # Formula
    /// `E[invoke_overhead] + E[duration](k)`: a run takes the slot when the mapping hands
    /// the batch over, before the handler starts.
    pub(crate) fn held_s(&self, k: f64) -> f64 {
        self.overhead_s + self.mean_s(k)
    }

    /// Mean billed duration of an invocation of `k` records (a fraction mixes ⌊k⌋ and
    /// ⌈k⌉), s: each invocation is rounded up to the next millisecond.
    ///
    /// # Formula
    /// Constant times: `ceil_ms(min(duration + k × per_record, timeout))`, exact. Times
    /// whose sum spreads over 2 ms or more (standard deviation): `mean + 0.5 ms` (the
    /// fractional millisecond is then close to uniform). Narrower ones: the mean of
    /// `ceil_ms` over 4,000 draws from a fixed seed (per-record times summed one by one up
    /// to 64 records, by their normal approximation above).
    pub(crate) fn billed_s(&self, k: f64) -> f64 {
        let lo = k.floor().max(0.0);
        let w = k - lo;
        let at = |n: f64| self.billed_n_s(n as u64);
        if w > 0.0 {
            (1.0 - w) * at(lo) + w * at(lo + 1.0)
        } else {
            at(lo)
        }
    }

    fn billed_n_s(&self, k: u64) -> f64 {
        if k < BILLED_DENSE {
            let i = k as usize;
            if let Some(v) = self.billed_dense.borrow().get(i).filter(|v| !v.is_nan()) {
                return *v;
            }
            let v = self.billed_n_uncached(k);
            let mut dense = self.billed_dense.borrow_mut();
            if dense.len() <= i {
                dense.resize(i + 1, f64::NAN);
            }
            dense[i] = v;
            return v;
        }
        if let Some(v) = self.billed.borrow().get(&k) {
            return *v;
        }
        let v = self.billed_n_uncached(k);
        self.billed.borrow_mut().insert(k, v);
        v
    }

    fn billed_n_uncached(&self, k: u64) -> f64 {
        const MS: f64 = 1e6;
        let (d0, d1) = (&self.d0.0, &self.d1.0);
        if let (Dist::Constant(a), Dist::Constant(b)) = (d0, d1) {
            let ns = (a + k as f64 * b).min(self.timeout_ns);
            return (ns / MS).ceil() / 1e3;
        }
        let var = |d: &Dist| (d.second_moment() - d.mean() * d.mean()).max(0.0);
        let sd_ns = (var(d0) + k as f64 * var(d1)).sqrt();
        let mean_ns = d0.mean() + k as f64 * d1.mean();
        if sd_ns >= 2.0 * MS {
            return (mean_ns.min(self.timeout_ns) / MS + 0.5) / 1e3;
        }
        let mut rng = stream(0, &format!("estimate:duration:{}:{k}", self.name));
        let mut sum = 0.0;
        for _ in 0..DURATION_DRAWS {
            let mut ns = self.d0.sample(&mut rng).0 as f64;
            if k <= EXACT_RECORD_DRAWS {
                for _ in 0..k {
                    ns += self.d1.sample(&mut rng).0 as f64;
                }
            } else {
                let z: f64 = StandardNormal.sample(&mut rng);
                ns += (k as f64 * d1.mean() + (k as f64 * var(d1)).sqrt() * z).max(0.0);
            }
            sum += (ns.min(self.timeout_ns) / MS).ceil();
        }
        sum / DURATION_DRAWS as f64 / 1e3
    }
}

/// The load a function ends the estimate with, as means over the measured window.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FunctionLoad {
    /// Invocations per second.
    pub(crate) invocations: f64,
    /// Requests per second billed beyond one per invocation (asynchronous events over
    /// 256 KB).
    pub(crate) extra_requests: f64,
    /// Records processed per second (retries included).
    pub(crate) records: f64,
    /// Billed seconds per second (each invocation rounded up to 1 ms), cold starts
    /// excluded.
    pub(crate) billed_s: f64,
    /// Cold starts per second.
    pub(crate) cold_starts: f64,
    /// Concurrent executions needed by the offered load, mean (Little's law).
    pub(crate) concurrency_mean: f64,
    /// Concurrent executions needed at the peak rate.
    pub(crate) concurrency_peak: f64,
    /// The most concurrent executions the function may have, and what sets it.
    pub(crate) limit: Option<(f64, String)>,
}

/// The account's concurrency left to functions without a reservation.
///
/// # Formula
/// `account_concurrency − Σ reserved concurrency` (at least 0).
pub(crate) fn unreserved_pool(arch: &Architecture) -> f64 {
    let reserved: u32 = arch
        .lambdas
        .iter()
        .filter_map(|l| l.reserved_concurrency)
        .sum();
    arch.limits
        .lambda
        .account_concurrency
        .saturating_sub(reserved) as f64
}

/// The concurrency a function may use.
///
/// # Formula
/// `min(reserved concurrency, or the account's unreserved pool = account_concurrency − Σ
/// reservations; mapping_max)`, and what sets it.
pub(crate) fn concurrency_limit(
    arch: &Architecture,
    spec: &LambdaSpec,
    mapping_max: Option<(f64, &str)>,
) -> (f64, String) {
    let lim = &arch.limits.lambda;
    let (mut v, mut what) = match spec.reserved_concurrency {
        Some(r) => (r as f64, "reserved concurrency".to_string()),
        None => (
            unreserved_pool(arch),
            format!(
                "the account's unreserved concurrency ({} − reservations; {})",
                lim.account_concurrency,
                llim::SOURCE_QUOTAS
            ),
        ),
    };
    if let Some((m, w)) = mapping_max {
        if m < v {
            v = m;
            what = w.to_string();
        }
    }
    (v, what)
}

/// An SQS event source mapping and its function, independent of the load.
#[derive(Clone, Debug)]
pub(crate) struct SqsMappingModel {
    /// Probability that one record fails.
    pub(crate) f: f64,
    /// The function reports batch item failures.
    pub(crate) partial: bool,
    /// The queue is FIFO (records after a failed one return with it).
    pub(crate) fifo: bool,
    /// The queue's maxReceiveCount, with a dead-letter queue.
    pub(crate) dead_letter_after: Option<u32>,
    /// The queue's duplicate-delivery probability.
    pub(crate) duplicate: f64,
    /// Mean API round trip, s.
    pub(crate) latency: f64,
    /// Mean invoke overhead of the mapping (`LambdaSpec::invoke_overhead`), s.
    pub(crate) overhead: f64,
    /// Messages one receive returns at most: `min(batch_size, 10)`.
    pub(crate) per_receive: f64,
    /// Records per invocation at most: the batch size, and no more than the 6 MB
    /// synchronous payload holds of messages of the mean size.
    pub(crate) batch: f64,
    /// Batching window, s.
    pub(crate) window: f64,
    /// Entries per DeleteMessageBatch call: 10.
    pub(crate) delete_batch: f64,
    /// Long-poll wait of a receive, s.
    pub(crate) wait: f64,
    /// Pollers kept when idle: 5.
    pub(crate) min_pollers: f64,
    /// Most pollers: the mapping's maximum concurrency, or 1,000.
    pub(crate) max_pollers: f64,
    /// Most concurrent executions (see [`concurrency_limit`]).
    pub(crate) concurrency: f64,
    /// Pollers added per second while messages wait.
    pub(crate) step_per_s: f64,
    /// Durations.
    pub(crate) duration: DurationModel,
}

/// Per-second rates of an SQS mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct MappingRates {
    /// Messages received per second (redeliveries included).
    pub(crate) deliveries: f64,
    /// Records per invocation.
    pub(crate) batch: f64,
    /// Invocations per second.
    pub(crate) invocations: f64,
    /// Non-empty ReceiveMessage calls per second.
    pub(crate) receives: f64,
    /// Messages per non-empty receive.
    pub(crate) per_receive: f64,
    /// Empty receives per second (idle pollers, and batching windows that end short).
    pub(crate) empty_receives: f64,
    /// DeleteMessageBatch calls per second.
    pub(crate) deletes: f64,
    /// Pollers busy (API calls and invocations), mean.
    pub(crate) busy: f64,
    /// Concurrent executions, mean.
    pub(crate) concurrency: f64,
    /// Billed seconds per second.
    pub(crate) billed_s: f64,
    /// New messages per second that exhaust their receives (to the dead-letter queue).
    pub(crate) exhausted: f64,
    /// Every poller was busy (the mapping would add pollers).
    pub(crate) all_busy: bool,
}

impl SqsMappingModel {
    /// The mapping of `spec` on `queue`, whose messages average `mean_size` bytes.
    pub(crate) fn new(
        arch: &Architecture,
        spec: &LambdaSpec,
        queue: &QueueSpec,
        mean_size: f64,
    ) -> Self {
        let lim = &arch.limits.lambda;
        let max_pollers = spec.maximum_concurrency.unwrap_or(lim.sqs_max_concurrency) as f64;
        let (concurrency, _) = concurrency_limit(
            arch,
            spec,
            Some((max_pollers, "the mapping's maximum concurrency")),
        );
        let per_receive = spec
            .batch_size
            .clamp(1, arch.limits.sqs.max_batch_messages.max(1)) as f64;
        let by_payload = (lim.max_sync_payload_bytes as f64 / mean_size.max(1.0))
            .floor()
            .max(1.0);
        SqsMappingModel {
            f: spec.failure_probability.clamp(0.0, 1.0),
            partial: spec.report_batch_item_failures,
            fifo: queue.fifo,
            dead_letter_after: queue.dead_letter.map(|d| d.max_receive_count),
            duplicate: queue.duplicate_probability.clamp(0.0, 0.99),
            latency: queue.api_latency.mean_s(),
            overhead: spec.invoke_overhead.mean_s(),
            per_receive: per_receive.min(by_payload),
            batch: (spec.batch_size.max(1) as f64).min(by_payload),
            window: spec.batching_window.as_secs_f64(),
            delete_batch: arch.limits.sqs.max_batch_messages.max(1) as f64,
            wait: llim::SQS_ESM_WAIT.as_secs_f64(),
            min_pollers: lim.sqs_initial_concurrency.min(max_pollers as u32) as f64,
            max_pollers,
            concurrency,
            step_per_s: lim.sqs_scale_up_per_minute.div_ceil(60) as f64,
            duration: DurationModel::new(spec),
        }
    }

    /// Records one invocation of `k` records deletes, and the chance it deletes any.
    ///
    /// # Formula
    /// Batch item failures reported: `k(1 − f)` (FIFO: the records before the first
    /// failure, `Σ_{j=1..k} (1 − f)^j`), any with `1 − f^k` (FIFO `1 − f`). Otherwise one
    /// failure fails the batch: `k(1 − f)^k`, any with `(1 − f)^k`.
    pub(crate) fn kept(&self, k: f64) -> (f64, f64) {
        let ok = 1.0 - self.f;
        match (self.partial, self.fifo) {
            (true, false) => (k * ok, 1.0 - self.f.powf(k)),
            (true, true) => {
                let kept = if self.f > 0.0 {
                    ok * (1.0 - ok.powf(k)) / self.f
                } else {
                    k
                };
                (kept, ok)
            }
            (false, _) => (k * ok.powf(k), ok.powf(k)),
        }
    }

    /// Receives per new message and the fraction of new messages dead-lettered, with `k`
    /// records per invocation.
    ///
    /// # Formula
    /// A delivery fails with `q = 1 − kept(k)/k`; `r = (1 − q^R)/(1 − q) ÷ (1 − d)` with
    /// a dead-letter queue after `R` receives (`q^R` dead-lettered), `1/(1 − q) ÷ (1 − d)`
    /// without (`d`: the queue's duplicate probability).
    pub(crate) fn redelivery(&self, k: f64) -> Result<(f64, f64), String> {
        let k = k.max(1.0);
        let q = (1.0 - self.kept(k).0 / k).clamp(0.0, 1.0);
        let (r, exhaust) = match self.dead_letter_after {
            Some(n) if q >= 1.0 => (n as f64, 1.0),
            Some(n) => ((1.0 - q.powi(n as i32)) / (1.0 - q), q.powi(n as i32)),
            None if q >= 1.0 => {
                return Err("every batch fails and the queue has no dead-letter queue: messages come back after every visibility timeout until retention expires them; the steady state is not defined".into());
            }
            None => (1.0 / (1.0 - q), 0.0),
        };
        Ok((r / (1.0 - self.duplicate), exhaust))
    }

    /// The most records per invocation: one receive's worth without a batching window.
    pub(crate) fn full_batch(&self) -> f64 {
        if self.window > 0.0 {
            self.batch
        } else {
            self.per_receive
        }
    }

    /// Receive calls (with messages) per invocation of `m` records.
    fn receives_per_batch(&self, m: f64, flat_out: bool) -> f64 {
        if self.window <= 0.0 {
            1.0
        } else if flat_out {
            (m / self.per_receive).ceil().max(1.0)
        } else {
            m.max(1.0)
        }
    }

    /// Time a poller is busy per invocation of `m` records, s.
    ///
    /// # Formula
    /// `receives × L + L (the delete calls, issued together) + O (the invoke overhead)
    /// + E[duration](m)`.
    pub(crate) fn cycle(&self, m: f64, flat_out: bool) -> f64 {
        (self.receives_per_batch(m, flat_out) + 1.0) * self.latency
            + self.overhead
            + self.duration.mean_s(m)
    }

    /// Most new messages per second `pollers` pollers can take.
    ///
    /// # Formula
    /// With full batches of `M`: `min(c × M / cycle(M), concurrency × M / (E[invoke_overhead] + E[duration](M)))
    /// ÷ r(M)` (infinite when a cycle takes no time).
    pub(crate) fn capacity(&self, pollers: f64) -> f64 {
        let m = self.full_batch();
        let cycle = self.cycle(m, true);
        let dur = self.duration.held_s(m);
        let by_pollers = if cycle > 0.0 {
            pollers * m / cycle
        } else {
            f64::INFINITY
        };
        let by_concurrency = if dur > 0.0 {
            self.concurrency * m / dur
        } else {
            f64::INFINITY
        };
        let r = self.redelivery(m).map(|x| x.0).unwrap_or(1.0);
        by_pollers.min(by_concurrency) / r
    }

    /// Records per invocation with `d` deliveries per second to `c` pollers.
    ///
    /// # Formula
    /// Flat out: full batches. Otherwise a poller finds what arrived for it while it was
    /// busy: `m = a·L₀ / (1 − a·s′)` with `a = d/c`, `L₀ = 2L + O + E[duration]` (`O` the
    /// invoke overhead), `s′ =
    /// E[per_record]` (as for worker pools); below 1 the pollers wait for messages and
    /// each arrival is served at once, alone. With a batching window `W`, a poller also
    /// gathers what reaches it during the window: waiting pollers are served in turn, so
    /// it gets one more message every `K` arrivals, `K` = the pollers waiting (`c` less the
    /// busy ones): `m ≥ 1 + E[⌊N_W / K⌋]`, `N_W ~ Poisson(d·W)` (a fractional `K` mixes its
    /// floor and ceiling). An approximation: near `1 + d·W/K` when many messages arrive in
    /// a window (the simulator within 5%); at one or a few messages per window it gives
    /// smaller batches than the simulator (up to about 15% more invocations), where
    /// pollers whose windows close leave the line and shorten the turn. Clamped to `[1,
    /// full batch]`. Returns `m` and whether every poller is busy (`a·L₀/(1 − a·s′) > 1`).
    pub(crate) fn batch_size(&self, d: f64, c: f64, flat_out: bool) -> (f64, bool) {
        let full = self.full_batch();
        if flat_out {
            return (full, true);
        }
        let a = if c > 0.0 { d / c } else { f64::INFINITY };
        let l0 = 2.0 * self.latency + self.overhead + self.duration.fixed_s();
        let denom = 1.0 - a * self.duration.per_record_s();
        let m0 = if denom <= 0.0 {
            f64::INFINITY
        } else {
            a * l0 / denom
        };
        let all_busy = m0 > 1.0 + 1e-9;
        let mut m = m0.clamp(1.0, full);
        if self.window > 0.0 && d > 0.0 {
            let mu = d * self.window;
            for _ in 0..30 {
                let invocations = d / m;
                let waiting = (c - invocations * self.cycle(m, false)).max(1.0);
                // ⌊N/K⌋ for a fractional K: ⌊K⌋ and ⌈K⌉ mixed so the mean line is K.
                let (k0, w) = (waiting.floor(), waiting - waiting.floor());
                let per = |n: u64| {
                    (1.0 - w) * (n as f64 / k0).floor() + w * (n as f64 / (k0 + 1.0)).floor()
                };
                let gathered = 1.0 + crate::estimate::poisson_mean(mu, per);
                let next = gathered.max(m0).clamp(1.0, full);
                if (next - m).abs() < 1e-9 {
                    break;
                }
                m = next;
            }
        }
        (m, all_busy)
    }

    /// Pollers in steady state for `x` new messages per second.
    ///
    /// # Formula
    /// The mapping adds pollers while every one is busy and stops idle ones after an
    /// empty long poll, so it settles where the busy pollers just cover the load:
    /// `c = clamp(invocations × cycle(m), min_pollers, max_pollers)`, solved together with
    /// `m` from [`SqsMappingModel::batch_size`] by iteration.
    pub(crate) fn steady_pollers(&self, x: f64) -> f64 {
        let mut c = self.min_pollers.max(1.0);
        let mut m = 1.0;
        for _ in 0..50 {
            let r = self.redelivery(m).map(|v| v.0).unwrap_or(1.0);
            let d = x * r;
            let need = d / m * self.cycle(m, false);
            let next = need.clamp(self.min_pollers.max(1.0), self.max_pollers.max(1.0));
            let (m2, _) = self.batch_size(d, next, false);
            if (next - c).abs() < 1e-9 && (m2 - m).abs() < 1e-12 {
                break;
            }
            c = next;
            m = m2;
        }
        c
    }

    /// Rates of the mapping taking `x` new messages per second with `pollers` pollers,
    /// `flat_out` when messages wait in the queue (full batches, no poller idle).
    ///
    /// # Formula
    /// Deliveries `D = x·r(m)` with `m` and `r` solved together ([`Self::batch_size`],
    /// [`Self::redelivery`]); invocations `D/m`; receives one per invocation without a
    /// batching window, else one per message (one per 10 when flat out) plus one empty
    /// receive when the window closes on a batch that is not full; DeleteMessageBatch
    /// calls `invocations × P(any kept) × ceil(kept / 10)`; busy pollers `invocations ×
    /// cycle(m)`; idle pollers `I = c − busy` make `max(0, I/(wait + L) − receives)` empty
    /// receives per second; concurrency `invocations × (E[invoke_overhead] +
    /// E[duration](m))` (Little's law: the overhead holds the slot);
    /// billed seconds `invocations × E[ceil_ms(duration)]`.
    pub(crate) fn rates(
        &self,
        x: f64,
        pollers: f64,
        clump: f64,
        flat_out: bool,
    ) -> Result<MappingRates, String> {
        let mut m = 1.0;
        let (mut r, mut exhaust) = self.redelivery(m)?;
        let mut all_busy = false;
        // A send call's messages become visible together: a waiting poller's receive takes
        // up to 10 of them at once.
        let floor = clump.min(10.0).min(self.batch).max(1.0);
        for _ in 0..50 {
            let (m2, busy) = self.batch_size(x * r, pollers, flat_out);
            let m2 = m2.max(floor);
            all_busy = busy;
            let (r2, e2) = self.redelivery(m2)?;
            let done = (m2 - m).abs() < 1e-12 && (r2 - r).abs() < 1e-12;
            m = m2;
            r = r2;
            exhaust = e2;
            if done {
                break;
            }
        }
        let d = x * r;
        let invocations = d / m;
        let per_batch = self.receives_per_batch(m, flat_out);
        let receives = invocations * per_batch;
        let window_end = if self.window > 0.0 && !flat_out && m < self.batch - 0.5 {
            invocations
        } else {
            0.0
        };
        let (kept, any) = self.kept(m);
        let deletes = if any > 0.0 {
            invocations * any * (kept / any / self.delete_batch).ceil().max(1.0)
        } else {
            0.0
        };
        let busy = invocations * self.cycle(m, flat_out);
        let idle = if flat_out {
            0.0
        } else {
            (pollers - busy).max(0.0)
        };
        let poll = self.wait + self.latency;
        let idle_empty = if idle > 0.0 && poll > 0.0 {
            (idle / poll - receives).max(0.0)
        } else {
            0.0
        };
        Ok(MappingRates {
            deliveries: d,
            batch: m,
            invocations,
            receives,
            per_receive: m / per_batch,
            empty_receives: idle_empty + window_end,
            deletes,
            busy,
            concurrency: lambda_concurrency(invocations, self.duration.held_s(m)),
            billed_s: invocations * self.duration.billed_s(m),
            exhausted: x * exhaust,
            all_busy,
        })
    }
}

/// The execution environments a function keeps: the highest concurrency of the last
/// `idle_timeout` (environments idle longer are reclaimed).
pub(crate) struct Warm {
    keep_s: f64,
    recent: VecDeque<(f64, f64)>,
}

impl Warm {
    /// No environment yet for function `spec`.
    pub(crate) fn new(spec: &LambdaSpec) -> Self {
        Warm {
            keep_s: spec.idle_timeout.as_secs_f64(),
            recent: VecDeque::new(),
        }
    }

    /// Environments newly needed for `conc` concurrent executions at time `t`; records it.
    ///
    /// # Formula
    /// `max(0, conc − max{conc(t′) : t − idle_timeout ≤ t′ < t})` (a monotonic queue).
    pub(crate) fn cold_starts(&mut self, t: f64, conc: f64) -> f64 {
        while self
            .recent
            .front()
            .is_some_and(|(t0, _)| *t0 < t - self.keep_s)
        {
            self.recent.pop_front();
        }
        let warm = self.recent.front().map(|(_, c)| *c).unwrap_or(0.0);
        while self.recent.back().is_some_and(|(_, c)| *c <= conc) {
            self.recent.pop_back();
        }
        self.recent.push_back((t, conc));
        (conc - warm).max(0.0)
    }
}

/// One message's latency at low load on function `l`'s path, from its creation at the
/// producer to the end of its (warm, single-record) invocation: the same mechanisms and
/// defaults the simulator uses, drawn once each.
///
/// # Formula
/// * SQS mapping: send leg `A_q/2` (or, fed by an SNS subscription, publish leg `A_t/2` +
///   delivery `D`) + long-poll wake-up `W` + receive response leg `A_q/2` + invoke
///   overhead `O` + duration `S + s′`;
/// * Kinesis polling mapping: put leg `A_k/2`, then the first poll (phase uniform over the
///   1 s interval, every second after it) whose own read lag `R` (drawn per poll) lets it
///   see the record, + response leg `A_k/2` + `O` + `S + s′`;
/// * Kinesis enhanced fan-out: `A_k/2` + push `P` + `O` + `S + s′`;
/// * asynchronous (SNS): `A_t/2` + `D` + `S + s′`.
///
/// `A` is the API round trip of the queue, stream or topic (each half a leg, as the
/// simulator splits it), `S` and `s′` the function's duration and per-record time; a
/// mapping's batching window is added whole (a lone message waits it out). Cold starts,
/// queueing and fuller batches are left out: a low-load figure, as a new user's first
/// test measures. Returns `None` when nothing feeds the function.
pub(crate) fn low_load_latency(arch: &Architecture, l: usize) -> Option<Vec<f64>> {
    let spec = &arch.lambdas[l];
    let mut rng = stream(0, &format!("estimate:latency:{}", spec.name));
    let half = |d: crate::sim::SimDuration| d.half().as_secs_f64();
    let mut out = Vec::with_capacity(LATENCY_DRAWS);
    // What feeds the path: a producer's call, or an SNS subscription (publish + delivery).
    let sub_into = |ep: Endpoint| arch.subscriptions.iter().find(|s| s.endpoint == ep);
    for _ in 0..LATENCY_DRAWS {
        // A lone message waits out the batching window.
        let run = spec.batching_window.as_secs_f64()
            + spec.duration.sample(&mut rng).as_secs_f64()
            + spec.per_record.sample(&mut rng).as_secs_f64();
        let t = match spec.source {
            LambdaSource::Sqs(q) => {
                let queue = &arch.queues[q as usize];
                let fed_directly = arch
                    .producers
                    .iter()
                    .any(|p| p.target == crate::producers::Target::Queue(q));
                let arrive = if fed_directly {
                    half(queue.api_latency.sample(&mut rng))
                } else if let Some(s) = sub_into(Endpoint::Queue(q)) {
                    let topic = &arch.topics[s.topic as usize];
                    half(topic.api_latency.sample(&mut rng))
                        + s.latency.sample(&mut rng).as_secs_f64()
                } else {
                    return None;
                };
                let a = queue.api_latency.sample(&mut rng);
                arrive
                    + spec.poll_wakeup.sample(&mut rng).as_secs_f64()
                    + (a - a.half()).as_secs_f64()
                    + spec.invoke_overhead.sample(&mut rng).as_secs_f64()
                    + run
            }
            LambdaSource::Kinesis(st) => {
                let stream_spec = &arch.streams[st as usize];
                let put = half(stream_spec.api_latency.sample(&mut rng));
                let read = if spec.efo {
                    stream_spec.efo_propagation.sample(&mut rng).as_secs_f64()
                } else {
                    let interval = llim::KINESIS_ESM_POLL_INTERVAL.as_secs_f64();
                    let wait = crate::services::kinesis::estimate::polling_wait(
                        stream_spec,
                        interval,
                        &mut rng,
                    );
                    let a = stream_spec.api_latency.sample(&mut rng);
                    wait + (a - a.half()).as_secs_f64()
                };
                put + read + spec.invoke_overhead.sample(&mut rng).as_secs_f64() + run
            }
            LambdaSource::Async => {
                let s = sub_into(Endpoint::Lambda(l as u32))?;
                let topic = &arch.topics[s.topic as usize];
                half(topic.api_latency.sample(&mut rng))
                    + s.latency.sample(&mut rng).as_secs_f64()
                    + run
            }
        };
        out.push(t);
    }
    out.sort_by(|a, b| a.total_cmp(b));
    Some(out)
}

/// The `q` quantile of sorted `v`.
fn quantile(v: &[f64], q: f64) -> f64 {
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v[i.min(v.len() - 1)]
}

/// Turns the functions' loads into Lambda usage and concurrency rows.
///
/// # Formula
/// `requests = invocations/s × month`; `GB-s = (billed s/s + cold starts/s × E[cold
/// start]) × month × memory_mb / 1,024`. Capacity: the concurrency the offered load needs
/// (Little's law, mean and peak) against the function's limit, and, when functions share
/// the account's unreserved pool, the sum of their peaks against it.
pub(crate) fn finish(cx: &mut Context) {
    let arch = cx.arch;
    let mut unreserved_peak = 0.0;
    let mut unreserved = 0;
    for (l, spec) in arch.lambdas.iter().enumerate() {
        let load = &cx.functions[l];
        let dm = DurationModel::new(spec);
        let billed = load.billed_s + load.cold_starts * dm.cold_start_s;
        cx.usage.lambda.push(LambdaUsage {
            name: spec.name.clone(),
            architecture: match spec.arch {
                Arch::X86 => LambdaArch::X86_64,
                Arch::Arm => LambdaArch::Arm64,
            },
            requests: (load.invocations * cx.month_s).round() as u64,
            extra_requests: (load.extra_requests * cx.month_s).round() as u64,
            gb_seconds: billed * cx.month_s * dm.memory_gb,
        });
        let subscribed = arch
            .subscriptions
            .iter()
            .any(|s| s.endpoint == Endpoint::Lambda(l as u32));
        if spec.source == LambdaSource::Async && !subscribed {
            cx.notes.push(format!(
                "lambda \"{}\": no event source mapping and no SNS subscription invokes it; the estimate bills it nothing",
                spec.name
            ));
        }
        if load.invocations <= 0.0 {
            continue;
        }
        let what = "concurrent executions, mean load (Little's law: invocations/s × mean duration)";
        let peak_what = "concurrent executions at the peak rate";
        let (limit, by) = load
            .limit
            .clone()
            .unwrap_or_else(|| concurrency_limit(arch, spec, None));
        let over = |v: f64| {
            format!(
                "overloaded: the load needs {:.0} concurrent executions, above {by} ({limit:.0}); invocations are throttled and a backlog builds",
                v.ceil()
            )
        };
        cx.capacity.push(Capacity::against(
            "lambda",
            &spec.name,
            what,
            load.concurrency_mean,
            limit,
            over(load.concurrency_mean),
        ));
        if load.concurrency_peak > load.concurrency_mean * (1.0 + 1e-9) {
            cx.capacity.push(Capacity::against(
                "lambda",
                &spec.name,
                peak_what,
                load.concurrency_peak,
                limit,
                over(load.concurrency_peak),
            ));
        }
        if let Some(v) = low_load_latency(arch, l) {
            for (q, name) in [(0.5, "p50"), (0.99, "p99")] {
                cx.capacity.push(Capacity::info(
                    "lambda",
                    &spec.name,
                    format!("latency at low load, {name}, s (creation → end of a warm invocation)"),
                    quantile(&v, q),
                ));
            }
        }
        if spec.reserved_concurrency.is_none() {
            unreserved += 1;
            unreserved_peak += load.concurrency_peak.max(load.concurrency_mean);
        }
    }
    if unreserved > 1 {
        cx.capacity.push(Capacity::against(
            "lambda",
            "(account)",
            "concurrent executions of the functions without reserved concurrency, at their peaks",
            unreserved_peak,
            unreserved_pool(arch),
            "the functions together need more than the account's unreserved concurrency: ask for a quota increase or reserve concurrency",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::{estimate, test_model};

    fn function(body: &str) -> Architecture {
        let body = if body.contains("duration =") {
            body.to_string()
        } else {
            format!("duration = \"100ms\"\n{body}")
        };
        // No invoke overhead: the formulas below are worked with zero latency.
        test_model(&format!(
            "[[queue]]\nname = \"q\"\n[[lambda]]\nname = \"f\"\nsource = \"sqs:q\"\ninvoke_overhead = \"0ms\"\n{body}"
        ))
    }

    #[test]
    fn billed_duration_rounds_each_invocation_up_to_the_millisecond() {
        // Constant times: 100.2 ms → 101 ms; with 0.3 ms a record, 2 records: 100.8 ms →
        // 101 ms, 3 records: 101.1 ms → 102 ms; 2.5 records mixes them: 101.5 ms.
        let arch = function("duration = \"100.2ms\"\nper_record = \"300us\"");
        let d = DurationModel::new(&arch.lambdas[0]);
        assert!((d.billed_s(0.0) - 0.101).abs() < 1e-12);
        assert!((d.billed_s(2.0) - 0.101).abs() < 1e-12);
        assert!((d.billed_s(3.0) - 0.102).abs() < 1e-12);
        assert!((d.billed_s(2.5) - 0.1015).abs() < 1e-12);
        // A timeout caps the billed time: 15 records × 300 us + 100.2 ms = 104.7 ms, but
        // the function stops at its 103 ms timeout.
        let arch = function("duration = \"100.2ms\"\nper_record = \"300us\"\ntimeout = \"103ms\"");
        let d = DurationModel::new(&arch.lambdas[0]);
        assert!((d.billed_s(15.0) - 0.103).abs() < 1e-12);
        // Spread-out times: the fractional millisecond is about uniform, half a millisecond
        // on average: exponential, mean 40 ms → 40.5 ms billed.
        let arch = function("duration = { dist = \"exponential\", mean = \"40ms\" }");
        let d = DurationModel::new(&arch.lambdas[0]);
        assert!((d.billed_s(1.0) - 0.0405).abs() < 1e-12);
        // Narrow ones are drawn: uniform on [10.1, 10.3] ms is always billed 11 ms.
        let arch =
            function("duration = { dist = \"uniform\", min = \"10.1ms\", max = \"10.3ms\" }");
        let d = DurationModel::new(&arch.lambdas[0]);
        assert!((d.billed_s(1.0) - 0.011).abs() < 1e-12);
    }

    #[test]
    fn failed_records_come_back_alone_or_with_their_batch() {
        // f = 0.1, batches of 4. Reported batch item failures: 4 × 0.9 = 3.6 kept, q =
        // 0.1, r = 1/0.9 = 1.1111 receives per message. Whole batches: kept 4 × 0.9⁴ =
        // 2.6244 only when all succeed (0.6561), q = 0.3439, r = 1/0.6561 = 1.5242.
        let arch = function("failure_probability = 0.1\nreport_batch_item_failures = true");
        let m = SqsMappingModel::new(&arch, &arch.lambdas[0], &arch.queues[0], 1024.0);
        assert!((m.kept(4.0).0 - 3.6).abs() < 1e-12);
        assert!((m.redelivery(4.0).unwrap().0 - 1.0 / 0.9).abs() < 1e-12);
        let whole = SqsMappingModel {
            partial: false,
            ..m.clone()
        };
        assert!((whole.kept(4.0).0 - 2.6244).abs() < 1e-12);
        assert!((whole.redelivery(4.0).unwrap().0 - 1.0 / 0.6561).abs() < 1e-12);
        // With a dead-letter queue after 3 receives: r = (1 − q³)/(1 − q) = (1 −
        // 0.040672)/0.6561 = 1.46217, and q³ = 0.040672 of the messages are dead-lettered.
        let dl = SqsMappingModel {
            dead_letter_after: Some(3),
            ..whole
        };
        let (r, ex) = dl.redelivery(4.0).unwrap();
        assert!((r - (1.0 - 0.3439f64.powi(3)) / 0.6561).abs() < 1e-12);
        assert!((ex - 0.3439f64.powi(3)).abs() < 1e-12);
        // FIFO with reported failures: the records before the first failure are kept:
        // 0.9 + 0.81 + 0.729 + 0.6561 = 3.0951.
        let fifo = SqsMappingModel { fifo: true, ..m };
        assert!((fifo.kept(4.0).0 - 3.0951).abs() < 1e-12);
        // Every record failing with no dead-letter queue has no steady state.
        let arch = function("failure_probability = 1.0");
        let m = SqsMappingModel::new(&arch, &arch.lambdas[0], &arch.queues[0], 1024.0);
        assert!(m.redelivery(1.0).is_err());
    }

    #[test]
    fn batches_grow_only_when_every_poller_is_busy() {
        // Zero latency, 100 ms + 10 ms a record. 100 deliveries/s to 5 pollers: a = 20/s
        // each, m = a·L₀/(1 − a·s′) = 20 × 0.1 / (1 − 20 × 0.01) = 2.5 per invocation.
        let arch = function("duration = \"100ms\"\nper_record = \"10ms\"");
        let m = SqsMappingModel::new(&arch, &arch.lambdas[0], &arch.queues[0], 1024.0);
        let (b, busy) = m.batch_size(100.0, 5.0, false);
        assert!((b - 2.5).abs() < 1e-12 && busy);
        // 20 pollers: a = 5/s, m = 0.5/0.95 < 1: each arrival finds a poller waiting.
        assert_eq!(m.batch_size(100.0, 20.0, false), (1.0, false));
        // Flat out: one receive's worth, 10.
        assert_eq!(m.batch_size(100.0, 5.0, true), (10.0, true));
        // Left to scale, the pollers settle where one message per invocation keeps them
        // busy: 100/s × 110 ms = 11.
        assert!((m.steady_pollers(100.0) - 11.0).abs() < 1e-9);
    }

    #[test]
    fn idle_pollers_make_empty_receives() {
        // 0.1 message/s, zero latency, 100 ms invocations: 5 pollers, 0.01 busy; the 4.99
        // idle ones poll every 20 s = 0.2495/s, of which 0.1/s find the message: 0.1495
        // empty receives/s. At 1 message/s they find messages faster than they time out:
        // none.
        let arch = function("duration = \"100ms\"");
        let m = SqsMappingModel::new(&arch, &arch.lambdas[0], &arch.queues[0], 1024.0);
        let r = m.rates(0.1, m.steady_pollers(0.1), 1.0, false).unwrap();
        assert!(
            (r.empty_receives - 0.1495).abs() < 1e-12,
            "{}",
            r.empty_receives
        );
        assert!((r.invocations - 0.1).abs() < 1e-12);
        let r = m.rates(1.0, m.steady_pollers(1.0), 1.0, false).unwrap();
        assert_eq!(r.empty_receives, 0.0);
    }

    #[test]
    fn concurrency_rows_compare_littles_law_with_the_limits() {
        // 100 messages/s of 200 ms each (and a 50 ms invoke overhead, which holds the
        // slot too), one at a time: 100 × 0.25 = 25 concurrent executions, over a
        // reserved concurrency of 10.
        let arch = test_model(
            r#"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "constant", rate_per_s = 100 }
[[queue]]
name = "q"
[[lambda]]
name = "f"
source = "sqs:q"
duration = "200ms"
invoke_overhead = "50ms"
reserved_concurrency = 10
"#,
        );
        let e = estimate(&arch, 730.0).unwrap();
        let c = e
            .capacity
            .iter()
            .find(|c| c.service == "lambda" && c.component == "f")
            .unwrap();
        assert_eq!(c.limit, Some(10.0));
        assert!((c.value - 25.0).abs() < 1e-6, "{}", c.value);
        assert!(c.verdict.starts_with("overloaded"), "{}", c.verdict);
        // Two functions without reservations share the account's 1,000.
        let two = test_model(
            r#"
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "constant", rate_per_s = 100 }
[[producer]]
name = "p2"
target = "sqs:q2"
load = { process = "constant", rate_per_s = 100 }
[[queue]]
name = "q"
[[queue]]
name = "q2"
[[lambda]]
name = "f"
source = "sqs:q"
duration = "200ms"
invoke_overhead = "0ms"
[[lambda]]
name = "g"
source = "sqs:q2"
duration = "300ms"
invoke_overhead = "0ms"
"#,
        );
        let e = estimate(&two, 730.0).unwrap();
        let acct = e
            .capacity
            .iter()
            .find(|c| c.component == "(account)")
            .unwrap();
        // 20 + 30 = 50 of 1,000.
        assert!((acct.value - 50.0).abs() < 1e-6, "{}", acct.value);
        assert_eq!(acct.limit, Some(1000.0));
    }

    #[test]
    fn environments_are_cold_only_above_the_recent_peak() {
        // Environments idle 600 s are reclaimed: 3 concurrent at t = 0 (3 cold), 2 at t =
        // 100 (none), 5 at t = 200 (2 more), 4 at t = 900: the 5 of t = 200 have been idle
        // longer than 600 s, so all 4 are cold.
        let arch = function("idle_timeout = \"10m\"");
        let mut w = Warm::new(&arch.lambdas[0]);
        assert_eq!(w.cold_starts(0.0, 3.0), 3.0);
        assert_eq!(w.cold_starts(100.0, 2.0), 0.0);
        assert_eq!(w.cold_starts(200.0, 5.0), 2.0);
        assert_eq!(w.cold_starts(900.0, 4.0), 4.0);
    }
}
