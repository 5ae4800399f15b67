//! Reading what people write: quantities with units, the position of a field in a TOML
//! source (for error messages), field paths, `--set` overrides and "did you mean"
//! suggestions. Used by model files, experiment files, usage files and price tables alike.

pub mod error;
pub(crate) mod locate;
pub mod overrides;
pub mod units;

pub use error::{FieldPath, ModelError};

/// The largest input file aqueduct reads (model, experiment, usage file, price table,
/// trace, CSV, sweep manifest): 256 MiB. A larger file, or an endless one such as
/// `/dev/zero`, is refused instead of being read until memory runs out.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// Reads the file at `path`, refusing one larger than [`MAX_INPUT_BYTES`] (an error of
/// kind `InvalidData` that says so).
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {} MiB, the most aqueduct reads from one input file",
                MAX_INPUT_BYTES >> 20
            ),
        ));
    }
    Ok(bytes)
}

/// Reads the UTF-8 text file at `path` (at most [`MAX_INPUT_BYTES`]).
pub(crate) fn read_text(path: &std::path::Path) -> std::io::Result<String> {
    String::from_utf8(read_file(path)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Places a validation failure at its line in `src`.
pub fn place(src: &str, file: &str, path: &FieldPath, message: String) -> ModelError {
    let (line, column) = match locate::span_of(src, path) {
        Some(span) => {
            let (l, c) = locate::line_col(src, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    ModelError {
        file: file.to_string(),
        line,
        column,
        field: path.to_string(),
        message,
    }
}

/// Parses the TOML text `src` (read from `file`) into `T`, the one reading of every input
/// file: model files, experiment files, price tables and usage files.
///
/// A syntax or type error is placed by [`toml_error`]. When the parser says a field is
/// missing and `readme` is given, the message ends with ` (required; see README)`, where
/// README is `readme` (such as `models/README.md`).
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    src: &str,
    file: &str,
    readme: Option<&str>,
) -> Result<T, ModelError> {
    toml::from_str::<T>(src).map_err(|e| {
        let mut placed = toml_error(src, file, &e);
        if let Some(readme) = readme {
            if placed.message.starts_with("missing field") {
                placed.message = format!("{} (required; see {readme})", placed.message);
            }
        }
        placed
    })
}

/// A TOML syntax or type error of `src`, placed at its line and column with the field
/// whose value holds the error (``field `queue["a"].visibility_timeout` ``); the message
/// is the parser's own, trimmed.
pub(crate) fn toml_error(src: &str, file: &str, e: &toml::de::Error) -> ModelError {
    let (line, column, field) = match e.span() {
        Some(span) => {
            let (l, c) = locate::line_col(src, span.start);
            let field = locate::path_at(src, span.start)
                .map(|p| format!("field `{p}`"))
                .unwrap_or_default();
            (Some(l), Some(c), field)
        }
        None => (None, None, String::new()),
    };
    ModelError {
        file: file.to_string(),
        line,
        column,
        field,
        message: e.message().trim().to_string(),
    }
}
