//! Worker pools: workers that poll SQS (receive → process → delete), with heartbeats,
//! failure windows, outages and target-tracking auto scaling. Lambda functions and their
//! event source mappings are in [`crate::services::lambda`], Kinesis consumer
//! applications in `crate::services::kinesis::consumer`.
//!
//! The state machines are driven by the engine (the handlers are in `engine.rs` here),
//! which owns the queues; this module holds the pools' specs, state and counters.

pub(crate) mod engine;

use crate::load::{DurationDist, Window};
use crate::metrics::{ComponentReport, LatencyHist};
use crate::services::sqs::Handle;
use crate::sim::{SimDuration, SimRng, SimTime};

/// Visibility heartbeat while processing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Heartbeat {
    /// Interval between ChangeMessageVisibility calls.
    pub every: SimDuration,
    /// Visibility timeout each call sets.
    pub extend_to: SimDuration,
}

/// Target-tracking auto scaling on backlog per worker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Autoscale {
    /// Fewest workers.
    pub min: u32,
    /// Most workers.
    pub max: u32,
    /// Target visible messages per worker.
    pub target_backlog_per_worker: f64,
    /// Metric period.
    pub evaluate_every: SimDuration,
    /// Wait after a scale-out before scaling again.
    pub scale_out_cooldown: SimDuration,
    /// Wait after a scale-in before scaling in again.
    pub scale_in_cooldown: SimDuration,
    /// Time from launch to the first poll.
    pub warmup: SimDuration,
}

/// A validated worker pool.
#[derive(Clone, Debug)]
pub struct PoolSpec {
    /// Name.
    pub name: String,
    /// Source queue index.
    pub queue: u32,
    /// Workers at the start.
    pub workers: u32,
    /// `MaxNumberOfMessages` of each receive.
    pub max_messages: u32,
    /// Long-poll wait (0 = short polling).
    pub wait: SimDuration,
    /// The `VisibilityTimeout` each ReceiveMessage call of the pool passes: the pool's
    /// `receive.visibility_timeout`, or else the queue's, resolved when the model is loaded
    /// (so the engine and `aqueduct price` read this one value). Lambda's event source
    /// mappings pass none: the queue's own applies to them.
    pub visibility_timeout: SimDuration,
    /// Processing time per message.
    pub service_time: DurationDist,
    /// Failure probability outside failure windows.
    pub failure_probability: f64,
    /// Windows with their own failure probability.
    pub failure_windows: Vec<Window>,
    /// DeleteMessageBatch after each received batch (else DeleteMessage per message).
    pub delete_batch: bool,
    /// Visibility heartbeat.
    pub heartbeat: Option<Heartbeat>,
    /// Windows when the pool is down.
    pub outages: Vec<Window>,
    /// Pause after an empty receive.
    pub poll_interval: SimDuration,
    /// Auto scaling.
    pub autoscale: Option<Autoscale>,
}

impl PoolSpec {
    /// Failure probability of processing that starts at `now`.
    pub(crate) fn failure_probability_at(&self, now: SimTime) -> f64 {
        self.failure_windows
            .iter()
            .find(|w| w.from <= now && now < w.until)
            .map(|w| w.probability)
            .unwrap_or(self.failure_probability)
    }

    /// Largest number of workers the pool can have.
    pub(crate) fn max_workers(&self) -> u32 {
        self.autoscale
            .map(|a| a.max.max(self.workers))
            .unwrap_or(self.workers)
    }
}

/// What a worker is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WorkerState {
    /// Not part of the pool (scaled in, or not yet launched).
    Off,
    /// Launched, warming up.
    Starting,
    /// A ReceiveMessage call in progress (request leg or response leg).
    Receiving,
    /// Long-polling at the queue.
    Waiting,
    /// Processing `buf[pos]`.
    Processing,
    /// A delete call in progress.
    Deleting,
    /// Pausing after an empty receive.
    Sleeping,
    /// The pool is down.
    Down,
}

/// One worker.
#[derive(Clone, Debug)]
pub(crate) struct Worker {
    /// State.
    pub(crate) state: WorkerState,
    /// Generation: bumped whenever pending events for this worker become void.
    pub(crate) gen: u32,
    /// Poller id at the queue.
    pub(crate) poller: u32,
    /// Messages of the current receive.
    pub(crate) buf: Vec<Handle>,
    /// Next message of `buf` to process.
    pub(crate) pos: usize,
    /// Messages of `buf` processed successfully, waiting for a batch delete.
    pub(crate) to_delete: Vec<Handle>,
    /// Latency of the API call in progress.
    pub(crate) leg: SimDuration,
    /// Whether the message being processed fails.
    pub(crate) failing: bool,
    /// Start of the current processing, for utilisation.
    pub(crate) busy_since: SimTime,
    /// Scheduled to stop after the current batch (scale-in).
    pub(crate) retiring: bool,
    /// End of the current long-poll wait.
    pub(crate) wait_until: SimTime,
    /// When the worker's one pending wait timeout fires, if one is pending. A wait that
    /// ends later than it schedules nothing: the pending timeout, firing early, re-arms
    /// itself for the wait's end. So a worker has at most one pending timeout, however
    /// many waits a message cut short (they were each an event held until its 20 s
    /// passed: rate × 20 s of them at a high load).
    pub(crate) timer_at: Option<SimTime>,
    /// Lost with its availability zone (a `capacity_loss` fault in force).
    pub(crate) az_down: bool,
}

/// Counters of a pool.
#[derive(Clone, Debug, Default)]
pub(crate) struct PoolStats {
    /// Messages processed successfully.
    pub(crate) processed: u64,
    /// Processings that failed (message not deleted).
    pub(crate) failed: u64,
    /// Processings of a message that was already processed (or a copy).
    pub(crate) duplicates: u64,
    /// Receive calls.
    pub(crate) receives: u64,
    /// Receive calls that returned nothing.
    pub(crate) empty_receives: u64,
    /// Delete calls.
    pub(crate) delete_calls: u64,
    /// Heartbeat (ChangeMessageVisibility) calls.
    pub(crate) heartbeats: u64,
    /// Busy time, ns (processing only).
    pub(crate) busy_ns: u128,
    /// Worker time, ns (Σ workers in the pool × time).
    pub(crate) worker_ns: u128,
    /// Scale-out actions.
    pub(crate) scale_outs: u64,
    /// Scale-in actions.
    pub(crate) scale_ins: u64,
    /// Most workers at once.
    pub(crate) workers_max: u32,
    /// FIFO sources: successful processings of a message after a later message of the
    /// same group (an independent check of FIFO order; 0 when order holds).
    pub(crate) order_violations: u64,
    /// Enqueue (at the queue) → start of processing.
    pub(crate) wait: LatencyHist,
    /// Production → end of processing, successful processings only.
    pub(crate) latency: LatencyHist,
}

/// A worker pool's run-time state.
pub(crate) struct WorkerPool {
    /// Its spec.
    pub(crate) spec: PoolSpec,
    /// Random stream.
    pub(crate) rng: SimRng,
    /// Workers (sized for the most the pool can have).
    pub(crate) workers: Vec<Worker>,
    /// The pool is in an outage.
    pub(crate) down: bool,
    /// Workers in the pool now (not `Off`).
    pub(crate) active: u32,
    /// Workers processing now.
    pub(crate) busy: u32,
    /// Last time `worker_ns` was brought up to date.
    pub(crate) accounted_at: SimTime,
    /// Last scale-out / scale-in.
    pub(crate) last_scale_out: Option<SimTime>,
    /// Last scale-in.
    pub(crate) last_scale_in: Option<SimTime>,
    /// Counters.
    pub(crate) stats: PoolStats,
    /// Latencies (production → end of processing) of the current sample interval, for
    /// the time series' `latency_p99_s`.
    pub(crate) interval: crate::metrics::latency::IntervalLatency,
    /// FIFO sources: the latest acceptance (`(enqueued ns, id)`) processed per
    /// (producer, group).
    pub(crate) last_in_group: std::collections::HashMap<u64, (u64, u64)>,
}

impl WorkerPool {
    /// A pool with its starting workers in `Starting` state (the engine starts them).
    pub(crate) fn new(spec: PoolSpec, rng: SimRng, pollers: Vec<u32>) -> Self {
        let cap = spec.max_messages as usize;
        let workers = pollers
            .into_iter()
            .enumerate()
            .map(|(i, poller)| Worker {
                state: if (i as u32) < spec.workers {
                    WorkerState::Starting
                } else {
                    WorkerState::Off
                },
                gen: 0,
                poller,
                buf: Vec::with_capacity(cap),
                pos: 0,
                to_delete: Vec::with_capacity(cap),
                leg: SimDuration::ZERO,
                failing: false,
                busy_since: SimTime::ZERO,
                retiring: false,
                wait_until: SimTime::ZERO,
                timer_at: None,
                az_down: false,
            })
            .collect();
        let active = spec.workers;
        WorkerPool {
            spec,
            rng,
            workers,
            down: false,
            active,
            busy: 0,
            accounted_at: SimTime::ZERO,
            last_scale_out: None,
            last_scale_in: None,
            stats: PoolStats {
                workers_max: active,
                ..PoolStats::default()
            },
            interval: Default::default(),
            last_in_group: std::collections::HashMap::new(),
        }
    }

    /// Brings the worker-time integral up to `now` (call before `active` changes).
    pub(crate) fn account(&mut self, now: SimTime) {
        let dt = (now - self.accounted_at).0 as u128;
        self.stats.worker_ns += dt * self.active as u128;
        self.accounted_at = now;
    }

    /// Marks worker `w` busy from `now`.
    pub(crate) fn set_busy(&mut self, w: usize, now: SimTime) {
        self.workers[w].busy_since = now;
        self.busy += 1;
    }

    /// Marks worker `w` idle at `now`, adding its busy time (clipped to the measured
    /// window by `since`).
    pub(crate) fn set_idle(&mut self, w: usize, now: SimTime, since: SimTime) {
        let start = self.workers[w].busy_since.max(since);
        self.stats.busy_ns += (now - start).0 as u128;
        self.busy -= 1;
    }

    /// Checks FIFO order for a successful processing of a message of `group` that the
    /// queue accepted at `accepted` (its `enqueued` time, then its id for sends accepted
    /// at one instant): a group must be processed in the order the queue accepted its
    /// messages, which is not the order they were created in when concurrent sends are
    /// retried.
    pub(crate) fn check_order(&mut self, group: u64, accepted: (u64, u64)) {
        let last = self.last_in_group.entry(group).or_insert((0, 0));
        if accepted < *last {
            self.stats.order_violations += 1;
        } else {
            *last = accepted;
        }
    }

    /// Resets counters at the end of the warm-up.
    pub(crate) fn reset_stats(&mut self, now: SimTime) {
        self.stats = PoolStats {
            workers_max: self.active,
            ..PoolStats::default()
        };
        self.accounted_at = now;
    }

    /// The component report.
    pub(crate) fn report(&self) -> ComponentReport {
        let s = &self.stats;
        let utilization = if s.worker_ns > 0 {
            s.busy_ns as f64 / s.worker_ns as f64
        } else {
            0.0
        };
        let mut r = ComponentReport::new("consumer", &self.spec.name);
        r.count("processed", s.processed)
            .count("failed", s.failed)
            .count("duplicates", s.duplicates)
            .count("receives", s.receives)
            .count("empty_receives", s.empty_receives)
            .count("delete_calls", s.delete_calls)
            .count("heartbeats", s.heartbeats)
            .count("workers", self.active as u64)
            .count("workers_max", s.workers_max as u64)
            .count("scale_outs", s.scale_outs)
            .count("scale_ins", s.scale_ins)
            .count("order_violations", s.order_violations)
            .real("worker_hours", s.worker_ns as f64 / 3.6e12)
            .real("utilization", utilization)
            .real("service_mean_s", {
                let n = s.processed + s.failed;
                if n > 0 {
                    s.busy_ns as f64 / n as f64 / 1e9
                } else {
                    0.0
                }
            })
            .latency("wait_s", &s.wait)
            .latency("latency_s", &s.latency)
            .headline(&[
                "processed",
                "failed",
                "duplicates",
                "workers_max",
                "utilization",
                "wait_s",
                "latency_s",
            ]);
        r
    }
}
