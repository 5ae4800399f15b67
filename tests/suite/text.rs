//! The text of `aqueduct run` and `aqueduct price` (issue 19): tables that fit a
//! 100-column terminal, one number per column, the warm-up's part said.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_aqueduct");

#[test]
fn every_bundled_models_tables_fit_100_columns_with_one_number_per_cell() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut models: Vec<_> = std::fs::read_dir(root.join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    models.sort();
    assert!(models.len() >= 10);
    let mut turned = 0;
    for m in &models {
        let o = Command::new(BIN)
            .args(["run", m.to_str().unwrap(), "--duration", "2m"])
            .current_dir(root)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{}: {}",
            m.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        // Every line fits, the bill's and the warnings' included; and so does every line
        // of `price` (its bill, the capacity answer with its long descriptions and
        // verdicts, its notes), when standard output is not a terminal.
        let price = Command::new(BIN)
            .args(["price", m.to_str().unwrap()])
            .current_dir(root)
            .output()
            .unwrap();
        let price = String::from_utf8_lossy(&price.stdout);
        assert!(price.contains("total: $"), "{}: {price}", m.display());
        for line in out.lines().chain(price.lines()) {
            assert!(
                line.chars().count() <= 100,
                "{}: a line of {} characters:\n{line}",
                m.display(),
                line.chars().count()
            );
        }
        // The component tables and the messages line come before the bill.
        let text = out.split("\nmonthly cost").next().unwrap();
        for line in text.lines() {
            // A latency is two columns (p50, p99), not "6.8ms / 36.31s" in one.
            if !line.starts_with("insight:") && !line.starts_with("  ") {
                assert!(!line.contains(" / "), "{}: {line}", m.display());
            }
        }
        assert!(
            text.contains("messages (whole run, warm-up included):"),
            "{}",
            m.display()
        );
        // A turned table: a row per field, such as the queue's `received`.
        turned += text.lines().filter(|l| l.starts_with("received ")).count();
    }
    assert!(turned > 0, "no table was turned");
}

#[test]
fn the_series_holds_each_intervals_p99_latency_of_a_pool() {
    // Issue 19: latency over time. A pool of 20 workers serves 5 messages/s that each take
    // 200 ms (no queueing): every interval's p99 lies near the run's latency, within the
    // 19% buckets of the interval histogram; an interval where no message finished (one
    // second with no arrival happens once in e^5 ≈ 150) has no value.
    let model = r#"name = "lat"
duration = "5m"
warmup = "30s"
seed = 3
[[producer]]
name = "p"
target = "sqs:q"
load = { process = "poisson", rate_per_s = 5 }
[[queue]]
name = "q"
[[consumer]]
name = "c"
source = "sqs:q"
workers = 20
receive = { wait = "20s" }
service_time = "200ms"
"#;
    let out = crate::common::run(model, 1);
    let col = out
        .series
        .column("consumer.c.latency_p99_s")
        .expect("a latency column");
    let lat = &out
        .summary
        .components
        .iter()
        .find(|c| c.kind == "consumer" && c.name == "c")
        .unwrap()
        .fields["latency_s"];
    let (p50, max) = (lat["p50"].as_f64().unwrap(), lat["max"].as_f64().unwrap());
    let finite: Vec<f64> = col.iter().copied().filter(|x| x.is_finite()).collect();
    assert!(finite.len() * 100 >= col.len() * 95, "{col:?}");
    assert!(finite.len() < col.len());
    for x in &finite {
        assert!(
            *x >= 0.85 * p50 && *x <= 1.15 * max,
            "{x} outside {p50}..{max}"
        );
    }
    // The first sample (t = 0) has seen no message: no value, an empty CSV cell.
    assert!(col[0].is_nan());
    let mut csv = Vec::new();
    out.series.write_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.lines().nth(1).unwrap().ends_with(','), "{csv}");
    assert!(!csv.contains("NaN"));
}
