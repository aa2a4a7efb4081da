//! Pure decisions of the authorization endpoint (RFC 6749 §4.1.1 and §4.1.2.1, RFC 7636, RFC 8252
//! §7.3, OAuth 2.1 §4.1). The handler reads the query, loads the client named by [`client_id`],
//! and acts on the [`Outcome`] of [`decide`]; nothing here does I/O.

use super::pkce;
use crate::domain::{
    Scope, ScopeError,
    api::ApiIdentifier,
    client::{Client, ClientId, Pkce, RedirectUri},
};

/// The client or the redirect URI cannot be trusted, so the answer is an error page on this
/// server and never a redirect (RFC 6749 §4.1.2.1, RFC 9700 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPage {
    MissingClientId,
    RepeatedClientId,
    UnknownClient,
    InactiveClient,
    MissingRedirectUri,
    RepeatedRedirectUri,
    UnregisteredRedirectUri,
}

impl ErrorPage {
    pub fn message(self) -> &'static str {
        match self {
            ErrorPage::MissingClientId => "The request names no application (client_id is missing).",
            ErrorPage::RepeatedClientId => "The request names the application more than once (client_id).",
            ErrorPage::UnknownClient => "The application is not registered here.",
            ErrorPage::InactiveClient => "The application is deactivated.",
            ErrorPage::MissingRedirectUri => {
                "The request does not say where to return (redirect_uri is missing, and the application has several)."
            }
            ErrorPage::RepeatedRedirectUri => {
                "The request names more than one place to return (redirect_uri)."
            }
            ErrorPage::UnregisteredRedirectUri => {
                "The return address (redirect_uri) is not registered for this application."
            }
        }
    }
}

/// Error codes sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizeError {
    InvalidRequest,
    UnsupportedResponseType,
    InvalidScope,
    InvalidTarget,
    AccessDenied,
}

impl AuthorizeError {
    pub fn code(self) -> &'static str {
        match self {
            AuthorizeError::InvalidRequest => "invalid_request",
            AuthorizeError::UnsupportedResponseType => "unsupported_response_type",
            AuthorizeError::InvalidScope => "invalid_scope",
            AuthorizeError::InvalidTarget => "invalid_target",
            AuthorizeError::AccessDenied => "access_denied",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub error: AuthorizeError,
    pub description: String,
    pub state: Option<String>,
}

/// A request that may go on to sign-in and consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: ClientId,
    /// As sent, or the client's only registered one when left out (RFC 6749 §3.1.2.3).
    pub redirect_uri: String,
    /// Whether the request named it: then the token request must repeat it exactly (§4.1.3).
    pub redirect_uri_sent: bool,
    /// The scope granted if the user allows.
    pub scope: Scope,
    pub state: Option<String>,
    /// The S256 challenge, when PKCE is used.
    pub code_challenge: Option<String>,
    /// The `resource` values (RFC 8707), each a well-formed identifier, none repeated; empty:
    /// the client's default. Which APIs they name is for the handler to look up.
    pub resources: Vec<ApiIdentifier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    ErrorPage(ErrorPage),
    Redirect(ErrorRedirect),
    Proceed(AuthorizeRequest),
}

enum Count<'a> {
    Zero,
    One(&'a str),
    Many,
}

/// How often `name` was sent. Empty values count as omitted (RFC 6749 §3.1).
fn single<'a>(params: &'a [(String, String)], name: &str) -> Count<'a> {
    let mut values = params.iter().filter(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str());
    match (values.next(), values.next()) {
        (None, _) => Count::Zero,
        (Some(v), None) => Count::One(v),
        (Some(_), Some(_)) => Count::Many,
    }
}

/// Step one, before any lookup: the client named exactly once.
pub fn client_id(params: &[(String, String)]) -> Result<ClientId, ErrorPage> {
    match single(params, "client_id") {
        Count::Zero => Err(ErrorPage::MissingClientId),
        Count::Many => Err(ErrorPage::RepeatedClientId),
        // A malformed id names no registered client.
        Count::One(v) => ClientId::parse(v).map_err(|_| ErrorPage::UnknownClient),
    }
}

/// Step two, with the stored client (`None`: not registered).
pub fn decide(params: &[(String, String)], client: Option<&Client>) -> Outcome {
    let client = match client {
        None => return Outcome::ErrorPage(ErrorPage::UnknownClient),
        Some(c) if !c.active => return Outcome::ErrorPage(ErrorPage::InactiveClient),
        Some(c) => c,
    };
    let (redirect_uri, redirect_uri_sent) = match single(params, "redirect_uri") {
        Count::Zero => match client.spec.redirect_uris.as_slice() {
            [only] => (only.as_str(), false),
            _ => return Outcome::ErrorPage(ErrorPage::MissingRedirectUri),
        },
        Count::Many => return Outcome::ErrorPage(ErrorPage::RepeatedRedirectUri),
        Count::One(uri) if !redirect_matches(client.spec.redirect_uris.as_slice(), uri) => {
            return Outcome::ErrorPage(ErrorPage::UnregisteredRedirectUri);
        }
        Count::One(uri) => (uri, true),
    };
    // From here on the redirect URI is trusted: errors go back to it.
    let fail = |error, description: String, state: Option<&str>| {
        Outcome::Redirect(ErrorRedirect {
            redirect_uri: redirect_uri.to_string(),
            error,
            description,
            state: state.map(str::to_string),
        })
    };
    let state = match single(params, "state") {
        Count::Many => {
            return fail(AuthorizeError::InvalidRequest, "state was sent more than once".into(), None);
        }
        Count::One(s) => Some(s),
        Count::Zero => None,
    };
    if let Some(name) = repeated(params) {
        return fail(AuthorizeError::InvalidRequest, format!("{name} was sent more than once"), state);
    }
    match single(params, "response_type") {
        Count::One("code") => {}
        Count::One(_) => {
            return fail(
                AuthorizeError::UnsupportedResponseType,
                "only response_type=code is supported".into(),
                state,
            );
        }
        _ => return fail(AuthorizeError::InvalidRequest, "response_type is required".into(), state),
    }
    let scope = match scopes(params, client) {
        Ok(s) => s,
        Err(description) => return fail(AuthorizeError::InvalidScope, description, state),
    };
    let code_challenge = match challenge(params, client) {
        Ok(c) => c,
        Err(description) => return fail(AuthorizeError::InvalidRequest, description.into(), state),
    };
    let resources = match resources(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(r) => r,
        Err(description) => return fail(AuthorizeError::InvalidTarget, description, state),
    };
    Outcome::Proceed(AuthorizeRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_string(),
        redirect_uri_sent,
        scope,
        state: state.map(str::to_string),
        code_challenge,
        resources,
    })
}

/// Longest list of `resource` values one request may name.
pub const MAX_RESOURCES: usize = 10;

/// The `resource` parameters (RFC 8707 §2), which may be repeated: each must be an absolute URI
/// without fragment; a value sent twice counts once. Shared with the token endpoint.
pub fn resources<'a>(params: impl Iterator<Item = (&'a str, &'a str)>) -> Result<Vec<ApiIdentifier>, String> {
    let mut out: Vec<ApiIdentifier> = Vec::new();
    for (_, raw) in params.filter(|(k, v)| *k == "resource" && !v.is_empty()) {
        let id = ApiIdentifier::parse(raw).map_err(|e| {
            let shown: String = raw.chars().take(80).collect();
            format!("resource {shown} {e}")
        })?;
        if !out.contains(&id) {
            if out.len() == MAX_RESOURCES {
                return Err(format!("at most {MAX_RESOURCES} resource values may be sent"));
            }
            out.push(id);
        }
    }
    Ok(out)
}

/// The first parameter sent more than once (RFC 6749 §3.1), empty values aside.
/// `resource` may be repeated (RFC 8707 §2).
fn repeated(params: &[(String, String)]) -> Option<&str> {
    let sent = || params.iter().filter(|(k, v)| !v.is_empty() && k != "resource");
    sent()
        .enumerate()
        .find(|(i, (k, _))| sent().skip(i + 1).any(|(k2, _)| k2 == k))
        .map(|(_, (k, _))| k.as_str())
}

/// Exact string match, except that a loopback IP literal matches on any port (RFC 8252 §7.3).
pub fn redirect_matches(registered: &[RedirectUri], requested: &str) -> bool {
    registered.iter().any(|r| {
        r.as_str() == requested
            || (r.is_loopback_ip_literal()
                && without_port(r.as_str()).is_some_and(|a| without_port(requested) == Some(a)))
    })
}

/// `http://127.0.0.1:1234/cb` -> `http://127.0.0.1/cb` (and the same for `[::1]`); `None` for
/// anything else.
fn without_port(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("http://")?;
    let host = ["127.0.0.1", "[::1]"].into_iter().find(|h| rest.starts_with(h))?;
    let mut after = &rest[host.len()..];
    if let Some(port) = after.strip_prefix(':') {
        let digits = port.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        after = &port[digits..];
    }
    if !(after.is_empty() || after.starts_with('/') || after.starts_with('?')) {
        return None;
    }
    Some(format!("http://{host}{after}"))
}

/// Omitted: everything the client may have. Otherwise each value must be known and allowed for
/// this client (RFC 6749 §3.3).
fn scopes(params: &[(String, String)], client: &Client) -> Result<Scope, String> {
    let allowed = client.spec.scope.scopes();
    let Count::One(raw) = single(params, "scope") else {
        return Ok(allowed);
    };
    let asked = Scope::parse(raw).map_err(|e| e.to_string())?;
    allowed.narrow(asked).map_err(|e| match e {
        ScopeError::NotGranted(beyond) => format!("this client may not ask for scope {beyond}"),
        other => other.to_string(),
    })
}

/// PKCE: S256 only; required when the client requires it (always for public clients).
fn challenge(params: &[(String, String)], client: &Client) -> Result<Option<String>, &'static str> {
    let required = client.spec.auth.pkce() == Pkce::Required;
    match (single(params, "code_challenge"), single(params, "code_challenge_method")) {
        (Count::Many, _) | (_, Count::Many) => Err("PKCE parameters were sent more than once"),
        (Count::Zero, Count::Zero) if required => Err("code_challenge is required (PKCE with S256)"),
        (Count::Zero, Count::Zero) => Ok(None),
        (Count::Zero, _) => Err("code_challenge_method was sent without code_challenge"),
        (Count::One(_), Count::One(m)) if m != "S256" => Err("code_challenge_method must be S256"),
        (Count::One(_), Count::Zero) => Err("code_challenge_method must be S256 (plain is not supported)"),
        (Count::One(c), _) if !pkce::is_valid_s256_challenge(c) => Err("code_challenge is malformed"),
        (Count::One(c), _) => Ok(Some(c.to_string())),
    }
}

/// `base` with `params` added to its query (RFC 6749 §4.1.2: keep the existing query).
pub fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut url = base.to_string();
    let mut sep = if base.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.push_str(&crate::domain::client::percent_encode(v));
        sep = '&';
    }
    url
}

#[cfg(test)]
mod tests;
