//! `aqueduct import terraform PLAN.json [--out MODEL.toml]`: a model from the output of
//! `terraform show -json` (see `aqueduct::interop::terraform`).

use super::Failure;
use std::path::Path;

/// Runs the command: the model goes to `out` (or standard output); skipped resources
/// and notes to standard error.
pub fn terraform(plan: &Path, out: Option<&Path>) -> Result<(), Failure> {
    let shown = plan.display().to_string();
    let bytes = aqueduct::input::read_file(plan)
        .map_err(|e| Failure::input(format!("{shown}: cannot read the file: {e}")))?;
    let text = aqueduct::model::decode(&shown, &bytes)?;
    let name = out
        .or(Some(plan))
        .and_then(|p| p.file_stem())
        .and_then(|s| s.to_str())
        .map(|s| s.trim_end_matches(".plan").to_string())
        .unwrap_or_else(|| "imported".into());
    let imported = aqueduct::interop::terraform::import(&text, &shown, &name)?;
    for s in &imported.skipped {
        eprintln!(
            "skipped: {} (aqueduct does not model this type)",
            super::terminal_safe(s)
        );
    }
    for n in &imported.notes {
        eprintln!("note: {}", super::terminal_safe(n));
    }
    match out {
        Some(p) => {
            std::fs::write(p, &imported.toml).map_err(|e| {
                Failure::input(format!("{}: cannot write the model: {e}", p.display()))
            })?;
            eprintln!(
                "wrote {}: complete its PLACEHOLDER sections (the load, Lambda durations), then `aqueduct validate {}`",
                p.display(),
                p.display()
            );
        }
        None => print!("{}", imported.toml),
    }
    Ok(())
}
