//! Subscription filter policies: parsing, AWS's constraints, and matching against the
//! attributes or body fields that producers declare.
//!
//! # Policy syntax (TOML for AWS's JSON)
//! ```toml
//! filter = { type = ["order", "refund"],                 # exact match, OR within a key
//!            amount = [{ numeric = [">", 100, "<=", 500] }],
//!            store = [{ prefix = "eu-" }],
//!            file = [{ suffix = ".png" }],
//!            region = [{ anything-but = ["us-east-1"] }],
//!            coupon = [{ exists = true }],
//!            "$or" = [{ channel = ["web"] }, { vip = [{ exists = true }] }] }
//! ```
//! Keys are ANDed; the values of one key are ORed; `"$or"` ORs whole sub-policies
//! (and-or-logic.html). Also `equals-ignore-case` and `anything-but` with a `prefix` or
//! `suffix`. With `filter_scope = "body"` a table value nests (`order = { type = [...] }`
//! matches the body field `order.type`); attribute policies may not nest.
//!
//! # Matching (sns-subscription-filter-policies.html, attribute-key-matching.html)
//! A message matches when, for every key, its attribute (or field) has a value that at
//! least one of the key's matchers accepts. A missing attribute matches only
//! `{ exists = false }`, and `exists = false` needs the message to have at least one
//! attribute. String matchers never accept numbers and numeric matchers never accept
//! strings; `anything-but` accepts any present value not in its list.
//!
//! # Constraints (checked when the model loads)
//! At most `filter_max_keys` (5) keys: distinct keys for attribute policies, distinct
//! top-level keys for body policies; at most `filter_max_combinations` (150) combinations:
//! the product of the keys' array sizes, summed over the alternatives that `$or` expands
//! to (AWS: "multiply the number of values in each array"); numbers within ±10⁹
//! (subscription-filter-policy-constraints.html).

use crate::load::attrs::{Attr, AttrDist, AttrValue};
use std::collections::BTreeSet;
use toml::Value;

/// Whether a policy reads message attributes or the message body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `FilterPolicyScope = MessageAttributes` (the default).
    Attributes,
    /// `FilterPolicyScope = MessageBody` (payload-based filtering).
    Body,
}

/// A literal of an `anything-but` list.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A string.
    Str(String),
    /// A number.
    Num(f64),
}

/// One bound of a numeric range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bound {
    /// The number.
    pub value: f64,
    /// Whether it is included (`>=`, `<=`).
    pub inclusive: bool,
}

/// One value of a key's array.
#[derive(Clone, Debug, PartialEq)]
pub enum Matcher {
    /// `"order"`: equal strings.
    Exact(String),
    /// `100`: equal numbers.
    ExactNumber(f64),
    /// `{ prefix = "eu-" }`.
    Prefix(String),
    /// `{ suffix = ".png" }`.
    Suffix(String),
    /// `{ equals-ignore-case = "Order" }`.
    EqualsIgnoreCase(String),
    /// `{ anything-but = ["a", 1] }`: present and none of these.
    AnythingBut(Vec<Literal>),
    /// `{ anything-but = { prefix = "x" } }`: a string not starting with it.
    AnythingButPrefix(String),
    /// `{ anything-but = { suffix = "x" } }`: a string not ending with it.
    AnythingButSuffix(String),
    /// `{ numeric = [">", 0, "<=", 10] }` or `{ numeric = ["=", 5] }`.
    Numeric {
        /// Lower bound, if any.
        lo: Option<Bound>,
        /// Upper bound, if any.
        hi: Option<Bound>,
    },
    /// `{ exists = true }` / `{ exists = false }`.
    Exists(bool),
}

impl Matcher {
    /// Whether this matcher accepts the string `s`.
    pub(crate) fn accepts_str(&self, s: &str) -> bool {
        match self {
            Matcher::Exact(v) => s == v,
            Matcher::Prefix(p) => s.starts_with(p.as_str()),
            Matcher::Suffix(p) => s.ends_with(p.as_str()),
            Matcher::EqualsIgnoreCase(v) => s.to_lowercase() == v.to_lowercase(),
            Matcher::AnythingBut(list) => {
                !list.iter().any(|l| matches!(l, Literal::Str(v) if v == s))
            }
            Matcher::AnythingButPrefix(p) => !s.starts_with(p.as_str()),
            Matcher::AnythingButSuffix(p) => !s.ends_with(p.as_str()),
            Matcher::Exists(e) => *e,
            Matcher::ExactNumber(_) | Matcher::Numeric { .. } => false,
        }
    }

    /// Whether this matcher accepts the number `x`.
    pub(crate) fn accepts_num(&self, x: f64) -> bool {
        match self {
            Matcher::ExactNumber(v) => same_number(x, *v),
            Matcher::Numeric { lo, hi } => {
                let lo_ok = lo.is_none_or(|b| {
                    if b.inclusive {
                        x >= b.value || same_number(x, b.value)
                    } else {
                        x > b.value && !same_number(x, b.value)
                    }
                });
                let hi_ok = hi.is_none_or(|b| {
                    if b.inclusive {
                        x <= b.value || same_number(x, b.value)
                    } else {
                        x < b.value && !same_number(x, b.value)
                    }
                });
                lo_ok && hi_ok
            }
            Matcher::AnythingBut(list) => !list
                .iter()
                .any(|l| matches!(l, Literal::Num(v) if same_number(x, *v))),
            Matcher::Exists(e) => *e,
            _ => false,
        }
    }
}

/// AWS compares numbers to five decimal places: two numbers are equal when they round to
/// the same integer once multiplied by this (subscription-filter-policy-constraints.html).
pub(crate) const NUMBER_SCALE: f64 = 1e5;

/// AWS compares numbers to five decimal places.
fn same_number(a: f64, b: f64) -> bool {
    (a * NUMBER_SCALE).round() == (b * NUMBER_SCALE).round()
}

/// One key's condition: the key (a dotted path for nested body fields) and its matchers.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The attribute name or body path.
    pub key: String,
    /// Its array: at least one must accept the value.
    pub matchers: Vec<Matcher>,
}

/// A parsed, validated policy in disjunctive normal form: it matches when any alternative
/// has all its conditions met.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterPolicy {
    /// Attributes or body.
    pub scope: Scope,
    /// The alternatives (one unless `$or` is used).
    pub alternatives: Vec<Vec<Condition>>,
    /// Keys counted against the limit.
    pub keys: usize,
    /// Value combinations counted against the limit.
    pub combinations: u64,
}

/// One step of the path to a problem inside a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// A key.
    Key(String),
    /// An array position.
    Index(usize),
}

/// A policy that breaks AWS's rules, with where (relative to the policy) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FilterError {
    /// Path inside the policy.
    pub(crate) path: Vec<Step>,
    /// What is wrong.
    pub(crate) message: String,
}

/// The limits a policy is checked against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FilterLimits {
    /// Most keys.
    pub(crate) max_keys: u32,
    /// Most combinations.
    pub(crate) max_combinations: u32,
    /// Numbers lie within ± this.
    pub(crate) numeric_bound: f64,
}

const OPERATORS: [&str; 7] = [
    "prefix",
    "suffix",
    "anything-but",
    "numeric",
    "exists",
    "equals-ignore-case",
    "cidr",
];

/// Most alternatives `$or` may expand to before the combination limit is even checked.
const MAX_ALTERNATIVES: usize = 10_000;

struct Parser<'a> {
    scope: Scope,
    lim: &'a FilterLimits,
    source: &'a str,
}

fn err(path: &[Step], message: impl Into<String>) -> FilterError {
    FilterError {
        path: path.to_vec(),
        message: message.into(),
    }
}

fn with(path: &[Step], s: Step) -> Vec<Step> {
    let mut p = path.to_vec();
    p.push(s);
    p
}

/// Parses and validates a policy. `source` is cited in messages about AWS's limits.
pub(crate) fn parse(
    v: &Value,
    scope: Scope,
    lim: &FilterLimits,
    source: &str,
) -> Result<FilterPolicy, FilterError> {
    let p = Parser { scope, lim, source };
    let Value::Table(_) = v else {
        return Err(err(
            &[],
            "a filter policy is a table of keys, such as { type = [\"order\"] }",
        ));
    };
    let alternatives = p.policy(v, &[], "")?;
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for alt in &alternatives {
        for c in alt {
            let k = match scope {
                Scope::Attributes => c.key.clone(),
                Scope::Body => c.key.split('.').next().unwrap_or("").to_string(),
            };
            keys.insert(k);
        }
    }
    if keys.is_empty() {
        return Err(err(&[], "a filter policy needs at least one key"));
    }
    if keys.len() > lim.max_keys as usize {
        return Err(err(
            &[],
            format!(
                "the filter policy has {} keys ({}); AWS allows at most {} {}keys per policy (source: {source})",
                keys.len(),
                keys.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", "),
                lim.max_keys,
                if scope == Scope::Body { "top-level " } else { "" }
            ),
        ));
    }
    let combinations: u64 = alternatives
        .iter()
        .map(|alt| alt.iter().map(|c| c.matchers.len() as u64).product::<u64>())
        .sum();
    if combinations > lim.max_combinations as u64 {
        return Err(err(
            &[],
            format!(
                "the filter policy has {combinations} value combinations (the product of its arrays' sizes, summed over its $or alternatives); AWS allows at most {} (source: {source})",
                lim.max_combinations
            ),
        ));
    }
    Ok(FilterPolicy {
        scope,
        alternatives,
        keys: keys.len(),
        combinations,
    })
}

impl Parser<'_> {
    /// A (sub-)policy table → its alternatives. `prefix` is the dotted path of an enclosing
    /// body object. Keys are read in order: `$or` multiplies the alternatives so far by its
    /// branches ([`Parser::or_branches`]), a nested object by its own alternatives
    /// ([`Parser::nested`]), and any other key adds its condition to every alternative
    /// ([`Parser::values`]).
    fn policy(
        &self,
        v: &Value,
        path: &[Step],
        prefix: &str,
    ) -> Result<Vec<Vec<Condition>>, FilterError> {
        let Value::Table(t) = v else {
            return Err(err(path, "expected a table of keys"));
        };
        let mut alts: Vec<Vec<Condition>> = vec![Vec::new()];
        for (k, val) in t {
            let kpath = with(path, Step::Key(k.clone()));
            if k == "$or" {
                alts = self.or_branches(val, &kpath, prefix, &alts)?;
                continue;
            }
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if let Value::Table(_) = val {
                alts = self.nested(val, &kpath, &key, &alts)?;
            } else {
                let matchers = self.values(val, &kpath)?;
                for a in &mut alts {
                    a.push(Condition {
                        key: key.clone(),
                        matchers: matchers.clone(),
                    });
                }
            }
        }
        Ok(alts)
    }

    /// `"$or" = [sub-policy, ...]` at `kpath`: every alternative so far (`alts`) combined
    /// with every alternative of every branch, at most [`MAX_ALTERNATIVES`].
    fn or_branches(
        &self,
        val: &Value,
        kpath: &[Step],
        prefix: &str,
        alts: &[Vec<Condition>],
    ) -> Result<Vec<Vec<Condition>>, FilterError> {
        let Value::Array(branches) = val else {
            return Err(err(kpath, "\"$or\" takes an array of at least two sub-policies: \"$or\" = [{ a = [\"x\"] }, { b = [\"y\"] }]"));
        };
        if branches.len() < 2 || !branches.iter().all(|b| b.is_table()) {
            return Err(err(kpath, format!("\"$or\" takes an array of at least two sub-policies (tables); otherwise AWS treats \"$or\" as an ordinary key (source: {})", super::limits::SOURCE_FILTER_LOGIC)));
        }
        let mut expanded: Vec<Vec<Condition>> = Vec::new();
        for (i, b) in branches.iter().enumerate() {
            let bpath = with(kpath, Step::Index(i));
            if let Value::Table(bt) = b {
                if let Some(op) = bt.keys().find(|k| OPERATORS.contains(&k.as_str())) {
                    return Err(err(&bpath, format!("\"{op}\" is a reserved keyword: a \"$or\" alternative is a sub-policy of keys (source: {})", super::limits::SOURCE_FILTER_LOGIC)));
                }
            }
            let sub = self.policy(b, &bpath, prefix)?;
            for a in alts {
                for s in &sub {
                    let mut c = a.clone();
                    c.extend(s.iter().cloned());
                    expanded.push(c);
                    if expanded.len() > MAX_ALTERNATIVES {
                        return Err(err(
                            kpath,
                            format!("\"$or\" expands to more than {MAX_ALTERNATIVES} alternatives"),
                        ));
                    }
                }
            }
        }
        Ok(expanded)
    }

    /// A nested body object `val` at `kpath` (dotted path `key`): every alternative so far
    /// (`alts`) combined with every alternative of the object, at most
    /// [`MAX_ALTERNATIVES`]. Attribute policies do not nest.
    fn nested(
        &self,
        val: &Value,
        kpath: &[Step],
        key: &str,
        alts: &[Vec<Condition>],
    ) -> Result<Vec<Vec<Condition>>, FilterError> {
        if self.scope == Scope::Attributes {
            return Err(err(kpath, format!("attribute-based filter policies may not nest: a key's value is an array such as [\"x\"] (nested keys need filter_scope = \"body\") (source: {})", self.source)));
        }
        let sub = self.policy(val, kpath, key)?;
        let mut expanded = Vec::new();
        for a in alts {
            for s in &sub {
                let mut c = a.clone();
                c.extend(s.iter().cloned());
                expanded.push(c);
            }
        }
        if expanded.len() > MAX_ALTERNATIVES {
            return Err(err(
                kpath,
                format!("the policy expands to more than {MAX_ALTERNATIVES} alternatives"),
            ));
        }
        Ok(expanded)
    }

    /// A key's value at `kpath`: an array of at least one matcher, or a bare string or
    /// number, which AWS accepts as a one-value array.
    fn values(&self, val: &Value, kpath: &[Step]) -> Result<Vec<Matcher>, FilterError> {
        match val {
            Value::Array(items) => {
                if items.is_empty() {
                    return Err(err(
                        kpath,
                        "a key needs at least one value: [] matches nothing",
                    ));
                }
                let mut matchers = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    matchers.push(self.matcher(item, &with(kpath, Step::Index(i)))?);
                }
                Ok(matchers)
            }
            scalar => Ok(vec![self.matcher(scalar, kpath)?]),
        }
    }

    fn number(&self, v: &Value, path: &[Step]) -> Result<f64, FilterError> {
        let x = match v {
            Value::Integer(i) => *i as f64,
            Value::Float(f) => *f,
            _ => return Err(err(path, format!("expected a number, got {v}"))),
        };
        if !x.is_finite() || x.abs() > self.lim.numeric_bound {
            return Err(err(
                path,
                format!(
                    "{x} is outside the numbers a filter policy may hold (±{:e}) (source: {})",
                    self.lim.numeric_bound, self.source
                ),
            ));
        }
        Ok(x)
    }

    fn string(&self, v: &Value, path: &[Step], op: &str) -> Result<String, FilterError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            _ => Err(err(path, format!("\"{op}\" takes a string, got {v}"))),
        }
    }

    fn matcher(&self, v: &Value, path: &[Step]) -> Result<Matcher, FilterError> {
        match v {
            Value::String(s) => Ok(Matcher::Exact(s.clone())),
            Value::Integer(_) | Value::Float(_) => Ok(Matcher::ExactNumber(self.number(v, path)?)),
            Value::Table(t) => {
                if t.len() != 1 {
                    return Err(err(path, format!("an operator table has exactly one operator ({}), got {} keys", OPERATORS[..6].join(", "), t.len())));
                }
                let Some((op, arg)) = t.iter().next() else {
                    return Err(err(path, "empty operator table"));
                };
                let opath = with(path, Step::Key(op.clone()));
                match op.as_str() {
                    "prefix" => Ok(Matcher::Prefix(self.string(arg, &opath, op)?)),
                    "suffix" => Ok(Matcher::Suffix(self.string(arg, &opath, op)?)),
                    "equals-ignore-case" => {
                        Ok(Matcher::EqualsIgnoreCase(self.string(arg, &opath, op)?))
                    }
                    "exists" => match arg {
                        Value::Boolean(b) => Ok(Matcher::Exists(*b)),
                        _ => Err(err(&opath, "\"exists\" takes true or false")),
                    },
                    "anything-but" => self.anything_but(arg, &opath),
                    "numeric" => self.numeric(arg, &opath),
                    "cidr" => Err(err(&opath, "\"cidr\" (IP address matching) is not modelled: producers generate no IP addresses")),
                    other => Err(err(
                        &opath,
                        format!(
                            "unknown filter operator \"{other}\": expected one of {} (source: {})",
                            OPERATORS[..6].join(", "),
                            super::limits::SOURCE_FILTER_LOGIC
                        ),
                    )),
                }
            }
            Value::Boolean(_) => Err(err(path, "booleans are not modelled: producers generate strings and numbers; use { exists = true } to test for a key")),
            _ => Err(err(path, format!("expected a string, a number or an operator table, got {v}"))),
        }
    }

    fn anything_but(&self, arg: &Value, path: &[Step]) -> Result<Matcher, FilterError> {
        let lit = |v: &Value, p: &[Step]| -> Result<Literal, FilterError> {
            match v {
                Value::String(s) => Ok(Literal::Str(s.clone())),
                Value::Integer(_) | Value::Float(_) => Ok(Literal::Num(self.number(v, p)?)),
                _ => Err(err(p, "\"anything-but\" takes strings or numbers")),
            }
        };
        match arg {
            Value::Array(items) => {
                if items.is_empty() {
                    return Err(err(path, "\"anything-but\" needs at least one value"));
                }
                let mut out = Vec::new();
                for (i, v) in items.iter().enumerate() {
                    out.push(lit(v, &with(path, Step::Index(i)))?);
                }
                Ok(Matcher::AnythingBut(out))
            }
            Value::Table(t) if t.len() == 1 => {
                let Some((op, v)) = t.iter().next() else {
                    return Err(err(path, "empty table"));
                };
                let opath = with(path, Step::Key(op.clone()));
                match op.as_str() {
                    "prefix" => Ok(Matcher::AnythingButPrefix(self.string(v, &opath, op)?)),
                    "suffix" => Ok(Matcher::AnythingButSuffix(self.string(v, &opath, op)?)),
                    _ => Err(err(&opath, "\"anything-but\" takes a value, a list, or { prefix = ... } / { suffix = ... }")),
                }
            }
            v => Ok(Matcher::AnythingBut(vec![lit(v, path)?])),
        }
    }

    fn numeric(&self, arg: &Value, path: &[Step]) -> Result<Matcher, FilterError> {
        let Value::Array(items) = arg else {
            return Err(err(
                path,
                "\"numeric\" takes an array such as [\">\", 0, \"<=\", 150] or [\"=\", 5]",
            ));
        };
        if items.len() != 2 && items.len() != 4 {
            return Err(err(path, "\"numeric\" takes one or two (operator, number) pairs, such as [\">\", 0, \"<=\", 150]"));
        }
        let mut lo: Option<Bound> = None;
        let mut hi: Option<Bound> = None;
        for pair in 0..items.len() / 2 {
            let opath = with(path, Step::Index(2 * pair));
            let op = match &items[2 * pair] {
                Value::String(s) => s.as_str(),
                v => {
                    return Err(err(
                        &opath,
                        format!("expected an operator (=, <, <=, >, >=), got {v}"),
                    ))
                }
            };
            let x = self.number(&items[2 * pair + 1], &with(path, Step::Index(2 * pair + 1)))?;
            match op {
                "=" => {
                    if items.len() != 2 {
                        return Err(err(&opath, "\"=\" stands alone: [\"=\", 5]"));
                    }
                    return Ok(Matcher::ExactNumber(x));
                }
                ">" | ">=" => {
                    if lo.is_some() {
                        return Err(err(&opath, "two lower bounds"));
                    }
                    lo = Some(Bound {
                        value: x,
                        inclusive: op == ">=",
                    });
                }
                "<" | "<=" => {
                    if hi.is_some() {
                        return Err(err(&opath, "two upper bounds"));
                    }
                    hi = Some(Bound {
                        value: x,
                        inclusive: op == "<=",
                    });
                }
                other => {
                    return Err(err(
                        &opath,
                        format!("unknown numeric operator \"{other}\": expected =, <, <=, > or >="),
                    ))
                }
            }
        }
        if let (Some(l), Some(h)) = (lo, hi) {
            if l.value > h.value || (l.value == h.value && !(l.inclusive && h.inclusive)) {
                return Err(err(
                    path,
                    format!("the range from {} to {} is empty", l.value, h.value),
                ));
            }
        }
        Ok(Matcher::Numeric { lo, hi })
    }
}

/// A policy compiled against one producer's attributes (or body fields): categorical
/// values are matched once, at build time, into a table per condition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CompiledFilter {
    alternatives: Vec<CompiledAlt>,
}

#[derive(Clone, Debug, PartialEq)]
struct CompiledAlt {
    conds: Vec<CompiledCond>,
    /// `exists = false` needs at least one attribute present.
    needs_any: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct CompiledCond {
    /// Index of the producer's attribute with the condition's key.
    attr: Option<u32>,
    /// A missing attribute matches (`exists = false`).
    absent_ok: bool,
    /// Categorical attributes: which values match.
    values_ok: Vec<bool>,
    /// Numeric attributes: the matchers that may accept numbers.
    numeric: Vec<Matcher>,
}

impl FilterPolicy {
    /// Compiles this policy for messages whose attributes (or body fields, by the policy's
    /// scope) are `schema`.
    pub(crate) fn compile(&self, schema: &[Attr]) -> CompiledFilter {
        let alternatives = self
            .alternatives
            .iter()
            .map(|alt| {
                let mut needs_any = false;
                let conds = alt
                    .iter()
                    .map(|c| {
                        let attr = schema.iter().position(|a| a.name == c.key);
                        let absent_ok = c.matchers.contains(&Matcher::Exists(false));
                        needs_any |= absent_ok;
                        let (values_ok, numeric) = match attr.map(|i| &schema[i].dist) {
                            Some(AttrDist::Categorical { values, .. }) => (
                                values
                                    .iter()
                                    .map(|v| c.matchers.iter().any(|m| m.accepts_str(v)))
                                    .collect(),
                                Vec::new(),
                            ),
                            Some(AttrDist::Numeric(_)) => (Vec::new(), c.matchers.clone()),
                            None => (Vec::new(), Vec::new()),
                        };
                        CompiledCond {
                            attr: attr.map(|i| i as u32),
                            absent_ok,
                            values_ok,
                            numeric,
                        }
                    })
                    .collect();
                CompiledAlt { conds, needs_any }
            })
            .collect();
        CompiledFilter { alternatives }
    }
}

impl CompiledFilter {
    /// Whether the message with logical id `id`, whose attributes are `schema` drawn with
    /// `seed`, matches.
    #[inline]
    pub(crate) fn matches(&self, schema: &[Attr], seed: u64, id: u64) -> bool {
        self.alternatives.iter().any(|alt| {
            if alt.needs_any && !schema.iter().any(|a| a.is_present(seed, id)) {
                return false;
            }
            alt.conds.iter().all(|c| {
                let v = match c.attr {
                    Some(i) => schema[i as usize].value(seed, id),
                    None => AttrValue::Absent,
                };
                match v {
                    AttrValue::Absent => c.absent_ok,
                    AttrValue::Str(i) => c.values_ok.get(i as usize).copied().unwrap_or(false),
                    AttrValue::Num(x) => c.numeric.iter().any(|m| m.accepts_num(x)),
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::attrs::NumericDist;

    const LIM: FilterLimits = FilterLimits {
        max_keys: 5,
        max_combinations: 150,
        numeric_bound: 1e9,
    };

    fn policy(src: &str, scope: Scope) -> Result<FilterPolicy, FilterError> {
        let v: Value = toml::from_str::<toml::Table>(&format!("f = {src}"))
            .map(|t| t["f"].clone())
            .expect("test TOML parses");
        parse(&v, scope, &LIM, "test")
    }

    fn ok(src: &str) -> FilterPolicy {
        policy(src, Scope::Attributes).unwrap_or_else(|e| panic!("{src}: {e:?}"))
    }

    fn cat(name: &str, values: &[&str]) -> Attr {
        let n = values.len() as f64;
        Attr::new(
            name,
            AttrDist::Categorical {
                values: values.iter().map(|v| v.to_string()).collect(),
                cumulative: (1..=values.len()).map(|i| i as f64 / n).collect(),
            },
            1.0,
        )
    }

    /// Finds an id whose attribute values satisfy `want` (ids are cheap to scan).
    fn id_where(schema: &[Attr], seed: u64, want: impl Fn(&[AttrValue]) -> bool) -> u64 {
        (1..100_000u64)
            .find(|id| {
                let v: Vec<AttrValue> = schema.iter().map(|a| a.value(seed, *id)).collect();
                want(&v)
            })
            .expect("some id has the wanted values")
    }

    #[test]
    fn string_operators_worked_examples() {
        // Each matcher against the strings it should and should not accept.
        let m =
            |src: &str| ok(&format!("{{ k = [{src}] }}")).alternatives[0][0].matchers[0].clone();
        assert!(m("\"order\"").accepts_str("order"));
        assert!(
            !m("\"order\"").accepts_str("Order"),
            "exact match is case-sensitive"
        );
        assert!(m("{ equals-ignore-case = \"ORDER\" }").accepts_str("order"));
        assert!(m("{ prefix = \"eu-\" }").accepts_str("eu-west-1"));
        assert!(!m("{ prefix = \"eu-\" }").accepts_str("us-east-1"));
        assert!(m("{ suffix = \".png\" }").accepts_str("cat.png"));
        assert!(!m("{ suffix = \".png\" }").accepts_str("cat.jpg"));
        let ab = m("{ anything-but = [\"refund\", \"void\"] }");
        assert!(ab.accepts_str("order") && !ab.accepts_str("refund") && !ab.accepts_str("void"));
        assert!(ab.accepts_num(5.0), "a number is none of the strings");
        assert!(!m("{ anything-but = { prefix = \"test-\" } }").accepts_str("test-1"));
        assert!(m("{ anything-but = { suffix = \"-dev\" } }").accepts_str("web-prod"));
        assert!(m("{ exists = true }").accepts_str("anything"));
        assert!(
            !m("\"100\"").accepts_num(100.0),
            "strings never match numbers"
        );
    }

    #[test]
    fn numeric_operators_worked_examples() {
        let m =
            |src: &str| ok(&format!("{{ k = [{src}] }}")).alternatives[0][0].matchers[0].clone();
        // (100, 500]: 100 excluded, 100.00001 and 500 included, 500.00001 excluded.
        let r = m("{ numeric = [\">\", 100, \"<=\", 500] }");
        assert!(!r.accepts_num(100.0));
        assert!(r.accepts_num(100.00001));
        assert!(r.accepts_num(500.0));
        assert!(!r.accepts_num(500.00001));
        assert!(!r.accepts_str("200"));
        assert!(m("{ numeric = [\"=\", 301.5] }").accepts_num(301.5));
        // Five decimal places: 301.500001 equals 301.5.
        assert!(m("{ numeric = [\"=\", 301.5] }").accepts_num(301.500_001));
        assert!(m("{ numeric = [\"<\", 0] }").accepts_num(-3.0));
        assert!(m("42").accepts_num(42.0));
        assert!(!m("{ anything-but = [1, 2] }").accepts_num(2.0));
        assert!(m("{ anything-but = 1 }").accepts_num(3.0));
    }

    #[test]
    fn and_across_keys_or_within_a_key_and_dollar_or() {
        // type ∈ {order, refund} AND (channel = web OR tier = gold).
        let schema = [
            cat("type", &["order", "refund", "void"]),
            cat("channel", &["web", "app"]),
            cat("tier", &["gold", "silver"]),
        ];
        let p = ok("{ type = [\"order\", \"refund\"], \"$or\" = [{ channel = [\"web\"] }, { tier = [\"gold\"] }] }");
        assert_eq!(p.alternatives.len(), 2);
        // Combinations: 2·1 + 2·1 = 4; keys: type, channel, tier = 3.
        assert_eq!(p.combinations, 4);
        assert_eq!(p.keys, 3);
        let f = p.compile(&schema);
        let s = |v: &AttrValue| match v {
            AttrValue::Str(i) => *i,
            _ => 99,
        };
        // void never matches; refund from the app by a silver customer does not; refund
        // from the app by a gold customer does.
        let void = id_where(&schema, 3, |v| s(&v[0]) == 2);
        assert!(!f.matches(&schema, 3, void));
        let no = id_where(&schema, 3, |v| {
            s(&v[0]) == 1 && s(&v[1]) == 1 && s(&v[2]) == 1
        });
        assert!(!f.matches(&schema, 3, no));
        let yes = id_where(&schema, 3, |v| {
            s(&v[0]) == 1 && s(&v[1]) == 1 && s(&v[2]) == 0
        });
        assert!(f.matches(&schema, 3, yes));
    }

    #[test]
    fn exists_and_missing_attributes() {
        // coupon is present in half the messages; store always.
        let mut coupon = cat("coupon", &["SAVE10"]);
        coupon.present = 0.5;
        let schema = [cat("store", &["a"]), coupon];
        let has = ok("{ coupon = [{ exists = true }] }").compile(&schema);
        let lacks = ok("{ coupon = [{ exists = false }] }").compile(&schema);
        let any = ok("{ coupon = [\"SAVE10\"] }").compile(&schema);
        let but = ok("{ coupon = [{ anything-but = \"X\" }] }").compile(&schema);
        for id in 1..2000u64 {
            let present = schema[1].is_present(9, id);
            assert_eq!(has.matches(&schema, 9, id), present);
            assert_eq!(lacks.matches(&schema, 9, id), !present);
            assert_eq!(any.matches(&schema, 9, id), present);
            // anything-but needs the attribute: a missing one does not match.
            assert_eq!(but.matches(&schema, 9, id), present);
        }
        // A key no producer declares: only exists = false matches, and then only when the
        // message has some attribute.
        assert!(!ok("{ nope = [\"x\"] }")
            .compile(&schema)
            .matches(&schema, 9, 1));
        assert!(ok("{ nope = [{ exists = false }] }")
            .compile(&schema)
            .matches(&schema, 9, 1));
        assert!(!ok("{ nope = [{ exists = false }] }")
            .compile(&[])
            .matches(&[], 9, 1));
    }

    #[test]
    fn numeric_attributes_are_filtered_by_range() {
        // amount ~ Uniform[0, 500): (100, 200] holds 20% of them.
        let schema = [Attr::new(
            "amount",
            AttrDist::Numeric(NumericDist::Uniform {
                min: 0.0,
                max: 500.0,
            }),
            1.0,
        )];
        let f = ok("{ amount = [{ numeric = [\">\", 100, \"<=\", 200] }] }").compile(&schema);
        let n = 50_000u64;
        let hits = (1..=n).filter(|id| f.matches(&schema, 5, *id)).count() as f64;
        // 10,000 ± 4.4·√(50,000·0.16) = ± 394.
        assert!((hits - 10_000.0).abs() < 394.0, "{hits}");
    }

    #[test]
    fn body_policies_nest_and_count_top_level_keys() {
        // Nested keys flatten to dotted paths; only the top-level keys count: order, region.
        let p = policy(
            "{ order = { type = [\"x\"], total = [{ numeric = [\">\", 1] }], a = [\"1\"], b = [\"2\"], c = [\"3\"] }, region = [\"eu\"] }",
            Scope::Body,
        )
        .expect("valid body policy");
        assert_eq!(p.keys, 2);
        assert!(p.alternatives[0].iter().any(|c| c.key == "order.total"));
        // The same policy on attributes is refused: no nesting there.
        let e = policy("{ order = { type = [\"x\"] } }", Scope::Attributes).unwrap_err();
        assert!(e.message.contains("may not nest"), "{}", e.message);
    }

    #[test]
    fn aws_constraints_are_enforced() {
        // Six keys: one more than AWS's five.
        let e = policy(
            "{ a = [\"1\"], b = [\"1\"], c = [\"1\"], d = [\"1\"], e = [\"1\"], f = [\"1\"] }",
            Scope::Attributes,
        )
        .unwrap_err();
        assert!(
            e.message.contains("6 keys") && e.message.contains("at most 5"),
            "{}",
            e.message
        );
        // 151 combinations: impossible with ≤ 5 keys of few values, so: 4·6·7 = 168 > 150.
        let arr = |n: usize| {
            format!(
                "[{}]",
                (0..n)
                    .map(|i| format!("\"v{i}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let e = policy(
            &format!("{{ a = {}, b = {}, c = {} }}", arr(4), arr(6), arr(7)),
            Scope::Attributes,
        )
        .unwrap_err();
        assert!(
            e.message.contains("168 value combinations"),
            "{}",
            e.message
        );
        // 5·6·5 = 150 is allowed.
        assert_eq!(
            ok(&format!(
                "{{ a = {}, b = {}, c = {} }}",
                arr(5),
                arr(6),
                arr(5)
            ))
            .combinations,
            150
        );
        // Numbers beyond ±10^9.
        let e = policy(
            "{ a = [{ numeric = [\">\", 2000000000] }] }",
            Scope::Attributes,
        )
        .unwrap_err();
        assert!(e.message.contains("outside"), "{}", e.message);
        assert_eq!(
            e.path,
            vec![
                Step::Key("a".into()),
                Step::Index(0),
                Step::Key("numeric".into()),
                Step::Index(1)
            ]
        );
        // Malformed operators.
        for bad in [
            "{ a = [{ numeric = [\">\", 5, \">\", 6] }] }",
            "{ a = [{ numeric = [\"~\", 5] }] }",
            "{ a = [{ numeric = [\">\", 5, \"<\", 1] }] }",
            "{ a = [{ prefixx = \"x\" }] }",
            "{ a = [{ exists = \"yes\" }] }",
            "{ a = [] }",
            "{ \"$or\" = [{ a = [\"1\"] }] }",
            "{ \"$or\" = [{ numeric = 1 }, { prefix = \"x\" }] }",
            "{ a = [true] }",
            "{}",
        ] {
            assert!(
                policy(bad, Scope::Attributes).is_err(),
                "{bad} should be refused"
            );
        }
    }
}
