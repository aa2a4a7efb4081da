//! What happens to issued tokens: the session cap (also under 50 parallel authorizations),
//! revocation, introspection, the protected API with scopes, deactivation, deletion, the rate
//! limit and the instance switch. On SQLite, or Postgres with CLAVIS_TEST_POSTGRES_URL.

mod common;

use clavis::{db::settings::SettingsPatch, domain::client::ClientId, registry};
use common::{
    TestApp,
    oauth::{REDIRECT, TestClient, authorize_path, pkce, str_of},
};
use reqwest::header;

async fn app_with_user() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    (app, cookie)
}

fn id(client: &TestClient) -> ClientId {
    ClientId::parse(&client.client_id).unwrap()
}

#[tokio::test]
async fn the_eleventh_session_discards_the_first() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let mut sessions = Vec::new();
    for _ in 0..11 {
        sessions.push(app.tokens(&cookie, &client).await);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM grants").await, 10);
    let first = &sessions[0];
    assert_eq!(app.api_get(str_of(first, "access_token")).await.status(), 401, "the first session is gone");
    let (status, _) = app.refresh(&client, str_of(first, "refresh_token")).await;
    assert_eq!(status, 400);
    for s in &sessions[1..] {
        assert_eq!(app.api_get(str_of(s, "access_token")).await.status(), 200);
    }
    // A rotation keeps its session: still 10, and the second one is still live after it.
    let (status, rotated) = app.refresh(&client, str_of(&sessions[1], "refresh_token")).await;
    assert_eq!(status, 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM grants").await, 10);
    assert_eq!(app.api_get(str_of(&rotated, "access_token")).await.status(), 200);
    // Sessions are counted per client and per user.
    let other = app.add_client(|_| {}).await;
    app.tokens(&cookie, &other).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM grants").await, 11);
}

#[tokio::test]
async fn the_cap_is_exact_under_50_parallel_authorizations() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    // Codes first (each through its own consent), then all 50 exchanges at once.
    let mut exchanges = Vec::new();
    for _ in 0..50 {
        let (challenge, verifier) = pkce();
        exchanges.push((app.code_for(&cookie, &client, &challenge).await, verifier));
    }
    let app = std::sync::Arc::new(app);
    let client = std::sync::Arc::new(client);
    let tasks: Vec<_> = exchanges
        .into_iter()
        .map(|(code, verifier)| {
            let (app, client) = (app.clone(), client.clone());
            tokio::spawn(async move { app.exchange(&client, &code, &verifier).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        statuses.push((status.as_u16(), if status == 200 { String::new() } else { body.to_string() }));
    }
    assert_eq!(statuses, vec![(200, String::new()); 50], "every exchange succeeds");
    assert_eq!(app.count("SELECT COUNT(*) FROM grants").await, 10, "exactly the cap");
    assert_eq!(app.count("SELECT COUNT(*) FROM tokens").await, 20, "their access and refresh tokens only");

    // And 50 whole authorizations (consent page, Allow, exchange) at once, from 5 browsers (a
    // browser session keeps at most 16 consent screens open).
    let mut browsers = Vec::new();
    for _ in 0..5 {
        browsers.push(std::sync::Arc::new(app.sign_in("alice").await));
    }
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (app, client, cookie) = (app.clone(), client.clone(), browsers[i % 5].clone());
            tokio::spawn(async move { app.tokens(&cookie, &client).await })
        })
        .collect();
    let mut live = Vec::new();
    for t in tasks {
        live.push(t.await.unwrap());
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM grants").await, 10, "exactly the cap");
    let mut working = 0;
    for s in &live {
        if app.api_get(str_of(s, "access_token")).await.status() == 200 {
            working += 1;
        }
    }
    assert_eq!(working, 10, "the 10 newest sessions work, the others are gone");
}

#[tokio::test]
async fn revocation_of_refresh_and_access_tokens() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let other = app.add_client(|f| f.auth_method = "client_secret_basic".into()).await;

    // A refresh token ends its session, access tokens included.
    let s = app.tokens(&cookie, &client).await;
    let res = app.client_post_raw("/oauth2/revoke", &client, &[("token", str_of(&s, "refresh_token"))]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.api_get(str_of(&s, "access_token")).await.status(), 401);
    assert_eq!(app.refresh(&client, str_of(&s, "refresh_token")).await.0, 400);

    // An access token alone; the refresh token lives on.
    let s = app.tokens(&cookie, &client).await;
    let res = app
        .client_post_raw(
            "/oauth2/revoke",
            &client,
            &[("token", str_of(&s, "access_token")), ("token_type_hint", "access_token")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.api_get(str_of(&s, "access_token")).await.status(), 401);
    assert_eq!(app.refresh(&client, str_of(&s, "refresh_token")).await.0, 200);

    // Another client cannot revoke it; unknown tokens get 200.
    let s = app.tokens(&cookie, &client).await;
    for token in [str_of(&s, "access_token"), str_of(&s, "refresh_token"), "unknown-token"] {
        let res = app.client_post_raw("/oauth2/revoke", &other, &[("token", token)]).await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(app.api_get(str_of(&s, "access_token")).await.status(), 200, "still working");

    // Credentials: none at all -> 400, wrong -> 401.
    let res = app.http.post(app.url("/oauth2/revoke")).form(&[("token", "x")]).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"], "invalid_request");
    let res = app
        .http
        .post(app.url("/oauth2/revoke"))
        .form(&[("token", "x"), ("client_id", client.client_id.as_str()), ("client_secret", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().get(header::WWW_AUTHENTICATE).is_some());
}

#[tokio::test]
async fn introspection_reports_only_the_clients_own_live_tokens() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let other = app.add_client(|_| {}).await;
    let s = app.tokens(&cookie, &client).await;
    let (status, info) =
        app.client_post("/oauth2/introspect", &client, &[("token", str_of(&s, "access_token"))]).await;
    assert_eq!(status, 200);
    assert_eq!(info["active"], true);
    assert_eq!(info["scope"], "read write");
    assert_eq!(info["client_id"], client.client_id.as_str());
    assert_eq!(info["username"], "alice");
    assert_eq!(info["token_type"], "Bearer");
    assert!(info["sub"].is_string());
    let (iat, exp) = (info["iat"].as_i64().unwrap(), info["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 43_200);
    let (_, info) =
        app.client_post("/oauth2/introspect", &client, &[("token", str_of(&s, "refresh_token"))]).await;
    assert_eq!(info["active"], true);

    for (who, token) in [(&other, str_of(&s, "access_token")), (&client, "unknown")] {
        let (status, info) = app.client_post("/oauth2/introspect", who, &[("token", token)]).await;
        assert_eq!(status, 200);
        assert_eq!(info, serde_json::json!({"active": false}));
    }
    let res = app.http.post(app.url("/oauth2/introspect")).form(&[("token", "x")]).send().await.unwrap();
    assert_eq!(res.status(), 400);
    // The client and the token are looked up together; wrong credentials, or a client ID nobody
    // has, learn nothing about a live token.
    let access = str_of(&s, "access_token");
    for (client_id, secret) in [
        (client.client_id.clone(), "wrong secret".to_string()),
        ("no-such-client".to_string(), client.secret.clone().unwrap()),
    ] {
        let who = TestClient {
            client_id,
            secret: Some(secret),
            redirect: client.redirect.clone(),
            method: client.method.clone(),
        };
        let (status, info) = app.client_post("/oauth2/introspect", &who, &[("token", access)]).await;
        assert_eq!(status, 401, "{info}");
        assert_eq!(info["error"], "invalid_client", "{info}");
    }

    // A rotated refresh token is inactive at once; its successor and the new access token are
    // active. An expired token is inactive while its row still exists.
    let (status, rotated) = app.refresh(&client, str_of(&s, "refresh_token")).await;
    assert_eq!(status, 200, "{rotated}");
    let active = |token: &str| {
        let (app, client, token) = (&app, &client, token.to_string());
        async move {
            let (status, info) = app.client_post("/oauth2/introspect", client, &[("token", &token)]).await;
            assert_eq!(status, 200, "{info}");
            info["active"].as_bool().unwrap_or_else(|| panic!("active is a boolean: {info}"))
        }
    };
    assert!(!active(str_of(&s, "refresh_token")).await, "the rotated refresh token");
    assert!(active(str_of(&rotated, "refresh_token")).await);
    assert!(active(str_of(&rotated, "access_token")).await);
    let db = app.db_handle().await;
    sqlx::query("UPDATE tokens SET expires_at = $1 WHERE digest = $2")
        .bind(clavis::db::now_unix() - 1)
        .bind(clavis::auth::token::digest(str_of(&rotated, "access_token")).to_vec())
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    let (_, info) =
        app.client_post("/oauth2/introspect", &client, &[("token", str_of(&rotated, "access_token"))]).await;
    assert_eq!(info, serde_json::json!({"active": false}), "expired");
    assert!(active(str_of(&rotated, "refresh_token")).await, "the refresh token outlives it");
}

#[tokio::test]
async fn the_api_needs_a_bearer_token_with_the_right_scope() {
    let (app, cookie) = app_with_user().await;
    let full = app.add_client(|_| {}).await;
    let read = app.add_client(|f| f.scope = "read".into()).await;
    let s = app.tokens(&cookie, &full).await;
    let access = str_of(&s, "access_token");

    let res = app.api_patch(access, r#"{"display_name": "Alice A."}"#).await;
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = app.api_get(access).await.json().await.unwrap();
    assert_eq!(me, serde_json::json!({"username": "alice", "display_name": "Alice A."}));
    let res = app.api_patch(access, r#"{"display_name": 7}"#).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("display_name"));

    let r = app.tokens(&cookie, &read).await;
    assert_eq!(r["scope"], "read");
    let res = app.api_patch(str_of(&r, "access_token"), r#"{"display_name": "x"}"#).await;
    assert_eq!(res.status(), 403);
    let challenge = res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().to_string();
    assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}");
    assert_eq!(app.api_get(str_of(&r, "access_token")).await.status(), 200);

    // No token, a bad one, a refresh token, or one in the URL.
    let res = app.http.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Bearer"));
    for bad in ["nonsense", str_of(&s, "refresh_token")] {
        let res = app.api_get(bad).await;
        assert_eq!(res.status(), 401);
        let challenge = res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().to_string();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
    let res = app.http.get(app.url(&format!("/api/v1/me?access_token={access}"))).send().await.unwrap();
    assert_eq!(res.status(), 400, "tokens in the URL are refused");
    let res = app
        .http
        .get(app.url("/api/v1/me"))
        .header("authorization", format!("Basic {access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Expired.
    let db = app.db_handle().await;
    sqlx::query("UPDATE tokens SET expires_at = 1 WHERE kind = 'access'").execute(db.pool()).await.unwrap();
    db.close().await;
    assert_eq!(app.api_get(access).await.status(), 401);
}

#[tokio::test]
async fn deactivation_suspends_tokens_and_deletion_removes_them() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let s = app.tokens(&cookie, &client).await;
    let access = str_of(&s, "access_token");
    let db = app.db_handle().await;
    registry::set_active(&db, &id(&client), false).await.unwrap();
    assert_eq!(app.api_get(access).await.status(), 401);
    let (status, body) = app.refresh(&client, str_of(&s, "refresh_token")).await;
    assert_eq!((status.as_u16(), str_of(&body, "error")), (401, "invalid_client"));
    let (status, info) = app.client_post("/oauth2/introspect", &client, &[("token", access)]).await;
    assert_eq!((status.as_u16(), str_of(&info, "error")), (401, "invalid_client"), "{info}");

    registry::set_active(&db, &id(&client), true).await.unwrap();
    assert_eq!(app.api_get(access).await.status(), 200, "activation restores unexpired tokens");
    assert_eq!(app.refresh(&client, str_of(&s, "refresh_token")).await.0, 200);

    registry::delete(&db, &id(&client)).await.unwrap();
    assert_eq!(app.api_get(access).await.status(), 401);
    db.close().await;
    for table in ["grants", "tokens", "authorization_codes", "authorization_requests"] {
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM {table}")).await, 0, "{table} emptied");
    }
}

#[tokio::test]
async fn the_clients_rate_limit_applies_to_the_api() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|f| f.rate_limit = "3".into()).await;
    let unlimited = app.add_client(|_| {}).await;
    let s = app.tokens(&cookie, &client).await;
    for _ in 0..3 {
        assert_eq!(app.api_get(str_of(&s, "access_token")).await.status(), 200);
    }
    let res = app.api_get(str_of(&s, "access_token")).await;
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let u = app.tokens(&cookie, &unlimited).await;
    for _ in 0..10 {
        assert_eq!(app.api_get(str_of(&u, "access_token")).await.status(), 200);
    }
}

#[tokio::test]
async fn the_instance_switch_turns_the_api_off_and_on() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let s = app.tokens(&cookie, &client).await;
    let db = app.db_handle().await;
    db.update_settings(SettingsPatch { api_enabled: Some(false), ..SettingsPatch::default() }).await.unwrap();
    let res = app.api_get(str_of(&s, "access_token")).await;
    assert_eq!(res.status(), 503);
    assert!(res.text().await.unwrap().contains("API access is turned off"));
    let (status, body) = app.refresh(&client, str_of(&s, "refresh_token")).await;
    assert_eq!(status, 503);
    assert!(str_of(&body, "error_description").contains("turned off"));

    db.update_settings(SettingsPatch { api_enabled: Some(true), ..SettingsPatch::default() }).await.unwrap();
    db.close().await;
    assert_eq!(app.api_get(str_of(&s, "access_token")).await.status(), 200);
    assert_eq!(app.refresh(&client, str_of(&s, "refresh_token")).await.0, 200);
}

#[tokio::test]
async fn instance_lifetimes_and_cap_come_from_the_settings() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let db = app.db_handle().await;
    let n = |v: u32| std::num::NonZeroU32::new(v);
    db.update_settings(SettingsPatch {
        access_token_lifetime: n(600),
        session_cap: n(2),
        ..SettingsPatch::default()
    })
    .await
    .unwrap();
    db.close().await;
    let s = app.tokens(&cookie, &client).await;
    assert_eq!(s["expires_in"], 600);
    app.tokens(&cookie, &client).await;
    app.tokens(&cookie, &client).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM grants").await, 2);
    assert_eq!(app.api_get(str_of(&s, "access_token")).await.status(), 401);
}

#[tokio::test]
async fn browser_apps_read_answers_only_from_their_registered_origins() {
    let (app, cookie) = app_with_user().await;
    let spa = app
        .add_client(|f| {
            f.auth_method = "none".into();
            f.redirect_uris = "https://spa.example.com/callback".into();
        })
        .await;
    let spa_origin = "https://spa.example.com";
    let allow_origin = |res: &reqwest::Response| {
        res.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).map(|v| v.to_str().unwrap().to_string())
    };

    let (challenge, verifier) = pkce();
    let code = app.code_for(&cookie, &spa, &challenge).await;
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header(header::ORIGIN, spa_origin)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", spa.redirect.as_str()),
            ("code_verifier", verifier.as_str()),
            ("client_id", spa.client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(allow_origin(&res).as_deref(), Some(spa_origin));
    assert!(res.headers().get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none(), "never with cookies");
    let tokens: serde_json::Value = res.json().await.unwrap();
    let access = str_of(&tokens, "access_token");

    // The API: readable from the client's origin, not from another one.
    for (origin, readable) in [(spa_origin, true), ("https://evil.example", false)] {
        let res = app
            .http
            .get(app.url("/api/v1/me"))
            .header(header::ORIGIN, origin)
            .header(header::AUTHORIZATION, format!("Bearer {access}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(allow_origin(&res).is_some(), readable, "{origin}");
    }
    // Another origin at the token endpoint cannot read the answer.
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header(header::ORIGIN, "https://evil.example")
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", spa.client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(allow_origin(&res).is_none());
    // Preflights for the Authorization header; the metadata is public.
    let res = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/me"))
        .header(header::ORIGIN, spa_origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let allowed = res.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap().to_string();
    assert!(allowed.contains("authorization"), "{allowed}");
    let res = app.get("/.well-known/oauth-authorization-server", "").await;
    assert_eq!(allow_origin(&res).as_deref(), Some("*"));
}

/// The account page's "Apps with access": what the user allowed, and removing it.
#[tokio::test]
async fn users_see_and_remove_the_apps_they_allowed() {
    let (app, cookie) = app_with_user().await;
    app.add_user("bob", false).await;
    let bob = app.sign_in("bob").await;
    let writer = app.add_client(|f| f.name = "Writer App".into()).await;
    let reader = app
        .add_client(|f| {
            f.name = "Reader App".into();
            f.scope = "read".into();
        })
        .await;
    let w1 = app.tokens(&cookie, &writer).await;
    let w2 = app.tokens(&cookie, &writer).await;
    let r = app.tokens(&cookie, &reader).await;
    let b = app.tokens(&bob, &writer).await;

    let call = |name: &'static str, cookie: String, body: serde_json::Value, same_site: bool| {
        let mut req =
            app.http.post(app.url(&format!("/api/account/{name}"))).header("cookie", cookie).json(&body);
        if same_site {
            req = req.header("sec-fetch-site", "same-origin");
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<serde_json::Value>().await.unwrap_or(serde_json::Value::Null))
        }
    };
    let (status, apps) = call("apps", cookie.clone(), serde_json::json!({}), true).await;
    assert_eq!(status, 200, "{apps}");
    let apps = apps.as_array().unwrap().clone();
    assert_eq!(apps.len(), 2);
    assert_eq!(apps[0]["name"], "Reader App", "most recently allowed first");
    assert_eq!(apps[0]["access"], "Read your data");
    assert_eq!((apps[1]["name"].as_str(), apps[1]["sessions"].as_i64()), (Some("Writer App"), Some(2)));
    assert_eq!(apps[1]["access"], "Read and change your data");

    // Removal needs the session's CSRF token and a same-site request.
    let page = app.get("/account", &cookie).await.text().await.unwrap();
    let csrf = common::hidden_value(&page, "csrf").expect("the session's token on the page");
    let remove = serde_json::json!({"csrf": csrf, "client_id": writer.client_id});
    let (status, _) = call(
        "remove_app",
        cookie.clone(),
        serde_json::json!({"csrf": "forged", "client_id": writer.client_id}),
        true,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call("remove_app", cookie.clone(), remove.clone(), false).await;
    assert_eq!(status, 200, "no Sec-Fetch-Site header: the token alone decides");
    for s in [&w1, &w2] {
        assert_eq!(app.api_get(str_of(s, "access_token")).await.status(), 401);
        assert_eq!(app.refresh(&writer, str_of(s, "refresh_token")).await.0, 400);
    }
    assert_eq!(app.api_get(str_of(&r, "access_token")).await.status(), 200, "other apps keep access");
    assert_eq!(app.api_get(str_of(&b, "access_token")).await.status(), 200, "other users keep theirs");
    let (_, apps) = call("apps", cookie.clone(), serde_json::json!({}), true).await;
    assert_eq!(apps.as_array().unwrap().len(), 1);
    let (status, _) = call("apps", String::new(), serde_json::json!({}), true).await;
    assert_eq!(status, 401, "signed out");
}

#[tokio::test]
async fn privileges_follow_the_clients_current_scope() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let s = app.tokens(&cookie, &client).await;
    let access = str_of(&s, "access_token");
    assert_eq!(app.api_patch(access, r#"{"display_name": "A"}"#).await.status(), 200);
    let (_, first) = app.refresh(&client, str_of(&s, "refresh_token")).await;
    assert_eq!(first["scope"], "read write");

    // An administrator narrows the client to "Read-only API Access".
    let db = app.db_handle().await;
    let view = registry::get(&db, &id(&client)).await.unwrap();
    let mut form = clavis::domain::client::ClientForm::from_spec(&view.spec);
    form.scope = "read".into();
    registry::update(&db, &id(&client), &form, &app.builtin()).await.unwrap();
    // Tokens already out lose write at once: at the API and in introspection.
    let current = str_of(&first, "access_token");
    let res = app.api_patch(current, r#"{"display_name": "B"}"#).await;
    assert_eq!(res.status(), 403, "write is gone");
    assert_eq!(app.api_get(current).await.status(), 200, "read stays");
    let (_, info) = app.client_post("/oauth2/introspect", &client, &[("token", current)]).await;
    assert_eq!(info["scope"], "read", "{info}");
    // The next refresh issues read only, and asking for write is refused.
    let (status, err) = app
        .client_post(
            "/oauth2/token",
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", str_of(&first, "refresh_token")),
                ("scope", "write"),
            ],
        )
        .await;
    assert_eq!((status.as_u16(), str_of(&err, "error")), (400, "invalid_scope"), "{err}");
    let (status, second) = app.refresh(&client, str_of(&first, "refresh_token")).await;
    assert_eq!((status.as_u16(), &second["scope"]), (200, &serde_json::json!("read")), "{second}");

    // Widening the client again does not widen the session: that takes a new consent.
    form.scope = "full".into();
    registry::update(&db, &id(&client), &form, &app.builtin()).await.unwrap();
    db.close().await;
    let (status, third) = app.refresh(&client, str_of(&second, "refresh_token")).await;
    assert_eq!((status.as_u16(), &third["scope"]), (200, &serde_json::json!("read")), "{third}");
    assert_eq!(app.api_patch(str_of(&third, "access_token"), r#"{"display_name": "C"}"#).await.status(), 403);
    let fresh = app.tokens(&cookie, &client).await;
    assert_eq!(fresh["scope"], "read write", "a new authorization gets what the client may have");
}

#[tokio::test]
async fn an_unknown_token_type_hint_is_ignored() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let s = app.tokens(&cookie, &client).await;
    let access = str_of(&s, "access_token");
    // RFC 7662 §2.1 / RFC 7009 §2.2: the server may ignore the hint, and must not fail on one it
    // does not know; a wrong hint does not hide the token either.
    for hint in ["refresh_token", "urn:ietf:params:oauth:token-type:jwt", "mac"] {
        let (status, info) = app
            .client_post("/oauth2/introspect", &client, &[("token", access), ("token_type_hint", hint)])
            .await;
        assert_eq!((status.as_u16(), &info["active"]), (200, &serde_json::json!(true)), "{hint}: {info}");
    }
    let res = app
        .client_post_raw(
            "/oauth2/revoke",
            &client,
            &[("token", access), ("token_type_hint", "something_else")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.api_get(access).await.status(), 401, "revoked despite the unknown hint");
    let (status, err) = app
        .client_post(
            "/oauth2/introspect",
            &client,
            &[("token", access), ("token_type_hint", "a"), ("token_type_hint", "b")],
        )
        .await;
    assert_eq!((status.as_u16(), str_of(&err, "error")), (400, "invalid_request"), "sent twice");
}

/// Codes not yet exchanged, and consent screens still open, die with the access they would
/// restore: after "Remove access" or a revoked session nothing brings a session back.
#[tokio::test]
async fn outstanding_codes_die_with_their_sessions() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let other = app.add_client(|_| {}).await;
    app.tokens(&cookie, &client).await;
    let (challenge, verifier) = pkce();
    let waiting_code = app.code_for(&cookie, &client, &challenge).await;
    let other_code = app.code_for(&cookie, &other, &challenge).await;
    let open = app.consent_page(&cookie, &authorize_path(&client, &challenge, &[])).await;

    // "Remove access" on the account page.
    let page = app.get("/account", &cookie).await.text().await.unwrap();
    let csrf = common::hidden_value(&page, "csrf").unwrap();
    let res = app
        .http
        .post(app.url("/api/account/remove_app"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .json(&serde_json::json!({"csrf": csrf, "client_id": client.client_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, body) = app.exchange(&client, &waiting_code, &verifier).await;
    assert_eq!((status.as_u16(), str_of(&body, "error")), (400, "invalid_grant"), "{body}");
    let res = app.decide(&cookie, &open, "allow").await;
    assert_eq!(res.status(), 400, "the open consent screen was closed too");
    assert!(common::location(&res).is_empty(), "no code, no redirect");
    assert_eq!(app.count("SELECT COUNT(*) FROM grants").await, 0, "no session came back");
    let (status, _) = app.exchange(&other, &other_code, &verifier).await;
    assert_eq!(status, 200, "another app's code is untouched");

    // A client revoking a refresh token: its codes not yet exchanged for that user die too.
    let s = app.tokens(&cookie, &client).await;
    let (challenge, verifier) = pkce();
    let waiting_code = app.code_for(&cookie, &client, &challenge).await;
    let res = app.client_post_raw("/oauth2/revoke", &client, &[("token", str_of(&s, "refresh_token"))]).await;
    assert_eq!(res.status(), 200);
    let (status, body) = app.exchange(&client, &waiting_code, &verifier).await;
    assert_eq!((status.as_u16(), str_of(&body, "error")), (400, "invalid_grant"), "{body}");
}

/// The consent decision checks the client as it is then: a redirect URI removed, or the client
/// deactivated, while the screen was open gets an error page, never a redirect.
#[tokio::test]
async fn the_consent_decision_rechecks_the_client() {
    let (app, cookie) = app_with_user().await;
    let client =
        app.add_client(|f| f.redirect_uris = format!("{REDIRECT}\nhttps://old.example.com/cb")).await;
    let old = TestClient { redirect: "https://old.example.com/cb".into(), ..client };
    let (challenge, _) = pkce();
    let open = app.consent_page(&cookie, &authorize_path(&old, &challenge, &[])).await;
    let db = app.db_handle().await;
    let view = registry::get(&db, &id(&old)).await.unwrap();
    let mut form = clavis::domain::client::ClientForm::from_spec(&view.spec);
    form.redirect_uris = REDIRECT.into();
    registry::update(&db, &id(&old), &form, &app.builtin()).await.unwrap();
    let res = app.decide(&cookie, &open, "allow").await;
    assert_eq!(res.status(), 400);
    assert!(common::location(&res).is_empty(), "never sent to a URI no longer registered");
    assert!(res.text().await.unwrap().contains("not registered for this application"));

    let current = TestClient { redirect: REDIRECT.into(), ..old };
    let open = app.consent_page(&cookie, &authorize_path(&current, &challenge, &[])).await;
    registry::set_active(&db, &id(&current), false).await.unwrap();
    db.close().await;
    let res = app.decide(&cookie, &open, "deny").await;
    assert_eq!(res.status(), 400);
    assert!(common::location(&res).is_empty());
    assert_eq!(app.count("SELECT COUNT(*) FROM authorization_codes").await, 0);
}

/// Sliding refresh never makes a session immortal: no refresh token outlives the session's
/// authorization plus the instance's longest session (`--session-max-lifetime`).
#[tokio::test]
async fn sessions_end_at_their_maximum_lifetime_however_often_refreshed() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let db = app.db_handle().await;
    db.update_settings(SettingsPatch {
        session_max_lifetime: std::num::NonZeroU32::new(3_600),
        ..SettingsPatch::default()
    })
    .await
    .unwrap();
    let s = app.tokens(&cookie, &client).await;
    let refresh_exp = |token: String| {
        let (app, client) = (&app, &client);
        async move {
            let (_, info) = app.client_post("/oauth2/introspect", client, &[("token", &token)]).await;
            (info["iat"].as_i64().unwrap(), info["exp"].as_i64().unwrap())
        }
    };
    let (iat, exp) = refresh_exp(str_of(&s, "refresh_token").to_string()).await;
    assert_eq!(exp - iat, 3_600, "the first refresh token ends with the session, not in 30 days");
    // Refreshing does not move the end.
    let (_, r1) = app.refresh(&client, str_of(&s, "refresh_token")).await;
    let (_, exp1) = refresh_exp(str_of(&r1, "refresh_token").to_string()).await;
    assert_eq!(exp1, exp, "pinned to the authorization, however often refreshed");
    // At the end, the session is over: the last refresh token no longer works.
    sqlx::query("UPDATE tokens SET expires_at = $1 WHERE kind = 'refresh' AND rotated = 0")
        .bind(clavis::db::now_unix() - 1)
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    let (status, body) = app.refresh(&client, str_of(&r1, "refresh_token")).await;
    assert_eq!((status.as_u16(), str_of(&body, "error")), (400, "invalid_grant"), "{body}");
}

/// With access tokens that never expire, each refresh replaces the access token instead of
/// adding another immortal one.
#[tokio::test]
async fn a_refresh_revokes_the_previous_never_expiring_access_token() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|f| f.access_lifetime = "never".into()).await;
    let mut current = app.tokens(&cookie, &client).await;
    let first_access = str_of(&current, "access_token").to_string();
    for _ in 0..5 {
        let (status, next) = app.refresh(&client, str_of(&current, "refresh_token")).await;
        assert_eq!(status, 200, "{next}");
        assert_eq!(app.api_get(str_of(&current, "access_token")).await.status(), 401, "replaced");
        current = next;
    }
    assert_eq!(app.api_get(str_of(&current, "access_token")).await.status(), 200);
    assert_eq!(app.api_get(&first_access).await.status(), 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM tokens WHERE kind = 'access'").await, 1);
}

/// With a reuse grace, a refresh token presented again within it (a lost response, two tabs at
/// once) gets the same successor, exactly once minted; after the grace, reuse ends the session
/// as always. Off by default (the other tests).
#[tokio::test]
async fn a_reuse_grace_returns_the_same_successor_exactly_once() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|f| f.refresh_reuse_grace = "30".into()).await;
    let s = app.tokens(&cookie, &client).await;
    let r0 = str_of(&s, "refresh_token").to_string();
    let (status, first) = app.refresh(&client, &r0).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = app.refresh(&client, &r0).await;
    assert_eq!(status, 200, "{again}");
    for key in ["access_token", "refresh_token", "scope"] {
        assert_eq!(again[key], first[key], "{key}: the same successor");
    }
    assert_eq!(app.api_get(str_of(&again, "access_token")).await.status(), 200);
    let tokens_before = app.count("SELECT COUNT(*) FROM tokens").await;

    // Ten tabs refresh with the same token at once: one rotation, one successor for all.
    let app = std::sync::Arc::new(app);
    let client = std::sync::Arc::new(client);
    let r1 = str_of(&first, "refresh_token").to_string();
    let tabs: Vec<_> = (0..10)
        .map(|_| {
            let (app, client, r1) = (app.clone(), client.clone(), r1.clone());
            tokio::spawn(async move { app.refresh(&client, &r1).await })
        })
        .collect();
    let mut pairs = std::collections::BTreeSet::new();
    for t in tabs {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        pairs.insert((str_of(&body, "access_token").to_string(), str_of(&body, "refresh_token").to_string()));
    }
    assert_eq!(pairs.len(), 1, "every tab got the same pair");
    assert_eq!(app.count("SELECT COUNT(*) FROM tokens").await, tokens_before + 2, "minted once");
    let (grants_refreshes,) = (app.count("SELECT refresh_count FROM grants").await,);
    assert_eq!(grants_refreshes, 2, "repeats within the grace are not refreshes");

    // Past the grace, the same reuse is theft: the session ends.
    let db = app.db_handle().await;
    sqlx::query("UPDATE tokens SET rotated_at = rotated_at - 31 WHERE rotated = 1")
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    let (status, body) = app.refresh(&client, &r1).await;
    assert_eq!((status.as_u16(), str_of(&body, "error")), (400, "invalid_grant"), "{body}");
    let (access, _) = pairs.into_iter().next().unwrap();
    assert_eq!(app.api_get(&access).await.status(), 401, "the session is revoked");
}

/// Tokens are issued as ordered tokens (their issue time, then 256 random bits; stored under a
/// digest that starts with that time). Tokens issued before, stored under their plain SHA-256,
/// keep working: an access token at the API and a refresh token at the token endpoint.
#[tokio::test]
async fn tokens_issued_before_ordered_tokens_keep_working() {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use sha2::{Digest, Sha256};

    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let s = app.tokens(&cookie, &client).await;
    let (access, refresh) = (str_of(&s, "access_token"), str_of(&s, "refresh_token"));
    for token in [access, refresh] {
        assert_eq!(token.len(), clavis::auth::token::ORDERED_LEN, "{token}");
        let micros = u64::from_be_bytes(URL_SAFE_NO_PAD.decode(token).unwrap()[..8].try_into().unwrap());
        let now = clavis::db::now_unix() as u64 * 1_000_000;
        assert!(now.abs_diff(micros) < 600_000_000, "issued now: {micros} vs {now}");
    }
    // Turn this session's tokens into old ones: 43 characters, stored under their SHA-256.
    let (old_access, old_refresh) =
        (clavis::auth::token::random_token(), clavis::auth::token::random_token());
    let db = app.db_handle().await;
    for (new, old) in [(access, &old_access), (refresh, &old_refresh)] {
        let sha: [u8; 32] = Sha256::digest(old.as_bytes()).into();
        assert_eq!(clavis::auth::token::digest(old), sha);
        let changed = sqlx::query("UPDATE tokens SET digest = $1 WHERE digest = $2")
            .bind(sha.to_vec())
            .bind(clavis::auth::token::digest(new).to_vec())
            .execute(db.pool())
            .await
            .unwrap();
        assert_eq!(changed.rows_affected(), 1);
    }
    db.close().await;
    assert_eq!(app.api_get(&old_access).await.status(), 200, "an old access token");
    assert_eq!(app.api_get(access).await.status(), 401, "no longer stored");
    let (status, rotated) = app.refresh(&client, &old_refresh).await;
    assert_eq!(status, 200, "an old refresh token: {rotated}");
    assert_eq!(str_of(&rotated, "refresh_token").len(), clavis::auth::token::ORDERED_LEN);
    assert_eq!(app.api_get(str_of(&rotated, "access_token")).await.status(), 200);
    assert_eq!(app.refresh(&client, &old_refresh).await.0, 400, "rotated: reuse is refused");
}
