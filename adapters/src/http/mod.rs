//! The platform over HTTP: a JSON API named after GB/T 38963-2020
//! (`server`), the bodies it accepts (`body`), and the client side
//! (`client`): one keep-alive connection, and the `Platform` adapter for a
//! remote `hcsim serve`. Only loopback addresses are ever bound or targeted.

pub mod body;
pub mod client;
pub mod either;
pub mod limits;
pub mod server;
pub mod wire;

pub use client::{parse_target, Connection, HttpClient, HttpError};
pub use either::LocalOrRemote;
pub use limits::Limits;
pub use server::Server;
