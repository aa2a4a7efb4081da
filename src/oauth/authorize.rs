//! `GET /oauth2/authorize` and the consent decision `POST /oauth2/authorize`.
//!
//! The consent and error pages are plain server-rendered HTML with no script at all: they work
//! without JavaScript, and their policy (`script-src 'none'`) leaves nothing to inject into. The
//! decision form carries a token bound to the browser session and to this one request; the
//! request is stored (as a digest) and taken on use, so a decision counts once.

use axum::{
    Form,
    extract::State,
    response::{Html, IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use serde::Deserialize;

use super::flow::{self, AuthorizeError, AuthorizeRequest, ErrorPage, ErrorRedirect, Outcome};
use crate::{
    auth::{
        csrf, handlers,
        session::{self, Session},
        token,
    },
    config::Issuer,
    db::{
        now_unix,
        oauth::{CodeRow, PendingRequest, StoredClient},
    },
    domain::{LocalPath, client::ClientScope},
    startup::AppState,
};

/// Authorization codes live 60 seconds (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_TTL_SECS: i64 = 60;
/// A consent screen can be answered for 10 minutes.
pub const CONSENT_TTL_SECS: i64 = 600;
const CONSENT_PURPOSE: &str = "clavis-consent";
/// Longest authorization request query accepted; real ones are a few hundred bytes.
const MAX_QUERY_LEN: usize = 8 * 1024;

pub async fn authorize(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
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
    let session = match session::from_headers(&state.db, &headers).await {
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
        scope: request.scopes.join(" "),
        state: request.state.clone(),
        code_challenge: request.code_challenge.clone(),
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
        )
        .await
    {
        return handlers::internal_error(&e);
    }
    consent_page(&stored, &request, &session, &id)
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
    let session = match session::from_headers(&state.db, &headers).await {
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
    match state.db.client_active_by_pk(pending.client_pk).await {
        Ok(Some(true)) => {}
        Ok(_) => return flow_error_page(ErrorPage::InactiveClient),
        Err(e) => return handlers::internal_error(&e),
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
    let code = token::random_token();
    let row = CodeRow {
        client_pk: pending.client_pk,
        user_id: pending.user_id,
        redirect_uri: pending.redirect_uri.clone(),
        scope: pending.scope.clone(),
        code_challenge: pending.code_challenge.clone(),
        expires_at: now_unix() + CODE_TTL_SECS,
    };
    if let Err(e) = state.db.insert_code(&token::digest(&code), &row).await {
        return handlers::internal_error(&e);
    }
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &pending.state {
        params.push(("state", s));
    }
    params.push(("iss", state.issuer.as_str()));
    redirect(status, &flow::with_query(&pending.redirect_uri, &params))
}

/// An error sent back to the client, with `state` and `iss` (RFC 9207).
fn error_redirect(e: &ErrorRedirect, issuer: &Issuer, status: StatusCode) -> Response {
    let mut params = vec![("error", e.error.code()), ("error_description", e.description.as_str())];
    if let Some(s) = &e.state {
        params.push(("state", s));
    }
    params.push(("iss", issuer.as_str()));
    redirect(status, &flow::with_query(&e.redirect_uri, &params))
}

fn redirect(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
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

/// Where the consent form may lead: this server, and the client's redirect URI (browsers apply
/// `form-action` to the redirect that follows the POST).
fn form_action_source(redirect_uri: &str) -> String {
    match redirect_uri.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            format!("{scheme}://{authority}")
        }
        // A private-use scheme (`com.example.app:/cb`): allow the scheme.
        None => redirect_uri.split(':').next().map(|s| format!("{s}:")).unwrap_or_default(),
    }
}

fn page_policy(form_action: &str) -> String {
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The host the user will be sent to, as shown on the consent page.
fn redirect_host(redirect_uri: &str) -> &str {
    match redirect_uri.split_once("://") {
        Some((_, rest)) => rest.split(['/', '?', '#']).next().unwrap_or(rest),
        None => redirect_uri.split(':').next().unwrap_or(redirect_uri),
    }
}

fn consent_page(stored: &StoredClient, request: &AuthorizeRequest, session: &Session, id: &str) -> Response {
    let name = escape(stored.client.spec.name.as_str());
    let access =
        if request.scopes.contains(&"write") { "Read and change your data" } else { "Read your data" };
    let scope_note = match stored.client.spec.scope {
        ClientScope::Full if !request.scopes.contains(&"write") => " (read-only)",
        _ => "",
    };
    let body = format!(
        r#"<section class="card narrow consent" aria-labelledby="consent-title">
<h1 id="consent-title">{name} wants to access your account</h1>
<p class="muted">Signed in as <strong>{user}</strong></p>
<p>If you allow it, <strong>{name}</strong> will be able to:</p>
<ul class="consent-scopes"><li>{access}{scope_note}</li></ul>
<p class="muted">You will then be sent to <strong>{host}</strong>.</p>
<form method="post" action="/oauth2/authorize" class="form-actions">
<input type="hidden" name="request" value="{id}">
<input type="hidden" name="csrf" value="{csrf}">
<button type="submit" name="decision" value="allow" class="button-primary">Allow</button>
<button type="submit" name="decision" value="deny" class="button-quiet">Deny</button>
</form>
</section>"#,
        user = escape(session.user.username.as_str()),
        host = escape(redirect_host(&request.redirect_uri)),
        csrf = session.bound_token(CONSENT_PURPOSE, id),
    );
    let mut res = page(StatusCode::OK, &format!("Allow {name}?"), &body);
    if let Ok(v) = HeaderValue::from_str(&page_policy(&form_action_source(&request.redirect_uri))) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        r#"<section class="card narrow" aria-labelledby="error-title">
<h1 id="error-title">This request cannot be completed</h1>
<p class="alert alert-error" role="alert">{}</p>
<p class="muted">Return to the application you came from and try again. If this keeps happening, tell its developers.</p>
</section>"#,
        escape(message)
    );
    page(status, "Authorization failed", &body)
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Clavis</title><link rel="stylesheet" href="/pkg/clavis.css"><link rel="icon" href="/favicon.svg" type="image/svg+xml"></head>
<body><header class="topbar"><span class="brand"><span class="brand-mark" aria-hidden="true">◆</span>Clavis</span></header>
<main>{body}</main></body></html>"#
    );
    let mut res = (status, Html(html)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ));
    res
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_action_allows_the_redirect_origin_only() {
        assert_eq!(form_action_source("https://app.example.com/cb?x=1"), "https://app.example.com");
        assert_eq!(form_action_source("http://127.0.0.1:8080/cb"), "http://127.0.0.1:8080");
        assert_eq!(form_action_source("com.example.app:/callback"), "com.example.app:");
        let p = page_policy("https://app.example.com");
        assert!(p.contains("form-action 'self' https://app.example.com;"));
        assert!(p.contains("frame-ancestors 'none'") && p.contains("default-src 'none'"));
    }

    #[test]
    fn hosts_and_escaping() {
        assert_eq!(redirect_host("https://app.example.com:8443/cb"), "app.example.com:8443");
        assert_eq!(redirect_host("com.example.app:/cb"), "com.example.app");
        assert_eq!(escape(r#"<b a="1">&'"#), "&lt;b a=&quot;1&quot;&gt;&amp;&#39;");
    }
}
