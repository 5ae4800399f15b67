//! Plain-text output shared by the run summary, the bill and the capacity answer: tables
//! with aligned columns and seconds with a readable unit.

/// Seconds with a readable unit.
pub(crate) fn fmt_secs(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x < 1e-3 {
        format!("{:.0}µs", x * 1e6)
    } else if x < 1.0 {
        format!("{:.1}ms", x * 1e3)
    } else if x < 120.0 {
        format!("{x:.2}s")
    } else {
        format!("{:.1}m", x / 60.0)
    }
}

/// A duration as a person reads it: `1h`, `90s` when whole seconds, else `52.54s`.
pub(crate) fn fmt_duration(d: crate::sim::SimDuration) -> String {
    if d.0 % 1_000_000_000 == 0 {
        d.to_string()
    } else {
        fmt_secs(d.as_secs_f64())
    }
}

/// Renders rows as a left-aligned first column and right-aligned others.
pub(crate) fn render_table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut s = String::new();
    for (ri, r) in rows.iter().enumerate() {
        for (i, c) in r.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            if i == 0 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("  ");
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
        }
        s.push('\n');
        if ri == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (cols.saturating_sub(1));
            s.push_str(&"-".repeat(total));
            s.push('\n');
        }
    }
    s
}

/// `s` with its control characters other than newline and tab written as `\u{..}`: names
/// and values come from files anyone may write, and raw escape sequences must reach
/// neither a terminal nor a report.
pub fn without_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() && c != '\n' && c != '\t' {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}
