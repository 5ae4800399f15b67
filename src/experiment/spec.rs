//! The experiment file: raw serde structs → a validated [`Experiment`].

use super::axis::{self, Axis};
use super::error::ExperimentError;
use super::slo::{self, Slo};
use crate::engine;
use crate::input::error::{FieldPath, Seg};
use crate::input::{overrides, parse_toml, place};
use crate::model::raw::COMPONENT_KINDS;
use crate::model::{self, Architecture, ModelError};
use crate::sim::SimDuration;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The derived metric `cost.extra`: the experiment's `[unit_costs]` priced at each point.
pub(crate) const COST_EXTRA: &str = "cost.extra";
/// The derived metric `cost.all`: `cost.total + cost.extra`.
pub const COST_ALL: &str = "cost.all";
/// Most runs (points × replications) one experiment may ask for.
pub(crate) const MAX_RUNS: u64 = 10_000_000;

/// The texts an experiment is built from. A sweep stores them in `sweep.json`, so that
/// `merge` rebuilds exactly the same experiment from its shards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Source {
    /// The experiment file as given on the command line.
    pub file: String,
    /// Its text.
    pub text: String,
    /// The base model's file (the experiment's `model`, resolved against the experiment's
    /// directory).
    pub model_file: String,
    /// The base model's text.
    pub model_text: String,
    /// Directory that relative paths inside the model resolve against.
    pub model_base: PathBuf,
}

impl Source {
    /// Reads an experiment file and the base model it names.
    pub fn read(path: &Path) -> Result<Source, ExperimentError> {
        let file = path.display().to_string();
        let bytes = crate::input::read_file(path).map_err(|e| {
            ExperimentError::Spec(ModelError {
                file: file.clone(),
                line: None,
                column: None,
                field: String::new(),
                message: format!("cannot read the experiment file: {e}"),
            })
        })?;
        let text = model::decode(&file, &bytes).map_err(|e| {
            ExperimentError::Spec(ModelError {
                message: e.message.replace("model files", "experiment files"),
                ..e
            })
        })?;
        let raw = parse_raw(&text, &file).map_err(ExperimentError::Spec)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let model_path = normalize(&dir.join(&raw.model));
        let model_file = model_path.display().to_string();
        let model_bytes = crate::input::read_file(&model_path).map_err(|e| {
            ExperimentError::Spec(place(
                &text,
                &file,
                &FieldPath::top("model"),
                format!("cannot read the model file {model_file}: {e}"),
            ))
        })?;
        let model_text = model::decode(&model_file, &model_bytes)?;
        Ok(Source {
            file,
            text,
            model_base: model_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            model_file,
            model_text,
        })
    }
}

/// Removes `.` and `dir/..` from a path without touching the file system, so
/// `experiments/../models/x.toml` reads `models/x.toml`.
fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    out.iter().collect()
}

/// The experiment file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExperiment {
    /// Name; the default output directory is `reports/<name>/`.
    pub(crate) name: String,
    /// Free text for the report.
    #[serde(default)]
    pub(crate) description: Option<String>,
    /// The base model, relative to the experiment file.
    pub(crate) model: String,
    /// Runs per grid point (default 3).
    #[serde(default)]
    pub(crate) replications: Option<u32>,
    /// Base seed (default: the model's seed).
    #[serde(default)]
    pub(crate) seed: Option<u64>,
    /// Level of the confidence intervals (default 0.95).
    #[serde(default)]
    pub(crate) confidence: Option<f64>,
    /// Give every point the same seeds (replication `r` of every point uses the same
    /// seed), so that points differ only by their settings.
    #[serde(default)]
    pub(crate) common_random_numbers: bool,
    /// Metrics to keep (paths into the run summary).
    #[serde(default)]
    pub(crate) metrics: Vec<String>,
    /// Axes: model path → value, list or range.
    #[serde(default)]
    pub(crate) axes: BTreeMap<String, toml::Value>,
    /// Objectives: metric path → `"< 2s"`.
    #[serde(default)]
    pub(crate) slo: BTreeMap<String, String>,
    /// What "cheapest" means.
    #[serde(default)]
    pub(crate) sizing: Option<RawSizing>,
    /// Monthly price of one unit of an axis (resources aqueduct does not bill).
    #[serde(default)]
    pub(crate) unit_costs: BTreeMap<String, f64>,
    /// Charts.
    #[serde(default)]
    pub(crate) plot: Vec<RawPlot>,
    /// What the report draws besides the plots.
    #[serde(default)]
    pub(crate) report: Option<RawReport>,
}

/// `[report]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReport {
    /// Runs (numbers as in `runs.csv`) whose time series and latency distribution the
    /// report draws besides the chosen run's (default: the best point that misses an
    /// objective).
    #[serde(default)]
    pub(crate) runs: Option<Vec<i64>>,
    /// The throughput of the cost-against-throughput chart: a metric or a numeric axis
    /// (default: the first numeric axis whose path ends in `_per_s`).
    #[serde(default)]
    pub(crate) throughput: Option<String>,
}

/// The horizontal quantity of the cost-against-throughput chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throughput {
    /// The mean of metric `i` (an index into [`Experiment::metrics`]).
    Metric(usize),
    /// The value of axis `i`.
    Axis(usize),
}

/// `[sizing]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSizing {
    /// The metric (or axis) to minimise among the points that meet the objectives.
    #[serde(default)]
    pub(crate) minimize: Option<String>,
    /// Axes that describe the situation rather than the choice (the load, for example):
    /// one answer per combination of their values.
    #[serde(default)]
    pub(crate) per: Vec<String>,
}

/// `[[plot]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlot {
    /// Metric on the vertical axis, or several (`["…p50", "…p99"]`) drawn as one line
    /// each.
    pub(crate) y: OneOrMany,
    /// Axis on the horizontal axis (default: the first axis with several values).
    #[serde(default)]
    pub(crate) x: Option<String>,
    /// Title (default: `Y vs X`).
    #[serde(default)]
    pub(crate) title: Option<String>,
    /// Logarithmic vertical axis.
    #[serde(default)]
    pub(crate) log_y: bool,
}

/// A metric, or a list of them.
#[derive(Debug, Clone)]
pub(crate) enum OneOrMany {
    /// One metric.
    One(String),
    /// Several metrics.
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a metric path, or a list of metric paths")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut v = Vec::new();
                while let Some(m) = a.next_element::<String>()? {
                    v.push(m);
                }
                Ok(OneOrMany::Many(v))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl OneOrMany {
    /// The metrics, in order.
    pub(crate) fn list(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(m) => vec![m.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// What the sizing search minimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// The mean of metric `i` (an index into [`Experiment::metrics`]).
    Metric(usize),
    /// The value of axis `i`.
    Axis(usize),
}

/// A chart of a metric against an axis, one series per combination of the other axes.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    /// Index of the metric (vertical).
    pub y: usize,
    /// Indices of further metrics drawn on the same chart (`y = [A, B, …]`: `y` is `A`).
    pub more_y: Vec<usize>,
    /// Index of the axis (horizontal).
    pub x: usize,
    /// Title.
    pub title: String,
    /// Logarithmic vertical axis.
    pub log_y: bool,
}

/// A validated experiment: every axis path exists, every point's model is valid, every
/// metric exists. Plain data, `Send + Sync`: runs are built from it inside their tasks.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// Where it came from.
    pub source: Source,
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The base model's name (from the model file).
    pub model_name: String,
    /// Runs per point.
    pub replications: u32,
    /// Base seed.
    pub seed: u64,
    /// Level of the confidence intervals, such as 0.95.
    pub confidence: f64,
    /// Every point uses the same seeds.
    pub common_random_numbers: bool,
    /// Axes in the order written; the first varies slowest.
    pub axes: Vec<Axis>,
    /// Metrics kept, in the order of the columns of `runs.csv`.
    pub metrics: Vec<String>,
    /// Objectives, sorted by metric path.
    pub slos: Vec<Slo>,
    /// What the sizing search minimises.
    pub objective: Objective,
    /// Axes (indices) that get one sizing answer per value combination.
    pub per: Vec<usize>,
    /// Monthly price per unit of an axis value: (axis index, USD).
    pub unit_costs: Vec<(usize, f64)>,
    /// Charts.
    pub plots: Vec<Plot>,
    /// `[report] runs`: runs (numbers) whose time series the report draws besides the
    /// chosen run's; `None` when not given (the report then picks the best point that
    /// misses an objective).
    pub report_runs: Option<Vec<usize>>,
    /// The horizontal quantity of the cost-against-throughput chart, if any.
    pub throughput: Option<Throughput>,
    /// `strides[i]`: points between consecutive values of axis `i`.
    strides: Vec<usize>,
}

/// Parses the experiment text (syntax, types, unknown and missing fields).
pub(crate) fn parse_raw(src: &str, file: &str) -> Result<RawExperiment, ModelError> {
    parse_toml(src, file, Some("experiments/README.md"))
}

/// The experiment text and its file name: where validation failures are placed.
#[derive(Clone, Copy)]
struct SpecText<'a> {
    /// The experiment file's text.
    src: &'a str,
    /// The experiment file, as given.
    file: &'a str,
}

impl SpecText<'_> {
    /// The error `message` placed at `path` in the experiment text.
    fn err(&self, path: &FieldPath, message: String) -> ExperimentError {
        ExperimentError::Spec(place(self.src, self.file, path, message))
    }
}

fn key_path(table: &str, key: &str) -> FieldPath {
    FieldPath::top(table).field(key)
}

fn plot_path(i: usize, key: &str) -> FieldPath {
    FieldPath {
        segs: vec![Seg::Key("plot".into()), Seg::Index(i), Seg::Key(key.into())],
        name: None,
    }
}

/// `name`, `replications` and `confidence`: the name must make a directory name, at
/// least one replication, a confidence level strictly between 0 and 1. Returns
/// (replications, confidence) with their defaults (3, 0.95) applied.
fn check_settings(raw: &RawExperiment, text: SpecText) -> Result<(u32, f64), ExperimentError> {
    if raw.name.is_empty()
        || !raw
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || raw.name.starts_with('.')
    {
        return Err(text.err(
            &FieldPath::top("name"),
            format!(
                "\"{}\" cannot name the output directory reports/<name>/: use letters, digits, '-', '_' and '.'",
                raw.name
            ),
        ));
    }
    let replications = raw.replications.unwrap_or(3);
    if replications == 0 {
        return Err(text.err(&FieldPath::top("replications"), "must be at least 1".into()));
    }
    let confidence = raw.confidence.unwrap_or(0.95);
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(text.err(
            &FieldPath::top("confidence"),
            format!("{confidence} is not a level between 0 and 1, such as 0.95"),
        ));
    }
    Ok((replications, confidence))
}

/// The base model, validated, and the paths of the fields written in it (the
/// candidates of "did you mean" for axis paths).
fn base_model(source: &Source) -> Result<(Architecture, Vec<String>), ExperimentError> {
    let base = model::load_str(&source.model_text, &source.model_file, &source.model_base)?;
    if !base.scenarios.is_empty() {
        // A sweep runs and bills the model's window repeated all month: a month of
        // scenarios would be billed as something else than `run` bills it.
        return Err(ExperimentError::Model(ModelError {
            file: source.model_file.clone(),
            line: None,
            column: None,
            field: "scenario".into(),
            message: "a sweep varies one window of a model and bills it repeated all month; this model's month is made of [[scenario]] tables: sweep a copy without them (one scenario's settings as the base)".into(),
        }));
    }
    let base_doc: toml_edit::DocumentMut =
        source
            .model_text
            .parse()
            .map_err(|e: toml_edit::TomlError| {
                ExperimentError::Model(ModelError {
                    file: source.model_file.clone(),
                    line: None,
                    column: None,
                    field: String::new(),
                    message: e.to_string(),
                })
            })?;
    Ok((base, overrides::paths(&base_doc)))
}

/// `[axes]`, expanded, in the order written (serde's map is sorted; toml_edit keeps the
/// order). Each path must name a field of the base model (see [`check_axis_path`]).
fn expand_axes(
    raw: &RawExperiment,
    source: &Source,
    model_paths: &[String],
    text: SpecText,
) -> Result<Vec<Axis>, ExperimentError> {
    let order: Vec<String> = toml_edit::Document::parse(text.src)
        .ok()
        .and_then(|d| {
            d.get("axes")
                .and_then(|a| a.as_table_like())
                .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        })
        .unwrap_or_else(|| raw.axes.keys().cloned().collect());
    let mut axes = Vec::new();
    for path in &order {
        let Some(v) = raw.axes.get(path) else {
            continue;
        };
        let at = key_path("axes", path);
        if !path.contains('.') && v.is_table() && COMPONENT_KINDS.contains(&path.as_str()) {
            return Err(text.err(
                &at,
                format!("an axis path needs quotes: write `\"{path}.NAME.FIELD\" = ...` (unquoted dots make nested tables in TOML)"),
            ));
        }
        let mut a = axis::expand(v).map_err(|m| text.err(&at, m))?;
        a.path = path.clone();
        check_axis_path(source, &a, model_paths).map_err(|m| text.err(&at, m))?;
        axes.push(a);
    }
    Ok(axes)
}

/// `strides[i]`: the points between consecutive values of axis `i` (the first axis
/// varies slowest). Refuses grids of more than [`MAX_RUNS`] runs.
fn grid_strides(
    axes: &[Axis],
    replications: u32,
    text: SpecText,
) -> Result<Vec<usize>, ExperimentError> {
    let mut strides = vec![1usize; axes.len()];
    let mut points: u64 = 1;
    for i in (0..axes.len()).rev() {
        strides[i] = points as usize;
        points = points.saturating_mul(axes[i].values.len() as u64);
    }
    let runs = points.saturating_mul(replications as u64);
    if runs > MAX_RUNS {
        return Err(text.err(
            &FieldPath::top("axes"),
            format!("the grid has {points} points × {replications} replications = {runs} runs, more than {MAX_RUNS}: use fewer values"),
        ));
    }
    Ok(strides)
}

impl Experiment {
    /// Reads and validates an experiment file (and its base model).
    pub fn load(path: &Path) -> Result<Experiment, ExperimentError> {
        Experiment::from_source(Source::read(path)?)
    }

    /// Validates an experiment from its texts. This expands the axes, checks that every
    /// grid point's model is valid, and makes a one-second trial run of the first point
    /// to learn which metrics exist.
    ///
    /// The steps run in this order, and the first failure is the one reported: the
    /// settings (`check_settings`), the base model (`base_model`), the axes
    /// (`expand_axes`, `grid_strides`), every point's model, the trial run, then
    /// `set_unit_costs`, `choose_metrics`, `set_objective`, `set_per`, `set_slos` and
    /// `set_plots`.
    pub fn from_source(source: Source) -> Result<Experiment, ExperimentError> {
        let text = SpecText {
            src: source.text.as_str(),
            file: source.file.as_str(),
        };
        let raw = parse_raw(text.src, text.file).map_err(ExperimentError::Spec)?;
        let (replications, confidence) = check_settings(&raw, text)?;
        let (base, model_paths) = base_model(&source)?;
        let axes = expand_axes(&raw, &source, &model_paths, text)?;
        let strides = grid_strides(&axes, replications, text)?;
        let seed = raw.seed.unwrap_or(base.seed);

        let mut exp = Experiment {
            name: raw.name.clone(),
            description: raw.description.clone().unwrap_or_default(),
            model_name: base.name.clone(),
            replications,
            seed,
            confidence,
            common_random_numbers: raw.common_random_numbers,
            axes,
            metrics: Vec::new(),
            slos: Vec::new(),
            objective: Objective::Axis(0),
            per: Vec::new(),
            unit_costs: Vec::new(),
            plots: Vec::new(),
            report_runs: None,
            throughput: None,
            strides,
            source: source.clone(),
        };

        // Every point's model must be valid before anything runs.
        exp.check_points()?;

        // A one-second trial run of the first point names the metrics that exist.
        let probe = exp.probe()?;
        let mut known: Vec<String> = probe.metric_paths();
        known.extend(["events", "simulated_s", "warmup_s"].map(String::from));
        // `time_to_insight_s.p99` is `insight.time_to_insight_s.p99`.
        let bare: Vec<String> = known
            .iter()
            .filter_map(|k| k.strip_prefix("insight."))
            .filter(|k| !k.starts_with("records"))
            .map(String::from)
            .collect();
        known.extend(bare);

        exp.set_unit_costs(&raw, text)?;
        if !exp.unit_costs.is_empty() {
            known.push(COST_EXTRA.into());
            known.push(COST_ALL.into());
        }
        let (minimize, objective_axis) = exp.choose_metrics(&raw, &probe, &known, text)?;
        exp.set_objective(&minimize, objective_axis, text)?;
        exp.set_per(&raw, text)?;
        exp.set_slos(&raw, text)?;
        exp.set_plots(&raw, text)?;
        exp.set_report(&raw, text)?;
        Ok(exp)
    }

    /// The index of the axis with path `path`.
    fn axis_index(&self, path: &str) -> Option<usize> {
        self.axes.iter().position(|a| a.path == path)
    }

    /// The index of metric `m` among the kept metrics.
    fn metric_index(&self, m: &str) -> Option<usize> {
        self.metrics.iter().position(|x| x == m)
    }

    /// ` ; did you mean `X`?` with the nearest axis path to `want`, when one is close.
    fn axis_hint(&self, want: &str) -> String {
        hint(want, self.axes.iter().map(|a| &a.path))
    }

    /// `[unit_costs]`: each names an axis with numeric values and a finite price.
    fn set_unit_costs(
        &mut self,
        raw: &RawExperiment,
        text: SpecText,
    ) -> Result<(), ExperimentError> {
        for (path, usd) in &raw.unit_costs {
            let at = key_path("unit_costs", path);
            let Some(i) = self.axis_index(path) else {
                let hint = self.axis_hint(path);
                return Err(text.err(&at, format!("`{path}` is not an axis of this experiment: unit costs price the values of an axis{hint}")));
            };
            if !self.axes[i].is_numeric() {
                return Err(text.err(&at, format!("the values of axis `{path}` are not numbers")));
            }
            if !usd.is_finite() {
                return Err(text.err(&at, "the price must be a finite number of USD".into()));
            }
            self.unit_costs.push((i, *usd));
        }
        Ok(())
    }

    /// The metrics kept, in column order: `metrics`, the objectives', the charts', the
    /// sizing objective's (when it is a metric), `cost.total`, one `cost.services.S` per
    /// billed service of the trial run, and the derived costs. Each must be in `known`
    /// (the trial run's metrics) and none may be an axis. Sets [`Experiment::metrics`]
    /// and returns what sizing minimises, with its axis index when it is an axis.
    fn choose_metrics(
        &mut self,
        raw: &RawExperiment,
        probe: &crate::engine::RunSummary,
        known: &[String],
        text: SpecText,
    ) -> Result<(String, Option<usize>), ExperimentError> {
        let check_metric = |m: &str, at: &FieldPath| -> Result<(), ExperimentError> {
            if m == "wall_s" {
                return Err(text.err(at, "`wall_s` is the run's wall-clock time: it differs between identical runs, so a sweep cannot keep it".into()));
            }
            if known.iter().any(|k| k == m) {
                return Ok(());
            }
            let hint = hint(m, known.iter());
            Err(text.err(
                at,
                format!("`{m}` is not a metric of this model's run summary{hint}"),
            ))
        };
        let mut metrics: Vec<String> = Vec::new();
        let keep = |m: &str, metrics: &mut Vec<String>| {
            if !metrics.iter().any(|x| x == m) {
                metrics.push(m.to_string());
            }
        };
        for (i, m) in raw.metrics.iter().enumerate() {
            check_metric(m, &FieldPath::top("metrics").index(i))?;
            keep(m, &mut metrics);
        }
        for m in raw.slo.keys() {
            check_metric(m, &key_path("slo", m))?;
            keep(m, &mut metrics);
        }
        for (i, p) in raw.plot.iter().enumerate() {
            let ys = p.y.list();
            if ys.is_empty() {
                return Err(text.err(
                    &plot_path(i, "y"),
                    "names no metric: give one, or a list such as [\"consumer.workers.latency_s.p50\", \"consumer.workers.latency_s.p99\"]".into(),
                ));
            }
            for m in ys {
                check_metric(m, &plot_path(i, "y"))?;
                keep(m, &mut metrics);
            }
        }
        if let Some(t) = raw.report.as_ref().and_then(|r| r.throughput.as_deref()) {
            if self.axis_index(t).is_none() {
                check_metric(t, &key_path("report", "throughput"))?;
                keep(t, &mut metrics);
            }
        }
        let sizing = raw.sizing.clone().unwrap_or_default();
        let default_objective = if self.unit_costs.is_empty() {
            "cost.total"
        } else {
            COST_ALL
        };
        let minimize = sizing
            .minimize
            .clone()
            .unwrap_or_else(|| default_objective.to_string());
        let objective_axis = self.axis_index(&minimize);
        if objective_axis.is_none() {
            check_metric(&minimize, &key_path("sizing", "minimize"))?;
            keep(&minimize, &mut metrics);
        }
        keep("cost.total", &mut metrics);
        let mut services: Vec<&str> = Vec::new();
        for l in &probe.cost.lines {
            if !services.contains(&l.service.as_str()) {
                services.push(&l.service);
            }
        }
        for s in services {
            let m = format!("cost.services.{s}");
            if known.contains(&m) {
                keep(&m, &mut metrics);
            }
        }
        if !self.unit_costs.is_empty() {
            keep(COST_EXTRA, &mut metrics);
            keep(COST_ALL, &mut metrics);
        }
        for m in &metrics {
            if let Some(a) = self.axis_index(m) {
                return Err(text.err(
                    &key_path("axes", &self.axes[a].path),
                    format!("`{m}` is both an axis and a kept metric: its value is already in every row (remove it from the metrics)"),
                ));
            }
        }
        self.metrics = metrics;
        Ok((minimize, objective_axis))
    }

    /// What sizing minimises: axis `objective_axis` (which must have numeric values) or
    /// the kept metric `minimize`.
    fn set_objective(
        &mut self,
        minimize: &str,
        objective_axis: Option<usize>,
        text: SpecText,
    ) -> Result<(), ExperimentError> {
        self.objective = match objective_axis {
            Some(a) => {
                if !self.axes[a].is_numeric() {
                    return Err(text.err(
                        &key_path("sizing", "minimize"),
                        format!("the values of axis `{minimize}` are not numbers"),
                    ));
                }
                Objective::Axis(a)
            }
            None => Objective::Metric(self.metric_index(minimize).unwrap_or(0)),
        };
        Ok(())
    }

    /// `sizing.per`: axes of this experiment, each kept once.
    fn set_per(&mut self, raw: &RawExperiment, text: SpecText) -> Result<(), ExperimentError> {
        let per = raw
            .sizing
            .as_ref()
            .map(|s| s.per.as_slice())
            .unwrap_or_default();
        for (i, p) in per.iter().enumerate() {
            let at = FieldPath::top("sizing").field("per").index(i);
            match self.axis_index(p) {
                Some(a) if !self.per.contains(&a) => self.per.push(a),
                Some(_) => {}
                None => {
                    let hint = self.axis_hint(p);
                    return Err(text.err(
                        &at,
                        format!("`{p}` is not an axis of this experiment{hint}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `[slo]`: the objectives, parsed; they need at least 2 replications.
    fn set_slos(&mut self, raw: &RawExperiment, text: SpecText) -> Result<(), ExperimentError> {
        for (m, written) in &raw.slo {
            let idx = self.metric_index(m).unwrap_or(0);
            let s = slo::parse(m, idx, written).map_err(|e| text.err(&key_path("slo", m), e))?;
            self.slos.push(s);
        }
        if !self.slos.is_empty() && self.replications < 2 {
            return Err(text.err(
                &FieldPath::top("replications"),
                "objectives are checked at a confidence bound, which needs at least 2 replications"
                    .into(),
            ));
        }
        Ok(())
    }

    /// `[[plot]]`: each chart's metric and axis (by default the first axis with several
    /// values); with no `[[plot]]`, one chart per `metrics` entry along that axis.
    fn set_plots(&mut self, raw: &RawExperiment, text: SpecText) -> Result<(), ExperimentError> {
        let first_multi = self.axes.iter().position(|a| a.values.len() > 1);
        for (i, p) in raw.plot.iter().enumerate() {
            let x = match &p.x {
                Some(x) => self.axis_index(x).ok_or_else(|| {
                    let hint = self.axis_hint(x);
                    text.err(
                        &plot_path(i, "x"),
                        format!("`{x}` is not an axis of this experiment{hint}"),
                    )
                })?,
                None => first_multi.ok_or_else(|| {
                    text.err(
                        &plot_path(i, "y"),
                        "no axis has more than one value to draw along".into(),
                    )
                })?,
            };
            let ys: Vec<usize> =
                p.y.list()
                    .iter()
                    .map(|m| self.metric_index(m).unwrap_or(0))
                    .collect();
            self.plots.push(Plot {
                y: ys[0],
                more_y: ys[1..].to_vec(),
                title: p.title.clone().unwrap_or_else(|| {
                    format!("{} vs {}", p.y.list().join(", "), self.axes[x].path)
                }),
                x,
                log_y: p.log_y,
            });
        }
        if raw.plot.is_empty() {
            if let Some(x) = first_multi {
                for name in &raw.metrics {
                    if let Some(y) = self.metric_index(name) {
                        self.plots.push(Plot {
                            y,
                            more_y: Vec::new(),
                            x,
                            title: format!("{name} vs {}", self.axes[x].path),
                            log_y: false,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// `[report]`: the runs to draw (each a run of the sweep) and the throughput (a kept
    /// metric or a numeric axis; by default the first numeric axis whose path ends in
    /// `_per_s`).
    fn set_report(&mut self, raw: &RawExperiment, text: SpecText) -> Result<(), ExperimentError> {
        let report = raw.report.clone().unwrap_or_default();
        if let Some(runs) = &report.runs {
            let total = self.runs();
            let mut picked = Vec::new();
            for (i, r) in runs.iter().enumerate() {
                let at = FieldPath::top("report").field("runs").index(i);
                match usize::try_from(*r) {
                    Ok(r) if r < total => {
                        if !picked.contains(&r) {
                            picked.push(r);
                        }
                    }
                    _ => {
                        return Err(text.err(
                            &at,
                            format!("run {r} is not a run of this sweep: runs are numbered 0 to {} (point × replications + replication)", total.saturating_sub(1)),
                        ))
                    }
                }
            }
            self.report_runs = Some(picked);
        }
        self.throughput = match &report.throughput {
            Some(t) => match self.axis_index(t) {
                Some(a) if self.axes[a].is_numeric() => Some(Throughput::Axis(a)),
                Some(_) => {
                    return Err(text.err(
                        &key_path("report", "throughput"),
                        format!("the values of axis `{t}` are not numbers"),
                    ))
                }
                None => self.metric_index(t).map(Throughput::Metric),
            },
            None => self
                .axes
                .iter()
                .position(|a| a.path.ends_with("_per_s") && a.is_numeric() && a.values.len() > 1)
                .map(Throughput::Axis),
        };
        Ok(())
    }

    /// Number of grid points.
    pub fn points(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Number of runs: points × replications.
    pub fn runs(&self) -> usize {
        self.points() * self.replications as usize
    }

    /// The value index of every axis at `point` (the first axis varies slowest).
    pub fn coords(&self, point: usize) -> Vec<usize> {
        self.axes
            .iter()
            .zip(&self.strides)
            .map(|(a, s)| (point / s) % a.values.len())
            .collect()
    }

    /// The point of run `run` and its replication (runs are numbered point by point).
    pub fn run_position(&self, run: usize) -> (usize, u32) {
        let r = self.replications as usize;
        (run / r, (run % r) as u32)
    }

    /// The seed of replication `rep` of `point` (see [`run_seed`]).
    pub fn seed_of(&self, point: usize, rep: u32) -> u64 {
        let p = if self.common_random_numbers { 0 } else { point };
        run_seed(self.seed, p as u64, rep as u64)
    }

    /// The axis settings of `point` as `(path, TOML value)` pairs.
    pub(crate) fn settings(&self, point: usize) -> Vec<(String, String)> {
        self.axes
            .iter()
            .zip(self.coords(point))
            .map(|(a, i)| (a.path.clone(), a.values[i].toml.clone()))
            .collect()
    }

    /// The situation of an answer (value indices of the `per` axes) as the prefix of its
    /// line: `rate_per_s = 200: `, or nothing when the experiment has no `per` axes.
    pub fn situation_prefix(&self, situation: &[usize]) -> String {
        let parts: Vec<String> = self
            .per
            .iter()
            .zip(situation)
            .map(|(ax, k)| {
                format!(
                    "{} = {}",
                    self.axes[*ax].path, self.axes[*ax].values[*k].label
                )
            })
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("{}: ", parts.join(", "))
        }
    }

    /// The axis settings of `point` for people: `workers = 30, rate_per_s = 200`.
    pub fn describe(&self, point: usize) -> String {
        if self.axes.is_empty() {
            return "the base model".into();
        }
        self.axes
            .iter()
            .zip(self.coords(point))
            .map(|(a, i)| format!("{} = {}", a.path, a.values[i].label))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The model text of `point`: the base model with the point's axis values set.
    pub(crate) fn model_text(&self, point: usize) -> Result<String, overrides::OverrideError> {
        overrides::apply_all(&self.source.model_text, &self.settings(point))
    }

    /// Builds the architecture of `point` from plain data.
    pub fn architecture(&self, point: usize) -> Result<Architecture, ModelError> {
        let shown = format!("{} (grid point {point})", self.source.model_file);
        let text = self.model_text(point).map_err(|e| ModelError {
            file: shown.clone(),
            line: None,
            column: None,
            field: String::new(),
            message: e.message,
        })?;
        model::load_str(&text, &shown, &self.source.model_base)
    }

    /// The value of the derived metric `cost.extra` at `point`.
    pub(crate) fn extra_cost(&self, point: usize) -> f64 {
        let coords = self.coords(point);
        self.unit_costs
            .iter()
            .map(|(a, usd)| usd * self.axes[*a].values[coords[*a]].number.unwrap_or(0.0))
            .sum()
    }

    fn check_points(&self) -> Result<(), ExperimentError> {
        let bad = (0..self.points())
            .into_par_iter()
            .find_map_first(|p| self.architecture(p).err().map(|e| (p, e)));
        match bad {
            None => Ok(()),
            Some((point, source)) => Err(ExperimentError::Point {
                point,
                settings: self.describe(point),
                source: Box::new(source),
            }),
        }
    }

    /// A one-second run of the first point, warm-up skipped.
    fn probe(&self) -> Result<crate::engine::RunSummary, ExperimentError> {
        let mut arch = self
            .architecture(0)
            .map_err(|source| ExperimentError::Point {
                point: 0,
                settings: self.describe(0),
                source: Box::new(source),
            })?;
        arch.duration = SimDuration::from_secs(1);
        arch.warmup = SimDuration::ZERO;
        engine::run(&arch, self.seed_of(0, 0))
            .map(|o| o.summary)
            .map_err(|e| ExperimentError::Probe(e.to_string()))
    }
}

/// The seed of replication `rep` of grid point `point` in a sweep with base seed `base`:
///
/// `seed = splitmix64(splitmix64(splitmix64(base) ^ point) ^ rep)`
///
/// SplitMix64's mixer (`crate::sim::rng::splitmix64`) is a bijection of 64-bit
/// values, so for a fixed base two replications of one point never share a seed, nor do
/// two points at one replication; neighbouring indices give unrelated seeds. The seed
/// depends on nothing else (not the thread, the shard or the order of execution). With
/// `common_random_numbers`, `point` is 0 for every point.
pub fn run_seed(base: u64, point: u64, rep: u64) -> u64 {
    use crate::sim::rng::splitmix64;
    splitmix64(splitmix64(splitmix64(base) ^ point) ^ rep)
}

/// ` ; did you mean `X`?` when a candidate is close.
fn hint<'a>(want: &str, candidates: impl IntoIterator<Item = &'a String>) -> String {
    overrides::nearest(want, candidates)
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}

/// Checks that an axis names a field of the model: setting its first value alone must
/// give a valid model, and a path that is not written in the model gets the nearest one
/// that is.
fn check_axis_path(source: &Source, a: &Axis, model_paths: &[String]) -> Result<(), String> {
    let Some(first) = a.values.first() else {
        return Err("the axis has no values".into());
    };
    let sets = [(a.path.clone(), first.toml.clone())];
    let text = overrides::apply_all(&source.model_text, &sets).map_err(|e| {
        format!(
            "`{}` is not a field of the model {}: {}",
            a.path, source.model_file, e.message
        )
    })?;
    let shown = format!("{} (with {} = {})", source.model_file, a.path, first.label);
    match model::load_str(&text, &shown, &source.model_base) {
        Ok(_) => Ok(()),
        Err(e) if !model_paths.contains(&a.path) => {
            let hint = hint(&a.path, model_paths.iter());
            Err(format!(
                "`{}` is not a field of the model {}{hint} ({e})",
                a.path, source.model_file
            ))
        }
        // An existing field with a value the model rejects: reported per point.
        Err(_) => Ok(()),
    }
}
