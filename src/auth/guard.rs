//! Who may open which page: `/admin/**` needs an administrator, `/account/**` anyone signed in.
//! Anonymous visitors go to the sign-in page and come back; a signed-in user without the right
//! role gets a 403 page. Server functions check the caller themselves as well.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::StatusCode;

use super::session::{self, Resolved};
use crate::{domain::LocalPath, state::AppState};

enum Need {
    Admin,
    SignedIn,
}

fn need_for(path: &str) -> Option<Need> {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under("/admin") {
        Some(Need::Admin)
    } else if under("/account") {
        Some(Need::SignedIn)
    } else {
        None
    }
}

pub async fn page_guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(need) = need_for(req.uri().path()) else {
        return next.run(req).await;
    };
    let session = match session::from_headers(&state.db, req.headers(), state.issuer.is_https()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Some(session) = session else {
        let here = req.uri().path_and_query().map_or("/", |p| p.as_str());
        return super::handlers::to_login(Some(&LocalPath::or_home(Some(here))), &[]);
    };
    let allowed = match need {
        Need::Admin => session.user.role.is_admin(),
        Need::SignedIn => true,
    };
    req.extensions_mut().insert(Resolved(Some(session)));
    let mut res = next.run(req).await;
    if !allowed && res.status().is_success() {
        // The page itself renders the "no access" view; the status says so to machines.
        *res.status_mut() = StatusCode::FORBIDDEN;
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(matches!(need_for("/admin"), Some(Need::Admin)));
        assert!(matches!(need_for("/admin/clients"), Some(Need::Admin)));
        assert!(matches!(need_for("/account"), Some(Need::SignedIn)));
        assert!(need_for("/administrator").is_none());
        assert!(need_for("/login").is_none());
        assert!(need_for("/").is_none());
    }
}
