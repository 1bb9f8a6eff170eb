//! A matrix of counts as colored cells (the recognition matrix: issuing
//! system × scanning province), on a log scale so that the few scans of a
//! distant province's code stay visible beside the many local ones, with
//! marked cells where something went wrong.

use super::{palette, DrawResult};
use crate::font::FAMILY;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

#[derive(Debug, Clone, PartialEq)]
pub struct HeatMap {
    pub row_labels: Vec<String>,
    pub column_labels: Vec<String>,
    /// `values[row][column]`.
    pub values: Vec<Vec<u64>>,
    /// `marked[row][column]`: drawn with a red frame.
    pub marked: Vec<Vec<bool>>,
    pub row_title: String,
    pub column_title: String,
}

impl HeatMap {
    pub fn max(&self) -> u64 {
        self.values.iter().flatten().copied().max().unwrap_or(0)
    }

    /// A count's place on the color scale, 0..=1.
    pub fn shade(&self, v: u64) -> f64 {
        let max = self.max();
        if v == 0 || max == 0 {
            0.0
        } else {
            (1.0 + v as f64).ln() / (1.0 + max as f64).ln()
        }
    }
}

const SCALE_WIDTH: i32 = 120;
const ROW_LABELS: i32 = 120;
const COLUMN_LABELS: i32 = 110;
const TITLE: i32 = 44;

/// Cells are laid out in whole pixels (not through a chart's coordinates)
/// so every cell has the same size and every label sits at its center.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    h: &HeatMap,
) -> DrawResult<DB> {
    let (width, height) = area.dim_in_pixel();
    let (width, height) = (width as i32, height as i32);
    let rows = h.row_labels.len().max(1) as i32;
    let columns = h.column_labels.len().max(1) as i32;
    let cell_w = ((width - ROW_LABELS - SCALE_WIDTH - 16) / columns).max(1);
    let cell_h = ((height - TITLE - COLUMN_LABELS - 30) / rows).max(1);
    let (left, top) = (ROW_LABELS + 8, TITLE);
    let ink = |size: u32| (FAMILY, size).into_font().color(&palette::INK);

    area.draw(&Text::new(
        title.to_string(),
        (width / 2, 10),
        ink(22).pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    for (r, row) in h.values.iter().enumerate() {
        for (c, &v) in row.iter().enumerate() {
            let (x, y) = (left + c as i32 * cell_w, top + r as i32 * cell_h);
            let fill = if v == 0 {
                WHITE
            } else {
                palette::heat(0.08 + 0.92 * h.shade(v))
            };
            area.draw(&Rectangle::new(
                [(x, y), (x + cell_w, y + cell_h)],
                fill.filled(),
            ))?;
            if h.marked
                .get(r)
                .and_then(|m| m.get(c))
                .copied()
                .unwrap_or(false)
            {
                frame(area, (x + 2, y + 2), (x + cell_w - 2, y + cell_h - 2))?;
            }
        }
    }
    let (right, bottom) = (left + columns * cell_w, top + rows * cell_h);
    area.draw(&Rectangle::new(
        [(left, top), (right, bottom)],
        palette::GRID.stroke_width(1),
    ))?;
    for (r, label) in h.row_labels.iter().enumerate() {
        let y = top + r as i32 * cell_h + cell_h / 2;
        area.draw(&Text::new(
            label.clone(),
            (left - 6, y),
            ink(12).pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    for (c, label) in h.column_labels.iter().enumerate() {
        let x = left + c as i32 * cell_w + cell_w / 2;
        let style = ink(12)
            .transform(FontTransform::Rotate90)
            .pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(label.clone(), (x, bottom + 6), style))?;
    }
    area.draw(&Text::new(
        h.column_title.clone(),
        ((left + right) / 2, height - 22),
        ink(14).pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    area.draw(&Text::new(
        h.row_title.clone(),
        (6, top - 6),
        ink(14).pos(Pos::new(HPos::Left, VPos::Bottom)),
    ))?;
    let scale = area.margin(0, 0, right + 16, 0);
    draw_scale(&scale, h, top)
}

/// A two-pixel red frame, drawn as two one-pixel rectangles because the
/// SVG backend ignores stroke widths on rectangles.
fn frame<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    to: (i32, i32),
) -> DrawResult<DB> {
    area.draw(&Rectangle::new([from, to], palette::MARK.stroke_width(1)))?;
    area.draw(&Rectangle::new(
        [(from.0 + 1, from.1 + 1), (to.0 - 1, to.1 - 1)],
        palette::MARK.stroke_width(1),
    ))
}

/// The color bar: log-spaced counts from 1 to the maximum.
fn draw_scale<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    h: &HeatMap,
    top: i32,
) -> DrawResult<DB> {
    let font = (FAMILY, 12).into_font().color(&palette::INK);
    let (top, bottom, x) = (top + 30, top + 330, 10);
    let steps = 30;
    for i in 0..steps {
        let t = i as f64 / steps as f64;
        // Each band overlaps the next by a pixel so rounding leaves no gaps.
        let y0 = bottom - ((bottom - top) as f64 * (t + 1.0 / steps as f64)).round() as i32 - 1;
        let y1 = bottom - ((bottom - top) as f64 * t).round() as i32;
        area.draw(&Rectangle::new(
            [(x, y0), (x + 20, y1)],
            palette::heat(0.08 + 0.92 * t).filled(),
        ))?;
    }
    area.draw(&Text::new("scans", (x, top - 24), font.clone()))?;
    let max = h.max();
    area.draw(&Text::new(
        crate::format::grouped(max),
        (x + 26, top),
        font.clone(),
    ))?;
    area.draw(&Text::new("1", (x + 26, bottom - 10), font.clone()))?;
    frame(area, (x, bottom + 24), (x + 20, bottom + 40))?;
    area.draw(&Text::new("refused or", (x, bottom + 48), font.clone()))?;
    area.draw(&Text::new("unanswered", (x, bottom + 62), font))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shades_on_a_log_scale() {
        let h = HeatMap {
            row_labels: vec!["a".into()],
            column_labels: vec!["x".into(), "y".into(), "z".into()],
            values: vec![vec![0, 9, 99]],
            marked: vec![vec![false; 3]],
            row_title: String::new(),
            column_title: String::new(),
        };
        assert_eq!(h.shade(0), 0.0);
        assert_eq!(h.shade(99), 1.0);
        assert!((h.shade(9) - 0.5).abs() < 1e-9, "{}", h.shade(9));
    }
}
