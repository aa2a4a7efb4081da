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
        issue::{Lifetimes, TokenResponse, mint},
    },
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRefusal {
    Scope(ScopeError),
    /// The client's refresh count limit is reached for this session.
    Limit,
}

/// A refresh is allowed while the session's refreshes (this one included) stay within the
/// client's limit, and asks for no scope beyond the refresh token's. Returns the access token's
/// scope.
pub fn check(
    grant: &RefreshGrant,
    lifetimes: Lifetimes,
    requested: Option<&str>,
) -> Result<Scope, RefreshRefusal> {
    if lifetimes.refresh_limit.is_some_and(|limit| grant.refresh_count > limit) {
        return Err(RefreshRefusal::Limit);
    }
    let requested = Scope::parse(requested.unwrap_or_default()).map_err(RefreshRefusal::Scope)?;
    grant.scope.narrow(requested).map_err(RefreshRefusal::Scope)
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
    let outcome = db
        .refresh(&token::digest(refresh), client.pk, now, |g| {
            let access_scope = check(g, lifetimes, requested)?;
            let with_refresh = lifetimes.refresh_token_after(g.refresh_count);
            let minted = mint(now, lifetimes, access_scope, g.scope, with_refresh);
            Ok((minted.issue, minted.response))
        })
        .await?;
    match outcome {
        Refreshed::Issued(response) => Ok(response),
        Refreshed::NotFound => Err(OAuthError::invalid_grant("the refresh token is invalid or expired")),
        Refreshed::Reused => {
            Err(OAuthError::invalid_grant("the refresh token was already used; its session is revoked"))
        }
        Refreshed::Refused(RefreshRefusal::Limit) => {
            Err(OAuthError::invalid_grant("the session reached its refresh limit"))
        }
        Refreshed::Refused(RefreshRefusal::Scope(e)) => Err(OAuthError::invalid_scope(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(scope: &str, refresh_count: i64) -> RefreshGrant {
        RefreshGrant { scope: Scope::parse(scope).unwrap(), refresh_count }
    }

    #[test]
    fn refresh_decisions() {
        let unlimited = Lifetimes { access: Some(60), refresh: 600, refresh_limit: None };
        let two = Lifetimes { refresh_limit: Some(2), ..unlimited };
        type Case<'a> = (RefreshGrant, Lifetimes, Option<&'a str>, Result<&'a str, RefreshRefusal>);
        let cases: [Case; 8] = [
            (grant("read write", 1), unlimited, None, Ok("read write")),
            (grant("read write", 1_000), unlimited, Some("read"), Ok("read")),
            (grant("read write", 1), unlimited, Some("write read"), Ok("read write")),
            (grant("read", 1), unlimited, Some("  "), Ok("read")),
            (grant("read write", 2), two, None, Ok("read write")),
            (grant("read write", 3), two, None, Err(RefreshRefusal::Limit)),
            (
                grant("read", 1),
                unlimited,
                Some("write"),
                Err(RefreshRefusal::Scope(ScopeError::NotGranted(Scope::WRITE))),
            ),
            (
                grant("read", 1),
                unlimited,
                Some("read admin"),
                Err(RefreshRefusal::Scope(ScopeError::Unknown("admin".into()))),
            ),
        ];
        for (g, l, requested, expected) in cases {
            let got = check(&g, l, requested).map(|s| s.to_string());
            assert_eq!(got, expected.map(str::to_string), "{g:?} {requested:?}");
        }
    }
}
