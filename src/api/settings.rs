//! The settings page's data API: the instance-wide settings, read and saved as one form. Only
//! administrators; saving also needs the session's CSRF token. Changes apply at once (every token
//! request reads them), as with `clavis settings set`.

use leptos::{prelude::*, server_fn::codec::Json};

use super::ApiError;
use crate::domain::settings::SettingsForm;

#[cfg(feature = "ssr")]
async fn current(state: &crate::state::AppState) -> Result<SettingsForm, ApiError> {
    let fail = |e: crate::db::DbError| super::guard::fail(ApiError::internal(e));
    let settings = state.db.settings().await.map_err(fail)?;
    let hosts = state.db.metadata_document_hosts().await.map_err(fail)?;
    Ok(SettingsForm::of(&settings, &hosts))
}

#[server(endpoint = "settings/get", input = Json)]
pub async fn get_settings() -> Result<SettingsForm, ApiError> {
    let state = super::guard::admin().await?;
    current(&state).await
}

/// Checks every field (errors name each one) and saves them all, or nothing.
#[server(endpoint = "settings/save", input = Json)]
pub async fn save_settings(csrf: String, form: SettingsForm) -> Result<SettingsForm, ApiError> {
    use crate::db::settings::SettingsPatch;
    let state = super::guard::admin_change(&csrf).await?;
    let valid = form.validate().map_err(|e| super::guard::fail(ApiError::InvalidSettings(e)))?;
    let s = valid.settings;
    let patch = SettingsPatch {
        access_token_lifetime: Some(s.access_token_lifetime),
        refresh_token_lifetime: Some(s.refresh_token_lifetime),
        session_cap: Some(s.session_cap),
        session_max_lifetime: Some(s.session_max_lifetime),
        api_enabled: Some(s.api_enabled),
        registration: Some(s.registration),
        client_metadata_documents: Some(s.client_metadata_documents),
        max_self_registered: Some(s.max_self_registered),
    };
    state
        .db
        .save_settings(patch, Some(&valid.metadata_document_hosts))
        .await
        .map_err(|e| super::guard::fail(ApiError::internal(e)))?;
    tracing::info!("instance settings changed on the settings page");
    current(&state).await
}
