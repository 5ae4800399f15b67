//! Metrics: latency histograms, sampled time series and the run summary.

pub(crate) mod latency;
pub(crate) mod series;
pub(crate) mod summary;
pub mod value;

pub(crate) use latency::LatencyHist;
pub use series::TimeSeries;
pub use summary::{Accounting, ComponentReport};
pub use value::ValueFn;
