//! The value of data: `value = { half_life = "10m" }`, `{ linear_to_zero = "1h" }` or
//! `{ deadline = "5s" }` on a producer, or at the top of the model as every producer's
//! default.
//!
//! Records held as runs (a Kinesis stream, a Firehose delivery stream) do not remember
//! their producer, so every producer whose records reach one such stream must declare the
//! same value function; `values` refuses a model where two differ, naming the stream.

use crate::input::error::{FieldPath, Invalid, VResult};
use crate::input::units::Dur;
use crate::metrics::ValueFn;
use crate::producers::{ProducerSpec, Target};
use crate::services::firehose::{FirehoseInput, FirehoseSpec};
use crate::services::sns::{Endpoint, SubscriptionSpec};
use serde::Deserialize;

/// `value = { … }` as written: exactly one of the three keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValue {
    /// Exponential decay: the value halves every `half_life`.
    #[serde(default)]
    pub half_life: Option<Dur>,
    /// Linear decay to zero at this age.
    #[serde(default)]
    pub linear_to_zero: Option<Dur>,
    /// A step: full value up to this age, none after.
    #[serde(default)]
    pub deadline: Option<Dur>,
}

/// The value functions of a model's records.
#[derive(Clone, Debug, Default)]
pub struct Values {
    /// Of each producer's records (None: the data does not lose value; no value reported).
    pub producers: Vec<Option<ValueFn>>,
    /// Of the records of each Kinesis data stream (its producers').
    pub streams: Vec<Option<ValueFn>>,
    /// Of the records of each Firehose delivery stream (its producers', its Kinesis
    /// source's, its SNS subscriptions' topics').
    pub firehoses: Vec<Option<ValueFn>>,
}

impl Values {
    /// True when some producer declares a value function.
    pub fn any(&self) -> bool {
        self.producers.iter().any(Option::is_some)
    }
}

/// Validates one `value` table at `path`.
pub(crate) fn value_fn(raw: &RawValue, path: &FieldPath) -> VResult<ValueFn> {
    let given: Vec<(&str, Dur)> = [
        ("half_life", raw.half_life),
        ("linear_to_zero", raw.linear_to_zero),
        ("deadline", raw.deadline),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let (key, d) = match given.as_slice() {
        [one] => *one,
        [] => {
            return Err(Invalid::at(
                path,
                "give one of half_life, linear_to_zero or deadline, such as value = { half_life = \"10m\" }",
            ))
        }
        [_, (second, _), ..] => {
            return Err(Invalid::at(
                &path.field(second),
                "give only one of half_life, linear_to_zero or deadline",
            ))
        }
    };
    let s = d.0.as_secs_f64();
    if key != "deadline" && d.0.is_zero() {
        return Err(Invalid::at(
            &path.field(key),
            format!("{key} must be longer than 0s (data whose value is gone at creation has none to deliver)"),
        ));
    }
    Ok(match key {
        "half_life" => ValueFn::HalfLife { s },
        "linear_to_zero" => ValueFn::LinearToZero { s },
        _ => ValueFn::Deadline { s },
    })
}

/// The value functions of every producer (its own `value`, else the model's), and of the
/// records of each Kinesis and Firehose stream.
pub(crate) fn values(
    default: Option<&RawValue>,
    raw: &[Option<&RawValue>],
    producers: &[ProducerSpec],
    stream_names: &[&str],
    firehoses: &[FirehoseSpec],
    subscriptions: &[SubscriptionSpec],
) -> VResult<Values> {
    let default = default
        .map(|v| value_fn(v, &FieldPath::top("value")))
        .transpose()?;
    let mut per = Vec::with_capacity(producers.len());
    for (i, (p, r)) in producers.iter().zip(raw).enumerate() {
        let path = FieldPath::item("producer", i, &p.name).field("value");
        per.push(match r {
            Some(r) => Some(value_fn(r, &path)?),
            None => default,
        });
    }
    // Producers reaching a run-holding stream must agree.
    let agree = |what: &str, name: &str, reach: &dyn Fn(&Target) -> bool| {
        let mut found: Option<(usize, Option<ValueFn>)> = None;
        for (i, p) in producers.iter().enumerate() {
            if !reach(&p.target) {
                continue;
            }
            match found {
                None => found = Some((i, per[i])),
                Some((j, v)) if v != per[i] => {
                    return Err(Invalid::at(
                        &FieldPath::item("producer", i, &p.name).field("value"),
                        format!(
                            "producers \"{}\" and \"{}\" both reach {what} \"{name}\", which holds records as runs without their producer: give them the same value function",
                            producers[j].name, p.name
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(found.and_then(|(_, v)| v))
    };
    let mut streams = Vec::with_capacity(stream_names.len());
    for (s, name) in stream_names.iter().enumerate() {
        streams.push(agree("Kinesis stream", name, &|t| {
            *t == Target::Stream(s as u32)
        })?);
    }
    let mut fh = Vec::with_capacity(firehoses.len());
    for (f, spec) in firehoses.iter().enumerate() {
        let topics: Vec<u32> = subscriptions
            .iter()
            .filter(|s| s.endpoint == Endpoint::Firehose(f as u32))
            .map(|s| s.topic)
            .collect();
        let input = spec.input;
        fh.push(agree("delivery stream", &spec.name, &|t| match *t {
            Target::Firehose(x) => x == f as u32,
            Target::Stream(s) => input == FirehoseInput::Kinesis(s),
            Target::Topic(tp) => topics.contains(&tp),
            Target::Queue(_) => false,
        })?);
    }
    Ok(Values {
        producers: per,
        streams,
        firehoses: fh,
    })
}
