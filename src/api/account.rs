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
