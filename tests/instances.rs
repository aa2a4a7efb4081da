//! Several instances on one database (README: "Running several instances"): two servers, each
//! with its own connection pool (and, on SQLite, its own group-commit writer), share a database
//! and keep every guarantee while requests race across them: rotation with reuse detection, codes
//! used once, the session cap, and deactivation seen by every instance at once.

mod common;

use clavis::{domain::client::ClientId, registry};
use common::{
    TestApp,
    oauth::{TestClient, exchange_form, pkce, str_of},
};
use reqwest::StatusCode;
use serde_json::Value;

async fn two_instances() -> (TestApp, TestApp, TestClient, String) {
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    a.add_user("alice", false).await;
    let client = a.add_client(|_| {}).await;
    let cookie = a.sign_in("alice").await;
    (a, b, client, cookie)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_raced_on_two_instances_rotates_once_and_the_reuse_ends_the_session() {
    let (a, b, client, cookie) = two_instances().await;
    for round in 0..4 {
        let tokens = a.tokens(&cookie, &client).await;
        let refresh = str_of(&tokens, "refresh_token");
        let ((sa, ba), (sb, bb)) = tokio::join!(a.refresh(&client, refresh), b.refresh(&client, refresh));
        let winners: Vec<&Value> = [(sa, &ba), (sb, &bb)]
            .into_iter()
            .filter(|(s, _)| *s == StatusCode::OK)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one rotation: {ba} / {bb}");
        let loser = if sa == StatusCode::OK { &bb } else { &ba };
        assert_eq!(loser["error"], "invalid_grant", "{loser}");
        // The loser presented a rotated token: a reuse, so the winner's successor is dead too.
        let successor = str_of(winners[0], "refresh_token");
        for app in [&a, &b] {
            let (status, body) = app.refresh(&client, successor).await;
            assert_eq!(status, 400, "round {round}: the session ended on every instance: {body}");
        }
        assert_eq!(b.api_get(str_of(winners[0], "access_token")).await.status(), 401);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_raced_on_two_instances_is_used_once() {
    let (a, b, client, cookie) = two_instances().await;
    for round in 0..4 {
        let (challenge, verifier) = pkce();
        let code = a.code_for(&cookie, &client, &challenge).await;
        let form = exchange_form(&client, &code, &verifier);
        let ((sa, ba), (sb, bb)) = tokio::join!(
            a.client_post("/oauth2/token", &client, &form),
            b.client_post("/oauth2/token", &client, &form)
        );
        let oks = [sa, sb].iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(oks, 1, "round {round}: one exchange: {ba} / {bb}");
        // The replay revoked what the code started (RFC 6749 §4.1.2).
        let won = if sa == StatusCode::OK { &ba } else { &bb };
        for app in [&a, &b] {
            assert_eq!(app.api_get(str_of(won, "access_token")).await.status(), 401, "round {round}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cap_holds_across_instances() {
    let (a, b, client, cookie) = two_instances().await;
    // Codes first (through one instance), then every exchange at once, alternating instances.
    let mut codes = Vec::new();
    for _ in 0..14 {
        let (challenge, verifier) = pkce();
        codes.push((a.code_for(&cookie, &client, &challenge).await, verifier));
    }
    let exchanges = codes.iter().enumerate().map(|(i, (code, verifier))| {
        let (app, client) = (if i % 2 == 0 { &a } else { &b }, &client);
        async move { app.exchange(client, code, verifier).await }
    });
    let results = futures_join_all(exchanges).await;
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(a.count("SELECT COUNT(*) FROM grants").await, 10, "at most 10 sessions per user and client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivating_a_client_stops_its_tokens_on_every_instance_at_once() {
    let (a, b, client, cookie) = two_instances().await;
    let tokens = a.tokens(&cookie, &client).await;
    let access = str_of(&tokens, "access_token");
    assert_eq!(b.api_get(access).await.status(), 200);
    // Deactivated beside both (as `clavis client deactivate` does).
    let db = a.db_handle().await;
    registry::set_active(&db, &ClientId::parse(&client.client_id).unwrap(), false).await.unwrap();
    db.close().await;
    for app in [&a, &b] {
        assert_eq!(app.api_get(access).await.status(), 401);
        let (status, body) = app.refresh(&client, str_of(&tokens, "refresh_token")).await;
        assert_eq!(status, 401, "{body}");
    }
}

/// Runs the futures concurrently, results in order.
async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out = Vec::new();
    // Polled together: each is started before any is awaited to completion.
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    out.extend(results.into_iter().flatten());
    out
}
