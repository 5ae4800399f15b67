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

/// Refuses, before a run, a `--infracost-usage` path whose folder does not exist.
pub fn check_writable(file: &Path) -> Result<(), Failure> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    if dir.is_some_and(|d| !d.is_dir()) || file.is_dir() {
        return Err(Failure::input(format!(
            "--infracost-usage {}: cannot write there (no such folder, or a folder)",
            file.display()
        )));
    }
    Ok(())
}

/// `run --infracost-usage FILE`: the run's monthly quantities as an infracost usage file.
pub fn write_infracost_usage(
    file: &Path,
    arch: &aqueduct::model::Architecture,
    out: &aqueduct::engine::RunOutput,
    seed: u64,
) -> Result<(), Failure> {
    let cost = &out.summary.cost;
    let header = format!(
        "infracost usage file written by `aqueduct run --infracost-usage` from model \"{}\" ({}), seed {seed}:\nthe quantities of a simulated window of {} s, scaled to a month as the run's bill is.\nPrice it with `aqueduct price {}` or pass it to `infracost breakdown --usage-file`.",
        arch.name,
        arch.source,
        out.usage.window_s,
        file.display()
    );
    let (text, notes) = aqueduct::interop::infracost::write_usage(
        arch,
        &out.usage,
        cost.month_factor,
        cost.month_hours,
        &header,
    );
    std::fs::write(file, text).map_err(|e| {
        Failure::input(format!(
            "--infracost-usage {}: cannot write: {e}",
            file.display()
        ))
    })?;
    for n in &notes {
        eprintln!("note: --infracost-usage: {}", super::terminal_safe(n));
    }
    Ok(())
}
