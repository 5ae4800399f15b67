//! Interoperability (issue 18): infracost usage files read as they are (YAML, priced by
//! `aqueduct price`), Terraform plans imported as models, and infracost usage files
//! written from a run.
//!
//! The infracost tests price infracost's own published example file (an excerpt kept
//! verbatim in `tests/data/infracost/`, see its README for source and licence); the key
//! names are those of infracost's `internal/resources/aws/*.go` usage schemas.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_aqueduct");
const EXAMPLE: &str = "tests/data/infracost/infracost-usage-example.yml";

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh directory for one test's files.
fn dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("aqueduct-interop-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(d: &Path, name: &str, text: &str) -> String {
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The JSON document of a successful `price --json`.
fn priced(args: &[&str]) -> Value {
    let o = run(args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("valid JSON")
}

/// The quantity of the bill line of `service` / `component` whose item starts with
/// `item` (0 when there is none).
fn qty(doc: &Value, service: &str, component: &str, item: &str) -> f64 {
    let none = Vec::new();
    doc["lines"]
        .as_array()
        .unwrap()
        .iter()
        .chain(doc["unpriced"].as_array().unwrap_or(&none))
        .filter(|l| {
            l["service"] == service
                && l["component"] == component
                && l["item"].as_str().unwrap().starts_with(item)
        })
        .map(|l| l["quantity"].as_f64().unwrap())
        .sum()
}

fn notes(doc: &Value) -> String {
    doc["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn fails_with(o: &Output, needles: &[&str]) {
    assert_eq!(
        o.status.code(),
        Some(2),
        "stdout {} stderr {}",
        stdout(o),
        stderr(o)
    );
    let e = stderr(o);
    for n in needles {
        assert!(e.contains(n), "`{n}` not in: {e}");
    }
}

/// The value of `key` of the resource `address` in the example file (its text, read
/// here so that the test follows the file).
fn example_value(address: &str, key: &str) -> f64 {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE)).unwrap();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("  ") && !line.starts_with("   ") {
            inside = line.trim().trim_end_matches(':') == address;
            continue;
        }
        let t = line.trim();
        if inside && t.starts_with(&format!("{key}:")) {
            let v = t[key.len() + 1..].split('#').next().unwrap().trim();
            return v.parse().unwrap();
        }
    }
    panic!("no {address}.{key} in the example file")
}

// ----- infracost usage files: read ------------------------------------------------------------

#[test]
fn infracost_example_prices_every_type_aqueduct_models() {
    let doc = priced(&["price", EXAMPLE, "--json"]);
    assert_eq!(doc["input_kind"], "infracost");
    let v = example_value;
    // SQS: monthly requests of 64 KB, one billed request each.
    assert_eq!(
        qty(&doc, "sqs", "my_queue", "standard requests"),
        v("aws_sqs_queue.my_queue", "monthly_requests")
    );
    // SNS topic: publishes, and each delivered to every HTTP and email subscription;
    // `kinesis_subscriptions` (0) maps to Firehose deliveries; SMS are not priced.
    let publishes = v("aws_sns_topic.my_sns_topic", "monthly_requests");
    assert_eq!(
        qty(&doc, "sns", "my_sns_topic", "publish requests"),
        publishes
    );
    assert_eq!(
        qty(&doc, "sns", "my_sns_topic", "deliveries to http"),
        publishes * v("aws_sns_topic.my_sns_topic", "http_subscriptions")
    );
    assert_eq!(
        qty(&doc, "sns", "my_sns_topic", "deliveries to email"),
        publishes * v("aws_sns_topic.my_sns_topic", "email_subscriptions")
    );
    assert_eq!(
        qty(&doc, "sns", "my_sns_topic", "deliveries to sms"),
        publishes * v("aws_sns_topic.my_sns_topic", "sms_subscriptions")
    );
    // The subscription's (deprecated) requests: HTTP/S deliveries, as infracost prices them.
    assert_eq!(
        qty(&doc, "sns", "my_topic_subscription", "deliveries to http"),
        v(
            "aws_sns_topic_subscription.my_topic_subscription",
            "monthly_requests"
        )
    );
    // Kinesis: both modes' keys are given; priced as provisioned.
    let k = "aws_kinesis_stream.my_kinesis";
    assert_eq!(
        qty(
            &doc,
            "kinesis_data_streams",
            "my_kinesis",
            "PUT payload units"
        ),
        v(k, "monthly_provisioned_put_units")
    );
    assert_eq!(
        qty(
            &doc,
            "kinesis_data_streams",
            "my_kinesis",
            "enhanced fan-out data"
        ),
        v(k, "monthly_provisioned_efo_data_out_gb")
    );
    assert_eq!(
        qty(
            &doc,
            "kinesis_data_streams",
            "my_kinesis",
            "enhanced fan-out consumer"
        ),
        v(k, "monthly_provisioned_efo_consumer_hours")
    );
    // Firehose: GB ingested as given.
    assert_eq!(
        qty(&doc, "firehose", "my_kinesis", "ingest"),
        v(
            "aws_kinesis_firehose_delivery_stream.my_kinesis",
            "monthly_data_ingested_gb"
        )
    );
    // Flink: KPUs all month (730 h) plus backups.
    let f = "aws_kinesisanalyticsv2_application.my_kinesis";
    assert_eq!(
        qty(&doc, "managed_flink", "my_kinesis", "application KPU-hours"),
        v(f, "kinesis_processing_units") * 730.0
    );
    assert_eq!(
        qty(
            &doc,
            "managed_flink",
            "my_kinesis",
            "durable application backups"
        ),
        v(f, "durable_application_backup_gb")
    );
    // Lambda: requests × duration × 128 MB.
    let l = "aws_lambda_function.my_function";
    let req = v(l, "monthly_requests");
    assert_eq!(qty(&doc, "lambda", "my_function", "requests"), req);
    let gbs = req * v(l, "request_duration_ms") / 1000.0 * 128.0 / 1024.0;
    assert!((qty(&doc, "lambda", "my_function", "duration") - gbs).abs() < 1e-6);
    // The defaults apply to the listed function: no second function.
    assert_eq!(qty(&doc, "lambda", "aws_lambda_function", "requests"), 0.0);

    let n = notes(&doc);
    for skipped in [
        "aws_acmpca_certificate_authority.my_private_ca",
        "aws_dx_connection.my_dx_connection",
        "aws_kinesisanalyticsv2_application_snapshot.my_kinesis",
        "aws_lambda_provisioned_concurrency_config.my_config",
        "google_pubsub_topic.my_topic",
    ] {
        assert!(n.contains(skipped), "{skipped} not listed as skipped: {n}");
    }
    for not_priced in [
        "sms_notification_price",
        "macos_subscriptions",
        "monthly_provisioned_extended_retention_gb",
        "monthly_on_demand_data_in_gb",
        "aws_kinesis_analytics_application.my_kinesis",
    ] {
        assert!(n.contains(not_priced), "{not_priced} not in the notes: {n}");
    }
}

#[test]
fn infracost_yaml_prices_as_the_same_toml_usage_file() {
    let d = dir("same-as-toml");
    let yaml = write(
        &d,
        "u.yml",
        "version: 0.1\nresource_usage:\n  aws_sqs_queue.orders:\n    monthly_requests: 3_000_000\n    request_size_kb: 130\n  aws_lambda_function.worker:\n    monthly_requests: 2500000\n    average_request_duration: 87.5\n    memory_mb: 512\n    architecture: arm64\n  aws_kinesis_stream.clicks:\n    monthly_on_demand_data_in_gb: 12.5\n    monthly_on_demand_data_out_gb: 25\n",
    );
    let toml = write(
        &d,
        "u.toml",
        "[sqs.orders]\nmonthly_requests = 3000000\nrequest_size_kb = 130\n[lambda.worker]\nmonthly_requests = 2500000\nrequest_duration_ms = 87.5\nmemory_mb = 512\narchitecture = \"arm64\"\n[kinesis.clicks]\nmode = \"on_demand\"\nmonthly_on_demand_data_in_gb = 12.5\nmonthly_on_demand_data_out_gb = 25\n",
    );
    let a = priced(&["price", &yaml, "--json"]);
    let b = priced(&["price", &toml, "--json"]);
    assert_eq!(a["lines"], b["lines"]);
    assert_eq!(a["total"], b["total"]);
    // 130 KB is three 64 KB chunks.
    assert_eq!(qty(&a, "sqs", "orders", "standard requests"), 9_000_000.0);
}

#[test]
fn infracost_type_defaults_fill_missing_keys_or_price_one_resource() {
    let d = dir("defaults");
    let f = write(
        &d,
        "u.yaml",
        "version: 0.1\nresource_type_default_usage:\n  aws_lambda_function:\n    monthly_requests: 1000\n    request_duration_ms: 200\nresource_usage:\n  aws_lambda_function.a:\n    monthly_requests: 5000\n  module.m.aws_lambda_function.b[0]:\n",
    );
    let doc = priced(&["price", &f, "--json"]);
    assert_eq!(qty(&doc, "lambda", "a", "requests"), 5000.0);
    let gbs = |req: f64| req * 0.2 * 128.0 / 1024.0;
    assert!((qty(&doc, "lambda", "a", "duration") - gbs(5000.0)).abs() < 1e-9);
    assert_eq!(qty(&doc, "lambda", "module.m.b[0]", "requests"), 1000.0);
    // No resource of the type: one resource named by the type, with a note.
    let g = write(
        &d,
        "only-defaults.yml",
        "version: 0.1\nresource_type_default_usage:\n  aws_sqs_queue:\n    monthly_requests: 7000\n",
    );
    let doc = priced(&["price", &g, "--json"]);
    assert_eq!(
        qty(&doc, "sqs", "aws_sqs_queue", "standard requests"),
        7000.0
    );
    assert!(notes(&doc).contains("priced as one resource named `aws_sqs_queue`"));
}

#[test]
fn infracost_file_is_recognised_by_its_content() {
    let d = dir("content");
    let f = write(
        &d,
        "usage.txt",
        "# from infracost\nversion: 0.1\nresource_usage:\n  aws_sqs_queue.q:\n    monthly_requests: 10\n",
    );
    let doc = priced(&["price", &f, "--json"]);
    assert_eq!(qty(&doc, "sqs", "q", "standard requests"), 10.0);
}

#[test]
fn infracost_unknown_key_names_the_nearest_at_its_line() {
    let d = dir("unknown-key");
    let f = write(
        &d,
        "u.yml",
        "version: 0.1\nresource_usage:\n  aws_sns_topic.t:\n    monthly_requests: 10\n    http_subscription: 2\n",
    );
    fails_with(
        &run(&["price", &f]),
        &[
            &format!("{f}:5:"),
            "http_subscription",
            "did you mean `http_subscriptions`",
        ],
    );
    // A value of the wrong type is refused at its own line, under infracost's name.
    let g = write(
        &d,
        "v.yml",
        "version: 0.1\nresource_usage:\n  aws_sns_topic.t:\n    kinesis_subscriptions: two\n",
    );
    fails_with(
        &run(&["price", &g]),
        &[
            &format!("{g}:4:"),
            "kinesis_subscriptions",
            "expected a number",
        ],
    );
    // A top-level key, and the version.
    let h = write(&d, "w.yml", "version: 0.1\nresource_usgae: {}\n");
    fails_with(
        &run(&["price", &h]),
        &[&format!("{h}:2:"), "did you mean `resource_usage`"],
    );
    let i = write(&d, "x.yml", "version: 2\nresource_usage: {}\n");
    fails_with(&run(&["price", &i]), &[&format!("{i}:1:"), "expected 0.1"]);
}

#[test]
fn infracost_bad_yaml_is_refused_with_its_line() {
    let d = dir("bad-yaml");
    let f = write(
        &d,
        "u.yml",
        "version: 0.1\nresource_usage:\n  aws_sqs_queue.q:\n    monthly_requests: [1, 2\n",
    );
    fails_with(&run(&["price", &f]), &[&format!("{f}:"), "not valid YAML"]);
    let g = write(&d, "a.yml", "version: 0.1\nresource_usage: &a\n  x: *a\n");
    fails_with(&run(&["price", &g]), &[&format!("{g}:"), "anchors"]);
}

#[test]
fn infracost_addresses_give_names() {
    use aqueduct::interop::infracost::split_address;
    let s = |a: &str| split_address(a).map(|(t, n)| format!("{t} {n}"));
    assert_eq!(s("aws_sqs_queue.orders").unwrap(), "aws_sqs_queue orders");
    assert_eq!(
        s("module.a.module.b.aws_sqs_queue.q[0]").unwrap(),
        "aws_sqs_queue module.a.module.b.q[0]"
    );
    assert_eq!(
        s("aws_lambda_function.f[\"x.y\"]").unwrap(),
        "aws_lambda_function f[\"x.y\"]"
    );
    assert_eq!(
        s("aws_vpc_endpoint").unwrap(),
        "aws_vpc_endpoint aws_vpc_endpoint"
    );
    assert!(s("data.aws_sqs_queue.q").is_none());
}

// ----- Terraform import ---------------------------------------------------------------------

/// Imports `plan` (a file of `tests/data/terraform/`) into a fresh directory; returns the
/// model's path and the command's output.
fn import(test: &str, plan: &str) -> (PathBuf, Output) {
    let d = dir(test);
    let out = d.join("imported.toml");
    let o = run(&[
        "import",
        "terraform",
        &format!("tests/data/terraform/{plan}"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    (out, o)
}

fn table(path: &Path) -> toml::Table {
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bundled(model: &str) -> toml::Table {
    table(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(model),
    )
}

/// The imported model completed with what Terraform does not hold, from the bundled
/// model: its header, producers and worker pools, and its functions' behaviour.
fn completed(mut imported: toml::Table, bundled: &toml::Table) -> toml::Table {
    for k in ["name", "description", "duration", "warmup", "seed"] {
        imported.remove(k);
        if let Some(v) = bundled.get(k) {
            imported.insert(k.into(), v.clone());
        }
    }
    for k in ["producer", "consumer", "scenario"] {
        imported.remove(k);
        if let Some(v) = bundled.get(k) {
            imported.insert(k.into(), v.clone());
        }
    }
    if let Some(toml::Value::Array(fns)) = imported.get_mut("lambda") {
        for f in fns {
            let f = f.as_table_mut().unwrap();
            let theirs = bundled["lambda"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["name"] == f["name"])
                .expect("the bundled model has the function")
                .as_table()
                .unwrap();
            for k in ["duration", "per_record", "failure_probability"] {
                if let Some(v) = theirs.get(k) {
                    f.insert(k.into(), v.clone());
                }
            }
        }
    }
    imported
}

/// The components of a model, parsed and validated, as comparable text.
fn components(t: &toml::Table) -> String {
    let text = toml::to_string(t).unwrap();
    let a = aqueduct::model::load_str(&text, "m.toml", Path::new(env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    format!(
        "queues {:#?}\ntopics {:#?}\nsubscriptions {:#?}\nlambdas {:#?}\nstreams {:#?}\nfirehoses {:#?}",
        a.queues, a.topics, a.subscriptions, a.lambdas, a.streams, a.firehoses
    )
}

#[test]
fn import_sns_fanout_plan_gives_the_bundled_model() {
    let (path, o) = import("sns-fanout", "sns-fanout.plan.json");
    let imported = table(&path);
    let b = bundled("sns-fanout.toml");
    assert_eq!(components(&completed(imported, &b)), components(&b));
    // The queue policies and the IAM role are listed as skipped, on stderr and in the model.
    let text = std::fs::read_to_string(&path).unwrap();
    for s in ["aws_sqs_queue_policy.billing", "aws_iam_role.workers"] {
        assert!(
            stderr(&o).contains(&format!("skipped: {s}")),
            "{}",
            stderr(&o)
        );
        assert!(text.contains(&format!("#   {s}")), "{text}");
    }
    // As imported, validate names what is missing: the load.
    let v = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(2), "{}", stdout(&v));
    let e = stderr(&v);
    assert!(
        e.contains("producer[\"PLACEHOLDER\"]") && e.contains("missing field `load`"),
        "{e}"
    );
}

#[test]
fn import_sqs_lambda_state_gives_the_bundled_model() {
    let (path, o) = import("sqs-lambda", "sqs-lambda.state.json");
    let imported = table(&path);
    let b = bundled("sqs-lambda.toml");
    assert_eq!(components(&completed(imported, &b)), components(&b));
    assert!(stderr(&o).contains("skipped: aws_s3_bucket.thumbnails"));
    // As imported, the function's duration is named as missing.
    let v = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(2));
    assert!(
        stderr(&v).contains("missing field `duration`"),
        "{}",
        stderr(&v)
    );
}

#[test]
fn import_resolves_unknown_references_and_leaves_what_cannot_be_known() {
    let (path, o) = import("fifo-payments", "fifo-payments.plan.json");
    assert!(
        stderr(&o).contains("maxReceiveCount is left for you"),
        "{}",
        stderr(&o)
    );
    let b = bundled("fifo-payments.toml");
    let mut t = completed(table(&path), &b);
    // With the load given, validate names the redrive count the plan could not know.
    let text = toml::to_string(&t).unwrap();
    let f = path.with_file_name("with-load.toml");
    std::fs::write(&f, &text).unwrap();
    let v = run(&["validate", f.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(2));
    assert!(stderr(&v).contains("max_receive_count"), "{}", stderr(&v));
    // Given, the model is the bundled one: the module's queue found its dead-letter queue
    // through the configuration's references.
    let q = t["queue"].as_array_mut().unwrap()[0]
        .as_table_mut()
        .unwrap();
    q["dead_letter"]
        .as_table_mut()
        .unwrap()
        .insert("max_receive_count".into(), toml::Value::Integer(3));
    assert_eq!(components(&t), components(&b));
}

#[test]
fn import_refuses_bad_json_with_file_and_place() {
    let d = dir("bad-json");
    let f = write(
        &d,
        "plan.json",
        "{\n  \"planned_values\": {\n    \"root_module\": [\n",
    );
    fails_with(
        &run(&["import", "terraform", &f]),
        &[&format!("{f}:"), "not valid JSON"],
    );
    let g = write(
        &d,
        "shape.json",
        r#"{"format_version":"1.2","planned_values":{"root_module":{"resources":{"address":"x"}}}}"#,
    );
    fails_with(
        &run(&["import", "terraform", &g]),
        &[
            &g,
            "planned_values.root_module.resources",
            "expected an array",
        ],
    );
    let h = write(&d, "other.json", r#"{"format_version":"1.2"}"#);
    fails_with(
        &run(&["import", "terraform", &h]),
        &[&h, "planned_values", "terraform show -json"],
    );
}

#[test]
fn import_lists_unmodelled_resources_and_never_fails_on_them() {
    let d = dir("unmodelled");
    let f = write(
        &d,
        "plan.json",
        r#"{"format_version":"1.2","terraform_version":"1.9.5","planned_values":{"root_module":{"resources":[
          {"address":"aws_dynamodb_table.t","mode":"managed","type":"aws_dynamodb_table","name":"t","values":{"name":"t"}},
          {"address":"data.aws_caller_identity.me","mode":"data","type":"aws_caller_identity","name":"me","values":{}},
          {"address":"aws_sqs_queue.jobs","mode":"managed","type":"aws_sqs_queue","name":"jobs","values":{"name":"jobs","visibility_timeout_seconds":45}}
        ]}}}"#,
    );
    let o = run(&["import", "terraform", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("skipped: aws_dynamodb_table.t"));
    let t: toml::Table = toml::from_str(&stdout(&o)).unwrap();
    let q = &t["queue"].as_array().unwrap()[0];
    assert_eq!(q["name"].as_str(), Some("jobs"));
    assert_eq!(q["visibility_timeout"].as_str(), Some("45s"));
    assert_eq!(t["producer"][0]["target"].as_str(), Some("sqs:jobs"));
}

#[test]
fn terraform_addresses_of_model_names() {
    use aqueduct::interop::terraform::address_of;
    assert_eq!(
        address_of("aws_sqs_queue", "ledger.fifo"),
        "aws_sqs_queue.ledger_fifo"
    );
    assert_eq!(
        address_of("aws_lambda_function", "make-thumbnail"),
        "aws_lambda_function.make-thumbnail"
    );
    assert_eq!(address_of("aws_sns_topic", "1st"), "aws_sns_topic._1st");
}

// ----- infracost usage files: written from a run ----------------------------------------------

/// Runs a bundled model for `duration` writing its infracost usage file; prices the file.
/// Returns the run's bill, the file's bill and the file's text.
fn round_trip(model: &str, duration: &str) -> (Value, Value, String) {
    let d = dir(&format!("round-trip-{model}"));
    let yml = d.join(format!("{model}.yml"));
    // A model whose month is made of scenarios writes no usage file: its window (the
    // model without the scenarios) does.
    let mut path = format!("models/{model}.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    if let Some(i) = text.find("\n[[scenario]]") {
        let copy = d.join(format!("{model}.toml"));
        std::fs::write(&copy, &text[..i]).unwrap();
        path = copy.to_str().unwrap().to_string();
    }
    let o = run(&[
        "run",
        &path,
        "--duration",
        duration,
        "--json",
        "--infracost-usage",
        yml.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ran: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let priced = priced(&["price", yml.to_str().unwrap(), "--json"]);
    (
        ran["cost"].clone(),
        priced,
        std::fs::read_to_string(&yml).unwrap(),
    )
}

/// Every service's subtotal of the written file's bill equals the run's to the cent, but
/// S3 (written by Firehose and Flink backups; infracost prices S3 per bucket, and aqueduct
/// has no usage keys for it).
fn assert_same_bill(model: &str, ran: &Value, priced: &Value) {
    let services = ran["services"].as_object().unwrap();
    let mut compared = 0;
    for (service, usd) in services {
        if service == "s3" {
            continue;
        }
        let a = usd.as_f64().unwrap();
        let b = priced["services"][service].as_f64().unwrap_or(0.0);
        assert!(
            (a - b).abs() < 0.005,
            "{model}: {service} ${a:.4} in the run, ${b:.4} from its usage file"
        );
        compared += (a > 0.0) as usize;
    }
    assert!(compared > 0, "{model}: nothing billed");
    let s3 = ran["services"]["s3"].as_f64().unwrap_or(0.0);
    let total = |v: &Value| v["total"].as_f64().unwrap();
    assert!((total(ran) - s3 - total(priced)).abs() < 0.01);
}

#[test]
fn run_writes_an_infracost_usage_file_that_prices_as_the_run() {
    for model in [
        "sns-fanout",
        "sqs-lambda",
        "fifo-payments",
        "clickstream",
        "firehose-s3",
        "flink-iot",
    ] {
        let (ran, priced, text) = round_trip(model, "3m");
        assert_same_bill(model, &ran, &priced);
        // What infracost takes from Terraform is written, so nothing is assumed.
        assert!(
            !notes(&priced).contains("priced as a"),
            "{}",
            notes(&priced)
        );
        assert!(text.contains("version: 0.1\nresource_usage:\n"), "{text}");
    }
}

#[test]
fn written_usage_is_keyed_by_the_import_addresses() {
    use aqueduct::interop::terraform::address_of;
    let (_, priced, text) = round_trip("fifo-payments", "1m");
    // `ledger.fifo` is not a Terraform identifier: the import's mapping gives
    // `aws_sqs_queue.ledger_fifo`, and the queue stays FIFO through `fifo: true`.
    let addr = address_of("aws_sqs_queue", "ledger.fifo");
    assert_eq!(addr, "aws_sqs_queue.ledger_fifo");
    assert!(text.contains(&format!("  {addr}:\n")), "{text}");
    assert!(
        qty(&priced, "sqs", "ledger_fifo", "FIFO requests") > 0.0,
        "{priced}"
    );
    // The month factor is the bill's: monthly requests = the run's requests × factor.
    let (ran, _, text) = round_trip("sqs-lambda", "1m");
    let factor = ran["month_factor"].as_f64().unwrap();
    let requests = ran["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["service"] == "lambda" && l["item"] == "requests")
        .unwrap()["quantity"]
        .as_f64()
        .unwrap();
    let written: f64 = text
        .lines()
        .skip_while(|l| !l.starts_with("  aws_lambda_function.make-thumbnail:"))
        .find_map(|l| l.trim().strip_prefix("monthly_requests: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(factor > 1.0);
    assert!((written - requests).abs() < 1.0, "{written} vs {requests}");
}

#[test]
fn run_refuses_an_infracost_usage_path_it_cannot_write_before_running() {
    let o = run(&[
        "run",
        "models/default.toml",
        "--infracost-usage",
        "/nonexistent-folder/u.yml",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--infracost-usage"));
    assert!(stdout(&o).is_empty());
}

#[test]
fn import_streams_firehose_and_a_kinesis_mapping() {
    let (path, o) = import("stream-lambda", "stream-lambda.plan.json");
    assert!(stderr(&o).contains("starting_position LATEST is not modelled"));
    let mut t = table(&path);
    let streams = t["stream"].as_array().unwrap();
    assert_eq!(streams[0]["shards"].as_integer(), Some(4));
    assert_eq!(streams[0]["retention"].as_str(), Some("2d"));
    assert_eq!(streams[1]["mode"].as_str(), Some("on_demand"));
    let f = &t["firehose"][0];
    assert_eq!(f["source"].as_str(), Some("kinesis:clicks"));
    assert_eq!(f["buffer"]["size"].as_str(), Some("64MiB"));
    assert_eq!(f["buffer"]["interval"].as_str(), Some("1m"));
    let l = &t["lambda"][0];
    assert_eq!(l["source"].as_str(), Some("kinesis:clicks"));
    assert_eq!(l["batch_size"].as_integer(), Some(100));
    assert_eq!(l["batching_window"].as_str(), Some("5s"));
    assert_eq!(l["parallelization_factor"].as_integer(), Some(2));
    assert_eq!(l["maximum_retry_attempts"].as_integer(), Some(3));
    assert_eq!(l["bisect_on_error"].as_bool(), Some(true));
    // With the load and the function's duration given, the model is valid and runs.
    let p = t["producer"].as_array_mut().unwrap()[0]
        .as_table_mut()
        .unwrap();
    p.insert(
        "load".into(),
        toml::Value::Table(toml::from_str("process = \"poisson\"\nrate_per_s = 20").unwrap()),
    );
    t["lambda"].as_array_mut().unwrap()[0]
        .as_table_mut()
        .unwrap()
        .insert("duration".into(), toml::Value::String("40ms".into()));
    let done = path.with_file_name("done.toml");
    std::fs::write(&done, toml::to_string(&t).unwrap()).unwrap();
    let r = run(&["run", done.to_str().unwrap(), "--duration", "1m", "--json"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
}

/// The usage keys of each resource type aqueduct prices, as infracost's source declares
/// them (`internal/resources/aws/*.go`, each resource's `UsageSchema`), with the keys of
/// its example file that the schema of the stored source lacks, and older aliases.
const INFRACOST_SCHEMAS: &[(&str, &[&str])] = &[
    (
        "aws_sqs_queue",
        &["monthly_requests", "request_size_kb", "request_size"],
    ),
    (
        "aws_sns_topic",
        &[
            "request_size_kb",
            "monthly_requests",
            "http_subscriptions",
            "email_subscriptions",
            "kinesis_subscriptions",
            "mobile_push_subscriptions",
            "macos_subscriptions",
            "sms_subscriptions",
            "sms_notification_price",
        ],
    ),
    (
        "aws_sns_topic_subscription",
        &["request_size_kb", "monthly_requests"],
    ),
    (
        "aws_kinesis_stream",
        &[
            "monthly_on_demand_data_in_gb",
            "monthly_on_demand_data_out_gb",
            "monthly_on_demand_efo_data_out_gb",
            "monthly_on_demand_extended_retention_gb",
            "monthly_on_demand_long_term_retention_gb",
            "monthly_provisioned_put_units",
            "monthly_provisioned_extended_retention_gb",
            "monthly_provisioned_long_term_retention_gb",
            "monthly_provisioned_long_term_retrieval_gb",
            "monthly_provisioned_efo_data_out_gb",
            "monthly_provisioned_efo_consumer_hours",
        ],
    ),
    (
        "aws_kinesis_firehose_delivery_stream",
        &["monthly_data_ingested_gb"],
    ),
    (
        "aws_kinesisanalyticsv2_application",
        &["kinesis_processing_units", "durable_application_backup_gb"],
    ),
    (
        "aws_kinesis_analytics_application",
        &["kinesis_processing_units"],
    ),
    (
        "aws_lambda_function",
        &[
            "request_duration_ms",
            "monthly_requests",
            "average_request_duration",
        ],
    ),
];

#[test]
fn every_infracost_key_of_the_priced_types_is_accepted() {
    let d = dir("schemas");
    for (tf, keys) in INFRACOST_SCHEMAS {
        let mut text = format!("version: 0.1\nresource_usage:\n  {tf}.r:\n");
        for k in *keys {
            // `average_request_duration` and `request_size` are aliases: one of a pair.
            if (*k == "average_request_duration" || *k == "request_size") && keys.len() > 1 {
                continue;
            }
            text.push_str(&format!("    {k}: 2\n"));
        }
        let f = write(&d, &format!("{tf}.yml"), &text);
        let o = run(&["price", &f, "--json"]);
        assert_eq!(o.status.code(), Some(0), "{tf}: {}", stderr(&o));
        for alias in ["average_request_duration", "request_size"] {
            if keys.contains(&alias) {
                let g = write(
                    &d,
                    &format!("{tf}-alias.yml"),
                    &format!("version: 0.1\nresource_usage:\n  {tf}.r:\n    {alias}: 2\n"),
                );
                let o = run(&["price", &g]);
                assert_eq!(o.status.code(), Some(0), "{tf} {alias}: {}", stderr(&o));
            }
        }
        let listed = aqueduct::interop::infracost::infracost_keys(tf).unwrap();
        for k in *keys {
            assert!(listed.contains(k), "{tf}: {k} is not in aqueduct's list");
        }
    }
}
