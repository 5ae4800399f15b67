//! Input-file errors: every one names the file, the line and the field.

use std::fmt;

/// One step of a path into the model document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A key of a table.
    Key(String),
    /// An element of an array (of tables).
    Index(usize),
}

/// A path to a field of the model file, such as `queue[1].visibility_timeout`, with the
/// component's name (when known) for messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath {
    /// The steps.
    pub segs: Vec<Seg>,
    /// Name of the component the path is inside, for messages.
    pub name: Option<String>,
}

impl FieldPath {
    /// The top-level field `key`.
    pub fn top(key: &str) -> Self {
        FieldPath {
            segs: vec![Seg::Key(key.into())],
            name: None,
        }
    }

    /// Element `index` (named `name`) of the array of tables `table` (`[[queue]]`).
    pub(crate) fn item(table: &str, index: usize, name: &str) -> Self {
        FieldPath {
            segs: vec![Seg::Key(table.into()), Seg::Index(index)],
            name: Some(name.to_string()),
        }
    }

    /// This path extended by `key`.
    pub(crate) fn field(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.segs.push(Seg::Key(key.into()));
        p
    }

    /// This path extended by an array index.
    pub(crate) fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.segs.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for FieldPath {
    /// `[[queue]] "billing", field `dead_letter.max_receive_count`` or `field `duration``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest: &[Seg] = &self.segs;
        if let (Some(name), [Seg::Key(table), Seg::Index(_), tail @ ..]) = (&self.name, rest) {
            write!(f, "[[{table}]] \"{name}\"")?;
            if tail.is_empty() {
                return Ok(());
            }
            f.write_str(", ")?;
            rest = tail;
        }
        f.write_str("field `")?;
        for (i, seg) in rest.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        f.write_str("`")
    }
}

/// A problem with an input file — a model file, an experiment file, a price table or a
/// usage file — placed at its line and field. Shown as `file:line:col: field: message`
/// (the parts that are known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    /// The file (or `bundled:NAME`).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field, such as `[[queue]] "billing", field `visibility_timeout``.
    pub field: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl std::error::Error for ModelError {}

impl fmt::Display for ModelError {
    /// `file:line:col: field: message`, leaving out the parts that are not known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

/// A validation failure before it is placed in a file: the path and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// Where.
    pub path: FieldPath,
    /// What is wrong.
    pub message: String,
}

impl Invalid {
    /// A failure at `path`.
    pub(crate) fn at(path: &FieldPath, message: impl Into<String>) -> Self {
        Invalid {
            path: path.clone(),
            message: message.into(),
        }
    }
}

/// Result of a validation step.
pub(crate) type VResult<T> = Result<T, Invalid>;
