//! Rule-set errors that a policy team can act on: file, line, field.

use std::fmt;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The file (or other origin) the rule set came from.
    pub origin: String,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

impl std::error::Error for RuleError {}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl RuleError {
    pub fn whole_file(origin: &str, message: impl Into<String>) -> RuleError {
        RuleError {
            origin: origin.to_string(),
            line: 0,
            field: None,
            message: message.into(),
        }
    }

    pub fn at(
        origin: &str,
        text: &str,
        span: Range<usize>,
        field: &str,
        message: impl Into<String>,
    ) -> RuleError {
        RuleError {
            origin: origin.to_string(),
            line: if span == (0..0) {
                0
            } else {
                line_of(text, span.start)
            },
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    /// A toml/serde error naming line and field. toml's span covers the
    /// offending key or value, or the table header for a missing field.
    pub fn from_toml(origin: &str, text: &str, err: &toml::de::Error) -> RuleError {
        let (line, field, message) = locate_toml_error(text, err);
        RuleError {
            origin: origin.to_string(),
            line,
            field,
            message,
        }
    }
}

/// Where a toml/serde error is, for any file a user writes: its 1-based line
/// (0 when it is the file as a whole), the field it names, and toml's
/// message. The field is the key named in the message, else the key whose
/// value the span starts at, else the key on that line, else the key whose
/// value the error is inside.
pub fn locate_toml_error(text: &str, err: &toml::de::Error) -> (usize, Option<String>, String) {
    let message = err.message().trim().to_string();
    let (line, field) = match err.span() {
        Some(span) => {
            let line = line_of(text, span.start);
            let field = backticked(&message, "unknown field")
                .or_else(|| backticked(&message, "missing field"))
                .or_else(|| key_before(text, span.start))
                .or_else(|| key_on_line(text, line))
                .or_else(|| enclosing_key(text, line));
            (line, field)
        }
        None => (0, backticked(&message, "missing field")),
    };
    (line, field, message)
}

/// 1-based line of a byte offset.
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

/// The key of `key = value` when `offset` is where the value starts (also
/// inside inline tables, where several keys share a line).
fn key_before(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?.trim_end().strip_suffix('=')?.trim_end();
    // The character before the key may be any width (a mutated or mistyped
    // file can put `省` there): the key starts after its last byte.
    let start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '"'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let key = before[start..].trim_matches('"');
    (!key.is_empty()).then(|| key.to_string())
}

fn key_on_line(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?.trim();
    let key = l.split('=').next()?.trim();
    (l.contains('=') && !key.is_empty() && !key.starts_with('[') && !key.starts_with('{'))
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
    fn a_key_after_a_wide_character_is_found_without_splitting_it() {
        let text = "description = \"广东省\"省key = 1\n";
        let value = text.find('1').unwrap();
        assert_eq!(key_before(text, value).as_deref(), Some("key"));
        let text = "省= 1";
        assert_eq!(key_before(text, text.find('1').unwrap()), None);
        let text = "t = { a = 1, snake_case-key = 2 }";
        let value = text.find('2').unwrap();
        assert_eq!(key_before(text, value).as_deref(), Some("snake_case-key"));
        let text = "\"quoted\" = 3";
        let value = text.find('3').unwrap();
        assert_eq!(key_before(text, value).as_deref(), Some("quoted"));
    }

    #[test]
    fn a_backticked_name_is_read_after_its_phrase() {
        let m = "unknown field `min_dayz`, expected one of `min_days`";
        assert_eq!(backticked(m, "unknown field").as_deref(), Some("min_dayz"));
        assert_eq!(
            backticked(m, "expected one of").as_deref(),
            Some("min_days")
        );
        assert_eq!(backticked(m, "missing field"), None);
        assert_eq!(backticked("missing field `x", "missing field"), None);
    }

    #[test]
    fn the_key_on_a_line_is_left_of_its_equals_sign() {
        let text = "a = 1\n  bee = 2\n\"q\" = 3\n[t]\n{ x = 1 }\nword\n= 4\n[u] = 5\n";
        let on = |line| key_on_line(text, line);
        assert_eq!(on(1).as_deref(), Some("a"));
        assert_eq!(on(2).as_deref(), Some("bee"));
        assert_eq!(on(3).as_deref(), Some("q"));
        // A header, an inline table, a line with no `=`, an empty key.
        for line in [4, 5, 6, 7, 8] {
            assert_eq!(on(line), None, "line {line}");
        }
        assert_eq!(on(0), None);
        assert_eq!(on(99), None);
    }

    #[test]
    fn an_error_with_no_key_on_its_line_belongs_to_the_key_above() {
        let at = |text: &str, line| enclosing_key(text, line);
        // Inside an unclosed array: the key whose value it is.
        assert_eq!(at("a = 1\nb = [\n  \"x\",\n", 3).as_deref(), Some("b"));
        // A bare word on the error's own line is the key being written...
        assert_eq!(at("a = 1\nincomplete", 2).as_deref(), Some("incomplete"));
        // ...but not on a line above it.
        assert_eq!(at("b = [\nword\n  \"x\",\n", 3).as_deref(), Some("b"));
        // Comments, blank lines and inline tables are looked past.
        assert_eq!(at("c = [\n# note\n\n{ y = 1 },\n", 4).as_deref(), Some("c"));
        // Dotted keys with `_` and `-` are keys; a table header ends the
        // search, and an empty key is none.
        assert_eq!(
            at("snake_case-key.sub = [\n  \"x\",\n", 2).as_deref(),
            Some("snake_case-key.sub")
        );
        assert_eq!(at("[t]\n  \"x\",\n", 2), None);
        assert_eq!(at("= [\n  \"x\",\n", 2), None);
        assert_eq!(at("a b = [\n  \"x\",\n", 2), None);
        assert_eq!(at("", 0), None);
    }
}
