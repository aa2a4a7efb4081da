//! Server functions: the browser's data API. Each is a public HTTP endpoint with an explicit
//! name under `/api/`, and each checks its caller itself.

pub mod account;
pub mod apis;
pub mod audit;
pub mod clients;
mod codec;
mod error;
#[cfg(feature = "ssr")]
mod guard;
pub mod settings;
pub mod users;
pub mod viewer;

pub use codec::{PageData, resource};
pub use error::ApiError;
