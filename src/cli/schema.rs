//! `aqueduct schema run|price|sweep [--write DIR]`: the JSON Schemas (draft 2020-12) of the
//! JSON that `run --json`, `price --json` and a sweep's `sweep.json` hold, generated from
//! the types that write them; their doc comments are the schemas' descriptions.
//!
//! The schemas are strict where the output is: a key that is always written is
//! `required`, and an object with named keys takes no other (`additionalProperties:
//! false`), so a renamed key fails validation.

use super::price::PriceDoc;
use super::Failure;
use aqueduct::engine::RunSummary;
use aqueduct::experiment::merge::Manifest;
use aqueduct::pricing::Bill;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Which output's schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Which {
    /// `aqueduct run --json` (and `run.json` of `run --out`).
    Run,
    /// `aqueduct price --json`.
    Price,
    /// `sweep.json`, the manifest of a sweep's (or shard's) output directory.
    Sweep,
}

impl Which {
    const ALL: [Which; 3] = [Which::Run, Which::Price, Which::Sweep];

    fn name(self) -> &'static str {
        match self {
            Which::Run => "run",
            Which::Price => "price",
            Which::Sweep => "sweep",
        }
    }
}

/// What `run --json` prints: the summary of one run, or a month made of scenarios.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub(super) enum RunOutput<'a> {
    /// One run's summary: a model without `[[scenario]]` tables.
    One(&'a RunSummary),
    /// A month made of scenarios (a model's `[[scenario]]` tables).
    Month(MonthRun<'a>),
}

/// The `run --json` of a model whose month is made of scenarios: each scenario runs on its
/// own, with the same seed, and the month's bill charges each one's usage for its hours.
#[derive(Serialize, JsonSchema)]
pub(super) struct MonthRun<'a> {
    /// Version of aqueduct that produced it.
    pub(super) aqueduct_version: &'static str,
    /// Model name.
    pub(super) model: &'a str,
    /// Seed of every scenario's run.
    pub(super) seed: u64,
    /// The scenarios, in model order.
    pub(super) scenarios: Vec<ScenarioRun<'a>>,
    /// The month's bill: each scenario's usage for its hours (its lines name their
    /// scenario after the component, as `orders [launch]`).
    pub(super) cost: &'a Bill,
    /// For CI: false when a scenario's run failed a check or the month's bill is above
    /// `--fail-above`.
    pub(super) ok: bool,
    /// Every number of every scenario's run keyed `scenario.NAME.PATH` (PATH as in a
    /// run's `metrics`), then the month's `cost.total`.
    #[schemars(with = "BTreeMap<String, f64>")]
    #[schemars(extend("propertyNames" = { "pattern": "^(scenario\\..+|cost\\.total)$" }))]
    pub(super) metrics: Map<String, Value>,
}

/// One scenario of a month.
#[derive(Serialize, JsonSchema)]
pub(super) struct ScenarioRun<'a> {
    /// Its name.
    pub(super) name: &'a str,
    /// Hours of the month it stands for.
    pub(super) hours: f64,
    /// Its run's summary; its `cost` is its share of the month (its usage for its hours).
    pub(super) run: &'a RunSummary,
}

/// The schema of `which`, with a title naming the command.
fn schema(which: Which) -> Schema {
    // Strict: an object whose keys are named takes no other.
    let strict = RecursiveTransform(|s: &mut Schema| {
        if let Some(o) = s.as_object_mut() {
            if o.contains_key("properties") && !o.contains_key("additionalProperties") {
                o.insert("additionalProperties".into(), false.into());
            }
        }
    });
    let g = SchemaSettings::draft2020_12()
        .for_serialize()
        .with_transform(strict)
        .into_generator();
    let (mut s, title) = match which {
        Which::Run => (g.into_root_schema_for::<RunOutput>(), "aqueduct run --json"),
        Which::Price => (
            g.into_root_schema_for::<PriceDoc>(),
            "aqueduct price --json",
        ),
        Which::Sweep => (
            g.into_root_schema_for::<Manifest>(),
            "sweep.json (aqueduct sweep)",
        ),
    };
    s.insert("title".into(), title.into());
    s
}

/// The schema of `which` as the pretty JSON that `aqueduct schema` prints.
fn text(which: Which) -> Result<String, Failure> {
    serde_json::to_string_pretty(&schema(which))
        .map(|t| t + "\n")
        .map_err(|e| Failure::run(e.to_string()))
}

/// Runs the command: prints one schema, or writes `DIR/NAME.schema.json` for each.
pub(super) fn run(which: Option<Which>, write: Option<&Path>) -> Result<(), Failure> {
    match (which, write) {
        (Some(w), None) => {
            print!("{}", text(w)?);
            Ok(())
        }
        (w, Some(dir)) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                Failure::input(format!("--write {}: cannot create it: {e}", dir.display()))
            })?;
            for w in w.map_or(Which::ALL.to_vec(), |w| vec![w]) {
                let path = dir.join(format!("{}.schema.json", w.name()));
                std::fs::write(&path, text(w)?).map_err(|e| {
                    Failure::input(format!("{}: cannot write it: {e}", path.display()))
                })?;
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        (None, None) => Err(Failure::input(
            "schema: name an output (run, price or sweep), or give --write DIR for all of them",
        )),
    }
}
