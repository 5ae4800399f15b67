//! The JSON Schema of a component report: its fields are a map that each component fills
//! (see [`ComponentReport`]), so its schema is written here, where every service's report
//! is in view, rather than derived.

use crate::metrics::latency::LatencySummary;
use crate::metrics::ComponentReport;
use crate::services::kinesis::stream::ShardDetail;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use std::borrow::Cow;

/// The kinds of component that write a report (the `kind` of [`ComponentReport`]).
const KINDS: [&str; 12] = [
    "producer",
    "topic",
    "subscription",
    "queue",
    "stream",
    "consumer",
    "lambda",
    "firehose",
    "flink",
    "video_stream",
    "batch_job",
    "fault",
];

/// The fields that hold a latency summary wherever they appear (`ComponentReport::latency`).
const LATENCY_FIELDS: [&str; 10] = [
    "latency_s",
    "wait_s",
    "duration_s",
    "freshness_s",
    "time_to_insight_s",
    "result_latency_s",
    "playback_latency_s",
    "ack_buffering_s",
    "ack_received_s",
    "ack_persisted_s",
];

impl JsonSchema for ComponentReport {
    fn schema_name() -> Cow<'static, str> {
        "ComponentReport".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let latency = g.subschema_for::<LatencySummary>();
        let shard = g.subschema_for::<ShardDetail>();
        let named_numbers = json_schema!({
            "type": "object",
            "description": "Named numbers: deliveries per protocol (a topic's `deliveries_by_protocol`), a Flink application's `cpu_utilization` `{mean, max_subtask, max_minute_percent}`, a video stream's `bytes_out` per output or `stored_gb` `{mean, max}`.",
            "additionalProperties": { "type": ["number", "null"] }
        });
        let mut properties = serde_json::Map::new();
        properties.insert(
            "name".into(),
            json_schema!({"type": "string", "description": "Component name from the model."})
                .into(),
        );
        properties.insert(
            "kind".into(),
            json_schema!({
                "type": "string",
                "enum": KINDS,
                "description": "Kind of component (a stream's consumers and SQS consumers are both `consumer`; a fault's own kind is its `fault_kind`)."
            })
            .into(),
        );
        for f in LATENCY_FIELDS {
            properties.insert(f.into(), latency.clone().into());
        }
        properties.insert(
            "shard_detail".into(),
            json_schema!({
                "type": "array",
                "description": "A stream's shards, open and closed, in creation order (streams of at most 256 shards; empty above).",
                "items": shard
            })
            .into(),
        );
        json_schema!({
            "type": "object",
            "description": "What one component reports, flat: its `name` and `kind`, then its counters, gauges and latency summaries, in a stable order that depends on its kind. Counters are integers; measures are numbers (null when not a number); settings are text; a field ending in `_s` is seconds.",
            "properties": properties,
            "required": ["name", "kind"],
            "additionalProperties": {
                "anyOf": [
                    { "type": ["number", "null"], "description": "A counter (an integer) or a measure." },
                    { "type": "string", "description": "A setting shown as text (a queue's `type`, a stream's `mode`)." },
                    latency,
                    named_numbers
                ]
            }
        })
    }
}
