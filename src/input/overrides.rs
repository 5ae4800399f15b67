//! Setting a field of a model by path, on the TOML text (used by `--set` and by sweeps).
//!
//! A path names a top-level field (`duration`), or a component and a field inside it:
//! `KIND.NAME.FIELD[.SUBFIELD...]`, where `KIND` is a table-array name (`producer`,
//! `queue`, `consumer`, ...) and `NAME` the component's `name` (names may contain dots;
//! the longest matching name wins). Examples: `producer.web.load.rate_per_s`,
//! `queue.billing.visibility_timeout`, `consumer.billing-workers.workers`.

use toml_edit::{DocumentMut, Item, Table, Value};

/// Why an override could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OverrideError {
    /// What went wrong, with the nearest valid path when one is close.
    pub message: String,
}

/// Parses `text` as a TOML value (number, bool, string, inline table or array); bare
/// words become strings, so `--set queue.q.visibility_timeout=45s` works unquoted.
pub(crate) fn parse_value(text: &str) -> Value {
    let t = text.trim();
    if let Ok(v) = t.parse::<Value>() {
        return v;
    }
    Value::from(t)
}

/// Every settable path of a model (leaf fields), for suggestions.
pub(crate) fn paths(doc: &DocumentMut) -> Vec<String> {
    let mut out = Vec::new();
    for (k, item) in doc.iter() {
        match item {
            Item::ArrayOfTables(a) => {
                for t in a.iter() {
                    let name = t.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                    collect(&format!("{k}.{name}"), t, &mut out);
                }
            }
            Item::Table(t) => collect(k, t, &mut out),
            _ => out.push(k.to_string()),
        }
    }
    out
}

fn collect(prefix: &str, t: &Table, out: &mut Vec<String>) {
    for (k, item) in t.iter() {
        let p = format!("{prefix}.{k}");
        match item {
            Item::Table(sub) => collect(&p, sub, out),
            Item::Value(Value::InlineTable(it)) => {
                for (ik, _) in it.iter() {
                    out.push(format!("{p}.{ik}"));
                }
                out.push(p);
            }
            _ => out.push(p),
        }
    }
}

/// The candidate closest to `want` by edit distance, if reasonably close.
pub(crate) fn nearest<'a>(
    want: &str,
    candidates: impl IntoIterator<Item = &'a String>,
) -> Option<&'a String> {
    candidates
        .into_iter()
        .map(|c| (levenshtein(want, c), c))
        .filter(|(d, c)| *d <= (c.len().max(want.len()) / 3).max(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance (insertions, deletions, substitutions). Written out because it is ten
/// lines and only used for "did you mean" hints.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j + 1] + 1)
                .min(cur[j] + 1)
                .min(prev[j] + usize::from(ca != *cb));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Sets `path` to `value` in `doc`. The field must already exist in the model unless its
/// parent exists (so a default can be overridden by naming it).
pub(crate) fn apply(doc: &mut DocumentMut, path: &str, value: Value) -> Result<(), OverrideError> {
    let all = paths(doc);
    let fail = |what: String| {
        let hint = nearest(path, all.iter())
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        OverrideError {
            message: format!("{what}{hint}"),
        }
    };
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    // A component table array?
    if let Some(Item::ArrayOfTables(arr)) = doc.get_mut(head) {
        let names: Vec<String> = arr
            .iter()
            .map(|t| {
                t.get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        // Longest name that prefixes `rest` followed by a dot.
        let best = names
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                rest.len() > n.len()
                    && rest.starts_with(n.as_str())
                    && rest.as_bytes()[n.len()] == b'.'
            })
            .max_by_key(|(_, n)| n.len())
            .map(|(i, n)| (i, n.len()));
        let Some((idx, len)) = best else {
            // Suggest the closest path among this kind's fields, however far.
            let prefix = format!("{head}.");
            let hint = all
                .iter()
                .filter(|p| p.starts_with(&prefix))
                .min_by_key(|c| levenshtein(path, c))
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err(OverrideError {
                message: format!(
                    "no {head} in `{path}` matches a {head} of the model (names: {}){hint}",
                    names.join(", ")
                ),
            });
        };
        let field_path = &rest[len + 1..];
        let table = arr.get_mut(idx).expect("index from enumerate");
        return set_in_table(table, field_path, value)
            .map_err(|_| fail(format!("`{path}`: no such field")));
    }
    set_in_table(doc.as_table_mut(), path, value)
        .map_err(|_| fail(format!("`{path}` is not a field of the model")))
}

fn set_in_table(t: &mut Table, path: &str, value: Value) -> Result<(), ()> {
    let (k, rest) = match path.split_once('.') {
        Some((k, r)) => (k, Some(r)),
        None => (path, None),
    };
    match rest {
        None => {
            match t.get_mut(k) {
                Some(item) => *item = Item::Value(value),
                None => {
                    t.insert(k, Item::Value(value));
                }
            }
            Ok(())
        }
        Some(r) => match t.get_mut(k) {
            Some(Item::Table(sub)) => set_in_table(sub, r, value),
            Some(Item::Value(Value::InlineTable(it))) => set_in_inline(it, r, value),
            None => {
                // Create the inline table chain, so `limits.sqs.fifo_tps_per_action` works.
                let mut it = toml_edit::InlineTable::new();
                set_in_inline(&mut it, r, value)?;
                t.insert(k, Item::Value(Value::InlineTable(it)));
                Ok(())
            }
            _ => Err(()),
        },
    }
}

fn set_in_inline(t: &mut toml_edit::InlineTable, path: &str, value: Value) -> Result<(), ()> {
    let (k, rest) = match path.split_once('.') {
        Some((k, r)) => (k, Some(r)),
        None => (path, None),
    };
    match rest {
        None => {
            t.insert(k, value);
            Ok(())
        }
        Some(r) => match t.get_mut(k) {
            Some(Value::InlineTable(sub)) => set_in_inline(sub, r, value),
            None => {
                let mut sub = toml_edit::InlineTable::new();
                set_in_inline(&mut sub, r, value)?;
                t.insert(k, Value::InlineTable(sub));
                Ok(())
            }
            _ => Err(()),
        },
    }
}

/// Applies `path=value` overrides to model text; returns the new text.
pub fn apply_all(src: &str, sets: &[(String, String)]) -> Result<String, OverrideError> {
    let mut doc: DocumentMut = src
        .parse()
        .map_err(|e: toml_edit::TomlError| OverrideError {
            message: format!("the model is not valid TOML: {e}"),
        })?;
    for (path, value) in sets {
        apply(&mut doc, path, parse_value(value))?;
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"name = "m"
duration = "1h"

[[producer]]
name = "web"
load = { process = "poisson", rate_per_s = 100 }

[[queue]]
name = "pay.fifo"
kind = "fifo"
"#;

    #[test]
    fn sets_fields_by_component_name() {
        let out = apply_all(
            SRC,
            &[
                ("producer.web.load.rate_per_s".into(), "250".into()),
                ("queue.pay.fifo.visibility_timeout".into(), "45s".into()),
                ("duration".into(), "\"2h\"".into()),
            ],
        )
        .unwrap();
        assert!(out.contains("rate_per_s = 250"), "{out}");
        assert!(out.contains("visibility_timeout = \"45s\""), "{out}");
        assert!(out.contains("duration = \"2h\""), "{out}");
    }

    #[test]
    fn unknown_paths_suggest_the_nearest() {
        let e = apply_all(SRC, &[("producer.web.load.rate_pr_s".into(), "1".into())]);
        // A new leaf under an existing inline table is allowed (it may be a default being
        // set); the model's own validation rejects unknown fields afterwards.
        assert!(e.is_ok());
        let e =
            apply_all(SRC, &[("producer.webb.load.rate_per_s".into(), "1".into())]).unwrap_err();
        assert!(
            e.message
                .contains("did you mean `producer.web.load.rate_per_s`"),
            "{}",
            e.message
        );
    }
}
