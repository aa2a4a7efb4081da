//! The one-row `settings` table. Read where it is needed, never cached: the CLI may change it
//! while the server runs.

use std::num::NonZeroU32;

use super::{Db, DbError, now_unix};
use crate::domain::settings::InstanceSettings;

/// The settings to change; `None` keeps the stored value.
#[derive(Debug, Default, Clone, Copy)]
pub struct SettingsPatch {
    pub access_token_lifetime: Option<NonZeroU32>,
    pub refresh_token_lifetime: Option<NonZeroU32>,
    pub session_cap: Option<NonZeroU32>,
    pub session_max_lifetime: Option<NonZeroU32>,
    pub api_enabled: Option<bool>,
}

fn positive(column: &str, v: i64) -> Result<NonZeroU32, DbError> {
    u32::try_from(v)
        .ok()
        .and_then(NonZeroU32::new)
        .ok_or_else(|| DbError::Corrupt(format!("settings.{column}: {v}")))
}

impl Db {
    pub async fn settings(&self) -> Result<InstanceSettings, DbError> {
        let (access, refresh, cap, max, api): (i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT access_token_lifetime_secs, refresh_token_lifetime_secs, session_cap, \
               session_max_lifetime_secs, api_enabled FROM settings WHERE id = 1",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(InstanceSettings {
            access_token_lifetime: positive("access_token_lifetime_secs", access)?,
            refresh_token_lifetime: positive("refresh_token_lifetime_secs", refresh)?,
            session_cap: positive("session_cap", cap)?,
            session_max_lifetime: positive("session_max_lifetime_secs", max)?,
            api_enabled: api == 1,
        })
    }

    /// Changes the given settings in one statement (no read-then-write race) and returns them all.
    pub async fn update_settings(&self, patch: SettingsPatch) -> Result<InstanceSettings, DbError> {
        sqlx::query(
            "UPDATE settings SET \
               access_token_lifetime_secs = COALESCE($1, access_token_lifetime_secs), \
               refresh_token_lifetime_secs = COALESCE($2, refresh_token_lifetime_secs), \
               session_cap = COALESCE($3, session_cap), \
               api_enabled = COALESCE($4, api_enabled), \
               updated_at = $5, \
               session_max_lifetime_secs = COALESCE($6, session_max_lifetime_secs) \
             WHERE id = 1",
        )
        .bind(patch.access_token_lifetime.map(|n| i64::from(n.get())))
        .bind(patch.refresh_token_lifetime.map(|n| i64::from(n.get())))
        .bind(patch.session_cap.map(|n| i64::from(n.get())))
        .bind(patch.api_enabled.map(i64::from))
        .bind(now_unix())
        .bind(patch.session_max_lifetime.map(|n| i64::from(n.get())))
        .execute(self.pool())
        .await?;
        self.settings().await
    }
}
