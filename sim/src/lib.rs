//! hcsim: the simulation that drives the health-code platform. World,
//! agents, engine, drivers and the `hcsim` commands' implementations.

pub mod agents;
pub mod alloc;
pub mod authority;
pub mod calibrate;
pub mod capacity;
pub mod check;
pub mod cli;
pub mod conservation;
pub mod cpu;
pub mod degrade;
pub mod engine;
pub mod fault;
pub mod load;
pub mod memory;
pub mod metrics;
pub mod nat;
pub mod oracle;
pub mod outputs;
pub mod platform_setup;
pub mod policy_diff;
pub mod preflight;
pub mod progress;
pub mod recognition_report;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod surge;
pub mod world;
