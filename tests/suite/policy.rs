//! Topic and queue policies: the evaluator against a table of cases derived from AWS's
//! documented evaluation logic, and what a policy does to a run.

use crate::common::{arch, assert_balanced, metric, run};
use aqueduct::policy::{Caller, Decision, Policy, Request};

const ACCT: &str = "111122223333";
const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:orders";
const QUEUE: &str = "arn:aws:sqs:us-east-1:111122223333:analytics";

fn policy(statements: &str) -> Policy {
    Policy::parse(&format!(
        r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#
    ))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCT}:role/{name}")
}

fn decide(
    p: &Policy,
    caller: Caller<'_>,
    action: &str,
    resource: &str,
    ctx: &[(&str, &str)],
) -> Decision {
    p.evaluate(&Request {
        caller,
        action,
        resource,
        context: ctx,
    })
}

#[test]
fn evaluation_follows_aws_documented_logic() {
    let web = role("web");
    let me = Caller::Aws {
        arn: &web,
        account: ACCT,
    };
    let other = Caller::Aws {
        arn: "arn:aws:iam::444455556666:role/partner",
        account: "444455556666",
    };
    let sns = Caller::Service("sns.amazonaws.com");
    let from_topic = [("aws:sourcearn", TOPIC), ("aws:sourceaccount", ACCT)];
    let allow_topic = r#"{"Sid": "A", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": "*",
        "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:111122223333:orders"}}}"#;
    // (case, policy statements, caller, action, resource, context, expected)
    type Case<'a> = (
        &'a str,
        String,
        Caller<'a>,
        &'a str,
        &'a str,
        &'a [(&'a str, &'a str)],
        Decision,
    );
    let cases: Vec<Case<'_>> = vec![
        ("an allow that applies", allow_topic.into(), sns, "sqs:SendMessage", QUEUE, &from_topic, Decision::Allow(0)),
        ("the wrong topic: nothing applies", allow_topic.into(), sns, "sqs:SendMessage", QUEUE,
            &[("aws:sourcearn", "arn:aws:sns:us-east-1:111122223333:other")], Decision::NotAllowed),
        ("a missing key fails a positive operator", allow_topic.into(), sns, "sqs:SendMessage", QUEUE, &[], Decision::NotAllowed),
        ("deny beats allow (allow first)",
            format!(r#"{allow_topic}, {{"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "{QUEUE}"}}"#),
            sns, "sqs:SendMessage", QUEUE, &from_topic, Decision::Deny(1)),
        ("deny beats allow (deny first)",
            format!(r#"{{"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "{QUEUE}"}}, {allow_topic}"#),
            sns, "sqs:SendMessage", QUEUE, &from_topic, Decision::Deny(0)),
        ("a missing key satisfies a negated operator",
            r#"{"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*",
               "Condition": {"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:orders"}}}"#.into(),
            me, "sqs:SendMessage", QUEUE, &[], Decision::Deny(0)),
        ("a negated operator with a matching value does not hold",
            r#"{"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*",
               "Condition": {"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:orders"}}}"#.into(),
            sns, "sqs:SendMessage", QUEUE, &from_topic, Decision::NotAllowed),
        ("IfExists holds when the key is missing",
            r#"{"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe", "Resource": "*",
               "Condition": {"StringEqualsIfExists": {"sns:Protocol": "sqs"}}}"#.into(),
            me, "sns:Subscribe", TOPIC, &[], Decision::Allow(0)),
        ("IfExists checks the key when present",
            r#"{"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe", "Resource": "*",
               "Condition": {"StringEqualsIfExists": {"sns:Protocol": "sqs"}}}"#.into(),
            me, "sns:Subscribe", TOPIC, &[("sns:protocol", "sms")], Decision::NotAllowed),
        ("several values of one key: any may match",
            r#"{"Effect": "Deny", "Principal": "*", "Action": "sns:Subscribe", "Resource": "*",
               "Condition": {"StringEquals": {"sns:Protocol": ["sms", "email"]}}}"#.into(),
            me, "sns:Subscribe", TOPIC, &[("sns:protocol", "email")], Decision::Deny(0)),
        ("several keys: all must hold",
            r#"{"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe", "Resource": "*",
               "Condition": {"StringEquals": {"sns:Protocol": "sqs", "aws:PrincipalAccount": "999999999999"}}}"#.into(),
            me, "sns:Subscribe", TOPIC, &[("sns:protocol", "sqs"), ("aws:principalaccount", ACCT)], Decision::NotAllowed),
        ("StringLike wildcards",
            r#"{"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe", "Resource": "*",
               "Condition": {"StringLike": {"sns:Endpoint": "arn:aws:sqs:*:111122223333:*"}}}"#.into(),
            me, "sns:Subscribe", TOPIC, &[("sns:endpoint", QUEUE)], Decision::Allow(0)),
        ("action wildcards ignore case",
            format!(r#"{{"Effect": "Allow", "Principal": {{"AWS": "{ACCT}"}}, "Action": "SNS:pub*", "Resource": "{TOPIC}"}}"#),
            me, "sns:Publish", TOPIC, &[], Decision::Allow(0)),
        ("resource ARNs are case-sensitive",
            r#"{"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:111122223333:Orders"}"#.into(),
            me, "sns:Publish", TOPIC, &[], Decision::NotAllowed),
        ("an account principal matches its roles",
            format!(r#"{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{ACCT}:root"}}, "Action": "sns:Publish", "Resource": "*"}}"#),
            me, "sns:Publish", TOPIC, &[], Decision::Allow(0)),
        ("an account principal does not match another account's",
            format!(r#"{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{ACCT}:root"}}, "Action": "sns:Publish", "Resource": "*"}}"#),
            other, "sns:Publish", TOPIC, &[], Decision::NotAllowed),
        ("a role principal covers the role's sessions",
            r#"{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/partner"}, "Action": "sns:Publish", "Resource": "*"}"#.into(),
            Caller::Aws { arn: "arn:aws:sts::444455556666:assumed-role/partner/job-17", account: "444455556666" },
            "sns:Publish", TOPIC, &[], Decision::Allow(0)),
        ("NotPrincipal does not exclude other accounts",
            format!(r#"{{"Effect": "Deny", "NotPrincipal": {{"AWS": "{ACCT}"}}, "Action": "*", "Resource": "*"}}"#),
            me, "sns:Publish", TOPIC, &[], Decision::NotAllowed),
        ("an ARN principal matches that principal only",
            r#"{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::444455556666:role/partner"]}, "Action": "sns:Publish", "Resource": "*"}"#.into(),
            other, "sns:Publish", TOPIC, &[], Decision::Allow(0)),
        ("NotAction: everything but",
            r#"{"Effect": "Deny", "Principal": "*", "NotAction": "sns:Publish", "Resource": "*"}"#.into(),
            me, "sns:Subscribe", TOPIC, &[], Decision::Deny(0)),
        ("NotPrincipal: everyone but",
            format!(r#"{{"Effect": "Deny", "NotPrincipal": {{"AWS": "{ACCT}"}}, "Action": "*", "Resource": "*"}}"#),
            other, "sns:Publish", TOPIC, &[], Decision::Deny(0)),
        ("Null: the key is missing",
            r#"{"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*",
               "Condition": {"Null": {"aws:SourceArn": "true"}}}"#.into(),
            me, "sqs:SendMessage", QUEUE, &[], Decision::Deny(0)),
    ];
    for (what, statements, caller, action, resource, ctx, want) in cases {
        let p = policy(&statements);
        assert_eq!(decide(&p, caller, action, resource, ctx), want, "{what}");
    }
}

#[test]
fn policies_that_cannot_be_evaluated_say_why() {
    let bad = |text: &str| Policy::parse(text).unwrap_err().to_string();
    let e = bad(
        "{\n \"Version\": \"2012-10-17\",\n \"Statement\": [\n  {\"Effect\": \"Allow\",}\n ]\n}",
    );
    assert!(e.contains("line 4, column"), "{e}");
    let e = bad(
        r#"{"Statement": {"Effect": "Permit", "Principal": "*", "Action": "*", "Resource": "*"}}"#,
    );
    assert!(e.contains("\"Permit\"") && e.contains("Allow"), "{e}");
    let e = bad(
        r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}}}"#,
    );
    assert!(e.contains("\"DateGreaterThan\" is not supported"), "{e}");
    let e = bad(r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*"}}"#);
    assert!(e.contains("Resource"), "{e}");
    let e = bad(r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#);
    assert!(e.contains("Principal"), "{e}");
    // An operator with no key would drop its condition and widen the statement.
    let e = bad(
        r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {}}}}"#,
    );
    assert!(e.contains("names no condition key"), "{e}");
}

/// Orders to a topic with two queues subscribed; `analytics` has `policy`.
fn fanout(analytics_policy: &str, extra: &str) -> String {
    format!(
        r#"
name = "fanout-policy"
duration = "10m"
account_id = "{ACCT}"
api_latency = "0ms"

[[producer]]
name = "checkout"
target = "sns:orders"
load = {{ process = "poisson", rate_per_s = 20 }}

[[topic]]
name = "orders"

[[subscription]]
name = "billing"
topic = "orders"
endpoint = "sqs:billing"

[[subscription]]
name = "analytics"
topic = "orders"
endpoint = "sqs:analytics"
{extra}

[[queue]]
name = "billing"

[[queue]]
name = "analytics"
policy = '''{analytics_policy}'''

[[queue]]
name = "analytics-dlq"

[[consumer]]
name = "billing-workers"
source = "sqs:billing"
workers = 2
receive = {{ max_messages = 10, wait = "20s" }}
service_time = "5ms"

[[consumer]]
name = "analytics-workers"
source = "sqs:analytics"
workers = 2
receive = {{ max_messages = 10, wait = "20s" }}
service_time = "5ms"
"#
    )
}

fn sns_may_send(source: &str) -> String {
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "FromTopic", "Effect": "Allow",
  "Principal": {{"Service": "sns.amazonaws.com"}}, "Action": "sqs:SendMessage", "Resource": "*",
  "Condition": {{"ArnEquals": {{"aws:SourceArn": "{source}"}}}}}}]}}"#
    )
}

#[test]
fn a_queue_policy_missing_the_topic_loses_exactly_its_deliveries() {
    let right = run(&fanout(&sns_may_send(TOPIC), ""), 5);
    let wrong = run(
        &fanout(
            &sns_may_send("arn:aws:sns:us-east-1:111122223333:orders-v1"),
            "",
        ),
        5,
    );
    for out in [&right, &wrong] {
        assert_balanced(out);
    }
    let published = metric(&wrong, "topic.orders.published");
    assert!(published > 10_000.0, "{published}");
    // The same seed gives the same publishes; only the analytics deliveries change fate.
    assert_eq!(published, metric(&right, "topic.orders.published"));
    // Deliveries still on their way when the run ends are pending, in both runs.
    let pending = metric(&wrong, "subscription.analytics.pending");
    assert_eq!(pending, metric(&right, "subscription.analytics.pending"));
    let denied = metric(&wrong, "subscription.analytics.denied");
    assert_eq!(metric(&right, "subscription.analytics.denied"), 0.0);
    assert_eq!(
        metric(&right, "subscription.analytics.deliveries") + pending,
        published
    );
    assert_eq!(denied + pending, published);
    assert_eq!(metric(&wrong, "subscription.analytics.deliveries"), 0.0);
    assert_eq!(metric(&wrong, "subscription.analytics.lost"), denied);
    assert_eq!(
        metric(&wrong, "subscription.analytics.retries"),
        0.0,
        "a client error is not retried"
    );
    assert_eq!(metric(&wrong, "topic.orders.denied"), denied);
    assert_eq!(metric(&wrong, "consumer.analytics-workers.processed"), 0.0);
    // The billing path is untouched.
    assert_eq!(
        metric(&wrong, "subscription.billing.deliveries"),
        metric(&right, "subscription.billing.deliveries")
    );
    assert_eq!(wrong.summary.accounting.lost as f64, denied);
    // validate/run warn about it, naming the queue.
    let a = arch(&fanout(
        &sns_may_send("arn:aws:sns:us-east-1:111122223333:orders-v1"),
        "",
    ));
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("SNS cannot deliver to queue \"analytics\"")),
        "{:?}",
        a.warnings
    );
}

#[test]
fn denied_deliveries_go_to_a_dead_letter_queue_that_sns_may_send_to() {
    let wrong = sns_may_send("arn:aws:sns:us-east-1:111122223333:orders-v1");
    let out = run(&fanout(&wrong, "dead_letter = \"sqs:analytics-dlq\""), 5);
    assert_balanced(&out);
    let denied = metric(&out, "subscription.analytics.denied");
    assert!(denied > 10_000.0);
    assert_eq!(metric(&out, "subscription.analytics.dead_lettered"), denied);
    assert_eq!(metric(&out, "subscription.analytics.lost"), 0.0);
    // A DLQ whose own policy forgets the topic: lost after all.
    let src = fanout(&wrong, "dead_letter = \"sqs:analytics-dlq\"").replace(
        "name = \"analytics-dlq\"",
        &format!("name = \"analytics-dlq\"\npolicy = '''{wrong}'''"),
    );
    let out = run(&src, 5);
    assert_balanced(&out);
    assert_eq!(metric(&out, "subscription.analytics.dead_lettered"), 0.0);
    assert_eq!(metric(&out, "subscription.analytics.lost"), denied);
}

#[test]
fn a_denied_producer_loses_every_message_without_retries() {
    let allow_owner = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "Owner", "Effect": "Allow",
  "Principal": {{"AWS": "{ACCT}"}}, "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": "{QUEUE}"}}]}}"#
    );
    let src = |principal: &str| {
        format!(
            r#"
name = "partner"
duration = "5m"
account_id = "{ACCT}"

[[producer]]
name = "partner"
target = "sqs:analytics"
principal = "{principal}"
load = {{ process = "poisson", rate_per_s = 10 }}

[[queue]]
name = "analytics"
policy = '''{allow_owner}'''

[[consumer]]
name = "w"
source = "sqs:analytics"
workers = 1
receive = {{ wait = "20s" }}
service_time = "1ms"
"#
        )
    };
    let inside = run(&src(&role("partner")), 2);
    assert_eq!(metric(&inside, "producer.partner.denied"), 0.0);
    // A policy that names nobody: the account's own role is still let through (its
    // identity-based policy may allow within one account); only an explicit deny stops it.
    let other_only =
        allow_owner.replace(&format!("\"AWS\": \"{ACCT}\""), "\"AWS\": \"999999999999\"");
    let own = run(&src(&role("partner")).replace(&allow_owner, &other_only), 2);
    assert_eq!(metric(&own, "producer.partner.denied"), 0.0);
    assert!(metric(&own, "consumer.w.processed") > 2000.0);
    let deny_own = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "NoPartner", "Effect": "Deny",
  "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*",
  "Condition": {"StringLike": {"aws:PrincipalArn": "*:role/partner"}}}]}"#;
    let denied = run(&src(&role("partner")).replace(&allow_owner, deny_own), 2);
    assert_eq!(
        metric(&denied, "producer.partner.denied"),
        metric(&denied, "producer.partner.generated")
    );
    let out = run(&src("arn:aws:iam::444455556666:role/partner"), 2);
    assert_balanced(&out);
    let generated = metric(&out, "producer.partner.generated");
    assert!(generated > 2000.0);
    assert_eq!(metric(&out, "producer.partner.denied"), generated);
    assert_eq!(metric(&out, "producer.partner.retries"), 0.0);
    assert_eq!(metric(&out, "producer.partner.sent"), 0.0);
    assert_eq!(out.summary.accounting.denied as f64, generated);
    assert_eq!(metric(&out, "consumer.w.processed"), 0.0);
}

#[test]
fn a_subscription_the_topic_policy_denies_is_refused_naming_the_statement() {
    let deny_sms = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "NoSms", "Effect": "Deny", "Principal": "*",
  "Action": "sns:Subscribe", "Resource": "*", "Condition": {"StringEquals": {"sns:Protocol": ["sms"]}}}]}"#;
    let base = fanout(&sns_may_send(TOPIC), "").replace(
        "name = \"orders\"\n",
        &format!("name = \"orders\"\npolicy = '''{deny_sms}'''\n"),
    );
    // An SQS subscription is allowed by that policy.
    arch(&base);
    let text = format!("{base}\n[[subscription]]\nname = \"pager\"\ntopic = \"orders\"\nendpoint = \"sms:oncall\"\n");
    let line = text.lines().position(|l| l == "name = \"pager\"").unwrap();
    crate::value::refused(
        "policy-sms",
        &text,
        line,
        &[
            "\"pager\"",
            "statement \"NoSms\"",
            "sns:Subscribe",
            "explicit deny",
        ],
    );
}

#[test]
fn bad_policies_are_refused_at_their_field() {
    let base = fanout(&sns_may_send(TOPIC), "");
    let line = base
        .lines()
        .position(|l| l.starts_with("policy ="))
        .unwrap()
        + 1;
    crate::value::refused(
        "policy-json",
        &base.replace("\"Sid\": \"FromTopic\",", "\"Sid\": \"FromTopic\",,"),
        line,
        &["`policy`", "line 1, column", "of the policy JSON"],
    );
    crate::value::refused(
        "policy-effect",
        &base.replace("\"Effect\": \"Allow\"", "\"Effect\": \"allow\""),
        line,
        &["`policy`", "\"Effect\" is \"allow\""],
    );
    crate::value::refused(
        "policy-operator",
        &base.replace("ArnEquals", "ArnEqualsX"),
        line,
        &["`policy`", "\"ArnEqualsX\" is not supported"],
    );
    let p = base
        .lines()
        .position(|l| l == "name = \"checkout\"")
        .unwrap();
    crate::value::refused(
        "policy-principal",
        &base.replace(
            "name = \"checkout\"\n",
            "name = \"checkout\"\nprincipal = \"partner\"\n",
        ),
        p + 2,
        &["`principal`", "neither an IAM ARN"],
    );
}

#[test]
fn the_linter_names_public_and_unused_statements() {
    let public = r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"},
  {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/admin"}, "Action": "sqs:PurgeQueue", "Resource": "*"},
  {"Sid": "Typo", "Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*",
   "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}]}"#;
    let a = arch(&fanout(public, ""));
    let w = a.warnings.join("\n");
    assert!(
        w.contains("statement \"Everyone\" allows \"*\" with no condition"),
        "{w}"
    );
    assert!(
        w.contains("statement \"Admins\" matches no call in the model"),
        "{w}"
    );
    assert!(!w.contains("statement \"Everyone\" matches no call"), "{w}");
    assert!(
        w.contains("condition key aws:sourcevpce is not in any request"),
        "{w}"
    );
    // Everyone but a few, with no condition, is public too.
    let not_principal = r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "AllButOne", "Effect": "Allow", "NotPrincipal": {"AWS": "999999999999"}, "Action": "sqs:*", "Resource": "*"}]}"#;
    let a = arch(&fanout(not_principal, ""));
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("statement \"AllButOne\" allows \"*\"")),
        "{:?}",
        a.warnings
    );
    // A model with no policy has nothing to say.
    let plain = arch(
        &fanout(&sns_may_send(TOPIC), "")
            .replace(&format!("policy = '''{}'''", sns_may_send(TOPIC)), ""),
    );
    assert!(
        plain.warnings.iter().all(|w| !w.contains("policy")),
        "{:?}",
        plain.warnings
    );
}
