//! One camera device: its recording, content store and PutMedia uploads, simulated from
//! the start to the end of the run with exact times, and what its video stream counts.
//!
//! The upload link is advanced lazily: [`Device::advance`] completes and starts uploads
//! up to a time, so the simulation does work per fragment and per outage, not per tick.
//! Within that, it is exact: a fragment's upload starts when the link is free, the
//! network is up, the data-rate token bucket admits it and the previous start is at
//! least `1/fragments_per_s` ago, and lasts its size over the uplink.

use super::{CameraSpec, Protocol, Recording, VideoLimits};
use crate::load::Window;
use crate::metrics::latency::LatencyHist;
use crate::sim::{SimDuration, SimRng};
use rand_distr::{Distribution, Exp1};
use std::collections::VecDeque;

/// Nanoseconds per second.
const NS: f64 = 1e9;

/// What a video stream (the template of its cameras' streams) counts, over the measured
/// window unless a field says otherwise.
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamStats {
    /// Streams (one per device).
    pub(crate) streams: u64,
    /// Fragments captured.
    pub(crate) captured: u64,
    /// Bytes captured.
    pub(crate) captured_bytes: u64,
    /// Fragments ingested (uploaded whole).
    pub(crate) fragments: u64,
    /// Bytes ingested.
    pub(crate) bytes_in: u64,
    /// Fragments the data-rate quota made wait (each counted once).
    pub(crate) throttled: u64,
    /// Fragments dropped from a full content store.
    pub(crate) dropped: u64,
    /// Bytes dropped from a full content store.
    pub(crate) dropped_bytes: u64,
    /// Fragments refused as larger than the largest fragment.
    pub(crate) rejected: u64,
    /// Uploads cut by an outage and retried.
    pub(crate) retried: u64,
    /// Fragments persisted later than `late_after` after their capture.
    pub(crate) late: u64,
    /// Bytes read, by protocol (GetMedia, HLS, DASH).
    pub(crate) bytes_out: [u64; 3],
    /// Capture end → BUFFERING ack at the camera.
    pub(crate) ack_buffering: LatencyHist,
    /// Capture end → RECEIVED ack at the camera.
    pub(crate) ack_received: LatencyHist,
    /// Capture end → PERSISTED ack at the camera.
    pub(crate) ack_persisted: LatencyHist,
    /// HLS/DASH playback latency, one record per viewer and fragment.
    pub(crate) playback: LatencyHist,
    /// Stored bytes × seconds over the measured window.
    pub(crate) stored_byte_s: f64,
    /// Stored bytes: changes at each sample index (prefix sums give the series).
    pub(crate) stored_diff: Vec<f64>,
    /// Bytes in the devices' content stores at each sample.
    pub(crate) store_at_sample: Vec<f64>,
    /// Stored bytes at each sample index (the prefix sums of `stored_diff`, computed once
    /// when every camera is simulated: the sampler reads them instead of summing).
    pub(crate) stored_at_sample: Vec<f64>,
    /// Whole run: fragments captured.
    pub(crate) run_captured: u64,
    /// Whole run: fragments ingested.
    pub(crate) run_ingested: u64,
    /// Whole run: fragments dropped from a full store.
    pub(crate) run_dropped: u64,
    /// Whole run: fragments refused as too large.
    pub(crate) run_rejected: u64,
    /// End of the run: fragments waiting in stores.
    pub(crate) end_waiting: u64,
    /// End of the run: fragments being uploaded.
    pub(crate) end_uploading: u64,
    /// WebRTC: signaling channels (one per stream with WebRTC viewers), active all month.
    pub(crate) signaling_channels: u64,
    /// WebRTC sessions started.
    pub(crate) webrtc_sessions: u64,
    /// WebRTC signaling messages.
    pub(crate) signaling_messages: u64,
    /// TURN minutes (each relayed session rounded up to whole minutes).
    pub(crate) turn_minutes: u64,
}

impl StreamStats {
    /// Empty statistics with room for `samples` samples.
    pub(crate) fn new(samples: usize) -> Self {
        StreamStats {
            stored_diff: vec![0.0; samples + 1],
            store_at_sample: vec![0.0; samples],
            ..StreamStats::default()
        }
    }

    /// Stored bytes at each sample.
    pub(crate) fn stored_series(&self) -> Vec<f64> {
        let mut acc = 0.0;
        self.store_at_sample
            .iter()
            .enumerate()
            .map(|(k, _)| {
                acc += self.stored_diff[k];
                acc.max(0.0)
            })
            .collect()
    }
}

/// The run's clock, for a device.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    /// Start of the measured window, ns.
    pub(crate) measure_from: u64,
    /// End of the run, ns.
    pub(crate) horizon: u64,
    /// Time-series interval, ns.
    pub(crate) sample_every: u64,
}

/// Readers of the streams simulated together, each reading every fragment persisted while
/// it watches; counts already multiplied by the devices they stand for.
#[derive(Clone, Debug)]
pub(crate) struct Reader {
    /// Index of its protocol in [`StreamStats::bytes_out`].
    pub(crate) protocol: usize,
    /// Readers.
    pub(crate) count: u64,
    /// HLS/DASH players: their buffer (they record a playback latency).
    pub(crate) buffer: Option<SimDuration>,
    /// When they watch (`None`: always).
    pub(crate) watching: Option<Recording>,
}

/// Who watches the streams simulated together.
#[derive(Clone, Debug, Default)]
pub(crate) struct Audience {
    /// The readers.
    pub(crate) readers: Vec<Reader>,
}

/// The index of a protocol in [`StreamStats::bytes_out`] (WebRTC media does not go
/// through the stream: none).
pub(crate) fn protocol_index(p: Protocol) -> Option<usize> {
    match p {
        Protocol::GetMedia => Some(0),
        Protocol::Hls => Some(1),
        Protocol::Dash => Some(2),
        Protocol::WebRtc => None,
    }
}

/// A fragment in a content store.
#[derive(Clone, Copy, Debug)]
struct Frag {
    /// End of its capture, ns.
    end: u64,
    /// Bytes.
    bytes: u64,
    /// The data-rate quota made it wait.
    throttled: bool,
}

/// The outage windows of one device, produced in order.
struct Outages<'a> {
    spec: &'a CameraSpec,
    /// Repetition of the scheduled windows.
    rep: u64,
    /// Next scheduled window in the repetition.
    i: usize,
    /// Windows produced and not yet over at the earliest time still queried.
    windows: VecDeque<(u64, u64)>,
    /// Random outages: the end of the last window drawn.
    last_end: u64,
}

impl<'a> Outages<'a> {
    fn new(spec: &'a CameraSpec) -> Self {
        Outages {
            spec,
            rep: 0,
            i: 0,
            windows: VecDeque::new(),
            last_end: 0,
        }
    }

    /// The next window after the ones produced so far.
    fn produce(&mut self, rng: &mut SimRng) -> Option<(u64, u64)> {
        let s = self.spec;
        if let Some(r) = s.random_outages {
            let gap: f64 = Exp1.sample(rng);
            let len: f64 = Exp1.sample(rng);
            let from = self.last_end + (gap * r.mean_every.0 as f64) as u64;
            let until = from + ((len * r.mean_for.0 as f64) as u64).max(1);
            self.last_end = until;
            return Some((from, until));
        }
        if s.outages.is_empty() {
            return None;
        }
        if self.i == s.outages.len() {
            if s.outages_every.is_zero() {
                return None;
            }
            self.i = 0;
            self.rep += 1;
        }
        let w: &Window = &s.outages[self.i];
        self.i += 1;
        let shift = self.rep.saturating_mul(s.outages_every.0);
        Some((
            w.from.0.saturating_add(shift),
            w.until.0.saturating_add(shift),
        ))
    }

    /// The first window that ends after `t`; no later query comes before `floor`, so the
    /// windows over by then are forgotten.
    fn at_or_after(&mut self, t: u64, floor: u64, rng: &mut SimRng) -> Option<(u64, u64)> {
        while self.windows.front().is_some_and(|w| w.1 <= floor) {
            self.windows.pop_front();
        }
        let mut i = 0;
        loop {
            if i == self.windows.len() {
                let w = self.produce(rng)?;
                self.windows.push_back(w);
            }
            if self.windows[i].1 > t {
                return Some(self.windows[i]);
            }
            i += 1;
        }
    }
}

/// One device's state.
struct Device<'a> {
    spec: &'a CameraSpec,
    store: VecDeque<Frag>,
    store_bytes: u64,
    /// The front fragment's upload: (start, end).
    head: Option<(u64, u64)>,
    /// The link is free from here.
    link_t: u64,
    /// Data-rate tokens, bytes, at `tokens_t`.
    tokens: f64,
    tokens_t: u64,
    /// Earliest start of the next upload (fragments-per-second quota).
    next_start: u64,
    outages: Outages<'a>,
    /// Uplink, bytes/ns.
    uplink: f64,
    /// Data-rate quota, bytes/ns, and the bucket's size.
    rate: f64,
    bucket: f64,
    /// Shortest gap between two starts, ns.
    gap: u64,
}

/// What a device run records into, with its weight.
pub(crate) struct Sink<'s> {
    /// The stream's statistics.
    pub(crate) stats: &'s mut StreamStats,
    /// Devices this run stands for.
    pub(crate) weight: u64,
    /// Its viewers.
    pub(crate) audience: &'s Audience,
    /// Retention, ns (0: none).
    pub(crate) retention: u64,
    /// The clock.
    pub(crate) clock: Clock,
}

impl Sink<'_> {
    /// A fragment captured at `end` ... uploaded from `start` to `done`.
    fn ingested(&mut self, spec: &CameraSpec, f: Frag, start: u64, done: u64) {
        let w = self.weight;
        let c = self.clock;
        let st = &mut *self.stats;
        st.run_ingested += w;
        let net = spec.network_latency.0;
        let received = done + net;
        let persisted = received + spec.persist_latency.0;
        if done >= c.measure_from {
            st.fragments += w;
            st.bytes_in += f.bytes * w;
            if f.throttled {
                st.throttled += w;
            }
            let buffering = SimDuration(start + 2 * net - f.end);
            st.ack_buffering.record_n(buffering, w);
            st.ack_received
                .record_n(SimDuration(received + net - f.end), w);
            let ack = SimDuration(persisted + net - f.end);
            st.ack_persisted.record_n(ack, w);
            if ack > spec.late_after {
                st.late += w;
            }
            let first_frame = f.end - spec.fragment_duration.0;
            for r in &self.audience.readers {
                if r.watching.is_some_and(|w| !w.contains(persisted)) {
                    continue;
                }
                st.bytes_out[r.protocol] += f.bytes * r.count;
                if let Some(buffer) = r.buffer {
                    st.playback
                        .record_n(SimDuration(persisted - first_frame + buffer.0), r.count);
                }
            }
        }
        if self.retention > 0 {
            let (from, until) = (persisted, persisted.saturating_add(self.retention));
            let lo = from.max(c.measure_from);
            let hi = until.min(c.horizon);
            if hi > lo {
                st.stored_byte_s += (f.bytes * w) as f64 * ((hi - lo) as f64 / NS);
            }
            let b = (f.bytes * w) as f64;
            let n = st.stored_diff.len();
            let k0 = from.div_ceil(c.sample_every) as usize;
            let k1 = until.div_ceil(c.sample_every) as usize;
            if k0 < n {
                st.stored_diff[k0] += b;
            }
            if k1 < n {
                st.stored_diff[k1] -= b;
            }
        }
    }
}

impl<'a> Device<'a> {
    fn new(spec: &'a CameraSpec, limits: &VideoLimits) -> Self {
        let rate = limits.put_media_bytes_per_s as f64 / NS;
        Device {
            spec,
            store: VecDeque::new(),
            store_bytes: 0,
            head: None,
            link_t: 0,
            tokens: limits.put_media_bytes_per_s as f64,
            tokens_t: 0,
            next_start: 0,
            outages: Outages::new(spec),
            uplink: spec.uplink_kbps * 125.0 / NS,
            rate,
            bucket: limits.put_media_bytes_per_s as f64,
            gap: (NS / limits.put_media_fragments_per_s.max(1) as f64) as u64,
        }
    }

    /// Tokens at `t` (≥ `tokens_t`).
    fn tokens_at(&self, t: u64) -> f64 {
        (self.tokens + (t - self.tokens_t) as f64 * self.rate).min(self.bucket)
    }

    /// Completes and starts uploads up to `t`.
    fn advance(&mut self, t: u64, rng: &mut SimRng, sink: &mut Sink<'_>) {
        loop {
            if let Some((start, end)) = self.head {
                let cut = self
                    .outages
                    .at_or_after(start, self.link_t, rng)
                    .filter(|&(from, _)| from < end);
                match cut {
                    Some((from, until)) if from <= t => {
                        // The outage cuts the upload: retried from its start afterwards.
                        self.head = None;
                        self.link_t = until;
                        if from >= sink.clock.measure_from {
                            sink.stats.retried += sink.weight;
                        }
                        continue;
                    }
                    Some(_) => return,
                    None if end <= t => {
                        let f = self.store.pop_front().expect("an upload has its fragment");
                        self.store_bytes -= f.bytes;
                        self.head = None;
                        self.link_t = end;
                        sink.ingested(self.spec, f, start, end);
                        continue;
                    }
                    None => return,
                }
            }
            let Some(front) = self.store.front().copied() else {
                return;
            };
            let mut s = self.link_t.max(front.end).max(self.next_start);
            loop {
                if let Some((from, until)) = self.outages.at_or_after(s, self.link_t, rng) {
                    if from <= s {
                        s = until;
                        continue;
                    }
                }
                let need = (front.bytes as f64).min(self.bucket);
                let have = self.tokens_at(s.max(self.tokens_t));
                if have + 1e-6 < need {
                    self.store[0].throttled = true;
                    s = s.max(self.tokens_t) + ceil_ns((need - have) / self.rate);
                    continue;
                }
                break;
            }
            if s > t {
                return;
            }
            let at = s.max(self.tokens_t);
            self.tokens = self.tokens_at(at) - front.bytes as f64;
            self.tokens_t = at;
            self.next_start = s + self.gap;
            let end = s + ceil_ns(front.bytes as f64 / self.uplink).max(1);
            self.head = Some((s, end));
        }
    }

    /// A fragment of `bytes` captured at `end` enters the store; the oldest fragments
    /// leave a full one.
    fn capture(&mut self, end: u64, bytes: u64, limits: &VideoLimits, sink: &mut Sink<'_>) {
        let w = sink.weight;
        let measured = end >= sink.clock.measure_from;
        sink.stats.run_captured += w;
        if measured {
            sink.stats.captured += w;
            sink.stats.captured_bytes += bytes * w;
        }
        if bytes > limits.fragment_size_max.0 {
            sink.stats.run_rejected += w;
            if measured {
                sink.stats.rejected += w;
            }
            return;
        }
        self.store.push_back(Frag {
            end,
            bytes,
            throttled: false,
        });
        self.store_bytes += bytes;
        while self.store_bytes > self.spec.content_store {
            // The oldest fragment not being uploaded leaves (one being uploaded has its
            // quota spent and its bytes on the wire).
            let i = usize::from(self.head.is_some());
            let Some(f) = self.store.remove(i) else {
                break;
            };
            self.store_bytes -= f.bytes;
            sink.stats.run_dropped += w;
            if measured {
                sink.stats.dropped += w;
                sink.stats.dropped_bytes += f.bytes * w;
            }
        }
    }
}

/// The capture ends of a camera's fragments, in order, up to `horizon`.
fn next_capture(spec: &CameraSpec, k: &mut u64, window: &mut u64, horizon: u64) -> Option<u64> {
    let f = spec.fragment_duration.0;
    match spec.recording {
        None => {
            *k += 1;
            let t = k.checked_mul(f)?;
            (t <= horizon).then_some(t)
        }
        Some(r) => loop {
            let per = r.length.0 / f;
            if *k >= per {
                if r.every.is_zero() {
                    return None;
                }
                *k = 0;
                *window += 1;
            }
            let start = r.from.0.checked_add(window.checked_mul(r.every.0)?)?;
            *k += 1;
            let t = start.checked_add(*k * f)?;
            if t > horizon {
                return None;
            }
            if *k <= per {
                return Some(t);
            }
        },
    }
}

/// Simulates one device (standing for `sink.weight` identical ones) over the whole run.
pub(crate) fn run_device(
    spec: &CameraSpec,
    limits: &VideoLimits,
    rng: &mut SimRng,
    sink: &mut Sink<'_>,
) {
    let c = sink.clock;
    let mut d = Device::new(spec, limits);
    let constant = match spec.bitrate_kbps {
        crate::load::Dist::Constant(v) => Some(bytes_of(v, spec.fragment_duration)),
        _ => None,
    };
    let samples = sink.stats.store_at_sample.len();
    let mut next_sample = 0usize;
    let (mut k, mut window) = (0u64, 0u64);
    while let Some(t) = next_capture(spec, &mut k, &mut window, c.horizon) {
        while next_sample < samples && (next_sample as u64) * c.sample_every <= t {
            let at = next_sample as u64 * c.sample_every;
            d.advance(at, rng, sink);
            sink.stats.store_at_sample[next_sample] += (d.store_bytes * sink.weight) as f64;
            next_sample += 1;
        }
        d.advance(t, rng, sink);
        let bytes = match (&spec.bitrate_load, constant) {
            (Some(load), _) => {
                let start = crate::sim::SimTime(t - spec.fragment_duration.0);
                bytes_of(load.rate_at(start), spec.fragment_duration)
            }
            (None, Some(b)) => b,
            (None, None) => bytes_of(spec.bitrate_kbps.sample(rng), spec.fragment_duration),
        };
        d.capture(t, bytes, limits, sink);
    }
    while next_sample < samples {
        let at = (next_sample as u64 * c.sample_every).min(c.horizon);
        d.advance(at, rng, sink);
        sink.stats.store_at_sample[next_sample] += (d.store_bytes * sink.weight) as f64;
        next_sample += 1;
    }
    d.advance(c.horizon, rng, sink);
    let uploading = u64::from(d.head.is_some());
    sink.stats.end_uploading += uploading * sink.weight;
    sink.stats.end_waiting += (d.store.len() as u64 - uploading) * sink.weight;
}

/// Bytes of a fragment of `duration` at `kbps` (1 kbit/s = 125 bytes/s), at least 1.
pub(crate) fn bytes_of(kbps: f64, duration: SimDuration) -> u64 {
    // `x + 0.5` truncated rounds a non-negative `x` (f64::round is a libm call here).
    ((kbps * 125.0 * duration.as_secs_f64() + 0.5) as u64).max(1)
}

/// `x` (≥ 0) rounded up to a whole number of nanoseconds (f64::ceil is a libm call on
/// the baseline x86-64 target, and this runs once or twice per fragment).
#[inline]
fn ceil_ns(x: f64) -> u64 {
    let t = x as u64;
    if (t as f64) < x {
        t + 1
    } else {
        t
    }
}

/// The WebRTC sessions of one watched stream's `viewers` viewers of `spec` over the run:
/// Poisson starts at `viewers × sessions_per_day` a day, kept inside the `watching`
/// windows; those starting in the measured window are counted.
pub(crate) fn run_webrtc(
    spec: &super::WebRtcSpec,
    viewers: u64,
    watching: Option<&Recording>,
    clock: Clock,
    rng: &mut SimRng,
    stats: &mut StreamStats,
) {
    use rand::Rng;
    let rate_per_ns = spec.sessions_per_day * viewers as f64 / 86_400.0 / NS;
    if rate_per_ns <= 0.0 {
        return;
    }
    let mut t = 0.0f64;
    loop {
        let gap: f64 = Exp1.sample(rng);
        t += gap / rate_per_ns;
        if t > clock.horizon as f64 {
            return;
        }
        let at = t as u64;
        if watching.is_some_and(|w| !w.contains(at)) || at < clock.measure_from {
            continue;
        }
        stats.webrtc_sessions += 1;
        stats.signaling_messages += spec.messages_per_session as u64;
        let length = spec.session_length.sample(rng);
        if rng.random::<f64>() < spec.turn_share {
            stats.turn_minutes += length.0.div_ceil(60 * 1_000_000_000).max(1);
        }
    }
}
