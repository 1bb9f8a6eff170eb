//! Errors of the report writers: which file, and what went wrong with it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    // The cause is part of the message and deliberately not an error
    // `source`: `anyhow`'s `{:#}` prints the whole chain, and would print
    // the cause twice.
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{}: {cause}", path.display())]
    Json {
        path: PathBuf,
        cause: serde_json::Error,
    },
    #[error("chart `{chart}`: {message}")]
    Chart { chart: String, message: String },
}

impl ReportError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> ReportError {
        ReportError::Io {
            path: path.into(),
            cause: source,
        }
    }
}

/// Writes a file, naming it in the error.
pub fn write_file(path: &std::path::Path, bytes: impl AsRef<[u8]>) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))
}

/// Creates a directory and its parents, naming it in the error.
pub fn create_dir(path: &std::path::Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(path).map_err(|e| ReportError::io(path, e))
}
