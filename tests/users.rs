//! Users from the command line: list, show, update, disable/enable (a disabled user's tokens stop
//! at once), delete, reset-password, and the last-administrator guard. The real binary on the
//! test app's own database (SQLite, or Postgres with CLAVIS_TEST_POSTGRES_URL).

mod common;

use std::process::Output;

use common::{
    PASSWORD, TestApp,
    cli::{clavis_with, json, refused},
    oauth::str_of,
};
use std::io::Write;

fn clavis(app: &TestApp, args: &[&str]) -> Output {
    clavis_with(&app.db, args, &[])
}

fn clavis_stdin(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    let mut child = std::process::Command::new(common::bin())
        .args(args)
        .env("DATABASE_URL", &app.db.url)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn a_disabled_user_signs_in_no_more_and_their_tokens_stop_at_once() {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    let client = app.add_client(|_| {}).await;
    let tokens = app.tokens(&cookie, &client).await;
    let access = str_of(&tokens, "access_token");
    assert_eq!(app.api_get(access).await.status(), 200);

    let out = json(&clavis(&app, &["user", "disable", "alice", "--json"]));
    assert_eq!(out["disabled"], true);
    assert_eq!(app.api_get(access).await.status(), 401, "the access token stops at once");
    let (_, info) = app.client_post("/oauth2/introspect", &client, &[("token", access)]).await;
    assert_eq!(info, serde_json::json!({"active": false}));
    let (status, _) = app.refresh(&client, str_of(&tokens, "refresh_token")).await;
    assert_eq!(status, 400, "the refresh token too");
    assert_eq!(app.get("/account", &cookie).await.status(), 303, "the browser session ends");
    let res = app.sign_in_response("alice", PASSWORD, None).await;
    assert_ne!(app.cookies.session, "", "{res:?}");
    assert!(common::set_cookie(&res, app.cookies.session).is_none(), "a disabled user cannot sign in");

    json(&clavis(&app, &["user", "enable", "alice", "--json"]));
    let cookie = app.sign_in("alice").await;
    assert_eq!(app.get("/account", &cookie).await.status(), 200);
    assert_eq!(app.api_get(access).await.status(), 401, "old tokens stay dead");
}

#[tokio::test]
async fn list_show_update_and_delete() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    app.add_user("alice", false).await;
    app.add_user("bob", false).await;
    let list = json(&clavis(&app, &["user", "list", "--json"]));
    assert_eq!(list["total"], 3);
    let names: Vec<&str> =
        list["users"].as_array().unwrap().iter().filter_map(|u| u["username"].as_str()).collect();
    assert_eq!(names, ["alice", "bob", "root"]);
    assert_eq!(json(&clavis(&app, &["user", "list", "--search", "BO", "--json"]))["total"], 1);
    let show = json(&clavis(&app, &["user", "show", "alice", "--json"]));
    assert_eq!((show["role"].as_str(), show["disabled"].as_bool()), (Some("user"), Some(false)));
    assert!(!show.to_string().contains("argon2"), "never the password hash");

    let updated = json(&clavis(
        &app,
        &["user", "update", "alice", "--role", "admin", "--display-name", "Alice L.", "--json"],
    ));
    assert_eq!(
        (updated["role"].as_str(), updated["display_name"].as_str()),
        (Some("admin"), Some("Alice L."))
    );
    refused(&clavis(&app, &["user", "update", "alice", "--role", "owner"]), "--role");
    refused(&clavis(&app, &["user", "show", "nobody"]), "no user");
    refused(&clavis(&app, &["user", "show", "bad name!"]), "username");

    let cookie = app.sign_in("bob").await;
    let client = app.add_client(|_| {}).await;
    app.tokens(&cookie, &client).await;
    assert_eq!(json(&clavis(&app, &["user", "delete", "bob", "--json"]))["deleted"], true);
    assert_eq!(app.count("SELECT COUNT(*) FROM grants").await, 0, "their sessions went with them");
    refused(&clavis(&app, &["user", "show", "bob"]), "no user");
}

#[tokio::test]
async fn the_last_active_administrator_stays() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    app.add_user("alice", false).await;
    for args in [
        &["user", "disable", "root"][..],
        &["user", "delete", "root"][..],
        &["user", "update", "root", "--role", "user"][..],
    ] {
        let err = refused(&clavis(&app, args), "last active administrator");
        assert!(err.starts_with("error: username:"), "{err}");
    }
    assert_eq!(json(&clavis(&app, &["user", "show", "root", "--json"]))["role"], "admin", "nothing changed");
    // A disabled administrator does not count: another active one must exist.
    json(&clavis(&app, &["user", "update", "alice", "--role", "admin", "--json"]));
    json(&clavis(&app, &["user", "disable", "alice", "--json"]));
    refused(&clavis(&app, &["user", "disable", "root"]), "last active administrator");
    json(&clavis(&app, &["user", "enable", "alice", "--json"]));
    json(&clavis(&app, &["user", "update", "root", "--role", "user", "--json"]));
    refused(&clavis(&app, &["user", "delete", "alice"]), "last active administrator");
}

#[tokio::test]
async fn reset_password_ends_browser_sessions_and_the_new_one_works() {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    let out = clavis_stdin(
        &app,
        &["user", "reset-password", "alice", "--password-stdin", "--json"],
        "a brand new secret 42\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(app.get("/account", &cookie).await.status(), 303, "signed out everywhere");
    let res = app.sign_in_response("alice", "a brand new secret 42", None).await;
    assert_eq!(res.status(), 303);
    assert!(common::set_cookie(&res, app.cookies.session).is_some());
    let short = clavis_stdin(&app, &["user", "reset-password", "alice", "--password-stdin"], "short\n");
    assert_eq!(short.status.code(), Some(2));
}

#[tokio::test]
async fn an_administrator_edits_a_display_name_on_the_users_page() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("root").await;
    let page = app.get("/account", &cookie).await.text().await.unwrap();
    let csrf = common::hidden_value(&page, "csrf").expect("csrf token");
    let call = |body: serde_json::Value, cookie: String| {
        let req = app.http.post(app.url("/api/users/display_name")).header("cookie", cookie).json(&body);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.text().await.unwrap())
        }
    };
    let body = |display: &str, csrf: &str| serde_json::json!({"csrf": csrf, "username": "alice", "display_name": display});
    let (status, text) = call(body("  Alice Liddell ", &csrf), cookie.clone()).await;
    assert_eq!(status, 200, "{text}");
    let shown = json(&clavis(&app, &["user", "show", "alice", "--json"]));
    assert_eq!(shown["display_name"], "Alice Liddell", "trimmed");
    let audit = json(&clavis(&app, &["audit", "--json"]));
    let entry = &audit["entries"][0];
    assert_eq!((entry["action"].as_str(), entry["actor"].as_str()), (Some("user.updated"), Some("root")));
    assert_eq!(entry["changes"][0]["to"], "Alice Liddell");

    // Bad input names the field and changes nothing; no CSRF token, no change.
    let (status, text) = call(body(&"x".repeat(101), &csrf), cookie.clone()).await;
    assert_eq!(status, 400);
    assert!(text.contains("Display name must be at most 100 characters"), "{text}");
    let (status, _) = call(body("Mallory", "wrong"), cookie.clone()).await;
    assert_eq!(status, 403);
    assert_eq!(json(&clavis(&app, &["user", "show", "alice", "--json"]))["display_name"], "Alice Liddell");
    // Not for users who are not administrators.
    let alice = app.sign_in("alice").await;
    let page = app.get("/account", &alice).await.text().await.unwrap();
    let own = common::hidden_value(&page, "csrf").unwrap();
    let (status, _) = call(body("Queen", &own), alice).await;
    assert_eq!(status, 403);

    // The CLI changes only the display name when no role is given.
    let only = json(&clavis(&app, &["user", "update", "root", "--display-name", " Root ", "--json"]));
    assert_eq!((only["role"].as_str(), only["display_name"].as_str()), (Some("admin"), Some("Root")));
    // ... under the same rule as the page.
    let long = "x".repeat(101);
    let err = refused(&clavis(&app, &["user", "update", "root", "--display-name", &long]), "--display-name");
    assert!(err.contains("must be at most 100 characters"), "{err}");
    refused(&clavis(&app, &["user", "update", "root", "--display-name", "a\u{7}b"]), "control characters");
    assert_eq!(json(&clavis(&app, &["user", "show", "root", "--json"]))["display_name"], "Root");
}
