//! Token management: `POST /oauth2/revoke` (RFC 7009) and `POST /oauth2/introspect` (RFC 7662).
//! Both need credentials. A client only ever touches its own tokens; a registered API may
//! introspect the access tokens issued for it.

use axum::{
    Json,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    response::{IntoResponse, Response},
};
use http::{HeaderMap, StatusCode};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::{
    cors,
    endpoint::{Credentials, OAuthError, Params, no_store},
};
use crate::{
    auth::token,
    db::{
        Db, now_unix,
        oauth::{StoredClient, TokenInfo},
    },
    domain::api::ApiSet,
    registry::apis::CLIENT_ID_PREFIX,
    state::AppState,
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
        if state.db.revoke_token(&token::digest(token), client.pk).await? {
            crate::metrics::Metrics::count(&state.metrics.tokens_revoked);
        }
        Ok::<_, OAuthError>((StatusCode::OK, no_store()).into_response())
    };
    let mut res = run.await.unwrap_or_else(IntoResponse::into_response);
    cors::allow(&mut res, origin);
    res
}

/// Who asks at the introspection endpoint: a client (about its own tokens) or a registered API
/// (about tokens issued for it), each with its own credentials.
enum Introspector {
    Client { pk: i64 },
    Api { pk: i64, identifier: String },
}

/// An API's credentials carry [`CLIENT_ID_PREFIX`]; everything else is a client's. The secret is
/// checked (in constant time) before anything about the API is told. `token`: the digest of the
/// token asked about, when the request names one: looked up with the asker's credentials, in one
/// trip to the database where it can, and returned with the asker.
async fn introspector(
    db: &Db,
    headers: &HeaderMap,
    params: &Params,
    now: i64,
    token: Option<&[u8]>,
) -> Result<(Introspector, Option<Option<TokenInfo>>), OAuthError> {
    let creds = Credentials::presented(headers, params)?
        .ok_or_else(|| OAuthError::invalid_request("client authentication is required"))?;
    if let Some((client_id, secret)) = creds.with_secret()
        && client_id.starts_with(CLIENT_ID_PREFIX)
        && client_id.len() <= 64
        && let (Some(api), info) = match token {
            Some(digest) => {
                let (api, info) = db.find_api_and_token(client_id, digest).await?;
                (api, Some(info))
            }
            None => (db.find_api_credentials(client_id).await?, None),
        }
    {
        if !bool::from(api.secret_digest.ct_eq(&token::digest(secret))) {
            return Err(OAuthError::invalid_client("client authentication failed"));
        }
        if !api.active {
            return Err(OAuthError::invalid_client("the API is deactivated"));
        }
        return Ok((Introspector::Api { pk: api.pk, identifier: api.identifier }, info));
    }
    let (stored, info) = match (creds.looked_up(), token) {
        (Some(id), Some(digest)) => {
            let (stored, info) = db.find_client_and_token(id, digest).await?;
            (stored, Some(info))
        }
        (Some(id), None) => (db.find_stored_client(id).await?, None),
        (None, _) => (None, None),
    };
    Ok((Introspector::Client { pk: creds.verify(stored, now)?.pk }, info))
}

/// RFC 7662. A client learns about its own tokens; a registered API about the access tokens
/// issued for it (its identifier in their audience). Anything else is `{"active": false}`.
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let run = async {
        let params = Params::from_form(&headers, body)?;
        let now = now_unix();
        // A malformed `token` is reported after the credentials, as before it was looked up.
        let digest = params.get("token").ok().flatten().map(token::digest);
        let (asker, found) =
            introspector(&state.db, &headers, &params, now, digest.as_ref().map(|d| d.as_slice())).await?;
        let token = params.require("token")?;
        token_hint(&params)?;
        let info = match found {
            Some(info) => info,
            None => state.db.find_token(&token::digest(token)).await?,
        };
        let inactive = || (no_store(), Json(json!({ "active": false }))).into_response();
        let Some(t) = info else { return Ok(inactive()) };
        let visible = match &asker {
            Introspector::Client { pk } => t.client_pk == *pk,
            Introspector::Api { pk, .. } => t.kind == "access" && t.audience.contains(*pk),
        };
        let live =
            t.client_active && !t.rotated && !t.scope.is_empty() && t.expires_at.is_none_or(|e| e > now);
        if !(visible && live) {
            return Ok(inactive());
        }
        // The audience's identifiers; the common cases (a token for the asking API alone, or for
        // the built-in API alone) need no query.
        let builtin = state.issuer.builtin_api();
        let aud: Vec<String> = match (&asker, t.audience.ids()) {
            (Introspector::Api { pk, identifier }, [only]) if only == pk => vec![identifier.clone()],
            (_, [ApiSet::BUILTIN]) => vec![builtin.to_string()],
            _ => state.db.apis_in(&t.audience, builtin).await?.into_iter().map(|a| a.identifier).collect(),
        };
        let mut body = json!({
            "active": true,
            "scope": t.scope,
            "client_id": t.client_id,
            "token_type": if t.kind == "access" { "Bearer" } else { "refresh_token" },
            "iat": t.issued_at,
            // One audience as a string, several as an array (as in a JWT, RFC 7519 §4.1.3).
            "aud": if let [one] = aud.as_slice() { json!(one) } else { json!(aud) },
        });
        if let Some(exp) = t.expires_at {
            body["exp"] = json!(exp);
        }
        // A session's token is its user's; a client's own token (client_credentials) is the
        // client's, whose ID is then the subject (as in RFC 9068 §2.2).
        match &t.user {
            Some((id, username)) => {
                body["sub"] = json!(id.to_string());
                body["username"] = json!(username);
            }
            None => body["sub"] = json!(t.client_id),
        }
        Ok::<_, OAuthError>((no_store(), Json(body)).into_response())
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}
