//! Amazon Kinesis Video Streams: cameras upload fragments with PutMedia to video streams,
//! which store them for their retention and serve them to live viewers.
//!
//! # What is modelled
//!
//! - **Video streams** (`[[video_stream]]`): a retention of 0 (no storage: live
//!   consumption only) or 1 hour to 10 years. A stream takes one PutMedia connection, so
//!   every camera has a stream of its own: a `[[video_stream]]` is the template of the
//!   streams of the cameras that target it, and reports them together.
//! - **Cameras** (`[[camera]]`, `target = "video:NAME"`): `count` identical devices, each
//!   recording fragments of `fragment_duration` at `bitrate_kbps` (a constant, or a
//!   distribution drawn per fragment; or `bitrate_load`, a diurnal, steps or bursts load
//!   whose rate is the bitrate at the fragment's start) while its `recording` schedule is
//!   on. A fragment
//!   enters the device's content store (the Producer SDK's storage, `content_store`
//!   bytes) when its capture ends; a full store drops its oldest fragments (counted,
//!   even one being uploaded). The device uploads the store oldest first over its
//!   `uplink_kbps`, one fragment at a time, under the stream's PutMedia quotas: the data
//!   rate (a one-second token bucket: a fragment waiting for it is `throttled`) and the
//!   fragments per second (starts at least `1/5 s` apart). A fragment over the largest
//!   fragment size is refused (`rejected`).
//! - **Network faults**: connectivity `outages` (scheduled windows, optionally repeating
//!   every `outages_every`, and random ones, `random_outages`). An upload cut by an
//!   outage is retried from its start when the network is back (`retried`); meanwhile
//!   the store fills; the catch-up runs at the uplink (and the quotas). Fragments
//!   persisted more than `late_after` after their capture are `late`.
//! - **Acknowledgements**: BUFFERING when the fragment's first byte reaches the service,
//!   RECEIVED at its last byte, PERSISTED `persist_latency` later, each seen by the
//!   camera one `network_latency` after the event: latency distributions from the end of
//!   the fragment's capture.
//! - **Viewers** (`[[video_viewer]]`, `source = "video:NAME"`): GetMedia readers, HLS and
//!   DASH players and WebRTC peers on a `share` of the streams, `per_stream` on each, watching live: each
//!   reads every fragment its stream persists. A player's playback latency (capture of
//!   a fragment's first frame to the screen) is the fragment's duration, its upload and
//!   persistence, and the player's buffer of `buffer_fragments` fragments. A viewer with a
//!   `watching` schedule reads only the fragments persisted inside its windows.
//! - **WebRTC** (`protocol = "webrtc"`): each watched stream's camera is the master of a
//!   signaling channel (active all month); viewers open sessions (Poisson,
//!   `sessions_per_day`, while `watching`) of `session_length`, each exchanging
//!   `messages_per_session` signaling messages; a `turn_share` of them relay their media
//!   through TURN, metered in whole minutes. Counted; AWS's WebRTC prices are not
//!   confirmed, so the bill lists them as not priced.
//! - **Storage**: a fragment is stored from its PERSISTED time for the retention; the
//!   stored GB is sampled and integrated over the measured window (GB-months).
//!
//! # How it runs
//!
//! Nothing downstream of a video stream feeds back into a camera, so each camera is
//! simulated on its own from the start to the end of the run, fragment by fragment with
//! exact times (a lazily advanced upload link), when the run starts; the time series are
//! read from what it recorded. Cameras whose behaviour is identical (a constant bitrate,
//! no random outages) are simulated once and counted `count` times. Memory is the
//! fragments in one device's store, not the fragments sent.
//!
//! Every fragment is accounted for: persisted (`processed`), in a store (`waiting`),
//! being uploaded (`in_transit`), dropped from a full store (`dropped`) or refused as too
//! large (`lost`).

pub mod bill;
pub(crate) mod config;
pub(crate) mod device;
pub(crate) mod engine;
pub(crate) mod estimate;
pub mod limits;
pub mod raw;
pub(crate) mod usage_keys;

use crate::load::{Dist, Window};
use crate::sim::SimDuration;

pub use limits::VideoLimits;

/// A validated `[[video_stream]]`: the template of the streams of its cameras.
#[derive(Clone, Debug)]
pub struct VideoStreamSpec {
    /// Name.
    pub name: String,
    /// Data retention (zero: no storage).
    pub retention: SimDuration,
}

/// Random connectivity outages of a camera: exponential gaps and lengths.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomOutages {
    /// Mean time between the end of one outage and the start of the next.
    pub mean_every: SimDuration,
    /// Mean length of an outage.
    pub mean_for: SimDuration,
}

/// When a camera records: `for` from `from`, repeated `every`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recording {
    /// Start of the first recording window.
    pub from: SimDuration,
    /// Length of each window.
    pub length: SimDuration,
    /// Period (zero: once).
    pub every: SimDuration,
}

/// A validated `[[camera]]`: `count` identical devices, one stream each.
#[derive(Clone, Debug)]
pub struct CameraSpec {
    /// Name.
    pub name: String,
    /// The video stream (index into `Architecture::video.streams`).
    pub stream: u32,
    /// Devices (and streams).
    pub count: u32,
    /// Bitrate, kbit/s (1 kbit/s = 125 bytes/s), drawn per fragment (unused with a
    /// `bitrate_load`).
    pub bitrate_kbps: Dist,
    /// A bitrate that follows a load: kbit/s = its rate at the fragment's start.
    pub bitrate_load: Option<crate::load::Arrival>,
    /// Fragment duration.
    pub fragment_duration: SimDuration,
    /// Content store, bytes.
    pub content_store: u64,
    /// Uplink, kbit/s.
    pub uplink_kbps: f64,
    /// When the camera records (`None`: always).
    pub recording: Option<Recording>,
    /// Scheduled outages, sorted, not overlapping.
    pub outages: Vec<Window>,
    /// The scheduled outages repeat with this period (zero: once).
    pub outages_every: SimDuration,
    /// Random outages.
    pub random_outages: Option<RandomOutages>,
    /// One-way network latency.
    pub network_latency: SimDuration,
    /// Last byte received → PERSISTED.
    pub persist_latency: SimDuration,
    /// A fragment persisted later than this after its capture is late.
    pub late_after: SimDuration,
}

impl CameraSpec {
    /// True when every device of the camera behaves identically (one simulation serves
    /// them all).
    pub(crate) fn identical_devices(&self) -> bool {
        (self.bitrate_load.is_some() || matches!(self.bitrate_kbps, Dist::Constant(_)))
            && self.random_outages.is_none()
    }
}

/// How a viewer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// GetMedia (a real-time reader).
    GetMedia,
    /// HLS playback.
    Hls,
    /// MPEG-DASH playback.
    Dash,
    /// WebRTC peers: sessions through the stream's signaling channel, media peer to peer
    /// (or relayed by TURN), not through the stream.
    WebRtc,
}

impl Protocol {
    /// The name used in model files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::GetMedia => "getmedia",
            Protocol::Hls => "hls",
            Protocol::Dash => "dash",
            Protocol::WebRtc => "webrtc",
        }
    }
}

/// A validated `[[video_viewer]]`.
#[derive(Clone, Debug)]
pub struct ViewerSpec {
    /// Name.
    pub name: String,
    /// The video stream (index).
    pub stream: u32,
    /// How it reads.
    pub protocol: Protocol,
    /// Viewers on each watched stream.
    pub per_stream: u32,
    /// Fraction of the streams watched.
    pub share: f64,
    /// Fragments a player buffers before it plays (HLS, DASH).
    pub buffer_fragments: u32,
    /// When the viewers watch (`None`: always).
    pub watching: Option<Recording>,
    /// WebRTC sessions (WebRTC viewers only).
    pub webrtc: Option<WebRtcSpec>,
}

/// WebRTC sessions of a viewer on each watched stream's signaling channel.
#[derive(Clone, Debug)]
pub struct WebRtcSpec {
    /// Sessions a day per watched stream (Poisson), while `watching`.
    pub sessions_per_day: f64,
    /// Length of a session.
    pub session_length: crate::load::DurationDist,
    /// Fraction of the sessions relayed through TURN.
    pub turn_share: f64,
    /// Signaling messages of a session (offer, answer, ICE candidates).
    pub messages_per_session: u32,
}

impl Recording {
    /// True when `t` (ns) falls in one of the windows.
    pub(crate) fn contains(&self, t: u64) -> bool {
        if t < self.from.0 {
            return false;
        }
        let rel = t - self.from.0;
        if self.every.is_zero() {
            rel < self.length.0
        } else {
            rel % self.every.0 < self.length.0
        }
    }
}

/// The video parts of a model.
#[derive(Clone, Debug, Default)]
pub struct VideoSpecs {
    /// Video streams.
    pub streams: Vec<VideoStreamSpec>,
    /// Cameras.
    pub cameras: Vec<CameraSpec>,
    /// Viewers.
    pub viewers: Vec<ViewerSpec>,
    /// The limits in force.
    pub limits: VideoLimits,
}

impl VideoSpecs {
    /// True when the model has no video component.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty() && self.cameras.is_empty() && self.viewers.is_empty()
    }
}
