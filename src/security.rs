//! Security headers on every response. HTML pages get a nonce-based Content-Security-Policy from
//! the shell ([`page_csp`]); everything else gets a deny-all policy.

use axum::{extract::Request, middleware::Next, response::Response};
use http::{HeaderName, HeaderValue, header};

const DENY_ALL_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Browsers keep to https for this host for a year once they have seen it over https (RFC 6797).
/// Not `includeSubDomains`: other hosts of the operator's domain are not Clavis's to decide.
const HSTS: &str = "max-age=31536000";

/// `https`: the issuer is an https URL (behind a TLS proxy), so Strict-Transport-Security is sent.
pub async fn security_headers(https: bool, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    let defaults: [(HeaderName, &'static str); 4] = [
        (header::CONTENT_SECURITY_POLICY, DENY_ALL_CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    // Pages carry a session's CSRF tokens and data: never stored by a browser or a proxy.
    if is_html(h) && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Whether a response is a page (HTML).
pub fn is_html(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// The policy of a rendered page: scripts only from this origin or carrying this response's
/// nonce (the hydration and streaming scripts do), WASM allowed, never framed (clickjacking).
///
/// `forms_stay_here`: `form-action 'self'`. The sign-in page goes without it: after signing in
/// for an authorization request the browser is redirected on to the client's redirect URI, and
/// browsers apply `form-action` to every redirect that follows a form submission.
pub fn page_csp(nonce: Option<&str>, forms_stay_here: bool) -> String {
    let script = match nonce {
        Some(n) => format!("'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_string(),
    };
    let form_action = if forms_stay_here { " form-action 'self';" } else { "" };
    format!(
        "default-src 'self'; script-src {script}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self';{form_action} frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

/// Called by the shell while rendering: puts the page policy on the response.
pub fn apply_page_csp() {
    use leptos::prelude::use_context;
    let nonce = leptos::nonce::use_nonce();
    let sign_in = use_context::<http::request::Parts>().is_some_and(|p| p.uri.path() == "/login");
    let policy = HeaderValue::from_str(&page_csp(nonce.as_deref(), !sign_in));
    if let (Some(res), Ok(v)) = (use_context::<leptos_axum::ResponseOptions>(), policy) {
        res.insert_header(header::CONTENT_SECURITY_POLICY, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_policy_denies_framing_and_inline_scripts() {
        let p = page_csp(Some("abc"), true);
        assert!(p.contains("frame-ancestors 'none'"));
        assert!(p.contains("form-action 'self';"));
        assert!(!page_csp(None, false).contains("form-action"));
        assert!(p.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(!p.contains("unsafe-inline"));
    }
}
