//! Axes: the values one model field takes across a sweep, written as a single value, a
//! list, or a range `{ from, to, step }`.

use crate::input::units::{parse_duration, parse_size};
use crate::metrics::series::fmt_value;
use crate::model::raw::COMPONENT_KINDS;
use crate::sim::SimDuration;

/// Most values one range may expand to (a guard against a mistyped step).
pub(crate) const MAX_RANGE_VALUES: usize = 100_000;

/// One value of an axis.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisValue {
    /// How the value is shown in CSV files, tables and legends (`30`, `45s`, `0.25`).
    pub label: String,
    /// The value as TOML text, as it is written into the model (`30`, `"45s"`, `0.25`).
    pub toml: String,
    /// The value as a number for charts and costs: numbers as they are, durations in
    /// seconds, sizes in bytes; `None` for anything else.
    pub number: Option<f64>,
}

/// An axis: a model field (by path, see [`crate::input::overrides`]) and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The model path, such as `consumer.billing-workers.workers`.
    pub path: String,
    /// The values, in the order the sweep visits them.
    pub values: Vec<AxisValue>,
    /// Unit of [`AxisValue::number`] when every value is a duration (`s`) or a size
    /// (`B`).
    pub unit: Option<&'static str>,
}

impl Axis {
    /// The path without its kind, for legends: `order-workers.workers`.
    pub(crate) fn short(&self) -> &str {
        match self.path.split_once('.') {
            Some((kind, rest)) if COMPONENT_KINDS.contains(&kind) => rest,
            _ => &self.path,
        }
    }

    /// True when every value has a number.
    pub(crate) fn is_numeric(&self) -> bool {
        self.values.iter().all(|v| v.number.is_some())
    }
}

/// Expands the TOML value written for an axis into its values.
///
/// * a table whose keys are `from`, `to` and `step` is a range: integers, floats, or
///   durations (`{ from = "10s", to = "60s", step = "10s" }`); the step must be non-zero
///   and lead from `from` towards `to` (negative to count down); `to` is included when
///   the steps land on it;
/// * an array is a list of values (write `[[...]]` to give an array-valued field one
///   value);
/// * anything else is a single value.
pub(crate) fn expand(v: &toml::Value) -> Result<Axis, String> {
    let values = match v {
        toml::Value::Table(t) if !t.is_empty() && t.keys().all(|k| RANGE_KEYS.contains(&&**k)) => {
            let get = |k: &str| {
                t.get(k).ok_or_else(|| {
                    format!("a range needs `from`, `to` and `step`; `{k}` is missing")
                })
            };
            range(get("from")?, get("to")?, get("step")?)?
        }
        toml::Value::Array(items) => {
            if items.is_empty() {
                return Err("the list of values is empty: give at least one value".into());
            }
            items.iter().map(single).collect()
        }
        other => vec![single(other)],
    };
    let unit = unit_of(&values, v);
    Ok(Axis {
        path: String::new(),
        values,
        unit,
    })
}

const RANGE_KEYS: [&str; 3] = ["from", "to", "step"];

fn unit_of(values: &[AxisValue], raw: &toml::Value) -> Option<&'static str> {
    let strings: Vec<&str> = match raw {
        toml::Value::Array(items) => items.iter().filter_map(|i| i.as_str()).collect(),
        toml::Value::String(s) => vec![s.as_str()],
        toml::Value::Table(_) => {
            // A range of durations has duration labels.
            values.iter().map(|v| v.label.as_str()).collect()
        }
        _ => Vec::new(),
    };
    if strings.len() != values.len() || strings.is_empty() {
        return None;
    }
    if strings.iter().all(|s| parse_duration(s).is_ok()) {
        Some("s")
    } else if strings.iter().all(|s| parse_size(s).is_ok()) {
        Some("B")
    } else {
        None
    }
}

/// One value as written.
pub(crate) fn single(v: &toml::Value) -> AxisValue {
    match v {
        toml::Value::Integer(i) => AxisValue {
            label: i.to_string(),
            toml: i.to_string(),
            number: Some(*i as f64),
        },
        toml::Value::Float(f) => float_value(*f),
        toml::Value::String(s) => AxisValue {
            label: s.clone(),
            toml: toml::Value::String(s.clone()).to_string(),
            number: parse_duration(s)
                .map(SimDuration::as_secs_f64)
                .ok()
                .or_else(|| parse_size(s).ok().map(|b| b as f64)),
        },
        other => {
            let text = other.to_string();
            AxisValue {
                label: text.clone(),
                toml: text,
                number: None,
            }
        }
    }
}

fn float_value(f: f64) -> AxisValue {
    let toml = if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}") // keep it a float: `30.0`, not the integer `30`
    } else if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{f}")
    };
    AxisValue {
        label: fmt_value(f),
        toml,
        number: Some(f),
    }
}

fn range(
    from: &toml::Value,
    to: &toml::Value,
    step: &toml::Value,
) -> Result<Vec<AxisValue>, String> {
    use toml::Value::{Float, Integer, String as Str};
    match (from, to, step) {
        (Integer(a), Integer(b), Integer(s)) => {
            let n = count_steps(*a as f64, *b as f64, *s as f64, &step.to_string())?;
            Ok((0..n).map(|i| single(&Integer(a + i as i64 * s))).collect())
        }
        (Integer(_) | Float(_), Integer(_) | Float(_), Integer(_) | Float(_)) => {
            let num = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
            let (a, b, s) = (
                num(from).unwrap_or(f64::NAN),
                num(to).unwrap_or(f64::NAN),
                num(step).unwrap_or(f64::NAN),
            );
            if !(a.is_finite() && b.is_finite() && s.is_finite()) {
                return Err("`from`, `to` and `step` must be finite numbers".into());
            }
            let n = count_steps(a, b, s, &step.to_string())?;
            // Round to the decimals written, so 0.1 + 2 × 0.1 is 0.3, not 0.30000000000000004.
            let decimals = decimals(a).max(decimals(s)).min(15);
            let scale = 10f64.powi(decimals as i32);
            Ok((0..n)
                .map(|i| float_value(((a + i as f64 * s) * scale).round() / scale))
                .collect())
        }
        (Str(a), Str(b), Str(s)) => {
            let d = |x: &str, k: &str| {
                parse_duration(x).map_err(|m| format!("`{k}`: {m} (ranges of strings are ranges of durations; write other values as a list)"))
            };
            let (a, b, s) = (d(a, "from")?, d(b, "to")?, d(s, "step")?);
            if s.is_zero() {
                return Err("`step` is 0s: a range needs a step longer than 0s".into());
            }
            if b < a {
                return Err(format!(
                    "`from` ({a}) is after `to` ({b}): ranges of durations count up from `from` to `to`"
                ));
            }
            let n = ((b.0 - a.0) / s.0) as usize + 1;
            if n > MAX_RANGE_VALUES {
                return Err(format!(
                    "the range has {n} values, more than {MAX_RANGE_VALUES}: use a larger step"
                ));
            }
            Ok((0..n as u64)
                .map(|i| {
                    let v = SimDuration(a.0 + i * s.0);
                    AxisValue {
                        label: v.to_string(),
                        toml: format!("\"{v}\""),
                        number: Some(v.as_secs_f64()),
                    }
                })
                .collect())
        }
        _ => Err(
            "`from`, `to` and `step` must all be numbers or all be durations such as \"30s\""
                .into(),
        ),
    }
}

/// Number of values of the range `from, from + step, ...` that do not pass `to`.
fn count_steps(from: f64, to: f64, step: f64, step_text: &str) -> Result<usize, String> {
    if step == 0.0 {
        return Err("`step` is 0: a range needs a non-zero step".into());
    }
    if (to - from) * step < 0.0 {
        let dir = if step > 0.0 { "up" } else { "down" };
        let fix = if step > 0.0 { "negative" } else { "positive" };
        return Err(format!(
            "`step` = {step_text} counts {dir} from {} but `to` is {}: the step has the wrong sign (use a {fix} step)",
            fmt_value(from),
            fmt_value(to)
        ));
    }
    let n = ((to - from) / step + 1e-9).floor() + 1.0;
    if n > MAX_RANGE_VALUES as f64 {
        return Err(format!(
            "the range has {n} values, more than {MAX_RANGE_VALUES}: use a larger step"
        ));
    }
    Ok(n as usize)
}

/// Decimal places of the shortest form of `x`.
fn decimals(x: f64) -> usize {
    let s = format!("{x}");
    s.split_once('.').map(|(_, d)| d.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> toml::Value {
        let t: toml::Table = toml::from_str(&format!("v = {src}")).unwrap();
        t["v"].clone()
    }
    fn labels(src: &str) -> Vec<String> {
        expand(&parse(src))
            .unwrap()
            .values
            .into_iter()
            .map(|v| v.label)
            .collect()
    }

    #[test]
    fn single_values_lists_and_ranges() {
        assert_eq!(labels("30"), ["30"]);
        assert_eq!(labels("[10, 20, 40]"), ["10", "20", "40"]);
        assert_eq!(
            labels("{ from = 10, to = 30, step = 10 }"),
            ["10", "20", "30"]
        );
        // 10, 25 (40 would pass 35).
        assert_eq!(labels("{ from = 10, to = 35, step = 15 }"), ["10", "25"]);
        assert_eq!(
            labels("{ from = 30, to = 10, step = -10 }"),
            ["30", "20", "10"]
        );
        assert_eq!(
            labels("{ from = 0.1, to = 0.5, step = 0.1 }"),
            ["0.1", "0.2", "0.3", "0.4", "0.5"]
        );
        assert_eq!(
            labels(r#"{ from = "15s", to = "1m", step = "15s" }"#),
            ["15s", "30s", "45s", "1m"]
        );
        assert_eq!(labels("{ from = 5, to = 5, step = 1 }"), ["5"]);
    }

    #[test]
    fn values_keep_their_toml_type() {
        let a = expand(&parse("[2.0, \"45s\", true]")).unwrap();
        assert_eq!(a.values[0].toml, "2.0");
        assert_eq!(a.values[1].toml, "\"45s\"");
        assert_eq!(a.values[1].number, Some(45.0));
        assert_eq!(a.values[2].toml, "true");
        let t = expand(&parse(r#"{ dist = "exponential", mean = "2s" }"#)).unwrap();
        assert_eq!(t.values.len(), 1);
        assert!(
            t.values[0].toml.contains("dist = \"exponential\""),
            "{}",
            t.values[0].toml
        );
        assert_eq!(expand(&parse(r#"["1s", "2s"]"#)).unwrap().unit, Some("s"));
    }

    #[test]
    fn bad_ranges_say_why() {
        let e = expand(&parse("{ from = 1, to = 5, step = 0 }")).unwrap_err();
        assert!(e.contains("non-zero step"), "{e}");
        let e = expand(&parse("{ from = 1, to = 5, step = -1 }")).unwrap_err();
        assert!(e.contains("wrong sign"), "{e}");
        let e = expand(&parse("{ from = 5, to = 1, step = 2 }")).unwrap_err();
        assert!(e.contains("wrong sign"), "{e}");
        let e = expand(&parse("{ from = 1, to = 5 }")).unwrap_err();
        assert!(e.contains("`step` is missing"), "{e}");
        let e = expand(&parse(r#"{ from = "1m", to = "10s", step = "10s" }"#)).unwrap_err();
        assert!(e.contains("after"), "{e}");
        let e = expand(&parse(r#"{ from = "1s", to = "10s", step = "0s" }"#)).unwrap_err();
        assert!(e.contains("longer than 0s"), "{e}");
        let e = expand(&parse("{ from = 0, to = 1e9, step = 1 }")).unwrap_err();
        assert!(e.contains("larger step"), "{e}");
        assert!(expand(&parse("[]")).is_err());
    }
}
