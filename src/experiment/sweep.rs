//! Running a sweep: every run built inside its own task from plain data, spread over a
//! rayon thread pool, its row written to `runs.csv` in run order as soon as every earlier
//! run is written.
//!
//! Memory is bounded by the number of runs in flight, not by the grid: a worker claims
//! the next run only while fewer than `4 × threads` finished runs wait for an earlier one
//! to be written.

use super::error::ExperimentError;
use super::spec::{Experiment, COST_ALL, COST_EXTRA};
use crate::engine;
use crate::metrics::series::fmt_value;
use crate::metrics::TimeSeries;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};

/// A deterministic slice of a sweep: shard `index` of `count` (1-based) holds the runs
/// whose number `r` has `r % count == index − 1`. Dealing runs round-robin gives every
/// shard a similar mix of light and heavy points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Shard {
    /// `K` in `K/N`, from 1.
    pub index: usize,
    /// `N` in `K/N`.
    pub count: usize,
}

impl Shard {
    /// The whole sweep (`1/1`).
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Parses `K/N`.
    pub fn parse(s: &str) -> Result<Shard, ExperimentError> {
        let bad = |m: &str| ExperimentError::Shard {
            given: s.to_string(),
            message: m.to_string(),
        };
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| bad("expected K/N, such as 2/8 (the 2nd of 8 slices)"))?;
        let k: usize = k
            .trim()
            .parse()
            .map_err(|_| bad("K is not a whole number (expected K/N, such as 2/8)"))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| bad("N is not a whole number (expected K/N, such as 2/8)"))?;
        if n == 0 {
            return Err(bad("N must be at least 1"));
        }
        if k == 0 || k > n {
            return Err(bad(&format!(
                "K must be between 1 and N = {n} (shards are numbered 1 to N)"
            )));
        }
        Ok(Shard { index: k, count: n })
    }

    /// Checks that the shard is one of at most `runs` slices of a sweep of `runs` runs:
    /// `1 <= index <= count <= runs` (a sweep of 0 runs has the one slice `1/1`). A slice
    /// beyond the runs would hold nothing, and a count read from a file must not size
    /// what `merge` allocates.
    pub fn check(&self, runs: usize) -> Result<(), String> {
        if self.count == 0 || self.index == 0 || self.index > self.count {
            return Err(format!(
                "shard {}/{}: K must be between 1 and N (shards are numbered 1 to N)",
                self.index, self.count
            ));
        }
        if self.count > runs.max(1) {
            return Err(format!(
                "shard {}/{}: N must be at most the sweep's {runs} runs (a slice beyond them would hold no run)",
                self.index, self.count
            ));
        }
        Ok(())
    }

    /// How many of `runs` runs this shard holds.
    pub fn len(&self, runs: usize) -> usize {
        let first = self.index - 1;
        if first >= runs {
            0
        } else {
            (runs - first).div_ceil(self.count)
        }
    }

    /// The run number of this shard's `j`-th run.
    pub(crate) fn run(&self, j: usize) -> usize {
        self.index - 1 + j * self.count
    }

    /// True when the shard is the whole sweep.
    pub fn is_all(&self) -> bool {
        self.count == 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The outcome of one run: a row of `runs.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Run number (point × replications + replication).
    pub run: usize,
    /// Grid point.
    pub point: usize,
    /// Replication, from 0.
    pub replication: u32,
    /// Seed the run used.
    pub seed: u64,
    /// One value per kept metric (`None`: the run did not report it).
    pub values: Vec<Option<f64>>,
    /// Why the run failed (`None`: it succeeded).
    pub error: Option<String>,
}

/// Runs run number `run` of the sweep. A failure (an invalid model, an engine error, a
/// panic, unbalanced accounting) is recorded in the result, never propagated.
pub(crate) fn run_one(exp: &Experiment, run: usize) -> RunRecord {
    let (point, replication) = exp.run_position(run);
    let seed = exp.seed_of(point, replication);
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<Option<f64>>, String> {
        let arch = exp.architecture(point).map_err(|e| e.to_string())?;
        let out = engine::run(&arch, seed).map_err(|e| e.to_string())?;
        if !out.summary.accounting.balanced() {
            return Err(
                "message accounting does not balance (a bug in aqueduct: please report it)".into(),
            );
        }
        let extra = exp.extra_cost(point);
        Ok(exp
            .metrics
            .iter()
            .map(|m| match m.as_str() {
                COST_EXTRA => Some(extra),
                COST_ALL => out.summary.metric("cost.total").map(|t| t + extra),
                _ => out.summary.metric(m),
            })
            .map(|v| v.filter(|x| x.is_finite()))
            .collect())
    }));
    let (values, error) = match outcome {
        Ok(Ok(v)) => (v, None),
        Ok(Err(e)) => (vec![None; exp.metrics.len()], Some(e)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".into());
            (
                vec![None; exp.metrics.len()],
                Some(format!("the run panicked (a bug in aqueduct): {what}")),
            )
        }
    };
    RunRecord {
        run,
        point,
        replication,
        seed,
        values,
        error,
    }
}

/// Runs replication `rep` of `point` again and returns its time series (the same run as
/// in the sweep: same model, same seed, same series).
pub fn run_series(exp: &Experiment, point: usize, rep: u32) -> Result<TimeSeries, String> {
    run_again(exp, point, rep).map(|out| out.series)
}

/// Runs `(point, rep)` again with its seed and returns its whole output (summary, with
/// its latency distributions, and time series): what the report draws for a picked run.
pub fn run_again(exp: &Experiment, point: usize, rep: u32) -> Result<engine::RunOutput, String> {
    let arch = exp.architecture(point).map_err(|e| e.to_string())?;
    engine::run(&arch, exp.seed_of(point, rep)).map_err(|e| e.to_string())
}

/// The header of `runs.csv`: `run, point, replication, seed`, one column per axis (its
/// path), one per kept metric (its path), and `error`.
pub(crate) fn header(exp: &Experiment) -> Vec<String> {
    let mut h: Vec<String> = ["run", "point", "replication", "seed"]
        .map(String::from)
        .to_vec();
    h.extend(exp.axes.iter().map(|a| a.path.clone()));
    h.extend(exp.metrics.iter().cloned());
    h.push("error".into());
    h
}

/// Writes `runs.csv` one row at a time.
pub struct RunsWriter<W: Write> {
    csv: csv::Writer<W>,
    row: Vec<String>,
}

impl<W: Write> RunsWriter<W> {
    /// A writer that has written the header.
    pub fn new(exp: &Experiment, w: W) -> csv::Result<Self> {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(header(exp))?;
        Ok(RunsWriter {
            csv,
            row: Vec::new(),
        })
    }

    /// Writes one row and flushes it, so that a sweep killed at any moment leaves every
    /// finished run on disk ([`kept_runs`] reads them back).
    pub fn write_flushed(&mut self, exp: &Experiment, r: &RunRecord) -> csv::Result<()> {
        self.write(exp, r)?;
        self.csv.flush()?;
        Ok(())
    }

    /// Writes one row.
    pub(crate) fn write(&mut self, exp: &Experiment, r: &RunRecord) -> csv::Result<()> {
        self.row.clear();
        self.row.push(r.run.to_string());
        self.row.push(r.point.to_string());
        self.row.push(r.replication.to_string());
        self.row.push(r.seed.to_string());
        for (a, i) in exp.axes.iter().zip(exp.coords(r.point)) {
            self.row.push(a.values[i].label.clone());
        }
        for v in &r.values {
            self.row.push(v.map(fmt_value).unwrap_or_default());
        }
        self.row.push(r.error.clone().unwrap_or_default());
        self.csv.write_record(&self.row)
    }

    /// Flushes and returns the inner writer.
    pub fn finish(self) -> Result<W, String> {
        self.csv.into_inner().map_err(|e| e.to_string())
    }
}

/// Reads `runs.csv` (or a shard's) row by row, checking that it belongs to the
/// experiment: the header must match, and every row's point, replication and seed must
/// be those of its run number.
pub(crate) struct RunsReader<'e, R: Read> {
    exp: &'e Experiment,
    shown: String,
    rows: csv::StringRecordsIntoIter<R>,
    line: usize,
    header: Vec<String>,
}

impl<'e, R: Read> RunsReader<'e, R> {
    /// A reader that has checked the header; `shown` names the file in messages.
    pub(crate) fn new(exp: &'e Experiment, shown: &str, input: R) -> Result<Self, ExperimentError> {
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(input);
        let want = header(exp);
        let got: Vec<String> = rd
            .headers()
            .map_err(|e| ExperimentError::Merge(format!("{shown}: cannot read the header: {e}")))?
            .iter()
            .map(String::from)
            .collect();
        if got != want {
            return Err(ExperimentError::Merge(format!(
                "{shown}: the columns are not those of experiment \"{}\" (expected {} columns starting `{}`)",
                exp.name,
                want.len(),
                want.iter().take(6).cloned().collect::<Vec<_>>().join(",")
            )));
        }
        Ok(RunsReader {
            exp,
            shown: shown.to_string(),
            rows: rd.into_records(),
            line: 1,
            header: want,
        })
    }

    fn parse(&self, rec: &csv::StringRecord) -> Result<RunRecord, ExperimentError> {
        let (exp, line, want) = (self.exp, self.line, &self.header);
        let bad = |m: String| ExperimentError::Merge(format!("{}: line {line}: {m}", self.shown));
        let int = |k: usize| -> Result<u64, ExperimentError> {
            rec.get(k)
                .unwrap_or("")
                .parse::<u64>()
                .map_err(|_| bad(format!("column `{}`: not a whole number", want[k])))
        };
        let run = int(0)? as usize;
        let point = int(1)? as usize;
        let replication = int(2)? as u32;
        let seed = int(3)?;
        if run >= exp.runs()
            || exp.run_position(run) != (point, replication)
            || exp.seed_of(point, replication) != seed
        {
            return Err(bad(format!(
                "run {run} does not match this experiment's grid and seeds"
            )));
        }
        let (na, nm) = (exp.axes.len(), exp.metrics.len());
        for (j, (a, i)) in exp.axes.iter().zip(exp.coords(point)).enumerate() {
            let cell = rec.get(4 + j).unwrap_or("");
            if cell != a.values[i].label {
                return Err(bad(format!(
                    "column `{}`: `{cell}` is not point {point}'s value `{}`",
                    want[4 + j],
                    a.values[i].label
                )));
            }
        }
        let mut values = Vec::with_capacity(nm);
        for k in 0..nm {
            let cell = rec.get(4 + na + k).unwrap_or("");
            values.push(if cell.is_empty() {
                None
            } else {
                // The writer leaves a value that is not finite empty: NaN or inf here was
                // not written by a sweep.
                Some(
                    cell.parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| {
                            bad(format!(
                                "column `{}`: `{cell}` is not a finite number",
                                want[4 + na + k]
                            ))
                        })?,
                )
            });
        }
        let err = rec.get(4 + na + nm).unwrap_or("");
        Ok(RunRecord {
            run,
            point,
            replication,
            seed,
            values,
            error: (!err.is_empty()).then(|| err.to_string()),
        })
    }
}

impl<R: Read> Iterator for RunsReader<'_, R> {
    type Item = Result<RunRecord, ExperimentError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rec = self.rows.next()?;
        self.line += 1;
        Some(match rec {
            Ok(rec) => self.parse(&rec),
            Err(e) => Err(ExperimentError::Merge(format!(
                "{}: line {}: {e}",
                self.shown, self.line
            ))),
        })
    }
}

/// Opens `runs.csv` at `path` for reading.
pub(crate) fn open_runs<'e>(
    exp: &'e Experiment,
    path: &Path,
) -> Result<RunsReader<'e, std::io::BufReader<std::fs::File>>, ExperimentError> {
    let f = std::fs::File::open(path).map_err(|source| ExperimentError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    RunsReader::new(exp, &path.display().to_string(), std::io::BufReader::new(f))
}

/// How a sweep is run.
#[derive(Clone, Copy, Debug)]
pub struct SweepOptions {
    /// Worker threads (at least 1).
    pub threads: usize,
    /// The slice to run.
    pub shard: Shard,
    /// Leading runs of the slice already written (kept from an interrupted sweep, see
    /// [`kept_runs`]): the sweep starts after them.
    pub skip: usize,
}

/// The runs an interrupted sweep finished, read back from its `runs.csv`.
#[derive(Clone, Debug, Default)]
pub struct Kept {
    /// The leading runs of the slice, in run order, each checked against the experiment.
    pub rows: Vec<RunRecord>,
    /// Their count and failures.
    pub tally: Tally,
}

/// The leading rows of `runs_csv` that are runs `0, 1, 2, …` of `shard` of `exp`: a sweep
/// writes its rows in run order and flushes each, so an interrupted sweep leaves such a
/// prefix (and perhaps half a row, which is dropped here, as is everything after the
/// first row that does not belong). Nothing is kept from a file that cannot be read or
/// whose columns are not this experiment's.
pub fn kept_runs(exp: &Experiment, shard: Shard, runs_csv: &Path) -> Kept {
    let mut kept = Kept::default();
    let Ok(text) = std::fs::read(runs_csv) else {
        return kept;
    };
    // A row is whole once its newline is written: a kill inside a long row leaves a
    // row that parses but was cut.
    let whole = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let Ok(rows) = RunsReader::new(exp, &runs_csv.display().to_string(), &text[..whole]) else {
        return kept;
    };
    for (j, row) in rows.enumerate() {
        match row {
            Ok(r) if j < shard.len(exp.runs()) && r.run == shard.run(j) => {
                kept.tally.runs += 1;
                kept.tally.failed += usize::from(r.error.is_some());
                kept.rows.push(r);
            }
            _ => break,
        }
    }
    kept
}

/// What a sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Runs done.
    pub runs: usize,
    /// Runs that failed.
    pub failed: usize,
}

struct State<'w, W: Write> {
    /// Next shard-local run to claim.
    next: usize,
    /// Shard-local runs written so far.
    written: usize,
    /// Finished runs waiting for an earlier one.
    pending: BTreeMap<usize, RunRecord>,
    out: &'w mut RunsWriter<W>,
    failed: usize,
    error: Option<ExperimentError>,
}

/// Runs the shard's runs on `opts.threads` threads and writes their rows to `out` in run
/// order; `on_done` sees each record as it is written (in run order, under a lock: keep
/// it short). The rows are the same bytes whatever the number of threads.
pub fn sweep<W: Write + Send>(
    exp: &Experiment,
    opts: &SweepOptions,
    out: &mut RunsWriter<W>,
    on_done: &(dyn Fn(&RunRecord) + Sync),
) -> Result<Tally, ExperimentError> {
    let threads = opts.threads.max(1);
    let total = opts.shard.len(exp.runs());
    let window = 4 * threads;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("aqueduct-sweep-{i}"))
        .build()
        .map_err(|e| ExperimentError::Threads(e.to_string()))?;
    let skip = opts.skip.min(total);
    let state = Mutex::new(State {
        next: skip,
        written: skip,
        pending: BTreeMap::new(),
        out,
        failed: 0,
        error: None,
    });
    let turn = Condvar::new();
    pool.scope(|s| {
        for _ in 0..threads {
            s.spawn(|_| loop {
                // Claim the next run, waiting while the window of unwritten runs is full.
                let j = {
                    let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
                    loop {
                        if st.error.is_some() || st.next >= total {
                            return;
                        }
                        if st.next < st.written + window {
                            break;
                        }
                        st = turn.wait(st).unwrap_or_else(PoisonError::into_inner);
                    }
                    st.next += 1;
                    st.next - 1
                };
                let rec = run_one(exp, opts.shard.run(j));
                let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
                st.pending.insert(j, rec);
                // Every run claimed is below `written + window`, so at most `window`
                // finished runs ever wait here: memory does not grow with the grid.
                debug_assert!(st.pending.len() <= window);
                loop {
                    let w = st.written;
                    let Some(rec) = st.pending.remove(&w) else {
                        break;
                    };
                    if st.error.is_none() {
                        if let Err(e) = st.out.write_flushed(exp, &rec) {
                            st.error = Some(ExperimentError::write("runs.csv", e));
                        }
                    }
                    if rec.error.is_some() {
                        st.failed += 1;
                    }
                    on_done(&rec);
                    st.written += 1;
                }
                drop(st);
                turn.notify_all();
            });
        }
    });
    let st = state.into_inner().unwrap_or_else(PoisonError::into_inner);
    if let Some(e) = st.error {
        return Err(e);
    }
    Ok(Tally {
        runs: st.written - skip,
        failed: st.failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_runs() {
        // 10 runs in 3 shards: {0,3,6,9}, {1,4,7}, {2,5,8}.
        let s: Vec<Shard> = (1..=3).map(|k| Shard { index: k, count: 3 }).collect();
        assert_eq!(s.iter().map(|s| s.len(10)).collect::<Vec<_>>(), [4, 3, 3]);
        assert_eq!(
            (0..4).map(|j| s[0].run(j)).collect::<Vec<_>>(),
            [0, 3, 6, 9]
        );
        assert_eq!((0..3).map(|j| s[2].run(j)).collect::<Vec<_>>(), [2, 5, 8]);
        assert_eq!(Shard { index: 5, count: 8 }.len(3), 0);
    }

    #[test]
    fn shard_parsing() {
        assert_eq!(Shard::parse("2/8").unwrap(), Shard { index: 2, count: 8 });
        for bad in ["3/2", "0/2", "1/0", "x/2", "2", "1/y"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let e = Shard::parse("3/2").unwrap_err().to_string();
        assert!(e.contains("between 1 and N = 2"), "{e}");
    }
}
