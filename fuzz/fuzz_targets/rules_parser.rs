//! Any bytes as a rule-set file (`bodies::rules_parser`).
#![no_main]

#[path = "../bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::rules_parser(data));
