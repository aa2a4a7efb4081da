//! Consent screens waiting for a decision, and authorization codes: issued, then redeemed once
//! for a session and its first tokens.

use sqlx::Any;

use super::{Issue, tokens::store_tokens};
use crate::db::batch::{Script, Value};
use crate::{
    db::{Backend, Db, DbError, WriteTx},
    domain::{Scope, api::ApiSet},
};

/// A consent screen's request, waiting for the user's decision.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub client_pk: i64,
    pub user_id: i64,
    pub redirect_uri: String,
    /// Whether the authorization request named the redirect URI (see [`CodeRow`]).
    pub redirect_uri_sent: bool,
    pub scope: Scope,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    /// The APIs the tokens will be for.
    pub audience: ApiSet,
}

/// A code as stored, for the token endpoint's checks.
#[derive(Debug, Clone)]
pub struct CodeRow {
    pub client_pk: i64,
    pub user_id: i64,
    pub redirect_uri: String,
    /// Whether the authorization request named the redirect URI: then the token request must
    /// repeat it (RFC 6749 §4.1.3).
    pub redirect_uri_sent: bool,
    pub scope: Scope,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
    /// The APIs the user granted access to.
    pub audience: ApiSet,
}

#[derive(sqlx::FromRow)]
struct CodeColumns {
    client_pk: i64,
    user_id: i64,
    redirect_uri: String,
    redirect_uri_sent: i64,
    scope: Scope,
    code_challenge: Option<String>,
    expires_at: i64,
    audience: ApiSet,
}

impl From<CodeColumns> for CodeRow {
    fn from(c: CodeColumns) -> Self {
        Self {
            client_pk: c.client_pk,
            user_id: c.user_id,
            redirect_uri: c.redirect_uri,
            redirect_uri_sent: c.redirect_uri_sent == 1,
            scope: c.scope,
            code_challenge: c.code_challenge,
            expires_at: c.expires_at,
            audience: c.audience,
        }
    }
}

pub enum Redeemed<R, E> {
    /// Stored; `R` is what the caller minted alongside (the token response).
    Issued(R),
    /// No such code, another client's code, or an expired one.
    NotFound,
    /// The code was already used: the session it started has been revoked.
    Replayed,
    /// The code was valid but a check failed (redirect_uri, PKCE); it is used up now.
    Refused(E),
}

impl Db {
    /// Stores a consent screen's request; of the browser session's open ones only the newest
    /// `keep` stay (each holds up to 8 KiB, and a page reload opens another).
    pub async fn insert_authorization_request(
        &self,
        id_hash: &[u8],
        session_hash: &[u8],
        req: &PendingRequest,
        expires_at: i64,
        keep: i64,
    ) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO authorization_requests (id_hash, session_hash, user_id, client_pk, redirect_uri, \
             scope, state, code_challenge, expires_at, redirect_uri_sent, audience) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id_hash)
        .bind(session_hash)
        .bind(req.user_id)
        .bind(req.client_pk)
        .bind(req.redirect_uri.as_str())
        .bind(req.scope)
        .bind(req.state.as_deref())
        .bind(req.code_challenge.as_deref())
        .bind(expires_at)
        .bind(i64::from(req.redirect_uri_sent))
        .bind(&req.audience)
        .execute(&mut *tx)
        .await?;
        // The new one stays; of the others, those opened last (ties in the same second: any).
        sqlx::query(
            "DELETE FROM authorization_requests WHERE session_hash = $1 AND id_hash <> $2 AND id_hash NOT IN \
               (SELECT id_hash FROM authorization_requests WHERE session_hash = $1 AND id_hash <> $2 \
                ORDER BY expires_at DESC LIMIT $3)",
        )
        .bind(session_hash)
        .bind(id_hash)
        .bind(keep - 1)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes (deletes and returns) a pending request of this browser session: a decision can be
    /// made once only.
    pub async fn take_authorization_request(
        &self,
        id_hash: &[u8],
        session_hash: &[u8],
        now: i64,
    ) -> Result<Option<PendingRequest>, DbError> {
        let _turn = self.write_turn().await;
        type Row = (i64, i64, String, i64, Scope, Option<String>, Option<String>, i64, ApiSet);
        let row: Option<Row> = sqlx::query_as(
            "DELETE FROM authorization_requests WHERE id_hash = $1 AND session_hash = $2 \
             RETURNING client_pk, user_id, redirect_uri, redirect_uri_sent, scope, state, code_challenge, \
               expires_at, audience",
        )
        .bind(id_hash)
        .bind(session_hash)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.filter(|r| r.7 > now).map(
            |(client_pk, user_id, redirect_uri, sent, scope, state, code_challenge, _, audience)| {
                PendingRequest {
                    client_pk,
                    user_id,
                    redirect_uri,
                    redirect_uri_sent: sent == 1,
                    scope,
                    state,
                    code_challenge,
                    audience,
                }
            },
        ))
    }

    pub async fn insert_code(&self, code_hash: &[u8], code: &CodeRow) -> Result<(), DbError> {
        let q = bind_code(sqlx::query(INSERT_CODE), code_hash, code);
        self.write_one(q).await
    }

    /// Stores many codes in one transaction (the benchmark's seed).
    pub async fn insert_codes(&self, codes: &[([u8; 32], CodeRow)]) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        for (hash, code) in codes {
            bind_code(sqlx::query(INSERT_CODE), hash, code).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Redeems a code for `client_pk` in one transaction: claims it (single use), lets `decide`
    /// check it and mint the tokens, opens a session holding them, and trims the user's sessions
    /// with this client to `session_cap`, the oldest going first. A refused code stays used up; a
    /// replayed code revokes its session.
    pub async fn redeem_code<R, E>(
        &self,
        code_hash: &[u8],
        client_pk: i64,
        now: i64,
        session_cap: u32,
        decide: impl FnOnce(&CodeRow) -> Result<(Issue, R), E>,
    ) -> Result<Redeemed<R, E>, DbError> {
        let mut tx = self.batch().await?;
        let sql = tx.first(
            "UPDATE authorization_codes SET used = 1 WHERE code_hash = $1 AND used = 0 \
             RETURNING client_pk, user_id, redirect_uri, redirect_uri_sent, scope, code_challenge, expires_at, \
               audience",
        );
        // `fetch_all`: with statements in front of it, `fetch_optional` of sqlx's `Any` looks
        // only at the first result (the savepoint's, no row) and reports none.
        let claimed: Vec<CodeColumns> = sqlx::query_as(&sql).bind(code_hash).fetch_all(tx.conn()).await?;
        let claimed = claimed.into_iter().next().map(CodeRow::from);
        let Some(code) = claimed else {
            let used: Option<(i64, Option<i64>)> =
                sqlx::query_as("SELECT client_pk, grant_id FROM authorization_codes WHERE code_hash = $1")
                    .bind(code_hash)
                    .fetch_optional(tx.conn())
                    .await?;
            return match used {
                Some((pk, grant)) if pk == client_pk => {
                    if let Some(grant) = grant {
                        sqlx::query("DELETE FROM grants WHERE id = $1")
                            .bind(grant)
                            .execute(tx.conn())
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(Redeemed::Replayed)
                }
                _ => Ok(Redeemed::NotFound),
            };
        };
        if code.client_pk != client_pk || code.expires_at <= now {
            // Another client's code stays usable by its owner; an expired one is dead anyway.
            return Ok(Redeemed::NotFound);
        }
        let (tokens, minted) = match decide(&code) {
            Ok(issued) => issued,
            Err(reason) => {
                tx.commit().await?;
                return Ok(Redeemed::Refused(reason));
            }
        };
        self.lock_user(&mut tx, code.user_id).await?;
        let (grant_id,): (i64,) = sqlx::query_as(
            "INSERT INTO grants (client_pk, user_id, scope, refresh_count, created_at, expires_at) \
             VALUES ($1, $2, $3, 0, $4, $5) RETURNING id",
        )
        .bind(client_pk)
        .bind(code.user_id)
        .bind(code.scope)
        .bind(now)
        .bind(tokens.grant_expires_at)
        .fetch_one(tx.conn())
        .await?;
        // Live sessions beyond the cap, and expired ones, go; the newest `session_cap` stay.
        // Self-registered clients in use are kept by the purge. The code remembers its session
        // (a replay revokes it).
        let mut script = Script::default();
        script
            .push(
                "DELETE FROM grants WHERE user_id = $1 AND client_pk = $2 AND id NOT IN \
                   (SELECT id FROM grants WHERE user_id = $1 AND client_pk = $2 \
                      AND (expires_at IS NULL OR expires_at > $3) ORDER BY id DESC LIMIT $4)",
                vec![
                    Value::Int(code.user_id),
                    Value::Int(client_pk),
                    Value::Int(now),
                    Value::Int(i64::from(session_cap)),
                ],
            )
            .push(
                "UPDATE clients SET last_used_at = $1 WHERE id = $2 AND origin <> 'admin'",
                vec![Value::Int(now), Value::Int(client_pk)],
            )
            .push(
                "UPDATE authorization_codes SET grant_id = $1 WHERE code_hash = $2",
                vec![Value::Int(grant_id), Value::Bytes(code_hash)],
            );
        store_tokens(&mut tx, self.backend(), script, grant_id, now, &tokens).await?;
        tx.commit().await?;
        Ok(Redeemed::Issued(minted))
    }

    /// Serialises session creation per user on Postgres (a row lock), so the cap is exact under
    /// concurrency. SQLite transactions already write one at a time.
    async fn lock_user(&self, conn: &mut WriteTx, user_id: i64) -> Result<(), DbError> {
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(user_id)
                .execute(conn.conn())
                .await?;
        }
        Ok(())
    }
}

const INSERT_CODE: &str = "INSERT INTO authorization_codes (code_hash, client_pk, user_id, redirect_uri, scope, \
     code_challenge, expires_at, used, redirect_uri_sent, audience) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)";

fn bind_code<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    code_hash: &'q [u8],
    code: &'q CodeRow,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    q.bind(code_hash)
        .bind(code.client_pk)
        .bind(code.user_id)
        .bind(code.redirect_uri.as_str())
        .bind(code.scope)
        .bind(code.code_challenge.as_deref())
        .bind(code.expires_at)
        .bind(i64::from(code.redirect_uri_sent))
        .bind(&code.audience)
}
