//! The Kinesis flow: producers putting records into streams, consumers reading them
//! (polling and enhanced fan-out leases), stream timers (retention sweeps, resharding,
//! on-demand scaling), sampling, accounting and reports.
//!
//! Records never enter the message slab: producers hold [`PendingRecord`]s, shards hold
//! runs (`services::kinesis::shard`), consumers hold slices. The ledger is still kept:
//! a record counts in `produced` when created, `copies` gets one per extra reader of its
//! stream when it is accepted, and each copy leaves as processed, expired, dropped or lost
//! (see `services::kinesis::consumer` for the accounting rule).

use crate::engine::{sample_rate, Engine, Event};
use crate::metrics::{Accounting, ComponentReport};
use crate::model::Architecture;
use crate::producers::{RetryPolicy, Target};
use crate::services::kinesis::consumer::{
    batch_time, first_failure, LeaseState, ReadMode, StreamReader,
};
use crate::services::kinesis::consumer::{CheckpointMode, Lease};
use crate::services::kinesis::limits::{
    KPL_AGGREGATED_PARTITION_KEY_BYTES, KPL_FIXED_OVERHEAD_BYTES,
};
use crate::services::kinesis::limits::{ON_DEMAND_EVALUATION_S, RETENTION_SWEEP_S};
use crate::services::kinesis::producer::{
    agg_stamp, key_entry_bytes, user_entry_bytes, Aggregate, AggregationSpec, KinesisClient,
    PendingRecord,
};
use crate::services::kinesis::{KeyMark, KinesisStream, KinesisUsageCounters, ReshardOp};
use crate::services::lambda::engine_kinesis::KinesisMapping;
use crate::services::lambda::LambdaSource;
use crate::sim::{stream, SimDuration, SimTime};
use rand::Rng;

/// A timer of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamOp {
    /// Apply retention to every shard.
    Sweep,
    /// On-demand scaling: measure shards and mark busy ones for a split.
    Evaluate,
    /// Scheduled resharding step `i` of the stream's spec.
    Reshard(u32),
    /// On-demand scaling: split this shard now.
    Split(u32),
}

/// Who reads a stream through a reader slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReaderRef {
    /// `[[stream_consumer]]` number `r`.
    Consumer(u32),
    /// Lambda event source mapping number `m`.
    Mapping(u32),
    /// Batch job number `j` (reads when it runs: see `crate::batch`).
    Batch(u32),
}

/// The Kinesis state of a run.
pub(crate) struct Kinesis {
    /// Streams, by model order.
    pub(crate) streams: Vec<KinesisStream>,
    /// Stream consumers, by model order.
    pub(crate) readers: Vec<StreamReader>,
    /// The Kinesis client of each producer (None for producers of other targets).
    pub(crate) clients: Vec<Option<KinesisClient>>,
    /// Lambda event source mappings on streams.
    pub(crate) mappings: Vec<KinesisMapping>,
    /// For each stream, who holds each reader slot.
    pub(crate) slots: Vec<Vec<ReaderRef>>,
    /// Per-shard iterator-age columns: (consumer, shard) pairs, in column order.
    shard_columns: Vec<(u32, u32)>,
    /// Per-shard write-utilisation columns: for each stream, how many shards get one
    /// (every shard it ever has for a provisioned stream of at most 32; else none).
    util_columns: Vec<u32>,
    /// Slices a Firehose reader is handing to its delivery stream.
    pub(crate) handed: Vec<crate::services::kinesis::shard::Slice>,
    scratch: Vec<u32>,
}

impl Kinesis {
    /// Builds the streams, consumers and producer clients of `arch`.
    pub(crate) fn new(arch: &Architecture, seed: u64) -> Self {
        let n = arch.streams.len();
        // Enhanced fan-out consumers take the first slots (their wake-up bits fit a u64).
        let mut slots: Vec<Vec<ReaderRef>> = vec![Vec::new(); n];
        let mut efo = vec![0u32; n];
        let mut slot_of = vec![0usize; arch.stream_consumers.len()];
        let mut mappings = Vec::new();
        for pass in [ReadMode::Efo, ReadMode::Polling] {
            for (r, c) in arch.stream_consumers.iter().enumerate() {
                if c.mode == pass {
                    let st = c.stream as usize;
                    slot_of[r] = slots[st].len();
                    slots[st].push(ReaderRef::Consumer(r as u32));
                    if pass == ReadMode::Efo {
                        efo[st] += 1;
                    }
                }
            }
            if pass == ReadMode::Efo {
                // Lambda mappings with enhanced fan-out are registered consumers too.
                for (l, f) in arch.lambdas.iter().enumerate() {
                    if let (LambdaSource::Kinesis(st), true) = (f.source, f.efo) {
                        let m = mappings.len() as u32;
                        let slot = slots[st as usize].len();
                        mappings.push(KinesisMapping::new(l as u32, st, slot, true));
                        slots[st as usize].push(ReaderRef::Mapping(m));
                        efo[st as usize] += 1;
                    }
                }
            }
        }
        for (l, f) in arch.lambdas.iter().enumerate() {
            if let (LambdaSource::Kinesis(st), false) = (f.source, f.efo) {
                let m = mappings.len() as u32;
                let slot = slots[st as usize].len();
                mappings.push(KinesisMapping::new(l as u32, st, slot, false));
                slots[st as usize].push(ReaderRef::Mapping(m));
            }
        }
        for (j, b) in arch.batch_jobs.iter().enumerate() {
            if let crate::batch::BatchStore::Stream(st) = b.store {
                slots[st as usize].push(ReaderRef::Batch(j as u32));
            }
        }
        let streams: Vec<KinesisStream> = arch
            .streams
            .iter()
            .enumerate()
            .map(|(i, s)| {
                KinesisStream::new(
                    s.clone(),
                    slots[i].len(),
                    efo[i],
                    stream(seed, &format!("stream:{}", s.name)),
                )
            })
            .collect();
        let readers = arch
            .stream_consumers
            .iter()
            .enumerate()
            .map(|(r, c)| {
                StreamReader::new(
                    c.clone(),
                    slot_of[r],
                    stream(seed, &format!("consumer:{}", c.name)),
                )
            })
            .collect();
        let clients = arch
            .producers
            .iter()
            .map(|p| match p.target {
                Target::Stream(st) => {
                    let spec = &arch.streams[st as usize];
                    let trace_keys = match &p.arrival {
                        crate::load::Arrival::Trace(t) => t.keys.clone(),
                        _ => Vec::new(),
                    };
                    let keys = p.keys.as_ref().map(|k| k.keys()).unwrap_or(0);
                    Some(
                        KinesisClient::new(
                            st,
                            keys,
                            &p.key_prefix,
                            trace_keys,
                            p.batch,
                            spec.limits.put_records_max_bytes.0,
                            spec.track_keys,
                        )
                        .with_aggregation(p.aggregation),
                    )
                }
                Target::Queue(_) | Target::Topic(_) | Target::Firehose(_) => None,
            })
            .collect();
        let mut shard_columns = Vec::new();
        for (r, c) in arch.stream_consumers.iter().enumerate() {
            let spec = &arch.streams[c.stream as usize];
            if !spec.mode.on_demand() && spec.shards_ever() <= 32 {
                for s in 0..spec.shards_ever() {
                    shard_columns.push((r as u32, s as u32));
                }
            }
        }
        let util_columns = arch
            .streams
            .iter()
            .map(|spec| {
                if !spec.mode.on_demand() && spec.shards_ever() <= 32 {
                    spec.shards_ever() as u32
                } else {
                    0
                }
            })
            .collect();
        Kinesis {
            streams,
            readers,
            clients,
            mappings,
            slots,
            shard_columns,
            util_columns,
            handed: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Time-series column names, in the order [`Engine::kinesis_sample`] fills them.
    pub(crate) fn columns(&self, arch: &Architecture) -> Vec<String> {
        let mut out = Vec::new();
        for s in &arch.streams {
            for m in [
                "records_put_per_s",
                "throttled_per_s",
                "shards",
                "write_utilization_max",
                "stored",
            ] {
                out.push(format!("stream.{}.{m}", s.name));
            }
        }
        for c in &arch.stream_consumers {
            for m in ["processed_per_s", "iterator_age_s"] {
                out.push(format!("consumer.{}.{m}", c.name));
            }
        }
        for (r, s) in &self.shard_columns {
            out.push(format!(
                "consumer.{}.shard-{s}.iterator_age_s",
                arch.stream_consumers[*r as usize].name
            ));
        }
        for (st, n) in self.util_columns.iter().enumerate() {
            for s in 0..*n {
                out.push(format!(
                    "stream.{}.shard-{s}.write_utilization",
                    arch.streams[st].name
                ));
            }
        }
        out
    }
}

impl Engine<'_> {
    // ----- start, timers, end ----------------------------------------------------------

    /// Schedules the streams' timers and starts every consumer's leases.
    pub(crate) fn kinesis_start(&mut self) {
        for st in 0..self.kin.streams.len() {
            let spec = &self.kin.streams[st].spec;
            let st = st as u32;
            let sweep = SimTime::ZERO + SimDuration::from_secs(RETENTION_SWEEP_S);
            let on_demand = spec.mode.on_demand();
            let steps: Vec<SimDuration> = spec.reshards.iter().map(|r| r.at).collect();
            if sweep <= self.horizon {
                self.at(
                    sweep,
                    Event::StreamTimer {
                        st,
                        op: StreamOp::Sweep,
                    },
                );
            }
            if on_demand {
                let t = SimTime::ZERO + SimDuration::from_secs(ON_DEMAND_EVALUATION_S);
                if t <= self.horizon {
                    self.at(
                        t,
                        Event::StreamTimer {
                            st,
                            op: StreamOp::Evaluate,
                        },
                    );
                }
            }
            for (i, at) in steps.into_iter().enumerate() {
                let t = SimTime::ZERO + at;
                if t <= self.horizon {
                    self.at(
                        t,
                        Event::StreamTimer {
                            st,
                            op: StreamOp::Reshard(i as u32),
                        },
                    );
                }
            }
        }
        for r in 0..self.kin.readers.len() {
            let st = self.kin.readers[r].spec.stream as usize;
            let shards = self.kin.streams[st].shards.len();
            self.grow_leases(r, shards);
            let outages = self.kin.readers[r].spec.outages.clone();
            for w in outages {
                let r = r as u32;
                self.at(w.from, Event::ReaderOutage { r, start: true });
                self.at(w.until, Event::ReaderOutage { r, start: false });
            }
            for s in 0..shards {
                if self.kin.streams[st].shards[s].parents.is_empty() {
                    self.lease_start(r as u32, s as u32);
                }
            }
        }
        self.kinesis_lambda_start();
    }

    fn grow_leases(&mut self, r: usize, shards: usize) {
        let now = self.now;
        let reader = &mut self.kin.readers[r];
        let st = reader.spec.stream as usize;
        let efo = self.kin.streams[st].spec.limits.efo_bytes_per_s.0;
        while reader.leases.len() < shards {
            reader.leases.push(Lease::new(efo, now));
        }
    }

    pub(crate) fn on_stream_timer(&mut self, st: u32, op: StreamOp) {
        let now = self.now;
        let si = st as usize;
        match op {
            StreamOp::Sweep => {
                let lost = self.kin.streams[si].expire_all(now);
                self.msgs.ledger.expired += lost;
                let next = now + SimDuration::from_secs(RETENTION_SWEEP_S);
                if next <= self.horizon {
                    self.at(next, Event::StreamTimer { st, op });
                }
            }
            StreamOp::Evaluate => {
                let every = SimDuration::from_secs(ON_DEMAND_EVALUATION_S);
                let mut marked = std::mem::take(&mut self.kin.scratch);
                marked.clear();
                self.kin.streams[si].evaluate_on_demand(every, &mut marked);
                let delay = self.kin.streams[si].spec.limits.on_demand_scale_delay.0;
                for s in marked.iter().copied() {
                    if now + delay <= self.horizon {
                        self.at(
                            now + delay,
                            Event::StreamTimer {
                                st,
                                op: StreamOp::Split(s),
                            },
                        );
                    }
                }
                self.kin.scratch = marked;
                if now + every <= self.horizon {
                    self.at(now + every, Event::StreamTimer { st, op });
                }
            }
            StreamOp::Reshard(i) => {
                let op = self.kin.streams[si].spec.reshards[i as usize].op;
                self.apply_reshard(st, op);
            }
            StreamOp::Split(s) => self.apply_reshard(st, ReshardOp::Split(s)),
        }
    }

    /// Reshards stream `st`, gives every reader leases on the new shards and starts those
    /// whose parents it has drained.
    fn apply_reshard(&mut self, st: u32, op: ReshardOp) {
        let now = self.now;
        let since = self.measure_from;
        let topo = self.kin.streams[st as usize].reshard(op, now, since);
        if topo.created.is_empty() {
            return;
        }
        let shards = self.kin.streams[st as usize].shards.len();
        self.esm_reshard(st, &topo.created);
        let readers: Vec<u32> = self.kin.slots[st as usize]
            .iter()
            .filter_map(|x| match x {
                ReaderRef::Consumer(r) => Some(*r),
                ReaderRef::Mapping(_) | ReaderRef::Batch(_) => None,
            })
            .collect();
        for r in readers {
            self.grow_leases(r as usize, shards);
            // Subscribed leases on closed shards learn that no more records will come.
            for s in topo.closed.iter().copied() {
                if self.kin.readers[r as usize].leases[s as usize].state == LeaseState::Subscribed {
                    let slot = self.kin.readers[r as usize].slot;
                    self.kin.streams[st as usize].shards[s as usize].efo_waiting &= !(1u64 << slot);
                    self.efo_next(r, s);
                }
            }
            for s in topo.created.iter().copied() {
                self.maybe_start_child(r, s);
            }
        }
        // Enhanced fan-out mappings waiting on closed shards learn that no more records will
        // come (they finish the shard and start its children).
        for (slot, x) in self.kin.slots[st as usize].clone().into_iter().enumerate() {
            if let ReaderRef::Mapping(m) = x {
                // Only enhanced fan-out mappings wait in `efo_waiting` (their slots come
                // first, under the 50-consumer quota); a polling mapping's slot may be 64
                // or more.
                if !self.kin.mappings[m as usize].efo || slot >= 64 {
                    continue;
                }
                for s in topo.closed.iter().copied() {
                    let shard = &mut self.kin.streams[st as usize].shards[s as usize];
                    if shard.efo_waiting & (1u64 << slot) != 0 {
                        shard.efo_waiting &= !(1u64 << slot);
                        self.esm_efo_next(m, s);
                    }
                }
            }
        }
    }

    /// Starts reader `r`'s lease on shard `s` if it is blocked and every parent is drained.
    fn maybe_start_child(&mut self, r: u32, s: u32) {
        let reader = &self.kin.readers[r as usize];
        let st = reader.spec.stream as usize;
        if reader.leases[s as usize].state != LeaseState::Blocked {
            return;
        }
        let ready = self.kin.streams[st].shards[s as usize]
            .parents
            .iter()
            .all(|p| reader.leases[*p as usize].state == LeaseState::Done);
        if ready {
            self.lease_start(r, s);
        }
    }

    /// End of the run: retention up to the horizon, shard-hours and lease time.
    pub(crate) fn kinesis_finish(&mut self) {
        let now = self.horizon;
        let since = self.measure_from;
        for s in &mut self.kin.streams {
            let lost = s.expire_all(now);
            self.msgs.ledger.expired += lost;
            s.account(now, since);
        }
        for r in &mut self.kin.readers {
            r.finish(now, since);
        }
    }

    /// Resets Kinesis counters at the end of the warm-up.
    pub(crate) fn kinesis_warmup_end(&mut self) {
        let now = self.now;
        for s in &mut self.kin.streams {
            s.reset_stats(now);
        }
        for r in &mut self.kin.readers {
            r.reset_stats(now);
        }
        for m in &mut self.kin.mappings {
            m.reset_stats();
        }
    }

    // ----- producers -------------------------------------------------------------------

    /// Producer `p` (target: a stream) creates a record.
    pub(crate) fn on_stream_arrival(&mut self, p: u32) {
        let now = self.now;
        let pi = p as usize;
        let prod = &mut self.producers[pi];
        let (size, key) = prod.draw();
        prod.stats.generated += 1;
        self.msgs.ledger.produced += 1;
        self.schedule_next_arrival(p);
        let Some(client) = self.kin.clients[pi].as_mut() else {
            unreachable!("producers with a stream target have a Kinesis client")
        };
        let st = client.stream as usize;
        let key_len = client.key_len(key);
        let bytes = size as u64 + key_len as u64;
        if bytes > self.kin.streams[st].spec.limits.max_record_size.0 {
            // Rejected by the API (ValidationException): not retried.
            self.producers[pi].stats.rejected += 1;
            self.producers[pi].stats.dropped += 1;
            self.msgs.ledger.dropped += 1;
            self.kin.streams[st].stats.rejected += 1;
            return;
        }
        let kseq = client.next_kseq(key);
        let key_len16 = key_len.min(u16::MAX as u32) as u16;
        if let Some(agg) = client.aggregation {
            self.aggregate(p, size, key, key_len16, kseq, agg);
            return;
        }
        self.collect(p, PendingRecord::single(now, size, key, kseq, key_len16));
    }

    /// Adds record `rec` (a user record or a sealed aggregate) to producer `p`'s
    /// PutRecords collection, sending the call when it is full.
    fn collect(&mut self, p: u32, rec: PendingRecord) {
        let now = self.now;
        let pi = p as usize;
        let batch_limit = self.producers[pi].spec.batch as usize;
        let linger = self.producers[pi].spec.linger;
        let Some(client) = self.kin.clients[pi].as_mut() else {
            return;
        };
        let bytes = rec.size as u64 + rec.key_len as u64;
        if !client.batch.is_empty() && client.batch_bytes + bytes > client.max_bytes {
            self.put_flush(p);
        }
        let Some(client) = self.kin.clients[pi].as_mut() else {
            return;
        };
        client.batch.push(rec);
        client.batch_bytes += bytes;
        if client.batch.len() >= batch_limit {
            self.put_flush(p);
        } else if client.batch.len() == 1 {
            client.linger_gen = client.linger_gen.wrapping_add(1);
            let gen = client.linger_gen;
            self.at(now + linger, Event::PutLinger { p, gen });
        }
    }

    /// KPL-style aggregation of a new user record of producer `p` (see
    /// `services::kinesis::producer`): it joins the open aggregate of its predicted shard,
    /// sealing that aggregate first if the record would take it past `max_bytes`.
    fn aggregate(
        &mut self,
        p: u32,
        size: u32,
        key: u32,
        key_len: u16,
        kseq: u32,
        agg: AggregationSpec,
    ) {
        let now = self.now;
        let pi = p as usize;
        let Some(client) = self.kin.clients[pi].as_mut() else {
            return;
        };
        let st = client.stream as usize;
        let track = self.kin.streams[st].spec.track_keys && !client.random_keys();
        let shard = client.route(key, &self.kin.streams[st], &mut self.producers[pi].rng);
        let s = shard as usize;
        if client.aggs.len() <= s {
            client.aggs.resize(s + 1, Default::default());
        }
        let alone = KPL_FIXED_OVERHEAD_BYTES
            + user_entry_bytes(size as u64, 0)
            + key_entry_bytes(key_len as u64);
        if alone > agg.max_bytes {
            // Larger than an aggregate may be: it bypasses the aggregator (KPL), after
            // the aggregate of its shard so that per-key order holds.
            self.seal(p, shard);
            self.collect(p, PendingRecord::single(now, size, key, kseq, key_len));
            return;
        }
        let a = client.aggs[s];
        if a.users > 0 {
            let add = match client.key_index(key, agg_stamp(shard, a.gen)) {
                Some(i) => user_entry_bytes(size as u64, i as u64),
                None => {
                    user_entry_bytes(size as u64, a.keys as u64) + key_entry_bytes(key_len as u64)
                }
            };
            if KPL_FIXED_OVERHEAD_BYTES + a.bytes + add > agg.max_bytes {
                self.seal(p, shard);
            }
        }
        let Some(client) = self.kin.clients[pi].as_mut() else {
            return;
        };
        let a = client.aggs[s];
        let stamp = agg_stamp(shard, a.gen);
        let mark = KeyMark {
            key: (p as u64) << 32 | key as u64,
            kseq,
        };
        if a.users == 0 {
            client.set_key_index(key, stamp, 0);
            let marks = if track {
                let m = client.mark_slot();
                client.mark_slots[m as usize].push(mark);
                m
            } else {
                u32::MAX
            };
            client.aggs[s] = Aggregate {
                users: 1,
                gen: a.gen,
                bytes: user_entry_bytes(size as u64, 0) + key_entry_bytes(key_len as u64),
                keys: 1,
                first_size: size,
                first_key: key,
                first_key_len: key_len,
                first_kseq: kseq,
                created: now,
                spread: 0,
                marks,
            };
            client
                .agg_deadlines
                .push_back((now + agg.max_buffered, shard, a.gen));
            if !client.agg_timer {
                client.agg_timer = true;
                let full = client.aggs[s].users as u64 >= agg.max_records;
                self.at(now + agg.max_buffered, Event::AggFlush { p });
                if full {
                    self.seal(p, shard);
                }
                return;
            }
        } else {
            append_to_aggregate(client, s, stamp, key, size, key_len, mark, now);
        }
        if client.aggs[s].users as u64 >= agg.max_records {
            self.seal(p, shard);
        }
    }

    /// Seals producer `p`'s open aggregate for shard `shard` into the PutRecords
    /// collection (one user record goes as a plain record, as the KPL sends it).
    fn seal(&mut self, p: u32, shard: u32) {
        let Some(client) = self.kin.clients[p as usize].as_mut() else {
            return;
        };
        let e = &mut client.aggs[shard as usize];
        if e.users == 0 {
            return;
        }
        let a = *e;
        e.users = 0;
        e.gen = e.gen.wrapping_add(1);
        e.marks = u32::MAX;
        let rec = if a.users == 1 {
            client.free_mark_slot(a.marks);
            PendingRecord {
                created: a.created,
                spread: 0,
                users: 1,
                marks: u32::MAX,
                size: a.first_size,
                key: a.first_key,
                kseq: a.first_kseq,
                key_len: a.first_key_len,
            }
        } else {
            self.producers[p as usize].stats.aggregated += 1;
            PendingRecord {
                created: a.created,
                spread: a.spread,
                users: a.users,
                marks: a.marks,
                size: (KPL_FIXED_OVERHEAD_BYTES + a.bytes).min(u32::MAX as u64) as u32,
                key: a.first_key,
                kseq: a.first_kseq,
                key_len: KPL_AGGREGATED_PARTITION_KEY_BYTES as u16,
            }
        };
        self.collect(p, rec);
    }

    /// Producer `p`'s aggregation timer: seals the aggregates whose first user record has
    /// waited `max_buffered`.
    pub(crate) fn on_agg_flush(&mut self, p: u32) {
        let now = self.now;
        let pi = p as usize;
        loop {
            let Some(client) = self.kin.clients[pi].as_mut() else {
                return;
            };
            match client.agg_deadlines.front().copied() {
                Some((t, shard, gen)) if t <= now => {
                    client.agg_deadlines.pop_front();
                    let a = &client.aggs[shard as usize];
                    if a.gen == gen && a.users > 0 {
                        self.seal(p, shard);
                    }
                }
                Some((t, _, _)) => {
                    self.at(t, Event::AggFlush { p });
                    return;
                }
                None => {
                    client.agg_timer = false;
                    return;
                }
            }
        }
    }

    pub(crate) fn on_put_linger(&mut self, p: u32, gen: u32) {
        if let Some(c) = &self.kin.clients[p as usize] {
            if c.linger_gen == gen && !c.batch.is_empty() {
                self.put_flush(p);
            }
        }
    }

    fn put_flush(&mut self, p: u32) {
        let Some(client) = self.kin.clients[p as usize].as_mut() else {
            return;
        };
        client.linger_gen = client.linger_gen.wrapping_add(1);
        let call = client.open_call();
        self.put_transmit(p, call);
    }

    /// Starts (or retries) PutRecords call `call` of producer `p`.
    pub(crate) fn put_transmit(&mut self, p: u32, call: u32) {
        let Some(client) = self.kin.clients[p as usize].as_mut() else {
            return;
        };
        let stream = &mut self.kin.streams[client.stream as usize];
        let latency = stream.spec.api_latency.sample(&mut stream.rng);
        client.calls[call as usize].latency = latency;
        self.producers[p as usize].stats.calls += 1;
        let leg = latency.half();
        if leg.is_zero() {
            self.on_put_arrive(p, call);
        } else {
            self.at(self.now + leg, Event::PutArrive { p, call });
        }
    }

    /// A PutRecords call reaches its stream: each record is admitted by its shard or fails.
    pub(crate) fn on_put_arrive(&mut self, p: u32, call: u32) {
        let now = self.now;
        let pi = p as usize;
        let Some(client) = self.kin.clients[pi].as_mut() else {
            return;
        };
        let st = client.stream as usize;
        let stream = &mut self.kin.streams[st];
        let prod = &mut self.producers[pi];
        let copies = self.kin.slots[st].len().saturating_sub(1) as u64;
        let track = stream.spec.track_keys;
        let mut recs = std::mem::take(&mut client.calls[call as usize].recs);
        let mut wake = std::mem::take(&mut self.kin.scratch);
        wake.clear();
        let mut keep = 0;
        for i in 0..recs.len() {
            let rec = recs[i];
            let shard = client.route(rec.key, stream, &mut prod.rng);
            let bytes = rec.size as u64 + rec.key_len as u64;
            let single;
            let marks: &[KeyMark] = if rec.marks != u32::MAX {
                &client.mark_slots[rec.marks as usize]
            } else if track && !client.random_keys() {
                single = [KeyMark {
                    key: (p as u64) << 32 | rec.key as u64,
                    kseq: rec.kseq,
                }];
                &single
            } else {
                &[]
            };
            // Σ over the user records of (arrival − creation): exact per user record.
            let lead = rec.users as u64 * (now - rec.created).0 + rec.spread;
            if stream.put(now, shard, bytes, rec.users, lead, marks) {
                prod.stats.sent += rec.users as u64;
                prod.stats.kinesis_records += 1;
                self.msgs.ledger.copies += copies * rec.users as u64;
                client.free_mark_slot(rec.marks);
                let sh = &stream.shards[shard as usize];
                if sh.efo_waiting != 0 {
                    wake.push(shard);
                }
            } else {
                prod.stats.throttled += 1;
                recs[keep] = rec;
                keep += 1;
            }
        }
        recs.truncate(keep);
        client.calls[call as usize].recs = recs;
        if keep == 0 {
            client.close_call(call);
        } else {
            self.put_retry_or_drop(p, call);
        }
        for s in wake.iter().copied() {
            self.wake_efo(st as u32, s);
        }
        self.kin.scratch = wake;
    }

    /// A record another service writes into stream `st` (a Flink sink's result): hash key
    /// `hash`, `bytes` (data and key), created at `created`. Returns false when the shard's
    /// write limits refuse it. In the accounting it is a new record: one copy per reader of
    /// the stream (one when it has none: it waits).
    pub(crate) fn kinesis_put_derived(
        &mut self,
        st: u32,
        hash: u128,
        bytes: u64,
        created: SimTime,
    ) -> bool {
        let now = self.now;
        let stream = &mut self.kin.streams[st as usize];
        let shard = stream.route(hash);
        let lead = now.saturating_since(created).0;
        if !stream.put(now, shard, bytes, 1, lead, &[]) {
            return false;
        }
        let readers = self.kin.slots[st as usize].len().max(1) as u64;
        self.msgs.ledger.copies += readers;
        if stream.shards[shard as usize].efo_waiting != 0 {
            self.wake_efo(st, shard);
        }
        true
    }

    /// After a partly failed PutRecords: retry the failed records after the backoff, or
    /// drop them after the last attempt.
    fn put_retry_or_drop(&mut self, p: u32, call: u32) {
        let now = self.now;
        let pi = p as usize;
        let prod = &mut self.producers[pi];
        let Some(client) = self.kin.clients[pi].as_mut() else {
            return;
        };
        let c = &mut client.calls[call as usize];
        if c.attempt < prod.spec.retry.max_attempts {
            let retry = c.attempt;
            c.attempt += 1;
            let response = c.latency - c.latency.half();
            prod.stats.retries += c.recs.len() as u64;
            let backoff = prod.spec.retry.backoff(retry, &mut prod.rng);
            self.at(now + response + backoff, Event::PutRetry { p, call });
        } else {
            let n: u64 = c.recs.iter().map(|r| r.users as u64).sum();
            for i in 0..c.recs.len() {
                let m = client.calls[call as usize].recs[i].marks;
                client.free_mark_slot(m);
            }
            prod.stats.dropped += n;
            self.msgs.ledger.dropped += n;
            client.close_call(call);
        }
    }

    // ----- consumers -------------------------------------------------------------------

    /// Schedules a lease event of reader `r` on shard `s` at `at`, in state `state`.
    #[inline]
    fn lease_at(&mut self, r: u32, s: u32, at: SimTime, state: LeaseState) {
        let lease = &mut self.kin.readers[r as usize].leases[s as usize];
        lease.state = state;
        let gen = lease.gen;
        self.at(at.max(self.now), Event::Lease { r, s, gen });
    }

    /// Reader `r` takes its lease on shard `s`.
    fn lease_start(&mut self, r: u32, s: u32) {
        let now = self.now;
        let reader = &mut self.kin.readers[r as usize];
        let lease = &mut reader.leases[s as usize];
        lease.held_since = Some(now);
        if reader.down {
            lease.state = LeaseState::Down;
            return;
        }
        match reader.spec.mode {
            ReadMode::Polling => {
                // Workers start at random phases within one polling interval.
                let idle = reader.spec.idle_between_reads;
                let phase = if now == SimTime::ZERO && !idle.is_zero() {
                    SimDuration(reader.rng.random_range(0..idle.0))
                } else {
                    SimDuration::ZERO
                };
                self.lease_at(r, s, now + phase, LeaseState::Idle);
            }
            ReadMode::Efo => self.efo_next(r, s),
        }
    }

    pub(crate) fn on_lease(&mut self, r: u32, s: u32, gen: u32) {
        let lease = &self.kin.readers[r as usize].leases[s as usize];
        if lease.gen != gen {
            return; // voided by an outage
        }
        match lease.state {
            LeaseState::Idle => self.get_records(r, s),
            LeaseState::Backoff => match self.kin.readers[r as usize].spec.mode {
                ReadMode::Polling => self.get_records(r, s),
                ReadMode::Efo => self.efo_next(r, s),
            },
            LeaseState::Requesting => self.on_get_arrive(r, s),
            LeaseState::Responding => self.on_get_return(r, s),
            LeaseState::Processing => self.on_batch_done(r, s),
            LeaseState::Pushing => self.on_push(r, s),
            // These states schedule nothing: an event in them is a bug.
            LeaseState::Blocked | LeaseState::Subscribed | LeaseState::Done | LeaseState::Down => {
                debug_assert!(false, "lease event in state {:?}", lease.state)
            }
        }
    }

    /// Polling: a GetRecords call starts.
    fn get_records(&mut self, r: u32, s: u32) {
        let now = self.now;
        let reader = &mut self.kin.readers[r as usize];
        if reader.down {
            reader.leases[s as usize].state = LeaseState::Down;
            return;
        }
        let stream = &mut self.kin.streams[reader.spec.stream as usize];
        let latency = stream.spec.api_latency.sample(&mut stream.rng);
        let lease = &mut reader.leases[s as usize];
        lease.leg = latency;
        lease.last_call = now;
        self.lease_at(r, s, now + latency.half(), LeaseState::Requesting);
    }

    /// Polling: the GetRecords call reaches the shard.
    fn on_get_arrive(&mut self, r: u32, s: u32) {
        let now = self.now;
        let reader = &mut self.kin.readers[r as usize];
        let st = reader.spec.stream as usize;
        let slot = reader.slot;
        let stream = &mut self.kin.streams[st];
        self.msgs.ledger.expired += stream.expire_shard(s, now);
        let lim = *stream.shard_limits();
        let max_bytes = stream.spec.limits.get_records_max_bytes.0;
        let shard = &mut stream.shards[s as usize];
        let lease = &mut reader.leases[s as usize];
        let response = lease.leg - lease.leg.half();
        if !shard.admit_read(now) {
            stream.stats.read_throttled += 1;
            reader.stats.read_throttled += 1;
            let backoff = RetryPolicy::default().backoff(1, &mut reader.rng);
            self.lease_at(r, s, now + response + backoff, LeaseState::Backoff);
            return;
        }
        lease.batch.clear();
        let from = shard.cursors[slot].fetched;
        // Records put within the read lag are not readable yet.
        let lag = stream.spec.read_lag.sample(&mut stream.lag_rng);
        let out = shard.read(
            from,
            reader.spec.max_records as u64,
            max_bytes,
            SimTime(now.0.saturating_sub(lag.0)),
            &mut lease.batch,
        );
        shard.mark_fetched(slot, out.records);
        shard.charge_read(now, out.bytes, &lim);
        stream.note_read_age(now, &lease.batch);
        lease.batch_records = out.records;
        stream.stats.get_records_calls += 1;
        stream.stats.bytes_out += out.bytes;
        reader.stats.reads += 1;
        reader.stats.bytes_read += out.bytes;
        if out.records > 0 {
            let age = now - out.last_arrival;
            stream.note_iterator_age(age);
            reader.stats.iterator_age_max_ns = reader.stats.iterator_age_max_ns.max(age.0);
        }
        self.lease_at(r, s, now + response, LeaseState::Responding);
    }

    /// Polling: the GetRecords response is back.
    fn on_get_return(&mut self, r: u32, s: u32) {
        let reader = &mut self.kin.readers[r as usize];
        let lease = &reader.leases[s as usize];
        if lease.batch_records > 0 {
            self.start_batch(r, s);
            return;
        }
        reader.stats.empty_reads += 1;
        let next = lease.last_call + reader.spec.idle_between_reads;
        let st = reader.spec.stream as usize;
        let slot = reader.slot;
        if self.kin.streams[st].shards[s as usize].drained_by(slot) {
            self.lease_done(r, s);
        } else {
            self.lease_at(r, s, next, LeaseState::Idle);
        }
    }

    /// Enhanced fan-out: schedules the next push, or subscribes and waits for records.
    fn efo_next(&mut self, r: u32, s: u32) {
        let now = self.now;
        let reader = &mut self.kin.readers[r as usize];
        if reader.down {
            reader.leases[s as usize].state = LeaseState::Down;
            return;
        }
        let st = reader.spec.stream as usize;
        let slot = reader.slot;
        let stream = &mut self.kin.streams[st];
        let shard = &mut stream.shards[s as usize];
        if shard.drained_by(slot) {
            self.lease_done(r, s);
            return;
        }
        let from = shard.cursors[slot].fetched.max(shard.head());
        let Some(first) = shard.arrival_of(from) else {
            // Nothing to push: wait for the next record.
            shard.efo_waiting |= 1u64 << slot;
            reader.leases[s as usize].state = LeaseState::Subscribed;
            return;
        };
        let d = stream.spec.efo_propagation.sample(&mut stream.rng);
        let lease = &mut reader.leases[s as usize];
        lease.efo_budget.refill(now);
        let mut at = now.max(first + d);
        if !lease.efo_budget.positive() {
            at = at.max(now + lease.efo_budget.time_until_positive());
        }
        lease.cutoff = SimTime(at.0.saturating_sub(d.0));
        self.lease_at(r, s, at, LeaseState::Pushing);
    }

    /// Wakes the enhanced fan-out subscriptions waiting on shard `s` of stream `st`.
    fn wake_efo(&mut self, st: u32, s: u32) {
        let shard = &mut self.kin.streams[st as usize].shards[s as usize];
        let mut mask = shard.efo_waiting;
        shard.efo_waiting = 0;
        while mask != 0 {
            let slot = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            match self.kin.slots[st as usize][slot] {
                ReaderRef::Consumer(r) => {
                    if self.kin.readers[r as usize].leases[s as usize].state
                        == LeaseState::Subscribed
                    {
                        self.efo_next(r, s);
                    }
                }
                ReaderRef::Mapping(m) => self.esm_efo_next(m, s),
                ReaderRef::Batch(_) => {}
            }
        }
    }

    /// Enhanced fan-out: a push arrives with the records that have propagated.
    fn on_push(&mut self, r: u32, s: u32) {
        let now = self.now;
        let reader = &mut self.kin.readers[r as usize];
        let st = reader.spec.stream as usize;
        let slot = reader.slot;
        let stream = &mut self.kin.streams[st];
        self.msgs.ledger.expired += stream.expire_shard(s, now);
        let max_bytes = stream.spec.limits.get_records_max_bytes.0;
        let shard = &mut stream.shards[s as usize];
        let lease = &mut reader.leases[s as usize];
        lease.efo_budget.refill(now);
        if !lease.efo_budget.positive() {
            let at = now + lease.efo_budget.time_until_positive();
            self.lease_at(r, s, at, LeaseState::Pushing);
            return;
        }
        lease.batch.clear();
        let from = shard.cursors[slot].fetched;
        let out = shard.read(
            from,
            reader.spec.max_records as u64,
            max_bytes,
            lease.cutoff,
            &mut lease.batch,
        );
        if out.records == 0 {
            // Expired meanwhile, or not yet propagated.
            self.efo_next(r, s);
            return;
        }
        shard.mark_fetched(slot, out.records);
        stream.note_read_age(now, &lease.batch);
        lease.efo_budget.take(out.bytes);
        lease.batch_records = out.records;
        stream.stats.efo_bytes += out.bytes;
        reader.stats.reads += 1;
        reader.stats.bytes_read += out.bytes;
        let age = now - out.last_arrival;
        stream.note_iterator_age(age);
        reader.stats.iterator_age_max_ns = reader.stats.iterator_age_max_ns.max(age.0);
        self.start_batch(r, s);
    }

    /// Starts processing the batch in hand.
    fn start_batch(&mut self, r: u32, s: u32) {
        let now = self.now;
        if let Some(f) = self.kin.readers[r as usize].spec.flink {
            // A Flink source: the batch takes as long as the subtasks take to accept it.
            let time = self.flink_take(f, r, s);
            let lease = &mut self.kin.readers[r as usize].leases[s as usize];
            lease.busy_since = now;
            lease.busy_for = time;
            lease.fail_after = None;
            self.lease_at(r, s, now + time, LeaseState::Processing);
            return;
        }
        let reader = &mut self.kin.readers[r as usize];
        let n = reader.leases[s as usize].batch_records;
        let mut time = batch_time(
            &reader.spec.per_batch,
            &reader.spec.service_time,
            n,
            &mut reader.rng,
        );
        let fail = first_failure(reader.spec.failure_probability, n, &mut reader.rng);
        if let Some(k) = fail {
            // Processing stops at the failing record (record k, after k successes).
            time = SimDuration((time.0 as u128 * (k + 1) as u128 / n.max(1) as u128) as u64);
        }
        let lease = &mut reader.leases[s as usize];
        lease.busy_since = now;
        lease.busy_for = time;
        lease.fail_after = fail;
        self.lease_at(r, s, now + time, LeaseState::Processing);
    }

    /// The batch is processed (or failed): checkpoint what succeeded; after a failure, go
    /// back to the checkpoint. Firehose's reader of a Kinesis source hands its records to
    /// the delivery stream instead of counting them processed.
    fn on_batch_done(&mut self, r: u32, s: u32) {
        if let Some(f) = self.batch_done(r, s) {
            let slices = std::mem::take(&mut self.kin.handed);
            self.firehose_from_kinesis(f, &slices);
            self.kin.handed = slices;
            self.kin.handed.clear();
        }
    }

    /// [`Engine::on_batch_done`]; returns the delivery stream to hand `self.kin.handed` to.
    fn batch_done(&mut self, r: u32, s: u32) -> Option<u32> {
        let now = self.now;
        let since = self.measure_from;
        let reader = &mut self.kin.readers[r as usize];
        let st = reader.spec.stream as usize;
        let slot = reader.slot;
        let stream = &mut self.kin.streams[st];
        let shard = &mut stream.shards[s as usize];
        let lease = &mut reader.leases[s as usize];
        reader.stats.busy_ns += (now - lease.busy_since.max(since)).0 as u128;
        let n = lease.batch_records;
        let hand = reader.spec.firehose;
        // Records processed successfully, in order, before the failure (if any).
        let ok = match lease.fail_after {
            None => n,
            Some(k) => k,
        };
        let keep = match (lease.fail_after, reader.spec.checkpoint) {
            (None, _) | (Some(_), CheckpointMode::Record) => ok,
            (Some(_), CheckpointMode::Batch) => 0,
        };
        if keep > 0 {
            // Latencies: records are processed in order over [busy_since, now].
            let span = lease.busy_for.0 as u128;
            let ran = ok.max(1) as u128;
            let mut before = 0u128;
            let mut left = keep;
            for sl in lease.batch.iter() {
                if left == 0 {
                    break;
                }
                let sl = if (sl.count as u64) > left {
                    sl.split(left as u32).0
                } else {
                    *sl
                };
                left -= sl.count as u64;
                let start = SimTime(lease.busy_since.0 + (span * before / ran) as u64);
                before += sl.count as u128;
                let end = SimTime(lease.busy_since.0 + (span * before / ran) as u64);
                if hand.is_some() {
                    self.kin.handed.push(sl);
                }
                let mid = sl.t_mid();
                reader.stats.wait.record_n(start - mid, sl.count as u64);
                reader
                    .stats
                    .latency
                    .record_n(end - mid + sl.mean_lead(), sl.count as u64);
                let ep = self.insight.readers[r as usize];
                if ep != u32::MAX {
                    let lead = sl.mean_lead().0;
                    let p = &mut self.insight.points[ep as usize];
                    p.stats.record_span(
                        end.saturating_since(SimTime(sl.t_first.0.saturating_sub(lead))),
                        end.saturating_since(SimTime(sl.t_last.0.saturating_sub(lead))),
                        sl.count as u64,
                        p.runs,
                    );
                }
            }
            if stream.spec.track_keys {
                let c = shard.cursors[slot];
                for m in shard.key_marks(c.done, c.done + keep) {
                    let last = reader.last_kseq.entry(m.key).or_insert(u32::MAX);
                    if *last != u32::MAX && m.kseq <= *last {
                        reader.stats.order_violations += 1;
                    }
                    *last = m.kseq;
                }
            }
            // A Flink source with checkpoints keeps its records in flight until a
            // checkpoint covers them (`Engine::on_flink_checkpoint_done`).
            let held = reader
                .spec
                .flink
                .is_some_and(|f| self.flink.apps[f as usize].spec.checkpoints.is_some());
            if !held {
                let done = if keep == n {
                    shard.checkpoint(slot)
                } else {
                    shard.checkpoint_prefix(slot, keep)
                };
                reader.stats.processed += done;
                if hand.is_none() {
                    self.msgs.ledger.processed += done;
                }
            }
        }
        lease.batch.clear();
        lease.batch_records = 0;
        if lease.fail_after.is_some() {
            reader.stats.failed += 1;
            reader.stats.duplicates += ok - keep;
            let lost = shard.rewind(slot);
            stream.stats.expired += lost;
            self.msgs.ledger.expired += lost;
            shard.trim();
            let at = now + reader.spec.retry_delay;
            self.lease_at(r, s, at, LeaseState::Backoff);
            return hand;
        }
        shard.trim();
        if shard.drained_by(slot) {
            self.lease_done(r, s);
            return hand;
        }
        match reader.spec.mode {
            ReadMode::Polling => {
                let next = lease.last_call + reader.spec.idle_between_reads;
                self.lease_at(r, s, next, LeaseState::Idle);
            }
            ReadMode::Efo => self.efo_next(r, s),
        }
        hand
    }

    /// Reader `r` has drained closed shard `s`: the lease ends and children may start.
    fn lease_done(&mut self, r: u32, s: u32) {
        let now = self.now;
        let since = self.measure_from;
        let reader = &mut self.kin.readers[r as usize];
        let lease = &mut reader.leases[s as usize];
        lease.state = LeaseState::Done;
        lease.gen = lease.gen.wrapping_add(1);
        if let Some(h) = lease.held_since.take() {
            reader.stats.lease_ns += (now - h.max(since)).0 as u128;
        }
        let st = reader.spec.stream as usize;
        let children = self.kin.streams[st].shards[s as usize].children.clone();
        for c in children {
            self.maybe_start_child(r, c);
        }
    }

    pub(crate) fn on_reader_outage(&mut self, r: u32, start: bool) {
        let now = self.now;
        let since = self.measure_from;
        let ri = r as usize;
        let st = self.kin.readers[ri].spec.stream as usize;
        let slot = self.kin.readers[ri].slot;
        let n = self.kin.readers[ri].leases.len();
        if start {
            self.kin.readers[ri].down = true;
            for s in 0..n {
                let reader = &mut self.kin.readers[ri];
                let lease = &mut reader.leases[s];
                if matches!(lease.state, LeaseState::Blocked | LeaseState::Done) {
                    continue;
                }
                if lease.state == LeaseState::Processing {
                    reader.stats.busy_ns += (now - lease.busy_since.max(since)).0 as u128;
                }
                let stream = &mut self.kin.streams[st];
                let shard = &mut stream.shards[s];
                shard.efo_waiting &= !(1u64 << slot);
                // Records in hand go back to the checkpoint.
                let lost = shard.rewind(slot);
                stream.stats.expired += lost;
                self.msgs.ledger.expired += lost;
                lease.batch.clear();
                lease.batch_records = 0;
                lease.gen = lease.gen.wrapping_add(1);
                lease.state = LeaseState::Down;
            }
        } else {
            self.kin.readers[ri].down = false;
            for s in 0..n {
                if self.kin.readers[ri].leases[s].state == LeaseState::Down {
                    match self.kin.readers[ri].spec.mode {
                        ReadMode::Polling => self.get_records(r, s as u32),
                        ReadMode::Efo => self.efo_next(r, s as u32),
                    }
                }
            }
        }
    }

    // ----- sampling, accounting, reports -----------------------------------------------

    /// Fills the Kinesis columns of a time-series row from column `i`; returns the next
    /// column. `counts` holds the previous cumulative counts for rate columns.
    pub(crate) fn kinesis_sample(
        &mut self,
        row: &mut [f64],
        counts: &mut [u64],
        mut i: usize,
    ) -> usize {
        let now = self.now;
        let dt = self.sample_every.as_secs_f64();
        let first = now == SimTime::ZERO;
        let rate =
            |i: usize, total: u64, counts: &mut [u64]| sample_rate(counts, i, total, dt, first);
        // Each shard's utilisation, for the per-shard columns (filled last).
        let mut shard_util: Vec<f64> = Vec::new();
        for (st, stream) in self.kin.streams.iter_mut().enumerate() {
            let lim = *stream.shard_limits();
            let mut util: f64 = 0.0;
            let columns = self.kin.util_columns[st] as usize;
            let at = shard_util.len();
            shard_util.resize(at + columns, 0.0);
            for (k, sh) in stream.shards.iter_mut().enumerate() {
                if dt > 0.0 && now > SimTime::ZERO {
                    let b = sh.stats.sample_bytes as f64 / (lim.write_bytes_per_s as f64 * dt);
                    let r = sh.stats.sample_records as f64 / (lim.write_records_per_s as f64 * dt);
                    util = util.max(b).max(r);
                    if k < columns {
                        shard_util[at + k] = b.max(r);
                    }
                }
                sh.stats.sample_bytes = 0;
                sh.stats.sample_records = 0;
            }
            row[i] = rate(i, stream.stats.records_put, counts);
            row[i + 1] = rate(i + 1, stream.stats.throttled, counts);
            row[i + 2] = stream.open_count() as f64;
            row[i + 3] = util;
            row[i + 4] = stream.stored() as f64;
            i += 5;
        }
        for reader in &mut self.kin.readers {
            let stream = &mut self.kin.streams[reader.spec.stream as usize];
            let mut age = SimDuration::ZERO;
            for (s, lease) in reader.leases.iter().enumerate() {
                if lease.held_since.is_some() {
                    age = age.max(stream.shards[s].lag(reader.slot, now));
                }
            }
            reader.stats.iterator_age_max_ns = reader.stats.iterator_age_max_ns.max(age.0);
            stream.note_iterator_age(age);
            row[i] = rate(i, reader.stats.processed, counts);
            row[i + 1] = age.as_secs_f64();
            i += 2;
        }
        for (r, s) in &self.kin.shard_columns {
            let reader = &self.kin.readers[*r as usize];
            let stream = &self.kin.streams[reader.spec.stream as usize];
            row[i] = match stream.shards.get(*s as usize) {
                Some(sh)
                    if reader
                        .leases
                        .get(*s as usize)
                        .is_some_and(|l| l.held_since.is_some()) =>
                {
                    sh.lag(reader.slot, now).as_secs_f64()
                }
                _ => 0.0,
            };
            i += 1;
        }
        for u in shard_util {
            row[i] = u;
            i += 1;
        }
        i
    }

    /// Adds the Kinesis records to the end-of-run census.
    pub(crate) fn kinesis_census(&self, a: &mut Accounting) {
        for (st, stream) in self.kin.streams.iter().enumerate() {
            let readers = self.kin.slots[st].len();
            for sh in &stream.shards {
                if readers == 0 {
                    a.waiting += sh.stored();
                }
                for slot in 0..readers {
                    let (inflight, waiting) = sh.census(slot);
                    a.in_flight += inflight;
                    a.waiting += waiting;
                }
            }
        }
        for c in self.kin.clients.iter().flatten() {
            a.in_transit += c.in_transit();
        }
    }

    /// Billable usage of every stream over the measured window, for pricing.
    pub(crate) fn kinesis_usage(&self) -> Vec<KinesisUsageCounters> {
        let window_s = self.arch.duration.as_secs_f64();
        self.kin.streams.iter().map(|s| s.usage(window_s)).collect()
    }

    /// Stream reports, in model order.
    pub(crate) fn stream_reports(&self) -> Vec<ComponentReport> {
        let window_s = self.arch.duration.as_secs_f64();
        self.kin
            .streams
            .iter()
            .map(|s| s.report(self.horizon, self.measure_from, window_s))
            .collect()
    }

    /// Stream consumer reports, in model order.
    pub(crate) fn stream_consumer_reports(&self) -> Vec<ComponentReport> {
        self.kin
            .readers
            .iter()
            .map(|r| {
                let stream = &self.kin.streams[r.spec.stream as usize];
                let expired = stream
                    .shards
                    .iter()
                    .map(|sh| sh.cursors[r.slot].expired)
                    .sum();
                r.report(&stream.spec.name, expired)
            })
            .collect()
    }

    /// The target of producer `p` as `kind:name`.
    pub(crate) fn target_text(&self, target: Target) -> String {
        match target {
            Target::Queue(q) => format!("sqs:{}", self.arch.queues[q as usize].name),
            Target::Stream(s) => format!("kinesis:{}", self.arch.streams[s as usize].name),
            Target::Topic(t) => format!("sns:{}", self.arch.topics[t as usize].name),
            Target::Firehose(f) => format!("firehose:{}", self.arch.firehoses[f as usize].name),
        }
    }
}

/// Adds a user record to the open aggregate `s` of `client` (one that holds records
/// already): its entry (and its key's, if the aggregate does not hold that key yet), the
/// waiting time the earlier records accrued, and its order mark when keys are tracked.
#[allow(clippy::too_many_arguments)]
fn append_to_aggregate(
    client: &mut KinesisClient,
    s: usize,
    stamp: u64,
    key: u32,
    size: u32,
    key_len: u16,
    mark: KeyMark,
    now: SimTime,
) {
    let a = client.aggs[s];
    let add = match client.key_index(key, stamp) {
        Some(i) => user_entry_bytes(size as u64, i as u64),
        None => {
            client.set_key_index(key, stamp, a.keys);
            let e = &mut client.aggs[s];
            e.keys += 1;
            user_entry_bytes(size as u64, a.keys as u64) + key_entry_bytes(key_len as u64)
        }
    };
    let e = &mut client.aggs[s];
    e.bytes += add;
    e.spread += e.users as u64 * (now - e.created).0;
    e.created = now;
    e.users += 1;
    if e.marks != u32::MAX {
        let m = e.marks as usize;
        client.mark_slots[m].push(mark);
    }
}
