//! Sessions (`grants`): refresh-token rotation with reuse detection, and the lists and
//! revocations of the account page and the client's details page.

use sqlx::Row;

use super::{Issue, tokens::store_tokens};
use crate::{
    db::{
        Backend, Db, DbError,
        audit::Event,
        batch::{Script, Value},
    },
    domain::{Scope, api::ApiSet, audit::FieldChange, client::ClientId},
};

/// The grant behind a refresh token, as the refresh sees it (after counting this refresh).
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    /// The refresh token's scope (the session's, or narrower).
    pub scope: Scope,
    /// The APIs the session was granted.
    pub audience: ApiSet,
    /// Refreshes done, this one included.
    pub refresh_count: i64,
    /// When the session was authorized: it never lives past the instance's longest session.
    pub created_at: i64,
    /// With a reuse grace: the random salt from which, with the presented token, the successor
    /// pair is derived (so the same token within the grace gets the same pair).
    pub successor_salt: Option<String>,
}

pub enum Refreshed<R, E> {
    /// Stored; `R` is what the caller minted alongside (the token response).
    Issued(R),
    /// A rotated token came back within its client's reuse grace: nothing new is stored; its
    /// successor is the pair derived from the token and this salt.
    Again {
        salt: String,
    },
    NotFound,
    /// A rotated refresh token came back: its whole session has been revoked.
    Reused,
    Refused(E),
}

/// One live session of a user, as their account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    pub id: i64,
    pub client_id: String,
    pub client_name: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub scope: Scope,
    /// The APIs of its newest refresh token (its access token's when it has none).
    pub audience: ApiSet,
}

/// An application holding live sessions of a user (the account page's "Apps with access").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserApp {
    pub client_id: String,
    pub name: String,
    /// What its sessions hold, together.
    pub scope: Scope,
    pub sessions: i64,
    pub last_authorized_at: i64,
}

/// A client's live sessions, one page of them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientSessions {
    pub total: i64,
    /// Distinct users holding them.
    pub users: i64,
    pub rows: Vec<ClientSession>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientSession {
    pub username: String,
    pub created_at: i64,
    /// When its last token was issued (the last refresh, or the sign-in).
    pub last_used_at: i64,
}

/// Counts a refresh on the session of the refresh token `$1`.
macro_rules! count_refresh {
    () => {
        "UPDATE grants SET refresh_count = refresh_count + 1 \
         WHERE id = (SELECT grant_id FROM tokens WHERE digest = $1 AND kind = 'refresh') \
         RETURNING id, client_pk, refresh_count, created_at"
    };
}

/// Marks the refresh token `$1` used at `$2` (with the successor's salt `$3`), if it was not.
macro_rules! rotate_token {
    () => {
        "UPDATE tokens SET rotated = 1, rotated_at = $2, successor_salt = $3 \
         WHERE digest = $1 AND kind = 'refresh' AND rotated = 0 RETURNING scope, expires_at, audience"
    };
}

const COUNT_REFRESH: &str = count_refresh!();
const ROTATE_TOKEN: &str = rotate_token!();
/// Both in one trip to the connection (SQLite runs them in order).
const COUNT_AND_ROTATE: &str = concat!(count_refresh!(), "; ", rotate_token!());

impl Db {
    /// Rotates a refresh token in one transaction: counts the refresh on its session, marks the
    /// token used, lets `decide` check the refresh and mint the tokens, stores them. A refusal
    /// rolls everything back. A token already rotated revokes the whole session (RFC 9700
    /// §4.14.2), unless it comes back within the client's `grace` (seconds): then nothing
    /// changes and the caller re-derives the same successor ([`Refreshed::Again`]).
    pub async fn refresh<R, E>(
        &self,
        digest: &[u8],
        client_pk: i64,
        now: i64,
        grace: Option<i64>,
        decide: impl FnOnce(&RefreshGrant) -> Result<(Issue, R), E>,
    ) -> Result<Refreshed<R, E>, DbError> {
        let salt = grace.map(|_| crate::auth::token::random_token());
        let mut tx = self.batch().await?;
        let salt_bytes = salt.as_ref().map(|s| s.as_bytes().to_vec());
        type Grant = (i64, i64, i64, i64);
        type Token = (Scope, Option<i64>, ApiSet);
        let (grant, token): (Option<Grant>, Option<Token>) = match self.backend() {
            // Both statements in one trip to the writing connection: SQLite runs them in order.
            Backend::Sqlite => {
                let sql = tx.first(COUNT_AND_ROTATE);
                let rows =
                    sqlx::query(&sql).bind(digest).bind(now).bind(salt_bytes).fetch_all(tx.conn()).await?;
                let (mut grant, mut token) = (None, None);
                for row in &rows {
                    // The first statement returns four columns, the second three.
                    if row.len() == 4 {
                        grant = Some((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?));
                    } else {
                        token = Some((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?));
                    }
                }
                (grant, token)
            }
            // The session row first, then the token: the same lock order as a revocation.
            Backend::Postgres => {
                let grant: Option<Grant> =
                    sqlx::query_as(COUNT_REFRESH).bind(digest).fetch_optional(tx.conn()).await?;
                // Another client's token is not touched.
                let token = match grant {
                    Some((_, grant_client, _, _)) if grant_client == client_pk => {
                        sqlx::query_as(ROTATE_TOKEN)
                            .bind(digest)
                            .bind(now)
                            .bind(salt_bytes)
                            .fetch_optional(tx.conn())
                            .await?
                    }
                    _ => None,
                };
                (grant, token)
            }
        };
        let Some((grant_id, grant_client, refresh_count, created_at)) = grant else {
            return Ok(Refreshed::NotFound);
        };
        if grant_client != client_pk {
            // Another client's token: on SQLite, what the combined statements changed is undone
            // with the savepoint.
            return Ok(Refreshed::NotFound);
        }
        let Some((token_scope, token_expires_at, audience)) = token else {
            if let Some(grace) = grace {
                let rotated: Option<(Option<i64>, Option<Vec<u8>>)> =
                    sqlx::query_as("SELECT rotated_at, successor_salt FROM tokens WHERE digest = $1")
                        .bind(digest)
                        .fetch_optional(tx.conn())
                        .await?;
                if let Some((Some(at), Some(salt))) = rotated
                    && now - at <= grace
                    && let Ok(salt) = String::from_utf8(salt)
                {
                    // Not a new refresh: the count goes back as it was.
                    sqlx::query("UPDATE grants SET refresh_count = refresh_count - 1 WHERE id = $1")
                        .bind(grant_id)
                        .execute(tx.conn())
                        .await?;
                    tx.commit().await?;
                    return Ok(Refreshed::Again { salt });
                }
            }
            sqlx::query("DELETE FROM grants WHERE id = $1").bind(grant_id).execute(tx.conn()).await?;
            tx.commit().await?;
            return Ok(Refreshed::Reused);
        };
        if token_expires_at.is_some_and(|e| e <= now) {
            return Ok(Refreshed::NotFound);
        }
        let (tokens, minted) = match decide(&RefreshGrant {
            scope: token_scope,
            audience,
            refresh_count,
            created_at,
            successor_salt: salt,
        }) {
            Ok(issued) => issued,
            Err(reason) => return Ok(Refreshed::Refused(reason)),
        };
        // The session's new end, and the tokens: an access token that never expires is replaced,
        // not joined, by its successor (otherwise every refresh would leave one more immortal
        // token behind).
        let mut script = Script::default();
        script
            .push(
                "UPDATE grants SET expires_at = $1 WHERE id = $2",
                vec![Value::MaybeInt(tokens.grant_expires_at), Value::Int(grant_id)],
            )
            .push(
                "DELETE FROM tokens WHERE grant_id = $1 AND kind = 'access' AND expires_at IS NULL",
                vec![Value::Int(grant_id)],
            );
        store_tokens(&mut tx, self.backend(), script, grant_id, now, &tokens).await?;
        tx.commit().await?;
        Ok(Refreshed::Issued(minted))
    }

    /// The applications holding live sessions of `user_id`, most recently authorized first. One
    /// row per (client, scope) comes back; the scopes of a client's sessions are joined as sets.
    pub async fn user_apps(&self, user_id: i64, now: i64) -> Result<Vec<UserApp>, DbError> {
        type Row = (String, String, Scope, i64, i64, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT c.client_id, c.name, g.scope, COUNT(*), MAX(g.created_at), MAX(g.id) \
             FROM grants g JOIN clients c ON c.id = g.client_pk \
             WHERE g.user_id = $1 AND (g.expires_at IS NULL OR g.expires_at > $2) \
             GROUP BY c.client_id, c.name, g.scope",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        let mut apps: Vec<(i64, UserApp)> = Vec::new();
        for (client_id, name, scope, sessions, last, newest) in rows {
            match apps.iter_mut().find(|(_, a)| a.client_id == client_id) {
                Some((n, app)) => {
                    app.scope = app.scope.union(scope);
                    app.sessions += sessions;
                    app.last_authorized_at = app.last_authorized_at.max(last);
                    *n = (*n).max(newest);
                }
                None => apps
                    .push((newest, UserApp { client_id, name, scope, sessions, last_authorized_at: last })),
            }
        }
        apps.sort_by_key(|(newest, _)| std::cmp::Reverse(*newest));
        Ok(apps.into_iter().map(|(_, app)| app).collect())
    }

    /// Every live session of `user_id`, newest first.
    pub async fn user_sessions(&self, user_id: i64, now: i64) -> Result<Vec<UserSession>, DbError> {
        type Row = (i64, String, String, i64, Option<i64>, Scope, Option<ApiSet>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT g.id, c.client_id, c.name, g.created_at, \
               (SELECT MAX(t.issued_at) FROM tokens t WHERE t.grant_id = g.id), g.scope, \
               (SELECT t.audience FROM tokens t WHERE t.grant_id = g.id \
                  ORDER BY t.kind DESC, t.issued_at DESC LIMIT 1) \
             FROM grants g JOIN clients c ON c.id = g.client_pk \
             WHERE g.user_id = $1 AND (g.expires_at IS NULL OR g.expires_at > $2) ORDER BY g.id DESC",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, client_id, client_name, created_at, last, scope, audience)| UserSession {
                id,
                client_id,
                client_name,
                created_at,
                last_used_at: last.unwrap_or(created_at),
                scope,
                audience: audience.unwrap_or_else(ApiSet::builtin),
            })
            .collect())
    }

    /// Ends one session of `user_id` (its tokens stop at once); `false` when it is not theirs or
    /// has ended.
    pub async fn end_user_session(&self, user_id: i64, id: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("DELETE FROM grants WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every session of `user_id` with the client: its tokens stop working at once, and so
    /// do codes not yet exchanged and consent screens still open, which would otherwise start a
    /// new session within their minute.
    pub async fn revoke_user_app(&self, user_id: i64, client_id: &str) -> Result<u64, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let client = "(SELECT id FROM clients WHERE client_id = $2)";
        let done = sqlx::query(&format!("DELETE FROM grants WHERE user_id = $1 AND client_pk IN {client}"))
            .bind(user_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        for (table, which) in [("authorization_codes", " AND used = 0"), ("authorization_requests", "")] {
            sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1 AND client_pk IN {client}{which}"))
                .bind(user_id)
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// A client's live sessions, newest first: (username, created, last refreshed) for one page,
    /// with how many there are and of how many users.
    pub async fn client_sessions(
        &self,
        client_id: &str,
        now: i64,
        limit: i64,
        offset: i64,
    ) -> Result<ClientSessions, DbError> {
        let live = "g.client_pk = (SELECT id FROM clients WHERE client_id = $1) \
                    AND (g.expires_at IS NULL OR g.expires_at > $2)";
        let (total, users): (i64, i64) =
            sqlx::query_as(&format!("SELECT COUNT(*), COUNT(DISTINCT g.user_id) FROM grants g WHERE {live}"))
                .bind(client_id)
                .bind(now)
                .fetch_one(self.pool())
                .await?;
        let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(&format!(
            "SELECT u.username, g.created_at, (SELECT MAX(t.issued_at) FROM tokens t WHERE t.grant_id = g.id) \
             FROM grants g JOIN users u ON u.id = g.user_id WHERE {live} ORDER BY g.id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(client_id)
        .bind(now)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        Ok(ClientSessions {
            total,
            users,
            rows: rows
                .into_iter()
                .map(|(username, created_at, last)| ClientSession {
                    username,
                    created_at,
                    last_used_at: last.unwrap_or(created_at),
                })
                .collect(),
        })
    }

    /// Ends every session of the client at once (a breach): its tokens, the codes not yet
    /// exchanged, the consent screens still open and the tokens it got for itself
    /// (client_credentials), recorded in the audit log in the same transaction. Returns the
    /// sessions ended.
    pub async fn revoke_client_sessions(&self, client_id: &ClientId) -> Result<u64, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let client = "(SELECT id FROM clients WHERE client_id = $1)";
        let done = sqlx::query(&format!("DELETE FROM grants WHERE client_pk = {client}"))
            .bind(client_id.as_str())
            .execute(&mut *tx)
            .await?;
        for (table, which) in
            [("authorization_codes", " AND used = 0"), ("authorization_requests", ""), ("client_tokens", "")]
        {
            sqlx::query(&format!("DELETE FROM {table} WHERE client_pk = {client}{which}"))
                .bind(client_id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let ended = done.rows_affected();
        let change = FieldChange::new("sessions", Some(ended.to_string()), None);
        self.record(&mut tx, &Event::client("client.sessions_revoked", client_id, vec![change])).await?;
        tx.commit().await?;
        Ok(ended)
    }
}
