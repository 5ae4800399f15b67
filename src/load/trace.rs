//! Trace replay: arrivals read from a CSV file.
//!
//! Two forms are accepted, told apart by the header row:
//!
//! * **timestamps**: a column `t_s` (seconds from the start of the run, non-decreasing),
//!   optionally `size_bytes` and `key` (also spelled `partition_key`, `group` or
//!   `message_group_id`), one row per message;
//! * **counts**: columns `second` and `count`, the number of messages sent in each whole
//!   second; the `count` arrivals of a second are spread evenly over it (at
//!   `second + (i + ½)/count`). Missing seconds send nothing.
//!
//! With `repeat`, the trace starts over after its length: the last timestamp rounded up to
//! a whole second (timestamps) or the last second + 1 (counts).

use super::arrival::ArrivalState;
use crate::sim::{SimTime, NANOS_PER_SEC};
use std::collections::HashMap;
use std::path::Path;

/// A trace row problem, with the 1-based line number in the CSV file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub(crate) struct TraceError {
    /// The CSV file.
    pub(crate) path: String,
    /// 1-based line number (the header is line 1).
    pub(crate) line: u64,
    /// What is wrong.
    pub(crate) message: String,
}

#[derive(Clone, Debug)]
enum TraceData {
    Times {
        t_ns: Vec<u64>,
        size: Option<Vec<u32>>,
        key: Option<Vec<u32>>,
    },
    Counts {
        /// Messages in each second from 0.
        counts: Vec<u32>,
        /// `prefix[s]` = messages before second `s`.
        prefix: Vec<u64>,
    },
}

/// A loaded trace.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Where it was read from (for messages).
    pub path: String,
    data: TraceData,
    /// Replay again after the end.
    pub repeat: bool,
    /// Length of one pass, ns.
    pub lap_ns: u64,
    /// Distinct keys named in the `key` column, indexed by the key ids of messages.
    pub keys: Vec<String>,
}

impl Trace {
    /// Reads a trace CSV file.
    pub(crate) fn load(path: &Path, repeat: bool) -> Result<Trace, TraceError> {
        let shown = path.display().to_string();
        let text = crate::input::read_file(path).map_err(|e| TraceError {
            path: shown.clone(),
            line: 0,
            message: format!("cannot read trace file: {e}"),
        })?;
        Self::parse(&shown, &text, repeat)
    }

    /// Parses trace CSV text; `path` is used in messages only.
    pub(crate) fn parse(path: &str, text: &[u8], repeat: bool) -> Result<Trace, TraceError> {
        let err = |line: u64, message: String| TraceError {
            path: path.to_string(),
            line,
            message,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text);
        let headers = rdr
            .headers()
            .map_err(|e| err(1, format!("cannot read the header row: {e}")))?
            .clone();
        let cols = Columns::find(&headers).map_err(|m| err(1, m))?;
        let mut keys = Keys::default();
        let data = if let Some(tc) = cols.t {
            read_times(&mut rdr, tc, &cols, &mut keys, &err)?
        } else if let (Some(sc), Some(cc)) = (cols.second, cols.count) {
            read_counts(&mut rdr, sc, cc, &err)?
        } else {
            return Err(err(
                1,
                "the header must name a `t_s` column (one row per message) or `second` and `count` columns".into(),
            ));
        };
        let lap_ns = match &data {
            TraceData::Times { t_ns, .. } => {
                let last = *t_ns.last().unwrap_or(&0);
                (last / NANOS_PER_SEC + 1) * NANOS_PER_SEC
            }
            TraceData::Counts { counts, .. } => counts.len() as u64 * NANOS_PER_SEC,
        };
        Ok(Trace {
            path: path.to_string(),
            data,
            repeat,
            lap_ns,
            keys: keys.names,
        })
    }

    /// Number of messages in one pass.
    pub(crate) fn len(&self) -> u64 {
        match &self.data {
            TraceData::Times { t_ns, .. } => t_ns.len() as u64,
            TraceData::Counts { prefix, .. } => *prefix.last().unwrap_or(&0),
        }
    }

    /// True when one pass sends nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Mean rate over one pass, per second.
    pub(crate) fn mean_rate_per_s(&self) -> f64 {
        self.len() as f64 / (self.lap_ns as f64 / 1e9)
    }

    /// Messages with arrival time in `[from, to)` ns (counting repeats).
    pub(crate) fn count_between(&self, from: u64, to: u64) -> u64 {
        self.count_before(to) - self.count_before(from)
    }

    fn count_before(&self, t: u64) -> u64 {
        let (laps, local) = if self.repeat {
            (t / self.lap_ns, t % self.lap_ns)
        } else if t >= self.lap_ns {
            return self.len();
        } else {
            (0, t)
        };
        let within = match &self.data {
            TraceData::Times { t_ns, .. } => t_ns.partition_point(|x| *x < local) as u64,
            TraceData::Counts { counts, prefix } => {
                let s = (local / NANOS_PER_SEC) as usize;
                let frac = (local % NANOS_PER_SEC) as f64 / 1e9;
                let c = counts.get(s).copied().unwrap_or(0) as f64;
                // Arrival i of second s is at s + (i + 1/2)/c: those before `frac` are
                // the i with i + 1/2 < frac·c.
                let partial = ((frac * c) - 0.5).ceil().clamp(0.0, c) as u64;
                prefix[s.min(counts.len())] + partial
            }
        };
        laps * self.len() + within
    }

    /// The next arrival time, advancing the cursor; `None` at the end of a
    /// non-repeating trace.
    pub(crate) fn next(&self, st: &mut ArrivalState) -> Option<SimTime> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        if st.cursor >= n {
            if !self.repeat {
                return None;
            }
            st.cursor = 0;
            st.laps += 1;
        }
        let i = st.cursor;
        st.cursor += 1;
        let base = st.laps * self.lap_ns;
        let local = match &self.data {
            TraceData::Times { t_ns, .. } => t_ns[i as usize],
            TraceData::Counts { counts, prefix } => {
                // The second holding message i, then its even spot within that second.
                let s = prefix.partition_point(|p| *p <= i) - 1;
                let within = i - prefix[s];
                let c = counts[s] as u64;
                s as u64 * NANOS_PER_SEC + (2 * within + 1) * NANOS_PER_SEC / (2 * c)
            }
        };
        Some(SimTime(base + local))
    }

    /// Size and key recorded for the message most recently returned by [`Trace::next`].
    pub(crate) fn row_attrs(&self, st: &ArrivalState) -> (Option<u32>, Option<u32>) {
        let i = st.cursor.saturating_sub(1) as usize;
        match &self.data {
            TraceData::Times { size, key, .. } => {
                (size.as_ref().map(|v| v[i]), key.as_ref().map(|v| v[i]))
            }
            TraceData::Counts { .. } => (None, None),
        }
    }
}

/// The columns of a trace's header row.
struct Columns {
    /// Timestamps, seconds (`t_s`, `time_s` or `timestamp_s`).
    t: Option<usize>,
    /// Whole seconds of a counts trace.
    second: Option<usize>,
    /// Messages in each second of a counts trace.
    count: Option<usize>,
    /// Message sizes, bytes.
    size: Option<usize>,
    /// Keys (`key`, `partition_key`, `group` or `message_group_id`).
    key: Option<usize>,
}

impl Columns {
    /// Finds the columns of `headers`; an unknown column is an error (its message).
    fn find(headers: &csv::StringRecord) -> Result<Columns, String> {
        let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h));
        let cols = Columns {
            t: col(&["t_s", "time_s", "timestamp_s"]),
            second: col(&["second"]),
            count: col(&["count"]),
            size: col(&["size_bytes"]),
            key: col(&["key", "partition_key", "group", "message_group_id"]),
        };
        let known = [
            "t_s",
            "time_s",
            "timestamp_s",
            "second",
            "count",
            "size_bytes",
            "key",
            "partition_key",
            "group",
            "message_group_id",
        ];
        // The cell is not echoed: a model may point at any file, and its errors must
        // not print that file's contents (issue 21).
        if let Some(i) = headers.iter().position(|h| !known.contains(&h)) {
            return Err(format!(
                "column {} of the header is not a trace column: expected t_s[, size_bytes][, key] or second, count",
                i + 1
            ));
        }
        Ok(cols)
    }
}

/// The distinct keys of a trace, numbered in order of first appearance.
#[derive(Default)]
struct Keys {
    /// Key texts, indexed by id.
    names: Vec<String>,
    /// Id of each key text.
    ids: HashMap<String, u32>,
}

impl Keys {
    /// The id of key `text`, numbering it when new.
    fn id(&mut self, text: &str) -> u32 {
        match self.ids.get(text) {
            Some(id) => *id,
            None => {
                let id = self.names.len() as u32;
                self.names.push(text.to_string());
                self.ids.insert(text.to_string(), id);
                id
            }
        }
    }
}

/// Reads the next row into `record`: false at the end; a malformed row is an error
/// (`err` makes it, from a line number and a message).
fn next_row(
    rdr: &mut csv::Reader<&[u8]>,
    record: &mut csv::StringRecord,
    err: &impl Fn(u64, String) -> TraceError,
) -> Result<bool, TraceError> {
    rdr.read_record(record).map_err(|e| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        err(line, format!("malformed row: {e}"))
    })
}

/// The 1-based line of a row.
fn line_of(r: &csv::StringRecord) -> u64 {
    r.position().map(|p| p.line()).unwrap_or(0)
}

/// Reads the rows of a timestamps trace (timestamps in column `tc`, non-decreasing; sizes
/// and keys when `cols` has them, keys numbered in `keys`).
fn read_times(
    rdr: &mut csv::Reader<&[u8]>,
    tc: usize,
    cols: &Columns,
    keys: &mut Keys,
    err: &impl Fn(u64, String) -> TraceError,
) -> Result<TraceData, TraceError> {
    let mut record = csv::StringRecord::new();
    let mut t_ns = Vec::new();
    let mut sizes = cols.size.map(|_| Vec::new());
    let mut key_v = cols.key.map(|_| Vec::new());
    let mut last = 0u64;
    while next_row(rdr, &mut record, err)? {
        let line = line_of(&record);
        let field = record.get(tc).unwrap_or("");
        let t: f64 = field
            .parse()
            .map_err(|_| err(line, "t_s is not a number of seconds".to_string()))?;
        if !t.is_finite() || t < 0.0 {
            return Err(err(line, format!("t_s {field} must be >= 0")));
        }
        let ns = (t * NANOS_PER_SEC as f64).round() as u64;
        if ns < last {
            return Err(err(
                line,
                format!("t_s {field} is earlier than the row before: timestamps must not decrease"),
            ));
        }
        last = ns;
        t_ns.push(ns);
        if let (Some(c), Some(v)) = (cols.size, sizes.as_mut()) {
            v.push(row_size(record.get(c).unwrap_or(""), line, err)?);
        }
        if let (Some(c), Some(v)) = (cols.key, key_v.as_mut()) {
            let f = record.get(c).unwrap_or("");
            if f.is_empty() {
                return Err(err(line, "empty key".into()));
            }
            v.push(keys.id(f));
        }
    }
    if t_ns.is_empty() {
        return Err(err(1, "the trace has no rows".into()));
    }
    Ok(TraceData::Times {
        t_ns,
        size: sizes,
        key: key_v,
    })
}

/// A row's `size_bytes` cell `f`: a whole number of bytes, 1 to 4 GiB.
fn row_size(
    f: &str,
    line: u64,
    err: &impl Fn(u64, String) -> TraceError,
) -> Result<u32, TraceError> {
    let b: u64 = f.parse().map_err(|_| {
        err(
            line,
            "size_bytes is not a whole number of bytes".to_string(),
        )
    })?;
    if b == 0 || b > u32::MAX as u64 {
        return Err(err(
            line,
            format!("size_bytes {b} is out of range (1 to 4 GiB)"),
        ));
    }
    Ok(b as u32)
}

/// Reads the rows of a counts trace (whole seconds in column `sc`, increasing, at most
/// 10,000,000; counts in column `cc`).
/// The most messages a trace may send in one second: one per nanosecond, the kernel's time
/// resolution (the same cap as a load's rate).
pub(crate) const MAX_PER_SECOND: u64 = 1_000_000_000;

fn read_counts(
    rdr: &mut csv::Reader<&[u8]>,
    sc: usize,
    cc: usize,
    err: &impl Fn(u64, String) -> TraceError,
) -> Result<TraceData, TraceError> {
    let mut record = csv::StringRecord::new();
    let mut counts: Vec<u32> = Vec::new();
    while next_row(rdr, &mut record, err)? {
        let line = line_of(&record);
        let sf = record.get(sc).unwrap_or("");
        let s: u64 = sf
            .parse()
            .map_err(|_| err(line, "second is not a whole number >= 0".to_string()))?;
        let cf = record.get(cc).unwrap_or("");
        let c: u32 = cf
            .parse()
            .map_err(|_| err(line, "count is not a whole number >= 0".to_string()))?;
        if c as u64 > MAX_PER_SECOND {
            return Err(err(
                line,
                format!("count {c} is above {MAX_PER_SECOND} messages in a second: the simulator's clock counts nanoseconds, so it cannot place more than one message per nanosecond"),
            ));
        }
        if (s as usize) < counts.len() {
            return Err(err(
                line,
                format!("second {s} repeats or goes backwards: seconds must increase"),
            ));
        }
        if s > 10_000_000 {
            return Err(err(
                line,
                format!("second {s} is beyond the 10,000,000 s a trace may span"),
            ));
        }
        counts.resize(s as usize, 0);
        counts.push(c);
    }
    if counts.is_empty() {
        return Err(err(1, "the trace has no rows".into()));
    }
    let mut prefix = Vec::with_capacity(counts.len() + 1);
    let mut acc = 0u64;
    prefix.push(0);
    for c in &counts {
        acc += *c as u64;
        prefix.push(acc);
    }
    Ok(TraceData::Counts { counts, prefix })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_keys() {
        let t = Trace::parse(
            "x.csv",
            b"t_s,size_bytes,key\n0.5,100,a\n1.0,200,b\n1.25,300,a\n",
            false,
        )
        .unwrap();
        assert_eq!(t.keys, vec!["a", "b"]);
        let mut st = ArrivalState::default();
        assert_eq!(t.next(&mut st), Some(SimTime(500_000_000)));
        assert_eq!(t.row_attrs(&st), (Some(100), Some(0)));
        t.next(&mut st);
        assert_eq!(t.next(&mut st), Some(SimTime(1_250_000_000)));
        assert_eq!(t.row_attrs(&st), (Some(300), Some(0)));
        assert_eq!(t.next(&mut st), None);
        assert_eq!(t.lap_ns, 2 * NANOS_PER_SEC);
    }

    #[test]
    fn counts_spread_evenly_and_repeat() {
        let t = Trace::parse("c.csv", b"second,count\n0,2\n2,1\n", true).unwrap();
        let mut st = ArrivalState::default();
        let got: Vec<u64> = (0..5).map(|_| t.next(&mut st).unwrap().0).collect();
        assert_eq!(
            got,
            vec![
                250_000_000,
                750_000_000,
                2_500_000_000,
                3_250_000_000,
                3_750_000_000
            ]
        );
        assert_eq!(t.count_between(0, 3 * NANOS_PER_SEC), 3);
        assert_eq!(t.count_between(0, 3_300_000_000), 4);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let e = Trace::parse("bad.csv", b"t_s\n1.0\n2.0\nsoon\n", false).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.to_string().starts_with("bad.csv:4:"), "{e}");
        let e = Trace::parse("bad.csv", b"t_s\n2.0\n1.0\n", false).unwrap_err();
        assert_eq!(e.line, 3);
        let e = Trace::parse("bad.csv", b"when\n1\n", false).unwrap_err();
        assert_eq!(e.line, 1);
        let e = Trace::parse("bad.csv", b"second,count\n0,5\n1,-3\n", false).unwrap_err();
        assert_eq!(e.line, 3);
    }
}
