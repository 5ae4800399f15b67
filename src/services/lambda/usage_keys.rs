//! The keys of a Lambda function in a usage file (`[lambda.NAME]`, see
//! `src/pricing/USAGE.md`) and their conversion to a [`LambdaUsage`].

use crate::pricing::PricingError;
use crate::services::lambda::bill::{LambdaArch, LambdaUsage};
use crate::services::usage_keys::{rounded, UsageTable};

/// The keys of `[lambda.NAME]`.
pub(crate) const KEYS: &[&str] = &[
    "architecture",
    "memory_mb",
    "monthly_requests",
    "request_duration_ms",
    "average_request_duration",
    "requests_per_second",
    "hours",
    "async_event_size_kb",
];

/// The invocations of a function of a usage file, for its capacity rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LambdaCalls {
    /// Requests over the month.
    pub(crate) requests: f64,
    /// Requests per second while the rate keys apply (0 when not given).
    pub(crate) rate: f64,
    /// Mean duration, ms.
    pub(crate) duration_ms: f64,
}

/// Reads `[lambda.NAME]`.
///
/// # Formula
/// Requests `monthly_requests + rate × hours × 3,600`, each billed as
/// `1 + ceil(max(0, async_event_size_kb − 256) / 64)` requests when the function is
/// invoked asynchronously with events of that size; GB-seconds `requests ×
/// ceil(duration ms) / 1,000 × memory MB / 1,024` (duration is billed rounded up to the
/// next millisecond per invocation).
pub(crate) fn read(r: &UsageTable) -> Result<(LambdaUsage, LambdaCalls), PricingError> {
    let arch = match r.choice("architecture", &["x86_64", "arm64"])? {
        None | Some("x86_64") => LambdaArch::X86_64,
        Some(_) => LambdaArch::Arm64,
    };
    let memory = r.count_ranged("memory_mb", 128.0, 128.0, 10_240.0)?;
    if r.has("request_duration_ms") && r.has("average_request_duration") {
        return Err(r.err(
            "average_request_duration",
            "give request_duration_ms or its infracost alias average_request_duration, not both"
                .into(),
        ));
    }
    let duration_ms = r
        .num("request_duration_ms")?
        .or(r.num("average_request_duration")?)
        .unwrap_or(0.0);
    let hours = r.hours()?;
    let rate = r.num_or("requests_per_second", 0.0)?;
    let requests = r.num_or("monthly_requests", 0.0)? + rate * hours * 3600.0;
    // Duration is billed rounded up to the next millisecond per invocation.
    let gbs = requests * duration_ms.ceil() / 1000.0 * memory / 1024.0;
    // Asynchronous events over 256 KB are billed one more request per further 64 KB.
    let event_kb = r.ranged("async_event_size_kb", 0.0, 0.0, 1024.0)?;
    let per_event = crate::services::lambda::limits::LambdaLimits::default()
        .async_requests((event_kb * 1024.0).ceil() as u64);
    let usage = LambdaUsage {
        name: r.name.into(),
        architecture: arch,
        requests: rounded(requests),
        extra_requests: rounded(requests * (per_event - 1) as f64),
        gb_seconds: gbs,
    };
    Ok((
        usage,
        LambdaCalls {
            requests,
            rate,
            duration_ms,
        },
    ))
}
