//! Registered APIs (resource servers): `resource` at the authorization and token endpoints
//! (RFC 8707), audience-bound tokens, introspection by an API with its own credentials (RFC
//! 7662), deactivation and deletion, clients limited to APIs, and the built-in API's protected
//! resource metadata (RFC 9728). On SQLite, or Postgres with CLAVIS_TEST_POSTGRES_URL.

mod common;

use clavis::{
    domain::{
        api::{ApiForm, ApiIdentifier},
        client::ClientId,
    },
    registry::{self, apis},
};
use common::{
    TestApp, location,
    oauth::{STATE, TestClient, authorize_path, exchange_form, pkce, query_param, str_of},
};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

const ORDERS: &str = "https://orders.example.com";
const BILLING: &str = "https://billing.example.com/v2";

struct TestApi {
    pk: i64,
    client_id: String,
    secret: String,
}

impl TestApp {
    async fn add_api(&self, name: &str, identifier: &str) -> TestApi {
        let db = self.db_handle().await;
        let form = ApiForm { name: name.into(), identifier: identifier.into(), description: String::new() };
        let (pk, api, secret) = apis::create(&db, &form, &self.builtin()).await.expect("API registered");
        db.close().await;
        TestApi {
            pk,
            client_id: api.client_id.expect("credentials").to_string(),
            secret: secret.expose().to_string(),
        }
    }

    async fn introspect_as(&self, api: &TestApi, token: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .post(self.url("/oauth2/introspect"))
            .basic_auth(&api.client_id, Some(&api.secret))
            .form(&[("token", token)])
            .send()
            .await
            .expect("introspect");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Authorize (with `extra` parameters), Allow, exchange: the token response.
    async fn tokens_with(
        &self,
        cookie: &str,
        client: &TestClient,
        extra: &[(&str, &str)],
        token_extra: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let (challenge, verifier) = pkce();
        let form = self.consent_page(cookie, &authorize_path(client, &challenge, extra)).await;
        let res = self.decide(cookie, &form, "allow").await;
        assert_eq!(res.status(), 303);
        let code = query_param(&location(&res), "code").expect("code");
        let mut pairs: Vec<(&str, &str)> = exchange_form(client, &code, &verifier).to_vec();
        pairs.extend_from_slice(token_extra);
        self.client_post("/oauth2/token", client, &pairs).await
    }

    /// The error redirect an authorization request gets (signed in).
    async fn authorize_error(&self, cookie: &str, client: &TestClient, extra: &[(&str, &str)]) -> String {
        let (challenge, _) = pkce();
        let res = self.get(&authorize_path(client, &challenge, extra), cookie).await;
        assert_eq!(res.status(), 302, "an error redirect for {extra:?}");
        location(&res)
    }
}

async fn setup() -> (TestApp, String, TestClient) {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    let client = app.add_client(|_| {}).await;
    (app, cookie, client)
}

fn assert_invalid_target(app: &TestApp, to: &str, mentions: &str) {
    assert_eq!(query_param(to, "error").as_deref(), Some("invalid_target"), "{to}");
    assert_eq!(query_param(to, "state").as_deref(), Some(STATE), "{to}");
    assert_eq!(query_param(to, "iss").as_deref(), Some(app.base.as_str()), "{to}");
    let description = query_param(to, "error_description").unwrap_or_default();
    assert!(description.contains(mentions), "{description}");
}

#[tokio::test]
async fn a_token_for_a_registered_api_is_checked_by_that_api_only() {
    let (app, cookie, client) = setup().await;
    let orders = app.add_api("Orders", ORDERS).await;
    let billing = app.add_api("Billing", BILLING).await;

    // The consent page names the API in plain words, with its host.
    let (challenge, verifier) = pkce();
    let path = authorize_path(&client, &challenge, &[("resource", ORDERS)]);
    let form = app.consent_page(&cookie, &path).await;
    assert!(form.html.contains("<strong class=\"consent-api\">Orders</strong>"), "{}", form.html);
    assert!(form.html.contains("orders.example.com"), "{}", form.html);
    assert!(!form.html.contains("Clavis API"), "only the API asked for");
    let res = app.decide(&cookie, &form, "allow").await;
    let code = query_param(&location(&res), "code").expect("code");
    let (status, tokens) = app.exchange(&client, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let access = str_of(&tokens, "access_token");

    // Orders sees it, with everything a resource server decides on.
    let (status, info) = app.introspect_as(&orders, access).await;
    assert_eq!(status, 200);
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["aud"], ORDERS);
    assert_eq!(info["scope"], "read write");
    assert_eq!(info["client_id"], client.client_id.as_str());
    assert_eq!(info["username"], "alice");
    assert_eq!(info["token_type"], "Bearer");
    assert!(info["sub"].is_string() && info["exp"].is_i64() && info["iat"].is_i64(), "{info}");

    // Billing does not, nor does anyone see the refresh token through an API.
    assert_eq!(app.introspect_as(&billing, access).await.1, json!({"active": false}));
    assert_eq!(
        app.introspect_as(&orders, str_of(&tokens, "refresh_token")).await.1,
        json!({"active": false})
    );
    assert_eq!(app.introspect_as(&orders, "no-such-token").await.1, json!({"active": false}));

    // The client still sees its own token, now with its audience.
    let (_, info) = app.client_post("/oauth2/introspect", &client, &[("token", access)]).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["aud"], ORDERS);

    // The built-in API refuses a token that is not for it, and says where its metadata is.
    let res = app.api_get(access).await;
    assert_eq!(res.status(), 401);
    let challenge = res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().to_string();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let metadata = format!("resource_metadata=\"{}/.well-known/oauth-protected-resource/api/v1\"", app.base);
    assert!(challenge.contains(&metadata), "{challenge}");

    // A wrong secret is not an API.
    let impostor = TestApi { pk: orders.pk, client_id: orders.client_id.clone(), secret: "wrong".into() };
    let (status, body) = app.introspect_as(&impostor, access).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
}

#[tokio::test]
async fn omitted_resource_means_the_built_in_api() {
    let (app, cookie, client) = setup().await;
    let tokens = app.tokens(&cookie, &client).await;
    let access = str_of(&tokens, "access_token");
    assert_eq!(app.api_get(access).await.status(), 200);
    let (_, info) = app.client_post("/oauth2/introspect", &client, &[("token", access)]).await;
    assert_eq!(info["aud"], format!("{}/api/v1", app.base));
    // Naming it explicitly works the same.
    let builtin = app.builtin();
    let (status, tokens) = app.tokens_with(&cookie, &client, &[("resource", builtin.as_str())], &[]).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(app.api_get(str_of(&tokens, "access_token")).await.status(), 200);
    // Its 403 also points at the metadata.
    let read_only = app.add_client(|f| f.scope = "read".into()).await;
    let tokens = app.tokens(&cookie, &read_only).await;
    let res = app.api_patch(str_of(&tokens, "access_token"), r#"{"display_name": "A"}"#).await;
    assert_eq!(res.status(), 403);
    assert!(res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().contains("resource_metadata=\""));
}

#[tokio::test]
async fn unknown_malformed_and_inactive_resources_are_invalid_target_at_authorize() {
    let (app, cookie, client) = setup().await;
    let orders = app.add_api("Orders", ORDERS).await;
    let to = app.authorize_error(&cookie, &client, &[("resource", "https://unknown.example.com")]).await;
    assert_invalid_target(&app, &to, "is not a registered API");
    let to = app.authorize_error(&cookie, &client, &[("resource", "https://orders.example.com#frag")]).await;
    assert_invalid_target(&app, &to, "fragment");
    let to = app.authorize_error(&cookie, &client, &[("resource", "orders")]).await;
    assert_invalid_target(&app, &to, "absolute");
    // One bad value among good ones spoils the request.
    let to = app
        .authorize_error(
            &cookie,
            &client,
            &[("resource", ORDERS), ("resource", "https://unknown.example.com")],
        )
        .await;
    assert_invalid_target(&app, &to, "unknown.example.com");

    let db = app.db_handle().await;
    apis::set_active(&db, orders.pk, false, &app.builtin()).await.unwrap();
    let to = app.authorize_error(&cookie, &client, &[("resource", ORDERS)]).await;
    assert_invalid_target(&app, &to, "deactivated");
    // A repeated resource is not a repeated parameter error: both name the same API.
    apis::set_active(&db, orders.pk, true, &app.builtin()).await.unwrap();
    db.close().await;
    let (challenge, _) = pkce();
    let path = authorize_path(&client, &challenge, &[("resource", ORDERS), ("resource", ORDERS)]);
    assert_eq!(app.get(&path, &cookie).await.status(), 200);
}

#[tokio::test]
async fn an_api_deactivated_while_the_consent_screen_is_open_gets_no_code() {
    let (app, cookie, client) = setup().await;
    let orders = app.add_api("Orders", ORDERS).await;
    let (challenge, _) = pkce();
    let form = app.consent_page(&cookie, &authorize_path(&client, &challenge, &[("resource", ORDERS)])).await;
    let db = app.db_handle().await;
    apis::set_active(&db, orders.pk, false, &app.builtin()).await.unwrap();
    db.close().await;
    let res = app.decide(&cookie, &form, "allow").await;
    assert_eq!(res.status(), 303);
    assert_invalid_target(&app, &location(&res), "deactivated");
    assert_eq!(app.count("SELECT COUNT(*) FROM authorization_codes").await, 0);
}

#[tokio::test]
async fn the_token_endpoint_narrows_within_the_grant_and_refuses_the_rest() {
    let (app, cookie, client) = setup().await;
    let orders = app.add_api("Orders", ORDERS).await;
    let billing = app.add_api("Billing", BILLING).await;
    let both = [("resource", ORDERS), ("resource", BILLING)];

    // At the code exchange: one of the two granted APIs.
    let (status, tokens) = app.tokens_with(&cookie, &client, &both, &[("resource", BILLING)]).await;
    assert_eq!(status, 200, "{tokens}");
    let access = str_of(&tokens, "access_token");
    assert_eq!(app.introspect_as(&billing, access).await.1["active"], true);
    assert_eq!(app.introspect_as(&orders, access).await.1["active"], false);

    // Refresh: a subset, then everything granted again (the refresh token keeps the grant).
    let refresh = str_of(&tokens, "refresh_token").to_string();
    let (status, next) = app
        .client_post(
            "/oauth2/token",
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("resource", ORDERS)],
        )
        .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(app.introspect_as(&orders, str_of(&next, "access_token")).await.1["active"], true);
    assert_eq!(app.introspect_as(&billing, str_of(&next, "access_token")).await.1["active"], false);
    let (status, again) = app.refresh(&client, str_of(&next, "refresh_token")).await;
    assert_eq!(status, 200, "{again}");
    let (_, info) = app.introspect_as(&orders, str_of(&again, "access_token")).await;
    let aud: Vec<&str> =
        info["aud"].as_array().expect("two audiences").iter().filter_map(Value::as_str).collect();
    assert_eq!(aud.len(), 2);
    assert!(aud.contains(&ORDERS) && aud.contains(&BILLING), "{aud:?}");
    // The built-in API was never granted: not by refresh either.
    let latest = str_of(&again, "refresh_token").to_string();
    let builtin = app.builtin();
    let (status, body) = app
        .client_post(
            "/oauth2/token",
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &latest), ("resource", builtin.as_str())],
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_target")), "{body}");
    assert_eq!(app.api_get(str_of(&again, "access_token")).await.status(), 401);

    // Unknown and inactive resources at the token endpoint.
    let db = app.db_handle().await;
    apis::set_active(&db, billing.pk, false, &app.builtin()).await.unwrap();
    db.close().await;
    for (resource, mentions) in [
        ("https://unknown.example.com", "not a registered API"),
        (BILLING, "deactivated"),
        ("nope", "absolute"),
    ] {
        let (status, body) = app
            .client_post(
                "/oauth2/token",
                &client,
                &[("grant_type", "refresh_token"), ("refresh_token", &latest), ("resource", resource)],
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "invalid_target");
        assert!(body["error_description"].as_str().unwrap().contains(mentions), "{body}");
    }
    // A refused refresh changed nothing: the token still works.
    let (status, _) = app.refresh(&client, &latest).await;
    assert_eq!(status, 200);

    // At the code exchange, an API that was not authorized is refused.
    let (status, body) =
        app.tokens_with(&cookie, &client, &[("resource", ORDERS)], &[("resource", BILLING)]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_target")), "{body}");
    let db = app.db_handle().await;
    apis::set_active(&db, billing.pk, true, &app.builtin()).await.unwrap();
    db.close().await;
    let (status, body) =
        app.tokens_with(&cookie, &client, &[("resource", ORDERS)], &[("resource", BILLING)]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_target");
    assert!(body["error_description"].as_str().unwrap().contains("not part of this authorization"), "{body}");
}

#[tokio::test]
async fn a_deactivated_or_deleted_api_cannot_introspect() {
    let (app, cookie, client) = setup().await;
    let orders = app.add_api("Orders", ORDERS).await;
    let (_, tokens) = app.tokens_with(&cookie, &client, &[("resource", ORDERS)], &[]).await;
    let access = str_of(&tokens, "access_token").to_string();
    let db = app.db_handle().await;
    let builtin = app.builtin();

    apis::set_active(&db, orders.pk, false, &builtin).await.unwrap();
    let (status, body) = app.introspect_as(&orders, &access).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "{body}"
    );
    apis::set_active(&db, orders.pk, true, &builtin).await.unwrap();
    assert_eq!(app.introspect_as(&orders, &access).await.1["active"], true, "activation restores it");

    // A client limited to Orders loses it from its list when Orders is deleted.
    let limited = app.add_client(|_| {}).await;
    let limited_id = ClientId::parse(&limited.client_id).unwrap();
    let set = registry::api_list(&db, &[ApiIdentifier::parse(ORDERS).unwrap()], &builtin).await.unwrap();
    db.set_client_apis(&limited_id, Some(&set)).await.unwrap();

    apis::delete(&db, orders.pk, &builtin).await.unwrap();
    let (status, body) = app.introspect_as(&orders, &access).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
    assert_eq!(db.client_apis(&limited_id).await.unwrap().map(|s| s.to_string()), Some(String::new()));

    // Registered again under the same identifier, it is a new API: the old token is not for it.
    let again = app.add_api("Orders", ORDERS).await;
    assert_ne!(again.pk, orders.pk);
    assert_eq!(app.introspect_as(&again, &access).await.1, json!({"active": false}));
    let (status, fresh) = app.tokens_with(&cookie, &client, &[("resource", ORDERS)], &[]).await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(app.introspect_as(&again, str_of(&fresh, "access_token")).await.1["active"], true);

    // The built-in API stays.
    assert!(matches!(apis::delete(&db, 1, &builtin).await, Err(apis::ApiRegistryError::BuiltIn(_))));
    assert!(matches!(
        apis::set_active(&db, 1, false, &builtin).await,
        Err(apis::ApiRegistryError::BuiltIn(_))
    ));
    db.close().await;
}

#[tokio::test]
async fn an_api_sees_tokens_of_a_deactivated_client_or_revoked_session_as_inactive() {
    let (app, cookie, client) = setup().await;
    let orders = app.add_api("Orders", ORDERS).await;
    let (_, tokens) = app.tokens_with(&cookie, &client, &[("resource", ORDERS)], &[]).await;
    let access = str_of(&tokens, "access_token");
    let db = app.db_handle().await;
    let id = ClientId::parse(&client.client_id).unwrap();
    registry::set_active(&db, &id, false).await.unwrap();
    assert_eq!(app.introspect_as(&orders, access).await.1, json!({"active": false}));
    registry::set_active(&db, &id, true).await.unwrap();
    assert_eq!(app.introspect_as(&orders, access).await.1["active"], true);
    db.close().await;
    let (status, _) =
        app.client_post("/oauth2/revoke", &client, &[("token", str_of(&tokens, "refresh_token"))]).await;
    assert_eq!(status, 200);
    assert_eq!(app.introspect_as(&orders, access).await.1, json!({"active": false}));
}

#[tokio::test]
async fn a_client_limited_to_apis_gets_only_those() {
    let (app, cookie, client) = setup().await;
    app.add_api("Orders", ORDERS).await;
    let billing = app.add_api("Billing", BILLING).await;
    let db = app.db_handle().await;
    let builtin = app.builtin();
    let id = ClientId::parse(&client.client_id).unwrap();
    let set = registry::api_list(&db, &[ApiIdentifier::parse(BILLING).unwrap()], &builtin).await.unwrap();
    db.set_client_apis(&id, Some(&set)).await.unwrap();

    let to = app.authorize_error(&cookie, &client, &[("resource", ORDERS)]).await;
    assert_invalid_target(&app, &to, "may not ask for resource");
    let to = app.authorize_error(&cookie, &client, &[("resource", builtin.as_str())]).await;
    assert_invalid_target(&app, &to, "may not ask for resource");
    // Without `resource`, its default is the APIs of its list.
    let (status, tokens) = app.tokens_with(&cookie, &client, &[], &[]).await;
    assert_eq!(status, 200, "{tokens}");
    let access = str_of(&tokens, "access_token");
    assert_eq!(app.introspect_as(&billing, access).await.1["aud"], BILLING);
    assert_eq!(app.api_get(access).await.status(), 401);

    // Limited later to Orders only: its Billing session keeps no API, and a refresh says so.
    let set = registry::api_list(&db, &[ApiIdentifier::parse(ORDERS).unwrap()], &builtin).await.unwrap();
    db.set_client_apis(&id, Some(&set)).await.unwrap();
    let (status, body) = app.refresh(&client, str_of(&tokens, "refresh_token")).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{body}");

    // An unknown API in the list is refused before anything is written.
    let err = registry::api_list(&db, &[ApiIdentifier::parse("https://nope.example.com").unwrap()], &builtin)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a registered API"), "{err}");
    db.close().await;
}

#[tokio::test]
async fn the_registry_refuses_bad_and_duplicate_identifiers() {
    let app = TestApp::spawn().await;
    app.add_api("Orders", ORDERS).await;
    let db = app.db_handle().await;
    let builtin = app.builtin();
    let form = |identifier: &str| ApiForm {
        name: "X".into(),
        identifier: identifier.into(),
        description: String::new(),
    };
    for (identifier, mentions) in [
        (ORDERS, "already registered"),
        (builtin.as_str(), "built-in"),
        ("http://orders.example.com", "https"),
        ("https://orders.example.com/#x", "fragment"),
    ] {
        let err = apis::create(&db, &form(identifier), &builtin).await.unwrap_err();
        assert!(
            err.to_string().contains(mentions) || format!("{err:?}").contains(mentions),
            "{identifier}: {err:?}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM apis").await, 2, "the built-in API and Orders, nothing else");
    // Secrets are stored as digests only.
    let api = app.add_api("Billing", BILLING).await;
    assert!(!app.stored_text(&["apis"]).await.contains(&api.secret));
    // A regenerated secret replaces the old one at once.
    let (_, fresh) = apis::regenerate_secret(&db, api.pk, &builtin).await.unwrap();
    db.close().await;
    let (status, _) = app.introspect_as(&api, "x").await;
    assert_eq!(status, 401);
    let renewed =
        TestApi { pk: api.pk, client_id: api.client_id.clone(), secret: fresh.expose().to_string() };
    assert_eq!(app.introspect_as(&renewed, "x").await, (StatusCode::OK, json!({"active": false})));
}

#[tokio::test]
async fn the_built_in_api_publishes_protected_resource_metadata() {
    let app = TestApp::spawn().await;
    let res = app.get("/.well-known/oauth-protected-resource/api/v1", "").await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["resource"], format!("{}/api/v1", app.base));
    assert_eq!(doc["authorization_servers"], json!([app.base]));
    assert_eq!(doc["scopes_supported"], json!(["read", "write"]));
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    // A request without a token is told where the metadata is.
    let res = app.http.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let challenge = res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
    assert!(challenge.contains("/.well-known/oauth-protected-resource/api/v1\""), "{challenge}");
}
