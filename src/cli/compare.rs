//! `aqueduct compare A.toml B.toml …`: architectures side by side on one workload.

use super::{load_model, Failure};
use aqueduct::experiment::compare::{self, Candidate, Comparison, COST};
use aqueduct::report::compare as files;
use aqueduct::report::Staging;
use std::path::{Path, PathBuf};

/// Exit code when objectives were given and no architecture meets them all.
pub const NONE_MEETS: i32 = super::CHECK_FAILED;

/// Options of `compare`.
pub struct Options {
    /// Model files.
    pub models: Vec<PathBuf>,
    /// Replications.
    pub reps: u32,
    /// First seed.
    pub seed: u64,
    /// Confidence level.
    pub confidence: f64,
    /// Objectives as written.
    pub slos: Vec<String>,
    /// Output directory for the CSV, chart and report.
    pub out: Option<PathBuf>,
    /// Worker threads.
    pub threads: Option<usize>,
}

/// Runs `compare`.
pub fn run(o: Options) -> Result<(), Failure> {
    if o.models.len() < 2 {
        return Err(Failure::input(
            "compare needs at least two model files, such as: aqueduct compare models/a.toml models/b.toml",
        ));
    }
    if o.reps < 2 {
        return Err(Failure::input(
            "--reps must be at least 2: confidence intervals need two replications",
        ));
    }
    if !(o.confidence > 0.0 && o.confidence < 1.0) {
        return Err(Failure::input(format!(
            "--confidence {} must lie strictly between 0 and 1, such as 0.95",
            o.confidence
        )));
    }
    let slos = compare::parse_slos(&o.slos).map_err(Failure::input)?;
    if let Some(dir) = &o.out {
        super::sweep::check_out_dir(dir)?;
    }
    let mut candidates = Vec::new();
    for m in &o.models {
        let arch = load_model(Some(m), &[])?;
        if !arch.scenarios.is_empty() {
            return Err(Failure::input(format!(
                "{}: field `scenario`: compare runs and bills each model's window repeated all month; this model's month is made of [[scenario]] tables: compare a copy without them",
                m.display()
            )));
        }
        let text = aqueduct::input::read_file(m)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        candidates.push(Candidate {
            file: m.display().to_string(),
            text,
            arch,
        });
    }
    compare::check_common_workload(&candidates)?;
    let c = compare::compare(&candidates, o.reps, o.seed, o.confidence, slos, o.threads)
        .map_err(Failure::input)?;
    print!("{}", render(&c));
    if let Some(dir) = &o.out {
        write(&c, dir, &command(&o)).map_err(|e| Failure::run(e.to_string()))?;
        println!("wrote {}", dir.display());
    }
    if !c.slos.is_empty() && c.chosen.is_none() {
        return Err(Failure {
            code: NONE_MEETS,
            message: "no architecture meets every objective (exit code 3)".into(),
        });
    }
    Ok(())
}

/// The table and the verdict, as printed.
fn render(c: &Comparison) -> String {
    let mut s = format!(
        "{} architectures × {} replications, common random numbers (seeds {}…{}), {:.0}% confidence intervals\n\n",
        c.rows.len(),
        c.reps,
        c.seed,
        c.seed.wrapping_add(c.reps as u64).wrapping_sub(1),
        100.0 * c.confidence
    );
    s.push_str(&files::render_table(&files::table_rows(c)));
    s.push('\n');
    s.push_str(&files::render_table(&files::freshness_rows(c)));
    if !c.slos.is_empty() {
        match c.chosen {
            Some(i) => s.push_str(&format!(
                "\ncheapest meeting every objective: {} ({}), {}\n",
                c.rows[i].model,
                c.rows[i].file,
                files::cell("cost.total", c.rows[i].stats[COST].mean)
            )),
            None => s.push_str("\nno architecture meets every objective\n"),
        }
    }
    s
}

fn command(o: &Options) -> String {
    let mut c = String::from("aqueduct compare");
    for m in &o.models {
        c.push(' ');
        c.push_str(&m.display().to_string());
    }
    c.push_str(&format!(" --reps {} --seed {}", o.reps, o.seed));
    if o.confidence != 0.95 {
        c.push_str(&format!(" --confidence {}", o.confidence));
    }
    for s in &o.slos {
        c.push_str(&format!(" --slo '{s}'"));
    }
    if let Some(d) = &o.out {
        c.push_str(&format!(" --out {}", d.display()));
    }
    c
}

fn write(c: &Comparison, dir: &Path, command: &str) -> Result<(), Box<dyn std::error::Error>> {
    let staging = Staging::new(dir)?;
    files::write_csv(c, &staging.dir().join("compare.csv"))?;
    files::write_chart(c, staging.dir(), "cost-vs-insight")?;
    files::write_markdown(
        c,
        "cost-vs-insight",
        command,
        &staging.dir().join("report.md"),
    )?;
    files::write_html(c, "cost-vs-insight", command, staging.dir())?;
    staging.commit()?;
    Ok(())
}
