//! Finding the line of a field in the model source, for error messages.
//!
//! Validation works on deserialised structs, which have no positions; when it fails it
//! names a [`FieldPath`], and this module finds that path in the source with `toml_edit`,
//! which keeps the span of every key and value.

use super::error::{FieldPath, Seg};
use toml_edit::{Document, Item, Value};

/// 1-based (line, column) of byte `offset` in `src`.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// Byte span of the value at `path` (or of the deepest ancestor that exists).
pub(crate) fn span_of(src: &str, path: &FieldPath) -> Option<std::ops::Range<usize>> {
    let doc = Document::parse(src).ok()?;
    let mut best = None;
    let mut cur: Option<Node> = Some(Node::Item(doc.as_item()));
    for seg in &path.segs {
        let Some(node) = cur.take() else { break };
        let next = match (node, seg) {
            (Node::Item(item), Seg::Key(k)) => match item {
                Item::Table(t) => t.get_key_value(k).map(|(key, it)| {
                    if let Some(s) = key.span() {
                        best = Some(s);
                    }
                    Node::Item(it)
                }),
                Item::Value(Value::InlineTable(t)) => inline_get(t, k, &mut best),
                _ => None,
            },
            (Node::Value(Value::InlineTable(t)), Seg::Key(k)) => inline_get(t, k, &mut best),
            (Node::Item(Item::ArrayOfTables(a)), Seg::Index(i)) => a.get(*i).map(|t| {
                if let Some(s) = t.span() {
                    best = Some(s);
                }
                Node::Table(t)
            }),
            (Node::Item(Item::Value(Value::Array(a))), Seg::Index(i))
            | (Node::Value(Value::Array(a)), Seg::Index(i)) => a.get(*i).map(|v| {
                if let Some(s) = v.span() {
                    best = Some(s);
                }
                Node::Value(v)
            }),
            (Node::Table(t), Seg::Key(k)) => t.get_key_value(k).map(|(key, it)| {
                if let Some(s) = key.span() {
                    best = Some(s);
                }
                Node::Item(it)
            }),
            _ => None,
        };
        cur = next;
    }
    best
}

fn inline_get<'a>(
    t: &'a toml_edit::InlineTable,
    k: &str,
    best: &mut Option<std::ops::Range<usize>>,
) -> Option<Node<'a>> {
    let v = t.get(k)?;
    if let Some(s) = t.key(k).and_then(|key| key.span()) {
        *best = Some(s);
    }
    Some(Node::Value(v))
}

enum Node<'a> {
    Item(&'a Item),
    Value(&'a Value),
    Table(&'a toml_edit::Table),
}

/// The dotted path of the innermost key whose value contains byte `offset`, for errors
/// that come with a position but no field name (from the TOML parser).
pub(crate) fn path_at(src: &str, offset: usize) -> Option<String> {
    let doc = Document::parse(src).ok()?;
    let mut out = Vec::new();
    walk_table(doc.as_table(), offset, &mut out);
    if out.is_empty() {
        None
    } else {
        Some(out.join("."))
    }
}

fn contains(span: Option<std::ops::Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|s| s.start <= offset && offset <= s.end)
}

fn walk_table(t: &toml_edit::Table, offset: usize, out: &mut Vec<String>) -> bool {
    for (k, item) in t.iter() {
        let key_span = t.key(k).and_then(|key| key.span());
        let hit = contains(key_span.clone(), offset) || item_contains(item, offset);
        if hit {
            match item {
                Item::ArrayOfTables(a) => {
                    for (i, tab) in a.iter().enumerate() {
                        if contains(tab.span(), offset) || table_contains(tab, offset) {
                            let name = tab
                                .get("name")
                                .and_then(|n| n.as_str())
                                .map(|n| format!("{k}[\"{n}\"]"))
                                .unwrap_or_else(|| format!("{k}[{i}]"));
                            out.push(name);
                            walk_table(tab, offset, out);
                            return true;
                        }
                    }
                    out.push(k.to_string());
                }
                Item::Table(sub) => {
                    out.push(k.to_string());
                    walk_table(sub, offset, out);
                }
                Item::Value(Value::InlineTable(it)) => {
                    out.push(k.to_string());
                    for (ik, v) in it.iter() {
                        if contains(v.span(), offset)
                            || contains(it.key(ik).and_then(|x| x.span()), offset)
                        {
                            out.push(ik.to_string());
                            break;
                        }
                    }
                }
                _ => out.push(k.to_string()),
            }
            return true;
        }
    }
    false
}

fn table_contains(t: &toml_edit::Table, offset: usize) -> bool {
    t.iter().any(|(k, item)| {
        contains(t.key(k).and_then(|key| key.span()), offset) || item_contains(item, offset)
    })
}

fn item_contains(item: &Item, offset: usize) -> bool {
    match item {
        Item::Value(v) => contains(v.span(), offset),
        Item::Table(t) => contains(t.span(), offset) || table_contains(t, offset),
        Item::ArrayOfTables(a) => a
            .iter()
            .any(|t| contains(t.span(), offset) || table_contains(t, offset)),
        Item::None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "name = \"x\"\nduration = \"1h\"\n\n[[queue]]\nname = \"a\"\n\n[[queue]]\nname = \"b\"\nvisibility_timeout = \"13h\"\ndead_letter = { queue = \"dlq\", max_receive_count = 0 }\n";

    #[test]
    fn finds_lines_of_paths() {
        let p = FieldPath::item("queue", 1, "b").field("visibility_timeout");
        let s = span_of(SRC, &p).unwrap();
        assert_eq!(line_col(SRC, s.start).0, 9);
        let p = FieldPath::item("queue", 1, "b")
            .field("dead_letter")
            .field("max_receive_count");
        let s = span_of(SRC, &p).unwrap();
        // `dead_letter = { queue = "dlq", ` is 31 characters: the key starts in column 32.
        assert_eq!(line_col(SRC, s.start), (10, 32));
        let s = span_of(SRC, &FieldPath::top("duration")).unwrap();
        assert_eq!(line_col(SRC, s.start).0, 2);
    }

    #[test]
    fn names_path_at_offset() {
        let off = SRC.find("13h").unwrap();
        assert_eq!(
            path_at(SRC, off).as_deref(),
            Some("queue[\"b\"].visibility_timeout")
        );
    }
}
