//! Checking one section of a scenario file: every error names the file, the
//! line and the field (`surge[2].share`), whichever section it comes from.

use super::InputError;
use hcsim_platform::region::province_keys;
use hcsim_platform::ProvinceId;
use std::fmt::Display;
use std::ops::{Range, RangeInclusive};
use std::path::Path;
use toml::Spanned;

pub(crate) struct Section<'a> {
    path: &'a Path,
    text: &'a str,
    /// Prefixed to field names (`fault[1]`); empty for fields named in full.
    prefix: String,
}

impl<'a> Section<'a> {
    pub fn new(path: &'a Path, text: &'a str, prefix: impl Into<String>) -> Section<'a> {
        Section {
            path,
            text,
            prefix: prefix.into(),
        }
    }

    fn field(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    pub fn err(&self, span: Range<usize>, name: &str, msg: String) -> InputError {
        InputError::at(self.path, self.text, span, &self.field(name), msg)
    }

    /// An optional value that must lie within `range`; `unit` follows the
    /// range in the message (" minutes").
    pub fn ranged<T: Copy + PartialOrd + Display>(
        &self,
        v: &Option<Spanned<T>>,
        name: &str,
        range: RangeInclusive<T>,
        unit: &str,
    ) -> Result<Option<T>, InputError> {
        let Some(v) = v else { return Ok(None) };
        let x = *v.get_ref();
        if range.contains(&x) {
            Ok(Some(x))
        } else {
            Err(self.err(
                v.span(),
                name,
                format!(
                    "{x} is out of range: must be within {}..={}{unit}",
                    range.start(),
                    range.end()
                ),
            ))
        }
    }
}

impl Section<'_> {
    /// The kind `name` stands for in `kinds`, or an error listing the
    /// known names; `what` names the section ("fault").
    pub fn kind<K: Copy>(
        &self,
        kinds: &[(&str, K)],
        name: &Spanned<String>,
        what: &str,
    ) -> Result<K, InputError> {
        kinds
            .iter()
            .find(|(s, _)| *s == name.get_ref())
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                let known: Vec<&str> = kinds.iter().map(|(s, _)| *s).collect();
                self.err(
                    name.span(),
                    "kind",
                    format!(
                        "unknown {what} kind `{}`; known: {}",
                        name.get_ref(),
                        known.join(", ")
                    ),
                )
            })
    }

    /// The province a key names, or an error listing the keys.
    pub fn province(&self, key: &Spanned<String>, name: &str) -> Result<ProvinceId, InputError> {
        ProvinceId::parse(key.get_ref()).ok_or_else(|| {
            self.err(
                key.span(),
                name,
                format!(
                    "unknown province `{}`; known: {}",
                    key.get_ref(),
                    province_keys()
                ),
            )
        })
    }
}

/// The name of `kind` in a table of (name, kind).
pub(crate) fn kind_name<K: Copy + PartialEq>(kinds: &[(&'static str, K)], kind: K) -> &'static str {
    kinds
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("?", |(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct File {
        share: Option<Spanned<f64>>,
    }

    #[test]
    fn names_file_line_and_prefixed_field() {
        let text = "\n\nshare = 1.5\n";
        let f: File = toml::from_str(text).unwrap();
        let s = Section::new(Path::new("x.toml"), text, "surge[2]");
        let e = s.ranged(&f.share, "share", 0.0..=1.0, "").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.toml:3: field `surge[2].share`: 1.5 is out of range: must be within 0..=1"
        );
        assert_eq!(
            s.ranged(&f.share, "share", 0.0..=2.0, "").unwrap(),
            Some(1.5)
        );
        let whole = Section::new(Path::new("x.toml"), text, "");
        let e = whole
            .ranged(&f.share, "capacity.x", 2.0..=3.0, " ms")
            .unwrap_err();
        assert!(e
            .to_string()
            .ends_with("`capacity.x`: 1.5 is out of range: must be within 2..=3 ms"));
    }
}
