//! The text of `aqueduct run` (issue 19): tables that fit a 100-column terminal, one
//! number per column, the warm-up's part said.

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
        // The component tables and the messages line come before the bill.
        let text = out.split("\nmonthly cost").next().unwrap();
        for line in text.lines().skip(1) {
            assert!(
                line.chars().count() <= 100,
                "{}: a line of {} characters:\n{line}",
                m.display(),
                line.chars().count()
            );
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
