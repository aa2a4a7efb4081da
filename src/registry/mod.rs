//! The client registry's operations, shared by the admin server functions and the CLI: validate
//! through the domain, generate identifiers and secrets, hash, persist. Callers check who may act.

pub mod apis;
pub mod registration;
pub mod transfer;

use std::fmt;

use crate::{
    auth::token,
    db::{
        Db, DbError,
        apis::ApiRef,
        audit::Event,
        clients::{SecretChange, SelfRegistration, StoredSecret},
        now_unix,
    },
    domain::{
        api::{ApiIdentifier, ApiSet},
        audit::{self, FieldChange},
        client::{Client, ClientForm, ClientId, ClientPage, Field, FieldErrors, ListQuery, SecretGrace},
        time::format_utc,
    },
};

/// A client secret in the clear: exists only between generation and the one time it is shown.
pub struct PlainSecret(String);

impl PlainSecret {
    fn generate() -> (Self, StoredSecret) {
        let secret = token::random_token();
        let stored = StoredSecret {
            digest: token::digest(&secret),
            last4: secret[secret.len().saturating_sub(4)..].to_string(),
        };
        (Self(secret), stored)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PlainSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainSecret(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("no client has this client_id")]
    NotFound,
    #[error("this client uses authentication method none: it has no secret")]
    NoSecret,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The APIs `form` limits the client to, each checked against the registry (`None`: any), and
/// their identifiers as they will be stored.
async fn form_apis(
    db: &Db,
    form: &ClientForm,
    builtin: &ApiIdentifier,
) -> Result<(Option<ApiSet>, Option<Vec<String>>), RegistryError> {
    let ids = form.api_identifiers().map_err(|e| {
        let mut errors = FieldErrors::default();
        errors.add(Field::Apis, e);
        RegistryError::Invalid(errors)
    })?;
    match ids {
        Some(ids) => Ok((
            Some(api_list(db, &ids, builtin).await?),
            Some(ids.iter().map(ToString::to_string).collect()),
        )),
        None => Ok((None, None)),
    }
}

/// The secret's part of an audit entry: never the secret itself.
fn secret_change(what: &str) -> FieldChange {
    FieldChange::new("secret", None, Some(what.to_string()))
}

/// Registers a new, active client; the secret (for confidential clients) is returned once.
/// Everything is checked (the APIs it is limited to included) before anything is written.
pub async fn create(
    db: &Db,
    form: &ClientForm,
    builtin: &ApiIdentifier,
) -> Result<(Client, Option<PlainSecret>), RegistryError> {
    create_as(db, form, builtin, None, None).await
}

/// [`create`], for a client that registers itself when `registration` is given.
pub(crate) async fn create_as(
    db: &Db,
    form: &ClientForm,
    builtin: &ApiIdentifier,
    registration: Option<&SelfRegistration>,
    // The client_id, when it is given (a metadata document's URL) rather than drawn.
    given_id: Option<&ClientId>,
) -> Result<(Client, Option<PlainSecret>), RegistryError> {
    let spec = form.validate().map_err(RegistryError::Invalid)?;
    let (apis, api_names) = form_apis(db, form, builtin).await?;
    let (plain, stored) = if spec.auth.has_secret() {
        let (p, s) = PlainSecret::generate();
        (Some(p), Some(s))
    } else {
        (None, None)
    };
    let mut changes =
        audit::diff(None, Some(&ClientForm { apis: api_names, ..ClientForm::from_spec(&spec) }));
    if stored.is_some() {
        changes.push(secret_change("issued"));
    }
    let action = if registration.is_some() { "client.registered" } else { "client.created" };
    let now = now_unix();
    // 128 random bits do not collide in practice; a second draw covers the impossible.
    let mut attempt = 0;
    let client_id = loop {
        let id = match given_id {
            Some(id) => id.clone(),
            None => ClientId::parse(&new_client_id()).map_err(|e| DbError::Corrupt(e.to_string()))?,
        };
        let event = Event::client(action, &id, changes.clone());
        match db.insert_client(&id, &spec, stored.as_ref(), apis.as_ref(), now, registration, &event).await {
            Ok(()) => break id,
            Err(DbError::Duplicate) if attempt == 0 && given_id.is_none() => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    };
    Ok((get(db, &client_id).await?, plain))
}

/// 128+ random bits that never start with '-' or '_', so the ID is never mistaken for an option
/// on a command line (`clavis client show -abc…`), nor with [`apis::CLIENT_ID_PREFIX`], which
/// marks the credentials of an API.
fn new_client_id() -> String {
    loop {
        let id = token::random_id();
        if id.starts_with(|c: char| c.is_ascii_alphanumeric()) && !id.starts_with(apis::CLIENT_ID_PREFIX) {
            return id;
        }
    }
}

pub async fn get(db: &Db, client_id: &ClientId) -> Result<Client, RegistryError> {
    db.find_client(client_id).await?.ok_or(RegistryError::NotFound)
}

pub async fn list(db: &Db, query: &ListQuery) -> Result<ClientPage, RegistryError> {
    Ok(db.list_clients(query).await?)
}

/// A client that registered itself keeps PKCE and the consent screen, whoever edits it.
fn self_registered_rules(current: &Client, form: &ClientForm) -> Result<(), RegistryError> {
    if !current.origin.is_self_registered() {
        return Ok(());
    }
    let mut errors = FieldErrors::default();
    if !form.require_pkce {
        errors.add(Field::RequirePkce, "A self-registered client always requires PKCE");
    }
    if !form.consent {
        errors.add(Field::Consent, "A self-registered client always shows the allow/deny screen");
    }
    if errors.is_empty() { Ok(()) } else { Err(RegistryError::Invalid(errors)) }
}

/// Saves an edited client. Switching to `none` deletes the secret; switching from `none` to a
/// secret method issues a new one, returned once. The audit entry names each changed field.
pub async fn update(
    db: &Db,
    client_id: &ClientId,
    form: &ClientForm,
    builtin: &ApiIdentifier,
) -> Result<(Client, Option<PlainSecret>), RegistryError> {
    let spec = form.validate().map_err(RegistryError::Invalid)?;
    let (apis, api_names) = form_apis(db, form, builtin).await?;
    let current = get(db, client_id).await?;
    self_registered_rules(&current, form)?;
    let before = form_of(db, &current, builtin).await?;
    let mut changes =
        audit::diff(Some(&before), Some(&ClientForm { apis: api_names, ..ClientForm::from_spec(&spec) }));
    let (change, plain) = match (current.spec.auth.has_secret(), spec.auth.has_secret()) {
        (true, false) => {
            changes.push(secret_change("removed"));
            (SecretChange::Remove, None)
        }
        (false, true) => {
            let (p, s) = PlainSecret::generate();
            changes.push(secret_change("issued"));
            (SecretChange::Issue(s), Some(p))
        }
        _ => (SecretChange::Keep, None),
    };
    let event = Event::client("client.updated", client_id, changes);
    if !db.update_client(client_id, &spec, apis.as_ref(), change, now_unix(), &event).await? {
        return Err(RegistryError::NotFound);
    }
    Ok((get(db, client_id).await?, plain))
}

pub async fn set_active(db: &Db, client_id: &ClientId, active: bool) -> Result<Client, RegistryError> {
    let current = get(db, client_id).await?;
    let event = Event::client(
        if active { "client.activated" } else { "client.deactivated" },
        client_id,
        vec![FieldChange::new("active", audit::yes_no(current.active), audit::yes_no(active))],
    );
    if !db.set_client_active(client_id, active, now_unix(), &event).await? {
        return Err(RegistryError::NotFound);
    }
    get(db, client_id).await
}

/// Deletes the client; the audit entry keeps what its settings were.
pub async fn delete(db: &Db, client_id: &ClientId) -> Result<(), RegistryError> {
    let current = get(db, client_id).await?;
    let event = Event::client(
        "client.deleted",
        client_id,
        audit::diff(Some(&ClientForm::from_spec(&current.spec)), None),
    );
    if db.delete_client(client_id, &event).await? { Ok(()) } else { Err(RegistryError::NotFound) }
}

/// Issues a new secret; the old one keeps working for the grace period, if any.
pub async fn regenerate_secret(
    db: &Db,
    client_id: &ClientId,
    grace: SecretGrace,
) -> Result<(Client, PlainSecret), RegistryError> {
    let (plain, stored) = PlainSecret::generate();
    let now = now_unix();
    let kept = match grace.seconds() {
        Some(s) => format!("regenerated; the previous one works until {}", format_utc(now + s)),
        None => "regenerated; the previous one stopped at once".to_string(),
    };
    let event = Event::client("client.secret_regenerated", client_id, vec![secret_change(&kept)]);
    if !db.regenerate_client_secret(client_id, &stored, grace.seconds().map(|s| now + s), now, &event).await?
    {
        // Either no such client, or a public one: say which.
        return Err(match db.find_client(client_id).await? {
            Some(_) => RegistryError::NoSecret,
            None => RegistryError::NotFound,
        });
    }
    Ok((get(db, client_id).await?, plain))
}

/// Ends every session of the client at once (a breach), recorded with how many there were.
pub async fn revoke_sessions(db: &Db, client_id: &ClientId) -> Result<u64, RegistryError> {
    get(db, client_id).await?;
    Ok(db.revoke_client_sessions(client_id).await?)
}

/// The APIs named by `identifiers`, each registered (the built-in one included); the error
/// names the first that is not, as a field error of the client form.
pub async fn api_list(
    db: &Db,
    identifiers: &[ApiIdentifier],
    builtin: &ApiIdentifier,
) -> Result<ApiSet, RegistryError> {
    let names: Vec<&str> = identifiers.iter().map(ApiIdentifier::as_str).collect();
    let found = db.apis_by_identifier(&names, builtin).await?;
    let mut ids = Vec::with_capacity(identifiers.len());
    for id in identifiers {
        match found.iter().find(|a| a.identifier == id.as_str()) {
            Some(api) => ids.push(api.pk),
            None => {
                let mut errors = FieldErrors::default();
                errors.add(Field::Apis, format!("{id} is not a registered API"));
                return Err(RegistryError::Invalid(errors));
            }
        }
    }
    Ok(ApiSet::new(ids))
}

/// The APIs a client is limited to; `None`: any active API.
pub async fn client_apis(
    db: &Db,
    client_id: &ClientId,
    builtin: &ApiIdentifier,
) -> Result<Option<Vec<ApiRef>>, RegistryError> {
    Ok(match db.client_apis(client_id).await? {
        Some(set) => Some(db.apis_in(&set, builtin).await?),
        None => None,
    })
}

/// The form showing a stored client, for editing: its settings and the APIs it is limited to.
pub async fn form_of(db: &Db, client: &Client, builtin: &ApiIdentifier) -> Result<ClientForm, RegistryError> {
    let apis = client_apis(db, &client.client_id, builtin).await?;
    Ok(ClientForm {
        apis: apis.map(|list| list.into_iter().map(|a| a.identifier).collect()),
        ..ClientForm::from_spec(&client.spec)
    })
}
