//! Faults at run time: their start and end events, what each does to the component it
//! hits, and what it cost (see [`super`]).

use super::{FaultKind, FaultSpec, FaultTarget, FaultWhen};
use crate::engine::{Engine, Event};
use crate::metrics::ComponentReport;
use crate::model::Architecture;
use crate::producers::Target;
use crate::sim::{stream, SimDuration, SimRng, SimTime};
use crate::workers::WorkerState;
use rand::Rng;
use rand_distr::{Distribution, Exp};

/// Counters a fault's cost is measured on (cumulative; differences are its cost).
#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    retries: u64,
    dead_lettered: u64,
    expired: u64,
    dropped: u64,
    lost: u64,
}

impl Counters {
    fn since(&self, earlier: &Counters) -> Counters {
        Counters {
            retries: self.retries.saturating_sub(earlier.retries),
            dead_lettered: self.dead_lettered.saturating_sub(earlier.dead_lettered),
            expired: self.expired.saturating_sub(earlier.expired),
            dropped: self.dropped.saturating_sub(earlier.dropped),
            lost: self.lost.saturating_sub(earlier.lost),
        }
    }

    fn add(&mut self, o: &Counters) {
        self.retries += o.retries;
        self.dead_lettered += o.dead_lettered;
        self.expired += o.expired;
        self.dropped += o.dropped;
        self.lost += o.lost;
    }
}

/// One fault's run-time state.
struct FaultRun {
    /// Occurrences: start times and lengths.
    rng: SimRng,
    /// Per-call draws (a throttle's share), apart so that the schedule of a fault does not
    /// depend on how many calls it saw (common random numbers across loads).
    calls: SimRng,
    /// In an occurrence now.
    active: bool,
    /// Ended and the backlog is not back yet.
    recovering: bool,
    started: SimTime,
    ended: SimTime,
    /// Counters at the start of the current occurrence (or the end of the warm-up).
    at_start: Counters,
    backlog_before: u64,
    /// Totals over finished measurements (occurrences recovered, or cut by the run's end).
    total: Counters,
    occurrences: u64,
    active_ns: u64,
    delayed: u64,
    backlog_peak: u64,
    recovered: u64,
    recover_max: SimDuration,
}

/// The faults of a run, and the effects they have in force.
pub(crate) struct Faults {
    runs: Vec<FaultRun>,
    /// Per queue: the throttle fault in force (its index).
    queue_throttle: Vec<Option<u32>>,
    /// Per topic: the throttle fault in force.
    topic_throttle: Vec<Option<u32>>,
    /// Per pool: workers taken away by a capacity loss (the first N).
    pool_lost: Vec<u32>,
}

impl Faults {
    /// The faults of `arch`, each with its own random stream.
    pub(crate) fn new(arch: &Architecture, seed: u64) -> Self {
        Faults {
            runs: arch
                .faults
                .iter()
                .map(|f| FaultRun {
                    rng: stream(seed, &format!("fault:{}", f.name)),
                    calls: stream(seed, &format!("fault:{}:calls", f.name)),
                    active: false,
                    recovering: false,
                    started: SimTime::ZERO,
                    ended: SimTime::ZERO,
                    at_start: Counters::default(),
                    backlog_before: 0,
                    total: Counters::default(),
                    occurrences: 0,
                    active_ns: 0,
                    delayed: 0,
                    backlog_peak: 0,
                    recovered: 0,
                    recover_max: SimDuration::ZERO,
                })
                .collect(),
            queue_throttle: vec![None; arch.queues.len()],
            topic_throttle: vec![None; arch.topics.len()],
            pool_lost: vec![0; arch.consumers.len()],
        }
    }

    /// Whether a call to queue `q` is refused by a throttle fault in force.
    #[inline]
    pub(crate) fn queue_throttled(&mut self, q: usize, arch: &Architecture) -> bool {
        self.queue_throttle[q].is_some_and(|f| self.throttles(f, arch))
    }

    /// Whether a call to topic `t` is refused by a throttle fault in force.
    #[inline]
    pub(crate) fn topic_throttled(&mut self, t: usize, arch: &Architecture) -> bool {
        self.topic_throttle[t].is_some_and(|f| self.throttles(f, arch))
    }

    /// Whether a call hit by throttle fault `f` is refused (drawn from its stream).
    #[inline]
    fn throttles(&mut self, f: u32, arch: &Architecture) -> bool {
        let FaultKind::Throttle { share } = arch.faults[f as usize].kind else {
            return false;
        };
        share >= 1.0 || self.runs[f as usize].calls.random::<f64>() < share
    }
}

impl Engine<'_> {
    /// Schedules each fault's first occurrence. The ends of scheduled faults are
    /// scheduled first, so that at equal times an end goes before a start: two windows
    /// that touch (one ends as the next begins) then hold one after the other.
    pub(crate) fn faults_start(&mut self) {
        for (f, spec) in self.arch.faults.iter().enumerate() {
            if let FaultWhen::Once(t) = spec.when {
                let end = t + spec.length.sample(&mut self.faults.runs[f].rng);
                if t < self.horizon {
                    self.at(
                        end,
                        Event::Fault {
                            f: f as u32,
                            start: false,
                        },
                    );
                }
            }
        }
        for (f, spec) in self.arch.faults.iter().enumerate() {
            let at = match spec.when {
                FaultWhen::Once(t) => t,
                FaultWhen::Random { rate_per_hour } => {
                    let gap = next_gap(&mut self.faults.runs[f].rng, rate_per_hour);
                    SimTime::ZERO + gap
                }
            };
            if at < self.horizon {
                self.at(
                    at,
                    Event::Fault {
                        f: f as u32,
                        start: true,
                    },
                );
            }
        }
    }

    /// A fault starts or ends.
    pub(crate) fn on_fault(&mut self, f: u32, start: bool) {
        let fi = f as usize;
        let spec = &self.arch.faults[fi];
        let now = self.now;
        if start {
            // A new occurrence while the last one's backlog has not drained: that one's
            // cost is closed here (it did not recover).
            if self.faults.runs[fi].recovering {
                self.close_measure(fi);
            }
            let length = spec.length.sample(&mut self.faults.runs[fi].rng);
            let counters = self.fault_counters(fi);
            let backlog = self.fault_backlog(spec);
            let r = &mut self.faults.runs[fi];
            r.active = true;
            r.started = now;
            r.occurrences += 1;
            r.at_start = counters;
            r.backlog_before = backlog;
            r.backlog_peak = r.backlog_peak.max(backlog);
            self.fault_effect(fi, true, now + length);
            // A scheduled fault's end is already in the queue.
            if let FaultWhen::Random { .. } = spec.when {
                self.at(now + length, Event::Fault { f, start: false });
            }
        } else {
            self.fault_effect(fi, false, now);
            let r = &mut self.faults.runs[fi];
            r.active = false;
            r.recovering = true;
            r.ended = now;
            r.active_ns += (now - r.started).0;
            self.fault_check(fi);
            if let FaultWhen::Random { rate_per_hour } = spec.when {
                let gap = next_gap(&mut self.faults.runs[fi].rng, rate_per_hour);
                if now + gap < self.horizon {
                    self.at(now + gap, Event::Fault { f, start: true });
                }
            }
        }
    }

    /// Puts fault `f`'s effect in force (until `until`) or lifts it.
    fn fault_effect(&mut self, f: usize, on: bool, until: SimTime) {
        let spec = &self.arch.faults[f];
        let now = self.now;
        match (spec.kind, spec.target) {
            (FaultKind::Outage, FaultTarget::Pool(c)) => self.on_outage(c, on),
            (FaultKind::CapacityLoss { share }, FaultTarget::Pool(c)) => {
                let ci = c as usize;
                let n = self.pools[ci].workers.len() as u32;
                if on {
                    let k =
                        ((share * n as f64).round() as u32).clamp(1, n.saturating_sub(1).max(1));
                    self.faults.pool_lost[ci] = k;
                    for w in 0..k as usize {
                        self.pools[ci].workers[w].az_down = true;
                        self.take_worker_down(c, w);
                    }
                    let q = self.pools[ci].spec.queue;
                    self.rearm(q);
                } else {
                    let k = std::mem::take(&mut self.faults.pool_lost[ci]);
                    for w in 0..k {
                        self.pools[ci].workers[w as usize].az_down = false;
                        if !self.pools[ci].down
                            && self.pools[ci].workers[w as usize].state == WorkerState::Down
                        {
                            self.worker_receive(c, w);
                        }
                    }
                }
            }
            // A window of certain failure: the retry logic then skips the attempts that
            // would fail inside it, as for the model's outages.
            (FaultKind::EndpointDown, FaultTarget::Subscription(s)) if on => {
                // Windows in the past are never looked up again: drop them, so that a
                // frequent random fault does not lengthen every attempt's scan.
                let outages = &mut self.sns.subs[s as usize].spec.outages;
                outages.retain(|w| w.1 > now);
                outages.push((now, until, 1.0));
            }
            (FaultKind::Throttle { .. }, FaultTarget::Queue(q)) => {
                self.faults.queue_throttle[q as usize] = on.then_some(f as u32);
            }
            (FaultKind::Throttle { .. }, FaultTarget::Topic(t)) => {
                self.faults.topic_throttle[t as usize] = on.then_some(f as u32);
            }
            (FaultKind::LatencySpike { extra }, FaultTarget::Queue(q)) => {
                self.queues[q as usize].extra_latency = if on { extra } else { SimDuration::ZERO };
            }
            (FaultKind::LatencySpike { extra }, FaultTarget::Subscription(s)) => {
                self.sns.subs[s as usize].extra_latency =
                    if on { extra } else { SimDuration::ZERO };
            }
            _ => {}
        }
    }

    /// The counters fault `f` is measured on, those of the component it hits: a
    /// subscription's retries, dead-lettered and lost deliveries; a pool's queue's
    /// redeliveries (as retries), dead-lettered and expired messages; the retries and
    /// drops of the producers that send to a throttled queue or topic (and, for a queue,
    /// the retries of the subscriptions that deliver to it).
    fn fault_counters(&self, f: usize) -> Counters {
        let spec = &self.arch.faults[f];
        let queue = |q: usize| {
            let s = &self.queues[q].stats;
            Counters {
                retries: s.redelivered,
                dead_lettered: s.dead_lettered,
                expired: s.expired,
                dropped: 0,
                lost: 0,
            }
        };
        let senders = |t: Target| {
            let mut c = Counters::default();
            for p in self.producers.iter().filter(|p| p.spec.target == t) {
                c.retries += p.stats.retries;
                c.dropped += p.stats.dropped;
            }
            c
        };
        match (spec.kind, spec.target) {
            (_, FaultTarget::Subscription(s)) => {
                let st = &self.sns.subs[s as usize].stats;
                Counters {
                    retries: st.retries,
                    dead_lettered: st.dead_lettered,
                    expired: 0,
                    dropped: 0,
                    lost: st.lost,
                }
            }
            (_, FaultTarget::Pool(c)) => queue(self.pools[c as usize].spec.queue as usize),
            (FaultKind::Throttle { .. }, FaultTarget::Queue(q)) => {
                let mut c = senders(Target::Queue(q));
                for s in self
                    .sns
                    .subs
                    .iter()
                    .filter(|s| s.spec.endpoint == crate::services::sns::Endpoint::Queue(q))
                {
                    c.retries += s.stats.retries;
                    c.dead_lettered += s.stats.dead_lettered;
                    c.lost += s.stats.lost;
                }
                c
            }
            (_, FaultTarget::Queue(q)) => queue(q as usize),
            (_, FaultTarget::Topic(t)) => senders(Target::Topic(t)),
        }
    }

    /// The backlog a fault is judged recovered on: its queue's messages waiting (a pool,
    /// a queue's latency), a subscription's deliveries pending, or the producers' calls
    /// in progress (a throttled queue or topic).
    fn fault_backlog(&self, spec: &FaultSpec) -> u64 {
        let calls_to = |t: Target| -> u64 {
            self.producers
                .iter()
                .filter(|p| p.spec.target == t)
                .map(|p| p.in_flight as u64 + p.waiting.len() as u64)
                .sum()
        };
        match (spec.kind, spec.target) {
            (_, FaultTarget::Pool(c)) => {
                let q = self.pools[c as usize].spec.queue as usize;
                self.queues[q].backlog()
            }
            (_, FaultTarget::Subscription(s)) => self.sns.subs[s as usize].in_progress,
            (FaultKind::Throttle { .. }, FaultTarget::Queue(q)) => {
                let sns = crate::services::sns::Endpoint::Queue(q);
                calls_to(Target::Queue(q))
                    + self
                        .sns
                        .subs
                        .iter()
                        .filter(|s| s.spec.endpoint == sns)
                        .map(|s| s.in_progress)
                        .sum::<u64>()
            }
            (_, FaultTarget::Queue(q)) => self.queues[q as usize].backlog(),
            (_, FaultTarget::Topic(t)) => calls_to(Target::Topic(t)),
        }
    }

    /// At a sample: the peak backlog of active faults, and whether recovering ones are back.
    pub(crate) fn faults_sample(&mut self) {
        for f in 0..self.faults.runs.len() {
            self.fault_check(f);
        }
    }

    fn fault_check(&mut self, f: usize) {
        let r = &self.faults.runs[f];
        if !r.active && !r.recovering {
            return;
        }
        let backlog = self.fault_backlog(&self.arch.faults[f]);
        let now = self.now;
        let r = &mut self.faults.runs[f];
        r.backlog_peak = r.backlog_peak.max(backlog);
        r.delayed = r.delayed.max(backlog.saturating_sub(r.backlog_before));
        if r.recovering && backlog <= r.backlog_before {
            r.recovered += 1;
            r.recover_max = r.recover_max.max(now - r.ended);
            self.close_measure(f);
        }
    }

    /// Adds the counters since the occurrence started to the fault's totals.
    fn close_measure(&mut self, f: usize) {
        let now_counters = self.fault_counters(f);
        let r = &mut self.faults.runs[f];
        let d = now_counters.since(&r.at_start);
        r.total.add(&d);
        r.recovering = false;
    }

    /// The end of the warm-up resets the counters: measurements restart from there.
    pub(crate) fn faults_warmup_end(&mut self) {
        for f in 0..self.faults.runs.len() {
            let c = self.fault_counters(f);
            let r = &mut self.faults.runs[f];
            r.total = Counters::default();
            r.at_start = c;
            r.occurrences = u64::from(r.active || r.recovering);
            r.active_ns = 0;
            r.recovered = 0;
            r.recover_max = SimDuration::ZERO;
            r.delayed = 0;
            r.backlog_peak = 0;
            if r.active {
                r.started = self.now;
            }
        }
    }

    /// The end of the run: occurrences still active or recovering are counted as they
    /// stand.
    pub(crate) fn faults_finish(&mut self) {
        let now = self.now;
        for f in 0..self.faults.runs.len() {
            let r = &mut self.faults.runs[f];
            if r.active {
                r.active_ns += (now - r.started).0;
                r.started = now;
            }
            if r.active || r.recovering {
                self.close_measure(f);
                self.faults.runs[f].recovering = false;
            }
        }
    }

    /// One report per fault.
    pub(crate) fn fault_reports(&self) -> Vec<ComponentReport> {
        self.arch
            .faults
            .iter()
            .zip(&self.faults.runs)
            .map(|(spec, r)| {
                let mut c = ComponentReport::new("fault", &spec.name);
                let unrecovered = r.occurrences.saturating_sub(r.recovered);
                c.text("fault_kind", spec.kind.key())
                    .text("target", &spec.target_text)
                    .count("occurrences", r.occurrences)
                    .real("active_s", SimDuration(r.active_ns).as_secs_f64())
                    .count("retries", r.total.retries)
                    .count("dead_lettered", r.total.dead_lettered)
                    .count("expired", r.total.expired)
                    .count("dropped", r.total.dropped)
                    .count("lost", r.total.lost)
                    .count("backlog_peak", r.backlog_peak)
                    .count("delayed", r.delayed)
                    .count("recovered", r.recovered)
                    .count("unrecovered", unrecovered)
                    .real("time_to_recover_s", r.recover_max.as_secs_f64())
                    .headline(&[
                        "occurrences",
                        "active_s",
                        "retries",
                        "dead_lettered",
                        "lost",
                        "delayed",
                        "time_to_recover_s",
                    ]);
                c
            })
            .collect()
    }
}

/// Time to the next start of a random fault: exponential with mean 1/rate.
fn next_gap(rng: &mut SimRng, rate_per_hour: f64) -> SimDuration {
    let exp = Exp::new(rate_per_hour / 3600.0).expect("rate validated positive");
    SimDuration::from_secs_f64(exp.sample(rng))
}
