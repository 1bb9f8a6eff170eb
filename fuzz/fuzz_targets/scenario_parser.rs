//! Any bytes as a scenario file (`bodies::scenario_parser`).
#![no_main]

#[path = "../bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::scenario_parser(data));
