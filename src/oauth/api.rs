//! The protected API: `GET /api/v1/me` (scope `read`) and `PATCH /api/v1/me` (scope `write`).
//! A user's token answers for its user; a client's own token (client_credentials) for its client.
//! Bearer tokens in the Authorization header only (RFC 6750 §2.1); errors per RFC 6750 §3. One
//! query per request validates the token, its client, user and the instance switch.

use std::time::Instant;

use axum::{
    Json,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use serde_json::json;

use super::{cors, endpoint::has_media_type};
use crate::{
    auth::token,
    config::Issuer,
    db::{
        DbError, now_unix,
        oauth::{Bearer, Subject},
    },
    domain::{Scope, api::ApiSet},
    state::AppState,
};

/// Longest display name, in characters.
pub const DISPLAY_NAME_MAX: usize = 100;

#[derive(Debug)]
enum ApiError {
    /// No token at all: a challenge without an error code (RFC 6750 §3.1).
    NoToken,
    InvalidRequest(&'static str),
    InvalidToken(&'static str),
    InsufficientScope(Scope),
    RateLimited(u64),
    Disabled,
    BadInput(String),
    Internal,
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "API request failed");
        ApiError::Internal
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, challenge, body) = match self {
            ApiError::NoToken => (
                StatusCode::UNAUTHORIZED,
                Some("Bearer realm=\"clavis\"".to_string()),
                json!({"error": "invalid_token", "error_description": "an access token is required in the Authorization header"}),
            ),
            ApiError::InvalidRequest(d) => (
                StatusCode::BAD_REQUEST,
                Some(format!(
                    "Bearer realm=\"clavis\", error=\"invalid_request\", error_description=\"{d}\""
                )),
                json!({"error": "invalid_request", "error_description": d}),
            ),
            ApiError::InvalidToken(d) => (
                StatusCode::UNAUTHORIZED,
                Some(format!("Bearer realm=\"clavis\", error=\"invalid_token\", error_description=\"{d}\"")),
                json!({"error": "invalid_token", "error_description": d}),
            ),
            ApiError::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                Some(format!("Bearer realm=\"clavis\", error=\"insufficient_scope\", scope=\"{scope}\"")),
                json!({"error": "insufficient_scope", "error_description": format!("this request needs scope {scope}")}),
            ),
            ApiError::RateLimited(secs) => {
                let mut res = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({"error": "rate_limited", "error_description": format!("this client's rate limit is reached; retry in {secs} s")})),
                )
                    .into_response();
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return res;
            }
            ApiError::Disabled => (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                json!({"error": "temporarily_unavailable", "error_description": "API access is turned off on this server"}),
            ),
            ApiError::BadInput(d) => {
                (StatusCode::BAD_REQUEST, None, json!({"error": "invalid_request", "error_description": d}))
            }
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                json!({"error": "server_error", "error_description": "the server could not complete the request"}),
            ),
        };
        let mut res = (status, Json(body)).into_response();
        if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        res
    }
}

/// The caller behind the request's bearer token, with `scope` checked and the rate counted.
/// Once the token is known, `origin` says whether its client's pages may read the answer.
async fn caller(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    scope: Scope,
    origin: &mut Option<HeaderValue>,
) -> Result<Bearer, ApiError> {
    // Tokens in URLs leak into logs and histories (RFC 6750 §2.3, OAuth 2.1 §5.2).
    let in_query = uri.query().is_some_and(|q| {
        q.split('&').any(|pair| pair.split('=').next().is_some_and(|k| k == "access_token"))
    });
    if in_query {
        return Err(ApiError::InvalidRequest(
            "send the access token in the Authorization header, not the URL",
        ));
    }
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::NoToken);
    };
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    if values.next().is_some() && values.next().is_some() {
        return Err(ApiError::InvalidRequest("send one Authorization header"));
    }
    let raw = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty() && t.len() <= 512)
        .ok_or(ApiError::InvalidToken("the Authorization header must be: Bearer <token>"))?;
    let bearer = state
        .db
        .find_bearer(&token::digest(raw))
        .await?
        .ok_or(ApiError::InvalidToken("the access token is invalid"))?;
    if headers.contains_key(header::ORIGIN) {
        let uris: Vec<String> = serde_json::from_str(&bearer.redirect_uris).unwrap_or_default();
        *origin = cors::allowed_origin_among(headers, uris.iter().map(String::as_str));
    }
    if !bearer.api_enabled {
        return Err(ApiError::Disabled);
    }
    if !bearer.client_active {
        return Err(ApiError::InvalidToken("the client is deactivated"));
    }
    // Audience-bound tokens (RFC 8707): a token for another API is not one for this API.
    if !bearer.audience.contains(ApiSet::BUILTIN) {
        return Err(ApiError::InvalidToken("the access token is not for this API"));
    }
    if bearer.expires_at.is_some_and(|e| e <= now_unix()) {
        return Err(ApiError::InvalidToken("the access token expired"));
    }
    if let Some(limit) = bearer.rate_limit {
        let per_minute = u64::try_from(limit).unwrap_or(u64::MAX);
        if let Err(wait) = state.api_rate.check(bearer.client_pk, per_minute, Instant::now()) {
            crate::metrics::Metrics::count(&state.metrics.rate_limited);
            return Err(ApiError::RateLimited(wait.as_secs().max(1)));
        }
    }
    if !bearer.scope.contains(scope) {
        return Err(ApiError::InsufficientScope(scope));
    }
    Ok(bearer)
}

/// Who the token acts for: a user (`username`, `display_name`), or for a client's own token
/// (client_credentials) the client (`client_id`, `client_name`).
fn me(subject: &Subject) -> Response {
    let body = match subject {
        Subject::User { username, display_name, .. } => {
            json!({ "username": username, "display_name": display_name })
        }
        Subject::Client { client_id, name } => json!({ "client_id": client_id, "client_name": name }),
    };
    let mut res = Json(body).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Where this API's protected resource metadata is (RFC 9728 §3.1).
pub fn resource_metadata_url(issuer: &Issuer) -> String {
    format!("{}/.well-known/oauth-protected-resource/api/v1", issuer.as_str())
}

/// RFC 9728 §2 for the built-in API.
pub fn resource_metadata_document(issuer: &Issuer) -> serde_json::Value {
    json!({
        "resource": issuer.builtin_api().as_str(),
        "authorization_servers": [issuer.as_str()],
        "scopes_supported": Scope::ALL.values().collect::<Vec<_>>(),
        "bearer_methods_supported": ["header"],
        "resource_name": "Clavis API",
    })
}

pub async fn resource_metadata(State(issuer): State<std::sync::Arc<Issuer>>) -> Response {
    (
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        ],
        Json(resource_metadata_document(&issuer)),
    )
        .into_response()
}

/// Every challenge of this API points at its metadata (RFC 9728 §5.1), so a client that gets a
/// 401 or 403 can find out where to get a token.
fn with_resource_metadata(mut res: Response, issuer: &Issuer) -> Response {
    let challenge = res.headers().get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok());
    if let Some(c) = challenge {
        let extended = format!("{c}, resource_metadata=\"{}\"", resource_metadata_url(issuer));
        if let Ok(v) = HeaderValue::from_str(&extended) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    res
}

pub async fn get_me(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let mut origin = None;
    let mut res = match caller(&state, &uri, &headers, Scope::READ, &mut origin).await {
        Ok(b) => me(&b.subject),
        Err(e) => with_resource_metadata(e.into_response(), &state.issuer),
    };
    cors::allow(&mut res, origin);
    res
}

pub async fn patch_me(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut origin = None;
    let run = async {
        let bearer = caller(&state, &uri, &headers, Scope::WRITE, &mut origin).await?;
        let Subject::User { id, username, .. } = bearer.subject else {
            return Err(ApiError::BadInput(
                "this token acts as its client, not a user: there is no display name to change".into(),
            ));
        };
        let display_name = parse_patch(&headers, body)?;
        state.db.set_display_name(id, &display_name).await?;
        Ok::<_, ApiError>(me(&Subject::User { id, username, display_name }))
    };
    let mut res = run.await.unwrap_or_else(|e| with_resource_metadata(e.into_response(), &state.issuer));
    cors::allow(&mut res, origin);
    res
}

/// `{"display_name": "..."}`: at most 100 characters, no control characters; trimmed.
fn parse_patch(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<String, ApiError> {
    if !has_media_type(headers, "application/json") {
        return Err(ApiError::BadInput("the request body must be application/json".into()));
    }
    let body = body.map_err(|e| ApiError::BadInput(format!("unreadable request body: {e}")))?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::BadInput("the request body is not valid JSON".into()))?;
    let Some(object) = value.as_object() else {
        return Err(ApiError::BadInput("the request body must be a JSON object".into()));
    };
    if let Some(other) = object.keys().find(|k| *k != "display_name") {
        let other: String = other.chars().take(40).collect();
        return Err(ApiError::BadInput(format!("{other} cannot be changed; only display_name can")));
    }
    let Some(raw) = object.get("display_name") else {
        return Err(ApiError::BadInput("display_name is required".into()));
    };
    let Some(raw) = raw.as_str() else {
        return Err(ApiError::BadInput("display_name must be a string".into()));
    };
    display_name(raw).map_err(|e| ApiError::BadInput(format!("display_name {e}")))
}

/// A display name as stored: trimmed, at most [`DISPLAY_NAME_MAX`] characters, no control
/// characters. The error says what is wrong, for the caller to name the field.
pub fn display_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if name.chars().count() > DISPLAY_NAME_MAX {
        return Err(format!("must be at most {DISPLAY_NAME_MAX} characters"));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(body: &str) -> Result<String, String> {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        parse_patch(&h, Ok(Bytes::from(body.to_string()))).map_err(|e| match e {
            ApiError::BadInput(d) => d,
            other => format!("{other:?}"),
        })
    }

    #[test]
    fn display_name_patches() {
        assert_eq!(patch(r#"{"display_name": "  Ada L. "}"#).unwrap(), "Ada L.");
        assert_eq!(patch(r#"{"display_name": ""}"#).unwrap(), "");
        assert!(patch(r#"{"display_name": 5}"#).unwrap_err().contains("must be a string"));
        assert!(patch(r#"{}"#).unwrap_err().contains("display_name is required"));
        assert!(patch(r#"{"username": "x"}"#).unwrap_err().contains("username cannot be changed"));
        assert!(patch(r#"{"display_name": "a\u0007b"}"#).unwrap_err().contains("control"));
        assert!(patch(&format!(r#"{{"display_name": "{}"}}"#, "x".repeat(101))).unwrap_err().contains("100"));
        assert!(patch("[1]").unwrap_err().contains("JSON object"));
        assert!(patch("{").unwrap_err().contains("not valid JSON"));
        let err = parse_patch(&HeaderMap::new(), Ok(Bytes::new())).unwrap_err();
        assert!(matches!(err, ApiError::BadInput(d) if d.contains("application/json")));
    }
}
