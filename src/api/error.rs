//! The one error type server functions return: safe to show, details stay in the server log.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    #[error("Please sign in.")]
    Unauthenticated,
    #[error("Your account does not have access to this.")]
    Forbidden,
    #[error("Something went wrong on the server. Please try again.")]
    Internal,
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl ApiError {
    /// Logs `e` on the server and returns the opaque [`ApiError::Internal`].
    #[cfg(feature = "ssr")]
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "server function failed");
        ApiError::Internal
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ApiError::Transport(value.to_string())
    }
}
