//! Dynamic client registration (RFC 7591/7592): initial access tokens, the registration access
//! token and metadata kept on a self-registered client, and the cap on how many exist. Tokens
//! arrive here as SHA-256 digests.

use super::{Db, DbError, audit::Event};
use crate::domain::{audit::FieldChange, client::ClientId, time::format_utc};

/// An initial access token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RegistrationTokenRow {
    pub id: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub max_uses: Option<i64>,
    pub uses: i64,
}

impl Db {
    /// Self-registered clients (dynamic registration and metadata documents) that exist now.
    pub async fn count_self_registered(&self) -> Result<i64, DbError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM clients WHERE origin <> 'admin'")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }

    /// The registration access token digest and descriptive metadata of a client that registered
    /// itself; `None` for any other client.
    pub async fn registration_of(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<(Vec<u8>, Option<String>)>, DbError> {
        let row: Option<(Vec<u8>, Option<String>)> = sqlx::query_as(
            "SELECT registration_token_digest, metadata FROM clients \
             WHERE client_id = $1 AND registration_token_digest IS NOT NULL",
        )
        .bind(client_id.as_str())
        .fetch_optional(self.pool())
        .await?;
        Ok(row)
    }

    /// Rotates the registration access token and replaces the descriptive metadata.
    pub async fn set_registration(
        &self,
        client_id: &ClientId,
        token_digest: &[u8; 32],
        metadata: &str,
    ) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE clients SET registration_token_digest = $1, metadata = $2 \
             WHERE client_id = $3 AND registration_token_digest IS NOT NULL",
        )
        .bind(token_digest.to_vec())
        .bind(metadata)
        .bind(client_id.as_str())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_registration_token(
        &self,
        digest: &[u8; 32],
        now: i64,
        expires_at: Option<i64>,
        max_uses: Option<i64>,
    ) -> Result<i64, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO registration_tokens (digest, created_at, expires_at, max_uses, uses) \
             VALUES ($1, $2, $3, $4, 0) RETURNING id",
        )
        .bind(digest.to_vec())
        .bind(now)
        .bind(expires_at)
        .bind(max_uses)
        .fetch_one(&mut *tx)
        .await?;
        let changes = vec![
            FieldChange::new("expires_at", None, expires_at.map(format_utc)),
            FieldChange::new("max_uses", None, max_uses.map(|n| n.to_string())),
        ];
        self.record(&mut tx, &token_event("registration_token.created", id, changes)).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn registration_tokens(&self) -> Result<Vec<RegistrationTokenRow>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, created_at, expires_at, max_uses, uses FROM registration_tokens ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn revoke_registration_token(&self, id: i64) -> Result<bool, DbError> {
        let q = sqlx::query("DELETE FROM registration_tokens WHERE id = $1").bind(id);
        self.execute_audited(q, &token_event("registration_token.revoked", id, Vec::new())).await
    }

    /// Counts one use of an initial access token, in one statement: only while it is unexpired
    /// and has uses left. `false`: unknown, expired, used up or revoked.
    pub async fn use_registration_token(&self, digest: &[u8; 32], now: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE registration_tokens SET uses = uses + 1 WHERE digest = $1 \
               AND (expires_at IS NULL OR expires_at > $2) AND (max_uses IS NULL OR uses < max_uses)",
        )
        .bind(digest.to_vec())
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Host names whose metadata documents may be fetched from private or local addresses.
    pub async fn metadata_document_hosts(&self) -> Result<Vec<String>, DbError> {
        let (hosts,): (String,) = sqlx::query_as("SELECT metadata_document_hosts FROM settings WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok(hosts.split_whitespace().map(str::to_string).collect())
    }

    pub async fn set_metadata_document_hosts(&self, hosts: &[String]) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE settings SET metadata_document_hosts = $1 WHERE id = 1")
            .bind(hosts.join(" "))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A metadata document's client as stored: whether it is one, and until when its document
    /// may be used.
    pub async fn document_client(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<(bool, Option<i64>)>, DbError> {
        let row: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT origin, metadata_expires_at FROM clients WHERE client_id = $1")
                .bind(client_id.as_str())
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(origin, expires)| (origin == "metadata_document", expires)))
    }

    /// Keeps a freshly fetched document: its metadata and how long it may be used.
    pub async fn set_document_metadata(
        &self,
        client_id: &ClientId,
        metadata: &str,
        expires_at: i64,
    ) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE clients SET metadata = $1, metadata_expires_at = $2 \
             WHERE client_id = $3 AND origin = 'metadata_document'",
        )
        .bind(metadata)
        .bind(expires_at)
        .bind(client_id.as_str())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn token_event(action: &'static str, id: i64, changes: Vec<FieldChange>) -> Event {
    Event { action, target_type: "registration_token", target: id.to_string(), changes }
}
