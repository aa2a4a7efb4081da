//! `POST /oauth2/token` (RFC 6749 §3.2, §4.1.3, §6), `POST /oauth2/revoke` (RFC 7009) and
//! `POST /oauth2/introspect` (RFC 7662). Each request: one client lookup (with the instance
//! settings), then one transaction or one query on token digests.

use axum::{
    Json,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    response::{IntoResponse, Response},
};
use http::{HeaderMap, StatusCode};
use serde_json::json;

use super::{
    endpoint::{Credentials, OAuthError, Params, no_store},
    issue::{Lifetimes, mint, narrowed_scope},
    pkce,
};
use crate::{
    auth::token,
    db::{
        Db, now_unix,
        oauth::{Redeemed, Refreshed, StoredClient},
    },
    domain::client::AuthMethod,
    startup::AppState,
};

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match token_response(&state.db, &headers, body).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn token_response(
    db: &Db,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let params = Params::from_form(headers, body)?;
    let now = now_unix();
    let creds = Credentials::presented(headers, &params)?
        .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
    let grant_type = params.require("grant_type")?;
    let client = creds.authenticate(db, now).await?;
    if !client.settings.api_enabled {
        return Err(OAuthError::api_disabled());
    }
    let minted = match grant_type {
        "authorization_code" => authorization_code(db, &client, &params, now).await?,
        "refresh_token" => refresh_token(db, &client, &params, now).await?,
        _ => {
            return Err(OAuthError::unsupported_grant_type(
                "grant_type must be authorization_code or refresh_token",
            ));
        }
    };
    Ok((no_store(), Json(minted)).into_response())
}

async fn authorization_code(
    db: &Db,
    client: &StoredClient,
    params: &Params,
    now: i64,
) -> Result<super::issue::TokenResponse, OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.get("redirect_uri")?;
    let verifier = params.get("code_verifier")?;
    let public = client.client.spec.auth.method() == AuthMethod::None;
    let lifetimes = Lifetimes::of(&client.client, &client.settings);
    let mut response = None;
    let outcome = db
        .redeem_code(
            &token::digest(code),
            client.pk,
            now,
            client.settings.session_cap.get(),
            |c| {
                match redirect_uri {
                    None => return Err("redirect_uri is required"),
                    Some(r) if r != c.redirect_uri => {
                        return Err("redirect_uri differs from the one in the authorization request");
                    }
                    Some(_) => {}
                }
                match (c.code_challenge.as_deref(), verifier) {
                    (Some(challenge), Some(v)) if pkce::verify_s256(v, challenge) => Ok(()),
                    (Some(_), Some(_)) => Err("code_verifier does not match the code_challenge"),
                    (Some(_), None) => Err("code_verifier is required"),
                    (None, Some(_)) => Err("code_verifier was sent but the authorization used no PKCE"),
                    (None, None) if public => Err("public clients must use PKCE"),
                    (None, None) => Ok(()),
                }
            },
            |c| {
                let minted = mint(now, lifetimes, &c.scope, &c.scope, lifetimes.refresh_token_after(0));
                response = Some(minted.response);
                minted.issue
            },
        )
        .await?;
    match outcome {
        Redeemed::Issued => response.ok_or_else(|| OAuthError::invalid_grant("no token was issued")),
        Redeemed::NotFound => Err(OAuthError::invalid_grant("the code is invalid or expired")),
        Redeemed::Replayed => {
            Err(OAuthError::invalid_grant("the code was already used; the tokens issued from it are revoked"))
        }
        Redeemed::Refused(reason) => Err(OAuthError::invalid_grant(reason)),
    }
}

enum RefreshRefusal {
    Scope(String),
    Limit,
}

async fn refresh_token(
    db: &Db,
    client: &StoredClient,
    params: &Params,
    now: i64,
) -> Result<super::issue::TokenResponse, OAuthError> {
    let refresh = params.require("refresh_token")?;
    let requested = params.get("scope")?;
    let lifetimes = Lifetimes::of(&client.client, &client.settings);
    let mut response = None;
    let outcome = db
        .refresh(
            &token::digest(refresh),
            client.pk,
            now,
            |g| {
                if lifetimes.refresh_limit.is_some_and(|limit| g.refresh_count > limit) {
                    return Err(RefreshRefusal::Limit);
                }
                narrowed_scope(&g.scope, requested).map(drop).map_err(RefreshRefusal::Scope)
            },
            |g| {
                // `check` accepted the requested scope.
                let access_scope = narrowed_scope(&g.scope, requested).unwrap_or_else(|_| g.scope.clone());
                let minted = mint(
                    now,
                    lifetimes,
                    &access_scope,
                    &g.scope,
                    lifetimes.refresh_token_after(g.refresh_count),
                );
                response = Some(minted.response);
                minted.issue
            },
        )
        .await?;
    match outcome {
        Refreshed::Issued => response.ok_or_else(|| OAuthError::invalid_grant("no token was issued")),
        Refreshed::NotFound => Err(OAuthError::invalid_grant("the refresh token is invalid or expired")),
        Refreshed::Reused => {
            Err(OAuthError::invalid_grant("the refresh token was already used; its session is revoked"))
        }
        Refreshed::Refused(RefreshRefusal::Limit) => {
            Err(OAuthError::invalid_grant("the session reached its refresh limit"))
        }
        Refreshed::Refused(RefreshRefusal::Scope(why)) => Err(OAuthError::invalid_scope(why)),
    }
}

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

fn token_hint(params: &Params) -> Result<(), OAuthError> {
    match params.get("token_type_hint")? {
        None | Some("access_token" | "refresh_token") => Ok(()),
        Some(_) => {
            Err(OAuthError::unsupported_token_type("token_type_hint must be access_token or refresh_token"))
        }
    }
}

/// RFC 7009: revokes the client's own token; unknown tokens and other clients' tokens are
/// answered with 200 and left as they are.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let run = async {
        let params = Params::from_form(&headers, body)?;
        let client = management_client(&state.db, &headers, &params, now_unix()).await?;
        let token = params.require("token")?;
        token_hint(&params)?;
        state.db.revoke_token(&token::digest(token), client.pk).await?;
        Ok::<_, OAuthError>((StatusCode::OK, no_store()).into_response())
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
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
