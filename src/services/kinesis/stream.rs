//! The stream component: its shards, routing by hash key, resharding, on-demand scaling,
//! counters, report and billable usage.

use super::hash;
use super::limits::KinesisLimits;
use super::shard::{KeyMark, Shard, ShardLimits};
use crate::load::DurationDist;
use crate::metrics::ComponentReport;
use crate::sim::{SimDuration, SimRng, SimTime};
use serde_json::Value;

/// One shard's row of a stream report's `shard_detail` (written for streams of at most
/// 256 shards, open and closed, in creation order).
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ShardDetail {
    /// Shard number, in creation order (`shardId-00000000000N`).
    id: u32,
    /// Whether it accepts writes (false once split or merged).
    open: bool,
    /// First hash key of its range (a 128-bit integer, in decimal).
    starting_hash_key: String,
    /// Last hash key of its range, inclusive (decimal).
    ending_hash_key: String,
    /// Shards it was split or merged from.
    parents: Vec<u32>,
    /// Records written to it (measured window).
    records_put: u64,
    /// Bytes written to it.
    bytes_put: u64,
    /// Writes it refused for its throughput limits.
    throttled: u64,
    /// Its write utilisation (share of its write limit; null if not a number).
    #[schemars(with = "Option<f64>")]
    write_utilization: f64,
}

/// Capacity mode of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapacityMode {
    /// A fixed number of shards, changed only by resharding.
    Provisioned,
    /// On-demand standard: starts at 4 MB/s and scales by splitting busy shards.
    OnDemand,
    /// On-demand advantage: as on-demand, with warm throughput provisioned up front and
    /// up to 50 enhanced fan-out consumers.
    OnDemandAdvantage,
}

impl CapacityMode {
    /// The model-file spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CapacityMode::Provisioned => "provisioned",
            CapacityMode::OnDemand => "on_demand",
            CapacityMode::OnDemandAdvantage => "on_demand_advantage",
        }
    }

    /// True for both on-demand modes.
    pub(crate) fn on_demand(self) -> bool {
        !matches!(self, CapacityMode::Provisioned)
    }
}

/// A resharding operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReshardOp {
    /// `UpdateShardCount` with uniform scaling to this many shards.
    UpdateShardCount(u32),
    /// `SplitShard` of this shard at the middle of its hash-key range.
    Split(u32),
    /// `MergeShards` of these two adjacent shards.
    Merge(u32, u32),
}

/// A scheduled resharding operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reshard {
    /// When, from the start of the run.
    pub at: SimDuration,
    /// What.
    pub op: ReshardOp,
}

/// A validated stream.
#[derive(Clone, Debug)]
pub struct StreamSpec {
    /// Name.
    pub name: String,
    /// Capacity mode.
    pub mode: CapacityMode,
    /// Shards at the start.
    pub shards: u32,
    /// Retention period.
    pub retention: SimDuration,
    /// On-demand advantage: warm write throughput, bytes per second (0: none).
    pub warm_throughput: u64,
    /// Latency of one data-plane call (round trip).
    pub api_latency: DurationDist,
    /// Enhanced fan-out propagation: accepted put → push to a subscriber.
    pub efo_propagation: DurationDist,
    /// Polling read lag: a GetRecords call sees the records put at least this long (drawn
    /// per call) before it reaches the shard.
    pub read_lag: DurationDist,
    /// Resharding schedule, in time order.
    pub reshards: Vec<Reshard>,
    /// Keep every record's key to verify per-key ordering (costs 16 bytes per record).
    pub track_keys: bool,
    /// Most shards on-demand scaling may reach.
    pub max_shards: u32,
    /// The Kinesis limits in force.
    pub limits: KinesisLimits,
}

impl StreamSpec {
    /// The per-shard limits in plain units.
    pub(crate) fn shard_limits(&self) -> ShardLimits {
        let l = &self.limits;
        ShardLimits {
            write_bytes_per_s: l.shard_write_bytes_per_s.0,
            write_records_per_s: l.shard_write_records_per_s as u64,
            write_burst_bytes: l.shard_write_burst_bytes.0,
            write_burst_records: l.shard_write_burst_records as u64,
            read_bytes_per_s: l.shard_read_bytes_per_s.0,
            read_calls_per_s: l.shard_read_calls_per_s as u64,
            read_max_bytes: l.get_records_max_bytes.0,
            read_penalty: l.get_records_penalty.0,
        }
    }

    /// Shards ever created by the resharding schedule of a provisioned stream, the initial
    /// ones included (for sizing time-series columns).
    pub(crate) fn shards_ever(&self) -> u64 {
        let created: u64 = self
            .reshards
            .iter()
            .map(|r| match r.op {
                ReshardOp::UpdateShardCount(n) => n as u64,
                ReshardOp::Split(_) => 2,
                ReshardOp::Merge(..) => 1,
            })
            .sum();
        self.shards as u64 + created
    }
}

/// Counters of a stream (reset at the warm-up).
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamStats {
    /// Kinesis records accepted (an aggregated record counts once).
    pub(crate) records_put: u64,
    /// User records in the accepted records (equal to `records_put` without aggregation).
    pub(crate) user_records_put: u64,
    /// Accepted records in the KPL aggregated format (two or more user records).
    pub(crate) aggregated_records_put: u64,
    /// Bytes accepted, data + partition keys (what counts against the write limit).
    pub(crate) bytes_put: u64,
    /// Records refused with `ProvisionedThroughputExceededException` (write throttles).
    pub(crate) throttled: u64,
    /// GetRecords calls refused (read throttles, `ReadProvisionedThroughputExceeded`).
    pub(crate) read_throttled: u64,
    /// Records refused as larger than the record limit.
    pub(crate) rejected: u64,
    /// PUT payload units: each accepted record's size in 25 KB units, rounded up.
    pub(crate) put_units: u64,
    /// Accepted bytes with each record rounded up to 1 KB (on-demand data-in billing).
    pub(crate) bytes_billed_1kb: u64,
    /// Record copies lost to retention (unread by a consumer), over all consumers.
    pub(crate) expired: u64,
    /// GetRecords calls served.
    pub(crate) get_records_calls: u64,
    /// Bytes returned by GetRecords (shared-throughput reads).
    pub(crate) bytes_out: u64,
    /// Bytes pushed to enhanced fan-out consumers.
    pub(crate) efo_bytes: u64,
    /// Bytes read that were older than 7 days when read (long-term retrieval).
    pub(crate) long_term_read_bytes: u64,
    /// Largest iterator age seen by any consumer, ns.
    pub(crate) iterator_age_max_ns: u64,
    /// Shards split (by the schedule or on-demand scaling).
    pub(crate) splits: u64,
    /// Shard merges.
    pub(crate) merges: u64,
    /// UpdateShardCount operations.
    pub(crate) shard_count_updates: u64,
    /// Most open shards at once.
    pub(crate) shards_max: u64,
    /// Open shard × time over the measured window, ns.
    pub(crate) shard_ns: u128,
}

/// Billable usage of one stream over the measured window, for pricing.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct KinesisUsageCounters {
    /// Stream name.
    pub(crate) name: String,
    /// Capacity mode (`provisioned`, `on_demand`, `on_demand_advantage`).
    pub(crate) mode: &'static str,
    /// Measured window, s.
    pub(crate) window_s: f64,
    /// Open-shard hours (provisioned shard-hours; informative for on-demand).
    pub(crate) shard_hours: f64,
    /// Stream hours (on-demand standard bills each stream hour; 0 for provisioned).
    pub(crate) stream_hours: f64,
    /// PUT payload units (25 KB chunks of accepted records).
    pub(crate) put_payload_units: u64,
    /// Accepted bytes (data + partition keys).
    pub(crate) bytes_in: u64,
    /// Accepted bytes with every record rounded up to 1 KB (on-demand data in).
    pub(crate) bytes_in_billed: u64,
    /// Bytes read through shared-throughput GetRecords (polling consumers, Lambda).
    pub(crate) bytes_out: u64,
    /// Registered enhanced fan-out consumers.
    pub(crate) efo_consumers: u32,
    /// Enhanced fan-out consumer-shard hours (consumers × open shards × hours).
    pub(crate) efo_consumer_shard_hours: f64,
    /// Bytes pushed to enhanced fan-out consumers (each consumer counts).
    pub(crate) efo_bytes: u64,
    /// Retention period, hours (extended retention is billed above 24 h).
    pub(crate) retention_hours: f64,
    /// Provisioned: shard-hours while the retention period is above 24 hours.
    pub(crate) extended_retention_shard_hours: f64,
    /// Data held between 24 hours and 7 days old, GiB × hours over the window, in steady
    /// state (see [`KinesisStream::usage`]).
    pub(crate) extended_retention_gb_hours: f64,
    /// Data held beyond 7 days old, GiB × hours over the window, in steady state.
    pub(crate) long_term_retention_gb_hours: f64,
    /// Bytes read (GetRecords or pushes) that were older than 7 days when read.
    pub(crate) long_term_retrieval_bytes: u64,
}

impl KinesisUsageCounters {
    /// The record the pricing layer bills.
    pub(crate) fn to_pricing(&self) -> crate::services::kinesis::bill::KinesisStreamUsage {
        use crate::services::kinesis::bill::StreamMode;
        crate::services::kinesis::bill::KinesisStreamUsage {
            name: self.name.clone(),
            mode: StreamMode::from_key(self.mode),
            shard_hours: self.shard_hours,
            stream_hours: self.stream_hours,
            put_payload_units: self.put_payload_units,
            bytes_in_billed: self.bytes_in_billed,
            bytes_out: self.bytes_out,
            efo_consumer_shard_hours: self.efo_consumer_shard_hours,
            efo_bytes: self.efo_bytes,
            extended_retention_shard_hours: self.extended_retention_shard_hours,
            extended_retention_gb_hours: self.extended_retention_gb_hours,
            long_term_retention_gb_hours: self.long_term_retention_gb_hours,
            long_term_retrieval_bytes: self.long_term_retrieval_bytes,
        }
    }
}

/// What a resharding operation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Topology {
    /// Shards closed.
    pub(crate) closed: Vec<u32>,
    /// Shards created.
    pub(crate) created: Vec<u32>,
}

/// A Kinesis data stream.
pub(crate) struct KinesisStream {
    /// Its validated spec.
    pub(crate) spec: StreamSpec,
    /// Every shard ever created, by shard id.
    pub(crate) shards: Vec<Shard>,
    /// Open shards as `(starting hash key, id)`, sorted.
    open: Vec<(u128, u32)>,
    /// Bumped at every topology change (producers re-route cached keys).
    pub(crate) epoch: u32,
    readers: usize,
    efo_readers: u32,
    /// Counters.
    pub(crate) stats: StreamStats,
    limits: ShardLimits,
    /// Random stream (call latencies, propagation).
    pub(crate) rng: SimRng,
    /// Random stream of the read lag, apart from `rng` so that turning the lag off (or
    /// changing it) leaves every other draw of the stream as it was.
    pub(crate) lag_rng: SimRng,
    accounted_at: SimTime,
}

impl KinesisStream {
    /// A new stream with its initial shards, `readers` reader slots of which `efo_readers`
    /// are enhanced fan-out consumers.
    pub(crate) fn new(spec: StreamSpec, readers: usize, efo_readers: u32, rng: SimRng) -> Self {
        let limits = spec.shard_limits();
        let n = spec.shards.max(1);
        // 2^128 draws ahead of `rng`: a sequence of its own.
        let mut lag_rng = rng.clone();
        lag_rng.jump();
        let shards: Vec<Shard> = (0..n)
            .map(|i| {
                let (a, b) = hash::even_range(i, n);
                Shard::new(i, a, b, Vec::new(), SimTime::ZERO, readers, &limits)
            })
            .collect();
        let mut s = KinesisStream {
            spec,
            shards,
            open: Vec::new(),
            epoch: 1,
            readers,
            efo_readers,
            stats: StreamStats::default(),
            limits,
            rng,
            lag_rng,
            accounted_at: SimTime::ZERO,
        };
        s.rebuild_open();
        s.stats.shards_max = s.open.len() as u64;
        s
    }

    fn rebuild_open(&mut self) {
        self.open = self
            .shards
            .iter()
            .filter(|s| s.open)
            .map(|s| (s.start, s.id))
            .collect();
        self.open.sort_unstable();
    }

    /// The per-shard limits.
    pub(crate) fn shard_limits(&self) -> &ShardLimits {
        &self.limits
    }

    /// Open shards now.
    pub(crate) fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Ids of the open shards, in hash-key order.
    #[cfg(test)]
    pub(crate) fn open_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.open.iter().map(|(_, id)| *id)
    }

    /// The open shard owning `hash_key`.
    #[inline]
    pub(crate) fn route(&self, hash_key: u128) -> u32 {
        let i = self.open.partition_point(|(s, _)| *s <= hash_key);
        self.open[i.saturating_sub(1)].1
    }

    /// Offers a Kinesis record of `bytes` (data + key) carrying `users` user records (1
    /// without aggregation) with hash key routed to shard `shard` at `now`; stores it and
    /// returns true if the shard's write budget admits it. `lead` is Σ over the user
    /// records of (now − creation), ns; `marks` their key marks (key tracking only).
    /// An aggregated record counts once toward the record limit, PUT payload units and
    /// the 1 KB rounding, as one Kinesis record.
    #[inline]
    pub(crate) fn put(
        &mut self,
        now: SimTime,
        shard: u32,
        bytes: u64,
        users: u32,
        lead: u64,
        marks: &[KeyMark],
    ) -> bool {
        let sh = &mut self.shards[shard as usize];
        if !sh.admit_write(now, bytes) {
            self.stats.throttled += 1;
            return false;
        }
        sh.append(now, bytes, users, lead, marks);
        let st = &mut self.stats;
        st.records_put += 1;
        st.user_records_put += users as u64;
        if users > 1 {
            st.aggregated_records_put += 1;
        }
        st.bytes_put += bytes;
        let unit = self.spec.limits.put_payload_unit.0.max(1);
        st.put_units += bytes.div_ceil(unit).max(1);
        let kb = self.spec.limits.on_demand_billing_unit.0.max(1);
        st.bytes_billed_1kb += bytes.div_ceil(kb).max(1) * kb;
        true
    }

    /// Applies retention to shard `s` at `now`; returns the record copies lost.
    pub(crate) fn expire_shard(&mut self, s: u32, now: SimTime) -> u64 {
        let lost = self.shards[s as usize].expire(now, self.spec.retention);
        self.stats.expired += lost;
        lost
    }

    /// Applies retention to every shard; returns the record copies lost.
    pub(crate) fn expire_all(&mut self, now: SimTime) -> u64 {
        let mut lost = 0;
        for s in 0..self.shards.len() {
            lost += self.expire_shard(s as u32, now);
        }
        lost
    }

    /// Brings the shard-time integral up to `now`, counting from `since`.
    pub(crate) fn account(&mut self, now: SimTime, since: SimTime) {
        let from = self.accounted_at.max(since);
        if now > from {
            self.stats.shard_ns += (now - from).0 as u128 * self.open.len() as u128;
        }
        self.accounted_at = now;
    }

    fn new_shard(&mut self, start: u128, end: u128, parents: Vec<u32>, now: SimTime) -> u32 {
        let id = self.shards.len() as u32;
        for p in &parents {
            self.shards[*p as usize].children.push(id);
        }
        self.shards.push(Shard::new(
            id,
            start,
            end,
            parents,
            now,
            self.readers,
            &self.limits,
        ));
        id
    }

    /// Applies a resharding operation at `now` (the measured window starts at `since`).
    /// Operations on shards that are not open are ignored (an empty result).
    pub(crate) fn reshard(&mut self, op: ReshardOp, now: SimTime, since: SimTime) -> Topology {
        self.account(now, since);
        let mut t = Topology::default();
        match op {
            ReshardOp::Split(s) => {
                let Some(sh) = self.shards.get(s as usize).filter(|x| x.open) else {
                    return t;
                };
                let (a, b) = (sh.start, sh.end);
                let Some(m) = hash::midpoint(a, b) else {
                    return t;
                };
                self.shards[s as usize].close(now);
                t.closed.push(s);
                t.created.push(self.new_shard(a, m - 1, vec![s], now));
                t.created.push(self.new_shard(m, b, vec![s], now));
                self.stats.splits += 1;
            }
            ReshardOp::Merge(x, y) => {
                let ok = |i: u32| self.shards.get(i as usize).is_some_and(|s| s.open);
                if !ok(x) || !ok(y) || x == y {
                    return t;
                }
                let (p, q) = if self.shards[x as usize].start < self.shards[y as usize].start {
                    (x, y)
                } else {
                    (y, x)
                };
                if self.shards[p as usize].end.checked_add(1) != Some(self.shards[q as usize].start)
                {
                    return t;
                }
                let (a, b) = (self.shards[p as usize].start, self.shards[q as usize].end);
                self.shards[p as usize].close(now);
                self.shards[q as usize].close(now);
                t.closed.extend([p, q]);
                t.created.push(self.new_shard(a, b, vec![p, q], now));
                self.stats.merges += 1;
            }
            ReshardOp::UpdateShardCount(n) => {
                let old: Vec<(u128, u128, u32)> = self
                    .open
                    .iter()
                    .map(|(_, id)| {
                        let s = &self.shards[*id as usize];
                        (s.start, s.end, s.id)
                    })
                    .collect();
                for (_, _, id) in &old {
                    self.shards[*id as usize].close(now);
                    t.closed.push(*id);
                }
                for i in 0..n.max(1) {
                    let (a, b) = hash::even_range(i, n.max(1));
                    let parents = old
                        .iter()
                        .filter(|(s, e, _)| *s <= b && a <= *e)
                        .map(|(_, _, id)| *id)
                        .collect();
                    t.created.push(self.new_shard(a, b, parents, now));
                }
                self.stats.shard_count_updates += 1;
            }
        }
        self.rebuild_open();
        self.epoch = self.epoch.wrapping_add(1).max(1);
        self.stats.shards_max = self.stats.shards_max.max(self.open.len() as u64);
        t
    }

    /// On-demand scaling, run every `interval`: each open shard whose offered write
    /// throughput over the interval was above half a shard's limit (500 KB/s, or 500
    /// records/s) is marked for a split; returns the shards marked.
    pub(crate) fn evaluate_on_demand(&mut self, interval: SimDuration, out: &mut Vec<u32>) {
        let secs = interval.as_secs_f64().max(1e-9);
        let byte_limit = self.spec.limits.on_demand_split_bytes_per_s.0 as f64;
        let record_limit = self.spec.limits.shard_write_records_per_s as f64 / 2.0;
        let mut open_or_pending = self.open.len() as u32;
        for i in 0..self.open.len() {
            let id = self.open[i].1 as usize;
            let sh = &mut self.shards[id];
            let bps = sh.stats.eval_bytes as f64 / secs;
            let rps = sh.stats.eval_records as f64 / secs;
            sh.stats.eval_bytes = 0;
            sh.stats.eval_records = 0;
            if sh.split_pending || sh.end <= sh.start {
                continue;
            }
            if (bps > byte_limit || rps > record_limit) && open_or_pending < self.spec.max_shards {
                sh.split_pending = true;
                open_or_pending += 1;
                out.push(id as u32);
            }
        }
    }

    /// Counts the bytes of `slices`, read at `now`, that were older than 7 days.
    #[inline]
    pub(crate) fn note_read_age(&mut self, now: SimTime, slices: &[super::Slice]) {
        const WEEK: SimDuration = SimDuration::from_secs(7 * 86_400);
        if self.spec.retention <= WEEK {
            return;
        }
        for s in slices {
            if now - s.t_mid() > WEEK {
                self.stats.long_term_read_bytes += s.bytes;
            }
        }
    }

    /// Records a consumer's iterator age.
    #[inline]
    pub(crate) fn note_iterator_age(&mut self, age: SimDuration) {
        if age.0 > self.stats.iterator_age_max_ns {
            self.stats.iterator_age_max_ns = age.0;
        }
    }

    /// Records stored and unexpired, over all shards.
    pub(crate) fn stored(&self) -> u64 {
        self.shards.iter().map(|s| s.stored()).sum()
    }

    /// Resets the counters at the end of the warm-up.
    pub(crate) fn reset_stats(&mut self, now: SimTime) {
        self.stats = StreamStats {
            shards_max: self.open.len() as u64,
            ..StreamStats::default()
        };
        self.accounted_at = now;
        for s in &mut self.shards {
            s.reset_stats();
        }
    }

    /// Billable usage over the measured window of `window_s` seconds.
    ///
    /// # Formula
    /// Retention storage is the steady state of the window's write rate: a stream keeping
    /// records `R` hours holds `rate × (min(R, 168) − 24)` bytes between 24 hours and 7
    /// days old, and `rate × (R − 168)` beyond 7 days, so over the window
    /// `extended GiB-hours = bytes_in / 2³⁰ × max(0, min(R, 168) − 24)` and
    /// `long-term GiB-hours = bytes_in / 2³⁰ × max(0, R − 168)`. (A short simulation
    /// starts with an empty stream, so it could not measure these directly.)
    pub(crate) fn usage(&self, window_s: f64) -> KinesisUsageCounters {
        use crate::services::kinesis::bill::{retention_gb_hours, shard_hour_usage, StreamMode};
        let st = &self.stats;
        let r_h = self.spec.retention.as_secs_f64() / 3600.0;
        let hours = shard_hour_usage(
            StreamMode::from_key(self.spec.mode.as_str()),
            st.shard_ns as f64 / 3.6e12,
            window_s / 3600.0,
            self.efo_readers as f64,
            r_h,
        );
        let (ext, long) =
            retention_gb_hours(st.bytes_put as f64 / crate::pricing::BYTES_PER_GB, r_h);
        KinesisUsageCounters {
            name: self.spec.name.clone(),
            mode: self.spec.mode.as_str(),
            window_s,
            shard_hours: hours.shard_hours,
            stream_hours: hours.stream_hours,
            put_payload_units: st.put_units,
            bytes_in: st.bytes_put,
            bytes_in_billed: st.bytes_billed_1kb,
            bytes_out: st.bytes_out,
            efo_consumers: self.efo_readers,
            efo_consumer_shard_hours: hours.efo_consumer_shard_hours,
            efo_bytes: st.efo_bytes,
            retention_hours: r_h,
            extended_retention_shard_hours: hours.extended_retention_shard_hours,
            extended_retention_gb_hours: ext,
            long_term_retention_gb_hours: long,
            long_term_retrieval_bytes: st.long_term_read_bytes,
        }
    }

    /// Write utilisation of shard `s` over the measured window: accepted bytes ÷ (1 MiB/s ×
    /// the time it was open), or the same for records, whichever is higher.
    pub(crate) fn shard_utilization(&self, s: usize, now: SimTime, since: SimTime) -> f64 {
        let sh = &self.shards[s];
        let from = sh.opened_at.max(since);
        let until = sh.closed_at.unwrap_or(now).max(from);
        let secs = (until - from).as_secs_f64();
        if secs <= 0.0 {
            return 0.0;
        }
        let b = sh.stats.bytes_in as f64 / (self.limits.write_bytes_per_s as f64 * secs);
        let r = sh.stats.records_in as f64 / (self.limits.write_records_per_s as f64 * secs);
        b.max(r)
    }

    /// The component report.
    pub(crate) fn report(&self, now: SimTime, since: SimTime, window_s: f64) -> ComponentReport {
        let st = &self.stats;
        let u = self.usage(window_s);
        let mut util_max: f64 = 0.0;
        let mut shards = Vec::new();
        for (i, sh) in self.shards.iter().enumerate() {
            let util = self.shard_utilization(i, now, since);
            util_max = util_max.max(util);
            if self.shards.len() <= 256 {
                let row = ShardDetail {
                    id: sh.id,
                    open: sh.open,
                    starting_hash_key: sh.start.to_string(),
                    ending_hash_key: sh.end.to_string(),
                    parents: sh.parents.clone(),
                    records_put: sh.stats.records_in,
                    bytes_put: sh.stats.bytes_in,
                    throttled: sh.stats.throttled,
                    write_utilization: util,
                };
                shards.push(serde_json::to_value(row).unwrap_or(Value::Null));
            }
        }
        let mut r = ComponentReport::new("stream", &self.spec.name);
        r.text("mode", self.spec.mode.as_str())
            .count("shards", self.open.len() as u64)
            .count("shards_max", st.shards_max)
            .count("shards_total", self.shards.len() as u64)
            .count("records_put", st.records_put)
            .count("user_records_put", st.user_records_put)
            .count("aggregated_records_put", st.aggregated_records_put)
            .count("bytes_put", st.bytes_put)
            .count("throttled", st.throttled)
            .count("read_throttled", st.read_throttled)
            .count("rejected", st.rejected)
            .count("put_units", st.put_units)
            .count("expired", st.expired)
            .count("stored", self.stored())
            .count(
                "stored_runs",
                self.shards.iter().map(|s| s.runs_len() as u64).sum(),
            )
            .count("get_records_calls", st.get_records_calls)
            .count("bytes_out", st.bytes_out)
            .count("efo_bytes", st.efo_bytes)
            .real("iterator_age_max_s", st.iterator_age_max_ns as f64 / 1e9)
            .real("shard_write_utilization_max", util_max)
            .count("splits", st.splits)
            .count("merges", st.merges)
            .count("shard_count_updates", st.shard_count_updates)
            .real("retention_h", u.retention_hours)
            .real("shard_hours", u.shard_hours)
            .real("stream_hours", u.stream_hours)
            .count("bytes_in_billed_1kb", u.bytes_in_billed)
            .count("efo_consumers", u.efo_consumers as u64)
            .real("efo_consumer_shard_hours", u.efo_consumer_shard_hours)
            .value("shard_detail", Value::Array(shards))
            .headline(&[
                "mode",
                "shards",
                "records_put",
                "throttled",
                "read_throttled",
                "put_units",
                "expired",
                "iterator_age_max_s",
                "shard_write_utilization_max",
            ]);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Dist;
    use crate::sim::stream;

    fn spec(shards: u32) -> StreamSpec {
        StreamSpec {
            name: "s".into(),
            mode: CapacityMode::Provisioned,
            shards,
            retention: SimDuration::from_secs(86_400),
            warm_throughput: 0,
            api_latency: DurationDist(Dist::Constant(0.0)),
            efo_propagation: DurationDist(Dist::Constant(0.0)),
            read_lag: DurationDist(Dist::Constant(0.0)),
            reshards: vec![],
            track_keys: false,
            max_shards: 10_000,
            limits: KinesisLimits::default(),
        }
    }

    #[test]
    fn routes_known_keys_like_aws() {
        // md5("key-1") = 0x21af6b8b… < 2^128/4 → shard 0 of 4; md5("key-2") = 0xbcca528c…
        // in [2^127, 3·2^126) → shard 2; md5("key-3") = 0x5ccd563d… → shard 1.
        let s = KinesisStream::new(spec(4), 0, 0, stream(1, "x"));
        assert_eq!(s.route(hash::hash_key("key-1")), 0);
        assert_eq!(s.route(hash::hash_key("key-2")), 2);
        assert_eq!(s.route(hash::hash_key("key-3")), 1);
        assert_eq!(s.route(0), 0);
        assert_eq!(s.route(u128::MAX), 3);
    }

    #[test]
    fn split_merge_and_update_keep_the_space_tiled() {
        let mut s = KinesisStream::new(spec(2), 1, 0, stream(1, "x"));
        let t = s.reshard(ReshardOp::Split(0), SimTime(1), SimTime::ZERO);
        assert_eq!(t.closed, vec![0]);
        assert_eq!(t.created, vec![2, 3]);
        assert_eq!(s.open_count(), 3);
        assert_eq!(s.shards[2].parents, vec![0]);
        let t = s.reshard(ReshardOp::Merge(3, 1), SimTime(2), SimTime::ZERO);
        assert_eq!(t.created, vec![4]);
        assert_eq!(s.shards[4].parents, vec![3, 1]); // in hash-key order
                                                     // Non-adjacent merge is ignored.
        assert!(s
            .reshard(ReshardOp::Merge(2, 2), SimTime(3), SimTime::ZERO)
            .created
            .is_empty());
        let t = s.reshard(ReshardOp::UpdateShardCount(4), SimTime(4), SimTime::ZERO);
        assert_eq!(t.created.len(), 4);
        // The new shard 0 of 4, [0, 2^126 - 1], is exactly old shard 2.
        assert_eq!(s.shards[t.created[0] as usize].parents, vec![2]);
        let ids: Vec<u32> = s.open_ids().collect();
        for w in ids.windows(2) {
            assert_eq!(
                s.shards[w[0] as usize].end + 1,
                s.shards[w[1] as usize].start
            );
        }
    }
}
