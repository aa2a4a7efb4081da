//! Dynamic client registration: `POST /oauth2/register` (RFC 7591) and the client configuration
//! endpoint `GET|PUT|DELETE /oauth2/register/{client_id}` (RFC 7592). Whether anyone may register
//! is the administrator's policy (`clavis settings set --registration off|open|token`); a
//! registration is rate-limited per address and the number of self-registered clients is capped.

use std::{net::SocketAddr, time::Instant};

use axum::{
    Json,
    body::Bytes,
    extract::{ConnectInfo, Path, State, rejection::BytesRejection},
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use super::endpoint::{has_media_type, no_store};
use crate::{
    auth::token,
    db::{DbError, now_unix},
    domain::{
        audit::Actor,
        registration::{self, RegistrationError, SERVER_FIELDS, metadata_json},
        settings::RegistrationPolicy,
    },
    registry::{
        RegistryError,
        registration::{Registered, RegistrationFailure, authorize, register as register_client, replace},
    },
    state::AppState,
};

/// An error answer: `{"error", "error_description"}`, never cached.
fn error(status: StatusCode, code: &str, description: impl Into<String>) -> Response {
    let body = json!({ "error": code, "error_description": description.into() });
    let mut res = (status, no_store(), Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        let challenge = format!("Bearer error=\"{code}\"");
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    res
}

fn invalid(e: RegistrationError) -> Response {
    error(StatusCode::BAD_REQUEST, e.code, e.description)
}

fn internal(e: &DbError) -> Response {
    tracing::error!(error = %e, "client registration failed");
    error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the server could not complete the request")
}

/// The bearer token of the request (initial access token or registration access token).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 512).then_some(token)
}

/// A JSON body.
fn json_body(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Value, RegistrationError> {
    let refuse = |description: String| RegistrationError { code: "invalid_client_metadata", description };
    if !has_media_type(headers, "application/json") {
        return Err(refuse("the request body must be application/json".into()));
    }
    let body = body.map_err(|e| refuse(format!("unreadable request body: {e}")))?;
    serde_json::from_slice(&body).map_err(|_| refuse("the request body is not valid JSON".into()))
}

/// The client information response (RFC 7591 §3.2.1, RFC 7592 §3): what was stored, the
/// configuration endpoint, and the secrets issued now.
fn information(state: &AppState, r: &Registered) -> Value {
    let mut out = metadata_json(&r.form, &r.metadata);
    let id = r.client.client_id.as_str();
    out.insert("client_id".into(), json!(id));
    out.insert("client_id_issued_at".into(), json!(r.client.created_at));
    if r.client.secret.is_some() {
        // Client secrets do not expire (RFC 7591 §3.2.1: 0).
        out.insert("client_secret_expires_at".into(), json!(0));
    }
    if let Some(s) = &r.secret {
        out.insert("client_secret".into(), json!(s.expose()));
    }
    if let Some(t) = &r.registration_token {
        out.insert("registration_access_token".into(), json!(t.expose()));
    }
    out.insert(
        "registration_client_uri".into(),
        json!(format!("{}/oauth2/register/{id}", state.issuer.as_str())),
    );
    Value::Object(out)
}

pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let settings = match state.db.settings().await {
        Ok(s) => s,
        Err(e) => return internal(&e),
    };
    if settings.registration == RegistrationPolicy::Off {
        return error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "client registration is turned off on this server",
        );
    }
    let address = state.trusted_proxies.client_ip(peer.ip(), &headers);
    if let Err(wait) = state.registrations.reserve(&address.to_string(), Instant::now()) {
        crate::metrics::Metrics::count(&state.metrics.rate_limited);
        let mut res = error(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "too many registrations from this address; try again later",
        );
        if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    let initial = bearer(&headers);
    if settings.registration == RegistrationPolicy::Token && initial.is_none() {
        return error(StatusCode::UNAUTHORIZED, "invalid_token", "an initial access token is required");
    }
    let body = match json_body(&headers, body) {
        Ok(b) => b,
        Err(e) => return invalid(e),
    };
    let registration = match registration::parse(&body) {
        Ok(r) => r,
        Err(e) => return invalid(e),
    };
    if let (RegistrationPolicy::Token, Some(t)) = (settings.registration, initial) {
        match state.db.use_registration_token(&token::digest(t), now_unix()).await {
            Ok(true) => {}
            Ok(false) => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the initial access token is invalid, expired or used up",
                );
            }
            Err(e) => return internal(&e),
        }
    }
    let db = state.db.by(Actor::client_registration(Some(address.to_string())));
    match register_client(&db, &registration, &settings, state.issuer.builtin_api()).await {
        Ok(r) => {
            tracing::info!(client_id = r.client.client_id.as_str(), name = r.form.name, %address, "a client registered itself");
            (StatusCode::CREATED, no_store(), Json(information(&state, &r))).into_response()
        }
        Err(RegistrationFailure::Full) => {
            error(StatusCode::FORBIDDEN, "access_denied", RegistrationFailure::Full.to_string())
        }
        Err(RegistrationFailure::Registry(e)) => registry_error(e),
    }
}

/// A client managing its own registration, as the audit log names it.
fn registrant(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Actor {
    Actor::client_registration(Some(state.trusted_proxies.client_ip(peer.ip(), headers).to_string()))
}

fn registry_error(e: RegistryError) -> Response {
    match e {
        RegistryError::Invalid(errors) => match errors.first() {
            Some((crate::domain::client::Field::RedirectUris, m)) => {
                error(StatusCode::BAD_REQUEST, "invalid_redirect_uri", m)
            }
            _ => error(StatusCode::BAD_REQUEST, "invalid_client_metadata", errors.to_string()),
        },
        // RFC 7592 §2: an unknown client or a wrong token: 401, nothing told.
        RegistryError::NotFound | RegistryError::NoSecret => {
            error(StatusCode::UNAUTHORIZED, "invalid_token", "the registration access token is invalid")
        }
        RegistryError::Db(e) => internal(&e),
    }
}

/// The registration the request's registration access token opens.
async fn managed(state: &AppState, client_id: &str, headers: &HeaderMap) -> Result<Registered, Response> {
    let Some(t) = bearer(headers) else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "a registration access token is required",
        ));
    };
    authorize(&state.db, client_id, t, state.issuer.builtin_api()).await.map_err(registry_error)
}

pub async fn read(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match managed(&state, &client_id, &headers).await {
        Ok(r) => (no_store(), Json(information(&state, &r))).into_response(),
        Err(res) => res,
    }
}

pub async fn update(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let current = match managed(&state, &client_id, &headers).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let body = match json_body(&headers, body) {
        Ok(b) => b,
        Err(e) => return invalid(e),
    };
    // RFC 7592 §2.2: the body names the client, and never what the server sets.
    if body.get("client_id").and_then(Value::as_str) != Some(current.client.client_id.as_str()) {
        return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", "client_id must be this client's");
    }
    if let Some(field) = SERVER_FIELDS.iter().find(|f| body.get(**f).is_some()) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            format!("{field} must not be sent"),
        );
    }
    if let Some(secret) = body.get("client_secret") {
        let matches = match (secret.as_str(), state.db.find_stored_client(&client_id).await) {
            (Some(s), Ok(Some(c))) => c
                .secret_digest
                .as_deref()
                .is_some_and(|d| token::constant_time_eq_bytes(d, &token::digest(s))),
            (_, Err(e)) => return internal(&e),
            _ => false,
        };
        if !matches {
            return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", "client_secret does not match");
        }
    }
    let registration = match registration::parse(&body) {
        Ok(r) => r,
        Err(e) => return invalid(e),
    };
    let db = state.db.by(registrant(&state, peer, &headers));
    match replace(&db, &current, &registration, state.issuer.builtin_api()).await {
        Ok(r) => {
            tracing::info!(client_id = r.client.client_id.as_str(), "a client updated its registration");
            (no_store(), Json(information(&state, &r))).into_response()
        }
        Err(e) => registry_error(e),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let current = match managed(&state, &client_id, &headers).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let db = state.db.by(registrant(&state, peer, &headers));
    match crate::registry::delete(&db, &current.client.client_id).await {
        Ok(()) => {
            tracing::info!(
                client_id = current.client.client_id.as_str(),
                "a client deleted its registration"
            );
            (StatusCode::NO_CONTENT, no_store()).into_response()
        }
        Err(e) => registry_error(e),
    }
}
