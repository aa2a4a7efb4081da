//! The client_credentials grant (RFC 6749 §4.4) for unattended jobs: an administrator's opt-in per
//! client, confidential clients only (in the form, the CLI and the database), tokens that act as
//! the client within its scope and APIs, at the API, introspection and revocation, and that stop
//! when the opt-in, the client or its sessions are withdrawn. On SQLite, or Postgres with
//! CLAVIS_TEST_POSTGRES_URL.

mod common;

use clavis::{
    domain::{
        api::ApiForm,
        client::{ClientForm, ClientId, Field},
    },
    registry::{self, RegistryError, apis},
};
use common::{
    TestApp,
    cli::{clavis, json, refused},
    oauth::{TestClient, str_of},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const JOB: [(&str, &str); 1] = [("grant_type", "client_credentials")];

impl TestApp {
    /// A confidential client allowed the grant; `edit` changes the defaults further.
    async fn job_client(&self, edit: impl FnOnce(&mut ClientForm)) -> TestClient {
        self.add_client(|f| {
            f.name = "Nightly export".into();
            f.client_credentials = true;
            edit(f);
        })
        .await
    }

    async fn job_token(&self, client: &TestClient, extra: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut form = JOB.to_vec();
        form.extend_from_slice(extra);
        self.client_post("/oauth2/token", client, &form).await
    }

    async fn introspect(&self, client: &TestClient, token: &str) -> Value {
        let (status, body) = self.client_post("/oauth2/introspect", client, &[("token", token)]).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn edit_client(&self, client: &TestClient, edit: impl FnOnce(&mut ClientForm)) {
        let db = self.db_handle().await;
        let id = ClientId::parse(&client.client_id).unwrap();
        let current = registry::get(&db, &id).await.unwrap();
        let mut form = ClientForm::from_spec(&current.spec);
        edit(&mut form);
        registry::update(&db, &id, &form, &self.builtin()).await.expect("client updated");
        db.close().await;
    }
}

#[tokio::test]
async fn a_job_gets_a_token_that_acts_as_its_client() {
    let app = TestApp::spawn().await;
    let client = app.job_client(|_| {}).await;
    let (status, body) = app.job_token(&client, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read write", "nothing asked: the client's whole scope");
    assert_eq!(body["expires_in"], 43_200, "the instance's access token lifetime");
    assert!(body.get("refresh_token").is_none(), "no refresh token (RFC 6749 §4.4.3): {body}");
    let access = str_of(&body, "access_token");

    // The API answers with the client, not a user.
    let res = app.api_get(access).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me, json!({"client_id": client.client_id, "client_name": "Nightly export"}));
    // There is no user whose display name could change.
    let res = app.api_patch(access, r#"{"display_name": "x"}"#).await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert!(str_of(&err, "error_description").contains("not a user"), "{err}");

    // Introspection: the client is the subject; there is no username.
    let info = app.introspect(&client, access).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["sub"], client.client_id.as_str());
    assert_eq!(info["client_id"], client.client_id.as_str());
    assert_eq!(info["scope"], "read write");
    assert!(info.get("username").is_none(), "{info}");
    let exp = info["exp"].as_i64().unwrap();
    assert_eq!(exp - info["iat"].as_i64().unwrap(), 43_200);

    // Stored as a digest only, in its own table: no session is started.
    assert!(!app.stored_text(&["client_tokens", "tokens", "grants"]).await.contains(access));
    assert_eq!(app.count("SELECT COUNT(*) FROM client_tokens").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM grants").await, 0);

    // Each request issues a new token; both work.
    let (_, again) = app.job_token(&client, &[]).await;
    assert_ne!(str_of(&again, "access_token"), access);
    assert_eq!(app.api_get(str_of(&again, "access_token")).await.status(), 200);
    assert_eq!(app.api_get(access).await.status(), 200);

    // client_secret_basic works the same way.
    let basic = app.job_client(|f| f.auth_method = "client_secret_basic".into()).await;
    let (status, body) = app.job_token(&basic, &[]).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn only_clients_an_administrator_allowed_and_only_confidential_ones() {
    let app = TestApp::spawn().await;
    // Off by default.
    let plain = app.add_client(|_| {}).await;
    let (status, body) = app.job_token(&plain, &[]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("unauthorized_client")));
    assert!(str_of(&body, "error_description").contains("not allowed for this client"), "{body}");

    // A public client presents only its ID: refused, whatever it asks.
    let public = app.add_client(|f| f.auth_method = "none".into()).await;
    let (status, body) = app.job_token(&public, &[]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("unauthorized_client")));
    assert!(str_of(&body, "error_description").contains("confidential client"), "{body}");

    // ... and cannot be given the grant: the form names both fields.
    let db = app.db_handle().await;
    let form = ClientForm {
        name: "SPA".into(),
        redirect_uris: "https://app.example.com/cb".into(),
        auth_method: "none".into(),
        client_credentials: true,
        ..ClientForm::default()
    };
    let Err(RegistryError::Invalid(errors)) = registry::create(&db, &form, &app.builtin()).await else {
        panic!("a public client with client credentials was registered");
    };
    let message = errors.get(Field::ClientCredentials).expect("names the field");
    assert!(message.contains("'none' cannot use the client credentials grant"), "{message}");
    assert!(errors.get(Field::AuthMethod).is_some());

    // Nor behind the form's back: the database refuses the row.
    let id = ClientId::parse(&plain.client_id).unwrap();
    let direct = sqlx::query(
        "UPDATE clients SET auth_method = 'none', secret_digest = NULL, secret_last4 = NULL, \
         secret_created_at = NULL, client_credentials = 1 WHERE client_id = $1",
    )
    .bind(id.as_str())
    .execute(db.pool())
    .await;
    assert!(direct.is_err(), "the database accepted a public client with client credentials");
    db.close().await;

    // Wrong secret: invalid_client, as for every grant.
    let client = app.job_client(|_| {}).await;
    let wrong = TestClient { secret: Some("x".repeat(43)), ..client };
    let (status, body) = app.job_token(&wrong, &[]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
}

#[tokio::test]
async fn scope_is_the_clients_or_less() {
    let app = TestApp::spawn().await;
    let full = app.job_client(|_| {}).await;
    let (status, body) = app.job_token(&full, &[("scope", "read")]).await;
    assert_eq!((status, body["scope"].as_str()), (StatusCode::OK, Some("read")), "{body}");
    let read_token = str_of(&body, "access_token");
    assert_eq!(app.api_get(read_token).await.status(), 200);
    assert_eq!(app.api_patch(read_token, r#"{"display_name": "x"}"#).await.status(), 403, "read only");

    let reader = app.job_client(|f| f.scope = "read".into()).await;
    let (_, body) = app.job_token(&reader, &[]).await;
    assert_eq!(body["scope"], "read");
    let (status, body) = app.job_token(&reader, &[("scope", "read write")]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_scope")));
    assert!(str_of(&body, "error_description").contains("write"), "{body}");
    let (_, body) = app.job_token(&reader, &[("scope", "admin")]).await;
    assert_eq!(body["error"], "invalid_scope");
    assert!(str_of(&body, "error_description").contains("unknown scope: admin"), "{body}");

    // Narrowing the client later narrows its tokens at once (privileges follow the client).
    let (_, body) = app.job_token(&full, &[]).await;
    let token = str_of(&body, "access_token").to_string();
    app.edit_client(&full, |f| f.scope = "read".into()).await;
    assert_eq!(app.api_patch(&token, r#"{"display_name": "x"}"#).await.status(), 403);
    assert_eq!(app.introspect(&full, &token).await["scope"], "read");
}

#[tokio::test]
async fn tokens_are_for_the_apis_the_client_may_use() {
    let app = TestApp::spawn().await;
    let db = app.db_handle().await;
    let orders = "https://orders.example.com";
    let form = ApiForm { name: "Orders".into(), identifier: orders.into(), description: String::new() };
    let (_, api, api_secret) = apis::create(&db, &form, &app.builtin()).await.unwrap();
    db.close().await;
    let api_id = api.client_id.unwrap().to_string();

    let client = app.job_client(|f| f.apis = Some(vec![orders.into()])).await;
    // No resource: the client's APIs.
    let (status, body) = app.job_token(&client, &[]).await;
    assert_eq!(status, 200, "{body}");
    let token = str_of(&body, "access_token");
    let res = app.api_get(token).await;
    assert_eq!(res.status(), 401, "not a token for the built-in API");
    let res = app
        .http
        .post(app.url("/oauth2/introspect"))
        .basic_auth(&api_id, Some(api_secret.expose()))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let info: Value = res.json().await.unwrap();
    assert_eq!((info["active"].as_bool(), info["aud"].as_str()), (Some(true), Some(orders)), "{info}");
    assert_eq!(info["sub"], client.client_id.as_str());

    // resource picks among them; another API is refused.
    let (status, _) = app.job_token(&client, &[("resource", orders)]).await;
    assert_eq!(status, 200);
    let builtin = app.builtin().to_string();
    let (status, body) = app.job_token(&client, &[("resource", &builtin)]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_target")));
    assert!(str_of(&body, "error_description").contains("may not ask for resource"), "{body}");
    let (_, body) = app.job_token(&client, &[("resource", "https://unknown.example.com")]).await;
    assert_eq!(body["error"], "invalid_target");
}

#[tokio::test]
async fn withdrawing_the_grant_the_client_or_its_sessions_stops_its_tokens() {
    let app = TestApp::spawn().await;
    let client = app.job_client(|_| {}).await;
    let token = |body: &Value| str_of(body, "access_token").to_string();

    // The opt-in withdrawn: its tokens stop at once, and no new one is issued.
    let (_, body) = app.job_token(&client, &[]).await;
    let first = token(&body);
    app.edit_client(&client, |f| f.client_credentials = false).await;
    assert_eq!(app.api_get(&first).await.status(), 401);
    assert_eq!(app.introspect(&client, &first).await, json!({"active": false}));
    assert_eq!(app.job_token(&client, &[]).await.1["error"], "unauthorized_client");
    app.edit_client(&client, |f| f.client_credentials = true).await;

    // Deactivated: refused at the token endpoint and at the API.
    let (_, body) = app.job_token(&client, &[]).await;
    let second = token(&body);
    let db = app.db_handle().await;
    let id = ClientId::parse(&client.client_id).unwrap();
    registry::set_active(&db, &id, false).await.unwrap();
    assert_eq!(app.api_get(&second).await.status(), 401);
    assert_eq!(app.job_token(&client, &[]).await.0, StatusCode::UNAUTHORIZED);
    registry::set_active(&db, &id, true).await.unwrap();
    assert_eq!(app.api_get(&second).await.status(), 200, "back with its client");

    // Revoked by the client (RFC 7009).
    let (status, _) = app.client_post("/oauth2/revoke", &client, &[("token", &second)]).await;
    assert_eq!(status, 200);
    assert_eq!(app.api_get(&second).await.status(), 401);

    // "Revoke all sessions" (a breach) ends the client's own tokens too.
    let (_, body) = app.job_token(&client, &[]).await;
    let third = token(&body);
    registry::revoke_sessions(&db, &id).await.unwrap();
    assert_eq!(app.api_get(&third).await.status(), 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM client_tokens").await, 0);

    // Deleting the client deletes its tokens.
    let (_, body) = app.job_token(&client, &[]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM client_tokens").await, 1);
    registry::delete(&db, &id).await.unwrap();
    assert_eq!(app.api_get(&token(&body)).await.status(), 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM client_tokens").await, 0);
    db.close().await;
}

#[tokio::test]
async fn never_expiring_clients_still_get_tokens_that_end_and_the_purge_removes_them() {
    let app = TestApp::spawn().await;
    let client = app
        .job_client(|f| {
            f.access_lifetime = "never".into();
        })
        .await;
    let (_, body) = app.job_token(&client, &[]).await;
    assert_eq!(body["expires_in"], 43_200, "a token nobody refreshes must still end");
    let custom = app
        .job_client(|f| {
            f.access_lifetime = "custom".into();
            f.access_lifetime_secs = "600".into();
        })
        .await;
    let (_, body) = app.job_token(&custom, &[]).await;
    assert_eq!(body["expires_in"], 600);

    let db = app.db_handle().await;
    let now = clavis::db::now_unix();
    assert_eq!(db.purge_expired(now).await.unwrap(), 0);
    let removed = db.purge_expired(now + 601).await.unwrap();
    assert_eq!(removed, 1, "the 600-second token");
    assert_eq!(app.count("SELECT COUNT(*) FROM client_tokens").await, 1);
    db.close().await;
}

#[tokio::test]
async fn the_metadata_names_the_grant_while_some_client_may_use_it() {
    let app = TestApp::spawn().await;
    let grants = |m: &Value| m["grant_types_supported"].clone();
    assert_eq!(grants(&app.as_metadata().await), json!(["authorization_code", "refresh_token"]));
    let client = app.job_client(|_| {}).await;
    assert_eq!(
        grants(&app.as_metadata().await),
        json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    app.edit_client(&client, |f| f.client_credentials = false).await;
    assert_eq!(grants(&app.as_metadata().await), json!(["authorization_code", "refresh_token"]));
}

#[tokio::test]
async fn the_opt_in_is_audited_and_set_from_the_cli() {
    let app = TestApp::spawn().await;
    let client = app.add_client(|_| {}).await;
    app.edit_client(&client, |f| f.client_credentials = true).await;
    let db = app.db_handle().await;
    let log = db
        .audit_log(&clavis::domain::audit::AuditQuery {
            client: Some(client.client_id.clone()),
            page: 1,
            per_page: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    db.close().await;
    let update = log.entries.iter().find(|e| e.action == "client.updated").expect("an update entry");
    let change = update.changes.iter().find(|c| c.field == "client_credentials").expect("the field");
    assert_eq!((change.from.as_deref(), change.to.as_deref()), (Some("no"), Some("yes")));

    let cli_db = &app.db;
    let added = json(&clavis(
        cli_db,
        &[
            "client",
            "add",
            "--name",
            "Job",
            "--redirect-uri",
            "https://jobs.example.com/cb",
            "--client-credentials",
            "--json",
        ],
    ));
    let id = str_of(&added, "client_id");
    let shown = json(&clavis(cli_db, &["client", "show", id, "--json"]));
    assert_eq!(shown["client_credentials"], true);
    let off = json(&clavis(cli_db, &["client", "update", id, "--no-client-credentials", "--json"]));
    assert_eq!(off["client_credentials"], false, "{off}");
    let err = refused(
        &clavis(cli_db, &["client", "update", id, "--auth-method", "none", "--client-credentials"]),
        "--auth-method",
    );
    assert!(err.contains("cannot use the client credentials grant"), "{err}");
}
