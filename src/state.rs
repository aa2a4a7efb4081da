//! What every handler and, through Leptos context, every server function shares. It sits below
//! the handlers: `oauth/`, `api/` and `auth/` import it, and only [`crate::startup`] (the shell
//! that assembles them) builds it.

use std::sync::{Arc, OnceLock};

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

/// Shared by every handler and, through Leptos context, every server function. Cloned for every
/// request and every middleware that takes it, so a clone is one reference count: counting the
/// references of each field instead (fourteen atomic counters, shared by every thread) took
/// ~4% of a refresh grant's server CPU (perf, 2026-12-02).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    /// The same state with another database handle (one that records changes as someone's).
    pub fn with_db(&self, db: Db) -> Self {
        Self::new(Shared { db, ..Shared::clone(&self.0) })
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Clone)]
pub struct Shared {
    pub leptos_options: Arc<LeptosOptions>,
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

/// Leptos's handlers take the options by value (a page render clones them; a token request
/// does not).
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        LeptosOptions::clone(&state.leptos_options)
    }
}

impl FromRef<AppState> for Arc<Issuer> {
    fn from_ref(state: &AppState) -> Self {
        state.issuer.clone()
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

/// The bundle's content hashes (`css`, `js`, `wasm`), as `cargo leptos build --release` writes
/// them to `hash.txt` beside the binary; `None` for a build without hashed names (`cargo build`,
/// tests), which serves plain names.
pub fn bundle_hashes() -> Option<&'static [(String, String)]> {
    static HASHES: OnceLock<Option<Vec<(String, String)>>> = OnceLock::new();
    HASHES
        .get_or_init(|| {
            let exe = std::env::current_exe().ok()?;
            let text = std::fs::read_to_string(exe.parent()?.join("hash.txt")).ok()?;
            Some(
                text.lines()
                    .filter_map(|l| l.split_once(':'))
                    .map(|(kind, hash)| (kind.trim().to_string(), hash.trim().to_string()))
                    .collect(),
            )
        })
        .as_deref()
}

/// The stylesheet's URL, with its hash when the build has one: for the pages rendered outside
/// Leptos (the consent screen), which use `HashedStylesheet` otherwise.
pub fn stylesheet_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| match bundle_hashes().and_then(|h| h.iter().find(|(kind, _)| kind == "css")) {
        Some((_, hash)) => format!("/pkg/clavis.{hash}.css"),
        None => "/pkg/clavis.css".to_string(),
    })
}
