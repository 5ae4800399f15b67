//! Kinesis Video Streams in the engine: every camera is simulated when the run starts
//! (see `super::device`: nothing downstream feeds back into a camera); the samples, the
//! census, the usage and the reports read what that recorded.

use super::bill::VideoUsage;
use super::device::{
    protocol_index, run_device, run_webrtc, Audience, Clock, Reader, Sink, StreamStats,
};
use super::{CameraSpec, Protocol, VideoSpecs};
use crate::engine::Engine;
use crate::metrics::summary::ComponentReport;
use crate::metrics::Accounting;
use crate::model::Architecture;
use crate::pricing::BYTES_PER_GB;
use crate::sim::{rng, SimDuration};
use serde_json::json;

/// The video streams' statistics, one per `[[video_stream]]`.
pub(crate) struct Video {
    /// Per video stream.
    pub(crate) streams: Vec<StreamStats>,
}

/// The viewers of devices `lo..hi` of camera `cam` (they see the same viewers), each
/// count multiplied by `weight`.
fn audience(specs: &VideoSpecs, cam: &CameraSpec, device: u32, weight: u64) -> Audience {
    let mut a = Audience::default();
    for v in specs.viewers.iter().filter(|v| v.stream == cam.stream) {
        if !watched(v.share, cam.count, device) {
            continue;
        }
        let Some(protocol) = protocol_index(v.protocol) else {
            continue;
        };
        let playback = matches!(v.protocol, Protocol::Hls | Protocol::Dash);
        a.readers.push(Reader {
            protocol,
            count: v.per_stream as u64 * weight,
            buffer: playback.then(|| {
                cam.fragment_duration
                    .saturating_mul(v.buffer_fragments as u64)
            }),
            watching: v.watching,
        });
    }
    a
}

/// True when device `i` of `count` is among the `share` watched (the first ones).
fn watched(share: f64, count: u32, i: u32) -> bool {
    (i as f64) < (share * count as f64).round()
}

impl Video {
    /// Simulates every camera of `arch` over the whole run.
    pub(crate) fn new(arch: &Architecture, seed: u64, sample_every: SimDuration) -> Self {
        let specs = &arch.video;
        let horizon = arch.horizon().0;
        let every = sample_every.0.max(1);
        let samples = (horizon / every) as usize + 1;
        let mut streams: Vec<StreamStats> = specs
            .streams
            .iter()
            .map(|_| StreamStats::new(samples))
            .collect();
        let clock = Clock {
            measure_from: arch.warmup.0,
            horizon,
            sample_every: every,
        };
        for cam in &specs.cameras {
            let stats = &mut streams[cam.stream as usize];
            stats.streams += cam.count as u64;
            let retention = specs.streams[cam.stream as usize].retention.0;
            if cam.identical_devices() {
                // One run per set of devices with the same viewers.
                let mut bounds: Vec<u32> = vec![0, cam.count];
                for v in specs.viewers.iter().filter(|v| v.stream == cam.stream) {
                    let n = (v.share * cam.count as f64).round() as u32;
                    bounds.push(n.min(cam.count));
                }
                bounds.sort_unstable();
                bounds.dedup();
                // The devices are identical: the first set's run serves every set, its
                // counts scaled; viewers differ, so each set records its own.
                for w in bounds.windows(2) {
                    let (lo, hi) = (w[0], w[1]);
                    if hi == lo {
                        continue;
                    }
                    let weight = (hi - lo) as u64;
                    let aud = audience(specs, cam, lo, weight);
                    let mut r = rng::stream(seed, &format!("camera:{}", cam.name));
                    let mut sink = Sink {
                        stats,
                        weight,
                        audience: &aud,
                        retention,
                        clock,
                    };
                    run_device(cam, &specs.limits, &mut r, &mut sink);
                }
            } else {
                for i in 0..cam.count {
                    let aud = audience(specs, cam, i, 1);
                    let mut r = rng::stream(seed, &format!("camera:{}:{i}", cam.name));
                    let mut sink = Sink {
                        stats,
                        weight: 1,
                        audience: &aud,
                        retention,
                        clock,
                    };
                    run_device(cam, &specs.limits, &mut r, &mut sink);
                }
            }
        }
        // WebRTC sessions: per watched stream, independent of its fragments.
        for v in &specs.viewers {
            let Some(w) = &v.webrtc else {
                continue;
            };
            for cam in specs.cameras.iter().filter(|c| c.stream == v.stream) {
                let stats = &mut streams[v.stream as usize];
                for i in (0..cam.count).filter(|&i| watched(v.share, cam.count, i)) {
                    stats.signaling_channels += 1;
                    let mut r = rng::stream(seed, &format!("webrtc:{}:{}:{i}", v.name, cam.name));
                    run_webrtc(
                        w,
                        v.per_stream as u64,
                        v.watching.as_ref(),
                        clock,
                        &mut r,
                        stats,
                    );
                }
            }
        }
        for s in &mut streams {
            let mut acc = 0.0;
            s.stored_at_sample = s
                .stored_diff
                .iter()
                .map(|d| {
                    acc += d;
                    acc.max(0.0)
                })
                .collect();
        }
        Video { streams }
    }

    /// The time-series columns, per video stream.
    pub(crate) fn columns(arch: &Architecture) -> Vec<String> {
        let mut c = Vec::new();
        for s in &arch.video.streams {
            c.push(format!("video.{}.stored_gb", s.name));
            c.push(format!("video.{}.device_store_mb", s.name));
        }
        c
    }
}

impl Engine<'_> {
    /// Writes the video columns of the sample at `now` from `i`; returns the next column.
    pub(crate) fn video_sample(&self, row: &mut [f64], mut i: usize) -> usize {
        let k = (self.now.0 / self.sample_every.0.max(1)) as usize;
        for s in &self.video.streams {
            let stored = s.stored_at_sample.get(k).copied().unwrap_or(0.0);
            row[i] = stored / BYTES_PER_GB;
            row[i + 1] = s.store_at_sample.get(k).copied().unwrap_or(0.0) / (1u64 << 20) as f64;
            i += 2;
        }
        i
    }

    /// Adds the fragments of every camera to the end-of-run census.
    pub(crate) fn video_census(&self, a: &mut Accounting) {
        for s in &self.video.streams {
            a.produced += s.run_captured;
            a.processed += s.run_ingested;
            a.dropped += s.run_dropped;
            a.lost += s.run_rejected;
            a.waiting += s.end_waiting;
            a.in_transit += s.end_uploading;
        }
    }

    /// Video usage over the measured window.
    pub(crate) fn video_usage(&self) -> Vec<VideoUsage> {
        self.arch
            .video
            .streams
            .iter()
            .zip(&self.video.streams)
            .map(|(spec, s)| VideoUsage {
                name: spec.name.clone(),
                ingested_bytes: s.bytes_in,
                consumed_bytes: s.bytes_out[0],
                hls_bytes: s.bytes_out[1],
                dash_bytes: s.bytes_out[2],
                stored_gb_hours: s.stored_byte_s / BYTES_PER_GB / 3600.0,
                signaling_channels: s.signaling_channels,
                signaling_messages: s.signaling_messages,
                turn_minutes: s.turn_minutes,
            })
            .collect()
    }

    /// One report per video stream.
    pub(crate) fn video_reports(&self) -> Vec<ComponentReport> {
        let window_s = self.arch.duration.as_secs_f64();
        let from = (self.measure_from.0 / self.sample_every.0.max(1)) as usize;
        self.arch
            .video
            .streams
            .iter()
            .zip(&self.video.streams)
            .map(|(spec, s)| {
                let series = s.stored_series();
                let measured = &series[from.min(series.len())..];
                let max = measured.iter().copied().fold(0.0, f64::max) / BYTES_PER_GB;
                let mean = if window_s > 0.0 {
                    s.stored_byte_s / window_s / BYTES_PER_GB
                } else {
                    0.0
                };
                let mut r = ComponentReport::new("video_stream", &spec.name);
                r.count("streams", s.streams)
                    .real("retention_h", spec.retention.as_secs_f64() / 3600.0)
                    .count("captured", s.captured)
                    .count("captured_bytes", s.captured_bytes)
                    .count("fragments", s.fragments)
                    .count("bytes_in", s.bytes_in)
                    .real(
                        "ingest_mbit_s",
                        s.bytes_in as f64 * 8.0 / 1e6 / window_s.max(f64::MIN_POSITIVE),
                    )
                    .count("throttled", s.throttled)
                    .count("dropped_at_device", s.dropped)
                    .count("dropped_bytes", s.dropped_bytes)
                    .count("rejected", s.rejected)
                    .count("retried", s.retried)
                    .count("late", s.late)
                    .latency("ack_buffering_s", &s.ack_buffering)
                    .latency("ack_received_s", &s.ack_received)
                    .latency("ack_persisted_s", &s.ack_persisted)
                    .value(
                        "bytes_out",
                        json!({
                            "getmedia": s.bytes_out[0],
                            "hls": s.bytes_out[1],
                            "dash": s.bytes_out[2],
                        }),
                    )
                    .latency("playback_latency_s", &s.playback)
                    .value("stored_gb", json!({ "mean": mean, "max": max }))
                    .count("active_signaling_channels", s.signaling_channels)
                    .count("webrtc_sessions", s.webrtc_sessions)
                    .count("signaling_messages", s.signaling_messages)
                    .count("turn_minutes", s.turn_minutes)
                    .headline(&[
                        "streams",
                        "fragments",
                        "bytes_in",
                        "throttled",
                        "dropped_at_device",
                        "late",
                    ]);
                r
            })
            .collect()
    }
}
