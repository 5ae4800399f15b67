//! What components report: their counters ([`ComponentReport`]) and where every message
//! ended ([`Accounting`]).

use crate::metrics::latency::LatencyHist;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What one component reports: its name, kind and counters. Serialised flat, as
/// `{ "name", "kind", ...fields }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ComponentReport {
    /// Component name from the model.
    pub name: String,
    /// Kind: `producer`, `queue`, `consumer`, `topic`, `stream`, `lambda`, ...
    pub kind: String,
    /// Counters, gauges and latency summaries, in a stable order.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
    /// Fields shown in the human-readable table, in order.
    #[serde(skip)]
    pub headline: Vec<&'static str>,
    /// The distribution of each latency field, `(field, [(seconds, fraction at or
    /// below)])`, for the charts of `run --out` (not serialised: the JSON keeps the
    /// percentiles).
    #[serde(skip)]
    pub distributions: Vec<(String, Vec<(f64, f64)>)>,
}

impl ComponentReport {
    /// An empty report.
    pub(crate) fn new(kind: &str, name: &str) -> Self {
        ComponentReport {
            name: name.to_string(),
            kind: kind.to_string(),
            fields: Map::new(),
            headline: Vec::new(),
            distributions: Vec::new(),
        }
    }

    /// Adds an integer counter.
    pub(crate) fn count(&mut self, key: &'static str, v: u64) -> &mut Self {
        self.fields.insert(key.into(), Value::from(v));
        self
    }

    /// Adds a real-valued metric (non-finite values are written as null).
    pub(crate) fn real(&mut self, key: &'static str, v: f64) -> &mut Self {
        self.fields.insert(
            key.into(),
            serde_json::Number::from_f64(v)
                .map(Value::Number)
                .unwrap_or(Value::Null),
        );
        self
    }

    /// Adds a text field.
    pub(crate) fn text(&mut self, key: &'static str, v: &str) -> &mut Self {
        self.fields.insert(key.into(), Value::from(v));
        self
    }

    /// Adds a latency summary (`{count, mean, p50, p90, p99, p999, max}` in seconds).
    pub(crate) fn latency(&mut self, key: &'static str, h: &LatencyHist) -> &mut Self {
        self.fields.insert(
            key.into(),
            serde_json::to_value(h.summary()).unwrap_or(Value::Null),
        );
        if h.count() > 0 {
            self.distributions.push((key.to_string(), h.cdf()));
        }
        self
    }

    /// Adds an arbitrary JSON value.
    pub(crate) fn value(&mut self, key: &'static str, v: Value) -> &mut Self {
        self.fields.insert(key.into(), v);
        self
    }

    /// Sets the fields shown in the human-readable table.
    pub(crate) fn headline(&mut self, keys: &[&'static str]) -> &mut Self {
        self.headline = keys.to_vec();
        self
    }

    /// A numeric field, looked up by a dotted path below the component (`latency_s.p99`).
    pub fn get(&self, path: &str) -> Option<f64> {
        let mut parts = path.split('.');
        let mut v = self.fields.get(parts.next()?)?;
        for p in parts {
            v = v.get(p)?;
        }
        v.as_f64()
    }
}

/// Where every message is at the end of the run. `produced + copies` equals the sum of
/// all the other counts; [`Accounting::balanced`] checks it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Accounting {
    /// Messages created by producers (each entry of a batch counts).
    pub produced: u64,
    /// Extra copies created inside the architecture (fan-out, at-least-once duplicates
    /// handed to separate destinations).
    pub copies: u64,
    /// Processed and deleted by a consumer.
    pub processed: u64,
    /// Received by a consumer and not yet deleted (includes messages being processed).
    pub in_flight: u64,
    /// Stored and waiting to be received (visible or delayed).
    pub waiting: u64,
    /// Between components when the run ended (an API call's network leg, a retry
    /// back-off, a delivery attempt).
    pub in_transit: u64,
    /// Waiting in a dead-letter queue.
    pub dead_lettered: u64,
    /// Removed by retention before anyone processed them.
    pub expired: u64,
    /// Discarded by a subscription filter policy (matched no subscription).
    pub filtered_out: u64,
    /// Given up by a producer after its retries.
    pub dropped: u64,
    /// Accepted but not stored because they repeated a deduplication id.
    pub deduplicated: u64,
    /// Discarded after delivery retries ran out, with no dead-letter queue.
    pub lost: u64,
    /// Written to an S3 backup or error output instead of the destination (Firehose:
    /// delivery retries ran out, the transformation failed, or over the active-partition
    /// quota).
    #[serde(default)]
    pub backed_up: u64,
    /// Refused by a topic or queue policy (AuthorizationError, not retried).
    #[serde(default)]
    pub denied: u64,
}

impl Accounting {
    /// Sum of the end states.
    pub(crate) fn accounted(&self) -> u64 {
        self.processed
            + self.in_flight
            + self.waiting
            + self.in_transit
            + self.dead_lettered
            + self.expired
            + self.filtered_out
            + self.dropped
            + self.deduplicated
            + self.lost
            + self.backed_up
            + self.denied
    }

    /// True when every message created is in exactly one end state.
    pub fn balanced(&self) -> bool {
        self.produced + self.copies == self.accounted()
    }
}
