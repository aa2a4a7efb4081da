//! Plain HTML form endpoints: `POST /login`, `POST /logout` and `GET /`. They work without
//! JavaScript and answer with 303 redirects (post/redirect/get).

use std::{net::SocketAddr, time::Instant};

use axum::{
    Form,
    extract::{ConnectInfo, State},
    response::{IntoResponse, Redirect, Response},
};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::{cookie, csrf, password, session};
use crate::{
    domain::{LocalPath, Password, Username},
    state::AppState,
};

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// Why the sign-in page is shown again; the page turns the code into words.
#[derive(Clone, Copy)]
pub enum LoginProblem {
    Invalid,
    Expired,
    RateLimited { retry_secs: u64 },
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = LocalPath::or_home(form.next.as_deref());
    let again = |problem| login_again(&next, &form.username, problem);
    if !csrf::same_origin(&headers, &state.issuer)
        || !csrf::verify_login_token(&headers, state.issuer.is_https(), &form.csrf)
    {
        return again(LoginProblem::Expired);
    }
    let address = state.trusted_proxies.client_ip(peer.ip(), &headers);
    // The attempt is counted before the password is checked (see `SignInLimits`).
    let admitted = match state.limits.admit(&form.username, address, Instant::now()) {
        Ok(a) => a,
        Err(wait) => {
            crate::metrics::Metrics::count(&state.metrics.rate_limited);
            return again(LoginProblem::RateLimited { retry_secs: wait.as_secs().max(1) });
        }
    };
    if !admitted.wait.is_zero() {
        tokio::time::sleep(admitted.wait).await;
    }
    // Only a checked, wrong password keeps its reservation.
    match authenticate(&state, &form.username, form.password).await {
        Ok(Some(user_id)) => {
            state.limits.succeeded(&admitted);
            match session::start(&state.db, user_id, &headers, state.issuer.is_https()).await {
                Ok(secret) => with_session_cookie(Redirect::to(next.as_str()), &secret, &state),
                Err(e) => internal_error(&e),
            }
        }
        Ok(None) => {
            tracing::info!(ip = %address, "sign-in failed");
            crate::metrics::Metrics::count(&state.metrics.sign_in_failures);
            again(LoginProblem::Invalid)
        }
        Err(e) => {
            state.limits.refund(&admitted);
            if matches!(e, SignInError::Hash(password::PasswordHashError::Busy)) {
                tracing::warn!("sign-in refused: every core is busy checking passwords");
                return again(LoginProblem::RateLimited { retry_secs: 1 });
            }
            internal_error(&e)
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum SignInError {
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Hash(#[from] password::PasswordHashError),
}

/// The user id when `raw_username` and `raw_password` match a user. Unknown users, malformed
/// usernames and wrong passwords all cost one argon2 verification and all answer `None`.
async fn authenticate(
    state: &AppState,
    raw_username: &str,
    raw_password: String,
) -> Result<Option<i64>, SignInError> {
    let Some(password) = Password::offered(raw_password) else {
        return Ok(None);
    };
    let creds = match Username::parse(raw_username) {
        Ok(u) => state.db.find_credentials(&u).await?,
        Err(_) => None,
    };
    let user_id = creds.as_ref().map(|c| c.user_id);
    let ok = password::verify(creds.map(|c| c.password_hash), password).await?;
    Ok(user_id.filter(|_| ok))
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
    /// Where the sign-in page should lead afterwards ("Not you?" on the consent page).
    #[serde(default)]
    next: Option<String>,
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    match session::from_headers(&state.db, &headers, state.issuer.is_https()).await {
        Ok(Some(s)) if !csrf::same_origin(&headers, &state.issuer) || !s.verify_csrf(&form.csrf) => {
            (StatusCode::FORBIDDEN, "Sign-out refused: the form did not come from this site.").into_response()
        }
        Ok(_) => match session::end(&state.db, &headers, state.issuer.is_https()).await {
            Ok(()) => {
                let next = form.next.as_deref().and_then(|n| LocalPath::parse(n).ok());
                let mut res = to_login(next.as_ref(), &[]);
                let https = state.issuer.is_https();
                let clear =
                    cookie::set(cookie::names(https).session, "", Some(0), cookie::SameSite::Lax, https);
                res.headers_mut().append(header::SET_COOKIE, clear);
                res
            }
            Err(e) => internal_error(&e),
        },
        Err(e) => internal_error(&e),
    }
}

/// `/` sends administrators to the client list, other users to their account, visitors to sign-in.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match session::from_headers(&state.db, &headers, state.issuer.is_https()).await {
        Ok(Some(s)) if s.user.role.is_admin() => Redirect::to("/admin/clients").into_response(),
        Ok(Some(_)) => Redirect::to("/account").into_response(),
        Ok(None) => to_login(None, &[]),
        Err(e) => internal_error(&e),
    }
}

/// 303 to the sign-in page, carrying `next` (when not `/`) and any extra query pairs.
pub fn to_login(next: Option<&LocalPath>, extra: &[(&str, &str)]) -> Response {
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(extra.len() + 1);
    if let Some(n) = next.filter(|n| n.as_str() != "/") {
        pairs.push(("next", n.as_str()));
    }
    pairs.extend_from_slice(extra);
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let target = if query.is_empty() { "/login".to_string() } else { format!("/login?{query}") };
    Redirect::to(&target).into_response()
}

fn login_again(next: &LocalPath, username: &str, problem: LoginProblem) -> Response {
    // The typed username is kept for the form only when it could be one.
    let username = Username::parse(username).map(|u| u.to_string()).unwrap_or_default();
    let retry;
    let mut extra = vec![("username", username.as_str())];
    match problem {
        LoginProblem::Invalid => extra.push(("error", "invalid")),
        LoginProblem::Expired => extra.push(("error", "expired")),
        LoginProblem::RateLimited { retry_secs } => {
            retry = retry_secs.to_string();
            extra.push(("error", "rate"));
            extra.push(("retry", &retry));
        }
    }
    to_login(Some(next), &extra)
}

fn with_session_cookie(redirect: Redirect, secret: &str, state: &AppState) -> Response {
    let mut res = redirect.into_response();
    let c = cookie::set(
        cookie::names(state.issuer.is_https()).session,
        secret,
        Some(session::SESSION_TTL_SECS),
        cookie::SameSite::Lax,
        state.issuer.is_https(),
    );
    res.headers_mut().append(header::SET_COOKIE, c);
    res
}

/// Logs the detail, shows the user a plain apology.
pub fn internal_error(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on the server. Please try again.")
        .into_response()
}
