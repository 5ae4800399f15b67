//! Time series sampled at a fixed interval.

use std::io::Write;

/// A table of samples: one row per sampling instant, one column per (component, metric).
#[derive(Clone, Debug, Default)]
pub struct TimeSeries {
    /// Column names, such as `queue.billing.backlog`.
    pub columns: Vec<String>,
    /// Sampling instants, s.
    pub t_s: Vec<f64>,
    /// Values, row-major (`t_s.len() × columns.len()`).
    pub values: Vec<f64>,
}

impl TimeSeries {
    /// A series with the given columns and no rows.
    pub(crate) fn new(columns: Vec<String>) -> Self {
        TimeSeries {
            columns,
            t_s: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Appends one row; `row` must have one value per column.
    pub(crate) fn push(&mut self, t_s: f64, row: &[f64]) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.t_s.push(t_s);
        self.values.extend_from_slice(row);
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.t_s.len()
    }

    /// The values of column `name`, if it exists.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let c = self.columns.iter().position(|x| x == name)?;
        let w = self.columns.len();
        Some((0..self.len()).map(|r| self.values[r * w + c]).collect())
    }

    /// Writes the series as CSV: a `t_s` column, then one column per series; a value that
    /// does not exist (NaN) is an empty cell.
    pub fn write_csv<W: Write>(&self, w: W) -> csv::Result<()> {
        let mut out = csv::Writer::from_writer(w);
        let mut header = vec!["t_s".to_string()];
        header.extend(self.columns.iter().cloned());
        out.write_record(&header)?;
        let width = self.columns.len();
        let mut row: Vec<String> = Vec::with_capacity(width + 1);
        for (r, t) in self.t_s.iter().enumerate() {
            row.clear();
            row.push(fmt_value(*t));
            for v in &self.values[r * width..(r + 1) * width] {
                // A value that does not exist (an interval without a latency) is empty.
                row.push(if v.is_nan() {
                    String::new()
                } else {
                    fmt_value(*v)
                });
            }
            out.write_record(&row)?;
        }
        out.flush()?;
        Ok(())
    }
}

/// Shortest round-trip form, integers without a decimal point.
pub(crate) fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}
