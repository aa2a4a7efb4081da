//! What the authorization server stores: pending consent requests and authorization codes
//! ([`codes`]), sessions (`grants`: one authorization and the tokens issued from it, [`grants`])
//! and tokens ([`tokens`]). Every secret arrives here as a SHA-256 digest. Each operation that
//! issues or rotates tokens is one transaction, so nothing is half-written and the session cap
//! holds under concurrency.

mod codes;
mod grants;
mod tokens;

use std::sync::OnceLock;

pub use codes::*;
pub use grants::*;
pub use tokens::*;

use sqlx::{FromRow, Row, any::AnyRow};

use super::{
    Backend, Db, DbError,
    clients::{CLIENT_COLUMNS, ClientRow},
    settings::{SETTINGS_COLUMNS, SettingsRow},
};
use crate::domain::{Scope, api::ApiSet, client::Client, settings::InstanceSettings};

/// A client as the OAuth endpoints need it: settings, row id, secret digests, and the instance
/// settings, all from one query.
pub struct StoredClient {
    pub pk: i64,
    pub client: Client,
    pub secret_digest: Option<Vec<u8>>,
    pub old_secret_digest: Option<Vec<u8>>,
    pub old_secret_expires_at: Option<i64>,
    pub settings: InstanceSettings,
    /// The APIs the client may ask tokens for; `None`: any active API.
    pub allowed_apis: Option<ApiSet>,
}

#[derive(sqlx::FromRow)]
struct StoredClientRow {
    #[sqlx(flatten)]
    client: ClientRow,
    pk: i64,
    secret_digest: Option<Vec<u8>>,
    old_secret_digest: Option<Vec<u8>>,
    apis: Option<ApiSet>,
    #[sqlx(flatten)]
    settings: SettingsRow,
}

impl TryFrom<StoredClientRow> for StoredClient {
    type Error = DbError;

    fn try_from(r: StoredClientRow) -> Result<Self, DbError> {
        let old_secret_expires_at = r.client.old_secret_expires_at;
        Ok(StoredClient {
            pk: r.pk,
            client: Client::try_from(r.client)?,
            secret_digest: r.secret_digest,
            old_secret_digest: r.old_secret_digest,
            old_secret_expires_at,
            allowed_apis: r.apis,
            settings: r.settings.try_into()?,
        })
    }
}

fn stored_client_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let columns: Vec<String> = CLIENT_COLUMNS.split(',').map(|c| format!("c.{}", c.trim())).collect();
        format!(
            "SELECT {}, c.id AS pk, c.secret_digest, c.old_secret_digest, c.apis, {SETTINGS_COLUMNS} \
             FROM clients c CROSS JOIN settings s WHERE c.client_id = $1 AND s.id = 1",
            columns.join(", ")
        )
    })
}

/// A token to store: its digest, lifetime end (`None`: never), scope and audience (for a refresh
/// token: the APIs its session was granted).
pub struct NewToken {
    pub digest: [u8; 32],
    pub expires_at: Option<i64>,
    pub scope: Scope,
    pub audience: ApiSet,
}

/// The tokens a grant or refresh issues, and the session's new end.
pub struct Issue {
    pub access: NewToken,
    pub refresh: Option<NewToken>,
    pub grant_expires_at: Option<i64>,
}

impl Db {
    pub async fn find_stored_client(&self, client_id: &str) -> Result<Option<StoredClient>, DbError> {
        let row: Option<StoredClientRow> = sqlx::query_as(stored_client_sql())
            .bind(client_id)
            .fetch_optional(self.read().await?.conn()?)
            .await?;
        row.map(StoredClient::try_from).transpose()
    }

    /// A client ([`Db::find_stored_client`]) and a token ([`Db::find_token`]), as introspection
    /// by a client needs both: on SQLite in one trip to the connection.
    pub async fn find_client_and_token(
        &self,
        client_id: &str,
        digest: &[u8],
    ) -> Result<(Option<StoredClient>, Option<TokenInfo>), DbError> {
        static SQL: OnceLock<String> = OnceLock::new();
        // The client's row has a `pk`; the token's has none.
        let (row, token) =
            self.with_token::<StoredClientRow>(&SQL, stored_client_sql(), "pk", client_id, digest).await?;
        Ok((row.map(StoredClient::try_from).transpose()?, token))
    }

    /// The row `sql` finds by `key` and the token of `digest`: on SQLite in one trip to the
    /// connection (`combined` keeps the two statements; the row is told apart from the token's by
    /// its column `marker`), on Postgres, whose protocol takes one statement a query, in two.
    pub(crate) async fn with_token<R>(
        &self,
        combined: &'static OnceLock<String>,
        sql: &str,
        marker: &str,
        key: &str,
        digest: &[u8],
    ) -> Result<(Option<R>, Option<TokenInfo>), DbError>
    where
        R: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        if self.backend() != Backend::Sqlite {
            let row: Option<R> =
                sqlx::query_as(sql).bind(key).fetch_optional(self.read().await?.conn()?).await?;
            return Ok((row, self.find_token(digest).await?));
        }
        let combined = combined.get_or_init(|| {
            let mut combined = format!("{sql}; ");
            super::batch::renumber(tokens::FIND_TOKEN, 1, &mut combined);
            combined
        });
        let rows = sqlx::query(combined).bind(key).bind(digest).fetch_all(self.read().await?.conn()?).await?;
        let (mut found, mut token) = (None, None);
        for row in &rows {
            if row.try_column(marker).is_ok() {
                found = Some(R::from_row(row)?);
            } else if token.is_none() {
                token = Some(TokenInfo::from(tokens::TokenRow::from_row(row)?));
            }
        }
        Ok((found, token))
    }

    /// Deletes what can no longer be used: expired sessions (with their tokens), expired tokens
    /// (a rotated refresh token is kept while it lives, so its reuse is still recognised and
    /// ends the session), consent requests and browser sessions, and codes past their life. Used
    /// codes stay a day longer so a late replay still revokes what they started. Expired initial
    /// access tokens go, and so do self-registered clients unused for 30 days.
    ///
    /// Deletes in batches of [`PURGE_BATCH`] rows, each its own short write, so token requests
    /// never wait long behind a purge.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, DbError> {
        let mut removed = 0;
        for (table, key, expired, at) in [
            ("grants", "id", "expires_at IS NOT NULL AND expires_at <= $1", now),
            ("tokens", "digest", "expires_at IS NOT NULL AND expires_at <= $1", now),
            ("client_tokens", "digest", "expires_at <= $1", now),
            ("authorization_requests", "id_hash", "expires_at <= $1", now),
            ("authorization_codes", "code_hash", "used = 0 AND expires_at <= $1", now),
            ("authorization_codes", "code_hash", "expires_at <= $1", now - 86_400),
            ("sessions", "id_hash", "expires_at <= $1", now),
            ("registration_tokens", "id", "expires_at IS NOT NULL AND expires_at <= $1", now),
            // Self-registered clients unused for 30 days, with no live session: nobody uses them
            // (unless an administrator let them run unattended jobs).
            (
                "clients",
                "id",
                "origin <> 'admin' AND client_credentials = 0 AND COALESCE(last_used_at, created_at) <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.client_pk = clients.id)",
                now - SELF_REGISTERED_IDLE_SECS,
            ),
        ] {
            let sql = format!(
                "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {expired} LIMIT {PURGE_BATCH})"
            );
            loop {
                let done = {
                    let _turn = self.write_turn().await;
                    sqlx::query(&sql).bind(at).execute(self.pool()).await?.rows_affected()
                };
                removed += done;
                if done < PURGE_BATCH {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        // Past every grace, a salt only helps whoever holds an old token and a copy of the
        // database: it goes.
        let _turn = self.write_turn().await;
        sqlx::query(
            "UPDATE tokens SET successor_salt = NULL WHERE successor_salt IS NOT NULL AND rotated_at <= $1",
        )
        .bind(now - i64::from(crate::domain::client::REUSE_GRACE_MAX))
        .execute(self.pool())
        .await?;
        Ok(removed)
    }
}

/// A self-registered client whose codes nobody exchanged for this long, and that holds no live
/// session, is deleted by the purge (30 days).
pub const SELF_REGISTERED_IDLE_SECS: i64 = 30 * 86_400;

/// Rows one purge statement deletes at most.
pub const PURGE_BATCH: u64 = 500;

impl Db {
    /// The client with row id `pk`, as it is now.
    pub async fn client_by_pk(&self, pk: i64) -> Result<Option<Client>, DbError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1");
        let row: Option<ClientRow> = sqlx::query_as(&sql).bind(pk).fetch_optional(self.pool()).await?;
        row.map(Client::try_from).transpose()
    }
}
