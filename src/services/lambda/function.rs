//! Lambda functions as consumers: execution environments (cold starts, reuse, idle
//! reclaim), concurrency (reserved, or the account's unreserved pool), billing (requests and
//! GB-seconds rounded up to 1 ms), and the SQS event source mapping's pollers.
//!
//! # The function runtime
//! An invocation needs a free unit of concurrency: the function's reserved concurrency if
//! it has one, else the account's unreserved pool (`account_concurrency` − all
//! reservations). It takes the most recently used idle execution environment, or starts a
//! new one and pays a cold start. Environments idle longer than `idle_timeout` are
//! reclaimed. Duration = (cold start) + `duration` + `per_record` × records; an
//! invocation running past `timeout` is stopped there and fails. Billed duration is
//! rounded up to the next millisecond; GB-seconds = memory/1,024 × billed seconds.
//!
//! # The SQS event source mapping
//! As AWS documents (services-sqs-scaling.html): the mapping long-polls the queue (20 s
//! waits) with 5 concurrent pollers ("batches") at first, adds up to 300 per minute while
//! messages are waiting (modelled as up to 5 more each second), up to 1,000 or the mapping's
//! `maximum_concurrency`, and shrinks back to 5 as pollers find the queue empty. A poller
//! receives up to 10 messages per ReceiveMessage call; with a batching window it keeps
//! receiving until the batch is full, the window has passed since its first message, or
//! the payload reaches 6 MB. It then invokes the function; a throttled invoke is retried
//! after a back-off while the messages stay in flight (their visibility clock keeps
//! running). On success the batch is deleted (DeleteMessageBatch, 10 per call); a failed
//! record fails the whole batch (it reappears after the visibility timeout) unless the
//! function reports batch item failures, in which case only the failed records stay.
//! FIFO queues deliver one message group per batch in order, so groups are processed in
//! order.

use crate::metrics::{ComponentReport, LatencyHist};
use crate::services::lambda::{Arch, LambdaSpec};
use crate::services::sqs::Handle;
use crate::sim::{SimDuration, SimRng, SimTime};
use rand::Rng;
use std::collections::VecDeque;

/// Counters of a Lambda function (reset at the end of the warm-up).
#[derive(Clone, Debug, Default)]
pub(crate) struct LambdaStats {
    /// Invocations started.
    pub(crate) invocations: u64,
    /// Requests billed beyond one per invocation: asynchronous events over 256 KB are
    /// billed one more per further 64 KB chunk.
    pub(crate) extra_requests: u64,
    /// Records processed successfully.
    pub(crate) processed: u64,
    /// Records whose processing failed.
    pub(crate) failed: u64,
    /// Invocations that failed (a record failed without partial batch responses, or a
    /// timeout).
    pub(crate) failed_invocations: u64,
    /// Invocations stopped by the function timeout.
    pub(crate) timeouts: u64,
    /// Invocation attempts refused for lack of concurrency.
    pub(crate) throttles: u64,
    /// Invocations that started a new execution environment.
    pub(crate) cold_starts: u64,
    /// Processings of a record already processed (or of a duplicate copy).
    pub(crate) duplicates: u64,
    /// Billed duration, ms (each invocation rounded up to 1 ms).
    pub(crate) billed_ms: u128,
    /// Σ concurrency × time, ns (for the mean concurrency).
    pub(crate) concurrency_ns: u128,
    /// Highest concurrency.
    pub(crate) concurrency_max: u32,
    /// Highest number of mapping pollers.
    pub(crate) pollers_max: u32,
    /// Receive calls made by the mapping.
    pub(crate) receives: u64,
    /// FIFO sources: successful processings of a record after a later record of the same
    /// group (an independent check of FIFO order; 0 when order holds).
    pub(crate) order_violations: u64,
    /// Enqueue → start of the invocation that processes the record.
    pub(crate) wait: LatencyHist,
    /// Production → end of successful processing.
    pub(crate) latency: LatencyHist,
    /// Invocation durations.
    pub(crate) duration: LatencyHist,
}

/// A function's run-time state.
pub(crate) struct LambdaFn {
    /// Its spec.
    pub(crate) spec: LambdaSpec,
    /// Random stream.
    pub(crate) rng: SimRng,
    /// Random stream of the invoke overhead and the long-poll wake-up, apart from `rng`
    /// (durations, cold starts, failures) so that either can be turned off with common
    /// random numbers.
    pub(crate) invoke_rng: SimRng,
    /// Idle execution environments: the time each became idle, most recent last.
    idle: VecDeque<SimTime>,
    /// Invocations running now.
    pub(crate) running: u32,
    /// Most concurrent invocations allowed by its reservation (None: account pool).
    pub(crate) reserved: Option<u32>,
    /// Counters.
    pub(crate) stats: LambdaStats,
    accounted_at: SimTime,
    /// FIFO sources: the latest acceptance (`(enqueued ns, id)`) processed per
    /// (producer, group).
    last_in_group: std::collections::HashMap<u64, (u64, u64)>,
}

/// A started invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Invocation {
    /// How long it runs (up to the timeout).
    pub(crate) runs_for: SimDuration,
    /// It was stopped by the timeout.
    pub(crate) timed_out: bool,
    /// It paid a cold start.
    pub(crate) cold: bool,
}

impl LambdaFn {
    /// A function with no environments yet.
    pub(crate) fn new(spec: LambdaSpec, rng: SimRng) -> Self {
        let reserved = spec.reserved_concurrency;
        // 2^128 draws ahead of `rng`: a sequence of its own.
        let mut invoke_rng = rng.clone();
        invoke_rng.jump();
        LambdaFn {
            spec,
            rng,
            invoke_rng,
            idle: VecDeque::new(),
            running: 0,
            reserved,
            stats: LambdaStats::default(),
            accounted_at: SimTime::ZERO,
            last_in_group: std::collections::HashMap::new(),
        }
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

    fn account(&mut self, now: SimTime) {
        self.stats.concurrency_ns += (now - self.accounted_at).0 as u128 * self.running as u128;
        self.accounted_at = now;
    }

    /// Starts an invocation of `records` records at `now` if concurrency allows; the
    /// account's unreserved pool is `pool` (decremented for functions without a
    /// reservation). Returns `None` when throttled.
    pub(crate) fn start(
        &mut self,
        now: SimTime,
        records: u32,
        pool: &mut u32,
    ) -> Option<Invocation> {
        let allowed = match self.reserved {
            Some(r) => self.running < r,
            None => *pool > 0,
        };
        if !allowed {
            self.stats.throttles += 1;
            return None;
        }
        if self.reserved.is_none() {
            *pool -= 1;
        }
        self.account(now);
        self.running += 1;
        self.stats.concurrency_max = self.stats.concurrency_max.max(self.running);
        // Reclaim environments idle for too long (the oldest are at the front).
        while self
            .idle
            .front()
            .is_some_and(|t| now >= *t + self.spec.idle_timeout)
        {
            self.idle.pop_front();
        }
        let cold = self.idle.pop_back().is_none();
        let mut d = self.spec.duration.sample(&mut self.rng);
        if !self.spec.per_record.is_zero() {
            for _ in 0..records {
                d = d + self.spec.per_record.sample(&mut self.rng);
            }
        }
        if cold {
            self.stats.cold_starts += 1;
            d = d + self.spec.cold_start.sample(&mut self.rng);
        }
        let timed_out = d > self.spec.timeout;
        let runs_for = if timed_out { self.spec.timeout } else { d };
        self.stats.invocations += 1;
        if timed_out {
            self.stats.timeouts += 1;
        }
        Some(Invocation {
            runs_for,
            timed_out,
            cold,
        })
    }

    /// Ends an invocation that ran for `ran`; returns its concurrency to the pool.
    pub(crate) fn finish(
        &mut self,
        now: SimTime,
        ran: SimDuration,
        pool: &mut u32,
        measured: bool,
    ) {
        self.account(now);
        self.running -= 1;
        if self.reserved.is_none() {
            *pool += 1;
        }
        self.idle.push_back(now);
        if measured {
            self.stats.billed_ms += ran.0.div_ceil(1_000_000) as u128;
            self.stats.duration.record(ran);
        }
    }

    /// Whether one record fails.
    pub(crate) fn record_fails(&mut self) -> bool {
        self.spec.failure_probability > 0.0
            && self.rng.random::<f64>() < self.spec.failure_probability
    }

    /// GB-seconds billed so far.
    pub(crate) fn gb_seconds(&self) -> f64 {
        self.stats.billed_ms as f64 / 1000.0 * self.spec.memory_mb as f64 / 1024.0
    }

    /// Resets counters at the end of the warm-up.
    pub(crate) fn reset_stats(&mut self, now: SimTime) {
        self.stats = LambdaStats {
            concurrency_max: self.running,
            ..LambdaStats::default()
        };
        self.accounted_at = now;
    }

    /// Brings the concurrency integral up to `now` (end of run).
    pub(crate) fn close(&mut self, now: SimTime) {
        self.account(now);
    }

    /// The component report over a window of `window_s` seconds.
    pub(crate) fn report(&self, window_s: f64) -> ComponentReport {
        let s = &self.stats;
        let mean_conc = if window_s > 0.0 {
            s.concurrency_ns as f64 / 1e9 / window_s
        } else {
            0.0
        };
        let mut r = ComponentReport::new("lambda", &self.spec.name);
        r.text(
            "architecture",
            if self.spec.arch == Arch::Arm {
                "arm64"
            } else {
                "x86_64"
            },
        )
        .count("memory_mb", self.spec.memory_mb as u64)
        .count("invocations", s.invocations)
        .count("processed", s.processed)
        .count("failed", s.failed)
        .count("failed_invocations", s.failed_invocations)
        .count("timeouts", s.timeouts)
        .count("throttles", s.throttles)
        .count("cold_starts", s.cold_starts)
        .count("duplicates", s.duplicates)
        .count("receives", s.receives)
        .count("order_violations", s.order_violations)
        .count("concurrency_max", s.concurrency_max as u64)
        .real("concurrency_mean", mean_conc)
        .count("pollers_max", s.pollers_max as u64)
        .real(
            "utilization",
            match self.reserved {
                Some(r) if r > 0 => mean_conc / r as f64,
                _ => 0.0,
            },
        )
        .real("billed_s", s.billed_ms as f64 / 1000.0)
        .real("gb_seconds", self.gb_seconds())
        .latency("duration_s", &s.duration)
        .latency("wait_s", &s.wait)
        .latency("latency_s", &s.latency)
        .headline(&[
            "invocations",
            "processed",
            "failed",
            "throttles",
            "cold_starts",
            "concurrency_max",
            "wait_s",
            "latency_s",
        ]);
        r
    }
}

/// What a mapping poller is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PollerState {
    /// Not running (scaled in).
    Off,
    /// A receive call in progress.
    Receiving,
    /// Long-polling.
    Waiting,
    /// Waiting for its batching window to close or a retry back-off.
    Holding,
    /// The function is running on its batch.
    Invoking,
    /// Deleting the batch.
    Deleting,
}

/// One poller of an SQS event source mapping.
#[derive(Clone, Debug)]
pub(crate) struct Poller {
    /// State.
    pub(crate) state: PollerState,
    /// Generation (stale events carry an older one).
    pub(crate) gen: u32,
    /// Poller id at the queue.
    pub(crate) poller: u32,
    /// The batch being gathered or processed.
    pub(crate) batch: Vec<Handle>,
    /// Payload of `batch`, bytes.
    pub(crate) payload: u64,
    /// Time the first message of the batch arrived.
    pub(crate) batch_since: SimTime,
    /// Latency of the API call in progress.
    pub(crate) leg: SimDuration,
    /// Current long-poll number.
    pub(crate) wait_seq: u32,
    /// The invocation running on the batch.
    pub(crate) inv: Option<Invocation>,
    /// Throttled invoke attempts in a row (for the back-off).
    pub(crate) throttled: u32,
}

/// The SQS event source mapping of a function.
pub(crate) struct SqsMapping {
    /// Source queue.
    pub(crate) queue: u32,
    /// Pollers started so far, grown one at a time as the mapping scales up (never sized
    /// for `max_pollers` in advance: a `[limits]` override of billions would allocate them
    /// all at once).
    pub(crate) pollers: Vec<Poller>,
    /// Pollers running now.
    pub(crate) active: u32,
    /// Most pollers allowed.
    pub(crate) max_pollers: u32,
    /// Fewest pollers kept.
    pub(crate) min_pollers: u32,
    /// Pollers added per scaling step while messages wait.
    pub(crate) step: u32,
}

impl SqsMapping {
    /// A mapping of `queue` with none of its pollers created yet: `initial` start at once,
    /// and at most `max_pollers` ever run.
    pub(crate) fn new(queue: u32, max_pollers: u32, initial: u32, step: u32) -> Self {
        SqsMapping {
            queue,
            pollers: Vec::new(),
            active: 0,
            max_pollers,
            min_pollers: initial.min(max_pollers),
            step,
        }
    }

    /// A new poller that is off, known to its queue by `poller`.
    pub(crate) fn add_poller(&mut self, poller: u32) {
        self.pollers.push(Poller {
            state: PollerState::Off,
            gen: 0,
            poller,
            batch: Vec::new(),
            payload: 0,
            batch_since: SimTime::ZERO,
            leg: SimDuration::ZERO,
            wait_seq: 0,
            inv: None,
            throttled: 0,
        });
    }
}

/// Back-off before retrying a throttled invoke: 1 s, doubling to at most 20 s, with full
/// jitter (the SDK's policy shape; Lambda does not document the mapping's own).
pub(crate) fn throttle_backoff(attempt: u32, rng: &mut SimRng) -> SimDuration {
    let cap = (1u64 << attempt.min(5)).min(20) as f64;
    SimDuration::from_secs_f64(cap * (0.5 + 0.5 * rng.random::<f64>()))
}
