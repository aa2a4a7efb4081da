//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6, OAuth 2.1 §4.1.3): the code
//! is claimed once, checked against the request, and starts a new session.

use crate::{
    auth::token,
    db::{
        Db,
        oauth::{CodeRow, Redeemed, StoredClient},
    },
    domain::{api::ApiIdentifier, client::AuthMethod},
    oauth::{
        endpoint::{OAuthError, Params},
        issue::{Granted, Lifetimes, TokenResponse, mint},
        pkce, resource,
    },
};

/// Why a valid code is not exchanged. The code is used up all the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    MissingRedirectUri,
    RedirectUriMismatch,
    MissingVerifier,
    VerifierMismatch,
    UnexpectedVerifier,
    PkceRequired,
    /// A `resource` the authorization did not grant (RFC 8707 §2.2).
    ResourceNotGranted,
}

impl CodeRefusal {
    pub fn description(self) -> &'static str {
        match self {
            CodeRefusal::MissingRedirectUri => "redirect_uri is required",
            CodeRefusal::RedirectUriMismatch => {
                "redirect_uri differs from the one in the authorization request"
            }
            CodeRefusal::MissingVerifier => "code_verifier is required",
            CodeRefusal::VerifierMismatch => "code_verifier does not match the code_challenge",
            CodeRefusal::UnexpectedVerifier => "code_verifier was sent but the authorization used no PKCE",
            CodeRefusal::PkceRequired => "public clients must use PKCE",
            CodeRefusal::ResourceNotGranted => "resource was not part of this authorization",
        }
    }
}

/// What the token request must repeat of the authorization request: the exact redirect URI
/// (RFC 6749 §4.1.3) and, with PKCE, a verifier hashing to the challenge.
pub fn check(
    code: &CodeRow,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    public_client: bool,
) -> Result<(), CodeRefusal> {
    match redirect_uri {
        None if code.redirect_uri_sent => return Err(CodeRefusal::MissingRedirectUri),
        Some(r) if r != code.redirect_uri => return Err(CodeRefusal::RedirectUriMismatch),
        _ => {}
    }
    match (code.code_challenge.as_deref(), verifier) {
        (Some(challenge), Some(v)) if pkce::verify_s256(v, challenge) => Ok(()),
        (Some(_), Some(_)) => Err(CodeRefusal::VerifierMismatch),
        (Some(_), None) => Err(CodeRefusal::MissingVerifier),
        (None, Some(_)) => Err(CodeRefusal::UnexpectedVerifier),
        (None, None) if public_client => Err(CodeRefusal::PkceRequired),
        (None, None) => Ok(()),
    }
}

pub async fn exchange(
    db: &Db,
    client: &StoredClient,
    params: &Params,
    now: i64,
    builtin: &ApiIdentifier,
) -> Result<TokenResponse, OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.get("redirect_uri")?;
    let verifier = params.get("code_verifier")?;
    // The access token may be for fewer of the granted APIs (RFC 8707 §2.2), never for more.
    let requested = params.resources()?;
    let narrowed = if requested.is_empty() {
        None
    } else {
        match resource::resolve(db, &requested, client.allowed_apis.as_ref(), builtin).await? {
            Ok(r) => Some(r.audience),
            Err(description) => return Err(OAuthError::invalid_target(description)),
        }
    };
    let public = client.client.spec.auth.method() == AuthMethod::None;
    let lifetimes = Lifetimes::of(&client.client, &client.settings);
    let outcome: Redeemed<_, CodeRefusal> = db
        .redeem_code(&token::digest(code), client.pk, now, client.settings.session_cap.get(), |c| {
            check(c, redirect_uri, verifier, public)?;
            let audience = match &narrowed {
                Some(a) if !a.is_subset(&c.audience) => return Err(CodeRefusal::ResourceNotGranted),
                Some(a) => a.clone(),
                None => c.audience.clone(),
            };
            let minted = mint(
                now,
                now,
                lifetimes,
                Granted { scope: c.scope, audience },
                Granted { scope: c.scope, audience: c.audience.clone() },
                lifetimes.refresh_token_after(0),
                None,
            );
            Ok((minted.issue, minted.response))
        })
        .await?;
    match outcome {
        Redeemed::Issued(response) => Ok(response),
        Redeemed::NotFound => Err(OAuthError::invalid_grant("the code is invalid or expired")),
        Redeemed::Replayed => {
            Err(OAuthError::invalid_grant("the code was already used; the tokens issued from it are revoked"))
        }
        Redeemed::Refused(why @ CodeRefusal::ResourceNotGranted) => {
            Err(OAuthError::invalid_target(why.description()))
        }
        Redeemed::Refused(why) => Err(OAuthError::invalid_grant(why.description())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const CB: &str = "https://app.example.com/cb";

    fn code(challenge: Option<&str>) -> CodeRow {
        CodeRow {
            client_pk: 1,
            user_id: 1,
            redirect_uri: CB.into(),
            redirect_uri_sent: true,
            scope: crate::domain::Scope::READ,
            code_challenge: challenge.map(str::to_string),
            expires_at: 0,
            audience: crate::domain::api::ApiSet::builtin(),
        }
    }

    #[test]
    fn every_check_of_the_code_exchange() {
        use CodeRefusal::*;
        let wrong = "x".repeat(43);
        // (challenge, redirect_uri, verifier, public client, expected)
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, bool, Result<(), CodeRefusal>);
        let cases: [Case; 10] = [
            (Some(CHALLENGE), Some(CB), Some(VERIFIER), false, Ok(())),
            (Some(CHALLENGE), Some(CB), Some(VERIFIER), true, Ok(())),
            (None, Some(CB), None, false, Ok(())),
            (Some(CHALLENGE), None, Some(VERIFIER), false, Err(MissingRedirectUri)),
            (
                Some(CHALLENGE),
                Some("https://app.example.com/cb/"),
                Some(VERIFIER),
                false,
                Err(RedirectUriMismatch),
            ),
            (Some(CHALLENGE), Some(CB), None, false, Err(MissingVerifier)),
            (Some(CHALLENGE), Some(CB), Some(&wrong), false, Err(VerifierMismatch)),
            (Some(CHALLENGE), Some(CB), Some(CHALLENGE), false, Err(VerifierMismatch)),
            (None, Some(CB), Some(VERIFIER), false, Err(UnexpectedVerifier)),
            (None, Some(CB), None, true, Err(PkceRequired)),
        ];
        for (challenge, redirect, verifier, public, expected) in cases {
            assert_eq!(
                check(&code(challenge), redirect, verifier, public),
                expected,
                "{challenge:?} {redirect:?} {verifier:?} public={public}"
            );
        }
    }

    #[test]
    fn a_redirect_uri_left_out_of_the_authorization_may_be_left_out_here() {
        let code = CodeRow { redirect_uri_sent: false, ..code(Some(CHALLENGE)) };
        assert_eq!(check(&code, None, Some(VERIFIER), true), Ok(()));
        assert_eq!(check(&code, Some(CB), Some(VERIFIER), true), Ok(()), "or repeated as registered");
        assert_eq!(
            check(&code, Some("https://app.example.com/other"), Some(VERIFIER), true),
            Err(CodeRefusal::RedirectUriMismatch)
        );
    }
}
