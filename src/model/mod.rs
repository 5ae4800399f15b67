//! Model files: TOML → raw serde structs → a validated [`Architecture`].
//!
//! Every error names the file, the line and the field, and says what was expected (see
//! [`ModelError`]).

pub mod access;
pub(crate) mod arrival;
pub(crate) mod build;
pub(crate) mod dist;
pub(crate) mod fields;
pub(crate) mod footprint;
pub(crate) mod producer;
pub mod raw;
pub mod scenario;
pub mod value;
pub(crate) mod workers;

pub use crate::input::{place, FieldPath, ModelError};

use crate::producers::ProducerSpec;
use crate::services::kinesis::consumer::StreamConsumerSpec;
use crate::services::kinesis::StreamSpec;
use crate::services::lambda::LambdaSpec;
use crate::services::sns::{SubscriptionSpec, TopicSpec};
use crate::services::sqs::QueueSpec;
use crate::services::Limits;
use crate::sim::SimDuration;
use crate::workers::PoolSpec;
use std::path::{Path, PathBuf};

/// The bundled default model (`models/default.toml`).
pub const DEFAULT_MODEL: &str = include_str!("../../models/default.toml");
/// How the bundled default model is named in messages.
pub const DEFAULT_MODEL_NAME: &str = "models/default.toml";

/// A validated architecture: plain data, cheap to clone, `Send + Sync`. A run is a pure
/// function of an architecture and a seed.
#[derive(Clone, Debug)]
pub struct Architecture {
    /// Model name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Where it was read from.
    pub source: String,
    /// Directory that relative paths in the model are resolved against.
    pub base_dir: PathBuf,
    /// Measured simulated time (after the warm-up).
    pub duration: SimDuration,
    /// Warm-up whose statistics are discarded.
    pub warmup: SimDuration,
    /// Seed.
    pub seed: u64,
    /// Price table (bundled name or path).
    pub prices: String,
    /// Time-series interval (`None`: about 500 samples over the run, see
    /// `Architecture::sample_interval`).
    pub sample_every: Option<SimDuration>,
    /// AWS limits in force.
    pub limits: Limits,
    /// Producers.
    pub producers: Vec<ProducerSpec>,
    /// SQS queues.
    pub queues: Vec<QueueSpec>,
    /// Worker pools.
    pub consumers: Vec<PoolSpec>,
    /// Lambda functions.
    pub lambdas: Vec<LambdaSpec>,
    /// Kinesis data streams.
    pub streams: Vec<StreamSpec>,
    /// Kinesis consumer applications (`[[stream_consumer]]`).
    pub stream_consumers: Vec<StreamConsumerSpec>,
    /// SNS topics.
    pub topics: Vec<TopicSpec>,
    /// SNS subscriptions.
    pub subscriptions: Vec<SubscriptionSpec>,
    /// Firehose delivery streams.
    pub firehoses: Vec<crate::services::firehose::FirehoseSpec>,
    /// Batch jobs.
    pub batch_jobs: Vec<crate::batch::BatchJobSpec>,
    /// How each producer's data loses value with age.
    pub values: value::Values,
    /// Managed Service for Apache Flink applications.
    pub flinks: Vec<crate::services::flink::FlinkSpec>,
    /// Kinesis video streams, their cameras and viewers.
    pub video: crate::services::video::VideoSpecs,
    /// Things the model does that AWS advises against (shown with the run's summary).
    pub warnings: Vec<String>,
    /// The account, region and access decisions of the topic and queue policies.
    pub access: access::Access,
    /// Fault scenarios (the pools' `outages` among them).
    pub faults: Vec<crate::faults::FaultSpec>,
    /// Bytes a run may take before it stops: its components (`components_bytes`), its
    /// messages and its pending events.
    pub memory_budget: u64,
    /// Estimated bytes of the components before the first message (shards, workers,
    /// mapping lanes, Flink key spaces, statistics), within `memory_budget`.
    pub components_bytes: u64,
    /// A month composed of scenarios (`[[scenario]]`), each a variant of this model; empty
    /// when the measured window repeats all month.
    pub scenarios: Vec<scenario::Scenario>,
}

impl Architecture {
    /// Warm-up plus measured duration.
    pub(crate) fn horizon(&self) -> SimDuration {
        self.warmup + self.duration
    }

    /// The time-series interval: the model's `sample_every`, or a round interval giving
    /// about 500 samples over warm-up plus duration (at least 1 s).
    pub(crate) fn sample_interval(&self) -> SimDuration {
        const NICE: [u64; 13] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
        if let Some(d) = self.sample_every {
            return d;
        }
        let want = self.horizon().as_secs_f64() / 500.0;
        let s = NICE
            .iter()
            .copied()
            .find(|n| *n as f64 >= want)
            .unwrap_or_else(|| (want / 3600.0).ceil() as u64 * 3600);
        SimDuration::from_secs(s)
    }
}

/// Reads and validates a model file.
pub fn load_file(path: &Path) -> Result<Architecture, ModelError> {
    let shown = path.display().to_string();
    let bytes = crate::input::read_file(path).map_err(|e| ModelError {
        file: shown.clone(),
        line: None,
        column: None,
        field: String::new(),
        message: format!("cannot read the model file: {e}"),
    })?;
    let text = decode(&shown, &bytes)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    load_str(&text, &shown, &base)
}

/// The bundled default model.
pub fn load_default() -> Result<Architecture, ModelError> {
    load_str(DEFAULT_MODEL, DEFAULT_MODEL_NAME, Path::new("models"))
}

/// Checks that `bytes` are UTF-8, naming the line of the first bad byte.
pub fn decode(file: &str, bytes: &[u8]) -> Result<String, ModelError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            Err(ModelError {
                file: file.to_string(),
                line: Some(line),
                column: None,
                field: String::new(),
                message: format!(
                    "the file is not UTF-8 text (invalid byte at offset {}): model files are TOML, which must be UTF-8",
                    e.valid_up_to()
                ),
            })
        }
    }
}

/// Parses and validates model text; `file` names it in messages and `base_dir` resolves
/// relative paths (traces, price tables).
pub fn load_str(src: &str, file: &str, base_dir: &Path) -> Result<Architecture, ModelError> {
    let mut raw = parse_raw(src, file)?;
    let scenarios = std::mem::take(&mut raw.scenario);
    let mut arch = build::build(raw, file, base_dir)
        .map_err(|inv| place(src, file, &inv.path, inv.message))?;
    if !scenarios.is_empty() {
        arch.scenarios = scenario::scenarios(&scenarios, src, file, base_dir)?;
    }
    Ok(arch)
}

/// Parses model text into raw structs (syntax, types, unknown and missing fields).
pub fn parse_raw(src: &str, file: &str) -> Result<raw::RawModel, ModelError> {
    if src.trim().is_empty() {
        return Err(ModelError {
            file: file.to_string(),
            line: None,
            column: None,
            field: String::new(),
            message: "the file is empty: a model needs at least `name` and `duration`, and components such as [[producer]], [[queue]] and [[consumer]] (see models/README.md)".into(),
        });
    }
    crate::input::parse_toml(src, file, Some("models/README.md"))
}
