//! Code colors and checkpoint decisions.

use bitcode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Every color any seed system shows. A rule set picks the ones it uses.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Encode, Decode,
)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    Green,
    /// Guangdong: minors whose face verification failed; scannable, no anomaly known.
    White,
    Yellow,
    /// Fujian: "abnormal", covering what other schemes split into yellow and red.
    Orange,
    Red,
}

pub const ALL_COLORS: [Color; 5] = [
    Color::Green,
    Color::White,
    Color::Yellow,
    Color::Orange,
    Color::Red,
];

impl Color {
    /// How strict a color is. Recognition must never map a color to one of
    /// lower severity (DOMAIN.md, mutual recognition).
    pub fn severity(self) -> u8 {
        match self {
            Color::Green | Color::White => 0,
            Color::Yellow => 1,
            Color::Orange => 2,
            Color::Red => 3,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Color::Green => "green",
            Color::White => "white",
            Color::Yellow => "yellow",
            Color::Orange => "orange",
            Color::Red => "red",
        }
    }
    pub fn parse(s: &str) -> Option<Color> {
        ALL_COLORS.into_iter().find(|c| c.as_str() == s)
    }
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a checkpoint does with the person in front of it.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Encode, Decode,
)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Pass,
    /// Sent to staff for a secondary check (temperature, paper declaration...).
    Refer,
    Refuse,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Pass => "pass",
            Decision::Refer => "refer",
            Decision::Refuse => "refuse",
        }
    }
    pub fn parse(s: &str) -> Option<Decision> {
        [Decision::Pass, Decision::Refer, Decision::Refuse]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_read_and_print_as_their_file_names() {
        let names = ["green", "white", "yellow", "orange", "red"];
        for (i, (c, name)) in ALL_COLORS.into_iter().zip(names).enumerate() {
            assert_eq!(c.as_str(), name);
            assert_eq!(c.to_string(), name);
            assert_eq!(Color::parse(name), Some(c));
            assert_eq!(c.index(), i);
        }
        assert_eq!(Color::parse("purple"), None);
        assert_eq!(Color::parse(""), None);
        // DOMAIN.md: white is as lenient as green; Fujian's orange sits
        // between yellow and red.
        let severity: Vec<u8> = ALL_COLORS.into_iter().map(Color::severity).collect();
        assert_eq!(severity, [0, 0, 1, 2, 3]);
    }

    #[test]
    fn decisions_read_and_print_as_their_file_names() {
        for (d, name) in [
            (Decision::Pass, "pass"),
            (Decision::Refer, "refer"),
            (Decision::Refuse, "refuse"),
        ] {
            assert_eq!(d.as_str(), name);
            assert_eq!(d.to_string(), name);
            assert_eq!(Decision::parse(name), Some(d));
        }
        assert_eq!(Decision::parse("busy"), None);
        assert_eq!(Decision::parse(""), None);
    }
}
