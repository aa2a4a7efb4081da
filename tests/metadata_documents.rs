//! Client ID metadata documents: an `https` client_id is fetched (only from public addresses
//! unless an administrator allows the host), checked (its client_id, its redirect URIs, no
//! secret, 5 KB, 5 seconds, no redirects), cached by its Cache-Control, and kept as a client of
//! its own. A document server is started by each test. On SQLite, or Postgres with
//! CLAVIS_TEST_POSTGRES_URL.

mod common;

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use clavis::{
    db::{now_unix, settings::SettingsPatch},
    domain::client::ClientId,
    registry,
};
use common::{
    TestApp,
    oauth::{TestClient, authorize_path, pkce, str_of},
};
use serde_json::json;

const CALLBACK: &str = "http://127.0.0.1:43210/callback";

/// The documents by path, and how many requests came.
type Served = (Arc<Vec<(String, serde_json::Value)>>, Arc<AtomicUsize>);

struct Documents {
    base: String,
    hits: Arc<AtomicUsize>,
}

/// Serves documents on 127.0.0.1 (plain http: the host is allowed by the administrator).
async fn document_server() -> Documents {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let hits = Arc::new(AtomicUsize::new(0));
    let doc = |path: &str, body: serde_json::Value| (path.to_string(), body);
    let me = |p: &str| format!("{base}{p}");
    let docs = vec![
        doc(
            "/good.json",
            json!({"client_id": me("/good.json"), "client_name": "Doc App", "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"]}),
        ),
        doc(
            "/mismatch.json",
            json!({"client_id": "https://evil.example.com/client.json", "redirect_uris": [CALLBACK]}),
        ),
        doc(
            "/other-redirect.json",
            json!({"client_id": me("/other-redirect.json"), "redirect_uris": ["http://127.0.0.1:9/elsewhere"]}),
        ),
        doc(
            "/secret.json",
            json!({"client_id": me("/secret.json"), "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "client_secret_basic"}),
        ),
        doc(
            "/big.json",
            json!({"client_id": me("/big.json"), "redirect_uris": [CALLBACK], "client_name": "x".repeat(6000)}),
        ),
    ];
    let docs = Arc::new(docs);
    async fn serve(State((docs, hits)): State<Served>, uri: axum::http::Uri) -> axum::response::Response {
        hits.fetch_add(1, Ordering::SeqCst);
        match uri.path() {
            "/slow.json" => {
                tokio::time::sleep(Duration::from_secs(7)).await;
                "{}".into_response()
            }
            "/redirect.json" => {
                (axum::http::StatusCode::FOUND, [(header::LOCATION, "/good.json")]).into_response()
            }
            path => match docs.iter().find(|(p, _)| p == path) {
                Some((_, body)) => (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CACHE_CONTROL, "public, max-age=600"),
                    ],
                    body.to_string(),
                )
                    .into_response(),
                None => axum::http::StatusCode::NOT_FOUND.into_response(),
            },
        }
    }
    let app = Router::new().fallback(get(serve)).with_state((docs, hits.clone()));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Documents { base, hits }
}

async fn setup(allow_local: bool) -> (TestApp, String, Documents) {
    let app = TestApp::spawn().await;
    let db = app.db_handle().await;
    db.update_settings(SettingsPatch { client_metadata_documents: Some(true), ..Default::default() })
        .await
        .unwrap();
    if allow_local {
        db.set_metadata_document_hosts(&["127.0.0.1".to_string()]).await.unwrap();
    }
    db.close().await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    (app, cookie, document_server().await)
}

fn client(url: &str) -> TestClient {
    TestClient { client_id: url.into(), secret: None, redirect: CALLBACK.into(), method: "none".into() }
}

/// The authorization request of `url`'s client: status and page.
async fn authorize(app: &TestApp, cookie: &str, url: &str) -> (u16, String) {
    let (challenge, _) = pkce();
    let res = app.get(&authorize_path(&client(url), &challenge, &[]), cookie).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_document_client_signs_in_like_any_public_client() {
    let (app, cookie, docs) = setup(true).await;
    let url = format!("{}/good.json", docs.base);
    let (status, page) = authorize(&app, &cookie, &url).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Doc App wants to access your account"), "{page}");
    assert!(
        page.contains(r#"<strong class="consent-client-host">127.0.0.1:"#),
        "the document's host: {page}"
    );
    assert!(page.contains("installed here"), "all its redirect URIs are local: {page}");
    let tokens = app.tokens(&cookie, &client(&url)).await;
    assert_eq!(app.api_get(str_of(&tokens, "access_token")).await.status(), 200);
    let (status, _) = app.refresh(&client(&url), str_of(&tokens, "refresh_token")).await;
    assert_eq!(status, 200);

    // Kept as a client of its own, marked, and cached by its Cache-Control (max-age=600).
    let db = app.db_handle().await;
    let id = ClientId::parse(&url).unwrap();
    let stored = registry::get(&db, &id).await.unwrap();
    assert_eq!(stored.origin, clavis::domain::client::ClientOrigin::MetadataDocument);
    let fetched = docs.hits.load(Ordering::SeqCst);
    assert_eq!(fetched, 1, "fetched once for two authorizations");
    let (until,): (i64,) = sqlx::query_as("SELECT metadata_expires_at FROM clients WHERE client_id = $1")
        .bind(&url)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!((until - now_unix() - 600).abs() <= 5, "used for max-age: {}", until - now_unix());
    sqlx::query("UPDATE clients SET metadata_expires_at = $1")
        .bind(now_unix() - 1)
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(authorize(&app, &cookie, &url).await.0, 200);
    assert_eq!(docs.hits.load(Ordering::SeqCst), 2, "fetched again once stale");

    // An administrator can deactivate it like any client.
    registry::set_active(&db, &id, false).await.unwrap();
    db.close().await;
    let (status, page) = authorize(&app, &cookie, &url).await;
    assert_eq!(status, 400);
    assert!(page.contains("deactivated"), "{page}");
}

#[tokio::test]
async fn bad_documents_are_refused_with_the_reason_and_nothing_is_stored() {
    let (app, cookie, docs) = setup(true).await;
    for (path, reason) in [
        ("/mismatch.json", "client_id is not the URL"),
        ("/other-redirect.json", "do not list"),
        ("/secret.json", "must be none"),
        ("/big.json", "larger than 5 KB"),
        ("/redirect.json", "answered 302"),
        ("/missing.json", "answered 404"),
    ] {
        let (status, page) = authorize(&app, &cookie, &format!("{}{path}", docs.base)).await;
        assert_eq!(status, 400, "{path}");
        assert!(page.contains(reason), "{path}: {page}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM clients").await, 0);
}

#[tokio::test]
async fn a_slow_document_times_out() {
    let (app, cookie, docs) = setup(true).await;
    let started = std::time::Instant::now();
    let (status, page) = authorize(&app, &cookie, &format!("{}/slow.json", docs.base)).await;
    assert_eq!(status, 400);
    assert!(page.contains("longer than 5 seconds"), "{page}");
    assert!(started.elapsed() < Duration::from_secs(7), "it did not wait for the document");
}

#[tokio::test]
async fn private_addresses_are_refused_unless_the_host_is_allowed() {
    let (app, cookie, docs) = setup(false).await;
    let port = docs.base.rsplit(':').next().unwrap();
    for url in [
        format!("https://127.0.0.1:{port}/good.json"),
        format!("https://localhost:{port}/good.json"),
        "https://169.254.169.254/latest/meta-data".to_string(),
        "https://[::1]/client.json".to_string(),
        "https://10.0.0.1/client.json".to_string(),
    ] {
        let (status, page) = authorize(&app, &cookie, &url).await;
        assert_eq!(status, 400, "{url}");
        assert!(page.contains("not public"), "{url}: {page}");
    }
    // http is for allowed hosts only.
    let (status, page) = authorize(&app, &cookie, &format!("{}/good.json", docs.base)).await;
    assert_eq!(status, 400);
    assert!(page.contains("https"), "{page}");
    assert_eq!(docs.hits.load(Ordering::SeqCst), 0, "nothing was fetched");
}

#[tokio::test]
async fn while_off_a_url_client_id_is_an_unknown_client() {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    let docs = document_server().await;
    let (status, page) = authorize(&app, &cookie, &format!("{}/good.json", docs.base)).await;
    assert_eq!(status, 400);
    assert!(page.contains("not registered here"), "{page}");
    assert_eq!(docs.hits.load(Ordering::SeqCst), 0);
    let m = app.as_metadata().await;
    assert!(m.get("client_id_metadata_document_supported").is_none());
    let db = app.db_handle().await;
    db.update_settings(SettingsPatch { client_metadata_documents: Some(true), ..Default::default() })
        .await
        .unwrap();
    db.close().await;
    let m = app.as_metadata().await;
    assert_eq!(m["client_id_metadata_document_supported"], true);
}

#[tokio::test]
async fn the_admin_pages_show_a_document_client() {
    let (app, cookie, docs) = setup(true).await;
    let url = format!("{}/good.json", docs.base);
    assert_eq!(authorize(&app, &cookie, &url).await.0, 200);
    app.add_user("root", true).await;
    let admin = app.sign_in("root").await;
    let list = app.get("/admin/clients", &admin).await.text().await.unwrap();
    assert!(list.contains(r#"<span class="badge badge-origin">Metadata document"#), "{list}");
    let href = format!("/admin/clients/{}", clavis::domain::client::percent_encode(&url));
    assert!(list.contains(&format!("href=\"{href}\"")), "the link carries the URL encoded: {list}");
    let res = app.get(&href, &admin).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Doc App") && page.contains("Its client ID metadata document"), "{page}");
}

#[tokio::test]
async fn fetching_new_documents_is_limited_per_address() {
    let (app, cookie, docs) = setup(true).await;
    for i in 0..clavis::state::REGISTRATIONS_PER_HOUR {
        let (status, page) = authorize(&app, &cookie, &format!("{}/missing-{i}.json", docs.base)).await;
        assert_eq!(status, 400);
        assert!(page.contains("answered 404"), "{page}");
    }
    let (status, page) = authorize(&app, &cookie, &format!("{}/good.json", docs.base)).await;
    assert_eq!(status, 400);
    assert!(page.contains("too many new clients"), "{page}");
    assert_eq!(docs.hits.load(Ordering::SeqCst), clavis::state::REGISTRATIONS_PER_HOUR as usize);
}
