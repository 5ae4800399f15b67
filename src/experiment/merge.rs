//! `sweep.json`, the manifest every sweep directory carries, and merging shards.
//!
//! A shard directory holds its rows of `runs.csv` and a manifest naming the experiment
//! (its full text and its model's), the slice and a fingerprint. `merge` checks that the
//! directories are the N slices of one sweep, interleaves their rows back into run order
//! (reading one row at a time from each) and rebuilds the experiment from the stored
//! texts, so the merged files are those the unsharded sweep writes.

use super::error::ExperimentError;
use super::spec::{Experiment, Source};
use super::sweep::{open_runs, RunsReader, RunsWriter, Shard, Tally};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the manifest.
pub const MANIFEST: &str = "sweep.json";
/// File name of the rows.
pub const RUNS: &str = "runs.csv";

/// What a sweep directory holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Manifest {
    /// Version of aqueduct that wrote it.
    pub aqueduct_version: String,
    /// Experiment name.
    pub experiment: String,
    /// MD5 of the experiment text and the model text: shards of one sweep share it.
    pub fingerprint: String,
    /// Grid points.
    pub points: usize,
    /// Replications per point.
    pub replications: u32,
    /// Runs of the whole sweep.
    pub runs: usize,
    /// The slice this directory holds; absent for a whole sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// Rows in this directory's `runs.csv`.
    pub rows: usize,
    /// Of which failed.
    pub failed: usize,
    /// The texts the experiment is built from.
    pub source: Source,
}

impl Manifest {
    /// The manifest of a directory holding `shard` of `exp` with `tally`.
    pub fn new(exp: &Experiment, shard: Shard, tally: Tally) -> Manifest {
        Manifest {
            aqueduct_version: env!("CARGO_PKG_VERSION").to_string(),
            experiment: exp.name.clone(),
            fingerprint: fingerprint(&exp.source),
            points: exp.points(),
            replications: exp.replications,
            runs: exp.runs(),
            shard: (!shard.is_all()).then_some(shard),
            rows: tally.runs,
            failed: tally.failed,
            source: exp.source.clone(),
        }
    }

    /// Writes the manifest as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<(), ExperimentError> {
        let text =
            serde_json::to_string_pretty(self).map_err(|e| ExperimentError::write(path, e))?;
        std::fs::write(path, text + "\n").map_err(|e| ExperimentError::write(path, e))
    }

    /// Reads the manifest of sweep directory `dir`.
    pub fn read(dir: &Path) -> Result<Manifest, ExperimentError> {
        let path = dir.join(MANIFEST);
        let text = crate::input::read_text(&path).map_err(|e| {
            ExperimentError::Merge(format!(
                "{}: cannot read the manifest ({e}): is {} the output directory of `aqueduct sweep`?",
                path.display(),
                dir.display()
            ))
        })?;
        let m: Manifest = serde_json::from_str(&text)
            .map_err(|e| ExperimentError::Merge(format!("{}: {e}", path.display())))?;
        m.check()
            .map_err(|e| ExperimentError::Merge(format!("{}: {e}", path.display())))?;
        Ok(m)
    }

    /// Checks that the numbers agree with one another and with the texts: a manifest is
    /// read from a file anyone may edit, and its counts size what `merge` does.
    fn check(&self) -> Result<(), String> {
        if fingerprint(&self.source) != self.fingerprint {
            return Err(
                "the fingerprint is not that of the experiment and model texts it holds (edited after the sweep?)"
                    .into(),
            );
        }
        if self.points.checked_mul(self.replications as usize) != Some(self.runs) {
            return Err(format!(
                "runs = {} is not points × replications = {} × {}",
                self.runs, self.points, self.replications
            ));
        }
        let s = self.slice();
        s.check(self.runs)?;
        if self.rows > s.len(self.runs) {
            return Err(format!(
                "shard {s} of {} runs holds at most {} rows, not {}",
                self.runs,
                s.len(self.runs),
                self.rows
            ));
        }
        if self.failed > self.rows {
            return Err(format!(
                "{} failed runs out of {} rows",
                self.failed, self.rows
            ));
        }
        Ok(())
    }

    /// The slice this directory holds (`1/1` for a whole sweep).
    pub(crate) fn slice(&self) -> Shard {
        self.shard.unwrap_or(Shard::ALL)
    }
}

/// MD5 (hex) of the experiment text and the model text.
pub(crate) fn fingerprint(s: &Source) -> String {
    let mut h = Md5::new();
    h.update(s.text.as_bytes());
    h.update([0u8]);
    h.update(s.model_text.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks that `dirs` hold every slice of one sweep exactly once; returns the manifests
/// in slice order (index 1 first), each with its directory.
pub fn plan(dirs: &[PathBuf]) -> Result<Vec<(PathBuf, Manifest)>, ExperimentError> {
    if dirs.is_empty() {
        return Err(ExperimentError::Merge(
            "give the output directories of the shards to merge".into(),
        ));
    }
    let mut all = Vec::new();
    for d in dirs {
        all.push((d.clone(), Manifest::read(d)?));
    }
    let (d0, m0) = &all[0];
    let n = m0.slice().count;
    // Keyed by slice index: nothing is sized by the count a file claims.
    let mut seen: BTreeMap<usize, PathBuf> = BTreeMap::new();
    for (d, m) in &all {
        if m.fingerprint != m0.fingerprint || m.runs != m0.runs {
            return Err(ExperimentError::Merge(format!(
                "{} and {} hold different sweeps (experiment \"{}\" and \"{}\", or the same experiment edited in between)",
                d0.display(),
                d.display(),
                m0.experiment,
                m.experiment
            )));
        }
        if m.aqueduct_version != m0.aqueduct_version {
            return Err(ExperimentError::Merge(format!(
                "{} was written by aqueduct {} and {} by {}: rerun the shards with one version",
                d0.display(),
                m0.aqueduct_version,
                d.display(),
                m.aqueduct_version
            )));
        }
        let s = m.slice();
        if s.count != n {
            return Err(ExperimentError::Merge(format!(
                "{} holds shard {s} but {} holds shard {}: the shards must come from one split",
                d.display(),
                d0.display(),
                m0.slice()
            )));
        }
        if let Some(prev) = seen.get(&s.index) {
            return Err(ExperimentError::Merge(format!(
                "shard {s} is given twice: {} and {}",
                prev.display(),
                d.display()
            )));
        }
        if m.rows != s.len(m.runs) {
            return Err(ExperimentError::Merge(format!(
                "{}: shard {s} holds {} runs but should hold {}: it did not finish",
                d.display(),
                m.rows,
                s.len(m.runs)
            )));
        }
        seen.insert(s.index, d.clone());
    }
    if seen.len() < n {
        // Name the first few missing slices (n can be large: stop early).
        let shown = 10;
        let missing: Vec<String> = (1..=n)
            .filter(|i| !seen.contains_key(i))
            .take(shown)
            .map(|i| format!("{i}/{n}"))
            .collect();
        let more = n - seen.len() - missing.len();
        return Err(ExperimentError::Merge(format!(
            "shard(s) {}{} of experiment \"{}\" are missing",
            missing.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            m0.experiment
        )));
    }
    all.sort_by_key(|(_, m)| m.slice().index);
    Ok(all)
}

/// Checks that the manifests describe the experiment rebuilt from their texts (same
/// name, grid and replications).
pub fn check_against(
    exp: &Experiment,
    shards: &[(PathBuf, Manifest)],
) -> Result<(), ExperimentError> {
    for (d, m) in shards {
        if m.experiment != exp.name
            || m.points != exp.points()
            || m.replications != exp.replications
            || m.runs != exp.runs()
        {
            return Err(ExperimentError::Merge(format!(
                "{}: the manifest says experiment \"{}\" of {} points × {} replications, but its texts make experiment \"{}\" of {} × {} (edited after the sweep?)",
                d.join(MANIFEST).display(),
                m.experiment,
                m.points,
                m.replications,
                exp.name,
                exp.points(),
                exp.replications
            )));
        }
    }
    Ok(())
}

/// Interleaves the shards' rows (in slice order, as [`plan`] returns them) into `out` in
/// run order, one row at a time.
pub fn merge_runs<W: Write>(
    exp: &Experiment,
    shards: &[(PathBuf, Manifest)],
    out: &mut RunsWriter<W>,
) -> Result<Tally, ExperimentError> {
    let mut readers: Vec<RunsReader<'_, _>> = shards
        .iter()
        .map(|(d, _)| open_runs(exp, &d.join(RUNS)))
        .collect::<Result<_, _>>()?;
    let n = readers.len();
    let mut tally = Tally::default();
    let mut failed = vec![0usize; n];
    for run in 0..exp.runs() {
        let k = run % n;
        let rec = readers[k].next().ok_or_else(|| {
            ExperimentError::Merge(format!(
                "{}: ends before run {run}",
                shards[k].0.join(RUNS).display()
            ))
        })??;
        if rec.run != run {
            return Err(ExperimentError::Merge(format!(
                "{}: found run {} where run {run} belongs",
                shards[k].0.join(RUNS).display(),
                rec.run
            )));
        }
        out.write(exp, &rec)
            .map_err(|e| ExperimentError::write(RUNS, e))?;
        tally.runs += 1;
        tally.failed += usize::from(rec.error.is_some());
        failed[k] += usize::from(rec.error.is_some());
    }
    for (k, r) in readers.iter_mut().enumerate() {
        if r.next().is_some() {
            return Err(ExperimentError::Merge(format!(
                "{}: holds more rows than its shard",
                shards[k].0.join(RUNS).display()
            )));
        }
        if failed[k] != shards[k].1.failed {
            return Err(ExperimentError::Merge(format!(
                "{}: {} rows record a failed run, but its manifest counts {} (edited after the sweep?)",
                shards[k].0.join(RUNS).display(),
                failed[k],
                shards[k].1.failed
            )));
        }
    }
    Ok(tally)
}
