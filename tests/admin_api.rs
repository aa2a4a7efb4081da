//! The admin server functions over real HTTP: who may call them, CSRF, field errors, and that
//! refused input changes nothing.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Signs in and returns the session cookie and the session's CSRF token (from the sign-out form).
async fn session(app: &TestApp, username: &str, admin: bool) -> (String, String) {
    app.add_user(username, admin).await;
    let cookie = app.sign_in(username).await;
    let page = app.get("/account", &cookie).await.text().await.unwrap();
    (cookie, common::hidden_value(&page, "csrf").expect("csrf token"))
}

async fn call(app: &TestApp, cookie: &str, name: &str, body: Value) -> (StatusCode, Value) {
    call_with(app, cookie, name, body, &[]).await
}

async fn call_with(
    app: &TestApp,
    cookie: &str,
    name: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut req = app.http.post(app.url(&format!("/api/clients/{name}"))).json(&body);
    if !cookie.is_empty() {
        req = req.header("cookie", cookie);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn form(name: &str) -> Value {
    json!({"name": name, "redirect_uris": "https://app.example.com/cb"})
}

async fn total(app: &TestApp, cookie: &str) -> u64 {
    let (status, page) = call(app, cookie, "list", json!({"query": {}})).await;
    assert_eq!(status, 200, "{page}");
    page["total"].as_u64().unwrap()
}

#[tokio::test]
async fn only_signed_in_admins_may_call() {
    let app = TestApp::spawn().await;
    let (user, user_csrf) = session(&app, "alice", false).await;
    let (status, body) = call(&app, &user, "list", json!({"query": {}})).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = call(&app, &user, "create", json!({"csrf": user_csrf, "form": form("X")})).await;
    assert_eq!(status, 403);
    let (status, _) = call(&app, "", "list", json!({"query": {}})).await;
    assert_eq!(status, 401);
    let (status, _) =
        call(&app, "clavis_session=forged", "create", json!({"csrf": "x", "form": form("X")})).await;
    assert_eq!(status, 401);

    let (admin, _) = session(&app, "root", true).await;
    assert_eq!(total(&app, &admin).await, 0, "nothing was created");
}

#[tokio::test]
async fn changes_need_the_session_csrf_token_and_same_site() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = session(&app, "root", true).await;
    let (status, body) = call(&app, &admin, "create", json!({"csrf": "forged", "form": form("X")})).await;
    assert_eq!(status, 403, "{body}");
    let cross = [("sec-fetch-site", "cross-site")];
    let (status, _) =
        call_with(&app, &admin, "create", json!({"csrf": csrf, "form": form("X")}), &cross).await;
    assert_eq!(status, 403);
    assert_eq!(total(&app, &admin).await, 0);

    let (status, created) = call(&app, &admin, "create", json!({"csrf": csrf, "form": form("App")})).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["secret"].as_str().map(str::len), Some(43));
    assert_eq!(created["client"]["form"]["name"], "App");
    assert_eq!(created["client"]["token_endpoint"], format!("{}/oauth2/token", app.base));
    assert_eq!(created["client"]["authorization_endpoint"], format!("{}/oauth2/authorize", app.base));
}

#[tokio::test]
async fn invalid_input_gets_field_errors_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = session(&app, "root", true).await;
    let bad = json!({"name": " ", "redirect_uris": "http://evil.example/cb", "auth_method": "none", "require_pkce": false});
    let (status, body) = call(&app, &admin, "create", json!({"csrf": csrf, "form": bad})).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> =
        body["Invalid"].as_array().unwrap().iter().map(|e| e[0].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "redirect_uris", "auth_method", "require_pkce"]);
    assert_eq!(total(&app, &admin).await, 0);

    let (_, created) = call(&app, &admin, "create", json!({"csrf": csrf, "form": form("App")})).await;
    let id = created["client"]["client_id"].as_str().unwrap().to_string();
    let mut edit = created["client"]["form"].clone();
    edit["auth_method"] = json!("none");
    edit["require_pkce"] = json!(false);
    let (status, body) =
        call(&app, &admin, "update", json!({"csrf": csrf, "client_id": id, "form": edit})).await;
    assert_eq!(status, 422, "{body}");
    let (_, now) = call(&app, &admin, "get", json!({"client_id": id})).await;
    assert_eq!(now["form"]["auth_method"], "client_secret_post", "unchanged");
    assert_eq!(now["form"], created["client"]["form"]);
}

#[tokio::test]
async fn every_action_and_an_edit_after_a_delete() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = session(&app, "root", true).await;
    let (_, created) = call(&app, &admin, "create", json!({"csrf": csrf, "form": form("App")})).await;
    let id = created["client"]["client_id"].as_str().unwrap().to_string();

    let (status, view) =
        call(&app, &admin, "set_active", json!({"csrf": csrf, "client_id": id, "active": false})).await;
    assert_eq!((status.as_u16(), &view["active"]), (200, &json!(false)));
    let (status, regen) =
        call(&app, &admin, "regenerate_secret", json!({"csrf": csrf, "client_id": id, "grace": "1h"})).await;
    assert_eq!(status, 200, "{regen}");
    assert_ne!(regen["secret"], created["secret"]);
    assert!(regen["client"]["secret"]["previous_valid_until"].is_i64());
    let (status, _) =
        call(&app, &admin, "regenerate_secret", json!({"csrf": csrf, "client_id": id, "grace": "1w"})).await;
    assert_eq!(status, 400);

    let (status, _) = call(&app, &admin, "delete", json!({"csrf": csrf, "client_id": id})).await;
    assert_eq!(status, 200);
    let edit = created["client"]["form"].clone();
    let (status, body) =
        call(&app, &admin, "update", json!({"csrf": csrf, "client_id": id, "form": edit})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(total(&app, &admin).await, 0, "the edit did not bring it back");
    let (status, _) = call(&app, &admin, "get", json!({"client_id": "not a client id"})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_edit_racing_a_delete_never_brings_the_client_back() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let (admin, csrf) = session(&app, "root", true).await;
    let mut races = Vec::new();
    for i in 0..12 {
        let (_, created) =
            call(&app, &admin, "create", json!({"csrf": csrf, "form": form(&format!("App {i}"))})).await;
        let id = created["client"]["client_id"].as_str().unwrap().to_string();
        let mut edit = created["client"]["form"].clone();
        edit["name"] = json!(format!("Renamed {i}"));
        // Both requests are in flight at once; which one the server takes first is up to it.
        let (app, admin, csrf) = (app.clone(), admin.clone(), csrf.clone());
        races.push(tokio::spawn(async move {
            let update = call(&app, &admin, "update", json!({"csrf": csrf, "client_id": id, "form": edit}));
            let delete = call(&app, &admin, "delete", json!({"csrf": csrf, "client_id": id}));
            let ((updated, body), (deleted, _)) = tokio::join!(update, delete);
            assert_eq!(deleted, 200, "the delete always succeeds");
            assert!(
                matches!(updated.as_u16(), 200 | 404),
                "the edit lands first or finds nothing: {updated} {body}"
            );
            let (status, _) = call(&app, &admin, "get", json!({"client_id": id})).await;
            assert_eq!(status, 404, "deleted, whatever the order");
            updated.as_u16()
        }));
    }
    let mut outcomes = std::collections::BTreeMap::new();
    for race in races {
        *outcomes.entry(race.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(outcomes.values().sum::<i32>(), 12, "{outcomes:?}");
    assert_eq!(total(&app, &admin).await, 0, "no edit brought a client back: {outcomes:?}");
}

#[tokio::test]
async fn pages_of_unknown_clients_are_404() {
    let app = TestApp::spawn().await;
    let (admin, _) = session(&app, "root", true).await;
    for path in [
        "/admin/clients/AAAAAAAAAAAAAAAAAAAAAA",
        "/admin/clients/AAAAAAAAAAAAAAAAAAAAAA/edit",
        "/admin/clients/not%20an%20id",
    ] {
        let res = app.get(path, &admin).await;
        assert_eq!(res.status(), 404, "{path}");
        assert!(res.text().await.unwrap().contains("This client no longer exists."), "{path}");
    }
}

#[tokio::test]
async fn pages_show_the_instance_defaults_as_they_are_now() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = session(&app, "root", true).await;
    let (_, created) = call(&app, &admin, "create", json!({"csrf": csrf, "form": form("Defaults")})).await;
    let id = created["client"]["client_id"].as_str().unwrap().to_string();
    let pages =
        [format!("/admin/clients/{id}"), format!("/admin/clients/{id}/edit"), "/admin/clients/new".into()];
    let texts = |access: &str, refresh: &str| {
        [
            [format!("Global setting ({access})"), format!("Global setting ({refresh})")],
            [format!("Use the global setting ({access})"), format!("Use the global setting ({refresh})")],
            [format!("Use the global setting ({access})"), format!("Use the global setting ({refresh})")],
        ]
    };
    for (page, want) in pages.iter().zip(texts("12 hours", "30 days")) {
        let html = app.get(page, &admin).await.text().await.unwrap();
        for w in want {
            assert!(html.contains(&w), "{page} shows {w}");
        }
    }

    // As `clavis settings set --access-token-lifetime 600 --refresh-token-lifetime 86400` does.
    let db = clavis::db::Db::connect(&app.db.url).await.unwrap();
    db.update_settings(clavis::db::settings::SettingsPatch {
        access_token_lifetime: std::num::NonZeroU32::new(600),
        refresh_token_lifetime: std::num::NonZeroU32::new(86_400),
        ..Default::default()
    })
    .await
    .unwrap();
    db.close().await;
    let (status, view) = call(&app, &admin, "get", json!({"client_id": id})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (&view["defaults"]["access_token_lifetime"], &view["defaults"]["refresh_token_lifetime"]),
        (&json!(600), &json!(86_400))
    );
    let (status, defaults) = call(&app, &admin, "defaults", json!({})).await;
    assert_eq!(
        (status.as_u16(), &defaults["defaults"]["access_token_lifetime"]),
        (200, &json!(600)),
        "{defaults}"
    );
    for (page, want) in pages.iter().zip(texts("10 minutes", "1 day")) {
        let html = app.get(page, &admin).await.text().await.unwrap();
        for w in want {
            assert!(html.contains(&w), "{page} shows {w}");
        }
        assert!(!html.contains("12 hours") && !html.contains("30 days"), "{page} shows no stale default");
    }
}

/// A server function under `/api/{group}/{name}`.
async fn call_at(app: &TestApp, cookie: &str, group: &str, name: &str, body: Value) -> (StatusCode, Value) {
    let mut req = app.http.post(app.url(&format!("/api/{group}/{name}"))).json(&body);
    if !cookie.is_empty() {
        req = req.header("cookie", cookie);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn settings_call(app: &TestApp, cookie: &str, name: &str, body: Value) -> (StatusCode, Value) {
    call_at(app, cookie, "settings", name, body).await
}

#[tokio::test]
async fn the_settings_page_reads_checks_and_saves_every_setting() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = session(&app, "root", true).await;
    let (user, user_csrf) = session(&app, "alice", false).await;
    let (status, form) = settings_call(&app, &admin, "get", json!({})).await;
    assert_eq!(status, 200, "{form}");
    assert_eq!(form["access_token_lifetime"], "43200");
    assert_eq!(form["registration"], "off");
    assert_eq!(settings_call(&app, &user, "get", json!({})).await.0, 403);
    assert_eq!(settings_call(&app, "", "get", json!({})).await.0, 401);

    let mut changed = form.clone();
    changed["access_token_lifetime"] = json!("600");
    changed["registration"] = json!("open");
    changed["client_metadata_documents"] = json!(true);
    changed["metadata_document_hosts"] = json!("docs.internal.example");
    assert_eq!(settings_call(&app, &user, "save", json!({"csrf": user_csrf, "form": changed})).await.0, 403);
    assert_eq!(settings_call(&app, &admin, "save", json!({"csrf": "forged", "form": changed})).await.0, 403);

    // Bad fields: each named, nothing saved.
    let mut bad = changed.clone();
    bad["session_cap"] = json!("0");
    bad["registration"] = json!("sometimes");
    let (status, err) = settings_call(&app, &admin, "save", json!({"csrf": csrf, "form": bad})).await;
    assert_eq!(status, 422, "{err}");
    let fields: Vec<&str> =
        err["InvalidSettings"].as_array().unwrap().iter().filter_map(|e| e[0].as_str()).collect();
    assert_eq!(fields, ["session_cap", "registration"], "{err}");
    assert_eq!(settings_call(&app, &admin, "get", json!({})).await.1, form, "nothing was saved");

    // Saved: at once, everywhere.
    let (status, now) = settings_call(&app, &admin, "save", json!({"csrf": csrf, "form": changed})).await;
    assert_eq!(status, 200, "{now}");
    assert_eq!(now["access_token_lifetime"], "600");
    let db = app.db_handle().await;
    let s = db.settings().await.unwrap();
    assert_eq!(s.access_token_lifetime.get(), 600);
    assert_eq!(db.metadata_document_hosts().await.unwrap(), ["docs.internal.example"]);
    db.close().await;
    let m = app.as_metadata().await;
    assert_eq!(m["registration_endpoint"], format!("{}/oauth2/register", app.base));
    assert_eq!(m["client_id_metadata_document_supported"], true);
    let page = app.get("/admin/settings", &admin).await.text().await.unwrap();
    assert!(page.contains("Save settings") && page.contains("10 minutes"), "{page}");
}

async fn users_call(app: &TestApp, cookie: &str, name: &str, body: Value) -> (StatusCode, Value) {
    call_at(app, cookie, "users", name, body).await
}

#[tokio::test]
async fn the_users_page_adds_changes_and_guards_the_last_administrator() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = session(&app, "root", true).await;
    let (user, user_csrf) = session(&app, "alice", false).await;
    assert_eq!(users_call(&app, &user, "list", json!({"search": "", "page": 1})).await.0, 403);
    let add = json!({"csrf": user_csrf, "username": "bob", "password": "long enough pw", "admin": false});
    assert_eq!(users_call(&app, &user, "add", add).await.0, 403);

    let (status, list) = users_call(&app, &admin, "list", json!({"search": "", "page": 1})).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 2);
    // Bad input is named; nothing is written.
    for (username, password, mentions) in [
        ("bad name!", "long enough pw", "Username"),
        ("bob", "short", "Password"),
        ("alice", "long enough pw", "already taken"),
    ] {
        let (status, err) = users_call(
            &app,
            &admin,
            "add",
            json!({"csrf": csrf, "username": username, "password": password, "admin": false}),
        )
        .await;
        assert_eq!(status, 400, "{err}");
        assert!(err.to_string().contains(mentions), "{err}");
    }
    let (status, bob) = users_call(
        &app,
        &admin,
        "add",
        json!({"csrf": csrf, "username": "bob", "password": "long enough pw", "admin": false}),
    )
    .await;
    assert_eq!(status, 200, "{bob}");
    assert_eq!((bob["admin"].as_bool(), bob["disabled"].as_bool()), (Some(false), Some(false)));

    // Disabling ends everything at once.
    let client = app.add_client(|_| {}).await;
    let res = app.sign_in_response("bob", "long enough pw", None).await;
    let bob_session =
        common::set_cookie(&res, app.cookies.session).expect("bob signs in with the password given");
    let bob_cookie = format!("{}={bob_session}", app.cookies.session);
    let tokens = app.tokens(&bob_cookie, &client).await;
    let (status, _) =
        users_call(&app, &admin, "change", json!({"csrf": csrf, "username": "bob", "action": "Disable"}))
            .await;
    assert_eq!(status, 200);
    assert_eq!(app.api_get(common::oauth::str_of(&tokens, "access_token")).await.status(), 401);
    assert_eq!(app.get("/account", &bob_cookie).await.status(), 303);

    // The last active administrator stays, whoever asks.
    for action in [json!("Disable"), json!("Delete"), json!({"SetRole": "user"})] {
        let (status, err) =
            users_call(&app, &admin, "change", json!({"csrf": csrf, "username": "root", "action": action}))
                .await;
        assert_eq!(status, 400, "{action}: {err}");
        assert!(err.to_string().contains("last active administrator"), "{err}");
    }
    let (status, alice) = users_call(
        &app,
        &admin,
        "change",
        json!({"csrf": csrf, "username": "alice", "action": {"SetRole": "admin"}}),
    )
    .await;
    assert_eq!((status.as_u16(), alice["admin"].as_bool()), (200, Some(true)));
    let (status, _) = users_call(
        &app,
        &admin,
        "reset_password",
        json!({"csrf": csrf, "username": "bob", "password": "another long one"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) =
        users_call(&app, &admin, "change", json!({"csrf": csrf, "username": "bob", "action": "Delete"}))
            .await;
    assert_eq!(status, 200);
    assert_eq!(users_call(&app, &admin, "list", json!({"search": "bob", "page": 1})).await.1["total"], 0);
    let page = app.get("/admin/users", &admin).await.text().await.unwrap();
    assert!(page.contains("Make user") && page.contains("alice"), "{page}");
}

#[tokio::test]
async fn a_clients_sessions_are_listed_and_revoked_all_at_once() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = session(&app, "root", true).await;
    let (alice, _) = session(&app, "alice", false).await;
    let (bob, _) = session(&app, "bob", false).await;
    let client = app.add_client(|_| {}).await;
    let other = app.add_client(|_| {}).await;
    let first = app.tokens(&alice, &client).await;
    app.tokens(&alice, &client).await;
    app.tokens(&bob, &client).await;
    let kept = app.tokens(&alice, &other).await;
    let (status, s) = call(&app, &admin, "sessions", json!({"client_id": client.client_id, "page": 1})).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!((s["total"].as_i64(), s["users"].as_i64()), (Some(3), Some(2)));
    assert_eq!(s["rows"][0][0], "bob", "newest first");
    let (status, _) = call(&app, &alice, "sessions", json!({"client_id": client.client_id, "page": 1})).await;
    assert_eq!(status, 403);
    let (status, _) =
        call(&app, &admin, "revoke_sessions", json!({"csrf": "forged", "client_id": client.client_id})).await;
    assert_eq!(status, 403);
    let (status, n) =
        call(&app, &admin, "revoke_sessions", json!({"csrf": csrf, "client_id": client.client_id})).await;
    assert_eq!((status.as_u16(), n.as_i64()), (200, Some(3)));
    assert_eq!(app.api_get(common::oauth::str_of(&first, "access_token")).await.status(), 401);
    assert_eq!(
        app.api_get(common::oauth::str_of(&kept, "access_token")).await.status(),
        200,
        "other clients keep theirs"
    );
    let (_, s) = call(&app, &admin, "sessions", json!({"client_id": client.client_id, "page": 1})).await;
    assert_eq!(s["total"], 0);
}
