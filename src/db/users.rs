//! The `users` table.

use super::{Backend, Db, DbError, audit::Event, now_unix, unique_violation};
use crate::domain::{
    Role, Username,
    audit::{FieldChange, yes_no},
};

/// A user as the admin tools see it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserRecord {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
}

/// What a change to a user would do to the administrators, checked in the same transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    Role(Role),
    Disabled(bool),
    Delete,
    Password,
    /// Nothing but the display name passed with it.
    Profile,
}

#[derive(Debug, thiserror::Error)]
pub enum UserChangeError {
    #[error("no user has this username")]
    NotFound,
    #[error("this is the last active administrator: make another user an administrator first")]
    LastAdmin,
    #[error(transparent)]
    Db(#[from] DbError),
}

type UserRow = (String, String, String, i64, i64);

fn record((username, display_name, role, disabled, created_at): UserRow) -> Result<UserRecord, DbError> {
    Ok(UserRecord {
        username,
        display_name,
        role: Role::parse(&role).map_err(|e| DbError::Corrupt(format!("users.role: {e}")))?,
        disabled: disabled == 1,
        created_at,
    })
}

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
    /// Inserts a user, recording it in the audit log in the same transaction;
    /// [`DbError::Duplicate`] when the username is taken.
    pub async fn insert_user(
        &self,
        username: &Username,
        password_hash: &str,
        role: Role,
    ) -> Result<i64, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, password_hash, role, display_name, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(username.as_str())
        .bind(password_hash)
        .bind(role.as_str())
        .bind(username.as_str())
        .bind(now_unix())
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_violation)?;
        let changes = vec![
            FieldChange::new("role", None, Some(role.as_str().to_string())),
            FieldChange::new("display_name", None, Some(username.to_string())),
            FieldChange::new("password", None, Some("set".into())),
        ];
        self.record(&mut tx, &Event::user("user.created", username.as_str(), changes)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A user's own new password: every browser session of theirs ends but `keep` (the one
    /// that asked), in the same transaction.
    pub async fn change_own_password(
        &self,
        username: &Username,
        user_id: i64,
        hash: &str,
        keep: &[u8],
    ) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(keep)
            .execute(&mut *tx)
            .await?;
        let change = FieldChange::new("password", None, Some("changed".into()));
        self.record(&mut tx, &Event::user("user.password_changed", username.as_str(), vec![change])).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn find_credentials(&self, username: &Username) -> Result<Option<Credentials>, DbError> {
        let row: Option<(i64, String)> =
            // A disabled user is no one to sign in as.
            sqlx::query_as("SELECT id, password_hash FROM users WHERE username = $1 AND disabled = 0")
                .bind(username.as_str())
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(user_id, password_hash)| Credentials { user_id, password_hash }))
    }
}

impl Db {
    /// Users by username; `search` finds text in the username or display name.
    pub async fn list_users(
        &self,
        search: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<UserRecord>, i64), DbError> {
        let pattern = format!("%{}%", super::clients::escape_like(&search.to_lowercase()));
        let filter = "WHERE username LIKE $1 ESCAPE '\\' OR LOWER(display_name) LIKE $1 ESCAPE '\\'";
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT username, display_name, role, disabled, created_at FROM users {filter} \
             ORDER BY username LIMIT $2 OFFSET $3"
        ))
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        let (total,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM users {filter}"))
            .bind(&pattern)
            .fetch_one(self.pool())
            .await?;
        Ok((rows.into_iter().map(record).collect::<Result<_, _>>()?, total))
    }

    pub async fn find_user(&self, username: &Username) -> Result<Option<UserRecord>, DbError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT username, display_name, role, disabled, created_at FROM users WHERE username = $1",
        )
        .bind(username.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(record).transpose()
    }

    /// Changes a user in one transaction. Whatever would leave no active administrator is
    /// refused (on Postgres the administrators' rows are locked, so two such changes at once
    /// cannot both pass). Disabling, deleting and a new password end the user's browser
    /// sessions; disabling and deleting also end every session and token issued to them and
    /// the codes and consent screens still open.
    pub async fn change_user(
        &self,
        username: &Username,
        change: UserChange,
        password_hash: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<UserRecord, UserChangeError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await.map_err(DbError::from)?;
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
        let admins: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT id, username FROM users WHERE role = 'admin' AND disabled = 0 ORDER BY id{lock}"
        ))
        .fetch_all(&mut *tx)
        .await
        .map_err(DbError::from)?;
        let user: Option<(i64, String, i64, String)> =
            sqlx::query_as("SELECT id, role, disabled, display_name FROM users WHERE username = $1")
                .bind(username.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(DbError::from)?;
        let Some((id, role, disabled, old_display)) = user else { return Err(UserChangeError::NotFound) };
        let active_admin = role == "admin" && disabled == 0;
        let removes_admin =
            matches!(change, UserChange::Role(Role::User) | UserChange::Disabled(true) | UserChange::Delete);
        if active_admin && removes_admin && admins.iter().all(|(a, _)| *a == id) {
            return Err(UserChangeError::LastAdmin);
        }
        let ends_everything = matches!(change, UserChange::Disabled(true) | UserChange::Delete);
        let q = |sql: &'static str| sqlx::query(sql).bind(id);
        match change {
            UserChange::Role(r) => sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
                .bind(id)
                .bind(r.as_str())
                .execute(&mut *tx)
                .await
                .map(drop),
            UserChange::Disabled(d) => sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                .bind(id)
                .bind(i64::from(d))
                .execute(&mut *tx)
                .await
                .map(drop),
            UserChange::Delete => q("DELETE FROM users WHERE id = $1").execute(&mut *tx).await.map(drop),
            UserChange::Password => sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(id)
                .bind(password_hash.unwrap_or_default())
                .execute(&mut *tx)
                .await
                .map(drop),
            UserChange::Profile => Ok(()),
        }
        .map_err(DbError::from)?;
        if let Some(name) = display_name {
            sqlx::query("UPDATE users SET display_name = $2 WHERE id = $1")
                .bind(id)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(DbError::from)?;
        }
        if ends_everything || change == UserChange::Password {
            q("DELETE FROM sessions WHERE user_id = $1").execute(&mut *tx).await.map_err(DbError::from)?;
        }
        if ends_everything {
            for sql in [
                "DELETE FROM grants WHERE user_id = $1",
                "DELETE FROM authorization_codes WHERE user_id = $1",
                "DELETE FROM authorization_requests WHERE user_id = $1",
            ] {
                q(sql).execute(&mut *tx).await.map_err(DbError::from)?;
            }
        }
        let event = change_event(username, change, (&role, disabled == 1, &old_display), display_name);
        self.record(&mut tx, &event).await?;
        tx.commit().await.map_err(DbError::from)?;
        if change == UserChange::Delete {
            return Ok(UserRecord {
                username: username.to_string(),
                display_name: String::new(),
                role: Role::parse(&role).unwrap_or(Role::User),
                disabled: true,
                created_at: 0,
            });
        }
        self.find_user(username).await?.ok_or(UserChangeError::NotFound)
    }
}

/// The audit entry of a user change: each field as it was (`role`, `disabled`, display name)
/// and as it is now; a password only as "changed".
fn change_event(
    username: &Username,
    change: UserChange,
    (role, disabled, display): (&str, bool, &str),
    new_display: Option<&str>,
) -> Event {
    let mut changes = Vec::new();
    let action = match change {
        UserChange::Role(r) => {
            if r.as_str() != role {
                changes.push(FieldChange::new("role", Some(role.to_string()), Some(r.as_str().to_string())));
            }
            "user.updated"
        }
        UserChange::Disabled(d) => {
            changes.push(FieldChange::new("disabled", yes_no(disabled), yes_no(d)));
            if d { "user.disabled" } else { "user.enabled" }
        }
        UserChange::Delete => {
            changes.push(FieldChange::new("role", Some(role.to_string()), None));
            changes.push(FieldChange::new("display_name", Some(display.to_string()), None));
            "user.deleted"
        }
        UserChange::Password => {
            changes.push(FieldChange::new("password", None, Some("changed".into())));
            "user.password_reset"
        }
        UserChange::Profile => "user.updated",
    };
    if let Some(new) = new_display.filter(|n| *n != display) {
        changes.push(FieldChange::new("display_name", Some(display.to_string()), Some(new.to_string())));
    }
    Event::user(action, username.as_str(), changes)
}

impl Db {
    pub async fn set_display_name(&self, user_id: i64, display_name: &str) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
            .bind(display_name)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
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
