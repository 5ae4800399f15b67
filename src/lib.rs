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
//! Lower layers never use higher ones:
//!
//! | module | what it holds |
//! |---|---|
//! | [`report`] | CSV tables, charts (SVG + PNG) and `report.md` from a sweep's results |
//! | [`experiment`] | sweeps: grid × replications on all cores, statistics, SLO sizing |
//! | [`model`] | model files: TOML → raw structs → validated [`model::Architecture`] |
//! | [`engine`] | builds components from an architecture, runs them, summarises |
//! | [`producers`], [`consumers`] | the clients: senders with SDK retries; worker pools |
//! | [`services`] | AWS services: simulation components, limits, pricing |
//! | [`message`] | the message slab shared by components |
//! | [`load`] | arrival processes, size/key distributions, traces |
//! | [`metrics`] | histograms, time series, the run summary |
//! | [`pricing`] | the price table and the bill |
//! | [`sim`] | the kernel: integer time, the event queue, random streams |
#![warn(missing_docs)]

pub mod engine;
pub mod estimate;
pub mod experiment;
pub mod input;
pub mod load;
pub mod message;
pub mod metrics;
pub mod model;
pub mod pricing;
pub mod producers;
pub mod report;
pub mod services;
pub mod sim;
pub mod text;
pub mod workers;
