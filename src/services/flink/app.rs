//! A Flink application's run-time state: the keys of its source, its subtasks with their
//! input buffers, its window panes, watermarks and counters (see the module docs of
//! [`super`] for what is modelled).

use super::keygroups::{default_max_parallelism, java_hash_code, murmur_hash};
use super::{FlinkSpec, WindowKind};
use crate::load::{DurationDist, KeyDist};
use crate::metrics::LatencyHist;
use crate::services::kinesis::hash::hash_generated;
use crate::sim::{SimDuration, SimRng, SimTime};
use rand::Rng;
use std::collections::{BTreeMap, VecDeque};

/// The keys one producer writes into the source stream.
pub(crate) struct ProdKeys {
    /// First global key id of this producer.
    pub(crate) base: u32,
    /// Its key distribution.
    pub(crate) dist: KeyDist,
    /// Its expected records over the run (weights producers sharing a shard).
    pub(crate) weight: f64,
    /// Its event-time lag.
    pub(crate) lag: Option<DurationDist>,
    /// Σ over its keys of the unnormalised weight (`1` uniform, `(k+1)^−s` Zipf).
    total: f64,
}

impl ProdKeys {
    /// A producer's keys (`base` and `total` are set by [`KeySpace::new`]).
    pub(crate) fn new(dist: KeyDist, weight: f64, lag: Option<DurationDist>) -> Self {
        ProdKeys {
            base: 0,
            dist,
            weight,
            lag,
            total: 0.0,
        }
    }

    fn raw_weight(&self, k: u32) -> f64 {
        match &self.dist {
            KeyDist::Uniform { .. } => 1.0,
            KeyDist::Zipf { exponent, .. } => ((k + 1) as f64).powf(-exponent),
        }
    }
}

/// The keys of one shard of one producer: their global ids and (Zipf) cumulative weights.
struct ShardProd {
    ids: Vec<u32>,
    cum: Option<Vec<f64>>,
}

/// How to draw the key of a record read from one shard.
struct ShardKeys {
    /// Cumulative weights of the producers (by index in [`KeySpace::prods`]).
    mix: Vec<f64>,
    prods: Vec<ShardProd>,
}

/// The source's keys: which subtask each goes to, and which shard it hashes into.
pub(crate) struct KeySpace {
    /// The producers writing into the source stream.
    pub(crate) prods: Vec<ProdKeys>,
    /// Key group of each global key id.
    group: Vec<u16>,
    /// Global key ids sorted by their Kinesis hash key, with the hash keys.
    sorted: Vec<(u128, u32)>,
    /// Kinesis hash key of each global key id.
    hash: Vec<u128>,
    /// Per shard id: its key sampler, built at its first read.
    shards: Vec<Option<ShardKeys>>,
    /// Flink's maximum parallelism (the number of key groups).
    pub(crate) max_parallelism: u32,
}

impl KeySpace {
    /// The key space of `prods` (key prefixes alongside), for an application whose
    /// configured parallelism is `parallelism`.
    pub(crate) fn new(prods: Vec<(ProdKeys, String)>, parallelism: u32) -> Self {
        let max_parallelism = default_max_parallelism(parallelism);
        let mut group = Vec::new();
        let mut sorted = Vec::new();
        let mut hashes = Vec::new();
        let mut buf = String::new();
        let mut text = String::new();
        let mut out = Vec::new();
        for (mut p, prefix) in prods {
            p.base = group.len() as u32;
            let n = p.dist.keys();
            let mut total = 0.0;
            for k in 0..n {
                let h = hash_generated(&prefix, k, &mut buf);
                sorted.push((h, group.len() as u32));
                hashes.push(h);
                text.clear();
                text.push_str(&buf);
                let g = murmur_hash(java_hash_code(&text)) as u32 % max_parallelism;
                group.push(g as u16);
                total += p.raw_weight(k);
            }
            p.total = total;
            out.push(p);
        }
        sorted.sort_unstable();
        KeySpace {
            prods: out,
            group,
            sorted,
            hash: hashes,
            shards: Vec::new(),
            max_parallelism,
        }
    }

    /// Keys in all.
    pub(crate) fn len(&self) -> usize {
        self.group.len()
    }

    /// The producer (index into `prods`) of global key `id`.
    fn producer_of(&self, id: u32) -> usize {
        self.prods.partition_point(|p| p.base <= id) - 1
    }

    fn build_shard(&mut self, shard: usize, start: u128, end: u128) {
        if self.shards.len() <= shard {
            self.shards.resize_with(shard + 1, || None);
        }
        let a = self.sorted.partition_point(|(h, _)| *h < start);
        let b = self.sorted.partition_point(|(h, _)| *h <= end);
        let mut prods: Vec<ShardProd> = self
            .prods
            .iter()
            .map(|p| ShardProd {
                ids: Vec::new(),
                cum: matches!(p.dist, KeyDist::Zipf { .. }).then(Vec::new),
            })
            .collect();
        let mut mass = vec![0.0; self.prods.len()];
        let mut ids: Vec<u32> = self.sorted[a..b].iter().map(|(_, id)| *id).collect();
        ids.sort_unstable();
        for id in ids {
            let pi = self.producer_of(id);
            let w = self.prods[pi].raw_weight(id - self.prods[pi].base);
            mass[pi] += w;
            let sp = &mut prods[pi];
            sp.ids.push(id);
            if let Some(c) = &mut sp.cum {
                c.push(mass[pi]);
            }
        }
        let mut mix = Vec::with_capacity(self.prods.len());
        let mut acc = 0.0;
        for (pi, p) in self.prods.iter().enumerate() {
            acc += p.weight * mass[pi] / p.total.max(f64::MIN_POSITIVE);
            mix.push(acc);
        }
        self.shards[shard] = Some(ShardKeys { mix, prods });
    }

    /// Draws the global key id (and its producer) of a record read from shard `shard`
    /// (hash-key range `start..=end`).
    #[inline]
    pub(crate) fn draw(
        &mut self,
        shard: usize,
        start: u128,
        end: u128,
        rng: &mut SimRng,
    ) -> (u32, usize) {
        if self.shards.get(shard).is_none_or(|s| s.is_none()) {
            self.build_shard(shard, start, end);
        }
        let Some(Some(sk)) = self.shards.get(shard) else {
            return (0, 0);
        };
        if sk.mix.is_empty() {
            return (0, 0);
        }
        let pi = if sk.mix.len() == 1 {
            0
        } else {
            let total = *sk.mix.last().unwrap_or(&0.0);
            let u = rng.random::<f64>() * total;
            sk.mix.partition_point(|c| *c <= u).min(sk.mix.len() - 1)
        };
        let sp = &sk.prods[pi];
        if sp.ids.is_empty() {
            // No key of this producer hashes into the shard (nothing can have come from
            // it): fall back to its first key.
            return (self.prods[pi].base, pi);
        }
        let i = match &sp.cum {
            None => rng.random_range(0..sp.ids.len()),
            Some(c) => {
                let u = rng.random::<f64>() * c[c.len() - 1];
                c.partition_point(|x| *x <= u).min(c.len() - 1)
            }
        };
        (sp.ids[i], pi)
    }

    /// The Kinesis hash key of global key `id` (its partition key's MD5).
    pub(crate) fn hash(&self, id: u32) -> u128 {
        self.hash.get(id as usize).copied().unwrap_or(0)
    }

    /// Each subtask's share of the records at `parallelism`: `Σ weight_p × P_p(key)` over
    /// the keys it owns, normalised.
    pub(crate) fn subtask_shares(&self, parallelism: u32) -> Vec<f64> {
        let mut out = vec![0.0; parallelism.max(1) as usize];
        let total: f64 = self.prods.iter().map(|p| p.weight).sum();
        if total <= 0.0 {
            return out;
        }
        for p in &self.prods {
            for k in 0..p.dist.keys() {
                let j = self.subtask(p.base + k, parallelism) as usize;
                out[j] += p.weight / total * p.raw_weight(k) / p.total.max(f64::MIN_POSITIVE);
            }
        }
        out
    }

    /// The subtask of global key `id` at `parallelism` (Flink's
    /// `keyGroup × parallelism / maxParallelism`).
    #[inline]
    pub(crate) fn subtask(&self, id: u32, parallelism: u32) -> u32 {
        let Some(&g) = self.group.get(id as usize) else {
            return 0;
        };
        (g as u64 * parallelism as u64 / self.max_parallelism as u64) as u32
    }
}

/// One subtask of the keyed operator.
#[derive(Clone, Debug, Default)]
pub(crate) struct Subtask {
    /// Completion times of the records in its input buffer or being processed, in order.
    pub(crate) queue: VecDeque<SimTime>,
    /// When it finishes the last record it holds.
    pub(crate) last: SimTime,
    /// Busy time (wall time of its vCPU share) in the current minute, ns.
    pub(crate) busy_minute_ns: u64,
    /// Busy time over the measured window, ns.
    pub(crate) busy_ns: u128,
}

/// One pane: the keys of the records whose (event or processing) time falls in
/// `[index·pane, (index+1)·pane)`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pane {
    /// Keys with a record in the pane (a key may appear more than once).
    touched: Vec<u32>,
    /// Records in the pane, and the earliest and latest creation among them, ns (time to
    /// insight).
    records: u64,
    first_created: u64,
    last_created: u64,
}

/// The open panes of a tumbling or sliding window (a pane is `gcd(size, slide)` long: a
/// window is `size / pane` consecutive panes, and a new window starts every `slide / pane`
/// panes). Panes are kept by index in a map, so records far apart in time cost nothing
/// between them. Memory: open panes × keys.
#[derive(Clone, Debug)]
pub(crate) struct Panes {
    /// Window length, ns.
    size: i64,
    /// Window slide, ns.
    slide: i64,
    /// Pane length, ns.
    pane: i64,
    /// Allowed lateness, ns.
    lateness: i64,
    /// Keys in all.
    keys: usize,
    /// Open panes by index.
    panes: BTreeMap<i64, Pane>,
    /// Per key: the last pane it was added to (a key goes into a pane's `touched` list once
    /// per visit; out-of-order returns are deduplicated when the window fires). Memory:
    /// keys, not panes × keys.
    last_pane: Vec<i64>,
    /// The next window to fire (None before the first record).
    pub(crate) next_window: Option<i64>,
    /// The last window fired (records of windows up to it are late).
    fired_upto: Option<i64>,
    /// Highest window fired before the last restart (results up to it are duplicates).
    pub(crate) fired_before: Option<i64>,
    /// Key marks of the window being fired (sliding windows: keys seen in several panes).
    stamp: Vec<u32>,
    stamp_gen: u32,
}

/// What adding a record to the panes did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Added {
    /// In its windows (none fired yet).
    Open,
    /// In its windows; `n` of them had fired already and fire again (late firings).
    LateFirings(u32),
    /// Every window of the record has been purged: dropped.
    Dropped,
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Panes {
    /// Panes for windows of `size` every `slide` over `keys` keys.
    pub(crate) fn new(
        size: SimDuration,
        slide: SimDuration,
        lateness: SimDuration,
        keys: usize,
    ) -> Self {
        let (size, slide) = (size.0 as i64, slide.0 as i64);
        Panes {
            size,
            slide,
            pane: gcd(size, slide),
            lateness: lateness.0 as i64,
            keys,
            panes: BTreeMap::new(),
            last_pane: Vec::new(),
            next_window: None,
            fired_upto: None,
            fired_before: None,
            stamp: Vec::new(),
            stamp_gen: 0,
        }
    }

    /// End (exclusive) of window `k`, ns.
    #[inline]
    pub(crate) fn end(&self, k: i64) -> i64 {
        k.saturating_mul(self.slide).saturating_add(self.size)
    }

    /// True once the watermark `w` has purged window `k` (its end plus the lateness passed).
    #[inline]
    fn purged(&self, k: i64, w: i64) -> bool {
        self.end(k).saturating_add(self.lateness) - 1 <= w
    }

    /// The first window containing time `t` (ns).
    #[inline]
    fn first_window(&self, t: i64) -> i64 {
        (t - self.size).div_euclid(self.slide) + 1
    }

    /// Adds a record of key `key` at time `t` (ns), created at `created`, under watermark
    /// `w`.
    pub(crate) fn add(&mut self, t: i64, key: u32, created: SimTime, w: i64) -> Added {
        let hi = t.div_euclid(self.slide);
        if self.purged(hi, w) {
            return Added::Dropped;
        }
        let lo = self.first_window(t);
        let mut late = 0;
        if let Some(f) = self.fired_upto {
            // Windows lo..=f have fired; those not purged fire again.
            for k in lo..=f.min(hi) {
                if !self.purged(k, w) {
                    late += 1;
                }
            }
        }
        // The first of its windows not fired yet is the next to fire, if earlier.
        let first_open = self.fired_upto.map_or(lo, |f| lo.max(f + 1));
        if first_open <= hi {
            self.next_window = Some(self.next_window.map_or(first_open, |nw| nw.min(first_open)));
        }
        let p = t.div_euclid(self.pane);
        if self.last_pane.len() < self.keys {
            self.last_pane.resize(self.keys, i64::MIN);
        }
        let seen = std::mem::replace(&mut self.last_pane[key as usize], p) == p;
        let pane = self.panes.entry(p).or_default();
        if !seen {
            pane.touched.push(key);
        }
        if pane.records == 0 {
            pane.first_created = created.0;
            pane.last_created = created.0;
        } else {
            pane.first_created = pane.first_created.min(created.0);
            pane.last_created = pane.last_created.max(created.0);
        }
        pane.records += 1;
        if late > 0 {
            Added::LateFirings(late)
        } else {
            Added::Open
        }
    }

    /// The next window with records whose end the watermark `w` has passed, if any
    /// (`w ≥ end − 1`). Windows without records are skipped.
    pub(crate) fn due(&mut self, w: i64) -> Option<i64> {
        let k = self.next_with_data()?;
        (self.end(k) - 1 <= w).then_some(k)
    }

    /// The next window to fire that holds records (moving `next_window` past empty ones).
    pub(crate) fn next_with_data(&mut self) -> Option<i64> {
        let k = self.next_window?;
        let first = k.saturating_mul(self.slide).div_euclid(self.pane);
        let (&p, _) = self.panes.range(first..).next()?;
        // The first window holding pane p, or k if it already holds it.
        let k = k.max(self.first_window(p * self.pane));
        self.next_window = Some(k);
        Some(k)
    }

    /// The records of the panes of window `k` after pane `done` (the panes whose records
    /// already have their first result): `span(first created, last created, records)` per
    /// pane. Returns the last pane of the window.
    pub(crate) fn first_results(
        &self,
        k: i64,
        done: Option<i64>,
        mut span: impl FnMut(u64, u64, u64),
    ) -> i64 {
        let first = k * self.slide / self.pane;
        let last = first + self.size / self.pane - 1;
        let from = done.map_or(first, |d| (d + 1).max(first));
        if from <= last {
            for (_, p) in self.panes.range(from..=last) {
                if p.records > 0 {
                    span(p.first_created, p.last_created, p.records);
                }
            }
        }
        last
    }

    /// Fires window `k` (the next one): calls `emit(key)` once per key with records in it,
    /// then moves on and purges the panes no unpurged window needs under watermark `w`.
    pub(crate) fn fire(&mut self, k: i64, w: i64, mut emit: impl FnMut(u32)) {
        let first = k * self.slide / self.pane;
        let n = self.size / self.pane;
        if self.stamp.len() < self.keys {
            self.stamp.resize(self.keys, 0);
        }
        self.stamp_gen = self.stamp_gen.wrapping_add(1);
        if self.stamp_gen == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.stamp_gen = 1;
        }
        // A key is in a pane's list once per visit (out-of-order returns add it again),
        // and in several panes of a sliding window: one result each.
        for (_, pane) in self.panes.range(first..first + n) {
            for &key in &pane.touched {
                if self.stamp[key as usize] != self.stamp_gen {
                    self.stamp[key as usize] = self.stamp_gen;
                    emit(key);
                }
            }
        }
        self.fired_upto = Some(self.fired_upto.map_or(k, |f| f.max(k)));
        self.next_window = Some(k + 1);
        self.purge(w);
    }

    /// Drops the panes whose every window is purged under watermark `w`.
    pub(crate) fn purge(&mut self, w: i64) {
        let per = self.slide / self.pane;
        while let Some((&p, _)) = self.panes.first_key_value() {
            // The last window containing pane p starts at or before it.
            let last = p.div_euclid(per);
            if !self.purged(last, w) || self.next_window.is_none_or(|nw| nw <= last) {
                break;
            }
            self.panes.pop_first();
        }
    }
}

/// The open sessions of one key: `[start, end)` with `end = last record + gap`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Session {
    /// Event time of the first record, ns.
    pub(crate) start: i64,
    /// Event time of the last record plus the gap, ns.
    pub(crate) end: i64,
}

/// Session windows: per key its open sessions (usually one), fired in order of their
/// ends. Memory: keys × open sessions.
#[derive(Clone, Debug)]
pub(crate) struct Sessions {
    /// Gap, ns.
    gap: i64,
    /// Allowed lateness, ns.
    lateness: i64,
    /// Open sessions by key (a session fired but within the lateness stays, `fired`).
    open: Vec<Vec<(Session, bool)>>,
    /// (end, key) of every unfired session, smallest end first.
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(i64, u32)>>,
    /// (end + lateness, key) of every fired session kept for its lateness.
    purge: std::collections::BinaryHeap<std::cmp::Reverse<(i64, u32)>>,
    /// Open sessions in all.
    pub(crate) open_count: usize,
    /// The latest end of a session fired.
    pub(crate) fired_max_end: i64,
    /// The latest end fired before the last restart (sessions ending by then fire again:
    /// duplicates).
    pub(crate) fired_before: Option<i64>,
}

impl Sessions {
    /// Sessions with inactivity gap `gap` over `keys` keys.
    pub(crate) fn new(gap: SimDuration, lateness: SimDuration, keys: usize) -> Self {
        Sessions {
            gap: gap.0 as i64,
            lateness: lateness.0 as i64,
            open: vec![Vec::new(); keys],
            heap: std::collections::BinaryHeap::new(),
            purge: std::collections::BinaryHeap::new(),
            open_count: 0,
            fired_max_end: i64::MIN,
            fired_before: None,
        }
    }

    /// Adds a record of `key` at event time `t` under watermark `w`: merges it into the
    /// sessions it touches (a fired session within the lateness fires again).
    pub(crate) fn add(&mut self, t: i64, key: u32, w: i64) -> Added {
        let (s0, e0) = (t, t + self.gap);
        if e0.saturating_add(self.lateness) - 1 <= w {
            // Every session it could belong to, merged or not, is purged.
            let keep = self.open[key as usize]
                .iter()
                .any(|(s, _)| s.start - self.gap <= t && t < s.end);
            if !keep {
                return Added::Dropped;
            }
        }
        let list = &mut self.open[key as usize];
        let mut start = s0;
        let mut end = e0;
        let mut fired = false;
        let mut i = 0;
        while i < list.len() {
            let (s, f) = list[i];
            if s.start < end && start < s.end {
                start = start.min(s.start);
                end = end.max(s.end);
                fired |= f;
                list.swap_remove(i);
                self.open_count -= 1;
            } else {
                i += 1;
            }
        }
        list.push((Session { start, end }, fired && end - 1 <= w));
        self.open_count += 1;
        if fired && end - 1 <= w {
            // Fired again at once; purged at its (new) end plus the lateness.
            self.purge
                .push(std::cmp::Reverse((end.saturating_add(self.lateness), key)));
            return Added::LateFirings(1);
        }
        self.heap.push(std::cmp::Reverse((end, key)));
        Added::Open
    }

    /// Fires every session whose end the watermark `w` passed: `emit(key, end)` each;
    /// purges fired sessions past their lateness.
    pub(crate) fn fire(&mut self, w: i64, mut emit: impl FnMut(u32, i64)) {
        let lateness = self.lateness;
        while let Some(&std::cmp::Reverse((end, key))) = self.heap.peek() {
            if end - 1 > w {
                break;
            }
            self.heap.pop();
            let list = &mut self.open[key as usize];
            // The entry may have grown (merged) since it was pushed: fire only the live one.
            if let Some(pos) = list.iter().position(|(s, f)| !*f && s.end == end) {
                emit(key, end);
                self.fired_max_end = self.fired_max_end.max(end);
                if lateness == 0 {
                    list.swap_remove(pos);
                    self.open_count -= 1;
                } else {
                    list[pos].1 = true;
                    self.purge
                        .push(std::cmp::Reverse((end.saturating_add(lateness), key)));
                }
            }
        }
        while let Some(&std::cmp::Reverse((at, key))) = self.purge.peek() {
            if at - 1 > w {
                break;
            }
            self.purge.pop();
            let list = &mut self.open[key as usize];
            let before = list.len();
            list.retain(|(s, f)| !(*f && s.end.saturating_add(lateness) - 1 <= w));
            self.open_count -= before - list.len();
        }
    }
}

/// The window state of an application.
#[derive(Clone, Debug)]
pub(crate) enum WindowState {
    /// Tumbling or sliding windows.
    Panes(Panes),
    /// Session windows.
    Sessions(Sessions),
}

impl WindowState {
    /// The state for `kind` over `keys` keys.
    pub(crate) fn new(kind: WindowKind, lateness: SimDuration, keys: usize) -> Self {
        match kind {
            WindowKind::Sliding { size, slide } => {
                WindowState::Panes(Panes::new(size, slide, lateness, keys))
            }
            WindowKind::Session { gap } => {
                WindowState::Sessions(Sessions::new(gap, lateness, keys))
            }
        }
    }
}

/// Counters of an application (reset at the warm-up, except where said).
#[derive(Clone, Debug, Default)]
pub(crate) struct FlinkStats {
    /// Records read into the job (again after a restart too).
    pub(crate) records_in: u64,
    /// Window results emitted (one per key and window; late firings and duplicates
    /// included).
    pub(crate) windows_emitted: u64,
    /// Late firings (a record within the allowed lateness of a fired window).
    pub(crate) late_firings: u64,
    /// Records dropped as late.
    pub(crate) late_dropped: u64,
    /// Results emitted again after a restart.
    pub(crate) duplicate_results: u64,
    /// Restarts after a failure.
    pub(crate) restarts: u64,
    /// Rescales (autoscaling).
    pub(crate) rescales: u64,
    /// Records read again after a restart.
    pub(crate) reprocessed: u64,
    /// Checkpoints completed.
    pub(crate) checkpoints: u64,
    /// Longest checkpoint (trigger → completion), ns.
    pub(crate) checkpoint_max_ns: u64,
    /// Time stopped (restarts and rescales), ns.
    pub(crate) downtime_ns: u64,
    /// Most KPUs (the orchestration KPU excluded).
    pub(crate) kpus_max: u32,
    /// Creation → processed by its subtask.
    pub(crate) latency: LatencyHist,
    /// Window end → result emitted.
    pub(crate) result_latency: LatencyHist,
    /// Results refused by the sink's quotas (retried).
    pub(crate) sink_throttled: u64,
}

/// A checkpoint in progress or completed.
#[derive(Clone, Debug)]
pub(crate) struct Snapshot {
    /// When it was triggered.
    pub(crate) at: SimTime,
    /// Records held by the reader in each shard when it was triggered (by shard id).
    pub(crate) positions: Vec<u64>,
    /// The window state then.
    pub(crate) windows: Option<WindowState>,
}

/// Results waiting to reach the sink.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pending {
    /// Results.
    pub(crate) count: u64,
    /// Window end of the results (creation time of the result records).
    pub(crate) created: SimTime,
    /// Their keys (a Kinesis sink routes each by its key; empty otherwise).
    pub(crate) keys: Vec<u32>,
}

/// A Flink application's run-time state.
pub(crate) struct FlinkApp {
    /// Its spec.
    pub(crate) spec: FlinkSpec,
    /// Random stream.
    pub(crate) rng: SimRng,
    /// Its Kinesis reader (index).
    pub(crate) reader: u32,
    /// Current parallelism.
    pub(crate) parallelism: u32,
    /// Records one subtask's input buffer holds.
    pub(crate) buffer_records: usize,
    /// Subtasks.
    pub(crate) subtasks: Vec<Subtask>,
    /// Source keys.
    pub(crate) keys: KeySpace,
    /// Window state (None without a window).
    pub(crate) windows: Option<WindowState>,
    /// Per shard id: largest event time read minus the out-of-orderness, ns.
    pub(crate) shard_wm: Vec<i64>,
    /// Per shard id: when it last gave records.
    pub(crate) shard_seen: Vec<SimTime>,
    /// The application's watermark, ns.
    pub(crate) watermark: i64,
    /// Running (false while restarting or rescaling).
    pub(crate) running: bool,
    /// Generation of the checkpoint and restart timers.
    pub(crate) gen: u32,
    /// The checkpoint in progress.
    pub(crate) pending: Option<Snapshot>,
    /// The last completed checkpoint.
    pub(crate) last: Option<Snapshot>,
    /// Autoscaling: consecutive minutes at or above the scale-up threshold / below the
    /// scale-down threshold.
    pub(crate) up_streak: u32,
    pub(crate) down_streak: u32,
    /// Parallelism to restart at after a rescale.
    pub(crate) next_parallelism: u32,
    /// Billing segments: (start, KPUs) of each stretch at a constant KPU count.
    pub(crate) segments: Vec<(SimTime, u32)>,
    /// Σ over subtasks of time alive in the measured window (the CPU capacity), ns.
    pub(crate) capacity_ns: u128,
    /// Since when `capacity_ns` is accounted.
    pub(crate) capacity_since: SimTime,
    /// Highest per-KPU CPU utilization of a minute in the measured window, percent.
    pub(crate) cpu_minute_max: f64,
    /// Last minute's data point (busiest KPU), percent.
    pub(crate) cpu_last_minute: f64,
    /// A processing-time timer is scheduled.
    pub(crate) timer_pending: bool,
    /// The last pane whose records have had their first result (time to insight; kept
    /// across restarts, so records read again do not count twice).
    pub(crate) insight_upto: Option<i64>,
    /// Keys of the late firings of the batch being read (Kinesis sink only).
    pub(crate) late_keys: Vec<u32>,
    /// Results waiting for their emission time (slab; `free` lists free slots).
    pub(crate) emits: Vec<Pending>,
    pub(crate) free_emits: Vec<u32>,
    /// Counters.
    pub(crate) stats: FlinkStats,
    /// Mean bytes of a source record (sizes the input buffers in records).
    pub(crate) mean_bytes: u64,
    /// Times of the snapshots taken for rescales (durable backups, kept to the end).
    pub(crate) snapshots: Vec<SimTime>,
}

impl FlinkApp {
    /// The application of `spec` reading through reader `reader` (a stream of `shards`
    /// shards whose records weigh `mean_bytes` on average), with `keys`.
    pub(crate) fn new(
        spec: FlinkSpec,
        rng: SimRng,
        reader: u32,
        keys: KeySpace,
        shards: usize,
        mean_bytes: u64,
    ) -> Self {
        let p = spec.parallelism;
        let windows = spec
            .window
            .map(|w| WindowState::new(w.kind, w.allowed_lateness, keys.len()));
        let kpus = spec.kpus(p);
        let mut app = FlinkApp {
            rng,
            reader,
            parallelism: p,
            buffer_records: 1,
            subtasks: Vec::new(),
            keys,
            windows,
            shard_wm: vec![i64::MIN; shards],
            shard_seen: vec![SimTime::ZERO; shards],
            watermark: i64::MIN,
            running: true,
            gen: 0,
            pending: None,
            last: None,
            up_streak: 0,
            down_streak: 0,
            next_parallelism: p,
            segments: vec![(SimTime::ZERO, kpus)],
            capacity_ns: 0,
            capacity_since: SimTime::ZERO,
            cpu_minute_max: 0.0,
            cpu_last_minute: 0.0,
            timer_pending: false,
            insight_upto: None,
            late_keys: Vec::new(),
            emits: Vec::new(),
            free_emits: Vec::new(),
            stats: FlinkStats {
                kpus_max: kpus,
                ..FlinkStats::default()
            },
            mean_bytes,
            snapshots: Vec::new(),
            spec,
        };
        app.set_parallelism(p, SimTime::ZERO);
        app
    }

    /// Sets the parallelism (subtasks start empty at `now`).
    pub(crate) fn set_parallelism(&mut self, p: u32, now: SimTime) {
        self.parallelism = p;
        self.buffer_records = (self.spec.buffer_bytes(p) / self.mean_bytes.max(1)).max(1) as usize;
        self.subtasks = vec![
            Subtask {
                last: now,
                ..Subtask::default()
            };
            p as usize
        ];
    }

    /// KPUs now.
    pub(crate) fn kpus(&self) -> u32 {
        self.spec.kpus(self.parallelism)
    }

    /// Draws a record's CPU wall time on its subtask's vCPU share.
    #[inline]
    pub(crate) fn service(&mut self) -> SimDuration {
        let d = self.spec.cpu_per_record.sample(&mut self.rng);
        SimDuration(d.0.saturating_mul(self.spec.parallelism_per_kpu as u64))
    }

    /// Admits a record for subtask `j` no earlier than `a` and returns (admission,
    /// completion): the source blocks while the subtask's buffer is full.
    #[inline]
    pub(crate) fn admit(
        &mut self,
        j: usize,
        a: SimTime,
        service: SimDuration,
    ) -> (SimTime, SimTime) {
        let cap = self.buffer_records;
        let st = &mut self.subtasks[j];
        let mut a = a;
        while let Some(&front) = st.queue.front() {
            if front <= a {
                st.queue.pop_front();
            } else {
                break;
            }
        }
        if st.queue.len() >= cap {
            if let Some(front) = st.queue.pop_front() {
                a = a.max(front);
            }
            while let Some(&front) = st.queue.front() {
                if front <= a {
                    st.queue.pop_front();
                } else {
                    break;
                }
            }
        }
        let start = a.max(st.last);
        let c = start + service;
        st.last = c;
        st.queue.push_back(c);
        st.busy_minute_ns = st.busy_minute_ns.saturating_add(service.0);
        st.busy_ns += service.0 as u128;
        (a, c)
    }

    /// Recomputes the application's watermark from the shards' (those `active` hold it
    /// back unless idle for the idle timeout) at `now`; returns true if it advanced.
    pub(crate) fn update_watermark(
        &mut self,
        active: impl Iterator<Item = usize>,
        now: SimTime,
    ) -> bool {
        let idle = self.spec.window.and_then(|w| w.idle_timeout);
        let mut w = i64::MAX;
        let mut any = false;
        for s in active {
            if idle.is_some_and(|t| self.shard_seen[s] + t <= now) {
                continue;
            }
            any = true;
            w = w.min(self.shard_wm[s]);
        }
        if !any || w <= self.watermark {
            return false;
        }
        self.watermark = w;
        true
    }

    /// A slot for results emitted later.
    pub(crate) fn emit_slot(&mut self, p: Pending) -> u32 {
        match self.free_emits.pop() {
            Some(i) => {
                self.emits[i as usize] = p;
                i
            }
            None => {
                self.emits.push(p);
                (self.emits.len() - 1) as u32
            }
        }
    }

    /// Closes the billing segment at `now` and opens one at `kpus`.
    pub(crate) fn segment(&mut self, now: SimTime, kpus: u32) {
        self.segments.push((now, kpus));
        self.stats.kpus_max = self.stats.kpus_max.max(kpus);
    }

    /// Accounts the CPU capacity (subtask-time) up to `now`.
    pub(crate) fn account_capacity(&mut self, now: SimTime, since: SimTime) {
        let from = self.capacity_since.max(since);
        if now > from && self.running {
            self.capacity_ns += (now - from).0 as u128 * self.parallelism as u128;
        }
        self.capacity_since = now;
    }

    /// The busiest KPU's CPU utilization over the last minute, percent, and resets the
    /// minute's counters.
    pub(crate) fn minute_point(&mut self, minute: SimDuration) -> f64 {
        let ppk = self.spec.parallelism_per_kpu.max(1) as usize;
        let mut max: f64 = 0.0;
        for kpu in self.subtasks.chunks_mut(ppk) {
            let busy: u64 = kpu.iter().map(|s| s.busy_minute_ns).sum();
            // Each subtask's busy time is wall time of its 1/ppk vCPU share.
            let util = busy as f64 / (ppk as f64 * minute.0 as f64) * 100.0;
            max = max.max(util.min(100.0));
            for s in kpu {
                s.busy_minute_ns = 0;
            }
        }
        max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panes(size_s: u64, slide_s: u64, lateness_s: u64) -> Panes {
        Panes::new(
            SimDuration::from_secs(size_s),
            SimDuration::from_secs(slide_s),
            SimDuration::from_secs(lateness_s),
            4,
        )
    }

    const S: i64 = 1_000_000_000;

    #[test]
    fn tumbling_windows_fire_one_result_per_key() {
        let mut p = panes(60, 60, 0);
        for t in 0..120 {
            p.add(t * S, (t % 3) as u32, SimTime::ZERO, i64::MIN);
        }
        assert_eq!(p.due(59 * S), None);
        let k = p.due(60 * S - 1).unwrap();
        assert_eq!(k, 0);
        let mut keys = Vec::new();
        p.fire(k, 60 * S - 1, |key| keys.push(key));
        keys.sort();
        assert_eq!(keys, vec![0, 1, 2]);
        assert_eq!(p.due(60 * S - 1), None);
        // A record for the fired window is now late: dropped (no lateness).
        assert_eq!(p.add(30 * S, 3, SimTime::ZERO, 60 * S - 1), Added::Dropped);
    }

    #[test]
    fn sliding_windows_count_each_key_once_per_window() {
        let mut p = panes(60, 30, 0);
        // Key 1 at 10 s and 40 s: windows [-30, 30), [0, 60), [30, 90).
        p.add(10 * S, 1, SimTime::ZERO, i64::MIN);
        p.add(40 * S, 1, SimTime::ZERO, i64::MIN);
        let mut fired = Vec::new();
        let w = 100 * S;
        while let Some(k) = p.due(w) {
            let mut n = 0;
            p.fire(k, w, |_| n += 1);
            fired.push((k, n));
        }
        assert_eq!(fired, vec![(-1, 1), (0, 1), (1, 1)]);
    }

    #[test]
    fn out_of_order_records_of_unfired_windows_are_not_late() {
        // A first record at 100 s, then one at 30 s: no window has fired, so the second
        // opens window 0, which fires first.
        let mut p = panes(60, 60, 0);
        assert_eq!(p.add(100 * S, 0, SimTime::ZERO, i64::MIN), Added::Open);
        assert_eq!(p.add(30 * S, 1, SimTime::ZERO, i64::MIN), Added::Open);
        assert_eq!(p.due(60 * S), Some(0));
        // Skipping empty windows does not make them fired: a record of window 8 after
        // the panes moved on to window 10 is not late either.
        let mut p = panes(10, 10, 0);
        p.add(105 * S, 0, SimTime::ZERO, i64::MIN);
        assert_eq!(p.next_with_data(), Some(10));
        assert_eq!(p.add(85 * S, 1, SimTime::ZERO, 20 * S), Added::Open);
        assert_eq!(p.due(100 * S), Some(8));
    }

    #[test]
    fn a_key_back_in_a_pane_gives_one_result() {
        let mut p = panes(60, 60, 0);
        p.add(10 * S, 0, SimTime::ZERO, i64::MIN);
        p.add(70 * S, 0, SimTime::ZERO, i64::MIN);
        p.add(20 * S, 0, SimTime::ZERO, i64::MIN);
        let mut n = 0;
        let k = p.due(60 * S).unwrap();
        p.fire(k, 60 * S, |_| n += 1);
        assert_eq!(n, 1);
    }

    #[test]
    fn a_late_extended_session_is_purged_after_its_lateness() {
        let mut s = Sessions::new(SimDuration::from_secs(10), SimDuration::from_secs(100), 1);
        s.add(0, 0, i64::MIN);
        s.fire(20 * S, |_, _| {});
        assert_eq!(s.add(5 * S, 0, 20 * S), Added::LateFirings(1));
        s.fire(200 * S, |_, _| {});
        assert_eq!(s.open_count, 0);
    }

    #[test]
    fn allowed_lateness_fires_again_then_drops() {
        let mut p = panes(60, 60, 10);
        p.add(5 * S, 0, SimTime::ZERO, i64::MIN);
        let w = 60 * S;
        let k = p.due(w).unwrap();
        p.fire(k, w, |_| {});
        // Within the lateness: a late firing.
        assert_eq!(
            p.add(20 * S, 1, SimTime::ZERO, 65 * S),
            Added::LateFirings(1)
        );
        // Past it: dropped.
        assert_eq!(p.add(20 * S, 1, SimTime::ZERO, 70 * S), Added::Dropped);
    }

    #[test]
    fn sessions_merge_and_fire_after_the_gap() {
        let mut s = Sessions::new(SimDuration::from_secs(10), SimDuration::ZERO, 2);
        s.add(0, 0, i64::MIN);
        s.add(5 * S, 0, i64::MIN);
        s.add(30 * S, 0, i64::MIN);
        s.add(3 * S, 1, i64::MIN);
        let mut out = Vec::new();
        s.fire(20 * S, |k, end| out.push((k, end / S)));
        out.sort();
        assert_eq!(out, vec![(0, 15), (1, 13)]);
        s.fire(40 * S, |k, end| out.push((k, end / S)));
        assert_eq!(out.last(), Some(&(0, 40)));
        assert_eq!(s.open_count, 0);
    }
}
