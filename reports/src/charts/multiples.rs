//! Small multiples: one small time chart per panel (per province), each
//! with its own y scale, so a province with few people still shows its shape.

use super::timeseries::{self, Layout, TimeChart};
use super::{palette, DrawResult};
use crate::font::FAMILY;
use plotters::coord::Shift;
use plotters::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub chart: TimeChart,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SmallMultiples {
    pub columns: usize,
    pub panels: Vec<Panel>,
    /// Series names and colors shown once, above the grid.
    pub legend: Vec<(String, RGBColor)>,
}

impl SmallMultiples {
    pub fn rows(&self) -> usize {
        self.panels.len().div_ceil(self.columns.max(1))
    }
}

const LEGEND_HEIGHT: u32 = 30;

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    m: &SmallMultiples,
) -> DrawResult<DB> {
    let area = area.titled(title, (FAMILY, 22).into_font().color(&palette::INK))?;
    let (legend, grid) = area.split_vertically(LEGEND_HEIGHT);
    let mut x = 10;
    for (name, color) in &m.legend {
        legend.draw(&Rectangle::new([(x, 8), (x + 16, 20)], color.filled()))?;
        legend.draw(&Text::new(
            name.as_str(),
            (x + 22, 7),
            (FAMILY, 14).into_font().color(&palette::INK),
        ))?;
        x += 40 + 9 * name.len() as i32;
    }
    let cells = grid.split_evenly((m.rows().max(1), m.columns.max(1)));
    for (panel, cell) in m.panels.iter().zip(&cells) {
        timeseries::draw(cell, &panel.title, &panel.chart, Layout::PANEL)?;
    }
    Ok(())
}
