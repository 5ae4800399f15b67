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

/// Renders rows as a left-aligned first column and right-aligned others (whatever their
/// width; see [`fit_table`] for a table that fits a terminal).
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

/// The width that text tables fit by default: a terminal of 100 columns.
pub const TEXT_WIDTH: usize = 100;

/// The width text output fits: the terminal's when standard output is one (at least 60
/// columns), else [`TEXT_WIDTH`], so that a pipe, a file or a CI log gets the same bytes
/// whatever terminal started it.
pub fn text_width() -> usize {
    let t = comfy_table::Table::new();
    if !t.is_tty() {
        return TEXT_WIDTH;
    }
    t.width()
        .map(|w| (w as usize).max(60))
        .unwrap_or(TEXT_WIDTH)
}

/// Renders `rows` (the first is the header) in at most `width` columns: a left-aligned
/// first column, right-aligned others, a dashed line under the header, as
/// [`render_table`] does when it fits. In a wider table the text columns (the first, a
/// verdict) wrap at spaces (comfy-table's dynamic arrangement), continuation lines under
/// their row; numeric columns keep their width.
pub(crate) fn wrap_table(rows: &[Vec<String>], width: usize) -> String {
    if table_width(&column_widths(rows)) <= width {
        return render_table(rows);
    }
    let mut t = comfy_table::Table::new();
    t.force_no_tty();
    t.load_preset("     --            ");
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    t.set_width(width.min(u16::MAX as usize) as u16);
    if let Some((head, body)) = rows.split_first() {
        t.set_header(head.clone());
        for r in body {
            t.add_row(r.clone());
        }
    }
    // Numbers keep their width; text columns (the first, a verdict) wrap, the first
    // keeping at least 40 characters.
    let widths = column_widths(rows);
    let numeric = |i: usize| {
        rows.iter().skip(1).all(|r| {
            r.get(i).is_none_or(|c| {
                c.chars()
                    .all(|ch| ch.is_ascii_digit() || ",.-+e%$ ".contains(ch))
            })
        })
    };
    for (i, c) in t.column_iter_mut().enumerate() {
        c.set_padding((0, 1));
        if i > 0 {
            c.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
        if i > 0 && numeric(i) {
            c.set_constraint(comfy_table::ColumnConstraint::Absolute(
                comfy_table::Width::Fixed((widths[i] + 1) as u16),
            ));
        } else if i == 0 {
            c.set_constraint(comfy_table::ColumnConstraint::LowerBoundary(
                comfy_table::Width::Fixed((widths[0].min(40) + 1) as u16),
            ));
        }
    }
    borderless_lines(&t)
}

/// Renders `rows` (the first is the header) with comfy-table in at most `width`
/// columns: a left-aligned first column, right-aligned others, a dashed line under the
/// header. A table wider than `width` is turned: a row per column of the original (the
/// first column's title heads the row names) and a column per row, in as many blocks as
/// it takes to fit, so that a summary of 14 fields reads in 80–100 columns.
pub(crate) fn fit_table(rows: &[Vec<String>], width: usize) -> String {
    let widths = column_widths(rows);
    if rows.len() < 2 || table_width(&widths) <= width {
        return comfy(rows);
    }
    let cols = widths.len();
    let turned: Vec<Vec<String>> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).cloned().unwrap_or_default())
                .collect()
        })
        .collect();
    let tw = column_widths(&turned);
    // Blocks of the original rows (now columns 1..), each as wide as fits.
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    for c in 1..tw.len() {
        let mut w: Vec<usize> = vec![tw[0]];
        w.extend(cur.iter().map(|k| tw[*k]));
        w.push(tw[c]);
        if !cur.is_empty() && table_width(&w) > width {
            blocks.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        blocks.push(cur);
    }
    let mut out = String::new();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let part: Vec<Vec<String>> = turned
            .iter()
            .map(|r| {
                std::iter::once(r[0].clone())
                    .chain(b.iter().map(|k| r[*k].clone()))
                    .collect()
            })
            .collect();
        out.push_str(&comfy(&part));
    }
    out
}

/// `text` broken at spaces into lines of at most `width` characters (a word longer than
/// that stands alone), the lines after the first indented by `indent` spaces; each line
/// ends with a newline.
pub fn wrap(text: &str, width: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > indent && len + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
        } else if !line.is_empty() && !line.ends_with(' ') {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// The widest cell of each column, in characters.
fn column_widths(rows: &[Vec<String>]) -> Vec<usize> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    widths
}

/// The width of a table with these column widths and two spaces between columns.
fn table_width(widths: &[usize]) -> usize {
    widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)
}

/// `rows` drawn by comfy-table without borders: two spaces between columns (a blank
/// vertical line and one of padding), a dashed
/// line under the header, no trailing spaces.
fn comfy(rows: &[Vec<String>]) -> String {
    let mut t = comfy_table::Table::new();
    // Every border and line blank but the header's: "     --" and blanks (see
    // comfy_table::presets).
    t.load_preset("     --            ");
    if let Some((head, body)) = rows.split_first() {
        t.set_header(head.clone());
        for r in body {
            t.add_row(r.clone());
        }
    }
    for (i, c) in t.column_iter_mut().enumerate() {
        c.set_padding((0, 1));
        if i > 0 {
            c.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
    borderless_lines(&t)
}

/// The lines of borderless table `t`, without trailing spaces; the header's dashed line
/// spans the padding after the last column too, so it is cut to the table.
fn borderless_lines(t: &comfy_table::Table) -> String {
    let mut s = String::new();
    for line in t.lines() {
        let line = line.trim_end();
        if !line.is_empty() && line.chars().all(|c| c == '-') {
            s.push_str(&line[..line.len().saturating_sub(1)]);
        } else {
            s.push_str(line);
        }
        s.push('\n');
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(cols: usize, names: &[&str]) -> Vec<Vec<String>> {
        let mut out = vec![std::iter::once("queue".to_string())
            .chain((0..cols).map(|c| format!("field_number_{c}")))
            .collect::<Vec<_>>()];
        for n in names {
            out.push(
                std::iter::once(n.to_string())
                    .chain((0..cols).map(|c| (c * 1_000_003).to_string()))
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn long_lines_wrap_at_spaces_with_an_indent() {
        let w = wrap("messages: 1 produced → 2 processed, 3 in flight", 20, 2);
        assert_eq!(w, "messages: 1 produced\n  → 2 processed, 3\n  in flight\n");
        assert_eq!(wrap("short", 20, 2), "short\n");
    }

    #[test]
    fn a_narrow_table_keeps_its_shape() {
        let t = fit_table(&rows(3, &["orders", "dlq"]), 100);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(lines[0].starts_with("queue") && lines[0].ends_with("field_number_2"));
        assert!(lines[1].chars().all(|c| c == '-'));
        assert_eq!(lines[1].len(), lines[0].len());
        // Numbers are right-aligned under their title.
        assert!(lines[3].ends_with("2000006"), "{t}");
        assert!(lines[3].starts_with("dlq "));
    }

    #[test]
    fn a_wide_table_is_turned_and_split_to_fit() {
        // 14 fields of 14 characters: 220 columns as it stands.
        let wide = rows(14, &["orders", "orders-dlq", "billing", "billing-dlq", "x"]);
        for width in [60, 80, 100] {
            let t = fit_table(&wide, width);
            assert!(
                t.lines().all(|l| l.chars().count() <= width),
                "{width}:\n{t}"
            );
            // Every field is a row of every block; every name heads a column once.
            assert_eq!(
                t.matches("field_number_13").count(),
                t.matches("queue").count()
            );
            for n in ["orders-dlq", "billing-dlq"] {
                assert_eq!(t.matches(n).count(), 1, "{t}");
            }
            assert_eq!(t.matches("13000039").count(), 5, "{t}");
        }
    }
}
