//! Access policies in IAM's JSON format (SNS topic policies, SQS queue policies) and their
//! evaluation against a request, as AWS documents it.
//!
//! A policy is parsed once when the model loads (with [`serde_json`], so a syntax error
//! names its line and column inside the JSON) into [`Policy`]: statements with an
//! `Effect`, a `Principal` (or `NotPrincipal`), an `Action` (or `NotAction`), a `Resource`
//! (or `NotResource`) and a `Condition` block. [`Policy::evaluate`] decides one
//! [`Request`]: an explicit `Deny` wins, then an `Allow`, else the request is not allowed
//! by this policy (an implicit deny).
//!
//! The evaluator is written here rather than taken from a crate: the crates that evaluate
//! IAM policies offline are young single-author projects that bring an identity model of
//! their own, while aqueduct needs only the resource-based half of the logic, on a small
//! set of condition keys, and wants every decision to name the statement that made it
//! (for `validate`'s linter and for the errors of a model that cannot load). The matching
//! rules are IAM's own dialect (`*` and `?` crossing `:` and `/`; ARNs compared part by
//! part), not a file-glob dialect that a glob crate implements.
//!
//! Sources (retrieved 2026-12):
//! - Evaluation logic: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
//! - Principal: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html>
//! - Action, Resource, NotAction, NotResource: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>
//! - Condition operators (missing keys, `…IfExists`, negated operators, ARN matching):
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>
//! - Several values, several keys, several operators:
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html>

use serde_json::Value;
use std::fmt;

/// Condition keys aqueduct puts in a request's context (lower case: IAM compares key
/// names without case). A condition on any other key finds it missing.
pub const KNOWN_KEYS: [&str; 6] = [
    "sns:protocol",
    "sns:endpoint",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:principalarn",
    "aws:principalaccount",
];

/// A policy that does not parse or uses what aqueduct does not evaluate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// 1-based line and column inside the policy's JSON text (syntax errors).
    pub at: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((l, c)) => write!(
                f,
                "line {l}, column {c} of the policy JSON: {}",
                self.message
            ),
            None => f.write_str(&self.message),
        }
    }
}

fn err<T>(message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError {
        at: None,
        message: message.into(),
    })
}

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Grants the request.
    Allow,
    /// Refuses it, whatever else allows it.
    Deny,
}

/// The principals a statement names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principals {
    /// `"*"` (or `{"AWS": "*"}`): everyone.
    pub any: bool,
    /// AWS accounts (12 digits; `arn:aws:iam::ACCOUNT:root` is stored as the account).
    pub accounts: Vec<String>,
    /// IAM principals by ARN (roles, users, assumed-role sessions).
    pub arns: Vec<String>,
    /// Service principals (`sns.amazonaws.com`).
    pub services: Vec<String>,
}

/// The role of an assumed-role session ARN
/// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` → `arn:aws:iam::ACCOUNT:role/ROLE`):
/// a policy that names the role covers its sessions, and `aws:PrincipalArn` is the role's
/// ARN (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-role-session>).
pub fn role_of_session(arn: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:aws:sts::")?;
    let (account, res) = rest.split_once(':')?;
    let (role, _session) = res.strip_prefix("assumed-role/")?.split_once('/')?;
    Some(format!("arn:aws:iam::{account}:role/{role}"))
}

impl Principals {
    fn matches(&self, caller: &Caller<'_>) -> bool {
        if self.any {
            return true;
        }
        match *caller {
            Caller::Aws { arn, account } => {
                let role = role_of_session(arn);
                self.accounts.iter().any(|a| a == account)
                    || self
                        .arns
                        .iter()
                        .any(|a| a == arn || role.as_deref() == Some(a.as_str()))
            }
            Caller::Service(name) => self.services.iter().any(|s| s.eq_ignore_ascii_case(name)),
        }
    }
}

/// A condition operator (the `…IfExists` suffix is kept apart, in [`Condition`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// Case-sensitive equality.
    StringEquals,
    /// Negated [`Operator::StringEquals`].
    StringNotEquals,
    /// Equality ignoring case.
    StringEqualsIgnoreCase,
    /// Negated [`Operator::StringEqualsIgnoreCase`].
    StringNotEqualsIgnoreCase,
    /// Case-sensitive match with `*` and `?`.
    StringLike,
    /// Negated [`Operator::StringLike`].
    StringNotLike,
    /// ARN match, part by part, with `*` and `?` in each part.
    ArnEquals,
    /// Same as [`Operator::ArnEquals`] (AWS documents both the same way).
    ArnLike,
    /// Negated [`Operator::ArnEquals`].
    ArnNotEquals,
    /// Negated [`Operator::ArnLike`].
    ArnNotLike,
    /// `"true"`: the key is missing; `"false"`: it is present.
    Null,
}

impl Operator {
    const ALL: [(&'static str, Operator); 11] = [
        ("StringEquals", Operator::StringEquals),
        ("StringNotEquals", Operator::StringNotEquals),
        ("StringEqualsIgnoreCase", Operator::StringEqualsIgnoreCase),
        (
            "StringNotEqualsIgnoreCase",
            Operator::StringNotEqualsIgnoreCase,
        ),
        ("StringLike", Operator::StringLike),
        ("StringNotLike", Operator::StringNotLike),
        ("ArnEquals", Operator::ArnEquals),
        ("ArnLike", Operator::ArnLike),
        ("ArnNotEquals", Operator::ArnNotEquals),
        ("ArnNotLike", Operator::ArnNotLike),
        ("Null", Operator::Null),
    ];

    /// A negated operator holds when the key matches none of the values (and when the key
    /// is missing).
    fn negated(self) -> bool {
        matches!(
            self,
            Operator::StringNotEquals
                | Operator::StringNotEqualsIgnoreCase
                | Operator::StringNotLike
                | Operator::ArnNotEquals
                | Operator::ArnNotLike
        )
    }

    /// Whether the request's `value` matches the policy's `pattern`.
    fn one(self, value: &str, pattern: &str) -> bool {
        match self {
            Operator::StringEquals | Operator::StringNotEquals => value == pattern,
            Operator::StringEqualsIgnoreCase | Operator::StringNotEqualsIgnoreCase => {
                value.eq_ignore_ascii_case(pattern)
            }
            Operator::StringLike | Operator::StringNotLike => wildcard(pattern, value, false),
            Operator::ArnEquals
            | Operator::ArnLike
            | Operator::ArnNotEquals
            | Operator::ArnNotLike => arn_like(pattern, value),
            Operator::Null => false,
        }
    }
}

/// One operator on one key with its values (`"StringEquals": {"sns:Protocol": ["sqs"]}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The operator.
    pub operator: Operator,
    /// `…IfExists`: holds when the key is missing.
    pub if_exists: bool,
    /// The condition key, lower case.
    pub key: String,
    /// The values (any one may match).
    pub values: Vec<String>,
}

impl Condition {
    fn holds(&self, request: &Request<'_>) -> bool {
        let value = request.value(&self.key);
        if self.operator == Operator::Null {
            let want_missing = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
            return value.is_none() == want_missing;
        }
        match value {
            None => self.if_exists || self.operator.negated(),
            Some(v) => {
                let any = self.values.iter().any(|p| self.operator.one(v, p));
                any != self.operator.negated()
            }
        }
    }

    /// `StringEquals aws:SourceArn [..]`, for messages.
    pub fn describe(&self) -> String {
        let name = Operator::ALL
            .iter()
            .find(|(_, o)| *o == self.operator)
            .map(|(n, _)| *n)
            .unwrap_or("?");
        format!(
            "{name}{} {} {:?}",
            if self.if_exists { "IfExists" } else { "" },
            self.key,
            self.values
        )
    }
}

/// Patterns of an `Action`/`NotAction` or `Resource`/`NotResource` element.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Patterns {
    /// The patterns, as written.
    pub patterns: Vec<String>,
    /// `NotAction`/`NotResource`: the element matches what the patterns do not.
    pub not: bool,
}

impl Patterns {
    fn matches(&self, value: &str, ignore_case: bool) -> bool {
        self.patterns
            .iter()
            .any(|p| wildcard(p, value, ignore_case))
            != self.not
    }
}

/// One statement of a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// `Sid`, if any.
    pub sid: Option<String>,
    /// Position in the `Statement` list (0-based).
    pub index: usize,
    /// `Allow` or `Deny`.
    pub effect: Effect,
    /// `Principal` (or, with `not_principal`, `NotPrincipal`).
    pub principal: Principals,
    /// Whether the principals are a `NotPrincipal`.
    pub not_principal: bool,
    /// `Action` or `NotAction`.
    pub action: Patterns,
    /// `Resource` or `NotResource`.
    pub resource: Patterns,
    /// The `Condition` block (all must hold).
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// `statement "AllowTopic"` or `statement 2 (no Sid)`, for messages.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(s) => format!("statement \"{s}\""),
            None => format!("statement {} (no Sid)", self.index + 1),
        }
    }

    /// Whether the statement applies to `request` (its effect aside).
    pub fn applies(&self, request: &Request<'_>) -> bool {
        self.principal.matches(&request.caller) != self.not_principal
            && self.action.matches(request.action, true)
            && self.resource.matches(request.resource, false)
            && self.conditions.iter().all(|c| c.holds(request))
    }

    /// Whether it grants everyone (`"*"`, or everyone but a few with `NotPrincipal`) with
    /// no condition: public access.
    pub fn is_public(&self) -> bool {
        self.effect == Effect::Allow
            && (self.principal.any != self.not_principal)
            && self.conditions.is_empty()
    }
}

/// A parsed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `Version` (`2012-10-17` or `2008-10-17`).
    pub version: String,
    /// The statements.
    pub statements: Vec<Statement>,
}

/// Who makes a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller<'a> {
    /// An IAM principal (role, user, account root), by ARN, and its account.
    Aws {
        /// Its ARN.
        arn: &'a str,
        /// Its 12-digit account.
        account: &'a str,
    },
    /// An AWS service acting for a resource (`sns.amazonaws.com`).
    Service(&'a str),
}

/// One request to decide.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Who calls.
    pub caller: Caller<'a>,
    /// `sns:Publish`, `sqs:SendMessage`, ...
    pub action: &'a str,
    /// The ARN of the resource called.
    pub resource: &'a str,
    /// Condition keys (lower case) and their values.
    pub context: &'a [(&'a str, &'a str)],
}

impl Request<'_> {
    fn value(&self, key: &str) -> Option<&str> {
        self.context
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }
}

/// A policy's decision on a request, naming the statement that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A statement with `Deny` applies (it wins over any allow).
    Deny(usize),
    /// No deny applies and this statement (the first) allows.
    Allow(usize),
    /// No statement applies: an implicit deny, unless something else allows.
    NotAllowed,
}

impl Policy {
    /// Parses a policy document.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let doc: Value = serde_json::from_str(text).map_err(|e| PolicyError {
            at: Some((e.line(), e.column())),
            message: e.to_string().split(" at line ").next().unwrap_or("").into(),
        })?;
        let Value::Object(top) = doc else {
            return err("a policy is a JSON object with \"Version\" and \"Statement\"");
        };
        let mut version = None;
        let mut statements = None;
        for (k, v) in &top {
            match k.as_str() {
                "Version" => match v.as_str() {
                    Some(s @ ("2012-10-17" | "2008-10-17")) => version = Some(s.to_string()),
                    _ => {
                        return err(format!(
                        "\"Version\" is {v}; IAM knows \"2012-10-17\" (current) and \"2008-10-17\""
                    ))
                    }
                },
                "Id" => {}
                "Statement" => statements = Some(v),
                other => {
                    return err(format!(
                        "unknown top-level element \"{other}\" (expected Version, Id, Statement)"
                    ))
                }
            }
        }
        let Some(statements) = statements else {
            return err("the policy has no \"Statement\"");
        };
        let list: Vec<&Value> = match statements {
            Value::Array(a) => a.iter().collect(),
            Value::Object(_) => vec![statements],
            _ => return err("\"Statement\" must be an object or a list of objects"),
        };
        if list.is_empty() {
            return err("\"Statement\" is empty");
        }
        let statements = list
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                statement(s, i).map_err(|e| PolicyError {
                    at: None,
                    message: format!("Statement[{i}]: {}", e.message),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            version: version.unwrap_or_else(|| "2008-10-17".into()),
            statements,
        })
    }

    /// Decides `request`: an explicit deny wins, then the first allow, else not allowed.
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        let mut allow = None;
        for (i, s) in self.statements.iter().enumerate() {
            if !s.applies(request) {
                continue;
            }
            match s.effect {
                Effect::Deny => return Decision::Deny(i),
                Effect::Allow => {
                    allow.get_or_insert(i);
                }
            }
        }
        allow.map_or(Decision::NotAllowed, Decision::Allow)
    }
}

/// A string or a list of strings (numbers and booleans are written as text, as IAM does).
fn strings(v: &Value, what: &str) -> Result<Vec<String>, PolicyError> {
    let one = |v: &Value| -> Result<String, PolicyError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => err(format!("{what} must be a string or a list of strings")),
        }
    };
    match v {
        Value::Array(a) if a.is_empty() => err(format!("{what} is an empty list")),
        Value::Array(a) => a.iter().map(one).collect(),
        _ => Ok(vec![one(v)?]),
    }
}

fn principals(v: &Value, what: &str) -> Result<Principals, PolicyError> {
    let mut p = Principals::default();
    match v {
        Value::String(s) if s == "*" => p.any = true,
        Value::Object(map) => {
            for (kind, vals) in map {
                for s in strings(vals, &format!("{what}.{kind}"))? {
                    match kind.as_str() {
                        "AWS" if s == "*" => p.any = true,
                        "AWS" if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) => {
                            p.accounts.push(s)
                        }
                        "AWS" => match s
                            .strip_prefix("arn:aws:iam::")
                            .and_then(|r| r.strip_suffix(":root"))
                        {
                            Some(acct) => p.accounts.push(acct.to_string()),
                            None if s.starts_with("arn:") => p.arns.push(s),
                            None => {
                                return err(format!(
                                    "{what}.AWS \"{s}\" is neither \"*\", a 12-digit account nor an ARN"
                                ))
                            }
                        },
                        "Service" => p.services.push(s),
                        // Named so that a policy written for other callers still loads;
                        // no caller in a model is one of these.
                        "Federated" | "CanonicalUser" => {}
                        other => {
                            return err(format!(
                                "{what} has an unknown kind \"{other}\" (expected AWS, Service, Federated, CanonicalUser)"
                            ))
                        }
                    }
                }
            }
        }
        _ => {
            return err(format!(
                "{what} must be \"*\" or an object such as {{\"AWS\": \"...\"}}"
            ))
        }
    }
    Ok(p)
}

fn statement(v: &Value, index: usize) -> Result<Statement, PolicyError> {
    let Value::Object(map) = v else {
        return err("a statement must be a JSON object");
    };
    let mut sid = None;
    let mut effect = None;
    let mut principal = None;
    let mut action = None;
    let mut resource = None;
    let mut conditions = Vec::new();
    for (k, val) in map {
        match k.as_str() {
            "Sid" => sid = val.as_str().map(str::to_string),
            "Effect" => {
                effect = Some(match val.as_str() {
                    Some("Allow") => Effect::Allow,
                    Some("Deny") => Effect::Deny,
                    _ => return err(format!("\"Effect\" is {val}; it must be \"Allow\" or \"Deny\"")),
                })
            }
            "Principal" | "NotPrincipal" => {
                if principal.is_some() {
                    return err("a statement has either Principal or NotPrincipal, not both");
                }
                principal = Some((principals(val, k)?, k == "NotPrincipal"));
            }
            "Action" | "NotAction" => {
                if action.is_some() {
                    return err("a statement has either Action or NotAction, not both");
                }
                let patterns = strings(val, k)?;
                for a in &patterns {
                    if a != "*" && !a.contains(':') {
                        return err(format!(
                            "{k} \"{a}\" is not of the form service:action (such as sns:Publish)"
                        ));
                    }
                }
                action = Some(Patterns {
                    patterns,
                    not: k == "NotAction",
                });
            }
            "Resource" | "NotResource" => {
                if resource.is_some() {
                    return err("a statement has either Resource or NotResource, not both");
                }
                resource = Some(Patterns {
                    patterns: strings(val, k)?,
                    not: k == "NotResource",
                });
            }
            "Condition" => conditions = condition_block(val)?,
            other => {
                return err(format!(
                    "unknown element \"{other}\" (expected Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition)"
                ))
            }
        }
    }
    let Some(effect) = effect else {
        return err("the statement has no \"Effect\"");
    };
    let Some((principal, not_principal)) = principal else {
        return err(
            "a resource-based policy's statement needs a \"Principal\" (or \"NotPrincipal\")",
        );
    };
    let Some(action) = action else {
        return err("the statement has no \"Action\" (or \"NotAction\")");
    };
    let Some(resource) = resource else {
        return err("the statement has no \"Resource\" (or \"NotResource\")");
    };
    Ok(Statement {
        sid,
        index,
        effect,
        principal,
        not_principal,
        action,
        resource,
        conditions,
    })
}

fn condition_block(v: &Value) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = v else {
        return err("\"Condition\" must be an object of operators");
    };
    let mut out = Vec::new();
    for (name, keys) in ops {
        if name.starts_with("ForAnyValue:") || name.starts_with("ForAllValues:") {
            return err(format!(
                "condition operator \"{name}\" is not supported: set operators apply to multivalued keys, and no key aqueduct evaluates has several values"
            ));
        }
        let (base, if_exists) = match name.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (name.as_str(), false),
        };
        let Some(&(_, operator)) = Operator::ALL.iter().find(|(n, _)| *n == base) else {
            let known: Vec<&str> = Operator::ALL.iter().map(|(n, _)| *n).collect();
            return err(format!(
                "condition operator \"{name}\" is not supported (aqueduct evaluates {} and their IfExists forms)",
                known.join(", ")
            ));
        };
        if operator == Operator::Null && if_exists {
            return err("\"NullIfExists\" is not an operator");
        }
        let Value::Object(keys) = keys else {
            return err(format!("\"{name}\" must map condition keys to values"));
        };
        if keys.is_empty() {
            // An empty operator would drop the condition and widen the statement.
            return err(format!("\"{name}\" names no condition key"));
        }
        for (key, vals) in keys {
            out.push(Condition {
                operator,
                if_exists,
                key: key.to_ascii_lowercase(),
                values: strings(vals, &format!("{name}.{key}"))?,
            });
        }
    }
    Ok(out)
}

/// IAM's wildcard match: `*` matches any run of characters (`:` and `/` included), `?`
/// any one character.
pub fn wildcard(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    // The classic backtracking matcher: linear in practice, quadratic at worst.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < v.len() {
        if i < p.len() && (p[i] == '?' || (p[i] != '*' && eq(p[i], v[j]))) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// `ArnLike`/`ArnEquals`: the six colon-separated parts compared one by one, each with
/// wildcards (the last part, the resource, may itself hold colons).
pub fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6 && a.len() == 6 && p.iter().zip(&a).all(|(p, a)| wildcard(p, a, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("sns:*", "sns:Publish", false));
        assert!(wildcard("SNS:pub*", "sns:Publish", true));
        assert!(!wildcard("SNS:pub*", "sns:Publish", false));
        assert!(wildcard(
            "arn:aws:sqs:*:1234:q?",
            "arn:aws:sqs:us-east-1:1234:q1",
            false
        ));
        assert!(!wildcard(
            "arn:aws:sqs:*:1234:q?",
            "arn:aws:sqs:us-east-1:1234:q12",
            false
        ));
        assert!(wildcard("*", "", false));
        assert!(wildcard("a*b*c", "axxbyyc", false));
        assert!(!wildcard("a*b*c", "axxbyy", false));
    }

    #[test]
    fn arns_part_by_part() {
        assert!(arn_like(
            "arn:aws:sns:*:111122223333:orders",
            "arn:aws:sns:eu-west-1:111122223333:orders"
        ));
        // A `*` does not let one part swallow the next.
        assert!(!arn_like("arn:aws:sns:*", "arn:aws:sns:eu-west-1:1:orders"));
        assert!(arn_like(
            "arn:aws:sqs:us-east-1:1:*",
            "arn:aws:sqs:us-east-1:1:a:b"
        ));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let e = Policy::parse("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [,]\n}")
            .unwrap_err();
        assert_eq!(e.at, Some((3, 17)));
    }
}
