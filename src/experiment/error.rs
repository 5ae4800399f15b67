//! Errors of the experiment phase: reading an experiment file, expanding its grid,
//! running it and merging shards.

use crate::model::ModelError;
use std::fmt;
use std::path::PathBuf;

/// Why an experiment could not be loaded, run or merged.
///
/// [`ExperimentError::is_input`] says whether the user's input is at fault (exit code 2)
/// or the sweep failed while writing its results (exit code 1). A single run that fails
/// is *not* an error of this type: it is recorded in its row of `runs.csv` and the sweep
/// goes on.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The experiment file is malformed or names something that does not exist, placed
    /// at its line and field as problems with model files are. Fatal, bad input.
    #[error("{0}")]
    Spec(ModelError),
    /// The base model is invalid. Fatal, bad input.
    #[error("{0}")]
    Model(ModelError),
    /// The model of one grid point is invalid (an axis value the model rejects). Fatal,
    /// bad input: every point is checked before anything runs.
    #[error("grid point {point} ({settings}): {source}")]
    Point {
        /// Index of the point in the grid.
        point: usize,
        /// The axis values of the point, `path = value, ...`.
        settings: String,
        /// What the model loader said.
        source: Box<ModelError>,
    },
    /// The first point could not be run to discover the metric names (a price table
    /// that cannot be read, for example). Fatal, bad input.
    #[error("a short trial run of the first grid point failed: {0}")]
    Probe(String),
    /// A `--shard K/N` that does not name a slice. Fatal, bad input.
    #[error("--shard {given}: {message}")]
    Shard {
        /// What was given.
        given: String,
        /// What is wrong.
        message: String,
    },
    /// Shard directories that do not make up one sweep, or a results file that cannot be
    /// read back. Fatal, bad input.
    #[error("{0}")]
    Merge(String),
    /// Reading an input file failed. Fatal, bad input.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing results failed. Fatal, not the input's fault.
    #[error("{}: {message}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// The worker threads could not be started. Fatal, not the input's fault.
    #[error("cannot start the worker threads: {0}")]
    Threads(String),
}

impl ExperimentError {
    /// True when the user's input is at fault (exit code 2).
    pub fn is_input(&self) -> bool {
        !matches!(
            self,
            ExperimentError::Write { .. } | ExperimentError::Threads(_)
        )
    }

    /// A write failure at `path`.
    pub(crate) fn write(path: impl Into<PathBuf>, e: impl fmt::Display) -> Self {
        ExperimentError::Write {
            path: path.into(),
            message: e.to_string(),
        }
    }
}

impl From<ModelError> for ExperimentError {
    fn from(e: ModelError) -> Self {
        ExperimentError::Model(e)
    }
}
