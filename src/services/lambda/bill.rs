//! AWS Lambda pricing (<https://aws.amazon.com/lambda/pricing/>).

use crate::pricing::{Meter, PricingError};
use serde::{Deserialize, Serialize};

/// A function's instruction-set architecture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LambdaArch {
    /// x86_64.
    #[default]
    X86_64,
    /// arm64 (Graviton).
    Arm64,
}

impl LambdaArch {
    /// The architecture's name in usage files and price ids.
    pub(crate) fn key(self) -> &'static str {
        match self {
            LambdaArch::X86_64 => "x86_64",
            LambdaArch::Arm64 => "arm64",
        }
    }
}

/// Billable usage of one Lambda function over the measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LambdaUsage {
    /// Function name.
    pub name: String,
    /// Architecture.
    pub architecture: LambdaArch,
    /// Invocations (requests).
    pub requests: u64,
    /// Requests billed beyond one per invocation: one per 64 KB chunk of an asynchronous
    /// event beyond its first 256 KB (<https://aws.amazon.com/lambda/pricing/>).
    pub extra_requests: u64,
    /// Compute: Σ over invocations of duration rounded up to 1 ms × memory in GB
    /// (see `gb_seconds`).
    pub gb_seconds: f64,
}

/// GB-seconds of one invocation lasting `duration_ns` with `memory_mb` of memory.
///
/// # Formula
/// `ceil(duration_ns / 1 ms) × 1 ms × memory_mb / 1,024` (duration rounded up to the
/// nearest 1 ms; source:
/// <https://docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html>).
#[cfg(test)]
pub(crate) fn gb_seconds(duration_ns: u64, memory_mb: u32) -> f64 {
    let ms = duration_ns.div_ceil(1_000_000);
    ms as f64 / 1000.0 * memory_mb as f64 / 1024.0
}

/// Bill lines for Lambda functions.
///
/// # Formula
/// `(requests + extra requests of large asynchronous events) × $/request`
/// (`lambda.requests`, 1M free with the free tier) `+ GB-s × tiered
/// $/GB-s` by architecture (`lambda.duration.x86_64`, `.arm64`: tiers counted per
/// architecture over all functions; the 400,000 GB-s free tier is one allowance shared by
/// both architectures).
pub(crate) fn bill_lambda(functions: &[LambdaUsage], m: &mut Meter) -> Result<(), PricingError> {
    const S: &str = "lambda";
    for f in functions {
        let n = f.name.as_str();
        let what = if f.extra_requests > 0 {
            format!(
                "requests ({} for asynchronous events over 256 KB)",
                f.extra_requests
            )
        } else {
            "requests".to_string()
        };
        m.charge(
            S,
            n,
            &what,
            "lambda.requests",
            f.requests as f64 + f.extra_requests as f64,
        )?;
        let arch = f.architecture.key();
        m.charge(
            S,
            n,
            &format!("duration ({arch})"),
            &format!("lambda.duration.{arch}"),
            f.gb_seconds,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{BillOptions, PriceTable};
    use crate::services::{bill, Usage};

    fn month(functions: Vec<LambdaUsage>, free: bool) -> crate::pricing::Bill {
        let usage = Usage {
            window_s: 730.0 * 3600.0,
            lambda: functions,
            ..Usage::default()
        };
        let opts = BillOptions {
            free_tier: free,
            ..BillOptions::default()
        };
        bill(&usage, &PriceTable::bundled(), opts).unwrap()
    }

    fn f(name: &str, arch: LambdaArch, requests: u64, gbs: f64) -> LambdaUsage {
        LambdaUsage {
            extra_requests: 0,
            name: name.into(),
            architecture: arch,
            requests,
            gb_seconds: gbs,
        }
    }

    #[test]
    fn duration_rounds_up_to_the_millisecond() {
        // 100.2 ms at 512 MB → 101 ms × 0.5 GB = 0.0505 GB-s.
        assert!((gb_seconds(100_200_000, 512) - 0.0505).abs() < 1e-15);
        // Exactly 100 ms stays 100 ms: 0.1 s × 1 GB.
        assert!((gb_seconds(100_000_000, 1024) - 0.1).abs() < 1e-15);
        // 1 ns is billed as 1 ms.
        assert!((gb_seconds(1, 1024) - 0.001).abs() < 1e-15);
    }

    #[test]
    fn free_tier_on_and_off() {
        // 3M requests of 120 ms at 512 MB (x86): 3M × 0.12 s × 0.5 GB = 180,000 GB-s.
        // Off: 3M × $0.20/M = $0.60 + 180,000 × $0.0000166667 = $3.000006; total $3.600006.
        let fns = vec![f("fn", LambdaArch::X86_64, 3_000_000, 180_000.0)];
        let b = month(fns.clone(), false);
        assert!((b.total - 3.600006).abs() < 1e-9, "{}", b.total);
        // On: 2M billable requests = $0.40; 180,000 GB-s < 400,000 free = $0. Total $0.40.
        let b = month(fns, true);
        assert!((b.total - 0.40).abs() < 1e-9, "{}", b.total);
    }

    #[test]
    fn free_gb_seconds_are_shared_by_architectures() {
        // 300,000 GB-s x86 + 300,000 GB-s Arm: 400,000 free in all. x86 takes 300,000 of
        // it; Arm gets 100,000 free and pays 200,000 × $0.0000133334 = $2.66668.
        let fns = vec![
            f("a", LambdaArch::X86_64, 0, 300_000.0),
            f("b", LambdaArch::Arm64, 0, 300_000.0),
        ];
        let b = month(fns, true);
        assert!((b.total - 2.66668).abs() < 1e-9, "{}", b.total);
    }

    #[test]
    fn x86_tiers_cross_at_6_billion() {
        // 7B GB-s: 6B × $0.0000166667 + 1B × $0.000015 = $100,000.2 + $15,000.
        let b = month(vec![f("big", LambdaArch::X86_64, 0, 7e9)], false);
        assert!((b.total - 115_000.2).abs() < 1e-6, "{}", b.total);
    }

    #[test]
    fn arm_above_the_known_tiers_is_not_priced() {
        // 20B GB-s Arm: 7.5B × $0.0000133334 + 11.25B × $0.0000120001 = $100,000.5 +
        // $135,001.125; the last 1.25B GB-s have no known price.
        let b = month(vec![f("arm", LambdaArch::Arm64, 0, 20e9)], false);
        assert!((b.total - 235_001.625).abs() < 1e-6, "{}", b.total);
        assert_eq!(b.unpriced.len(), 1);
        assert!((b.unpriced[0].quantity - 1.25e9).abs() < 1.0);
    }
}
