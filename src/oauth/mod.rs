//! The OAuth 2.0 authorization server (RFC 6749, RFC 9700, OAuth 2.1): metadata (RFC 8414), the
//! authorization endpoint with sign-in and consent, the token endpoint (authorization code with
//! PKCE, refresh with rotation), revocation (RFC 7009), introspection (RFC 7662) and the
//! protected API.

pub mod api;
pub mod authorize;
pub mod consent;
pub mod cors;
pub mod endpoint;
pub mod flow;
pub mod grant;
pub mod issue;
pub mod management;
pub mod metadata_document;
pub mod pkce;
pub mod rate;
pub mod register;
pub mod resource;
pub mod token;

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    response::IntoResponse,
    routing::{get, post},
};
use http::{HeaderValue, header};
use serde_json::json;

use crate::{
    config::Issuer,
    domain::settings::{InstanceSettings, RegistrationPolicy},
    state::AppState,
};

/// Largest request body the token endpoints and the API read. Their forms are small, but an
/// oversized value must still get a JSON error: a body cut off at the limit makes the server close
/// the connection before the client has finished sending, which clients see as a broken request.
const BODY_LIMIT: usize = 1024 * 1024;

/// Every route of the authorization server and the protected API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/.well-known/oauth-protected-resource/api/v1", get(api::resource_metadata))
        .route("/oauth2/authorize", get(authorize::authorize).post(authorize::decide))
        .route("/oauth2/token", post(token::token).options(cors::preflight))
        .route("/oauth2/revoke", post(management::revoke).options(cors::preflight))
        .route("/oauth2/introspect", post(management::introspect))
        .route("/oauth2/register", post(register::register))
        .route(
            "/oauth2/register/{client_id}",
            get(register::read).put(register::update).delete(register::delete),
        )
        .route("/api/v1/me", get(api::get_me).patch(api::patch_me).options(cors::preflight))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// RFC 8414 metadata; every endpoint is under the issuer. The registration endpoint is named
/// only while registration is allowed, the client_credentials grant only while some client may
/// use it.
pub fn metadata_document(
    issuer: &Issuer,
    settings: &InstanceSettings,
    client_credentials: bool,
) -> serde_json::Value {
    let at = |path: &str| format!("{}{path}", issuer.as_str());
    let mut doc = json!({
        "issuer": issuer.as_str(),
        "authorization_endpoint": at("/oauth2/authorize"),
        "token_endpoint": at("/oauth2/token"),
        "revocation_endpoint": at("/oauth2/revoke"),
        "introspection_endpoint": at("/oauth2/introspect"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
        "scopes_supported": crate::domain::Scope::ALL.values().collect::<Vec<_>>(),
        "authorization_response_iss_parameter_supported": true,
    });
    if client_credentials {
        doc["grant_types_supported"] = json!(["authorization_code", "refresh_token", "client_credentials"]);
    }
    if settings.registration != RegistrationPolicy::Off {
        doc["registration_endpoint"] = json!(at("/oauth2/register"));
    }
    if settings.client_metadata_documents {
        doc["client_id_metadata_document_supported"] = json!(true);
    }
    doc
}

pub async fn metadata(State(state): State<AppState>) -> axum::response::Response {
    let (settings, client_credentials) =
        match tokio::try_join!(state.db.settings(), state.db.client_credentials_in_use()) {
            Ok(found) => found,
            Err(e) => return endpoint::OAuthError::server_error(&e).into_response(),
        };
    (
        [
            // The policy can change: caches keep it five minutes at most.
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
            // Public information: any page may read it.
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        ],
        Json(metadata_document(&state.issuer, &settings, client_credentials)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_every_endpoint_under_the_issuer() {
        let m = metadata_document(
            &Issuer::parse("https://auth.example.com/").unwrap(),
            &InstanceSettings::default(),
            false,
        );
        assert_eq!(m["issuer"], "https://auth.example.com");
        assert_eq!(m["grant_types_supported"], json!(["authorization_code", "refresh_token"]));
        assert_eq!(m["token_endpoint"], "https://auth.example.com/oauth2/token");
        assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(m["authorization_response_iss_parameter_supported"], true);
        let with = metadata_document(
            &Issuer::parse("https://auth.example.com/").unwrap(),
            &InstanceSettings::default(),
            true,
        );
        assert_eq!(
            with["grant_types_supported"],
            json!(["authorization_code", "refresh_token", "client_credentials"])
        );
    }
}
