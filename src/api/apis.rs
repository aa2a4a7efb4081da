//! The admin pages' data API for registered APIs (resource servers). Each function checks that
//! the caller is a signed-in administrator; changes also need the session's CSRF token.

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::domain::api::{Api, ApiForm};

/// An API as the admin pages show it. Never holds the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiView {
    /// Its row id: the key of its pages (the built-in API has no client_id).
    pub id: i64,
    pub api: Api,
    pub introspection_endpoint: String,
}

/// One page of the API list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiListPage {
    pub rows: Vec<ApiView>,
    pub total: i64,
}

/// An API together with a secret that is shown now and never again. `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiWithSecret {
    pub api: ApiView,
    pub secret: String,
}

impl std::fmt::Debug for ApiWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiWithSecret").field("api", &self.api).field("secret", &"<redacted>").finish()
    }
}

/// Rows per page of the API list.
pub const API_PAGE_SIZE: u32 = 50;

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::{api::guard::fail, registry::apis::ApiRegistryError, state::AppState};

    pub fn view(state: &AppState, id: i64, api: Api) -> ApiView {
        ApiView { id, api, introspection_endpoint: format!("{}/oauth2/introspect", state.issuer.as_str()) }
    }

    pub fn registry_error(e: ApiRegistryError) -> ApiError {
        fail(match e {
            ApiRegistryError::Invalid(errors) => ApiError::InvalidApi(errors),
            ApiRegistryError::NotFound => ApiError::ApiNotFound,
            ApiRegistryError::BuiltIn(why) => ApiError::BadRequest(why.to_string()),
            ApiRegistryError::Db(e) => ApiError::internal(e),
        })
    }
}

#[server(endpoint = "apis/list", input = Json)]
pub async fn list_apis(search: String, page: u32) -> Result<ApiListPage, ApiError> {
    let state = super::guard::admin().await?;
    let builtin = state.issuer.builtin_api();
    let found = crate::registry::apis::list(&state.db, &search, page.max(1), API_PAGE_SIZE, builtin)
        .await
        .map_err(server::registry_error)?;
    Ok(ApiListPage {
        rows: found.rows.into_iter().map(|(id, api)| server::view(&state, id, api)).collect(),
        total: found.total,
    })
}

#[server(endpoint = "apis/get", input = Json)]
pub async fn get_api(id: i64) -> Result<ApiView, ApiError> {
    let state = super::guard::admin().await?;
    let api = crate::registry::apis::get(&state.db, id, state.issuer.builtin_api())
        .await
        .map_err(server::registry_error)?;
    Ok(server::view(&state, id, api))
}

#[server(endpoint = "apis/create", input = Json)]
pub async fn create_api(csrf: String, form: ApiForm) -> Result<ApiWithSecret, ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    let (id, api, secret) = crate::registry::apis::create(&state.db, &form, state.issuer.builtin_api())
        .await
        .map_err(server::registry_error)?;
    Ok(ApiWithSecret { api: server::view(&state, id, api), secret: secret.expose().to_string() })
}

#[server(endpoint = "apis/update", input = Json)]
pub async fn update_api(csrf: String, id: i64, form: ApiForm) -> Result<ApiView, ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    let api = crate::registry::apis::update(&state.db, id, &form, state.issuer.builtin_api())
        .await
        .map_err(server::registry_error)?;
    Ok(server::view(&state, id, api))
}

#[server(endpoint = "apis/set_active", input = Json)]
pub async fn set_api_active(csrf: String, id: i64, active: bool) -> Result<ApiView, ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    let api = crate::registry::apis::set_active(&state.db, id, active, state.issuer.builtin_api())
        .await
        .map_err(server::registry_error)?;
    Ok(server::view(&state, id, api))
}

#[server(endpoint = "apis/regenerate_secret", input = Json)]
pub async fn regenerate_api_secret(csrf: String, id: i64) -> Result<ApiWithSecret, ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    let (api, secret) = crate::registry::apis::regenerate_secret(&state.db, id, state.issuer.builtin_api())
        .await
        .map_err(server::registry_error)?;
    Ok(ApiWithSecret { api: server::view(&state, id, api), secret: secret.expose().to_string() })
}

#[server(endpoint = "apis/delete", input = Json)]
pub async fn delete_api(csrf: String, id: i64) -> Result<(), ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    crate::registry::apis::delete(&state.db, id, state.issuer.builtin_api())
        .await
        .map_err(server::registry_error)
}
