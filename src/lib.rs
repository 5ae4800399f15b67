//! # aqueduct
//!
//! A discrete-event simulator and cost/capacity model for decoupled, event-driven AWS
//! architectures. You describe producers, queues, topics, streams and consumers in a model
//! file; aqueduct runs it in virtual time with AWS's documented semantics and limits,
//! reports latency percentiles, backlogs, throttles, duplicates and dead-lettered or
//! expired messages, and prices the very same run as a monthly bill.
//!
//! ```
//! use aqueduct::{engine, model};
//!
//! let src = r#"
//!     name = "tiny"
//!     duration = "10m"
//!     api_latency = "0ms"
//!
//!     [[producer]]
//!     name = "web"
//!     target = "sqs:jobs"
//!     load = { process = "poisson", rate_per_s = 5 }
//!
//!     [[queue]]
//!     name = "jobs"
//!
//!     [[consumer]]
//!     name = "workers"
//!     source = "sqs:jobs"
//!     workers = 2
//!     receive = { wait = "20s" }
//!     service_time = { dist = "exponential", mean = "100ms" }
//! "#;
//! let arch = model::load_str(src, "tiny.toml", std::path::Path::new(".")).unwrap();
//! let out = engine::run(&arch, 7).unwrap();
//! let workers = out.summary.metric("consumer.workers.processed").unwrap();
//! assert!(workers > 2500.0 && workers < 3500.0); // ≈ 5/s × 600 s
//! assert!(out.summary.accounting.balanced());
//! ```
//!
//! ## Layers
//!
//! A module uses only modules of its own layer or of lower ones (the test
//! `tests/suite/layers.rs` reads this table and every `crate::` path in `src/` to keep it
//! true). One AWS service is one folder under [`services`], a vertical slice: a file's name
//! places it in a layer — `config*` and `raw*` (its part of the model file) in `model`,
//! `estimate*` in `estimate`, `engine*` (its event handlers) in `engine`, every other file
//! in `services`. The same names place the files of [`producers`], [`workers`] and [`batch`].
//!
//! | layer | modules | what they hold |
//! |---|---|---|
//! | 12 | `cli` | the binary's commands (`src/cli`, uses the library only) |
//! | 11 | [`report`] | CSV tables, charts (SVG + PNG) and `report.md` from a sweep's results |
//! | 10 | [`experiment`], [`interop`] | sweeps: grid × replications on all cores, statistics, SLO sizing; other tools' files: infracost usage files, Terraform plans |
//! | 9 | [`engine`] | the event loop, the event enum, the run summary; services' `engine*` files |
//! | 8 | [`estimate`] | a model's bill and capacity without a run, usage files; services' `estimate*` files |
//! | 7 | [`model`] | model files: TOML → raw structs → validated [`model::Architecture`]; services' `config*`, `raw*` files |
//! | 6 | [`producers`], [`workers`], [`batch`], [`faults`] | the clients shared by several services: senders with SDK retries; worker pools; batch jobs (not an AWS service: priced by the model) |
//! | 5 | [`services`] | one folder per AWS service: limits, simulated components, usage, bill |
//! | 4 | [`pricing`] | the price table, the bill and its meter (plain usage numbers in, lines out) |
//! | 3 | [`load`], [`metrics`], `message`, [`policy`] | arrival processes and distributions; histograms, series, reports; the message slab; IAM-format access policies and their evaluation |
//! | 2 | [`input`] | quantities with units, field paths, error placement, `--set` overrides |
//! | 1 | [`sim`], `text` | the kernel: integer time, the event queue, random streams; plain-text tables |
#![warn(missing_docs)]
#![warn(unreachable_pub)]

pub mod batch;
pub mod engine;
pub mod estimate;
pub mod experiment;
pub mod faults;
pub mod input;
pub mod interop;
pub mod load;
pub(crate) mod message;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod pricing;
pub mod producers;
pub mod report;
pub mod services;
pub mod sim;
pub(crate) mod text;
pub mod workers;

pub use text::{text_width, without_controls, wrap, TEXT_WIDTH};
