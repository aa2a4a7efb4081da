//! The grants of the token endpoint, one per file: each checks its request with a pure function
//! returning a typed refusal, and stores what it issues in one transaction.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;
