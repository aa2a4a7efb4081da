//! Server-side sessions: the cookie holds 256 random bits, the database only their digest.
//! A session's CSRF token is derived from its secret, so it needs no storage of its own.

use http::{HeaderMap, request::Parts};

use super::{cookie, token};
use crate::db::{Db, DbError, now_unix, sessions::SessionUser};

/// Sessions end 12 hours after sign-in.
pub const SESSION_TTL_SECS: i64 = 12 * 60 * 60;
const CSRF_PURPOSE: &str = "clavis-session-csrf";

#[derive(Clone)]
pub struct Session {
    pub user: SessionUser,
    secret: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("user", &self.user).finish_non_exhaustive()
    }
}

impl Session {
    /// The token every state-changing form of this session must carry.
    pub fn csrf_token(&self) -> String {
        token::derive(CSRF_PURPOSE, &self.secret)
    }

    pub fn verify_csrf(&self, offered: &str) -> bool {
        token::constant_time_eq(&self.csrf_token(), offered)
    }

    /// A token for one purpose, bound to this session and to `binding` (e.g. one consent request).
    pub fn bound_token(&self, purpose: &str, binding: &str) -> String {
        token::derive(purpose, &format!("{}\u{0}{binding}", self.secret))
    }

    /// The digest this session is stored under: binds server-side state to the browser session.
    pub fn digest(&self) -> [u8; 32] {
        token::digest(&self.secret)
    }
}

/// The session a request carries, looked up at most once per request: the guard stores it here.
#[derive(Clone, Debug)]
pub struct Resolved(pub Option<Session>);

/// The session behind the request's cookie (named for an https issuer when `https`).
pub async fn from_headers(db: &Db, headers: &HeaderMap, https: bool) -> Result<Option<Session>, DbError> {
    let Some(secret) = cookie::get(headers, cookie::names(https).session) else {
        return Ok(None);
    };
    // Our tokens are 43 characters; anything far off is not worth a query.
    if secret.len() > 128 {
        return Ok(None);
    }
    let user = db.find_session(&token::digest(secret), now_unix()).await?;
    Ok(user.map(|user| Session { user, secret: secret.to_string() }))
}

/// The session of the request being rendered or served (pages and server functions).
pub async fn from_parts(db: &Db, parts: &Parts, https: bool) -> Result<Option<Session>, DbError> {
    match parts.extensions.get::<Resolved>() {
        Some(Resolved(s)) => Ok(s.clone()),
        None => from_headers(db, &parts.headers, https).await,
    }
}

/// A fresh session for `user_id`, replacing the request's old one (session renewal defeats
/// fixation). Returns the cookie secret.
pub async fn start(db: &Db, user_id: i64, old_headers: &HeaderMap, https: bool) -> Result<String, DbError> {
    let secret = token::random_token();
    let now = now_unix();
    let old = cookie::get(old_headers, cookie::names(https).session).map(token::digest);
    db.create_session(
        &token::digest(&secret),
        old.as_ref().map(|d| d.as_slice()),
        user_id,
        now,
        now + SESSION_TTL_SECS,
    )
    .await?;
    Ok(secret)
}

pub async fn end(db: &Db, headers: &HeaderMap, https: bool) -> Result<(), DbError> {
    if let Some(secret) = cookie::get(headers, cookie::names(https).session) {
        db.delete_session(&token::digest(secret)).await?;
    }
    Ok(())
}
