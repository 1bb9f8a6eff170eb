//! Errors in user-written files that name the file, the line and the field.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

impl std::error::Error for InputError {}

impl fmt::Display for InputError {
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

impl InputError {
    pub fn whole_file(file: &Path, message: impl Into<String>) -> InputError {
        InputError {
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
    ) -> InputError {
        InputError {
            file: file.to_path_buf(),
            line: line_of(text, span.start),
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    /// Turns a toml/serde error into one naming line and field (located
    /// as rule-set errors are).
    pub fn from_toml(file: &Path, text: &str, err: &toml::de::Error) -> InputError {
        let (line, field, message) = hcsim_platform::rules::locate_toml_error(text, err);
        InputError {
            file: file.to_path_buf(),
            line,
            field,
            message,
        }
    }
}

pub use hcsim_platform::rules::line_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_unknown_keys() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct S {
            seed: u64,
        }
        let text = "\nseed = 1\nsede = 2\n";
        let err = toml::from_str::<S>(text).unwrap_err();
        let e = InputError::from_toml(Path::new("x.toml"), text, &err);
        assert_eq!(e.line, 3);
        assert_eq!(e.field.as_deref(), Some("sede"));
        assert!(
            e.to_string()
                .starts_with("x.toml:3: field `sede`: unknown field `sede`"),
            "{e}"
        );
    }

    #[test]
    fn names_mistyped_values() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct S {
            seed: u64,
        }
        let text = "seed = \"many\"\n";
        let err = toml::from_str::<S>(text).unwrap_err();
        let e = InputError::from_toml(Path::new("x.toml"), text, &err);
        assert_eq!((e.line, e.field.as_deref()), (1, Some("seed")), "{e}");
    }
}
