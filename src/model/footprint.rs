//! What a model's components take in memory before its first message, checked against its
//! `memory_budget` when the model loads (issue 21).
//!
//! The run's own check ([`crate::engine`]) watches what grows while it runs (messages and
//! pending events). Some structures are sized by the model instead, and are allocated when
//! the run starts: a Kinesis stream's shards (each with its readers' leases), a pool's
//! workers, a Lambda Kinesis mapping's lanes (shards × parallelization factor), a Flink
//! application's key space (every key's hash, key group and window state). A `[limits]`
//! override lets a model ask for 10^7 shards or 4·10^9 Flink keys; allocated, they took
//! gigabytes and minutes before the run aborted. Here they are estimated from their
//! counts and refused, naming the field, when they alone exceed the budget.
//!
//! The bytes per unit are measured, not derived: peak RSS growth of a run per added unit
//! on this project's machine (2026-12-07), rounded up. They estimate; the run's check is
//! exact for what it measures.

use super::Architecture;
use crate::input::error::FieldPath;
use crate::input::error::{Invalid, VResult};
use crate::producers::Target;
use crate::services::firehose::FirehoseInput;
use crate::services::lambda::LambdaSource;

/// Bytes of one shard of a Kinesis stream with one reader (measured: 880 bytes).
const SHARD_BYTES: u64 = 1024;
/// Bytes each further reader (consumer, mapping, Firehose or Flink source) adds per shard.
const READER_SHARD_BYTES: u64 = 256;
/// Bytes of one lane of a Lambda Kinesis mapping on one shard.
const LANE_BYTES: u64 = 128;
/// Bytes of one worker of a pool (measured: 233 bytes).
const WORKER_BYTES: u64 = 256;
/// Bytes of one key of a Flink application's key space: its Kinesis hash key twice (by
/// id and sorted), its key group, its place in the shard samplers and its window state.
const FLINK_KEY_BYTES: u64 = 96;
/// Bytes of any component's statistics (its latency histograms and counters; measured:
/// 26 KB for an idle queue).
const COMPONENT_BYTES: u64 = 32 << 10;

/// One contributor: where it is set, what it is, and its bytes.
struct Part {
    path: FieldPath,
    what: String,
    bytes: u64,
}

/// The bytes a run of `arch` allocates for its components before any message; refuses
/// the model when that alone exceeds its memory budget, naming the largest contributor.
pub(crate) fn check(arch: &Architecture) -> VResult<u64> {
    let mut parts: Vec<Part> = Vec::new();
    for (i, s) in arch.streams.iter().enumerate() {
        let readers = arch
            .stream_consumers
            .iter()
            .filter(|c| c.stream == i as u32)
            .count()
            + arch
                .lambdas
                .iter()
                .filter(|l| l.source == LambdaSource::Kinesis(i as u32))
                .count()
            + arch
                .firehoses
                .iter()
                .filter(|f| f.input == FirehoseInput::Kinesis(i as u32))
                .count()
            + arch.flinks.iter().filter(|f| f.stream == i as u32).count();
        // A provisioned stream's reshards create new shards beside their parents.
        let shards = u64::from(s.shards) * (1 + s.reshards.len() as u64);
        let per = SHARD_BYTES + READER_SHARD_BYTES * readers.saturating_sub(1) as u64;
        parts.push(Part {
            path: FieldPath::item("stream", i, &s.name).field("shards"),
            what: format!(
                "{shards} shards of stream \"{}\" with {readers} reader{}",
                s.name,
                if readers == 1 { "" } else { "s" }
            ),
            bytes: shards.saturating_mul(per),
        });
        for (l, f) in arch.lambdas.iter().enumerate() {
            if f.source == LambdaSource::Kinesis(i as u32) {
                let lanes = shards.saturating_mul(u64::from(f.parallelization_factor));
                parts.push(Part {
                    path: FieldPath::item("lambda", l, &f.name).field("parallelization_factor"),
                    what: format!(
                        "{lanes} lanes of function \"{}\" ({shards} shards × parallelization factor {})",
                        f.name, f.parallelization_factor
                    ),
                    bytes: lanes.saturating_mul(LANE_BYTES),
                });
            }
        }
    }
    for (i, c) in arch.consumers.iter().enumerate() {
        let workers = u64::from(c.max_workers());
        parts.push(Part {
            path: FieldPath::item("consumer", i, &c.name).field("workers"),
            what: format!("{workers} workers of pool \"{}\"", c.name),
            bytes: workers * WORKER_BYTES,
        });
    }
    for (i, f) in arch.flinks.iter().enumerate() {
        let keys: u64 = arch
            .producers
            .iter()
            .filter(|p| p.target == Target::Stream(f.stream))
            .filter_map(|p| p.keys.as_ref().map(|k| u64::from(k.keys())))
            .sum();
        parts.push(Part {
            path: FieldPath::item("flink", i, &f.name),
            what: format!(
                "the {keys} keys of flink \"{}\" (the partition keys of the producers writing into its source)",
                f.name
            ),
            bytes: keys.saturating_mul(FLINK_KEY_BYTES),
        });
    }
    let components = arch.queues.len()
        + arch.topics.len()
        + arch.subscriptions.len()
        + arch.consumers.len()
        + arch.lambdas.len()
        + arch.stream_consumers.len()
        + arch.firehoses.len()
        + arch.flinks.len()
        + arch.producers.len();
    let total = parts
        .iter()
        .fold(components as u64 * COMPONENT_BYTES, |a, p| {
            a.saturating_add(p.bytes)
        });
    if total > arch.memory_budget {
        let big = parts
            .iter()
            .max_by_key(|p| p.bytes)
            .expect("the total exceeds the per-component bytes only through a part");
        return Err(Invalid::at(
            &big.path,
            format!(
                "the model's components alone take about {} before its first message ({}: about {}), over its memory budget of {}: {}",
                mib(total),
                big.what,
                mib(big.bytes),
                mib(arch.memory_budget),
                raise(total),
            ),
        ));
    }
    Ok(total)
}

/// `bytes` as MiB, or GiB from 1 GiB, for a message.
fn mib(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{} MiB", bytes.div_ceil(1 << 20))
    }
}

/// What to do: raise the budget to the next power of two GiB above `bytes`, when that is
/// at most a TiB, or make the components fewer.
fn raise(bytes: u64) -> String {
    let gib = bytes.div_ceil(1 << 30).max(1).next_power_of_two();
    if gib <= 1024 {
        format!("raise it with memory_budget = \"{gib}GiB\" in the model or --set memory_budget={gib}GiB, or make them fewer")
    } else {
        "make them fewer (no machine has that much memory)".to_string()
    }
}
