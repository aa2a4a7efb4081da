//! Nothing handed out is lost on a crash: the real server is killed (SIGKILL) while clients rotate
//! refresh tokens as fast as they can. Every token a client received is still stored, each
//! chain's last refresh token still works (or was rotated by a request whose answer the crash
//! swallowed), and the database passes its integrity checks. Token writes are answered only after
//! the commit that stores them (group commit on SQLite included).

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use clavis::{auth::token::digest, db::Db};
use common::{
    TestApp, TestDb,
    oauth::{TestClient, str_of},
    server::Server,
};

const CHAINS: usize = 8;

/// Every (access, refresh) pair a client received, per chain, oldest first.
type Received = Mutex<Vec<Vec<(String, String)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_loses_no_token_it_handed_out() {
    let db = TestDb::fresh().await;
    let url = db.url.clone();
    let (server, addr) = Server::start(&url);
    let app = Arc::new(TestApp::attach(addr, db));
    app.add_user("alice", false).await;
    let client = Arc::new(app.add_client(|_| {}).await);
    let cookie = app.sign_in("alice").await;

    let received: Arc<Received> = Arc::default();
    for _ in 0..CHAINS {
        let t = app.tokens(&cookie, &client).await;
        let pair = (str_of(&t, "access_token").to_string(), str_of(&t, "refresh_token").to_string());
        received.lock().unwrap().push(vec![pair]);
    }
    let mut load = Vec::new();
    for chain in 0..CHAINS {
        let (app, client, received) = (app.clone(), client.clone(), received.clone());
        load.push(tokio::spawn(async move { rotate_until_gone(&app, &client, &received, chain).await }));
    }
    // Let the load run, then kill the server in the middle of it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill();
    for l in load {
        l.await.unwrap();
    }
    let received = received.lock().unwrap().clone();
    let rotations: usize = received.iter().map(|c| c.len() - 1).sum();
    assert!(rotations >= 20, "the load ran ({rotations} rotations received)");

    // Every token received is stored.
    let db = Db::connect(&url).await.unwrap();
    let mut rotated_unseen = 0;
    for chain in &received {
        for (access, refresh) in chain {
            for (token, kind) in [(access, "access"), (refresh, "refresh")] {
                let n: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM tokens WHERE digest = $1 AND kind = $2")
                        .bind(digest(token).to_vec())
                        .bind(kind)
                        .fetch_one(db.pool())
                        .await
                        .unwrap();
                assert_eq!(n, 1, "a received {kind} token is stored");
            }
        }
        let last = &chain.last().unwrap().1;
        let rotated: i64 = sqlx::query_scalar("SELECT rotated FROM tokens WHERE digest = $1")
            .bind(digest(last).to_vec())
            .fetch_one(db.pool())
            .await
            .unwrap();
        rotated_unseen += rotated;
    }
    integrity(&db).await;
    db.close().await;

    // After a restart, each chain's last pair works, unless its refresh token was rotated by a
    // request the crash left unanswered (then presenting it again is a reuse, correctly refused).
    let (server, addr) = Server::start(&url);
    let app = TestApp::attach(addr, TestDb::at(&url));
    let db = Db::connect(&url).await.unwrap();
    for chain in &received {
        let (access, refresh) = chain.last().unwrap();
        let rotated: i64 = sqlx::query_scalar("SELECT rotated FROM tokens WHERE digest = $1")
            .bind(digest(refresh).to_vec())
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(app.api_get(access).await.status(), 200, "the last access token received works");
        if rotated == 0 {
            let (status, body) = app.refresh(&client, refresh).await;
            assert_eq!(status, 200, "the last refresh token received works: {body}");
        }
    }
    assert!(rotated_unseen <= CHAINS as i64);
    db.close().await;
    server.kill();
}

async fn rotate_until_gone(app: &TestApp, client: &TestClient, received: &Received, chain: usize) {
    loop {
        let refresh = received.lock().unwrap()[chain].last().unwrap().1.clone();
        let res = app
            .http
            .post(app.url("/oauth2/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", client.client_id.as_str()),
                ("client_secret", client.secret.as_deref().unwrap()),
            ])
            .send()
            .await;
        // The server is gone (or went while answering): this chain stops.
        let Ok(res) = res else { return };
        let status = res.status();
        let Ok(body) = res.json::<serde_json::Value>().await else { return };
        assert_eq!(status, 200, "{body}");
        let pair = (str_of(&body, "access_token").to_string(), str_of(&body, "refresh_token").to_string());
        received.lock().unwrap()[chain].push(pair);
    }
}

/// The database's own checks, and no token without its session.
async fn integrity(db: &Db) {
    if db.backend() == clavis::db::Backend::Sqlite {
        let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(db.pool()).await.unwrap();
        assert_eq!(check, "ok");
        let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
            .fetch_all(db.pool())
            .await
            .unwrap();
        assert!(broken.is_empty(), "foreign keys hold: {broken:?}");
    }
    let orphans: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tokens t WHERE NOT EXISTS (SELECT 1 FROM grants g WHERE g.id = t.grant_id)",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(orphans, 0, "every token belongs to a session");
}
