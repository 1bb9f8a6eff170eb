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

    /// Turns a toml/serde error into one naming line and field. For an
    /// unknown or mistyped key, toml's span covers the key or its value; the
    /// field is the key at the start of that line.
    pub fn from_toml(file: &Path, text: &str, err: &toml::de::Error) -> InputError {
        let message = err.message().trim().to_string();
        let (line, field) = match err.span() {
            Some(span) => {
                let line = line_of(text, span.start);
                let spanned = text.get(span.clone()).unwrap_or("").trim();
                let field = backticked(&message, "unknown field")
                    .or_else(|| backticked(&message, "missing field"))
                    .or_else(|| key_on_line(text, line))
                    .or_else(|| {
                        (!spanned.is_empty() && spanned.len() < 40).then(|| spanned.to_string())
                    })
                    .or_else(|| enclosing_key(text, line));
                (line, field)
            }
            None => (0, backticked(&message, "missing field")),
        };
        InputError {
            file: file.to_path_buf(),
            line,
            field,
            message,
        }
    }
}

pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn backticked(message: &str, after: &str) -> Option<String> {
    let rest = &message[message.find(after)? + after.len()..];
    let start = rest.find('`')? + 1;
    let len = rest[start..].find('`')?;
    Some(rest[start..start + len].to_string())
}

fn key_on_line(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?.trim();
    let key = l.split('=').next()?.trim();
    (l.contains('=') && !key.is_empty() && !key.starts_with('['))
        .then(|| key.trim_matches('"').to_string())
}

/// For a syntax error with no key on its line (a truncated file, an
/// unclosed array): the bare key the line starts, or the key whose value
/// the error is inside, looking back to the enclosing table header.
fn enclosing_key(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().take(line).collect();
    for (n, l) in lines.iter().enumerate().rev() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with('{') {
            continue;
        }
        if l.starts_with('[') {
            return None;
        }
        let key = l.split('=').next()?.trim().trim_matches('"');
        let bare = key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        if !key.is_empty() && bare && (l.contains('=') || n + 1 == line) {
            return Some(key.to_string());
        }
    }
    None
}

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
