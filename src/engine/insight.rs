//! Time to insight and value delivered, per end point (see `metrics::value`).
//!
//! An end point is a component where a record's processing ends with a result: a worker
//! pool, a Lambda function, a Kinesis stream consumer, a Firehose delivery stream's
//! destination, a Flink application's window result, a batch job. [`Insights::new`] registers them (one line per kind); the handler where a
//! record's processing ends makes one call, [`Engine::insight`] for a message or
//! [`Engine::insight_span`] for a run of records.

use super::summary::InsightSummary;
use super::Engine;
use crate::batch::BatchStore;
use crate::metrics::value::Insight;
use crate::metrics::{ComponentReport, ValueFn};
use crate::model::Architecture;
use crate::pricing::Bill;
use crate::sim::{SimDuration, SimTime};

/// One end point.
pub(crate) struct EndPoint {
    /// Its report's kind (`consumer` for worker pools and stream consumers, `lambda`,
    /// `firehose`).
    pub(crate) kind: &'static str,
    /// Its name.
    pub(crate) name: String,
    /// Value function of the runs it ends (run-holding sources: one per stream).
    pub(crate) runs: Option<ValueFn>,
    /// What it delivered.
    pub(crate) stats: Insight,
    /// Its records go on to another end point (a Firehose stream whose S3 objects a batch
    /// job reads): it reports its own figures but does not count in the run's total.
    pub(crate) intermediate: bool,
}

/// The end points of a run, and each component's end point.
pub(crate) struct Insights {
    /// Every end point, in registration order.
    pub(crate) points: Vec<EndPoint>,
    /// End point of each worker pool.
    pub(crate) pools: Vec<u32>,
    /// End point of each Lambda function.
    pub(crate) lambdas: Vec<u32>,
    /// End point of each stream consumer (u32::MAX: Firehose's own reader, which hands
    /// its records on).
    pub(crate) readers: Vec<u32>,
    /// End point of each Firehose delivery stream.
    pub(crate) firehoses: Vec<u32>,
    /// End point of each batch job.
    pub(crate) batch: Vec<u32>,
    /// End point of each Flink application (its window results).
    pub(crate) flinks: Vec<u32>,
}

impl Insights {
    /// Registers the end points of `arch`.
    pub(crate) fn new(arch: &Architecture) -> Self {
        let mut ins = Insights {
            points: Vec::new(),
            pools: Vec::new(),
            lambdas: Vec::new(),
            readers: Vec::new(),
            firehoses: Vec::new(),
            batch: Vec::new(),
            flinks: Vec::new(),
        };
        for c in &arch.consumers {
            let ep = ins.add("consumer", &c.name, None);
            ins.pools.push(ep);
        }
        for l in &arch.lambdas {
            let ep = ins.add("lambda", &l.name, None);
            ins.lambdas.push(ep);
        }
        for r in &arch.stream_consumers {
            // Firehose's and Flink's own readers hand their records on.
            let ep = match (r.firehose, r.flink) {
                (None, None) => {
                    ins.add("consumer", &r.name, arch.values.streams[r.stream as usize])
                }
                _ => u32::MAX,
            };
            ins.readers.push(ep);
        }
        for (f, spec) in arch.firehoses.iter().enumerate() {
            let ep = ins.add("firehose", &spec.name, arch.values.firehoses[f]);
            ins.firehoses.push(ep);
        }
        // A Flink application's records reach their insight when their window's result
        // is emitted; a Firehose sink then carries results, not the records.
        for a in &arch.flinks {
            let ep = ins.add("flink", &a.name, arch.values.streams[a.stream as usize]);
            ins.flinks.push(ep);
            // A delivery stream that only Flink writes to carries results: it does not
            // count in the total (one that producers or SNS also write to still does).
            if let Some(f) = a.sink_firehose {
                let direct = arch
                    .producers
                    .iter()
                    .any(|p| p.target == crate::producers::Target::Firehose(f))
                    || arch
                        .subscriptions
                        .iter()
                        .any(|s| s.endpoint == crate::services::sns::Endpoint::Firehose(f));
                if !direct {
                    let fe = ins.firehoses[f as usize] as usize;
                    ins.points[fe].intermediate = true;
                }
            }
        }
        for b in &arch.batch_jobs {
            let runs = match b.store {
                BatchStore::Queue(_) => None,
                BatchStore::Stream(st) => arch.values.streams[st as usize],
                BatchStore::Firehose(f) => {
                    let ep = ins.firehoses[f as usize] as usize;
                    ins.points[ep].intermediate = true;
                    arch.values.firehoses[f as usize]
                }
            };
            let ep = ins.add("batch_job", &b.name, runs);
            ins.batch.push(ep);
        }
        ins
    }

    /// Adds an end point; `runs` is the value function of the runs of records it ends.
    pub(crate) fn add(&mut self, kind: &'static str, name: &str, runs: Option<ValueFn>) -> u32 {
        self.points.push(EndPoint {
            kind,
            name: name.to_string(),
            runs,
            stats: Insight::default(),
            intermediate: false,
        });
        (self.points.len() - 1) as u32
    }

    /// One record of age `age` ended at end point `ep` (for handlers that hold other
    /// parts of the engine borrowed; else [`Engine::insight`]).
    #[inline]
    pub(crate) fn one(&mut self, ep: u32, age: SimDuration, value: Option<ValueFn>) {
        self.points[ep as usize].stats.record(age, value);
    }

    /// Every end point's statistics restart (end of the warm-up).
    pub(crate) fn reset(&mut self) {
        for p in &mut self.points {
            p.stats = Insight::default();
        }
    }

    /// All end points together.
    pub(crate) fn total(&self) -> Insight {
        let mut all = Insight::default();
        for p in self.points.iter().filter(|p| !p.intermediate) {
            all.merge(&p.stats);
        }
        all
    }

    /// Adds `time_to_insight_s`, and `value_delivered` when the model declares value
    /// (`valued`; 0 for an end point that delivered nothing), to each end point's report.
    pub(crate) fn patch_reports(&self, components: &mut [ComponentReport], valued: bool) {
        for p in &self.points {
            if let Some(c) = components
                .iter_mut()
                .find(|c| c.kind == p.kind && c.name == p.name)
            {
                c.latency("time_to_insight_s", &p.stats.time);
                if valued {
                    c.real("value_delivered", p.stats.value_delivered().unwrap_or(0.0));
                }
            }
        }
    }

    /// The run's insight summary (None without end points); `window_s` is the measured
    /// window, whose value the bill's month repeats.
    pub(crate) fn summary(
        &self,
        window_s: f64,
        cost: &Bill,
        valued: bool,
    ) -> Option<InsightSummary> {
        if self.points.is_empty() {
            return None;
        }
        let all = self.total();
        let month_s = cost.month_hours * 3600.0;
        let value_per_month = valued.then(|| all.value_sum * month_s / window_s);
        Some(InsightSummary {
            records: all.records(),
            time_to_insight_s: serde_json::to_value(all.summary()).unwrap_or_default(),
            value_delivered: valued.then(|| all.value_delivered().unwrap_or(0.0)),
            value_per_month,
            usd_per_value: value_per_month.filter(|v| *v > 0.0).map(|v| cost.total / v),
        })
    }
}

impl Engine<'_> {
    /// A message of `producer` created at `created` ended its processing now at end
    /// point `ep`.
    #[inline]
    pub(crate) fn insight(&mut self, ep: u32, created: SimTime, producer: u16) {
        let value = self.arch.values.producers[producer as usize];
        self.insight.one(ep, self.now - created, value);
    }

    /// `n` records created evenly from `first` to `last` ended their processing at `end`
    /// (≤ now) at end point `ep`.
    #[inline]
    pub(crate) fn insight_span(
        &mut self,
        ep: u32,
        end: SimTime,
        first: SimTime,
        last: SimTime,
        n: u64,
    ) {
        let p = &mut self.insight.points[ep as usize];
        p.stats.record_span(
            end.saturating_since(first),
            end.saturating_since(last),
            n,
            p.runs,
        );
    }
}
