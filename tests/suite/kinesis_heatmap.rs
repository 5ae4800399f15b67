//! Per-shard write utilisation (issue 19): the series' per-shard columns and the heat map
//! drawn from them.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_aqueduct");

#[test]
fn per_shard_write_utilisation_agrees_with_the_streams_maximum_and_is_drawn() {
    // Every bundled model with a provisioned stream: at every sample, the largest shard's
    // utilisation is the stream's `write_utilization_max`; `run --out` draws the heat map.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kinesis-heatmap");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let mut drawn = 0;
    let mut hot = 0;
    for m in ["clickstream", "hot-key", "firehose-s3", "flink-iot"] {
        let out = scratch.join(m);
        let o = Command::new(BIN)
            .args([
                "run",
                &format!("models/{m}.toml"),
                "--duration",
                "3m",
                "--out",
            ])
            .arg(&out)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{m}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let mut rd = csv::Reader::from_path(out.join("series.csv")).unwrap();
        let h: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<Vec<f64>> = rd
            .records()
            .map(|r| {
                r.unwrap()
                    .iter()
                    .map(|x| x.parse().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let maxima: Vec<(usize, &str)> = h
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.strip_prefix("stream.")
                    .and_then(|c| c.strip_suffix(".write_utilization_max"))
                    .map(|name| (i, name))
            })
            .collect();
        for (i, name) in maxima {
            let shards: Vec<usize> = h
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.starts_with(&format!("stream.{name}.shard-"))
                        && c.ends_with(".write_utilization")
                })
                .map(|(k, _)| k)
                .collect();
            if shards.is_empty() {
                continue;
            }
            for r in &rows {
                let top = shards.iter().map(|k| r[*k]).fold(0.0, f64::max);
                assert_eq!(top, r[i], "{m}: stream {name} at t = {}", r[0]);
                hot += usize::from(top > 0.5);
            }
            assert!(out.join("shard-heatmap.svg").is_file(), "{m}");
            let svg = std::fs::read_to_string(out.join("shard-heatmap.svg")).unwrap();
            assert!(svg.contains(&format!("Stream {name}")), "{m}");
            drawn += 1;
        }
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        assert_eq!(
            html.contains("chart-shard-heatmap"),
            out.join("shard-heatmap.svg").is_file(),
            "{m}"
        );
    }
    assert!(drawn >= 2, "{drawn} streams drawn");
    assert!(hot > 0, "no shard was ever busy");
}
