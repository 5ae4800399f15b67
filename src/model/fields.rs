//! Field checks shared by every component's validation (services' `config.rs`, producers,
//! worker pools): names and references between components, windows, probabilities and
//! ranges, each failure placed at its field.

use super::raw::RawWindow;
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::load::Window;
use crate::sim::{SimDuration, SimTime};
use std::collections::HashMap;

/// Indexes the components of `[[table]]` by name (`what` names one in messages); a name
/// used twice, or already `taken` by another table sharing the namespace, is an error at
/// its `name` field.
pub(crate) fn name_index<'a>(
    table: &str,
    what: &str,
    names: impl IntoIterator<Item = &'a str>,
    taken: Option<&HashMap<&str, usize>>,
) -> VResult<HashMap<&'a str, usize>> {
    let mut idx = HashMap::new();
    for (i, name) in names.into_iter().enumerate() {
        if taken.is_some_and(|t| t.contains_key(name)) || idx.insert(name, i).is_some() {
            return Err(Invalid::at(
                &FieldPath::item(table, i, name).field("name"),
                format!("a {what} called \"{name}\" is already defined"),
            ));
        }
    }
    Ok(idx)
}

/// Outage windows (`[{ from, for }]`, no probability, none overlapping), sorted by start;
/// `who` is what goes down, for messages.
pub(crate) fn outage_windows(
    raw: &[RawWindow],
    path: &FieldPath,
    who: &str,
) -> VResult<Vec<Window>> {
    let mut outages = Vec::new();
    for (i, w) in raw.iter().enumerate() {
        let wpath = path.index(i);
        if w.probability.is_some() {
            return Err(Invalid::at(
                &wpath.field("probability"),
                format!("an outage has no probability: the {who} is down for the whole window"),
            ));
        }
        if w.length.0.is_zero() {
            return Err(Invalid::at(
                &wpath.field("for"),
                "an outage must last longer than 0s",
            ));
        }
        outages.push(Window {
            from: SimTime::ZERO + w.from.0,
            until: SimTime::ZERO + w.from.0 + w.length.0,
            probability: 1.0,
        });
    }
    outages.sort_by_key(|w| w.from);
    if outages.windows(2).any(|w| w[1].from < w[0].until) {
        return Err(Invalid::at(path, "outage windows overlap"));
    }
    Ok(outages)
}

/// Parses a `kind:name` reference.
pub(crate) fn reference<'a>(
    s: &'a str,
    path: &FieldPath,
    allowed: &[&str],
) -> VResult<(&'a str, &'a str)> {
    let Some((kind, name)) = s.split_once(':') else {
        return Err(Invalid::at(
            path,
            format!(
                "\"{s}\" is not a reference: write KIND:NAME, such as \"sqs:billing\" (kinds: {})",
                allowed.join(", ")
            ),
        ));
    };
    if !allowed.contains(&kind) {
        return Err(Invalid::at(
            path,
            format!(
                "unknown component kind \"{kind}\" in \"{s}\": expected one of {}",
                allowed.join(", ")
            ),
        ));
    }
    Ok((kind, name))
}

/// The index of component `name` in `map` (`kind:name` was written; `what` names the
/// component in messages), or an error listing the defined ones.
pub(crate) fn lookup(
    map: &HashMap<&str, usize>,
    name: &str,
    kind: &str,
    what: &str,
    path: &FieldPath,
) -> VResult<usize> {
    map.get(name).copied().ok_or_else(|| {
        let mut known: Vec<&&str> = map.keys().collect();
        known.sort();
        let known: Vec<String> = known.iter().map(|k| format!("\"{k}\"")).collect();
        Invalid::at(
            path,
            format!(
                "no {what} called \"{name}\" ({kind}:{name}); {}",
                if known.is_empty() {
                    format!("the model defines no {what}")
                } else {
                    format!("defined: {}", known.join(", "))
                }
            ),
        )
    })
}

/// Checks that duration `v` of `what` lies within AWS's limits `lo` to `hi` (documented
/// at `source`).
pub(crate) fn check_range(
    path: &FieldPath,
    what: &str,
    v: SimDuration,
    lo: SimDuration,
    hi: SimDuration,
    source: &str,
) -> VResult<()> {
    if v < lo || v > hi {
        return Err(Invalid::at(
            path,
            format!("{what} {v} is outside AWS's limits of {lo} to {hi} (source: {source})"),
        ));
    }
    Ok(())
}

/// Checks that `v` is a probability (0 to 1).
pub(crate) fn prob(path: &FieldPath, v: f64) -> VResult<f64> {
    if !(0.0..=1.0).contains(&v) || v.is_nan() {
        return Err(Invalid::at(
            path,
            format!("{v} is not a probability: expected a value from 0 to 1"),
        ));
    }
    Ok(v)
}
