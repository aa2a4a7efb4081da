//! The API registry's operations, shared by the admin server functions and the CLI: validate
//! through the domain, issue credentials (a client_id and a 256-bit secret, stored as a digest),
//! persist. The built-in API is listed but cannot be changed, deactivated or deleted.

use super::PlainSecret;
use crate::{
    auth::token,
    db::{Db, DbError, apis::ApiPage, audit::Event, now_unix},
    domain::{
        api::{Api, ApiField, ApiFieldErrors, ApiForm, ApiIdentifier, ApiSet, ApiSpec},
        audit::{FieldChange, diff, yes_no},
        client::ClientId,
    },
};

/// Every API's client_id starts with this; clients' never do.
pub const CLIENT_ID_PREFIX: &str = "api_";

#[derive(Debug, thiserror::Error)]
pub enum ApiRegistryError {
    #[error("{0}")]
    Invalid(ApiFieldErrors),
    #[error("no API has this identifier or client_id")]
    NotFound,
    /// What the built-in API cannot do, in words.
    #[error("{0}")]
    BuiltIn(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn invalid(field: ApiField, message: &str) -> ApiRegistryError {
    ApiRegistryError::Invalid(ApiFieldErrors(vec![(field, message.to_string())]))
}

fn validate(form: &ApiForm, builtin: &ApiIdentifier) -> Result<ApiSpec, ApiRegistryError> {
    let spec = form.validate().map_err(ApiRegistryError::Invalid)?;
    if spec.identifier == *builtin {
        return Err(invalid(ApiField::Identifier, "is the built-in API's identifier"));
    }
    Ok(spec)
}

/// An API's settings in the form's terms, for the audit log.
fn form_of(api: &Api) -> ApiForm {
    ApiForm {
        name: api.name.clone(),
        identifier: api.identifier.to_string(),
        description: api.description.clone().unwrap_or_default(),
    }
}

fn spec_form(spec: &ApiSpec) -> ApiForm {
    ApiForm {
        name: spec.name.to_string(),
        identifier: spec.identifier.to_string(),
        description: spec.description.clone().unwrap_or_default(),
    }
}

fn issued(what: &str) -> Vec<FieldChange> {
    vec![FieldChange::new("secret", None, Some(what.to_string()))]
}

fn taken(e: DbError) -> ApiRegistryError {
    match e {
        DbError::Duplicate => invalid(ApiField::Identifier, "is already registered for another API"),
        e => e.into(),
    }
}

/// Registers a new, active API; its secret is returned once.
pub async fn create(
    db: &Db,
    form: &ApiForm,
    builtin: &ApiIdentifier,
) -> Result<(i64, Api, PlainSecret), ApiRegistryError> {
    let spec = validate(form, builtin)?;
    let (plain, stored) = PlainSecret::generate();
    let client_id = ClientId::parse(&format!("{CLIENT_ID_PREFIX}{}", token::random_id()))
        .map_err(|e| DbError::Corrupt(e.to_string()))?;
    let mut changes = diff(None, Some(&spec_form(&spec)));
    changes.push(FieldChange::new("client_id", None, Some(client_id.to_string())));
    changes.extend(issued("issued"));
    let event = Event::api("api.created", spec.identifier.as_str(), changes);
    let pk = db.insert_api(&spec, &client_id, &stored, now_unix(), &event).await.map_err(taken)?;
    Ok((pk, get(db, pk, builtin).await?, plain))
}

pub async fn get(db: &Db, pk: i64, builtin: &ApiIdentifier) -> Result<Api, ApiRegistryError> {
    db.api_by_pk(pk, builtin).await?.ok_or(ApiRegistryError::NotFound)
}

/// The row id of the API named by its identifier or its client_id.
pub async fn find(db: &Db, key: &str, builtin: &ApiIdentifier) -> Result<i64, ApiRegistryError> {
    db.api_pk(key, builtin).await?.ok_or(ApiRegistryError::NotFound)
}

pub async fn list(
    db: &Db,
    search: &str,
    page: u32,
    per_page: u32,
    builtin: &ApiIdentifier,
) -> Result<ApiPage, ApiRegistryError> {
    let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
    Ok(db.list_apis(search.trim(), i64::from(per_page), offset, builtin).await?)
}

/// Saves an edited API. Tokens already issued stay bound to it under its new identifier.
pub async fn update(
    db: &Db,
    pk: i64,
    form: &ApiForm,
    builtin: &ApiIdentifier,
) -> Result<Api, ApiRegistryError> {
    if pk == ApiSet::BUILTIN {
        return Err(ApiRegistryError::BuiltIn("the built-in API cannot be changed"));
    }
    let spec = validate(form, builtin)?;
    let before = get(db, pk, builtin).await?;
    let event = Event::api(
        "api.updated",
        spec.identifier.as_str(),
        diff(Some(&form_of(&before)), Some(&spec_form(&spec))),
    );
    if !db.update_api(pk, &spec, now_unix(), &event).await.map_err(taken)? {
        return Err(ApiRegistryError::NotFound);
    }
    get(db, pk, builtin).await
}

pub async fn set_active(
    db: &Db,
    pk: i64,
    active: bool,
    builtin: &ApiIdentifier,
) -> Result<Api, ApiRegistryError> {
    if pk == ApiSet::BUILTIN {
        return Err(ApiRegistryError::BuiltIn(if active {
            "the built-in API is always active"
        } else {
            "the built-in API cannot be deactivated; turn API access off with `clavis settings set --api-access off`"
        }));
    }
    let before = get(db, pk, builtin).await?;
    let event = Event::api(
        if active { "api.activated" } else { "api.deactivated" },
        before.identifier.as_str(),
        vec![FieldChange::new("active", yes_no(before.active), yes_no(active))],
    );
    if !db.set_api_active(pk, active, now_unix(), &event).await? {
        return Err(ApiRegistryError::NotFound);
    }
    get(db, pk, builtin).await
}

pub async fn delete(db: &Db, pk: i64, builtin: &ApiIdentifier) -> Result<(), ApiRegistryError> {
    if pk == ApiSet::BUILTIN {
        return Err(ApiRegistryError::BuiltIn("the built-in API cannot be deleted"));
    }
    let before = get(db, pk, builtin).await?;
    let event = Event::api("api.deleted", before.identifier.as_str(), diff(Some(&form_of(&before)), None));
    if db.delete_api(pk, &event).await? { Ok(()) } else { Err(ApiRegistryError::NotFound) }
}

/// Issues a new secret at once; the old one stops working.
pub async fn regenerate_secret(
    db: &Db,
    pk: i64,
    builtin: &ApiIdentifier,
) -> Result<(Api, PlainSecret), ApiRegistryError> {
    if pk == ApiSet::BUILTIN {
        return Err(ApiRegistryError::BuiltIn(
            "the built-in API has no secret: it checks tokens inside Clavis",
        ));
    }
    let before = get(db, pk, builtin).await?;
    let (plain, stored) = PlainSecret::generate();
    let event = Event::api(
        "api.secret_regenerated",
        before.identifier.as_str(),
        issued("regenerated; the previous one stopped at once"),
    );
    if !db.regenerate_api_secret(pk, &stored, now_unix(), &event).await? {
        return Err(ApiRegistryError::NotFound);
    }
    Ok((get(db, pk, builtin).await?, plain))
}
