//! The checks every server function makes about its caller, and the status its errors carry.

use leptos::prelude::use_context;

use super::ApiError;
use crate::{
    auth::{csrf, session},
    domain::audit::Actor,
    state::AppState,
};

/// Sets the response status for `err` and hands it back, for `Err(fail(..))`.
pub fn fail(err: ApiError) -> ApiError {
    let status = http::StatusCode::from_u16(err.status());
    if let (Some(res), Ok(status)) = (use_context::<leptos_axum::ResponseOptions>(), status) {
        res.set_status(status);
    }
    err
}

/// The app state, when the caller is a signed-in administrator.
pub async fn admin() -> Result<AppState, ApiError> {
    let (state, _) = admin_session().await?;
    Ok(state)
}

/// As [`admin`], for changes: the request must also carry the session's CSRF token and must not
/// come from another site. Changes made through the state's database are recorded in the audit
/// log as this administrator's, from the request's address.
pub async fn admin_change(csrf_token: &str) -> Result<AppState, ApiError> {
    let (state, session) = admin_session().await?;
    verify_change(&state, &session, csrf_token)?;
    let address = use_context::<http::request::Parts>().and_then(|parts| {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?.0;
        Some(state.trusted_proxies.client_ip(peer.ip(), &parts.headers).to_string())
    });
    Ok(state.with_db(state.db.by(Actor::signed_in(session.user.username.as_str(), address))))
}

async fn admin_session() -> Result<(AppState, session::Session), ApiError> {
    let (state, session) = signed_in().await?;
    if !session.user.role.is_admin() {
        return Err(fail(ApiError::Forbidden));
    }
    Ok((state, session))
}

/// The app state and session, when the caller is signed in (any role).
pub async fn signed_in() -> Result<(AppState, session::Session), ApiError> {
    let state = use_context::<AppState>().ok_or_else(|| fail(ApiError::Internal))?;
    let parts = use_context::<http::request::Parts>().ok_or_else(|| fail(ApiError::Internal))?;
    let session = session::from_parts(&state.db, &parts, state.issuer.is_https())
        .await
        .map_err(|e| fail(ApiError::internal(e)))?
        .ok_or_else(|| fail(ApiError::Unauthenticated))?;
    Ok((state, session))
}

/// As [`signed_in`], for changes to the caller's own data: CSRF token and same-site checked.
pub async fn signed_in_change(csrf_token: &str) -> Result<(AppState, session::Session), ApiError> {
    let (state, session) = signed_in().await?;
    verify_change(&state, &session, csrf_token)?;
    Ok((state, session))
}

/// A change must carry the session's CSRF token and must not come from another site.
fn verify_change(state: &AppState, session: &session::Session, csrf_token: &str) -> Result<(), ApiError> {
    let parts = use_context::<http::request::Parts>().ok_or_else(|| fail(ApiError::Internal))?;
    if !csrf::same_origin(&parts.headers, &state.issuer) || !session.verify_csrf(csrf_token) {
        return Err(fail(ApiError::Csrf));
    }
    Ok(())
}
