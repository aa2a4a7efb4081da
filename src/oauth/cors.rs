//! Cross-origin access for browser-based clients (single-page apps using `none` + PKCE), the way
//! Keycloak's "web origins" default works: a client's allowed origins are the origins of its
//! registered redirect URIs. Preflights are answered for any origin (they reveal nothing); the
//! actual response is readable by a page only when its origin belongs to the client that
//! authenticated or owns the token. No credentials (cookies) are ever allowed cross-origin.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::domain::client::RedirectUri;

/// `scheme://host[:port]` of an http(s) URL, as a browser writes it in `Origin`.
fn origin_of(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("https://").or_else(|| uri.strip_prefix("http://"))?;
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&uri[..uri.len() - rest.len() + authority_len])
}

/// The request's `Origin` when it is one of the client's redirect URI origins.
pub fn allowed_origin(headers: &HeaderMap, redirect_uris: &[RedirectUri]) -> Option<HeaderValue> {
    allowed_origin_among(headers, redirect_uris.iter().map(RedirectUri::as_str))
}

pub fn allowed_origin_among<'a>(
    headers: &HeaderMap,
    redirect_uris: impl IntoIterator<Item = &'a str>,
) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    redirect_uris.into_iter().any(|r| origin_of(r) == Some(text)).then(|| origin.clone())
}

/// Lets the page at `origin` read `res`.
pub fn allow(res: &mut Response, origin: Option<HeaderValue>) {
    if let Some(origin) = origin {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// The answer to a CORS preflight of the token endpoints and the API.
pub async fn preflight(headers: HeaderMap) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = headers.get(header::ORIGIN).cloned() {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PATCH"));
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::RedirectUris;

    #[test]
    fn origins_come_from_redirect_uris() {
        assert_eq!(origin_of("https://app.example.com/cb?x"), Some("https://app.example.com"));
        assert_eq!(origin_of("http://127.0.0.1:8080"), Some("http://127.0.0.1:8080"));
        assert_eq!(origin_of("com.example.app:/cb"), None);
        let uris =
            RedirectUris::parse_list(["https://spa.example.com/callback", "com.example.app:/cb"]).unwrap();
        let with = |o: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ORIGIN, HeaderValue::from_static(o));
            allowed_origin(&h, uris.as_slice())
        };
        assert_eq!(
            with("https://spa.example.com"),
            Some(HeaderValue::from_static("https://spa.example.com"))
        );
        assert_eq!(with("https://spa.example.com.evil.example"), None);
        assert_eq!(with("http://spa.example.com"), None);
        assert_eq!(with("null"), None);
        assert_eq!(allowed_origin(&HeaderMap::new(), uris.as_slice()), None);
    }
}
