//! Reports: a sweep's results as CSV tables, charts (SVG and PNG, drawn with plotters and
//! a bundled font), `report.md`, which embeds them, and `report.html`, one self-contained
//! page that inlines them; the same page for `compare` and for one run (`run --out`).
//!
//! The report reads results ([`Results`], computed from `runs.csv`, and the time series
//! of one chosen run recorded by the experiment layer); it never runs a simulation.
//! Everything it writes is a function of those inputs: no dates, no wall-clock times, no
//! thread counts, so a sweep gives the same bytes on every machine and any number of
//! threads.
//!
//! Files are written into a [`Staging`] directory and moved into place only when all of
//! them are complete, so a failure never leaves a partial file that looks complete.

mod charts;
pub mod compare;
mod html;
mod markdown;
mod tables;

use crate::engine::{RunOutput, RunSummary};
use crate::experiment::{Experiment, Results};
use crate::metrics::TimeSeries;
use std::path::{Path, PathBuf};

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written. Fatal.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A chart could not be drawn. Fatal.
    #[error("{}: cannot draw the chart: {message}", path.display())]
    Chart {
        /// The file.
        path: PathBuf,
        /// What plotters said.
        message: String,
    },
}

/// A run the report draws (its time series and latency distributions): the run it comes
/// from, or why it is missing.
pub struct ChosenSeries<'a> {
    /// Grid point of the run.
    pub point: usize,
    /// Replication of the run.
    pub replication: u32,
    /// The series, or why it could not be recorded.
    pub series: Result<&'a TimeSeries, String>,
    /// The run's summary (its latency distributions), when it was recorded.
    pub summary: Option<&'a RunSummary>,
}

/// Writes every report file into `dir` and returns their names, in the order written:
/// `summary.csv`, `summary_long.csv`, `slo.csv` and `sizing.csv` (with objectives),
/// `series.csv` and `series_long.csv`, the charts
/// (`.svg` and `.png`), `report.md` and `report.html`. `drawn` holds the runs to draw, the
/// chosen one first (its series is `series.csv`); see [`Results::drawn_runs`]. `command`
/// is the command line that reproduces the sweep.
pub fn write_report(
    exp: &Experiment,
    results: &Results,
    drawn: &[ChosenSeries<'_>],
    command: &str,
    dir: &Path,
) -> Result<Vec<String>, ReportError> {
    let Some(chosen) = drawn.first() else {
        return Err(ReportError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::other("no chosen run to draw"),
        });
    };
    let mut files = Vec::new();
    tables::write_summary(exp, results, &dir.join("summary.csv"))?;
    files.push("summary.csv".to_string());
    tables::write_summary_long(exp, results, &dir.join("summary_long.csv"))?;
    files.push("summary_long.csv".to_string());
    if !exp.slos.is_empty() {
        tables::write_slo(exp, results, &dir.join("slo.csv"))?;
        tables::write_sizing(exp, results, &dir.join("sizing.csv"))?;
        files.push("slo.csv".into());
        files.push("sizing.csv".into());
    }
    if let Ok(series) = chosen.series {
        let warmup_s = exp
            .architecture(chosen.point)
            .map_or(0.0, |a| a.warmup.as_secs_f64());
        write_series(series, warmup_s, dir, &mut files)?;
    }
    let charts = charts::draw_all(exp, results, drawn, dir)?;
    for c in &charts {
        files.push(format!("{}.svg", c.stem));
        files.push(format!("{}.png", c.stem));
    }
    markdown::write(
        exp,
        results,
        drawn,
        &charts,
        command,
        &dir.join("report.md"),
    )?;
    files.push("report.md".into());
    let page = html::sweep(exp, results, drawn, &charts, command);
    write_file(&dir.join("report.html"), &page)?;
    files.push("report.html".into());
    Ok(files)
}

/// Writes the files of one run into `dir` and returns their names, in the order written:
/// `run.json` (the summary, as `run --json` prints it), `series.csv`, `series_long.csv`,
/// the charts (`.svg`
/// and `.png`: the time series, the latency percentiles and distributions, the cost by
/// component, each when
/// the run has something to draw) and `report.html`. `command` reproduces the run.
pub fn write_run_report(
    out: &RunOutput,
    command: &str,
    dir: &Path,
) -> Result<Vec<String>, ReportError> {
    let mut files = Vec::new();
    let json = serde_json::to_string_pretty(&out.summary).map_err(|e| ReportError::Io {
        path: dir.join("run.json"),
        source: std::io::Error::other(e.to_string()),
    })?;
    write_file(&dir.join("run.json"), &(json + "\n"))?;
    files.push("run.json".to_string());
    write_series(&out.series, out.summary.warmup_s, dir, &mut files)?;
    let charts = charts::run::draw_run(&out.summary, &out.series, dir)?;
    for c in &charts {
        files.push(format!("{}.svg", c.stem));
        files.push(format!("{}.png", c.stem));
    }
    let page = html::run(&out.summary, &charts, command);
    write_file(&dir.join("report.html"), &page)?;
    files.push("report.html".into());
    Ok(files)
}

/// Writes a run's time series as `series.csv` (wide) and `series_long.csv` (tidy, with a
/// warm-up flag for samples up to `warmup_s`) into `dir`, adding their names to `files`.
fn write_series(
    series: &TimeSeries,
    warmup_s: f64,
    dir: &Path,
    files: &mut Vec<String>,
) -> Result<(), ReportError> {
    let path = dir.join("series.csv");
    let f = std::fs::File::create(&path).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    series
        .write_csv(std::io::BufWriter::new(f))
        .map_err(|e| ReportError::Io {
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
    files.push("series.csv".into());
    tables::write_series_long(series, warmup_s, &dir.join("series_long.csv"))?;
    files.push("series_long.csv".into());
    Ok(())
}

/// Writes `text` to `path`.
fn write_file(path: &Path, text: &str) -> Result<(), ReportError> {
    std::fs::write(path, text.as_bytes()).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A chart that was drawn: its file stem (`.svg` and `.png`) and its title.
#[derive(Clone, Debug)]
pub(crate) struct ChartFile {
    /// File name without extension.
    pub(crate) stem: String,
    /// Title (the Markdown alt text).
    pub(crate) title: String,
    /// What kind of chart: `metric`, `cost`, `series` or `latency`.
    pub(crate) kind: &'static str,
    /// The SVG text written (with its tooltips), which `report.html` inlines.
    pub(crate) svg: String,
}

/// A directory where outputs are written before they are moved into the output
/// directory: `OUT/.aqueduct-partial-PID-NONCE/`. [`Staging::commit`] moves every file into
/// `OUT` (the manifest `sweep.json` last); dropping it uncommitted removes it.
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates `out` (if needed) and an empty staging directory inside it.
    pub fn new(out: &Path) -> std::io::Result<Staging> {
        std::fs::create_dir_all(out)?;
        // The process id, and a nonce: two sweeps in different PID namespaces (containers)
        // may have the same id.
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = out.join(format!(
            ".aqueduct-partial-{}-{nonce:09}",
            std::process::id()
        ));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir(&dir)?;
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
            committed: false,
        })
    }

    /// Staging directories in `out` that an interrupted command left behind: those whose
    /// process is no longer running (on Unix; elsewhere every one), and those named with
    /// this process's id, which can only be an earlier process's (a container's sweep is
    /// often process 1 every time). Call it before [`Staging::new`].
    pub fn left_behind(out: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(out) else {
            return Vec::new();
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let rest = name.strip_prefix(".aqueduct-partial-")?;
                let pid: u32 = rest.split('-').next()?.parse().ok()?;
                (pid == std::process::id() || !process_running(pid)).then(|| e.path())
            })
            .collect();
        dirs.sort();
        dirs
    }

    /// The staging directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The output directory.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Moves every staged file into the output directory: `report.md`, `report.html` and
    /// `sweep.json` last, so that their presence means the rest is in place. Returns the file names.
    pub fn commit(mut self) -> std::io::Result<Vec<String>> {
        // An output directory that holds an earlier sweep's manifest gets that sweep's
        // files replaced, not kept beside the new ones (its sizing.csv, slo.csv or figures
        // would read as this experiment's).
        let earlier = self.out.join("sweep.json").is_file();
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let rank = |n: &str| match n {
            "report.md" | "report.html" => 1,
            "sweep.json" => 2,
            _ => 0,
        };
        names.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
        if earlier {
            for e in std::fs::read_dir(&self.out)?.filter_map(|e| e.ok()) {
                let n = e.file_name().to_string_lossy().into_owned();
                if e.file_type().is_ok_and(|t| t.is_file())
                    && !names.contains(&n)
                    && is_sweep_output(&n)
                {
                    std::fs::remove_file(e.path())?;
                }
            }
        }
        for n in &names {
            std::fs::rename(self.dir.join(n), self.out.join(n))?;
        }
        std::fs::remove_dir_all(&self.dir)?;
        self.committed = true;
        Ok(names)
    }
}

/// Whether process `pid` is running (signal 0 probes it without sending anything).
#[cfg(unix)]
fn process_running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    let exists = r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    // A killed process its parent has not yet reaped (a zombie) exists but runs no more.
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|st| {
        st.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    });
    exists && !zombie
}

#[cfg(not(unix))]
fn process_running(_pid: u32) -> bool {
    false
}

/// True for the names of the files a sweep writes (its CSV tables, charts, report and
/// manifest), which a later sweep into the same directory replaces.
fn is_sweep_output(name: &str) -> bool {
    matches!(
        name,
        "runs.csv"
            | "summary.csv"
            | "summary_long.csv"
            | "series.csv"
            | "series_long.csv"
            | "sizing.csv"
            | "slo.csv"
            | "report.md"
            | "report.html"
            | "sweep.json"
    ) || ((name.starts_with("fig")
        || name.starts_with("cost-by-service")
        || name.starts_with("cost-vs-throughput")
        || name.starts_with("latency-cdf-run-")
        || name.starts_with("shard-heatmap")
        || name.starts_with("series"))
        && (name.ends_with(".svg") || name.ends_with(".png")))
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The metrics a report's summary table shows (indices into the experiment's): every one
/// but the per-service cost columns, which stay in the CSV.
pub(crate) fn shown_metrics(exp: &crate::experiment::Experiment) -> Vec<usize> {
    exp.metrics
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.starts_with("cost.services."))
        .map(|(i, _)| i)
        .collect()
}

/// A point's verdict over every objective: `✓`, `✗`, or `✗ (N failed)` when runs failed.
pub(crate) fn verdict(p: &crate::experiment::results::PointResult) -> String {
    if p.pass {
        "✓".to_string()
    } else if p.failed > 0 {
        format!("✗ ({} failed)", p.failed)
    } else {
        "✗".to_string()
    }
}

/// Why run `d` (one of the runs drawn besides the chosen one) is drawn, and what it
/// misses: `picked in the experiment's [report] runs` or `the point closest to the answer
/// that misses an objective`, then `; it misses: M < 2s (bound 2.4), …`.
pub(crate) fn drawn_reason(exp: &Experiment, r: &Results, d: &ChosenSeries<'_>) -> String {
    let mut why = if exp.report_runs.is_some() {
        "picked in the experiment's [report] runs".to_string()
    } else {
        "the point closest to the answer that misses an objective".to_string()
    };
    if let Some(p) = r.points.get(d.point) {
        let missed: Vec<String> = exp
            .slos
            .iter()
            .zip(&p.checks)
            .filter(|(_, c)| !c.pass)
            .map(|(s, c)| {
                format!(
                    "{} {} (bound {})",
                    s.metric,
                    s.text,
                    crate::experiment::slo::round_sig(c.bound)
                )
            })
            .collect();
        if !missed.is_empty() {
            why.push_str(&format!("; it misses {}", missed.join(", ")));
        }
        if p.failed > 0 {
            why.push_str(&format!("; {} of its runs failed", p.failed));
        }
    }
    why
}

/// Keeps the characters of a file name that are safe everywhere.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}
