//! hcsim-reports' integration tests: one test binary, a module per area.

mod compare;
mod failing;
mod fixture;
mod gate;
mod report;
mod run_diff;
