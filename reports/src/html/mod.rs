//! `report.html`: one self-contained page per run (inline CSS and SVG), and
//! its charts as standalone files in `charts/` (`NAME.svg`, `NAME.png`).

mod charts;
pub mod page;

pub use charts::{report_charts, report_charts_marked};

use crate::error::{create_dir, write_file, ReportError};
use crate::format::{self, grouped};
use crate::metrics::{self, Reading, Run};
use crate::summary::{Performance, Summary};
use page::{Cell, Figure, Page};
use std::path::Path;

/// Writes `dir/report.html` and `dir/charts/*.{svg,png}`.
pub fn write_report(
    dir: &Path,
    summary: &Summary,
    performance: Option<&Performance>,
) -> Result<(), ReportError> {
    let chart_dir = dir.join("charts");
    create_dir(&chart_dir)?;
    let charts = report_charts(summary);
    let mut svgs = Vec::with_capacity(charts.len());
    for chart in &charts {
        let svg = chart.svg()?;
        write_file(&chart_dir.join(format!("{}.svg", chart.name)), &svg)?;
        chart.write_png(&chart_dir.join(format!("{}.png", chart.name)))?;
        svgs.push(svg);
    }
    let html = render(
        summary,
        performance,
        &charts
            .iter()
            .zip(&svgs)
            .map(|(c, s)| (c, s.as_str()))
            .collect::<Vec<_>>(),
    );
    write_file(&dir.join("report.html"), html)
}

/// The page, given the charts already drawn as SVG.
pub fn render(
    summary: &Summary,
    performance: Option<&Performance>,
    charts: &[(&crate::charts::Chart, &str)],
) -> String {
    let s = summary;
    let mut page = Page::default();
    page.heading(1, &format!("hcsim run: {}", s.scenario.name));
    page.meta(&format!(
        "{} · seed {} · {} → {} · {} provinces · {} shards · tick {} min · population scale {}",
        s.scenario.file,
        s.scenario.seed,
        s.scenario.start,
        s.scenario.end,
        s.scenario.provinces.len(),
        s.scenario.shards,
        s.scenario.tick_minutes,
        s.scenario.population_scale
    ));
    page.headline(&headline(&Run {
        summary,
        performance,
    }));
    page.heading(2, "Over time");
    for (chart, svg) in charts {
        if chart.has_data() {
            page.chart(&chart.name, svg, &chart.caption);
        } else {
            page.chart(
                &chart.name,
                svg,
                &format!(
                    "No data: every value is zero in this run. {}",
                    chart.caption
                ),
            );
        }
    }
    violations_and_faults(&mut page, s);
    provinces(&mut page, s);
    platforms(&mut page, s);
    recognition_problems(&mut page, s);
    totals(&mut page, s, performance);
    page.meta(&format!(
        "summary.json schema version {}. The charts are also in charts/ as SVG and PNG.",
        s.schema_version
    ));
    page.finish(&format!("hcsim run: {}", s.scenario.name))
}

/// The figures a reader wants first; `n/a` (with the reason) for a figure
/// this run does not carry.
fn headline(run: &Run) -> Vec<Figure> {
    let shown = [
        ("citizens", "citizens"),
        ("scans", "scans"),
        ("violations", "rule violations"),
        ("scan_p99_ms", "scan latency p99"),
        ("busy_rate", "shed by capacity"),
        ("events_per_second", "events/s"),
        ("peak_rss_bytes", "peak memory"),
    ];
    shown
        .iter()
        .filter_map(|(name, label)| {
            let def = metrics::find(name)?;
            let reading = def.read(run);
            let note = match &reading {
                Reading::Missing(why) => Some(why.clone()),
                Reading::Value(v)
                    if def.unit == metrics::Unit::Milliseconds
                        && *v >= crate::summary::LATENCY_CAP_MS =>
                {
                    Some("the one-hour cap of what is measured".to_string())
                }
                Reading::Value(_) => None,
            };
            Some(Figure {
                label: label.to_string(),
                value: format::compact_reading(&reading, def.unit),
                note,
            })
        })
        .collect()
}

/// The markers drawn on the timeline, listed; nothing when the summary has
/// no violations, faults or failing windows with a time.
fn violations_and_faults(page: &mut Page, s: &Summary) {
    let marks = crate::markers::of(s);
    if marks.is_empty() {
        return;
    }
    page.heading(2, "Violations, faults and failing windows");
    let rows: Vec<Vec<Cell>> = marks
        .iter()
        .map(|m| {
            vec![
                match m.kind {
                    crate::markers::MarkerKind::Violation => Cell::class("violation", "bad"),
                    crate::markers::MarkerKind::Fault => Cell::text("fault"),
                    crate::markers::MarkerKind::Failing => Cell::class("failing", "bad"),
                },
                Cell::text(&m.label),
                Cell::text(&m.start),
                Cell::text(m.end.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    page.table(&["", "what", "at / from", "until"], &rows);
}

fn ratio(part: u64, whole: u64) -> String {
    if whole == 0 {
        "n/a".into()
    } else {
        format::percent(part as f64 / whole as f64)
    }
}

fn provinces(page: &mut Page, s: &Summary) {
    page.heading(2, "Provinces");
    let rows: Vec<Vec<Cell>> = s
        .provinces
        .iter()
        .map(|p| {
            let d = |k: &str| p.scans.by_decision.get(k).copied().unwrap_or(0);
            let not_green: u64 = p
                .colors_at_end
                .iter()
                .filter(|(c, _)| *c != "green")
                .map(|(_, n)| n)
                .sum();
            vec![
                Cell::text(&p.province),
                Cell::text(&p.scheme),
                Cell::num(grouped(p.citizens)),
                Cell::num(grouped(p.scans.total)),
                Cell::num(grouped(d("pass"))),
                Cell::num(grouped(d("refer"))),
                Cell::num(grouped(d("refuse"))),
                Cell::num(grouped(p.scans.busy)),
                Cell::num(ratio(p.scans.busy, p.scans.total)),
                Cell::num(grouped(p.scans.via_hub)),
                Cell::num(format!("{:.2}", p.scans.wait_minutes_mean)),
                Cell::num(grouped(p.scans.wait_minutes_max)),
                Cell::num(grouped(not_green)),
            ]
        })
        .collect();
    page.table(
        &[
            "province",
            "scheme",
            "citizens",
            "scans",
            "pass",
            "refer",
            "refuse",
            "busy",
            "busy rate",
            "via hub",
            "wait mean (min)",
            "wait max (min)",
            "not green at end",
        ],
        &rows,
    );
}

/// The capacity model's figures: latency by operation and load per platform.
fn platforms(page: &mut Page, s: &Summary) {
    if s.latency.is_empty() && s.capacity.platforms.is_empty() {
        return;
    }
    let ms = |v: f64| Cell::num(format::latency_ms(v));
    page.heading(2, "Platform requests and latency by operation");
    page.paragraph(
        "Sent: requests the simulation sent. At the platforms: what the platforms served, \
         answered or busy; it sums to the requests of the platform load table below. A data \
         feed sent once reaches every platform it concerns, and provinces query the hub \
         (hub_query) for cross-province scans.",
    );
    let mut rows: Vec<Vec<Cell>> = s
        .latency
        .iter()
        .map(|(op, l)| {
            vec![
                Cell::text(op),
                Cell::num(grouped(s.requests.get(op).copied().unwrap_or(0))),
                Cell::num(grouped(l.answered + l.busy)),
                Cell::num(grouped(l.answered)),
                Cell::num(grouped(l.busy)),
                Cell::num(format::percent(l.busy_rate)),
                ms(l.p50_ms),
                ms(l.p90_ms),
                ms(l.p99_ms),
                ms(l.p999_ms),
                ms(l.max_ms),
            ]
        })
        .collect();
    let sent: u64 = s.latency.keys().filter_map(|op| s.requests.get(op)).sum();
    let served: u64 = s.latency.values().map(|l| l.answered + l.busy).sum();
    rows.push(vec![
        Cell::class("total", "changed"),
        Cell::num(grouped(sent)),
        Cell::num(grouped(served)),
    ]);
    page.table(
        &[
            "operation",
            "sent",
            "at the platforms",
            "answered",
            "busy",
            "busy rate",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
        ],
        &rows,
    );
    page.heading(2, "Platform load");
    let mut rows: Vec<Vec<Cell>> = s
        .capacity
        .platforms
        .iter()
        .map(|p| {
            let verify_p99 = p
                .latency
                .get("verify")
                .or_else(|| p.latency.get("hub_query"))
                .map(|l| l.p99_ms);
            let failing = s
                .failing
                .platforms
                .iter()
                .find(|f| f.platform == p.platform)
                .map_or(0, |f| f.minutes);
            vec![
                Cell::text(&p.platform),
                Cell::num(grouped(p.servers as u64)),
                Cell::num(grouped(p.requests)),
                Cell::num(grouped(p.busy)),
                if p.busy > 0 {
                    Cell::class(format::percent(p.busy_rate), "n bad")
                } else {
                    Cell::num(format::percent(p.busy_rate))
                },
                Cell::num(format::percent(p.utilization)),
                Cell::num(grouped(p.queue_depth_max)),
                verify_p99.map_or(Cell::num("n/a"), ms),
                if failing > 0 {
                    Cell::class(grouped(failing as u64), "n bad")
                } else {
                    Cell::num("0")
                },
            ]
        })
        .collect();
    let requests: u64 = s.capacity.platforms.iter().map(|p| p.requests).sum();
    let busy: u64 = s.capacity.platforms.iter().map(|p| p.busy).sum();
    rows.push(vec![
        Cell::class("total", "changed"),
        Cell::num(""),
        Cell::num(grouped(requests)),
        Cell::num(grouped(busy)),
    ]);
    page.table(
        &[
            "platform",
            "servers",
            "requests",
            "busy",
            "busy rate",
            "utilization",
            "max queue",
            "p99 ms (verify / hub)",
            "failing min",
        ],
        &rows,
    );
    let r = &s.capacity.retries;
    page.paragraph(&format!(
        "Retries after \"system busy\": {} rescans ({} people never verified), {} app requests repeated ({} abandoned).",
        grouped(r.scan_retries),
        grouped(r.scan_gave_up),
        grouped(r.app_retries),
        grouped(r.app_gave_up)
    ));
}

fn recognition_problems(page: &mut Page, s: &Summary) {
    page.heading(2, "Recognition problems");
    let rows: Vec<Vec<Cell>> = s
        .recognition
        .iter()
        .filter(|c| c.refuse + c.unanswered > 0)
        .map(|c| {
            vec![
                Cell::text(&c.issuer),
                Cell::text(&c.receiver),
                Cell::num(grouped(c.scans)),
                Cell::num(grouped(c.refuse)),
                Cell::num(grouped(c.unanswered)),
            ]
        })
        .collect();
    if rows.is_empty() {
        page.paragraph("No scan of any issuer's code was refused or left unanswered.");
    } else {
        page.paragraph("Issuer × scanning province pairs where scans were refused or unanswered (framed red above).");
        page.table(
            &[
                "issuer",
                "scanning province",
                "scans",
                "refused",
                "unanswered",
            ],
            &rows,
        );
    }
}

fn totals(page: &mut Page, s: &Summary, performance: Option<&Performance>) {
    page.heading(2, "All figures");
    let run = Run {
        summary: s,
        performance,
    };
    let rows: Vec<Vec<Cell>> = metrics::METRICS
        .iter()
        .map(|m| {
            let reading = m.read(&run);
            let value = match &reading {
                Reading::Value(_) => Cell::num(format::reading(&reading, m.unit)),
                Reading::Missing(why) => Cell::class(format!("n/a ({why})"), "skip"),
            };
            vec![Cell::text(m.name), value, Cell::text(m.description)]
        })
        .collect();
    page.table(&["metric", "value", "what it counts"], &rows);
    // With the capacity model, the latency table above carries these.
    if s.latency.is_empty() {
        let requests: Vec<Vec<Cell>> = s
            .requests
            .iter()
            .map(|(op, n)| vec![Cell::text(op), Cell::num(grouped(*n))])
            .collect();
        page.heading(2, "Requests sent by operation");
        page.table(&["operation", "requests"], &requests);
    }
}
