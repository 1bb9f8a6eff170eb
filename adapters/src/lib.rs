//! The `Platform` port: how the simulation reaches a health-code platform,
//! and the adapters that implement it.

pub mod direct;
pub mod faults;
pub mod hosting;
pub mod http;
pub mod inproc;
pub mod port;

pub use direct::Direct;
pub use inproc::InProcess;
pub use port::{route, ColorCensus, Platform, PortError, Route};
