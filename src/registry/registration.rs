//! Clients that register themselves (RFC 7591) and manage their own registration with a
//! registration access token (RFC 7592). The client's settings go through the same registry
//! operations as an administrator's; the token is stored as a digest and rotated on each update.

use subtle::ConstantTimeEq;

use super::{PlainSecret, RegistryError, create_as, form_of, get, update};
use crate::{
    auth::token,
    db::{Db, DbError, clients::SelfRegistration},
    domain::{
        api::ApiIdentifier,
        client::{Client, ClientForm, ClientId, ClientOrigin},
        registration::{DescriptiveMetadata, Registration},
        settings::InstanceSettings,
    },
};

/// A registration as the client sees it after a change: its settings, metadata, and the secrets
/// issued now (shown this once).
pub struct Registered {
    pub client: Client,
    pub form: ClientForm,
    pub metadata: DescriptiveMetadata,
    /// A new client secret (confidential clients, at registration or on switching to one).
    pub secret: Option<PlainSecret>,
    /// A new registration access token (at registration and on each update).
    pub registration_token: Option<PlainSecret>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistrationFailure {
    #[error("this server takes no more self-registered clients")]
    Full,
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl From<DbError> for RegistrationFailure {
    fn from(e: DbError) -> Self {
        RegistrationFailure::Registry(e.into())
    }
}

fn metadata_text(metadata: &DescriptiveMetadata) -> Result<String, DbError> {
    serde_json::to_string(metadata).map_err(|e| DbError::Corrupt(e.to_string()))
}

/// Registers a client for itself: always PKCE and the consent screen, marked as self-registered,
/// within the instance's cap.
pub async fn register(
    db: &Db,
    registration: &Registration,
    settings: &InstanceSettings,
    builtin: &ApiIdentifier,
) -> Result<Registered, RegistrationFailure> {
    // Under a burst on Postgres a few may pass at once; the cap is a bound, not an exact count.
    if db.count_self_registered().await? >= i64::from(settings.max_self_registered) {
        return Err(RegistrationFailure::Full);
    }
    let (registration_token, stored) = PlainSecret::generate();
    let record = SelfRegistration {
        origin: ClientOrigin::Registered,
        token_digest: Some(stored.digest),
        metadata: metadata_text(&registration.metadata)?,
        metadata_expires_at: None,
    };
    let (client, secret) = create_as(db, &registration.form, builtin, Some(&record), None).await?;
    let form = form_of(db, &client, builtin).await?;
    Ok(Registered {
        client,
        form,
        metadata: registration.metadata.clone(),
        secret,
        registration_token: Some(registration_token),
    })
}

/// The self-registered client `client_id` whose registration access token is `presented`
/// (compared as digests, in constant time). Anything else is `NotFound`: an unknown client, a
/// client registered by an administrator, a wrong or rotated token.
pub async fn authorize(
    db: &Db,
    client_id: &str,
    presented: &str,
    builtin: &ApiIdentifier,
) -> Result<Registered, RegistryError> {
    let id = ClientId::parse(client_id).map_err(|_| RegistryError::NotFound)?;
    let Some((digest, metadata)) = db.registration_of(&id).await? else {
        return Err(RegistryError::NotFound);
    };
    if !bool::from(digest.ct_eq(&token::digest(presented))) {
        return Err(RegistryError::NotFound);
    }
    let client = get(db, &id).await?;
    let form = form_of(db, &client, builtin).await?;
    let metadata = metadata.and_then(|m| serde_json::from_str(&m).ok()).unwrap_or_default();
    Ok(Registered { client, form, metadata, secret: None, registration_token: None })
}

/// Replaces a registration's metadata (RFC 7592 §2.2) and rotates its registration access
/// token. What an administrator set beyond the metadata (token lifetimes, rate limit, the APIs
/// it may use) stays.
pub async fn replace(
    db: &Db,
    current: &Registered,
    registration: &Registration,
    builtin: &ApiIdentifier,
) -> Result<Registered, RegistryError> {
    let new = &registration.form;
    let form = ClientForm {
        name: new.name.clone(),
        redirect_uris: new.redirect_uris.clone(),
        auth_method: new.auth_method.clone(),
        scope: new.scope.clone(),
        refresh_count: new.refresh_count.clone(),
        refresh_count_limit: new.refresh_count_limit.clone(),
        require_pkce: true,
        consent: true,
        ..current.form.clone()
    };
    let id = &current.client.client_id;
    let (client, secret) = update(db, id, &form, builtin).await?;
    let (registration_token, stored) = PlainSecret::generate();
    if !db.set_registration(id, &stored.digest, &metadata_text(&registration.metadata)?).await? {
        return Err(RegistryError::NotFound);
    }
    Ok(Registered {
        client,
        form,
        metadata: registration.metadata.clone(),
        secret,
        registration_token: Some(registration_token),
    })
}
