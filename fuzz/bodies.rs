//! The fuzz targets' bodies: `cargo +nightly fuzz run` calls them from
//! `fuzz_targets/`, and the stable test suite (`sim/tests/fuzz_bodies.rs`)
//! calls the same functions over the shipped files and generated inputs,
//! so the property holds on every CI run, not only when someone fuzzes.
// Each fuzz target uses one of the bodies.
#![allow(dead_code)]

use hcsim::scenario::Scenario;
use hcsim_platform::RuleSet;
use std::path::Path;

/// Any bytes as a scenario file: a scenario or an error naming the file,
/// never a panic.
pub fn scenario_parser(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Beside the shipped scenarios, so `[rules]` entries resolve as usual.
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/fuzz.toml"
    ));
    if let Err(e) = Scenario::parse(path, text) {
        assert!(e.to_string().starts_with(&path.display().to_string()));
    }
}

/// Any bytes as a rule-set file: a rule set or an error naming the file,
/// never a panic.
pub fn rules_parser(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = RuleSet::parse(text, "fuzz.toml") {
        assert!(e.to_string().starts_with("fuzz.toml"));
    }
}
