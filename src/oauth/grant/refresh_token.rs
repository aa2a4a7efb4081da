//! `grant_type=refresh_token` (RFC 6749 §6, RFC 9700 §4.14.2): rotation, reuse detection, the
//! refresh count limit, and scope narrowing.

use crate::{
    auth::token,
    db::{
        Db,
        oauth::{RefreshGrant, Refreshed, StoredClient},
    },
    domain::{
        Scope, ScopeError,
        api::{ApiIdentifier, ApiSet},
    },
    oauth::{
        endpoint::{OAuthError, Params},
        issue::{Granted, Lifetimes, TokenResponse, mint, successor},
        resource,
    },
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRefusal {
    Scope(ScopeError),
    /// The client's refresh count limit is reached for this session.
    Limit,
    /// The client may no longer have any of the session's scope (an administrator narrowed it).
    NoScopeLeft,
    /// The client may no longer use any of the session's APIs (an administrator limited it).
    NoApiLeft,
    /// A `resource` the session was not granted (RFC 8707 §2.2).
    ResourceNotGranted,
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

/// The APIs a refresh issues for: the new access token's (the request's `resource` values, or
/// all of the session's), and the new refresh token's (the session's). As with scope, the session
/// keeps only the APIs the client may use now (`allowed`; `None`: any).
pub fn audience(
    session: &ApiSet,
    allowed: Option<&ApiSet>,
    requested: Option<&ApiSet>,
) -> Result<(ApiSet, ApiSet), RefreshRefusal> {
    let session = match allowed {
        Some(allowed) => session.intersection(allowed),
        None => session.clone(),
    };
    if session.is_empty() {
        return Err(RefreshRefusal::NoApiLeft);
    }
    match requested {
        Some(r) if !r.is_subset(&session) => Err(RefreshRefusal::ResourceNotGranted),
        Some(r) => Ok((r.clone(), session)),
        None => Ok((session.clone(), session)),
    }
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
    builtin: &ApiIdentifier,
) -> Result<TokenResponse, OAuthError> {
    let refresh = params.require("refresh_token")?;
    let requested = params.get("scope")?;
    let resources = params.resources()?;
    let narrowed = if resources.is_empty() {
        None
    } else {
        match resource::resolve(db, &resources, client.allowed_apis.as_ref(), builtin).await? {
            Ok(r) => Some(r.audience),
            Err(description) => return Err(OAuthError::invalid_target(description)),
        }
    };
    let lifetimes = Lifetimes::of(&client.client, &client.settings);
    let allowed = client.client.spec.scope.scopes();
    let grace = client.client.spec.refresh_reuse_grace.map(|g| i64::from(g.get()));
    let outcome = db
        .refresh(&token::digest(refresh), client.pk, now, grace, |g| {
            let scope = check(g, allowed, lifetimes, requested)?;
            let (access_audience, session_audience) =
                audience(&g.audience, client.allowed_apis.as_ref(), narrowed.as_ref())?;
            let with_refresh = lifetimes.refresh_token_after(g.refresh_count);
            let seed = g.successor_salt.as_deref().map(|salt| successor_seed(refresh, salt));
            let minted = mint(
                now,
                g.created_at,
                lifetimes,
                Granted { scope: scope.access, audience: access_audience },
                Granted { scope: scope.refresh, audience: session_audience },
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
        Refreshed::Refused(RefreshRefusal::NoApiLeft) => {
            Err(OAuthError::invalid_grant("the client may no longer use any of this session's APIs"))
        }
        Refreshed::Refused(RefreshRefusal::ResourceNotGranted) => {
            Err(OAuthError::invalid_target("resource was not granted to this session"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(scope: &str, refresh_count: i64) -> RefreshGrant {
        RefreshGrant {
            scope: Scope::parse(scope).unwrap(),
            audience: ApiSet::builtin(),
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

    #[test]
    fn refresh_audiences() {
        let set = |raw: &str| ApiSet::parse(raw).unwrap();
        let shown =
            |r: Result<(ApiSet, ApiSet), RefreshRefusal>| r.map(|(a, s)| (a.to_string(), s.to_string()));
        let ok = |a: &str, s: &str| Ok((a.to_string(), s.to_string()));
        // Nothing asked: every API of the session, which keeps them all.
        assert_eq!(shown(audience(&set("1 4"), None, None)), ok("1 4", "1 4"));
        // Narrowed to one of them; the session keeps both for later refreshes.
        assert_eq!(shown(audience(&set("1 4"), None, Some(&set("4")))), ok("4", "1 4"));
        // Never widened.
        assert_eq!(
            shown(audience(&set("4"), None, Some(&set("1 4")))),
            Err(RefreshRefusal::ResourceNotGranted)
        );
        // The client was limited since: the session keeps what is still allowed, for good.
        assert_eq!(shown(audience(&set("1 4"), Some(&set("4 9")), None)), ok("4", "4"));
        assert_eq!(
            shown(audience(&set("1 4"), Some(&set("4")), Some(&set("1")))),
            Err(RefreshRefusal::ResourceNotGranted)
        );
        assert_eq!(shown(audience(&set("1"), Some(&set("4")), None)), Err(RefreshRefusal::NoApiLeft));
    }
}
