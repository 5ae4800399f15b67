//! Kinesis video streams in the estimate: data ingested, consumed by each kind of viewer
//! and stored in steady state, and each camera's peak bitrate against PutMedia's data
//! rate per stream.

use super::device::protocol_index;
use super::{CameraSpec, Recording};
use crate::estimate::capacity::Capacity;
use crate::estimate::Context;
use crate::load::Dist;
use crate::pricing::BYTES_PER_GB;
use crate::services::video::bill::VideoUsage;

const SVC: &str = "kinesis_video";

/// The long-run fraction of the time a camera records.
///
/// # Formula
/// Repeating windows: `for ÷ every`; a single window: its overlap with the measured
/// window ÷ the window; no schedule: 1.
fn duty(r: Option<&Recording>, warmup_s: f64, duration_s: f64) -> f64 {
    match r {
        None => 1.0,
        Some(r) if !r.every.is_zero() => r.length.as_secs_f64() / r.every.as_secs_f64(),
        Some(r) => {
            let lo = r.from.as_secs_f64().max(warmup_s);
            let hi = (r.from.as_secs_f64() + r.length.as_secs_f64()).min(warmup_s + duration_s);
            ((hi - lo).max(0.0) / duration_s.max(f64::MIN_POSITIVE)).min(1.0)
        }
    }
}

/// Bytes per second one device of `cam` uploads on average: its mean bitrate while it
/// records, at most PutMedia's data rate.
fn device_bytes_per_s(cam: &CameraSpec, quota: f64, warmup_s: f64, duration_s: f64) -> f64 {
    let kbps = match &cam.bitrate_load {
        // A load's mean rate over the measured window.
        Some(a) => {
            let from = crate::sim::SimTime((warmup_s * 1e9) as u64);
            let to = crate::sim::SimTime(((warmup_s + duration_s) * 1e9) as u64);
            a.expected_count(from, to) / duration_s.max(f64::MIN_POSITIVE)
        }
        None => cam.bitrate_kbps.mean(),
    };
    let recording = (kbps * 125.0).min(quota);
    recording * duty(cam.recording.as_ref(), warmup_s, duration_s)
}

/// Estimates every video stream of the model.
///
/// # Formula
/// Per stream: ingested `Σ cameras count × mean bytes/s × duty × month_s`; consumed by
/// each viewer `watched devices × per_stream × a device's bytes`; stored in steady state
/// `ingest bytes/s × retention` held all month (GB-hours = GB × month hours); viewers with
/// a `watching` schedule read its share of the time. WebRTC: a channel per watched stream,
/// `watched × per_stream × sessions_per_day` sessions a day (times the watching share),
/// their messages, and TURN minutes `sessions × turn_share × whole minutes`. Outages
/// and drops are not modelled here (a store large enough for an outage uploads it all
/// later); `aqueduct run` simulates them.
pub(crate) fn estimate_video(cx: &mut Context) {
    let v = &cx.arch.video;
    if v.is_empty() {
        return;
    }
    let warmup_s = cx.arch.warmup.as_secs_f64();
    let duration_s = cx.arch.duration.as_secs_f64();
    let quota = v.limits.put_media_bytes_per_s as f64;
    for (si, s) in v.streams.iter().enumerate() {
        let mut ingest = 0.0;
        let mut out = [0.0f64; 3];
        let (mut channels, mut sessions, mut messages, mut turn) = (0.0, 0.0, 0.0, 0.0);
        for cam in v.cameras.iter().filter(|c| c.stream as usize == si) {
            let per_device = device_bytes_per_s(cam, quota, warmup_s, duration_s);
            ingest += per_device * cam.count as f64;
            for viewer in v.viewers.iter().filter(|w| w.stream as usize == si) {
                let watched = (viewer.share * cam.count as f64).round();
                let watching = duty(viewer.watching.as_ref(), warmup_s, duration_s);
                if let Some(p) = protocol_index(viewer.protocol) {
                    out[p] += watched * viewer.per_stream as f64 * per_device * watching;
                }
                if let Some(w) = &viewer.webrtc {
                    channels += watched;
                    let per_s = watched * viewer.per_stream as f64 * w.sessions_per_day / 86_400.0
                        * watching;
                    sessions += per_s;
                    messages += per_s * w.messages_per_session as f64;
                    // Whole minutes: a constant length exactly, else its mean + ½ minute.
                    let minutes = match w.session_length.0 {
                        Dist::Constant(ns) => (ns / 60e9).ceil().max(1.0),
                        _ => (w.session_length.mean_s() / 60.0 + 0.5).max(1.0),
                    };
                    turn += per_s * w.turn_share * minutes;
                }
            }
            let peak_kbps = match (&cam.bitrate_load, &cam.bitrate_kbps) {
                (Some(_), _) => {
                    device_bytes_per_s(cam, f64::INFINITY, warmup_s, duration_s)
                        / 125.0
                        / duty(cam.recording.as_ref(), warmup_s, duration_s).max(f64::MIN_POSITIVE)
                }
                (None, Dist::Constant(k)) => *k,
                (None, d) => d.mean(),
            };
            cx.capacity.push(Capacity::against(
                SVC,
                &s.name,
                format!("camera \"{}\": PutMedia bytes/s per stream (mean bitrate)", cam.name),
                peak_kbps * 125.0,
                quota,
                "over the data-rate quota: the stream throttles and the content store drops fragments; lower the bitrate or ask for a higher quota",
            ));
        }
        let month_s = cx.month_s;
        cx.usage.video.push(VideoUsage {
            name: s.name.clone(),
            ingested_bytes: (ingest * month_s).round() as u64,
            consumed_bytes: (out[0] * month_s).round() as u64,
            hls_bytes: (out[1] * month_s).round() as u64,
            dash_bytes: (out[2] * month_s).round() as u64,
            stored_gb_hours: ingest * s.retention.as_secs_f64() / BYTES_PER_GB * month_s / 3600.0,
            signaling_channels: channels as u64,
            signaling_messages: (messages * month_s).round() as u64,
            turn_minutes: (turn * month_s).round() as u64,
        });
        let _ = sessions;
    }
    cx.notes.push(
        "video streams: steady state without outages (every fragment recorded is uploaded); `aqueduct run` simulates outages, throttling and drops".into(),
    );
}
