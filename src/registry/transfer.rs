//! Export and import of clients: every setting of the clients administrators registered, never a
//! secret. An import checks every entry before it writes anything, writes all in one
//! transaction, and issues new secrets, returned once.

use super::{PlainSecret, RegistryError, apis, form_apis, form_of, get, secret_change};
use crate::{
    db::{Db, DbError, audit::Event, clients::NewClient, now_unix},
    domain::{
        api::ApiIdentifier,
        audit::diff,
        client::{
            ClientForm, ClientId, FieldErrors,
            transfer::{ExportFile, ExportedClient, FORMAT, entry_label},
        },
    },
};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// What is wrong, naming the entry; nothing was written.
    #[error("{0}")]
    Entry(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A client as imported, with its new secret (for confidential clients), shown once.
#[derive(Debug)]
pub struct Imported {
    pub client_id: ClientId,
    pub name: String,
    pub secret: Option<PlainSecret>,
}

/// The first field error, named by the form's label: one line.
fn first_error(errors: &FieldErrors) -> String {
    match errors.first() {
        Some((field, message)) => format!("{}: {message}", field.label()),
        None => errors.to_string(),
    }
}

/// Every client an administrator registered (self-registered ones register again), oldest first.
pub async fn export(db: &Db, builtin: &ApiIdentifier) -> Result<ExportFile, RegistryError> {
    let mut clients = Vec::new();
    for id in db.admin_client_ids().await? {
        let client = get(db, &id).await?;
        let form = form_of(db, &client, builtin).await?;
        clients.push(ExportedClient { client_id: id.to_string(), active: client.active, form });
    }
    Ok(ExportFile { clavis_clients: FORMAT, clients })
}

/// Registers every entry under its own client_id, or none: the first bad entry is named.
pub async fn import(
    db: &Db,
    entries: &[ExportedClient],
    builtin: &ApiIdentifier,
) -> Result<Vec<Imported>, ImportError> {
    let mut checked = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let label = entry_label(i, Some(&entry.client_id));
        let bad = |m: String| ImportError::Entry(format!("{label}: {m}"));
        let id = ClientId::parse(&entry.client_id).map_err(|e| bad(format!("client_id: {e}")))?;
        let plain_id = id.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !plain_id || id.as_str().starts_with(apis::CLIENT_ID_PREFIX) || id.as_str().starts_with('-') {
            return Err(bad(format!(
                "client_id: letters, digits, '-', '.', '_' and '~' only, not starting with '-' or {}",
                apis::CLIENT_ID_PREFIX
            )));
        }
        if entries[..i].iter().any(|other| other.client_id == entry.client_id) {
            return Err(bad("client_id: listed twice in the file".into()));
        }
        if db.find_client(&id).await?.is_some() {
            return Err(bad("client_id: a client with this ID exists already".into()));
        }
        let spec = entry.form.validate().map_err(|e| bad(first_error(&e)))?;
        let (api_set, api_names) = form_apis(db, &entry.form, builtin).await.map_err(|e| match e {
            RegistryError::Db(e) => ImportError::Db(e),
            RegistryError::Invalid(e) => bad(first_error(&e)),
            e => bad(e.to_string()),
        })?;
        let (plain, stored) = match spec.auth.has_secret() {
            true => {
                let (p, s) = PlainSecret::generate();
                (Some(p), Some(s))
            }
            false => (None, None),
        };
        let mut changes = diff(None, Some(&ClientForm { apis: api_names, ..ClientForm::from_spec(&spec) }));
        if stored.is_some() {
            changes.push(secret_change("issued"));
        }
        let event = Event::client("client.imported", &id, changes);
        checked.push((id, spec, api_set, stored, plain, event, entry.active));
    }
    let rows: Vec<NewClient<'_>> = checked
        .iter()
        .map(|(id, spec, apis, stored, _, event, active)| NewClient {
            client_id: id,
            spec,
            secret: stored.as_ref(),
            apis: apis.as_ref(),
            active: *active,
            registration: None,
            event,
        })
        .collect();
    db.insert_clients(&rows, now_unix()).await.map_err(|e| match e {
        DbError::Duplicate => {
            ImportError::Entry("a client_id was taken while importing; nothing was imported".into())
        }
        e => e.into(),
    })?;
    drop(rows);
    Ok(checked
        .into_iter()
        .map(|(client_id, spec, _, _, secret, _, _)| Imported {
            client_id,
            name: spec.name.to_string(),
            secret,
        })
        .collect())
}
