//! The engine: builds the components of an [`Architecture`], runs them on the kernel's
//! event queue and produces the run's summary, time series and usage.
//!
//! Components live in `Vec`s and are addressed by index; an `Event` is a small `Copy`
//! enum of indices (16 bytes), so the hot loop neither allocates nor dispatches
//! dynamically. API calls take their latency in two legs (request, response); with zero
//! latency the engine calls the next step directly instead of scheduling an event.

mod insight;
mod schema;
mod summary;

pub use summary::{InsightSummary, RunSummary};

pub(crate) use crate::services::kinesis::engine::StreamOp;

use crate::message::{Loc, MessageStore};
use crate::metrics::{Accounting, TimeSeries};
use crate::model::Architecture;
use crate::pricing::{self, BillOptions, PriceTable, PricingError};
use crate::producers::Producer;
use crate::services::lambda::function::{LambdaFn, SqsMapping};
use crate::services::sqs::bill::SqsUsage;
use crate::services::sqs::queue::TimerEffect;
use crate::services::sqs::SqsQueue;
use crate::services::Usage;
use crate::sim::{EventQueue, SimDuration, SimTime};
use crate::workers::{WorkerPool, WorkerState};
use std::time::Instant;

/// A kernel event. Every variant carries component indices only.
///
/// One flat enum, grouped by service, rather than one enum per service wrapped in this
/// one: a wrapped event is 20 bytes instead of 16 (the outer tag cannot share the inner
/// one when several variants carry data), which makes a pending entry of the event queue
/// 48 bytes instead of 32 (its `u128` key aligns it to 16). Measured with the queue's
/// 4-ary heap on this project's 2-core machine: 10–25% fewer hold operations per second
/// with 10^3 pending events. Dispatch is one `match` calling each service's named `on_*`
/// handlers, which live in the service's `engine*.rs` files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// End of the warm-up: statistics restart.
    WarmupEnd,
    /// Record a time-series row.
    Sample,
    /// Producer `p` creates a message.
    Arrival { p: u32 },
    /// Producer `p`'s partial batch waited long enough.
    Linger { p: u32, gen: u32 },
    /// A send call of producer `p` reaches its target.
    SendArrive { p: u32, call: u32 },
    /// Producer `p` has the response of a call (it may start a waiting one).
    SendDone { p: u32 },
    /// A send call of producer `p` is retried.
    SendRetry { p: u32, call: u32 },
    /// Producer `p` sends message `slot` a second time.
    Resend { p: u32, slot: u32 },
    /// Queue `q`'s timer (delays, visibility, long-poll waits).
    QueueTimer { q: u32, gen: u32 },
    /// Move one message of dead-letter queue `q` back to its source.
    Redrive { q: u32 },
    /// Worker `w` of pool `c`: its receive call reaches the queue.
    RecvArrive { c: u32, w: u32, gen: u32 },
    /// Worker `w` of pool `c`: its one pending long-poll timeout (see `Worker::timer_at`).
    PollTimeout { c: u32, w: u32 },
    /// Worker `w` of pool `c`: its receive call returns.
    RecvReturn { c: u32, w: u32, gen: u32 },
    /// Worker `w` of pool `c` finished processing a message.
    ProcessDone { c: u32, w: u32, gen: u32 },
    /// Worker `w` of pool `c`: its delete call reaches the queue.
    DeleteArrive { c: u32, w: u32, gen: u32 },
    /// Worker `w` of pool `c` goes on (after a delete, a pause or a back-off).
    Resume { c: u32, w: u32, gen: u32 },
    /// Worker `w` of pool `c` extends the visibility of its messages.
    Heartbeat { c: u32, w: u32, gen: u32 },
    /// Pool `c` evaluates its scaling policy.
    Autoscale { c: u32 },
    /// Worker `w` of pool `c` finished warming up.
    WorkerOn { c: u32, w: u32, gen: u32 },
    /// SQS event source mappings adjust their pollers (every second).
    LambdaScale,
    /// Poller `p` of function `l`'s mapping: its receive reaches the queue.
    LambdaRecvArrive { l: u32, p: u32, gen: u32 },
    /// Poller `p` of function `l`'s mapping: its receive returns.
    LambdaRecvReturn { l: u32, p: u32, gen: u32 },
    /// Poller `p` of function `l`'s mapping: long poll number `seq` timed out.
    LambdaPollTimeout { l: u32, p: u32, seq: u32 },
    /// Poller `p` of function `l`'s mapping: a back-off or delete ended.
    LambdaHold { l: u32, p: u32, gen: u32 },
    /// The invocation of poller `p`'s batch ended.
    LambdaInvokeDone { l: u32, p: u32, gen: u32 },
    /// Poller `p`'s delete calls reach the queue.
    LambdaDeleteArrive { l: u32, p: u32, gen: u32 },
    /// Kinesis: PutRecords call `call` of producer `p` reaches its stream.
    PutArrive { p: u32, call: u32 },
    /// Kinesis: producer `p` retries the failed records of call `call`.
    PutRetry { p: u32, call: u32 },
    /// Kinesis: producer `p`'s partial PutRecords batch waited long enough.
    PutLinger { p: u32, gen: u32 },
    /// Kinesis: producer `p`'s KPL aggregates may have waited `max_buffered`.
    AggFlush { p: u32 },
    /// Kinesis: the lease of stream consumer `r` on shard `s` goes on.
    Lease { r: u32, s: u32, gen: u32 },
    /// Kinesis: a timer of stream `st`.
    StreamTimer { st: u32, op: StreamOp },
    /// Kinesis: stream consumer `r` goes down (`start`) or comes back.
    ReaderOutage { r: u32, start: bool },
    /// Fault `f` starts or ends.
    Fault { f: u32, start: bool },
    /// Kinesis: the poller of Lambda mapping `m` on shard `s` goes on.
    EsmPoll { m: u32, s: u32 },
    /// Kinesis: lane `sl & 15` of Lambda mapping `m` on shard `sl >> 4` goes on.
    EsmLane { m: u32, sl: u32 },
    /// SNS: Publish/PublishBatch call `call` of producer `p` reaches its topic.
    PublishArrive { p: u32, call: u32 },
    /// SNS: the timer of subscription `s` (due delivery attempts).
    SubTimer { s: u32, gen: u32 },
    /// SNS → Lambda: asynchronous invocation `i` of function `l` ended.
    AsyncDone { l: u32, i: u32 },
    /// SNS → Lambda: the timer of function `l`'s asynchronous event queue.
    AsyncTimer { l: u32, gen: u32 },
    /// Firehose: PutRecordBatch call `call` of producer `p` reaches its delivery stream.
    FhPutArrive { p: u32, call: u32 },
    /// Firehose: producer `p` retries the refused records of call `call`.
    FhPutRetry { p: u32, call: u32 },
    /// Firehose: producer `p`'s partial PutRecordBatch batch waited long enough.
    FhLinger { p: u32, gen: u32 },
    /// Firehose: the interval of buffer `b` of delivery stream `f` is up.
    FhBufferTimer { f: u32, b: u32, gen: u32 },
    /// Firehose: the interval of delivery stream `f`'s transformation buffer is up.
    FhTransformTimer { f: u32, gen: u32 },
    /// Firehose: invocation `i` of delivery stream `f`'s transformation ended.
    FhInvokeDone { f: u32, i: u32 },
    /// Firehose: an attempt of delivery `d` of delivery stream `f` ended.
    FhDeliveryDone { f: u32, d: u32 },
    /// Firehose: delivery `d` of delivery stream `f` is retried.
    FhDeliveryRetry { f: u32, d: u32 },
    /// Batch job `j`: a scheduled start.
    BatchStart { j: u32 },
    /// Batch job `j`: its run ends.
    BatchEnd { j: u32 },
    /// Flink: application `f` triggers a checkpoint (timer generation `gen`).
    FlinkCheckpoint { f: u32, gen: u32 },
    /// Flink: application `f`'s checkpoint in progress completes.
    FlinkCheckpointDone { f: u32, gen: u32 },
    /// Flink: application `f` fails (`random`: drawn from its MTBF, which draws the next).
    FlinkFail { f: u32, random: bool },
    /// Flink: application `f` runs again after a failure or a rescale.
    FlinkRestart { f: u32, gen: u32 },
    /// Flink: a minute of application `f` (CPU data point, autoscaling).
    FlinkMinute { f: u32 },
    /// Flink: a processing-time window of application `f` ends.
    FlinkTimer { f: u32 },
    /// Flink: results in slot `i` of application `f` reach its sink.
    FlinkEmit { f: u32, i: u32 },
}

// Events stay small: component indices only.
const _: () = assert!(std::mem::size_of::<Event>() <= 16);

/// Who owns a poller id of a queue.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Owner {
    /// Worker `w` of pool `c`.
    Worker { c: u32, w: u32 },
    /// Poller `p` of function `l`'s event source mapping.
    Lambda { l: u32, p: u32 },
}

/// A failed run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The price table cannot be used (bad input: exit code 2).
    #[error(transparent)]
    Pricing(#[from] PricingError),
}

/// Everything a run produces.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The summary (the `--json` document).
    pub summary: RunSummary,
    /// Sampled time series.
    pub series: TimeSeries,
    /// Billable usage over the measured window.
    pub usage: Usage,
}

/// Runs `arch` with `seed`.
pub fn run(arch: &Architecture, seed: u64) -> Result<RunOutput, RunError> {
    let table = PriceTable::resolve(&arch.prices, &arch.base_dir)?;
    let wall = Instant::now();
    // The architecture as far as the run got, if it stopped at its memory budget.
    let short: Architecture;
    let full = arch.horizon();
    let mut e = Engine::new(arch, seed);
    e.start();
    let stopped = e.run_loop();
    let mut over_budget = None;
    if let Some(t) = stopped {
        over_budget = Some((t, e.footprint()));
        let mut a = arch.clone();
        let ran = t - SimTime::ZERO;
        if t > e.measure_from {
            a.duration = ran - arch.warmup;
        } else {
            // The warm-up never ended: the counters cover the whole run so far.
            a.warmup = SimDuration::ZERO;
            a.duration = ran.max(SimDuration(1));
            e.measure_from = SimTime::ZERO;
        }
        short = a;
        e.arch = &short;
        e.horizon = t;
    }
    e.finish();
    let arch = e.arch;
    let window_s = arch.duration.as_secs_f64();
    let usage = e.usage(window_s);
    let cost = crate::services::bill(&usage, &table, BillOptions::default())?;
    let mut summary = e.summary(seed, cost);
    summary.wall_s = wall.elapsed().as_secs_f64();
    if let Some((t, bytes)) = over_budget {
        summary.ok = false;
        summary.stopped_s = Some((t - SimTime::ZERO).as_secs_f64());
        summary.warnings.push(format!(
            "the run stopped at {} of {}: its messages and pending events took {} MiB, over its memory budget of {} MiB (raise it with memory_budget = \"8GiB\" in the model, or --set memory_budget=8GiB); the results and the bill cover the {} simulated",
            crate::text::fmt_duration(t - SimTime::ZERO),
            full,
            bytes >> 20,
            arch.memory_budget >> 20,
            crate::text::fmt_duration(arch.duration)
        ));
    }
    Ok(RunOutput {
        summary,
        series: e.series,
        usage,
    })
}

pub(crate) struct Engine<'a> {
    pub(crate) arch: &'a Architecture,
    pub(crate) now: SimTime,
    pub(crate) horizon: SimTime,
    pub(crate) measure_from: SimTime,
    pub(crate) events: EventQueue<Event>,
    pub(crate) msgs: MessageStore,
    pub(crate) producers: Vec<Producer>,
    pub(crate) queues: Vec<SqsQueue>,
    pub(crate) pools: Vec<WorkerPool>,
    pub(crate) lambdas: Vec<LambdaFn>,
    /// SQS event source mapping of each function (by function index), if it has one.
    pub(crate) mappings: Vec<Option<SqsMapping>>,
    /// Free units of the account's unreserved concurrency.
    pub(crate) account_pool: u32,
    /// `owners[q][poller]`.
    pub(crate) owners: Vec<Vec<Owner>>,
    pub(crate) next_id: u64,
    pub(crate) events_done: u64,
    pub(crate) effects: Vec<TimerEffect>,
    pub(crate) kin: crate::services::kinesis::engine::Kinesis,
    pub(crate) sns: crate::services::sns::engine::Sns,
    pub(crate) fh: crate::services::firehose::engine::Firehose,
    /// Batch jobs.
    pub(crate) batch: Vec<crate::batch::engine::BatchJob>,
    /// Time to insight and value delivered, per end point.
    pub(crate) insight: insight::Insights,
    pub(crate) flink: crate::services::flink::engine::Flink,
    pub(crate) video: crate::services::video::engine::Video,
    pub(crate) faults: crate::faults::engine::Faults,
    pub(crate) series: TimeSeries,
    last_counts: Vec<u64>,
    /// Per rate column: what was counted between the last sample and the warm-up reset,
    /// added to the next sample's count.
    rate_carry: Vec<u64>,
    row: Vec<f64>,
    pub(crate) sample_every: SimDuration,
}

/// The time-series columns of the components sampled by [`Engine::on_sample`], in its
/// order (Kinesis and SNS add their own after these).
fn sampled_columns(arch: &Architecture) -> Vec<String> {
    let mut columns = Vec::new();
    for p in &arch.producers {
        columns.push(format!("producer.{}.sent_per_s", p.name));
    }
    for q in &arch.queues {
        for m in ["backlog", "in_flight", "age_of_oldest_s", "received_per_s"] {
            columns.push(format!("queue.{}.{m}", q.name));
        }
    }
    for c in &arch.consumers {
        for m in ["workers", "busy", "processed_per_s", "latency_p99_s"] {
            columns.push(format!("consumer.{}.{m}", c.name));
        }
    }
    for l in &arch.lambdas {
        for m in ["concurrency", "pollers", "processed_per_s"] {
            columns.push(format!("lambda.{}.{m}", l.name));
        }
    }
    columns
}

/// What cumulative counter column `i` counted since the last sample (now `total`); a
/// counter that restarted (the warm-up's reset) reads as its new count.
#[inline]
pub(crate) fn counter_delta(counts: &mut [u64], i: usize, total: u64) -> u64 {
    let prev = std::mem::replace(&mut counts[i], total);
    if total >= prev {
        total - prev
    } else {
        total
    }
}

/// The per-second rate of counter column `i` over a sample interval of `dt` seconds (0 at
/// the first sample, `first`).
#[inline]
pub(crate) fn sample_rate(counts: &mut [u64], i: usize, total: u64, dt: f64, first: bool) -> f64 {
    let d = counter_delta(counts, i, total);
    if first {
        0.0
    } else {
        d as f64 / dt
    }
}

impl<'a> Engine<'a> {
    fn new(arch: &'a Architecture, seed: u64) -> Self {
        let mut queues = crate::services::sqs::engine::queues(arch, seed);
        let mut owners: Vec<Vec<Owner>> = vec![Vec::new(); queues.len()];
        let pools = crate::workers::engine::pools(arch, seed, &mut queues, &mut owners);
        let (lambdas, mappings) = crate::services::lambda::engine_sqs::functions(arch, seed);
        let account_pool = crate::services::lambda::engine_sqs::unreserved_concurrency(arch);
        let producers = crate::producers::engine::producers(arch, seed);
        let mut columns = sampled_columns(arch);
        let kin = crate::services::kinesis::engine::Kinesis::new(arch, seed);
        columns.extend(kin.columns(arch));
        let sns = crate::services::sns::engine::Sns::new(arch, seed);
        columns.extend(crate::services::sns::engine::Sns::columns(arch));
        let fh = crate::services::firehose::engine::Firehose::new(arch, seed);
        columns.extend(crate::services::firehose::engine::Firehose::columns(arch));
        let flink = crate::services::flink::engine::Flink::new(arch, seed);
        columns.extend(crate::services::flink::engine::Flink::columns(arch));
        let sample_every = arch.sample_interval();
        let video = crate::services::video::engine::Video::new(arch, seed, sample_every);
        columns.extend(crate::services::video::engine::Video::columns(arch));
        let width = columns.len();
        Engine {
            arch,
            now: SimTime::ZERO,
            horizon: SimTime::ZERO + arch.horizon(),
            measure_from: SimTime::ZERO + arch.warmup,
            events: EventQueue::with_capacity(1024),
            msgs: MessageStore::with_capacity(1024),
            producers,
            queues,
            pools,
            lambdas,
            mappings,
            account_pool,
            owners,
            next_id: 1,
            events_done: 0,
            effects: Vec::new(),
            sns,
            fh,
            batch: crate::batch::engine::jobs(arch, |j| {
                kin.slots
                    .iter()
                    .find_map(|s| {
                        s.iter().position(|r| {
                            *r == crate::services::kinesis::engine::ReaderRef::Batch(j)
                        })
                    })
                    .unwrap_or(usize::MAX)
            }),
            kin,
            insight: insight::Insights::new(arch),
            flink,
            video,
            faults: crate::faults::engine::Faults::new(arch, seed),
            series: TimeSeries::new(columns),
            last_counts: vec![0; width],
            rate_carry: vec![0; width],
            row: vec![0.0; width],
            sample_every: arch.sample_interval(),
        }
    }

    /// Schedules `ev` at `at` (never in the past).
    #[inline]
    pub(crate) fn at(&mut self, at: SimTime, ev: Event) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        self.events.schedule(at, ev);
    }

    fn start(&mut self) {
        if !self.arch.warmup.is_zero() {
            self.at(self.measure_from, Event::WarmupEnd);
        }
        self.at(SimTime::ZERO, Event::Sample);
        for p in 0..self.producers.len() {
            let prod = &mut self.producers[p];
            if let Some(t) = prod
                .spec
                .arrival
                .next(&mut prod.arrival, SimTime::ZERO, &mut prod.rng)
            {
                if t <= self.horizon {
                    self.at(t, Event::Arrival { p: p as u32 });
                }
            }
        }
        for (q, spec) in self.arch.queues.iter().enumerate() {
            if let Some(r) = spec.redrive {
                self.at(SimTime::ZERO + r.at, Event::Redrive { q: q as u32 });
            }
        }
        for c in 0..self.pools.len() {
            let spec = &self.arch.consumers[c];
            if let Some(a) = spec.autoscale {
                self.at(
                    SimTime::ZERO + a.evaluate_every,
                    Event::Autoscale { c: c as u32 },
                );
            }
            for w in 0..spec.workers {
                self.pools[c].workers[w as usize].state = WorkerState::Receiving;
                self.worker_receive(c as u32, w);
            }
        }
        self.start_mappings();
        self.kinesis_start();
        self.batch_start();
        self.flink_start();
        self.faults_start();
    }

    /// Processes events up to the horizon; stops early (returning the time) when the
    /// messages and pending events outgrow what the model's memory budget leaves beside
    /// its components, checked every 4,096 events.
    fn run_loop(&mut self) -> Option<SimTime> {
        let budget = usize::try_from(
            self.arch
                .memory_budget
                .saturating_sub(self.arch.components_bytes),
        )
        .unwrap_or(usize::MAX);
        while let Some((t, ev)) = self.events.pop_until(self.horizon) {
            self.now = t;
            self.events_done += 1;
            self.dispatch(ev);
            if self.events_done & 0xFFF == 0 && self.footprint() > budget {
                return Some(t);
            }
        }
        self.now = self.horizon;
        None
    }

    /// Bytes of the structures that grow with a backlog or a retry storm: the message
    /// slab and the pending events.
    fn footprint(&self) -> usize {
        self.msgs.footprint_bytes() + self.events.footprint_bytes()
    }

    #[inline]
    fn dispatch(&mut self, ev: Event) {
        match ev {
            Event::Arrival { p } => self.on_arrival(p),
            Event::ProcessDone { c, w, gen } => {
                if self.worker_gen(c, w) == gen {
                    self.on_process_done(c, w)
                }
            }
            Event::RecvArrive { c, w, gen } => {
                if self.worker_gen(c, w) == gen {
                    self.on_recv_arrive(c, w)
                }
            }
            Event::RecvReturn { c, w, gen } => {
                if self.worker_gen(c, w) == gen {
                    self.on_recv_return(c, w)
                }
            }
            Event::DeleteArrive { c, w, gen } => {
                if self.worker_gen(c, w) == gen {
                    self.on_delete_arrive(c, w)
                }
            }
            Event::Resume { c, w, gen } => {
                if self.worker_gen(c, w) == gen {
                    self.on_resume(c, w)
                }
            }
            Event::Heartbeat { c, w, gen } => self.on_heartbeat(c, w, gen),
            Event::PollTimeout { c, w } => self.on_poll_timeout(c, w),
            Event::SendArrive { p, call } => self.on_send_arrive(p, call),
            Event::SendRetry { p, call } => self.transmit(p, call),
            Event::SendDone { p } => self.on_send_done(p),
            Event::Resend { p, slot } => self.on_resend(p, slot),
            Event::Linger { p, gen } => {
                if self.producers[p as usize].linger_gen == gen
                    && !self.producers[p as usize].batch.is_empty()
                {
                    self.flush(p)
                }
            }
            Event::QueueTimer { q, gen } => self.on_queue_timer(q, gen),
            Event::Redrive { q } => self.on_redrive(q),
            Event::Autoscale { c } => self.on_autoscale(c),
            Event::WorkerOn { c, w, gen } => {
                if self.worker_gen(c, w) == gen
                    && self.pools[c as usize].workers[w as usize].state == WorkerState::Starting
                {
                    self.worker_receive(c, w)
                }
            }
            Event::LambdaScale => self.on_lambda_scale(),
            Event::LambdaRecvArrive { l, p, gen } => {
                if self.poller_gen(l, p) == gen {
                    self.on_lambda_recv_arrive(l, p)
                }
            }
            Event::LambdaRecvReturn { l, p, gen } => {
                if self.poller_gen(l, p) == gen {
                    self.on_lambda_recv_return(l, p)
                }
            }
            Event::LambdaPollTimeout { l, p, seq } => self.on_lambda_poll_timeout(l, p, seq),
            Event::LambdaHold { l, p, gen } => {
                if self.poller_gen(l, p) == gen {
                    self.on_lambda_hold(l, p)
                }
            }
            Event::LambdaInvokeDone { l, p, gen } => {
                if self.poller_gen(l, p) == gen {
                    self.on_lambda_invoke_done(l, p)
                }
            }
            Event::LambdaDeleteArrive { l, p, gen } => {
                if self.poller_gen(l, p) == gen {
                    self.on_lambda_delete_arrive(l, p)
                }
            }
            Event::Sample => self.on_sample(),
            Event::WarmupEnd => self.on_warmup_end(),
            Event::PutArrive { p, call } => self.on_put_arrive(p, call),
            Event::PutRetry { p, call } => self.put_transmit(p, call),
            Event::PutLinger { p, gen } => self.on_put_linger(p, gen),
            Event::AggFlush { p } => self.on_agg_flush(p),
            Event::Lease { r, s, gen } => self.on_lease(r, s, gen),
            Event::StreamTimer { st, op } => self.on_stream_timer(st, op),
            Event::ReaderOutage { r, start } => self.on_reader_outage(r, start),
            Event::Fault { f, start } => self.on_fault(f, start),
            Event::EsmPoll { m, s } => self.on_esm_poll(m, s),
            Event::EsmLane { m, sl } => self.on_esm_lane(m, sl),
            Event::PublishArrive { p, call } => self.on_publish_arrive(p, call),
            Event::SubTimer { s, gen } => self.on_sub_timer(s, gen),
            Event::AsyncDone { l, i } => self.on_async_done(l, i),
            Event::AsyncTimer { l, gen } => self.on_async_timer(l, gen),
            Event::FhPutArrive { p, call } => self.on_firehose_put_arrive(p, call),
            Event::FhPutRetry { p, call } => self.firehose_transmit(p, call),
            Event::FhLinger { p, gen } => self.on_firehose_linger(p, gen),
            Event::FhBufferTimer { f, b, gen } => self.on_firehose_buffer_timer(f, b, gen),
            Event::FhTransformTimer { f, gen } => self.on_firehose_transform_timer(f, gen),
            Event::FhInvokeDone { f, i } => self.on_firehose_invoke_done(f, i),
            Event::FhDeliveryDone { f, d } => self.on_firehose_delivery_done(f, d),
            Event::FhDeliveryRetry { f, d } => self.on_firehose_delivery_retry(f, d),
            Event::BatchStart { j } => self.on_batch_start(j),
            Event::BatchEnd { j } => self.on_batch_end(j),
            Event::FlinkCheckpoint { f, gen } => self.on_flink_checkpoint(f, gen),
            Event::FlinkCheckpointDone { f, gen } => self.on_flink_checkpoint_done(f, gen),
            Event::FlinkFail { f, random } => self.on_flink_fail(f, random),
            Event::FlinkRestart { f, gen } => self.on_flink_restart(f, gen),
            Event::FlinkMinute { f } => self.on_flink_minute(f),
            Event::FlinkTimer { f } => self.on_flink_timer(f),
            Event::FlinkEmit { f, i } => self.on_flink_emit(f, i),
        }
    }

    #[inline]
    fn poller_gen(&self, l: u32, p: u32) -> u32 {
        match &self.mappings[l as usize] {
            Some(m) => m.pollers[p as usize].gen,
            None => u32::MAX,
        }
    }

    #[inline]
    fn worker_gen(&self, c: u32, w: u32) -> u32 {
        self.pools[c as usize].workers[w as usize].gen
    }

    fn on_warmup_end(&mut self) {
        let now = self.now;
        self.carry_rates_over_reset();
        for p in &mut self.producers {
            p.reset_stats();
        }
        for q in &mut self.queues {
            q.reset_stats();
        }
        for pool in &mut self.pools {
            pool.account(now);
            pool.reset_stats(now);
        }
        for (f, m) in self.lambdas.iter_mut().zip(&self.mappings) {
            f.reset_stats(now);
            // Maxima restart from the present: the pollers running now.
            f.stats.pollers_max = m.as_ref().map_or(0, |m| m.active);
        }
        self.kinesis_warmup_end();
        self.sns_warmup_end();
        self.firehose_warmup_end();
        self.insight.reset();
        self.batch_warmup_end();
        self.flink_warmup_end();
        self.faults_warmup_end();
    }

    /// The counters are about to restart (end of the warm-up): the rate columns of this
    /// module (the layout of [`Engine::on_sample`]) keep what was counted since the last
    /// sample in `rate_carry` and restart their baseline at zero, so the sample after the
    /// reset reads the whole interval.
    fn carry_rates_over_reset(&mut self) {
        let counts = &mut self.last_counts;
        let carry = &mut self.rate_carry;
        let mut fold = |i: usize, total: u64| {
            carry[i] = total.saturating_sub(counts[i]);
            counts[i] = 0;
        };
        let mut i = 0;
        for p in &self.producers {
            fold(i, p.stats.generated);
            i += 1;
        }
        for q in &self.queues {
            fold(i + 3, q.stats.received);
            i += 4;
        }
        for pool in &self.pools {
            fold(i + 2, pool.stats.processed);
            i += 4;
        }
        for f in &self.lambdas {
            fold(i + 2, f.stats.processed);
            i += 3;
        }
    }

    fn on_sample(&mut self) {
        let now = self.now;
        let dt = self.sample_every.as_secs_f64();
        let mut i = 0;
        let mut counts = std::mem::take(&mut self.last_counts);
        let mut row = std::mem::take(&mut self.row);
        let carry = &mut self.rate_carry;
        // Rates are computed from cumulative counters that restart at the end of the
        // warm-up; what was counted before the reset comes from `rate_carry`
        // ([`Engine::carry_rates_over_reset`]). A column without a carry shows a reset as
        // a negative difference, clamped to the new count.
        let mut rate = |i: usize, total: u64, counts: &mut Vec<u64>| {
            let d = counter_delta(counts, i, total) + std::mem::take(&mut carry[i]);
            if now == SimTime::ZERO {
                0.0
            } else {
                d as f64 / dt
            }
        };
        for p in &self.producers {
            row[i] = rate(i, p.stats.generated, &mut counts);
            i += 1;
        }
        for q in 0..self.queues.len() {
            let age = self.queues[q].sample_age(now, &self.msgs).as_secs_f64();
            let queue = &self.queues[q];
            row[i] = queue.backlog() as f64;
            row[i + 1] = queue.inflight_len() as f64;
            row[i + 2] = age;
            row[i + 3] = rate(i + 3, queue.stats.received, &mut counts);
            i += 4;
        }
        for pool in &mut self.pools {
            row[i] = pool.active as f64;
            row[i + 1] = pool.busy as f64;
            row[i + 2] = rate(i + 2, pool.stats.processed, &mut counts);
            // The p99 latency of the messages processed since the last sample (NaN when
            // none was).
            row[i + 3] = pool.interval.take_quantile_s(0.99);
            i += 4;
        }
        for (l, f) in self.lambdas.iter().enumerate() {
            row[i] = f.running as f64;
            row[i + 1] = self.mappings[l].as_ref().map(|m| m.active).unwrap_or(0) as f64;
            row[i + 2] = rate(i + 2, f.stats.processed, &mut counts);
            i += 3;
        }
        let i = self.kinesis_sample(&mut row, &mut counts, i);
        let i = self.sns_sample(&mut row, &mut counts, i);
        let i = self.firehose_sample(&mut row, &mut counts, i);
        let i = self.flink_sample(&mut row, &mut counts, i);
        self.video_sample(&mut row, i);
        self.series.push(now.as_secs_f64(), &row);
        self.last_counts = counts;
        self.row = row;
        let next = now + self.sample_every;
        if next <= self.horizon {
            self.at(next, Event::Sample);
        }
        self.faults_sample();
    }

    fn finish(&mut self) {
        let now = self.horizon;
        let since = self.measure_from;
        for pool in &mut self.pools {
            pool.account(now);
            for w in 0..pool.workers.len() {
                if pool.workers[w].state == WorkerState::Processing {
                    let start = pool.workers[w].busy_since.max(since);
                    pool.stats.busy_ns += (now - start).0 as u128;
                }
            }
        }
        for q in 0..self.queues.len() {
            self.queues[q].sample_age(now, &self.msgs);
            self.queues[q].expire_overdue(now, &mut self.msgs);
        }
        for f in &mut self.lambdas {
            f.close(now);
        }
        self.kinesis_finish();
        self.flink_finish();
        self.faults_finish();
    }

    fn accounting(&self) -> Accounting {
        let l = &self.msgs.ledger;
        let mut a = Accounting {
            produced: l.produced,
            copies: l.copies,
            processed: l.processed,
            expired: l.expired,
            filtered_out: l.filtered_out,
            dropped: l.dropped,
            deduplicated: l.deduplicated,
            lost: l.lost,
            backed_up: l.backed_up,
            denied: l.denied,
            ..Accounting::default()
        };
        for (_, m) in self.msgs.iter_live() {
            match m.loc {
                Loc::Transit => a.in_transit += 1,
                Loc::InFlight => a.in_flight += 1,
                Loc::Visible | Loc::Delayed => {
                    if self
                        .arch
                        .queues
                        .get(m.home as usize)
                        .is_some_and(|q| q.is_dead_letter_queue)
                    {
                        a.dead_lettered += 1;
                    } else {
                        a.waiting += 1;
                    }
                }
                Loc::Free => {}
            }
        }
        self.kinesis_census(&mut a);
        self.firehose_census(&mut a);
        self.video_census(&mut a);
        a
    }

    fn usage(&self, window_s: f64) -> Usage {
        let (firehose, s3, transforms) = self.firehose_usage();
        let mut usage = Usage {
            window_s,
            sqs: self
                .queues
                .iter()
                .map(|q| SqsUsage {
                    name: q.spec.name.clone(),
                    fifo: q.spec.fifo,
                    requests: q.stats.api_requests,
                    empty_receives: q.stats.empty_receives,
                })
                .collect(),
            kinesis: self
                .kinesis_usage()
                .iter()
                .map(|k| k.to_pricing())
                .collect(),
            lambda: self
                .lambdas
                .iter()
                .map(|f| crate::services::lambda::bill::LambdaUsage {
                    name: f.spec.name.clone(),
                    architecture: match f.spec.arch {
                        crate::services::lambda::Arch::X86 => {
                            crate::services::lambda::bill::LambdaArch::X86_64
                        }
                        crate::services::lambda::Arch::Arm => {
                            crate::services::lambda::bill::LambdaArch::Arm64
                        }
                    },
                    requests: f.stats.invocations,
                    extra_requests: f.stats.extra_requests,
                    gb_seconds: f.gb_seconds(),
                })
                .collect(),
            sns: self.sns_usage(),
            firehose,
            s3,
            flink: self.flink_usage(),
            video: self.video_usage(),
            batch: self.batch_usage(),
        };
        usage.lambda.extend(transforms);
        usage
    }

    fn summary(&self, seed: u64, cost: pricing::Bill) -> RunSummary {
        let window_s = self.arch.duration.as_secs_f64();
        let mut components = Vec::new();
        for p in &self.producers {
            let mut r = p.report(window_s);
            r.text("target", &self.target_text(p.spec.target));
            components.push(r);
        }
        components.extend(self.sns_reports());
        for q in &self.queues {
            components.push(q.report());
        }
        components.extend(self.stream_reports());
        for pool in &self.pools {
            components.push(pool.report());
        }
        components.extend(self.firehose_reports());
        components.extend(self.flink_reports());
        components.extend(self.video_reports());
        components.extend(self.stream_consumer_reports());
        components.extend(self.batch_reports());
        components.extend(self.fault_reports());
        for f in &self.lambdas {
            components.push(f.report(window_s));
        }
        self.patch_lambda_reports(&mut components);
        self.sns_patch_lambda_reports(&mut components);
        let valued = self.arch.values.any();
        self.insight.patch_reports(&mut components, valued);
        let insight = self.insight.summary(window_s, &cost, valued);
        let accounting = self.accounting();
        let mut warnings = self.arch.warnings.clone();
        if !accounting.balanced() {
            warnings.push(format!(
                "message accounting does not balance: {} created, {} accounted for (this is a bug in aqueduct; please report it)",
                accounting.produced + accounting.copies,
                accounting.accounted()
            ));
        }
        let overdue = self.overdue_in_queues();
        if overdue > 0 {
            warnings.push(format!(
                "{overdue} messages are still in flight or delayed after their deadline passed (a queue timer stalled: this is a bug in aqueduct; please report it)"
            ));
        }
        for q in self
            .queues
            .iter()
            .filter(|q| q.stats.rejected_too_large > 0)
        {
            warnings.push(format!(
                "queue \"{}\" refused {} messages larger than its maximum message size ({} bytes): they were dropped (the producers' `rejected`)",
                q.spec.name, q.stats.rejected_too_large, q.spec.max_message_size
            ));
        }
        for p in &self.arch.producers {
            if let crate::load::Arrival::Diurnal { period_ns, .. } = &p.arrival {
                let d = self.arch.duration.0;
                if d % period_ns != 0 {
                    warnings.push(format!(
                        "producer \"{}\" has a diurnal load with period {} but the measured window is {}: the monthly bill extrapolates a partial cycle; simulate whole periods for a representative month",
                        p.name,
                        SimDuration(*period_ns),
                        self.arch.duration
                    ));
                }
            }
            let (from, to) = (self.measure_from.0, self.horizon.0);
            if let Some((window, long_run)) = p.arrival.window_and_long_run_rates(from, to) {
                if (window - long_run).abs() > 0.01 * long_run.max(f64::MIN_POSITIVE) {
                    warnings.push(format!(
                        "producer \"{}\" has a load that averages {:.2}/s over the measured window but {:.2}/s in the long run (its whole cycles, or its last step for ever): the monthly bill repeats the window as it is, all month; simulate whole cycles (`repeat_every` makes steps repeat) for a representative month",
                        p.name, window, long_run
                    ));
                }
            }
        }
        RunSummary {
            aqueduct_version: env!("CARGO_PKG_VERSION").to_string(),
            model: self.arch.name.clone(),
            seed,
            simulated_s: window_s,
            warmup_s: self.arch.warmup.as_secs_f64(),
            events: self.events_done,
            wall_s: 0.0,
            components,
            accounting,
            cost,
            insight,
            warnings,
            ok: accounting.balanced(),
            stopped_s: None,
            metrics: std::collections::BTreeMap::new(),
        }
    }
}
