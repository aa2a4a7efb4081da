//! Token management for clients: `POST /oauth2/revoke` (RFC 7009) and `POST /oauth2/introspect`
//! (RFC 7662). Both need client credentials and only ever touch the client's own tokens.

use axum::{
    Json,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    response::{IntoResponse, Response},
};
use http::{HeaderMap, StatusCode};
use serde_json::json;

use super::{
    cors,
    endpoint::{Credentials, OAuthError, Params, no_store},
};
use crate::{
    auth::token,
    db::{Db, now_unix, oauth::StoredClient},
    startup::AppState,
};

/// The client of a revocation or introspection request: credentials are required (400 when
/// none were sent at all, 401 when they are wrong).
async fn management_client(
    db: &Db,
    headers: &HeaderMap,
    params: &Params,
    now: i64,
) -> Result<StoredClient, OAuthError> {
    let creds = Credentials::presented(headers, params)?
        .ok_or_else(|| OAuthError::invalid_request("client authentication is required"))?;
    creds.authenticate(db, now).await
}

/// `token_type_hint` is only a hint: every token is found by its digest, and an unknown hint
/// value is ignored (RFC 7009 §2.2, RFC 7662 §2.1). Sent twice, it is still a malformed request.
fn token_hint(params: &Params) -> Result<(), OAuthError> {
    params.get("token_type_hint").map(|_| ())
}

/// RFC 7009: revokes the client's own token; unknown tokens and other clients' tokens are
/// answered with 200 and left as they are.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut origin = None;
    let run = async {
        let params = Params::from_form(&headers, body)?;
        let client = management_client(&state.db, &headers, &params, now_unix()).await?;
        origin = cors::allowed_origin(&headers, client.client.spec.redirect_uris.as_slice());
        let token = params.require("token")?;
        token_hint(&params)?;
        state.db.revoke_token(&token::digest(token), client.pk).await?;
        Ok::<_, OAuthError>((StatusCode::OK, no_store()).into_response())
    };
    let mut res = run.await.unwrap_or_else(IntoResponse::into_response);
    cors::allow(&mut res, origin);
    res
}

/// RFC 7662: what the client may know of its own token; anything else is `{"active": false}`.
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let run = async {
        let params = Params::from_form(&headers, body)?;
        let now = now_unix();
        let client = management_client(&state.db, &headers, &params, now).await?;
        let token = params.require("token")?;
        token_hint(&params)?;
        let info = state.db.find_token(&token::digest(token)).await?;
        let body = match info {
            Some(t)
                if t.client_pk == client.pk
                    && t.client_active
                    && !t.rotated
                    && !t.scope.is_empty()
                    && t.expires_at.is_none_or(|e| e > now) =>
            {
                let mut body = json!({
                    "active": true,
                    "scope": t.scope,
                    "client_id": t.client_id,
                    "username": t.username,
                    "sub": t.user_id.to_string(),
                    "token_type": if t.kind == "access" { "Bearer" } else { "refresh_token" },
                    "iat": t.issued_at,
                });
                if let Some(exp) = t.expires_at {
                    body["exp"] = json!(exp);
                }
                body
            }
            _ => json!({ "active": false }),
        };
        Ok::<_, OAuthError>((no_store(), Json(body)).into_response())
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}
