//! The layer table of `src/lib.rs` is true: no file of `src/` names a module of a higher
//! layer. The table is read from `lib.rs` itself, so the documentation and this check
//! cannot drift apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Layer of each top-level module, from the rows `//! | N | [`a`], [`b`] | … |` of lib.rs.
fn table() -> BTreeMap<String, u32> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut layers = BTreeMap::new();
    for line in lib.lines() {
        let Some(row) = line.strip_prefix("//! | ") else {
            continue;
        };
        let mut cells = row.split(" | ");
        let Some(Ok(n)) = cells.next().map(|c| c.trim().parse::<u32>()) else {
            continue;
        };
        let modules = cells.next().unwrap_or("");
        for name in modules.split(',') {
            let name = name
                .trim()
                .trim_matches(|c| c == '[' || c == ']' || c == '`');
            assert!(!name.is_empty(), "empty module name in lib.rs row {row:?}");
            layers.insert(name.to_string(), n);
        }
    }
    layers
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Module path of a file under `src/`: `services/sqs/queue.rs` → `[services, sqs, queue]`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The layer of a module path, with the file-name rule for service folders, producers
/// and workers (see lib.rs).
fn layer_of(path: &[String], t: &BTreeMap<String, u32>) -> Option<u32> {
    let top = path.first()?;
    let role = match top.as_str() {
        "services" => path.get(2),
        "producers" | "workers" | "batch" | "faults" => path.get(1),
        _ => None,
    };
    if let Some(stem) = role {
        for (prefix, layer) in [
            ("config", "model"),
            ("raw", "model"),
            ("estimate", "estimate"),
            ("engine", "engine"),
        ] {
            if stem.starts_with(prefix) {
                return t.get(layer).copied();
            }
        }
    }
    t.get(top).copied()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module paths a file names: `crate::a::b`, `super::c` (resolved against the
/// file's own module), and in the binary `aqueduct::a::b`. Comments and the unit tests
/// at the end of a file (`#[cfg(test)]`) are not read.
fn named_paths(text: &str, module: &[String]) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let code = code.split("//").next().unwrap_or("");
        for root in ["crate::", "aqueduct::", "super::"] {
            let mut rest = code;
            while let Some(at) = rest.find(root) {
                let before = rest[..at].chars().last();
                let tail = &rest[at + root.len()..];
                rest = tail;
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let mut base: Vec<String> = Vec::new();
                if root == "super::" {
                    // The parent of the file's module (a mod.rs is its folder's module).
                    base = module.to_vec();
                    base.pop();
                }
                // `crate::{a::x, b}` names a and b.
                let heads: Vec<&str> = match tail.strip_prefix('{') {
                    Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                    None => vec![tail],
                };
                for head in heads {
                    let mut path = base.clone();
                    for seg in head.trim().split("::") {
                        let seg: String = seg
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if seg.is_empty() || seg.chars().next().is_some_and(char::is_uppercase) {
                            break;
                        }
                        path.push(seg);
                    }
                    if !path.is_empty() {
                        out.push((i + 1, path));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn lib_rs_layer_table_is_true() {
    let t = table();
    for m in [
        "sim", "input", "services", "engine", "cli", "model", "estimate",
    ] {
        assert!(t.contains_key(m), "lib.rs's layer table lacks `{m}`");
    }
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    let mut broken = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap();
        if rel == Path::new("lib.rs") || rel == Path::new("main.rs") {
            continue;
        }
        let module = module_of(rel);
        let Some(own) = layer_of(&module, &t) else {
            broken.push(format!(
                "{}: module `{}` is in no layer of lib.rs",
                rel.display(),
                module[0]
            ));
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for (line, path) in named_paths(&text, &module) {
            checked += 1;
            if let Some(target) = layer_of(&path, &t) {
                if target > own {
                    broken.push(format!(
                        "{}:{line}: layer {own} uses `{}` of layer {target}",
                        rel.display(),
                        path.join("::")
                    ));
                }
            }
        }
    }
    assert!(
        checked > 300,
        "only {checked} paths were read: is the parser broken?"
    );
    assert!(
        broken.is_empty(),
        "the layers of lib.rs are broken:\n{}",
        broken.join("\n")
    );
}

/// The checker itself: a path from a low layer to a high one is caught, with the
/// file-name rule applied on both ends.
#[test]
fn layer_checker_catches_an_upward_path() {
    let t = table();
    let module = module_of(Path::new("services/sqs/queue.rs"));
    let paths = named_paths(
        "use crate::engine::Engine;\nuse super::config::x;\n// crate::report::x\n",
        &module,
    );
    let layers: Vec<u32> = paths.iter().filter_map(|(_, p)| layer_of(p, &t)).collect();
    assert_eq!(paths.len(), 2);
    assert_eq!(layers, vec![t["engine"], t["model"]]);
    assert!(layers.iter().all(|l| *l > layer_of(&module, &t).unwrap()));
    let handlers = module_of(Path::new("services/sqs/engine.rs"));
    assert_eq!(layer_of(&handlers, &t), Some(t["engine"]));
}
