//! Pure domain types and business rules: no sqlx, axum or leptos here, so the same checks run on the
//! server, in the CLI and in the browser (WASM). Raw strings stop at these constructors.

pub mod api;
pub mod audit;
pub mod client;
mod local_path;
mod password;
pub mod registration;
mod role;
mod scope;
pub mod settings;
pub mod time;
mod username;
pub mod users;

pub use local_path::{LocalPath, LocalPathError};
pub use password::{Password, PasswordError};
pub use role::{Role, RoleError};
pub use scope::{Scope, ScopeError};
pub use username::{Username, UsernameError};
