//! Validation of the Kinesis Video Streams parts of a model: `[[video_stream]]`,
//! `[[camera]]` and `[[video_viewer]]`.
//!
//! Every AWS limit checked here is a field of [`VideoLimits`] (overridable in
//! `[limits.video]`); each message names the limit and its source.

use super::limits::{
    self as lim, VideoLimits, SOURCE_LIMITS, SOURCE_RETENTION, SOURCE_WEBRTC_LIMITS,
};
use super::raw::{RawCamera, RawRecording, RawVideoStream, RawVideoViewer};
use super::{
    CameraSpec, Protocol, RandomOutages, Recording, VideoSpecs, VideoStreamSpec, ViewerSpec,
    WebRtcSpec,
};
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::input::units::format_size;
use crate::load::Dist;
use crate::load::DurationDist;
use crate::model::dist::dur_dist;
use crate::model::fields::{lookup, name_index, outage_windows, prob, reference};
use crate::model::raw::{RawDist, RawDistTagged, RawModel};
use crate::sim::SimDuration;
use std::collections::HashMap;
use std::path::Path;

/// The most devices of one `[[camera]]` (a bound of aqueduct's: far above an account's
/// stream quota, and small enough that a run's byte counters cannot overflow).
const MAX_DEVICES: u32 = 1_000_000;

/// The most WebRTC sessions a day per viewer (a bound of aqueduct's: one a second).
const MAX_SESSIONS_PER_DAY: f64 = 86_400.0;

/// Validates the video streams, then the cameras, then the viewers. A stream whose
/// retention is longer than the warm-up gets a warning: its stored GB are still growing
/// in the measured window, and the monthly bill repeats that ramp.
pub(crate) fn video(
    raw: &RawModel,
    limits: &VideoLimits,
    warmup: SimDuration,
    base_dir: &Path,
    warnings: &mut Vec<String>,
) -> VResult<VideoSpecs> {
    let idx = name_index(
        "video_stream",
        "video stream",
        raw.video_stream.iter().map(|s| s.name.as_str()),
        None,
    )?;
    let mut streams = Vec::new();
    for (i, s) in raw.video_stream.iter().enumerate() {
        streams.push(stream(s, i, limits)?);
    }
    name_index(
        "camera",
        "camera",
        raw.camera.iter().map(|c| c.name.as_str()),
        None,
    )?;
    let mut cameras = Vec::new();
    for (i, c) in raw.camera.iter().enumerate() {
        cameras.push(camera(c, i, &idx, limits, base_dir)?);
    }
    name_index(
        "video_viewer",
        "video viewer",
        raw.video_viewer.iter().map(|v| v.name.as_str()),
        None,
    )?;
    let mut viewers = Vec::new();
    for (i, v) in raw.video_viewer.iter().enumerate() {
        viewers.push(viewer(v, i, &idx, &streams, limits, base_dir)?);
    }
    for (si, s) in streams.iter().enumerate() {
        let fed = cameras.iter().any(|c| c.stream as usize == si);
        if fed && !s.retention.is_zero() && warmup < s.retention {
            warnings.push(format!(
                "video stream \"{}\" keeps data for {} but the warm-up is {warmup}: its stored GB still grow during the measured window, and the monthly bill repeats that ramp; warm up for at least the retention for the steady-state storage cost",
                s.name, s.retention
            ));
        }
    }
    Ok(VideoSpecs {
        streams,
        cameras,
        viewers,
        limits: limits.clone(),
    })
}

/// One `[[video_stream]]`.
fn stream(s: &RawVideoStream, i: usize, limits: &VideoLimits) -> VResult<VideoStreamSpec> {
    let path = FieldPath::item("video_stream", i, &s.name);
    let retention = s.retention.map(|d| d.0).unwrap_or(SimDuration::ZERO);
    if !retention.is_zero()
        && (retention < limits.retention_min.0 || retention > limits.retention_max.0)
    {
        return Err(Invalid::at(
            &path.field("retention"),
            format!(
                "retention {retention} is outside AWS's range: 0 (no storage) or {} to {} (limits.video.retention_min, retention_max; sources: {SOURCE_RETENTION}, {SOURCE_LIMITS})",
                limits.retention_min.0, limits.retention_max.0
            ),
        ));
    }
    Ok(VideoStreamSpec {
        name: s.name.clone(),
        retention,
    })
}

/// The `video:NAME` reference at `path`.
fn target(s: &str, path: &FieldPath, idx: &HashMap<&str, usize>) -> VResult<u32> {
    let (_, name) = reference(s, path, &["video"])?;
    Ok(lookup(idx, name, "video", "video stream", path)? as u32)
}

/// A bitrate distribution in kbit/s (every value > 0).
fn bitrate(raw: &RawDist<f64>, path: &FieldPath) -> VResult<Dist> {
    let bad = |v: f64| !(v.is_finite() && v > 0.0);
    let err = |e: crate::load::DistError| Invalid::at(path, e.0);
    let positive = |v: f64| -> VResult<f64> {
        if bad(v) {
            Err(Invalid::at(
                path,
                format!("a bitrate must be a number of kbit/s above 0 (got {v})"),
            ))
        } else {
            Ok(v)
        }
    };
    match raw {
        RawDist::Shorthand(v) => Dist::constant(positive(*v)?).map_err(err),
        RawDist::Tagged(t) => match t {
            RawDistTagged::Constant { value } => Dist::constant(positive(*value)?).map_err(err),
            RawDistTagged::Uniform { min, max } => {
                Dist::uniform(positive(*min)?, positive(*max)?).map_err(err)
            }
            RawDistTagged::Exponential { mean } => {
                Dist::exponential(positive(*mean)?).map_err(err)
            }
            RawDistTagged::Lognormal { median, p99 } => {
                Dist::lognormal_median_p99(positive(*median)?, positive(*p99)?).map_err(|_| {
                    Invalid::at(
                        path,
                        format!("lognormal distribution needs p99 > median (got median {median}, p99 {p99})"),
                    )
                })
            }
            RawDistTagged::Empirical { .. } => Err(Invalid::at(
                path,
                "a bitrate is a number of kbit/s or a constant, uniform, exponential or lognormal distribution",
            )),
        },
    }
}

/// The largest bitrate a distribution gives with any real chance, kbit/s: its maximum
/// where it has one, else its 99.9th percentile (a fragment above the size limit is
/// refused at run time, and counted).
fn typical_max_kbps(d: &Dist) -> f64 {
    match d {
        Dist::Constant(v) => *v,
        Dist::Uniform { hi, .. } => *hi,
        Dist::Exponential { mean } => mean * 1000f64.ln(),
        Dist::LogNormal { mu, sigma } => (mu + 3.09 * sigma).exp(),
        Dist::Empirical(v) => v.iter().copied().fold(0.0, f64::max),
    }
}

/// A schedule of windows (`{ from, for, every }`), each at least `shortest` long.
fn recording(r: &RawRecording, rp: &FieldPath, shortest: SimDuration) -> VResult<Recording> {
    let every = r.every.map(|d| d.0).unwrap_or(SimDuration::ZERO);
    if r.length.0 < shortest || r.length.0.is_zero() {
        return Err(Invalid::at(
            &rp.field("for"),
            format!(
                "a window must last at least {} (a camera's: one fragment)",
                shortest.max(SimDuration(1))
            ),
        ));
    }
    if !every.is_zero() && every < r.length.0 {
        return Err(Invalid::at(
            &rp.field("every"),
            format!(
                "windows of {} cannot repeat every {every}: they would overlap",
                r.length.0
            ),
        ));
    }
    Ok(Recording {
        from: r.from.map(|d| d.0).unwrap_or(SimDuration::ZERO),
        length: r.length.0,
        every,
    })
}

/// One `[[camera]]`.
fn camera(
    c: &RawCamera,
    i: usize,
    idx: &HashMap<&str, usize>,
    limits: &VideoLimits,
    base_dir: &Path,
) -> VResult<CameraSpec> {
    let path = FieldPath::item("camera", i, &c.name);
    let stream = target(&c.target, &path.field("target"), idx)?;
    let count = c.count.unwrap_or(1);
    if count == 0 || count > MAX_DEVICES {
        return Err(Invalid::at(
            &path.field("count"),
            format!("a camera group has 1 to {MAX_DEVICES} devices (got {count}): each is a stream, and an account has 10,000 by default, 100,000 or more on request (source: {SOURCE_LIMITS})"),
        ));
    }
    let (bitrate_kbps, bitrate_load) = match (&c.bitrate_kbps, &c.bitrate_load) {
        (Some(b), None) => (bitrate(b, &path.field("bitrate_kbps"))?, None),
        (None, Some(l)) => {
            let a = crate::model::arrival::arrival(l, &path.field("bitrate_load"), base_dir)?;
            (Dist::Constant(0.0), Some(a))
        }
        (Some(_), Some(_)) => {
            return Err(Invalid::at(
                &path.field("bitrate_load"),
                "give either `bitrate_kbps` or `bitrate_load`, not both",
            ))
        }
        (None, None) => {
            return Err(Invalid::at(
                &path,
                "a camera needs a bitrate: `bitrate_kbps` (kbit/s, or a distribution) or `bitrate_load` (a load whose rate is the bitrate in kbit/s)",
            ))
        }
    };
    let fragment_duration = c
        .fragment_duration
        .map(|d| d.0)
        .unwrap_or(SimDuration::from_secs(2));
    let (lo, hi) = (
        limits.fragment_duration_min.0,
        limits.fragment_duration_max.0,
    );
    if fragment_duration.is_zero() {
        return Err(Invalid::at(
            &path.field("fragment_duration"),
            "fragment_duration must be longer than 0s",
        ));
    }
    if fragment_duration < lo || fragment_duration > hi {
        return Err(Invalid::at(
            &path.field("fragment_duration"),
            format!("fragment duration {fragment_duration} is outside PutMedia's limits of {lo} to {hi} (limits.video.fragment_duration_min, fragment_duration_max; source: {SOURCE_LIMITS})"),
        ));
    }
    let max_bytes = typical_max_kbps(&bitrate_kbps) * 125.0 * fragment_duration.as_secs_f64();
    if bitrate_load.is_none() && max_bytes > limits.fragment_size_max.0 as f64 {
        return Err(Invalid::at(
            &path.field("bitrate_kbps"),
            format!(
                "fragments of {fragment_duration} at {:.0} kbit/s are {} bytes, above PutMedia's largest fragment of {} (limits.video.fragment_size_max; source: {SOURCE_LIMITS}): shorten fragment_duration",
                typical_max_kbps(&bitrate_kbps),
                max_bytes as u64,
                format_size(limits.fragment_size_max.0)
            ),
        ));
    }
    let content_store = c
        .content_store
        .map(|b| b.0)
        .unwrap_or(lim::DEFAULT_CONTENT_STORE);
    let (slo, shi) = (limits.content_store_min.0, limits.content_store_max.0);
    if content_store < slo || content_store > shi {
        return Err(Invalid::at(
            &path.field("content_store"),
            format!(
                "content store {} is outside the Producer SDK's limits of {} to {} (limits.video.content_store_min, content_store_max; source: {SOURCE_LIMITS})",
                format_size(content_store),
                format_size(slo),
                format_size(shi)
            ),
        ));
    }
    let uplink_kbps = c.uplink_kbps.unwrap_or(lim::DEFAULT_UPLINK_KBPS);
    if !(uplink_kbps.is_finite() && uplink_kbps > 0.0) {
        return Err(Invalid::at(
            &path.field("uplink_kbps"),
            format!("an uplink must be a number of kbit/s above 0 (got {uplink_kbps})"),
        ));
    }
    let recording = c
        .recording
        .as_ref()
        .map(|r| recording(r, &path.field("recording"), fragment_duration))
        .transpose()?;
    let outages = outage_windows(&c.outages, &path.field("outages"), "camera's network")?;
    let outages_every = c.outages_every.map(|d| d.0).unwrap_or(SimDuration::ZERO);
    if !outages_every.is_zero() {
        if outages_every < SimDuration::from_secs(1) {
            return Err(Invalid::at(
                &path.field("outages_every"),
                format!("outages repeat at most once a second (got every {outages_every})"),
            ));
        }
        if outages.is_empty() {
            return Err(Invalid::at(
                &path.field("outages_every"),
                "outages_every repeats the `outages`, and there are none",
            ));
        }
        let last = outages.iter().map(|w| w.until.0).max().unwrap_or(0);
        let first = outages.iter().map(|w| w.from.0).min().unwrap_or(0);
        if last - first > outages_every.0 || (last - first == outages_every.0 && first != last) {
            return Err(Invalid::at(
                &path.field("outages_every"),
                format!("the outages span more than their period {outages_every}: repeated, they would overlap"),
            ));
        }
    }
    let random_outages = match &c.random_outages {
        None => None,
        Some(r) => {
            let rp = path.field("random_outages");
            if r.every.0 < SimDuration::from_secs(1) {
                return Err(Invalid::at(
                    &rp.field("every"),
                    format!(
                        "random outages need a mean gap of at least 1s (got {})",
                        r.every.0
                    ),
                ));
            }
            if r.length.0.is_zero() {
                return Err(Invalid::at(
                    &rp.field("for"),
                    "random outages need a mean length longer than 0s",
                ));
            }
            if !outages.is_empty() {
                return Err(Invalid::at(
                    &rp,
                    "give either scheduled `outages` or `random_outages`, not both",
                ));
            }
            Some(RandomOutages {
                mean_every: r.every.0,
                mean_for: r.length.0,
            })
        }
    };
    Ok(CameraSpec {
        name: c.name.clone(),
        stream,
        count,
        bitrate_kbps,
        bitrate_load,
        fragment_duration,
        content_store,
        uplink_kbps,
        recording,
        outages,
        outages_every,
        random_outages,
        network_latency: c
            .network_latency
            .map(|d| d.0)
            .unwrap_or(lim::DEFAULT_NETWORK_LATENCY),
        persist_latency: c
            .persist_latency
            .map(|d| d.0)
            .unwrap_or(lim::DEFAULT_PERSIST_LATENCY),
        late_after: c.late_after.map(|d| d.0).unwrap_or(lim::DEFAULT_LATE_AFTER),
    })
}

/// One `[[video_viewer]]`.
fn viewer(
    v: &RawVideoViewer,
    i: usize,
    idx: &HashMap<&str, usize>,
    streams: &[VideoStreamSpec],
    limits: &VideoLimits,
    base_dir: &Path,
) -> VResult<ViewerSpec> {
    let path = FieldPath::item("video_viewer", i, &v.name);
    let stream = target(&v.source, &path.field("source"), idx)?;
    let protocol = match v.protocol.as_str() {
        "getmedia" => Protocol::GetMedia,
        "hls" => Protocol::Hls,
        "dash" => Protocol::Dash,
        "webrtc" => Protocol::WebRtc,
        other => {
            return Err(Invalid::at(
                &path.field("protocol"),
                format!("unknown protocol \"{other}\": expected getmedia, hls, dash or webrtc"),
            ))
        }
    };
    let s = &streams[stream as usize];
    let playback = matches!(protocol, Protocol::Hls | Protocol::Dash);
    if playback && s.retention.is_zero() {
        return Err(Invalid::at(
            &path.field("protocol"),
            format!(
                "{} playback needs a stream that stores data, and video stream \"{}\" has retention 0 (give it a retention of at least {}; source: {SOURCE_RETENTION})",
                protocol.as_str().to_uppercase(),
                s.name,
                limits.retention_min.0
            ),
        ));
    }
    let per_stream = v.per_stream.unwrap_or(1);
    if per_stream == 0 {
        return Err(Invalid::at(
            &path.field("per_stream"),
            "a viewer needs at least 1 viewer per stream",
        ));
    }
    if protocol == Protocol::GetMedia && per_stream > limits.get_media_connections {
        return Err(Invalid::at(
            &path.field("per_stream"),
            format!(
                "{per_stream} GetMedia readers per stream exceed GetMedia's {} connections per stream (limits.video.get_media_connections; source: {SOURCE_LIMITS})",
                limits.get_media_connections
            ),
        ));
    }
    if protocol == Protocol::WebRtc && per_stream > limits.webrtc_viewers_per_channel {
        return Err(Invalid::at(
            &path.field("per_stream"),
            format!(
                "{per_stream} WebRTC viewers per stream exceed ConnectAsViewer's {} connections per signaling channel (limits.video.webrtc_viewers_per_channel; source: {SOURCE_WEBRTC_LIMITS})",
                limits.webrtc_viewers_per_channel
            ),
        ));
    }
    let share = prob(&path.field("share"), v.share.unwrap_or(1.0))?;
    let buffer_fragments = v.buffer_fragments.unwrap_or(lim::DEFAULT_BUFFER_FRAGMENTS);
    let watching = v
        .watching
        .as_ref()
        .map(|r| recording(r, &path.field("watching"), SimDuration::ZERO))
        .transpose()?;
    let webrtc_keys = [
        ("sessions_per_day", v.sessions_per_day.is_some()),
        ("session_length", v.session_length.is_some()),
        ("turn_share", v.turn_share.is_some()),
        ("messages_per_session", v.messages_per_session.is_some()),
    ];
    let webrtc = if protocol == Protocol::WebRtc {
        let sessions_per_day = v
            .sessions_per_day
            .unwrap_or(lim::DEFAULT_WEBRTC_SESSIONS_PER_DAY);
        if !(sessions_per_day.is_finite()
            && (0.0..=MAX_SESSIONS_PER_DAY).contains(&sessions_per_day))
        {
            return Err(Invalid::at(
                &path.field("sessions_per_day"),
                format!("sessions a day must be a number from 0 to {MAX_SESSIONS_PER_DAY} (one a second; got {sessions_per_day})"),
            ));
        }
        let session_length = match &v.session_length {
            Some(d) => dur_dist(d, &path.field("session_length"), base_dir)?,
            None => DurationDist::constant(lim::DEFAULT_WEBRTC_SESSION_LENGTH),
        };
        Some(WebRtcSpec {
            sessions_per_day,
            session_length,
            turn_share: prob(
                &path.field("turn_share"),
                v.turn_share.unwrap_or(lim::DEFAULT_TURN_SHARE),
            )?,
            messages_per_session: v
                .messages_per_session
                .unwrap_or(lim::DEFAULT_MESSAGES_PER_SESSION),
        })
    } else {
        if let Some((k, _)) = webrtc_keys.iter().find(|(_, given)| *given) {
            return Err(Invalid::at(
                &path.field(k),
                format!("`{k}` is for WebRTC viewers (protocol = \"webrtc\")"),
            ));
        }
        None
    };
    Ok(ViewerSpec {
        name: v.name.clone(),
        stream,
        protocol,
        per_stream,
        share,
        buffer_fragments,
        watching,
        webrtc,
    })
}
