//! `report.html`: one self-contained page for a sweep, a comparison or a run. Everything
//! is inline (CSS, the charts' SVG text, a small script that sorts tables), so the file
//! opens anywhere, offline, and can be mailed on its own.
//!
//! The page leads with the answer and the settings, then the charts (a `<title>` tooltip
//! on each mark), the tables (a click on a header sorts by that column), the bill, the
//! warnings and the command that reproduces it. Every string taken from a model or an
//! experiment is escaped. Like `report.md`, the page is a function of its inputs: no
//! dates, no wall-clock times, so the same seed gives the same bytes.

use super::tables::objective_name;
use super::{ChartFile, ChosenSeries};
use crate::engine::RunSummary;
use crate::experiment::compare::{Comparison, COST};
use crate::experiment::slo::{describe, is_seconds, round_sig};
use crate::experiment::{Experiment, Objective, Results, Stats, COST_ALL};
use crate::metrics::series::fmt_value;
use serde_json::Value;
use std::fmt::Write as _;

/// Most rows of a per-point table on the page (the CSV files have them all).
const MAX_ROWS: usize = 500;
/// Most failed runs listed.
const MAX_FAILURES: usize = 20;

/// `s` with the characters that HTML gives a meaning escaped: `&`, `<`, `>`, `"`, `'`.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;color:#1d1d1f;background:#fafafa;line-height:1.45}
main{max-width:1200px;margin:0 auto;padding:1.5em 2em 4em;background:#fff}
h1{font-size:1.7em;margin:.2em 0 .4em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.answer{background:#eef6ee;border-left:5px solid #2ca02c;padding:.6em 1em;margin:1em 0;font-size:1.1em}
.answer.none{background:#fbeeee;border-left-color:#d62728}
.warn{background:#fff6e0;border-left:5px solid #ff7f0e;padding:.4em 1em;margin:.4em 0}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em;vertical-align:top}
th{background:#f2f2f2;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:' \\25B2'}
table.sortable th[aria-sort=descending]::after{content:' \\25BC'}
tr.chosen td{background:#eef6ee;font-weight:600}
.scroll{overflow-x:auto}
figure{margin:1em 0 2em}figure svg{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
pre{background:#f4f4f4;padding:.6em 1em;overflow-x:auto}
code{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.92em}
";

/// Sorts a table by the clicked header (numbers by their `data-v`, text otherwise; a
/// second click reverses); a link ending in `#sort=T.C` (or `#sort=T.C.d`, descending)
/// opens the page with sortable table `T` sorted by column `C`. Then it marks the page as
/// scripted: `data-report-script="ok"` on `<html>`, which a test reads to know the script
/// ran without an error.
const SCRIPT: &str = "\
(function(){
function key(td){if(!td)return '';var v=td.getAttribute('data-v');if(v!==null&&v!==''){var n=Number(v);if(!isNaN(n))return n;}return td.textContent.trim();}
function cmp(a,b){if(typeof a==='number'&&typeof b==='number')return a-b;if(typeof a==='number')return -1;if(typeof b==='number')return 1;return a.localeCompare(b,undefined,{numeric:true});}
var tables=document.querySelectorAll('table.sortable');
for(var t=0;t<tables.length;t++){(function(table){
var head=table.tHead?table.tHead.rows[0].cells:[];
for(var i=0;i<head.length;i++){(function(th,col){
th.tabIndex=0;th.title='Sort by this column';
function sort(){var asc=th.getAttribute('aria-sort')!=='ascending';
for(var k=0;k<head.length;k++)head[k].removeAttribute('aria-sort');
th.setAttribute('aria-sort',asc?'ascending':'descending');
var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(x,y){var c=cmp(key(x.cells[col]),key(y.cells[col]));return asc?c:-c;});
for(var r=0;r<rows.length;r++)body.appendChild(rows[r]);}
th.addEventListener('click',sort);
th.addEventListener('keydown',function(e){if(e.key==='Enter')sort();});
})(head[i],i);}
})(tables[t]);}
var m=/^#sort=(\\d+)\\.(\\d+)(\\.d)?$/.exec(location.hash);
if(m&&tables[+m[1]]&&tables[+m[1]].tHead){var h=tables[+m[1]].tHead.rows[0].cells[+m[2]];if(h){h.click();if(m[3])h.click();}}
document.documentElement.setAttribute('data-report-script','ok');
})();
";

/// A table cell: its HTML and, for a number, the value it sorts by.
pub(crate) struct Cell {
    html: String,
    sort: Option<f64>,
}

impl Cell {
    /// Text (escaped).
    pub(crate) fn text(s: &str) -> Cell {
        Cell {
            html: esc(s),
            sort: None,
        }
    }

    /// A number shown as `shown` (escaped), sorted by `v`.
    pub(crate) fn num(shown: &str, v: f64) -> Cell {
        Cell {
            html: esc(shown),
            sort: v.is_finite().then_some(v),
        }
    }

    /// Markup as given (built from escaped parts).
    fn html(s: String) -> Cell {
        Cell {
            html: s,
            sort: None,
        }
    }
}

/// A page being written.
pub(crate) struct Page {
    title: String,
    body: String,
}

impl Page {
    /// An empty page titled `title`.
    pub(crate) fn new(title: &str) -> Page {
        let mut p = Page {
            title: title.to_string(),
            body: String::new(),
        };
        let _ = writeln!(p.body, "<h1>{}</h1>", esc(title));
        p
    }

    /// A section heading.
    pub(crate) fn h2(&mut self, text: &str, id: &str) {
        let _ = writeln!(self.body, "<h2 id=\"{id}\">{}</h2>", esc(text));
    }

    /// A paragraph of text.
    pub(crate) fn p(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", esc(text));
    }

    /// Markup as given.
    fn raw(&mut self, html: &str) {
        self.body.push_str(html);
        self.body.push('\n');
    }

    /// A table: `head` (text), then the rows; `sortable` tables sort on a header click.
    /// Rows whose index is in `mark` are highlighted.
    pub(crate) fn table(
        &mut self,
        head: &[String],
        rows: &[Vec<Cell>],
        sortable: bool,
        mark: &[usize],
    ) {
        let _ = writeln!(
            self.body,
            "<div class=\"scroll\"><table{}>\n<thead><tr>{}</tr></thead>\n<tbody>",
            if sortable { " class=\"sortable\"" } else { "" },
            head.iter()
                .map(|h| format!("<th>{}</th>", esc(h)))
                .collect::<String>()
        );
        for (i, r) in rows.iter().enumerate() {
            self.body.push_str(if mark.contains(&i) {
                "<tr class=\"chosen\">"
            } else {
                "<tr>"
            });
            for c in r {
                match c.sort {
                    Some(v) => {
                        let _ = write!(
                            self.body,
                            "<td class=\"n\" data-v=\"{}\">{}</td>",
                            fmt_value(v),
                            c.html
                        );
                    }
                    None => {
                        let _ = write!(self.body, "<td>{}</td>", c.html);
                    }
                }
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody></table></div>\n");
    }

    /// A chart: its SVG inline, a caption, and links to its files.
    pub(crate) fn chart(&mut self, c: &ChartFile, caption: &str) {
        let svg = c.svg.trim();
        let _ = writeln!(
            self.body,
            "<figure id=\"chart-{}\">\n{svg}\n<figcaption>{} Files: <a href=\"{}.svg\">SVG</a> · <a href=\"{}.png\">PNG</a>.</figcaption>\n</figure>",
            esc(&c.stem),
            esc(caption),
            esc(&c.stem),
            esc(&c.stem)
        );
    }

    /// The command that reproduces the page.
    pub(crate) fn command(&mut self, command: &str) {
        self.h2("Reproduce", "reproduce");
        let cargo = command
            .strip_prefix("aqueduct ")
            .map(|rest| format!("cargo run --release -- {rest}"))
            .unwrap_or_else(|| command.to_string());
        let _ = writeln!(
            self.body,
            "<p>From the repository root:</p>\n<pre><code>{}</code></pre>\n<p>or, from a checkout without an installed binary:</p>\n<pre><code>{}</code></pre>",
            esc(command),
            esc(&cargo)
        );
    }

    /// A list of warnings (nothing when there are none).
    pub(crate) fn warnings(&mut self, warnings: &[String]) {
        for w in warnings {
            let _ = writeln!(self.body, "<div class=\"warn\">{}</div>", esc(w));
        }
    }

    /// The whole document.
    pub(crate) fn finish(self) -> String {
        let doc = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n{}</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
            esc(&self.title),
            self.body
        );
        crate::text::without_controls(&doc).into_owned()
    }
}

/// A number with its unit for a metric: seconds as durations, costs in dollars.
fn shown(metric: &str, x: f64) -> String {
    if !x.is_finite() {
        "n/a".into()
    } else if is_seconds(metric) {
        crate::text::fmt_secs(x)
    } else if metric.starts_with("cost") {
        format!("${x:.2}")
    } else {
        round_sig(x)
    }
}

/// A mean with the half-width of its confidence interval, sorted by the mean.
fn mean_cell(metric: &str, s: &Stats) -> Cell {
    if !s.mean.is_finite() {
        return Cell::text("n/a");
    }
    let text = if s.half.is_finite() && s.half > 0.0 {
        format!("{} ± {}", shown(metric, s.mean), shown(metric, s.half))
    } else {
        shown(metric, s.mean)
    };
    Cell::num(&text, s.mean)
}

fn unit(metric: &str) -> &'static str {
    if is_seconds(metric) {
        " (s)"
    } else if metric.starts_with("cost.") {
        " (USD/month)"
    } else {
        ""
    }
}

// ---------------------------------------------------------------------------------------
// Sweep

/// The page of a sweep: answer, settings, charts, time series, objectives and summary
/// tables, the bill of the answer, failed runs, the command and the files.
pub(crate) fn sweep(
    exp: &Experiment,
    r: &Results,
    drawn: &[ChosenSeries<'_>],
    charts: &[ChartFile],
    command: &str,
) -> String {
    let mut page = Page::new(&format!("Experiment {}", exp.name));
    let Some(chosen) = drawn.first() else {
        return page.finish();
    };
    if !exp.description.trim().is_empty() {
        page.p(exp.description.trim());
    }
    let pct = format!("{}%", round_sig(exp.confidence * 100.0));
    if exp.slos.is_empty() {
        page.p("The experiment states no objectives: the tables and charts below show every point; no point is chosen.");
    } else {
        sweep_answer(&mut page, exp, r, &pct);
    }
    sweep_settings(&mut page, exp, r, &pct);
    if r.failed > 0 {
        page.warnings(&[format!(
            "{} of {} runs failed; their points cannot meet objectives (see Failed runs).",
            r.failed, r.runs
        )]);
    }
    let metric_charts: Vec<&ChartFile> = charts.iter().filter(|c| c.kind == "metric").collect();
    if !metric_charts.is_empty() {
        page.h2("Charts", "charts");
        for c in metric_charts {
            page.chart(c, &format!("{}. Each line joins the means of one combination of the other axes; bars are {pct} confidence intervals; a dashed red line marks an objective. Rest the pointer on a mark for its values.", c.title));
        }
    }
    sweep_bill(&mut page, exp, r, charts, &pct);
    sweep_series(&mut page, exp, r, chosen, charts);
    sweep_other_runs(&mut page, exp, r, &drawn[1..], charts);
    if !exp.slos.is_empty() {
        sweep_slo_table(&mut page, exp, r, &pct);
    }
    sweep_summary_table(&mut page, exp, r, &pct);
    sweep_failures(&mut page, r);
    page.command(command);
    page.h2("Files", "files");
    let mut files = vec![
        ("runs.csv", "one row per run: run number, point, replication, seed, every axis value, every metric kept, and the error of a failed run"),
        ("summary.csv", "one row per point: for every metric its mean, standard deviation, min, max and confidence half-width"),
        ("summary_long.csv", "the same in tidy form, one row per point, metric and statistic (for pandas or R)"),
    ];
    if !exp.slos.is_empty() {
        files.push((
            "slo.csv",
            "per point, each objective's confidence bound, margin and verdict",
        ));
        files.push(("sizing.csv", "the answer per situation"));
    }
    if chosen.series.is_ok() {
        files.push(("series.csv", "the time series of the run drawn above"));
        files.push((
            "series_long.csv",
            "the same in tidy form, one row per sample and column, with a warm-up flag",
        ));
    }
    files.push(("report.md", "this report in Markdown"));
    files.push((
        "sweep.json",
        "the experiment and model texts this report comes from (what aqueduct merge checks)",
    ));
    page.raw(&files_list(&files));
    page.finish()
}

fn files_list(files: &[(&str, &str)]) -> String {
    let mut s = String::from("<ul>\n");
    for (f, what) in files {
        let _ = writeln!(s, "<li><a href=\"{f}\">{f}</a>: {}.</li>", esc(what));
    }
    s.push_str("</ul>");
    s
}

/// The axes that vary, among those the answer chooses (not the `per` axes).
fn choice_axes(exp: &Experiment) -> Vec<usize> {
    (0..exp.axes.len())
        .filter(|i| !exp.per.contains(i) && exp.axes[*i].values.len() > 1)
        .collect()
}

fn sweep_answer(page: &mut Page, exp: &Experiment, r: &Results, pct: &str) {
    page.h2("Answer", "answer");
    for a in &r.answers {
        let prefix = exp.situation_prefix(&a.situation);
        match a.point {
            Some(p) => page.raw(&format!(
                "<div class=\"answer\">{}<strong>point {p}: {}</strong> ({} of {} points meet every objective)</div>",
                esc(&prefix),
                esc(&exp.describe(p)),
                a.passing,
                a.points
            )),
            None => page.raw(&format!(
                "<div class=\"answer none\">{}<strong>no point meets every objective</strong> (of {} points)</div>",
                esc(&prefix),
                a.points
            )),
        }
    }
    let minimised = match exp.objective {
        Objective::Metric(_) => format!("the smallest mean {}", objective_name(exp)),
        Objective::Axis(_) => format!("the smallest {}", objective_name(exp)),
    };
    page.p(&format!(
        "The answer is the point with {minimised} among those that meet every objective with no failed run. Each objective is checked at the pessimistic end of the {pct} confidence interval of its mean; margins are how far that bound is inside the threshold."
    ));
    let choice = choice_axes(exp);
    let mut head: Vec<String> = exp.per.iter().map(|a| exp.axes[*a].path.clone()).collect();
    head.extend(choice.iter().map(|a| exp.axes[*a].path.clone()));
    head.push(format!(
        "{}{}",
        objective_name(exp),
        unit(objective_name(exp))
    ));
    head.extend(exp.slos.iter().map(|o| format!("{} {}", o.metric, o.text)));
    head.push("points passing".into());
    let mut rows = Vec::new();
    for a in &r.answers {
        let mut row: Vec<Cell> = exp
            .per
            .iter()
            .zip(&a.situation)
            .map(|(ax, k)| Cell::text(&exp.axes[*ax].values[*k].label))
            .collect();
        match a.point {
            Some(p) => {
                let c = exp.coords(p);
                row.extend(choice.iter().map(|ax| {
                    let v = &exp.axes[*ax].values[c[*ax]];
                    match v.number {
                        Some(n) => Cell::num(&v.label, n),
                        None => Cell::text(&v.label),
                    }
                }));
                let pr = &r.points[p];
                let text = if pr.objective_half.is_finite() && pr.objective_half > 0.0 {
                    format!(
                        "{} ± {}",
                        round_sig(pr.objective),
                        round_sig(pr.objective_half)
                    )
                } else {
                    round_sig(pr.objective)
                };
                row.push(Cell::num(&text, pr.objective));
                for (o, ch) in exp.slos.iter().zip(&pr.checks) {
                    row.push(Cell::text(&describe(o, ch)));
                }
            }
            None => {
                row.extend(choice.iter().map(|_| Cell::text("—")));
                row.push(Cell::text("no point meets every objective"));
                row.extend(exp.slos.iter().map(|_| Cell::text("—")));
            }
        }
        row.push(Cell::text(&format!("{} of {}", a.passing, a.points)));
        rows.push(row);
    }
    page.table(&head, &rows, false, &[]);
    let list: String = exp
        .slos
        .iter()
        .map(|o| format!("<li><code>{}</code> {}</li>", esc(&o.metric), esc(&o.text)))
        .collect();
    page.raw(&format!("<p>Objectives:</p>\n<ul>{list}</ul>"));
}

fn sweep_settings(page: &mut Page, exp: &Experiment, r: &Results, pct: &str) {
    page.h2("Settings", "settings");
    let mut rows: Vec<Vec<Cell>> = vec![
        vec![
            Cell::text("experiment file"),
            Cell::html(format!("<code>{}</code>", esc(&exp.source.file))),
        ],
        vec![
            Cell::text("base model"),
            Cell::html(format!(
                "<code>{}</code> (model “{}”)",
                esc(&exp.source.model_file),
                esc(&exp.model_name)
            )),
        ],
    ];
    for a in &exp.axes {
        let vals: Vec<&str> = a.values.iter().map(|v| v.label.as_str()).collect();
        rows.push(vec![
            Cell::html(format!("axis <code>{}</code>", esc(&a.path))),
            Cell::text(&format!("{} ({} values)", vals.join(", "), vals.len())),
        ]);
    }
    rows.push(vec![
        Cell::text("grid"),
        Cell::text(&format!(
            "{} points × {} replications = {} runs",
            exp.points(),
            exp.replications,
            exp.runs()
        )),
    ]);
    rows.push(vec![
        Cell::text("seeds"),
        Cell::text(&format!(
            "base seed {}; run seed = splitmix64(splitmix64(splitmix64(base) ^ point) ^ replication){}",
            exp.seed,
            if exp.common_random_numbers {
                " with point = 0 for every point (common random numbers)"
            } else {
                ""
            }
        )),
    ]);
    rows.push(vec![
        Cell::text("statistics"),
        Cell::text(&format!("per point: mean, standard deviation, min, max and the {pct} confidence interval of the mean (Student's t, replications − 1 degrees of freedom)")),
    ]);
    if !exp.unit_costs.is_empty() {
        let parts: Vec<String> = exp
            .unit_costs
            .iter()
            .map(|(a, usd)| format!("{} USD per unit of {}", round_sig(*usd), exp.axes[*a].path))
            .collect();
        rows.push(vec![
            Cell::text("unit costs"),
            Cell::text(&parts.join(" + ")),
        ]);
    }
    rows.push(vec![
        Cell::text("failed runs"),
        Cell::text(&format!("{} of {}", r.failed, r.runs)),
    ]);
    rows.push(vec![
        Cell::text("aqueduct"),
        Cell::text(env!("CARGO_PKG_VERSION")),
    ]);
    page.table(&["setting".into(), "value".into()], &rows, false, &[]);
}

/// The point whose bill and series the page shows: the last answer's point, or point 0.
fn shown_point(r: &Results) -> usize {
    r.answers
        .iter()
        .rev()
        .find_map(|a| a.point)
        .unwrap_or(r.chosen.0)
}

fn sweep_bill(page: &mut Page, exp: &Experiment, r: &Results, charts: &[ChartFile], pct: &str) {
    let cost_metrics: Vec<usize> = exp
        .metrics
        .iter()
        .enumerate()
        .filter(|(_, m)| m.starts_with("cost."))
        .map(|(i, _)| i)
        .collect();
    let cost_chart = charts.iter().find(|c| c.kind == "cost");
    if cost_metrics.is_empty()
        && cost_chart.is_none()
        && !charts.iter().any(|c| c.kind == "throughput")
    {
        return;
    }
    page.h2("Bill", "bill");
    if let Some(c) = cost_chart {
        page.chart(c, &format!("{}: stacked means per service (and the experiment's unit costs); the black bar is the {pct} confidence interval of the total. Rest the pointer on a bar for its amount.", c.title));
    }
    if let Some(c) = charts.iter().find(|c| c.kind == "throughput") {
        page.chart(c, &format!("{}: one dot per grid point, its mean monthly cost with the {pct} confidence interval against its throughput; hollow dots miss an objective; the line joins the sizing answers, what each throughput costs at the least. Rest the pointer on a dot for its point.", c.title));
    }
    let Some(p) = r.points.get(shown_point(r)) else {
        return;
    };
    page.p(&format!(
        "Monthly cost of point {} ({}), mean over its replications with the {pct} confidence half-width:",
        p.point,
        exp.describe(p.point)
    ));
    let mut rows = Vec::new();
    let mut mark = Vec::new();
    for m in &cost_metrics {
        let name = &exp.metrics[*m];
        if name == "cost.total" || name == COST_ALL {
            mark.push(rows.len());
        }
        rows.push(vec![Cell::text(name), mean_cell(name, &p.stats[*m])]);
    }
    page.table(&["cost".into(), "USD per month".into()], &rows, true, &mark);
}

fn sweep_series(
    page: &mut Page,
    exp: &Experiment,
    r: &Results,
    chosen: &ChosenSeries<'_>,
    charts: &[ChartFile],
) {
    page.h2("Time series of one run", "series");
    let which = if exp.slos.is_empty() {
        "the first run of the sweep"
    } else if r.answers.iter().any(|a| a.point.is_some()) {
        "the first replication of the sizing answer"
    } else {
        "the first run of the sweep (no point meets the objectives)"
    };
    match (&chosen.series, charts.iter().find(|c| c.kind == "series")) {
        (Ok(_), Some(c)) => {
            page.chart(
                c,
                &format!(
                    "{}: {which}, recorded by running it again with the same seed after the sweep; the warm-up is shaded.",
                    c.title
                ),
            );
            cdf_of(page, exp, chosen, charts);
        }
        (Ok(_), None) => page.p(&format!(
            "The chosen run ({which}) has no queue, stream consumer, delivery stream or pool to draw; its series is in series.csv."
        )),
        (Err(e), _) => page.warnings(&[format!(
            "The time series of {which} (point {}, replication {}) could not be recorded: {e}",
            chosen.point, chosen.replication
        )]),
    }
}

/// The shard heat map and the latency distributions of run `d`, when drawn.
fn cdf_of(page: &mut Page, exp: &Experiment, d: &ChosenSeries<'_>, charts: &[ChartFile]) {
    let run = d.point * exp.replications as usize + d.replication as usize;
    let heat = format!("shard-heatmap-run-{run}");
    if let Some(c) = charts.iter().find(|c| c.stem == heat) {
        page.chart(c, &format!("{}: each cell is a shard in a sample interval, the larger of its bytes and records written as a fraction of the shard's limit (1 MiB/s, 1,000 records/s); red is over it.", c.title));
    }
    let stem = format!("latency-cdf-run-{run}");
    if let Some(c) = charts.iter().find(|c| c.stem == stem) {
        page.chart(c, &format!("{}: the fraction of messages at or below each latency, on a percentile scale where 90%, 99% and 99.9% are equally spaced.", c.title));
    }
}

/// The runs drawn besides the chosen one: the experiment's `[report] runs`, or the point
/// closest to the answer that misses an objective.
fn sweep_other_runs(
    page: &mut Page,
    exp: &Experiment,
    r: &Results,
    drawn: &[ChosenSeries<'_>],
    charts: &[ChartFile],
) {
    if drawn.is_empty() {
        return;
    }
    page.h2("Other runs", "other-runs");
    for d in drawn {
        let run = d.point * exp.replications as usize + d.replication as usize;
        page.p(&format!(
            "Run {run}: point {} ({}), replication {}: {}.",
            d.point,
            exp.describe(d.point),
            d.replication,
            super::drawn_reason(exp, r, d)
        ));
        let stem = format!("series-run-{run}");
        match (&d.series, charts.iter().find(|c| c.stem == stem)) {
            (Ok(_), Some(c)) => page.chart(
                c,
                &format!("{}: recorded by running it again with the same seed after the sweep; the warm-up is shaded.", c.title),
            ),
            (Ok(_), None) => page.p("It has no queue, stream consumer, delivery stream or pool to draw."),
            (Err(e), _) => page.warnings(&[format!("Its time series could not be recorded: {e}")]),
        }
        cdf_of(page, exp, d, charts);
    }
}

fn axis_cells(exp: &Experiment, point: usize) -> Vec<Cell> {
    exp.axes
        .iter()
        .zip(exp.coords(point))
        .filter(|(a, _)| a.values.len() > 1)
        .map(|(a, i)| match a.values[i].number {
            Some(n) => Cell::num(&a.values[i].label, n),
            None => Cell::text(&a.values[i].label),
        })
        .collect()
}

fn axis_heads(exp: &Experiment) -> Vec<String> {
    exp.axes
        .iter()
        .filter(|a| a.values.len() > 1)
        .map(|a| a.path.clone())
        .collect()
}

fn answer_rows(r: &Results) -> Vec<usize> {
    r.answers
        .iter()
        .filter_map(|a| a.point)
        .filter(|p| *p < MAX_ROWS)
        .collect()
}

fn truncated(page: &mut Page, total: usize, file: &str) {
    if total > MAX_ROWS {
        page.raw(&format!(
            "<p>… {} more rows in <a href=\"{file}\">{file}</a>.</p>",
            total - MAX_ROWS
        ));
    }
}

fn sweep_slo_table(page: &mut Page, exp: &Experiment, r: &Results, pct: &str) {
    page.h2("Which points meet the objectives", "objectives");
    page.p(&format!("Each cell is the {pct} confidence bound compared with the threshold (✓ holds, ✗ does not). The answer's rows are highlighted; click a header to sort."));
    let mut head = vec!["point".to_string()];
    head.extend(axis_heads(exp));
    head.extend(exp.slos.iter().map(|o| format!("{} {}", o.metric, o.text)));
    head.push("all".into());
    let rows: Vec<Vec<Cell>> = r
        .points
        .iter()
        .take(MAX_ROWS)
        .map(|p| {
            let mut row = vec![Cell::num(&p.point.to_string(), p.point as f64)];
            row.extend(axis_cells(exp, p.point));
            for c in &p.checks {
                row.push(Cell::num(
                    &format!("{} {}", if c.pass { "✓" } else { "✗" }, round_sig(c.bound)),
                    c.bound,
                ));
            }
            row.push(Cell::text(&super::verdict(p)));
            row
        })
        .collect();
    page.table(&head, &rows, true, &answer_rows(r));
    truncated(page, r.points.len(), "slo.csv");
}

fn sweep_summary_table(page: &mut Page, exp: &Experiment, r: &Results, pct: &str) {
    let shown = super::shown_metrics(exp);
    page.h2("Summary per point", "summary");
    page.p(&format!(
        "Mean ± half-width of the {pct} confidence interval over the replications; click a header to sort (by the mean)."
    ));
    let mut head = vec!["point".to_string()];
    head.extend(axis_heads(exp));
    head.push("runs".into());
    head.extend(
        shown
            .iter()
            .map(|m| format!("{}{}", exp.metrics[*m], unit(&exp.metrics[*m]))),
    );
    let rows: Vec<Vec<Cell>> = r
        .points
        .iter()
        .take(MAX_ROWS)
        .map(|p| {
            let mut row = vec![Cell::num(&p.point.to_string(), p.point as f64)];
            row.extend(axis_cells(exp, p.point));
            row.push(Cell::num(
                &if p.failed > 0 {
                    format!("{} ({} failed)", p.ok, p.failed)
                } else {
                    p.ok.to_string()
                },
                p.ok as f64,
            ));
            row.extend(
                shown
                    .iter()
                    .map(|m| mean_cell(&exp.metrics[*m], &p.stats[*m])),
            );
            row
        })
        .collect();
    page.table(&head, &rows, true, &answer_rows(r));
    truncated(page, r.points.len(), "summary.csv");
}

fn sweep_failures(page: &mut Page, r: &Results) {
    if r.failed == 0 {
        return;
    }
    page.h2("Failed runs", "failed");
    page.p(&format!(
        "{} of {} runs failed; the first {}:",
        r.failed,
        r.runs,
        r.failures.len().min(MAX_FAILURES)
    ));
    let rows: Vec<Vec<Cell>> = r
        .failures
        .iter()
        .take(MAX_FAILURES)
        .map(|f| {
            vec![
                Cell::num(&f.run.to_string(), f.run as f64),
                Cell::num(&f.point.to_string(), f.point as f64),
                Cell::num(&f.replication.to_string(), f.replication as f64),
                Cell::text(&f.seed.to_string()),
                Cell::text(&f.error),
            ]
        })
        .collect();
    page.table(
        &["run", "point", "replication", "seed", "error"].map(String::from),
        &rows,
        true,
        &[],
    );
}

// ---------------------------------------------------------------------------------------
// Compare

/// The page of `aqueduct compare`: the choice, the architectures, the side-by-side table,
/// the cheapest per freshness target, the chart, the objectives and the command.
pub(crate) fn compare(c: &Comparison, chart: Option<&ChartFile>, command: &str) -> String {
    use super::compare::{freshness_rows, table_rows};
    let mut page = Page::new("Architectures compared");
    page.p(&format!(
        "{} architectures on the same workload, {} replications each with common random numbers (replication r runs every model with seed {} + r), {}% confidence intervals.",
        c.rows.len(),
        c.reps,
        c.seed,
        round_sig(100.0 * c.confidence)
    ));
    if !c.slos.is_empty() {
        match c.chosen {
            Some(i) => page.raw(&format!(
                "<div class=\"answer\">Cheapest architecture meeting every objective: <strong>{}</strong> (<code>{}</code>), {} per month.</div>",
                esc(&c.rows[i].model),
                esc(&c.rows[i].file),
                esc(&super::compare::cell("cost.total", c.rows[i].stats[COST].mean))
            )),
            None => page.raw("<div class=\"answer none\"><strong>No architecture meets every objective.</strong></div>"),
        }
    }
    let front: Vec<&str> = c
        .rows
        .iter()
        .filter(|r| r.pareto)
        .map(|r| r.model.as_str())
        .collect();
    page.p(&format!(
        "On the Pareto front of monthly cost against time-to-insight p99: {}.",
        if front.is_empty() {
            "none".to_string()
        } else {
            front.join(", ")
        }
    ));
    page.h2("Architectures", "architectures");
    let rows: Vec<Vec<Cell>> = c
        .rows
        .iter()
        .map(|r| {
            vec![
                Cell::html(format!("<code>{}</code>", esc(&r.file))),
                Cell::text(&r.model),
                Cell::text(&r.description),
            ]
        })
        .collect();
    page.table(
        &["file", "model", "what it is"].map(String::from),
        &rows,
        true,
        &[],
    );
    page.h2("Side by side", "side-by-side");
    page.p("Means ± confidence half-widths. Monthly cost is what aqueduct prices: the AWS services of its price table, and batch jobs at the node-hour price their model gives; the compute of worker pools is not priced.");
    let t = table_rows(c);
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for (k, r) in t[1..].iter().enumerate() {
        let mut row = vec![Cell::text(&r[0])];
        for (j, cell) in r[1..].iter().enumerate() {
            match c.metrics.get(k) {
                Some(_) => row.push(Cell::num(cell, c.rows[j].stats[k].mean)),
                None => row.push(Cell::text(cell)),
            }
        }
        rows.push(row);
    }
    let mark: Vec<usize> = vec![COST];
    page.table(&t[0], &rows, false, &mark);
    page.h2("Cheapest for each freshness target", "freshness");
    let f = freshness_rows(c);
    let rows: Vec<Vec<Cell>> = f[1..]
        .iter()
        .map(|r| r.iter().map(|x| Cell::text(x)).collect())
        .collect();
    page.table(&f[0], &rows, false, &[]);
    page.p("An architecture qualifies when the upper bound of its confidence interval of the time-to-insight p99 is below the target.");
    if let Some(ch) = chart {
        page.h2("Cost against time to insight", "chart");
        page.chart(ch, "The Pareto front (red) holds the architectures that no other beats on both monthly cost and time-to-insight p99. Rest the pointer on a point for its values.");
    }
    if !c.slos.is_empty() {
        page.h2("Objectives", "objectives");
        let list: String = c
            .slos
            .iter()
            .map(|o| format!("<li><code>{} {}</code></li>", esc(&o.metric), esc(&o.text)))
            .collect();
        page.raw(&format!("<ul>{list}</ul>"));
        page.p("Checked at the pessimistic bound of each confidence interval.");
    }
    page.command(command);
    page.h2("Files", "files");
    page.raw(&files_list(&[
        ("compare.csv", "a row per architecture and metric: mean, half-width, standard deviation, min, max, n, Pareto and chosen"),
        ("report.md", "this report in Markdown"),
    ]));
    page.finish()
}

// ---------------------------------------------------------------------------------------
// Run

/// The page of `aqueduct run --out DIR`: the headline numbers, the settings, the charts,
/// the components, the latencies, where the messages went, the bill, the warnings and the
/// command.
pub(crate) fn run(s: &RunSummary, charts: &[ChartFile], command: &str) -> String {
    let mut page = Page::new(&format!("Run of model {}", s.model));
    let mut headline = format!(
        "{} simulated after {} warm-up, seed {}: <strong>${:.2} per month</strong>",
        esc(&crate::text::fmt_secs(s.simulated_s)),
        esc(&crate::text::fmt_secs(s.warmup_s)),
        s.seed,
        s.cost.total
    );
    let a = &s.accounting;
    let _ = write!(
        headline,
        "; {} messages produced, {} processed",
        a.produced, a.processed
    );
    if let Some(i) = &s.insight {
        let t = |k: &str| {
            i.time_to_insight_s
                .get(k)
                .and_then(Value::as_f64)
                .unwrap_or(f64::NAN)
        };
        let _ = write!(
            headline,
            "; time to insight p50 {} / p99 {}",
            esc(&crate::text::fmt_secs(t("p50"))),
            esc(&crate::text::fmt_secs(t("p99")))
        );
    }
    page.raw(&format!(
        "<div class=\"answer{}\">{headline}{}</div>",
        if s.accounting.balanced() { "" } else { " none" },
        if s.warnings.is_empty() {
            String::new()
        } else {
            format!(
                " — {} warning{} below",
                s.warnings.len(),
                if s.warnings.len() == 1 { "" } else { "s" }
            )
        }
    ));
    page.h2("Settings", "settings");
    let rows = vec![
        vec![Cell::text("model"), Cell::text(&s.model)],
        vec![Cell::text("seed"), Cell::text(&s.seed.to_string())],
        vec![
            Cell::text("measured window"),
            Cell::text(&format!(
                "{} s after a warm-up of {} s (statistics discard the warm-up)",
                round_sig(s.simulated_s),
                round_sig(s.warmup_s)
            )),
        ],
        vec![Cell::text("events"), Cell::text(&s.events.to_string())],
        vec![
            Cell::text("prices"),
            Cell::text(&format!(
                "{}, {}-hour month{}",
                s.cost.price_table,
                round_sig(s.cost.month_hours),
                if s.cost.free_tier {
                    ", free tier subtracted"
                } else {
                    ""
                }
            )),
        ],
        vec![Cell::text("aqueduct"), Cell::text(&s.aqueduct_version)],
    ];
    page.table(&["setting".into(), "value".into()], &rows, false, &[]);
    page.warnings(&s.warnings);
    if !charts.is_empty() {
        page.h2("Charts", "charts");
        for c in charts {
            let caption = match c.kind {
                "series" => format!("{}: sampled during the run, the warm-up shaded.", c.title),
                "heatmap" => format!("{}: each cell is a shard in a sample interval, the larger of its bytes and records written as a fraction of the shard's limit (1 MiB/s, 1,000 records/s); red is over it. Rest the pointer on a shard for its peak after the warm-up.", c.title),
                "latency" => format!(
                    "{}: p50, p90, p99 and max of each latency the run measured (log scale). Rest the pointer on a dot for its value.",
                    c.title
                ),
                "cdf" => format!(
                    "{}: for each latency, the share of observations at or below a value (measured window, from the run's histograms); the vertical axis spaces 90%, 99%, 99.9% and 99.99% equally so that the tail shows.",
                    c.title
                ),
                _ => format!("{}: the bill's lines summed per component.", c.title),
            };
            page.chart(c, &caption);
        }
    }
    run_components(&mut page, s);
    run_latencies(&mut page, s);
    page.h2("Where the messages went", "accounting");
    page.p("Whole run, warm-up included: produced + copies equals the sum of the other counts when the accounting balances.");
    let acc = serde_json::to_value(s.accounting).unwrap_or(Value::Null);
    let rows: Vec<Vec<Cell>> = acc
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let n = v.as_f64().unwrap_or(f64::NAN);
                    vec![
                        Cell::text(&k.replace('_', " ")),
                        Cell::num(&v.to_string(), n),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    page.table(&["messages".into(), "count".into()], &rows, true, &[]);
    run_bill(&mut page, s);
    page.command(command);
    page.h2("Files", "files");
    page.raw(&files_list(&[
        ("run.json", "the summary, as aqueduct run --json prints it"),
        ("series.csv", "the sampled time series, warm-up included"),
    ]));
    page.finish()
}

/// One sortable table per kind of component, with its headline fields; a latency
/// summary becomes two columns (p50 and p99).
fn run_components(page: &mut Page, s: &RunSummary) {
    page.h2("Components", "components");
    let mut kinds: Vec<&str> = Vec::new();
    for c in &s.components {
        if !kinds.contains(&c.kind.as_str()) {
            kinds.push(&c.kind);
        }
    }
    for kind in kinds {
        let comps: Vec<_> = s.components.iter().filter(|c| c.kind == kind).collect();
        let mut cols: Vec<&str> = Vec::new();
        for c in &comps {
            for h in &c.headline {
                if !cols.contains(h) {
                    cols.push(h);
                }
            }
        }
        let latency = |col: &str| {
            comps
                .iter()
                .any(|c| matches!(c.fields.get(col), Some(Value::Object(_))))
        };
        let mut head = vec![kind.to_string()];
        for col in &cols {
            if latency(col) {
                head.push(format!("{col} p50"));
                head.push(format!("{col} p99"));
            } else {
                head.push(col.to_string());
            }
        }
        let rows: Vec<Vec<Cell>> = comps
            .iter()
            .map(|c| {
                let mut row = vec![Cell::text(&c.name)];
                for col in &cols {
                    let v = c.fields.get(*col);
                    if latency(col) {
                        for p in ["p50", "p99"] {
                            row.push(match v.and_then(|v| v.get(p)).and_then(Value::as_f64) {
                                Some(x) => Cell::num(&crate::text::fmt_secs(x), x),
                                None => Cell::text("-"),
                            });
                        }
                    } else {
                        row.push(match v {
                            Some(Value::Number(n)) => {
                                let x = n.as_f64().unwrap_or(f64::NAN);
                                let text = if n.is_f64() {
                                    round_sig(x)
                                } else {
                                    n.to_string()
                                };
                                Cell::num(&text, x)
                            }
                            Some(Value::String(t)) => Cell::text(t),
                            Some(other) => Cell::text(&other.to_string()),
                            None => Cell::text("-"),
                        });
                    }
                }
                row
            })
            .collect();
        page.table(&head, &rows, true, &[]);
    }
}

fn run_latencies(page: &mut Page, s: &RunSummary) {
    let rows = super::charts::run::latencies(s);
    if rows.is_empty() {
        return;
    }
    page.h2("Latencies", "latencies");
    page.p("Every latency the run measured (measured window), in seconds; click a header to sort.");
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|(label, q)| {
            let mut row = vec![Cell::text(label)];
            row.extend(q.iter().map(|x| Cell::num(&crate::text::fmt_secs(*x), *x)));
            row
        })
        .collect();
    page.table(
        &["latency", "p50", "p90", "p99", "max"].map(String::from),
        &cells,
        true,
        &[],
    );
}

fn run_bill(page: &mut Page, s: &RunSummary) {
    let b = &s.cost;
    page.h2("Bill", "bill");
    page.p(&format!(
        "Monthly bill extrapolated from the measured window ({}): ${:.2} in all.",
        b.price_table, b.total
    ));
    let rows: Vec<Vec<Cell>> = b
        .lines
        .iter()
        .map(|l| {
            vec![
                Cell::text(&l.service),
                Cell::text(&l.component),
                Cell::text(&l.item),
                Cell::num(&round_sig(l.quantity), l.quantity),
                Cell::text(&l.unit),
                Cell::num(&format!("{}", l.unit_usd), l.unit_usd),
                Cell::num(&format!("{:.2}", l.usd), l.usd),
            ]
        })
        .collect();
    page.table(
        &[
            "service",
            "component",
            "item",
            "quantity",
            "unit",
            "USD/unit",
            "USD",
        ]
        .map(String::from),
        &rows,
        true,
        &[],
    );
    let sub: Vec<Vec<Cell>> = b
        .services
        .pairs()
        .iter()
        .filter(|(k, v)| *v != 0.0 || b.lines.iter().any(|l| l.service == *k))
        .map(|(k, v)| vec![Cell::text(k), Cell::num(&format!("{v:.2}"), *v)])
        .collect();
    if !sub.is_empty() {
        page.p("Subtotals per service:");
        page.table(&["service".into(), "USD".into()], &sub, true, &[]);
    }
    if !b.unpriced.is_empty() {
        let warn: Vec<String> = b
            .unpriced
            .iter()
            .map(|u| {
                format!(
                    "Not priced: {} {} {}: {} {} ({})",
                    u.service,
                    u.component,
                    u.item,
                    round_sig(u.quantity),
                    u.unit,
                    u.reason
                )
            })
            .collect();
        page.warnings(&warn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_character_html_gives_a_meaning() {
        assert_eq!(
            esc(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn a_page_escapes_its_text_and_holds_its_script() {
        let mut p = Page::new("q<u>&\"x\"");
        p.p("<script>alert(1)</script>");
        p.table(
            &["a<b".into()],
            &[vec![Cell::num("1 & 2", 1.5)], vec![Cell::text("<i>")]],
            true,
            &[],
        );
        let html = p.finish();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("<title>q&lt;u&gt;&amp;&quot;x&quot;</title>"));
        assert!(html.contains("<th>a&lt;b</th>"));
        assert!(html.contains("data-v=\"1.5\">1 &amp; 2</td>"));
        assert_eq!(html.matches("<script>").count(), 1);
        assert!(html.contains("data-report-script"));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }
}
