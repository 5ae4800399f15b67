//! Amazon SNS: standard and FIFO topics, subscriptions, filter policies and delivery
//! retries, their limits ([`limits`]) and their prices ([`bill`]).
//!
//! # What is modelled
//! * **Publishing.** Producers with `target = "sns:NAME"` call Publish (`batch = 1`) or
//!   PublishBatch (up to 10 messages whose total may not exceed the topic's
//!   `MaximumMessageSize`). A call is admitted against the account's regional publish
//!   quota (30,000 messages/s in us-east-1, a token bucket holding one second's worth) and,
//!   for a FIFO topic in the topic throughput scope, the topic's own 3,000 messages/s and
//!   20 MB/s. A refused call is throttled as a whole and the producer's SDK retries it
//!   with back-off; a message larger than the topic allows is refused and not retried.
//!   Each admitted call is billed by 64 KiB chunks of its payload.
//! * **FIFO topics** deduplicate a message id published again within 5 minutes, keep the
//!   order of each message group to every subscription (a group's next delivery waits
//!   until the previous one is delivered, dead-lettered or lost), and deliver to SQS queues
//!   only.
//! * **Fan-out.** A published message is checked against every subscription's filter
//!   policy ([`filter`]); with `k` matches it becomes `k` deliveries (the original and
//!   `k − 1` copies in the message slab); with none it leaves as *filtered out*.
//! * **Delivery.** A delivery reaches its endpoint after the subscription's delivery
//!   latency. An endpoint fails an attempt with its `failure_probability` or throughout
//!   its `outages`; a failed attempt is retried by the protocol's delivery policy
//!   ([`retry`]) with jitter. After the last attempt the message goes to the
//!   subscription's dead-letter queue or is lost. An SQS queue that refuses a message as
//!   too large is a client error: no retries. HTTP/S subscriptions may cap deliveries with
//!   `max_receives_per_second` (later deliveries wait their turn). SQS endpoints store the
//!   message (with the JSON envelope unless raw message delivery is on); Lambda endpoints
//!   invoke the function asynchronously; HTTP/S, Firehose, email, SMS and mobile push are
//!   counted sinks.
//!
//! Pending deliveries and retries are not kernel events: each subscription keeps them in
//! a `crate::sim::Deadlines` set with one kernel timer for the earliest, so an outage
//! holding millions of retries costs memory (24 bytes each), not queue operations.

pub mod bill;
pub(crate) mod config;
pub(crate) mod engine;
pub(crate) mod estimate;
pub mod filter;
pub mod limits;
pub mod raw;
pub mod retry;
pub(crate) mod subscription;
pub(crate) mod topic;
pub(crate) mod usage_keys;

pub(crate) use subscription::SnsSubscription;
pub use subscription::SubscriptionSpec;
pub(crate) use topic::SnsTopic;
pub use topic::TopicSpec;

use limits::SnsLimits;
use retry::{Backoff, DeliveryPolicy};

/// A subscription protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// An SQS queue.
    Sqs,
    /// A Lambda function, invoked asynchronously.
    Lambda,
    /// An HTTP/S endpoint.
    Http,
    /// An Amazon Data Firehose stream.
    Firehose,
    /// Email (SMTP).
    Email,
    /// SMS text messages.
    Sms,
    /// Mobile push notifications.
    Push,
}

impl Protocol {
    /// Every protocol, in report order.
    pub(crate) const ALL: [Protocol; 7] = [
        Protocol::Sqs,
        Protocol::Lambda,
        Protocol::Http,
        Protocol::Firehose,
        Protocol::Email,
        Protocol::Sms,
        Protocol::Push,
    ];

    /// The endpoint kind in model files (`sqs`, `lambda`, `http`, `firehose`, `email`,
    /// `sms`, `push`).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Protocol::Sqs => "sqs",
            Protocol::Lambda => "lambda",
            Protocol::Http => "http",
            Protocol::Firehose => "firehose",
            Protocol::Email => "email",
            Protocol::Sms => "sms",
            Protocol::Push => "push",
        }
    }

    /// The protocol named `key` in a model file (`https` is `http`).
    pub(crate) fn from_key(key: &str) -> Option<Protocol> {
        Some(match key {
            "sqs" => Protocol::Sqs,
            "lambda" => Protocol::Lambda,
            "http" | "https" => Protocol::Http,
            "firehose" => Protocol::Firehose,
            "email" => Protocol::Email,
            "sms" => Protocol::Sms,
            "push" => Protocol::Push,
            _ => return None,
        })
    }

    /// The delivery policy SNS applies to this protocol unless (HTTP/S only) the
    /// subscription sets its own (sns-message-delivery-retries.html).
    pub fn default_policy(self, lim: &SnsLimits) -> DeliveryPolicy {
        match self {
            Protocol::Sqs | Protocol::Lambda | Protocol::Firehose => DeliveryPolicy {
                immediate: lim.aws_managed_immediate_retries,
                pre_backoff: lim.aws_managed_pre_backoff_retries,
                backoff: lim.aws_managed_backoff_retries,
                post_backoff: lim.aws_managed_post_backoff_retries,
                pre_delay: lim.aws_managed_pre_backoff_delay.0,
                min_delay: lim.aws_managed_backoff_min.0,
                max_delay: lim.aws_managed_backoff_max.0,
                post_delay: lim.aws_managed_post_backoff_delay.0,
                function: Backoff::Exponential,
            },
            Protocol::Email | Protocol::Sms | Protocol::Push => DeliveryPolicy {
                immediate: lim.customer_managed_immediate_retries,
                pre_backoff: lim.customer_managed_pre_backoff_retries,
                backoff: lim.customer_managed_backoff_retries,
                post_backoff: lim.customer_managed_post_backoff_retries,
                pre_delay: lim.customer_managed_pre_backoff_delay.0,
                min_delay: lim.customer_managed_backoff_min.0,
                max_delay: lim.customer_managed_backoff_max.0,
                post_delay: lim.customer_managed_post_backoff_delay.0,
                function: Backoff::Exponential,
            },
            Protocol::Http => DeliveryPolicy {
                immediate: 0,
                pre_backoff: 0,
                backoff: lim.http_default_retries,
                post_backoff: 0,
                pre_delay: lim.http_default_delay.0,
                min_delay: lim.http_default_delay.0,
                max_delay: lim.http_default_delay.0,
                post_delay: lim.http_default_delay.0,
                function: Backoff::Linear,
            },
        }
    }
}

/// Where a subscription delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// SQS queue (index).
    Queue(u32),
    /// Lambda function (index), invoked asynchronously.
    Lambda(u32),
    /// A simulated Firehose delivery stream (index).
    Firehose(u32),
    /// A counted sink of this protocol (HTTP/S, a Firehose stream the model does not
    /// define, email, SMS, push).
    Sink(Protocol),
}
