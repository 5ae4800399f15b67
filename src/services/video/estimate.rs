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
    let recording = (cam.bitrate_kbps.mean() * 125.0).min(quota);
    recording * duty(cam.recording.as_ref(), warmup_s, duration_s)
}

/// Estimates every video stream of the model.
///
/// # Formula
/// Per stream: ingested `Σ cameras count × mean bytes/s × duty × month_s`; consumed by
/// each viewer `watched devices × per_stream × a device's bytes`; stored in steady state
/// `ingest bytes/s × retention` held all month (GB-hours = GB × month hours). Outages
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
        for cam in v.cameras.iter().filter(|c| c.stream as usize == si) {
            let per_device = device_bytes_per_s(cam, quota, warmup_s, duration_s);
            ingest += per_device * cam.count as f64;
            for viewer in v.viewers.iter().filter(|w| w.stream as usize == si) {
                let watched = (viewer.share * cam.count as f64).round();
                out[protocol_index(viewer.protocol)] +=
                    watched * viewer.per_stream as f64 * per_device;
            }
            let peak_kbps = match &cam.bitrate_kbps {
                Dist::Constant(k) => *k,
                d => d.mean(),
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
        });
    }
    cx.notes.push(
        "video streams: steady state without outages (every fragment recorded is uploaded); `aqueduct run` simulates outages, throttling and drops".into(),
    );
}
