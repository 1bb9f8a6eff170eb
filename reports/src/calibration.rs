//! `calibration.json` and `calibration.html`: the demand the model produces
//! against the figures published for real health-code platforms, one row
//! and one chart per figure.

use crate::charts::{palette, Chart, Figure, Series, TimeChart};
use crate::error::{create_dir, write_file};
use crate::format::number;
use crate::html::page::{Cell, Page};
use crate::ReportError;
use plotters::style::RGBColor;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Every figure of a calibration set, measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The directory of scenarios and `figures.toml`.
    pub dir: String,
    /// Band used where a figure states none (a share: 0.25 is ±25 %).
    pub default_band: f64,
    pub figures: Vec<FigureResult>,
}

impl Calibration {
    /// Names of the figures outside their band that gate (not known gaps).
    pub fn failed(&self) -> Vec<&str> {
        self.figures
            .iter()
            .filter(|f| !f.within && f.gap.is_none())
            .map(|f| f.name.as_str())
            .collect()
    }

    pub fn passed(&self) -> bool {
        self.failed().is_empty()
    }
}

/// One published figure and the model's value for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureResult {
    pub name: String,
    pub title: String,
    /// Scenario file the figure is measured on, relative to the set's directory.
    pub scenario: String,
    /// How the model's value is computed from the run (see `metric_note`).
    pub metric: String,
    pub metric_note: String,
    pub unit: String,
    pub published: f64,
    /// Where the published value comes from: DOMAIN.md line or seed file.
    pub source: String,
    /// How the published value was derived from the source's numbers.
    pub derivation: String,
    pub model: f64,
    /// `model / published`.
    pub ratio: f64,
    /// Allowed relative deviation (0.25 = ±25 %).
    pub band: f64,
    pub within: bool,
    /// A known gap: a behaviour the model lacks, named here. Reported and
    /// drawn, but it does not fail the calibration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<String>,
    /// The model's value interval by interval, in the figure's unit.
    pub series: FigureSeries,
}

impl FigureResult {
    pub fn low(&self) -> f64 {
        self.published * (1.0 - self.band)
    }
    pub fn high(&self) -> f64 {
        self.published * (1.0 + self.band)
    }

    fn verdict(&self) -> (&'static str, &'static str) {
        match (self.within, self.gap.is_some()) {
            (true, _) => ("within", "good"),
            (false, true) => ("known gap", "skip"),
            (false, false) => ("OUTSIDE", "bad"),
        }
    }
}

/// The figure's quantity per reporting interval of the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FigureSeries {
    pub interval_minutes: u32,
    /// Each interval's start, Beijing time.
    pub starts: Vec<String>,
    pub values: Vec<f64>,
    /// What a value of the series is (it need not be the figure itself:
    /// a daily rate's series is each interval's rate over a whole day).
    pub label: String,
}

const BAND: RGBColor = RGBColor(150, 150, 150);

/// Model vs published for one figure: the model over the day, the
/// figure's model value, the published value and its band.
pub fn chart(f: &FigureResult) -> Chart {
    let n = f.series.values.len().max(1);
    let flat = |v: f64| std::iter::repeat_n(v, n);
    let lines = vec![
        Series::new(&f.series.label, palette::cycle(0), f.series.values.clone()),
        Series::new("model (the figure)", palette::cycle(3), flat(f.model)),
        Series::new("published", palette::MARK, flat(f.published)),
        Series::new(format!("band −{}", percent(f.band)), BAND, flat(f.low())),
        Series::new(format!("band +{}", percent(f.band)), BAND, flat(f.high())),
    ];
    Chart {
        name: format!("calibration-{}", f.name),
        title: latin(&f.title),
        caption: format!(
            "{} — {}: per {} minutes over the run of {}. Published {} ({}); model {} (ratio {}).",
            f.name,
            f.metric_note,
            f.series.interval_minutes,
            f.scenario,
            value(f.published),
            f.unit,
            value(f.model),
            number(f.ratio, 2)
        ),
        size: (1200, 380),
        figure: Figure::Time(TimeChart {
            x_labels: f.series.starts.clone(),
            y_label: f.unit.clone(),
            stacked: Vec::new(),
            lines,
        }),
    }
}

/// The title without the Chinese names: the charts' font has no CJK
/// glyphs (the page around them shows the full title).
fn latin(title: &str) -> String {
    let kept: String = title.chars().filter(|c| (*c as u32) < 0x2E80).collect();
    kept.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" ,", ",")
        .replace(" :", ":")
}

/// A band as people write it: `25 %`.
fn percent(band: f64) -> String {
    format!("{} %", number(band * 100.0, 0))
}

/// Four significant digits: the figures span 0.006 to 8.
pub fn value(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

/// Writes `dir/calibration.json` and `dir/calibration.html`.
pub fn write(dir: &Path, c: &Calibration) -> Result<(), ReportError> {
    create_dir(dir)?;
    let path = dir.join("calibration.json");
    let json = serde_json::to_string_pretty(c).map_err(|cause| ReportError::Json {
        path: path.clone(),
        cause,
    })?;
    write_file(&path, json + "\n")?;
    write_file(&dir.join("calibration.html"), html(c)?)
}

pub fn html(c: &Calibration) -> Result<String, ReportError> {
    let title = format!("hcsim calibrate: {}", c.dir);
    let mut page = Page::default();
    page.heading(1, &title);
    let failed = c.failed();
    let gaps = c.figures.iter().filter(|f| f.gap.is_some()).count();
    page.meta(&format!(
        "{} figures · {} within their band · {} outside · {} known gaps · default band ±{}",
        c.figures.len(),
        c.figures.iter().filter(|f| f.within).count(),
        failed.len(),
        gaps,
        percent(c.default_band)
    ));
    if failed.is_empty() {
        page.paragraph("Calibrated: every figure that gates lies within its band.");
    } else {
        page.paragraph(&format!("NOT calibrated: {}.", failed.join(", ")));
    }
    let rows: Vec<Vec<Cell>> = c
        .figures
        .iter()
        .map(|f| {
            let (verdict, class) = f.verdict();
            vec![
                Cell::text(&f.name),
                Cell::text(&f.unit),
                Cell::num(value(f.published)),
                Cell::num(value(f.model)),
                Cell::num(number(f.ratio, 2)),
                Cell::num(format!("±{}", percent(f.band))),
                Cell::class(verdict, class),
                Cell::text(&f.scenario),
                Cell::text(&f.source),
            ]
        })
        .collect();
    page.table(
        &[
            "figure",
            "unit",
            "published",
            "model",
            "ratio",
            "band",
            "",
            "scenario",
            "source",
        ],
        &rows,
    );
    for f in &c.figures {
        page.heading(2, &format!("{}: {}", f.name, f.title));
        page.paragraph(&format!("Published: {}.", f.derivation));
        page.paragraph(&format!("Source: {}.", f.source));
        page.paragraph(&format!("Model: {}.", f.metric_note));
        if let Some(gap) = &f.gap {
            page.paragraph(&format!("Known gap (does not gate): {gap}"));
        }
        let chart = chart(f);
        let svg = chart.svg()?;
        page.chart(&chart.name, &svg, &chart.caption);
    }
    Ok(page.finish(&title))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(model: f64, gap: Option<&str>) -> FigureResult {
        FigureResult {
            name: "f".into(),
            title: "F".into(),
            scenario: "s.toml".into(),
            metric: "m".into(),
            metric_note: "note".into(),
            unit: "per day".into(),
            published: 2.0,
            source: "DOMAIN.md:1".into(),
            derivation: "d".into(),
            model,
            ratio: model / 2.0,
            band: 0.25,
            within: (1.5..=2.5).contains(&model),
            gap: gap.map(str::to_string),
            series: FigureSeries {
                interval_minutes: 15,
                starts: vec!["2020-01-01T00:00".into(), "2020-01-01T00:15".into()],
                values: vec![1.0, 3.0],
                label: "model per interval".into(),
            },
        }
    }

    #[test]
    fn a_figure_outside_its_band_fails_unless_it_is_a_known_gap() {
        let mut c = Calibration {
            dir: "d".into(),
            default_band: 0.25,
            figures: vec![figure(2.2, None), figure(3.0, Some("no school calendar"))],
        };
        assert!(c.passed());
        c.figures[0].model = 1.4;
        c.figures[0].within = false;
        assert_eq!(c.failed(), vec!["f"]);
    }

    #[test]
    fn the_page_names_each_figure_and_its_verdict() {
        let c = Calibration {
            dir: "d".into(),
            default_band: 0.25,
            figures: vec![figure(3.0, None)],
        };
        let page = html(&c).unwrap();
        assert!(page.contains("NOT calibrated: f."), "{page}");
        assert!(page.contains("OUTSIDE"));
        assert!(page.contains("id=\"calibration-f\""));
        assert!(page.contains("<svg"));
    }

    #[test]
    fn chart_titles_leave_out_what_the_font_cannot_draw() {
        assert_eq!(
            latin("Fujian 八闽健康码, ordinary 2020 day"),
            "Fujian, ordinary 2020 day"
        );
    }

    #[test]
    fn values_keep_four_significant_digits() {
        assert_eq!(value(0.006004), "0.006004");
        assert_eq!(value(8.0), "8.000");
        assert_eq!(value(1.0813), "1.081");
    }
}
