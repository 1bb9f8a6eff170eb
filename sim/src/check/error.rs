//! Case-file errors: the file, the line and the field, like rule-set errors.

use hcsim_platform::rules::RuleError;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

impl std::error::Error for CaseError {}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl CaseError {
    pub fn whole_file(file: &Path, message: impl Into<String>) -> CaseError {
        CaseError {
            file: file.to_path_buf(),
            line: 0,
            field: None,
            message: message.into(),
        }
    }

    pub fn at(
        file: &Path,
        text: &str,
        span: Range<usize>,
        field: &str,
        message: impl Into<String>,
    ) -> CaseError {
        let origin = file.display().to_string();
        RuleError::at(&origin, text, span, field, message).into_case(file)
    }

    pub fn from_toml(file: &Path, text: &str, err: &toml::de::Error) -> CaseError {
        let origin = file.display().to_string();
        RuleError::from_toml(&origin, text, err).into_case(file)
    }
}

trait IntoCase {
    fn into_case(self, file: &Path) -> CaseError;
}

impl IntoCase for RuleError {
    fn into_case(self, file: &Path) -> CaseError {
        CaseError {
            file: file.to_path_buf(),
            line: self.line,
            field: self.field,
            message: self.message,
        }
    }
}
