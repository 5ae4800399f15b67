//! Amazon Kinesis Video Streams limits and modelling defaults, with their sources.
//!
//! Every AWS number the video model uses is a field of [`VideoLimits`], with the AWS page
//! it comes from (the `SOURCE_*` constants); a model may override any of them in a
//! `[limits.video]` table. Modelling defaults AWS does not document (network latency of
//! a camera, the time to persist a fragment, the uplink and the content store of a
//! camera, a player's buffer) are the constants at the end of this file, each
//! overridable on the camera or the viewer.

use crate::input::units::{Bytes, Dur};
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// Kinesis Video Streams service quotas: PutMedia (data rate, fragments per second,
/// fragment duration and size, connections), GetMedia (connections, data rate) and the
/// Producer SDK's content store (10 MiB to 10 GiB).
pub const SOURCE_LIMITS: &str =
    "https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/limits.html";
/// Kinesis Video Streams with WebRTC quotas: viewers per signaling channel.
pub const SOURCE_WEBRTC_LIMITS: &str =
    "https://docs.aws.amazon.com/kinesisvideostreams-webrtc-dg/latest/devguide/kvswebrtc-limits.html";
/// CreateStream: `DataRetentionInHours`, 0 (no storage) or at least 1 hour.
pub const SOURCE_RETENTION: &str =
    "https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_CreateStream.html";

/// Kinesis Video Streams quotas, as AWS gave them when read (2026).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VideoLimits {
    /// PutMedia data rate per stream: 12.5 MB/s (100 Mbit/s), soft. [`SOURCE_LIMITS`]
    pub put_media_bytes_per_s: u64,
    /// PutMedia fragments sent per second per stream: 5, hard. [`SOURCE_LIMITS`]
    pub put_media_fragments_per_s: u32,
    /// PutMedia concurrent connections per stream: 1 (one camera per stream; informational:
    /// the model gives every camera a stream). [`SOURCE_LIMITS`]
    pub put_media_connections: u32,
    /// Shortest fragment: 1 s, hard. [`SOURCE_LIMITS`]
    pub fragment_duration_min: Dur,
    /// Longest fragment: 20 s, hard. [`SOURCE_LIMITS`]
    pub fragment_duration_max: Dur,
    /// Largest fragment: 50 MB, hard (a larger one gets a `MAX_FRAGMENT_SIZE` ack).
    /// [`SOURCE_LIMITS`]
    pub fragment_size_max: Bytes,
    /// GetMedia concurrent connections per stream: 3, hard. [`SOURCE_LIMITS`]
    pub get_media_connections: u32,
    /// GetMedia data rate per connection: 25 MB/s (200 Mbit/s), soft (informational: a
    /// live reader reads at the ingest rate, at most PutMedia's 12.5 MB/s). [`SOURCE_LIMITS`]
    pub get_media_bytes_per_s: u64,
    /// Longest retention: 10 years (87,600 h; the Producer SDK quotas' "max retention
    /// period"). [`SOURCE_LIMITS`]
    pub retention_max: Dur,
    /// Shortest non-zero retention: 1 hour. [`SOURCE_RETENTION`]
    pub retention_min: Dur,
    /// Smallest content store of the Producer SDK: 10 MiB. [`SOURCE_LIMITS`]
    pub content_store_min: Bytes,
    /// Largest content store of the Producer SDK: 10 GiB. [`SOURCE_LIMITS`]
    pub content_store_max: Bytes,
    /// WebRTC: concurrent viewer connections per signaling channel (ConnectAsViewer): 10,
    /// soft. [`SOURCE_WEBRTC_LIMITS`]
    pub webrtc_viewers_per_channel: u32,
}

impl Default for VideoLimits {
    fn default() -> Self {
        VideoLimits {
            put_media_bytes_per_s: 12_500_000,
            put_media_fragments_per_s: 5,
            put_media_connections: 1,
            fragment_duration_min: Dur(SimDuration::from_secs(1)),
            fragment_duration_max: Dur(SimDuration::from_secs(20)),
            fragment_size_max: Bytes(50_000_000),
            get_media_connections: 3,
            get_media_bytes_per_s: 25_000_000,
            retention_max: Dur(SimDuration::from_secs(87_600 * 3600)),
            retention_min: Dur(SimDuration::from_secs(3600)),
            content_store_min: Bytes(10 << 20),
            content_store_max: Bytes(10 << 30),
            webrtc_viewers_per_channel: 10,
        }
    }
}

/// Modelling default: a camera's content store (the Producer SDK's storage size), 128 MiB.
pub(crate) const DEFAULT_CONTENT_STORE: u64 = 128 << 20;

/// Modelling default: a camera's uplink, 10 Mbit/s (overridable: `uplink_kbps`).
pub(crate) const DEFAULT_UPLINK_KBPS: f64 = 10_000.0;

/// Modelling default: one-way network latency between a camera and the service, 50 ms
/// (overridable: `network_latency`).
pub(crate) const DEFAULT_NETWORK_LATENCY: SimDuration = SimDuration::from_millis(50);

/// Modelling default: from a fragment's last byte received to its PERSISTED
/// acknowledgement, 500 ms (AWS gives no figure; overridable: `persist_latency`).
pub(crate) const DEFAULT_PERSIST_LATENCY: SimDuration = SimDuration::from_millis(500);

/// Modelling default: fragments a live HLS or DASH player buffers before it plays, 3
/// (overridable: `buffer_fragments`).
pub(crate) const DEFAULT_BUFFER_FRAGMENTS: u32 = 3;

/// Modelling default: WebRTC sessions a day per watched stream, 1.
pub(crate) const DEFAULT_WEBRTC_SESSIONS_PER_DAY: f64 = 1.0;

/// Modelling default: length of a WebRTC session, 5 minutes.
pub(crate) const DEFAULT_WEBRTC_SESSION_LENGTH: SimDuration = SimDuration::from_secs(300);

/// Modelling default: share of WebRTC sessions that need a TURN relay (symmetric NAT and
/// the like), 0.2; AWS gives no figure.
pub(crate) const DEFAULT_TURN_SHARE: f64 = 0.2;

/// Modelling default: signaling messages of a WebRTC session, 10 (an SDP offer and answer
/// and eight ICE candidates).
pub(crate) const DEFAULT_MESSAGES_PER_SESSION: u32 = 10;

/// Modelling default: a fragment is late when its PERSISTED acknowledgement comes more
/// than 10 s after its capture ended (overridable: `late_after`).
pub(crate) const DEFAULT_LATE_AFTER: SimDuration = SimDuration::from_secs(10);
