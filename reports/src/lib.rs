//! Run results: the summary.json schema and everything that reads it.
pub mod summary;
