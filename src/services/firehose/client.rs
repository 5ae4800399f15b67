//! A producer's Firehose client: records wait in a PutRecordBatch batch (≤ 500 records,
//! ≤ 4 MiB) until it is full or has lingered, then travel as one call, retried by the
//! SDK for the records the stream refused. Records are held as runs (`super::stream::Run`),
//! never one by one.

use super::stream::Run;
use crate::sim::{SimDuration, SimTime};

/// One PutRecordBatch call in progress.
#[derive(Clone, Debug, Default)]
pub(crate) struct PutCall {
    /// Its records, as runs.
    pub(crate) runs: Vec<Run>,
    /// Records.
    pub(crate) records: u64,
    /// Bytes.
    pub(crate) bytes: u64,
    /// Attempt number (1 = first).
    pub(crate) attempt: u32,
    /// Latency of the current attempt (the response leg is its second half).
    pub(crate) latency: SimDuration,
}

/// The Firehose client of one producer.
#[derive(Clone, Debug)]
pub(crate) struct FirehoseClient {
    /// The delivery stream (index).
    pub(crate) stream: u32,
    /// Split runs at each change of partition key (dynamic partitioning).
    pub(crate) by_key: bool,
    /// The open batch.
    pub(crate) batch: Vec<Run>,
    /// Records in the open batch.
    pub(crate) batch_records: u64,
    /// Bytes in the open batch.
    pub(crate) batch_bytes: u64,
    /// Generation of the open batch's linger timer.
    pub(crate) linger_gen: u32,
    /// Calls in progress (slab).
    pub(crate) calls: Vec<PutCall>,
    free: Vec<u32>,
}

impl FirehoseClient {
    /// A client of delivery stream `stream`.
    pub(crate) fn new(stream: u32, by_key: bool) -> Self {
        FirehoseClient {
            stream,
            by_key,
            batch: Vec::new(),
            batch_records: 0,
            batch_bytes: 0,
            linger_gen: 0,
            calls: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Adds a record created at `now` to the open batch.
    #[inline]
    pub(crate) fn push(&mut self, now: SimTime, bytes: u64, billed: u64, key: u32) {
        let key = if self.by_key { key } else { 0 };
        self.batch_records += 1;
        self.batch_bytes += bytes;
        if let Some(last) = self.batch.last_mut() {
            if last.key == key {
                last.last = now;
                last.count += 1;
                last.bytes += bytes;
                last.billed += billed;
                return;
            }
        }
        self.batch.push(Run::one(now, bytes, billed, key));
    }

    /// Moves the open batch into a new call; returns its slot.
    pub(crate) fn open_call(&mut self) -> u32 {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.calls.push(PutCall::default());
                (self.calls.len() - 1) as u32
            }
        };
        let c = &mut self.calls[i as usize];
        c.runs.clear();
        c.runs.append(&mut self.batch);
        c.records = self.batch_records;
        c.bytes = self.batch_bytes;
        c.attempt = 1;
        self.batch_records = 0;
        self.batch_bytes = 0;
        self.linger_gen = self.linger_gen.wrapping_add(1);
        i
    }

    /// Releases a finished call.
    pub(crate) fn close_call(&mut self, i: u32) {
        let c = &mut self.calls[i as usize];
        c.runs.clear();
        c.records = 0;
        c.bytes = 0;
        self.free.push(i);
    }

    /// Records not yet accepted: in the open batch and in calls.
    pub(crate) fn in_transit(&self) -> u64 {
        self.batch_records + self.calls.iter().map(|c| c.records).sum::<u64>()
    }
}

/// Removes the first `k` records of `runs` (splitting a run if needed) into `out`.
pub(crate) fn take_prefix(runs: &mut Vec<Run>, mut k: u64, out: &mut Vec<Run>) {
    let mut used = 0;
    for r in runs.iter_mut() {
        if k == 0 {
            break;
        }
        if (r.count as u64) <= k {
            k -= r.count as u64;
            out.push(*r);
            used += 1;
        } else {
            let (a, b) = r.split(k as u32);
            out.push(a);
            *r = b;
            k = 0;
        }
    }
    runs.drain(..used);
}
