//! A YAML document as a tree whose nodes know their line and column, for messages that
//! name `file:line` (infracost's usage files are YAML).
//!
//! Built from the marked events of `yaml-rust2`'s parser: one document, mappings with
//! scalar keys, sequences and scalars. Anchors and aliases are refused (a usage file has
//! no use for them, and a refused alias cannot expand into a huge tree).

use crate::input::ModelError;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A node of the document with where it starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    /// What it holds.
    pub(crate) value: Value,
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based column.
    pub(crate) column: usize,
}

/// What a node holds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// A scalar, with whether it was written plain (unquoted, so that `12` is a number).
    Scalar(String, bool),
    /// A mapping, in the file's order: `(key node, value node)`.
    Map(Vec<(Node, Node)>),
    /// A sequence.
    Seq(Vec<Node>),
}

impl Node {
    /// The text of a scalar node.
    pub(crate) fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// The node as a TOML value: plain scalars become booleans, integers or floats where
    /// they read as such (`1_000` included, as YAML 1.1 and infracost's example write
    /// them); `null`, `~` and an empty value become `None` (the key is not given).
    pub(crate) fn to_toml(&self) -> Option<toml::Value> {
        match &self.value {
            Value::Scalar(s, true) => plain_scalar(s),
            Value::Scalar(s, false) => Some(toml::Value::String(s.clone())),
            Value::Seq(items) => Some(toml::Value::Array(
                items.iter().filter_map(Node::to_toml).collect(),
            )),
            Value::Map(entries) => {
                let mut t = toml::Table::new();
                for (k, v) in entries {
                    if let (Some(key), Some(val)) = (k.text(), v.to_toml()) {
                        t.insert(key.to_string(), val);
                    }
                }
                Some(toml::Value::Table(t))
            }
        }
    }

    /// A short name of the node's type for messages.
    pub(crate) fn type_str(&self) -> &'static str {
        match &self.value {
            Value::Scalar(..) => "a scalar",
            Value::Map(_) => "a mapping",
            Value::Seq(_) => "a sequence",
        }
    }
}

/// A plain scalar's value (YAML 1.2 core schema, with `_` digit separators).
fn plain_scalar(s: &str) -> Option<toml::Value> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return None,
        "true" | "True" | "TRUE" => return Some(toml::Value::Boolean(true)),
        "false" | "False" | "FALSE" => return Some(toml::Value::Boolean(false)),
        _ => {}
    }
    let digits: String = s.chars().filter(|c| *c != '_').collect();
    let numeric = digits
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
    if numeric {
        if let Ok(i) = digits.parse::<i64>() {
            return Some(toml::Value::Integer(i));
        }
        if let Ok(f) = digits.parse::<f64>() {
            return Some(toml::Value::Float(f));
        }
    }
    match s {
        ".inf" | "+.inf" | ".Inf" => Some(toml::Value::Float(f64::INFINITY)),
        "-.inf" | "-.Inf" => Some(toml::Value::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => Some(toml::Value::Float(f64::NAN)),
        _ => Some(toml::Value::String(s.to_string())),
    }
}

/// Collects the parser's events with their places.
#[derive(Default)]
struct Events(Vec<(Event, Marker)>);

impl MarkedEventReceiver for Events {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.0.push((ev, mark));
    }
}

/// Parses the first document of `src`; `file` names it in messages. An empty document
/// is an empty mapping.
pub(crate) fn parse(src: &str, file: &str) -> Result<Node, ModelError> {
    let mut events = Events::default();
    Parser::new_from_str(src)
        .load(&mut events, false)
        .map_err(|e| ModelError {
            file: file.to_string(),
            line: Some(e.marker().line()),
            column: Some(e.marker().col() + 1),
            field: String::new(),
            message: format!("not valid YAML: {}", e.info()),
        })?;
    let mut it = events.0.into_iter().peekable();
    // StreamStart, DocumentStart, node, DocumentEnd, StreamEnd.
    while let Some((ev, _)) = it.peek() {
        match ev {
            Event::StreamStart | Event::DocumentStart | Event::Nothing => {
                it.next();
            }
            _ => break,
        }
    }
    match it.peek() {
        None | Some((Event::StreamEnd, _)) | Some((Event::DocumentEnd, _)) => Ok(Node {
            value: Value::Map(Vec::new()),
            line: 1,
            column: 1,
        }),
        _ => build(&mut it, file, 0),
    }
}

/// How deep mappings and sequences may nest (a usage file needs four levels; a deeper
/// document is refused rather than risking the stack).
const MAX_DEPTH: usize = 64;

/// Builds the node that starts at the next event.
fn build(
    it: &mut std::iter::Peekable<std::vec::IntoIter<(Event, Marker)>>,
    file: &str,
    depth: usize,
) -> Result<Node, ModelError> {
    let err = |m: &Marker, message: &str| ModelError {
        file: file.to_string(),
        line: Some(m.line()),
        column: Some(m.col() + 1),
        field: String::new(),
        message: message.to_string(),
    };
    let Some((ev, mark)) = it.next() else {
        return Err(ModelError {
            file: file.to_string(),
            line: None,
            column: None,
            field: String::new(),
            message: "the YAML document ends early".into(),
        });
    };
    let (line, column) = (mark.line(), mark.col() + 1);
    if depth > MAX_DEPTH {
        return Err(err(
            &mark,
            &format!("the YAML nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    let value = match ev {
        Event::Scalar(s, style, anchor, _) => {
            if anchor != 0 {
                return Err(err(&mark, "YAML anchors (&name) are not supported here"));
            }
            Value::Scalar(s, style == TScalarStyle::Plain)
        }
        Event::Alias(_) => {
            return Err(err(&mark, "YAML aliases (*name) are not supported here"));
        }
        Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) if anchor != 0 => {
            return Err(err(&mark, "YAML anchors (&name) are not supported here"));
        }
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            while !matches!(it.peek(), Some((Event::SequenceEnd, _)) | None) {
                items.push(build(it, file, depth + 1)?);
            }
            it.next();
            Value::Seq(items)
        }
        Event::MappingStart(..) => {
            let mut entries = Vec::new();
            while !matches!(it.peek(), Some((Event::MappingEnd, _)) | None) {
                let key = build(it, file, depth + 1)?;
                if key.text().is_none() {
                    return Err(err(&mark, "a mapping key must be a plain name"));
                }
                let value = build(it, file, depth + 1)?;
                entries.push((key, value));
            }
            it.next();
            Value::Map(entries)
        }
        _ => return Err(err(&mark, "unexpected YAML structure")),
    };
    Ok(Node {
        value,
        line,
        column,
    })
}
