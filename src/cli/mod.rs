//! Command-line interface: argument parsing, commands, and the one exit point.
//!
//! Exit codes: 0 success, 1 a run failed, 2 bad input (model, flags, files), 3 `compare`
//! with objectives that no architecture meets.

use aqueduct::engine::{self, RunError};
use aqueduct::input::overrides;
use aqueduct::model::{self, Architecture, ModelError};
use aqueduct::sim::SimDuration;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

mod bench;
mod compare;
mod interop;
mod price;
mod schema;
mod sweep;

#[derive(Parser)]
#[command(
    name = "aqueduct",
    version,
    about = "Simulate and price event-driven AWS architectures (SQS, SNS, Kinesis)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a model and print its summary (the bundled default model if none is given).
    Run {
        /// Model file (TOML). Default: the bundled models/default.toml.
        model: Option<PathBuf>,
        /// Seed (default: the model's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Measured duration, such as 30m (default: the model's `duration`).
        #[arg(long)]
        duration: Option<String>,
        /// Print the JSON summary instead of tables.
        #[arg(long)]
        json: bool,
        /// Write run.json (the --json summary), series.csv, series_long.csv, charts (SVG and PNG) and
        /// report.html into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a model field: PATH=VALUE (repeatable), e.g.
        /// --set consumer.order-workers.workers=30
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// A budget for CI: exit with code 3 (and `"ok": false` in the JSON) when the
        /// monthly bill is above this many USD.
        #[arg(long, value_name = "USD")]
        fail_above: Option<f64>,
        /// Write the run's monthly quantities as an infracost usage file (YAML), keyed by
        /// the Terraform addresses `aqueduct import terraform` gives the components.
        #[arg(long, value_name = "FILE")]
        infracost_usage: Option<PathBuf>,
        /// Output: text (tables), json (as --json) or csv (the bill's lines).
        #[arg(long, value_enum, conflicts_with = "json")]
        format: Option<Format>,
    },
    /// Run an experiment: a grid of model settings × replications on all cores, then
    /// statistics, sizing by objectives and a report with charts (see experiments/).
    Sweep {
        /// Experiment file (TOML), such as experiments/workers-load.toml.
        experiment: PathBuf,
        /// Worker threads (default: every core). The output does not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Output directory (default: reports/<experiment name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run only the K-th of N deterministic slices, such as 2/8; combine them with
        /// `aqueduct merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Compare architectures on the same workload: replications with common random
    /// numbers, a side-by-side table (cost, time to insight, value, throttles,
    /// duplicates, losses), the Pareto front of cost against time-to-insight p99, and the
    /// cheapest meeting `--slo` objectives (exit code 3 when none does).
    Compare {
        /// Two or more model files whose producers are the same.
        #[arg(required = true)]
        models: Vec<PathBuf>,
        /// Replications per model.
        #[arg(long, default_value_t = 5)]
        reps: u32,
        /// First seed: replication r runs every model with seed + r.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Confidence level of the intervals.
        #[arg(long, default_value_t = 0.95)]
        confidence: f64,
        /// An objective, METRIC OP THRESHOLD (repeatable), such as
        /// "time_to_insight_s.p99 < 30s" or "value_delivered >= 0.9".
        #[arg(long = "slo", value_name = "OBJECTIVE")]
        slos: Vec<String>,
        /// Write compare.csv, cost-vs-insight.svg/.png, report.md and report.html into this
        /// directory.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (default: every core). The output does not depend on it.
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Combine the output directories of `sweep --shard K/N` into the files an unsharded
    /// sweep writes.
    Merge {
        /// The shards' output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory (default: reports/<experiment name>/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a model from another tool's description of the infrastructure.
    Import {
        #[command(subcommand)]
        what: ImportCmd,
    },
    /// Check a model file and print what it contains.
    Validate {
        /// Model file (TOML).
        model: PathBuf,
    },
    /// Price a usage file, or a model's expected steady-state load, as a monthly bill
    /// with the capacity the documented limits require.
    Price {
        /// A usage file (one [KIND.NAME] table per resource) or a model file (TOML).
        input: PathBuf,
        /// Print the bill as JSON (the `cost` object, with `capacity` and `notes`).
        #[arg(long)]
        json: bool,
        /// Hours in the billing month (default 730).
        #[arg(long, value_name = "H")]
        month_hours: Option<f64>,
        /// Subtract AWS's monthly free tiers (account-level, shared by all resources).
        #[arg(long)]
        free_tier: bool,
        /// Override a field of a model, as in `run` (repeatable), such as
        /// --set consumer.order-workers.workers=30
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// A budget for CI: exit with code 3 (and `"ok": false`) when the monthly bill is
        /// above this many USD; a failed capacity check also exits with code 3.
        #[arg(long, value_name = "USD")]
        fail_above: Option<f64>,
        /// Output: text (tables), json (as --json) or csv (the bill's lines).
        #[arg(long, value_enum, conflicts_with = "json")]
        format: Option<Format>,
    },
    /// Print the AWS limits in force (defaults, with sources), as a TOML [limits] table.
    Limits,
    /// Measure the kernel and the engine (results for the README's benchmark table).
    Bench {
        /// Smaller sizes, for a quick check.
        #[arg(long)]
        quick: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Run one benchmark only: queue, mm1 (with its hand-written reference loop), memory,
        /// kinesis, default, drain, workers (a million workers), firehose, flink or video.
        #[arg(long, value_parser = ["queue", "mm1", "memory", "kinesis", "default", "drain", "workers", "firehose", "flink", "video"])]
        only: Option<String>,
    },
    /// Print the JSON Schema of a JSON output: `run` (run --json), `price` (price --json)
    /// or `sweep` (a sweep's sweep.json); with --write DIR, write DIR/NAME.schema.json
    /// for each (as docs/schema/ holds them).
    Schema {
        /// The output whose schema to print.
        #[arg(value_enum)]
        output: Option<schema::Which>,
        /// Write NAME.schema.json files into this directory instead of printing (every
        /// output's unless one is named).
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
}

/// What `import` reads.
#[derive(Subcommand)]
enum ImportCmd {
    /// A model from `terraform show -json` output (a plan or a state): its SQS queues, SNS
    /// topics and subscriptions, Kinesis streams, Firehose streams and Lambda functions
    /// with their event source mappings; the load is left as a PLACEHOLDER to complete.
    Terraform {
        /// The JSON of `terraform show -json PLAN` (or of a state).
        plan: PathBuf,
        /// Write the model here (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// An error with its exit code.
pub struct Failure {
    code: i32,
    message: String,
}

/// Exit code of a check that failed, for CI: `run`/`price --fail-above` over budget, a
/// capacity check of `price`, no point of a sweep (or architecture of `compare`) meeting
/// every objective. The output is written in full first.
pub const CHECK_FAILED: i32 = 3;

/// A validated `--fail-above` budget.
fn budget(usd: Option<f64>) -> Result<Option<f64>, Failure> {
    match usd {
        Some(x) if !(x.is_finite() && x >= 0.0) => Err(Failure::input(format!(
            "--fail-above {x}: expected a monthly budget in USD, a number ≥ 0"
        ))),
        other => Ok(other),
    }
}

/// The failure of a bill of `total` USD over budget `limit`.
fn over_budget(total: f64, limit: f64) -> Failure {
    Failure {
        code: CHECK_FAILED,
        message: format!(
            "the monthly bill, ${total:.2}, is above --fail-above ${limit:.2} (exit code {CHECK_FAILED})"
        ),
    }
}

impl Failure {
    fn input(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
    fn run(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<ModelError> for Failure {
    fn from(e: ModelError) -> Self {
        Failure::input(e.to_string())
    }
}

impl From<RunError> for Failure {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Pricing(p) => Failure::input(p.to_string()),
        }
    }
}

/// Runs the command line; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match dispatch(cli.cmd) {
        Ok(()) => 0,
        Err(f) => {
            eprintln!("error: {}", terminal_safe(&f.message));
            f.code
        }
    }
}

/// What `run` and `price` print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Readable tables.
    Text,
    /// The JSON document (as `--json`).
    Json,
    /// The bill's lines as CSV.
    Csv,
}

fn dispatch(cmd: Cmd) -> Result<(), Failure> {
    match cmd {
        Cmd::Run {
            model,
            seed,
            duration,
            json,
            out,
            sets,
            fail_above,
            infracost_usage,
            format,
        } => cmd_run(
            model.as_deref(),
            seed,
            duration,
            json || format == Some(Format::Json),
            out,
            &sets,
            budget(fail_above)?,
            infracost_usage.as_deref(),
            format == Some(Format::Csv),
        ),
        Cmd::Sweep {
            experiment,
            threads,
            out,
            shard,
            quiet,
        } => sweep::cmd_sweep(&experiment, threads, out, shard.as_deref(), quiet),
        Cmd::Merge { dirs, out } => sweep::cmd_merge(&dirs, out),
        Cmd::Compare {
            models,
            reps,
            seed,
            confidence,
            slos,
            out,
            threads,
        } => compare::run(compare::Options {
            models,
            reps,
            seed,
            confidence,
            slos,
            out,
            threads,
        }),
        Cmd::Import {
            what: ImportCmd::Terraform { plan, out },
        } => interop::terraform(&plan, out.as_deref()),
        Cmd::Validate { model } => cmd_validate(&model),
        Cmd::Price {
            input,
            json,
            month_hours,
            free_tier,
            sets,
            fail_above,
            format,
        } => price::run(
            &input,
            price::Output {
                json: json || format == Some(Format::Json),
                csv: format == Some(Format::Csv),
            },
            month_hours,
            free_tier,
            &parse_sets(&sets)?,
            budget(fail_above)?,
        ),
        Cmd::Limits => {
            let limits = aqueduct::services::Limits::default();
            let text = limits.to_toml().map_err(|e| Failure::run(e.to_string()))?;
            println!("# AWS limits aqueduct enforces (override any in a model's [limits] table).");
            println!("# Sources: AWS's documentation; src/services/SERVICE/limits.rs cites the page of every field.");
            for url in aqueduct::services::Limits::sources() {
                println!("#   {url}");
            }
            println!("[limits]");
            print!("{text}");
            Ok(())
        }
        Cmd::Bench { quick, json, only } => {
            bench::run(quick, json, only.as_deref()).map_err(Failure::run)
        }
        Cmd::Schema { output, write } => schema::run(output, write.as_deref()),
    }
}

/// The `wrote DIR/` line of `run --out`, `sweep` and `merge`, wrapped to 100 columns: the
/// pages and the manifest, the tables, and how many charts (every file was a name on one
/// line of some 700 characters).
pub(crate) fn wrote(dir: &Path, files: &[String]) -> String {
    let pick = |ext: &[&str]| -> Vec<&str> {
        files
            .iter()
            .filter(|f| ext.iter().any(|e| f.ends_with(e)))
            .map(String::as_str)
            .collect()
    };
    let mut line = format!(
        "wrote {}/ ({} files): {}",
        dir.display(),
        files.len(),
        pick(&[".html", ".md", ".json"]).join(", ")
    );
    let tables = pick(&[".csv"]);
    if !tables.is_empty() {
        line.push_str(&format!("; tables: {}", tables.join(", ")));
    }
    let charts = pick(&[".svg"]).len();
    if charts > 0 {
        line.push_str(&format!("; {charts} charts as SVG and PNG"));
    }
    aqueduct::wrap(&line, aqueduct::TEXT_WIDTH, 2)
}

/// `s` with its control characters (other than newline and tab) escaped as `\u{..}`, for
/// the terminal.
pub(crate) fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    aqueduct::without_controls(s)
}

/// Parses `PATH=VALUE` pairs.
fn parse_sets(sets: &[String]) -> Result<Vec<(String, String)>, Failure> {
    sets.iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| {
                    Failure::input(format!(
                        "--set {s}: expected PATH=VALUE, such as consumer.workers.workers=30"
                    ))
                })
        })
        .collect()
}

/// Loads a model file (or the bundled default), applying `--set` overrides.
pub fn load_model(path: Option<&Path>, sets: &[(String, String)]) -> Result<Architecture, Failure> {
    let (text, shown, base) = match path {
        Some(p) => {
            let shown = p.display().to_string();
            let bytes = aqueduct::input::read_file(p)
                .map_err(|e| Failure::input(format!("{shown}: cannot read the model file: {e}")))?;
            let text = model::decode(&shown, &bytes)?;
            (
                text,
                shown,
                p.parent().map(Path::to_path_buf).unwrap_or_default(),
            )
        }
        None => (
            model::DEFAULT_MODEL.to_string(),
            model::DEFAULT_MODEL_NAME.to_string(),
            PathBuf::from("models"),
        ),
    };
    if sets.is_empty() {
        return Ok(model::load_str(&text, &shown, &base)?);
    }
    // Validate the file as written first, so errors point at its lines.
    model::parse_raw(&text, &shown)?;
    let changed = overrides::apply_all(&text, sets)
        .map_err(|e| Failure::input(format!("--set: {}", e.message)))?;
    model::load_str(&changed, &format!("{shown} (with --set)"), &base).map_err(Failure::from)
}

// One argument per flag of `run`, as clap parsed them.
#[allow(clippy::too_many_arguments)]
fn cmd_run(
    path: Option<&Path>,
    seed: Option<u64>,
    duration: Option<String>,
    json: bool,
    out: Option<PathBuf>,
    sets: &[String],
    fail_above: Option<f64>,
    infracost_usage: Option<&Path>,
    csv: bool,
) -> Result<(), Failure> {
    let mut sets = parse_sets(sets)?;
    let no_sets = sets.is_empty();
    let given_duration = duration.clone();
    let user_sets = sets.len();
    if let Some(d) = duration {
        let d = aqueduct::input::units::parse_duration(&d)
            .map_err(|m| Failure::input(format!("--duration: {m}")))?;
        if d == SimDuration::ZERO {
            return Err(Failure::input("--duration must be longer than 0s"));
        }
        // As an override of the file's `duration`, so that it gets every check the
        // field gets (the longest run, the sample count): set directly, it skipped them.
        sets.push(("duration".into(), format!("\"{}ns\"", d.0)));
    }
    let arch = load_model(path, &sets)?;
    let seed = seed.unwrap_or(arch.seed);
    {
        let shown = path.map_or(model::DEFAULT_MODEL_NAME.to_string(), |p| {
            p.display().to_string()
        });
        let text = match path {
            Some(p) if no_sets => aqueduct::input::read_file(p)
                .ok()
                .and_then(|b| String::from_utf8(b).ok()),
            Some(_) => None,
            None => Some(model::DEFAULT_MODEL.to_string()),
        };
        check_prices(&arch, text.as_deref(), &shown)?;
    }
    // The output directory is checked (and made) before the run: a bad --out must not
    // cost a simulation and then throw its results away.
    if let Some(dir) = &out {
        sweep::check_out_dir(dir)?;
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::input(format!(
                "--out {}: cannot create directory: {e}",
                dir.display()
            ))
        })?;
    }
    if let Some(f) = infracost_usage {
        interop::check_writable(f)?;
    }
    if !arch.scenarios.is_empty() {
        if out.is_some() || infracost_usage.is_some() {
            return Err(Failure::input(
                "--out and --infracost-usage: a model whose month is made of [[scenario]] tables is run with --json or as text; for one scenario's files, give its overrides with --set to a copy without the scenarios",
            ));
        }
        return run_scenarios(&arch, seed, json, csv, fail_above);
    }
    let mut out_put = engine::run(&arch, seed)?;
    if let Some(f) = infracost_usage {
        interop::write_infracost_usage(f, &arch, &out_put, seed)?;
    }
    let over = fail_above.filter(|limit| out_put.summary.cost.total > *limit);
    if over.is_some() {
        out_put.summary.ok = false;
    }
    if json || out.is_some() {
        out_put.summary.metrics = out_put.summary.flat_metrics();
    }
    let mut written = Vec::new();
    if let Some(dir) = &out {
        let mut command = String::from("aqueduct run");
        if let Some(p) = path {
            command.push(' ');
            command.push_str(&sweep::quote(&p.display().to_string()));
        }
        command.push_str(&format!(" --seed {seed}"));
        if let Some(d) = &given_duration {
            command.push_str(&format!(" --duration {}", sweep::quote(d)));
        }
        for (k, v) in &sets[..user_sets] {
            command.push_str(&format!(" --set {}", sweep::quote(&format!("{k}={v}"))));
        }
        if let Some(limit) = fail_above {
            command.push_str(&format!(" --fail-above {limit}"));
        }
        command.push_str(&format!(
            " --out {}",
            sweep::quote(&dir.display().to_string())
        ));
        written = aqueduct::report::write_run_report(&out_put, &command, dir)
            .map_err(|e| Failure::run(e.to_string()))?;
    }
    if csv {
        print!("{}", out_put.summary.cost.to_csv());
    } else if json {
        let s = serde_json::to_string_pretty(&schema::RunOutput::One(&out_put.summary))
            .map_err(|e| Failure::run(e.to_string()))?;
        println!("{s}");
    } else {
        print!(
            "{}",
            terminal_safe(&out_put.summary.to_table_width(aqueduct::text_width()))
        );
        if let Some(dir) = &out {
            print!("{}", terminal_safe(&wrote(dir, &written)));
        }
    }
    ended(&out_put.summary, "the run")?;
    if let Some(limit) = over {
        return Err(over_budget(out_put.summary.cost.total, limit));
    }
    Ok(())
}

/// The failure of a run (`what`, as a message names it) that did not end as it should:
/// unbalanced accounting (a bug), or stopped at its memory budget.
fn ended(summary: &engine::RunSummary, what: &str) -> Result<(), Failure> {
    if !summary.accounting.balanced() {
        return Err(Failure::run(
            "message accounting does not balance (a bug: please report it)",
        ));
    }
    if let Some(t) = summary.stopped_s {
        return Err(Failure::run(format!(
            "{what} stopped at {t:.3} s of simulated time, over its memory budget: its results so far are above (see the warning)"
        )));
    }
    Ok(())
}

/// `run` of a model whose month is made of scenarios: each scenario runs on its own (same
/// seed), and the month's bill charges each one's usage for its hours.
fn run_scenarios(
    arch: &Architecture,
    seed: u64,
    json: bool,
    csv: bool,
    fail_above: Option<f64>,
) -> Result<(), Failure> {
    use aqueduct::pricing::PriceTable;
    use aqueduct::services::{bill_month, MonthPart};
    let table = PriceTable::resolve(&arch.prices, &arch.base_dir)
        .map_err(|e| Failure::input(e.to_string()))?;
    let mut runs = Vec::with_capacity(arch.scenarios.len());
    for s in &arch.scenarios {
        let mut o = engine::run(&s.arch, seed)?;
        // Its own bill is its share of the month (its usage for its hours), not its window
        // repeated all month.
        let part = MonthPart {
            name: &s.name,
            hours: s.hours,
            usage: &o.usage,
        };
        o.summary.cost =
            bill_month(&[part], &table, false).map_err(|e| Failure::run(e.to_string()))?;
        o.summary.metrics = o.summary.flat_metrics();
        runs.push(o);
    }
    let parts: Vec<MonthPart> = arch
        .scenarios
        .iter()
        .zip(&runs)
        .map(|(s, o)| MonthPart {
            name: &s.name,
            hours: s.hours,
            usage: &o.usage,
        })
        .collect();
    let bill = bill_month(&parts, &table, false).map_err(|e| Failure::run(e.to_string()))?;
    let over = fail_above.filter(|limit| bill.total > *limit);
    let ok = over.is_none() && runs.iter().all(|o| o.summary.ok);
    if csv {
        print!("{}", bill.to_csv());
    } else if json {
        let mut metrics = serde_json::Map::new();
        for (s, o) in arch.scenarios.iter().zip(&runs) {
            for (k, v) in &o.summary.metrics {
                metrics.insert(format!("scenario.{}.{k}", s.name), serde_json::json!(v));
            }
        }
        metrics.insert("cost.total".into(), serde_json::json!(bill.total));
        let doc = schema::RunOutput::Month(schema::MonthRun {
            aqueduct_version: env!("CARGO_PKG_VERSION"),
            model: &arch.name,
            seed,
            scenarios: arch
                .scenarios
                .iter()
                .zip(&runs)
                .map(|(s, o)| schema::ScenarioRun {
                    name: &s.name,
                    hours: s.hours,
                    run: &o.summary,
                })
                .collect(),
            cost: &bill,
            ok,
            metrics,
        });
        let s = serde_json::to_string_pretty(&doc).map_err(|e| Failure::run(e.to_string()))?;
        println!("{s}");
    } else {
        for (s, o) in arch.scenarios.iter().zip(&runs) {
            println!(
                "{}",
                terminal_safe(&format!(
                    "=== scenario \"{}\": {} h of the month ===",
                    s.name, s.hours
                ))
            );
            print!(
                "{}",
                terminal_safe(&o.summary.to_table_width(aqueduct::text_width()))
            );
            println!();
        }
        println!(
            "=== the month: {} h of scenarios, each run's usage for its hours ===",
            bill.month_hours
        );
        print!(
            "{}",
            terminal_safe(&bill.to_table_width(aqueduct::text_width()))
        );
    }
    for o in &runs {
        ended(&o.summary, "a scenario's run")?;
    }
    if let Some(limit) = over {
        return Err(over_budget(bill.total, limit));
    }
    Ok(())
}

/// Checks, before anything runs, that the model's price table can be read and holds
/// every price its bill will need: the bill of its expected load is computed and a
/// missing price is reported at the model's `prices` field (it used to surface only after
/// a simulation, with no file or line, while `validate` called the model valid).
fn check_prices(arch: &Architecture, text: Option<&str>, shown: &str) -> Result<(), Failure> {
    use aqueduct::pricing::{BillOptions, PriceTable, PricingError, DEFAULT_MONTH_HOURS};
    let at = |message: String| -> Failure {
        match text {
            Some(t) => Failure::from(model::place(
                t,
                shown,
                &model::FieldPath::top("prices"),
                message,
            )),
            None => Failure::input(format!("{shown}: field `prices`: {message}")),
        }
    };
    let table = PriceTable::resolve(&arch.prices, &arch.base_dir).map_err(|e| match e {
        PricingError::Table(m) if m.line.is_none() => at(format!("{}: {}", m.file, m.message)),
        other => Failure::input(other.to_string()),
    })?;
    // A model the analytic estimate cannot describe is still valid: the estimate is only
    // the means to list the prices a bill needs.
    let Ok(est) = aqueduct::estimate::estimate(arch, DEFAULT_MONTH_HOURS) else {
        return Ok(());
    };
    let opts = BillOptions {
        month_hours: DEFAULT_MONTH_HOURS,
        free_tier: false,
    };
    match aqueduct::services::bill(&est.usage, &table, opts) {
        Err(e @ PricingError::Missing { .. }) => Err(at(e.to_string())),
        _ => Ok(()),
    }
}

fn cmd_validate(path: &Path) -> Result<(), Failure> {
    let arch = model::load_file(path)?;
    let shown = path.display().to_string();
    let text = aqueduct::input::read_file(path)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    check_prices(&arch, text.as_deref(), &shown)?;
    let counts = [
        (arch.producers.len(), "producer"),
        (arch.topics.len(), "topic"),
        (arch.subscriptions.len(), "subscription"),
        (arch.queues.len(), "queue"),
        (arch.streams.len(), "stream"),
        (
            arch.consumers.len() + arch.stream_consumers.len(),
            "consumer",
        ),
        (arch.lambdas.len(), "lambda"),
        (arch.faults.len(), "fault"),
    ];
    let parts: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    println!(
        "{}: model \"{}\" is valid: {}; {} simulated after {} warm-up, seed {}",
        terminal_safe(&path.display().to_string()),
        terminal_safe(&arch.name),
        parts.join(", "),
        arch.duration,
        arch.warmup,
        arch.seed
    );
    let width = aqueduct::text_width();
    for w in &arch.warnings {
        let line = format!("warning: {}", terminal_safe(w));
        print!("{}", aqueduct::wrap(&line, width, 2));
    }
    Ok(())
}
