//! Run results: the summary.json schema and everything that reads it:
//! report.html and its charts, run-vs-run diffs, and CI gate verdicts.
pub mod calibration;
pub mod charts;
pub mod compare;
pub mod error;
pub mod failing;
pub mod font;
pub mod format;
pub mod gate;
pub mod html;
pub mod junit;
pub mod markers;
pub mod metrics;
pub mod policy_diff;
pub mod run_diff;
pub mod summary;
pub mod table;

pub use error::ReportError;
