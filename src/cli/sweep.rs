//! `aqueduct sweep` and `aqueduct merge`.

use super::Failure;
use aqueduct::experiment::merge::{self, Manifest, MANIFEST, RUNS};
use aqueduct::experiment::{
    kept_runs, run_again, sweep, Experiment, ExperimentError, Kept, Results, RunRecord, RunsWriter,
    Shard, SweepOptions, Tally,
};
use aqueduct::report::{self, ChosenSeries, Staging};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

impl From<ExperimentError> for Failure {
    fn from(e: ExperimentError) -> Self {
        if e.is_input() {
            Failure::input(e.to_string())
        } else {
            Failure::run(e.to_string())
        }
    }
}

/// `println!` with control characters escaped (names come from files anyone may write).
macro_rules! say {
    ($($t:tt)*) => { println!("{}", super::terminal_safe(&format!($($t)*))) };
}

/// `eprintln!` with control characters escaped.
macro_rules! warn {
    ($($t:tt)*) => { eprintln!("{}", super::terminal_safe(&format!($($t)*))) };
}

fn write_failure(path: &Path, e: impl std::fmt::Display) -> Failure {
    Failure::run(format!("{}: {e}", path.display()))
}

/// The default output directory: `reports/<experiment name>`.
fn default_out(name: &str) -> PathBuf {
    Path::new("reports").join(name)
}

/// The command that reproduces a whole sweep into `out`.
fn reproduce(file: &str, name: &str, out: &Path) -> String {
    let mut c = format!("aqueduct sweep {}", quote(file));
    if out != default_out(name) {
        c.push_str(&format!(" --out {}", quote(&out.display().to_string())));
    }
    c
}

/// `s` quoted for a POSIX shell when it holds anything but safe characters.
pub(super) fn quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Progress for a stderr that is not a terminal (a CI log, a batch job): a plain line at
/// each quarter of the runs and at least every 30 s, where a terminal gets a bar.
struct PlainProgress {
    total: usize,
    start: Instant,
    /// (runs done, when the last line was written, quarters written).
    state: std::sync::Mutex<(usize, Instant, usize)>,
}

impl PlainProgress {
    fn new(total: usize, quiet: bool) -> Option<PlainProgress> {
        (!quiet && !std::io::stderr().is_terminal() && total > 0).then(|| PlainProgress {
            total,
            start: Instant::now(),
            state: std::sync::Mutex::new((0, Instant::now(), 0)),
        })
    }

    fn tick(&self) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        st.0 += 1;
        let quarter = st.0 * 4 / self.total;
        if quarter > st.2 || st.1.elapsed().as_secs_f64() >= 30.0 {
            st.2 = quarter;
            st.1 = Instant::now();
            let t = self.start.elapsed().as_secs_f64();
            let left = t / st.0 as f64 * (self.total - st.0) as f64;
            warn!(
                "{} of {} runs done ({:.0}%) after {t:.1} s; about {left:.0} s left",
                st.0,
                self.total,
                st.0 as f64 * 100.0 / self.total as f64
            );
        }
    }
}

fn progress(total: usize, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:32.cyan/blue} {pos}/{len} runs · {per_sec} · elapsed {elapsed} · ETA {eta} {msg}",
    ) {
        pb.set_style(style.progress_chars("█▉░"));
    }
    pb
}

/// `aqueduct sweep`.
pub fn cmd_sweep(
    file: &Path,
    threads: Option<usize>,
    out: Option<PathBuf>,
    shard: Option<&str>,
    quiet: bool,
) -> Result<(), Failure> {
    // Arguments first: a bad flag must not cost a validation.
    let shard = match shard {
        Some(s) => Shard::parse(s)?,
        None => Shard::ALL,
    };
    let threads = match threads {
        Some(0) => return Err(Failure::input("--threads must be at least 1")),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    if let Some(o) = &out {
        check_out_dir(o)?;
    }
    let exp = Experiment::load(file)?;
    shard
        .check(exp.runs())
        .map_err(|m| Failure::input(format!("--shard {shard}: {m}",)))?;
    let out = out.unwrap_or_else(|| {
        let d = default_out(&exp.name);
        if shard.is_all() {
            d
        } else {
            d.join("shards")
                .join(format!("{}-of-{}", shard.index, shard.count))
        }
    });
    let total = shard.len(exp.runs());
    // Computed once: it reads the binary.
    let key = resume_key(&exp);
    let earlier = interrupted(&out, &exp, shard, &key);
    let staging = Staging::new(&out).map_err(|e| write_failure(&out, e))?;
    // The manifest goes in first, with no rows, and the key of what else the rows depend
    // on: they mark the staging directory as this sweep's, so that a run of the same
    // command after an interruption resumes it. The final manifest replaces the first;
    // the key is removed before the files are moved into place.
    Manifest::new(&exp, shard, Tally::default()).write(&staging.dir().join(MANIFEST))?;
    let key_path = staging.dir().join(RESUME_KEY);
    std::fs::write(&key_path, &key).map_err(|e| write_failure(&key_path, e))?;
    let runs_path = staging.dir().join(RUNS);
    let f = std::fs::File::create(&runs_path).map_err(|e| write_failure(&runs_path, e))?;
    let mut writer = RunsWriter::new(&exp, std::io::BufWriter::new(f))
        .map_err(|e| write_failure(&runs_path, e))?;
    let mut kept = Tally::default();
    if let Some((dir, k)) = earlier {
        for r in &k.rows {
            writer
                .write_flushed(&exp, r)
                .map_err(|e| write_failure(&runs_path, e))?;
        }
        kept = k.tally;
        // Its runs are in this staging directory now.
        std::fs::remove_dir_all(&dir).map_err(|e| write_failure(&dir, e))?;
        if !quiet {
            warn!(
                "resuming an interrupted sweep: {} of {total} runs were done ({} in {}); running the other {}",
                kept.runs,
                RUNS,
                dir.display(),
                total - kept.runs
            );
        }
    }

    let pb = progress(total - kept.runs, quiet);
    let plain = PlainProgress::new(total - kept.runs, quiet);
    let on_done = |r: &RunRecord| {
        if let Some(e) = &r.error {
            pb.suspend(|| {
                warn!(
                    "run {} (point {}: {}; replication {}, seed {}) failed: {e}",
                    r.run,
                    r.point,
                    exp.describe(r.point),
                    r.replication,
                    r.seed
                )
            });
        }
        pb.inc(1);
        if let Some(p) = &plain {
            p.tick();
        }
    };
    let start = Instant::now();
    let new = sweep(
        &exp,
        &SweepOptions {
            threads,
            shard,
            skip: kept.runs,
        },
        &mut writer,
        &on_done,
    )?;
    let tally = Tally {
        runs: kept.runs + new.runs,
        failed: kept.failed + new.failed,
    };
    let wall = start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    writer.finish().map_err(|e| write_failure(&runs_path, e))?;
    std::fs::remove_file(&key_path).map_err(|e| write_failure(&key_path, e))?;
    say!(
        "{} runs{} in {wall:.2} s on {threads} thread{}: {:.2} runs/s; {} failed{}",
        new.runs,
        if shard.is_all() {
            format!(" ({} points × {})", exp.points(), exp.replications)
        } else {
            format!(" (shard {shard} of {})", exp.runs())
        },
        if threads == 1 { "" } else { "s" },
        new.runs as f64 / wall.max(1e-9),
        tally.failed,
        if kept.runs > 0 {
            format!(" ({} more kept from the interrupted sweep)", kept.runs)
        } else {
            String::new()
        }
    );

    if shard.is_all() {
        let command = reproduce(&exp.source.file, &exp.name, &out);
        finish(&exp, staging, tally, &command)
    } else {
        Manifest::new(&exp, shard, tally).write(&staging.dir().join(MANIFEST))?;
        staging.commit().map_err(|e| write_failure(&out, e))?;
        say!(
            "wrote shard {shard} to {}/ ({RUNS}, {MANIFEST}); when every shard is done: aqueduct merge DIR...",
            out.display()
        );
        failed_runs(tally)
    }
}

/// The staging directory an interrupted sweep of the same experiment and shard left in
/// `out` (its manifest has this sweep's fingerprint and slice), and the runs it finished;
/// the one with the most runs when there are several.
fn interrupted(out: &Path, exp: &Experiment, shard: Shard, key: &str) -> Option<(PathBuf, Kept)> {
    let want = Manifest::new(exp, shard, Tally::default());
    Staging::left_behind(out)
        .into_iter()
        .filter(|d| {
            Manifest::read(d)
                .is_ok_and(|m| m.fingerprint == want.fingerprint && m.shard == want.shard)
                && std::fs::read_to_string(d.join(RESUME_KEY)).is_ok_and(|k| k == key)
        })
        .map(|d| {
            let k = kept_runs(exp, shard, &d.join(RUNS));
            (d, k)
        })
        .filter(|(_, k)| k.tally.runs > 0)
        .max_by_key(|(_, k)| k.tally.runs)
}

/// The file of a staging directory that holds [`resume_key`].
const RESUME_KEY: &str = "resume.key";

/// What a sweep's rows depend on beyond the experiment and model texts (the manifest's
/// fingerprint): aqueduct's version and binary, and the base model's price table file. A
/// sweep resumes only rows made with the same.
fn resume_key(exp: &Experiment) -> String {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    if let Some(bytes) = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::read(p).ok())
    {
        h.update(&bytes);
    }
    if let Ok(arch) = aqueduct::model::load_str(
        &exp.source.model_text,
        &exp.source.model_file,
        &exp.source.model_base,
    ) {
        let table = exp.source.model_base.join(&arch.prices);
        if let Ok(bytes) = std::fs::read(table) {
            h.update(&bytes);
        }
    }
    format!("{:x}\n", h.finalize())
}

/// Refuses an output directory that exists as something other than a directory (exit
/// code 2 before any work, rather than a failure to write after it).
pub(super) fn check_out_dir(out: &Path) -> Result<(), Failure> {
    match std::fs::metadata(out) {
        Ok(m) if !m.is_dir() => Err(Failure::input(format!(
            "--out {}: exists and is not a directory (give a directory to write into)",
            out.display()
        ))),
        _ => Ok(()),
    }
}

/// `aqueduct merge`.
pub fn cmd_merge(dirs: &[PathBuf], out: Option<PathBuf>) -> Result<(), Failure> {
    if let Some(o) = &out {
        check_out_dir(o)?;
    }
    let shards = merge::plan(dirs)?;
    let source = shards[0].1.source.clone();
    let exp = Experiment::from_source(source)?;
    merge::check_against(&exp, &shards)?;
    let out = out.unwrap_or_else(|| default_out(&exp.name));
    check_out_dir(&out)?;
    // The merged files replace `runs.csv` and `sweep.json` in `out`: never a shard's own.
    if let Ok(o) = std::fs::canonicalize(&out) {
        for (d, _) in &shards {
            if std::fs::canonicalize(d).is_ok_and(|d| d == o) {
                return Err(Failure::input(format!(
                    "--out {}: is one of the shard directories being merged; the merged files would overwrite its {RUNS} and {MANIFEST} (choose another directory)",
                    out.display()
                )));
            }
        }
    }
    let staging = Staging::new(&out).map_err(|e| write_failure(&out, e))?;
    let runs_path = staging.dir().join(RUNS);
    let f = std::fs::File::create(&runs_path).map_err(|e| write_failure(&runs_path, e))?;
    let mut writer = RunsWriter::new(&exp, std::io::BufWriter::new(f))
        .map_err(|e| write_failure(&runs_path, e))?;
    let tally = merge::merge_runs(&exp, &shards, &mut writer)?;
    writer.finish().map_err(|e| write_failure(&runs_path, e))?;
    say!(
        "merged {} shards: {} runs, {} failed",
        shards.len(),
        tally.runs,
        tally.failed
    );
    let command = reproduce(&exp.source.file, &exp.name, &out);
    finish(&exp, staging, tally, &command)
}

/// Computes the results from the staged `runs.csv`, records the chosen run's time
/// series, writes the report and moves everything into place.
fn finish(exp: &Experiment, staging: Staging, tally: Tally, command: &str) -> Result<(), Failure> {
    let results = Results::read(exp, &staging.dir().join(RUNS))?;
    // The chosen run and the others the report draws, run again with their seeds.
    let outputs: Vec<((usize, u32), Result<_, String>)> = results
        .drawn_runs(exp)
        .into_iter()
        .map(|(p, rep)| ((p, rep), run_again(exp, p, rep)))
        .collect();
    let drawn: Vec<ChosenSeries<'_>> = outputs
        .iter()
        .map(|((point, replication), out)| ChosenSeries {
            point: *point,
            replication: *replication,
            series: out.as_ref().map(|o| &o.series).map_err(|e| e.clone()),
            summary: out.as_ref().ok().map(|o| &o.summary),
        })
        .collect();
    report::write_report(exp, &results, &drawn, command, staging.dir())
        .map_err(|e| Failure::run(e.to_string()))?;
    Manifest::new(exp, Shard::ALL, tally).write(&staging.dir().join(MANIFEST))?;
    let out = staging.out().to_path_buf();
    let files = staging.commit().map_err(|e| write_failure(&out, e))?;
    print!("{}", super::terminal_safe(&super::wrote(&out, &files)));
    for a in &results.answers {
        let prefix = exp.situation_prefix(&a.situation);
        let line = match a.point {
            Some(p) => format!("answer: {prefix}point {p}: {}", exp.describe(p)),
            None => format!("answer: {prefix}no point meets every objective"),
        };
        print!(
            "{}",
            super::terminal_safe(&aqueduct::wrap(&line, aqueduct::TEXT_WIDTH, 2))
        );
    }
    failed_runs(tally)?;
    let unmet = results.answers.iter().filter(|a| a.point.is_none()).count();
    if !exp.slos.is_empty() && unmet > 0 {
        return Err(Failure {
            code: super::CHECK_FAILED,
            message: format!(
                "no point meets every objective in {unmet} of {} situations (exit code {})",
                results.answers.len(),
                super::CHECK_FAILED
            ),
        });
    }
    Ok(())
}

fn failed_runs(t: Tally) -> Result<(), Failure> {
    if t.failed > 0 {
        Err(Failure::run(format!(
            "{} of {} runs failed (listed above and in {RUNS}); the results of the other runs were written",
            t.failed, t.runs
        )))
    } else {
        Ok(())
    }
}
