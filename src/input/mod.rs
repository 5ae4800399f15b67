//! Reading what people write: quantities with units, the position of a field in a TOML
//! source (for error messages), field paths, `--set` overrides and "did you mean"
//! suggestions. Used by model files, experiment files, usage files and price tables alike.

pub mod error;
pub mod locate;
pub mod overrides;
pub mod units;

pub use error::{FieldPath, ModelError};

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
