//! The `hcsim` subcommands, one module each: `Args` (clap) and `exec`.

pub mod calibrate;
pub mod capacity;
pub mod check;
pub mod cluster;
pub mod compare;
pub mod diff;
pub mod exit;
pub mod gate;
pub mod load;
pub mod replay;
pub mod run;
pub mod serve;
