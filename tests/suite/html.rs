//! `report.html` (issue 19): what `run --out`, `sweep` and `compare` write, that it is
//! self-contained, escaped and the same bytes for the same seed, and that a real browser
//! (Debian's `chromium`, headless) renders every bundled report without a script error,
//! with its charts and tables in the DOM, keeping a screenshot under
//! `target/report-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_aqueduct");

/// A small model whose name holds every character HTML gives a meaning.
const MODEL: &str = r#"name = "tiny <b>&\"q\"'"
description = "a <script>alert(1)</script> & more"
duration = "2m"
warmup = "20s"
seed = 5

[[producer]]
name = "web"
target = "sqs:jobs"
load = { process = "poisson", rate_per_s = 20 }

[[queue]]
name = "jobs"

[[consumer]]
name = "workers"
source = "sqs:jobs"
workers = 2
receive = { wait = "20s" }
service_time = { dist = "exponential", mean = "50ms" }
"#;

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("html")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn aqueduct(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Checks what every page must be: a whole document, one inline script, no resource
/// fetched from anywhere (no `src`, no stylesheet link, no `url(`), the only `http` the
/// SVG namespace, and the inline SVG charts whole.
fn assert_self_contained(html: &str, what: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"), "{what}");
    assert!(html.trim_end().ends_with("</html>"), "{what}");
    assert_eq!(html.matches("<script>").count(), 1, "{what}");
    assert!(html.contains("data-report-script"), "{what}");
    for bad in [" src=", "<link", "url(", "@import"] {
        assert!(!html.contains(bad), "{what}: holds {bad:?}");
    }
    let http = html.matches("http").count();
    let xmlns = html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
    assert_eq!(http, xmlns, "{what}: refers to something on the network");
    assert_eq!(
        html.matches("<svg").count(),
        html.matches("</svg>").count(),
        "{what}"
    );
    assert!(!html.contains("wall_s"), "{what}: holds a wall-clock time");
    // Anchors are unique.
    let mut ids: Vec<&str> = html
        .split(" id=\"")
        .skip(1)
        .map(|t| t.split('"').next().unwrap())
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "{what}: an id is used twice");
}

#[test]
fn run_out_writes_the_json_the_series_the_charts_and_one_page() {
    let d = scratch("run-out");
    std::fs::write(d.join("m.toml"), MODEL).unwrap();
    let o = aqueduct(&d, &["run", "m.toml", "--out", "a"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("report.html"), "{stdout}");
    for f in [
        "run.json",
        "series.csv",
        "series.svg",
        "series.png",
        "latency.svg",
        "latency.png",
        "latency-cdf.svg",
        "latency-cdf.png",
        "cost.svg",
        "cost.png",
        "report.html",
    ] {
        assert!(d.join("a").join(f).is_file(), "run --out did not write {f}");
    }
    // run.json is the --json summary (less the wall-clock time).
    let o = aqueduct(&d, &["run", "m.toml", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("a/run.json")).unwrap()).unwrap();
    printed["wall_s"] = 0.into();
    written["wall_s"] = 0.into();
    assert_eq!(printed, written);

    let html = std::fs::read_to_string(d.join("a/report.html")).unwrap();
    assert_self_contained(&html, "run report.html");
    // The model's name and description are escaped; the raw markup never appears.
    assert!(!html.contains("<b>&"), "unescaped model name");
    assert!(html.contains("tiny &lt;b&gt;&amp;&quot;q&quot;&#39;"));
    // The answer first, then the charts with tooltips, the sortable tables, the bill
    // and the command.
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("report.html lacks {needle:?}"))
    };
    assert!(
        at("class=\"answer") < at("<h2 id=\"settings\"") && at("<h2 id=\"settings\"") < at("<svg")
    );
    assert!(
        at("<svg") < at("<h2 id=\"bill\"") && at("<h2 id=\"bill\"") < at("<h2 id=\"reproduce\"")
    );
    assert_eq!(html.matches("<svg").count(), 4);
    assert!(
        html.matches("<title>").count() > 4,
        "no tooltips on the marks"
    );
    assert!(html.contains("<table class=\"sortable\">"));
    assert!(html.contains("aqueduct run m.toml --seed 5 --out a"));
    // The warm-up is shaded in the time series.
    assert!(html.contains("warm-up (not measured)"));

    // Same seed, same bytes (into another directory: the command names it, nothing else).
    let o = aqueduct(&d, &["run", "m.toml", "--out", "b"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = std::fs::read_to_string(d.join("b/report.html")).unwrap();
    assert_eq!(html.replace("--out a", "--out b"), again);
    for f in [
        "series.svg",
        "latency.svg",
        "latency-cdf.svg",
        "cost.svg",
        "series.csv",
    ] {
        assert_eq!(
            std::fs::read(d.join("a").join(f)).unwrap(),
            std::fs::read(d.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
    // Another seed gives another page.
    let o = aqueduct(&d, &["run", "m.toml", "--seed", "6", "--out", "c"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let other = std::fs::read_to_string(d.join("c/report.html")).unwrap();
    assert_ne!(html.replace("--out a", "--out c"), other);
}

#[test]
fn a_sweep_writes_report_html_with_its_answer_charts_and_tables() {
    let d = scratch("sweep");
    std::fs::write(d.join("m.toml"), MODEL).unwrap();
    std::fs::write(
        d.join("exp.toml"),
        r#"name = "s"
description = "workers <i>&</i> \"load\""
model = "m.toml"
replications = 2
seed = 3
metrics = ["consumer.workers.latency_s.p99", "cost.total"]

[axes]
"consumer.workers.workers" = [1, 2, 3]

[slo]
"consumer.workers.latency_s.p99" = "< 2s"

[[plot]]
y = "consumer.workers.latency_s.p99"
x = "consumer.workers.workers"
"#,
    )
    .unwrap();
    let o = aqueduct(&d, &["sweep", "exp.toml", "--out", "out", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("report.html"), "{stdout}");
    let html = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert_self_contained(&html, "sweep report.html");
    assert!(!html.contains("<i>&</i>"));
    assert!(html.contains("workers &lt;i&gt;&amp;&lt;/i&gt; &quot;load&quot;"));
    let answer = html.find("<h2 id=\"answer\"").expect("an answer section");
    let charts = html.find("<h2 id=\"charts\"").expect("a chart section");
    assert!(answer < charts);
    // The metric chart, the cost chart, the time series and the latency distributions
    // of the chosen run and of the best point that misses the objective, each inline.
    assert_eq!(html.matches("<svg").count(), 6, "{html}");
    for id in ["bill", "series", "objectives", "summary", "reproduce"] {
        assert!(
            html.contains(&format!("<h2 id=\"{id}\"")),
            "no {id} section"
        );
    }
    assert!(html.contains("aqueduct sweep exp.toml --out out"));
    // Numbers sort by value: the cells carry it.
    assert!(html.contains("data-v=\""));
    // The inline SVG is the file's text.
    let svg =
        std::fs::read_to_string(d.join("out/fig1-consumer-workers-latency_s-p99.svg")).unwrap();
    assert!(html.contains(svg.trim()));
    assert!(svg.contains("<title>") && svg.contains("fill-opacity=\"0\""));

    // A second sweep gives the same bytes.
    let first = std::fs::read(d.join("out/report.html")).unwrap();
    let o = aqueduct(
        &d,
        &[
            "sweep",
            "exp.toml",
            "--out",
            "out",
            "--quiet",
            "--threads",
            "1",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(first, std::fs::read(d.join("out/report.html")).unwrap());
}

// ---------------------------------------------------------------------------------------
// In a real browser

/// The chromium binary: `$CHROMIUM`, else `chromium` or `chromium-browser` on the PATH.
/// Without one: a failure when `CI` is set (`.ci/run` installs Debian's `chromium`), a
/// printed reason and a skip otherwise.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => panic!(
            "CI is set and no chromium was found (PATH or $CHROMIUM): .ci/run installs Debian's `chromium` package; the headless-browser test must not skip in CI"
        ),
        None => {
            eprintln!(
                "SKIPPED the headless-browser test of report.html: no `chromium` on the PATH (apt-get install chromium, or set CHROMIUM=/path/to/chrome); in CI (CI set) this fails instead"
            );
            None
        }
    }
}

/// Opens `page` (with `hash` after its URL) headless: returns the DOM after its script ran
/// and chromium's log; writes a screenshot to `shot`.
fn open(browser: &Path, page: &Path, hash: &str, shot: &Path, profile: &Path) -> (String, String) {
    let dir = shot.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let stem = shot.file_stem().unwrap().to_string_lossy().into_owned();
    let dom_path = dir.join(format!("{stem}.dom.html"));
    let log_path = dir.join(format!("{stem}.log"));
    let url = format!("file://{}{hash}", page.canonicalize().unwrap().display());
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&dom_path).unwrap())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("chromium starts");
    // A guard against a browser that hangs, not a timing assertion.
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            panic!("chromium did not finish with {url} in 180 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = std::fs::read_to_string(&dom_path).unwrap_or_default();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(status.success(), "chromium failed on {url}: {log}");
    (dom, log)
}

/// Opens `page` and checks that its script ran without an error, that its charts and
/// tables are in the DOM and that a screenshot was taken.
fn check_in_browser(browser: &Path, page: &Path, name: &str, charts: usize) {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let shot = target
        .join("report-screenshots")
        .join(format!("{name}.png"));
    let _ = std::fs::remove_file(&shot);
    let profile = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("chromium-profiles")
        .join(name);
    let (dom, log) = open(browser, page, "", &shot, &profile);
    // Chromium logs every console message and uncaught exception as `…:CONSOLE…`.
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "{name}: console output: {console:#?}");
    assert!(
        dom.contains("data-report-script=\"ok\""),
        "{name}: the page's script did not run to its end"
    );
    assert!(
        dom.matches("<svg").count() >= charts,
        "{name}: fewer than {charts} charts in the DOM"
    );
    assert!(dom.contains("<table"), "{name}: no table in the DOM");
    assert!(
        dom.contains("<th tabindex=\"0\""),
        "{name}: the sortable headers were not set up"
    );
    let png = std::fs::read(&shot).unwrap_or_default();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{name}: no screenshot at {}",
        shot.display()
    );
}

#[test]
fn every_bundled_report_and_a_fresh_run_render_in_a_headless_browser() {
    let Some(browser) = chromium() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "bundled reports: {dirs:?}");
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let page = dir.join("report.html");
        assert!(
            page.is_file(),
            "reports/{name} has no report.html: run experiments/regenerate.sh"
        );
        let svgs = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".svg"))
            .count();
        check_in_browser(&browser, &page, &name, svgs.min(1));
    }
    let d = scratch("browser-run");
    std::fs::write(d.join("m.toml"), MODEL).unwrap();
    let o = aqueduct(&d, &["run", "m.toml", "--out", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    check_in_browser(&browser, &d.join("out/report.html"), "run-out", 4);
}

// ---------------------------------------------------------------------------------------
// Charts a sizing study needs

/// The `x` of every `<text>` element of `svg` whose content is `label`.
fn text_x(svg: &str, label: &str) -> Vec<f64> {
    svg.split("<text ")
        .skip(1)
        .filter_map(|t| {
            let (attrs, rest) = t.split_once('>')?;
            let content = rest.split("</text>").next()?.trim();
            if content != label {
                return None;
            }
            let x = attrs.split("x=\"").nth(1)?.split('"').next()?;
            x.parse().ok()
        })
        .collect()
}

#[test]
fn a_plot_draws_several_metrics_with_the_legend_beside_the_data() {
    let d = scratch("multi-y");
    std::fs::write(d.join("m.toml"), MODEL).unwrap();
    let exp = |y: &str| {
        format!(
            r#"name = "multi"
model = "m.toml"
replications = 2
seed = 3

[axes]
"consumer.workers.workers" = [1, 2, 3]

[slo]
"consumer.workers.latency_s.p99" = "< 2s"

[[plot]]
y = {y}
x = "consumer.workers.workers"
"#
        )
    };
    std::fs::write(
        d.join("exp.toml"),
        exp(r#"["consumer.workers.latency_s.p50", "consumer.workers.latency_s.p90", "consumer.workers.latency_s.p99"]"#),
    )
    .unwrap();
    let o = aqueduct(&d, &["sweep", "exp.toml", "--out", "out", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg =
        std::fs::read_to_string(d.join("out/fig1-consumer-workers-latency_s-p50.svg")).unwrap();
    let width: f64 = svg
        .split("width=\"")
        .nth(1)
        .and_then(|w| w.split('"').next())
        .and_then(|w| w.parse().ok())
        .unwrap();
    // One legend entry per metric and one for the objective, all right of the data (the
    // plot is the left 960 pixels).
    for label in ["p50", "p90", "p99", "objective p99 &lt; 2s"] {
        let xs = text_x(&svg, label);
        assert_eq!(xs.len(), 1, "legend entry {label:?}: {xs:?}");
        assert!(xs[0] >= 960.0 && xs[0] < width, "{label} at x = {}", xs[0]);
    }
    // A tooltip on each of the 3 × 3 means names its metric.
    for m in ["p50", "p90", "p99"] {
        let tips = svg
            .matches(&format!("consumer.workers.latency_s.{m} mean"))
            .count();
        assert_eq!(tips, 3, "{m}");
    }
    // Every metric of the list is kept in runs.csv.
    let runs = std::fs::read_to_string(d.join("out/runs.csv")).unwrap();
    let head = runs.lines().next().unwrap();
    for m in ["p50", "p90", "p99"] {
        assert!(
            head.contains(&format!("consumer.workers.latency_s.{m}")),
            "{head}"
        );
    }

    // An empty list, a number, and an unknown metric are refused at the field.
    for (y, expect) in [
        ("[]", "names no metric"),
        ("3", "a metric path, or a list of metric paths"),
        (
            r#"["consumer.workers.latency_s.p50", "consumer.workers.latency_s.p77"]"#,
            "consumer.workers.latency_s.p77",
        ),
    ] {
        std::fs::write(d.join("exp.toml"), exp(y)).unwrap();
        let o = aqueduct(&d, &["sweep", "exp.toml", "--out", "bad", "--quiet"]);
        assert_eq!(o.status.code(), Some(2), "y = {y}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(expect) && err.contains("exp.toml:"),
            "y = {y}: {err}"
        );
        assert!(!d.join("bad").exists());
    }
}

#[test]
fn a_header_sorts_its_table_in_the_browser() {
    let Some(browser) = chromium() else {
        return;
    };
    let d = scratch("browser-sort");
    std::fs::write(d.join("m.toml"), MODEL).unwrap();
    let o = aqueduct(&d, &["run", "m.toml", "--out", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = d.join("out/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // The latency table: which sortable table it is, and its p99 column (the 3rd number
    // of a row) as written.
    let at = html.find("<h2 id=\"latencies\"").expect("a latency table");
    let index = html[..at].matches("<table class=\"sortable\">").count();
    let p99 = |doc: &str| -> Vec<f64> {
        let start = doc.find("id=\"latencies\"").unwrap();
        let table = &doc[start..];
        let table = &table[..table.find("</table>").unwrap()];
        table
            .split("<tr")
            .filter(|r| r.contains("<td"))
            .map(|r| {
                let v: Vec<f64> = r
                    .split("data-v=\"")
                    .skip(1)
                    .map(|x| x.split('"').next().unwrap().parse().unwrap())
                    .collect();
                v[2]
            })
            .collect()
    };
    let written = p99(&html);
    assert!(written.len() >= 3, "{written:?}");
    let mut descending = written.clone();
    descending.sort_by(|a, b| b.total_cmp(a));
    assert_ne!(
        written, descending,
        "the test needs rows out of descending order"
    );
    // Two clicks on the p99 header (column 3): descending.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let shot = target.join("report-screenshots").join("run-out-sorted.png");
    let profile = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("chromium-profiles")
        .join("sorted");
    let (dom, log) = open(
        &browser,
        &page,
        &format!("#sort={index}.3.d"),
        &shot,
        &profile,
    );
    assert!(dom.contains("data-report-script=\"ok\""), "{log}");
    assert!(dom.contains("aria-sort=\"descending\""));
    assert_eq!(p99(&dom), descending);
}

#[test]
fn every_bar_of_the_cost_chart_has_its_label() {
    // Issue 19: 52 bars had a label on every third. 40 points, each labelled, turned
    // upright where they do not fit across.
    let d = scratch("cost-labels");
    std::fs::write(d.join("m.toml"), MODEL).unwrap();
    std::fs::write(
        d.join("exp.toml"),
        r#"name = "labels"
model = "m.toml"
replications = 2
seed = 3

[axes]
"consumer.workers.workers" = { from = 1, to = 20, step = 1 }
"consumer.workers.receive.wait" = ["0s", "20s"]
"#,
    )
    .unwrap();
    let o = aqueduct(&d, &["sweep", "exp.toml", "--out", "out", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(d.join("out/cost-by-service.svg")).unwrap();
    let upright: Vec<&str> = svg
        .split("<text ")
        .skip(1)
        .filter(|t| t.split('>').next().unwrap().contains("rotate(90"))
        .map(|t| {
            t.split('>')
                .nth(1)
                .unwrap()
                .split("</text")
                .next()
                .unwrap()
                .trim()
        })
        .collect();
    assert_eq!(upright.len(), 40, "{upright:?}");
    for w in 1..=20 {
        for wait in ["0s", "20s"] {
            let label = format!("{w} / {wait}");
            assert!(
                upright.contains(&label.as_str()),
                "no label {label}: {upright:?}"
            );
        }
    }
}
