//! Any bytes as a rule-set file: a rule set or an error naming the file,
//! never a panic.
#![no_main]

use hcsim_platform::RuleSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = RuleSet::parse(text, "fuzz.toml") {
        assert!(e.to_string().starts_with("fuzz.toml"));
    }
});
