//! hcsim's integration tests: one test binary, a module per area.

mod bad_input;
mod calibrate;
mod cli;
mod cluster;
mod day_shape;
mod determinism;
mod faults;
mod fuzz_bodies;
mod incidents;
mod load;
mod oracle;
mod policy_diff;
mod population;
mod readme;
mod reports_cli;
mod scenario_errors;
mod shipped;

use std::path::PathBuf;

/// The workspace root, so tests can name files as a user would.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

pub fn scenario(name: &str) -> PathBuf {
    root().join("scenarios").join(name)
}
