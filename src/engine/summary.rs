//! The summary of a run: the JSON document of DESIGN.md and the table people read.

use crate::metrics::{Accounting, ComponentReport};
use crate::pricing::Bill;
use crate::text::{fit_table, fmt_secs, TEXT_WIDTH};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The summary of one run (the `--json` document).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunSummary {
    /// Version of aqueduct that produced it.
    pub aqueduct_version: String,
    /// Model name.
    pub model: String,
    /// Seed of the run.
    pub seed: u64,
    /// Simulated time after the warm-up, s (the measured window).
    pub simulated_s: f64,
    /// Warm-up, s (statistics discard it).
    pub warmup_s: f64,
    /// Events processed by the kernel (whole run).
    pub events: u64,
    /// Wall-clock time of the run, s (the only field that varies between identical runs).
    pub wall_s: f64,
    /// One report per component, in model order: producers, topics, queues, streams,
    /// consumers, lambdas.
    pub components: Vec<ComponentReport>,
    /// Where every message ended (whole run, warm-up included).
    pub accounting: Accounting,
    /// The monthly bill extrapolated from the measured window.
    pub cost: Bill,
    /// Time to insight and value delivered over every end point (absent: the model has no
    /// component where processing ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insight: Option<InsightSummary>,
    /// Things the user should know about this run.
    pub warnings: Vec<String>,
    /// For CI: true unless the run failed a check (its message accounting does not
    /// balance, or `run --fail-above` found the bill over budget).
    #[serde(default = "yes")]
    pub ok: bool,
    /// Where the run stopped, simulated seconds from its start, when it outgrew its memory
    /// budget (absent for a run that reached its end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_s: Option<f64>,
    /// Every number of the run keyed by the paths experiments use
    /// (`queue.orders.backlog_max`, `consumer.w.latency_s.p99`, `accounting.lost`,
    /// `cost.total`): filled by `run --json` and `run --out` (see
    /// [`RunSummary::flat_metrics`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": "^[a-z_]+\\..+$" }))]
    pub metrics: BTreeMap<String, f64>,
}

fn yes() -> bool {
    true
}

/// What the run's end points delivered together (measured window).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InsightSummary {
    /// Records whose processing ended at an end point (a record ending at two end points
    /// counts twice).
    pub records: u64,
    /// Time to insight (creation → result), s: `{count, min, mean, p50, p90, p99, p999,
    /// max}`.
    #[schemars(with = "crate::metrics::latency::LatencySummary")]
    pub time_to_insight_s: Value,
    /// Mean value of a record at the end of its processing (1 = as fresh as created;
    /// None when no producer declares a value function).
    pub value_delivered: Option<f64>,
    /// Σ value delivered, scaled to the bill's month.
    pub value_per_month: Option<f64>,
    /// The bill's total divided by the value delivered per month: USD per unit of value
    /// (one fresh record's worth).
    pub usd_per_value: Option<f64>,
}

impl RunSummary {
    /// The component of `kind` called `name`.
    pub fn component(&self, kind: &str, name: &str) -> Option<&ComponentReport> {
        self.components
            .iter()
            .find(|c| c.kind == kind && c.name == name)
    }

    /// Every number of the summary keyed by its metric path, as [`RunSummary::metric`]
    /// reads it: `KIND.NAME.FIELD` (and `KIND.NAME.FIELD.STAT` for latency and other
    /// summaries) for each component, `accounting.*`, `cost.total`, `cost.services.*`,
    /// `cost.month_factor` and `insight.*`.
    pub fn flat_metrics(&self) -> BTreeMap<String, f64> {
        fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, f64>) {
            match v {
                Value::Number(n) => {
                    if let Some(x) = n.as_f64() {
                        out.insert(prefix.to_string(), x);
                    }
                }
                Value::Object(m) => {
                    for (k, v) in m {
                        walk(&format!("{prefix}.{k}"), v, out);
                    }
                }
                _ => {}
            }
        }
        let mut out = BTreeMap::new();
        for c in &self.components {
            for (k, v) in &c.fields {
                walk(&format!("{}.{}.{k}", c.kind, c.name), v, &mut out);
            }
        }
        if let Ok(a) = serde_json::to_value(self.accounting) {
            walk("accounting", &a, &mut out);
        }
        out.insert("cost.total".into(), self.cost.total);
        out.insert("cost.month_factor".into(), self.cost.month_factor);
        for (service, usd) in self.cost.services.pairs() {
            out.insert(format!("cost.services.{service}"), usd);
        }
        if let Some(i) = &self.insight {
            if let Ok(v) = serde_json::to_value(i) {
                walk("insight", &v, &mut out);
            }
        }
        out
    }

    /// A metric by path: `KIND.NAME.FIELD[.SUB]` (for example
    /// `consumer.billing-workers.latency_s.p99`), `cost.total`, `cost.services.sqs`,
    /// `accounting.expired`, or a top-level number such as `events`.
    ///
    /// Component names may contain dots: the longest name that matches is used.
    pub fn metric(&self, path: &str) -> Option<f64> {
        let json = serde_json::to_value(self).ok()?;
        if let Some(rest) = path.strip_prefix("cost.") {
            return dig(json.get("cost")?, rest);
        }
        if let Some(rest) = path.strip_prefix("accounting.") {
            return dig(json.get("accounting")?, rest);
        }
        if let Some(rest) = path.strip_prefix("insight.") {
            return dig(json.get("insight")?, rest);
        }
        if INSIGHT_FIELDS
            .iter()
            .any(|f| path == *f || path.starts_with(&format!("{f}.")))
        {
            return dig(json.get("insight")?, path);
        }
        let (kind, rest) = path.split_once('.')?;
        let mut best: Option<(usize, &ComponentReport)> = None;
        for c in self.components.iter().filter(|c| c.kind == kind) {
            if rest.len() > c.name.len()
                && rest.starts_with(c.name.as_str())
                && rest.as_bytes()[c.name.len()] == b'.'
                && best.is_none_or(|(l, _)| c.name.len() > l)
            {
                best = Some((c.name.len(), c));
            }
        }
        match best {
            Some((l, c)) => c.get(&rest[l + 1..]),
            None => json.get(path).and_then(Value::as_f64),
        }
    }

    /// Every numeric metric path of this summary, in order (for CSV columns and for
    /// suggesting the nearest valid path).
    pub(crate) fn metric_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.components {
            for (k, v) in &c.fields {
                collect_paths(&format!("{}.{}.{}", c.kind, c.name, k), v, &mut out);
            }
        }
        if let Ok(v) = serde_json::to_value(self.accounting) {
            collect_paths("accounting", &v, &mut out);
        }
        if let Some(i) = &self.insight {
            if let Ok(v) = serde_json::to_value(i) {
                collect_paths("insight", &v, &mut out);
            }
        }
        out.push("cost.total".into());
        if let Ok(Value::Object(m)) = serde_json::to_value(&self.cost.services) {
            for k in m.keys() {
                out.push(format!("cost.services.{k}"));
            }
        }
        out
    }

    /// The human-readable report, its tables fitting 100 columns.
    pub fn to_table(&self) -> String {
        self.to_table_width(TEXT_WIDTH)
    }

    /// The human-readable report, its tables fitting `width` columns (a table wider than
    /// that is turned: a row per field, a column per component). A latency shows as two
    /// columns, p50 and p99; the `messages:` line counts the whole run, warm-up included,
    /// and says so, where the tables count the measured window.
    pub fn to_table_width(&self, width: usize) -> String {
        let mut s = crate::text::wrap(
            &format!(
                "aqueduct {} · model \"{}\" · seed {} · {} simulated after {} warm-up · {} events in {:.2} s",
                self.aqueduct_version,
                self.model,
                self.seed,
                human_secs(self.simulated_s),
                human_secs(self.warmup_s),
                self.events,
                self.wall_s
            ),
            width,
            2,
        );
        let mut kinds: Vec<&str> = Vec::new();
        for c in &self.components {
            if !kinds.contains(&c.kind.as_str()) {
                kinds.push(&c.kind);
            }
        }
        for kind in kinds {
            let comps: Vec<&ComponentReport> =
                self.components.iter().filter(|c| c.kind == kind).collect();
            let mut cols: Vec<&'static str> = Vec::new();
            for c in &comps {
                for h in &c.headline {
                    if !cols.contains(h) {
                        cols.push(h);
                    }
                }
            }
            // A latency summary is two columns, p50 and p99: one number per column.
            let latency = |col: &str| {
                comps
                    .iter()
                    .any(|c| matches!(c.fields.get(col), Some(Value::Object(_))))
            };
            let mut head = vec![kind.to_string()];
            for col in &cols {
                if latency(col) {
                    head.push(format!("{col} p50"));
                    head.push(format!("{col} p99"));
                } else {
                    head.push(col.to_string());
                }
            }
            let mut rows: Vec<Vec<String>> = vec![head];
            for c in &comps {
                let mut row = vec![c.name.clone()];
                for col in &cols {
                    let v = c.fields.get(*col);
                    if latency(col) {
                        for p in ["p50", "p99"] {
                            row.push(match v.and_then(|v| v.get(p)).and_then(Value::as_f64) {
                                Some(x) => fmt_secs(x),
                                None => "-".into(),
                            });
                        }
                    } else {
                        row.push(match v {
                            Some(v) => fmt_cell(col, v),
                            None => "-".into(),
                        });
                    }
                }
                rows.push(row);
            }
            s.push('\n');
            s.push_str(&fit_table(&rows, width));
        }
        let a = &self.accounting;
        let mut line = String::new();
        let _ = write!(
            line,
            "messages (whole run, warm-up included): {} produced{} → {} processed, {} in flight, {} waiting, {} in transit, {} dead-lettered, {} expired, {} filtered out, {} dropped, {} deduplicated, {} lost{}{}{}",
            a.produced,
            if a.copies > 0 { format!(" + {} copies", a.copies) } else { String::new() },
            a.processed,
            a.in_flight,
            a.waiting,
            a.in_transit,
            a.dead_lettered,
            a.expired,
            a.filtered_out,
            a.dropped,
            a.deduplicated,
            a.lost,
            if a.backed_up > 0 { format!(", {} backed up", a.backed_up) } else { String::new() },
            if a.denied > 0 { format!(", {} denied", a.denied) } else { String::new() },
            if a.balanced() { "" } else { "  (UNBALANCED)" }
        );
        s.push('\n');
        s.push_str(&crate::text::wrap(&line, width, 2));
        if let Some(i) = &self.insight {
            let t = |k: &str| {
                i.time_to_insight_s
                    .get(k)
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
            };
            let mut line = format!(
                "insight: {} records ended · time to insight p50 {} / p99 {} / max {}",
                i.records,
                fmt_secs(t("p50")),
                fmt_secs(t("p99")),
                fmt_secs(t("max"))
            );
            if let Some(v) = i.value_delivered {
                let _ = write!(line, " · value delivered {v:.4} per record");
            }
            s.push('\n');
            s.push_str(&crate::text::wrap(&line, width, 2));
        }
        s.push('\n');
        s.push_str(&self.cost.to_table_width(width));
        if let Some(i) = &self.insight {
            if let (Some(v), Some(u)) = (i.value_per_month, i.usd_per_value) {
                let _ = writeln!(
                    s,
                    "per unit of value delivered: ${u:.3e} ({v:.4e} units of value per month)"
                );
            }
        }
        for w in &self.warnings {
            s.push_str(&crate::text::wrap(&format!("warning: {w}"), width, 2));
        }
        s
    }
}

/// The insight summary's fields, which are metric paths without the `insight.` prefix
/// too (`time_to_insight_s.p99`).
const INSIGHT_FIELDS: [&str; 4] = [
    "time_to_insight_s",
    "value_delivered",
    "value_per_month",
    "usd_per_value",
];

fn dig(v: &Value, path: &str) -> Option<f64> {
    let mut v = v;
    for p in path.split('.') {
        v = v.get(p)?;
    }
    v.as_f64()
}

fn collect_paths(prefix: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Number(_) => out.push(prefix.to_string()),
        Value::Object(m) => {
            for (k, v) in m {
                collect_paths(&format!("{prefix}.{k}"), v, out);
            }
        }
        _ => {}
    }
}

fn human_secs(s: f64) -> String {
    if s >= 86_400.0 && (s / 86_400.0).fract() == 0.0 {
        format!("{}d", s / 86_400.0)
    } else if s >= 3600.0 && (s / 3600.0).fract() == 0.0 {
        format!("{}h", s / 3600.0)
    } else if s >= 60.0 && (s / 60.0).fract() == 0.0 {
        format!("{}m", s / 60.0)
    } else {
        format!("{s}s")
    }
}

fn fmt_cell(col: &str, v: &Value) -> String {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_u64() {
                return i.to_string();
            }
            let x = n.as_f64().unwrap_or(0.0);
            if col.ends_with("_s") && !col.ends_with("per_s") {
                fmt_secs(x)
            } else if col == "utilization" {
                format!("{:.1}%", 100.0 * x)
            } else if x.abs() >= 100.0 {
                format!("{x:.0}")
            } else {
                format!("{x:.2}")
            }
        }
        Value::Object(m) => {
            // A latency summary: show p50 / p99.
            let p50 = m.get("p50").and_then(Value::as_f64).unwrap_or(0.0);
            let p99 = m.get("p99").and_then(Value::as_f64).unwrap_or(0.0);
            format!("{} / {}", fmt_secs(p50), fmt_secs(p99))
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
