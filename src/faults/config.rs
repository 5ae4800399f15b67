//! `[[fault]]` tables → [`FaultSpec`]s, with the worker pools' `outages` folded in.

use super::raw::{RawFault, RawFaultKind};
use super::{FaultKind, FaultSpec, FaultTarget, FaultWhen};
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::load::dist::Dist;
use crate::load::DurationDist;
use crate::services::sns::SubscriptionSpec;
use crate::sim::{SimDuration, SimTime};
use crate::workers::PoolSpec;
use std::path::Path;

/// The names of the components a fault may hit.
pub(crate) struct FaultTargets<'a> {
    /// Worker pools.
    pub(crate) pools: &'a [PoolSpec],
    /// SNS subscriptions.
    pub(crate) subscriptions: &'a [SubscriptionSpec],
    /// SQS queue names.
    pub(crate) queues: &'a [String],
    /// SNS topic names.
    pub(crate) topics: &'a [String],
}

/// Validates the model's faults and adds one scheduled `outage` per window of a pool's
/// `outages`.
pub(crate) fn faults(
    raw: &[RawFault],
    t: &FaultTargets<'_>,
    base_dir: &Path,
) -> VResult<Vec<FaultSpec>> {
    let mut out = Vec::new();
    for (i, f) in raw.iter().enumerate() {
        let name = f
            .name
            .clone()
            .unwrap_or_else(|| format!("{}-{}", kind_key(f.kind), f.target.replace(':', "-")));
        let path = FieldPath::item("fault", i, &name);
        out.push((fault(f, name, &path, t, base_dir)?, path));
    }
    for (c, p) in t.pools.iter().enumerate() {
        for (k, w) in p.outages.iter().enumerate() {
            let path = FieldPath::item("consumer", c, &p.name).field("outages");
            out.push((
                FaultSpec {
                    name: format!("{}-outage-{}", p.name, k + 1),
                    kind: FaultKind::Outage,
                    target: FaultTarget::Pool(c as u32),
                    target_text: format!("consumer:{}", p.name),
                    when: FaultWhen::Once(w.from),
                    length: DurationDist::constant(w.until - w.from),
                    listed: false,
                },
                path,
            ));
        }
    }
    // Names are report keys; two faults of one kind on one component cannot both hold
    // (which share, which latency?) unless their scheduled windows are apart.
    for (i, (a, _)) in out.iter().enumerate() {
        for (j, (b, _)) in out[..i].iter().enumerate() {
            if a.name == b.name {
                // `b` comes first: a [[fault]] whenever one of the two is.
                let at = if a.listed { &out[i].1 } else { &out[j].1 };
                return Err(Invalid::at(
                    &at.field("name"),
                    format!(
                        "another fault is named \"{}\" (a pool's outages are named POOL-outage-N); give each a name of its own",
                        a.name
                    ),
                ));
            }
            if a.target != b.target || a.kind.key() != b.kind.key() {
                continue;
            }
            let clash = match (a.when, b.when) {
                (FaultWhen::Once(x), FaultWhen::Once(y)) => {
                    let (ax, bx) = (x + constant(&a.length), y + constant(&b.length));
                    x < bx && y < ax
                }
                _ => true,
            };
            if clash {
                return Err(Invalid::at(
                    &out[i].1,
                    format!(
                        "fault \"{}\" and fault \"{}\" are both {} on {} and may overlap: they cannot both hold (give them windows apart, or one fault)",
                        a.name,
                        b.name,
                        a.kind.key(),
                        a.target_text
                    ),
                ));
            }
        }
    }
    Ok(out.into_iter().map(|(f, _)| f).collect())
}

fn kind_key(k: RawFaultKind) -> &'static str {
    match k {
        RawFaultKind::Outage => "outage",
        RawFaultKind::EndpointDown => "endpoint_down",
        RawFaultKind::Throttle => "throttle",
        RawFaultKind::CapacityLoss => "capacity_loss",
        RawFaultKind::LatencySpike => "latency_spike",
    }
}

/// The length of a scheduled fault (validated to be a constant).
fn constant(d: &DurationDist) -> SimDuration {
    match d.0 {
        // Durations are held in nanoseconds.
        Dist::Constant(v) => SimDuration(v as u64),
        _ => SimDuration::ZERO,
    }
}

fn fault(
    f: &RawFault,
    name: String,
    path: &FieldPath,
    t: &FaultTargets<'_>,
    base_dir: &Path,
) -> VResult<FaultSpec> {
    let (kind_txt, target_name) = f.target.split_once(':').ok_or_else(|| {
        Invalid::at(
            &path.field("target"),
            format!(
                "target \"{}\" must be KIND:NAME, such as consumer:workers",
                f.target
            ),
        )
    })?;
    let allowed: &[&str] = match f.kind {
        RawFaultKind::Outage | RawFaultKind::CapacityLoss => &["consumer"],
        RawFaultKind::EndpointDown => &["subscription"],
        RawFaultKind::Throttle => &["sqs", "sns"],
        RawFaultKind::LatencySpike => &["sqs", "subscription"],
    };
    if !allowed.contains(&kind_txt) {
        return Err(Invalid::at(
            &path.field("target"),
            format!(
                "a {} fault hits {}, not \"{kind_txt}:\"",
                kind_key(f.kind),
                allowed
                    .iter()
                    .map(|a| format!("{a}:NAME"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ));
    }
    let find = |names: Vec<&str>, what: &str| -> VResult<u32> {
        names
            .iter()
            .position(|n| *n == target_name)
            .map(|i| i as u32)
            .ok_or_else(|| {
                Invalid::at(
                    &path.field("target"),
                    format!("there is no {what} named \"{target_name}\""),
                )
            })
    };
    let target = match kind_txt {
        "consumer" => FaultTarget::Pool(find(
            t.pools.iter().map(|p| p.name.as_str()).collect(),
            "[[consumer]] worker pool",
        )?),
        "subscription" => FaultTarget::Subscription(find(
            t.subscriptions.iter().map(|s| s.name.as_str()).collect(),
            "[[subscription]]",
        )?),
        "sqs" => FaultTarget::Queue(find(
            t.queues.iter().map(String::as_str).collect(),
            "[[queue]]",
        )?),
        _ => FaultTarget::Topic(find(
            t.topics.iter().map(String::as_str).collect(),
            "[[topic]]",
        )?),
    };
    let share = |lo_open: bool, hi_closed: bool| -> VResult<f64> {
        let s = f.share.ok_or_else(|| {
            Invalid::at(
                &path.field("share"),
                format!("a {} fault needs a share", kind_key(f.kind)),
            )
        })?;
        let ok = s.is_finite()
            && (if lo_open { s > 0.0 } else { s >= 0.0 })
            && (if hi_closed { s <= 1.0 } else { s < 1.0 });
        if !ok {
            return Err(Invalid::at(
                &path.field("share"),
                format!(
                    "share {s} is outside {}0, 1{} (a share of {})",
                    if lo_open { "(" } else { "[" },
                    if hi_closed { "]" } else { ")" },
                    if f.kind == RawFaultKind::Throttle {
                        "calls"
                    } else {
                        "workers; 1 is an outage"
                    }
                ),
            ));
        }
        Ok(s)
    };
    let kind = match f.kind {
        RawFaultKind::Outage => FaultKind::Outage,
        RawFaultKind::EndpointDown => FaultKind::EndpointDown,
        RawFaultKind::Throttle => FaultKind::Throttle {
            share: share(true, true)?,
        },
        RawFaultKind::CapacityLoss => {
            if let FaultTarget::Pool(c) = target {
                if t.pools[c as usize].autoscale.is_some() {
                    return Err(Invalid::at(
                        &path.field("target"),
                        "capacity_loss on an auto-scaled pool is not modelled (the scaler would replace the lost workers): use an outage, or a fixed pool",
                    ));
                }
                if t.pools[c as usize].workers < 2 {
                    return Err(Invalid::at(
                        &path.field("target"),
                        "capacity_loss takes a share of a pool's workers and leaves at least one: a one-worker pool can only have an outage",
                    ));
                }
            }
            FaultKind::CapacityLoss {
                share: share(true, false)?,
            }
        }
        RawFaultKind::LatencySpike => match f.extra_latency {
            Some(d) if !d.0.is_zero() => FaultKind::LatencySpike { extra: d.0 },
            _ => {
                return Err(Invalid::at(
                    &path.field("extra_latency"),
                    "a latency_spike fault needs an extra_latency longer than 0s",
                ))
            }
        },
    };
    if f.share.is_some()
        && !matches!(
            kind,
            FaultKind::Throttle { .. } | FaultKind::CapacityLoss { .. }
        )
    {
        return Err(Invalid::at(
            &path.field("share"),
            format!(
                "share applies to throttle and capacity_loss faults, not {}",
                kind.key()
            ),
        ));
    }
    if f.extra_latency.is_some() && !matches!(kind, FaultKind::LatencySpike { .. }) {
        return Err(Invalid::at(
            &path.field("extra_latency"),
            format!(
                "extra_latency applies to latency_spike faults, not {}",
                kind.key()
            ),
        ));
    }
    let length = crate::model::dist::dur_dist(&f.length, &path.field("for"), base_dir)?;
    let when = match (f.from, f.rate_per_hour) {
        (Some(from), None) => {
            match length.0 {
                Dist::Constant(v) if v > 0.0 => {}
                _ => {
                    return Err(Invalid::at(
                        &path.field("for"),
                        "a scheduled fault (from) lasts a constant time longer than 0s, such as \"20m\"",
                    ))
                }
            }
            FaultWhen::Once(SimTime::ZERO + from.0)
        }
        (None, Some(r)) => {
            if !(r.is_finite() && r > 0.0 && r <= 3600.0) {
                return Err(Invalid::at(
                    &path.field("rate_per_hour"),
                    format!("rate_per_hour {r} is outside (0, 3600]"),
                ));
            }
            if length.mean_s() <= 0.0 {
                return Err(Invalid::at(
                    &path.field("for"),
                    "a random fault must last longer than 0s on average",
                ));
            }
            FaultWhen::Random { rate_per_hour: r }
        }
        _ => {
            return Err(Invalid::at(
                path,
                "a fault is either scheduled (from = \"30m\") or random (rate_per_hour = 2): give exactly one",
            ))
        }
    };
    Ok(FaultSpec {
        name,
        kind,
        target,
        target_text: f.target.clone(),
        when,
        length,
        listed: true,
    })
}
