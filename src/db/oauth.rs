//! What the authorization server stores: pending consent requests, authorization codes,
//! sessions (`grants`: one authorization and the tokens issued from it) and tokens. Every secret
//! arrives here as a SHA-256 digest. Each operation that issues or rotates tokens is one
//! transaction, so nothing is half-written and the session cap holds under concurrency.

use std::sync::OnceLock;

use sqlx::{Any, Transaction};

use super::{
    Backend, Db, DbError,
    audit::Event,
    clients::{CLIENT_COLUMNS, ClientRow},
    settings::{SETTINGS_COLUMNS, SettingsRow},
};
use crate::domain::{
    Scope,
    api::ApiSet,
    audit::FieldChange,
    client::{Client, ClientId, ClientScope},
    settings::InstanceSettings,
};

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

impl Db {
    pub async fn find_stored_client(&self, client_id: &str) -> Result<Option<StoredClient>, DbError> {
        let row: Option<StoredClientRow> =
            sqlx::query_as(stored_client_sql()).bind(client_id).fetch_optional(self.pool()).await?;
        let Some(r) = row else { return Ok(None) };
        let old_secret_expires_at = r.client.old_secret_expires_at;
        Ok(Some(StoredClient {
            pk: r.pk,
            client: Client::try_from(r.client)?,
            secret_digest: r.secret_digest,
            old_secret_digest: r.old_secret_digest,
            old_secret_expires_at,
            allowed_apis: r.apis,
            settings: r.settings.try_into()?,
        }))
    }

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
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, client_pk, user_id, redirect_uri, scope, \
             code_challenge, expires_at, used, redirect_uri_sent, audience) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
        )
        .bind(code_hash)
        .bind(code.client_pk)
        .bind(code.user_id)
        .bind(code.redirect_uri.as_str())
        .bind(code.scope)
        .bind(code.code_challenge.as_deref())
        .bind(code.expires_at)
        .bind(i64::from(code.redirect_uri_sent))
        .bind(&code.audience)
        .execute(self.pool())
        .await?;
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
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let claimed: Option<CodeColumns> = sqlx::query_as(
            "UPDATE authorization_codes SET used = 1 WHERE code_hash = $1 AND used = 0 \
             RETURNING client_pk, user_id, redirect_uri, redirect_uri_sent, scope, code_challenge, expires_at, \
               audience",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let claimed = claimed.map(CodeRow::from);
        let Some(code) = claimed else {
            let used: Option<(i64, Option<i64>)> =
                sqlx::query_as("SELECT client_pk, grant_id FROM authorization_codes WHERE code_hash = $1")
                    .bind(code_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
            return match used {
                Some((pk, grant)) if pk == client_pk => {
                    if let Some(grant) = grant {
                        sqlx::query("DELETE FROM grants WHERE id = $1").bind(grant).execute(&mut *tx).await?;
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
        .fetch_one(&mut *tx)
        .await?;
        // Live sessions beyond the cap, and expired ones, go; the newest `session_cap` stay.
        sqlx::query(
            "DELETE FROM grants WHERE user_id = $1 AND client_pk = $2 AND id NOT IN \
               (SELECT id FROM grants WHERE user_id = $1 AND client_pk = $2 \
                  AND (expires_at IS NULL OR expires_at > $3) ORDER BY id DESC LIMIT $4)",
        )
        .bind(code.user_id)
        .bind(client_pk)
        .bind(now)
        .bind(i64::from(session_cap))
        .execute(&mut *tx)
        .await?;
        insert_tokens(&mut tx, grant_id, now, &tokens).await?;
        // Self-registered clients in use are kept by the purge.
        sqlx::query("UPDATE clients SET last_used_at = $1 WHERE id = $2 AND origin <> 'admin'")
            .bind(now)
            .bind(client_pk)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE authorization_codes SET grant_id = $1 WHERE code_hash = $2")
            .bind(grant_id)
            .bind(code_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Redeemed::Issued(minted))
    }

    /// Serialises session creation per user on Postgres (a row lock), so the cap is exact under
    /// concurrency. SQLite transactions already write one at a time.
    async fn lock_user(&self, tx: &mut Transaction<'static, Any>, user_id: i64) -> Result<(), DbError> {
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(user_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

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
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        // The session row first, then the token: the same lock order as a revocation.
        let grant: Option<(i64, i64, i64, i64)> = sqlx::query_as(
            "UPDATE grants SET refresh_count = refresh_count + 1 \
             WHERE id = (SELECT grant_id FROM tokens WHERE digest = $1 AND kind = 'refresh') \
             RETURNING id, client_pk, refresh_count, created_at",
        )
        .bind(digest)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((grant_id, grant_client, refresh_count, created_at)) = grant else {
            return Ok(Refreshed::NotFound);
        };
        if grant_client != client_pk {
            return Ok(Refreshed::NotFound);
        }
        let salt = grace.map(|_| crate::auth::token::random_token());
        let token: Option<(Scope, Option<i64>, ApiSet)> = sqlx::query_as(
            "UPDATE tokens SET rotated = 1, rotated_at = $2, successor_salt = $3 \
             WHERE digest = $1 AND rotated = 0 RETURNING scope, expires_at, audience",
        )
        .bind(digest)
        .bind(now)
        .bind(salt.as_ref().map(|s| s.as_bytes().to_vec()))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((token_scope, token_expires_at, audience)) = token else {
            if let Some(grace) = grace {
                let rotated: Option<(Option<i64>, Option<Vec<u8>>)> =
                    sqlx::query_as("SELECT rotated_at, successor_salt FROM tokens WHERE digest = $1")
                        .bind(digest)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some((Some(at), Some(salt))) = rotated
                    && now - at <= grace
                    && let Ok(salt) = String::from_utf8(salt)
                {
                    // Not a new refresh: the count goes back as it was.
                    sqlx::query("UPDATE grants SET refresh_count = refresh_count - 1 WHERE id = $1")
                        .bind(grant_id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    return Ok(Refreshed::Again { salt });
                }
            }
            sqlx::query("DELETE FROM grants WHERE id = $1").bind(grant_id).execute(&mut *tx).await?;
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
        sqlx::query("UPDATE grants SET expires_at = $1 WHERE id = $2")
            .bind(tokens.grant_expires_at)
            .bind(grant_id)
            .execute(&mut *tx)
            .await?;
        // An access token that never expires is replaced, not joined, by its successor: otherwise
        // every refresh would leave one more immortal token behind.
        sqlx::query("DELETE FROM tokens WHERE grant_id = $1 AND kind = 'access' AND expires_at IS NULL")
            .bind(grant_id)
            .execute(&mut *tx)
            .await?;
        insert_tokens(&mut tx, grant_id, now, &tokens).await?;
        tx.commit().await?;
        Ok(Refreshed::Issued(minted))
    }

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
        .fetch_optional(self.pool())
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
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO client_tokens (digest, client_pk, scope, audience, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token.digest.to_vec())
        .bind(client_pk)
        .bind(token.scope)
        .bind(&token.audience)
        .bind(now)
        .bind(token.expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
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
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(scope, expires_at, refresh)| (scope, expires_at, refresh == 1)))
    }

    pub async fn find_token(&self, digest: &[u8]) -> Result<Option<TokenInfo>, DbError> {
        #[derive(sqlx::FromRow)]
        struct Row {
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
        let row: Option<Row> = sqlx::query_as(
            "SELECT t.kind, t.issued_at, t.expires_at, t.scope, c.scope AS client_scope, t.rotated, \
               c.id AS client_pk, c.client_id, c.active, u.id AS user_id, u.username, t.audience \
             FROM tokens t JOIN grants g ON g.id = t.grant_id JOIN clients c ON c.id = g.client_pk \
               JOIN users u ON u.id = g.user_id \
             WHERE t.digest = $1 \
             UNION ALL \
             SELECT 'access', t.issued_at, t.expires_at, t.scope, c.scope, 0, c.id, c.client_id, c.active, \
               NULL, NULL, t.audience \
             FROM client_tokens t JOIN clients c ON c.id = t.client_pk \
             WHERE t.digest = $1 AND c.client_credentials = 1",
        )
        .bind(digest)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| TokenInfo {
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
        }))
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

    pub async fn set_display_name(&self, user_id: i64, display_name: &str) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
            .bind(display_name)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
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

/// The access token and, when issued, the refresh token of `grant_id`, in one statement.
async fn insert_tokens(
    tx: &mut Transaction<'static, Any>,
    grant_id: i64,
    now: i64,
    tokens: &Issue,
) -> Result<(), DbError> {
    let values = if tokens.refresh.is_some() {
        "($1, $2, 'access', $3, $4, $5, 0, $6), ($7, $2, 'refresh', $8, $4, $9, 0, $10)"
    } else {
        "($1, $2, 'access', $3, $4, $5, 0, $6)"
    };
    let sql = format!(
        "INSERT INTO tokens (digest, grant_id, kind, scope, issued_at, expires_at, rotated, audience) VALUES {values}"
    );
    let mut q = sqlx::query(&sql)
        .bind(tokens.access.digest.to_vec())
        .bind(grant_id)
        .bind(tokens.access.scope)
        .bind(now)
        .bind(tokens.access.expires_at)
        .bind(&tokens.access.audience);
    if let Some(r) = &tokens.refresh {
        q = q.bind(r.digest.to_vec()).bind(r.scope).bind(r.expires_at).bind(&r.audience);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

impl Db {
    /// The client with row id `pk`, as it is now.
    pub async fn client_by_pk(&self, pk: i64) -> Result<Option<Client>, DbError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1");
        let row: Option<ClientRow> = sqlx::query_as(&sql).bind(pk).fetch_optional(self.pool()).await?;
        row.map(Client::try_from).transpose()
    }
}
