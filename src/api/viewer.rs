//! Who is looking at the page: the signed-in user (if any) and the CSRF tokens its forms need.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::ApiError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user: Option<ViewerUser>,
    /// For the sign-in form (double-submit cookie).
    pub login_csrf: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerUser {
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    /// For this session's forms, e.g. sign-out.
    pub csrf: String,
}

#[server(endpoint = "viewer")]
pub async fn get_viewer() -> Result<Viewer, ApiError> {
    use crate::auth::{cookie, csrf, session, token};
    use crate::state::AppState;

    let state = use_context::<AppState>().ok_or(ApiError::Internal)?;
    let parts = use_context::<http::request::Parts>().ok_or(ApiError::Internal)?;
    let https = state.issuer.is_https();
    let session = session::from_parts(&state.db, &parts, https).await.map_err(ApiError::internal)?;
    let login_csrf = match csrf::login_token(&parts.headers, https) {
        Some(t) => t.to_string(),
        None => {
            // Reached by a server-function call without the cookie (it expired): issue one.
            let t = token::random_token();
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                let c =
                    cookie::set(cookie::names(https).login_csrf, &t, None, cookie::SameSite::Strict, https);
                res.append_header(http::header::SET_COOKIE, c);
            }
            t
        }
    };
    Ok(Viewer {
        user: session.map(|s| ViewerUser {
            csrf: s.csrf_token(),
            username: s.user.username.to_string(),
            display_name: s.user.display_name.clone(),
            is_admin: s.user.role.is_admin(),
        }),
        login_csrf,
    })
}
