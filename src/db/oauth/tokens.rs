//! Tokens: the bearer lookup every API call makes, introspection, revocation (RFC 7009) and the
//! tokens clients get for themselves.

use super::{Issue, NewToken};
use crate::{
    db::{
        Backend, Db, DbError, WriteTx,
        batch::{Script, Value},
    },
    domain::{Scope, api::ApiSet, client::ClientScope},
};

/// Whom an access token acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A user, through one of the client's sessions.
    User { id: i64, username: String, display_name: String },
    /// The client itself (the client_credentials grant).
    Client { client_id: String, name: String },
}

/// An access token presented to the API, with everything the API decides on.
#[derive(Debug, Clone)]
pub struct Bearer {
    pub expires_at: Option<i64>,
    /// The token's scope within what its client may have now: privileges follow the client.
    pub scope: Scope,
    pub client_pk: i64,
    pub client_active: bool,
    pub rate_limit: Option<i64>,
    pub subject: Subject,
    pub api_enabled: bool,
    /// The client's redirect URIs as stored (a JSON array), for CORS.
    pub redirect_uris: String,
    /// The APIs the token is for.
    pub audience: ApiSet,
}

#[derive(sqlx::FromRow)]
struct BearerRow {
    audience: ApiSet,
    expires_at: Option<i64>,
    scope: Scope,
    client_scope: ClientScope,
    client_pk: i64,
    active: i64,
    rate_limit: Option<i64>,
    redirect_uris: String,
    client_id: String,
    client_name: String,
    user_id: Option<i64>,
    username: Option<String>,
    display_name: Option<String>,
    api_enabled: i64,
}

/// What introspection reports of a token.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub kind: String,
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    /// The token's scope within what its client may have now.
    pub scope: Scope,
    pub rotated: bool,
    pub client_pk: i64,
    pub client_id: String,
    pub client_active: bool,
    /// The user a session's token acts for: (id, username); `None` for a client's own token.
    pub user: Option<(i64, String)>,
    /// For an access token: the APIs it is for; for a refresh token: its session's.
    pub audience: ApiSet,
}

/// The token of digest `$1`, a session's or a client's own, for [`TokenInfo`].
pub(super) const FIND_TOKEN: &str = "SELECT t.kind, t.issued_at, t.expires_at, t.scope, c.scope AS client_scope, t.rotated, \
       c.id AS client_pk, c.client_id, c.active, u.id AS user_id, u.username, t.audience \
     FROM tokens t JOIN grants g ON g.id = t.grant_id JOIN clients c ON c.id = g.client_pk \
       JOIN users u ON u.id = g.user_id \
     WHERE t.digest = $1 \
     UNION ALL \
     SELECT 'access', t.issued_at, t.expires_at, t.scope, c.scope, 0, c.id, c.client_id, c.active, \
       NULL, NULL, t.audience \
     FROM client_tokens t JOIN clients c ON c.id = t.client_pk \
     WHERE t.digest = $1 AND c.client_credentials = 1";

#[derive(sqlx::FromRow)]
pub(super) struct TokenRow {
    kind: String,
    issued_at: i64,
    expires_at: Option<i64>,
    scope: Scope,
    client_scope: ClientScope,
    rotated: i64,
    client_pk: i64,
    client_id: String,
    active: i64,
    user_id: Option<i64>,
    username: Option<String>,
    audience: ApiSet,
}

impl From<TokenRow> for TokenInfo {
    fn from(r: TokenRow) -> Self {
        TokenInfo {
            kind: r.kind,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
            scope: r.scope.intersection(r.client_scope.scopes()),
            rotated: r.rotated == 1,
            client_pk: r.client_pk,
            client_id: r.client_id,
            client_active: r.active == 1,
            user: r.user_id.zip(r.username),
            audience: r.audience,
        }
    }
}

impl Db {
    /// One indexed lookup: an access token, its session, client, user and the API switch.
    /// The access token with `digest`: a session's, or a client's own (client_credentials,
    /// while the client still has that grant). One statement, two primary-key lookups.
    pub async fn find_bearer(&self, digest: &[u8]) -> Result<Option<Bearer>, DbError> {
        let row: Option<BearerRow> = sqlx::query_as(
            "SELECT t.expires_at, t.scope, t.audience, c.scope AS client_scope, c.id AS client_pk, c.active, \
               c.rate_limit, c.redirect_uris, c.client_id, c.name AS client_name, \
               u.id AS user_id, u.username, u.display_name, s.api_enabled \
             FROM tokens t JOIN grants g ON g.id = t.grant_id JOIN clients c ON c.id = g.client_pk \
               JOIN users u ON u.id = g.user_id CROSS JOIN settings s \
             WHERE t.digest = $1 AND t.kind = 'access' AND s.id = 1 \
             UNION ALL \
             SELECT t.expires_at, t.scope, t.audience, c.scope, c.id, c.active, c.rate_limit, c.redirect_uris, \
               c.client_id, c.name, NULL, NULL, NULL, s.api_enabled \
             FROM client_tokens t JOIN clients c ON c.id = t.client_pk CROSS JOIN settings s \
             WHERE t.digest = $1 AND c.client_credentials = 1 AND s.id = 1",
        )
        .bind(digest)
        .fetch_optional(self.read().await?.conn()?)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let subject = match (r.user_id, r.username, r.display_name) {
            (Some(id), Some(username), Some(display_name)) => Subject::User { id, username, display_name },
            _ => Subject::Client { client_id: r.client_id, name: r.client_name },
        };
        Ok(Some(Bearer {
            expires_at: r.expires_at,
            scope: r.scope.intersection(r.client_scope.scopes()),
            client_pk: r.client_pk,
            client_active: r.active == 1,
            rate_limit: r.rate_limit,
            subject,
            api_enabled: r.api_enabled == 1,
            redirect_uris: r.redirect_uris,
            audience: r.audience,
        }))
    }

    /// Stores an access token a client got for itself (client_credentials).
    pub async fn insert_client_token(
        &self,
        client_pk: i64,
        now: i64,
        token: &NewToken,
    ) -> Result<(), DbError> {
        let q = sqlx::query(
            "INSERT INTO client_tokens (digest, client_pk, scope, audience, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token.digest.to_vec())
        .bind(client_pk)
        .bind(token.scope)
        .bind(&token.audience)
        .bind(now)
        .bind(token.expires_at);
        self.write_one(q).await
    }

    /// Whether any client may use the client_credentials grant (for the metadata).
    pub async fn client_credentials_in_use(&self) -> Result<bool, DbError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM (SELECT 1 FROM clients WHERE client_credentials = 1 LIMIT 1) x",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }

    /// The pair a rotation issued, found again by its digests (a refresh token reused within its
    /// grace): the access token's scope and end, and whether the refresh token is still stored.
    pub async fn find_successor(
        &self,
        access: &[u8],
        refresh: &[u8],
    ) -> Result<Option<(Scope, Option<i64>, bool)>, DbError> {
        let row: Option<(Scope, Option<i64>, i64)> = sqlx::query_as(
            "SELECT a.scope, a.expires_at, \
               (SELECT COUNT(*) FROM tokens r WHERE r.digest = $2 AND r.kind = 'refresh') \
             FROM tokens a WHERE a.digest = $1 AND a.kind = 'access'",
        )
        .bind(access)
        .bind(refresh)
        .fetch_optional(self.read().await?.conn()?)
        .await?;
        Ok(row.map(|(scope, expires_at, refresh)| (scope, expires_at, refresh == 1)))
    }

    pub async fn find_token(&self, digest: &[u8]) -> Result<Option<TokenInfo>, DbError> {
        let row: Option<TokenRow> =
            sqlx::query_as(FIND_TOKEN).bind(digest).fetch_optional(self.read().await?.conn()?).await?;
        Ok(row.map(TokenInfo::from))
    }

    /// Revokes a token of `client_pk` (RFC 7009): a refresh token ends its whole session, and
    /// the codes the client holds for that user and has not exchanged yet; an access token ends
    /// only itself. Another client's or an unknown token is left alone.
    pub async fn revoke_token(&self, digest: &[u8], client_pk: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let session: Option<(i64,)> = sqlx::query_as(
            "DELETE FROM grants WHERE client_pk = $2 AND id = \
               (SELECT grant_id FROM tokens WHERE digest = $1 AND kind = 'refresh') RETURNING user_id",
        )
        .bind(digest)
        .bind(client_pk)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((user_id,)) = session {
            sqlx::query("DELETE FROM authorization_codes WHERE user_id = $1 AND client_pk = $2 AND used = 0")
                .bind(user_id)
                .bind(client_pk)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(true);
        }
        drop(tx);
        let access = sqlx::query(
            "DELETE FROM tokens WHERE digest = $1 AND kind = 'access' \
               AND grant_id IN (SELECT id FROM grants WHERE client_pk = $2)",
        )
        .bind(digest)
        .bind(client_pk)
        .execute(self.pool())
        .await?;
        if access.rows_affected() > 0 {
            return Ok(true);
        }
        let own = sqlx::query("DELETE FROM client_tokens WHERE digest = $1 AND client_pk = $2")
            .bind(digest)
            .bind(client_pk)
            .execute(self.pool())
            .await?;
        Ok(own.rows_affected() > 0)
    }
}

/// Stores the tokens of session `grant_id` issued at `now` after the statements already in
/// `script`, and runs it all as the request's last statements (one trip to the writing connection
/// on SQLite).
pub(super) async fn store_tokens<'a>(
    tx: &mut WriteTx,
    backend: Backend,
    mut script: Script<'a>,
    grant_id: i64,
    now: i64,
    tokens: &'a Issue,
) -> Result<(), DbError> {
    let access = &tokens.access;
    let mut values = vec![
        Value::Bytes(&access.digest),
        Value::Int(grant_id),
        Value::Scope(access.scope),
        Value::Int(now),
        Value::MaybeInt(access.expires_at),
        Value::Apis(&access.audience),
    ];
    let rows = match &tokens.refresh {
        Some(r) => {
            values.extend([
                Value::Bytes(&r.digest),
                Value::Scope(r.scope),
                Value::MaybeInt(r.expires_at),
                Value::Apis(&r.audience),
            ]);
            "($1, $2, 'access', $3, $4, $5, 0, $6), ($7, $2, 'refresh', $8, $4, $9, 0, $10)"
        }
        None => "($1, $2, 'access', $3, $4, $5, 0, $6)",
    };
    script.push(
        format!(
            "INSERT INTO tokens (digest, grant_id, kind, scope, issued_at, expires_at, rotated, audience) VALUES {rows}"
        ),
        values,
    );
    script.run(tx, backend).await
}
