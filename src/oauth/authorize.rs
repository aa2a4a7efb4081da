//! `GET /oauth2/authorize` and the consent decision `POST /oauth2/authorize`.
//!
//! The decision form ([`super::consent`]) carries a token bound to the browser session and to
//! this one request; the request is stored (as a digest) and taken on use, so a decision counts
//! once.

use std::net::SocketAddr;

use axum::{
    Form,
    extract::{ConnectInfo, State},
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use serde::Deserialize;

use super::{
    consent::{ConsentUser, consent_page, error_page},
    flow::{self, AuthorizeError, ErrorPage, ErrorRedirect, Outcome, redirect_matches},
    metadata_document, resource,
};
use crate::{
    auth::{csrf, handlers, session, token},
    config::Issuer,
    db::{
        now_unix,
        oauth::{CodeRow, PendingRequest},
    },
    domain::LocalPath,
    state::AppState,
};

/// Authorization codes live 60 seconds (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_TTL_SECS: i64 = 60;
/// A consent screen can be answered for 10 minutes.
pub const CONSENT_TTL_SECS: i64 = 600;
const CONSENT_PURPOSE: &str = "clavis-consent";
/// Consent screens a browser session may have open at once; opening more closes the oldest.
pub const OPEN_CONSENT_SCREENS: i64 = 16;
/// Longest authorization request query accepted; real ones are a few hundred bytes. Whatever is
/// accepted fits in a sign-in `next` ([`LocalPath::MAX_LEN`]).
const MAX_QUERY_LEN: usize = 8 * 1024;
const _: () = assert!("/oauth2/authorize?".len() + MAX_QUERY_LEN <= LocalPath::MAX_LEN);

pub async fn authorize(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query = uri.query().unwrap_or("");
    if query.len() > MAX_QUERY_LEN {
        return error_page(StatusCode::BAD_REQUEST, "The authorization request is too long.");
    }
    let Ok(params) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) else {
        return error_page(StatusCode::BAD_REQUEST, "The authorization request is malformed.");
    };
    let client_id = match flow::client_id(&params) {
        Ok(id) => id,
        Err(page) => return flow_error_page(page),
    };
    if client_id.is_url() {
        // A client ID metadata document: fetched (or taken from the cache) before anything else.
        let settings = match state.db.settings().await {
            Ok(s) => s,
            Err(e) => return handlers::internal_error(&e),
        };
        if !settings.client_metadata_documents {
            return flow_error_page(ErrorPage::UnknownClient);
        }
        let redirect_uri =
            params.iter().find(|(k, v)| k == "redirect_uri" && !v.is_empty()).map(|(_, v)| v.as_str());
        // Fetching a document that is not cached counts as a registration from this address.
        let admit = || {
            let address = state.trusted_proxies.client_ip(peer.ip(), &headers);
            state.registrations.reserve(&address.to_string(), std::time::Instant::now()).is_ok()
        };
        let builtin = state.issuer.builtin_api();
        if let Err(e) =
            metadata_document::ensure(&state.db, &client_id, redirect_uri, &settings, builtin, admit).await
        {
            if let metadata_document::DocumentError::Db(e) = &e {
                return handlers::internal_error(e);
            }
            tracing::info!(client_id = client_id.as_str(), error = %e, "a client metadata document was refused");
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("The application's client metadata document cannot be used: {e}."),
            );
        }
    }
    let stored = match state.db.find_stored_client(client_id.as_str()).await {
        Ok(s) => s,
        Err(e) => return handlers::internal_error(&e),
    };
    let request = match flow::decide(&params, stored.as_ref().map(|s| &s.client)) {
        Outcome::ErrorPage(page) => return flow_error_page(page),
        Outcome::Redirect(e) => return error_redirect(&e, &state.issuer, StatusCode::FOUND),
        Outcome::Proceed(r) => r,
    };
    let Some(stored) = stored else { return flow_error_page(ErrorPage::UnknownClient) };
    let builtin = state.issuer.builtin_api();
    let resolved =
        match resource::resolve(&state.db, &request.resources, stored.allowed_apis.as_ref(), builtin).await {
            Ok(Ok(r)) => r,
            Ok(Err(description)) => {
                let e = ErrorRedirect {
                    redirect_uri: request.redirect_uri.clone(),
                    error: AuthorizeError::InvalidTarget,
                    description,
                    state: request.state.clone(),
                };
                return error_redirect(&e, &state.issuer, StatusCode::FOUND);
            }
            Err(e) => return handlers::internal_error(&e),
        };
    let session = match session::from_headers(&state.db, &headers, state.issuer.is_https()).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            let here = uri.path_and_query().map_or("/oauth2/authorize", |p| p.as_str());
            return handlers::to_login(Some(&LocalPath::or_home(Some(here))), &[]);
        }
        Err(e) => return handlers::internal_error(&e),
    };
    let pending = PendingRequest {
        client_pk: stored.pk,
        user_id: session.user.user_id,
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_sent: request.redirect_uri_sent,
        scope: request.scope,
        state: request.state.clone(),
        code_challenge: request.code_challenge.clone(),
        audience: resolved.audience.clone(),
    };
    if !stored.client.spec.consent {
        // The client's owner turned the consent screen off: signed in is enough.
        return issue_code(&state, &pending, StatusCode::FOUND).await;
    }
    let id = token::random_token();
    let now = now_unix();
    if let Err(e) = state
        .db
        .insert_authorization_request(
            &token::digest(&id),
            &session.digest(),
            &pending,
            now + CONSENT_TTL_SECS,
            OPEN_CONSENT_SCREENS,
        )
        .await
    {
        return handlers::internal_error(&e);
    }
    let csrf = session.bound_token(CONSENT_PURPOSE, &id);
    let here = uri.path_and_query().map_or("/oauth2/authorize", |p| p.as_str());
    let logout_csrf = session.csrf_token();
    let user = ConsentUser {
        username: session.user.username.as_str(),
        logout_csrf: &logout_csrf,
        authorize_path: here,
    };
    consent_page(&stored.client, &request, &resolved.apis, &user, &id, &csrf)
}

#[derive(Deserialize)]
pub struct Decision {
    #[serde(default)]
    request: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
}

pub async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Decision>,
) -> Response {
    let session = match session::from_headers(&state.db, &headers, state.issuer.is_https()).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return error_page(
                StatusCode::FORBIDDEN,
                "You are signed out, so this decision was not recorded. Return to the application and start again.",
            );
        }
        Err(e) => return handlers::internal_error(&e),
    };
    let token_ok = !form.request.is_empty()
        && token::constant_time_eq(&session.bound_token(CONSENT_PURPOSE, &form.request), &form.csrf);
    if !csrf::same_origin(&headers, &state.issuer) || !token_ok {
        return error_page(
            StatusCode::FORBIDDEN,
            "This decision did not come from the consent page shown to you, so it was not recorded.",
        );
    }
    let allow = match form.decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => return error_page(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    };
    let now = now_unix();
    let pending = match state
        .db
        .take_authorization_request(&token::digest(&form.request), &session.digest(), now)
        .await
    {
        Ok(Some(p)) if p.user_id == session.user.user_id => p,
        Ok(_) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "This consent request was already answered or has expired. Return to the application and start again.",
            );
        }
        Err(e) => return handlers::internal_error(&e),
    };
    // The client as it is now: deactivated, or its redirect URI removed, while the screen was
    // open means no code and no redirect (RFC 6749 §4.1.2.1).
    match state.db.client_by_pk(pending.client_pk).await {
        Ok(Some(c)) if !c.active => return flow_error_page(ErrorPage::InactiveClient),
        Ok(Some(c)) if !redirect_matches(c.spec.redirect_uris.as_slice(), &pending.redirect_uri) => {
            return flow_error_page(ErrorPage::UnregisteredRedirectUri);
        }
        Ok(Some(_)) => {}
        Ok(None) => return flow_error_page(ErrorPage::UnknownClient),
        Err(e) => return handlers::internal_error(&e),
    }
    // An API deactivated or deleted while the screen was open gets no token.
    if allow {
        match state.db.apis_in(&pending.audience, state.issuer.builtin_api()).await {
            Ok(apis) if apis.len() == pending.audience.ids().len() && apis.iter().all(|a| a.active) => {}
            Ok(_) => {
                let gone = ErrorRedirect {
                    redirect_uri: pending.redirect_uri,
                    error: AuthorizeError::InvalidTarget,
                    description: "an API of this request was deactivated or deleted".into(),
                    state: pending.state,
                };
                return error_redirect(&gone, &state.issuer, StatusCode::SEE_OTHER);
            }
            Err(e) => return handlers::internal_error(&e),
        }
    }
    if allow {
        issue_code(&state, &pending, StatusCode::SEE_OTHER).await
    } else {
        let denied = ErrorRedirect {
            redirect_uri: pending.redirect_uri,
            error: AuthorizeError::AccessDenied,
            description: "the user denied the request".into(),
            state: pending.state,
        };
        error_redirect(&denied, &state.issuer, StatusCode::SEE_OTHER)
    }
}

/// Stores a new code for `pending` and sends the browser back to the client with it.
async fn issue_code(state: &AppState, pending: &PendingRequest, status: StatusCode) -> Response {
    let code = token::ordered_token(token::now_micros());
    let row = CodeRow {
        client_pk: pending.client_pk,
        user_id: pending.user_id,
        redirect_uri: pending.redirect_uri.clone(),
        redirect_uri_sent: pending.redirect_uri_sent,
        scope: pending.scope,
        code_challenge: pending.code_challenge.clone(),
        expires_at: now_unix() + CODE_TTL_SECS,
        audience: pending.audience.clone(),
    };
    if let Err(e) = state.db.insert_code(&token::digest(&code), &row).await {
        return handlers::internal_error(&e);
    }
    back_to_client(
        status,
        &pending.redirect_uri,
        vec![("code", &code)],
        pending.state.as_deref(),
        &state.issuer,
    )
}

/// An error sent back to the client.
fn error_redirect(e: &ErrorRedirect, issuer: &Issuer, status: StatusCode) -> Response {
    let params = vec![("error", e.error.code()), ("error_description", e.description.as_str())];
    back_to_client(status, &e.redirect_uri, params, e.state.as_deref(), issuer)
}

/// Sends the browser to the client's redirect URI with `params`, and always `state` (when the
/// request had one) and `iss` (RFC 9207).
fn back_to_client<'a>(
    status: StatusCode,
    redirect_uri: &str,
    mut params: Vec<(&'a str, &'a str)>,
    state: Option<&'a str>,
    issuer: &'a Issuer,
) -> Response {
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", issuer.as_str()));
    match HeaderValue::from_str(&flow::with_query(redirect_uri, &params)) {
        Ok(v) => {
            let mut res = status.into_response();
            res.headers_mut().insert(header::LOCATION, v);
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(_) => error_page(StatusCode::BAD_REQUEST, "The return address cannot be used."),
    }
}

fn flow_error_page(page: ErrorPage) -> Response {
    error_page(StatusCode::BAD_REQUEST, page.message())
}
