//! Amazon Kinesis Data Streams: streams, shards, partition-key hashing, write and read
//! limits, retention, resharding and the capacity modes.
//!
//! # What is modelled
//!
//! * **Shards and keys.** A stream is a set of shards, each owning a contiguous range of
//!   the 128-bit hash-key space; a record goes to the open shard whose range holds the MD5
//!   of its partition key (`hash`). Skewed keys therefore make hot shards exactly as in
//!   AWS. Producers cache the hash of each key they use, so MD5 runs once per key.
//! * **Write limits** (`shard`): per shard 1 MiB/s (partition keys included) and 1,000
//!   records/s, enforced per record as refilling budgets ("capacity tank"): the byte budget
//!   holds 10 MiB, so a 10 MiB record passes an idle shard and the shard then averages
//!   1 MiB/s; the record budget holds one second's worth. PutRecords fails record by record
//!   with `ProvisionedThroughputExceededException`; producers retry the failed records with
//!   the SDK's backoff and drop what still fails after their last attempt.
//! * **Reads.** Polling (GetRecords) consumers share 5 calls/s and 2 MiB/s per shard: a call
//!   is refused while the shard's read budget (one second's worth) is spent, a call may
//!   return up to 10,000 records and 10 MiB, and after a 10 MiB call the shard refuses
//!   reads for 5 s. Enhanced fan-out consumers get their own 2 MiB/s per shard, pushed about
//!   70 ms after the put. See `consumer` for the consumers themselves.
//! * **Retention**: a record older than the retention period is removed; each consumer
//!   that had not fetched it loses it (counted as `expired`). Expiry is applied before every
//!   read, so what a returning consumer finds is exact.
//! * **Resharding** ([`stream::ReshardOp`]): `UpdateShardCount` (uniform scaling: the open
//!   shards close and `n` even ranges open, each child's parents being the old shards
//!   overlapping it), `SplitShard` at a range's middle and `MergeShards` of adjacent shards,
//!   each instantaneous at its scheduled time. Closed shards stay readable; consumers read a
//!   child only after they have drained all its parents, as the KCL does, so per-key order
//!   holds across resharding.
//! * **Capacity modes.** *Provisioned*: the shards of the model. *On-demand standard*: a
//!   new stream has 4 MB/s of write capacity (4 shards; reads twice that); every minute
//!   each shard whose offered write throughput exceeded 500 KB/s (half its limit; or 500
//!   records/s) is marked and split at its middle `on_demand_scale_delay` (15 min) later.
//!   Keeping every shard at most half busy is how a stream "accommodates up to twice its
//!   previous peak"; a faster rise is throttled until the splits land, and a single hot
//!   key stays capped at one shard's limit, as AWS documents. Scale-down is not modelled.
//!   *On-demand advantage*: as standard, but starting with enough shards for its warm
//!   throughput and allowing 50 enhanced fan-out consumers instead of 20.
//!
//! Records are stored compactly (see `shard`), never one message per record.

pub mod bill;
pub(crate) mod config;
pub(crate) mod consumer;
pub(crate) mod engine;
pub(crate) mod estimate;
pub(crate) mod hash;
pub(crate) mod limits;
pub(crate) mod producer;
pub mod raw;
pub(crate) mod shard;
pub(crate) mod stream;
pub(crate) mod usage_keys;

pub use consumer::{CheckpointMode, ReadMode, StreamConsumerSpec};
pub use limits::KinesisLimits;
pub use producer::AggregationSpec;
pub(crate) use shard::{KeyMark, Slice};
pub use stream::{CapacityMode, Reshard, ReshardOp, StreamSpec};
pub(crate) use stream::{KinesisStream, KinesisUsageCounters};
