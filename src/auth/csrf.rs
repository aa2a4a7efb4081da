//! Cross-site request forgery defences for HTML forms.
//!
//! - Signed in: each form carries the session's derived token (`Session::csrf_token`).
//! - Sign-in itself (no session yet): a double-submit token in a `SameSite=Strict` cookie.
//! - Always: a browser's `Origin` / `Sec-Fetch-Site` must not name another site.

use axum::{extract::Request, middleware::Next, response::Response};
use http::{HeaderMap, HeaderValue, Method, header};

use super::{cookie, token};
use crate::config::Issuer;

/// On page loads without a sign-in CSRF cookie, issues one and shows it to the rest of this
/// request too, so the page rendered now already carries the matching token.
pub async fn ensure_login_cookie(secure: bool, mut req: Request, next: Next) -> Response {
    if req.method() != Method::GET
        || !is_page_path(req.uri().path())
        || login_token(req.headers(), secure).is_some()
    {
        return next.run(req).await;
    }
    let name = cookie::names(secure).login_csrf;
    let value = token::random_token();
    let pair = format!("{name}={value}");
    if let Ok(v) = HeaderValue::from_str(&pair) {
        req.headers_mut().append(header::COOKIE, v);
    }
    let mut res = next.run(req).await;
    res.headers_mut()
        .append(header::SET_COOKIE, cookie::set(name, &value, None, cookie::SameSite::Strict, secure));
    res
}

/// Paths that may render a page; assets, health checks and the APIs never need the cookie.
fn is_page_path(path: &str) -> bool {
    !(path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path.starts_with("/oauth2/")
        || path.starts_with("/.well-known/")
        || path == "/healthz"
        || path == "/robots.txt"
        || path == "/favicon.svg")
}

/// The sign-in CSRF token of this browser (from its cookie, named for an https issuer when
/// `https`).
pub fn login_token(headers: &HeaderMap, https: bool) -> Option<&str> {
    cookie::get(headers, cookie::names(https).login_csrf)
}

pub fn verify_login_token(headers: &HeaderMap, https: bool, offered: &str) -> bool {
    login_token(headers, https).is_some_and(|t| !offered.is_empty() && token::constant_time_eq(t, offered))
}

/// False when the browser says the request comes from another site. `Sec-Fetch-Site` is asked
/// first: browsers send it whatever the referrer policy, while under our `no-referrer` policy they
/// send `Origin: null` even for our own forms, so `null` tells nothing. Requests with neither
/// header (old browsers, scripts) still need the token.
pub fn same_origin(headers: &HeaderMap, issuer: &Issuer) -> bool {
    match headers.get("sec-fetch-site").map(|v| v.to_str().unwrap_or_default()) {
        Some("same-origin" | "none") => return true,
        Some(_) => return false,
        None => {}
    }
    let origin = match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        None | Some(Ok("null")) => return true,
        Some(Ok(o)) => o,
        Some(Err(_)) => return false,
    };
    if origin == issuer.origin() {
        return true;
    }
    // Reached under another name than the issuer (localhost vs 127.0.0.1): same origin when the
    // Origin's authority is the Host this request was sent to.
    let authority = origin.split_once("://").map(|(_, a)| a);
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    matches!((authority, host), (Some(a), Some(h)) if a == h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_checks() {
        let issuer = Issuer::parse("https://auth.example.com").unwrap();
        for (pairs, ok) in [
            (&[][..], true),
            (&[("origin", "https://auth.example.com")][..], true),
            (&[("origin", "https://evil.example")][..], false),
            (&[("origin", "null")][..], true),
            (&[("origin", "null"), ("sec-fetch-site", "same-origin")][..], true),
            (&[("origin", "null"), ("sec-fetch-site", "cross-site")][..], false),
            (&[("origin", "https://auth.example.com"), ("sec-fetch-site", "same-site")][..], false),
            (&[("origin", "http://localhost:3000"), ("host", "localhost:3000")][..], true),
            (&[("origin", "http://evil.example"), ("host", "localhost:3000")][..], false),
            (&[("sec-fetch-site", "cross-site")][..], false),
            (&[("sec-fetch-site", "same-origin"), ("origin", "https://auth.example.com")][..], true),
        ] {
            assert_eq!(same_origin(&headers(pairs), &issuer), ok, "{pairs:?}");
        }
    }

    #[test]
    fn login_token_double_submit() {
        let h = headers(&[("cookie", "clavis_csrf=abc")]);
        assert!(verify_login_token(&h, false, "abc"));
        assert!(!verify_login_token(&h, false, "abd"));
        assert!(!verify_login_token(&h, true, "abc"), "over https only the __Host- cookie counts");
        assert!(!verify_login_token(&h, false, ""));
        assert!(!verify_login_token(&headers(&[]), false, ""));
    }
}
