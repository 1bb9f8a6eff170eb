//! Colors with a meaning: a code's color is drawn in that color, decisions
//! in traffic-light order, anything else from a fixed cycle.

use plotters::style::RGBColor;

pub const INK: RGBColor = RGBColor(40, 40, 40);
pub const GRID: RGBColor = RGBColor(225, 225, 225);
pub const MARK: RGBColor = RGBColor(214, 39, 40);

/// The color a health code of that name is drawn in. White codes are drawn
/// slate, or they would vanish on the page; a neutral grey would read as an
/// axis or grid line (and the report's screenshot check would take a chart
/// of white codes alone, as Guangdong's, for an empty one).
pub fn code(name: &str) -> RGBColor {
    match name {
        "green" => RGBColor(44, 160, 44),
        "white" => RGBColor(110, 130, 165),
        "yellow" => RGBColor(230, 184, 0),
        "orange" => RGBColor(255, 127, 14),
        "red" => RGBColor(214, 39, 40),
        other => cycle(other.len()),
    }
}

pub fn decision(name: &str) -> RGBColor {
    match name {
        "pass" => RGBColor(44, 160, 44),
        "refer" => RGBColor(255, 187, 40),
        "refuse" => RGBColor(214, 39, 40),
        other => cycle(other.len()),
    }
}

/// Distinguishable colors for series without a meaning of their own.
pub fn cycle(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
        RGBColor(127, 127, 127),
    ];
    COLORS[i % COLORS.len()]
}

/// Marked windows (faults), each its own hue, none of them a hue the
/// series use (the cycle above, codes, decisions), so a window, its legend
/// entry and the lines over it can be told apart.
pub fn window(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 6] = [
        RGBColor(23, 190, 207),
        RGBColor(188, 189, 34),
        RGBColor(227, 119, 194),
        RGBColor(0, 128, 128),
        RGBColor(205, 133, 63),
        RGBColor(112, 128, 144),
    ];
    COLORS[i % COLORS.len()]
}

/// The fill of a window when the service was failing.
pub const FAILING: RGBColor = RGBColor(120, 0, 0);

/// How opaque a window's fill is: light enough that lines drawn over it
/// keep their own color.
pub const WINDOW_ALPHA: f64 = 0.16;

/// How opaque a window's bar along the top of the chart is, and its legend
/// swatch.
pub const LANE_ALPHA: f64 = 0.7;

/// A sequential blue scale for heat maps: `t` in 0..=1, light to dark.
pub fn heat(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let (from, to) = ((239.0, 243.0, 255.0), (8.0, 48.0, 107.0));
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}
