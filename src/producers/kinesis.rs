//! The Kinesis side of a producer: PutRecords collection, the failed-record retries and
//! the per-key routing cache.
//!
//! Records waiting at a producer are small plain structs ([`PendingRecord`], 24 bytes),
//! never messages in the slab. A producer collects records into a PutRecords call until it
//! holds `batch` records (at most 500), adding the next one would pass 10 MiB, or the first
//! record has waited `linger`. The stream answers each record separately; the failed ones
//! are retried together after the SDK's backoff ([`super::RetryPolicy`]) and dropped after
//! the last attempt. As in AWS, a retried record can land after a later record with the
//! same key: PutRecords does not guarantee per-key order under throttling.
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
pub const RANDOM_KEY_LEN: u32 = 36;
/// Key spaces up to this size are cached in a vector; larger ones in a hash map.
const VEC_CACHE_MAX: u32 = 1 << 20;

/// A record waiting at a producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingRecord {
    /// When the producer created it.
    pub created: SimTime,
    /// Data blob size, bytes.
    pub size: u32,
    /// Key id (unused with random keys).
    pub key: u32,
    /// Sequence of the record among this producer's records with the same key.
    pub kseq: u32,
    /// Length of the partition key, bytes.
    pub key_len: u16,
}

/// One PutRecords call in progress.
#[derive(Clone, Debug, Default)]
pub struct PutCall {
    /// Its records (after an attempt: the ones still to retry).
    pub recs: Vec<PendingRecord>,
    /// Attempt number (1 = first).
    pub attempt: u32,
    /// Latency of the current attempt.
    pub latency: SimDuration,
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
pub struct KinesisClient {
    /// Target stream index.
    pub stream: u32,
    /// Records waiting for their call.
    pub batch: Vec<PendingRecord>,
    /// Bytes (data + keys) in `batch`.
    pub batch_bytes: u64,
    /// Generation of the batch's linger timer.
    pub linger_gen: u32,
    /// Calls in progress (slab).
    pub calls: Vec<PutCall>,
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
    /// Records per call at most.
    pub max_records: u32,
    /// Bytes per call at most.
    pub max_bytes: u64,
}

impl KinesisClient {
    /// A client for `stream`. `keys` is the size of the producer's key space (0: random
    /// keys), `trace_keys` the key texts of a trace (ids index them).
    pub fn new(
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
            max_records,
            max_bytes,
        }
    }

    /// True when every record gets a random hash key.
    pub fn random_keys(&self) -> bool {
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
    pub fn key_len(&mut self, key: u32) -> u32 {
        if self.random_keys {
            return RANDOM_KEY_LEN;
        }
        self.known(key).len
    }

    /// The shard of `stream` that key `key` maps to now (random keys draw a hash key).
    #[inline]
    pub fn route(&mut self, key: u32, stream: &KinesisStream, rng: &mut SimRng) -> u32 {
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
    pub fn next_kseq(&mut self, key: u32) -> u32 {
        if !self.track_keys || self.random_keys {
            return 0;
        }
        let c = self.kseq.entry(key).or_insert(0);
        let k = *c;
        *c += 1;
        k
    }

    /// Moves the current batch into a new call slot; returns the slot.
    pub fn open_call(&mut self) -> u32 {
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
    pub fn close_call(&mut self, i: u32) {
        self.calls[i as usize].recs.clear();
        self.free_calls.push(i);
    }

    /// Records held by the client (collecting, in calls, or waiting for a retry).
    pub fn in_transit(&self) -> u64 {
        self.batch.len() as u64 + self.calls.iter().map(|c| c.recs.len() as u64).sum::<u64>()
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
