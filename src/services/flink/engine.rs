//! The Flink flow: batches read by the application's Kinesis reader enter the keyed
//! subtasks (backpressure shapes the reader's pace), windows fire as the watermark
//! advances, checkpoints complete, failures restart from the last checkpoint, autoscaling
//! doubles or halves the parallelism, and results reach a Firehose sink; sampling, usage
//! and reports.
//!
//! Records never enter the message slab. A record read by the application stays in
//! flight in its shard (the reader's cursor) until a checkpoint taken after it completes;
//! then it counts as processed. Without checkpoints it counts as processed once read into
//! the job. Results handed to a sink are new records (`copies` in the accounting).

use super::app::{Added, FlinkApp, KeySpace, Pending, ProdKeys, Snapshot, WindowState};
use crate::engine::{sample_rate, Engine, Event};
use crate::metrics::ComponentReport;
use crate::model::Architecture;
use crate::producers::Target;
use crate::services::flink::bill::{FlinkRun, FlinkUsage};
use crate::services::kinesis::consumer::LeaseState;
use crate::sim::{stream, SimDuration, SimTime};
use rand_distr::{Distribution, Exp1};

/// One minute: the period of Managed Flink's CPU data points.
const MINUTE: SimDuration = SimDuration::from_secs(60);

/// The Flink state of a run.
pub(crate) struct Flink {
    /// Applications, by model order.
    pub(crate) apps: Vec<FlinkApp>,
    /// Results per subtask of the window being fired (scratch).
    per: Vec<u64>,
    /// Their keys, for a Kinesis sink (scratch).
    per_keys: Vec<Vec<u32>>,
}

impl Flink {
    /// Builds the applications of `arch`.
    pub(crate) fn new(arch: &Architecture, seed: u64) -> Self {
        let horizon = SimTime::ZERO + arch.horizon();
        let apps = arch
            .flinks
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let reader = arch
                    .stream_consumers
                    .iter()
                    .position(|c| c.flink == Some(i as u32))
                    .unwrap_or(0) as u32;
                let mut prods: Vec<(ProdKeys, String)> = arch
                    .producers
                    .iter()
                    .filter(|p| p.target == Target::Stream(spec.stream))
                    .filter_map(|p| {
                        let dist = p.keys.clone()?;
                        Some((
                            ProdKeys::new(
                                dist,
                                p.arrival.expected_count(SimTime::ZERO, horizon).max(1e-9),
                                p.event_time_lag.clone(),
                            ),
                            p.key_prefix.clone(),
                        ))
                    })
                    .collect();
                prods.extend(upstream_keys(arch, spec.stream, horizon));
                let mean_bytes = mean_record_bytes(arch, spec.stream);
                let keys = KeySpace::new(prods, spec.parallelism);
                let shards = arch.streams[spec.stream as usize].shards_ever() as usize;
                FlinkApp::new(
                    spec.clone(),
                    stream(seed, &format!("flink:{}", spec.name)),
                    reader,
                    keys,
                    shards,
                    mean_bytes,
                )
            })
            .collect();
        Flink {
            apps,
            per: Vec::new(),
            per_keys: Vec::new(),
        }
    }

    /// Time-series column names, in the order [`Engine::flink_sample`] fills them.
    pub(crate) fn columns(arch: &Architecture) -> Vec<String> {
        let mut out = Vec::new();
        for f in &arch.flinks {
            for m in ["kpus", "cpu_percent", "records_in_per_s", "results_per_s"] {
                out.push(format!("flink.{}.{m}", f.name));
            }
        }
        out
    }
}

/// The keys of the results other applications' Kinesis sinks write into stream `st`:
/// their sources' keys, each equally likely (a window gives one result per active key),
/// weighted by the expected results (keys × windows over the run).
fn upstream_keys(arch: &Architecture, st: u32, horizon: SimTime) -> Vec<(ProdKeys, String)> {
    let mut out = Vec::new();
    let mut seen = vec![st];
    upstream_into(arch, st, horizon, &mut seen, &mut out);
    out
}

/// [`upstream_keys`], following chains of applications (each stream once).
fn upstream_into(
    arch: &Architecture,
    st: u32,
    horizon: SimTime,
    seen: &mut Vec<u32>,
    out: &mut Vec<(ProdKeys, String)>,
) {
    for up in arch.flinks.iter().filter(|a| a.sink_stream == Some(st)) {
        if !seen.contains(&up.stream) {
            seen.push(up.stream);
            upstream_into(arch, up.stream, horizon, seen, out);
        }
        let windows = match up.window.map(|w| w.kind) {
            Some(super::WindowKind::Sliding { slide, .. }) => {
                (horizon.0 as f64 / slide.0.max(1) as f64).max(1.0)
            }
            _ => 1.0,
        };
        for p in arch
            .producers
            .iter()
            .filter(|p| p.target == Target::Stream(up.stream))
        {
            if let Some(k) = &p.keys {
                let n = k.keys();
                out.push((
                    ProdKeys::new(
                        crate::load::KeyDist::Uniform { keys: n },
                        n as f64 * windows,
                        None,
                    ),
                    p.key_prefix.clone(),
                ));
            }
        }
    }
}

/// Mean bytes of a record the producers write into stream `st` (sizes the subtasks'
/// input buffers in records).
fn mean_record_bytes(arch: &Architecture, st: u32) -> u64 {
    let mut n = 0.0;
    let mut b = 0.0;
    for p in arch
        .producers
        .iter()
        .filter(|p| p.target == Target::Stream(st))
    {
        n += 1.0;
        b += p.size.mean_bytes();
    }
    if n == 0.0 {
        1024
    } else {
        (b / n).round().max(1.0) as u64
    }
}

impl Engine<'_> {
    /// Schedules every application's timers.
    pub(crate) fn flink_start(&mut self) {
        for f in 0..self.flink.apps.len() {
            let app = &mut self.flink.apps[f];
            let f = f as u32;
            let gen = app.gen;
            let spec = &app.spec;
            let checkpoint = spec.checkpoints.map(|c| c.interval);
            let failures = spec.failures_at.clone();
            let first_random = spec.mtbf.map(|m| {
                SimDuration(
                    (m.0 as f64 * {
                        let x: f64 = Exp1.sample(&mut app.rng);
                        x
                    }) as u64,
                )
            });
            if let Some(i) = checkpoint {
                self.at(SimTime::ZERO + i, Event::FlinkCheckpoint { f, gen });
            }
            for t in failures {
                if t <= self.horizon {
                    self.at(t, Event::FlinkFail { f, random: false });
                }
            }
            if let Some(d) = first_random {
                self.at(SimTime::ZERO + d, Event::FlinkFail { f, random: true });
            }
            self.at(SimTime::ZERO + MINUTE, Event::FlinkMinute { f });
        }
    }

    /// The batch in hand of lease `s` of reader `r` enters application `f`: each record
    /// gets its key (and subtask), event time and CPU time, and waits for room in its
    /// subtask's buffer. Returns how long the source is busy handing the batch over.
    pub(crate) fn flink_take(&mut self, f: u32, r: u32, s: u32) -> SimDuration {
        let now = self.now;
        let horizon = self.horizon;
        let ri = r as usize;
        let st = self.kin.readers[ri].spec.stream as usize;
        let (start, end) = {
            let sh = &self.kin.streams[st].shards[s as usize];
            (sh.start, sh.end)
        };
        let batch = std::mem::take(&mut self.kin.readers[ri].leases[s as usize].batch);
        let insight_ep = self.insight.flinks[f as usize];
        let value = self.insight.points[insight_ep as usize].runs;
        let app = &mut self.flink.apps[f as usize];
        let event_time = app.spec.window.is_some_and(|w| w.event_time);
        let mut a = now;
        let mut max_event = i64::MIN;
        let mut records = 0u64;
        let mut late_results = 0u64;
        for sl in &batch {
            let n = sl.count as u64;
            let lead = sl.mean_lead();
            let span = (sl.t_last.0 - sl.t_first.0) as u128;
            for i in 0..n {
                let arrival = if n <= 1 {
                    sl.t_first
                } else {
                    SimTime(sl.t_first.0 + (span * i as u128 / (n - 1) as u128) as u64)
                };
                let created = SimTime(arrival.0.saturating_sub(lead.0));
                let (key, pi) = app.keys.draw(s as usize, start, end, &mut app.rng);
                let mut event = created.0 as i64;
                if let Some(lag) = app.keys.prods.get(pi).and_then(|p| p.lag.as_ref()) {
                    event = event.saturating_sub(lag.sample(&mut app.rng).0 as i64);
                }
                let j = app.keys.subtask(key, app.parallelism) as usize;
                let svc = app.service();
                let (adm, c) = app.admit(j, a, svc);
                a = adm;
                if c <= horizon {
                    app.stats.latency.record(c - created);
                }
                if adm <= horizon {
                    records += 1;
                }
                if let Some(w) = &mut app.windows {
                    let (t, wm) = if event_time {
                        (event, app.watermark)
                    } else {
                        (c.0 as i64, i64::MIN)
                    };
                    let added = match w {
                        WindowState::Panes(p) => p.add(t, key, created, wm),
                        WindowState::Sessions(x) => x.add(t, key, wm),
                    };
                    match added {
                        Added::Open => {}
                        Added::Dropped => app.stats.late_dropped += 1,
                        Added::LateFirings(k) => {
                            // Its result is the late firing, once it is processed.
                            self.insight.one(insight_ep, c - created, value);
                            late_results += k as u64;
                            if app.spec.sink_stream.is_some() {
                                app.late_keys.extend(std::iter::repeat_n(key, k as usize));
                            }
                        }
                    }
                }
                max_event = max_event.max(event);
            }
        }
        app.stats.records_in += records;
        app.stats.windows_emitted += late_results;
        app.stats.late_firings += late_results;
        let lease = &mut self.kin.readers[ri].leases[s as usize];
        lease.batch = batch;
        if late_results > 0 && (app.spec.sink_firehose.is_some() || app.spec.sink_stream.is_some())
        {
            let keys = std::mem::take(&mut app.late_keys);
            let i = app.emit_slot(Pending {
                count: late_results,
                created: a,
                keys,
            });
            self.at(a, Event::FlinkEmit { f, i });
        }
        if !event_time {
            self.flink_timer(f);
        }
        if event_time && records > 0 {
            let b = self.flink.apps[f as usize]
                .spec
                .window
                .map(|w| w.out_of_orderness.0 as i64)
                .unwrap_or(0);
            let app = &mut self.flink.apps[f as usize];
            let si = s as usize;
            app.shard_wm[si] = app.shard_wm[si].max(max_event.saturating_sub(b));
            app.shard_seen[si] = now;
            self.flink_watermark(f);
        }
        a - now
    }

    /// Recomputes application `f`'s watermark and fires what it passed.
    fn flink_watermark(&mut self, f: u32) {
        let now = self.now;
        let app = &mut self.flink.apps[f as usize];
        let reader = &self.kin.readers[app.reader as usize];
        let active = reader.leases.iter().enumerate().filter_map(|(s, l)| {
            (!matches!(l.state, LeaseState::Blocked | LeaseState::Done)).then_some(s)
        });
        if app.update_watermark(active, now) {
            self.flink_fire(f);
        }
    }

    /// Fires the windows application `f`'s watermark (event time) or the clock
    /// (processing time) has passed. Each subtask emits its keys' results once it has
    /// processed the records read before.
    fn flink_fire(&mut self, f: u32) {
        let now = self.now;
        let measuring = now >= self.measure_from;
        let fl = &mut self.flink;
        let app = &mut fl.apps[f as usize];
        let event_time = app.spec.window.is_some_and(|w| w.event_time);
        let w = if event_time {
            app.watermark
        } else {
            now.0 as i64
        };
        let p = app.parallelism as usize;
        let want_keys = app.spec.sink_stream.is_some();
        fl.per.clear();
        fl.per.resize(p, 0);
        if fl.per_keys.len() < p {
            fl.per_keys.resize_with(p, Vec::new);
        }
        let mut emits: Vec<(u64, SimTime, SimTime, Vec<u32>)> = Vec::new();
        // (emission, first created, last created, records) of records at their first result.
        let mut spans: Vec<(SimTime, u64, u64, u64)> = Vec::new();
        let FlinkApp {
            windows,
            keys,
            subtasks,
            stats,
            parallelism,
            insight_upto,
            ..
        } = app;
        let Some(state) = windows else {
            return;
        };
        let per = &mut fl.per;
        let per_keys = &mut fl.per_keys;
        let emit_time = |j: usize| {
            if event_time {
                subtasks[j].last.max(now)
            } else {
                now
            }
        };
        match state {
            WindowState::Panes(panes) => {
                while let Some(k) = panes.due(w) {
                    let end = panes.end(k);
                    let dup = panes.fired_before.is_some_and(|b| k <= b);
                    // The window's records have their result once every subtask emitted.
                    let all = (0..per.len()).map(&emit_time).max().unwrap_or(now);
                    let last =
                        panes.first_results(k, *insight_upto, |a, b, n| spans.push((all, a, b, n)));
                    *insight_upto = Some(insight_upto.map_or(last, |d| d.max(last)));
                    panes.fire(k, w, |key| {
                        let j = keys.subtask(key, *parallelism) as usize;
                        per[j] += 1;
                        if want_keys {
                            per_keys[j].push(key);
                        }
                    });
                    for (j, n) in per.iter_mut().enumerate() {
                        if *n == 0 {
                            continue;
                        }
                        let e = emit_time(j);
                        let endt = SimTime(end.max(0) as u64);
                        if measuring {
                            stats.result_latency.record_n(e.saturating_since(endt), *n);
                        }
                        stats.windows_emitted += *n;
                        if dup {
                            stats.duplicate_results += *n;
                        }
                        emits.push((*n, e, endt, std::mem::take(&mut per_keys[j])));
                        *n = 0;
                    }
                }
            }
            WindowState::Sessions(sessions) => {
                let mut latest = vec![0i64; per.len()];
                let dup_until = sessions.fired_before;
                sessions.fire(w, |key, end| {
                    if dup_until.is_some_and(|b| end <= b) {
                        stats.duplicate_results += 1;
                    }
                    let j = keys.subtask(key, *parallelism) as usize;
                    per[j] += 1;
                    if want_keys {
                        per_keys[j].push(key);
                    }
                    latest[j] = latest[j].max(end);
                    if measuring {
                        let e = emit_time(j);
                        stats
                            .result_latency
                            .record(e.saturating_since(SimTime(end.max(0) as u64)));
                    }
                });
                for (j, n) in per.iter_mut().enumerate() {
                    if *n == 0 {
                        continue;
                    }
                    stats.windows_emitted += *n;
                    emits.push((
                        *n,
                        emit_time(j),
                        SimTime(latest[j].max(0) as u64),
                        std::mem::take(&mut per_keys[j]),
                    ));
                    *n = 0;
                }
            }
        }
        let ep = self.insight.flinks[f as usize];
        for (at, a, b, n) in spans {
            self.insight_span(ep, at, SimTime(a), SimTime(b), n);
        }
        let app = &self.flink.apps[f as usize];
        if app.spec.sink_firehose.is_some() || app.spec.sink_stream.is_some() {
            for (count, at, created, keys) in emits {
                let i = self.flink.apps[f as usize].emit_slot(Pending {
                    count,
                    created,
                    keys,
                });
                self.at(at.max(now), Event::FlinkEmit { f, i });
            }
        }
    }

    /// Processing-time windows: the clock reached a window's end.
    pub(crate) fn on_flink_timer(&mut self, f: u32) {
        self.flink.apps[f as usize].timer_pending = false;
        if self.flink.apps[f as usize].running {
            self.flink_fire(f);
        }
        self.flink_timer(f);
    }

    /// Processing-time windows: schedules the timer at the end of the next window holding
    /// records, if none is pending.
    fn flink_timer(&mut self, f: u32) {
        let now = self.now;
        let app = &mut self.flink.apps[f as usize];
        if app.timer_pending {
            return;
        }
        let Some(WindowState::Panes(p)) = &mut app.windows else {
            return;
        };
        let Some(k) = p.next_with_data() else {
            return;
        };
        let at = SimTime(p.end(k).max(0) as u64).max(now);
        if at <= self.horizon {
            app.timer_pending = true;
            self.at(at, Event::FlinkTimer { f });
        }
    }

    /// Results of slot `i` of application `f` reach its sink (refused ones wait a second).
    pub(crate) fn on_flink_emit(&mut self, f: u32, i: u32) {
        let now = self.now;
        let app = &mut self.flink.apps[f as usize];
        let mut pend = std::mem::take(&mut app.emits[i as usize]);
        let bytes = app.spec.result_bytes;
        let took = match (app.spec.sink_firehose, app.spec.sink_stream) {
            (Some(sink), _) => {
                let took = self.firehose_from_flink(sink, pend.created, pend.count, bytes);
                self.msgs.ledger.copies += took;
                took
            }
            (None, Some(st)) => {
                // Each result goes to the shard of its key; refused ones stay for a retry.
                let mut keep = 0;
                for k in 0..pend.keys.len() {
                    let key = pend.keys[k];
                    let hash = self.flink.apps[f as usize].keys.hash(key);
                    if !self.kinesis_put_derived(st, hash, bytes, pend.created) {
                        pend.keys[keep] = key;
                        keep += 1;
                    }
                }
                let took = (pend.keys.len() - keep) as u64;
                pend.keys.truncate(keep);
                took
            }
            (None, None) => pend.count,
        };
        let app = &mut self.flink.apps[f as usize];
        if took < pend.count {
            app.stats.sink_throttled += pend.count - took;
            pend.count -= took;
            app.emits[i as usize] = pend;
            let at = now + SimDuration::from_secs(1);
            if at <= self.horizon {
                self.at(at, Event::FlinkEmit { f, i });
            }
        } else {
            app.free_emits.push(i);
        }
    }

    // ----- checkpoints, failures, autoscaling ------------------------------------------

    /// A checkpoint of application `f` is triggered: the source's positions now; it
    /// completes once every subtask has processed what it holds, plus the snapshot's
    /// duration.
    pub(crate) fn on_flink_checkpoint(&mut self, f: u32, gen: u32) {
        let now = self.now;
        let app = &self.flink.apps[f as usize];
        if gen != app.gen || !app.running {
            return;
        }
        let Some(c) = app.spec.checkpoints else {
            return;
        };
        let next = now + c.interval;
        if next <= self.horizon {
            self.at(next, Event::FlinkCheckpoint { f, gen });
        }
        let app = &self.flink.apps[f as usize];
        if app.pending.is_some() {
            // One checkpoint at a time: this one is skipped.
            return;
        }
        let reader = &self.kin.readers[app.reader as usize];
        let stream = &self.kin.streams[reader.spec.stream as usize];
        let positions = stream
            .shards
            .iter()
            .map(|sh| sh.cursors[reader.slot].inflight)
            .collect();
        let done = app
            .subtasks
            .iter()
            .map(|s| s.last)
            .max()
            .unwrap_or(now)
            .max(now)
            + c.duration;
        let app = &mut self.flink.apps[f as usize];
        app.pending = Some(Snapshot {
            at: now,
            positions,
            windows: app.windows.clone(),
        });
        if done <= self.horizon {
            self.at(done, Event::FlinkCheckpointDone { f, gen });
        }
    }

    /// The checkpoint in progress completes: the records it covers are processed.
    pub(crate) fn on_flink_checkpoint_done(&mut self, f: u32, gen: u32) {
        let now = self.now;
        let app = &mut self.flink.apps[f as usize];
        if gen != app.gen {
            return;
        }
        let Some(snap) = app.pending.take() else {
            return;
        };
        app.stats.checkpoints += 1;
        app.stats.checkpoint_max_ns = app.stats.checkpoint_max_ns.max((now - snap.at).0);
        let r = app.reader as usize;
        let reader = &mut self.kin.readers[r];
        let stream = &mut self.kin.streams[reader.spec.stream as usize];
        let mut done = 0;
        for (s, k) in snap.positions.iter().enumerate() {
            if let Some(sh) = stream.shards.get_mut(s) {
                done += sh.checkpoint_prefix(reader.slot, *k);
                sh.trim();
            }
        }
        reader.stats.processed += done;
        self.msgs.ledger.processed += done;
        self.flink.apps[f as usize].last = Some(Snapshot {
            positions: Vec::new(),
            ..snap
        });
    }

    /// Application `f` fails: it stops, and restarts from its last completed checkpoint
    /// after the restart delay.
    pub(crate) fn on_flink_fail(&mut self, f: u32, random: bool) {
        let now = self.now;
        if random {
            let app = &mut self.flink.apps[f as usize];
            if let Some(m) = app.spec.mtbf {
                let d = SimDuration(
                    (m.0 as f64 * {
                        let x: f64 = Exp1.sample(&mut app.rng);
                        x
                    }) as u64,
                );
                let at = now + d;
                if at <= self.horizon {
                    self.at(at, Event::FlinkFail { f, random: true });
                }
            }
        }
        if !self.flink.apps[f as usize].running {
            return;
        }
        let delay = self.flink.apps[f as usize].spec.restart_delay;
        self.flink_stop(f, false);
        let app = &mut self.flink.apps[f as usize];
        app.stats.restarts += 1;
        // Window state goes back to the checkpoint's; windows fired since fire again.
        let (fired, fired_end) = match &app.windows {
            Some(WindowState::Panes(p)) => (p.next_window.map(|k| k - 1), None),
            Some(WindowState::Sessions(x)) => (None, Some(x.fired_max_end)),
            None => (None, None),
        };
        app.windows = match &app.last {
            Some(s) => s.windows.clone(),
            None => app
                .spec
                .window
                .map(|w| WindowState::new(w.kind, w.allowed_lateness, app.keys.len())),
        };
        match &mut app.windows {
            Some(WindowState::Panes(p)) => p.fired_before = fired.max(p.fired_before),
            Some(WindowState::Sessions(x)) => x.fired_before = fired_end.max(x.fired_before),
            None => {}
        }
        let gen = app.gen;
        self.flink_downtime(f, delay);
        let at = now + delay;
        if at <= self.horizon {
            self.at(at, Event::FlinkRestart { f, gen });
        }
    }

    /// Stops application `f` (a failure, or a rescale when `savepoint`): the reader goes
    /// down, subtasks lose what they hold, watermarks start over. A savepoint first
    /// completes a checkpoint of everything read (the subtasks drain), so nothing is read
    /// again; a failure rewinds the reader to the last completed checkpoint.
    fn flink_stop(&mut self, f: u32, savepoint: bool) {
        let now = self.now;
        let since = self.measure_from;
        let app = &mut self.flink.apps[f as usize];
        app.account_capacity(now, since);
        app.running = false;
        app.gen = app.gen.wrapping_add(1);
        app.pending = None;
        let r = app.reader;
        let reader = &mut self.kin.readers[r as usize];
        let stream = &mut self.kin.streams[reader.spec.stream as usize];
        let mut held = 0;
        for sh in &mut stream.shards {
            let c = &sh.cursors[reader.slot];
            if savepoint {
                let k = c.inflight;
                held += sh.checkpoint_prefix(reader.slot, k);
                sh.trim();
            } else {
                held += c.inflight;
            }
        }
        if savepoint {
            reader.stats.processed += held;
            self.msgs.ledger.processed += held;
            let app = &mut self.flink.apps[f as usize];
            app.last = Some(Snapshot {
                at: now,
                positions: Vec::new(),
                windows: app.windows.clone(),
            });
            app.snapshots.push(now);
        }
        // Records held since the checkpoint are read again, except those the stream's
        // retention removes meanwhile (the rewind counts them expired).
        let st = self.kin.readers[r as usize].spec.stream as usize;
        let expired_before = self.kin.streams[st].stats.expired;
        self.on_reader_outage(r, true);
        let lost = self.kin.streams[st].stats.expired - expired_before;
        let app = &mut self.flink.apps[f as usize];
        if !savepoint {
            app.stats.reprocessed += held.saturating_sub(lost);
        }
        for s in &mut app.subtasks {
            s.queue.clear();
            s.last = now;
        }
        app.shard_wm.iter_mut().for_each(|w| *w = i64::MIN);
        app.watermark = i64::MIN;
    }

    /// Counts `d` of downtime from now, within the measured window.
    fn flink_downtime(&mut self, f: u32, d: SimDuration) {
        let from = self.now.max(self.measure_from);
        let to = (self.now + d).min(self.horizon);
        if to > from {
            self.flink.apps[f as usize].stats.downtime_ns += (to - from).0;
        }
    }

    /// Application `f` runs again (after a failure or a rescale).
    pub(crate) fn on_flink_restart(&mut self, f: u32, gen: u32) {
        let now = self.now;
        let app = &mut self.flink.apps[f as usize];
        if gen != app.gen || app.running {
            return;
        }
        app.running = true;
        app.capacity_since = now;
        if app.next_parallelism != app.parallelism {
            let p = app.next_parallelism;
            app.set_parallelism(p, now);
        }
        let r = app.reader;
        let checkpoint = app.spec.checkpoints.map(|c| c.interval);
        self.on_reader_outage(r, false);
        if let Some(i) = checkpoint {
            let at = now + i;
            if at <= self.horizon {
                self.at(at, Event::FlinkCheckpoint { f, gen });
            }
        }
    }

    /// A minute passed: application `f`'s CPU data point (the busiest KPU), and
    /// autoscaling's decision on it.
    pub(crate) fn on_flink_minute(&mut self, f: u32) {
        let now = self.now;
        let measuring = now > self.measure_from;
        let next = now + MINUTE;
        if next <= self.horizon {
            self.at(next, Event::FlinkMinute { f });
        }
        let app = &mut self.flink.apps[f as usize];
        let point = app.minute_point(MINUTE);
        if !app.running {
            app.up_streak = 0;
            app.down_streak = 0;
            return;
        }
        app.cpu_last_minute = point;
        if measuring {
            app.cpu_minute_max = app.cpu_minute_max.max(point);
        }
        if !app.spec.autoscaling {
            return;
        }
        let (up_pct, up_min, down_pct, down_min) = app.spec.scaling;
        if point >= up_pct as f64 {
            app.up_streak += 1;
        } else {
            app.up_streak = 0;
        }
        if point < down_pct as f64 {
            app.down_streak += 1;
        } else {
            app.down_streak = 0;
        }
        let p = app.parallelism;
        let cap = (app.spec.max_kpus as u64 * app.spec.parallelism_per_kpu as u64)
            .min(app.keys.max_parallelism as u64) as u32;
        let target = if app.up_streak >= up_min {
            (p * 2).min(cap)
        } else if app.down_streak >= down_min {
            p.div_ceil(2).max(app.spec.parallelism)
        } else {
            p
        };
        if target == p {
            return;
        }
        app.up_streak = 0;
        app.down_streak = 0;
        app.stats.rescales += 1;
        app.next_parallelism = target;
        let kpus = app.spec.kpus(target);
        app.segment(now, kpus);
        let delay = app.spec.rescale_delay;
        self.flink_stop(f, true);
        let gen = self.flink.apps[f as usize].gen;
        self.flink_downtime(f, delay);
        let at = now + delay;
        if at <= self.horizon {
            self.at(at, Event::FlinkRestart { f, gen });
        }
    }

    // ----- sampling, accounting, reports -----------------------------------------------

    /// Resets the counters at the end of the warm-up.
    pub(crate) fn flink_warmup_end(&mut self) {
        let now = self.now;
        for app in &mut self.flink.apps {
            let kpus = app.kpus();
            app.stats = super::app::FlinkStats {
                kpus_max: kpus,
                ..Default::default()
            };
            for s in &mut app.subtasks {
                s.busy_ns = 0;
            }
            app.capacity_ns = 0;
            app.capacity_since = now;
            app.cpu_minute_max = 0.0;
        }
    }

    /// Fills application columns from `i`; returns the next column.
    pub(crate) fn flink_sample(
        &mut self,
        row: &mut [f64],
        counts: &mut [u64],
        mut i: usize,
    ) -> usize {
        let now = self.now;
        let dt = self.sample_every.as_secs_f64();
        for app in &self.flink.apps {
            let first = now == SimTime::ZERO;
            let mut rate = |i: usize, total: u64| sample_rate(counts, i, total, dt, first);
            row[i] = if app.running { app.kpus() as f64 } else { 0.0 };
            row[i + 1] = app.cpu_last_minute;
            row[i + 2] = rate(i + 2, app.stats.records_in);
            row[i + 3] = rate(i + 3, app.stats.windows_emitted);
            i += 4;
        }
        i
    }

    /// End of the run: CPU capacity up to the horizon.
    pub(crate) fn flink_finish(&mut self) {
        let now = self.horizon;
        let since = self.measure_from;
        for app in &mut self.flink.apps {
            app.account_capacity(now, since);
        }
    }

    /// Billable usage of every application over the measured window.
    pub(crate) fn flink_usage(&self) -> Vec<FlinkUsage> {
        let (from, to) = (self.measure_from, self.horizon);
        self.flink
            .apps
            .iter()
            .map(|app| {
                let mut runs = Vec::new();
                for (k, (t, kpus)) in app.segments.iter().enumerate() {
                    let end = app.segments.get(k + 1).map_or(to, |s| s.0);
                    let (a, b) = ((*t).max(from), end.min(to));
                    if b <= a {
                        continue;
                    }
                    runs.push(FlinkRun {
                        count: 1.0,
                        seconds: (b - a).as_secs_f64(),
                        kpus: *kpus as f64,
                        // The application's start (t = 0) is inside the window only
                        // without a warm-up; rescales are not new starts.
                        whole: k == 0 && from == SimTime::ZERO && app.segments.len() == 1,
                    });
                }
                let gib = (1u64 << 30) as f64;
                let size = app.spec.checkpoints.map_or(0, |c| c.size_bytes) as f64 / gib;
                let backup_gb_hours = app
                    .snapshots
                    .iter()
                    .map(|t| (to - (*t).max(from)).as_secs_f64() / 3600.0 * size)
                    .sum();
                FlinkUsage {
                    name: app.spec.name.clone(),
                    runs,
                    backup_gb_hours,
                }
            })
            .collect()
    }

    /// Application reports, in model order.
    pub(crate) fn flink_reports(&self) -> Vec<ComponentReport> {
        let window_s = self.arch.duration.as_secs_f64();
        let usage = self.flink_usage();
        self.flink
            .apps
            .iter()
            .zip(&usage)
            .map(|(app, u)| {
                let reader = &self.kin.readers[app.reader as usize];
                let s = &app.stats;
                let busy: u128 = app.subtasks.iter().map(|s| s.busy_ns).sum();
                let max_busy = app.subtasks.iter().map(|s| s.busy_ns).max().unwrap_or(0);
                let mean_cpu = if app.capacity_ns > 0 {
                    busy as f64 / app.capacity_ns as f64
                } else {
                    0.0
                };
                let max_cpu = max_busy as f64 / (window_s * 1e9).max(1.0);
                let kpu_hours: f64 =
                    u.runs.iter().map(|r| r.seconds * r.kpus).sum::<f64>() / 3600.0;
                let mut r = ComponentReport::new("flink", &app.spec.name);
                r.count("parallelism", app.spec.parallelism as u64)
                    .count("parallelism_per_kpu", app.spec.parallelism_per_kpu as u64)
                    .count("kpus", app.spec.kpus(app.spec.parallelism) as u64)
                    .count("kpus_max", s.kpus_max as u64)
                    .real("kpu_hours", kpu_hours)
                    .count("records_in", s.records_in)
                    .count("windows_emitted", s.windows_emitted)
                    .count("late_firings", s.late_firings)
                    .count("late_dropped", s.late_dropped)
                    .count("duplicate_results", s.duplicate_results)
                    .count("restarts", s.restarts)
                    .count("rescales", s.rescales)
                    .count("reprocessed", s.reprocessed)
                    .count("checkpoints", s.checkpoints)
                    .real(
                        "checkpoint_duration_max_s",
                        SimDuration(s.checkpoint_max_ns).as_secs_f64(),
                    )
                    .real("downtime_s", SimDuration(s.downtime_ns).as_secs_f64())
                    .value(
                        "cpu_utilization",
                        serde_json::json!({
                            "mean": finite(mean_cpu),
                            "max_subtask": finite(max_cpu),
                            "max_minute_percent": finite(app.cpu_minute_max),
                        }),
                    )
                    .real(
                        "iterator_age_max_s",
                        SimDuration(reader.stats.iterator_age_max_ns).as_secs_f64(),
                    )
                    .count("sink_throttled", s.sink_throttled)
                    .latency("latency_s", &s.latency)
                    .latency("result_latency_s", &s.result_latency)
                    .headline(&[
                        "kpus_max",
                        "records_in",
                        "windows_emitted",
                        "late_dropped",
                        "restarts",
                        "iterator_age_max_s",
                        "result_latency_s",
                    ]);
                r
            })
            .collect()
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}
