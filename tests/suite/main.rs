//! aqueduct's integration tests, in one binary (one link step, however many files).
//!
//! * `fidelity` — the engine against queueing theory (M/M/1, M/M/c, M/D/1, M/G/1, Little).
//! * `arrivals` — arrival processes against their configured rates.
//! * `bad_input_fuzz` — every bundled model with each leaf set to edge values: no panic, no hang,
//!   refusals name the field.
//! * `calibration` — default latencies of low-rate paths against published measurements
//!   (issue 22).
//! * `cli` — the binary: bad input gets exit code 2 with file, line and field.
//! * `runs` — determinism, accounting, the bundled models.
//! * `schema` — the JSON Schemas of `aqueduct schema`: committed files current, every bundled
//!   model's real outputs valid, broken outputs refused (issue 18).
//! * `sqs` — SQS semantics scenarios (visibility, DLQ, FIFO, dedup, polling, Lambda).
//! * `sqs_fuzz` — random small SQS models: accounting, census and FIFO order invariants.
//! * `kinesis` — Kinesis Data Streams: shards, hashing, limits, consumers, retention.
//! * `kinesis_fuzz` — random small Kinesis models: accounting, self-checks, per-key order.
//! * `kinesis_heatmap` — per-shard write utilisation in the series and its heat map.
//! * `sns` — SNS: fan-out, filter policies, delivery retries, DLQs, FIFO topics, billing.
//! * `sns_fuzz` — random small SNS models: accounting, self-checks, queue census.
//! * `firehose` — Amazon Data Firehose: buffering, flush cadence, freshness, quotas,
//!   transformation, partitioning, destinations, sources, estimate, random models.
//! * `hostile` — hostile input (issue 21): merge manifests, NaN bills, lying metrics, wrong
//!   units, output safety; exit code 0 or 2, never a panic, a hang or a clobbered file.
//! * `hostile_random` — random models of every kind with extreme values, random usage files
//!   and damaged price tables through the binary, under a watchdog and a memory cap (issue 21).
//! * `latency` — the latency mechanisms of issue 22 one by one, their overrides and checks,
//!   and Lambda's enhanced fan-out mappings.
//! * `html` — `report.html` of `run --out`, `sweep` and `compare`: self-contained, escaped,
//!   the same bytes for a seed; every bundled report rendered by headless chromium.
//! * `policy` — IAM-format topic and queue policies: the evaluator against AWS's documented
//!   logic, denied sends and deliveries, refused subscriptions, the linter (issue 17).
//! * `faults` — fault scenarios: each kind, SDK retries under a throttling storm, touching
//!   windows, accounting under random faults (issue 17).
//! * `interop` — infracost usage files (YAML) read and written, Terraform plans imported
//!   (issue 18).
//! * `layers` — the layer table of `src/lib.rs` holds for every file of `src/`.
//! * `pricing` — the price table, bills, usage files, `price`.
//! * `video` — Kinesis Video Streams: ingest, the PutMedia quota, content stores against
//!   outages, stored GB, AWS's pricing example, grouped cameras, accounting.
//! * `experiments` — sweeps, statistics, SLO sizing, sharding, reports.
//! * `text` — `run`'s text: tables that fit 100 columns, one number per column.
//! * `value` — the value of data and time to insight at every end point (issue 16).

mod arrivals;
mod bad_input_fuzz;
mod calibration;
mod cli;
mod common;
mod experiments;
mod faults;
mod fidelity;
mod firehose;
mod flink;
mod hostile;
mod hostile_random;
mod html;
mod interop;
mod kinesis;
mod kinesis_fuzz;
mod kinesis_heatmap;
mod latency;
mod layers;
mod policy;
mod pricing;
mod runs;
mod schema;
mod sns;
mod sns_fuzz;
mod sqs;
mod sqs_fuzz;
mod text;
mod value;
mod video;
