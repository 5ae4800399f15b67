//! The AWS services: each a simulation component, its documented limits and a pure
//! pricing function.

pub mod firehose;
pub mod flink;
pub mod kinesis;
pub mod lambda;
pub mod sns;
pub mod sqs;
pub mod usage_keys;
pub mod video;

use crate::pricing::{Bill, BillOptions, Meter, PriceTable, PricingError};
use serde::{Deserialize, Serialize};

pub use firehose::bill::FirehoseUsage;
pub use flink::bill::FlinkUsage;
pub use kinesis::bill::KinesisStreamUsage;
pub use lambda::bill::LambdaUsage;
pub use sns::bill::SnsUsage;
pub use sqs::bill::SqsUsage;
pub use video::bill::VideoUsage;

/// Every overridable AWS limit, by service (`[limits.sqs]` in a model).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Amazon SQS.
    pub sqs: sqs::limits::SqsLimits,
    /// AWS Lambda.
    pub lambda: lambda::limits::LambdaLimits,
    /// Amazon Kinesis Data Streams.
    pub kinesis: kinesis::limits::KinesisLimits,
    /// Amazon SNS.
    pub sns: sns::limits::SnsLimits,
}

/// Billable usage of a run (or of a usage file, or of a model's expected load) over its
/// measured window. Every record holds quantities accumulated over `window_s`; [`bill`]
/// scales them to a month.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// Length of the measured window, s.
    pub window_s: f64,
    /// SQS queues.
    pub sqs: Vec<SqsUsage>,
    /// SNS topics.
    pub sns: Vec<SnsUsage>,
    /// Kinesis data streams.
    pub kinesis: Vec<KinesisStreamUsage>,
    /// Firehose streams.
    pub firehose: Vec<FirehoseUsage>,
    /// Managed Service for Apache Flink applications.
    pub flink: Vec<FlinkUsage>,
    /// Kinesis video streams.
    pub video: Vec<VideoUsage>,
    /// Lambda functions.
    pub lambda: Vec<LambdaUsage>,
}

impl Usage {
    /// True when no resource has a record.
    pub fn is_empty(&self) -> bool {
        self.sqs.is_empty()
            && self.sns.is_empty()
            && self.kinesis.is_empty()
            && self.firehose.is_empty()
            && self.flink.is_empty()
            && self.video.is_empty()
            && self.lambda.is_empty()
    }
}

/// Prices `usage`, scaled from its window to a month.
///
/// # Formula
/// `monthly quantity = quantity × month_hours × 3600 / window_s`, then each price's tiers
/// (and, when enabled, its free allowance, shared by every component of the service); see
/// each service's function for its billable units.
pub fn bill(usage: &Usage, table: &PriceTable, opts: BillOptions) -> Result<Bill, PricingError> {
    let mut m = Meter::new(table, opts, usage.window_s);
    sqs::bill::bill_sqs(&usage.sqs, &mut m)?;
    sns::bill::bill_sns(&usage.sns, &mut m)?;
    kinesis::bill::bill_kinesis(&usage.kinesis, &mut m)?;
    firehose::bill::bill_firehose(&usage.firehose, &mut m)?;
    flink::bill::bill_flink(&usage.flink, &mut m)?;
    video::bill::bill_video(&usage.video, &mut m)?;
    lambda::bill::bill_lambda(&usage.lambda, &mut m)?;
    Ok(m.finish())
}
