//! Clients that register themselves: the policy (off, open, token), `POST /oauth2/register`
//! (RFC 7591) with its errors, the configuration endpoint (RFC 7592) with its registration access
//! token, the rules self-registered clients keep, the cap, the per-address limit and the cleanup
//! of unused ones. On SQLite, or Postgres with CLAVIS_TEST_POSTGRES_URL.

mod common;

use clavis::{
    db::{now_unix, settings::SettingsPatch},
    domain::{client::ClientId, settings::RegistrationPolicy},
    registry::{self, RegistryError},
};
use common::{
    TestApp, location,
    oauth::{TestClient, authorize_path, pkce, query_param, str_of},
};
use reqwest::{Response, StatusCode, header};
use serde_json::{Value, json};

const CALLBACK: &str = "http://127.0.0.1:43210/callback";

async fn app_with(policy: RegistrationPolicy) -> TestApp {
    let app = TestApp::spawn().await;
    set(&app, SettingsPatch { registration: Some(policy), ..Default::default() }).await;
    app
}

async fn set(app: &TestApp, patch: SettingsPatch) {
    let db = app.db_handle().await;
    db.update_settings(patch).await.unwrap();
    db.close().await;
}

async fn post(app: &TestApp, body: &Value, bearer: Option<&str>) -> Response {
    let mut req = app.http.post(app.url("/oauth2/register")).json(body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn status_json(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn mcp_client() -> Value {
    json!({
        "client_name": "Inspector",
        "redirect_uris": [CALLBACK],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "logo_uri": "https://inspector.example.com/logo.png",
        "software_statement": "ignored.jwt.here",
        "made_up_field": 42
    })
}

#[tokio::test]
async fn while_off_nothing_registers_and_the_metadata_says_nothing() {
    let app = TestApp::spawn().await;
    let (status, body) = status_json(post(&app, &mcp_client(), None).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "access_denied");
    assert!(body["error_description"].as_str().unwrap().contains("turned off"));
    let m = app.as_metadata().await;
    assert!(m.get("registration_endpoint").is_none(), "{m}");
    assert!(m.get("client_id_metadata_document_supported").is_none());
    assert_eq!(app.count("SELECT COUNT(*) FROM clients").await, 0);
}

#[tokio::test]
async fn an_open_registration_gets_a_working_public_client() {
    let app = app_with(RegistrationPolicy::Open).await;
    assert_eq!(app.as_metadata().await["registration_endpoint"], format!("{}/oauth2/register", app.base));
    let res = post(&app, &mcp_client(), None).await;
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let (status, reg) = status_json(res).await;
    assert_eq!(status, StatusCode::CREATED, "{reg}");
    let client_id = str_of(&reg, "client_id").to_string();
    assert_eq!(reg["client_name"], "Inspector");
    assert_eq!(reg["redirect_uris"], json!([CALLBACK]));
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    assert_eq!(reg["grant_types"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(reg["response_types"], json!(["code"]));
    assert_eq!(reg["scope"], "read write");
    assert_eq!(reg["logo_uri"], "https://inspector.example.com/logo.png");
    assert!(reg["client_id_issued_at"].is_i64());
    assert!(reg.get("client_secret").is_none() && reg.get("client_secret_expires_at").is_none(), "{reg}");
    assert_eq!(str_of(&reg, "registration_access_token").len(), 43);
    assert_eq!(reg["registration_client_uri"], format!("{}/oauth2/register/{client_id}", app.base));
    for ignored in ["made_up_field", "software_statement", "client_uri", "contacts"] {
        assert!(reg.get(ignored).is_none(), "{ignored} is not echoed: {reg}");
    }
    assert!(reg.as_object().unwrap().values().all(|v| v.as_str() != Some("")), "no empty strings: {reg}");

    // It works like any public client, with the consent screen, and says who registered it.
    let db = app.db_handle().await;
    let stored = registry::get(&db, &ClientId::parse(&client_id).unwrap()).await.unwrap();
    db.close().await;
    assert!(stored.origin.is_self_registered());
    assert!(stored.spec.consent);
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    let client = TestClient { client_id, secret: None, redirect: CALLBACK.into(), method: "none".into() };
    let (challenge, _) = pkce();
    let consent = app.consent_page(&cookie, &authorize_path(&client, &challenge, &[])).await;
    assert!(consent.html.contains("This application registered itself"), "{}", consent.html);
    assert!(consent.html.contains("installed here"), "all its redirect URIs are local: {}", consent.html);
    let tokens = app.tokens(&cookie, &client).await;
    assert!(tokens["refresh_token"].is_string());
    assert_eq!(app.api_get(str_of(&tokens, "access_token")).await.status(), 200);
}

#[tokio::test]
async fn a_confidential_registration_gets_a_secret_that_never_expires() {
    let app = app_with(RegistrationPolicy::Open).await;
    let body = json!({"redirect_uris": ["https://app.example.com/callback"], "client_name": "Web App", "scope": "read"});
    let (status, reg) = status_json(post(&app, &body, None).await).await;
    assert_eq!(status, StatusCode::CREATED, "{reg}");
    assert_eq!(reg["token_endpoint_auth_method"], "client_secret_basic", "RFC 7591 default");
    assert_eq!(reg["client_secret_expires_at"], 0);
    assert_eq!(reg["scope"], "read");
    assert_eq!(reg["grant_types"], json!(["authorization_code"]), "no refresh_token asked for");
    let secret = str_of(&reg, "client_secret");
    assert!(!app.stored_text(&["clients"]).await.contains(secret), "stored as a digest only");
    assert!(!app.stored_text(&["clients"]).await.contains(str_of(&reg, "registration_access_token")));

    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    let client = TestClient {
        client_id: str_of(&reg, "client_id").into(),
        secret: Some(secret.into()),
        redirect: "https://app.example.com/callback".into(),
        method: "client_secret_basic".into(),
    };
    let tokens = app.tokens(&cookie, &client).await;
    assert_eq!(tokens["scope"], "read");
    assert!(tokens.get("refresh_token").is_none(), "only authorization_code was registered: {tokens}");
}

#[tokio::test]
async fn bad_metadata_gets_the_rfc_7591_errors() {
    let app = app_with(RegistrationPolicy::Open).await;
    for (body, code, mentions) in [
        (json!({"client_name": "x"}), "invalid_redirect_uri", "redirect_uris is required"),
        (
            json!({"redirect_uris": ["http://evil.example.com/cb"]}),
            "invalid_redirect_uri",
            "http is allowed only",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
            "client_credentials",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "response_types": ["token"]}),
            "invalid_client_metadata",
            "response_types",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
            "private_key_jwt",
        ),
        (json!({"redirect_uris": [CALLBACK], "scope": "read admin"}), "invalid_client_metadata", "admin"),
        (
            json!({"redirect_uris": [CALLBACK], "client_uri": "ftp://x"}),
            "invalid_client_metadata",
            "client_uri",
        ),
        (json!("not an object"), "invalid_client_metadata", "JSON object"),
    ] {
        let (status, err) = status_json(post(&app, &body, None).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert_eq!(err["error"], code, "{body}");
        assert!(err["error_description"].as_str().unwrap().contains(mentions), "{body}: {err}");
    }
    let res = app
        .http
        .post(app.url("/oauth2/register"))
        .body("{")
        .header(header::CONTENT_TYPE, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(status_json(res).await.1["error"], "invalid_client_metadata");
    let res =
        app.http.post(app.url("/oauth2/register")).form(&[("redirect_uris", CALLBACK)]).send().await.unwrap();
    assert_eq!(status_json(res).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(app.count("SELECT COUNT(*) FROM clients").await, 0, "nothing was written");
}

#[tokio::test]
async fn with_policy_token_an_initial_access_token_is_needed() {
    let app = app_with(RegistrationPolicy::Token).await;
    let db = app.db_handle().await;
    let once = "once-token-value-that-is-long-enough-aaaaaaa";
    let expired = "expired-token-value-that-is-long-enough-bbbb";
    let revoked = "revoked-token-value-that-is-long-enough-cccc";
    let now = now_unix();
    db.insert_registration_token(&clavis::auth::token::digest(once), now, None, Some(1)).await.unwrap();
    db.insert_registration_token(&clavis::auth::token::digest(expired), now - 100, Some(now - 1), None)
        .await
        .unwrap();
    let id =
        db.insert_registration_token(&clavis::auth::token::digest(revoked), now, None, None).await.unwrap();
    assert!(db.revoke_registration_token(id).await.unwrap());
    db.close().await;

    let (status, err) = status_json(post(&app, &mcp_client(), None).await).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")), "{err}");
    for wrong in ["nope", expired, revoked] {
        let res = post(&app, &mcp_client(), Some(wrong)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{wrong}");
        assert!(res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().contains("invalid_token"));
    }
    // A bad request does not use the token up.
    assert_eq!(post(&app, &json!({}), Some(once)).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(post(&app, &mcp_client(), Some(once)).await.status(), StatusCode::CREATED);
    assert_eq!(post(&app, &mcp_client(), Some(once)).await.status(), StatusCode::UNAUTHORIZED, "used up");
    assert_eq!(app.count("SELECT COUNT(*) FROM clients").await, 1);
}

#[tokio::test]
async fn the_configuration_endpoint_reads_updates_and_deletes_with_the_registration_token() {
    let app = app_with(RegistrationPolicy::Open).await;
    let (_, reg) = status_json(post(&app, &mcp_client(), None).await).await;
    let uri = str_of(&reg, "registration_client_uri").to_string();
    let first = str_of(&reg, "registration_access_token").to_string();
    let get = |t: String| {
        let (app, uri) = (&app, uri.clone());
        async move { status_json(app.http.get(&uri).bearer_auth(t).send().await.unwrap()).await }
    };
    let (status, read) = get(first.clone()).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["client_id"], reg["client_id"]);
    assert_eq!(read["redirect_uris"], json!([CALLBACK]));
    assert!(read.get("registration_access_token").is_none(), "a read does not rotate it");
    let (status, err) = get("wrong".into()).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")));
    let res = app.http.get(&uri).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // PUT replaces the metadata and rotates the token.
    let mut new = mcp_client();
    new["client_id"] = reg["client_id"].clone();
    new["client_name"] = json!("Inspector 2");
    new["redirect_uris"] = json!([CALLBACK, "http://127.0.0.1:43211/callback"]);
    let put = |body: Value, t: String| {
        let (app, uri) = (&app, uri.clone());
        async move { status_json(app.http.put(&uri).bearer_auth(t).json(&body).send().await.unwrap()).await }
    };
    let mut with_server_field = new.clone();
    with_server_field["registration_access_token"] = json!(first);
    assert_eq!(put(with_server_field, first.clone()).await.0, StatusCode::BAD_REQUEST);
    let mut other_id = new.clone();
    other_id["client_id"] = json!("someone-else-entirely");
    assert_eq!(put(other_id, first.clone()).await.0, StatusCode::BAD_REQUEST);
    let mut bad_uri = new.clone();
    bad_uri["redirect_uris"] = json!(["http://evil.example.com/cb"]);
    assert_eq!(put(bad_uri, first.clone()).await.1["error"], "invalid_redirect_uri");
    let (status, updated) = put(new.clone(), first.clone()).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["client_name"], "Inspector 2");
    assert_eq!(updated["redirect_uris"].as_array().unwrap().len(), 2);
    let second = str_of(&updated, "registration_access_token").to_string();
    assert_ne!(second, first);
    assert_eq!(get(first.clone()).await.0, StatusCode::UNAUTHORIZED, "the old token is rotated out");
    assert_eq!(get(second.clone()).await.1["client_name"], "Inspector 2");

    // DELETE removes the client; the token opens nothing afterwards.
    let res = app.http.delete(&uri).bearer_auth(&second).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(get(second).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("SELECT COUNT(*) FROM clients").await, 0);
}

#[tokio::test]
async fn an_administrators_client_has_no_configuration_endpoint() {
    let app = app_with(RegistrationPolicy::Open).await;
    let client = app.add_client(|_| {}).await;
    let res = app
        .http
        .get(app.url(&format!("/oauth2/register/{}", client.client_id)))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn self_registered_clients_keep_pkce_and_consent() {
    let app = app_with(RegistrationPolicy::Open).await;
    let (_, reg) = status_json(post(&app, &mcp_client(), None).await).await;
    let db = app.db_handle().await;
    let id = ClientId::parse(str_of(&reg, "client_id")).unwrap();
    let client = registry::get(&db, &id).await.unwrap();
    let mut form = registry::form_of(&db, &client, &app.builtin()).await.unwrap();
    form.auth_method = "client_secret_post".into();
    form.require_pkce = false;
    form.consent = false;
    match registry::update(&db, &id, &form, &app.builtin()).await {
        Err(RegistryError::Invalid(errors)) => {
            let text = errors.to_string();
            assert!(text.contains("always requires PKCE") && text.contains("allow/deny"), "{text}");
        }
        other => panic!("refused, not {:?}", other.map(|(c, _)| c.client_id)),
    }
    // The database refuses it too, whoever writes.
    let direct = sqlx::query(
        "UPDATE clients SET consent = 0, auth_method = 'client_secret_post' WHERE client_id = $1",
    )
    .bind(id.as_str())
    .execute(db.pool())
    .await;
    assert!(direct.is_err(), "the CHECK / trigger refuses it");
    // But an administrator may deactivate or delete it like any client.
    registry::set_active(&db, &id, false).await.unwrap();
    registry::delete(&db, &id).await.unwrap();
    db.close().await;
}

#[tokio::test]
async fn the_number_of_self_registered_clients_is_capped() {
    let app = app_with(RegistrationPolicy::Open).await;
    set(&app, SettingsPatch { max_self_registered: Some(1), ..Default::default() }).await;
    app.add_client(|_| {}).await; // an administrator's client does not count
    assert_eq!(post(&app, &mcp_client(), None).await.status(), StatusCode::CREATED);
    let (status, err) = status_json(post(&app, &mcp_client(), None).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert!(err["error_description"].as_str().unwrap().contains("no more"), "{err}");
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let app = app_with(RegistrationPolicy::Open).await;
    let limit = clavis::state::REGISTRATIONS_PER_HOUR;
    for _ in 0..limit {
        assert_eq!(post(&app, &json!({}), None).await.status(), StatusCode::BAD_REQUEST);
    }
    let res = post(&app, &mcp_client(), None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn unused_self_registered_clients_are_cleaned_up_after_30_days() {
    let app = app_with(RegistrationPolicy::Open).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (_, reg) = status_json(post(&app, &mcp_client(), None).await).await;
        ids.push(str_of(&reg, "client_id").to_string());
    }
    let admins = app.add_client(|_| {}).await;
    let db = app.db_handle().await;
    let month_ago = now_unix() - 31 * 86_400;
    sqlx::query("UPDATE clients SET created_at = $1").bind(month_ago).execute(db.pool()).await.unwrap();
    // One was used yesterday; one holds a live session (its code exchanged a month ago).
    sqlx::query("UPDATE clients SET last_used_at = $1 WHERE client_id = $2")
        .bind(now_unix() - 86_400)
        .bind(&ids[0])
        .execute(db.pool())
        .await
        .unwrap();
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    let live = TestClient {
        client_id: ids[1].clone(),
        secret: None,
        redirect: CALLBACK.into(),
        method: "none".into(),
    };
    app.tokens(&cookie, &live).await;
    sqlx::query("UPDATE clients SET last_used_at = $1 WHERE client_id = $2")
        .bind(month_ago)
        .bind(&ids[1])
        .execute(db.pool())
        .await
        .unwrap();
    db.purge_expired(now_unix()).await.unwrap();
    let left: Vec<(String,)> = sqlx::query_as("SELECT client_id FROM clients ORDER BY client_id")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let left: Vec<String> = left.into_iter().map(|(c,)| c).collect();
    db.close().await;
    assert!(left.contains(&ids[0]) && left.contains(&ids[1]), "used ones stay: {left:?}");
    assert!(!left.contains(&ids[2]), "the unused one goes: {left:?}");
    assert!(left.contains(&admins.client_id), "an administrator's client is never cleaned up");
}

#[tokio::test]
async fn the_consent_flow_of_a_self_registered_client_needs_pkce() {
    let app = app_with(RegistrationPolicy::Open).await;
    let body = json!({"redirect_uris": ["https://app.example.com/callback"], "token_endpoint_auth_method": "client_secret_post"});
    let (_, reg) = status_json(post(&app, &body, None).await).await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    let client = TestClient {
        client_id: str_of(&reg, "client_id").into(),
        secret: reg["client_secret"].as_str().map(str::to_string),
        redirect: "https://app.example.com/callback".into(),
        method: "client_secret_post".into(),
    };
    let (challenge, _) = pkce();
    let path = authorize_path(&client, &challenge, &[]);
    let consent = app.get(&path, &cookie).await.text().await.unwrap();
    assert!(consent.contains("registered itself") && !consent.contains("installed here"), "{consent}");
    let without = path.replace("code_challenge", "ignored_param");
    let res = app.get(&without, &cookie).await;
    assert_eq!(res.status(), 302);
    assert_eq!(query_param(&location(&res), "error").as_deref(), Some("invalid_request"));
    assert_eq!(app.get(&path, &cookie).await.status(), 200, "the consent screen");
}

#[tokio::test]
async fn the_admin_list_marks_self_registered_clients_and_filters_by_origin() {
    let app = app_with(RegistrationPolicy::Open).await;
    let (_, reg) = status_json(post(&app, &mcp_client(), None).await).await;
    let mine = app.add_client(|f| f.name = "Admin Made".into()).await;
    app.add_user("root", true).await;
    let admin = app.sign_in("root").await;
    let html = app.get("/admin/clients", &admin).await.text().await.unwrap();
    assert!(html.contains(r#"<span class="badge badge-origin">Self-registered"#), "{html}");
    assert!(html.contains("Self-registration: open to anyone."), "the policy is said: {html}");
    let only = app.get("/admin/clients?origin=registered", &admin).await.text().await.unwrap();
    assert!(only.contains(str_of(&reg, "client_id")) && !only.contains(&mine.client_id));
    let theirs = app.get("/admin/clients?origin=admin", &admin).await.text().await.unwrap();
    assert!(!theirs.contains(str_of(&reg, "client_id")) && theirs.contains(&mine.client_id));
    let details =
        app.get(&format!("/admin/clients/{}", str_of(&reg, "client_id")), &admin).await.text().await.unwrap();
    assert!(details.contains("The client itself (dynamic registration)"), "{details}");
}

#[tokio::test]
async fn client_credentials_is_an_administrators_opt_in_not_a_registrations() {
    let app = app_with(RegistrationPolicy::Open).await;
    let body = json!({
        "redirect_uris": ["https://jobs.example.com/cb"],
        "client_name": "Job",
        "grant_types": ["authorization_code", "client_credentials"],
    });
    let (status, reg) = status_json(post(&app, &body, None).await).await;
    assert_eq!(status, StatusCode::CREATED, "{reg}");
    assert_eq!(reg["grant_types"], json!(["authorization_code"]), "listed, it is not granted: {reg}");
    let client_id = str_of(&reg, "client_id").to_string();
    let secret = str_of(&reg, "client_secret").to_string();
    let job = || {
        app.http
            .post(app.url("/oauth2/token"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    assert_eq!(status_json(job().await.unwrap()).await.1["error"], "unauthorized_client");

    // An administrator allows it: the registration says so, and a PUT of what it read keeps it.
    let db = app.db_handle().await;
    let id = clavis::domain::client::ClientId::parse(&client_id).unwrap();
    let client = clavis::registry::get(&db, &id).await.unwrap();
    let mut form = clavis::registry::form_of(&db, &client, &app.builtin()).await.unwrap();
    form.client_credentials = true;
    clavis::registry::update(&db, &id, &form, &app.builtin()).await.unwrap();
    db.close().await;
    let uri = str_of(&reg, "registration_client_uri").to_string();
    let token = str_of(&reg, "registration_access_token").to_string();
    let (_, read) = status_json(app.http.get(&uri).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(read["grant_types"], json!(["authorization_code", "client_credentials"]));
    let mut again = read.clone();
    again
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !clavis::domain::registration::SERVER_FIELDS.contains(&k.as_str()));
    let (status, put) =
        status_json(app.http.put(&uri).bearer_auth(&token).json(&again).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["grant_types"], json!(["authorization_code", "client_credentials"]));
    let (status, tokens) = status_json(job().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
}
