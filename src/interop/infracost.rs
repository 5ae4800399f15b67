//! infracost usage files (`infracost-usage.yml`), read as they are: `aqueduct price
//! infracost-usage.yml`.
//!
//! The file is YAML: `version: 0.1`, `resource_usage:` keyed by Terraform address
//! (`aws_sqs_queue.my_queue`, `module.x.aws_sqs_queue.q`, `aws_lambda_function.f[0]`)
//! and `resource_type_default_usage:` keyed by resource type
//! (<https://www.infracost.io/docs/features/usage_based_resources/>). Each resource of a
//! type aqueduct prices becomes one table of a usage file (`[sqs.NAME]`, ...), read by
//! the same service readers as the TOML form, after its infracost keys are mapped to
//! aqueduct's (`TYPES`; the table is in `src/pricing/USAGE.md`). The key names are
//! those of the `UsageSchema` of each resource in infracost's source
//! (`internal/resources/aws/*.go`) and of its published example file
//! (`infracost-usage-example.yml`), older aliases included.
//!
//! - A key infracost documents for a feature aqueduct does not price
//!   (`sms_notification_price`, `macos_subscriptions`, ...) is accepted and listed in the
//!   notes as not priced; aqueduct's own keys of the kind (`fifo`, `memory_mb`, `shards`,
//!   `messages_per_second`, ...) are accepted too. A key in neither list is an error at
//!   its `file:line` that names the nearest valid key.
//! - Resources of a type aqueduct does not model are listed in the notes as skipped.
//! - `resource_type_default_usage` fills, for every listed resource of its type, the keys
//!   the resource does not give (infracost's rule). A type with defaults and no listed
//!   resource is priced as one resource named by the type, with a note: infracost applies
//!   the defaults to every resource of that type in the Terraform project, which a usage
//!   file alone does not list.

use crate::estimate::usage_file::{self, UsageFile};
use crate::input::error::Seg;
use crate::input::overrides::nearest;
use crate::input::{FieldPath, ModelError};
use crate::interop::yaml::{self, Node, Value};
use crate::pricing::PricingError;
use crate::services::usage_keys::{KeyPlaces, UsageTable};
use std::path::Path;

/// What aqueduct does with one infracost key.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Map {
    /// The same key in aqueduct's table.
    Same,
    /// Another name of an aqueduct key (an alias).
    To(&'static str),
    /// Accepted, listed as not priced, for the reason given.
    NotPriced(&'static str),
}

/// A Terraform resource type infracost has usage keys for.
struct Type {
    /// Terraform type (`aws_sqs_queue`).
    tf: &'static str,
    /// aqueduct's kind of usage table, or `None` for a type whose keys are known but
    /// which aqueduct does not price.
    kind: Option<&'static str>,
    /// infracost's keys and what they become.
    keys: &'static [(&'static str, Map)],
    /// Whether aqueduct's own keys of the kind are accepted too.
    own_keys: bool,
}

/// Why Kinesis Data Analytics for SQL is not priced.
const SQL_ANALYTICS: &str = "Kinesis Data Analytics for SQL applications are not modelled by aqueduct (it prices Managed Service for Apache Flink, aws_kinesisanalyticsv2_application)";

/// The resource types aqueduct prices, with infracost's keys for each (source:
/// infracost's `internal/resources/aws/*.go` `UsageSchema` and
/// `infracost-usage-example.yml`, <https://github.com/infracost/infracost>).
const TYPES: &[Type] = &[
    Type {
        tf: "aws_sqs_queue",
        kind: Some("sqs"),
        keys: &[
            ("monthly_requests", Map::Same),
            ("request_size_kb", Map::Same),
            // The key's name in infracost's example files before `_kb` was added.
            ("request_size", Map::To("request_size_kb")),
        ],
        own_keys: true,
    },
    Type {
        tf: "aws_sns_topic",
        kind: Some("sns"),
        keys: &[
            ("monthly_requests", Map::Same),
            ("request_size_kb", Map::Same),
            ("request_size", Map::To("request_size_kb")),
            ("http_subscriptions", Map::Same),
            ("email_subscriptions", Map::Same),
            // infracost prices these as "Kinesis Firehose notifications".
            ("kinesis_subscriptions", Map::To("firehose_subscriptions")),
            ("mobile_push_subscriptions", Map::Same),
            (
                "macos_subscriptions",
                Map::NotPriced("aqueduct has no price for macOS push deliveries"),
            ),
            ("sms_subscriptions", Map::Same),
            (
                "sms_notification_price",
                Map::NotPriced("SMS deliveries are priced by country; aqueduct lists them as not priced"),
            ),
        ],
        own_keys: true,
    },
    Type {
        tf: "aws_sns_topic_subscription",
        kind: Some("sns"),
        keys: &[
            ("monthly_requests", Map::Same),
            ("request_size_kb", Map::Same),
            ("request_size", Map::To("request_size_kb")),
        ],
        own_keys: false,
    },
    Type {
        tf: "aws_kinesis_stream",
        kind: Some("kinesis"),
        keys: &[
            ("monthly_on_demand_data_in_gb", Map::Same),
            ("monthly_on_demand_data_out_gb", Map::Same),
            ("monthly_on_demand_efo_data_out_gb", Map::Same),
            ("monthly_on_demand_extended_retention_gb", Map::Same),
            ("monthly_on_demand_long_term_retention_gb", Map::Same),
            ("monthly_provisioned_put_units", Map::Same),
            (
                "monthly_provisioned_extended_retention_gb",
                Map::NotPriced("AWS bills a provisioned stream's extended retention per shard-hour, not per GB: give retention_hours (and shards)"),
            ),
            ("monthly_provisioned_long_term_retention_gb", Map::Same),
            ("monthly_provisioned_long_term_retrieval_gb", Map::Same),
            (
                "monthly_provisioned_efo_data_out_gb",
                Map::To("monthly_provisioned_efo_data_retrieval_gb"),
            ),
            ("monthly_provisioned_efo_consumer_hours", Map::Same),
        ],
        own_keys: true,
    },
    Type {
        tf: "aws_kinesis_firehose_delivery_stream",
        kind: Some("firehose"),
        keys: &[("monthly_data_ingested_gb", Map::Same)],
        own_keys: true,
    },
    Type {
        tf: "aws_kinesisanalyticsv2_application",
        kind: Some("flink"),
        keys: &[
            ("kinesis_processing_units", Map::Same),
            ("durable_application_backup_gb", Map::Same),
        ],
        own_keys: true,
    },
    Type {
        tf: "aws_kinesis_analytics_application",
        kind: None,
        keys: &[
            ("kinesis_processing_units", Map::NotPriced(SQL_ANALYTICS)),
            ("durable_application_backup_gb", Map::NotPriced(SQL_ANALYTICS)),
        ],
        own_keys: false,
    },
    Type {
        tf: "aws_kinesis_video_stream",
        kind: Some("video"),
        keys: &[],
        own_keys: true,
    },
    Type {
        tf: "aws_lambda_function",
        kind: Some("lambda"),
        keys: &[
            ("monthly_requests", Map::Same),
            ("request_duration_ms", Map::Same),
            ("average_request_duration", Map::Same),
        ],
        own_keys: true,
    },
];

/// The on-demand keys of infracost's `aws_kinesis_stream`.
const KINESIS_ON_DEMAND: [&str; 5] = [
    "monthly_on_demand_data_in_gb",
    "monthly_on_demand_data_out_gb",
    "monthly_on_demand_efo_data_out_gb",
    "monthly_on_demand_extended_retention_gb",
    "monthly_on_demand_long_term_retention_gb",
];

/// The provisioned keys of infracost's `aws_kinesis_stream`.
const KINESIS_PROVISIONED: [&str; 6] = [
    "monthly_provisioned_put_units",
    "monthly_provisioned_extended_retention_gb",
    "monthly_provisioned_long_term_retention_gb",
    "monthly_provisioned_long_term_retrieval_gb",
    "monthly_provisioned_efo_data_out_gb",
    "monthly_provisioned_efo_consumer_hours",
];

/// The top-level keys of an infracost usage file.
const TOP_KEYS: [&str; 3] = ["version", "resource_usage", "resource_type_default_usage"];

/// True when `path` names a YAML file (`.yml`, `.yaml`) or `text` starts, after blank
/// and comment lines, with `version:` (an infracost usage file; never valid TOML).
pub fn is_yaml(path: &Path, text: &str) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("yml" | "yaml")) {
        return true;
    }
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.starts_with("version:") || l == "---")
}

/// The list of infracost keys (and aliases) of `tf`, or `None` when aqueduct does not
/// know the type.
pub fn infracost_keys(tf: &str) -> Option<Vec<&'static str>> {
    TYPES
        .iter()
        .find(|t| t.tf == tf)
        .map(|t| t.keys.iter().map(|(k, _)| *k).collect())
}

/// The Terraform type and the name aqueduct gives a resource of `address`: the address
/// without its type (`aws_sqs_queue.orders` → `orders`, `module.a.aws_sqs_queue.q[0]` →
/// `module.a.q[0]`); the type alone (a key with no name) names itself. `None` for a data
/// source or an address with no type.
pub fn split_address(address: &str) -> Option<(String, String)> {
    let segs = segments(address);
    let mut i = 0;
    let mut prefix = Vec::new();
    while segs.get(i).is_some_and(|s| s == "module") && i + 1 < segs.len() {
        prefix.push(format!("module.{}", segs[i + 1]));
        i += 2;
    }
    let tf = segs.get(i)?.clone();
    if tf == "data" || tf.is_empty() {
        return None;
    }
    let rest = segs[i + 1..].join(".");
    let name = if rest.is_empty() && prefix.is_empty() {
        tf.clone()
    } else {
        prefix
            .into_iter()
            .chain([rest])
            .collect::<Vec<_>>()
            .join(".")
    };
    Some((tf, name))
}

/// The dot-separated segments of an address, dots inside `[...]` and quotes kept.
fn segments(address: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let (mut depth, mut quoted) = (0usize, false);
    for c in address.chars() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            '.' if depth == 0 && !quoted => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

/// One resource of the file, with its keys and their places.
struct Resource<'n> {
    /// Its address (or type, for a type's defaults priced alone).
    address: String,
    /// The name aqueduct gives it.
    name: String,
    /// Its node (the address key), to place messages about it.
    at: &'n Node,
    /// Its keys: `(key node, value node)`.
    keys: Vec<(&'n Node, &'n Node)>,
    /// The YAML path of its mapping, for messages.
    path: String,
}

/// Reads an infracost usage file; `file` names it in messages. Quantities are per month
/// of `month_hours` hours.
pub fn parse(src: &str, file: &str, month_hours: f64) -> Result<UsageFile, PricingError> {
    let root = yaml::parse(src, file).map_err(PricingError::Input)?;
    let err = |n: &Node, field: &str, message: String| {
        PricingError::Input(ModelError {
            file: file.to_string(),
            line: Some(n.line),
            column: Some(n.column),
            field: field.to_string(),
            message,
        })
    };
    let Value::Map(top) = &root.value else {
        return Err(err(
            &root,
            "",
            format!(
                "an infracost usage file is a mapping with `version: 0.1` and `resource_usage:`; found {}",
                root.type_str()
            ),
        ));
    };
    let mut out = UsageFile::empty(month_hours);
    let (mut usage, mut defaults, mut version) = (None, None, None);
    for (k, v) in top {
        let key = k.text().unwrap_or_default();
        match key {
            "version" => version = Some(v),
            "resource_usage" => usage = Some(v),
            "resource_type_default_usage" => defaults = Some(v),
            _ => {
                let hint = hint(key, TOP_KEYS.iter().copied());
                return Err(err(
                    k,
                    key,
                    format!(
                        "unknown top-level key `{key}` of an infracost usage file{hint} (valid keys: {})",
                        TOP_KEYS.join(", ")
                    ),
                ));
            }
        }
    }
    match version {
        None => {
            return Err(err(
                &root,
                "version",
                "an infracost usage file starts with `version: 0.1`".into(),
            ))
        }
        Some(v) if !matches!(v.text(), Some("0.1" | "v0.1")) => {
            return Err(err(
                v,
                "version",
                format!(
                    "infracost usage file version `{}` is not supported: expected 0.1",
                    v.text().unwrap_or("(not a scalar)")
                ),
            ))
        }
        Some(_) => {}
    }
    let entries = |node: Option<&Node>, what: &str| -> Result<Vec<(Node, Node)>, PricingError> {
        match node {
            None => Ok(Vec::new()),
            Some(Node {
                value: Value::Map(m),
                ..
            }) => Ok(m.clone()),
            Some(Node {
                value: Value::Scalar(s, true),
                ..
            }) if s.is_empty() || s == "~" || s == "null" => Ok(Vec::new()),
            Some(n) => Err(err(
                n,
                what,
                format!("`{what}` must be a mapping; found {}", n.type_str()),
            )),
        }
    };
    let usage = entries(usage, "resource_usage")?;
    let defaults = entries(defaults, "resource_type_default_usage")?;

    // The defaults of each type, checked like a resource's keys.
    let mut type_defaults: Vec<(&Type, Resource)> = Vec::new();
    for (k, v) in &defaults {
        let tf = k.text().unwrap_or_default();
        let path = format!("resource_type_default_usage.{tf}");
        let Some(t) = TYPES.iter().find(|t| t.tf == tf) else {
            out.notes.push(format!(
                "infracost: skipped the defaults of {tf} (line {}): aqueduct does not model that resource type",
                k.line
            ));
            continue;
        };
        let keys = mapping_keys(v, &path, file)?;
        let res = Resource {
            address: tf.to_string(),
            name: tf.to_string(),
            at: k,
            keys,
            path,
        };
        check_keys(t, &res, file)?;
        type_defaults.push((t, res));
    }

    let mut listed: Vec<&str> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    for (k, v) in &usage {
        let address = k.text().unwrap_or_default();
        let path = format!("resource_usage.\"{address}\"");
        let Some((tf, name)) = split_address(address) else {
            skipped.push(format!("{address} (line {})", k.line));
            continue;
        };
        let Some(t) = TYPES.iter().find(|t| t.tf == tf) else {
            skipped.push(format!("{address} (line {})", k.line));
            continue;
        };
        listed.push(t.tf);
        let mut res = Resource {
            address: address.to_string(),
            name,
            at: k,
            keys: mapping_keys(v, &path, file)?,
            path,
        };
        check_keys(t, &res, file)?;
        if let Some((_, d)) = type_defaults.iter().find(|(dt, _)| dt.tf == t.tf) {
            for (dk, dv) in &d.keys {
                let given = res.keys.iter().any(|(rk, _)| rk.text() == dk.text());
                if !given {
                    res.keys.push((dk, dv));
                }
            }
        }
        read_resource(t, &res, src, file, month_hours, &mut out)?;
    }
    for (t, d) in &type_defaults {
        if !listed.contains(&t.tf) {
            out.notes.push(format!(
                "infracost: resource_type_default_usage.{0} (line {1}) applies to every {0} of the Terraform project; no {0} is listed under resource_usage, so it is priced as one resource named `{0}`",
                t.tf, d.at.line
            ));
            read_resource(t, d, src, file, month_hours, &mut out)?;
        }
    }
    if !skipped.is_empty() {
        out.notes.push(format!(
            "infracost: skipped {} resource(s) of types aqueduct does not model: {}",
            skipped.len(),
            skipped.join(", ")
        ));
    }
    Ok(out)
}

/// The keys of a resource's mapping (an empty value has none).
fn mapping_keys<'n>(
    v: &'n Node,
    path: &str,
    file: &str,
) -> Result<Vec<(&'n Node, &'n Node)>, PricingError> {
    match &v.value {
        Value::Map(m) => Ok(m.iter().map(|(k, v)| (k, v)).collect()),
        Value::Scalar(s, true) if s.is_empty() || s == "~" || s == "null" => Ok(Vec::new()),
        _ => Err(PricingError::Input(ModelError {
            file: file.to_string(),
            line: Some(v.line),
            column: Some(v.column),
            field: path.to_string(),
            message: format!(
                "`{path}` must be a mapping of usage keys; found {}",
                v.type_str()
            ),
        })),
    }
}

/// The keys a resource of type `t` may give: infracost's, then aqueduct's own.
fn valid_keys(t: &Type) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = t.keys.iter().map(|(k, _)| *k).collect();
    if let (true, Some(kind)) = (t.own_keys, t.kind) {
        for k in usage_file::keys_of(kind) {
            if !keys.contains(k) {
                keys.push(k);
            }
        }
    }
    if t.tf == "aws_lambda_function" {
        keys.push(GB_SECONDS);
    }
    keys
}

/// A function's GB-seconds as a run counted them (written by [`write_usage`]; YAML only):
/// they replace `requests × ceil(request_duration_ms) × memory` in the bill.
const GB_SECONDS: &str = "monthly_gb_seconds";

/// Refuses a key that is neither infracost's nor aqueduct's for the type, naming the
/// nearest valid one.
fn check_keys(t: &Type, res: &Resource, file: &str) -> Result<(), PricingError> {
    let valid = valid_keys(t);
    for (k, _) in &res.keys {
        let key = k.text().unwrap_or_default();
        if !valid.contains(&key) {
            let hint = hint(key, valid.iter().copied());
            return Err(PricingError::Input(ModelError {
                file: file.to_string(),
                line: Some(k.line),
                column: Some(k.column),
                field: format!("{}.{key}", res.path),
                message: format!(
                    "unknown {} usage key `{key}`{hint} (infracost's keys: {}; aqueduct's: see src/pricing/USAGE.md)",
                    t.tf,
                    t.keys.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                ),
            }));
        }
    }
    Ok(())
}

/// `; did you mean `x`?` for the valid key nearest `key`, or nothing.
fn hint<'a>(key: &str, valid: impl Iterator<Item = &'a str>) -> String {
    let owned: Vec<String> = valid.map(String::from).collect();
    nearest(key, owned.iter())
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}

/// Maps a resource's keys to aqueduct's table of its kind and reads it into `out`.
fn read_resource(
    t: &Type,
    res: &Resource,
    src: &str,
    file: &str,
    month_hours: f64,
    out: &mut UsageFile,
) -> Result<(), PricingError> {
    let Some(kind) = t.kind else {
        let given: Vec<&str> = res.keys.iter().filter_map(|(k, _)| k.text()).collect();
        out.notes.push(format!(
            "infracost {}: not priced ({}){}",
            res.address,
            SQL_ANALYTICS,
            if given.is_empty() {
                String::new()
            } else {
                format!("; keys accepted: {}", given.join(", "))
            }
        ));
        return Ok(());
    };
    let mut table = toml::Table::new();
    let mut places = KeyPlaces::new();
    places.insert(
        String::new(),
        (res.at.line, res.at.column, res.path.clone()),
    );
    let mut not_priced: Vec<String> = Vec::new();
    for (k, v) in &res.keys {
        let key = k.text().unwrap_or_default();
        let field = format!("{}.{key}", res.path);
        let map = t
            .keys
            .iter()
            .find(|(ik, _)| *ik == key)
            .map(|(_, m)| *m)
            .unwrap_or(Map::Same);
        let target = match map {
            Map::Same => key,
            Map::To(to) => to,
            Map::NotPriced(why) => {
                not_priced.push(format!("`{key}` ({why})"));
                continue;
            }
        };
        if table.contains_key(target) {
            return Err(PricingError::Input(ModelError {
                file: file.to_string(),
                line: Some(k.line),
                column: Some(k.column),
                field,
                message: format!(
                    "`{key}` gives `{target}` a second time (they are names of one key): give one of them"
                ),
            }));
        }
        places.insert(target.to_string(), (k.line, k.column, field));
        if let Some(value) = v.to_toml() {
            table.insert(target.to_string(), value);
        }
    }
    if t.tf == "aws_kinesis_stream" {
        kinesis_mode(res, &mut table, &mut not_priced);
    }
    if t.tf == "aws_sns_topic_subscription" {
        subscription_deliveries(&mut table, &mut places, &mut out.notes, res)?;
    }
    let assumed = match t.tf {
        "aws_sqs_queue" | "aws_sns_topic" if !table.contains_key("fifo") => {
            Some("a standard (not FIFO) resource (add `fifo: true` for FIFO)")
        }
        "aws_lambda_function" if !table.contains_key("memory_mb") => {
            Some("128 MB of memory (add `memory_mb`)")
        }
        _ => None,
    };
    if let Some(a) = assumed {
        out.notes.push(format!(
            "infracost {}: priced as {a}; infracost reads this from Terraform, which a usage file does not carry",
            res.address
        ));
    }
    if !not_priced.is_empty() {
        out.notes.push(format!(
            "infracost {}: accepted, not priced: {}",
            res.address,
            not_priced.join("; ")
        ));
    }
    let path = FieldPath {
        segs: vec![
            Seg::Key("resource_usage".into()),
            Seg::Key(res.address.clone()),
        ],
        name: None,
    };
    let gb_seconds = match table.remove(GB_SECONDS) {
        None => None,
        Some(v) => {
            let x = match v {
                toml::Value::Integer(i) => i as f64,
                toml::Value::Float(x) => x,
                _ => f64::NAN,
            };
            if !(x.is_finite() && x >= 0.0) {
                let (line, column, field) = places.get(GB_SECONDS).cloned().unwrap_or_default();
                return Err(PricingError::Input(ModelError {
                    file: file.to_string(),
                    line: Some(line),
                    column: Some(column),
                    field,
                    message: "expected a number of GB-seconds >= 0".into(),
                }));
            }
            Some(x)
        }
    };
    let ut = UsageTable {
        src,
        file,
        path,
        name: &res.name,
        table: &table,
        month_hours,
        places: Some(&places),
    };
    out.add(kind, &ut)?;
    if let (Some(x), Some(l)) = (gb_seconds, out.usage.lambda.last_mut()) {
        l.gb_seconds = x;
    }
    Ok(())
}

/// A stream's capacity mode, which infracost takes from Terraform
/// (`stream_mode_details`): aqueduct's `mode` key when given; else on-demand when only
/// on-demand keys are given, provisioned otherwise. When keys of both modes are given
/// (as in infracost's example), the stream is priced as provisioned and the on-demand
/// keys are listed as not priced.
fn kinesis_mode(res: &Resource, table: &mut toml::Table, not_priced: &mut Vec<String>) {
    if table.contains_key("mode") {
        return;
    }
    let given = |keys: &[&str]| {
        res.keys
            .iter()
            .filter_map(|(k, _)| k.text())
            .filter(|k| keys.contains(k))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let (od, prov) = (given(&KINESIS_ON_DEMAND), given(&KINESIS_PROVISIONED));
    if !od.is_empty() && prov.is_empty() {
        table.insert("mode".into(), toml::Value::String("on_demand".into()));
    } else if !od.is_empty() {
        for k in &od {
            table.remove(k);
        }
        not_priced.push(format!(
            "{} (the stream also gives provisioned keys and is priced as provisioned: infracost takes the mode from Terraform's stream_mode_details; add `mode: on_demand` to price it on demand)",
            od.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        ));
    }
}

/// A subscription's `monthly_requests` (of `request_size_kb`, default 64 as infracost's)
/// become HTTP/S deliveries billed in 64 KB chunks, as infracost prices them: infracost
/// prices only HTTP/S subscriptions, and the protocol is in Terraform, not in the file.
fn subscription_deliveries(
    table: &mut toml::Table,
    places: &mut KeyPlaces,
    notes: &mut Vec<String>,
    res: &Resource,
) -> Result<(), PricingError> {
    let num = |v: Option<toml::Value>| match v {
        Some(toml::Value::Integer(i)) => Some(i as f64),
        Some(toml::Value::Float(f)) => Some(f),
        _ => None,
    };
    let requests = table.remove("monthly_requests");
    let size = table.remove("request_size_kb");
    let (Some(requests_v), size_v) = (num(requests.clone()), num(size.clone())) else {
        // Not a number (or absent): let the reader refuse it at its line.
        if let Some(r) = requests {
            table.insert("monthly_http_deliveries".into(), r);
            if let Some(p) = places.get("monthly_requests").cloned() {
                places.insert("monthly_http_deliveries".into(), p);
            }
        }
        return Ok(());
    };
    let chunks = (size_v.unwrap_or(64.0) / 64.0).ceil().max(1.0);
    if !(requests_v * chunks).is_finite() {
        return Ok(());
    }
    table.insert(
        "monthly_http_deliveries".into(),
        toml::Value::Float(requests_v * chunks),
    );
    if let Some(p) = places.get("monthly_requests").cloned() {
        places.insert("monthly_http_deliveries".into(), p);
    }
    notes.push(format!(
        "infracost {}: monthly_requests priced as HTTP/S deliveries in 64 KB chunks (infracost prices only HTTP/S subscriptions; the protocol is in Terraform; infracost marks these keys deprecated in favour of aws_sns_topic's)",
        res.address
    ));
    Ok(())
}

/// Writes an infracost usage file (YAML) with a run's monthly quantities: each count of
/// `usage` times `month_factor` (the bill's: a month over the measured window), keyed by
/// the Terraform address `aqueduct import terraform` gives each component
/// ([`crate::interop::terraform::address_of`]). Returns the file's text and notes on what
/// it cannot carry.
///
/// infracost's keys are used where they carry the full quantity (`monthly_requests`,
/// `monthly_provisioned_put_units`, `monthly_data_ingested_gb`, ...); what infracost takes
/// from Terraform is written with aqueduct's own keys (`fifo`, `memory_mb`,
/// `architecture`, `mode`, `shards`, `retention_hours`), which infracost does not read;
/// and a Lambda function's exact GB-seconds go in `monthly_gb_seconds` beside infracost's
/// mean `request_duration_ms` (which aqueduct, as AWS, bills rounded up to the
/// millisecond, so that the mean alone would not give the run's bill to the cent).
pub fn write_usage(
    arch: &crate::model::Architecture,
    usage: &crate::services::Usage,
    month_factor: f64,
    month_hours: f64,
    header: &str,
) -> (String, Vec<String>) {
    use crate::interop::terraform::address_of;
    use crate::pricing::BYTES_PER_GB;
    use std::fmt::Write as _;
    let f = month_factor;
    let gb = |b: u64| b as f64 * f / BYTES_PER_GB;
    let mut notes = Vec::new();
    let mut y = String::new();
    for line in header.lines() {
        let _ = writeln!(y, "# {line}");
    }
    let _ = writeln!(
        y,
        "# Quantities per {month_hours}-hour month: the run's counts × {f} (the bill's month factor).\n# Keys infracost does not read (fifo, memory_mb, architecture, mode, shards,\n# retention_hours, monthly_*_deliveries, monthly_gb_seconds) are aqueduct's; infracost\n# takes those facts from Terraform.\nversion: 0.1\nresource_usage:"
    );
    let mut entry = |address: String, keys: Vec<(&str, String)>| {
        if keys.is_empty() {
            return;
        }
        let _ = writeln!(y, "  {}:", yaml_key(&address));
        for (k, v) in keys {
            let _ = writeln!(y, "    {k}: {v}");
        }
    };
    let num = |x: f64| format!("{x}");
    for q in &usage.sqs {
        let keys = vec![
            ("monthly_requests", num(q.requests as f64 * f)),
            ("fifo", q.fifo.to_string()),
        ];
        entry(address_of("aws_sqs_queue", &q.name), keys);
    }
    for t in &usage.sns {
        let mut keys = vec![
            ("monthly_requests", num(t.publish_requests as f64 * f)),
            ("fifo", t.fifo.to_string()),
        ];
        if t.fifo {
            notes.push(format!(
                "sns {}: a FIFO topic's payload GB (publishes and deliveries) have no usage key; they are not written",
                t.name
            ));
        }
        for d in &t.deliveries {
            let key: &'static str = match d.protocol.key() {
                "sqs" => "monthly_sqs_deliveries",
                "lambda" => "monthly_lambda_deliveries",
                "http" => "monthly_http_deliveries",
                "email" => "monthly_email_deliveries",
                "mobile_push" => "monthly_mobile_push_deliveries",
                "firehose" => "monthly_firehose_deliveries",
                _ => "monthly_sms_deliveries",
            };
            keys.push((key, num(d.count as f64 * f)));
        }
        if t.payload_filter_bytes > 0 {
            keys.push(("monthly_payload_filter_gb", num(gb(t.payload_filter_bytes))));
        }
        entry(address_of("aws_sns_topic", &t.name), keys);
    }
    for k in &usage.kinesis {
        use crate::services::kinesis::bill::StreamMode;
        let mut keys = Vec::new();
        match k.mode {
            StreamMode::Provisioned => {
                let shards = k.shard_hours * f / month_hours;
                if (shards - shards.round()).abs() > 1e-9 {
                    notes.push(format!(
                        "kinesis {}: its shard count varied over the run ({shards:.3} on average); written as {}, so its shard-hours do not round-trip",
                        k.name,
                        shards.round()
                    ));
                }
                keys.push(("shards", num(shards.round())));
                keys.push((
                    "monthly_provisioned_put_units",
                    num(k.put_payload_units as f64 * f),
                ));
                if let Some(s) = arch.streams.iter().find(|s| s.name == k.name) {
                    let h = s.retention.as_secs_f64() / 3600.0;
                    if k.extended_retention_shard_hours > 0.0 {
                        keys.push(("retention_hours", num(h)));
                    }
                }
                if k.long_term_retention_gb_hours > 0.0 {
                    keys.push((
                        "monthly_provisioned_long_term_retention_gb",
                        num(k.long_term_retention_gb_hours * f / month_hours),
                    ));
                }
                if k.long_term_retrieval_bytes > 0 {
                    keys.push((
                        "monthly_provisioned_long_term_retrieval_gb",
                        num(gb(k.long_term_retrieval_bytes)),
                    ));
                }
                if k.efo_consumer_shard_hours > 0.0 {
                    keys.push((
                        "monthly_provisioned_efo_consumer_hours",
                        num(k.efo_consumer_shard_hours * f),
                    ));
                }
                if k.efo_bytes > 0 {
                    keys.push(("monthly_provisioned_efo_data_out_gb", num(gb(k.efo_bytes))));
                }
            }
            mode => {
                keys.push(("mode", format!("\"{}\"", mode.key())));
                keys.push(("monthly_on_demand_data_in_gb", num(gb(k.bytes_in_billed))));
                keys.push(("monthly_on_demand_data_out_gb", num(gb(k.bytes_out))));
                if k.efo_bytes > 0 {
                    keys.push(("monthly_on_demand_efo_data_out_gb", num(gb(k.efo_bytes))));
                }
                if k.extended_retention_gb_hours > 0.0 {
                    keys.push((
                        "monthly_on_demand_extended_retention_gb",
                        num(k.extended_retention_gb_hours * f / month_hours),
                    ));
                }
                if k.long_term_retention_gb_hours > 0.0 {
                    keys.push((
                        "monthly_on_demand_long_term_retention_gb",
                        num(k.long_term_retention_gb_hours * f / month_hours),
                    ));
                }
                if mode == StreamMode::OnDemandAdvantage {
                    notes.push(format!(
                        "kinesis {}: an On-demand Advantage stream's commitment is priced from its mode, not from usage keys; check its lines",
                        k.name
                    ));
                }
            }
        }
        entry(address_of("aws_kinesis_stream", &k.name), keys);
    }
    for h in &usage.firehose {
        use crate::services::firehose::bill::FirehoseSource;
        let source = match h.source {
            FirehoseSource::DirectPut => "direct_put",
            FirehoseSource::Kinesis => "kinesis",
            FirehoseSource::VendedLogs => "vended_logs",
            FirehoseSource::Msk => "msk",
        };
        let mut keys = vec![
            ("monthly_data_ingested_gb", num(gb(h.ingest_billed_bytes))),
            ("source", format!("\"{source}\"")),
        ];
        if h.format_conversion {
            keys.push(("format_conversion", "true".into()));
        }
        if h.vpc_az_hours > 0.0 || h.dynamic_partitioning_bytes > 0 || h.jq_hours > 0.0 {
            notes.push(format!(
                "firehose {}: VPC delivery and dynamic partitioning are priced on the GB delivered, which the usage keys derive from the GB ingested; they are not written",
                h.name
            ));
        }
        entry(
            address_of("aws_kinesis_firehose_delivery_stream", &h.name),
            keys,
        );
    }
    for a in &usage.flink {
        let mut keys = Vec::new();
        match a.runs.as_slice() {
            [r] if !r.whole => {
                keys.push(("kinesis_processing_units", num(r.kpus)));
                keys.push(("hours", num(r.count * r.seconds * f / 3600.0)));
            }
            _ => notes.push(format!(
                "flink {}: its KPUs changed over the run; KPU-hours are not written (one KPU count per application)",
                a.name
            )),
        }
        if a.backup_gb_hours > 0.0 {
            keys.push((
                "durable_application_backup_gb",
                num(a.backup_gb_hours * f / month_hours),
            ));
        }
        entry(
            address_of("aws_kinesisanalyticsv2_application", &a.name),
            keys,
        );
    }
    for l in &usage.lambda {
        use crate::services::lambda::bill::LambdaArch;
        let memory = arch
            .lambdas
            .iter()
            .find(|s| s.name == l.name)
            .map(|s| s.memory_mb)
            .unwrap_or(128);
        // Billed requests: large asynchronous events' extra requests included (infracost
        // bills `monthly_requests` as they are).
        let requests = (l.requests + l.extra_requests) as f64 * f;
        let gbs = l.gb_seconds * f;
        let mut keys = vec![("monthly_requests", num(requests))];
        if requests > 0.0 {
            keys.push((
                "request_duration_ms",
                num(gbs * 1000.0 * 1024.0 / memory as f64 / requests),
            ));
        }
        keys.push(("memory_mb", num(memory as f64)));
        if l.architecture == LambdaArch::Arm64 {
            keys.push(("architecture", "\"arm64\"".into()));
        }
        keys.push(("monthly_gb_seconds", num(gbs)));
        entry(address_of("aws_lambda_function", &l.name), keys);
    }
    if !usage.video.is_empty() {
        notes.push(
            "Kinesis Video Streams have no infracost resource type; their usage is not written"
                .into(),
        );
    }
    if !usage.s3.is_empty() {
        notes.push("S3 objects and storage other services write are not written (aqueduct prices them with the service that writes them, infracost with aws_s3_bucket)".into());
    }
    (y, notes)
}

/// An address as a YAML key: quoted when it holds characters YAML would read otherwise.
fn yaml_key(address: &str) -> String {
    if address
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        address.to_string()
    } else {
        format!("\"{}\"", address.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
