//! The Firehose flow: producers' PutRecordBatch calls, records handed on by a Kinesis
//! source or an SNS subscription, the transformation, buffers and their flushes, and
//! deliveries with their retries, backups and Redshift COPY commands; sampling,
//! accounting, usage and reports.
//!
//! Records never enter the message slab: they travel as runs ([`Run`]). The ledger is
//! kept: a producer's record counts in `produced` when created; it leaves as `processed`
//! (landed at the destination), `backed_up` (S3 backup or error output) or `dropped`
//! (refused for its size, or given up by the producer's SDK).

use super::client::{take_prefix, FirehoseClient};
use super::stream::{since, DeliveryStream, Fill, FlushBy, Phase, Run};
use super::{DestinationKind, FirehoseInput};
use crate::engine::{sample_rate, Engine, Event};
use crate::metrics::{Accounting, ComponentReport};
use crate::model::Architecture;
use crate::producers::Target;
use crate::services::firehose::bill::{billed_bytes, FirehoseSource, FirehoseUsage};
use crate::services::kinesis::shard::Slice;
use crate::services::lambda::bill::{LambdaArch, LambdaUsage};
use crate::services::s3::bill::S3Usage;
use crate::sim::{stream, SimDuration, SimTime};
use rand::Rng;
use rand_distr::{Binomial, Distribution};

/// What decides an invocation's outcome (copied from the stream's `TransformSpec`).
#[derive(Clone, Copy)]
struct TransformOutcome {
    failure_probability: f64,
    record_failure_probability: f64,
    retries: u32,
    output_ratio: f64,
}

/// The Firehose state of a run.
pub(crate) struct Firehose {
    /// Delivery streams, by model order.
    pub(crate) streams: Vec<DeliveryStream>,
    /// The Firehose client of each producer (None for producers of other targets).
    pub(crate) clients: Vec<Option<FirehoseClient>>,
    /// Runs being handed to a stream.
    scratch: Vec<Run>,
    /// Runs coming out of a transformation.
    out: Vec<Run>,
}

impl Firehose {
    /// Builds the delivery streams and producer clients of `arch`.
    pub(crate) fn new(arch: &Architecture, seed: u64) -> Self {
        let streams = arch
            .firehoses
            .iter()
            .map(|f| DeliveryStream::new(f.clone(), stream(seed, &format!("firehose:{}", f.name))))
            .collect();
        let clients = arch
            .producers
            .iter()
            .map(|p| match p.target {
                Target::Firehose(f) => Some(FirehoseClient::new(
                    f,
                    arch.firehoses[f as usize].active_partitions.is_some(),
                )),
                _ => None,
            })
            .collect();
        Firehose {
            streams,
            clients,
            scratch: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Time-series column names, in the order [`Engine::firehose_sample`] fills them.
    pub(crate) fn columns(arch: &Architecture) -> Vec<String> {
        let mut out = Vec::new();
        for f in &arch.firehoses {
            for m in [
                "records_in_per_s",
                "delivered_per_s",
                "buffered_bytes",
                "data_freshness_s",
            ] {
                out.push(format!("firehose.{}.{m}", f.name));
            }
        }
        out
    }
}

impl Engine<'_> {
    // ----- producers (Direct PUT) -------------------------------------------------------

    /// Producer `p` creates a record for its delivery stream.
    pub(crate) fn on_firehose_arrival(&mut self, p: u32) {
        let now = self.now;
        let pi = p as usize;
        let (size, key) = self.producers[pi].draw();
        self.schedule_next_arrival(p);
        let prod = &mut self.producers[pi];
        prod.stats.generated += 1;
        self.msgs.ledger.produced += 1;
        let Some(client) = self.fh.clients[pi].as_mut() else {
            return;
        };
        let f = client.stream as usize;
        let lim = &self.fh.streams[f].spec.limits;
        let size = size as u64;
        if size > lim.max_record_size.0 {
            // Firehose refuses the record (it is not retried).
            prod.stats.rejected += 1;
            self.fh.streams[f].stats.rejected += 1;
            self.msgs.ledger.dropped += 1;
            return;
        }
        if client.batch_records > 0
            && (client.batch_records + 1 > lim.put_batch_max_records as u64
                || client.batch_bytes + size > lim.put_batch_max_bytes.0)
        {
            self.firehose_flush(p);
        }
        let client = self.fh.clients[pi].as_mut().expect("a Firehose producer");
        client.push(now, size, billed_bytes(size), key);
        let first = client.batch_records == 1;
        let full = client.batch_records >= self.producers[pi].spec.batch as u64;
        if full {
            self.firehose_flush(p);
        } else if first {
            let gen = client.linger_gen;
            let linger = self.producers[pi].spec.linger;
            self.at(now + linger, Event::FhLinger { p, gen });
        }
    }

    /// Producer `p`'s partial batch lingered long enough.
    pub(crate) fn on_firehose_linger(&mut self, p: u32, gen: u32) {
        let c = self.fh.clients[p as usize].as_ref();
        if c.is_some_and(|c| c.linger_gen == gen && c.batch_records > 0) {
            self.firehose_flush(p);
        }
    }

    /// Sends producer `p`'s open batch as a PutRecordBatch call.
    fn firehose_flush(&mut self, p: u32) {
        let client = self.fh.clients[p as usize]
            .as_mut()
            .expect("a Firehose producer");
        let call = client.open_call();
        self.firehose_transmit(p, call);
    }

    /// Starts (or retries) call `call` of producer `p`.
    pub(crate) fn firehose_transmit(&mut self, p: u32, call: u32) {
        let client = self.fh.clients[p as usize]
            .as_mut()
            .expect("a Firehose producer");
        let s = &mut self.fh.streams[client.stream as usize];
        let latency = s.spec.api_latency.sample(&mut s.rng);
        client.calls[call as usize].latency = latency;
        self.producers[p as usize].stats.calls += 1;
        let leg = latency.half();
        if leg.is_zero() {
            self.on_firehose_put_arrive(p, call);
        } else {
            self.at(self.now + leg, Event::FhPutArrive { p, call });
        }
    }

    /// A PutRecordBatch call reaches its stream: the quotas admit a prefix of its records,
    /// the rest is retried by the SDK.
    pub(crate) fn on_firehose_put_arrive(&mut self, p: u32, call: u32) {
        let now = self.now;
        let pi = p as usize;
        let client = self.fh.clients[pi].as_mut().expect("a Firehose producer");
        let f = client.stream;
        let s = &mut self.fh.streams[f as usize];
        let c = &mut client.calls[call as usize];
        let k = s.admit(now, c.records, c.bytes);
        let refused = c.records - k;
        if refused > 0 {
            s.stats.throttled += refused;
            self.producers[pi].stats.throttled += refused;
        }
        if k > 0 {
            s.stats.put_calls += 1;
            self.producers[pi].stats.sent += k;
            self.fh.scratch.clear();
            take_prefix(&mut c.runs, k, &mut self.fh.scratch);
            c.records -= k;
            c.bytes = c.runs.iter().map(|r| r.bytes).sum();
            self.firehose_ingest(f);
        }
        let client = self.fh.clients[pi].as_mut().expect("a Firehose producer");
        if client.calls[call as usize].records == 0 {
            client.close_call(call);
            return;
        }
        // Some records were refused: retry them with back-off, or give up.
        let prod = &mut self.producers[pi];
        let c = &mut client.calls[call as usize];
        if c.attempt < prod.spec.retry.max_attempts {
            let retry = c.attempt;
            c.attempt += 1;
            prod.stats.retries += c.records;
            let response = c.latency - c.latency.half();
            let backoff = prod.spec.retry.backoff(retry, &mut prod.rng);
            self.at(now + response + backoff, Event::FhPutRetry { p, call });
        } else {
            prod.stats.dropped += c.records;
            self.msgs.ledger.dropped += c.records;
            client.close_call(call);
        }
    }

    // ----- other sources ----------------------------------------------------------------

    /// Kinesis source: records read from a shard by the stream's reader, handed on. Each
    /// Kinesis record is billed in 5 KB units of its size (its partition key included, as
    /// the shard counts it).
    pub(crate) fn firehose_from_kinesis(&mut self, f: u32, slices: &[Slice]) {
        self.fh.scratch.clear();
        for sl in slices {
            let lead = sl.mean_lead();
            self.fh.scratch.push(Run {
                first: SimTime(sl.t_first.0.saturating_sub(lead.0)),
                last: SimTime(sl.t_last.0.saturating_sub(lead.0)),
                count: sl.count,
                bytes: sl.bytes,
                billed: sl.units_5k * super::bill::INGEST_ROUNDING_BYTES,
                key: 0,
            });
        }
        self.firehose_ingest(f);
    }

    /// SNS: a message delivered to delivery stream `f` (Direct PUT quotas apply); false
    /// when the quotas refuse it (SNS retries it).
    pub(crate) fn firehose_from_sns(
        &mut self,
        f: u32,
        created: SimTime,
        bytes: u64,
        key: u32,
    ) -> bool {
        let now = self.now;
        let s = &mut self.fh.streams[f as usize];
        if s.admit(now, 1, bytes) == 0 {
            s.stats.throttled += 1;
            return false;
        }
        s.stats.put_calls += 1;
        self.fh.scratch.clear();
        let key = if s.spec.active_partitions.is_some() {
            key
        } else {
            0
        };
        self.fh
            .scratch
            .push(Run::one(created, bytes, billed_bytes(bytes), key));
        self.firehose_ingest(f);
        true
    }

    /// Flink sink: `count` results of `bytes` each, created at `created`, sent with
    /// PutRecordBatch (Direct PUT quotas apply); returns how many were accepted.
    pub(crate) fn firehose_from_flink(
        &mut self,
        f: u32,
        created: SimTime,
        count: u64,
        bytes: u64,
    ) -> u64 {
        let now = self.now;
        let s = &mut self.fh.streams[f as usize];
        let k = s.admit(now, count, count * bytes);
        if k < count {
            s.stats.throttled += count - k;
        }
        if k == 0 {
            return 0;
        }
        s.stats.put_calls += 1;
        self.fh.scratch.clear();
        let mut left = k;
        while left > 0 {
            let n = left.min(u32::MAX as u64);
            self.fh.scratch.push(Run {
                first: created,
                last: created,
                count: n as u32,
                bytes: n * bytes,
                billed: n * billed_bytes(bytes),
                key: 0,
            });
            left -= n;
        }
        self.firehose_ingest(f);
        k
    }

    // ----- buffers ----------------------------------------------------------------------

    /// The runs in `self.fh.scratch` enter stream `f`.
    fn firehose_ingest(&mut self, f: u32) {
        let mut runs = std::mem::take(&mut self.fh.scratch);
        let s = &mut self.fh.streams[f as usize];
        for r in &runs {
            s.stats.records_in += r.count as u64;
            s.stats.bytes_in += r.bytes;
            s.stats.billed_bytes += r.billed;
        }
        let transform = s.spec.transform.is_some();
        for r in runs.drain(..) {
            if transform {
                self.firehose_to_transform(f, r);
            } else {
                self.firehose_to_buffer(f, r);
            }
        }
        self.fh.scratch = runs;
        self.firehose_zero_interval(f);
    }

    /// With a zero interval ("no buffering") every buffer holding records flushes now.
    fn firehose_zero_interval(&mut self, f: u32) {
        let s = &self.fh.streams[f as usize];
        if let Some(t) = &s.spec.transform {
            if t.buffer_interval.is_zero() && s.tbuf.records > 0 {
                self.firehose_flush_transform(f, FlushBy::Interval);
            }
        }
        let s = &self.fh.streams[f as usize];
        if s.spec.buffer_interval.is_zero() {
            for b in 0..s.buffers.len() {
                if self.fh.streams[f as usize].buffers[b].records > 0 {
                    self.firehose_flush_buffer(f, b as u32, FlushBy::Interval);
                }
            }
        }
    }

    /// A run enters the destination buffer of its partition; full buffers flush (a run is
    /// cut so that an object holds the size hint, to a whole record).
    fn firehose_to_buffer(&mut self, f: u32, mut run: Run) {
        let now = self.now;
        loop {
            let s = &mut self.fh.streams[f as usize];
            let Some(b) = s.buffer_for(run.key) else {
                // Beyond the active-partition quota: to the error output.
                let n = run.count as u64;
                s.stats.partition_overflow += n;
                s.stats.backed_up += n;
                s.stats.backed_up_bytes += run.bytes;
                s.pending_errors += n;
                self.msgs.ledger.backed_up += n;
                return;
            };
            let size = s.spec.buffer_size;
            let interval = s.spec.buffer_interval;
            let buf = &mut s.buffers[b as usize];
            if buf.records == 0 && !interval.is_zero() {
                buf.gen = buf.gen.wrapping_add(1);
                let gen = buf.gen;
                self.at(now + interval, Event::FhBufferTimer { f, b, gen });
            }
            let buf = &mut self.fh.streams[f as usize].buffers[b as usize];
            let Fill::Full(rest) = buf.fill(size, run) else {
                return;
            };
            self.firehose_flush_buffer(f, b, FlushBy::Size);
            match rest {
                Some(r) => run = r,
                None => return,
            }
        }
    }

    /// The interval of buffer `b` of stream `f` is up.
    pub(crate) fn on_firehose_buffer_timer(&mut self, f: u32, b: u32, gen: u32) {
        let buf = &self.fh.streams[f as usize].buffers[b as usize];
        if buf.gen == gen && buf.records > 0 {
            self.firehose_flush_buffer(f, b, FlushBy::Interval);
        }
    }

    /// Buffer `b` becomes one object on its way to the destination.
    fn firehose_flush_buffer(&mut self, f: u32, b: u32, by: FlushBy) {
        let s = &mut self.fh.streams[f as usize];
        match by {
            FlushBy::Size => s.stats.flushes_by_size += 1,
            FlushBy::Interval => s.stats.flushes_by_interval += 1,
        }
        if s.pending_errors > 0 {
            // The error output's object goes with this flush.
            s.pending_errors = 0;
            s.stats.s3_puts += 1;
        }
        let buf = &mut s.buffers[b as usize];
        buf.gen = buf.gen.wrapping_add(1);
        // Grows the buckets to reach the size; clamped only if that allocation failed.
        if s.stats.object_bytes.record(buf.bytes.max(1)).is_err() {
            s.stats.object_bytes.saturating_record(buf.bytes.max(1));
        }
        let phase = if s.spec.destination.kind == DestinationKind::Redshift {
            Phase::Stage
        } else {
            Phase::Deliver
        };
        let d = s.deliveries.open(&mut buf.runs, phase);
        buf.records = 0;
        buf.bytes = 0;
        s.release_buffer(b);
        self.firehose_start_delivery(f, d);
    }

    // ----- transformation ---------------------------------------------------------------

    /// A run enters the transformation's buffer.
    fn firehose_to_transform(&mut self, f: u32, mut run: Run) {
        let now = self.now;
        loop {
            let s = &mut self.fh.streams[f as usize];
            let t = s.spec.transform.as_ref().expect("a transformation");
            let (size, interval) = (t.buffer_size, t.buffer_interval);
            let buf = &mut s.tbuf;
            if buf.records == 0 && !interval.is_zero() {
                buf.gen = buf.gen.wrapping_add(1);
                let gen = buf.gen;
                self.at(now + interval, Event::FhTransformTimer { f, gen });
            }
            let buf = &mut self.fh.streams[f as usize].tbuf;
            let Fill::Full(rest) = buf.fill(size, run) else {
                return;
            };
            self.firehose_flush_transform(f, FlushBy::Size);
            match rest {
                Some(r) => run = r,
                None => return,
            }
        }
    }

    /// The interval of stream `f`'s transformation buffer is up.
    pub(crate) fn on_firehose_transform_timer(&mut self, f: u32, gen: u32) {
        let buf = &self.fh.streams[f as usize].tbuf;
        if buf.gen == gen && buf.records > 0 {
            self.firehose_flush_transform(f, FlushBy::Interval);
        }
    }

    /// The transformation's buffer becomes one invocation.
    fn firehose_flush_transform(&mut self, f: u32, _by: FlushBy) {
        let s = &mut self.fh.streams[f as usize];
        s.tbuf.gen = s.tbuf.gen.wrapping_add(1);
        let i = s.invocations.open(&mut s.tbuf.runs, Phase::Transform);
        s.tbuf.records = 0;
        s.tbuf.bytes = 0;
        let limit = s.spec.transform.as_ref().map_or(1, |t| t.concurrency);
        if s.running_invocations < limit {
            s.running_invocations += 1;
            self.firehose_invoke(f, i);
        } else {
            s.waiting_invocations.push_back(i);
        }
    }

    /// Invokes the function on invocation `i`'s records.
    fn firehose_invoke(&mut self, f: u32, i: u32) {
        let s = &mut self.fh.streams[f as usize];
        let t = s.spec.transform.as_ref().expect("a transformation");
        let d = t.duration.sample(&mut s.rng);
        s.stats.invocations += 1;
        s.stats.invoke_ns += d.0 as u128;
        s.invocations.slots[i as usize].attempts += 1;
        self.at(self.now + d, Event::FhInvokeDone { f, i });
    }

    /// Invocation `i` returned (or failed).
    pub(crate) fn on_firehose_invoke_done(&mut self, f: u32, i: u32) {
        let s = &mut self.fh.streams[f as usize];
        // The settings this handler reads, copied out (the spec's distributions are not
        // cloned per invocation).
        let t = {
            let t = s.spec.transform.as_ref().expect("a transformation");
            TransformOutcome {
                failure_probability: t.failure_probability,
                record_failure_probability: t.record_failure_probability,
                retries: t.retries,
                output_ratio: t.output_ratio,
            }
        };
        if t.failure_probability > 0.0 && s.rng.random::<f64>() < t.failure_probability {
            s.stats.invocation_failures += 1;
            if s.invocations.slots[i as usize].attempts <= t.retries {
                return self.firehose_invoke(f, i);
            }
            // Retries exhausted: the records go to the error output.
            let b = &s.invocations.slots[i as usize];
            let (n, bytes) = (b.records, b.bytes);
            s.stats.transform_failed += n;
            s.stats.backed_up += n;
            s.stats.backed_up_bytes += bytes;
            s.pending_errors += n;
            self.msgs.ledger.backed_up += n;
            s.invocations.close(i);
        } else {
            let mut runs = std::mem::take(&mut s.invocations.slots[i as usize].runs);
            let mut out = std::mem::take(&mut self.fh.out);
            out.clear();
            let mut failed = 0u64;
            let mut failed_bytes = 0u64;
            for r in runs.drain(..) {
                let k = if t.record_failure_probability > 0.0 {
                    Binomial::new(r.count as u64, t.record_failure_probability)
                        .map(|b| b.sample(&mut s.rng))
                        .unwrap_or(0)
                } else {
                    0
                };
                let mut ok = r;
                if k >= r.count as u64 {
                    failed += r.count as u64;
                    failed_bytes += r.bytes;
                    continue;
                } else if k > 0 {
                    let (a, b) = r.split(r.count - k as u32);
                    ok = a;
                    failed += b.count as u64;
                    failed_bytes += b.bytes;
                }
                if t.output_ratio != 1.0 {
                    ok.bytes = (ok.bytes as f64 * t.output_ratio).round() as u64;
                }
                out.push(ok);
            }
            if failed > 0 {
                s.stats.transform_failed += failed;
                s.stats.backed_up += failed;
                s.stats.backed_up_bytes += failed_bytes;
                s.pending_errors += failed;
                self.msgs.ledger.backed_up += failed;
            }
            s.invocations.slots[i as usize].runs = runs;
            s.invocations.close(i);
            for r in out.drain(..) {
                self.firehose_to_buffer(f, r);
            }
            self.fh.out = out;
            self.firehose_zero_interval(f);
        }
        let s = &mut self.fh.streams[f as usize];
        match s.waiting_invocations.pop_front() {
            Some(next) => self.firehose_invoke(f, next),
            None => s.running_invocations -= 1,
        }
    }

    // ----- delivery ---------------------------------------------------------------------

    /// Delivery `d` starts, or waits for a slot of the destination's concurrency.
    fn firehose_start_delivery(&mut self, f: u32, d: u32) {
        let s = &mut self.fh.streams[f as usize];
        if s.deliveries.slots[d as usize].phase == Phase::Stage {
            return self.firehose_attempt(f, d);
        }
        if s.running_deliveries < s.spec.destination.concurrency {
            s.running_deliveries += 1;
            self.firehose_attempt(f, d);
        } else {
            s.waiting_deliveries.push_back(d);
        }
    }

    /// One attempt of delivery `d`: a PUT, a request, a staging PUT or a COPY.
    fn firehose_attempt(&mut self, f: u32, d: u32) {
        let s = &mut self.fh.streams[f as usize];
        let dest = &s.spec.destination;
        let latency = match s.deliveries.slots[d as usize].phase {
            Phase::Copy => dest.copy_duration.sample(&mut s.rng),
            _ => dest.latency.sample(&mut s.rng),
        };
        s.deliveries.slots[d as usize].attempts += 1;
        self.at(self.now + latency, Event::FhDeliveryDone { f, d });
    }

    /// A failed delivery attempt is retried.
    pub(crate) fn on_firehose_delivery_retry(&mut self, f: u32, d: u32) {
        self.firehose_attempt(f, d);
    }

    /// Delivery `d`'s attempt ended.
    pub(crate) fn on_firehose_delivery_done(&mut self, f: u32, d: u32) {
        let now = self.now;
        let s = &mut self.fh.streams[f as usize];
        let phase = s.deliveries.slots[d as usize].phase;
        match phase {
            Phase::Stage => {
                s.stats.s3_puts += 1;
                s.stats.objects += 1;
                s.deliveries.slots[d as usize].phase = Phase::Staged;
                s.staged.push(d);
                self.firehose_maybe_copy(f);
            }
            Phase::Deliver | Phase::Copy => {
                let dest = &s.spec.destination;
                let fails = dest.kind != DestinationKind::S3
                    && (dest.outages.iter().any(|w| w.from <= now && now < w.until)
                        || (dest.failure_probability > 0.0
                            && s.rng.random::<f64>() < dest.failure_probability));
                if fails {
                    s.stats.delivery_failures += 1;
                    let (retry_duration, retry_interval) =
                        (dest.retry_duration, dest.retry_interval);
                    let b = &mut s.deliveries.slots[d as usize];
                    let first = *b.first_failure.get_or_insert(now);
                    if since(first, now + retry_interval) <= retry_duration {
                        s.stats.delivery_retries += 1;
                        self.at(now + retry_interval, Event::FhDeliveryRetry { f, d });
                        return;
                    }
                    // The retry duration is spent: to the S3 backup.
                    if phase == Phase::Copy {
                        let batches = std::mem::take(&mut s.copying);
                        for c in &batches {
                            self.firehose_backup(f, *c, false);
                        }
                        self.fh.streams[f as usize].copying = batches;
                        self.fh.streams[f as usize].copying.clear();
                        return self.firehose_maybe_copy(f);
                    }
                    self.firehose_backup(f, d, true);
                } else if phase == Phase::Copy {
                    let batches = std::mem::take(&mut s.copying);
                    for c in &batches {
                        self.firehose_land(f, *c);
                    }
                    self.fh.streams[f as usize].copying = batches;
                    self.fh.streams[f as usize].copying.clear();
                    return self.firehose_maybe_copy(f);
                } else {
                    if dest.kind == DestinationKind::S3 {
                        s.stats.s3_puts += 1;
                    }
                    s.stats.objects += 1;
                    self.firehose_land(f, d);
                }
                let s = &mut self.fh.streams[f as usize];
                match s.waiting_deliveries.pop_front() {
                    Some(next) => self.firehose_attempt(f, next),
                    None => s.running_deliveries -= 1,
                }
            }
            Phase::Transform | Phase::Staged => {
                debug_assert!(false, "delivery event in phase {phase:?}")
            }
        }
    }

    /// Redshift: with no COPY running, one starts on every staged batch.
    fn firehose_maybe_copy(&mut self, f: u32) {
        let s = &mut self.fh.streams[f as usize];
        if !s.copying.is_empty() || s.staged.is_empty() {
            return;
        }
        std::mem::swap(&mut s.copying, &mut s.staged);
        for c in &s.copying {
            let b = &mut s.deliveries.slots[*c as usize];
            b.phase = Phase::Copy;
            b.attempts = 0;
            b.first_failure = None;
        }
        s.stats.copy_commands += 1;
        let head = s.copying[0];
        self.firehose_attempt(f, head);
    }

    /// Delivery `d` landed at the destination now.
    fn firehose_land(&mut self, f: u32, d: u32) {
        let now = self.now;
        let s = &mut self.fh.streams[f as usize];
        let b = &s.deliveries.slots[d as usize];
        let ep = &mut self.insight.points[self.insight.firehoses[f as usize] as usize];
        for r in &b.runs {
            let n = r.count as u64;
            if n > 1 {
                s.stats.freshness.record_n(since(r.mid(), now), n - 1);
            }
            s.stats.freshness.record(since(r.first, now));
            ep.stats
                .record_span(since(r.first, now), since(r.last, now), n, ep.runs);
        }
        s.stats.delivered += b.records;
        s.stats.delivered_bytes += b.bytes;
        self.msgs.ledger.processed += b.records;
        if self.insight.points[self.insight.firehoses[f as usize] as usize].intermediate {
            let runs =
                std::mem::take(&mut self.fh.streams[f as usize].deliveries.slots[d as usize].runs);
            self.batch_landed(f, &runs);
            self.fh.streams[f as usize].deliveries.slots[d as usize].runs = runs;
        }
        self.fh.streams[f as usize].deliveries.close(d);
    }

    /// Delivery `d` goes to the S3 backup (`put`: one backup object is written; a
    /// Redshift batch is in S3 already).
    fn firehose_backup(&mut self, f: u32, d: u32, put: bool) {
        let s = &mut self.fh.streams[f as usize];
        let b = &s.deliveries.slots[d as usize];
        s.stats.backed_up += b.records;
        s.stats.backed_up_bytes += b.bytes;
        s.stats.backups += 1;
        if put {
            s.stats.s3_puts += 1;
        }
        self.msgs.ledger.backed_up += b.records;
        s.deliveries.close(d);
    }

    // ----- lifecycle --------------------------------------------------------------------

    /// Counters restart at the end of the warm-up.
    pub(crate) fn firehose_warmup_end(&mut self) {
        for s in &mut self.fh.streams {
            s.reset_stats();
        }
    }

    /// Fills the Firehose columns of a time-series row from column `i`; returns the next.
    pub(crate) fn firehose_sample(
        &self,
        row: &mut [f64],
        counts: &mut [u64],
        mut i: usize,
    ) -> usize {
        let now = self.now;
        let dt = self.sample_every.as_secs_f64();
        let first = now == SimTime::ZERO;
        let mut rate = |i: usize, total: u64| sample_rate(counts, i, total, dt, first);
        for s in &self.fh.streams {
            row[i] = rate(i, s.stats.records_in);
            row[i + 1] = rate(i + 1, s.stats.delivered);
            row[i + 2] = s.buffered().1 as f64;
            row[i + 3] = s.oldest().map_or(0.0, |t| since(t, now).as_secs_f64());
            i += 4;
        }
        i
    }

    /// Adds the Firehose records to the end-of-run census.
    pub(crate) fn firehose_census(&self, a: &mut Accounting) {
        for s in &self.fh.streams {
            let (waiting, transit) = s.census();
            a.waiting += waiting;
            a.in_transit += transit;
        }
        for c in self.fh.clients.iter().flatten() {
            a.in_transit += c.in_transit();
        }
    }

    /// Firehose, S3 and transformation usage over the measured window.
    pub(crate) fn firehose_usage(&self) -> (Vec<FirehoseUsage>, Vec<S3Usage>, Vec<LambdaUsage>) {
        // AZ-hours of the window; AWS's rounding of partial hours applies to the month the
        // window is scaled to, where it does not matter.
        let hours = self.arch.duration.as_secs_f64() / 3600.0;
        let mut fh = Vec::new();
        let mut s3 = Vec::new();
        let mut lambda = Vec::new();
        for s in &self.fh.streams {
            let spec = &s.spec;
            let st = &s.stats;
            let partitioned = spec.active_partitions.is_some();
            fh.push(FirehoseUsage {
                name: spec.name.clone(),
                source: match spec.input {
                    FirehoseInput::DirectPut => FirehoseSource::DirectPut,
                    FirehoseInput::Kinesis(_) => FirehoseSource::Kinesis,
                },
                ingest_billed_bytes: st.billed_bytes,
                format_conversion: spec.format_conversion.is_some(),
                vpc_az_hours: spec.vpc_subnets as f64 * hours,
                vpc_bytes: if spec.vpc_subnets > 0 {
                    st.delivered_bytes
                } else {
                    0
                },
                dynamic_partitioning_bytes: if partitioned { st.delivered_bytes } else { 0 },
                dynamic_partitioning_objects: if partitioned { st.objects } else { 0 },
                jq_hours: 0.0,
            });
            let to_s3 = matches!(
                spec.destination.kind,
                DestinationKind::S3 | DestinationKind::Redshift
            );
            s3.push(S3Usage {
                name: format!("firehose:{}", spec.name),
                put_requests: st.s3_puts,
                bytes_written: st.backed_up_bytes + if to_s3 { st.delivered_bytes } else { 0 },
            });
            if spec.transform.is_some() {
                lambda.push(LambdaUsage {
                    name: format!("firehose:{}:transform", spec.name),
                    architecture: LambdaArch::X86_64,
                    requests: st.invocations,
                    extra_requests: 0,
                    gb_seconds: s.transform_gb_seconds(),
                });
            }
        }
        (fh, s3, lambda)
    }

    /// Delivery stream reports, in model order.
    pub(crate) fn firehose_reports(&self) -> Vec<ComponentReport> {
        self.fh
            .streams
            .iter()
            .enumerate()
            .map(|(f, s)| {
                let age = self
                    .kin
                    .readers
                    .iter()
                    .find(|r| r.spec.firehose == Some(f as u32))
                    .map(|r| SimDuration(r.stats.iterator_age_max_ns).as_secs_f64());
                s.report(age)
            })
            .collect()
    }
}
