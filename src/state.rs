//! What every handler and, through Leptos context, every server function shares. It sits below
//! the handlers: `oauth/`, `api/` and `auth/` import it, and only [`crate::startup`] (the shell
//! that assembles them) builds it.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{
    auth::{
        client_addr::{Networks, TrustedProxies},
        rate_limit::{FailureLimiter, SignInLimits},
    },
    config::Issuer,
    db::Db,
    metrics::Metrics,
    oauth::rate::ClientRateLimiter,
};

/// Client registrations one address may make in an hour (RFC 7591 endpoint).
pub const REGISTRATIONS_PER_HOUR: u32 = 20;

/// Shared by every handler and, through Leptos context, every server function.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub issuer: Arc<Issuer>,
    pub limits: Arc<SignInLimits>,
    pub trusted_proxies: Arc<TrustedProxies>,
    pub api_rate: Arc<ClientRateLimiter>,
    /// Client registrations (RFC 7591) per address.
    pub registrations: Arc<FailureLimiter>,
    pub metrics: Arc<Metrics>,
    /// Who may read `/metrics`.
    pub metrics_allow: Arc<Networks>,
}
