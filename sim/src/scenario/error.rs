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
        if line == 0 && message.contains("recursion limit") {
            // toml gives no span for nesting too deep to parse: name the
            // deepest key the text spells instead.
            if let Some((line, key, depth)) = deepest_key(text) {
                return InputError {
                    file: file.to_path_buf(),
                    line,
                    field: Some(abbreviated(&key)),
                    message: format!("{depth} levels of nested keys: more than the parser follows"),
                };
            }
        }
        let field = field.map(|f| full_key(text, line, f));
        InputError {
            file: file.to_path_buf(),
            line,
            field,
            message,
        }
    }
}

/// `field` as the full dotted key: the table header above `line` and the
/// key of `line` when `field` sits inside its inline table
/// (`limits.busy_rate.max` for `busy_rate = { max = "x" }` under
/// `[limits]`).
fn full_key(text: &str, line: usize, field: String) -> String {
    let Some(here) = line.checked_sub(1).and_then(|i| text.lines().nth(i)) else {
        return field;
    };
    let Some((key, value)) = here.split_once('=') else {
        return field;
    };
    let key = key.trim();
    let bare = |k: &str| {
        !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    // Only `key = { field = ... }`: the field lives in the key's inline table.
    if !bare(key) || !value.trim_start().starts_with('{') || !bare(&field) {
        return field;
    }
    let inner = if field == key || field.starts_with(&format!("{key}.")) {
        field
    } else {
        format!("{key}.{field}")
    };
    // The table the line sits in, when it is a plain `[table]` (an array of
    // tables would need the element's index).
    let header = text
        .lines()
        .take(line - 1)
        .map(str::trim)
        .filter(|l| l.starts_with('['))
        .last()
        .filter(|l| !l.starts_with("[["))
        .and_then(|l| l.strip_prefix('['))
        .and_then(|l| l.split(']').next())
        .map(str::trim)
        .filter(|h| bare(h));
    match header {
        Some(h) if !inner.starts_with(&format!("{h}.")) => format!("{h}.{inner}"),
        _ => inner,
    }
}

/// The line, key and depth of the most deeply dotted header or key.
fn deepest_key(text: &str) -> Option<(usize, String, usize)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.trim();
            let key = if l.starts_with('[') {
                l.trim_start_matches('[').split(']').next()?
            } else {
                l.split('=').next()?
            };
            let key = key.trim();
            (!key.is_empty()).then(|| (i + 1, key.to_string(), key.split('.').count()))
        })
        .max_by_key(|(_, _, depth)| *depth)
}

/// A key short enough to print: its first and last parts around the count
/// of those left out.
fn abbreviated(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    if key.len() <= 120 || parts.len() <= 6 {
        return key.to_string();
    }
    format!(
        "{}.…({} more).{}",
        parts[..3].join("."),
        parts.len() - 6,
        parts[parts.len() - 3..].join(".")
    )
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
