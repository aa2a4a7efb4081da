//! The admin pages' data API for OAuth2 clients. Each function checks that the caller is a
//! signed-in administrator; changes also need the session's CSRF token. Input is JSON, so a page
//! on another site cannot send it without a CORS preflight, which is never granted.

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::domain::{
    client::{ClientForm, ClientOrigin, ClientPage, ListQuery, SecretInfo},
    settings::InstanceSettings,
};

/// A registered API, as the client form offers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiOption {
    pub identifier: String,
    pub name: String,
    pub active: bool,
}

/// What the add page needs: the instance settings "global" stands for, and the APIs to choose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormContext {
    pub defaults: InstanceSettings,
    pub apis: Vec<ApiOption>,
}

/// One page of a client's live sessions, and how many there are of how many users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsView {
    pub total: i64,
    pub users: i64,
    /// (username, created, last used), newest first.
    pub rows: Vec<(String, i64, i64)>,
}

/// Sessions per page in a client's details.
pub const SESSIONS_PAGE_SIZE: u32 = 20;

/// A client as the admin pages show it. Never holds the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    pub client_id: String,
    /// Every setting, in the form's terms (also what the edit page starts from).
    pub form: ClientForm,
    pub active: bool,
    /// Who registered it.
    pub origin: ClientOrigin,
    pub secret: Option<SecretInfo>,
    pub created_at: i64,
    pub updated_at: i64,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    /// The instance settings that "global" stands for, as they are now.
    pub defaults: InstanceSettings,
    /// The registered APIs, for the edit form.
    pub api_options: Vec<ApiOption>,
}

/// A client together with a secret that is shown now and never again. `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithSecret {
    pub client: ClientView,
    pub secret: Option<String>,
}

impl std::fmt::Debug for WithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithSecret")
            .field("client", &self.client)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::{
        api::guard::fail,
        domain::client::{Client, ClientId},
        registry::{PlainSecret, RegistryError},
        state::AppState,
    };

    /// The instance settings and the registered APIs, read now (the CLI may have changed them).
    pub async fn defaults(state: &AppState) -> Result<FormContext, ApiError> {
        let defaults = state.db.settings().await.map_err(|e| fail(ApiError::internal(e)))?;
        let apis = state
            .db
            .all_apis(state.issuer.builtin_api())
            .await
            .map_err(|e| fail(ApiError::internal(e)))?
            .into_iter()
            .map(|a| ApiOption { identifier: a.identifier, name: a.name, active: a.active })
            .collect();
        Ok(FormContext { defaults, apis })
    }

    /// `context` is read before any change is made, so a failed read never loses a secret that
    /// was just issued. The form (with the client's APIs) is read after.
    pub async fn view(state: &AppState, c: Client, context: FormContext) -> ClientView {
        let issuer = state.issuer.as_str();
        let form = crate::registry::form_of(&state.db, &c, state.issuer.builtin_api())
            .await
            .unwrap_or_else(|_| ClientForm::from_spec(&c.spec));
        ClientView {
            client_id: c.client_id.to_string(),
            form,
            active: c.active,
            origin: c.origin,
            secret: c.secret,
            created_at: c.created_at,
            updated_at: c.updated_at,
            authorization_endpoint: format!("{issuer}/oauth2/authorize"),
            token_endpoint: format!("{issuer}/oauth2/token"),
            defaults: context.defaults,
            api_options: context.apis,
        }
    }

    pub async fn with_secret(
        state: &AppState,
        c: Client,
        s: Option<PlainSecret>,
        context: FormContext,
    ) -> WithSecret {
        WithSecret { client: view(state, c, context).await, secret: s.map(|s| s.expose().to_string()) }
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
    let defaults = server::defaults(&state).await?;
    let client =
        crate::registry::get(&state.db, &server::id(&client_id)?).await.map_err(server::registry_error)?;
    Ok(server::view(&state, client, defaults).await)
}

/// The instance settings a new client's "global" choices stand for, and the APIs to choose.
#[server(endpoint = "clients/defaults", input = Json)]
pub async fn client_defaults() -> Result<FormContext, ApiError> {
    let state = super::guard::admin().await?;
    server::defaults(&state).await
}

#[server(endpoint = "clients/create", input = Json)]
pub async fn create_client(csrf: String, form: ClientForm) -> Result<WithSecret, ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    let defaults = server::defaults(&state).await?;
    let (client, secret) = crate::registry::create(&state.db, &form, state.issuer.builtin_api())
        .await
        .map_err(server::registry_error)?;
    Ok(server::with_secret(&state, client, secret, defaults).await)
}

#[server(endpoint = "clients/update", input = Json)]
pub async fn update_client(
    csrf: String,
    client_id: String,
    form: ClientForm,
) -> Result<WithSecret, ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    let defaults = server::defaults(&state).await?;
    let id = server::id(&client_id)?;
    let (client, secret) = crate::registry::update(&state.db, &id, &form, state.issuer.builtin_api())
        .await
        .map_err(server::registry_error)?;
    Ok(server::with_secret(&state, client, secret, defaults).await)
}

#[server(endpoint = "clients/set_active", input = Json)]
pub async fn set_client_active(
    csrf: String,
    client_id: String,
    active: bool,
) -> Result<ClientView, ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    let defaults = server::defaults(&state).await?;
    let id = server::id(&client_id)?;
    let client = crate::registry::set_active(&state.db, &id, active).await.map_err(server::registry_error)?;
    Ok(server::view(&state, client, defaults).await)
}

#[server(endpoint = "clients/regenerate_secret", input = Json)]
pub async fn regenerate_client_secret(
    csrf: String,
    client_id: String,
    grace: String,
) -> Result<WithSecret, ApiError> {
    use crate::domain::client::SecretGrace;
    let state = super::guard::admin_change(&csrf).await?;
    let defaults = server::defaults(&state).await?;
    let id = server::id(&client_id)?;
    let grace =
        SecretGrace::parse(&grace).map_err(|e| super::guard::fail(ApiError::BadRequest(e.to_string())))?;
    let (client, secret) =
        crate::registry::regenerate_secret(&state.db, &id, grace).await.map_err(server::registry_error)?;
    Ok(server::with_secret(&state, client, Some(secret), defaults).await)
}

#[server(endpoint = "clients/sessions", input = Json)]
pub async fn client_sessions(client_id: String, page: u32) -> Result<SessionsView, ApiError> {
    let state = super::guard::admin().await?;
    let offset = i64::from(page.max(1) - 1) * i64::from(SESSIONS_PAGE_SIZE);
    let s = state
        .db
        .client_sessions(&client_id, crate::db::now_unix(), i64::from(SESSIONS_PAGE_SIZE), offset)
        .await
        .map_err(|e| super::guard::fail(ApiError::internal(e)))?;
    Ok(SessionsView {
        total: s.total,
        users: s.users,
        rows: s.rows.into_iter().map(|r| (r.username, r.created_at, r.last_used_at)).collect(),
    })
}

/// Ends every session of the client at once (a breach); returns how many ended.
#[server(endpoint = "clients/revoke_sessions", input = Json)]
pub async fn revoke_client_sessions(csrf: String, client_id: String) -> Result<u64, ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    let ended = crate::registry::revoke_sessions(&state.db, &server::id(&client_id)?)
        .await
        .map_err(server::registry_error)?;
    tracing::info!(client_id, sessions = ended, "every session of a client revoked by an administrator");
    Ok(ended)
}

/// A client registered by an import, with its new secret (shown once). `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedClient {
    pub client_id: String,
    pub name: String,
    pub secret: Option<String>,
}

impl std::fmt::Debug for ImportedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportedClient")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Registers the clients of an export file (its text), all or none; the error names the first
/// bad entry.
#[server(endpoint = "clients/import", input = Json)]
pub async fn import_clients(csrf: String, file: String) -> Result<Vec<ImportedClient>, ApiError> {
    use crate::registry::transfer::{ImportError, import};
    let state = super::guard::admin_change(&csrf).await?;
    let entries = crate::domain::client::transfer::parse_file(&file)
        .map_err(|e| super::guard::fail(ApiError::BadRequest(format!("Import file: {e}"))))?;
    let imported = import(&state.db, &entries, state.issuer.builtin_api()).await.map_err(|e| {
        super::guard::fail(match e {
            ImportError::Entry(m) => ApiError::BadRequest(format!("Import file: {m}")),
            ImportError::Db(e) => ApiError::internal(e),
        })
    })?;
    tracing::info!(clients = imported.len(), "clients imported on the client list");
    Ok(imported
        .into_iter()
        .map(|c| ImportedClient {
            client_id: c.client_id.to_string(),
            name: c.name,
            secret: c.secret.map(|s| s.expose().to_string()),
        })
        .collect())
}

#[server(endpoint = "clients/delete", input = Json)]
pub async fn delete_client(csrf: String, client_id: String) -> Result<(), ApiError> {
    let state = super::guard::admin_change(&csrf).await?;
    crate::registry::delete(&state.db, &server::id(&client_id)?).await.map_err(server::registry_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_new_secret() {
        let client = ClientView {
            client_id: "abcdefghijklmnop".into(),
            form: ClientForm::default(),
            active: true,
            origin: ClientOrigin::Admin,
            secret: None,
            created_at: 0,
            updated_at: 0,
            authorization_endpoint: String::new(),
            token_endpoint: String::new(),
            defaults: InstanceSettings::default(),
            api_options: Vec::new(),
        };
        let issued = WithSecret { client, secret: Some("the-new-secret-value".into()) };
        let shown = format!("{issued:?} {issued:#?}");
        assert!(!shown.contains("the-new-secret-value"), "{shown}");
        assert!(shown.contains("abcdefghijklmnop") && shown.contains("<redacted>"), "{shown}");
    }
}
