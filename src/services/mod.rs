//! The AWS services: each a simulation component, its documented limits and a pure
//! pricing function.

pub mod kinesis;
pub mod lambda;
pub mod sns;
pub mod sqs;

use serde::{Deserialize, Serialize};

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
