//! The `apis` table: registered APIs (resource servers) and their introspection credentials.
//! Row 1 is the built-in API; its identifier (`{issuer}/api/v1`) is known only at run time and
//! passed in by the caller. Secrets arrive here already hashed.

use super::{
    Db, DbError,
    audit::Event,
    clients::{StoredSecret, escape_like},
    oauth::TokenInfo,
    unique_violation,
};
use crate::domain::{
    api::{Api, ApiIdentifier, ApiSet, ApiSpec},
    client::{ClientId, SecretInfo},
};

const API_COLUMNS: &str = "id, identifier, name, description, client_id, secret_last4, secret_created_at, \
     active, builtin, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ApiRow {
    id: i64,
    identifier: Option<String>,
    name: String,
    description: Option<String>,
    client_id: Option<String>,
    secret_last4: Option<String>,
    secret_created_at: Option<i64>,
    active: i64,
    builtin: i64,
    created_at: i64,
    updated_at: i64,
}

impl ApiRow {
    fn into_api(self, builtin: &ApiIdentifier) -> Result<(i64, Api), DbError> {
        let corrupt =
            |column: &str, e: &dyn std::fmt::Display| DbError::Corrupt(format!("apis.{column}: {e}"));
        let identifier = match self.identifier {
            None => builtin.clone(),
            Some(raw) => ApiIdentifier::parse(&raw).map_err(|e| corrupt("identifier", &e))?,
        };
        let client_id = self
            .client_id
            .map(|id| ClientId::parse(&id))
            .transpose()
            .map_err(|e| corrupt("client_id", &e))?;
        let secret = match (self.secret_last4, self.secret_created_at) {
            (Some(last4), Some(created_at)) => {
                Some(SecretInfo { last4, created_at, previous_valid_until: None })
            }
            _ => None,
        };
        Ok((
            self.id,
            Api {
                name: self.name,
                identifier,
                description: self.description,
                client_id,
                secret,
                active: self.active == 1,
                builtin: self.builtin == 1,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
        ))
    }
}

/// An API as the OAuth endpoints need it: which one, its identifier and name, whether it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRef {
    pub pk: i64,
    pub identifier: String,
    pub name: String,
    pub active: bool,
}

/// An API authenticating at the introspection endpoint.
pub struct ApiCredentials {
    pub pk: i64,
    pub identifier: String,
    pub active: bool,
    pub secret_digest: Vec<u8>,
}

/// The API whose client_id is `$1`, if it has credentials.
const API_CREDENTIALS: &str = "SELECT id, identifier, active, secret_digest FROM apis \
     WHERE client_id = $1 AND secret_digest IS NOT NULL AND identifier IS NOT NULL";

type ApiCredentialsRow = (i64, String, i64, Vec<u8>);

impl From<ApiCredentialsRow> for ApiCredentials {
    fn from((pk, identifier, active, secret_digest): ApiCredentialsRow) -> Self {
        ApiCredentials { pk, identifier, active: active == 1, secret_digest }
    }
}

/// One page of the API list.
#[derive(Debug, Clone)]
pub struct ApiPage {
    pub rows: Vec<(i64, Api)>,
    pub total: i64,
}

impl Db {
    pub async fn insert_api(
        &self,
        spec: &ApiSpec,
        client_id: &ClientId,
        secret: &StoredSecret,
        now: i64,
        event: &Event,
    ) -> Result<i64, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let (pk,): (i64,) = sqlx::query_as(
            "INSERT INTO apis (identifier, name, name_key, description, client_id, secret_digest, secret_last4, \
               secret_created_at, active, builtin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, 0, $8, $8) RETURNING id",
        )
        .bind(spec.identifier.as_str())
        .bind(spec.name.as_str())
        .bind(spec.name.as_str().to_lowercase())
        .bind(spec.description.as_deref())
        .bind(client_id.as_str())
        .bind(secret.digest.to_vec())
        .bind(secret.last4.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_violation)?;
        self.record(&mut tx, event).await?;
        tx.commit().await?;
        Ok(pk)
    }

    pub async fn api_by_pk(&self, pk: i64, builtin: &ApiIdentifier) -> Result<Option<Api>, DbError> {
        let sql = format!("SELECT {API_COLUMNS} FROM apis WHERE id = $1");
        let row: Option<ApiRow> = sqlx::query_as(&sql).bind(pk).fetch_optional(self.pool()).await?;
        row.map(|r| r.into_api(builtin).map(|(_, api)| api)).transpose()
    }

    /// The row id of the API with this identifier or client_id (the built-in API by its
    /// identifier).
    pub async fn api_pk(&self, key: &str, builtin: &ApiIdentifier) -> Result<Option<i64>, DbError> {
        if key == builtin.as_str() {
            return Ok(Some(ApiSet::BUILTIN));
        }
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM apis WHERE identifier = $1 OR client_id = $1")
                .bind(key)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(pk,)| pk))
    }

    /// APIs by name, the built-in one first; `search` finds text in the name, identifier or
    /// client_id.
    pub async fn list_apis(
        &self,
        search: &str,
        limit: i64,
        offset: i64,
        builtin: &ApiIdentifier,
    ) -> Result<ApiPage, DbError> {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        let raw = format!("%{}%", escape_like(search));
        // The built-in API's identifier is not stored: it matches when the search is within it.
        let builtin_matches = i64::from(search.is_empty() || builtin.as_str().contains(search));
        let filter = "(name_key LIKE $1 ESCAPE '\\' OR identifier LIKE $2 ESCAPE '\\' \
                      OR client_id LIKE $2 ESCAPE '\\' OR (builtin = 1 AND $3 = 1))";
        let sql = format!(
            "SELECT {API_COLUMNS} FROM apis WHERE {filter} ORDER BY builtin DESC, name_key, id LIMIT $4 OFFSET $5"
        );
        let rows: Vec<ApiRow> = sqlx::query_as(&sql)
            .bind(&pattern)
            .bind(&raw)
            .bind(builtin_matches)
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?;
        let (total,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM apis WHERE {filter}"))
            .bind(&pattern)
            .bind(&raw)
            .bind(builtin_matches)
            .fetch_one(self.pool())
            .await?;
        let rows = rows.into_iter().map(|r| r.into_api(builtin)).collect::<Result<_, _>>()?;
        Ok(ApiPage { rows, total })
    }

    /// Saves name, identifier and description of a registered API (never the built-in one).
    pub async fn update_api(
        &self,
        pk: i64,
        spec: &ApiSpec,
        now: i64,
        event: &Event,
    ) -> Result<bool, DbError> {
        let q = sqlx::query(
            "UPDATE apis SET identifier = $1, name = $2, name_key = $3, description = $4, updated_at = $5 \
             WHERE id = $6 AND builtin = 0",
        )
        .bind(spec.identifier.as_str())
        .bind(spec.name.as_str())
        .bind(spec.name.as_str().to_lowercase())
        .bind(spec.description.as_deref())
        .bind(now)
        .bind(pk);
        self.execute_audited(q, event).await
    }

    pub async fn set_api_active(
        &self,
        pk: i64,
        active: bool,
        now: i64,
        event: &Event,
    ) -> Result<bool, DbError> {
        let q = sqlx::query("UPDATE apis SET active = $1, updated_at = $2 WHERE id = $3 AND builtin = 0")
            .bind(i64::from(active))
            .bind(now)
            .bind(pk);
        self.execute_audited(q, event).await
    }

    pub async fn regenerate_api_secret(
        &self,
        pk: i64,
        secret: &StoredSecret,
        now: i64,
        event: &Event,
    ) -> Result<bool, DbError> {
        let q = sqlx::query(
            "UPDATE apis SET secret_digest = $1, secret_last4 = $2, secret_created_at = $3, updated_at = $3 \
             WHERE id = $4 AND builtin = 0",
        )
        .bind(secret.digest.to_vec())
        .bind(secret.last4.as_str())
        .bind(now)
        .bind(pk);
        self.execute_audited(q, event).await
    }

    /// Deletes a registered API (never the built-in one) and takes it off every client's list of
    /// allowed APIs, in one transaction. Tokens issued for it stay bound to its row id, which no
    /// later API gets, so they never count for anything else.
    pub async fn delete_api(&self, pk: i64, event: &Event) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("DELETE FROM apis WHERE id = $1 AND builtin = 0").bind(pk).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        // Row ids and spaces hold no LIKE wildcards.
        let limited: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, apis FROM clients WHERE (' ' || apis || ' ') LIKE $1")
                .bind(format!("% {pk} %"))
                .fetch_all(&mut *tx)
                .await?;
        for (client_pk, apis) in limited {
            let set = ApiSet::parse(&apis).map_err(|e| DbError::Corrupt(format!("clients.apis: {e}")))?;
            let kept = ApiSet::new(set.ids().iter().copied().filter(|id| *id != pk));
            sqlx::query("UPDATE clients SET apis = $1 WHERE id = $2")
                .bind(kept.to_string())
                .bind(client_pk)
                .execute(&mut *tx)
                .await?;
        }
        self.record(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The credentials of the API with this client_id, for introspection.
    pub async fn find_api_credentials(&self, client_id: &str) -> Result<Option<ApiCredentials>, DbError> {
        let row: Option<ApiCredentialsRow> = sqlx::query_as(API_CREDENTIALS)
            .bind(client_id)
            .fetch_optional(self.read().await?.conn()?)
            .await?;
        Ok(row.map(ApiCredentials::from))
    }

    /// An API's credentials ([`Db::find_api_credentials`]) and a token ([`Db::find_token`]), as
    /// introspection by an API needs both: on SQLite in one trip to the connection.
    pub async fn find_api_and_token(
        &self,
        client_id: &str,
        digest: &[u8],
    ) -> Result<(Option<ApiCredentials>, Option<TokenInfo>), DbError> {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        // The API's row has an `identifier`; the token's has none.
        let (row, token) = self
            .with_token::<ApiCredentialsRow>(&SQL, API_CREDENTIALS, "identifier", client_id, digest)
            .await?;
        Ok((row.map(ApiCredentials::from), token))
    }

    /// The APIs named by `identifiers` (the built-in one by `builtin`), as found; unknown ones are
    /// left out. One query.
    pub async fn apis_by_identifier(
        &self,
        identifiers: &[&str],
        builtin: &ApiIdentifier,
    ) -> Result<Vec<ApiRef>, DbError> {
        let stored: Vec<&str> = identifiers.iter().copied().filter(|i| *i != builtin.as_str()).collect();
        let with_builtin = stored.len() < identifiers.len();
        if stored.is_empty() && !with_builtin {
            return Ok(Vec::new());
        }
        let mut sql = String::from("SELECT id, identifier, name, active FROM apis WHERE ");
        sql.push_str(if with_builtin { "id = 1" } else { "1 = 0" });
        if !stored.is_empty() {
            let marks: Vec<String> = (1..=stored.len()).map(|i| format!("${i}")).collect();
            sql.push_str(&format!(" OR identifier IN ({})", marks.join(", ")));
        }
        let mut q = sqlx::query_as::<_, (i64, Option<String>, String, i64)>(&sql);
        for id in &stored {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(self.pool()).await?.into_iter().map(|row| api_ref(row, builtin)).collect())
    }

    /// The APIs of a set, by row id (deleted ones are left out). One query.
    pub async fn apis_in(&self, set: &ApiSet, builtin: &ApiIdentifier) -> Result<Vec<ApiRef>, DbError> {
        if set.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = set.ids().iter().map(i64::to_string).collect();
        // Integers from a parsed set: nothing to escape.
        let sql = format!(
            "SELECT id, identifier, name, active FROM apis WHERE id IN ({}) ORDER BY id",
            ids.join(", ")
        );
        // On the hot path (introspection's `aud`): a kept reader.
        let rows: Vec<(i64, Option<String>, String, i64)> =
            sqlx::query_as(&sql).fetch_all(self.read().await?.conn()?).await?;
        Ok(rows.into_iter().map(|row| api_ref(row, builtin)).collect())
    }

    /// Every API, for choosing a client's allowed APIs: (row id, identifier, name, active).
    pub async fn all_apis(&self, builtin: &ApiIdentifier) -> Result<Vec<ApiRef>, DbError> {
        let rows: Vec<(i64, Option<String>, String, i64)> = sqlx::query_as(
            "SELECT id, identifier, name, active FROM apis ORDER BY builtin DESC, name_key, id",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|row| api_ref(row, builtin)).collect())
    }
}

impl Db {
    /// The APIs a client may ask tokens for; `None`: any active API (or no such client).
    pub async fn client_apis(&self, client_id: &ClientId) -> Result<Option<ApiSet>, DbError> {
        let row: Option<(Option<ApiSet>,)> = sqlx::query_as("SELECT apis FROM clients WHERE client_id = $1")
            .bind(client_id.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.and_then(|(apis,)| apis))
    }

    /// Limits a client to `apis` (`None`: any active API).
    pub async fn set_client_apis(
        &self,
        client_id: &ClientId,
        apis: Option<&ApiSet>,
    ) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE clients SET apis = $1 WHERE client_id = $2")
            .bind(apis)
            .bind(client_id.as_str())
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn api_ref(
    (pk, identifier, name, active): (i64, Option<String>, String, i64),
    builtin: &ApiIdentifier,
) -> ApiRef {
    ApiRef { pk, identifier: identifier.unwrap_or_else(|| builtin.to_string()), name, active: active == 1 }
}
