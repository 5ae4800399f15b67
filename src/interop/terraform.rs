//! Terraform import: `aqueduct import terraform PLAN.json [--out MODEL.toml]` reads the
//! output of `terraform show -json` (a plan's `planned_values.root_module`, or a state's
//! `values.root_module`, with their `child_modules`) and writes a model with its SQS
//! queues, SNS topics and subscriptions, Kinesis streams, Firehose delivery streams and
//! Lambda functions with their event source mappings
//! (<https://developer.hashicorp.com/terraform/internals/json-format>).
//!
//! Terraform describes the infrastructure, not the load: the model gets a producer
//! marked PLACEHOLDER with no `load`, so that `aqueduct validate` names what is missing
//! (exit code 2), and comments where a Lambda function's duration and a worker pool
//! belong. A reference that is unknown at plan time (`after_unknown`, such as a
//! dead-letter queue's ARN) is resolved through `configuration.root_module`'s
//! `expressions[].references` (`aws_sqs_queue.dlq.arn` → that queue); a value that
//! cannot be known (a `maxReceiveCount` inside an unknown `redrive_policy`) is left out,
//! so that validation names it. Resources of other types are listed as skipped, never
//! an error.
//!
//! Names: a component is named by its AWS name (`name`, `function_name`), or, when that
//! is unknown at plan time, by its Terraform name; [`address_of`] gives the Terraform
//! address aqueduct assumes for a component of a model (the inverse, used to write
//! infracost usage files from a run).

use crate::input::ModelError;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A model imported from Terraform.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The model file's text.
    pub toml: String,
    /// Resources of types aqueduct does not model: `address (type)`.
    pub skipped: Vec<String>,
    /// What the import assumed or could not know.
    pub notes: Vec<String>,
}

/// One managed resource of the plan or state.
#[derive(Clone, Debug)]
struct Resource {
    /// Its address (`module.a.aws_sqs_queue.q[0]`).
    address: String,
    /// Its type.
    rtype: String,
    /// Its name in the configuration.
    name: String,
    /// Its planned (or current) values.
    values: Json,
}

/// The Terraform type for each model section aqueduct imports.
pub const IMPORTED_TYPES: [&str; 7] = [
    "aws_sqs_queue",
    "aws_sns_topic",
    "aws_sns_topic_subscription",
    "aws_kinesis_stream",
    "aws_kinesis_firehose_delivery_stream",
    "aws_lambda_function",
    "aws_lambda_event_source_mapping",
];

/// An input error at a JSON path of the document (JSON has no line once parsed).
fn error(file: &str, path: &str, message: String) -> ModelError {
    ModelError {
        file: file.to_string(),
        line: None,
        column: None,
        field: path.to_string(),
        message,
    }
}

/// The Terraform address aqueduct assumes for the component `name` of Terraform type
/// `rtype`: `rtype.NAME` with every character that is not a letter, a digit, `_` or `-`
/// mapped to `_`, and a leading digit prefixed with `_` (Terraform's identifier rule):
/// `orders.fifo` → `aws_sqs_queue.orders_fifo`.
pub fn address_of(rtype: &str, name: &str) -> String {
    format!("{rtype}.{}", identifier(name))
}

/// A Terraform identifier for a name (see [`address_of`]).
pub fn identifier(name: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        id.insert(0, '_');
    }
    id
}

/// Imports the `terraform show -json` document `src`; `file` names it in messages and
/// `model_name` names the model.
pub fn import(src: &str, file: &str, model_name: &str) -> Result<Imported, ModelError> {
    let doc: Json = serde_json::from_str(src).map_err(|e| ModelError {
        file: file.to_string(),
        line: Some(e.line()),
        column: Some(e.column()),
        field: String::new(),
        message: format!("not valid JSON (expected the output of `terraform show -json`): {e}"),
    })?;
    let Json::Object(top) = &doc else {
        return Err(error(
            file,
            "",
            "expected a JSON object (the output of `terraform show -json`)".into(),
        ));
    };
    let (root, root_path) = if let Some(r) = top.get("planned_values") {
        (r.get("root_module"), "planned_values.root_module")
    } else if let Some(r) = top.get("values") {
        (r.get("root_module"), "values.root_module")
    } else {
        return Err(error(
            file,
            "planned_values",
            "neither `planned_values` (a plan) nor `values` (a state) is present: give the output of `terraform show -json PLAN` or `terraform show -json`".into(),
        ));
    };
    let Some(root) = root else {
        return Err(error(
            file,
            root_path,
            "missing: the document has no root module".into(),
        ));
    };
    let mut resources = Vec::new();
    collect(root, root_path, file, &mut resources, 0)?;
    let mut refs = BTreeMap::new();
    if let Some(c) = top.get("configuration").and_then(|c| c.get("root_module")) {
        collect_refs(c, "", &mut refs, 0);
    }
    let mut b = Builder {
        resources: &resources,
        refs: &refs,
        notes: Vec::new(),
    };
    let version = top
        .get("terraform_version")
        .and_then(Json::as_str)
        .unwrap_or("unknown");
    let toml = b.model(file, model_name, version)?;
    let skipped = resources
        .iter()
        .filter(|r| !IMPORTED_TYPES.contains(&r.rtype.as_str()))
        .map(|r| format!("{} ({})", r.address, r.rtype))
        .collect();
    Ok(Imported {
        toml,
        skipped,
        notes: b.notes,
    })
}

/// Collects the managed resources of a module and its children.
fn collect(
    module: &Json,
    path: &str,
    file: &str,
    out: &mut Vec<Resource>,
    depth: usize,
) -> Result<(), ModelError> {
    if depth > 64 {
        return Err(error(file, path, "modules nest too deeply".into()));
    }
    if !module.is_object() {
        return Err(error(file, path, "expected an object (a module)".into()));
    }
    if let Some(rs) = module.get("resources") {
        let Some(rs) = rs.as_array() else {
            return Err(error(
                file,
                &format!("{path}.resources"),
                "expected an array of resources".into(),
            ));
        };
        for (i, r) in rs.iter().enumerate() {
            let rpath = format!("{path}.resources[{i}]");
            let field = |k: &str| -> Result<String, ModelError> {
                r.get(k)
                    .and_then(Json::as_str)
                    .map(String::from)
                    .ok_or_else(|| error(file, &format!("{rpath}.{k}"), "expected a string".into()))
            };
            let mode = r.get("mode").and_then(Json::as_str).unwrap_or("managed");
            let values = r.get("values").cloned().unwrap_or(Json::Null);
            if !(values.is_object() || values.is_null()) {
                return Err(error(
                    file,
                    &format!("{rpath}.values"),
                    "expected an object".into(),
                ));
            }
            if mode != "managed" {
                continue;
            }
            out.push(Resource {
                address: field("address")?,
                rtype: field("type")?,
                name: field("name")?,
                values,
            });
        }
    }
    if let Some(children) = module.get("child_modules") {
        let Some(children) = children.as_array() else {
            return Err(error(
                file,
                &format!("{path}.child_modules"),
                "expected an array of modules".into(),
            ));
        };
        for (i, c) in children.iter().enumerate() {
            let cpath = format!("{path}.child_modules[{i}]");
            collect(c, &cpath, file, out, depth + 1)?;
        }
    }
    Ok(())
}

/// The references of each configured attribute: `(resource address without index,
/// attribute)` → the addresses it references, module-qualified.
type Refs = BTreeMap<(String, String), Vec<String>>;

/// Collects the `expressions[].references` of a configuration module and its calls.
fn collect_refs(module: &Json, prefix: &str, out: &mut Refs, depth: usize) {
    if depth > 64 {
        return;
    }
    for r in module
        .get("resources")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let Some(addr) = r.get("address").and_then(Json::as_str) else {
            continue;
        };
        let full = format!("{prefix}{addr}");
        let Some(exprs) = r.get("expressions").and_then(Json::as_object) else {
            continue;
        };
        for (attr, e) in exprs {
            let mut found = Vec::new();
            gather_refs(e, prefix, &mut found, 0);
            if !found.is_empty() {
                out.insert((full.clone(), attr.clone()), found);
            }
        }
    }
    for (name, call) in module
        .get("module_calls")
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(m) = call.get("module") {
            collect_refs(m, &format!("{prefix}module.{name}."), out, depth + 1);
        }
    }
}

/// Every `references` entry inside an expression (blocks nest expressions).
fn gather_refs(e: &Json, prefix: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 32 {
        return;
    }
    match e {
        Json::Object(m) => {
            if let Some(rs) = m.get("references").and_then(Json::as_array) {
                out.extend(
                    rs.iter()
                        .filter_map(Json::as_str)
                        .map(|r| format!("{prefix}{r}")),
                );
            }
            for (k, v) in m {
                if k != "references" {
                    gather_refs(v, prefix, out, depth + 1);
                }
            }
        }
        Json::Array(a) => a
            .iter()
            .for_each(|v| gather_refs(v, prefix, out, depth + 1)),
        _ => {}
    }
}

/// An address without its instance keys (`module.a[0].aws_sqs_queue.q["x"]` →
/// `module.a.aws_sqs_queue.q`), as the configuration names resources.
fn base_address(address: &str) -> String {
    let (mut out, mut depth, mut quoted) = (String::new(), 0usize, false);
    for c in address.chars() {
        match c {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Writes the model.
struct Builder<'a> {
    resources: &'a [Resource],
    refs: &'a Refs,
    notes: Vec<String>,
}

/// A TOML string literal.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Seconds as a duration with the largest unit that divides them (`345600` → `"4d"`).
fn dur(secs: i64) -> String {
    for (unit, n) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs != 0 && secs % n == 0 {
            return q(&format!("{}{unit}", secs / n));
        }
    }
    q(&format!("{secs}s"))
}

/// The name an ARN gives (`arn:aws:sqs:r:a:orders` → `("sqs", "orders")`,
/// `…:lambda:r:a:function:f:live` → `("lambda", "f")`, `…:kinesis:r:a:stream/s` →
/// `("kinesis", "s")`).
fn arn_name(arn: &str) -> Option<(&str, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return None;
    }
    let service = parts[2];
    let res = parts[5];
    let name = match service {
        "lambda" => res
            .strip_prefix("function:")?
            .split(':')
            .next()?
            .to_string(),
        "kinesis" => res.strip_prefix("stream/")?.to_string(),
        "firehose" => res.strip_prefix("deliverystream/")?.to_string(),
        _ => res.to_string(),
    };
    Some((service, name))
}

impl<'a> Builder<'a> {
    /// The resources of a type.
    fn of(&self, rtype: &str) -> impl Iterator<Item = &'a Resource> + 'a {
        let rtype = rtype.to_string();
        let all: &'a [Resource] = self.resources;
        all.iter().filter(move |r| r.rtype == rtype)
    }

    /// A string value, or `None` when absent or unknown.
    fn s<'r>(r: &'r Resource, key: &str) -> Option<&'r str> {
        r.values.get(key).and_then(Json::as_str)
    }

    /// An integer value.
    fn i(r: &Resource, key: &str) -> Option<i64> {
        r.values.get(key).and_then(Json::as_i64)
    }

    /// A boolean value (false when absent).
    fn b(r: &Resource, key: &str) -> bool {
        r.values.get(key).and_then(Json::as_bool).unwrap_or(false)
    }

    /// The model name of a resource: its AWS name attribute, or its Terraform name (with
    /// its index) when that is unknown.
    fn name_of(&self, r: &Resource) -> String {
        let key = match r.rtype.as_str() {
            "aws_lambda_function" => "function_name",
            _ => "name",
        };
        match Self::s(r, key) {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => {
                let tail = r
                    .address
                    .rsplit_once(&format!("{}.", r.rtype))
                    .map(|(_, t)| t.to_string())
                    .unwrap_or_else(|| r.name.clone());
                tail.replace(['[', ']', '"'], "")
            }
        }
    }

    /// The resource an address (or a reference such as `aws_sqs_queue.dlq.arn`) names.
    fn by_reference(&self, reference: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .filter(|r| {
                let base = base_address(&r.address);
                reference == base
                    || reference == r.address
                    || reference.starts_with(&format!("{base}."))
                    || reference.starts_with(&format!("{base}["))
            })
            .max_by_key(|r| r.address.len())
    }

    /// What the attribute `attr` of `r` points at: a component `(kind, name)` from its
    /// known value (an ARN or a name) or, when unknown at plan time, from the
    /// configuration's references.
    fn target(&self, r: &Resource, attr: &str, want: &[&str]) -> Option<(String, String)> {
        if let Some(v) = Self::s(r, attr) {
            if let Some((service, name)) = arn_name(v) {
                // A known ARN: the component of that service and name.
                let rt = match service {
                    "sqs" => "aws_sqs_queue",
                    "sns" => "aws_sns_topic",
                    "lambda" => "aws_lambda_function",
                    "kinesis" => "aws_kinesis_stream",
                    "firehose" => "aws_kinesis_firehose_delivery_stream",
                    _ => "",
                };
                if want.contains(&rt) {
                    return Some((rt.to_string(), name));
                }
            } else if !v.is_empty() && want.contains(&"aws_lambda_function") {
                return Some(("aws_lambda_function".into(), v.to_string()));
            }
        }
        let refs = self
            .refs
            .get(&(base_address(&r.address), attr.to_string()))?;
        refs.iter().find_map(|reference| {
            let t = self.by_reference(reference)?;
            want.contains(&t.rtype.as_str())
                .then(|| (t.rtype.clone(), self.name_of(t)))
        })
    }

    /// The model's text.
    fn model(&mut self, file: &str, model_name: &str, version: &str) -> Result<String, ModelError> {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Imported by `aqueduct import terraform` from {file} (Terraform {version}).\n#\n# Terraform describes the infrastructure, not the load: complete every PLACEHOLDER\n# below (`aqueduct validate` names what is still missing), then run it.\n"
        );
        let _ = writeln!(out, "name = {}", q(model_name));
        let _ = writeln!(
            out,
            "description = {}",
            q(&format!("Imported from Terraform ({file})"))
        );
        let _ = writeln!(out, "duration = \"1h\"\nwarmup = \"5m\"\n");
        let first_target = self.first_target();
        let _ = writeln!(
            out,
            "# PLACEHOLDER: the load. Terraform has no producers; say what is sent, how often and\n# how large, then rename it. `load` is required, for example\n#   load = {{ process = \"poisson\", rate_per_s = 100 }}\n#   size = {{ dist = \"lognormal\", median = \"2KB\", p99 = \"20KB\" }}\n# (see models/README.md, [[producer]]).\n[[producer]]\nname = \"PLACEHOLDER\"\ntarget = {}\n",
            q(&first_target.unwrap_or_else(|| "sqs:PLACEHOLDER".into()))
        );
        self.queues(&mut out);
        self.topics(&mut out);
        self.subscriptions(&mut out);
        self.streams(&mut out);
        self.firehoses(&mut out);
        self.lambdas(&mut out);
        let skipped: Vec<String> = self
            .resources
            .iter()
            .filter(|r| !IMPORTED_TYPES.contains(&r.rtype.as_str()))
            .map(|r| format!("#   {} ({})", r.address, r.rtype))
            .collect();
        if !skipped.is_empty() {
            let _ = writeln!(
                out,
                "# Skipped: resources of types aqueduct does not model.\n{}",
                skipped.join("\n")
            );
        }
        Ok(out)
    }

    /// Where the placeholder producer sends: the first topic, else the first stream, else
    /// the first queue that no subscription feeds and that is no dead-letter queue.
    fn first_target(&self) -> Option<String> {
        if let Some(t) = self.of("aws_sns_topic").next() {
            return Some(format!("sns:{}", self.name_of(t)));
        }
        if let Some(s) = self.of("aws_kinesis_stream").next() {
            return Some(format!("kinesis:{}", self.name_of(s)));
        }
        let dlqs: Vec<String> = self
            .of("aws_sqs_queue")
            .filter_map(|q| self.dead_letter(q).0)
            .collect();
        self.of("aws_sqs_queue")
            .map(|q| self.name_of(q))
            .find(|n| !dlqs.contains(n))
            .map(|n| format!("sqs:{n}"))
    }

    /// A queue's dead-letter queue and maxReceiveCount, from its `redrive_policy` (JSON)
    /// or, when that is unknown, the queue its configuration references.
    fn dead_letter(&self, r: &Resource) -> (Option<String>, Option<i64>) {
        if let Some(p) = Self::s(r, "redrive_policy").filter(|p| !p.is_empty()) {
            if let Ok(j) = serde_json::from_str::<Json>(p) {
                let dlq = j
                    .get("deadLetterTargetArn")
                    .and_then(Json::as_str)
                    .and_then(arn_name)
                    .map(|(_, n)| n);
                let count = j.get("maxReceiveCount").and_then(|c| {
                    c.as_i64()
                        .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
                });
                if dlq.is_some() {
                    return (dlq, count);
                }
            }
        }
        match self.target(r, "redrive_policy", &["aws_sqs_queue"]) {
            Some((_, n)) => (Some(n), None),
            None => (None, None),
        }
    }

    /// The `[[queue]]` sections.
    fn queues(&mut self, out: &mut String) {
        let queues: Vec<&Resource> = self.of("aws_sqs_queue").collect();
        for r in queues {
            let name = self.name_of(r);
            let _ = writeln!(out, "# {}\n[[queue]]\nname = {}", r.address, q(&name));
            if Self::b(r, "fifo_queue") {
                let _ = writeln!(out, "kind = \"fifo\"");
                if Self::b(r, "content_based_deduplication") {
                    let _ = writeln!(out, "content_based_deduplication = true");
                }
                if Self::s(r, "fifo_throughput_limit") == Some("perMessageGroupId")
                    && Self::s(r, "deduplication_scope") == Some("messageGroup")
                {
                    let _ = writeln!(out, "high_throughput = true");
                }
            }
            if let Some(v) = Self::i(r, "visibility_timeout_seconds") {
                let _ = writeln!(out, "visibility_timeout = {}", dur(v));
            }
            if let Some(v) = Self::i(r, "delay_seconds").filter(|v| *v > 0) {
                let _ = writeln!(out, "delay = {}", dur(v));
            }
            if let Some(v) = Self::i(r, "message_retention_seconds") {
                let _ = writeln!(out, "retention = {}", dur(v));
            }
            if let Some(v) = Self::i(r, "receive_wait_time_seconds").filter(|v| *v > 0) {
                let _ = writeln!(out, "receive_wait = {}", dur(v));
            }
            if let Some(v) = Self::i(r, "max_message_size") {
                let size = if v % 1024 == 0 {
                    format!("{}KB", v / 1024)
                } else {
                    format!("{v}B")
                };
                let _ = writeln!(out, "max_message_size = {}", q(&size));
            }
            match self.dead_letter(r) {
                (Some(dlq), Some(n)) => {
                    let _ = writeln!(
                        out,
                        "dead_letter = {{ queue = {}, max_receive_count = {n} }}",
                        q(&dlq)
                    );
                }
                (Some(dlq), None) => {
                    self.notes.push(format!(
                        "{}: the redrive policy is unknown at plan time; its dead-letter queue {dlq} comes from the configuration's references, its maxReceiveCount is left for you (validate names it)",
                        r.address
                    ));
                    let _ = writeln!(
                        out,
                        "# PLACEHOLDER: maxReceiveCount is unknown at plan time: add max_receive_count.\ndead_letter = {{ queue = {} }}",
                        q(&dlq)
                    );
                }
                _ => {}
            }
            let _ = writeln!(out);
        }
    }

    /// The `[[topic]]` sections.
    fn topics(&mut self, out: &mut String) {
        for r in self.of("aws_sns_topic") {
            let _ = writeln!(
                out,
                "# {}\n[[topic]]\nname = {}",
                r.address,
                q(&self.name_of(r))
            );
            if Self::b(r, "fifo_topic") {
                let _ = writeln!(out, "kind = \"fifo\"");
            }
            let _ = writeln!(out);
        }
    }

    /// The `[[subscription]]` sections.
    fn subscriptions(&mut self, out: &mut String) {
        let subs: Vec<&Resource> = self.of("aws_sns_topic_subscription").collect();
        for r in subs {
            let Some((_, topic)) = self.target(r, "topic_arn", &["aws_sns_topic"]) else {
                self.notes.push(format!(
                    "{}: skipped: its topic is not a topic of the plan",
                    r.address
                ));
                continue;
            };
            let protocol = Self::s(r, "protocol").unwrap_or("sqs");
            let endpoint = match protocol {
                "sqs" | "lambda" | "firehose" => {
                    let want = match protocol {
                        "sqs" => "aws_sqs_queue",
                        "lambda" => "aws_lambda_function",
                        _ => "aws_kinesis_firehose_delivery_stream",
                    };
                    match self.target(r, "endpoint", &[want]) {
                        Some((_, n)) => format!("{protocol}:{n}"),
                        None if protocol == "firehose" => {
                            let n = Self::s(r, "endpoint")
                                .and_then(arn_name)
                                .map(|(_, n)| n)
                                .unwrap_or_else(|| "external".into());
                            format!("firehose:{n}")
                        }
                        None => {
                            self.notes.push(format!(
                                "{}: skipped: its {protocol} endpoint is not in the plan",
                                r.address
                            ));
                            continue;
                        }
                    }
                }
                "application" => "push:endpoint".into(),
                p => {
                    // `email-json` is an email endpoint that receives SNS's JSON.
                    let p = if p == "email-json" { "email" } else { p };
                    let host = Self::s(r, "endpoint")
                        .map(|e| {
                            e.split("://")
                                .last()
                                .unwrap_or(e)
                                .split('/')
                                .next()
                                .unwrap_or(e)
                                .to_string()
                        })
                        .unwrap_or_else(|| "endpoint".into());
                    format!("{p}:{host}")
                }
            };
            let name = r
                .address
                .rsplit_once("aws_sns_topic_subscription.")
                .map(|(_, t)| t.replace(['[', ']', '"'], ""))
                .unwrap_or_else(|| r.name.clone());
            let _ = writeln!(
                out,
                "# {}\n[[subscription]]\nname = {}\ntopic = {}\nendpoint = {}",
                r.address,
                q(&name),
                q(&topic),
                q(&endpoint)
            );
            if let Some(f) = Self::s(r, "filter_policy").filter(|f| !f.is_empty()) {
                match serde_json::from_str::<Json>(f)
                    .ok()
                    .and_then(|j| toml::Value::try_from(j).ok())
                {
                    Some(v) => {
                        let _ = writeln!(out, "filter = {v}");
                    }
                    None => self.notes.push(format!(
                        "{}: its filter policy is not a JSON object; left out",
                        r.address
                    )),
                }
                if Self::s(r, "filter_policy_scope") == Some("MessageBody") {
                    let _ = writeln!(out, "filter_scope = \"body\"");
                }
            }
            if Self::b(r, "raw_message_delivery") {
                let _ = writeln!(out, "raw_message_delivery = true");
            }
            if Self::s(r, "redrive_policy").is_some_and(|p| !p.is_empty())
                || self
                    .refs
                    .contains_key(&(base_address(&r.address), "redrive_policy".into()))
            {
                let dlq = Self::s(r, "redrive_policy")
                    .and_then(|p| serde_json::from_str::<Json>(p).ok())
                    .and_then(|j| {
                        j.get("deadLetterTargetArn")
                            .and_then(Json::as_str)
                            .and_then(arn_name)
                            .map(|(_, n)| n)
                    })
                    .or_else(|| {
                        self.target(r, "redrive_policy", &["aws_sqs_queue"])
                            .map(|(_, n)| n)
                    });
                if let Some(d) = dlq {
                    let _ = writeln!(out, "dead_letter = {}", q(&d));
                }
            }
            let _ = writeln!(out);
        }
    }

    /// The `[[stream]]` sections.
    fn streams(&mut self, out: &mut String) {
        for r in self.of("aws_kinesis_stream") {
            let mode = r
                .values
                .get("stream_mode_details")
                .and_then(|d| d.get(0))
                .and_then(|d| d.get("stream_mode"))
                .and_then(Json::as_str);
            let _ = writeln!(
                out,
                "# {}\n[[stream]]\nname = {}",
                r.address,
                q(&self.name_of(r))
            );
            if mode == Some("ON_DEMAND") {
                let _ = writeln!(out, "mode = \"on_demand\"");
            } else if let Some(n) = Self::i(r, "shard_count") {
                let _ = writeln!(out, "shards = {n}");
            }
            if let Some(h) = Self::i(r, "retention_period") {
                let _ = writeln!(out, "retention = {}", dur(h.saturating_mul(3600)));
            }
            let _ = writeln!(out);
        }
    }

    /// The `[[firehose]]` sections.
    fn firehoses(&mut self, out: &mut String) {
        let list: Vec<&Resource> = self.of("aws_kinesis_firehose_delivery_stream").collect();
        for r in list {
            let dest = Self::s(r, "destination").unwrap_or("extended_s3");
            let (kind, conf) = match dest {
                "extended_s3" | "s3" => ("s3", "extended_s3_configuration"),
                "redshift" => ("redshift", "redshift_configuration"),
                "elasticsearch" | "opensearch" => ("opensearch", "opensearch_configuration"),
                "splunk" => ("splunk", "splunk_configuration"),
                "http_endpoint" => ("http", "http_endpoint_configuration"),
                other => {
                    self.notes.push(format!(
                        "{}: destination {other} is not modelled; imported as S3",
                        r.address
                    ));
                    ("s3", "extended_s3_configuration")
                }
            };
            let _ = writeln!(
                out,
                "# {}\n[[firehose]]\nname = {}",
                r.address,
                q(&self.name_of(r))
            );
            if let Some((_, s)) =
                self.target(r, "kinesis_source_configuration", &["aws_kinesis_stream"])
            {
                let _ = writeln!(out, "source = {}", q(&format!("kinesis:{s}")));
            } else if let Some(arn) = r
                .values
                .get("kinesis_source_configuration")
                .and_then(|k| k.get(0))
                .and_then(|k| k.get("kinesis_stream_arn"))
                .and_then(Json::as_str)
                .and_then(arn_name)
            {
                let _ = writeln!(out, "source = {}", q(&format!("kinesis:{}", arn.1)));
            }
            let c = r.values.get(conf).and_then(|c| c.get(0));
            let size = c
                .and_then(|c| c.get("buffering_size").or_else(|| c.get("buffer_size")))
                .and_then(Json::as_i64);
            let interval = c
                .and_then(|c| {
                    c.get("buffering_interval")
                        .or_else(|| c.get("buffer_interval"))
                })
                .and_then(Json::as_i64);
            let mut parts = Vec::new();
            if let Some(s) = size {
                parts.push(format!("size = {}", q(&format!("{s}MiB"))));
            }
            if let Some(i) = interval {
                parts.push(format!("interval = {}", dur(i)));
            }
            if !parts.is_empty() {
                let _ = writeln!(out, "buffer = {{ {} }}", parts.join(", "));
            }
            let _ = writeln!(out, "destination = {{ kind = {} }}\n", q(kind));
        }
    }

    /// The `[[lambda]]` sections, each with its event source mapping.
    fn lambdas(&mut self, out: &mut String) {
        let mappings: Vec<&Resource> = self.of("aws_lambda_event_source_mapping").collect();
        let fns: Vec<&Resource> = self.of("aws_lambda_function").collect();
        let mut used = vec![false; mappings.len()];
        for r in fns {
            let name = self.name_of(r);
            let _ = writeln!(out, "# {}\n[[lambda]]\nname = {}", r.address, q(&name));
            let mine: Vec<usize> = mappings
                .iter()
                .enumerate()
                .filter(|(_, m)| {
                    self.target(m, "function_name", &["aws_lambda_function"])
                        .is_some_and(|(_, n)| n == name)
                })
                .map(|(i, _)| i)
                .collect();
            if let Some(&i) = mine.first() {
                used[i] = true;
                self.mapping(out, mappings[i]);
                for &j in &mine[1..] {
                    used[j] = true;
                    self.notes.push(format!(
                        "{}: a second event source mapping of function {name}; aqueduct models one source per function: skipped",
                        mappings[j].address
                    ));
                }
            }
            if let Some(m) = Self::i(r, "memory_size") {
                let _ = writeln!(out, "memory_mb = {m}");
            }
            let arch = r
                .values
                .get("architectures")
                .and_then(|a| a.get(0))
                .and_then(Json::as_str);
            if arch == Some("arm64") {
                let _ = writeln!(out, "architecture = \"arm64\"");
            }
            if let Some(t) = Self::i(r, "timeout") {
                let _ = writeln!(out, "timeout = {}", dur(t));
            }
            if let Some(c) = Self::i(r, "reserved_concurrent_executions").filter(|c| *c >= 0) {
                let _ = writeln!(out, "reserved_concurrency = {c}");
            }
            let _ = writeln!(
                out,
                "# PLACEHOLDER: how long an invocation runs is not in Terraform. `duration` is\n# required, for example  duration = {{ dist = \"lognormal\", median = \"150ms\", p99 = \"1s\" }}\n"
            );
        }
        for (i, m) in mappings.iter().enumerate() {
            if !used[i] {
                self.notes.push(format!(
                    "{}: its function is not in the plan: skipped",
                    m.address
                ));
            }
        }
    }

    /// The fields of a function's event source mapping.
    fn mapping(&mut self, out: &mut String, m: &Resource) {
        let Some((rt, src)) = self.target(
            m,
            "event_source_arn",
            &["aws_sqs_queue", "aws_kinesis_stream"],
        ) else {
            self.notes.push(format!(
                "{}: its source is not a queue or stream of the plan: skipped",
                m.address
            ));
            return;
        };
        let kind = if rt == "aws_sqs_queue" {
            "sqs"
        } else {
            "kinesis"
        };
        let _ = writeln!(out, "source = {}", q(&format!("{kind}:{src}")));
        if let Some(b) = Self::i(m, "batch_size") {
            let _ = writeln!(out, "batch_size = {b}");
        }
        if let Some(w) = Self::i(m, "maximum_batching_window_in_seconds").filter(|w| *w > 0) {
            let _ = writeln!(out, "batching_window = {}", dur(w));
        }
        if let Some(c) = m
            .values
            .get("scaling_config")
            .and_then(|s| s.get(0))
            .and_then(|s| s.get("maximum_concurrency"))
            .and_then(Json::as_i64)
        {
            let _ = writeln!(out, "maximum_concurrency = {c}");
        }
        let types = m
            .values
            .get("function_response_types")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).collect::<Vec<_>>())
            .unwrap_or_default();
        if types.contains(&"ReportBatchItemFailures") {
            let _ = writeln!(out, "report_batch_item_failures = true");
        }
        if kind == "kinesis" {
            if let Some(p) = Self::i(m, "parallelization_factor").filter(|p| *p > 1) {
                let _ = writeln!(out, "parallelization_factor = {p}");
            }
            if let Some(r) = Self::i(m, "maximum_retry_attempts").filter(|r| *r >= 0) {
                let _ = writeln!(out, "maximum_retry_attempts = {r}");
            }
            if Self::b(m, "bisect_batch_on_function_error") {
                let _ = writeln!(out, "bisect_on_error = true");
            }
            if let Some(a) = Self::i(m, "maximum_record_age_in_seconds").filter(|a| *a > 0) {
                let _ = writeln!(out, "maximum_record_age = {}", dur(a));
            }
            if let Some(p) = Self::s(m, "starting_position") {
                self.notes.push(format!(
                    "{}: starting_position {p} is not modelled (a run starts with an empty stream)",
                    m.address
                ));
            }
        }
    }
}
