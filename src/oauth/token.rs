//! `POST /oauth2/token` (RFC 6749 §3.2): client authentication, the instance switch, then the
//! grant (authorization code, refresh token, client credentials) ([`super::grant`]). Each request costs one client lookup (with the instance settings)
//! and one transaction.

use axum::{
    Json,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    response::{IntoResponse, Response},
};
use http::HeaderMap;

use super::{
    cors,
    endpoint::{Credentials, OAuthError, Params, no_store},
    grant,
};
use crate::{db::now_unix, metrics::Metrics, state::AppState};

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut origin = None;
    let run = async {
        let params = Params::from_form(&headers, body)?;
        let now = now_unix();
        let creds = Credentials::presented(&headers, &params)?
            .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
        let grant_type = params.require("grant_type")?;
        let client = creds.authenticate(&state.db, now).await?;
        origin = cors::allowed_origin(&headers, client.client.spec.redirect_uris.as_slice());
        if !client.settings.api_enabled {
            return Err(OAuthError::api_disabled());
        }
        let counter = match grant_type {
            "authorization_code" | "client_credentials" => &state.metrics.tokens_issued,
            _ => &state.metrics.tokens_refreshed,
        };
        let (db, builtin) = (&state.db, state.issuer.builtin_api());
        let issued = match grant_type {
            "authorization_code" => {
                grant::authorization_code::exchange(db, &client, &params, now, builtin).await?
            }
            "refresh_token" => grant::refresh_token::exchange(db, &client, &params, now, builtin).await?,
            "client_credentials" => {
                grant::client_credentials::exchange(db, &client, &params, now, builtin).await?
            }
            _ => {
                return Err(OAuthError::unsupported_grant_type(
                    "grant_type must be authorization_code, refresh_token or client_credentials",
                ));
            }
        };
        Metrics::count(counter);
        Ok((no_store(), Json(issued)).into_response())
    };
    let mut res = run.await.unwrap_or_else(IntoResponse::into_response);
    cors::allow(&mut res, origin);
    res
}
