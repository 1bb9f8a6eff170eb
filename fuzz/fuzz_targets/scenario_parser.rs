//! Any bytes as a scenario file: a scenario or an error naming the file,
//! never a panic.
#![no_main]

use hcsim::scenario::Scenario;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Beside the shipped scenarios, so `[rules]` entries resolve as usual.
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/fuzz.toml"));
    if let Err(e) = Scenario::parse(path, text) {
        assert!(e.to_string().starts_with(&path.display().to_string()));
    }
});
