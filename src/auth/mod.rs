//! Signing people in: argon2 passwords, server-side sessions behind a random cookie, CSRF tokens,
//! the failed-sign-in limiter and the guards in front of `/admin` and `/account`.

pub mod client_addr;
pub mod cookie;
pub mod csrf;
pub mod guard;
pub mod handlers;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod token;
