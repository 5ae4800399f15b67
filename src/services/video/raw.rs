//! The `[[video_stream]]`, `[[camera]]` and `[[video_viewer]]` tables of a model file as
//! written (see `models/README.md`). Plain serde structs with `deny_unknown_fields`;
//! validated by `super::config`.

use crate::input::units::{Bytes, Dur};
use crate::model::raw::{RawDist, RawLoad, RawWindow};
use serde::Deserialize;

/// A `[[video_stream]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVideoStream {
    /// Name.
    pub name: String,
    /// Data retention: `"0h"` (no storage; default) or 1 hour to 10 years.
    #[serde(default)]
    pub retention: Option<Dur>,
}

/// `recording = { from = "8h", for = "10m", every = "24h" }`: when a camera records.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecording {
    /// Start of the first window (default 0s).
    #[serde(default)]
    pub from: Option<Dur>,
    /// Length of each window.
    #[serde(rename = "for")]
    pub length: Dur,
    /// Period (default: once).
    #[serde(default)]
    pub every: Option<Dur>,
}

/// `random_outages = { every = "12h", for = "5m" }`: exponential gaps and lengths.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRandomOutages {
    /// Mean time between outages (end of one to start of the next).
    pub every: Dur,
    /// Mean length of one.
    #[serde(rename = "for")]
    pub length: Dur,
}

/// A `[[camera]]`: `count` identical devices, each with its own stream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCamera {
    /// Name.
    pub name: String,
    /// `video:NAME`.
    pub target: String,
    /// Devices (default 1).
    #[serde(default)]
    pub count: Option<u32>,
    /// Bitrate in kbit/s: a number, or a distribution drawn per fragment.
    #[serde(default)]
    pub bitrate_kbps: Option<RawDist<f64>>,
    /// Or a bitrate that follows a load over time (its rate read as kbit/s): diurnal,
    /// steps, bursts.
    #[serde(default)]
    pub bitrate_load: Option<RawLoad>,
    /// Fragment duration (default 2s; 1 to 20 s).
    #[serde(default)]
    pub fragment_duration: Option<Dur>,
    /// The Producer SDK's content store (default 128MiB; 10 MiB to 10 GiB).
    #[serde(default)]
    pub content_store: Option<Bytes>,
    /// Uplink in kbit/s (default 10,000).
    #[serde(default)]
    pub uplink_kbps: Option<f64>,
    /// When the camera records (default: always).
    #[serde(default)]
    pub recording: Option<RawRecording>,
    /// Connectivity outages.
    #[serde(default)]
    pub outages: Vec<RawWindow>,
    /// The outages repeat with this period (default: once).
    #[serde(default)]
    pub outages_every: Option<Dur>,
    /// Random connectivity outages.
    #[serde(default)]
    pub random_outages: Option<RawRandomOutages>,
    /// One-way network latency (default 50ms).
    #[serde(default)]
    pub network_latency: Option<Dur>,
    /// Last byte received to PERSISTED (default 500ms).
    #[serde(default)]
    pub persist_latency: Option<Dur>,
    /// A fragment persisted later than this after its capture is late (default 10s).
    #[serde(default)]
    pub late_after: Option<Dur>,
}

/// A `[[video_viewer]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVideoViewer {
    /// Name.
    pub name: String,
    /// `video:NAME`.
    pub source: String,
    /// `getmedia`, `hls`, `dash` or `webrtc`.
    pub protocol: String,
    /// Viewers on each watched stream (default 1).
    #[serde(default)]
    pub per_stream: Option<u32>,
    /// Fraction of the streams watched (default 1).
    #[serde(default)]
    pub share: Option<f64>,
    /// Fragments a player buffers before it plays (default 3).
    #[serde(default)]
    pub buffer_fragments: Option<u32>,
    /// When the viewers watch (default: always).
    #[serde(default)]
    pub watching: Option<RawRecording>,
    /// WebRTC: sessions a day per watched stream (default 1).
    #[serde(default)]
    pub sessions_per_day: Option<f64>,
    /// WebRTC: length of a session (default 5m).
    #[serde(default)]
    pub session_length: Option<RawDist<Dur>>,
    /// WebRTC: fraction of the sessions relayed through TURN (default 0.2).
    #[serde(default)]
    pub turn_share: Option<f64>,
    /// WebRTC: signaling messages per session (default 10).
    #[serde(default)]
    pub messages_per_session: Option<u32>,
}
