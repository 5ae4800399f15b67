//! aqueduct's integration tests, in one binary (one link step, however many files).
//!
//! * `fidelity` — the engine against queueing theory (M/M/1, M/M/c, M/D/1, M/G/1, Little).
//! * `arrivals` — arrival processes against their configured rates.
//! * `cli` — the binary: bad input gets exit code 2 with file, line and field.
//! * `runs` — determinism, accounting, the bundled models.
//! * `sqs` — SQS semantics scenarios (visibility, DLQ, FIFO, dedup, polling, Lambda).
//! * `sqs_fuzz` — random small SQS models: accounting, census and FIFO order invariants.
//! * `kinesis` — Kinesis Data Streams: shards, hashing, limits, consumers, retention.
//! * `sns` — SNS: fan-out, filter policies, delivery retries, DLQs, FIFO topics, billing.
//! * `pricing` — the price table, bills, usage files, `price`.
//! * `experiments` — sweeps, statistics, SLO sizing, sharding, reports.

mod arrivals;
mod cli;
mod common;
mod experiments;
mod fidelity;
mod kinesis;
mod pricing;
mod runs;
mod sns;
mod sqs;
mod sqs_fuzz;
