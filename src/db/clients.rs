//! The `clients` table. Secrets arrive here already hashed; only digests and the last four
//! characters are stored.

use std::num::NonZeroU32;

use super::{Backend, Db, DbError, audit::Event};
use crate::domain::api::ApiSet;
use crate::domain::client::{
    AccessLifetime, AuthMethod, Client, ClientAuth, ClientId, ClientOrigin, ClientPage, ClientScope,
    ClientSpec, ClientSummary, ListQuery, Pkce, RedirectUris, RefreshCount, RefreshLifetime, SecretInfo,
    SortKey, StateFilter,
};

/// A new secret, as stored: its SHA-256 digest and its last four characters (for display).
pub struct StoredSecret {
    pub digest: [u8; 32],
    pub last4: String,
}

/// What a self-registered client stores beyond its settings: who registered it, the digest of its
/// registration access token (RFC 7592) and its descriptive metadata (JSON).
pub struct SelfRegistration {
    pub origin: ClientOrigin,
    /// RFC 7592's registration access token; none for a metadata document's client.
    pub token_digest: Option<[u8; 32]>,
    pub metadata: String,
    /// A metadata document's client: until when its fetched document may be used.
    pub metadata_expires_at: Option<i64>,
}

/// What an edit does to the secret, decided by the caller from the old and new auth methods.
pub enum SecretChange {
    Keep,
    /// Switched to `none`: the secret (and any previous one) is deleted.
    Remove,
    /// Switched from `none` to a secret method: a new secret is issued.
    Issue(StoredSecret),
}

pub(super) const CLIENT_COLUMNS: &str = "client_id, name, redirect_uris, auth_method, require_pkce, scope, description, \
     version, access_lifetime_secs, refresh_lifetime_secs, refresh_count_limit, consent, rate_limit, active, \
     secret_last4, secret_created_at, old_secret_expires_at, created_at, updated_at, refresh_reuse_grace_secs, \
     origin, client_credentials";

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    client_id: String,
    name: String,
    redirect_uris: String,
    auth_method: String,
    require_pkce: i64,
    scope: String,
    description: Option<String>,
    version: Option<String>,
    access_lifetime_secs: Option<i64>,
    refresh_lifetime_secs: Option<i64>,
    refresh_count_limit: Option<i64>,
    consent: i64,
    rate_limit: Option<i64>,
    active: i64,
    secret_last4: Option<String>,
    secret_created_at: Option<i64>,
    pub(super) old_secret_expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    refresh_reuse_grace_secs: Option<i64>,
    origin: String,
    client_credentials: i64,
}

fn corrupt(column: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Corrupt(format!("clients.{column}: {e}"))
}

fn seconds(column: &str, v: i64) -> Result<NonZeroU32, DbError> {
    u32::try_from(v).ok().and_then(NonZeroU32::new).ok_or_else(|| corrupt(column, v))
}

impl TryFrom<ClientRow> for Client {
    type Error = DbError;

    fn try_from(r: ClientRow) -> Result<Self, DbError> {
        let uris: Vec<String> =
            serde_json::from_str(&r.redirect_uris).map_err(|e| corrupt("redirect_uris", e))?;
        let method = AuthMethod::parse(&r.auth_method).map_err(|e| corrupt("auth_method", e))?;
        let pkce = if r.require_pkce == 1 { Pkce::Required } else { Pkce::Optional };
        let spec = ClientSpec {
            name: crate::domain::client::ClientName::parse(&r.name).map_err(|e| corrupt("name", e))?,
            redirect_uris: RedirectUris::parse_list(uris.iter().map(String::as_str))
                .map_err(|e| corrupt("redirect_uris", e))?,
            auth: ClientAuth::new(method, pkce).map_err(|e| corrupt("auth_method", e))?,
            scope: ClientScope::parse(&r.scope).map_err(|e| corrupt("scope", e))?,
            description: r.description,
            version: r.version,
            access_lifetime: match r.access_lifetime_secs {
                None => AccessLifetime::Global,
                Some(-1) => AccessLifetime::Never,
                Some(s) => AccessLifetime::Seconds(seconds("access_lifetime_secs", s)?),
            },
            refresh_lifetime: match r.refresh_lifetime_secs {
                None => RefreshLifetime::Global,
                Some(s) => RefreshLifetime::Seconds(seconds("refresh_lifetime_secs", s)?),
            },
            refresh_count: match r.refresh_count_limit {
                None => RefreshCount::Unlimited,
                Some(n) => {
                    RefreshCount::Limit(u32::try_from(n).map_err(|e| corrupt("refresh_count_limit", e))?)
                }
            },
            consent: r.consent == 1,
            rate_limit: r.rate_limit.map(|n| seconds("rate_limit", n)).transpose()?,
            refresh_reuse_grace: r
                .refresh_reuse_grace_secs
                .map(|n| seconds("refresh_reuse_grace_secs", n))
                .transpose()?,
            client_credentials: r.client_credentials == 1,
        };
        let secret = match (spec.auth.has_secret(), r.secret_last4, r.secret_created_at) {
            (true, Some(last4), Some(created_at)) => {
                Some(SecretInfo { last4, created_at, previous_valid_until: r.old_secret_expires_at })
            }
            (false, None, None) => None,
            _ => return Err(corrupt("secret_last4", "does not match auth_method")),
        };
        Ok(Client {
            client_id: ClientId::parse(&r.client_id).map_err(|e| corrupt("client_id", e))?,
            spec,
            active: r.active == 1,
            secret,
            created_at: r.created_at,
            updated_at: r.updated_at,
            origin: ClientOrigin::parse(&r.origin).ok_or_else(|| corrupt("origin", &r.origin))?,
        })
    }
}

/// A client to store with [`Db::insert_clients`].
pub struct NewClient<'a> {
    pub client_id: &'a ClientId,
    pub spec: &'a ClientSpec,
    pub secret: Option<&'a StoredSecret>,
    /// The APIs it is limited to; `None`: any active API.
    pub apis: Option<&'a ApiSet>,
    pub active: bool,
    /// Set when it registered itself.
    pub registration: Option<&'a SelfRegistration>,
    pub event: &'a Event,
}

/// The spec's columns, in the order of [`SPEC_COLUMNS`].
struct SpecValues {
    name: String,
    name_key: String,
    redirect_uris: String,
    auth_method: &'static str,
    require_pkce: i64,
    scope: &'static str,
    description: Option<String>,
    version: Option<String>,
    access_lifetime_secs: Option<i64>,
    refresh_lifetime_secs: Option<i64>,
    refresh_count_limit: Option<i64>,
    consent: i64,
    rate_limit: Option<i64>,
    /// Bound last, after the statement's own parameters (see `insert_client`, `update_client`).
    refresh_reuse_grace_secs: Option<i64>,
    client_credentials: i64,
}

impl SpecValues {
    fn of(spec: &ClientSpec) -> Result<Self, DbError> {
        let uris: Vec<&str> = spec.redirect_uris.iter().map(|u| u.as_str()).collect();
        Ok(Self {
            name: spec.name.to_string(),
            name_key: spec.name.as_str().to_lowercase(),
            redirect_uris: serde_json::to_string(&uris).map_err(|e| corrupt("redirect_uris", e))?,
            auth_method: spec.auth.method().as_str(),
            require_pkce: i64::from(spec.auth.pkce() == Pkce::Required),
            scope: spec.scope.as_str(),
            description: spec.description.clone(),
            version: spec.version.clone(),
            access_lifetime_secs: match spec.access_lifetime {
                AccessLifetime::Global => None,
                AccessLifetime::Never => Some(-1),
                AccessLifetime::Seconds(s) => Some(i64::from(s.get())),
            },
            refresh_lifetime_secs: match spec.refresh_lifetime {
                RefreshLifetime::Global => None,
                RefreshLifetime::Seconds(s) => Some(i64::from(s.get())),
            },
            refresh_count_limit: match spec.refresh_count {
                RefreshCount::Unlimited => None,
                RefreshCount::Limit(n) => Some(i64::from(n)),
            },
            consent: i64::from(spec.consent),
            rate_limit: spec.rate_limit.map(|n| i64::from(n.get())),
            refresh_reuse_grace_secs: spec.refresh_reuse_grace.map(|n| i64::from(n.get())),
            client_credentials: i64::from(spec.client_credentials),
        })
    }

    fn bind<'q>(
        self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        q.bind(self.name)
            .bind(self.name_key)
            .bind(self.redirect_uris)
            .bind(self.auth_method)
            .bind(self.require_pkce)
            .bind(self.scope)
            .bind(self.description)
            .bind(self.version)
            .bind(self.access_lifetime_secs)
            .bind(self.refresh_lifetime_secs)
            .bind(self.refresh_count_limit)
            .bind(self.consent)
            .bind(self.rate_limit)
    }
}

impl Db {
    /// Stores a new, active client limited to `apis` (`None`: any active API) and records `event`
    /// in the same transaction; `registration` is set when it registered itself.
    /// [`DbError::Duplicate`] if the client ID exists.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_client(
        &self,
        client_id: &ClientId,
        spec: &ClientSpec,
        secret: Option<&StoredSecret>,
        apis: Option<&ApiSet>,
        now: i64,
        registration: Option<&SelfRegistration>,
        event: &Event,
    ) -> Result<(), DbError> {
        let new = NewClient { client_id, spec, secret, apis, active: true, registration, event };
        self.insert_clients(std::slice::from_ref(&new), now).await
    }

    /// Stores all of `clients` and their audit entries in one transaction: all or none.
    /// [`DbError::Duplicate`] if a client ID exists.
    pub async fn insert_clients(&self, clients: &[NewClient<'_>], now: i64) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        for c in clients {
            let q = sqlx::query(
                "INSERT INTO clients (name, name_key, redirect_uris, auth_method, require_pkce, scope, description, \
                 version, access_lifetime_secs, refresh_lifetime_secs, refresh_count_limit, consent, rate_limit, \
                 client_id, active, secret_digest, secret_last4, secret_created_at, created_at, updated_at, \
                 refresh_reuse_grace_secs, origin, registration_token_digest, metadata, metadata_expires_at, apis, \
                 client_credentials) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $25, $15, $16, $17, $18, $18, \
                   $19, $20, $21, $22, $23, $24, $26)",
            );
            let values = SpecValues::of(c.spec)?;
            let (grace, client_credentials) = (values.refresh_reuse_grace_secs, values.client_credentials);
            let registration = c.registration;
            values
                .bind(q)
                .bind(c.client_id.as_str())
                .bind(c.secret.map(|s| s.digest.to_vec()))
                .bind(c.secret.map(|s| s.last4.clone()))
                .bind(c.secret.map(|_| now))
                .bind(now)
                .bind(grace)
                .bind(registration.map_or(ClientOrigin::Admin, |r| r.origin).as_str())
                .bind(registration.and_then(|r| r.token_digest.map(|d| d.to_vec())))
                .bind(registration.map(|r| r.metadata.as_str()))
                .bind(registration.and_then(|r| r.metadata_expires_at))
                .bind(c.apis)
                .bind(i64::from(c.active))
                .bind(client_credentials)
                .execute(&mut *tx)
                .await
                .map_err(super::unique_violation)?;
            self.record(&mut tx, c.event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The IDs of the clients administrators registered, oldest first (for export).
    pub async fn admin_client_ids(&self) -> Result<Vec<ClientId>, DbError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT client_id FROM clients WHERE origin = 'admin' ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        rows.into_iter()
            .map(|(id,)| {
                ClientId::parse(&id).map_err(|e| DbError::Corrupt(format!("clients.client_id: {e}")))
            })
            .collect()
    }

    pub async fn find_client(&self, client_id: &ClientId) -> Result<Option<Client>, DbError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1");
        let row: Option<ClientRow> =
            sqlx::query_as(&sql).bind(client_id.as_str()).fetch_optional(self.pool()).await?;
        row.map(Client::try_from).transpose()
    }

    /// Replaces the client's settings and API list, recording `event` in the same transaction.
    /// `false` when the client does not exist (an edit racing a delete never brings it back).
    pub async fn update_client(
        &self,
        client_id: &ClientId,
        spec: &ClientSpec,
        apis: Option<&ApiSet>,
        secret: SecretChange,
        now: i64,
        event: &Event,
    ) -> Result<bool, DbError> {
        // The grace and API list come after the optional secret parameters, so their numbers
        // depend on them.
        let (secret_sql, grace_param) = match secret {
            SecretChange::Keep => ("", 16),
            SecretChange::Remove | SecretChange::Issue(_) => (
                ", secret_digest = $16, secret_last4 = $17, secret_created_at = $18, \
                 old_secret_digest = NULL, old_secret_expires_at = NULL",
                19,
            ),
        };
        let (apis_param, credentials_param) = (grace_param + 1, grace_param + 2);
        let sql = format!(
            "UPDATE clients SET name = $1, name_key = $2, redirect_uris = $3, auth_method = $4, require_pkce = $5, \
             scope = $6, description = $7, version = $8, access_lifetime_secs = $9, refresh_lifetime_secs = $10, \
             refresh_count_limit = $11, consent = $12, rate_limit = $13, updated_at = $14{secret_sql}, \
             refresh_reuse_grace_secs = ${grace_param}, apis = ${apis_param}, \
             client_credentials = ${credentials_param} WHERE client_id = $15"
        );
        let values = SpecValues::of(spec)?;
        let (grace, client_credentials) = (values.refresh_reuse_grace_secs, values.client_credentials);
        let mut q = values.bind(sqlx::query(&sql)).bind(now).bind(client_id.as_str());
        match secret {
            SecretChange::Keep => {}
            SecretChange::Remove => q = q.bind(None::<Vec<u8>>).bind(None::<String>).bind(None::<i64>),
            SecretChange::Issue(s) => q = q.bind(s.digest.to_vec()).bind(s.last4).bind(Some(now)),
        }
        self.execute_audited(q.bind(grace).bind(apis).bind(client_credentials), event).await
    }

    /// Deletes the client; what was issued to it goes with it (foreign keys cascade).
    pub async fn delete_client(&self, client_id: &ClientId, event: &Event) -> Result<bool, DbError> {
        let q = sqlx::query("DELETE FROM clients WHERE client_id = $1").bind(client_id.as_str());
        self.execute_audited(q, event).await
    }

    pub async fn set_client_active(
        &self,
        client_id: &ClientId,
        active: bool,
        now: i64,
        event: &Event,
    ) -> Result<bool, DbError> {
        let q = sqlx::query("UPDATE clients SET active = $1, updated_at = $2 WHERE client_id = $3")
            .bind(i64::from(active))
            .bind(now)
            .bind(client_id.as_str());
        self.execute_audited(q, event).await
    }

    /// Installs a new secret. With `old_valid_until` the current one keeps working until then;
    /// without, it stops at once. `false` when there is no such confidential client.
    pub async fn regenerate_client_secret(
        &self,
        client_id: &ClientId,
        secret: &StoredSecret,
        old_valid_until: Option<i64>,
        now: i64,
        event: &Event,
    ) -> Result<bool, DbError> {
        let q = sqlx::query(
            "UPDATE clients SET \
               old_secret_digest = CASE WHEN $1 IS NULL THEN NULL ELSE secret_digest END, \
               old_secret_expires_at = $1, \
               secret_digest = $2, secret_last4 = $3, secret_created_at = $4, updated_at = $4 \
             WHERE client_id = $5 AND auth_method <> 'none'",
        )
        .bind(old_valid_until)
        .bind(secret.digest.to_vec())
        .bind(secret.last4.as_str())
        .bind(now)
        .bind(client_id.as_str());
        self.execute_audited(q, event).await
    }

    /// One page of the list and the number of matching clients (counted up to
    /// [`ClientPage::COUNT_LIMIT`]), in one round trip, or two for a search on SQLite.
    ///
    /// The total is an uncorrelated scalar subquery, evaluated once, and it stops counting past
    /// the limit: at a million clients a search matching most of them would otherwise read every
    /// match. Every sort is served by one index scan in either direction, which finds a page of a
    /// search that matches many clients at once. A search that matches few is found through a
    /// trigram index instead: on Postgres `pg_trgm` indexes, chosen by its planner; on SQLite the
    /// FTS5 table `clients_search`, through the search's rarest trigram (see [`Db::rarest_trigram`]).
    pub async fn list_clients(&self, query: &ListQuery) -> Result<ClientPage, DbError> {
        let q = query.clone().normalized();
        let mut filter = ListFilter::of(&q);
        if self.backend() == Backend::Sqlite && filter.patterns.is_some() {
            match self.rarest_trigram(&q.search).await? {
                Rarest::Absent => return Ok(ClientPage { rows: Vec::new(), total: 0, more: false }),
                Rarest::Few(trigram) => filter.restrict_to(fts_phrase(&trigram)),
                Rarest::Many => {}
            }
        }
        let dir = if q.descending { "DESC" } else { "ASC" };
        // Whitelisted fragments only; the id breaks ties so pages never overlap.
        let order = match q.sort {
            SortKey::Name => format!("name_key {dir}, id {dir}"),
            SortKey::ClientId => format!("client_id {dir}"),
            SortKey::State => format!("active {dir}, created_at {dir}, id {dir}"),
            SortKey::Created => format!("created_at {dir}, id {dir}"),
        };
        let (limit, offset) = filter.next_params();
        let count = count_sql(&filter.sql);
        let sql = format!(
            "SELECT client_id, name, active, created_at, origin, {count} AS total \
             FROM clients {w} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            w = filter.sql
        );
        let offset = i64::try_from(q.offset()).unwrap_or(i64::MAX);
        let rows = filter
            .bind(sqlx::query_as::<_, (String, String, i64, i64, String, i64)>(&sql))
            .bind(i64::from(q.per_page))
            .bind(offset)
            .fetch_all(self.pool())
            .await?;
        let counted = match rows.first() {
            Some(r) => r.5,
            // Past the last page there is no row to carry the total.
            None => {
                let sql = format!("SELECT {}", count_sql(&filter.sql));
                filter.bind(sqlx::query_as::<_, (i64,)>(&sql)).fetch_one(self.pool()).await?.0
            }
        };
        let counted = u64::try_from(counted).unwrap_or(0);
        let (total, more) = (counted.min(ClientPage::COUNT_LIMIT), counted > ClientPage::COUNT_LIMIT);
        let rows = rows
            .into_iter()
            .map(|(client_id, name, active, created_at, origin, _)| {
                Ok(ClientSummary {
                    client_id,
                    name,
                    active: active == 1,
                    created_at,
                    origin: ClientOrigin::parse(&origin).ok_or_else(|| corrupt("origin", &origin))?,
                })
            })
            .collect::<Result<_, DbError>>()?;
        Ok(ClientPage { rows, total, more })
    }
}

impl Db {
    /// SQLite: of the 3-character windows of `search` (lower-cased, as the trigram index folds
    /// case), the one in the fewest clients, by the index's own counts (`clients_search_terms`).
    /// Every client the search matches contains it, so when it is rare its few clients are the
    /// only candidates; when even the rarest is common, the search matches many and walking the
    /// sort order finds a page sooner. Searches shorter than 3 characters or beyond ASCII (whose
    /// case folding may differ from the index's) are `Many`: they walk.
    async fn rarest_trigram(&self, search: &str) -> Result<Rarest, DbError> {
        if search.len() < 3 || !search.is_ascii() {
            return Ok(Rarest::Many);
        }
        let lower = search.to_ascii_lowercase();
        let mut trigrams: Vec<&str> = (0..=lower.len() - 3).map(|i| &lower[i..i + 3]).collect();
        trigrams.sort_unstable();
        trigrams.dedup();
        let placeholders: Vec<String> = (1..=trigrams.len()).map(|i| format!("${i}")).collect();
        let sql =
            format!("SELECT term, doc FROM clients_search_terms WHERE term IN ({})", placeholders.join(", "));
        let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
        for t in &trigrams {
            q = q.bind(*t);
        }
        let counts = q.fetch_all(self.pool()).await?;
        if counts.len() < trigrams.len() {
            return Ok(Rarest::Absent);
        }
        Ok(match counts.into_iter().min_by_key(|(_, doc)| *doc) {
            Some((term, doc)) if doc <= FEW => Rarest::Few(term),
            _ => Rarest::Many,
        })
    }
}

/// Clients a trigram may be in for its clients to be read as the search's candidates (more: the
/// sort order is walked instead).
const FEW: i64 = 20_000;

enum Rarest {
    /// Some trigram of the search is in no client: nothing matches.
    Absent,
    /// This trigram is in few clients.
    Few(String),
    /// Every trigram is in many clients (or the search cannot use the index).
    Many,
}

/// Counts the clients `filter` matches, up to one past the limit.
fn count_sql(filter: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM (SELECT 1 FROM clients {filter} LIMIT {}) matched)",
        ClientPage::COUNT_LIMIT + 1
    )
}

/// A search as an FTS5 phrase: matched as a substring by the trigram tokenizer, its characters
/// literal (quotes doubled).
fn fts_phrase(search: &str) -> String {
    format!("\"{}\"", search.replace('"', "\"\""))
}

/// The WHERE clause of a list query and the values it binds.
struct ListFilter {
    sql: String,
    /// Name pattern (lower-cased) and client_id pattern, when searching.
    patterns: Option<(String, String)>,
    /// SQLite: the FTS5 phrase (one trigram) whose few clients are the only candidates (the
    /// patterns still decide, so results are the same with or without it).
    candidates: Option<String>,
}

impl ListFilter {
    fn of(q: &ListQuery) -> Self {
        let mut conditions = Vec::new();
        let patterns = (!q.search.is_empty()).then(|| {
            conditions.push("(name_key LIKE $1 ESCAPE '\\' OR client_id LIKE $2 ESCAPE '\\')");
            (format!("%{}%", escape_like(&q.search.to_lowercase())), format!("%{}%", escape_like(&q.search)))
        });
        match q.state {
            StateFilter::All => {}
            StateFilter::Active => conditions.push("active = 1"),
            StateFilter::Inactive => conditions.push("active = 0"),
        }
        // Whitelisted literals only.
        match q.origin.origin() {
            None => {}
            Some(ClientOrigin::Admin) => conditions.push("origin = 'admin'"),
            Some(ClientOrigin::Registered) => conditions.push("origin = 'registered'"),
            Some(ClientOrigin::MetadataDocument) => conditions.push("origin = 'metadata_document'"),
        }
        let sql =
            if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        Self { sql, patterns, candidates: None }
    }

    /// Only the clients FTS5 matches with `phrase` are candidates (a search, on SQLite).
    fn restrict_to(&mut self, phrase: String) {
        self.sql.push_str(" AND id IN (SELECT rowid FROM clients_search WHERE clients_search MATCH $3)");
        self.candidates = Some(phrase);
    }

    /// The placeholders that come after the filter's own.
    fn next_params(&self) -> (&'static str, &'static str) {
        match (&self.patterns, &self.candidates) {
            (None, _) => ("$1", "$2"),
            (Some(_), None) => ("$3", "$4"),
            (Some(_), Some(_)) => ("$4", "$5"),
        }
    }

    fn bind<'q, O>(
        &self,
        q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        match (&self.patterns, &self.candidates) {
            (Some((name, id)), Some(phrase)) => q.bind(name.clone()).bind(id.clone()).bind(phrase.clone()),
            (Some((name, id)), None) => q.bind(name.clone()).bind(id.clone()),
            (None, _) => q,
        }
    }
}

/// Escapes `%`, `_` and the escape character itself for a LIKE pattern.
pub(super) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_escaping() {
        assert_eq!(super::escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
