//! The one error type server functions return: safe to show, details stay in the server log.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use crate::domain::{api::ApiFieldErrors, client::FieldErrors, settings::SettingsErrors};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    #[error("Please sign in.")]
    Unauthenticated,
    #[error("Your account does not have access to this.")]
    Forbidden,
    #[error("This page has expired. Reload it and try again.")]
    Csrf,
    #[error("Please correct the fields marked below.")]
    Invalid(FieldErrors),
    #[error("Please correct the fields marked below.")]
    InvalidApi(ApiFieldErrors),
    #[error("Please correct the fields marked below.")]
    InvalidSettings(SettingsErrors),
    #[error("{0}")]
    BadRequest(String),
    #[error("This client no longer exists.")]
    NotFound,
    #[error("This API no longer exists.")]
    ApiNotFound,
    #[error("This client uses authentication method none: it has no secret.")]
    NoSecret,
    #[error("Something went wrong on the server. Please try again.")]
    Internal,
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl ApiError {
    /// The HTTP status this error is sent with.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthenticated => 401,
            ApiError::Forbidden | ApiError::Csrf => 403,
            ApiError::NotFound | ApiError::ApiNotFound => 404,
            ApiError::BadRequest(_) => 400,
            ApiError::Invalid(_)
            | ApiError::InvalidApi(_)
            | ApiError::InvalidSettings(_)
            | ApiError::NoSecret => 422,
            ApiError::Internal | ApiError::Transport(_) => 500,
        }
    }

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
