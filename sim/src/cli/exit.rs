//! The exit codes every subcommand uses, one per class of failure, so a CI
//! script can tell from the code alone which kind of check failed. README's
//! "Exit codes" table lists the same values.

use std::process::ExitCode;

/// Everything checked passed.
pub const OK: u8 = 0;
/// Any failure, when `--exit-code any` collapses the classes below.
pub const ANY_FAILURE: u8 = 1;
/// Bad input or an error that stopped the command (file, flag, I/O).
pub const ERROR: u8 = 2;
/// Correctness: oracle violations, lost or unchecked acknowledged records,
/// recognition disagreements, failed policy cases.
pub const CORRECTNESS: u8 = 10;
/// A performance regression against a baseline (throughput, latency).
pub const REGRESSION: u8 = 11;
/// A capacity limit breached: a failing window, a service level missed.
pub const CAPACITY: u8 = 12;
/// The load generator could not keep its schedule, or the target reached
/// less than the required share of the requested rate.
pub const SCHEDULE: u8 = 13;
/// Demand out of calibration: a published figure (`hcsim calibrate`) lies
/// outside its band.
pub const CALIBRATION: u8 = 14;

pub fn code(value: u8) -> ExitCode {
    ExitCode::from(value)
}
