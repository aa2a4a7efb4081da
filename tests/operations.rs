//! Operations endpoints: `/healthz` (alive), `/readyz` (database answers, migrations applied) and
//! `/metrics` (Prometheus text, loopback only by default) counting a real flow.

mod common;

use clavis::auth::client_addr::Networks;
use common::{TestApp, oauth::str_of};

async fn metrics(app: &TestApp) -> String {
    let res = app.get("/metrics", "").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/plain; version=0.0.4");
    res.text().await.unwrap()
}

fn value(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{series} in\n{text}"))
}

#[tokio::test]
async fn health_readiness_and_metrics_count_a_real_flow() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz", "").await.text().await.unwrap(), "ok");
    let res = app.get("/readyz", "").await;
    assert_eq!((res.status().as_u16(), res.text().await.unwrap().as_str()), (200, "ready"));

    app.add_user("alice", false).await;
    let failed = app.sign_in_response("alice", "not the password", None).await;
    assert!(common::set_cookie(&failed, app.cookies.session).is_none(), "no session for a wrong password");
    let cookie = app.sign_in("alice").await;
    let client = app.add_client(|_| {}).await;
    let tokens = app.tokens(&cookie, &client).await;
    let (status, rotated) = app.refresh(&client, str_of(&tokens, "refresh_token")).await;
    assert_eq!(status, 200);
    let (status, _) =
        app.client_post("/oauth2/revoke", &client, &[("token", str_of(&rotated, "refresh_token"))]).await;
    assert_eq!(status, 200);

    let text = metrics(&app).await;
    assert_eq!(value(&text, "clavis_tokens_issued_total"), 1);
    assert_eq!(value(&text, "clavis_tokens_refreshed_total"), 1);
    assert_eq!(value(&text, "clavis_tokens_revoked_total"), 1);
    assert_eq!(value(&text, "clavis_sign_in_failures_total"), 1);
    assert_eq!(value(&text, r#"clavis_http_requests_total{route="/oauth2/token",status="200"}"#), 2);
    assert_eq!(value(&text, r#"clavis_http_request_duration_seconds_count{route="/oauth2/token"}"#), 2);
    assert_eq!(
        value(&text, r#"clavis_http_request_duration_seconds_bucket{route="/oauth2/token",le="+Inf"}"#),
        2
    );
    assert!(value(&text, "clavis_db_pool_connections") >= 1);
    assert!(!text.contains(str_of(&tokens, "access_token")), "never a token");

    // A database missing a migration is not ready.
    let db = app.db_handle().await;
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    assert_eq!(app.get("/readyz", "").await.status(), 503);
    assert_eq!(app.get("/healthz", "").await.status(), 200, "still alive");
}

#[tokio::test]
async fn metrics_are_served_only_to_allowed_addresses() {
    let app = TestApp::spawn_with(|s| s.metrics_allow = Networks::parse("10.0.0.0/8").unwrap()).await;
    assert_eq!(app.get("/metrics", "").await.status(), 403);
}
