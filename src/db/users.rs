//! The `users` table.

use super::{Db, DbError, now_unix, unique_violation};
use crate::domain::{Role, Username};

/// What sign-in needs: the stored hash and who it belongs to. `Debug` leaves the hash out.
pub struct Credentials {
    pub user_id: i64,
    pub password_hash: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user_id", &self.user_id)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

impl Db {
    /// Inserts a user; [`DbError::Duplicate`] when the username is taken.
    pub async fn insert_user(
        &self,
        username: &Username,
        password_hash: &str,
        role: Role,
    ) -> Result<i64, DbError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, password_hash, role, display_name, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(username.as_str())
        .bind(password_hash)
        .bind(role.as_str())
        .bind(username.as_str())
        .bind(now_unix())
        .fetch_one(self.pool())
        .await
        .map_err(unique_violation)?;
        Ok(id)
    }

    pub async fn find_credentials(&self, username: &Username) -> Result<Option<Credentials>, DbError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT id, password_hash FROM users WHERE username = $1")
                .bind(username.as_str())
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(user_id, password_hash)| Credentials { user_id, password_hash }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_leaves_the_password_hash_out() {
        let c =
            Credentials { user_id: 7, password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into() };
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("argon2id") && !shown.contains("aGFzaA"), "{shown}");
        assert!(shown.contains("user_id: 7") && shown.contains("<redacted>"), "{shown}");
    }
}
