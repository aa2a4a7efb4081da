//! Server functions: the browser's data API. Each is a public HTTP endpoint with an explicit
//! name under `/api/`, and each checks its caller itself.

mod error;
pub mod viewer;

pub use error::ApiError;
