//! The purge of expired rows (README: "Expired codes, tokens and sessions are deleted every 10
//! minutes"): it deletes what can no longer be used, never what reuse detection or code-replay
//! revocation still needs, in batches, and the server runs it by itself.

mod common;

use std::time::{Duration, Instant};

use clavis::{auth::token::digest, db::now_unix};
use common::{
    TestApp,
    oauth::{TestClient, authorize_path, pkce, str_of},
};
use reqwest::StatusCode;

async fn app_with_user() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    (app, cookie)
}

/// Sets `expires_at` of the row of `table` whose `key` column holds the digest of `secret`.
async fn expire(app: &TestApp, table: &str, key: &str, secret: &str, at: i64) {
    let db = app.db_handle().await;
    let done = sqlx::query(&format!("UPDATE {table} SET expires_at = $1 WHERE {key} = $2"))
        .bind(at)
        .bind(digest(secret).to_vec())
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1, "{table}: one row has that digest");
    db.close().await;
}

/// How many rows of `table` have `key` = the digest of `secret`.
async fn rows_with(app: &TestApp, table: &str, key: &str, secret: &str) -> i64 {
    let db = app.db_handle().await;
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table} WHERE {key} = $1"))
        .bind(digest(secret).to_vec())
        .fetch_one(db.pool())
        .await
        .unwrap();
    db.close().await;
    n
}

async fn purge(app: &TestApp, now: i64) -> u64 {
    let db = app.db_handle().await;
    let removed = db.purge_expired(now).await.unwrap();
    db.close().await;
    removed
}

/// A code from a full authorization, with its verifier (not yet exchanged).
async fn code(app: &TestApp, cookie: &str, client: &TestClient) -> (String, String) {
    let (challenge, verifier) = pkce();
    (app.code_for(cookie, client, &challenge).await, verifier)
}

#[tokio::test]
async fn a_live_rotated_refresh_token_and_a_used_code_outlive_the_purge() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let now = now_unix();

    // Refresh once: the first refresh token is rotated, and lives on for reuse detection.
    let first = app.tokens(&cookie, &client).await;
    let old_refresh = str_of(&first, "refresh_token");
    let (status, second) = app.refresh(&client, old_refresh).await;
    assert_eq!(status, 200, "{second}");
    // Another session's rotated token whose own life is over: refused anyway, so it goes.
    let other = app.tokens(&cookie, &client).await;
    let spent = str_of(&other, "refresh_token");
    assert_eq!(app.refresh(&client, spent).await.0, 200);
    expire(&app, "tokens", "digest", spent, now - 10).await;
    // A used code, past its 60 seconds but within the day it is kept for.
    let (used_code, verifier) = code(&app, &cookie, &client).await;
    let (status, third) = app.exchange(&client, &used_code, &verifier).await;
    assert_eq!(status, 200, "{third}");
    expire(&app, "authorization_codes", "code_hash", &used_code, now - 3_600).await;

    purge(&app, now).await;
    assert_eq!(rows_with(&app, "tokens", "digest", old_refresh).await, 1, "the live rotated token is kept");
    assert_eq!(rows_with(&app, "tokens", "digest", spent).await, 0, "the expired rotated token is gone");
    assert_eq!(
        rows_with(&app, "authorization_codes", "code_hash", &used_code).await,
        1,
        "the used code is kept"
    );

    // Reuse of the rotated token is still recognised, and ends its session.
    let (status, body) = app.refresh(&client, old_refresh).await;
    assert_eq!((status, str_of(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_grant"));
    assert_eq!(app.api_get(str_of(&second, "access_token")).await.status(), 401, "session revoked");
    let (status, _) = app.refresh(&client, str_of(&second, "refresh_token")).await;
    assert_eq!(status, 400, "the newest refresh token died with its session");

    // A replay of the used code is still recognised, and revokes what it issued.
    assert_eq!(app.api_get(str_of(&third, "access_token")).await.status(), 200);
    let (status, body) = app.exchange(&client, &used_code, &verifier).await;
    assert_eq!((status, str_of(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_grant"));
    assert_eq!(app.api_get(str_of(&third, "access_token")).await.status(), 401, "replay revoked");
}

/// Rows in grants, tokens, authorization_codes, authorization_requests and sessions.
async fn counts(app: &TestApp) -> Vec<i64> {
    let mut n = Vec::new();
    for table in ["grants", "tokens", "authorization_codes", "authorization_requests", "sessions"] {
        n.push(app.count(&format!("SELECT COUNT(*) FROM {table}")).await);
    }
    n
}

#[tokio::test]
async fn the_purge_deletes_exactly_what_can_no_longer_be_used() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let never = app.add_client(|f| f.access_lifetime = "never".into()).await;
    let now = now_unix();

    // Exchanges come first: each one also drops the user's expired sessions with that client.
    let (old, verifier) = code(&app, &cookie, &client).await;
    assert_eq!(app.exchange(&client, &old, &verifier).await.0, 200);
    let live = app.tokens(&cookie, &client).await;
    let dead = app.tokens(&cookie, &client).await;
    let forever = app.tokens(&cookie, &never).await;
    // A session past its end: it goes, with its tokens.
    let db = app.db_handle().await;
    sqlx::query(
        "UPDATE grants SET expires_at = $1 WHERE id = (SELECT grant_id FROM tokens WHERE digest = $2)",
    )
    .bind(now - 1)
    .bind(digest(str_of(&dead, "access_token")).to_vec())
    .execute(db.pool())
    .await
    .unwrap();
    db.close().await;
    // A live session whose access token expired: only that token goes. The session without an
    // end (`forever`) stays.
    expire(&app, "tokens", "digest", str_of(&live, "access_token"), now - 1).await;
    // Codes: one never used and expired (goes), one used more than a day ago (goes), one fresh.
    let (unused, _) = code(&app, &cookie, &client).await;
    expire(&app, "authorization_codes", "code_hash", &unused, now - 1).await;
    expire(&app, "authorization_codes", "code_hash", &old, now - 86_401).await;
    let (fresh, _) = code(&app, &cookie, &client).await;
    // Consent requests: one expired (goes), one waiting (stays).
    let (challenge, _) = pkce();
    let stale = app.consent_page(&cookie, &authorize_path(&client, &challenge, &[])).await;
    expire(&app, "authorization_requests", "id_hash", &stale.request, now - 1).await;
    let waiting = app.consent_page(&cookie, &authorize_path(&client, &challenge, &[])).await;
    // Browser sessions: one expired (goes), the test's own stays.
    let other = app.sign_in("alice").await;
    let other_secret = other.trim_start_matches("clavis_session=");
    expire(&app, "sessions", "id_hash", other_secret, now - 1).await;
    // grants: old's, live, dead, forever; tokens: 2 each; codes: those four, unused and fresh
    // (the one behind `stale` was never issued).
    assert_eq!(counts(&app).await, [4, 8, 6, 2, 2]);

    assert_eq!(purge(&app, now).await, 6, "one grant, one token, two codes, one request, one session");
    assert_eq!(counts(&app).await, [3, 5, 4, 1, 1]);
    assert_eq!(rows_with(&app, "tokens", "digest", str_of(&dead, "refresh_token")).await, 0);
    assert_eq!(rows_with(&app, "tokens", "digest", str_of(&live, "refresh_token")).await, 1);
    assert_eq!(rows_with(&app, "authorization_codes", "code_hash", &fresh).await, 1);
    assert_eq!(rows_with(&app, "authorization_requests", "id_hash", &waiting.request).await, 1);
    assert_eq!(rows_with(&app, "sessions", "id_hash", other_secret).await, 0);
    assert_eq!(app.refresh(&client, str_of(&live, "refresh_token")).await.0, 200, "the live session works");
    assert_eq!(app.api_get(str_of(&forever, "access_token")).await.status(), 200);

    // Years later, the session without an end is still there; nothing else is.
    purge(&app, now + 100 * 365 * 86_400).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM grants WHERE expires_at IS NULL").await, 1);
    assert_eq!(app.api_get(str_of(&forever, "access_token")).await.status(), 200);
}

#[tokio::test]
async fn the_server_purges_by_itself() {
    let app = TestApp::spawn_with(|s| s.purge_every = Duration::from_millis(100)).await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    expire(&app, "sessions", "id_hash", cookie.trim_start_matches("clavis_session="), now_unix() - 1).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.count("SELECT COUNT(*) FROM sessions").await > 0 {
        assert!(Instant::now() < deadline, "the expired session was not purged within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_purge_deletes_in_batches_until_done() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    app.tokens(&cookie, &client).await;
    // More expired browser sessions than one batch holds.
    let db = app.db_handle().await;
    let n = clavis::db::oauth::PURGE_BATCH * 2 + 7;
    for i in 0..n {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, expires_at) SELECT $1, id, 0, 1 FROM users",
        )
        .bind(digest(&format!("old-session-{i}")).to_vec())
        .execute(db.pool())
        .await
        .unwrap();
    }
    db.close().await;
    assert_eq!(purge(&app, now_unix()).await, n);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1, "only the live one stays");
}
