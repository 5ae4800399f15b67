//! The Kinesis side of a producer: PutRecords collection, the failed-record retries and
//! the per-key routing cache.
//!
//! Records waiting at a producer are small plain structs ([`PendingRecord`], 40 bytes),
//! never messages in the slab. A producer collects records into a PutRecords call until it
//! holds `batch` records (at most 500), adding the next one would pass 10 MiB, or the first
//! record has waited `linger`. The stream answers each record separately; the failed ones
//! are retried together after the SDK's backoff ([`crate::producers::RetryPolicy`]) and dropped after
//! the last attempt. As in AWS, a retried record can land after a later record with the
//! same key: PutRecords does not guarantee per-key order under throttling.
//!
//! # KPL-style aggregation
//!
//! A producer with [`AggregationSpec`] packs its user records into aggregated Kinesis
//! records as the Kinesis Producer Library does: one open aggregate per shard the records
//! are predicted to go to (the KPL predicts shards from its shard map and sets the
//! aggregate's explicit hash key to its first user record's hash, so an aggregate lands on
//! that shard). An aggregate is sealed when the next user record would take it past
//! `max_bytes` (the protobuf size, exactly, see [`user_entry_bytes`]) or it holds
//! `max_records`, or `max_buffered` after its first user record; it then joins the
//! PutRecords collection like any record. An aggregate of a single user record is sent
//! as that plain record, as the KPL does. Sealed aggregates carry their user-record count
//! and the exact sum of their user records' creation times (as `created` + `spread`), so
//! consumers measure each user record's latency from its own creation in total.
//!
//! Routing: the hash key of each key id is computed once (MD5 of `{prefix}{id + 1}`, or of
//! the trace's key text) and cached with the shard it maps to; the shard is looked up again
//! only after resharding (the stream's `epoch` changes). A producer without a key
//! distribution draws a random hash key for every record, as with UUID partition keys.

use crate::services::kinesis::hash;
use crate::services::kinesis::KinesisStream;
use crate::sim::{SimDuration, SimRng, SimTime};
use rand::Rng;
use std::collections::HashMap;

/// Length of a random (UUID) partition key, bytes.
pub(crate) const RANDOM_KEY_LEN: u32 = 36;
/// Key spaces up to this size are cached in a vector; larger ones in a hash map.
const VEC_CACHE_MAX: u32 = 1 << 20;

/// KPL-style aggregation settings of a producer (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AggregationSpec {
    /// `AggregationMaxSize`: most bytes of an aggregated record (magic, protobuf message
    /// and MD5 included), bytes.
    pub max_bytes: u64,
    /// `AggregationMaxCount`: most user records per aggregated record.
    pub max_records: u64,
    /// `RecordMaxBufferedTime`: an aggregate is sealed this long after its first user
    /// record arrived.
    pub max_buffered: SimDuration,
}

/// Bytes of a protobuf varint holding `v`.
#[inline]
pub(crate) fn varint_len(v: u64) -> u64 {
    (64 - (v | 1).leading_zeros() as u64).div_ceil(7)
}

/// Bytes a user record of `size` data bytes adds to an aggregated record's protobuf
/// message when its partition key is entry `key_index` of the key table:
/// `Record { partition_key_index = 1 (varint); data = 3 (bytes) }` inside the repeated
/// field `records = 3` of `AggregatedRecord`, i.e. tag + length of the entry, then tag +
/// index and tag + length + data (one-byte tags; no explicit hash key table, no tags).
/// Source: the `.proto` of the KPL aggregation format
/// (<https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md>).
#[inline]
pub(crate) fn user_entry_bytes(size: u64, key_index: u64) -> u64 {
    let inner = 1 + varint_len(key_index) + 1 + varint_len(size) + size;
    1 + varint_len(inner) + inner
}

/// Bytes a new partition key of `key_len` bytes adds to the key table
/// (`repeated string partition_key_table = 1`: tag + length + text).
#[inline]
pub(crate) fn key_entry_bytes(key_len: u64) -> u64 {
    1 + varint_len(key_len) + key_len
}

/// Identifies the aggregate of generation `gen` for shard `shard` (never 0).
#[inline]
pub(crate) fn agg_stamp(shard: u32, gen: u32) -> u64 {
    ((shard as u64) << 32 | gen as u64).wrapping_add(1)
}

/// An aggregate being filled for one predicted shard.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Aggregate {
    /// User records in it (0: none open).
    pub(crate) users: u32,
    /// Generation: bumped whenever an aggregate of this shard is sealed.
    pub(crate) gen: u32,
    /// Protobuf message bytes so far (without the fixed 20 bytes).
    pub(crate) bytes: u64,
    /// Distinct partition keys in its key table.
    pub(crate) keys: u32,
    /// First user record: its data size, key id, key length and per-key sequence.
    pub(crate) first_size: u32,
    /// See `first_size`.
    pub(crate) first_key: u32,
    /// See `first_size`.
    pub(crate) first_key_len: u16,
    /// See `first_size`.
    pub(crate) first_kseq: u32,
    /// Creation of the latest user record.
    pub(crate) created: SimTime,
    /// Σ over its user records of (`created` − their creation), ns.
    pub(crate) spread: u64,
    /// Key-mark slot (key tracking only; `u32::MAX`: none).
    pub(crate) marks: u32,
}

/// A record waiting at a producer: a user record, or a sealed aggregate of `users` of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PendingRecord {
    /// When the producer created it (an aggregate: its latest user record).
    pub(crate) created: SimTime,
    /// Σ over its user records of (`created` − their creation), ns (0 for one record).
    pub(crate) spread: u64,
    /// User records it carries (1 without aggregation).
    pub(crate) users: u32,
    /// Key-mark slot of an aggregate's user records (key tracking only; `u32::MAX`: none).
    pub(crate) marks: u32,
    /// Data blob size, bytes.
    pub(crate) size: u32,
    /// Key id (unused with random keys).
    pub(crate) key: u32,
    /// Sequence of the record among this producer's records with the same key.
    pub(crate) kseq: u32,
    /// Length of the partition key, bytes.
    pub(crate) key_len: u16,
}

impl PendingRecord {
    /// A user record created at `created` that is its own Kinesis record.
    #[inline]
    pub(crate) fn single(created: SimTime, size: u32, key: u32, kseq: u32, key_len: u16) -> Self {
        PendingRecord {
            created,
            spread: 0,
            users: 1,
            marks: u32::MAX,
            size,
            key,
            kseq,
            key_len,
        }
    }
}

/// One PutRecords call in progress.
#[derive(Clone, Debug, Default)]
pub(crate) struct PutCall {
    /// Its records (after an attempt: the ones still to retry).
    pub(crate) recs: Vec<PendingRecord>,
    /// Attempt number (1 = first).
    pub(crate) attempt: u32,
    /// Latency of the current attempt.
    pub(crate) latency: SimDuration,
}

/// The hot part of a cached key (12 bytes, so large key spaces stay cache-friendly); the
/// hash itself is kept apart and read only when the shard must be looked up again.
#[derive(Clone, Copy, Debug, Default)]
struct KeyEntry {
    shard: u32,
    /// Stream epoch of `shard`; 0 = not routed yet.
    epoch: u32,
    /// Key length in bytes; 0 = not hashed yet.
    len: u32,
}

/// The Kinesis client state of one producer.
pub(crate) struct KinesisClient {
    /// Target stream index.
    pub(crate) stream: u32,
    /// Records waiting for their call.
    pub(crate) batch: Vec<PendingRecord>,
    /// Bytes (data + keys) in `batch`.
    pub(crate) batch_bytes: u64,
    /// Generation of the batch's linger timer.
    pub(crate) linger_gen: u32,
    /// Calls in progress (slab).
    pub(crate) calls: Vec<PutCall>,
    free_calls: Vec<u32>,
    prefix: String,
    trace_keys: Vec<String>,
    random_keys: bool,
    vec_cache: Vec<KeyEntry>,
    vec_hash: Vec<u128>,
    map_cache: HashMap<u32, (KeyEntry, u128)>,
    kseq: HashMap<u32, u32>,
    track_keys: bool,
    buf: String,
    /// Bytes per call at most.
    pub(crate) max_bytes: u64,
    /// Aggregation settings (None: every user record is its own Kinesis record).
    pub(crate) aggregation: Option<AggregationSpec>,
    /// Open aggregates, by predicted shard id.
    pub(crate) aggs: Vec<Aggregate>,
    /// Deadlines of open aggregates, in opening order: (deadline, shard, generation).
    pub(crate) agg_deadlines: std::collections::VecDeque<(SimTime, u32, u32)>,
    /// A flush timer is pending.
    pub(crate) agg_timer: bool,
    /// Per key id of the vector cache: the aggregate ([`agg_stamp`]) that last put the key
    /// in its key table, and the key's index there (stamp 0: none).
    key_stamp: Vec<(u64, u32)>,
    /// Same for keys of the hash-map cache.
    key_stamp_map: HashMap<u32, (u64, u32)>,
    /// User-record key marks of aggregates (key tracking only), by slot.
    pub(crate) mark_slots: Vec<Vec<crate::services::kinesis::KeyMark>>,
    free_marks: Vec<u32>,
}

impl KinesisClient {
    /// A client for `stream`. `keys` is the size of the producer's key space (0: random
    /// keys), `trace_keys` the key texts of a trace (ids index them).
    pub(crate) fn new(
        stream: u32,
        keys: u32,
        prefix: &str,
        trace_keys: Vec<String>,
        max_records: u32,
        max_bytes: u64,
        track_keys: bool,
    ) -> Self {
        let space = if trace_keys.is_empty() {
            keys
        } else {
            trace_keys.len() as u32
        };
        KinesisClient {
            stream,
            batch: Vec::with_capacity(max_records as usize),
            batch_bytes: 0,
            linger_gen: 0,
            calls: Vec::new(),
            free_calls: Vec::new(),
            prefix: prefix.to_string(),
            trace_keys,
            random_keys: space == 0,
            vec_cache: if space > 0 && space <= VEC_CACHE_MAX {
                vec![KeyEntry::default(); space as usize]
            } else {
                Vec::new()
            },
            vec_hash: if space > 0 && space <= VEC_CACHE_MAX {
                vec![0; space as usize]
            } else {
                Vec::new()
            },
            map_cache: HashMap::new(),
            kseq: HashMap::new(),
            track_keys,
            buf: String::new(),
            max_bytes,
            aggregation: None,
            aggs: Vec::new(),
            agg_deadlines: std::collections::VecDeque::new(),
            agg_timer: false,
            key_stamp: Vec::new(),
            key_stamp_map: HashMap::new(),
            mark_slots: Vec::new(),
            free_marks: Vec::new(),
        }
    }

    /// Turns KPL-style aggregation on.
    pub(crate) fn with_aggregation(mut self, agg: Option<AggregationSpec>) -> Self {
        if agg.is_some() && !self.random_keys {
            self.key_stamp = vec![(0, 0); self.vec_cache.len()];
        }
        self.aggregation = agg;
        self
    }

    /// The index of key `key` in the key table of aggregate `stamp` (see [`agg_stamp`]),
    /// if it is there. Random keys are never there.
    #[inline]
    pub(crate) fn key_index(&self, key: u32, stamp: u64) -> Option<u32> {
        if self.random_keys {
            return None;
        }
        let e = match self.key_stamp.get(key as usize) {
            Some(e) => *e,
            None => *self.key_stamp_map.get(&key)?,
        };
        (e.0 == stamp).then_some(e.1)
    }

    /// Records that key `key` is entry `index` of the key table of aggregate `stamp`.
    #[inline]
    pub(crate) fn set_key_index(&mut self, key: u32, stamp: u64, index: u32) {
        if self.random_keys {
            return;
        }
        match self.key_stamp.get_mut(key as usize) {
            Some(e) => *e = (stamp, index),
            None => {
                self.key_stamp_map.insert(key, (stamp, index));
            }
        }
    }

    /// A free key-mark slot (key tracking only).
    pub(crate) fn mark_slot(&mut self) -> u32 {
        match self.free_marks.pop() {
            Some(i) => i,
            None => {
                self.mark_slots.push(Vec::new());
                (self.mark_slots.len() - 1) as u32
            }
        }
    }

    /// Releases key-mark slot `i`.
    pub(crate) fn free_mark_slot(&mut self, i: u32) {
        if i != u32::MAX {
            self.mark_slots[i as usize].clear();
            self.free_marks.push(i);
        }
    }

    /// True when every record gets a random hash key.
    pub(crate) fn random_keys(&self) -> bool {
        self.random_keys
    }

    /// The cache entry of `key`, hashing the key on first use.
    #[inline]
    fn known(&mut self, key: u32) -> KeyEntry {
        let k = key as usize;
        if k < self.vec_cache.len() {
            let e = self.vec_cache[k];
            if e.len != 0 {
                return e;
            }
            let (hash, len) = self.hash_of(key);
            self.vec_hash[k] = hash;
            self.vec_cache[k].len = len;
            return self.vec_cache[k];
        }
        if let Some((e, _)) = self.map_cache.get(&key) {
            return *e;
        }
        let (hash, len) = self.hash_of(key);
        let e = KeyEntry {
            shard: 0,
            epoch: 0,
            len,
        };
        self.map_cache.insert(key, (e, hash));
        e
    }

    fn hash_of(&mut self, key: u32) -> (u128, u32) {
        match self.trace_keys.get(key as usize) {
            Some(text) => (hash::hash_key(text), (text.len() as u32).max(1)),
            None => (
                hash::hash_generated(&self.prefix, key, &mut self.buf),
                hash::generated_len(&self.prefix, key),
            ),
        }
    }

    /// Length in bytes of key `key`'s text.
    #[inline]
    pub(crate) fn key_len(&mut self, key: u32) -> u32 {
        if self.random_keys {
            return RANDOM_KEY_LEN;
        }
        self.known(key).len
    }

    /// The shard of `stream` that key `key` maps to now (random keys draw a hash key).
    #[inline]
    pub(crate) fn route(&mut self, key: u32, stream: &KinesisStream, rng: &mut SimRng) -> u32 {
        if self.random_keys {
            let h: u128 = rng.random();
            return stream.route(h);
        }
        let e = self.known(key);
        if e.epoch == stream.epoch {
            return e.shard;
        }
        let k = key as usize;
        if k < self.vec_cache.len() {
            let shard = stream.route(self.vec_hash[k]);
            self.vec_cache[k].shard = shard;
            self.vec_cache[k].epoch = stream.epoch;
            shard
        } else {
            let Some((e, hash)) = self.map_cache.get_mut(&key) else {
                return stream.route(0);
            };
            let shard = stream.route(*hash);
            e.shard = shard;
            e.epoch = stream.epoch;
            shard
        }
    }

    /// The next per-key sequence number of `key` (key tracking only; 0 otherwise).
    pub(crate) fn next_kseq(&mut self, key: u32) -> u32 {
        if !self.track_keys || self.random_keys {
            return 0;
        }
        let c = self.kseq.entry(key).or_insert(0);
        let k = *c;
        *c += 1;
        k
    }

    /// Moves the current batch into a new call slot; returns the slot.
    pub(crate) fn open_call(&mut self) -> u32 {
        let i = match self.free_calls.pop() {
            Some(i) => i,
            None => {
                self.calls.push(PutCall::default());
                (self.calls.len() - 1) as u32
            }
        };
        let c = &mut self.calls[i as usize];
        c.recs.clear();
        c.recs.append(&mut self.batch);
        c.attempt = 1;
        self.batch_bytes = 0;
        i
    }

    /// Releases a finished call slot.
    pub(crate) fn close_call(&mut self, i: u32) {
        self.calls[i as usize].recs.clear();
        self.free_calls.push(i);
    }

    /// User records held by the client (aggregating, collecting, in calls, or waiting for
    /// a retry).
    pub(crate) fn in_transit(&self) -> u64 {
        let users = |v: &[PendingRecord]| v.iter().map(|r| r.users as u64).sum::<u64>();
        users(&self.batch)
            + self.calls.iter().map(|c| users(&c.recs)).sum::<u64>()
            + self.aggs.iter().map(|a| a.users as u64).sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Dist;
    use crate::load::DurationDist;
    use crate::services::kinesis::{CapacityMode, KinesisLimits, StreamSpec};
    use crate::sim::stream;

    #[test]
    fn routes_once_per_key_and_again_after_resharding() {
        let spec = StreamSpec {
            name: "s".into(),
            mode: CapacityMode::Provisioned,
            shards: 4,
            retention: SimDuration::from_secs(86_400),
            warm_throughput: 0,
            api_latency: DurationDist(Dist::Constant(0.0)),
            efo_propagation: DurationDist(Dist::Constant(0.0)),
            read_lag: DurationDist(Dist::Constant(0.0)),
            reshards: vec![],
            track_keys: false,
            max_shards: 100,
            limits: KinesisLimits::default(),
        };
        let mut s = KinesisStream::new(spec, 0, 0, stream(1, "s"));
        let mut rng = stream(1, "p");
        let mut c = KinesisClient::new(0, 10, "key-", vec![], 500, 10 << 20, false);
        // key id 1 = "key-2", md5 0xbcca… → shard 2 of 4.
        assert_eq!(c.route(1, &s, &mut rng), 2);
        assert_eq!(c.key_len(1), 5);
        s.reshard(
            crate::services::kinesis::ReshardOp::Split(2),
            SimTime(1),
            SimTime::ZERO,
        );
        let after = c.route(1, &s, &mut rng);
        assert!(after == 4 || after == 5, "a child of shard 2: {after}");
    }
}
