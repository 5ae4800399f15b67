//! The keys of a Kinesis video stream in a usage file (`[video.NAME]`, see
//! `src/pricing/USAGE.md`) and their conversion to a [`VideoUsage`].

use crate::pricing::{PricingError, BYTES_PER_GB};
use crate::services::usage_keys::{rounded, UsageTable};
use crate::services::video::bill::VideoUsage;

/// The keys of `[video.NAME]`.
pub(crate) const KEYS: &[&str] = &[
    "streams",
    "bitrate_kbps",
    "hours",
    "retention_hours",
    "consumed_fraction",
    "hls_fraction",
    "monthly_ingested_gb",
    "monthly_consumed_gb",
    "monthly_hls_consumed_gb",
    "monthly_dash_consumed_gb",
    "stored_gb",
    "signaling_channels",
    "monthly_signaling_messages",
    "monthly_turn_minutes",
];

/// Reads `[video.NAME]`.
///
/// # Formula
/// Bit rates are decimal: 1 kbit/s = 125 bytes/s; ingested `streams × kbps × 125 × 3,600
/// × hours`, consumed and HLS its fractions; stored GB-hours in steady state: `retention`
/// hours of video held while the streams run. Each `monthly_*` and `stored_gb` key adds
/// its quantity as given; `signaling_channels` are the WebRTC channels active in the month.
pub(crate) fn read(r: &UsageTable) -> Result<VideoUsage, PricingError> {
    let hours = r.hours()?;
    let streams = r.count_or("streams", 0.0)?;
    let kbps = r.num_or("bitrate_kbps", 0.0)?;
    let retention = r.num_or("retention_hours", 0.0)?;
    let consumed = r.ranged("consumed_fraction", 0.0, 0.0, 1e6)?;
    let hls = r.ranged("hls_fraction", 0.0, 0.0, 1e6)?;
    // Bit rates are decimal: 1 kbit/s = 1,000 bits/s = 125 bytes/s.
    let bytes_per_h = streams * kbps * 125.0 * 3600.0;
    let ingested = bytes_per_h * hours;
    let gb = |k: &str| -> Result<f64, PricingError> { Ok(r.num_or(k, 0.0)? * BYTES_PER_GB) };
    Ok(VideoUsage {
        name: r.name.into(),
        ingested_bytes: rounded(ingested + gb("monthly_ingested_gb")?),
        consumed_bytes: rounded(ingested * consumed + gb("monthly_consumed_gb")?),
        hls_bytes: rounded(ingested * hls + gb("monthly_hls_consumed_gb")?),
        dash_bytes: rounded(gb("monthly_dash_consumed_gb")?),
        // Steady state: `retention` hours of video held while the streams run.
        stored_gb_hours: bytes_per_h * retention / BYTES_PER_GB * hours
            + r.num_or("stored_gb", 0.0)? * r.month_hours,
        signaling_channels: rounded(r.count_or("signaling_channels", 0.0)?),
        signaling_messages: rounded(r.count_or("monthly_signaling_messages", 0.0)?),
        turn_minutes: rounded(r.count_or("monthly_turn_minutes", 0.0)?),
    })
}
