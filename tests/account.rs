//! The account page's data API over real HTTP: the caller's own sessions (and ending one), the
//! display name, and changing the password (current one required; other browser sessions end).

mod common;

use common::{PASSWORD, TestApp, oauth::str_of};
use serde_json::{Value, json};

async fn csrf(app: &TestApp, cookie: &str) -> String {
    let page = app.get("/account", cookie).await.text().await.unwrap();
    common::hidden_value(&page, "csrf").expect("csrf token")
}

async fn call(app: &TestApp, cookie: &str, name: &str, body: Value) -> (u16, Value) {
    let res = app
        .http
        .post(app.url(&format!("/api/account/{name}")))
        .header("cookie", cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn a_user_sees_each_session_and_signs_one_out() {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    app.add_user("bob", false).await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    let client = app.add_client(|f| f.name = "Notes".into()).await;
    let first = app.tokens(&alice, &client).await;
    let second = app.tokens(&alice, &client).await;
    let bobs = app.tokens(&bob, &client).await;

    let (status, list) = call(&app, &alice, "sessions", json!({})).await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "only alice's own: {list:?}");
    assert_eq!(list[0]["client_name"], "Notes");
    assert_eq!(list[0]["access"], "Read and change your data");
    assert_eq!(list[0]["apis"], json!(["Clavis API"]));
    assert!(list[0]["id"].as_i64().unwrap() > list[1]["id"].as_i64().unwrap(), "newest first");

    let token = csrf(&app, &alice).await;
    let newest = list[0]["id"].clone();
    let (status, body) = call(&app, &alice, "end_session", json!({"csrf": token, "id": newest})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.api_get(str_of(&second, "access_token")).await.status(), 401, "that session ended");
    assert_eq!(app.api_get(str_of(&first, "access_token")).await.status(), 200, "the other stays");
    let (status, body) = call(&app, &alice, "end_session", json!({"csrf": token, "id": newest})).await;
    assert_eq!(status, 400, "{body}");

    // Another user's session cannot be named, and a change needs the CSRF token.
    let (_, bob_list) = call(&app, &bob, "sessions", json!({})).await;
    let bobs_id = bob_list[0]["id"].clone();
    assert_eq!(call(&app, &alice, "end_session", json!({"csrf": token, "id": bobs_id})).await.0, 400);
    assert_eq!(call(&app, &bob, "end_session", json!({"csrf": "forged", "id": bobs_id})).await.0, 403);
    assert_eq!(app.api_get(str_of(&bobs, "access_token")).await.status(), 200);
    assert_eq!(call(&app, "", "sessions", json!({})).await.0, 401);
}

#[tokio::test]
async fn the_display_name_is_checked_and_saved() {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    let token = csrf(&app, &cookie).await;
    let (status, err) =
        call(&app, &cookie, "display_name", json!({"csrf": token, "display_name": "bad\u{7}name"})).await;
    assert_eq!(status, 400);
    assert!(err.to_string().contains("Display name: must not contain control characters"), "{err}");
    let (status, saved) =
        call(&app, &cookie, "display_name", json!({"csrf": token, "display_name": "  Alice Liddell "})).await;
    assert_eq!((status, saved), (200, json!("Alice Liddell")));
    let client = app.add_client(|_| {}).await;
    let tokens = app.tokens(&cookie, &client).await;
    let me: Value = app.api_get(str_of(&tokens, "access_token")).await.json().await.unwrap();
    assert_eq!(me["display_name"], "Alice Liddell");
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_browser_sessions() {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    let here = app.sign_in("alice").await;
    let elsewhere = app.sign_in("alice").await;
    let token = csrf(&app, &here).await;
    let new = "a brand new passphrase";

    let change = |current: &str, new: &str| json!({"csrf": token, "current": current, "new": new});
    let (status, err) = call(&app, &here, "password", change("not my password", new)).await;
    assert_eq!(status, 400);
    assert!(err.to_string().contains("Current password"), "{err}");
    let (status, err) = call(&app, &here, "password", change(PASSWORD, "short")).await;
    assert_eq!(status, 400);
    assert!(err.to_string().contains("New password"), "{err}");
    assert_eq!(app.sign_in_response("alice", PASSWORD, None).await.status(), 303, "nothing changed yet");

    let (status, body) = call(&app, &here, "password", change(PASSWORD, new)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(call(&app, &here, "sessions", json!({})).await.0, 200, "this browser stays signed in");
    assert_eq!(call(&app, &elsewhere, "sessions", json!({})).await.0, 401, "the other one is signed out");
    let old = app.sign_in_response("alice", PASSWORD, None).await;
    assert!(common::location(&old).starts_with("/login"), "the old password no longer works");
    let fresh = app.sign_in_response("alice", new, None).await;
    assert!(common::set_cookie(&fresh, app.cookies.session).is_some(), "the new one does");
}
