//! The admin pages' data API for OAuth2 clients. Each function checks that the caller is a
//! signed-in administrator; changes also need the session's CSRF token. Input is JSON, so a page
//! on another site cannot send it without a CORS preflight, which is never granted.

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::domain::client::{ClientForm, ClientPage, ListQuery, SecretInfo};

/// A client as the admin pages show it. Never holds the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    pub client_id: String,
    /// Every setting, in the form's terms (also what the edit page starts from).
    pub form: ClientForm,
    pub active: bool,
    pub secret: Option<SecretInfo>,
    pub created_at: i64,
    pub updated_at: i64,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
}

/// A client together with a secret that is shown now and never again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithSecret {
    pub client: ClientView,
    pub secret: Option<String>,
}

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::{
        api::guard::fail,
        domain::client::{Client, ClientId},
        registry::{PlainSecret, RegistryError},
        startup::AppState,
    };

    pub fn view(state: &AppState, c: Client) -> ClientView {
        let issuer = state.issuer.as_str();
        ClientView {
            client_id: c.client_id.to_string(),
            form: ClientForm::from_spec(&c.spec),
            active: c.active,
            secret: c.secret,
            created_at: c.created_at,
            updated_at: c.updated_at,
            authorization_endpoint: format!("{issuer}/oauth2/authorize"),
            token_endpoint: format!("{issuer}/oauth2/token"),
        }
    }

    pub fn with_secret(state: &AppState, c: Client, s: Option<PlainSecret>) -> WithSecret {
        WithSecret { client: view(state, c), secret: s.map(|s| s.expose().to_string()) }
    }

    pub fn id(raw: &str) -> Result<ClientId, ApiError> {
        ClientId::parse(raw).map_err(|_| fail(ApiError::NotFound))
    }

    pub fn registry_error(e: RegistryError) -> ApiError {
        fail(match e {
            RegistryError::Invalid(errors) => ApiError::Invalid(errors),
            RegistryError::NotFound => ApiError::NotFound,
            RegistryError::NoSecret => ApiError::NoSecret,
            RegistryError::Db(e) => ApiError::internal(e),
        })
    }
}

#[server(endpoint = "clients/list", input = Json)]
pub async fn list_clients(query: ListQuery) -> Result<ClientPage, ApiError> {
    let state = super::guard::admin().await?;
    crate::registry::list(&state.db, &query).await.map_err(server::registry_error)
}

#[server(endpoint = "clients/get", input = Json)]
pub async fn get_client(client_id: String) -> Result<ClientView, ApiError> {
    let state = super::guard::admin().await?;
    let client =
        crate::registry::get(&state.db, &server::id(&client_id)?).await.map_err(server::registry_error)?;
    Ok(server::view(&state, client))
}

#[server(endpoint = "clients/create", input = Json)]
pub async fn create_client(csrf: String, form: ClientForm) -> Result<WithSecret, ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    let (client, secret) = crate::registry::create(&state.db, &form).await.map_err(server::registry_error)?;
    Ok(server::with_secret(&state, client, secret))
}

#[server(endpoint = "clients/update", input = Json)]
pub async fn update_client(
    csrf: String,
    client_id: String,
    form: ClientForm,
) -> Result<WithSecret, ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    let id = server::id(&client_id)?;
    let (client, secret) =
        crate::registry::update(&state.db, &id, &form).await.map_err(server::registry_error)?;
    Ok(server::with_secret(&state, client, secret))
}

#[server(endpoint = "clients/set_active", input = Json)]
pub async fn set_client_active(
    csrf: String,
    client_id: String,
    active: bool,
) -> Result<ClientView, ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    let id = server::id(&client_id)?;
    let client = crate::registry::set_active(&state.db, &id, active).await.map_err(server::registry_error)?;
    Ok(server::view(&state, client))
}

#[server(endpoint = "clients/regenerate_secret", input = Json)]
pub async fn regenerate_client_secret(
    csrf: String,
    client_id: String,
    grace: String,
) -> Result<WithSecret, ApiError> {
    use crate::domain::client::SecretGrace;
    let state = super::guard::admin_change(&csrf).await?;
    let id = server::id(&client_id)?;
    let grace =
        SecretGrace::parse(&grace).map_err(|e| super::guard::fail(ApiError::BadRequest(e.to_string())))?;
    let (client, secret) =
        crate::registry::regenerate_secret(&state.db, &id, grace).await.map_err(server::registry_error)?;
    Ok(server::with_secret(&state, client, Some(secret)))
}

#[server(endpoint = "clients/delete", input = Json)]
pub async fn delete_client(csrf: String, client_id: String) -> Result<(), ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    crate::registry::delete(&state.db, &server::id(&client_id)?).await.map_err(server::registry_error)
}
