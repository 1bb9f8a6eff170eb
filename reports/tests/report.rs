//! report.html and its charts, rendered from the synthetic run.

use super::fixture;
use hcsim_reports::html::write_report;
use hcsim_reports::summary::Timeline;
use std::path::Path;

const CHARTS: [&str; 7] = [
    "scans",
    "waits",
    "busy",
    "latency",
    "queue-depth",
    "colors",
    "recognition",
];

fn render(dir: &Path) -> String {
    write_report(dir, &fixture::summary(), Some(&fixture::performance())).unwrap();
    std::fs::read_to_string(dir.join("report.html")).unwrap()
}

/// The inline `<svg>` of the chart with this id.
fn chart_svg<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<div class=\"chart\" id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let rest = &html[start..];
    &rest[..rest.find("</svg>").expect("svg closes")]
}

/// The number of points of each data line with this stroke color; legend
/// samples (two points) are left out.
fn polylines(svg: &str, stroke: &str) -> Vec<usize> {
    svg.split("<polyline")
        .skip(1)
        .filter(|p| {
            p.split('>')
                .next()
                .unwrap_or("")
                .contains(&format!("stroke=\"{stroke}\""))
        })
        .map(|p| {
            p.split("points=\"")
                .nth(1)
                .and_then(|q| q.split('"').next())
                .unwrap_or("")
                .split_whitespace()
                .count()
        })
        .filter(|&n| n > 2)
        .collect()
}

#[test]
fn report_is_written_with_inline_charts_and_chart_files() {
    let tmp = tempfile::tempdir().unwrap();
    let html = render(tmp.path());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("No data:"), "every synthetic chart has data");
    for outside in ["<script", "<link", "src=\"http", "<img"] {
        assert!(
            !html.contains(outside),
            "the page must be self-contained, found {outside}"
        );
    }
    for name in CHARTS {
        assert!(
            chart_svg(&html, name).contains("<svg"),
            "chart {name} not inline"
        );
        for ext in ["svg", "png"] {
            let file = tmp.path().join("charts").join(format!("{name}.{ext}"));
            let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            assert!(len > 1000, "{} is {len} bytes", file.display());
        }
    }
    let png = std::fs::read(tmp.path().join("charts/scans.png")).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "charts/scans.png is a PNG"
    );
}

#[test]
fn line_charts_carry_one_point_per_interval() {
    let tmp = tempfile::tempdir().unwrap();
    let html = render(tmp.path());
    // Mean wait is drawn in the first series color, longest wait in the second.
    let waits = chart_svg(&html, "waits");
    assert_eq!(polylines(waits, "#1F77B4"), vec![fixture::POINTS]);
    assert_eq!(polylines(waits, "#FF7F0E"), vec![fixture::POINTS]);
    // Busy answers: scans (red) and platform requests (orange), a point per interval.
    assert_eq!(
        polylines(chart_svg(&html, "busy"), "#D62728"),
        vec![fixture::POINTS]
    );
    assert_eq!(
        polylines(chart_svg(&html, "busy"), "#FF7F0E"),
        vec![fixture::POINTS]
    );
    assert_eq!(
        polylines(chart_svg(&html, "latency"), "#1F77B4"),
        vec![fixture::POINTS]
    );
    assert_eq!(
        polylines(chart_svg(&html, "queue-depth"), "#8C564B"),
        vec![fixture::POINTS]
    );
    // Scans: four stacked areas (pass, refer, refuse, no verdict).
    let scans = chart_svg(&html, "scans");
    assert_eq!(scans.matches("<polygon").count(), 4);
    for polygon in scans.split("<polygon").skip(1) {
        let points = polygon
            .split("points=\"")
            .nth(1)
            .and_then(|p| p.split('"').next())
            .unwrap_or("");
        assert_eq!(
            points.split_whitespace().count(),
            2 * fixture::POINTS,
            "an area's top and bottom edge"
        );
    }
    // Colors: a yellow and a red line in each of the 31 panels.
    let colors = chart_svg(&html, "colors");
    assert_eq!(polylines(colors, "#D62728").len(), 31);
    assert_eq!(polylines(colors, "#E6B800").len(), 31);
}

#[test]
fn heat_map_has_a_cell_per_pair_and_frames_the_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let html = render(tmp.path());
    let svg = chart_svg(&html, "recognition");
    let summary = fixture::summary();
    // 32 issuers (31 provinces and the national code) × 31 scanning provinces.
    let cells = svg.matches("<rect").count();
    assert!(cells >= 32 * 31, "{cells} rectangles");
    let problems = summary
        .recognition
        .iter()
        .filter(|c| c.refuse + c.unanswered > 0)
        .count();
    assert_eq!(problems, 2, "the fixture has two problem cells");
    // Each problem cell gets a two-rectangle frame, and so does the legend's sample.
    let frames = svg.matches("fill=\"none\" stroke=\"#D62728\"").count();
    assert_eq!(frames, 2 * (problems + 1));
    for label in [
        "national",
        "inner-mongolia",
        "xinjiang",
        "scanning province",
    ] {
        assert!(
            svg.contains(&format!(">\n{label}\n</text>")),
            "label {label} missing"
        );
    }
    // The problem pairs are listed under the charts too.
    assert!(
        html.contains("<td>national</td><td>jiangsu</td>"),
        "refused pair listed"
    );
    assert!(
        html.contains("<td>fujian</td><td>inner-mongolia</td>"),
        "unanswered pair listed"
    );
}

#[test]
fn headline_shows_figures_and_names_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let html = render(tmp.path());
    let headline =
        &html[html.find("<div class=\"headline\">").unwrap()..html.find("<h2>").unwrap()];
    // Cards show three significant digits: 17,980 citizens, 308,640 events/s.
    assert_eq!(fixture::summary().citizens, 17_980);
    assert!(headline.contains(">18.0 k<"), "citizens: {headline}");
    assert!(headline.contains(">309 k/s<"), "events/s: {headline}");
    assert!(headline.contains("64.0 MiB"), "peak memory");
    assert!(
        headline.contains(">42.0 ms<"),
        "scan p99 from the verify latency"
    );
    // No oracle yet: violations are "n/a" with the reason, never 0.
    let violations = &headline[..headline.find("rule violations").unwrap()];
    assert!(
        violations.ends_with("n/a</div><div class=\"label\">"),
        "{violations}"
    );
    assert!(headline.contains("carries no rule oracle"), "reason shown");
}

/// A run whose queues grew for hours (`degrade = none`): its scan p99 is the
/// one-hour cap of what is measured, and the page never shows it as a
/// measured 3,600 s.
#[test]
fn a_latency_at_the_cap_is_shown_as_the_cap() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = fixture::summary();
    let verify = s.latency.get_mut("verify").unwrap();
    (verify.p99_ms, verify.p999_ms, verify.max_ms) = (3_600_810.0, 3_600_810.0, 3_600_810.0);
    write_report(tmp.path(), &s, Some(&fixture::performance())).unwrap();
    let html = std::fs::read_to_string(tmp.path().join("report.html")).unwrap();
    let headline =
        &html[html.find("<div class=\"headline\">").unwrap()..html.find("<h2>").unwrap()];
    assert!(
        headline.contains(
            ">≥ 1 h</div><div class=\"label\">scan latency p99</div>\
             <div class=\"note\">the one-hour cap of what is measured</div>"
        ),
        "{headline}"
    );
    assert!(
        html.contains("<td>scan_p99_ms</td><td class=\"n\">≥ 1 h (cap)</td>"),
        "All figures"
    );
    for measured in ["3600.81", "3,600,810", "3600810"] {
        assert!(!html.contains(measured), "the cap shown as {measured}");
    }
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert_eq!(render(one.path()), render(two.path()));
    for name in CHARTS {
        for ext in ["svg", "png"] {
            let file = format!("charts/{name}.{ext}");
            let a = std::fs::read(one.path().join(&file)).unwrap();
            let b = std::fs::read(two.path().join(&file)).unwrap();
            assert!(a == b, "{file} differs between two renders");
        }
    }
}

#[test]
fn a_run_without_timeline_or_performance_still_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let mut summary = fixture::summary();
    summary.timeline = Timeline::default();
    summary.recognition.clear();
    summary.latency.clear();
    summary.capacity = Default::default();
    write_report(tmp.path(), &summary, None).unwrap();
    let html = std::fs::read_to_string(tmp.path().join("report.html")).unwrap();
    assert!(html.contains("no performance.json for this run"));
    assert!(html.contains("no `verify` latency (no capacity model in this run)"));
    // Without a capacity model there is no latency chart to draw.
    assert!(!html.contains("id=\"latency\""));
    assert!(html.contains("No scan of any issuer"));
    assert!(
        html.contains("No data: every value is zero in this run. Checkpoint scans"),
        "empty charts say so"
    );
}

#[test]
fn violations_and_faults_are_marked_on_the_timeline() {
    use hcsim_reports::html::{report_charts, report_charts_marked};
    use hcsim_reports::markers::{Marker, MarkerKind};
    let s = fixture::summary();
    let at = |i: usize| s.timeline.points[i].start.clone();
    let markers = vec![
        Marker {
            kind: MarkerKind::Violation,
            label: "red_admitted".into(),
            start: at(1),
            end: None,
        },
        Marker {
            kind: MarkerKind::Fault,
            label: "hub_partition (anhui)".into(),
            start: at(1),
            end: Some(at(2)),
        },
        Marker {
            kind: MarkerKind::Fault,
            label: "long before the run".into(),
            start: "2000-01-01T00:00".into(),
            end: Some("2000-01-01T01:00".into()),
        },
    ];
    let scans = |charts: Vec<hcsim_reports::charts::Chart>| {
        charts
            .into_iter()
            .find(|c| c.name == "scans")
            .unwrap()
            .svg()
            .unwrap()
    };
    let marked = scans(report_charts_marked(&s, &markers));
    assert!(
        marked.contains("violation: red_admitted"),
        "legend names the violation"
    );
    assert!(marked.contains("fault: hub_partition (anhui)"));
    assert!(
        !marked.contains("long before the run"),
        "outside the timeline"
    );
    let plain = scans(report_charts(&s));
    assert!(!plain.contains("violation:") && !plain.contains("fault:"));
}

/// The faults day's six windows: a color each, the same fault the same
/// color wherever it recurs, each fill under the data (drawn before the
/// stacked areas, so the lines and areas over it keep their colors), and
/// each legend swatch the color of its window's bar.
#[test]
fn fault_windows_have_a_color_each_under_the_data() {
    use hcsim_reports::charts::{palette, Figure};
    use hcsim_reports::html::report_charts_marked;
    use hcsim_reports::markers::{Marker, MarkerKind};
    use plotters::style::RGBColor;
    let s = fixture::summary();
    let at = |i: usize| s.timeline.points[i].start.clone();
    let fault = |label: String, from: usize| Marker {
        kind: MarkerKind::Fault,
        label,
        start: at(from),
        end: Some(at(from + 4)),
    };
    let mut markers: Vec<Marker> = (0..6).map(|k| fault(format!("kind {k}"), 10 * k)).collect();
    markers.push(fault("kind 0".into(), 80));
    let charts = report_charts_marked(&s, &markers);
    let scans = charts.iter().find(|c| c.name == "scans").unwrap();
    let Figure::Marked { marks, .. } = &scans.figure else {
        panic!("the scans chart carries the marks")
    };
    let colors_of = |k: usize| -> Vec<RGBColor> {
        let label = format!("fault: kind {k}");
        marks
            .iter()
            .filter(|m| m.label == label)
            .map(|m| m.color)
            .collect()
    };
    let recurring = colors_of(0);
    assert_eq!(recurring.len(), 2);
    assert_eq!(recurring[0], recurring[1], "one fault, one color");
    let colors: Vec<RGBColor> = (0..6).map(|k| colors_of(k)[0]).collect();
    for (i, a) in colors.iter().enumerate() {
        for b in &colors[i + 1..] {
            assert_ne!(a, b, "two faults share a color");
        }
    }

    let svg = scans.svg().unwrap();
    let hex = |c: RGBColor| format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
    let data = svg
        .find(&format!(
            "<polygon opacity=\"0.75\" {}",
            hex(palette::decision("pass"))
        ))
        .expect("the pass area");
    let on_white = |c: RGBColor| {
        let mix = |v: u8| {
            (v as f64 * palette::LANE_ALPHA + 255.0 * (1.0 - palette::LANE_ALPHA)).round() as u8
        };
        RGBColor(mix(c.0), mix(c.1), mix(c.2))
    };
    for c in colors {
        let fill = svg.find(&hex(c)).expect("the window's fill");
        assert!(fill < data, "a window drawn over the data");
        // The bar along the top and the legend's swatch.
        assert!(svg.matches(&hex(on_white(c))).count() >= 2, "{c:?}");
    }
}

/// A one-province run (the incident replays) draws its one panel across the
/// page, and its white codes in a color that is not a neutral grey, so the
/// line reads as data rather than as a grid line.
#[test]
fn a_single_province_colors_chart_uses_the_width_and_colors_white_codes() {
    use hcsim_reports::charts::{palette, Figure};
    use hcsim_reports::html::report_charts;
    let mut s = fixture::summary();
    s.provinces.truncate(1);
    let charts = report_charts(&s);
    let colors = charts.iter().find(|c| c.name == "colors").unwrap();
    let Figure::Multiples(m) = &colors.figure else {
        panic!("the colors chart is small multiples")
    };
    assert_eq!((m.columns, m.panels.len()), (1, 1));
    let all = report_charts(&fixture::summary());
    let all = all.iter().find(|c| c.name == "colors").unwrap();
    let Figure::Multiples(m) = &all.figure else {
        panic!("the colors chart is small multiples")
    };
    assert_eq!((m.columns, m.rows()), (5, 7));
    let white = palette::code("white");
    let (hi, lo) = (
        white.0.max(white.1).max(white.2),
        white.0.min(white.1).min(white.2),
    );
    assert!(hi - lo > 40, "{white:?} reads as grey");
}
