//! The authorization code flow over HTTP against the real server: metadata, the authorization
//! endpoint's errors, sign-in and consent, and the token endpoint, with the `oauth2` crate as an
//! independent client where it fits.

mod common;

use clavis::auth::token::digest;
use common::{
    TestApp, location,
    oauth::{REDIRECT, STATE, authorize_path, exchange_form, pkce, query_param, str_of},
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl, basic::BasicClient,
};
use reqwest::header;

async fn app_with_user() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    (app, cookie)
}

#[tokio::test]
async fn metadata_describes_the_server() {
    let app = TestApp::spawn().await;
    let res = app.get("/.well-known/oauth-authorization-server", "").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    let m: serde_json::Value = res.json().await.unwrap();
    assert_eq!(m["issuer"], app.base.as_str());
    for (key, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("revocation_endpoint", "/oauth2/revoke"),
        ("introspection_endpoint", "/oauth2/introspect"),
    ] {
        assert_eq!(m[key], format!("{}{path}", app.base));
    }
    assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(m["grant_types_supported"], serde_json::json!(["authorization_code", "refresh_token"]));
    assert_eq!(m["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_post", "client_secret_basic", "none"])
    );
    assert_eq!(m["scopes_supported"], serde_json::json!(["read", "write"]));
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
}

/// The whole flow with the `oauth2` crate for every auth method: code, tokens, API, refresh.
#[tokio::test]
async fn oauth2_crate_client_completes_the_flow_with_each_auth_method() {
    let (app, cookie) = app_with_user().await;
    for method in ["client_secret_post", "client_secret_basic", "none"] {
        let client = app.add_client(|f| f.auth_method = method.into()).await;
        let mut oc = BasicClient::new(ClientId::new(client.client_id.clone()))
            .set_auth_uri(AuthUrl::new(app.url("/oauth2/authorize")).unwrap())
            .set_token_uri(TokenUrl::new(app.url("/oauth2/token")).unwrap())
            .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
        if let Some(secret) = &client.secret {
            oc = oc.set_client_secret(ClientSecret::new(secret.clone()));
        }
        if method == "client_secret_post" {
            oc = oc.set_auth_type(AuthType::RequestBody);
        }
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf) = oc
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("read".into()))
            .add_scope(Scope::new("write".into()))
            .set_pkce_challenge(challenge)
            .url();
        let path = &url.as_str()[app.base.len()..];
        let form = app.consent_page(&cookie, path).await;
        assert!(form.html.contains("Test App"), "the consent page names the client");
        assert!(form.html.contains("Read and change your data"));
        assert!(form.html.contains("app.example.com"), "and the redirect host");
        let res = app.decide(&cookie, &form, "allow").await;
        assert_eq!(res.status(), 303, "{method}");
        let to = location(&res);
        assert_eq!(query_param(&to, "state").as_deref(), Some(csrf.secret().as_str()));
        assert_eq!(query_param(&to, "iss").as_deref(), Some(app.base.as_str()));
        let code = query_param(&to, "code").unwrap();

        let tokens = oc
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&app.http)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e:?}"));
        assert_eq!(tokens.expires_in().map(|d| d.as_secs()), Some(43_200));
        assert_eq!(tokens.scopes().map(|s| s.len()), Some(2));
        assert!(tokens.access_token().secret().len() >= 43, "at least 256 bits");
        let me: serde_json::Value = app.api_get(tokens.access_token().secret()).await.json().await.unwrap();
        assert_eq!(me["username"], "alice");

        let refresh = tokens.refresh_token().expect("a refresh token");
        let refreshed = oc.exchange_refresh_token(refresh).request_async(&app.http).await.unwrap();
        let new_refresh = refreshed.refresh_token().expect("rotated");
        assert_ne!(new_refresh.secret(), refresh.secret());
        assert_eq!(app.api_get(refreshed.access_token().secret()).await.status(), 200);
        // The used refresh token is dead, and its reuse ends the session.
        let reuse = oc.exchange_refresh_token(refresh).request_async(&app.http).await;
        match reuse {
            Err(RequestTokenError::ServerResponse(e)) => assert_eq!(e.error().as_ref(), "invalid_grant"),
            other => panic!("{method}: reuse must fail with invalid_grant: {other:?}"),
        }
        assert_eq!(app.api_get(refreshed.access_token().secret()).await.status(), 401);
        let new_refresh = RefreshToken::new(new_refresh.secret().clone());
        let again = oc.exchange_refresh_token(&new_refresh).request_async(&app.http).await;
        match again {
            Err(RequestTokenError::ServerResponse(e)) => assert_eq!(e.error().as_ref(), "invalid_grant"),
            other => panic!("{method}: the whole session is revoked: {other:?}"),
        }
    }
}

#[tokio::test]
async fn token_responses_follow_rfc_6749() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let (challenge, verifier) = pkce();
    let code = app.code_for(&cookie, &client, &challenge).await;
    let res = app.client_post_raw("/oauth2/token", &client, &exchange_form(&client, &code, &verifier)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 43_200, "a JSON number");
    assert_eq!(body["scope"], "read write");
    let (access, refresh) = (str_of(&body, "access_token"), str_of(&body, "refresh_token"));
    // Exactly the two digests are stored, and neither token nor the code anywhere in clear.
    let db = app.db_handle().await;
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT kind, digest FROM tokens ORDER BY kind").fetch_all(db.pool()).await.unwrap();
    db.close().await;
    assert_eq!(
        rows,
        [("access".to_string(), digest(access).to_vec()), ("refresh".to_string(), digest(refresh).to_vec())]
    );
    let stored = app.stored_text(&["tokens", "grants", "authorization_codes"]).await;
    for secret in [access, refresh, code.as_str()] {
        assert!(!stored.contains(secret), "{secret} is stored in clear");
    }
}

#[tokio::test]
async fn authorize_errors_before_the_redirect_uri_is_trusted_are_pages() {
    let (app, cookie) = app_with_user().await;
    // Two redirect URIs: leaving redirect_uri out is then an error (one alone would be used).
    let client =
        app.add_client(|f| f.redirect_uris = format!("{REDIRECT}\nhttps://app.example.com/two")).await;
    let (challenge, _) = pkce();
    let unknown = authorize_path(&client, &challenge, &[]).replace(&client.client_id, "nosuchclient0000");
    let evil = authorize_path(&client, &challenge, &[]).replace("app.example.com", "evil.example");
    let repeated_id = format!("{}&client_id={}", authorize_path(&client, &challenge, &[]), client.client_id);
    let no_redirect = format!("/oauth2/authorize?response_type=code&client_id={}", client.client_id);
    let huge = format!("{}&x={}", authorize_path(&client, &challenge, &[]), "y".repeat(9000));
    for path in [unknown, evil, repeated_id, no_redirect, huge, "/oauth2/authorize".to_string()] {
        let res = app.get(&path, &cookie).await;
        assert_eq!(res.status(), 400, "{path}");
        assert!(res.headers().get(header::LOCATION).is_none(), "never a redirect: {path}");
        assert!(res.text().await.unwrap().contains("This request cannot be completed"));
    }
    // Inactive client: also a page.
    let db = app.db_handle().await;
    let id = clavis::domain::client::ClientId::parse(&client.client_id).unwrap();
    clavis::registry::set_active(&db, &id, false).await.unwrap();
    db.close().await;
    let res = app.get(&authorize_path(&client, &challenge, &[]), &cookie).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get(header::LOCATION).is_none());
}

#[tokio::test]
async fn authorize_errors_after_the_redirect_uri_is_trusted_go_back_with_state_and_iss() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let read_only = app.add_client(|f| f.scope = "read".into()).await;
    let (challenge, _) = pkce();
    let base = |c: &common::oauth::TestClient, pairs: &[(&str, &str)]| {
        let mut all = vec![
            ("response_type", "code"),
            ("client_id", c.client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", STATE),
        ];
        all.extend_from_slice(pairs);
        format!("/oauth2/authorize?{}", serde_urlencoded::to_string(&all).unwrap())
    };
    let cases = [
        (base(&client, &[]), "invalid_request"),
        (
            base(&client, &[("code_challenge", &challenge), ("code_challenge_method", "plain")]),
            "invalid_request",
        ),
        (base(&client, &[("code_challenge", &challenge)]), "invalid_request"),
        (
            base(
                &client,
                &[("code_challenge", &challenge), ("code_challenge_method", "S256"), ("scope", "admin")],
            ),
            "invalid_scope",
        ),
        (
            base(
                &read_only,
                &[("code_challenge", &challenge), ("code_challenge_method", "S256"), ("scope", "write")],
            ),
            "invalid_scope",
        ),
        (
            format!(
                "{}&state=again",
                base(&client, &[("code_challenge", &challenge), ("code_challenge_method", "S256")])
            ),
            "invalid_request",
        ),
        (
            format!(
                "{}&scope=read&scope=write",
                base(&client, &[("code_challenge", &challenge), ("code_challenge_method", "S256")])
            ),
            "invalid_request",
        ),
        (
            base(&client, &[("code_challenge", &challenge), ("code_challenge_method", "S256")])
                .replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
    ];
    for (path, error) in cases {
        let res = app.get(&path, &cookie).await;
        assert_eq!(res.status(), 302, "{path}");
        let to = location(&res);
        assert!(to.starts_with(REDIRECT), "{to}");
        assert_eq!(query_param(&to, "error").as_deref(), Some(error), "{path}");
        assert_eq!(query_param(&to, "iss").as_deref(), Some(app.base.as_str()));
        if !path.contains("state=again") {
            assert_eq!(query_param(&to, "state").as_deref(), Some(STATE), "{path}");
        }
        assert!(query_param(&to, "code").is_none());
    }
}

#[tokio::test]
async fn loopback_redirects_match_on_any_port() {
    let (app, cookie) = app_with_user().await;
    let mut client = app.add_client(|f| f.redirect_uris = "http://127.0.0.1/cb".into()).await;
    client.redirect = "http://127.0.0.1:49152/cb".into();
    let (challenge, verifier) = pkce();
    let code = app.code_for(&cookie, &client, &challenge).await;
    let (status, body) = app.exchange(&client, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    // Other hosts still need an exact match.
    client.redirect = "http://localhost:49152/cb".into();
    let res = app.get(&authorize_path(&client, &challenge, &[]), &cookie).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn anonymous_users_sign_in_and_come_back() {
    let app = TestApp::spawn().await;
    app.add_user("bob", false).await;
    let client = app.add_client(|_| {}).await;
    let (challenge, _) = pkce();
    let path = authorize_path(&client, &challenge, &[]);
    let res = app.get(&path, "").await;
    assert!(res.status().is_redirection());
    let to = location(&res);
    assert!(to.starts_with("/login?next="), "{to}");
    let next = query_param(&to, "next").unwrap();
    assert_eq!(next, path);
    let res = app.sign_in_response("bob", common::PASSWORD, Some(&next)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), path, "back to the authorization request");
    let cookie = format!("clavis_session={}", common::set_cookie(&res, "clavis_session").unwrap());
    let form = app.consent_page(&cookie, &path).await;
    assert!(form.html.contains("Signed in as <strong>bob</strong>"));

    // A long request (a big state, up to the 8 KiB the endpoint accepts) survives sign-in too.
    for state_len in [5_000, 7_900] {
        let path = authorize_path(&client, &challenge, &[]).replace(STATE, &"s".repeat(state_len));
        assert!(path.len() > 4096 && path.len() - "/oauth2/authorize?".len() <= 8192, "{}", path.len());
        let to = location(&app.get(&path, "").await);
        let next = query_param(&to, "next").expect("next");
        assert_eq!(next, path);
        let res = app.sign_in_response("bob", common::PASSWORD, Some(&next)).await;
        assert_eq!(location(&res), path, "back to the {state_len}-byte request, not to /");
    }
}

#[tokio::test]
async fn the_consent_page_cannot_be_framed_and_runs_no_script() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let (challenge, _) = pkce();
    let res = app.get(&authorize_path(&client, &challenge, &[]), &cookie).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY");
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
    assert!(csp.contains("form-action 'self' https://app.example.com"), "{csp}");
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let html = res.text().await.unwrap();
    assert!(html.contains(">Allow</button>") && html.contains(">Deny</button>"));
    assert!(!html.contains("<script"));
}

#[tokio::test]
async fn deny_sends_access_denied_with_state_and_iss() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let (challenge, _) = pkce();
    let form = app.consent_page(&cookie, &authorize_path(&client, &challenge, &[])).await;
    let res = app.decide(&cookie, &form, "deny").await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(to.starts_with(REDIRECT));
    assert_eq!(query_param(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&to, "state").as_deref(), Some(STATE));
    assert_eq!(query_param(&to, "iss").as_deref(), Some(app.base.as_str()));
    assert!(query_param(&to, "code").is_none());
}

#[tokio::test]
async fn forged_replayed_and_cross_site_decisions_yield_no_code() {
    let (app, cookie) = app_with_user().await;
    app.add_user("mallory", false).await;
    let other_cookie = app.sign_in("mallory").await;
    let client = app.add_client(|_| {}).await;
    let (challenge, _) = pkce();
    let path = authorize_path(&client, &challenge, &[]);
    let no_code = |res: &reqwest::Response| {
        assert!(query_param(&location(res), "code").is_none(), "no code: {:?}", res.status());
    };

    // A wrong token.
    let mut form = app.consent_page(&cookie, &path).await;
    let good_csrf = form.csrf.clone();
    form.csrf = "forged".into();
    let res = app.decide(&cookie, &form, "allow").await;
    assert_eq!(res.status(), 403);
    no_code(&res);
    // Another user's session cannot answer it.
    form.csrf = good_csrf.clone();
    let res = app.decide(&other_cookie, &form, "allow").await;
    assert_eq!(res.status(), 403);
    no_code(&res);
    // A cross-site post, even with the right token.
    let res = app
        .post_form_with(
            "/oauth2/authorize",
            &cookie,
            &[("sec-fetch-site", "cross-site")],
            &[("request", &form.request), ("csrf", &good_csrf), ("decision", "allow")],
        )
        .await;
    assert_eq!(res.status(), 403);
    no_code(&res);
    // Signed out: nothing.
    let res = app.decide("", &form, "allow").await;
    assert_eq!(res.status(), 403);
    // The real decision works once; its replay does not.
    let res = app.decide(&cookie, &form, "allow").await;
    assert_eq!(res.status(), 303);
    assert!(query_param(&location(&res), "code").is_some());
    let res = app.decide(&cookie, &form, "allow").await;
    assert_eq!(res.status(), 400);
    no_code(&res);
}

#[tokio::test]
async fn consent_off_redirects_with_a_code_at_once() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|f| f.consent = false).await;
    let (challenge, verifier) = pkce();
    let res = app.get(&authorize_path(&client, &challenge, &[("scope", "read")]), &cookie).await;
    assert_eq!(res.status(), 302);
    let to = location(&res);
    let code = query_param(&to, "code").expect("code");
    assert_eq!(query_param(&to, "iss").as_deref(), Some(app.base.as_str()));
    let (status, body) = app.exchange(&client, &code, &verifier).await;
    assert_eq!(status, 200);
    assert_eq!(body["scope"], "read", "the scope asked for, not more");
}

#[tokio::test]
async fn codes_are_single_use_and_a_replay_revokes_their_tokens() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let (challenge, verifier) = pkce();
    let code = app.code_for(&cookie, &client, &challenge).await;
    let form = exchange_form(&client, &code, &verifier);
    let (status, tokens) = app.client_post("/oauth2/token", &client, &form).await;
    assert_eq!(status, 200);
    let access = str_of(&tokens, "access_token");
    assert_eq!(app.api_get(access).await.status(), 200);
    let (status, body) = app.client_post("/oauth2/token", &client, &form).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(app.api_get(access).await.status(), 401, "tokens from a replayed code are revoked");
    let (status, _) = app.refresh(&client, str_of(&tokens, "refresh_token")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn codes_are_bound_to_client_redirect_uri_pkce_and_time() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let other = app.add_client(|_| {}).await;
    let exchange = |code: String, verifier: String, redirect: &'static str| {
        vec![
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("code".into(), code),
            ("redirect_uri".into(), redirect.into()),
            ("code_verifier".into(), verifier),
        ]
    };
    fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
        v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
    }

    // Wrong verifier: refused, and the code is used up.
    let (challenge, verifier) = pkce();
    let code = app.code_for(&cookie, &client, &challenge).await;
    let (_, wrong) = pkce();
    let (status, body) =
        app.client_post("/oauth2/token", &client, &as_refs(&exchange(code.clone(), wrong, REDIRECT))).await;
    assert_eq!((status.as_u16(), str_of(&body, "error")), (400, "invalid_grant"));
    let (status, _) =
        app.client_post("/oauth2/token", &client, &as_refs(&exchange(code, verifier, REDIRECT))).await;
    assert_eq!(status, 400, "a refused attempt uses the code up");

    // Missing verifier, other redirect_uri.
    for form in [
        |c: String, _v: String| {
            vec![
                ("grant_type".to_string(), "authorization_code".to_string()),
                ("code".into(), c),
                ("redirect_uri".into(), REDIRECT.into()),
            ]
        },
        |c: String, v: String| {
            vec![
                ("grant_type".to_string(), "authorization_code".to_string()),
                ("code".into(), c),
                ("redirect_uri".into(), "https://app.example.com/other".into()),
                ("code_verifier".into(), v),
            ]
        },
    ] {
        let (challenge, verifier) = pkce();
        let code = app.code_for(&cookie, &client, &challenge).await;
        let (status, body) = app.client_post("/oauth2/token", &client, &as_refs(&form(code, verifier))).await;
        assert_eq!((status.as_u16(), str_of(&body, "error")), (400, "invalid_grant"), "{body}");
    }

    // Another client's code: refused, and still good for its owner.
    let (challenge, verifier) = pkce();
    let code = app.code_for(&cookie, &client, &challenge).await;
    let (status, _) = app
        .client_post("/oauth2/token", &other, &as_refs(&exchange(code.clone(), verifier.clone(), REDIRECT)))
        .await;
    assert_eq!(status, 400);
    let (status, _) =
        app.client_post("/oauth2/token", &client, &as_refs(&exchange(code, verifier, REDIRECT))).await;
    assert_eq!(status, 200);

    // Expired (60 s): moved into the past.
    let (challenge, verifier) = pkce();
    let code = app.code_for(&cookie, &client, &challenge).await;
    let db = app.db_handle().await;
    sqlx::query("UPDATE authorization_codes SET expires_at = expires_at - 61")
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    let (status, body) =
        app.client_post("/oauth2/token", &client, &as_refs(&exchange(code, verifier, REDIRECT))).await;
    assert_eq!((status.as_u16(), str_of(&body, "error")), (400, "invalid_grant"));
}

#[tokio::test]
async fn client_authentication_errors() {
    let (app, cookie) = app_with_user().await;
    let post = app.add_client(|_| {}).await;
    let basic = app.add_client(|f| f.auth_method = "client_secret_basic".into()).await;
    let token = |form: &[(&str, &str)]| {
        let req = app.http.post(app.url("/oauth2/token")).form(form);
        async move { req.send().await.unwrap() }
    };
    let secret = post.secret.clone().unwrap();
    // Wrong secret, unknown client, wrong method: 401 invalid_client with a challenge.
    for res in [
        token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", &post.client_id),
            ("client_secret", "wrong"),
        ])
        .await,
        token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "nosuchclient0000"),
            ("client_secret", &secret),
        ])
        .await,
        token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", &basic.client_id),
            ("client_secret", basic.secret.as_deref().unwrap()),
        ])
        .await,
        token(&[("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", &post.client_id)])
            .await,
        token(&[("grant_type", "refresh_token"), ("refresh_token", "x")]).await,
        app.http
            .post(app.url("/oauth2/token"))
            .header("authorization", "Basic %%%")
            .form(&[("grant_type", "refresh_token")])
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(res.status(), 401);
        assert!(res.headers().get(header::WWW_AUTHENTICATE).is_some());
        assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client", "{body}");
        assert!(body["error_description"].is_string());
    }
    // Two methods at once.
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .basic_auth(&basic.client_id, basic.secret.as_deref())
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_secret", "also")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"], "invalid_request");
    // Basic credentials are form-encoded before base64 (RFC 6749 §2.3.1): an encoded id works.
    let (challenge, verifier) = pkce();
    let code = app.code_for(&cookie, &basic, &challenge).await;
    let encoded_id = format!("%{:02X}{}", basic.client_id.as_bytes()[0], &basic.client_id[1..]);
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .basic_auth(&encoded_id, basic.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn malformed_token_requests_get_json_errors_never_5xx() {
    let app = TestApp::spawn().await;
    let client = app.add_client(|_| {}).await;
    let secret = client.secret.clone().unwrap();
    let huge = "x".repeat(100_000);
    let cases: Vec<reqwest::RequestBuilder> = vec![
        app.http
            .post(app.url("/oauth2/token"))
            .json(&serde_json::json!({"grant_type": "authorization_code"})),
        app.http
            .post(app.url("/oauth2/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(vec![0xffu8, 0xfe, 0x00, b'=', 0x80]),
        app.http
            .post(app.url("/oauth2/token"))
            .form(&[("grant_type", "authorization_code"), ("grant_type", "refresh_token")]),
        app.http.post(app.url("/oauth2/token")).form(&[
            ("grant_type", "password"),
            ("client_id", &client.client_id),
            ("client_secret", &secret),
        ]),
        app.http.post(app.url("/oauth2/token")).form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client.client_id),
            ("client_secret", &secret),
        ]),
        app.http.post(app.url("/oauth2/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", &huge),
            ("client_id", &client.client_id),
            ("client_secret", &secret),
        ]),
        app.http.post(app.url("/oauth2/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", "a"),
            ("client_id", &huge),
            ("client_secret", &secret),
        ]),
        app.http
            .post(app.url("/oauth2/token"))
            .header("authorization", "Basic ".to_string() + &"A".repeat(4000))
            .form(&[("grant_type", "x")]),
        app.http.post(app.url("/oauth2/token")),
    ];
    for req in cases {
        let res = req.send().await.unwrap();
        let status = res.status();
        assert!(status.is_client_error(), "{status}");
        assert!(
            res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"),
            "{status}"
        );
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["error"].is_string(), "{body}");
    }
    assert_eq!(app.get("/.well-known/oauth-authorization-server", "").await.status(), 200, "still serving");
}

#[tokio::test]
async fn the_old_secret_works_only_within_its_grace_period() {
    let (app, cookie) = app_with_user().await;
    let mut client = app.add_client(|_| {}).await;
    let old = client.secret.clone().unwrap();
    let db = app.db_handle().await;
    let id = clavis::domain::client::ClientId::parse(&client.client_id).unwrap();
    let (_, new) =
        clavis::registry::regenerate_secret(&db, &id, clavis::domain::client::SecretGrace::OneHour)
            .await
            .unwrap();
    for secret in [old.clone(), new.expose().to_string()] {
        client.secret = Some(secret);
        app.tokens(&cookie, &client).await;
    }
    let (_, newest) =
        clavis::registry::regenerate_secret(&db, &id, clavis::domain::client::SecretGrace::None)
            .await
            .unwrap();
    db.close().await;
    for (secret, ok) in [(old, false), (new.expose().to_string(), false), (newest.expose().to_string(), true)]
    {
        client.secret = Some(secret);
        let (challenge, verifier) = pkce();
        let code = app.code_for(&cookie, &client, &challenge).await;
        let (status, _) = app.exchange(&client, &code, &verifier).await;
        assert_eq!(status.is_success(), ok, "{status}");
    }
}

#[tokio::test]
async fn refresh_count_limits_and_lifetimes_are_honoured() {
    let (app, cookie) = app_with_user().await;
    let none = app
        .add_client(|f| {
            f.refresh_count = "limit".into();
            f.refresh_count_limit = "0".into();
            f.access_lifetime = "never".into();
        })
        .await;
    let body = app.tokens(&cookie, &none).await;
    assert!(body.get("refresh_token").is_none(), "limit 0: no refresh token");
    assert!(body.get("expires_in").is_none(), "never expires: no expires_in");

    let once = app
        .add_client(|f| {
            f.refresh_count = "limit".into();
            f.refresh_count_limit = "1".into();
            f.access_lifetime = "custom".into();
            f.access_lifetime_secs = "300".into();
        })
        .await;
    let body = app.tokens(&cookie, &once).await;
    assert_eq!(body["expires_in"], 300);
    let (status, refreshed) = app.refresh(&once, str_of(&body, "refresh_token")).await;
    assert_eq!(status, 200);
    assert!(refreshed.get("refresh_token").is_none(), "the last allowed refresh gives no new refresh token");

    // Expired refresh tokens are refused.
    let client = app.add_client(|_| {}).await;
    let body = app.tokens(&cookie, &client).await;
    let db = app.db_handle().await;
    sqlx::query("UPDATE tokens SET expires_at = 1 WHERE kind = 'refresh'").execute(db.pool()).await.unwrap();
    db.close().await;
    let (status, err) = app.refresh(&client, str_of(&body, "refresh_token")).await;
    assert_eq!((status.as_u16(), str_of(&err, "error")), (400, "invalid_grant"));
}

/// Another client presenting a refresh token gets `invalid_grant`, and nothing it tried stays:
/// the token still rotates once for its owner, and the session's refresh count is unchanged.
#[tokio::test]
async fn another_clients_refresh_token_is_refused_and_left_as_it_was() {
    let (app, cookie) = app_with_user().await;
    let owner = app.add_client(|_| {}).await;
    let other = app.add_client(|_| {}).await;
    let body = app.tokens(&cookie, &owner).await;
    let refresh = str_of(&body, "refresh_token").to_string();
    for _ in 0..3 {
        let (status, err) = app.refresh(&other, &refresh).await;
        assert_eq!((status.as_u16(), str_of(&err, "error")), (400, "invalid_grant"), "{err}");
    }
    let db = app.db_handle().await;
    let (count, rotated): (i64, i64) = sqlx::query_as(
        "SELECT g.refresh_count, t.rotated FROM grants g JOIN tokens t ON t.grant_id = g.id WHERE t.kind = 'refresh'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    db.close().await;
    assert_eq!((count, rotated), (0, 0), "the other client's attempts left no trace");
    let (status, refreshed) = app.refresh(&owner, &refresh).await;
    assert_eq!(status, 200, "{refreshed}");
    let (status, _) = app.refresh(&owner, str_of(&refreshed, "refresh_token")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn refresh_may_narrow_the_scope_but_never_widen_it() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let body = app.tokens(&cookie, &client).await;
    let refresh = str_of(&body, "refresh_token").to_string();
    let (status, err) = app
        .client_post(
            "/oauth2/token",
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("scope", "read admin")],
        )
        .await;
    assert_eq!((status.as_u16(), str_of(&err, "error")), (400, "invalid_scope"));
    let (status, narrowed) = app
        .client_post(
            "/oauth2/token",
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("scope", "read")],
        )
        .await;
    assert_eq!(status, 200, "a refused scope leaves the refresh token usable: {narrowed}");
    assert_eq!(narrowed["scope"], "read");
    let access = str_of(&narrowed, "access_token");
    assert_eq!(app.api_get(access).await.status(), 200);
    assert_eq!(app.api_patch(access, r#"{"display_name": "x"}"#).await.status(), 403);
    // The new refresh token keeps the session's full scope.
    let (_, full) = app.refresh(&client, str_of(&narrowed, "refresh_token")).await;
    assert_eq!(full["scope"], "read write");
}

#[tokio::test]
async fn not_you_signs_out_and_returns_to_the_request() {
    let (app, cookie) = app_with_user().await;
    app.add_user("bob", false).await;
    let client = app.add_client(|_| {}).await;
    let (challenge, _) = pkce();
    let path = authorize_path(&client, &challenge, &[]);
    let form = app.consent_page(&cookie, &path).await;
    assert!(form.html.contains("Not alice? Sign in as someone else"));
    let at = form.html.find("action=\"/logout\"").expect("a sign-out form");
    let logout_form = &form.html[at..];
    let csrf = common::hidden_value(logout_form, "csrf").unwrap();
    let next = common::hidden_value(logout_form, "next").unwrap().replace("&amp;", "&");
    assert_eq!(next, path);
    let res = app
        .post_form_with(
            "/logout",
            &cookie,
            &[("sec-fetch-site", "same-origin")],
            &[("csrf", &csrf), ("next", &next)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert_eq!(query_param(&to, "next").as_deref(), Some(path.as_str()));
    assert_eq!(app.get(&path, &cookie).await.status(), 303, "alice is signed out");
    // A next that leaves the site is ignored.
    let bob = app.sign_in("bob").await;
    let html = app.consent_page(&bob, &path).await.html;
    let bob_csrf = common::hidden_value(&html[html.find("action=\"/logout\"").unwrap()..], "csrf").unwrap();
    let res = app
        .post_form_with(
            "/logout",
            &bob,
            &[("sec-fetch-site", "same-origin")],
            &[("csrf", &bob_csrf), ("next", "//evil.example/")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login");
}

#[tokio::test]
async fn a_browser_session_keeps_at_most_16_consent_screens_open() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let (challenge, verifier) = pkce();
    let path = authorize_path(&client, &challenge, &[]);
    let first = app.consent_page(&cookie, &path).await;
    let mut open = Vec::new();
    for _ in 0..20 {
        open.push(app.consent_page(&cookie, &path).await);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM authorization_requests").await, 16);
    // Another browser session has its own 16.
    let other = app.sign_in("alice").await;
    app.consent_page(&other, &path).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM authorization_requests").await, 17);
    // The newest screen works; the first was closed.
    let res = app.decide(&cookie, open.last().unwrap(), "allow").await;
    assert_eq!(res.status(), 303);
    let code = query_param(&location(&res), "code").unwrap();
    assert_eq!(app.exchange(&client, &code, &verifier).await.0, 200);
    let res = app.decide(&cookie, &first, "allow").await;
    assert_eq!(res.status(), 400, "closed when the 17th opened");
}

#[tokio::test]
async fn redirect_uri_may_be_left_out_when_the_client_has_only_one() {
    let (app, cookie) = app_with_user().await;
    let client = app.add_client(|_| {}).await;
    let (challenge, verifier) = pkce();
    let path = authorize_path(&client, &challenge, &[]);
    let without: String =
        path.split('&').filter(|p| !p.starts_with("redirect_uri=")).collect::<Vec<_>>().join("&");
    assert!(!without.contains("redirect_uri"));
    // Authorization without it: the code goes to the only registered URI.
    let form = app.consent_page(&cookie, &without).await;
    let res = app.decide(&cookie, &form, "allow").await;
    let to = location(&res);
    assert!(to.starts_with(&format!("{REDIRECT}?")), "{to}");
    let code = query_param(&to, "code").unwrap();
    // ... and the token request need not repeat it (RFC 6749 §4.1.3).
    let form =
        [("grant_type", "authorization_code"), ("code", code.as_str()), ("code_verifier", verifier.as_str())];
    let (status, body) = app.client_post("/oauth2/token", &client, &form).await;
    assert_eq!(status, 200, "{body}");
    // A wrong one is still refused.
    let form = app.consent_page(&cookie, &without).await;
    let code = query_param(&location(&app.decide(&cookie, &form, "allow").await), "code").unwrap();
    let wrong = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", verifier.as_str()),
        ("redirect_uri", "https://app.example.com/elsewhere"),
    ];
    let (status, body) = app.client_post("/oauth2/token", &client, &wrong).await;
    assert_eq!((status.as_u16(), str_of(&body, "error")), (400, "invalid_grant"), "{body}");
    // When the request did name it, the token request must repeat it.
    let code = app.code_for(&cookie, &client, &challenge).await;
    let form =
        [("grant_type", "authorization_code"), ("code", code.as_str()), ("code_verifier", verifier.as_str())];
    let (status, body) = app.client_post("/oauth2/token", &client, &form).await;
    assert_eq!((status.as_u16(), str_of(&body, "error")), (400, "invalid_grant"), "{body}");
    // A client with two redirect URIs gets the error page without one.
    let two = app.add_client(|f| f.redirect_uris = format!("{REDIRECT}\nhttps://app.example.com/two")).await;
    let path = authorize_path(&two, &challenge, &[]);
    let without: String =
        path.split('&').filter(|p| !p.starts_with("redirect_uri=")).collect::<Vec<_>>().join("&");
    let res = app.get(&without, &cookie).await;
    assert_eq!(res.status(), 400);
    assert!(location(&res).is_empty());
}
