//! The health-code platform under test: 31 provincial platforms and the
//! national hub. It knows nothing of the simulation that drives it.

pub mod actors;
pub mod api;
pub mod color;
pub mod doc_index;
pub mod hub;
pub mod hub_link;
pub mod identity;
pub mod international;
pub mod province;
pub mod recognition;
pub mod region;
pub mod rules;
pub mod time;
pub mod token;

pub use api::{CodeId, Issuer, Request, Response};
pub use color::{Color, Decision};
pub use region::{ProvinceId, PROVINCES, PROVINCE_COUNT};
pub use rules::{RuleError, RuleSet};
pub use time::Minute;
pub use token::{CodeKey, CodeKeys, Token};
