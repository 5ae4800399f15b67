//! Amazon Kinesis Video Streams pricing (<https://aws.amazon.com/kinesis/video-streams/pricing/>).

use crate::pricing::{gb, Meter, PricingError};
use serde::{Deserialize, Serialize};

/// Billable usage of one Kinesis video stream over the measured window (media only; the
/// WebRTC prices are UNCONFIRMED: no source gives them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VideoUsage {
    /// Stream name.
    pub name: String,
    /// Bytes ingested.
    pub ingested_bytes: u64,
    /// Bytes consumed with GetMedia and the other media APIs (not HLS/DASH).
    pub consumed_bytes: u64,
    /// Bytes consumed through HLS.
    pub hls_bytes: u64,
    /// Bytes consumed through DASH (price UNCONFIRMED).
    pub dash_bytes: u64,
    /// Data stored, GB × hours over the window (GB = 2^30 B).
    pub stored_gb_hours: f64,
    /// WebRTC signaling channels active in the month (a monthly count, not scaled with the
    /// window; price UNCONFIRMED).
    pub signaling_channels: u64,
    /// WebRTC signaling messages (price UNCONFIRMED).
    pub signaling_messages: u64,
    /// WebRTC TURN streaming minutes, each session rounded up to whole minutes (price
    /// UNCONFIRMED).
    pub turn_minutes: u64,
}

/// Bill lines for Kinesis video streams.
///
/// # Formula
/// `ingested GB × $/GB + consumed GB × $/GB + HLS GB × $/GB + stored GB-months × $/GB-month`
/// (GB-months = GB-hours ÷ month hours). DASH consumption and the WebRTC dimensions
/// (active signaling channels, counted once a month however long the window; signaling
/// messages; TURN minutes) are listed as not priced. No free tier.
pub(crate) fn bill_video(streams: &[VideoUsage], m: &mut Meter) -> Result<(), PricingError> {
    const S: &str = "kinesis_video";
    for v in streams {
        let n = v.name.as_str();
        m.charge(
            S,
            n,
            "data ingested",
            "kinesis_video.ingest",
            gb(v.ingested_bytes),
        )?;
        m.charge(
            S,
            n,
            "data consumed",
            "kinesis_video.consume",
            gb(v.consumed_bytes),
        )?;
        m.charge(
            S,
            n,
            "data consumed via HLS",
            "kinesis_video.consume_hls",
            gb(v.hls_bytes),
        )?;
        m.charge(
            S,
            n,
            "data consumed via DASH",
            "kinesis_video.consume_dash",
            gb(v.dash_bytes),
        )?;
        m.charge(
            S,
            n,
            "data stored",
            "kinesis_video.storage",
            v.stored_gb_hours / m.month_hours(),
        )?;
        // A channel is active for the month once anything connects: a monthly count.
        m.charge_per_month(
            S,
            n,
            "WebRTC active signaling channels",
            "kinesis_video.signaling_channel",
            v.signaling_channels as f64,
        )?;
        m.charge(
            S,
            n,
            "WebRTC signaling messages",
            "kinesis_video.signaling_messages",
            v.signaling_messages as f64,
        )?;
        m.charge(
            S,
            n,
            "WebRTC TURN streaming minutes",
            "kinesis_video.turn_minutes",
            v.turn_minutes as f64,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{BillOptions, PriceTable, BYTES_PER_GB};
    use crate::services::{bill, Usage};

    #[test]
    fn camera_month() {
        // 1,000 GB ingested × $0.0085 = $8.50; 100 GB via GetMedia × $0.0085 = $0.85;
        // 50 GB via HLS × $0.0119 = $0.595; 168 GB held all month (122,640 GB-hours ÷ 730)
        // × $0.023 = $3.864. Total $13.809. 10 GB via DASH: not priced.
        let v = VideoUsage {
            name: "cam".into(),
            ingested_bytes: 1000 * BYTES_PER_GB as u64,
            consumed_bytes: 100 * BYTES_PER_GB as u64,
            hls_bytes: 50 * BYTES_PER_GB as u64,
            dash_bytes: 10 * BYTES_PER_GB as u64,
            stored_gb_hours: 168.0 * 730.0,
            ..VideoUsage::default()
        };
        let usage = Usage {
            window_s: 730.0 * 3600.0,
            video: vec![v],
            ..Usage::default()
        };
        let b = bill(&usage, &PriceTable::bundled(), BillOptions::default()).unwrap();
        assert!((b.total - 13.809).abs() < 1e-9, "{}", b.total);
        assert_eq!(b.unpriced.len(), 1);
        assert_eq!(b.unpriced[0].quantity, 10.0);
    }
}
