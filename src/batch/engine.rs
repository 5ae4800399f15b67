//! Batch jobs in a run: scheduled starts, reading the store, the run's end with its
//! records' results, overruns, report and bill lines (see `crate::batch`).

use super::{BatchJobSpec, BatchStore};
use crate::engine::{Engine, Event};
use crate::message::Exit;
use crate::metrics::ComponentReport;
use crate::model::Architecture;
use crate::services::firehose::stream::Run;
use crate::services::kinesis::shard::Slice;
use crate::sim::SimTime;

/// Counters of a batch job (measured window: runs that started in it).
#[derive(Clone, Debug, Default)]
pub(crate) struct BatchStats {
    /// Runs started.
    pub(crate) runs: u64,
    /// Runs that ended.
    pub(crate) completed: u64,
    /// Scheduled starts that found the previous run still going.
    pub(crate) overruns: u64,
    /// Σ and max of the delays of delayed starts, ns.
    pub(crate) delay_ns: u128,
    /// Longest delay of a start, ns.
    pub(crate) delay_max_ns: u64,
    /// Records read.
    pub(crate) records: u64,
    /// Bytes read.
    pub(crate) bytes: u64,
    /// Σ run time, ns.
    pub(crate) run_ns: u128,
    /// Longest run, ns.
    pub(crate) run_max_ns: u64,
}

/// A batch job's state.
pub(crate) struct BatchJob {
    /// Its spec.
    pub(crate) spec: BatchJobSpec,
    /// Index of its next scheduled start.
    next_k: u64,
    /// A run is going.
    running: bool,
    /// A scheduled start the running run delayed (its time).
    delayed: Option<SimTime>,
    /// Reader slot on its Kinesis stream.
    kin_slot: usize,
    /// The run's SQS messages: (slot, id).
    msgs: Vec<(u32, u64)>,
    /// The run's Kinesis slices.
    slices: Vec<Slice>,
    /// The run's Firehose records.
    runs: Vec<Run>,
    /// Firehose records delivered to S3 since the last run started.
    landed: Vec<Run>,
    /// Counters.
    pub(crate) stats: BatchStats,
}

/// Builds the batch jobs of `arch`; `kin_slot(job)` is the reader slot a job on a Kinesis
/// stream holds.
pub(crate) fn jobs(arch: &Architecture, kin_slot: impl Fn(u32) -> usize) -> Vec<BatchJob> {
    arch.batch_jobs
        .iter()
        .enumerate()
        .map(|(j, spec)| BatchJob {
            spec: spec.clone(),
            next_k: 0,
            running: false,
            delayed: None,
            kin_slot: kin_slot(j as u32),
            msgs: Vec::new(),
            slices: Vec::new(),
            runs: Vec::new(),
            landed: Vec::new(),
            stats: BatchStats::default(),
        })
        .collect()
}

/// SQS messages per ReceiveMessage / DeleteMessageBatch call.
const SQS_BATCH: u64 = 10;

impl Engine<'_> {
    /// Schedules every job's first start.
    pub(crate) fn batch_start(&mut self) {
        for j in 0..self.batch.len() {
            self.batch_schedule_next(j as u32);
        }
    }

    fn batch_schedule_next(&mut self, j: u32) {
        let job = &mut self.batch[j as usize];
        let at = job.spec.slot(job.next_k);
        job.next_k += 1;
        if at <= self.horizon && at >= self.now {
            self.at(at, Event::BatchStart { j });
        }
    }

    /// A scheduled start of job `j`.
    pub(crate) fn on_batch_start(&mut self, j: u32) {
        self.batch_schedule_next(j);
        let now = self.now;
        let measured = now >= self.measure_from;
        let job = &mut self.batch[j as usize];
        if job.running {
            if measured {
                job.stats.overruns += 1;
            }
            job.delayed.get_or_insert(now);
            return;
        }
        self.batch_run(j);
    }

    /// Job `j` starts a run now: it takes what landed in its store before now.
    fn batch_run(&mut self, j: u32) {
        let now = self.now;
        let ji = j as usize;
        let (mut records, mut bytes) = (0u64, 0u64);
        match self.batch[ji].spec.store {
            BatchStore::Queue(q) => {
                let queue = &mut self.queues[q as usize];
                let held = &mut self.batch[ji].msgs;
                let mut payload = 0u64;
                while let Some(slot) = queue.take_for_redrive(now, &mut self.msgs) {
                    let m = self.msgs.get(slot);
                    held.push((slot, m.id));
                    records += 1;
                    bytes += m.size as u64;
                    payload += m.size as u64;
                    if records % SQS_BATCH == 0 {
                        queue.bill(payload);
                        queue.stats.receive_calls += 1;
                        payload = 0;
                    }
                }
                if records % SQS_BATCH != 0 {
                    queue.bill(payload);
                    queue.stats.receive_calls += 1;
                }
                queue.stats.received += records;
            }
            BatchStore::Stream(st) => {
                let slot = self.batch[ji].kin_slot;
                let held = &mut self.batch[ji].slices;
                for shard in &mut self.kin.streams[st as usize].shards {
                    let from = shard.cursors[slot].fetched.max(shard.head());
                    let got = shard.read(from, u64::MAX, u64::MAX, now, held);
                    shard.mark_fetched(slot, got.records);
                    records += got.records;
                    bytes += got.bytes;
                }
            }
            BatchStore::Firehose(_) => {
                let job = &mut self.batch[ji];
                std::mem::swap(&mut job.runs, &mut job.landed);
                for r in &job.runs {
                    records += r.count as u64;
                    bytes += r.bytes;
                }
            }
        }
        let job = &mut self.batch[ji];
        let d = job.spec.duration(records, bytes);
        job.running = true;
        if now >= self.measure_from {
            let s = &mut job.stats;
            s.runs += 1;
            s.records += records;
            s.bytes += bytes;
            s.run_ns += d.0 as u128;
            s.run_max_ns = s.run_max_ns.max(d.0);
        }
        self.at(now + d, Event::BatchEnd { j });
    }

    /// Job `j`'s run ends: its records have their results now.
    pub(crate) fn on_batch_end(&mut self, j: u32) {
        let now = self.now;
        let ji = j as usize;
        let ep = self.insight.batch[ji];
        match self.batch[ji].spec.store {
            BatchStore::Queue(q) => {
                let held = std::mem::take(&mut self.batch[ji].msgs);
                for &(slot, id) in &held {
                    if !self.msgs.is_live(slot, id) {
                        continue;
                    }
                    let m = self.msgs.get(slot);
                    let (created, producer, repeat) = (m.created, m.producer, m.is_repeat());
                    if !repeat {
                        self.insight(ep, created, producer);
                    }
                    self.msgs.exit(slot, Exit::Processed);
                }
                let n = held.len() as u64;
                let queue = &mut self.queues[q as usize];
                for _ in 0..n.div_ceil(SQS_BATCH) {
                    queue.bill(0);
                }
                queue.stats.delete_calls += n.div_ceil(SQS_BATCH);
                queue.stats.deleted += n;
                let mut held = held;
                held.clear();
                self.batch[ji].msgs = held;
            }
            BatchStore::Stream(st) => {
                let slot = self.batch[ji].kin_slot;
                let slices = std::mem::take(&mut self.batch[ji].slices);
                for sl in &slices {
                    let lead = sl.mean_lead().0;
                    self.insight_span(
                        ep,
                        now,
                        SimTime(sl.t_first.0.saturating_sub(lead)),
                        SimTime(sl.t_last.0.saturating_sub(lead)),
                        sl.count as u64,
                    );
                }
                let mut done = 0;
                for shard in &mut self.kin.streams[st as usize].shards {
                    done += shard.checkpoint(slot);
                    shard.trim();
                }
                self.msgs.ledger.processed += done;
                let mut slices = slices;
                slices.clear();
                self.batch[ji].slices = slices;
            }
            BatchStore::Firehose(_) => {
                let runs = std::mem::take(&mut self.batch[ji].runs);
                for r in &runs {
                    self.insight_span(ep, now, r.first, r.last, r.count as u64);
                }
                let mut runs = runs;
                runs.clear();
                self.batch[ji].runs = runs;
            }
        }
        let measured = now >= self.measure_from;
        let job = &mut self.batch[ji];
        job.running = false;
        if measured {
            job.stats.completed += 1;
        }
        if let Some(since) = job.delayed.take() {
            let delay = now - since;
            if measured {
                job.stats.delay_ns += delay.0 as u128;
                job.stats.delay_max_ns = job.stats.delay_max_ns.max(delay.0);
            }
            self.batch_run(j);
        }
    }

    /// Firehose stream `f` delivered `runs` to S3: the jobs reading its objects keep them
    /// for their next run.
    pub(crate) fn batch_landed(&mut self, f: u32, runs: &[Run]) {
        for job in &mut self.batch {
            if job.spec.store == BatchStore::Firehose(f) {
                job.landed.extend_from_slice(runs);
            }
        }
    }

    /// Counters restart (end of the warm-up).
    pub(crate) fn batch_warmup_end(&mut self) {
        for job in &mut self.batch {
            job.stats = BatchStats::default();
        }
    }

    /// The jobs' reports, in model order.
    pub(crate) fn batch_reports(&self) -> Vec<ComponentReport> {
        self.batch
            .iter()
            .map(|job| {
                let s = &job.stats;
                let mut r = ComponentReport::new("batch_job", &job.spec.name);
                r.text("store", &job.spec.store_text)
                    .count("runs", s.runs)
                    .count("completed", s.completed)
                    .count("overruns", s.overruns)
                    .real(
                        "delay_mean_s",
                        if s.overruns == 0 {
                            0.0
                        } else {
                            s.delay_ns as f64 / 1e9 / s.overruns.max(1) as f64
                        },
                    )
                    .real("delay_max_s", s.delay_max_ns as f64 / 1e9)
                    .count("records", s.records)
                    .count("bytes_read", s.bytes)
                    .real(
                        "run_mean_s",
                        if s.runs == 0 {
                            0.0
                        } else {
                            s.run_ns as f64 / 1e9 / s.runs as f64
                        },
                    )
                    .real("run_max_s", s.run_max_ns as f64 / 1e9)
                    .real("node_hours", self.batch_node_hours(job))
                    .real("node_hour_usd", job.spec.node_hour_usd)
                    .text("price_source", &job.spec.price_source)
                    .headline(&[
                        "runs",
                        "overruns",
                        "records",
                        "run_mean_s",
                        "run_max_s",
                        "delay_max_s",
                        "node_hours",
                    ]);
                r
            })
            .collect()
    }

    /// Node-hours of the runs that started in the measured window.
    fn batch_node_hours(&self, job: &BatchJob) -> f64 {
        job.stats.run_ns as f64 / 1e9 / 3600.0 * job.spec.nodes as f64
    }

    /// Each job's node-hours over the window, for the bill (see [`crate::batch`]).
    pub(crate) fn batch_usage(&self) -> Vec<crate::services::BatchJobUsage> {
        self.batch
            .iter()
            .map(|job| crate::services::BatchJobUsage {
                name: job.spec.name.clone(),
                node_hours: self.batch_node_hours(job),
                node_hour_usd: job.spec.node_hour_usd,
            })
            .collect()
    }
}
