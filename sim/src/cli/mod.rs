//! The `hcsim` subcommands, one module each: `Args` (clap) and `exec`.

pub mod run;
