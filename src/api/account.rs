//! The account page's data API: the applications the signed-in user has let in, and removing
//! one's access. Each function checks the caller's own session; removal also needs its CSRF token.

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};

use super::ApiError;

/// An application with access to the user's account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppAccess {
    pub client_id: String,
    pub name: String,
    /// In plain words, as on the consent page.
    pub access: String,
    pub sessions: i64,
    pub last_authorized_at: i64,
}

#[server(endpoint = "account/apps", input = Json)]
pub async fn my_apps() -> Result<Vec<AppAccess>, ApiError> {
    let (state, session) = super::guard::signed_in().await?;
    let apps = state
        .db
        .user_apps(session.user.user_id, crate::db::now_unix())
        .await
        .map_err(|e| super::guard::fail(ApiError::internal(e)))?;
    Ok(apps
        .into_iter()
        .map(|a| AppAccess {
            access: a.scope.in_words().to_string(),
            client_id: a.client_id,
            name: a.name,
            sessions: a.sessions,
            last_authorized_at: a.last_authorized_at,
        })
        .collect())
}

/// Ends every session of the caller with the application: its tokens stop working at once.
#[server(endpoint = "account/remove_app", input = Json)]
pub async fn remove_app(csrf: String, client_id: String) -> Result<(), ApiError> {
    let (state, session) = super::guard::signed_in_change(&csrf).await?;
    state
        .db
        .revoke_user_app(session.user.user_id, &client_id)
        .await
        .map_err(|e| super::guard::fail(ApiError::internal(e)))?;
    Ok(())
}

/// One of the caller's sessions with an application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSession {
    /// Names the session for "Sign out this session" (only the caller's own are found).
    pub id: i64,
    pub client_id: String,
    pub client_name: String,
    pub created_at: i64,
    pub last_used_at: i64,
    /// In plain words.
    pub access: String,
    /// The names of the APIs it is for.
    pub apis: Vec<String>,
}

/// Every live session of the caller, newest first.
#[server(endpoint = "account/sessions", input = Json)]
pub async fn my_sessions() -> Result<Vec<AppSession>, ApiError> {
    let (state, session) = super::guard::signed_in().await?;
    let fail = |e: crate::db::DbError| super::guard::fail(ApiError::internal(e));
    let rows = state.db.user_sessions(session.user.user_id, crate::db::now_unix()).await.map_err(fail)?;
    let apis = state.db.all_apis(state.issuer.builtin_api()).await.map_err(fail)?;
    Ok(rows
        .into_iter()
        .map(|s| AppSession {
            id: s.id,
            client_id: s.client_id,
            client_name: s.client_name,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            access: s.scope.in_words().to_string(),
            apis: {
                let names: Vec<String> =
                    apis.iter().filter(|a| s.audience.contains(a.pk)).map(|a| a.name.clone()).collect();
                // Its API was deleted since: the session's tokens are for nothing any more.
                if names.is_empty() { vec!["an API no longer registered".into()] } else { names }
            },
        })
        .collect())
}

/// Ends one of the caller's sessions: its tokens stop working at once.
#[server(endpoint = "account/end_session", input = Json)]
pub async fn end_session(csrf: String, id: i64) -> Result<(), ApiError> {
    let (state, session) = super::guard::signed_in_change(&csrf).await?;
    let ended = state
        .db
        .end_user_session(session.user.user_id, id)
        .await
        .map_err(|e| super::guard::fail(ApiError::internal(e)))?;
    if ended {
        Ok(())
    } else {
        Err(super::guard::fail(ApiError::BadRequest("This session has already ended.".into())))
    }
}

/// Changes the caller's display name (as `PATCH /api/v1/me` does); returns it as stored.
#[server(endpoint = "account/display_name", input = Json)]
pub async fn set_display_name(csrf: String, display_name: String) -> Result<String, ApiError> {
    let (state, session) = super::guard::signed_in_change(&csrf).await?;
    let name = crate::oauth::api::display_name(&display_name)
        .map_err(|e| super::guard::fail(ApiError::BadRequest(format!("Display name: {e}"))))?;
    state
        .db
        .set_display_name(session.user.user_id, &name)
        .await
        .map_err(|e| super::guard::fail(ApiError::internal(e)))?;
    Ok(name)
}

/// Changes the caller's password: the current one is required (and guesses count against the
/// sign-in limits); the caller's other browser sessions end, this one stays.
#[server(endpoint = "account/password", input = Json)]
pub async fn change_password(csrf: String, current: String, new: String) -> Result<(), ApiError> {
    use crate::{auth::password, domain::Password};
    let (state, session) = super::guard::signed_in_change(&csrf).await?;
    let fail = super::guard::fail;
    let new =
        Password::parse_new(new).map_err(|e| fail(ApiError::BadRequest(format!("New password: {e}"))))?;
    let parts = use_context::<http::request::Parts>().ok_or_else(|| fail(ApiError::Internal))?;
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let address = state.trusted_proxies.client_ip(peer, &parts.headers);
    let username = session.user.username.as_str();
    let admitted = state.limits.admit(username, address, std::time::Instant::now()).map_err(|wait| {
        fail(ApiError::BadRequest(format!(
            "Too many wrong passwords: try again in {} s.",
            wait.as_secs().max(1)
        )))
    })?;
    if !admitted.wait.is_zero() {
        tokio::time::sleep(admitted.wait).await;
    }
    let stored = state
        .db
        .find_credentials(&session.user.username)
        .await
        .map_err(|e| fail(ApiError::internal(e)))?
        .map(|c| c.password_hash);
    let right = match Password::offered(current) {
        Some(p) => password::verify(stored, p).await.map_err(|e| fail(ApiError::internal(e)))?,
        None => false,
    };
    if !right {
        crate::metrics::Metrics::count(&state.metrics.sign_in_failures);
        return Err(fail(ApiError::BadRequest("Current password: this is not your password.".into())));
    }
    state.limits.succeeded(&admitted);
    let hash = password::hash(new).await.map_err(|e| fail(ApiError::internal(e)))?;
    state
        .db
        .by(crate::domain::audit::Actor::signed_in(username, Some(address.to_string())))
        .change_own_password(&session.user.username, session.user.user_id, &hash, &session.digest())
        .await
        .map_err(|e| fail(ApiError::internal(e)))?;
    tracing::info!(username, "a user changed their password; their other browser sessions ended");
    Ok(())
}
