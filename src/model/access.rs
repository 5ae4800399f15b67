//! Who may call what: the model's account and region, the ARN of every component, the
//! `principal` of every caller, the topic and queue policies, and the decision on every
//! call the model wires (see [`crate::policy`] for the evaluator).
//!
//! # What is decided, and when
//! Every call in a model is fixed by its wiring, so each is decided once, when the model
//! loads:
//! - a producer's `sns:Publish` or `sqs:SendMessage` on its target: when denied, every
//!   send of the run fails with AuthorizationError, which the SDK does not retry; its
//!   messages are counted `denied` and lost to the producer;
//! - a subscription's `sns:Subscribe` on its topic (with `sns:Protocol` and
//!   `sns:Endpoint`): when denied, the model does not load (the subscription could not
//!   exist), naming the statement;
//! - SNS's `sqs:SendMessage` on a subscribed queue (the service principal
//!   `sns.amazonaws.com`, with `aws:SourceArn` = the topic): when denied, every delivery
//!   fails with a client error that SNS does not retry (counted `denied` on the
//!   subscription, like AWS's `NumberOfNotificationsFailed`) and goes to the
//!   subscription's dead-letter queue if SNS may send there, else is lost;
//! - a worker pool's or an event source mapping's `sqs:ReceiveMessage` and
//!   `sqs:DeleteMessage`: when denied, the model does not load.
//!
//! # Identity-based policies
//! aqueduct models resource-based policies only. A caller in the model's own account with
//! an IAM principal is assumed to hold an identity-based policy that allows the calls the
//! model wires it to make; within one account either kind of policy may allow, so such a
//! call is refused only by an explicit `Deny`. A service principal (`sns.amazonaws.com`,
//! `s3.amazonaws.com`) or a caller from another account is allowed only by a statement of
//! the resource's policy. A topic or queue with no `policy` allows every call the model
//! wires (as the template that creates the wiring would grant it).
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>

use super::raw::RawModel;
use crate::input::error::{FieldPath, Invalid, VResult};
use crate::policy::{Caller, Decision, Policy, Request, KNOWN_KEYS};
use crate::producers::{ProducerSpec, Target};
use crate::services::lambda::{LambdaSource, LambdaSpec};
use crate::services::sns::{Endpoint, SubscriptionSpec, TopicSpec};
use crate::services::sqs::QueueSpec;
use crate::workers::PoolSpec;
use std::path::Path;

/// The account of a model that names none.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The region of a model that names none.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The service principal SNS delivers to SQS as.
const SNS_SERVICE: &str = "sns.amazonaws.com";

/// The access decisions of a model (all empty of denials when it has no policy).
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// The account that owns the resources.
    pub account_id: String,
    /// The region in their ARNs.
    pub region: String,
    /// Per producer: why its sends are denied (`None`: allowed).
    pub producer_denied: Vec<Option<String>>,
    /// Per subscription: why SNS may not send its deliveries to its queue.
    pub delivery_denied: Vec<Option<String>>,
    /// Per subscription: why SNS may not send to its dead-letter queue.
    pub dead_letter_denied: Vec<Option<String>>,
}

impl Access {
    /// Whether producer `p`'s sends are denied.
    #[inline]
    pub(crate) fn denies_producer(&self, p: usize) -> bool {
        matches!(self.producer_denied.get(p), Some(Some(_)))
    }

    /// Whether SNS may not deliver subscription `s`'s messages to its queue.
    #[inline]
    pub(crate) fn denies_delivery(&self, s: usize) -> bool {
        matches!(self.delivery_denied.get(s), Some(Some(_)))
    }

    /// Whether SNS may not send subscription `s`'s failed messages to its DLQ.
    #[inline]
    pub(crate) fn denies_dead_letter(&self, s: usize) -> bool {
        matches!(self.dead_letter_denied.get(s), Some(Some(_)))
    }
}

/// A caller, owned.
#[derive(Clone, Debug)]
enum Who {
    Aws { arn: String, account: String },
    Service(String),
}

impl Who {
    fn caller(&self) -> Caller<'_> {
        match self {
            Who::Aws { arn, account } => Caller::Aws { arn, account },
            Who::Service(s) => Caller::Service(s),
        }
    }

    fn describe(&self) -> String {
        match self {
            Who::Aws { arn, .. } => arn.clone(),
            Who::Service(s) => format!("the service principal {s}"),
        }
    }
}

/// One call the model wires, to be decided against a resource's policy.
struct Call {
    who: Who,
    action: &'static str,
    /// Condition keys (lower case) and values.
    context: Vec<(&'static str, String)>,
    /// What makes it, for messages (`producer "web"`).
    by: String,
}

impl Call {
    fn new(
        who: Who,
        action: &'static str,
        by: String,
        source_arn: Option<&str>,
        account: &str,
    ) -> Self {
        let mut context = Vec::new();
        match &who {
            Who::Aws { arn, account } => {
                // A session's aws:PrincipalArn is its role's ARN.
                let principal = crate::policy::role_of_session(arn).unwrap_or_else(|| arn.clone());
                context.push(("aws:principalarn", principal));
                context.push(("aws:principalaccount", account.clone()));
            }
            Who::Service(_) => {
                if let Some(s) = source_arn {
                    context.push(("aws:sourcearn", s.to_string()));
                }
                context.push(("aws:sourceaccount", account.to_string()));
            }
        }
        Call {
            who,
            action,
            context,
            by,
        }
    }

    /// `f` applied to this call as a request on `resource`.
    fn with_request<R>(&self, resource: &str, f: impl FnOnce(&Request<'_>) -> R) -> R {
        let ctx: Vec<(&str, &str)> = self.context.iter().map(|(k, v)| (*k, v.as_str())).collect();
        f(&Request {
            caller: self.who.caller(),
            action: self.action,
            resource,
            context: &ctx,
        })
    }
}

/// A topic's or queue's policy, where it came from, and its ARN.
struct Resource {
    kind: &'static str,
    name: String,
    arn: String,
    policy: Option<Policy>,
}

impl Resource {
    /// `Ok` when `call` is allowed, else why not.
    fn decide(&self, call: &Call, account: &str) -> Result<(), String> {
        let Some(policy) = &self.policy else {
            return Ok(());
        };
        match call.with_request(&self.arn, |r| policy.evaluate(r)) {
            Decision::Allow(_) => Ok(()),
            Decision::Deny(i) => Err(format!(
                "the {} policy of {} \"{}\" denies {} to {} ({}, an explicit deny)",
                self.kind,
                self.kind,
                self.name,
                call.action,
                call.who.describe(),
                policy.statements[i].label()
            )),
            Decision::NotAllowed => match &call.who {
                Who::Aws { account: a, .. } if a == account => Ok(()),
                who => Err(format!(
                    "no statement of the {} policy of {} \"{}\" allows {} to {} (an implicit deny: {})",
                    self.kind,
                    self.kind,
                    self.name,
                    call.action,
                    who.describe(),
                    match who {
                        Who::Service(_) => "a service principal needs an Allow in the resource's policy",
                        Who::Aws { .. } => "a caller from another account needs an Allow in the resource's policy",
                    }
                )),
            },
        }
    }
}

/// Decides every call of the model; returns the decisions and adds the policy linter's
/// findings to `warnings`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn access(
    raw: &RawModel,
    base_dir: &Path,
    topics: &[TopicSpec],
    queues: &[QueueSpec],
    producers: &[ProducerSpec],
    subscriptions: &[SubscriptionSpec],
    pools: &[PoolSpec],
    lambdas: &[LambdaSpec],
    warnings: &mut Vec<String>,
) -> VResult<Access> {
    let account = match &raw.account_id {
        Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => a.clone(),
        Some(a) => {
            return Err(Invalid::at(
                &FieldPath::top("account_id"),
                format!("account_id \"{a}\" is not a 12-digit AWS account id"),
            ))
        }
        None => DEFAULT_ACCOUNT.to_string(),
    };
    let region = match &raw.region {
        Some(r)
            if !r.is_empty()
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
        {
            r.clone()
        }
        Some(r) => {
            return Err(Invalid::at(
                &FieldPath::top("region"),
                format!("region \"{r}\" is not a region code such as us-east-1"),
            ))
        }
        None => DEFAULT_REGION.to_string(),
    };
    let arn = |svc: &str, name: &str| format!("arn:aws:{svc}:{region}:{account}:{name}");
    // Topics and queues with their policies: (kind, service, name, policy, policy_file).
    let resources =
        |kind: &'static str, svc: &str, items: Vec<(&str, Option<&str>, Option<&str>)>| {
            items
                .into_iter()
                .enumerate()
                .map(|(i, (name, policy, file))| {
                    let path = FieldPath::item(kind, i, name);
                    Ok(Resource {
                        kind,
                        name: name.to_string(),
                        arn: arn(svc, name),
                        policy: load_policy(policy, file, &path, base_dir)?,
                    })
                })
                .collect::<VResult<Vec<Resource>>>()
        };
    let topic_res = resources(
        "topic",
        "sns",
        topics
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let r = raw.topic.get(i);
                (
                    t.name.as_str(),
                    r.and_then(|r| r.policy.as_deref()),
                    r.and_then(|r| r.policy_file.as_deref()),
                )
            })
            .collect(),
    )?;
    let queue_res = resources(
        "queue",
        "sqs",
        queues
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let r = raw.queue.get(i);
                (
                    q.name.as_str(),
                    r.and_then(|r| r.policy.as_deref()),
                    r.and_then(|r| r.policy_file.as_deref()),
                )
            })
            .collect(),
    )?;
    let mut out = Access {
        account_id: account.clone(),
        region: region.clone(),
        producer_denied: vec![None; producers.len()],
        delivery_denied: vec![None; subscriptions.len()],
        dead_letter_denied: vec![None; subscriptions.len()],
    };
    // Every call the model wires, by resource: (topic or queue, index) → calls.
    let mut topic_calls: Vec<Vec<Call>> = (0..topics.len()).map(|_| Vec::new()).collect();
    let mut queue_calls: Vec<Vec<Call>> = (0..queues.len()).map(|_| Vec::new()).collect();

    for (i, p) in producers.iter().enumerate() {
        let r = raw.producer.get(i);
        let path = FieldPath::item("producer", i, &p.name);
        let who = principal(
            r.and_then(|r| r.principal.as_deref()),
            &p.name,
            &account,
            &path,
        )?;
        let source_arn = r.and_then(|r| r.source_arn.as_deref());
        if source_arn.is_some() && !matches!(who, Who::Service(_)) {
            return Err(Invalid::at(
                &path.field("source_arn"),
                "source_arn is the resource a service principal acts for (aws:SourceArn); set a service principal such as principal = \"s3.amazonaws.com\"",
            ));
        }
        let by = format!("producer \"{}\"", p.name);
        let (res, call) = match p.target {
            Target::Topic(t) => (
                &topic_res[t as usize],
                Call::new(who, "sns:Publish", by, source_arn, &account),
            ),
            Target::Queue(q) => (
                &queue_res[q as usize],
                Call::new(who, "sqs:SendMessage", by, source_arn, &account),
            ),
            Target::Stream(_) | Target::Firehose(_) => continue,
        };
        out.producer_denied[i] = res.decide(&call, &account).err();
        if let Some(why) = &out.producer_denied[i] {
            warnings.push(format!(
                "producer \"{}\" cannot send: {why}; every message it sends is denied and lost",
                p.name
            ));
        }
        match p.target {
            Target::Topic(t) => topic_calls[t as usize].push(call),
            Target::Queue(q) => queue_calls[q as usize].push(call),
            _ => {}
        }
    }

    for (i, s) in subscriptions.iter().enumerate() {
        let r = raw.subscription.get(i);
        let path = FieldPath::item("subscription", i, &s.name);
        let who = principal(
            r.and_then(|r| r.principal.as_deref()),
            &s.name,
            &account,
            &path,
        )?;
        let topic = &topic_res[s.topic as usize];
        let protocol = match s.endpoint_text.split_once(':') {
            Some(("push", _)) => "application".to_string(),
            Some((p, _)) => p.to_string(),
            None => s.protocol.key().to_string(),
        };
        let endpoint = match s.endpoint {
            Endpoint::Queue(q) => queue_res[q as usize].arn.clone(),
            Endpoint::Lambda(l) => arn("lambda", &format!("function:{}", lambdas[l as usize].name)),
            _ => match s.endpoint_text.split_once(':') {
                Some(("firehose", n)) => arn("firehose", &format!("deliverystream/{n}")),
                Some((_, n)) => n.to_string(),
                None => s.endpoint_text.clone(),
            },
        };
        let mut call = Call::new(
            who,
            "sns:Subscribe",
            format!("subscription \"{}\"", s.name),
            None,
            &account,
        );
        call.context.push(("sns:protocol", protocol));
        call.context.push(("sns:endpoint", endpoint));
        if let Err(why) = topic.decide(&call, &account) {
            return Err(Invalid::at(
                &path,
                format!("the subscription cannot be created: {why}"),
            ));
        }
        topic_calls[s.topic as usize].push(call);
        let topic_arn = topic.arn.clone();
        let sns_send = |by: String| {
            Call::new(
                Who::Service(SNS_SERVICE.into()),
                "sqs:SendMessage",
                by,
                Some(&topic_arn),
                &account,
            )
        };
        if let Endpoint::Queue(q) = s.endpoint {
            let call = sns_send(format!("SNS for subscription \"{}\"", s.name));
            out.delivery_denied[i] = queue_res[q as usize].decide(&call, &account).err();
            if let Some(why) = &out.delivery_denied[i] {
                warnings.push(format!(
                    "subscription \"{}\": SNS cannot deliver to queue \"{}\": {why}; every delivery fails (NumberOfNotificationsFailed) and is lost or dead-lettered",
                    s.name, queues[q as usize].name
                ));
            }
            queue_calls[q as usize].push(call);
        }
        if let Some(q) = s.dead_letter {
            let call = sns_send(format!(
                "SNS for the dead-letter queue of subscription \"{}\"",
                s.name
            ));
            out.dead_letter_denied[i] = queue_res[q as usize].decide(&call, &account).err();
            if let Some(why) = &out.dead_letter_denied[i] {
                warnings.push(format!(
                    "subscription \"{}\": SNS cannot move failed deliveries to its dead-letter queue \"{}\": {why}; they are lost",
                    s.name, queues[q as usize].name
                ));
            }
            queue_calls[q as usize].push(call);
        }
    }

    // Readers of queues: worker pools and SQS event source mappings.
    let mut readers: Vec<(&str, &str, FieldPath, Option<&str>, u32)> = Vec::new();
    for (i, c) in pools.iter().enumerate() {
        let p = raw.consumer.get(i).and_then(|r| r.principal.as_deref());
        let path = FieldPath::item("consumer", i, &c.name);
        readers.push(("consumer", &c.name, path, p, c.queue));
    }
    for (i, l) in lambdas.iter().enumerate() {
        if let LambdaSource::Sqs(q) = l.source {
            let p = raw.lambda.get(i).and_then(|r| r.principal.as_deref());
            readers.push((
                "lambda",
                &l.name,
                FieldPath::item("lambda", i, &l.name),
                p,
                q,
            ));
        }
    }
    for (kind, name, path, p, q) in readers {
        let who = principal(p, name, &account, &path)?;
        for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage"] {
            let by = format!("{kind} \"{name}\"");
            let call = Call::new(who.clone(), action, by, None, &account);
            if let Err(why) = queue_res[q as usize].decide(&call, &account) {
                return Err(Invalid::at(
                    &path,
                    format!("it cannot read its queue: {why}"),
                ));
            }
            queue_calls[q as usize].push(call);
        }
    }

    // The linter: public statements, statements that match nothing, unknown keys.
    for (res, calls) in topic_res
        .iter()
        .zip(&topic_calls)
        .chain(queue_res.iter().zip(&queue_calls))
    {
        let Some(policy) = &res.policy else { continue };
        for st in &policy.statements {
            let what = format!("{} \"{}\" policy, {}", res.kind, res.name, st.label());
            if st.is_public() {
                warnings.push(format!(
                    "{what} allows \"*\" with no condition: anyone, in any account, may call {} (public access)",
                    st.action.patterns.join(", ")
                ));
            }
            let matched = calls
                .iter()
                .any(|c| c.with_request(&res.arn, |r| st.applies(r)));
            if !matched {
                warnings.push(format!(
                    "{what} matches no call in the model ({})",
                    if calls.is_empty() {
                        "nothing in the model calls it".to_string()
                    } else {
                        calls
                            .iter()
                            .map(|c| format!("{} by {}", c.action, c.by))
                            .collect::<Vec<_>>()
                            .join("; ")
                    }
                ));
            }
            for c in &st.conditions {
                if !KNOWN_KEYS.contains(&c.key.as_str()) {
                    warnings.push(format!(
                        "{what}: condition key {} is not in any request aqueduct models (it knows {}), so the condition sees it missing",
                        c.key,
                        KNOWN_KEYS.join(", ")
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// The policy of a topic or queue, from `policy` or `policy_file`.
fn load_policy(
    text: Option<&str>,
    file: Option<&str>,
    path: &FieldPath,
    base_dir: &Path,
) -> VResult<Option<Policy>> {
    let (text, field, from) = match (text, file) {
        (Some(_), Some(_)) => {
            return Err(Invalid::at(
                &path.field("policy_file"),
                "give the policy either inline (policy) or in a file (policy_file), not both",
            ))
        }
        (Some(t), None) => (t.to_string(), "policy", String::new()),
        (None, Some(f)) => {
            let full = base_dir.join(f);
            let t = crate::input::read_text(&full).map_err(|e| {
                Invalid::at(
                    &path.field("policy_file"),
                    format!("cannot read policy file {}: {e}", full.display()),
                )
            })?;
            (t, "policy_file", format!(" (in {f})"))
        }
        (None, None) => return Ok(None),
    };
    Policy::parse(&text).map(Some).map_err(|e| {
        Invalid::at(
            &path.field(field),
            format!("the policy{from} is not valid: {e}"),
        )
    })
}

/// The caller a component's `principal` names (default: a role named after it).
fn principal(p: Option<&str>, name: &str, account: &str, path: &FieldPath) -> VResult<Who> {
    let Some(p) = p else {
        return Ok(Who::Aws {
            arn: format!("arn:aws:iam::{account}:role/{name}"),
            account: account.to_string(),
        });
    };
    if !p.starts_with("arn:") && p.ends_with(".amazonaws.com") {
        return Ok(Who::Service(p.to_string()));
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam" | "sts", "", acct, rest]
            if partition.starts_with("aws")
                && acct.len() == 12
                && acct.bytes().all(|b| b.is_ascii_digit())
                && !rest.is_empty() =>
        {
            Ok(Who::Aws {
                arn: p.to_string(),
                account: acct.to_string(),
            })
        }
        _ => Err(Invalid::at(
            &path.field("principal"),
            format!("principal \"{p}\" is neither an IAM ARN (arn:aws:iam::123456789012:role/NAME) nor a service principal (s3.amazonaws.com)"),
        )),
    }
}
