//! The `sessions` table: browser sign-in sessions, keyed by the SHA-256 digest of the cookie.

use super::{Db, DbError};
use crate::domain::{Role, Username};

/// The signed-in user behind a live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub user_id: i64,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
}

impl Db {
    /// Creates a session, in one transaction dropping the one it replaces (session renewal at
    /// sign-in) and the user's expired ones.
    pub async fn create_session(
        &self,
        id_hash: &[u8],
        replaces: Option<&[u8]>,
        user_id: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        if let Some(old) = replaces {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(old).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2")
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One indexed lookup per request: the session and its user together.
    pub async fn find_session(&self, id_hash: &[u8], now: i64) -> Result<Option<SessionUser>, DbError> {
        let row: Option<(i64, String, String, String)> = sqlx::query_as(
            "SELECT u.id, u.username, u.display_name, u.role \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        row.map(|(user_id, username, display_name, role)| {
            Ok(SessionUser {
                user_id,
                username: Username::parse(&username)
                    .map_err(|e| DbError::Corrupt(format!("users.username: {e}")))?,
                display_name,
                role: Role::parse(&role).map_err(|e| DbError::Corrupt(format!("users.role: {e}")))?,
            })
        })
        .transpose()
    }

    pub async fn delete_session(&self, id_hash: &[u8]) -> Result<(), DbError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(self.pool()).await?;
        Ok(())
    }
}
