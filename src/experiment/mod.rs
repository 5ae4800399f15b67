//! Experiments: many runs of one model over a grid of parameters, on every core, with
//! replications, confidence intervals and sizing by service-level objectives.
//!
//! An experiment file (TOML, in `experiments/`) names a base model and the fields to vary:
//!
//! ```toml
//! name = "workers-load"                 # output goes to reports/workers-load/
//! model = "../models/default.toml"      # relative to this file
//! replications = 5                      # runs per grid point (default 3)
//! seed = 42                             # base seed (default: the model's)
//! confidence = 0.95                     # level of the intervals (default 0.95)
//! metrics = ["consumer.order-workers.latency_s.p99", "cost.total"]
//!
//! [axes]                                # any model field, by path
//! "consumer.order-workers.workers" = { from = 40, to = 120, step = 10 }   # a range
//! "producer.web.load.burst_per_s" = [400, 600, 800]                       # a list
//! "duration" = "30m"                                                      # one value
//!
//! [slo]                                 # objectives, checked at a confidence bound
//! "consumer.order-workers.latency_s.p99" = "< 2s"
//! "queue.orders.expired" = "== 0"
//!
//! [sizing]
//! minimize = "cost.all"                 # a metric or an axis (default cost.total)
//! per = ["producer.web.load.burst_per_s"]   # one answer per load
//!
//! [unit_costs]                          # USD per month per unit of an axis
//! "consumer.order-workers.workers" = 9.01
//!
//! [[plot]]
//! y = "consumer.order-workers.latency_s.p99"
//! x = "consumer.order-workers.workers"  # one series per value of the other axes
//! ```
//!
//! * **Grid.** Points are every combination of the axes' values, numbered with the first
//!   axis varying slowest; runs are numbered point by point (`run = point × replications
//!   + replication`). Each run's seed comes from (base seed, point, replication) only
//!   ([`run_seed`]), so results do not depend on threads, shards or order.
//! * **Validation.** [`Experiment::load`] checks every point's model and makes a
//!   one-second trial run of the first point to learn the metric names, so a mistyped
//!   path fails before anything runs, naming the nearest valid one.
//! * **Statistics** ([`Stats`]): per point, the mean, standard deviation, range and the
//!   half-width of the confidence interval of the mean from Student's t.
//! * **Sizing** ([`Results`]): a point meets an objective `< x` when the *upper* bound of
//!   its interval is below `x` (`> x`: the lower bound above; `== x`: both bounds equal
//!   to `x`), and no run of it failed. Among the points that meet every objective, the
//!   one with the smallest `minimize` wins; with `per`, one answer per situation.
//! * **Derived costs.** `[unit_costs]` prices resources aqueduct does not bill (such as
//!   the hosts of a worker pool): `cost.extra` = Σ axis value × unit price and `cost.all`
//!   = `cost.total + cost.extra`, both kept as metrics.
//!
//! Running ([`sweep()`]) streams one row per run to `runs.csv`; [`Results::read`] folds
//! that file into per-point results; the `report` module writes tables, charts and
//! `report.md` from them. Shards ([`Shard`]) run deterministic slices that
//! [`merge::merge_runs`] puts back in run order.

pub(crate) mod axis;
pub mod compare;
pub(crate) mod error;
pub mod merge;
pub(crate) mod results;
pub(crate) mod slo;
pub(crate) mod spec;
pub(crate) mod stats;
pub(crate) mod sweep;

pub use axis::{Axis, AxisValue};
pub use error::ExperimentError;
pub use merge::Manifest;
pub use results::{Answer, Failure, PointResult, Results};
pub use slo::{Check, Op, Slo};
pub(crate) use spec::COST_EXTRA;
pub use spec::{run_seed, Experiment, Objective, Plot, Source, Throughput, COST_ALL};
pub use stats::Stats;
pub use sweep::{
    kept_runs, run_again, run_series, sweep, Kept, RunRecord, RunsWriter, Shard, SweepOptions,
    Tally,
};
