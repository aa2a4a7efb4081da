//! `grant_type=client_credentials` (RFC 6749 §4.4, OAuth 2.1 §4.2): a confidential client that an
//! administrator allowed it gets an access token for itself, for unattended jobs. No user, no
//! session, no refresh token (§4.4.3): the job authenticates again when the token expires.

use crate::{
    auth::token,
    db::{Db, oauth::StoredClient},
    domain::{
        Scope, ScopeError,
        api::ApiIdentifier,
        client::{AuthMethod, ClientSpec},
    },
    oauth::{
        endpoint::{OAuthError, Params},
        issue::{Lifetimes, TokenResponse},
        resource,
    },
};

/// Why a client gets no token of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsRefusal {
    /// A public client: its ID is no credential (RFC 6749 §4.4: confidential clients only).
    Public,
    /// An administrator has not allowed this client the grant.
    NotAllowed,
    Scope(ScopeError),
}

impl CredentialsRefusal {
    pub fn into_error(self) -> OAuthError {
        match self {
            CredentialsRefusal::Public => OAuthError::unauthorized_client(
                "client_credentials needs a confidential client: a public client has no secret to authenticate with",
            ),
            CredentialsRefusal::NotAllowed => OAuthError::unauthorized_client(
                "client_credentials is not allowed for this client; an administrator can allow it on the client's page",
            ),
            CredentialsRefusal::Scope(e) => OAuthError::invalid_scope(e.to_string()),
        }
    }
}

/// The scope a client's own token gets: what it asks for (`scope`), within the client's scope;
/// all of the client's scope when it asks for nothing (RFC 6749 §3.3).
pub fn check(spec: &ClientSpec, requested: Option<&str>) -> Result<Scope, CredentialsRefusal> {
    if spec.auth.method() == AuthMethod::None {
        return Err(CredentialsRefusal::Public);
    }
    if !spec.client_credentials {
        return Err(CredentialsRefusal::NotAllowed);
    }
    let requested = Scope::parse(requested.unwrap_or_default()).map_err(CredentialsRefusal::Scope)?;
    spec.scope.scopes().narrow(requested).map_err(CredentialsRefusal::Scope)
}

/// How long a client's own token lives: the client's access token lifetime, or the instance's
/// when the client's tokens never expire (a token nobody refreshes must still end).
pub fn lifetime(client: &StoredClient) -> i64 {
    let settings = &client.settings;
    Lifetimes::of(&client.client, settings).access.unwrap_or(i64::from(settings.access_token_lifetime.get()))
}

pub async fn exchange(
    db: &Db,
    client: &StoredClient,
    params: &Params,
    now: i64,
    builtin: &ApiIdentifier,
) -> Result<TokenResponse, OAuthError> {
    let scope = check(&client.client.spec, params.get("scope")?).map_err(CredentialsRefusal::into_error)?;
    // The APIs an administrator allowed the client; `resource` picks among them (RFC 8707).
    let requested = params.resources()?;
    let audience = match resource::resolve(db, &requested, client.allowed_apis.as_ref(), builtin).await? {
        Ok(r) => r.audience,
        Err(description) => return Err(OAuthError::invalid_target(description)),
    };
    let expires_in = lifetime(client);
    let access = token::ordered_token(token::now_micros());
    let stored = crate::db::oauth::NewToken {
        digest: token::digest(&access),
        expires_at: Some(now.saturating_add(expires_in)),
        scope,
        audience,
    };
    db.insert_client_token(client.pk, now, &stored).await?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: Some(expires_in),
        refresh_token: None,
        scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::ClientForm;

    fn spec(edit: impl FnOnce(&mut ClientForm)) -> ClientSpec {
        let mut form = ClientForm {
            name: "Nightly export".into(),
            redirect_uris: "https://jobs.example.com/cb".into(),
            client_credentials: true,
            ..ClientForm::default()
        };
        edit(&mut form);
        form.validate().unwrap()
    }

    #[test]
    fn only_an_allowed_confidential_client_gets_a_token_within_its_scope() {
        assert_eq!(check(&spec(|_| {}), None), Ok(Scope::ALL), "nothing asked: the client's scope");
        assert_eq!(check(&spec(|_| {}), Some("read")), Ok(Scope::READ));
        assert_eq!(check(&spec(|f| f.scope = "read".into()), None), Ok(Scope::READ));
        assert_eq!(
            check(&spec(|f| f.scope = "read".into()), Some("read write")),
            Err(CredentialsRefusal::Scope(ScopeError::NotGranted(Scope::WRITE)))
        );
        assert!(matches!(check(&spec(|_| {}), Some("admin")), Err(CredentialsRefusal::Scope(_))));
        assert_eq!(check(&spec(|f| f.client_credentials = false), None), Err(CredentialsRefusal::NotAllowed));
        let public = spec(|f| {
            f.auth_method = "none".into();
            f.client_credentials = false;
        });
        assert_eq!(check(&public, None), Err(CredentialsRefusal::Public));
        let codes: Vec<&str> = [CredentialsRefusal::Public, CredentialsRefusal::NotAllowed]
            .into_iter()
            .map(|r| r.into_error().code)
            .collect();
        assert_eq!(codes, ["unauthorized_client", "unauthorized_client"]);
    }
}
