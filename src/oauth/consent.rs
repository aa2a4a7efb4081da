//! The pages of the authorization endpoint: consent and errors. Plain server-rendered HTML
//! without any script: the page that grants access works without JavaScript, and its policy
//! (`default-src 'none'`, no `script-src`) leaves nothing to inject into. Same stylesheet as the
//! app.

use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use super::flow::AuthorizeRequest;
use crate::db::apis::ApiRef;
use crate::domain::{
    Scope,
    client::{Client, ClientOrigin, ClientScope},
};

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

/// Who is deciding, and how they switch accounts: a sign-out that returns to this request.
pub struct ConsentUser<'a> {
    pub username: &'a str,
    pub logout_csrf: &'a str,
    /// This authorization request, as a local path.
    pub authorize_path: &'a str,
}

/// The consent page: who asks, for what in plain words, where the browser goes next, and the
/// Allow / Deny form carrying the request id and its token.
pub fn consent_page(
    client: &Client,
    request: &AuthorizeRequest,
    apis: &[ApiRef],
    user: &ConsentUser<'_>,
    id: &str,
    csrf: &str,
) -> Response {
    let name = escape(client.spec.name.as_str());
    let access = request.scope.in_words();
    let scope_note = match client.spec.scope {
        ClientScope::Full if !request.scope.contains(Scope::WRITE) => " (read-only)",
        _ => "",
    };
    let body = format!(
        r#"<section class="card narrow consent" aria-labelledby="consent-title">
<h1 id="consent-title">{name} wants to access your account</h1>
<p class="muted">Signed in as <strong>{user}</strong></p>
{caution}<p>If you allow it, <strong>{name}</strong> will be able to:</p>
<ul class="consent-scopes"><li>{access}{scope_note} in {apis}</li></ul>
<p class="muted">You will then be sent to <strong>{host}</strong>.</p>
<form method="post" action="/oauth2/authorize" class="form-actions">
<input type="hidden" name="request" value="{id}">
<input type="hidden" name="csrf" value="{csrf}">
<button type="submit" name="decision" value="allow" class="button-primary">Allow</button>
<button type="submit" name="decision" value="deny" class="button-quiet">Deny</button>
</form>
<form method="post" action="/logout" class="switch-account">
<input type="hidden" name="csrf" value="{logout_csrf}">
<input type="hidden" name="next" value="{next}">
<button type="submit" class="link-button">Not {user}? Sign in as someone else</button>
</form>
</section>"#,
        user = escape(user.username),
        logout_csrf = escape(user.logout_csrf),
        next = escape(user.authorize_path),
        host = escape(redirect_host(&request.redirect_uri)),
        apis = api_names(apis),
        caution = caution(client),
    );
    let mut res = page(StatusCode::OK, &format!("Allow {name}?"), &body);
    if let Ok(v) = HeaderValue::from_str(&page_policy(&form_action_source(&request.redirect_uri))) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

/// What a user should know of a client nobody vetted: it registered itself, so its name is its
/// own claim; and whether it can only return to this device (an installed app, not a website).
fn caution(client: &Client) -> String {
    if !client.origin.is_self_registered() {
        return String::new();
    }
    if client.origin == ClientOrigin::MetadataDocument {
        let host = redirect_host(client.client_id.as_str());
        let local = if client.spec.redirect_uris.iter().all(|u| u.is_loopback()) {
            " It can only return to this computer: it is an application installed here."
        } else {
            ""
        };
        return format!(
            r#"<p class="alert alert-caution" role="note">This application is identified by <strong class="consent-client-host">{}</strong>: its name and details come from a document published there. Allow it only if you trust that site and started this sign-in yourself.{local}</p>
"#,
            escape(host)
        );
    }
    let local = if client.spec.redirect_uris.iter().all(|u| u.is_loopback()) {
        " It can only return to this computer: it is an application installed here, not a website."
    } else {
        ""
    };
    format!(
        r#"<p class="alert alert-caution" role="note">This application registered itself: its name is not verified by this server. Allow it only if you started this sign-in from it yourself.{local}</p>
"#
    )
}

/// "<b>Orders</b> (orders.example.com) and <b>Clavis API</b> (auth.example.com)": each API by
/// name, with the host of its identifier so a look-alike name cannot pass for another.
fn api_names(apis: &[ApiRef]) -> String {
    let shown: Vec<String> = apis
        .iter()
        .map(|a| {
            format!(
                r#"<strong class="consent-api">{}</strong> <span class="muted">({})</span>"#,
                escape(&a.name),
                escape(redirect_host(&a.identifier))
            )
        })
        .collect();
    match shown.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// An error shown on this server (never sent to an untrusted redirect URI).
pub fn error_page(status: StatusCode, message: &str) -> Response {
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
<title>{title} · Clavis</title><link rel="stylesheet" href="{css}"><link rel="icon" href="/favicon.svg" type="image/svg+xml"></head>
<body><header class="topbar"><span class="brand"><span class="brand-mark" aria-hidden="true">◆</span>Clavis</span></header>
<main>{body}</main></body></html>"#,
        css = crate::state::stylesheet_href()
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
