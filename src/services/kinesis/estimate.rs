//! Kinesis data streams in the estimate: what producers write (shard-hours or
//! stream-hours, PUT payload units, GB in with each record rounded up to 1 KB), what
//! consumer applications and Lambda mappings read (GB out, enhanced fan-out
//! consumer-shard-hours and GB), retention, and the Lambda invocations a mapping makes.
//!
//! The Lambda mapping follows the simulator (`engine::kinesis_lambda`): once a second per
//! shard it fetches what arrived, spreads it evenly over the shard's
//! `parallelization_factor` lanes, and each lane invokes the function on batches of up to
//! `batch_size` records.

use crate::estimate::capacity::{lambda_concurrency, Capacity};
use crate::estimate::sizes::{chunks, key_lengths, key_probabilities, Part, SizeMix};
use crate::estimate::{load_rates, poisson_mean, Context, LoadRates};
use crate::input::error::{FieldPath, Invalid};
use crate::load::Arrival;
use crate::load::SizeDist;
use crate::pricing::BYTES_PER_GB;
use crate::producers::{ProducerSpec, Target};
use crate::services::kinesis::bill::{retention_gb_hours, shard_hour_usage, StreamMode};
use crate::services::kinesis::consumer::{ReadMode, StreamConsumerSpec};
use crate::services::kinesis::limits::{
    KPL_AGGREGATED_PARTITION_KEY_BYTES, KPL_FIXED_OVERHEAD_BYTES,
};
use crate::services::kinesis::producer::{key_entry_bytes, user_entry_bytes, RANDOM_KEY_LEN};
use crate::services::kinesis::{hash, CapacityMode, KinesisUsageCounters, ReshardOp, StreamSpec};
use crate::services::lambda::estimate::{concurrency_limit, DurationModel, FunctionLoad, Warm};
use crate::services::lambda::limits::KINESIS_ESM_POLL_INTERVAL;
use crate::services::lambda::{LambdaSource, LambdaSpec};

/// Estimates every stream of the model: pushes its usage and capacity rows, and the
/// invocations of its Lambda mappings onto their functions. See [`estimate_stream`].
pub(crate) fn estimate_streams(cx: &mut Context) -> Result<(), Invalid> {
    for s in 0..cx.arch.streams.len() {
        estimate_stream(cx, s)?;
    }
    Ok(())
}

/// Lengths of the partition keys of producer `p`'s records, as `(bytes, probability)`.
///
/// # Formula
/// Random (UUID) keys: 36 bytes. Keys drawn from a distribution: `{prefix}{id + 1}`, see
/// [`key_lengths`].
fn key_lens(p: &ProducerSpec) -> Vec<(u64, f64)> {
    match &p.keys {
        None => vec![(RANDOM_KEY_LEN as u64, 1.0)],
        Some(k) => key_lengths(k, &p.key_prefix),
    }
}

/// Share of producer `p`'s records that each of `n` shards with even hash-key ranges gets.
///
/// # Formula
/// Random keys, or more than 2²⁰ keys: `1/n` each. Otherwise each key's probability goes
/// to the shard whose range holds the MD5 of its text, as Kinesis routes it.
pub(crate) fn shard_shares(p: &ProducerSpec, n: u32) -> Vec<f64> {
    let n = n.max(1);
    let uniform = vec![1.0 / n as f64; n as usize];
    let Some(keys) = &p.keys else {
        return uniform;
    };
    if n == 1 {
        return uniform;
    }
    let Some(probs) = key_probabilities(keys) else {
        return uniform;
    };
    let starts: Vec<u128> = (0..n).map(|i| hash::even_start(i, n)).collect();
    let mut shares = vec![0.0; n as usize];
    let mut buf = String::new();
    for (id, q) in probs.iter().enumerate() {
        let h = hash::hash_generated(&p.key_prefix, id as u32, &mut buf);
        let i = starts.partition_point(|s| *s <= h).saturating_sub(1);
        shares[i] += q;
    }
    shares
}

/// The Kinesis records an aggregating producer writes (KPL-style aggregation, see
/// `services::kinesis::producer`): `(Kinesis records per user record, size of a Kinesis
/// record's data)`, or None for a producer that does not aggregate.
///
/// # Formula
/// Per shard `s` (share `q_s` of the user records, [`shard_shares`]) the user rate is
/// `λ_s = λ q_s`. An aggregate opens at a user record and is sealed `T = max_buffered`
/// later, so by time it holds `k_T = 1 + λ_s T`; by size `k_B = ⌊(max_bytes − 20 − D·e_k)
/// ÷ e_u⌋` user records, with `e_u` the bytes of a user entry of the mean size
/// ([`user_entry_bytes`]), `e_k` of a key-table entry of the mean key length and `D` the
/// distinct keys among `k` draws from `K_s = K q_s` keys, `K_s (1 − (1 − 1/K_s)^k)`
/// (uniform keys; `D = k` for random keys); and at most `max_records`. `k_s = max(1,
/// min(k_T, k_B, max_records))`; Kinesis records per user record `Σ q_s ÷ k_s`; size
/// `20 + k e_u + D e_k` at the rate-weighted mean `k`, or the user record's when `k = 1`.
/// A mean-value approximation: with Poisson arrivals `k_T` is exact in mean, and
/// aggregates near `k_B` are sealed a little below it.
pub(crate) fn aggregate_shape(p: &ProducerSpec, user_rate: f64, n: u32) -> Option<(f64, SizeDist)> {
    let agg = p.aggregation?;
    let shares = shard_shares(p, n);
    let single = SizeMix {
        parts: vec![Part {
            weight: 1.0,
            size: &p.size,
            keys: vec![(0, 1.0)],
        }],
    };
    let mean_size = single.mean_bytes().max(1.0);
    let lens = key_lens(p);
    let key_len: f64 = lens.iter().map(|(l, q)| *l as f64 * q).sum();
    let e_u = user_entry_bytes(mean_size.round() as u64, 0) as f64;
    let e_k = key_entry_bytes(key_len.round() as u64) as f64;
    let keys = p.keys.as_ref().map(|k| k.keys() as f64);
    let room = agg.max_bytes as f64 - KPL_FIXED_OVERHEAD_BYTES as f64;
    let distinct = |k: f64, ks: f64| match keys {
        None => k,
        Some(_) if ks <= 1.0 => 1.0,
        Some(_) => ks * (1.0 - (1.0 - 1.0 / ks).powf(k)),
    };
    let t = agg.max_buffered.as_secs_f64();
    let (mut per_user, mut k_sum, mut w_sum) = (0.0, 0.0, 0.0);
    for q in shares.iter().copied().filter(|q| *q > 0.0) {
        let ks = keys.map(|k| k * q).unwrap_or(f64::INFINITY);
        let k_time = 1.0 + user_rate * q * t;
        // Largest k whose aggregate fits (the key table grows with k).
        let mut k_bytes = (room / (e_u + e_k)).floor().max(1.0);
        while k_bytes + 1.0 <= room / e_u
            && (k_bytes + 1.0) * e_u + distinct(k_bytes + 1.0, ks) * e_k <= room
        {
            k_bytes += 1.0;
            if k_bytes > 1e7 {
                break;
            }
        }
        let k = k_time.min(k_bytes).min(agg.max_records as f64).max(1.0);
        per_user += q / k;
        // Kinesis records of this shard, per user record: weight of its aggregates.
        k_sum += (q / k) * k;
        w_sum += q / k;
    }
    let k = if w_sum > 0.0 { k_sum / w_sum } else { 1.0 };
    if k <= 1.0 + 1e-9 {
        return None;
    }
    let keys_in = distinct(
        k,
        keys.map(|kk| kk / n.max(1) as f64).unwrap_or(f64::INFINITY),
    );
    let bytes = KPL_FIXED_OVERHEAD_BYTES as f64 + k * e_u + keys_in * e_k;
    Some((per_user, SizeDist::constant(bytes.round() as u64)))
}

/// Open shards of a provisioned stream `t` seconds after the start, by its resharding
/// schedule.
fn open_at(spec: &StreamSpec, t: f64) -> f64 {
    let mut n = spec.shards.max(1) as i64;
    for r in &spec.reshards {
        if r.at.as_secs_f64() > t {
            break;
        }
        n = match r.op {
            ReshardOp::UpdateShardCount(m) => m.max(1) as i64,
            ReshardOp::Split(_) => n + 1,
            ReshardOp::Merge(..) => (n - 1).max(1),
        };
    }
    n as f64
}

/// Mean open shards of a provisioned stream over `[from, to)`, s.
///
/// # Formula
/// `Σ open shards × time between schedule changes ÷ (to − from)`.
pub(crate) fn mean_open_shards(spec: &StreamSpec, from: f64, to: f64) -> f64 {
    if to <= from {
        return open_at(spec, from);
    }
    let mut cuts: Vec<f64> = spec
        .reshards
        .iter()
        .map(|r| r.at.as_secs_f64())
        .filter(|t| *t > from && *t < to)
        .collect();
    cuts.insert(0, from);
    cuts.push(to);
    cuts.windows(2)
        .map(|w| open_at(spec, w[0]) * (w[1] - w[0]))
        .sum::<f64>()
        / (to - from)
}

/// Shards an on-demand stream grows to for a peak write load.
///
/// # Formula
/// On-demand splits every shard whose write throughput exceeds half a shard's limit
/// (500 KB/s, or 500 records/s): from the initial shards `n`, double `n` while `peak
/// bytes/s ÷ n` or `peak records/s ÷ n` is above that, up to the stream's most shards.
pub(crate) fn on_demand_shards(spec: &StreamSpec, peak_records: f64, peak_bytes: f64) -> f64 {
    let lim = &spec.limits;
    let split_bytes = lim.on_demand_split_bytes_per_s.0 as f64;
    let split_records = lim.shard_write_records_per_s as f64 / 2.0;
    let max = spec.max_shards.max(1) as f64;
    let mut n = spec.shards.max(1) as f64;
    while n < max && (peak_bytes / n > split_bytes || peak_records / n > split_records) {
        n = (n * 2.0).min(max);
    }
    n
}

/// A Lambda function's event source mapping on a stream, independent of the load.
#[derive(Clone, Debug)]
pub(crate) struct KinesisMappingModel {
    /// Lanes per shard (`parallelization_factor`).
    pub(crate) lanes: u64,
    /// Records per invocation at most: the batch size, and no more than the 6 MB
    /// synchronous payload holds of records of the mean size.
    pub(crate) batch: u64,
    /// Batching window, s.
    pub(crate) window: f64,
    /// Time between two polls of a shard (a push for enhanced fan-out), s.
    pub(crate) poll: f64,
    /// Probability that one record fails.
    pub(crate) f: f64,
    /// Failed batches are retried from the failed record.
    pub(crate) partial: bool,
    /// Failed batches are split in two.
    pub(crate) bisect: bool,
    /// Retries of a failed batch at most (`None`: until the records expire).
    pub(crate) max_retries: Option<u32>,
    /// Durations.
    pub(crate) duration: DurationModel,
}

/// Per-second rates of a Kinesis mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct KinesisMappingRates {
    /// Invocations per second, retries included.
    pub(crate) invocations: f64,
    /// Records processed per second, retries included.
    pub(crate) records: f64,
    /// Billed seconds per second.
    pub(crate) billed_s: f64,
    /// Concurrent executions (mean).
    pub(crate) concurrency: f64,
}

impl KinesisMappingModel {
    /// Time between two fetches of a shard, s: the 1 s poll interval of a polling
    /// mapping. An enhanced fan-out mapping is pushed, as soon as its last invocation
    /// ended, the records put up to one propagation delay before: while records keep
    /// coming, a push follows each invocation, so the cycle is the time an invocation
    /// holds the lane (of one record: the push is not waited for). At low rates each
    /// record comes alone, whatever the cycle.
    fn cycle_s(spec: &LambdaSpec) -> f64 {
        if spec.efo {
            DurationModel::new(spec).held_s(1.0).max(1e-3)
        } else {
            KINESIS_ESM_POLL_INTERVAL.as_secs_f64()
        }
    }

    /// The mapping of `spec`, on records of `mean_bytes` bytes.
    pub(crate) fn new(
        arch: &crate::model::Architecture,
        spec: &LambdaSpec,
        mean_bytes: f64,
    ) -> Self {
        let by_payload = (arch.limits.lambda.max_sync_payload_bytes as f64 / mean_bytes.max(1.0))
            .floor()
            .max(1.0) as u64;
        KinesisMappingModel {
            lanes: spec.parallelization_factor.max(1) as u64,
            batch: (spec.batch_size.max(1) as u64).min(by_payload),
            window: spec.batching_window.as_secs_f64(),
            poll: Self::cycle_s(spec),
            f: spec.failure_probability.clamp(0.0, 1.0),
            partial: spec.report_batch_item_failures,
            bisect: spec.bisect_on_error,
            max_retries: spec.maximum_retry_attempts,
            duration: DurationModel::new(spec),
        }
    }

    /// Invocations of one shard's lanes on `n` records fetched together, and their billed
    /// seconds.
    ///
    /// # Formula
    /// The records are spread evenly over the `F` lanes (`n mod F` lanes get one more) and
    /// each lane invokes on batches of up to `B`: a lane of `q` records makes `⌊q/B⌋`
    /// batches of `B` and one of `q mod B` if any, so `r·ceil((q + 1)/B) + (F − r)·ceil(q/B)`
    /// invocations with `q = ⌊n/F⌋`, `r = n mod F`; billed seconds add
    /// [`DurationModel::billed_s`] of each batch's size.
    pub(crate) fn invocations_of(&self, n: u64) -> (u64, f64) {
        let (q, r) = (n / self.lanes, n % self.lanes);
        let lane = |k: u64| -> (u64, f64) {
            let (full, rest) = (k / self.batch, k % self.batch);
            let mut billed = full as f64 * self.duration.billed_s(self.batch as f64);
            if rest > 0 {
                billed += self.duration.billed_s(rest as f64);
            }
            (full + u64::from(rest > 0), billed)
        };
        let (i1, b1) = lane(q + 1);
        let (i0, b0) = lane(q);
        (
            r * i1 + (self.lanes - r) * i0,
            r as f64 * b1 + (self.lanes - r) as f64 * b0,
        )
    }

    /// Polls whose records a lane gathers into one round of batches: 1, or with a
    /// batching window `W` at least one poll interval `P` long, `⌊W/P⌋ + 1`.
    pub(crate) fn polls_per_round(&self) -> f64 {
        if self.window >= self.poll && self.poll > 0.0 {
            (self.window / self.poll).floor() + 1.0
        } else {
            1.0
        }
    }

    /// Expected invocations per poll of a shard that gets `rate` records per second, and
    /// their billed seconds.
    ///
    /// # Formula
    /// A round gathers `j` polls ([`Self::polls_per_round`]; 1 without a batching window
    /// or with one shorter than the 1 s poll interval, when every lane invokes what each
    /// poll brought before the next one). Its records `N` are Poisson with mean `rate × P ×
    /// j` (random keys, several producers or shards), or that mean exactly, mixing its
    /// floor and ceiling, when `evenly_spaced`; `E[invocations_of(N)] ÷ j`. With `j > 1`
    /// this approximates lanes that fill a batch before their window closes.
    pub(crate) fn per_poll(&self, rate: f64, evenly_spaced: bool) -> (f64, f64) {
        let j = self.polls_per_round();
        let mu = rate * self.poll * j;
        if mu <= 0.0 {
            return (0.0, 0.0);
        }
        let at = |n: u64| {
            let (i, b) = self.invocations_of(n);
            (i as f64, b)
        };
        let (inv, billed) = if evenly_spaced {
            let lo = mu.floor();
            let w = mu - lo;
            let (i0, b0) = at(lo as u64);
            let (i1, b1) = at(lo as u64 + 1);
            ((1.0 - w) * i0 + w * i1, (1.0 - w) * b0 + w * b1)
        } else {
            (poisson_mean(mu, |n| at(n).0), poisson_mean(mu, |n| at(n).1))
        };
        (inv / j, billed / j)
    }

    /// Extra invocations a batch of `k` records makes after failures, and the records each
    /// retry carries.
    ///
    /// # Formula
    /// A batch fails with `q = 1 − (1 − f)^k` and is retried until it succeeds, at most
    /// `M` times: `Σ_{i=1..M} q^i` extra invocations (`q/(1 − q)` without a limit). A retry
    /// carries the whole batch, or about half of it when the function reports batch item
    /// failures (the retry starts at the failed record) or bisects failed batches.
    pub(crate) fn retries(&self, k: f64) -> Result<(f64, f64), String> {
        let q = 1.0 - (1.0 - self.f).powf(k.max(1.0));
        if q <= 0.0 {
            return Ok((0.0, 0.0));
        }
        let extra = match self.max_retries {
            Some(m) if q >= 1.0 => m as f64,
            Some(m) => q * (1.0 - q.powi(m as i32)) / (1.0 - q),
            None if q >= 1.0 => {
                return Err("every batch fails and maximum_retry_attempts is not set: the mapping retries each batch until its records expire; the steady state is not defined".into());
            }
            None => q / (1.0 - q),
        };
        let carried = if self.partial || self.bisect {
            (k / 2.0).max(1.0)
        } else {
            k
        };
        Ok((extra, carried))
    }

    /// Rates of the mapping on shards receiving `shard_rates` records per second each.
    ///
    /// # Formula
    /// First attempts: `Σ_shards per_poll(rate) / P` invocations of `k = records /
    /// invocations` records on average, and their billed seconds; plus
    /// [`Self::retries`] of `k`. Concurrency `Σ invocations × E[duration]` (Little's law).
    pub(crate) fn rates(
        &self,
        shard_rates: &[f64],
        evenly_spaced: bool,
    ) -> Result<KinesisMappingRates, String> {
        let records: f64 = shard_rates.iter().sum();
        let (mut first, mut billed) = (0.0, 0.0);
        // Shards of equal shares (on demand, thousands of them) have equal rates: one
        // Poisson sum serves a run of them.
        let mut last: Option<(f64, (f64, f64))> = None;
        for r in shard_rates {
            let (i, b) = match last {
                Some((lr, v)) if lr == *r => v,
                _ => {
                    let v = self.per_poll(*r, evenly_spaced);
                    last = Some((*r, v));
                    v
                }
            };
            first += i / self.poll;
            billed += b / self.poll;
        }
        if first <= 0.0 {
            return Ok(KinesisMappingRates::default());
        }
        let k = records / first;
        let (extra, carried) = self.retries(k)?;
        let retries = first * extra;
        Ok(KinesisMappingRates {
            invocations: first + retries,
            records: records + retries * carried,
            billed_s: billed + retries * self.duration.billed_s(carried),
            concurrency: lambda_concurrency(first, self.duration.held_s(k))
                + lambda_concurrency(retries, self.duration.held_s(carried)),
        })
    }

    /// Most records per second one shard's lanes can process, with full batches.
    ///
    /// # Formula
    /// `F × B ÷ (E[invoke_overhead] + E[duration](B))`.
    pub(crate) fn shard_capacity(&self) -> f64 {
        let d = self.duration.held_s(self.batch as f64);
        if d > 0.0 {
            self.lanes as f64 * self.batch as f64 / d
        } else {
            f64::INFINITY
        }
    }
}

/// What happens to one stream over the window, as means per second.
#[derive(Default)]
struct Flow {
    offered: f64,
    accepted: f64,
    open_shards: f64,
}

/// The components around one stream.
struct Parts<'a> {
    /// Its producers.
    producers: Vec<&'a ProducerSpec>,
    /// Its consumer applications.
    consumers: Vec<&'a StreamConsumerSpec>,
    /// Enhanced fan-out readers: consumers and Lambda mappings with `consumer = "efo"`
    /// (registered consumers, billed per consumer-shard-hour and GB pushed).
    efo: f64,
    /// The Lambda functions mapped on it (indices in `arch.lambdas`).
    mappings: Vec<usize>,
    /// Shared-throughput readers: polling consumers and polling Lambda mappings.
    shared: f64,
}

/// The producers, consumers and Lambda mappings of stream `s`.
fn parts(arch: &crate::model::Architecture, s: usize) -> Parts<'_> {
    let producers: Vec<&ProducerSpec> = arch
        .producers
        .iter()
        .filter(|p| p.target == Target::Stream(s as u32))
        .collect();
    let consumers: Vec<&StreamConsumerSpec> = arch
        .stream_consumers
        .iter()
        .filter(|c| c.stream == s as u32)
        .collect();
    let efo = consumers.iter().filter(|c| c.mode == ReadMode::Efo).count() as f64;
    let polling = consumers
        .iter()
        .filter(|c| c.mode == ReadMode::Polling)
        .count();
    let mappings: Vec<usize> = arch
        .lambdas
        .iter()
        .enumerate()
        .filter(|(_, l)| l.source == LambdaSource::Kinesis(s as u32))
        .map(|(i, _)| i)
        .collect();
    let efo_mappings = mappings.iter().filter(|&&l| arch.lambdas[l].efo).count();
    let shared = (polling + mappings.len() - efo_mappings) as f64;
    Parts {
        producers,
        consumers,
        efo: efo + efo_mappings as f64,
        mappings,
        shared,
    }
}

/// The Kinesis records of a stream's producers.
struct Records {
    /// Kinesis records per user record, per producer (below 1 when it aggregates).
    per_user: Vec<f64>,
    /// Kinesis records per second, mean and peak, per producer.
    rates: Vec<LoadRates>,
    /// Mean bytes of a record (data and partition key).
    bytes: f64,
    /// Mean PUT payload units of a record.
    units: f64,
    /// Mean on-demand billed bytes of a record (rounded up to 1 KB).
    billed: f64,
}

/// The records the producers of stream `spec` write: sizes with their partition keys. An
/// aggregating producer writes fewer, larger Kinesis records (see [`aggregate_shape`]):
/// its rates are scaled by Kinesis records per user record and its sizes are those of its
/// aggregates.
///
/// # Formula
/// Mean bytes `b` of the rate-weighted mix of sizes and keys; PUT payload units
/// `E[max(1, ceil(bytes / 25 KB))]`, billed bytes `E[ceil(bytes / 1 KB)] × 1 KB`.
fn records(
    arch: &crate::model::Architecture,
    spec: &StreamSpec,
    producers: &[&ProducerSpec],
) -> Records {
    let lim = &spec.limits;
    let user_rates: Vec<_> = producers
        .iter()
        .map(|p| load_rates(&p.arrival, arch))
        .collect();
    let n_shards = spec.shards.max(1);
    let shapes: Vec<Option<(f64, SizeDist)>> = producers
        .iter()
        .zip(&user_rates)
        .map(|(p, r)| aggregate_shape(p, r.mean_per_s, n_shards))
        .collect();
    let per_user: Vec<f64> = shapes
        .iter()
        .map(|s| s.as_ref().map(|(f, _)| *f).unwrap_or(1.0))
        .collect();
    let rates: Vec<_> = user_rates
        .iter()
        .zip(&per_user)
        .map(|(r, f)| {
            let mut r = *r;
            r.mean_per_s *= f;
            r.peak_per_s *= f;
            r
        })
        .collect();
    let mix = SizeMix {
        parts: producers
            .iter()
            .zip(&rates)
            .zip(&shapes)
            .map(|((p, r), shape)| Part {
                weight: r.mean_per_s.max(1e-12),
                size: match shape {
                    Some((_, d)) => d,
                    None => &p.size,
                },
                keys: match shape {
                    Some(_) => vec![(KPL_AGGREGATED_PARTITION_KEY_BYTES, 1.0)],
                    None => key_lens(p),
                },
            })
            .collect(),
    };
    let unit = lim.put_payload_unit.0.max(1);
    let kb = lim.on_demand_billing_unit.0.max(1);
    let bytes = mix.mean_bytes();
    let [units, billed] = if producers.is_empty() {
        [0.0; 2]
    } else {
        mix.mean_of(&format!("estimate:record:{}", spec.name), |b| {
            [chunks(b, unit) as f64, (chunks(b, kb) * kb) as f64]
        })
    };
    Records {
        per_user,
        rates,
        bytes,
        units,
        billed,
    }
}

/// Share of the records each of the `n0` initial shards gets: each producer's
/// [`shard_shares`] weighted by its mean rate (even shares without producers).
fn initial_shares(producers: &[&ProducerSpec], rates: &[LoadRates], n0: u32) -> Vec<f64> {
    let total_mean: f64 = rates.iter().map(|r| r.mean_per_s).sum();
    let mut shares = vec![0.0; n0 as usize];
    for (p, r) in producers.iter().zip(rates) {
        let w = if total_mean > 0.0 {
            r.mean_per_s / total_mean
        } else {
            1.0 / producers.len() as f64
        };
        for (a, b) in shares.iter_mut().zip(shard_shares(p, n0)) {
            *a += w * b;
        }
    }
    if producers.is_empty() {
        shares = vec![1.0 / n0 as f64; n0 as usize];
    }
    shares
}

/// What the grid loop of a stream needs besides its parts and records.
struct Plan {
    /// Initial shards.
    n0: u32,
    /// Share of the records of each initial shard ([`initial_shares`]).
    shares: Vec<f64>,
    /// Peak records/s, all producers.
    peak: f64,
    /// Shards an on-demand stream grows to ([`on_demand_shards`]).
    od_shards: f64,
    /// Records arrive evenly spaced at the only shard.
    evenly_spaced: bool,
    /// Records/s a provisioned shard accepts.
    write_cap: f64,
    /// The Lambda mappings' models (as `Parts::mappings`).
    models: Vec<KinesisMappingModel>,
}

/// The [`Plan`] of stream `spec`, and the notes it calls for (on-demand shards counted
/// from the start; an even spread after resharding).
fn plan(cx: &mut Context, spec: &StreamSpec, parts: &Parts, rec: &Records) -> Plan {
    let arch = cx.arch;
    let lim = &spec.limits;
    let producers = &parts.producers;
    let n0 = spec.shards.max(1);
    let shares = initial_shares(producers, &rec.rates, n0);
    let peak: f64 = rec.rates.iter().map(|r| r.peak_per_s).sum();
    let od_shards = on_demand_shards(spec, peak, peak * rec.bytes);
    if spec.mode.on_demand() {
        cx.notes.push(format!(
            "stream \"{}\" ({}): about {od_shards} shards at the peak (each shard at most half busy), counted from the start of the window; the simulation starts from {} and splits as the load asks",
            spec.name,
            spec.mode.as_str(),
            spec.shards
        ));
    }
    if !spec.reshards.is_empty() && producers.iter().any(|p| p.keys.is_some()) {
        cx.notes.push(format!(
            "stream \"{}\": after resharding, the estimate spreads the records evenly over the open shards",
            spec.name
        ));
    }
    let evenly_spaced = n0 == 1
        && spec.reshards.is_empty()
        && !producers.is_empty()
        && producers
            .iter()
            .all(|p| matches!(p.arrival, Arrival::Constant { .. }));
    let write_cap = (lim.shard_write_records_per_s as f64)
        .min(lim.shard_write_bytes_per_s.0 as f64 / rec.bytes.max(1.0));
    let models = parts
        .mappings
        .iter()
        .map(|&l| KinesisMappingModel::new(arch, &arch.lambdas[l], rec.bytes))
        .collect();
    Plan {
        n0,
        shares,
        peak,
        od_shards,
        evenly_spaced,
        write_cap,
        models,
    }
}

/// What the Lambda mappings of a stream do over the window.
struct MappingFlow {
    /// Per mapping: invocations, records, billed seconds and concurrency, averaged over
    /// the window (the peak concurrency of time-varying loads in `concurrency_peak`).
    avg: Vec<FunctionLoad>,
    /// Per mapping: cold starts in the measured window.
    cold: Vec<f64>,
}

/// Follows stream `spec` over the grid: offered and accepted records, open shards, and
/// its Lambda mappings' rates.
///
/// # Formula
/// Per step: offered records/s `λ = Σ producers`; accepted `Σ_shards min(λ × share, shard
/// limit)` on a provisioned stream (open shards by the resharding schedule; shares by the
/// keys' hashes while the initial shards are open, even otherwise), all of it on demand.
/// Mappings: [`KinesisMappingModel::rates`] on the per-shard accepted rates.
fn flow(
    cx: &Context,
    spec: &StreamSpec,
    parts: &Parts,
    rec: &Records,
    plan: &Plan,
) -> Result<(Flow, MappingFlow), Invalid> {
    let arch = cx.arch;
    let grid = cx.grid;
    let mappings = &parts.mappings;
    let on_demand = spec.mode.on_demand();
    let mut warm: Vec<Warm> = mappings
        .iter()
        .map(|&l| Warm::new(&arch.lambdas[l]))
        .collect();
    let mut lambdas = MappingFlow {
        avg: vec![FunctionLoad::default(); mappings.len()],
        cold: vec![0.0; mappings.len()],
    };
    let mut flow = Flow::default();
    let (warmup, horizon) = (arch.warmup.as_secs_f64(), arch.horizon().as_secs_f64());
    let duration_s = arch.duration.as_secs_f64();
    for i in 0..grid.steps {
        let step = grid.step(i);
        if step.weight <= 0.0 && !grid.time_varying {
            continue;
        }
        let offered: f64 = parts
            .producers
            .iter()
            .zip(&rec.per_user)
            .map(|(p, f)| grid.rate(&p.arrival, arch, &step) * f)
            .sum();
        let (from_s, to_s) = (step.from.0 as f64 / 1e9, step.to.0 as f64 / 1e9);
        let open = if on_demand {
            plan.od_shards
        } else if grid.time_varying {
            open_at(spec, (from_s + to_s) / 2.0)
        } else {
            mean_open_shards(spec, warmup, horizon)
        };
        let step_shares: Vec<f64> = if !on_demand && (open - plan.n0 as f64).abs() < 1e-9 {
            plan.shares.clone()
        } else {
            let n = open.round().max(1.0);
            vec![1.0 / n; n as usize]
        };
        let shard_rates: Vec<f64> = step_shares
            .iter()
            .map(|sh| {
                let r = offered * sh;
                if on_demand {
                    r
                } else {
                    r.min(plan.write_cap)
                }
            })
            .collect();
        let accepted: f64 = shard_rates.iter().sum();
        flow.offered += offered * step.weight;
        flow.accepted += accepted * step.weight;
        flow.open_shards += open * step.weight;
        let in_window = if step.dt > 0.0 {
            step.weight * duration_s / step.dt
        } else {
            0.0
        };
        for (j, m) in plan.models.iter().enumerate() {
            let l = mappings[j];
            let r = m.rates(&shard_rates, plan.evenly_spaced).map_err(|msg| {
                Invalid::at(
                    &FieldPath::item("lambda", l, &arch.lambdas[l].name)
                        .field("failure_probability"),
                    msg,
                )
            })?;
            let a = &mut lambdas.avg[j];
            a.invocations += r.invocations * step.weight;
            a.records += r.records * step.weight;
            a.billed_s += r.billed_s * step.weight;
            a.concurrency_mean += r.concurrency * step.weight;
            if step.weight > 0.0 {
                a.concurrency_peak = a.concurrency_peak.max(r.concurrency);
            }
            if grid.time_varying {
                lambdas.cold[j] += warm[j].cold_starts(to_s, r.concurrency) * in_window;
            } else if arch.warmup.is_zero() {
                lambdas.cold[j] += r.concurrency.ceil();
            }
        }
    }
    Ok((flow, lambdas))
}

/// Pushes the usage record of stream `spec` over the month.
///
/// # Formula
/// Shard-hours `mean open shards × hours` (provisioned; on demand [`on_demand_shards`],
/// informative) and what follows from them ([`shard_hour_usage`]), PUT units and billed
/// bytes `records × per record`, GB out `records × b × shared readers` (polling consumers
/// and Lambda mappings), enhanced fan-out `records × b × consumers`, retention from
/// [`retention_gb_hours`].
fn push_usage(cx: &mut Context, spec: &StreamSpec, parts: &Parts, rec: &Records, flow: &Flow) {
    let month_s = cx.month_s;
    let month_h = month_s / 3600.0;
    let records = flow.accepted * month_s;
    let bytes_in = records * rec.bytes;
    let retention_h = spec.retention.as_secs_f64() / 3600.0;
    let hours = shard_hour_usage(
        StreamMode::from_key(spec.mode.as_str()),
        flow.open_shards * month_h,
        month_h,
        parts.efo,
        retention_h,
    );
    let (ext, long) = retention_gb_hours(bytes_in / BYTES_PER_GB, retention_h);
    let counters = KinesisUsageCounters {
        name: spec.name.clone(),
        mode: spec.mode.as_str(),
        window_s: month_s,
        shard_hours: hours.shard_hours,
        stream_hours: hours.stream_hours,
        put_payload_units: (records * rec.units).round() as u64,
        bytes_in: bytes_in.round() as u64,
        bytes_in_billed: (records * rec.billed).round() as u64,
        bytes_out: (bytes_in * parts.shared).round() as u64,
        efo_consumers: parts.efo as u32,
        efo_consumer_shard_hours: hours.efo_consumer_shard_hours,
        efo_bytes: (bytes_in * parts.efo).round() as u64,
        retention_hours: retention_h,
        extended_retention_shard_hours: hours.extended_retention_shard_hours,
        extended_retention_gb_hours: ext,
        long_term_retention_gb_hours: long,
        long_term_retrieval_bytes: 0,
    };
    cx.usage.kinesis.push(counters.to_pricing());
}

/// Adds the stream's Lambda mappings' load to their functions.
///
/// # Formula
/// The window's means; cold starts per second of the window; peak concurrency the
/// time-varying peak, else the mean × `peak ÷ offered`. The limit: the concurrent
/// batches, `open shards × parallelization factor`.
fn add_mapping_loads(
    cx: &mut Context,
    parts: &Parts,
    plan: &Plan,
    flow: &Flow,
    lambdas: &MappingFlow,
) {
    let arch = cx.arch;
    let duration_s = arch.duration.as_secs_f64();
    let peak_factor = if flow.offered > 0.0 {
        plan.peak / flow.offered
    } else {
        1.0
    };
    for (j, &l) in parts.mappings.iter().enumerate() {
        let f = &arch.lambdas[l];
        let a = &lambdas.avg[j];
        let load = &mut cx.functions[l];
        load.invocations += a.invocations;
        load.records += a.records;
        load.billed_s += a.billed_s;
        load.cold_starts += if duration_s > 0.0 {
            lambdas.cold[j] / duration_s
        } else {
            0.0
        };
        load.concurrency_mean += a.concurrency_mean;
        load.concurrency_peak += if cx.grid.time_varying {
            a.concurrency_peak
        } else {
            a.concurrency_mean * peak_factor
        };
        let batches = (flow.open_shards * plan.models[j].lanes as f64).max(1.0);
        load.limit = Some(concurrency_limit(
            arch,
            f,
            Some((
                batches,
                "the concurrent batches of the stream (shards × parallelization factor)",
            )),
        ));
    }
}

/// Estimates stream `s`: its usage record, its capacity rows, and its Lambda mappings'
/// invocations.
///
/// # Formula
/// Per step of the grid: offered records/s `λ = Σ producers`; accepted `Σ_shards min(λ ×
/// share, shard limit)` on a provisioned stream (limit `min(1,000 records/s, 1 MiB/s ÷
/// mean record)`; shares by the keys' hashes, [`shard_shares`]), all of it on demand
/// (`flow`). Per record (data + partition key, from the size and key distributions):
/// mean bytes `b` (sizes are whole bytes: a continuous size adds half a byte), PUT payload
/// units `E[max(1, ceil(bytes / 25 KB))]`, billed bytes `E[ceil(bytes / 1 KB)] × 1 KB`
/// (`records`). Over the month: shard-hours `mean open shards × hours` (provisioned; on
/// demand [`on_demand_shards`], informative), stream-hours `hours` (on-demand standard),
/// PUT units and billed bytes `records × per record`, GB out `records × b × shared readers`
/// (polling consumers and Lambda mappings), enhanced fan-out `consumers × shard-hours` and
/// `records × b × consumers`, retention from [`retention_gb_hours`], extended-retention
/// shard-hours = shard-hours above 24 h of retention (`push_usage`). Lambda mappings:
/// [`KinesisMappingModel::rates`] on the per-shard accepted rates.
pub(crate) fn estimate_stream(cx: &mut Context, s: usize) -> Result<(), Invalid> {
    let arch = cx.arch;
    let spec = &arch.streams[s];
    let parts = parts(arch, s);
    let rec = records(arch, spec, &parts.producers);
    let plan = plan(cx, spec, &parts, &rec);
    let (flow, lambdas) = flow(cx, spec, &parts, &rec, &plan)?;
    push_usage(cx, spec, &parts, &rec, &flow);
    add_mapping_loads(cx, &parts, &plan, &flow, &lambdas);
    let load = StreamLoad {
        peak: plan.peak,
        accepted: flow.accepted,
        offered: flow.offered,
        bytes: rec.bytes,
        shared: parts.shared,
        efo: parts.efo,
        hottest_share: plan.shares.iter().cloned().fold(0.0, f64::max),
        od_shards: plan.od_shards,
    };
    stream_capacity(cx, s, &load, &parts, &plan.models);
    Ok(())
}

/// The load figures of a stream that its capacity rows compare with limits.
struct StreamLoad {
    peak: f64,
    accepted: f64,
    offered: f64,
    bytes: f64,
    shared: f64,
    efo: f64,
    hottest_share: f64,
    od_shards: f64,
}

/// The service key of the capacity rows.
const S: &str = "kinesis_data_streams";

/// Capacity rows of stream `s`.
///
/// # Formula
/// Shards needed at the peak by AWS's sizing formula
/// ([`ShardSizing::shards`](crate::services::kinesis::limits::ShardSizing::shards), with the
/// model's per-shard limits and the shared readers); the busiest shard's write use at the
/// peak (`max(records/s ÷ 1,000, bytes/s ÷ 1 MiB)`) ([`shard_rows`]); GetRecords calls per
/// shard (`Σ 1/idle_between_reads + mappings × 1/s` against 5) and enhanced fan-out
/// consumers against the mode's limit ([`reader_rows`]); per consumer and mapping, the
/// busiest shard's records/s against what one lease or a shard's lanes can process
/// ([`lease_rows`]).
fn stream_capacity(
    cx: &mut Context,
    s: usize,
    load: &StreamLoad,
    parts: &Parts,
    models: &[KinesisMappingModel],
) {
    let arch = cx.arch;
    let spec = &arch.streams[s];
    if load.peak > 0.0 {
        shard_rows(cx, spec, load);
    }
    if load.accepted < load.offered * (1.0 - 1e-9) {
        cx.notes.push(format!(
            "stream \"{}\": {:.1} records/s of the {:.1} offered are over the shards' write limits; the estimate bills only the accepted ones (producers retry, then drop)",
            spec.name,
            load.offered - load.accepted,
            load.offered
        ));
    }
    let efo_mapping: Vec<bool> = parts
        .mappings
        .iter()
        .map(|&l| cx.arch.lambdas[l].efo)
        .collect();
    reader_rows(cx, spec, load, &parts.consumers, models, &efo_mapping);
    lease_rows(cx, spec, load, parts, models);
}

/// The rows of the shards of a stream with a peak load: needed at the peak (informative
/// on demand), and on a provisioned stream the busiest shard's write use.
fn shard_rows(cx: &mut Context, spec: &StreamSpec, load: &StreamLoad) {
    let lim = &spec.limits;
    let name = spec.name.as_str();
    let sizing = lim.shard_sizing();
    let needed = sizing.shards(load.peak, load.bytes / 1024.0, load.shared) as f64;
    let what = "shards needed at the peak (AWS's sizing formula)";
    if spec.mode.on_demand() {
        let mut c = Capacity::info(S, name, what, needed);
        c.verdict = format!(
            "on-demand: scales by itself (about {} shards)",
            load.od_shards
        );
        cx.capacity.push(c);
        return;
    }
    cx.capacity.push(Capacity::against(
        S,
        name,
        what,
        needed,
        spec.shards as f64,
        format!(
            "under-provisioned: {} shard(s) configured, {needed} needed (writes or shared reads throttle)",
            spec.shards
        ),
    ));
    let hot = load.peak * load.hottest_share;
    let use_ = (hot / lim.shard_write_records_per_s as f64)
        .max(hot * load.bytes / lim.shard_write_bytes_per_s.0 as f64);
    cx.capacity.push(Capacity::against(
        S,
        name,
        "write use of the busiest shard at the peak (1 = its limit)",
        use_,
        1.0,
        format!(
            "the busiest shard's keys need more than one shard's {}/s or {} records/s: writes throttle (more shards, or keys that spread)",
            lim.shard_write_bytes_per_s, lim.shard_write_records_per_s
        ),
    ));
}

/// The rows of the readers: enhanced fan-out consumers against the mode's limit, and the
/// shared readers' GetRecords calls per shard against the shard's limit.
fn reader_rows(
    cx: &mut Context,
    spec: &StreamSpec,
    load: &StreamLoad,
    consumers: &[&StreamConsumerSpec],
    models: &[KinesisMappingModel],
    efo_mapping: &[bool],
) {
    let lim = &spec.limits;
    let name = spec.name.as_str();
    if load.efo > 0.0 {
        let limit = lim.efo_consumers(spec.mode == CapacityMode::OnDemandAdvantage) as f64;
        cx.capacity.push(Capacity::against(
            S,
            name,
            "enhanced fan-out consumers",
            load.efo,
            limit,
            "over the per-stream limit of registered consumers",
        ));
    }
    if load.shared > 0.0 {
        let calls: f64 = consumers
            .iter()
            .filter(|c| c.mode == ReadMode::Polling)
            .map(|c| 1.0 / c.idle_between_reads.as_secs_f64().max(1e-3))
            .sum::<f64>()
            + models
                .iter()
                .zip(efo_mapping)
                .filter(|(_, efo)| !**efo)
                .map(|(m, _)| 1.0 / m.poll.max(1e-3))
                .sum::<f64>();
        cx.capacity.push(Capacity::against(
            S,
            name,
            "GetRecords calls/s per shard (shared readers)",
            calls,
            lim.shard_read_calls_per_s as f64,
            "the shared readers poll more often than a shard allows: reads throttle (fewer readers, longer idle_between_reads, or enhanced fan-out)",
        ));
    }
}

/// Per consumer and Lambda mapping: the busiest shard's records/s at the peak against
/// what one lease reads and processes (`max_records ÷ cycle`, an enhanced fan-out
/// consumer also bounded by its 2 MiB/s push) or what a shard's lanes process
/// ([`KinesisMappingModel::shard_capacity`]); and each consumer's low-load latency
/// ([`consumer_low_load_latency`]).
fn lease_rows(
    cx: &mut Context,
    spec: &StreamSpec,
    load: &StreamLoad,
    parts: &Parts,
    models: &[KinesisMappingModel],
) {
    let arch = cx.arch;
    let lim = &spec.limits;
    let shards = if spec.mode.on_demand() {
        load.od_shards
    } else {
        spec.shards.max(1) as f64
    };
    let busiest = if spec.mode.on_demand() {
        load.peak / shards
    } else {
        load.peak * load.hottest_share
    };
    let latency = spec.api_latency.mean_s();
    for c in &parts.consumers {
        let n = c.max_records.max(1) as f64;
        let work = c.per_batch.mean_s() + n * c.service_time.mean_s();
        let cycle = match c.mode {
            ReadMode::Polling => c.idle_between_reads.as_secs_f64().max(latency + work),
            ReadMode::Efo => work,
        };
        let mut cap = if cycle > 0.0 {
            n / cycle
        } else {
            f64::INFINITY
        };
        if c.mode == ReadMode::Efo && load.bytes > 0.0 {
            cap = cap.min(lim.efo_bytes_per_s.0 as f64 / load.bytes);
        }
        cx.capacity.push(Capacity::against(
            S,
            &c.name,
            "records/s of the busiest shard at the peak vs what one lease reads and processes",
            busiest,
            cap,
            "the consumer falls behind on its busiest shard: its iterator age grows (a larger max_records, faster processing, or more shards)",
        ));
        let v = consumer_low_load_latency(spec, c);
        for (q, name) in [(0.5, "p50"), (0.99, "p99")] {
            let i = ((v.len() as f64 - 1.0) * q).round() as usize;
            cx.capacity.push(Capacity::info(
                S,
                &c.name,
                format!("latency at low load, {name}, s (creation → end of processing)"),
                v[i.min(v.len() - 1)],
            ));
        }
    }
    for (j, m) in models.iter().enumerate() {
        let f = &arch.lambdas[parts.mappings[j]];
        cx.capacity.push(Capacity::against(
            "lambda",
            &f.name,
            "records/s of the busiest shard at the peak vs what its lanes process (factor × batch ÷ batch duration)",
            busiest,
            m.shard_capacity(),
            "the function falls behind on its busiest shard: its iterator age grows (a larger batch, a higher parallelization factor, or more shards)",
        ));
    }
}

/// Draws behind a low-load latency (fixed seed: the estimate is a function of the model).
pub(crate) const LATENCY_DRAWS: usize = 20_000;

/// A polling reader's wait from a record's arrival at the shard to the arrival of the
/// first GetRecords call that returns it, s.
///
/// # Formula
/// Polls arrive every `interval` at a phase uniform over it; each sees the records older
/// than its own read lag `R` (drawn per call): the wait is `U·interval` plus one
/// interval per poll whose lag exceeds the record's age (at most 100 polls).
pub(crate) fn polling_wait(spec: &StreamSpec, interval: f64, rng: &mut crate::sim::SimRng) -> f64 {
    use rand::Rng;
    let mut wait = rng.random::<f64>() * interval;
    for _ in 0..100 {
        if spec.read_lag.sample(rng).as_secs_f64() <= wait {
            break;
        }
        wait += interval;
    }
    wait
}

/// A stream consumer's latency at low load, sorted draws, s: from a record's creation to
/// the end of its processing, from the latency defaults the simulator uses.
///
/// # Formula
/// Put leg `A/2`, then polling: [`polling_wait`] with the consumer's `idle_between_reads`
/// plus the GetRecords response leg `A/2`; enhanced fan-out: the push `P`; then
/// `per_batch` plus `service_time` of a batch of one record.
fn consumer_low_load_latency(spec: &StreamSpec, c: &StreamConsumerSpec) -> Vec<f64> {
    let mut rng = crate::sim::stream(0, &format!("estimate:latency:{}", c.name));
    let mut v: Vec<f64> = (0..LATENCY_DRAWS)
        .map(|_| {
            let put = spec.api_latency.sample(&mut rng).half().as_secs_f64();
            let read = match c.mode {
                ReadMode::Polling => {
                    let wait = polling_wait(spec, c.idle_between_reads.as_secs_f64(), &mut rng);
                    let a = spec.api_latency.sample(&mut rng);
                    wait + (a - a.half()).as_secs_f64()
                }
                ReadMode::Efo => spec.efo_propagation.sample(&mut rng).as_secs_f64(),
            };
            put + read
                + c.per_batch.sample(&mut rng).as_secs_f64()
                + c.service_time.sample(&mut rng).as_secs_f64()
        })
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::{estimate, test_model};
    use crate::pricing::{BillOptions, PriceTable};
    use crate::services::bill;

    fn stream(stream: &str, rest: &str) -> crate::model::Architecture {
        test_model(&format!("[[stream]]\nname = \"s\"\n{stream}\n{rest}"))
    }

    #[test]
    fn provisioned_stream_month() {
        // 2 shards for 730 h = 1,460 shard-hours; 50 records/s of 30 KB + a 36-byte random
        // key = 30,756 B = 2 PUT payload units of 25,600 B; 50 × 2 × 730 × 3,600 =
        // 262,800,000 units. At $0.015 and $0.014/M: $21.90 + $3.6792 = $25.5792.
        let src = r#"
[[producer]]
name = "p"
target = "kinesis:s"
load = { process = "poisson", rate_per_s = 50 }
size = "30KB"
"#;
        let arch = stream("shards = 2", src);
        let e = estimate(&arch, 730.0).unwrap();
        let k = &e.usage.kinesis[0];
        assert_eq!(k.shard_hours, 1460.0);
        assert_eq!(k.put_payload_units, 262_800_000);
        assert_eq!(k.extended_retention_shard_hours, 0.0);
        let b = bill(&e.usage, &PriceTable::bundled(), BillOptions::default()).unwrap();
        assert!((b.total - 25.5792).abs() < 1e-9, "{}", b.total);
        // Sizing: 50 × 31 KB = 1,550 KiB/s ÷ 1,024 = 1.51 → 2 shards, as configured.
        let c = e
            .capacity
            .iter()
            .find(|c| c.what.starts_with("shards needed"))
            .unwrap();
        assert_eq!(
            (c.value, c.limit, c.verdict.as_str()),
            (2.0, Some(2.0), "ok")
        );
        // Twice the load: 100 × 31 KB ÷ 1,024 = 3.03 → 4 shards needed; the 2 shards take
        // 2 × 1,048,576 B/s ÷ 30,756 B = 68.19 records/s, and only those are billed.
        let arch = stream(
            "shards = 2",
            &src.replace("rate_per_s = 50", "rate_per_s = 100"),
        );
        let e = estimate(&arch, 730.0).unwrap();
        let c = e
            .capacity
            .iter()
            .find(|c| c.what.starts_with("shards needed"))
            .unwrap();
        assert_eq!((c.value, c.limit), (4.0, Some(2.0)));
        assert!(c.verdict.starts_with("under-provisioned"), "{}", c.verdict);
        let accepted = 2.0 * 1_048_576.0 / 30_756.0;
        let units = e.usage.kinesis[0].put_payload_units as f64;
        assert!(
            (units - accepted * 2.0 * 730.0 * 3600.0).abs() <= 1.0,
            "{units}"
        );
        assert!(e
            .notes
            .iter()
            .any(|n| n.contains("over the shards' write limits")));
    }

    #[test]
    fn on_demand_stream_month_with_readers_and_retention() {
        // 10 records/s of 1,000 B + keys "k-1" … "k-10" (9 of 3 bytes, 1 of 4: 3.1 on
        // average) = 1,003.1 B, billed 1 KB each. A month: 26,280,000 records.
        // Data in: 26,280,000 × 1,024 B = 25.0626 GB; out: 2 shared readers (a polling
        // consumer and a Lambda mapping) × 26,280,000 × 1,003.1 B = 49.1010 GB; enhanced
        // fan-out: 1 consumer, 24.5505 GB; retention 10 days (240 h): 24 h to 7 d held 144
        // h per GB written, beyond 7 d 72 h. 730 stream-hours.
        let arch = stream(
            "mode = \"on_demand\"\nretention = \"10d\"",
            r#"
[[producer]]
name = "p"
target = "kinesis:s"
load = { process = "constant", rate_per_s = 10 }
size = "1000B"
partition_key = { dist = "uniform", keys = 10, prefix = "k-" }
[[stream_consumer]]
name = "poll"
source = "kinesis:s"
mode = "polling"
service_time = "1ms"
[[stream_consumer]]
name = "push"
source = "kinesis:s"
mode = "efo"
service_time = "1ms"
[[lambda]]
name = "f"
source = "kinesis:s"
duration = "10ms"
"#,
        );
        let e = estimate(&arch, 730.0).unwrap();
        let k = &e.usage.kinesis[0];
        let records = 10.0 * 730.0 * 3600.0;
        let bytes = records * 1003.1;
        assert_eq!(k.stream_hours, 730.0);
        assert_eq!(k.bytes_in_billed, (records * 1024.0) as u64);
        assert!((k.bytes_out as f64 - 2.0 * bytes).abs() <= 1.0);
        assert!((k.efo_bytes as f64 - bytes).abs() <= 1.0);
        let gb = bytes / BYTES_PER_GB;
        assert!((k.extended_retention_gb_hours - gb * 144.0).abs() < 1e-6);
        assert!((k.long_term_retention_gb_hours - gb * 72.0).abs() < 1e-6);
        // The Lambda mapping polls each of the 4 initial shards once a second; 2.5
        // records a shard a second come in one batch: 4 invocations/s whenever a poll
        // finds a record, i.e. 4 × P(N ≥ 1) with N ~ Poisson(2.5) (keys spread the
        // records over the shards at random).
        let inv = e.usage.lambda[0].requests as f64 / (730.0 * 3600.0);
        assert!(inv > 3.0 && inv < 4.0, "{inv}");
    }

    #[test]
    fn invocations_spread_over_lanes_and_batches() {
        let arch = stream(
            "shards = 1",
            "[[lambda]]\nname = \"f\"\nsource = \"kinesis:s\"\nduration = \"10ms\"\nbatch_size = 100\nparallelization_factor = 2",
        );
        let m = KinesisMappingModel::new(&arch, &arch.lambdas[0], 1000.0);
        // 500 records: 250 a lane, batches of 100, 100, 50: 6 invocations billed 10 ms each.
        assert_eq!(m.invocations_of(500), (6, 0.06));
        // 3 records: lanes of 2 and 1: 2 invocations; 1 record: 1; none: none.
        assert_eq!(m.invocations_of(3).0, 2);
        assert_eq!(m.invocations_of(1).0, 1);
        assert_eq!(m.invocations_of(0).0, 0);
        // At 0.5 records/s (Poisson), a poll finds one record or more with 1 − e^−0.5 =
        // 0.39347 (one lane busy) and two or more with 1 − 1.5·e^−0.5 = 0.09020 (both):
        // 0.48367 invocations a poll.
        let (inv, _) = m.per_poll(0.5, false);
        let e = (-0.5f64).exp();
        assert!((inv - ((1.0 - e) + (1.0 - 1.5 * e))).abs() < 1e-12, "{inv}");
        // Evenly spaced at 250.5/s: polls of 250 and 251 mixed: lanes of 125/125 → 4,
        // 126/125 → 4.
        assert_eq!(m.per_poll(250.5, true).0, 4.0);
    }

    #[test]
    fn failed_batches_are_retried() {
        // f = 0.001, batches of 100: q = 1 − 0.999¹⁰⁰ = 0.09521; retried until they
        // succeed: q/(1 − q) = 0.10523 extra invocations a batch, each the whole batch; at
        // most 1 retry: q = 0.09521; bisected: half the batch.
        let arch = stream(
            "shards = 1",
            "[[lambda]]\nname = \"f\"\nsource = \"kinesis:s\"\nduration = \"10ms\"\nfailure_probability = 0.001",
        );
        let m = KinesisMappingModel::new(&arch, &arch.lambdas[0], 1000.0);
        let q = 1.0 - 0.999f64.powi(100);
        let (extra, carried) = m.retries(100.0).unwrap();
        assert!((extra - q / (1.0 - q)).abs() < 1e-12 && carried == 100.0);
        let once = KinesisMappingModel {
            max_retries: Some(1),
            bisect: true,
            ..m.clone()
        };
        let (extra, carried) = once.retries(100.0).unwrap();
        assert!((extra - q).abs() < 1e-12 && carried == 50.0);
        let always = KinesisMappingModel { f: 1.0, ..m };
        assert!(always.retries(10.0).is_err());
    }

    #[test]
    fn on_demand_shards_double_until_half_busy() {
        // 4 shards at first; 5,000 records/s of 1 KB: 1,250 a shard > 500 → 8 → 625 > 500
        // → 16 → 312.5 records and 320 KB/s a shard: 16.
        let arch = stream("mode = \"on_demand\"", "");
        assert_eq!(
            on_demand_shards(&arch.streams[0], 5000.0, 5000.0 * 1024.0),
            16.0
        );
        assert_eq!(on_demand_shards(&arch.streams[0], 10.0, 10_240.0), 4.0);
    }

    #[test]
    fn shard_hours_follow_the_resharding_schedule() {
        // 2 shards, UpdateShardCount to 4 at 30 minutes, a 1-hour window: 3 on average.
        let arch = stream("shards = 2\nreshard = [{ at = \"30m\", shards = 4 }]", "");
        assert!((mean_open_shards(&arch.streams[0], 0.0, 3600.0) - 3.0).abs() < 1e-12);
        let e = estimate(&arch, 730.0).unwrap();
        assert!((e.usage.kinesis[0].shard_hours - 3.0 * 730.0).abs() < 1e-9);
    }

    #[test]
    fn hashed_keys_make_a_hot_shard() {
        // One key only: every record hashes to the same shard of 4; at 1,500 records/s it
        // gets 1.5 × its 1,000 records/s.
        let arch = stream(
            "shards = 4",
            r#"
[[producer]]
name = "p"
target = "kinesis:s"
load = { process = "constant", rate_per_s = 1500 }
size = "100B"
partition_key = { dist = "uniform", keys = 1 }
"#,
        );
        let shares = shard_shares(&arch.producers[0], 4);
        assert_eq!(shares.iter().filter(|s| **s == 1.0).count(), 1);
        let e = estimate(&arch, 730.0).unwrap();
        let hot = e
            .capacity
            .iter()
            .find(|c| c.what.starts_with("write use of the busiest shard"))
            .unwrap();
        assert!((hot.value - 1.5).abs() < 1e-12, "{}", hot.value);
        assert_ne!(hot.verdict, "ok");
        // Only 1,000 records/s are accepted: 1,000 × 730 × 3,600 PUT units.
        assert_eq!(e.usage.kinesis[0].put_payload_units, 2_628_000_000);
    }
}
