//! A month composed of scenarios (issue 18): `[[scenario]]` tables, each a variant of the
//! model (its `set` overrides, as `--set` takes them) standing for some hours of the month.
//!
//! A run of the bundled one-off spike used to be repeated all month; with scenarios the
//! month is, for example, 729.5 hours of the quiet load and half an hour of the spike.
//! `run` simulates each scenario on its own and `price MODEL` estimates each. The bill
//! charges each scenario's usage for its hours on one account month
//! ([`crate::services::bill_month`]), so tiers and the free tier count the month once.

use super::raw::RawScenario;
use super::{Architecture, ModelError};
use crate::input::overrides;
use std::path::Path;
use toml_edit::{DocumentMut, Item, Value};

/// The longest month a set of scenarios may add up to: 31 days.
const MAX_MONTH_HOURS: f64 = 744.0;

/// One scenario of a month.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// Hours of the month it stands for.
    pub hours: f64,
    /// The model with its overrides (and no scenarios of its own).
    pub arch: Box<Architecture>,
}

/// The scenarios of model text `src` (empty when it has none), each built and checked as
/// a model. Errors name the scenario and, for the model it makes, the field.
pub(crate) fn scenarios(
    raw: &[RawScenario],
    src: &str,
    file: &str,
    base_dir: &Path,
) -> Result<Vec<Scenario>, ModelError> {
    let bad = |i: usize, name: &str, field: &str, message: String| ModelError {
        file: file.to_string(),
        line: None,
        column: None,
        field: format!("scenario[{i}] \"{name}\"{field}"),
        message,
    };
    let Ok(doc) = src.parse::<DocumentMut>() else {
        return Ok(Vec::new());
    };
    let Some(Item::ArrayOfTables(tables)) = doc.get("scenario") else {
        return Ok(Vec::new());
    };
    // The model each scenario varies: this one without its scenarios.
    let mut base = doc.clone();
    base.remove("scenario");
    let mut out: Vec<Scenario> = Vec::new();
    // The raw tables give the checked names and hours; the document gives `set`'s values
    // as the overrides take them.
    for (i, (r, t)) in raw.iter().zip(tables.iter()).enumerate() {
        let (name, hours) = (r.name.clone(), r.hours);
        if !(hours > 0.0 && hours <= MAX_MONTH_HOURS) {
            return Err(bad(i, &name, ".hours", format!("hours {hours} must be above 0 and at most {MAX_MONTH_HOURS} (a month of 31 days)")));
        }
        if out.iter().any(|s| s.name == name) {
            return Err(bad(
                i,
                &name,
                ".name",
                format!("two scenarios are named \"{name}\""),
            ));
        }
        let mut variant = base.clone();
        if let Some(set) = t.get("set").and_then(Item::as_table_like) {
            for (path, item) in set.iter() {
                if matches!(path, "seed" | "prices" | "memory_budget") {
                    return Err(bad(i, &name, &format!(".set.{path}"), format!("`{path}` is the month's, not a scenario's: every scenario runs with the model's (set it at the top of the file)")));
                }
                let value = match item {
                    Item::Value(v) => v.clone(),
                    Item::Table(tb) => Value::InlineTable(tb.clone().into_inline_table()),
                    _ => {
                        return Err(bad(
                            i,
                            &name,
                            &format!(".set.{path}"),
                            "expected a value".into(),
                        ))
                    }
                };
                overrides::apply(&mut variant, path, value)
                    .map_err(|e| bad(i, &name, &format!(".set.\"{path}\""), e.message))?;
            }
        }
        let shown = format!("{file} (scenario \"{name}\")");
        let arch = super::load_str(&variant.to_string(), &shown, base_dir)?;
        out.push(Scenario {
            name,
            hours,
            arch: Box::new(arch),
        });
    }
    let total: f64 = out.iter().map(|s| s.hours).sum();
    if total > MAX_MONTH_HOURS {
        return Err(ModelError {
            file: file.to_string(),
            line: None,
            column: None,
            field: "scenario".into(),
            message: format!("the scenarios add up to {total} hours, more than a month of 31 days ({MAX_MONTH_HOURS} h)"),
        });
    }
    Ok(out)
}
