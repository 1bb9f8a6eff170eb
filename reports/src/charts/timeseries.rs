//! Values over the run's reporting intervals: stacked areas (parts of a
//! whole, e.g. decisions) and lines (e.g. mean and max wait).

use super::palette;
use super::DrawResult;
use crate::font::FAMILY;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    pub values: Vec<f64>,
}

impl Series {
    pub fn new(
        name: impl Into<String>,
        color: RGBColor,
        values: impl IntoIterator<Item = f64>,
    ) -> Series {
        Series {
            name: name.into(),
            color,
            values: values.into_iter().collect(),
        }
    }
}

/// A moment (`x0 == x1`, drawn as a vertical line) or a window (shaded)
/// on a time chart, in point-index units: a violation, a fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub label: String,
    pub color: RGBColor,
    pub x0: f64,
    pub x1: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeChart {
    /// One label per point (the interval's start).
    pub x_labels: Vec<String>,
    pub y_label: String,
    /// Drawn as areas stacked in order, the first at the bottom.
    pub stacked: Vec<Series>,
    /// Drawn as lines over the areas.
    pub lines: Vec<Series>,
}

impl TimeChart {
    pub fn points(&self) -> usize {
        let longest = self
            .stacked
            .iter()
            .chain(&self.lines)
            .map(|s| s.values.len())
            .max();
        longest.unwrap_or(0).max(self.x_labels.len())
    }

    fn stack_tops(&self) -> Vec<Vec<f64>> {
        let n = self.points();
        let mut running = vec![0.0; n];
        self.stacked
            .iter()
            .map(|s| {
                for (i, top) in running.iter_mut().enumerate() {
                    *top += s.values.get(i).copied().unwrap_or(0.0);
                }
                running.clone()
            })
            .collect()
    }

    fn y_max(&self, tops: &[Vec<f64>]) -> f64 {
        let stacked = tops.last().into_iter().flatten();
        let lines = self.lines.iter().flat_map(|s| &s.values);
        let max = stacked
            .chain(lines)
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        if max > 0.0 {
            max * 1.08
        } else {
            1.0
        }
    }
}

/// Sizes that differ between a full-width chart and a small-multiple panel.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub caption_size: u32,
    pub label_size: u32,
    pub x_labels: usize,
    pub y_labels: usize,
    pub x_label_area: u32,
    pub y_label_area: u32,
    pub legend: bool,
}

impl Layout {
    pub const FULL: Layout = Layout {
        caption_size: 22,
        label_size: 14,
        x_labels: 9,
        y_labels: 6,
        x_label_area: 34,
        y_label_area: 80,
        legend: true,
    };
    pub const PANEL: Layout = Layout {
        caption_size: 14,
        label_size: 10,
        x_labels: 3,
        y_labels: 3,
        x_label_area: 18,
        y_label_area: 44,
        legend: false,
    };
}

/// `2020-10-01T06:00` → `10-01 06:00`, or `06:00` when every label is on
/// the same day: the year never changes within a run.
pub fn short_times(labels: &[String]) -> Vec<String> {
    let date = |l: &str| l.split_once('T').map(|(d, _)| d.to_string());
    let one_day = labels.windows(2).all(|w| date(&w[0]) == date(&w[1]));
    labels
        .iter()
        .map(|label| match label.split_once('T') {
            Some((_, time)) if one_day => time.to_string(),
            Some((date, time)) if date.len() == 10 => format!("{} {}", &date[5..], time),
            _ => label.to_string(),
        })
        .collect()
}

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    chart: &TimeChart,
    layout: Layout,
) -> DrawResult<DB> {
    draw_marked(area, title, chart, layout, &[])
}

/// `draw`, with marks: windows under the series, moments over them; each
/// label is in the legend once.
pub fn draw_marked<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    chart: &TimeChart,
    layout: Layout,
    marks: &[Mark],
) -> DrawResult<DB> {
    let n = chart.points();
    let tops = chart.stack_tops();
    let x_max = (n.max(2) - 1) as f64;
    // With marks, the legend goes in a strip above the plot, where it
    // hides neither the data nor the windows' bars along the top.
    let strip = layout.legend && !marks.is_empty();
    let font = (FAMILY, layout.caption_size)
        .into_font()
        .color(&palette::INK);
    let plot_area;
    let mut builder = if strip {
        let titled = area.titled(title, font)?;
        let entries = legend_entries(chart, marks);
        let rows = entries.len().div_ceil(LEGEND_COLUMNS) as u32;
        let (legend, rest) = titled.split_vertically(rows * 18 + 8);
        draw_legend(&legend, &entries, layout.label_size)?;
        plot_area = rest;
        ChartBuilder::on(&plot_area)
    } else {
        let mut b = ChartBuilder::on(area);
        b.caption(title, font);
        b
    };
    let mut ctx = builder
        .margin(8)
        .x_label_area_size(layout.x_label_area)
        .y_label_area_size(layout.y_label_area)
        .build_cartesian_2d(
            Ticked::new(0.0..x_max, hour_ticks(&chart.x_labels, layout.x_labels)),
            Ticked::new(
                0.0..chart.y_max(&tops),
                value_ticks(chart, &tops, layout.y_labels),
            ),
        )?;
    let labels = short_times(&chart.x_labels);
    let x_formatter = |x: &f64| {
        let i = x.round();
        if (x - i).abs() > 1e-6 || i < 0.0 {
            return String::new();
        }
        labels.get(i as usize).cloned().unwrap_or_default()
    };
    let y_formatter = |y: &f64| axis_number(*y);
    ctx.configure_mesh()
        .x_labels(layout.x_labels)
        .y_labels(layout.y_labels)
        .x_label_formatter(&x_formatter)
        .y_label_formatter(&y_formatter)
        .label_style((FAMILY, layout.label_size).into_font().color(&palette::INK))
        .axis_desc_style((FAMILY, layout.label_size).into_font().color(&palette::INK))
        .y_desc(chart.y_label.as_str())
        .light_line_style(if layout.legend { palette::GRID } else { WHITE })
        .bold_line_style(palette::GRID)
        .draw()?;

    // Windows first, under the data, so the lines keep their colors: a
    // light fill over the window's time, and a bar in the window's own
    // lane along the top (in the headroom above the data), which the
    // legend's swatch matches. A window over most of the run gets only its
    // bar: several such fills would tint the whole chart.
    let y_top = chart.y_max(&tops);
    let mut labelled: Vec<&str> = Vec::new();
    let mut lanes: Vec<&str> = Vec::new();
    let lane_height = y_top * 0.012;
    for mark in marks.iter().filter(|m| m.x1 > m.x0) {
        let lane = lanes
            .iter()
            .position(|l| *l == mark.label)
            .unwrap_or_else(|| {
                lanes.push(&mark.label);
                lanes.len() - 1
            });
        if mark.x1 - mark.x0 < 0.9 * x_max {
            ctx.draw_series(std::iter::once(Rectangle::new(
                [(mark.x0, 0.0), (mark.x1, y_top)],
                mark.color.mix(palette::WINDOW_ALPHA).filled(),
            )))?;
        }
        let bar = blend_on_white(mark.color, palette::LANE_ALPHA);
        let top = y_top - lane as f64 * lane_height;
        let drawn = ctx.draw_series(std::iter::once(Rectangle::new(
            [(mark.x0, top - lane_height * 0.8), (mark.x1, top)],
            bar.filled(),
        )))?;
        if !labelled.contains(&mark.label.as_str()) {
            labelled.push(&mark.label);
            drawn
                .label(mark.label.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], bar.filled()));
        }
    }
    let mut below = vec![0.0; n];
    for (series, top) in chart.stacked.iter().zip(&tops) {
        let mut outline: Vec<(f64, f64)> = top
            .iter()
            .enumerate()
            .map(|(i, y)| (i as f64, *y))
            .collect();
        outline.extend(below.iter().enumerate().rev().map(|(i, y)| (i as f64, *y)));
        let color = series.color;
        ctx.draw_series(std::iter::once(Polygon::new(
            outline,
            color.mix(0.75).filled(),
        )))?
        .label(series.name.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.filled()));
        below.clone_from(top);
    }
    for series in &chart.lines {
        let color = series.color;
        let mut first = true;
        for run in segments(&series.values) {
            let drawn = ctx.draw_series(LineSeries::new(run, color.stroke_width(2)))?;
            if std::mem::take(&mut first) {
                drawn.label(series.name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            }
        }
    }
    for mark in marks.iter().filter(|m| m.x1 <= m.x0) {
        let color = mark.color;
        let drawn = ctx.draw_series(std::iter::once(PathElement::new(
            vec![(mark.x0, 0.0), (mark.x0, y_top)],
            color.stroke_width(2),
        )))?;
        if !labelled.contains(&mark.label.as_str()) {
            labelled.push(&mark.label);
            drawn.label(mark.label.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
        }
    }
    if !strip && layout.legend && chart.stacked.len() + chart.lines.len() + labelled.len() > 1 {
        ctx.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FAMILY, layout.label_size).into_font().color(&palette::INK))
            .background_style(WHITE.mix(0.85))
            .border_style(palette::GRID)
            .draw()?;
    }
    Ok(())
}

const LEGEND_COLUMNS: usize = 4;

enum Swatch {
    Fill(RGBColor),
    Line(RGBColor),
}

/// What a marked chart's legend strip lists: the series, then each mark
/// once, each with the swatch it is drawn with.
fn legend_entries(chart: &TimeChart, marks: &[Mark]) -> Vec<(String, Swatch)> {
    let mut entries: Vec<(String, Swatch)> = Vec::new();
    for s in &chart.stacked {
        entries.push((s.name.clone(), Swatch::Fill(blend_on_white(s.color, 0.75))));
    }
    for s in &chart.lines {
        entries.push((s.name.clone(), Swatch::Line(s.color)));
    }
    for m in marks {
        if entries.iter().any(|(name, _)| *name == m.label) {
            continue;
        }
        let swatch = if m.x1 > m.x0 {
            Swatch::Fill(blend_on_white(m.color, palette::LANE_ALPHA))
        } else {
            Swatch::Line(m.color)
        };
        entries.push((m.label.clone(), swatch));
    }
    entries
}

/// The opaque color `color` at `alpha` shows over a white page.
fn blend_on_white(color: RGBColor, alpha: f64) -> RGBColor {
    let mix = |c: u8| (c as f64 * alpha + 255.0 * (1.0 - alpha)).round() as u8;
    RGBColor(mix(color.0), mix(color.1), mix(color.2))
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Swatch)],
    size: u32,
) -> DrawResult<DB> {
    let (width, _) = area.dim_in_pixel();
    let column = (width as i32 - 80) / LEGEND_COLUMNS as i32;
    for (i, (name, swatch)) in entries.iter().enumerate() {
        let x = 80 + (i % LEGEND_COLUMNS) as i32 * column;
        let y = 4 + (i / LEGEND_COLUMNS) as i32 * 18;
        match swatch {
            Swatch::Fill(c) => {
                area.draw(&Rectangle::new([(x, y + 2), (x + 16, y + 12)], c.filled()))?
            }
            Swatch::Line(c) => area.draw(&PathElement::new(
                vec![(x, y + 7), (x + 16, y + 7)],
                c.stroke_width(2),
            ))?,
        }
        area.draw(&Text::new(
            name.as_str(),
            (x + 22, y),
            (FAMILY, size).into_font().color(&palette::INK),
        ))?;
    }
    Ok(())
}

/// A linear axis whose ticks (and grid lines) are exactly the given values,
/// instead of those plotters would pick.
struct Ticked {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new(range: std::ops::Range<f64>, ticks: Vec<f64>) -> Ticked {
        Ticked {
            inner: range.into(),
            ticks,
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // No light (minor) grid lines between the chosen ticks.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

impl ValueFormatter<f64> for Ticked {
    fn format(value: &f64) -> String {
        axis_number(*value)
    }
}

/// Ticks on whole hours: the indices of the points that start a whole
/// hour, every 1, 2, 3, 4, 6 or 12 hours or every 1, 2, 7 ... days, the
/// finest step that gives at most `most` ticks.
fn hour_ticks(labels: &[String], most: usize) -> Vec<f64> {
    let clock = |l: &String| {
        let minutes = crate::markers::minutes(l)?;
        (minutes % 60 == 0).then_some(minutes / 60)
    };
    // The last point sits on the right edge, where its label would be cut.
    let inside = labels.len().saturating_sub(1);
    let hours: Vec<(usize, i64)> = labels[..inside]
        .iter()
        .enumerate()
        .filter_map(|(i, l)| Some((i, clock(l)?)))
        .collect();
    const STEPS: [i64; 12] = [1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336, 720];
    let on = |step: i64| -> Vec<f64> {
        hours
            .iter()
            .filter(|(_, h)| h.rem_euclid(step) == 0)
            .map(|(i, _)| *i as f64)
            .collect()
    };
    STEPS
        .iter()
        .map(|&step| on(step))
        .find(|ticks| ticks.len() <= most.max(1))
        .unwrap_or_default()
}

/// Ticks on the value axis at 1, 2, 2.5 or 5 × a power of ten; at whole
/// numbers only when every value drawn is whole (a count).
fn value_ticks(chart: &TimeChart, tops: &[Vec<f64>], most: usize) -> Vec<f64> {
    let top = chart.y_max(tops);
    let whole = chart
        .stacked
        .iter()
        .chain(&chart.lines)
        .flat_map(|s| &s.values)
        .filter(|v| v.is_finite())
        .all(|v| v.fract() == 0.0);
    let raw = top / most.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .filter(|s| !whole || s.fract() == 0.0)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    let step = if whole { step.max(1.0) } else { step };
    (0..)
        .map(|k| k as f64 * step)
        .take_while(|v| *v <= top)
        .collect()
}

/// A line's points split at gaps: a value that is not finite (NaN) means
/// "not measured in this interval", which must not be drawn as zero.
fn segments(values: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (i, v) in values.iter().enumerate() {
        if v.is_finite() {
            current.push((i as f64, *v));
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// Axis ticks: `12k`, `1.5M`, `0.25`, `0.002`, never a long run of digits.
pub fn axis_number(y: f64) -> String {
    let a = y.abs();
    if a >= 1e6 {
        trim(format!("{:.1}", y / 1e6)) + "M"
    } else if a >= 1e4 {
        trim(format!("{:.1}", y / 1e3)) + "k"
    } else if a >= 10.0 || y == 0.0 {
        format!("{y:.0}")
    } else {
        // Two significant digits however small the value: waits of a few
        // thousandths of a minute must not all read `0`.
        let decimals = (2 - a.log10().floor() as i32 - 1).clamp(2, 12) as usize;
        trim(format!("{y:.decimals$}"))
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_series_in_order() {
        let chart = TimeChart {
            stacked: vec![
                Series::new("a", palette::cycle(0), [1.0, 2.0]),
                Series::new("b", palette::cycle(1), [10.0, 20.0]),
            ],
            ..TimeChart::default()
        };
        assert_eq!(chart.stack_tops(), vec![vec![1.0, 2.0], vec![11.0, 22.0]]);
        assert!((chart.y_max(&chart.stack_tops()) - 22.0 * 1.08).abs() < 1e-9);
    }

    #[test]
    fn gaps_split_lines() {
        let runs = segments(&[1.0, f64::NAN, f64::NAN, 2.0, 3.0, f64::NAN]);
        assert_eq!(runs, vec![vec![(0.0, 1.0)], vec![(3.0, 2.0), (4.0, 3.0)]]);
        assert!(segments(&[f64::NAN]).is_empty());
    }

    #[test]
    fn time_ticks_fall_on_whole_hours() {
        let quarter_hours: Vec<String> = (1..=4 * 24 * 2)
            .map(|k| {
                let m = k * 15;
                format!(
                    "2020-10-0{}T{:02}:{:02}",
                    1 + m / 1440,
                    m % 1440 / 60,
                    m % 60
                )
            })
            .collect();
        let ticks = hour_ticks(&quarter_hours, 9);
        let labels: Vec<&str> = ticks
            .iter()
            .map(|i| quarter_hours[*i as usize].as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "2020-10-01T06:00",
                "2020-10-01T12:00",
                "2020-10-01T18:00",
                "2020-10-02T00:00",
                "2020-10-02T06:00",
                "2020-10-02T12:00",
                "2020-10-02T18:00",
            ]
        );
    }

    /// The value ticks (at most six) of a chart of one series.
    fn ticks_of(values: [f64; 3]) -> Vec<f64> {
        let chart = TimeChart {
            lines: vec![Series::new("series", palette::MARK, values)],
            ..TimeChart::default()
        };
        value_ticks(&chart, &chart.stack_tops(), 6)
    }

    #[test]
    fn count_ticks_are_whole_numbers() {
        assert_eq!(ticks_of([0.0, 1.0, 0.0]), [0.0, 1.0]);
        assert_eq!(
            ticks_of([0.0, 0.5, 1.0]),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
    }

    #[test]
    fn shortens_labels() {
        let two_days = [
            "2020-10-01T06:15".to_string(),
            "2020-10-02T00:00".to_string(),
        ];
        assert_eq!(short_times(&two_days), ["10-01 06:15", "10-02 00:00"]);
        assert_eq!(short_times(&two_days[..1]), ["06:15"]);
        assert_eq!(axis_number(1_500_000.0), "1.5M");
        assert_eq!(axis_number(12_000.0), "12k");
        assert_eq!(axis_number(0.25), "0.25");
        assert_eq!(axis_number(0.0025), "0.0025");
    }

    #[test]
    fn ticks_of_small_values_read_apart() {
        let labels: Vec<String> = ticks_of([0.0, 0.004, 0.009])
            .iter()
            .map(|v| axis_number(*v))
            .collect();
        assert_eq!(labels, ["0", "0.002", "0.004", "0.006", "0.008"]);
    }
}
