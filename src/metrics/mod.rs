//! Metrics: latency histograms, sampled time series and the run summary.

pub mod latency;
pub mod series;
pub mod summary;

pub use latency::{LatencyHist, LatencySummary};
pub use series::TimeSeries;
pub use summary::{Accounting, ComponentReport};
