//! The JSON Schemas of `aqueduct schema` (issue 18): the committed files in `docs/schema/`
//! are what the binary prints now, every bundled model's real `run --json` and `price
//! --json`, a usage file's `price --json` and a sweep's `sweep.json` validate against them
//! (with the `jsonschema` crate), and outputs with a required key removed, a key renamed
//! or a value of the wrong type do not.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_aqueduct");
const OUTPUTS: [&str; 3] = ["run", "price", "sweep"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn aqueduct(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

/// What `aqueduct schema NAME` prints.
fn printed(name: &str) -> String {
    let o = aqueduct(root(), &["schema", name]);
    assert!(
        o.status.success(),
        "schema {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("UTF-8")
}

/// The compiled schema of output `name`, as the binary prints it.
fn validator(name: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&printed(name)).expect("the schema is JSON");
    jsonschema::draft202012::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("schema {name} is not a valid draft 2020-12 schema: {e}"));
    jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("schema {name} does not compile: {e}"))
}

/// The compiled schema of one definition (`$defs/DEF`) of output `name`: its errors say
/// where a document fails, where the whole schema's `anyOf` only says that it does.
fn branch(name: &str, def: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&printed(name)).unwrap();
    let one = serde_json::json!({
        "$schema": schema["$schema"],
        "$ref": format!("#/$defs/{def}"),
        "$defs": schema["$defs"],
    });
    jsonschema::draft202012::new(&one).unwrap_or_else(|e| panic!("{name} {def}: {e}"))
}

/// The validation errors of `doc`, one line each (empty: valid).
fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| {
            let mut m = e.to_string();
            if m.len() > 400 {
                let cut = (0..=400).rev().find(|i| m.is_char_boundary(*i)).unwrap();
                m.truncate(cut);
                m.push_str(" …");
            }
            format!("at {}: {m}", e.instance_path())
        })
        .collect()
}

fn assert_fits(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errs = errors(v, doc);
    assert!(
        errs.is_empty(),
        "{what} does not fit its schema:\n{}",
        errs.join("\n")
    );
}

/// The bundled models: `models/*.toml` and `models/latency/*.toml`.
fn bundled_models() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["models", "models/latency"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                out.push(p.strip_prefix(root()).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    assert!(out.len() >= 20, "bundled models: {out:?}");
    out
}

/// The JSON that `aqueduct ARGS` prints (exit code 0 or 3: a check failing still prints it).
fn json_of(args: &[&str]) -> Value {
    let o = aqueduct(root(), args);
    assert!(
        matches!(o.status.code(), Some(0 | 3)),
        "aqueduct {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("aqueduct {}: not JSON: {e}", args.join(" ")))
}

#[test]
fn the_committed_schemas_are_what_aqueduct_schema_prints() {
    for name in OUTPUTS {
        let file = root().join(format!("docs/schema/{name}.schema.json"));
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            committed == printed(name),
            "{} is not what `aqueduct schema {name}` prints now: regenerate the files with `cargo run --release -- schema --write docs/schema` and commit them",
            file.display()
        );
    }
}

#[test]
fn schema_write_writes_every_schema_and_a_bad_call_is_refused() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schema-write");
    let _ = std::fs::remove_dir_all(&dir);
    let o = aqueduct(root(), &["schema", "--write", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for name in OUTPUTS {
        let written = std::fs::read_to_string(dir.join(format!("{name}.schema.json"))).unwrap();
        assert_eq!(written, printed(name), "{name}");
    }
    let o = aqueduct(root(), &["schema"]);
    assert_eq!(o.status.code(), Some(2));
    let o = aqueduct(root(), &["schema", "compare"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn every_bundled_models_run_json_fits_the_run_schema() {
    let v = validator("run");
    let (one, month) = (branch("run", "RunSummary"), branch("run", "MonthRun"));
    let mut months = 0;
    for m in bundled_models() {
        let m = m.to_str().unwrap();
        let doc = json_of(&["run", m, "--json"]);
        let is_month = doc.get("scenarios").is_some();
        months += usize::from(is_month);
        let what = format!("run {m} --json");
        assert_fits(if is_month { &month } else { &one }, &doc, &what);
        assert_fits(&v, &doc, &what);
    }
    // Both shapes were checked: one run's summary and a month made of scenarios.
    assert!(months >= 1, "no bundled model has [[scenario]] tables");
}

#[test]
fn price_json_of_every_bundled_model_and_of_usage_files_fits_the_price_schema() {
    let v = validator("price");
    let mut inputs: Vec<String> = bundled_models()
        .iter()
        .map(|m| m.to_str().unwrap().to_string())
        .collect();
    inputs.push("src/pricing/usage-example.toml".into());
    inputs.push("tests/data/infracost/infracost-usage-example.yml".into());
    for input in &inputs {
        let doc = json_of(&["price", input, "--json"]);
        assert_fits(&v, &doc, &format!("price {input} --json"));
        let free = json_of(&["price", input, "--json", "--free-tier"]);
        assert_fits(&v, &free, &format!("price {input} --json --free-tier"));
    }
}

/// A tiny experiment in a fresh directory; returns the directory.
fn tiny_experiment(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("schema")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("tiny.toml"),
        r#"name = "tiny"
duration = "1m"
warmup = "5s"

[[producer]]
name = "web"
target = "sqs:jobs"
load = { process = "poisson", rate_per_s = 10 }

[[queue]]
name = "jobs"

[[consumer]]
name = "workers"
source = "sqs:jobs"
workers = 2
service_time = { dist = "exponential", mean = "50ms" }
"#,
    )
    .unwrap();
    std::fs::write(
        d.join("exp.toml"),
        r#"name = "tiny-schema"
model = "tiny.toml"
replications = 2
metrics = ["consumer.workers.latency_s.p99"]

[axes]
"consumer.workers.workers" = [1, 2]
"#,
    )
    .unwrap();
    d
}

fn sweep_json(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("sweep.json")).expect("sweep.json written");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_sweeps_and_a_shards_sweep_json_fit_the_sweep_schema() {
    let v = validator("sweep");
    let d = tiny_experiment("sweep");
    let o = aqueduct(&d, &["sweep", "exp.toml", "--out", "whole", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let whole = sweep_json(&d.join("whole"));
    assert!(whole.get("shard").is_none());
    assert_fits(&v, &whole, "sweep.json of a whole sweep");
    let o = aqueduct(
        &d,
        &[
            "sweep", "exp.toml", "--out", "half", "--shard", "2/2", "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let half = sweep_json(&d.join("half"));
    assert!(half.get("shard").is_some());
    assert_fits(&v, &half, "sweep.json of a shard");
    // The negative checks: a required key missing, a renamed key, a wrong type.
    let mut bad = whole.clone();
    bad.as_object_mut().unwrap().remove("fingerprint");
    assert!(!v.is_valid(&bad), "sweep.json without `fingerprint` passed");
    let mut bad = half.clone();
    let shard = bad["shard"].as_object_mut().unwrap();
    let k = shard.remove("count").unwrap();
    shard.insert("of".into(), k);
    assert!(!v.is_valid(&bad), "a shard's `count` renamed `of` passed");
    let mut bad = whole;
    bad["points"] = Value::from("2");
    assert!(!v.is_valid(&bad), "`points` as a string passed");
}

/// `doc` with the key at `path` (slash-separated, array indices as numbers) renamed to
/// `to`, or removed when `to` is None.
fn without(doc: &Value, path: &str, to: Option<&str>) -> Value {
    let mut doc = doc.clone();
    let (parent, key) = path.rsplit_once('/').unwrap_or(("", path));
    let mut at = &mut doc;
    for p in parent.split('/').filter(|p| !p.is_empty()) {
        at = match p.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[p],
        };
    }
    let obj = at
        .as_object_mut()
        .unwrap_or_else(|| panic!("{path}: not in an object"));
    let v = obj
        .remove(key)
        .unwrap_or_else(|| panic!("{path}: no such key"));
    if let Some(to) = to {
        obj.insert(to.into(), v);
    }
    doc
}

#[test]
fn a_run_json_with_a_key_missing_renamed_or_of_the_wrong_type_fails_the_run_schema() {
    let v = validator("run");
    let doc = json_of(&["run", "models/default.toml", "--json", "--duration", "2m"]);
    assert_fits(&v, &doc, "run models/default.toml --json");
    // `run --out`'s run.json is the same document.
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schema-run-out");
    let _ = std::fs::remove_dir_all(&out);
    let o = aqueduct(
        root(),
        &[
            "run",
            "models/default.toml",
            "--duration",
            "2m",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run_json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_fits(&v, &run_json, "run.json of run --out");
    // Where the default model's consumer reports its latency.
    let c = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["kind"] == "consumer" && c.get("latency_s").is_some())
        .expect("the default model has a consumer reporting latency_s");
    let broken = [
        ("accounting missing", without(&doc, "accounting", None)),
        (
            "cost.total renamed",
            without(&doc, "cost/total", Some("totl")),
        ),
        (
            "an accounting counter renamed",
            without(&doc, "accounting/lost", Some("losts")),
        ),
        (
            "a bill line's usd missing",
            without(&doc, "cost/lines/0/usd", None),
        ),
        (
            "a component's name missing",
            without(&doc, &format!("components/{c}/name"), None),
        ),
        (
            "a latency summary's p99 renamed",
            without(&doc, &format!("components/{c}/latency_s/p99"), Some("p_99")),
        ),
        ("warnings missing", without(&doc, "warnings", None)),
        ("an unknown top-level key", {
            let mut d = doc.clone();
            d["surprise"] = Value::from(1);
            d
        }),
        ("seed as a string", {
            let mut d = doc.clone();
            d["seed"] = Value::from("1");
            d
        }),
        ("a component kind unknown", {
            let mut d = doc.clone();
            d["components"][c]["kind"] = Value::from("consumr");
            d
        }),
        ("a counter as a list", {
            let mut d = doc.clone();
            d["components"][c]["processed"] = Value::from(vec![1, 2]);
            d
        }),
        ("a metric keyed without a path", {
            let mut d = doc.clone();
            d["metrics"]["total"] = Value::from(12.0);
            d
        }),
        ("a metric as text", {
            let mut d = doc.clone();
            d["metrics"]["cost.total"] = Value::from("12");
            d
        }),
    ];
    for (what, bad) in &broken {
        assert!(
            !errors(&v, bad).is_empty(),
            "run --json with {what} still fits the schema"
        );
    }
}

#[test]
fn a_price_json_with_a_key_missing_or_of_the_wrong_type_fails_the_price_schema() {
    let v = validator("price");
    let doc = json_of(&["price", "models/default.toml", "--json"]);
    assert_fits(&v, &doc, "price models/default.toml --json");
    let broken = [
        ("input_kind missing", without(&doc, "input_kind", None)),
        ("cost missing", without(&doc, "cost", None)),
        ("the flat total missing", without(&doc, "total", None)),
        (
            "a capacity figure's verdict renamed",
            without(&doc, "capacity/0/verdict", Some("verdikt")),
        ),
        ("input_kind unknown", {
            let mut d = doc.clone();
            d["input_kind"] = Value::from("modle");
            d
        }),
        ("ok as text", {
            let mut d = doc.clone();
            d["ok"] = Value::from("true");
            d
        }),
    ];
    for (what, bad) in &broken {
        assert!(
            !errors(&v, bad).is_empty(),
            "price --json with {what} still fits the schema"
        );
    }
}
