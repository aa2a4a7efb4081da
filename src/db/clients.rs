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

    /// One page of the list and the number of matching clients, counted up to
    /// [`ClientPage::COUNT_LIMIT`], at a cost that stays bounded at a million clients:
    /// - no search: one index scan in the sort order (either direction), and a count that stops
    ///   past the limit;
    /// - SQLite, a search of 3 or more ASCII characters: the FTS5 trigram index `clients_search`
    ///   finds the matches (case-insensitive substrings of the name or the client ID) and counts
    ///   them; in creation order, the index's own, a page is read straight off it; in another
    ///   order, up to the limit's matches are sorted, and more are found by walking that order;
    /// - Postgres, a search of 3 or more characters: the `pg_trgm` indexes collect the matches,
    ///   looked up by the search's rarest part ([`super::trigrams`]), up to one past the limit,
    ///   in the statement that reads the page: sorted among themselves when that was all of
    ///   them; when there are more, found along the list of clients holding the search's
    ///   rarest piece (in creation order) or along the sort order;
    /// - otherwise (a search too short for trigrams, or not ASCII on SQLite): a LIKE filter along
    ///   the sort order. A search shorter than 3 characters is counted among the first
    ///   [`SCAN_LIMIT`] clients only (`more` then says "at least").
    pub async fn list_clients(&self, query: &ListQuery) -> Result<ClientPage, DbError> {
        let q = query.clone().normalized();
        let filter = ListFilter::of(&q);
        let long = q.search.chars().count() >= 3;
        match self.backend() {
            Backend::Sqlite if long && q.search.is_ascii() => {
                return self.list_clients_fts(&q, &filter).await;
            }
            Backend::Postgres if long => return self.list_clients_trgm(&q, &filter).await,
            _ => {}
        }
        let count = match &filter.patterns {
            Some(_) if q.search.chars().count() < 3 => scan_count_sql(&filter),
            _ => format!("{}, 1", count_sql(&filter.where_clause(true))),
        };
        let (limit, offset) = filter.next_params();
        let sql = format!(
            "SELECT client_id, name, active, created_at, origin, {count} \
             FROM clients {w} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            w = filter.where_clause(true),
            order = order_by(&q)
        );
        let rows = filter
            .bind(sqlx::query_as::<_, (String, String, i64, i64, String, i64, i64)>(&sql))
            .bind(i64::from(q.per_page))
            .bind(offset_of(&q))
            .fetch_all(self.pool())
            .await?;
        let (counted, complete) = match rows.first() {
            Some(r) => (r.5, r.6),
            // Past the last page there is no row to carry the total.
            None => filter.bind(sqlx::query_as(&format!("SELECT {count}"))).fetch_one(self.pool()).await?,
        };
        let rows = rows
            .into_iter()
            .map(|(id, name, active, created, origin, _, _)| (id, name, active, created, origin));
        page_of(&q, counted, complete == 1, rows)
    }

    /// [`Db::list_clients`] on Postgres through the `pg_trgm` indexes, in one statement: the
    /// matches are counted up to one past the limit; when that was all of them, they are
    /// collected and sorted; when there are more, a page of them is found by walking:
    /// - in creation order (the default) and an ASCII search, along the list of clients holding
    ///   the search's rarest three-character piece (`clients_search_grams`, kept by triggers),
    ///   which is in that order, for up to [`GRAM_WALK_LIMIT`] clients;
    /// - in another order, with a selective key, along the first [`WALK_LIMIT`] clients in it
    ///   (a matching key that is rare overall may be missing there: its clients were all made
    ///   long ago, say).
    ///
    /// A walk that ends before the page is full falls back to collecting and sorting.
    async fn list_clients_trgm(&self, q: &ListQuery, filter: &ListFilter) -> Result<ClientPage, DbError> {
        let sample = match &self.search_sample {
            Some(cache) => cache.get(self.pool()).await?,
            None => None,
        };
        let key = sample.and_then(|s| s.key(&q.search));
        let selective = key.as_ref().is_some_and(super::trigrams::Key::is_selective);
        // When a part of the search is looked up, the whole only filters: `|| ''` hides it from
        // the indexes, which would otherwise read its common trigrams' lists too.
        let found = if key.is_some() {
            "(name_key LIKE $3 ESCAPE '\\' OR client_id LIKE $4 ESCAPE '\\') \
             AND ((name_key || '') LIKE $1 ESCAPE '\\' OR (client_id || '') LIKE $2 ESCAPE '\\')"
        } else {
            LIKE
        };
        let (limit, offset) = if key.is_some() { ("$5", "$6") } else { ("$3", "$4") };
        let and = filter.and_conditions();
        let order = order_by(q);
        let cap = ClientPage::COUNT_LIMIT;
        let columns = "id, name_key, client_id, name, active, created_at, origin";
        let out = "client_id, name, active, created_at, origin, (SELECT total FROM matched_count)";
        let count = count_sql(&format!("WHERE {found}{and}"));
        let many = format!("(SELECT total FROM matched_count) > {cap}");
        let page = format!("ORDER BY {order} LIMIT {limit} OFFSET {offset}");
        // Conditions on the subquery's output stay outside it (OFFSET 0 keeps them there): a
        // branch whose condition is false is then never started, parallel workers included.
        let in_order = q.sort == SortKey::Created && q.search.is_ascii();
        let (walked, sorted_when, walk) = if in_order || selective {
            let full = format!("(SELECT COUNT(*) FROM walked) >= {limit} + {offset}");
            let walked = if in_order {
                // Along the rarest gram's list, already in the sort order: no ORDER BY here,
                // which would read all of the walk's clients before keeping the first.
                let search = if key.is_some() { "$7" } else { "$5" };
                let (dir, reverse) = if q.descending { ("DESC", "true") } else { ("ASC", "false") };
                format!(
                    ", rarest AS MATERIALIZED ({RAREST_GRAM}), \
                     walked AS MATERIALIZED (SELECT * FROM (SELECT c.* FROM ( \
                       SELECT b.ids[i] AS id FROM (SELECT ids FROM clients_search_grams \
                         WHERE gram = (SELECT gram FROM rarest) ORDER BY block {dir}) b \
                       CROSS JOIN LATERAL generate_subscripts(b.ids, 1, {reverse}) i LIMIT {GRAM_WALK_LIMIT}) u \
                     CROSS JOIN LATERAL (SELECT {columns} FROM clients WHERE id = u.id{and} OFFSET 0) c) w \
                     WHERE {many} AND {LIKE} LIMIT {limit} + {offset})"
                )
                .replace("$SEARCH", search)
            } else {
                format!(
                    ", walked AS MATERIALIZED (SELECT * FROM (SELECT {columns} FROM clients WHERE TRUE{and} \
                       ORDER BY {order} LIMIT {WALK_LIMIT}) w WHERE {many} AND {LIKE} \
                       ORDER BY {order} LIMIT {limit} + {offset})"
                )
            };
            (
                walked,
                format!("NOT {many} OR NOT {full}"),
                format!("(SELECT {out} FROM walked WHERE {full} {page})"),
            )
        } else {
            (
                String::new(),
                format!("NOT {many}"),
                format!(
                    "(SELECT {out} FROM (SELECT {columns} FROM clients WHERE {LIKE}{and} {page}) w \
                      WHERE {many} ORDER BY {order})"
                ),
            )
        };
        let sql = format!(
            "WITH matched_count AS MATERIALIZED (SELECT {count} AS total){walked} \
             (SELECT {out} FROM (SELECT {columns} FROM clients WHERE {found}{and} OFFSET 0) s \
               WHERE {sorted_when} {page}) \
             UNION ALL {walk}"
        );
        let key =
            key.map(|k| (format!("%{}%", escape_like(&k.name)), format!("%{}%", escape_like(&k.client_id))));
        let mut query = filter
            .bind_with(key.as_ref(), sqlx::query_as::<_, (String, String, i64, i64, String, i64)>(&sql))
            .bind(i64::from(q.per_page))
            .bind(offset_of(q));
        if in_order {
            query = query.bind(q.search.to_lowercase());
        }
        let rows = query.fetch_all(self.pool()).await?;
        let counted = match rows.first() {
            Some(r) => r.5,
            // Past the last page there is no row to carry the count.
            None => {
                let (counted,): (i64,) = filter
                    .bind_with(key.as_ref(), sqlx::query_as::<_, (i64,)>(&format!("SELECT {count}")))
                    .fetch_one(self.pool())
                    .await?;
                counted
            }
        };
        let rows = rows
            .into_iter()
            .map(|(id, name, active, created, origin, _)| (id, name, active, created, origin));
        page_of(q, counted, true, rows)
    }

    /// [`Db::list_clients`] on SQLite through the trigram index: a count, then a page.
    async fn list_clients_fts(&self, q: &ListQuery, filter: &ListFilter) -> Result<ClientPage, DbError> {
        let phrase = fts_phrase(&q.search);
        let and = filter.and_conditions();
        // The join only when a condition needs the table: a bare count never leaves the index.
        let join = if and.is_empty() { "" } else { " CROSS JOIN clients c ON c.id = s.rowid" };
        let count = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM clients_search s{join} WHERE clients_search MATCH $1{and} LIMIT {}) m",
            ClientPage::COUNT_LIMIT + 1
        );
        let (counted,): (i64,) = sqlx::query_as(&count).bind(&phrase).fetch_one(self.pool()).await?;
        if counted == 0 {
            return page_of(q, 0, true, std::iter::empty());
        }
        let dir = if q.descending { "DESC" } else { "ASC" };
        let many = u64::try_from(counted).unwrap_or(0) > ClientPage::COUNT_LIMIT;
        let page = if q.sort == SortKey::Created {
            // CROSS JOIN keeps the index outside, read in its rowid order until the page is full.
            format!(
                "SELECT c.client_id, c.name, c.active, c.created_at, c.origin \
                 FROM clients_search s CROSS JOIN clients c ON c.id = s.rowid \
                 WHERE clients_search MATCH $1{and} ORDER BY s.rowid {dir} LIMIT $2 OFFSET $3"
            )
        } else if !many {
            format!(
                "SELECT client_id, name, active, created_at, origin FROM clients \
                 WHERE id IN (SELECT rowid FROM clients_search WHERE clients_search MATCH $1){and} \
                 ORDER BY {} LIMIT $2 OFFSET $3",
                order_by(q)
            )
        } else {
            // Thousands of matches: a page of them is found soonest along the sort order.
            let (limit, offset) = filter.next_params();
            let rows = filter
                .bind(sqlx::query_as(&format!(
                    "SELECT client_id, name, active, created_at, origin FROM clients {} \
                     ORDER BY {} LIMIT {limit} OFFSET {offset}",
                    filter.where_clause(true),
                    order_by(q)
                )))
                .bind(i64::from(q.per_page))
                .bind(offset_of(q))
                .fetch_all(self.pool())
                .await?;
            return page_of(q, counted, true, rows.into_iter());
        };
        let rows = sqlx::query_as(&page)
            .bind(&phrase)
            .bind(i64::from(q.per_page))
            .bind(offset_of(q))
            .fetch_all(self.pool())
            .await?;
        page_of(q, counted, true, rows.into_iter())
    }
}

/// On Postgres, how many clients along the sort order are searched for a page of a selective
/// key's matches before they are collected through the index instead.
const WALK_LIMIT: u64 = 2_500;

/// On Postgres, how many clients holding a search's rarest gram are looked at, in creation order,
/// for a page of its matches before they are collected through the trigram indexes instead.
const GRAM_WALK_LIMIT: u64 = 5_000;

/// The search's (`$SEARCH`, lower-cased) rarest three-character piece: the one whose lists in
/// `clients_search_grams` hold the fewest clients, counted over their first 256 rows (a quarter
/// of a million clients; beyond that all are alike). A piece no client holds counts 0: its walk
/// finds nothing, rightly, since every match holds every piece of the search.
const RAREST_GRAM: &str = "SELECT gram FROM (SELECT DISTINCT substr($SEARCH, i, 3) AS gram \
       FROM generate_series(1, length($SEARCH) - 2) i) g \
     ORDER BY (SELECT COALESCE(SUM(n), 0) FROM (SELECT n FROM clients_search_grams s \
       WHERE s.gram = g.gram LIMIT 256) r), gram LIMIT 1";

/// A search shorter than 3 characters is counted among this many clients only: no trigram index
/// can count it, and counting it through a million clients would read them all.
pub const SCAN_LIMIT: u64 = 20_000;

/// The page's ORDER BY: whitelisted fragments only; the id breaks ties so pages never overlap.
/// "Created" is the order clients were stored in, their id's: `created_at` is the clock's reading
/// of the same moment, and one index then serves it, the trigram index's included.
fn order_by(q: &ListQuery) -> String {
    let dir = if q.descending { "DESC" } else { "ASC" };
    match q.sort {
        SortKey::Name => format!("name_key {dir}, id {dir}"),
        SortKey::ClientId => format!("client_id {dir}"),
        SortKey::State => format!("active {dir}, id {dir}"),
        SortKey::Created => format!("id {dir}"),
    }
}

fn offset_of(q: &ListQuery) -> i64 {
    i64::try_from(q.offset()).unwrap_or(i64::MAX)
}

type SummaryRow = (String, String, i64, i64, String);

/// The page from its rows and its count: `complete` when the count covered every client it could
/// match (up to the limit).
fn page_of(
    q: &ListQuery,
    counted: i64,
    complete: bool,
    rows: impl Iterator<Item = SummaryRow>,
) -> Result<ClientPage, DbError> {
    let rows = rows
        .map(|(client_id, name, active, created_at, origin)| {
            Ok(ClientSummary {
                client_id,
                name,
                active: active == 1,
                created_at,
                origin: ClientOrigin::parse(&origin).ok_or_else(|| corrupt("origin", &origin))?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    let counted = u64::try_from(counted).unwrap_or(0);
    // A partial count is at least what this page shows.
    let shown = q.offset() + rows.len() as u64;
    let (total, more) = if complete {
        (counted.min(ClientPage::COUNT_LIMIT), counted > ClientPage::COUNT_LIMIT)
    } else {
        (counted.max(shown).min(ClientPage::COUNT_LIMIT), true)
    };
    Ok(ClientPage { rows, total, more })
}

/// Counts the clients `where_clause` matches, up to one past the limit.
fn count_sql(where_clause: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM (SELECT 1 FROM clients {where_clause} LIMIT {}) matched)",
        ClientPage::COUNT_LIMIT + 1
    )
}

/// Counts a short search's matches among the first [`SCAN_LIMIT`] clients the other conditions
/// keep, and whether those were all of them (1) or not (0): two columns.
fn scan_count_sql(filter: &ListFilter) -> String {
    let scanned = format!(
        "SELECT name_key, client_id FROM clients {} LIMIT {}",
        filter.where_clause(false),
        SCAN_LIMIT
    );
    format!(
        "(SELECT COUNT(*) FROM ({scanned}) scanned WHERE {LIKE}), \
         (SELECT CASE WHEN COUNT(*) > {SCAN_LIMIT} THEN 0 ELSE 1 END \
          FROM (SELECT 1 FROM clients {} LIMIT {}) seen)",
        filter.where_clause(false),
        SCAN_LIMIT + 1
    )
}

/// A search as an FTS5 phrase: matched as a substring by the trigram tokenizer, its characters
/// literal (quotes doubled).
fn fts_phrase(search: &str) -> String {
    format!("\"{}\"", search.replace('"', "\"\""))
}

/// The search as LIKE conditions, its patterns bound as `$1` (name) and `$2` (client ID).
const LIKE: &str = "(name_key LIKE $1 ESCAPE '\\' OR client_id LIKE $2 ESCAPE '\\')";

/// The conditions of a list query and the values it binds.
struct ListFilter {
    /// State and origin: whitelisted literals.
    conditions: Vec<&'static str>,
    /// The search as LIKE patterns: name (lower-cased) and client ID.
    patterns: Option<(String, String)>,
}

impl ListFilter {
    fn of(q: &ListQuery) -> Self {
        let mut conditions = Vec::new();
        let patterns = (!q.search.is_empty()).then(|| {
            (format!("%{}%", escape_like(&q.search.to_lowercase())), format!("%{}%", escape_like(&q.search)))
        });
        match q.state {
            StateFilter::All => {}
            StateFilter::Active => conditions.push("active = 1"),
            StateFilter::Inactive => conditions.push("active = 0"),
        }
        match q.origin.origin() {
            None => {}
            Some(ClientOrigin::Admin) => conditions.push("origin = 'admin'"),
            Some(ClientOrigin::Registered) => conditions.push("origin = 'registered'"),
            Some(ClientOrigin::MetadataDocument) => conditions.push("origin = 'metadata_document'"),
        }
        Self { conditions, patterns }
    }

    /// "WHERE …" with the search's LIKE conditions or without them; empty when nothing applies.
    fn where_clause(&self, with_search: bool) -> String {
        let mut all = Vec::with_capacity(self.conditions.len() + 1);
        if with_search && self.patterns.is_some() {
            all.push(LIKE);
        }
        all.extend(&self.conditions);
        if all.is_empty() { String::new() } else { format!("WHERE {}", all.join(" AND ")) }
    }

    /// The state and origin conditions, each after " AND ".
    fn and_conditions(&self) -> String {
        self.conditions.iter().map(|c| format!(" AND {c}")).collect()
    }

    /// The placeholders that come after the filter's own.
    fn next_params(&self) -> (&'static str, &'static str) {
        if self.patterns.is_some() { ("$3", "$4") } else { ("$1", "$2") }
    }

    /// [`ListFilter::bind`], then a key's patterns (name, client ID) as `$3` and `$4`.
    fn bind_with<'q, O>(
        &self,
        key: Option<&(String, String)>,
        q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        match key {
            Some((name, id)) => self.bind(q).bind(name.clone()).bind(id.clone()),
            None => self.bind(q),
        }
    }

    fn bind<'q, O>(
        &self,
        q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        match &self.patterns {
            Some((name, id)) => q.bind(name.clone()).bind(id.clone()),
            None => q,
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
