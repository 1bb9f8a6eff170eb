//! Charts drawn with plotters, once as SVG (inlined in report.html and saved
//! beside it) and once as PNG, from the same drawing code. Output is a pure
//! function of the chart's data, so two renders are byte-identical.

pub mod heatmap;
pub mod multiples;
pub mod palette;
pub mod timeseries;

use crate::error::ReportError;
use crate::font;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

pub use heatmap::HeatMap;
pub use multiples::{Panel, SmallMultiples};
pub use timeseries::{Mark, Series, TimeChart};

pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    Time(TimeChart),
    /// A time chart with violations and faults marked on it.
    Marked {
        chart: TimeChart,
        marks: Vec<Mark>,
    },
    Multiples(SmallMultiples),
    Heat(HeatMap),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File stem in `charts/` and the element id in the page.
    pub name: String,
    pub title: String,
    /// What the reader should know to read it (shown under the chart).
    pub caption: String,
    pub size: (u32, u32),
    pub figure: Figure,
}

impl Chart {
    pub fn svg(&self) -> Result<String, ReportError> {
        font::ensure_registered()?;
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, self.size).into_drawing_area();
            self.draw_on(&root).map_err(|e| self.error(e))?;
            root.present().map_err(|e| self.error(e))?;
        }
        Ok(out)
    }

    pub fn write_png(&self, path: &Path) -> Result<(), ReportError> {
        font::ensure_registered()?;
        let failed =
            |e: &dyn std::fmt::Display| self.error(format!("writing {}: {e}", path.display()));
        let root = BitMapBackend::new(path, self.size).into_drawing_area();
        self.draw_on(&root).map_err(|e| failed(&e))?;
        root.present().map_err(|e| failed(&e))
    }

    /// Whether anything but zeros would be drawn: an empty chart must say
    /// so, or it reads as a flat line of real measurements.
    pub fn has_data(&self) -> bool {
        let any = |t: &TimeChart| {
            t.stacked
                .iter()
                .chain(&t.lines)
                .flat_map(|s| &s.values)
                .any(|v| v.is_finite() && *v != 0.0)
        };
        match &self.figure {
            Figure::Time(t) => any(t),
            Figure::Marked { chart, marks } => any(chart) || !marks.is_empty(),
            Figure::Multiples(m) => m.panels.iter().any(|p| any(&p.chart)),
            Figure::Heat(h) => h.max() > 0,
        }
    }

    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        match &self.figure {
            Figure::Time(t) => timeseries::draw(root, &self.title, t, timeseries::Layout::FULL),
            Figure::Marked { chart, marks } => {
                timeseries::draw_marked(root, &self.title, chart, timeseries::Layout::FULL, marks)
            }
            Figure::Multiples(m) => multiples::draw(root, &self.title, m),
            Figure::Heat(h) => heatmap::draw(root, &self.title, h),
        }
    }

    fn error(&self, e: impl std::fmt::Display) -> ReportError {
        ReportError::Chart {
            chart: self.name.clone(),
            message: e.to_string(),
        }
    }
}
