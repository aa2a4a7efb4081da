//! `grant_type=refresh_token` (RFC 6749 §6, RFC 9700 §4.14.2): rotation, reuse detection, the
//! refresh count limit, and scope narrowing.

use crate::{
    auth::token,
    db::{
        Db,
        oauth::{RefreshGrant, Refreshed, StoredClient},
    },
    domain::{Scope, ScopeError},
    oauth::{
        endpoint::{OAuthError, Params},
        issue::{Lifetimes, TokenResponse, mint, successor},
    },
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRefusal {
    Scope(ScopeError),
    /// The client's refresh count limit is reached for this session.
    Limit,
    /// The client may no longer have any of the session's scope (an administrator narrowed it).
    NoScopeLeft,
}

/// The scopes a refresh issues: the new access token's, and the new refresh token's (the
/// session's, within what the client may have now).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    pub access: Scope,
    pub refresh: Scope,
}

/// A refresh is allowed while the session's refreshes (this one included) stay within the
/// client's limit. Privileges follow the client: the session keeps only what the client may have
/// now (`allowed`), for good, and the request may narrow that, never widen it (RFC 6749 §6).
pub fn check(
    grant: &RefreshGrant,
    allowed: Scope,
    lifetimes: Lifetimes,
    requested: Option<&str>,
) -> Result<Refresh, RefreshRefusal> {
    if lifetimes.refresh_limit.is_some_and(|limit| grant.refresh_count > limit) {
        return Err(RefreshRefusal::Limit);
    }
    let session = grant.scope.intersection(allowed);
    if session.is_empty() {
        return Err(RefreshRefusal::NoScopeLeft);
    }
    let requested = Scope::parse(requested.unwrap_or_default()).map_err(RefreshRefusal::Scope)?;
    let access = session.narrow(requested).map_err(RefreshRefusal::Scope)?;
    Ok(Refresh { access, refresh: session })
}

/// What a rotation's successor is derived from: the presented token and the rotation's salt.
fn successor_seed(presented: &str, salt: &str) -> String {
    format!("{presented}\u{0}{salt}")
}

pub async fn exchange(
    db: &Db,
    client: &StoredClient,
    params: &Params,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let refresh = params.require("refresh_token")?;
    let requested = params.get("scope")?;
    let lifetimes = Lifetimes::of(&client.client, &client.settings);
    let allowed = client.client.spec.scope.scopes();
    let grace = client.client.spec.refresh_reuse_grace.map(|g| i64::from(g.get()));
    let outcome = db
        .refresh(&token::digest(refresh), client.pk, now, grace, |g| {
            let scope = check(g, allowed, lifetimes, requested)?;
            let with_refresh = lifetimes.refresh_token_after(g.refresh_count);
            let seed = g.successor_salt.as_deref().map(|salt| successor_seed(refresh, salt));
            let minted = mint(
                now,
                g.created_at,
                lifetimes,
                scope.access,
                scope.refresh,
                with_refresh,
                seed.as_deref(),
            );
            Ok((minted.issue, minted.response))
        })
        .await?;
    match outcome {
        Refreshed::Issued(response) => Ok(response),
        Refreshed::Again { salt } => {
            // The same token within the grace: the same successor, as first issued.
            let (access, next) = successor(&successor_seed(refresh, &salt));
            match db.find_successor(&token::digest(&access), &token::digest(&next)).await? {
                Some((scope, expires_at, refresh_stored)) => Ok(TokenResponse {
                    access_token: access,
                    token_type: "Bearer",
                    expires_in: expires_at.map(|e| (e - now).max(0)),
                    refresh_token: refresh_stored.then_some(next),
                    scope,
                }),
                None => Err(OAuthError::invalid_grant("the refresh token was already used")),
            }
        }
        Refreshed::NotFound => Err(OAuthError::invalid_grant("the refresh token is invalid or expired")),
        Refreshed::Reused => {
            Err(OAuthError::invalid_grant("the refresh token was already used; its session is revoked"))
        }
        Refreshed::Refused(RefreshRefusal::Limit) => {
            Err(OAuthError::invalid_grant("the session reached its refresh limit"))
        }
        Refreshed::Refused(RefreshRefusal::Scope(e)) => Err(OAuthError::invalid_scope(e.to_string())),
        Refreshed::Refused(RefreshRefusal::NoScopeLeft) => {
            Err(OAuthError::invalid_grant("the client may no longer have any of this session's scope"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(scope: &str, refresh_count: i64) -> RefreshGrant {
        RefreshGrant {
            scope: Scope::parse(scope).unwrap(),
            refresh_count,
            created_at: 0,
            successor_salt: None,
        }
    }

    #[test]
    fn refresh_decisions() {
        use RefreshRefusal as R;
        let unlimited =
            Lifetimes { access: Some(60), refresh: 600, refresh_limit: None, session_max: 7_776_000 };
        let two = Lifetimes { refresh_limit: Some(2), ..unlimited };
        let (all, read) = (Scope::ALL, Scope::READ);
        // (session, client may have now, lifetimes, requested, expected (access, refresh) scopes)
        type Case<'a> =
            (RefreshGrant, Scope, Lifetimes, Option<&'a str>, Result<(&'a str, &'a str), RefreshRefusal>);
        let cases: [Case; 12] = [
            (grant("read write", 1), all, unlimited, None, Ok(("read write", "read write"))),
            (grant("read write", 1_000), all, unlimited, Some("read"), Ok(("read", "read write"))),
            (grant("read write", 1), all, unlimited, Some("write read"), Ok(("read write", "read write"))),
            (grant("read", 1), all, unlimited, Some("  "), Ok(("read", "read"))),
            (grant("read write", 2), all, two, None, Ok(("read write", "read write"))),
            (grant("read write", 3), all, two, None, Err(R::Limit)),
            (
                grant("read", 1),
                all,
                unlimited,
                Some("write"),
                Err(R::Scope(ScopeError::NotGranted(Scope::WRITE))),
            ),
            (
                grant("read", 1),
                all,
                unlimited,
                Some("read admin"),
                Err(R::Scope(ScopeError::Unknown("admin".into()))),
            ),
            // The client was narrowed to read-only: the session keeps read, for good.
            (grant("read write", 1), read, unlimited, None, Ok(("read", "read"))),
            (
                grant("read write", 1),
                read,
                unlimited,
                Some("write"),
                Err(R::Scope(ScopeError::NotGranted(Scope::WRITE))),
            ),
            (grant("write", 1), read, unlimited, None, Err(R::NoScopeLeft)),
            (grant("write", 1), read, unlimited, Some("read"), Err(R::NoScopeLeft)),
        ];
        for (g, allowed, l, requested, expected) in cases {
            let got = check(&g, allowed, l, requested).map(|s| (s.access.to_string(), s.refresh.to_string()));
            let expected = expected.map(|(a, r)| (a.to_string(), r.to_string()));
            assert_eq!(got, expected, "{g:?} allowed={allowed:?} {requested:?}");
        }
    }
}
