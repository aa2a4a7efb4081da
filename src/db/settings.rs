//! The one-row `settings` table. Read where it is needed, never cached: the CLI may change it
//! while the server runs.

use std::num::NonZeroU32;

use super::{Db, DbError, audit::Event, now_unix};
use crate::domain::{
    audit::diff,
    settings::{InstanceSettings, RegistrationPolicy},
};

/// The settings to change; `None` keeps the stored value.
#[derive(Debug, Default, Clone, Copy)]
pub struct SettingsPatch {
    pub access_token_lifetime: Option<NonZeroU32>,
    pub refresh_token_lifetime: Option<NonZeroU32>,
    pub session_cap: Option<NonZeroU32>,
    pub session_max_lifetime: Option<NonZeroU32>,
    pub api_enabled: Option<bool>,
    pub registration: Option<RegistrationPolicy>,
    pub client_metadata_documents: Option<bool>,
    pub max_self_registered: Option<u32>,
}

/// The settings row's columns, as `s.` (the token endpoints join them to the client's row).
pub(super) const SETTINGS_COLUMNS: &str = "s.access_token_lifetime_secs AS s_access, \
     s.refresh_token_lifetime_secs AS s_refresh, s.session_cap AS s_cap, s.session_max_lifetime_secs AS s_max, \
     s.api_enabled AS s_api, s.registration AS s_registration, \
     s.client_metadata_documents AS s_documents, s.max_self_registered AS s_max_self";

#[derive(sqlx::FromRow)]
pub(super) struct SettingsRow {
    s_access: i64,
    s_refresh: i64,
    s_cap: i64,
    s_max: i64,
    s_api: i64,
    s_registration: String,
    s_documents: i64,
    s_max_self: i64,
}

impl TryFrom<SettingsRow> for InstanceSettings {
    type Error = DbError;

    fn try_from(r: SettingsRow) -> Result<Self, DbError> {
        Ok(InstanceSettings {
            access_token_lifetime: positive("access_token_lifetime_secs", r.s_access)?,
            refresh_token_lifetime: positive("refresh_token_lifetime_secs", r.s_refresh)?,
            session_cap: positive("session_cap", r.s_cap)?,
            session_max_lifetime: positive("session_max_lifetime_secs", r.s_max)?,
            api_enabled: r.s_api == 1,
            registration: RegistrationPolicy::parse(&r.s_registration)
                .map_err(|_| DbError::Corrupt(format!("settings.registration: {}", r.s_registration)))?,
            client_metadata_documents: r.s_documents == 1,
            max_self_registered: u32::try_from(r.s_max_self)
                .map_err(|_| DbError::Corrupt(format!("settings.max_self_registered: {}", r.s_max_self)))?,
        })
    }
}

pub(super) fn positive(column: &str, v: i64) -> Result<NonZeroU32, DbError> {
    u32::try_from(v)
        .ok()
        .and_then(NonZeroU32::new)
        .ok_or_else(|| DbError::Corrupt(format!("settings.{column}: {v}")))
}

impl Db {
    pub async fn settings(&self) -> Result<InstanceSettings, DbError> {
        let row: SettingsRow =
            sqlx::query_as(&format!("SELECT {SETTINGS_COLUMNS} FROM settings s WHERE id = 1"))
                .fetch_one(self.pool())
                .await?;
        row.try_into()
    }

    /// Changes the given settings in one statement (no read-then-write race) and returns them all.
    pub async fn update_settings(&self, patch: SettingsPatch) -> Result<InstanceSettings, DbError> {
        self.save_settings(patch, None).await?;
        self.settings().await
    }

    /// Changes the given settings (and, when given, the document host allow list) in one
    /// statement (no read-then-write race), recording what changed in the audit log in the same
    /// transaction.
    pub async fn save_settings(&self, patch: SettingsPatch, hosts: Option<&[String]>) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let before = snapshot(&mut tx).await?;
        sqlx::query(
            "UPDATE settings SET access_token_lifetime_secs = COALESCE($1, access_token_lifetime_secs), \
               refresh_token_lifetime_secs = COALESCE($2, refresh_token_lifetime_secs), \
               session_cap = COALESCE($3, session_cap), api_enabled = COALESCE($4, api_enabled), updated_at = $5, \
               session_max_lifetime_secs = COALESCE($6, session_max_lifetime_secs), \
               registration = COALESCE($7, registration), \
               client_metadata_documents = COALESCE($8, client_metadata_documents), \
               max_self_registered = COALESCE($9, max_self_registered), \
               metadata_document_hosts = COALESCE($10, metadata_document_hosts) \
             WHERE id = 1",
        )
        .bind(patch.access_token_lifetime.map(|n| i64::from(n.get())))
        .bind(patch.refresh_token_lifetime.map(|n| i64::from(n.get())))
        .bind(patch.session_cap.map(|n| i64::from(n.get())))
        .bind(patch.api_enabled.map(i64::from))
        .bind(now_unix())
        .bind(patch.session_max_lifetime.map(|n| i64::from(n.get())))
        .bind(patch.registration.map(RegistrationPolicy::as_str))
        .bind(patch.client_metadata_documents.map(i64::from))
        .bind(patch.max_self_registered.map(i64::from))
        .bind(hosts.map(|h| h.join(" ")))
        .execute(&mut *tx)
        .await?;
        let after = snapshot(&mut tx).await?;
        let event = Event {
            action: "settings.updated",
            target_type: "settings",
            target: String::new(),
            changes: diff(Some(&before), Some(&after)),
        };
        self.record(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The settings as the audit log compares them: every setting and the document host list.
#[derive(serde::Serialize)]
struct Snapshot {
    #[serde(flatten)]
    settings: InstanceSettings,
    metadata_document_hosts: String,
}

async fn snapshot(conn: &mut sqlx::AnyConnection) -> Result<Snapshot, DbError> {
    let row: SettingsRow = sqlx::query_as(&format!("SELECT {SETTINGS_COLUMNS} FROM settings s WHERE id = 1"))
        .fetch_one(&mut *conn)
        .await?;
    let (hosts,): (String,) = sqlx::query_as("SELECT metadata_document_hosts FROM settings WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    Ok(Snapshot { settings: row.try_into()?, metadata_document_hosts: hosts })
}
