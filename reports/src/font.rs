//! The font every chart uses, bundled so that a machine without system fonts
//! (a fresh CI image) draws the same pixels as a developer's.

use crate::error::ReportError;
use plotters::style::{register_font, FontStyle};
use std::sync::OnceLock;

/// DejaVu Sans; its license is `reports/assets/LICENSE-DejaVu.txt`.
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family name charts ask for. SVG output names it too, so a browser
/// falls back to its own sans-serif face.
pub const FAMILY: &str = "sans-serif";

/// Registers the bundled font with plotters, once per process.
pub fn ensure_registered() -> Result<(), ReportError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(())
    } else {
        Err(ReportError::Chart {
            chart: "font".into(),
            message: "the bundled DejaVu Sans font does not parse".into(),
        })
    }
}
