//! `aqueduct price USAGE_OR_MODEL [--json] [--month-hours H] [--free-tier]`: the monthly
//! bill of a usage file, or of a model's expected steady-state load, with the capacity
//! the documented limits require.

use super::Failure;
use aqueduct::estimate::capacity::{self, Capacity};
use aqueduct::estimate::{self, usage_file};
use aqueduct::input::overrides;
use aqueduct::model::{self, FieldPath};
use aqueduct::pricing::{
    Bill, BillOptions, PriceTable, PricingError, DEFAULT_MONTH_HOURS, MAX_MONTH_HOURS,
};
use serde::Serialize;
use std::path::Path;

/// What `price --json` prints: the bill (its fields at the top level, and again under
/// `cost` as in `run --json`), its capacity figures and the estimate's notes.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct PriceDoc<'a> {
    /// The bill's fields at the top level, as before `cost` was added.
    #[serde(flatten)]
    flat: &'a Bill,
    /// The bill, under `cost` as in `run --json`.
    cost: &'a Bill,
    /// False when a capacity check fails or the bill is above `--fail-above`.
    ok: bool,
    /// What was priced: `model` (a model's expected steady-state load), `usage` (an
    /// aqueduct usage file) or `infracost` (an infracost usage file).
    #[schemars(extend("enum" = ["model", "usage", "infracost"]))]
    input_kind: &'a str,
    /// The file priced.
    input: String,
    /// Capacity figures.
    capacity: &'a [Capacity],
    /// Assumptions of the estimate.
    notes: &'a [String],
}

impl From<PricingError> for Failure {
    fn from(e: PricingError) -> Self {
        Failure::input(e.to_string())
    }
}

/// Whether a TOML document is a model (it has a model's top-level keys) rather than a
/// usage file.
fn is_model(text: &str) -> bool {
    match toml::from_str::<toml::Table>(text) {
        Ok(t) => ["duration", "name", "producer", "queue", "consumer"]
            .iter()
            .any(|k| t.contains_key(*k)),
        Err(_) => false,
    }
}

/// What `price` prints: JSON, CSV (the bill's lines) or, with neither, tables.
pub struct Output {
    /// The JSON document.
    pub json: bool,
    /// The bill's lines as CSV.
    pub csv: bool,
}

/// Runs the command.
pub fn run(
    path: &Path,
    output: Output,
    month_hours: Option<f64>,
    free_tier: bool,
    sets: &[(String, String)],
    fail_above: Option<f64>,
) -> Result<(), Failure> {
    let month_hours = month_hours.unwrap_or(DEFAULT_MONTH_HOURS);
    if !(month_hours.is_finite() && month_hours > 0.0 && month_hours <= MAX_MONTH_HOURS) {
        return Err(Failure::input(format!(
            "--month-hours {month_hours}: expected a number of hours > 0 and at most {MAX_MONTH_HOURS} (31 days; default {DEFAULT_MONTH_HOURS})"
        )));
    }
    let opts = BillOptions {
        month_hours,
        free_tier,
    };
    let shown = path.display().to_string();
    let bytes = aqueduct::input::read_file(path)
        .map_err(|e| Failure::input(format!("{shown}: cannot read the file: {e}")))?;
    let mut text = model::decode(&shown, &bytes)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if !sets.is_empty() {
        if !is_model(&text) {
            return Err(Failure::input(format!(
                "{shown}: --set overrides fields of a model file; this is a usage file (edit its values instead)"
            )));
        }
        // As in `run`: check the file as written first, so errors point at its lines.
        model::parse_raw(&text, &shown)?;
        text = overrides::apply_all(&text, sets)
            .map_err(|e| Failure::input(format!("--set: {}", e.message)))?;
    }
    let shown = if sets.is_empty() {
        shown
    } else {
        format!("{shown} (with --set)")
    };
    let yaml = aqueduct::interop::infracost::is_yaml(path, &text);
    let (kind, bill, capacity, notes) = if yaml || !is_model(&text) {
        // A usage file, aqueduct's TOML or infracost's YAML: priced the same way.
        let (kind, uf, empty) = if yaml {
            (
                "infracost",
                aqueduct::interop::infracost::parse(&text, &shown, month_hours)?,
                "the infracost usage file describes no resource aqueduct prices (see src/pricing/USAGE.md)",
            )
        } else {
            (
                "usage",
                usage_file::parse(&text, &shown, month_hours)?,
                "the usage file describes no resource: add tables such as [sqs.orders] (see src/pricing/USAGE.md)",
            )
        };
        let table =
            PriceTable::resolve(&uf.prices, &base).map_err(|e| at_prices(e, &text, &shown))?;
        let bill = aqueduct::services::bill(&uf.usage, &table, opts)
            .map_err(|e| uf.place_error(&text, &shown, e))?;
        let mut notes = uf.notes.clone();
        if uf.usage.is_empty() {
            notes.push(empty.into());
        }
        (kind, bill, uf.capacity, notes)
    } else {
        let arch = model::load_str(&text, &shown, &base)?;
        if !arch.scenarios.is_empty() {
            // A month of scenarios: each estimated over its hours, billed as one month.
            let table = PriceTable::resolve(&arch.prices, &arch.base_dir)
                .map_err(|e| at_prices(e, &text, &shown))?;
            let mut ests = Vec::new();
            for s in &arch.scenarios {
                let est = estimate::estimate(&s.arch, s.hours).map_err(|inv| {
                    Failure::input(format!(
                        "{shown}: scenario \"{}\": field `{}`: {}",
                        s.name, inv.path, inv.message
                    ))
                })?;
                ests.push(est);
            }
            let parts: Vec<aqueduct::services::MonthPart> = arch
                .scenarios
                .iter()
                .zip(&ests)
                .map(|(s, e)| aqueduct::services::MonthPart {
                    name: &s.name,
                    hours: s.hours,
                    usage: &e.usage,
                })
                .collect();
            let bill = aqueduct::services::bill_month(&parts, &table, free_tier)
                .map_err(|e| at_model_prices(e, &text, &shown))?;
            let mut capacity = Vec::new();
            let mut notes = vec![format!(
                "the month is the scenarios' {} hours (--month-hours does not apply)",
                bill.month_hours
            )];
            for (s, e) in arch.scenarios.iter().zip(ests) {
                for mut c in e.capacity {
                    c.component = format!("{} [{}]", c.component, s.name);
                    capacity.push(c);
                }
                notes.extend(e.notes.into_iter().map(|n| format!("[{}] {n}", s.name)));
            }
            ("model", bill, capacity, notes)
        } else {
            let est = estimate::estimate(&arch, month_hours).map_err(|inv| {
                Failure::from(model::place(&text, &shown, &inv.path, inv.message))
            })?;
            let table = PriceTable::resolve(&arch.prices, &arch.base_dir)
                .map_err(|e| at_prices(e, &text, &shown))?;
            let bill = aqueduct::services::bill(&est.usage, &table, opts)
                .map_err(|e| at_model_prices(e, &text, &shown))?;
            ("model", bill, est.capacity, est.notes)
        }
    };
    let over = fail_above.filter(|limit| bill.total > *limit);
    let failing: Vec<&Capacity> = capacity.iter().filter(|c| !c.ok).collect();
    let ok = over.is_none() && failing.is_empty();
    if output.csv {
        print!("{}", bill.to_csv());
    } else if output.json {
        let doc = PriceDoc {
            flat: &bill,
            cost: &bill,
            ok,
            input_kind: kind,
            input: shown,
            capacity: &capacity,
            notes: &notes,
        };
        let s = serde_json::to_string_pretty(&doc).map_err(|e| Failure::run(e.to_string()))?;
        println!("{s}");
    } else {
        let head = format!(
            "aqueduct price · {kind} {shown} · {month_hours}-hour month · free tier {}",
            if free_tier {
                "subtracted"
            } else {
                "not subtracted (--free-tier)"
            }
        );
        print!("{}", aqueduct::wrap(&head, aqueduct::text_width(), 2));
        println!();
        print!(
            "{}",
            super::terminal_safe(&bill.to_table_width(aqueduct::text_width()))
        );
        if !capacity.is_empty() {
            println!();
            print!(
                "{}",
                super::terminal_safe(&capacity::to_table_width(&capacity, aqueduct::text_width()))
            );
        }
        let width = aqueduct::text_width();
        for n in &notes {
            let line = format!("note: {}", super::terminal_safe(n));
            print!("{}", aqueduct::wrap(&line, width, 2));
        }
    }
    if let Some(limit) = over {
        return Err(super::over_budget(bill.total, limit));
    }
    if !failing.is_empty() {
        let what: Vec<String> = failing
            .iter()
            .map(|c| format!("{} {} ({})", c.service, c.component, c.what))
            .collect();
        return Err(Failure {
            code: super::CHECK_FAILED,
            message: super::terminal_safe(&format!(
                "{} capacity check{} failed: {} (exit code {})",
                failing.len(),
                if failing.len() == 1 { "" } else { "s" },
                what.join("; "),
                super::CHECK_FAILED
            ))
            .into_owned(),
        });
    }
    Ok(())
}

/// A price the model's table lacks is reported at the model's `prices` line.
fn at_model_prices(e: PricingError, text: &str, shown: &str) -> Failure {
    match e {
        PricingError::Missing { .. } => Failure::from(model::place(
            text,
            shown,
            &FieldPath::top("prices"),
            e.to_string(),
        )),
        other => Failure::from(other),
    }
}

/// A price table that cannot be read is reported at the `prices` line of the file that
/// names it; a malformed table at its own line.
fn at_prices(e: PricingError, text: &str, shown: &str) -> Failure {
    match e {
        PricingError::Table(m) if m.line.is_none() => Failure::from(model::place(
            text,
            shown,
            &FieldPath::top("prices"),
            format!("{}: {}", m.file, m.message),
        )),
        other => Failure::from(other),
    }
}
