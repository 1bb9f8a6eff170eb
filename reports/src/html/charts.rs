//! Which charts a run's report shows, built from its summary. Each chart is
//! a list of named series over the timeline: charting another timeline field
//! is one more `Series`.

use crate::charts::{
    palette, Chart, Figure, HeatMap, Mark, Panel, Series, SmallMultiples, TimeChart,
};
use crate::markers::{self, Marker, MarkerKind};
use crate::summary::{Summary, TimelinePoint};
use std::collections::BTreeMap;

const WIDE: (u32, u32) = (1200, 420);

/// Code colors other than green, strictest last; green is "everyone else".
const NOT_GREEN: [&str; 4] = ["white", "yellow", "orange", "red"];

pub fn report_charts(s: &Summary) -> Vec<Chart> {
    report_charts_marked(s, &markers::of(s))
}

/// The charts, with `markers` (violations, faults) on the timelines.
pub fn report_charts_marked(s: &Summary, markers: &[Marker]) -> Vec<Chart> {
    let marks = timeline_marks(s, markers);
    let mut charts = vec![
        with_marks(scans_by_decision(s), &marks),
        waits(s),
        with_marks(busy(s), &marks),
    ];
    if has_capacity(s) {
        charts.push(latency(s));
        charts.push(queue_depth(s));
    }
    charts.push(colors_by_province(s));
    charts.push(recognition(s));
    charts
}

/// Violations and faults from the summary's optional `violations` and
/// `faults` sections (see `markers`), placed on the timeline's axis, where
/// point i is the interval starting at `timeline.points[i].start`.
pub fn timeline_marks(s: &Summary, markers: &[Marker]) -> Vec<Mark> {
    let Some(t0) = s
        .timeline
        .points
        .first()
        .and_then(|p| markers::minutes(&p.start))
    else {
        return Vec::new();
    };
    let step = s.timeline.interval_minutes.max(1) as f64;
    let last = (s.timeline.points.len().max(2) - 1) as f64;
    let x = |t: &str| markers::minutes(t).map(|m| (m - t0) as f64 / step);
    // Each fault (by label) keeps one color on every chart and in the legend.
    let mut faults: Vec<&str> = Vec::new();
    markers
        .iter()
        .filter_map(|m| {
            let x0 = x(&m.start)?;
            let x1 = m.end.as_deref().and_then(x).unwrap_or(x0);
            if x1 < 0.0 || x0 > last {
                return None;
            }
            let (label, color) = match m.kind {
                MarkerKind::Violation => (format!("violation: {}", m.label), palette::MARK),
                MarkerKind::Failing => (m.label.clone(), palette::FAILING),
                MarkerKind::Fault => {
                    let i = faults
                        .iter()
                        .position(|l| *l == m.label)
                        .unwrap_or_else(|| {
                            faults.push(&m.label);
                            faults.len() - 1
                        });
                    (format!("fault: {}", m.label), palette::window(i))
                }
            };
            Some(Mark {
                label,
                color,
                x0: x0.clamp(0.0, last),
                x1: x1.clamp(0.0, last),
            })
        })
        .collect()
}

fn with_marks(mut chart: Chart, marks: &[Mark]) -> Chart {
    if marks.is_empty() {
        return chart;
    }
    if let Figure::Time(t) = chart.figure {
        chart.figure = Figure::Marked {
            chart: t,
            marks: marks.to_vec(),
        };
        chart.caption.push_str(
            " Red lines: rule violations; shaded windows: injected faults (one color each) and, dark red, \
             when the service was failing.",
        );
    }
    chart
}

/// Whether the capacity model ran: its timeline fields are zero otherwise,
/// and a flat zero line would read as "no latency" rather than "not measured".
pub fn has_capacity(s: &Summary) -> bool {
    s.timeline.points.iter().any(|p| p.platform_requests > 0)
}

fn timeline_chart(s: &Summary, y_label: &str) -> TimeChart {
    TimeChart {
        x_labels: s.timeline.points.iter().map(|p| p.start.clone()).collect(),
        y_label: y_label.to_string(),
        ..TimeChart::default()
    }
}

fn field(s: &Summary, f: fn(&TimelinePoint) -> f64) -> Vec<f64> {
    s.timeline.points.iter().map(f).collect()
}

fn every(s: &Summary) -> String {
    format!("per {} minutes", s.timeline.interval_minutes)
}

fn scans_by_decision(s: &Summary) -> Chart {
    let mut t = timeline_chart(s, "scans");
    t.stacked = vec![
        Series::new(
            "pass",
            palette::decision("pass"),
            field(s, |p| p.pass as f64),
        ),
        Series::new(
            "refer",
            palette::decision("refer"),
            field(s, |p| p.refer as f64),
        ),
        Series::new(
            "refuse",
            palette::decision("refuse"),
            field(s, |p| p.refuse as f64),
        ),
        Series::new(
            "no verdict",
            palette::cycle(7),
            field(s, |p| (p.busy + p.unknown) as f64),
        ),
    ];
    Chart {
        name: "scans".into(),
        title: format!("Scans {} by decision", every(s)),
        caption: "Checkpoint scans in each interval, stacked: pass, refer to staff, refuse, and no verdict \
                  (answered \"system busy\" or unknown code); the top is all scans."
            .into(),
        size: WIDE,
        figure: Figure::Time(t),
    }
}

fn waits(s: &Summary) -> Chart {
    let mut t = timeline_chart(s, "minutes");
    t.lines = vec![
        Series::new(
            "mean wait",
            palette::cycle(0),
            field(s, |p| p.wait_minutes_mean),
        ),
        Series::new(
            "longest wait",
            palette::cycle(1),
            field(s, |p| p.wait_minutes_max as f64),
        ),
    ];
    Chart {
        name: "waits".into(),
        title: "Checkpoint waiting time".into(),
        caption: "Minutes from arriving at a checkpoint to being scanned, for the people scanned in each interval.".into(),
        size: WIDE,
        figure: Figure::Time(t),
    }
}

fn busy(s: &Summary) -> Chart {
    let mut t = timeline_chart(s, "answers");
    t.lines = vec![
        Series::new(
            "scans answered busy",
            palette::MARK,
            field(s, |p| p.busy as f64),
        ),
        Series::new(
            "unknown code",
            palette::cycle(3),
            field(s, |p| p.unknown as f64),
        ),
    ];
    if has_capacity(s) {
        t.lines.push(Series::new(
            "platform requests refused busy",
            palette::cycle(1),
            field(s, |p| p.platform_busy as f64),
        ));
    }
    Chart {
        name: "busy".into(),
        title: format!("Busy and unknown answers {}", every(s)),
        caption: "Scans the platform answered \"system busy\" (admission control) or could not match to a code.".into(),
        size: WIDE,
        figure: Figure::Time(t),
    }
}

fn latency(s: &Summary) -> Chart {
    let mut t = timeline_chart(s, "ms");
    // An interval without requests has no latency, not a latency of zero.
    let p99 = field(s, |p| {
        if p.platform_requests > 0 {
            p.latency_p99_ms
        } else {
            f64::NAN
        }
    });
    t.lines = vec![Series::new("p99, all platforms", palette::cycle(0), p99)];
    Chart {
        name: "latency".into(),
        title: format!("Platform latency p99 {}", every(s)),
        caption: "99th percentile latency of answered platform requests (queue wait plus service, virtual time), \
                  all platforms together; gaps are intervals without requests."
            .into(),
        size: WIDE,
        figure: Figure::Time(t),
    }
}

fn queue_depth(s: &Summary) -> Chart {
    let mut t = timeline_chart(s, "requests waiting");
    t.lines = vec![Series::new(
        "longest queue",
        palette::cycle(4),
        field(s, |p| p.queue_depth_max as f64),
    )];
    Chart {
        name: "queue-depth".into(),
        title: format!("Platform queue depth {}", every(s)),
        caption: "The longest queue of requests waiting for a server on any one platform in each interval.".into(),
        size: WIDE,
        figure: Figure::Time(t),
    }
}

/// The colors shown per province: every non-green color that occurs, or
/// green alone when nobody was ever anything else.
fn shown_colors(s: &Summary) -> Vec<&'static str> {
    let occurs = |c: &str| {
        s.timeline.colors.iter().any(|p| {
            p.provinces
                .values()
                .any(|m| m.get(c).copied().unwrap_or(0) > 0)
        })
    };
    let colors: Vec<&str> = NOT_GREEN.into_iter().filter(|c| occurs(c)).collect();
    if colors.is_empty() {
        vec!["green"]
    } else {
        colors
    }
}

fn colors_by_province(s: &Summary) -> Chart {
    let colors = shown_colors(s);
    let x_labels: Vec<String> = s.timeline.colors.iter().map(|p| p.at.clone()).collect();
    let empty = BTreeMap::new();
    let panels: Vec<Panel> = s
        .provinces
        .iter()
        .map(|province| {
            let counts = |c: &str| -> Vec<f64> {
                let at = |p: &crate::summary::ColorPoint| {
                    p.provinces
                        .get(&province.province)
                        .unwrap_or(&empty)
                        .get(c)
                        .copied()
                };
                s.timeline
                    .colors
                    .iter()
                    .map(|p| at(p).unwrap_or(0) as f64)
                    .collect()
            };
            Panel {
                title: province.province.clone(),
                chart: TimeChart {
                    x_labels: x_labels.clone(),
                    y_label: String::new(),
                    stacked: Vec::new(),
                    lines: colors
                        .iter()
                        .map(|c| Series::new(*c, palette::code(c), counts(c)))
                        .collect(),
                },
            }
        })
        .collect();
    // Up to five panels a row; fewer provinces (an incident replay has one)
    // share the width rather than leave most of it empty.
    let columns = panels.len().clamp(1, 5);
    let rows = panels.len().div_ceil(columns).max(1) as u32;
    let legend = colors
        .iter()
        .map(|c| (c.to_string(), palette::code(c)))
        .collect();
    let what = if colors == ["green"] {
        "green codes"
    } else {
        "codes that are not green"
    };
    Chart {
        name: "colors".into(),
        title: "Code colors per province over time".into(),
        caption: format!(
            "Registered people holding {what}, per province, each panel on its own scale; everyone else holds green."
        ),
        size: (1200, 80 + rows * 150),
        figure: Figure::Multiples(SmallMultiples { columns, panels, legend }),
    }
}

fn recognition(s: &Summary) -> Chart {
    let receivers: Vec<String> = s.provinces.iter().map(|p| p.province.clone()).collect();
    let mut issuers = receivers.clone();
    issuers.push("national".into());
    let mut values = vec![vec![0u64; receivers.len()]; issuers.len()];
    let mut marked = vec![vec![false; receivers.len()]; issuers.len()];
    for cell in &s.recognition {
        let row = issuers.iter().position(|i| *i == cell.issuer);
        let column = receivers.iter().position(|r| *r == cell.receiver);
        if let (Some(r), Some(c)) = (row, column) {
            values[r][c] += cell.scans;
            marked[r][c] |= cell.refuse + cell.unanswered > 0;
        }
    }
    Chart {
        name: "recognition".into(),
        title: "Recognition: whose codes each province scanned".into(),
        caption: "Rows: the system that issued the code (a province, or the national code); columns: the province \
                  whose checkpoint scanned it. Color: scans, log scale. Framed red: some were refused or unanswered."
            .into(),
        size: (1200, 1000),
        figure: Figure::Heat(HeatMap {
            row_labels: issuers,
            column_labels: receivers,
            values,
            marked,
            row_title: "issuer".into(),
            column_title: "scanning province".into(),
        }),
    }
}
