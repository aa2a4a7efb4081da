//! README: "Query strings, headers and bodies are never logged (they carry codes, tokens and
//! passwords)." The real binary serves a whole flow with its default log settings; everything it
//! writes is searched for every secret that passed through it.

mod common;

use common::{
    PASSWORD, TestApp, TestDb,
    oauth::{STATE, authorize_path, pkce, query_param, str_of},
    server::Server,
};

#[tokio::test]
async fn a_whole_flow_leaves_no_secret_in_the_log() {
    let db = TestDb::fresh().await;
    let url = db.url.clone();
    let (server, addr) = Server::start(&url);
    let app = TestApp::attach(addr, db);
    app.add_user("alice", false).await;

    // Everything secret that crosses the wire below.
    let mut secrets: Vec<String> = vec![PASSWORD.into(), STATE.into()];
    let wrong_password = "wrong-password-0123";
    secrets.push(wrong_password.into());
    let res = app.sign_in_response("alice", wrong_password, None).await;
    assert_eq!(res.status(), 303);
    let (csrf_cookie, csrf) = app.login_form().await;
    secrets.push(csrf);
    secrets.push(csrf_cookie.trim_start_matches("clavis_csrf=").into());
    let cookie = app.sign_in("alice").await;
    secrets.push(cookie.trim_start_matches("clavis_session=").into());

    let client = app.add_client(|_| {}).await;
    secrets.push(client.secret.clone().unwrap());
    let (challenge, verifier) = pkce();
    let consent = app.consent_page(&cookie, &authorize_path(&client, &challenge, &[])).await;
    secrets.extend([consent.request.clone(), consent.csrf.clone(), challenge, verifier.clone()]);
    let res = app.decide(&cookie, &consent, "allow").await;
    assert_eq!(res.status(), 303);
    let code = query_param(&common::location(&res), "code").expect("code");
    secrets.push(code.clone());
    let (status, tokens) = app.exchange(&client, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let (access, refresh) = (str_of(&tokens, "access_token"), str_of(&tokens, "refresh_token"));
    secrets.extend([access.to_string(), refresh.to_string()]);
    assert_eq!(app.api_get(access).await.status(), 200);
    let res = app.http.get(app.url(&format!("/api/v1/me?access_token={access}"))).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let (status, refreshed) = app.refresh(&client, refresh).await;
    assert_eq!(status, 200, "{refreshed}");
    let new_access = str_of(&refreshed, "access_token");
    secrets.extend([new_access.to_string(), str_of(&refreshed, "refresh_token").to_string()]);
    let (status, info) = app.client_post("/oauth2/introspect", &client, &[("token", new_access)]).await;
    assert_eq!((status.as_u16(), &info["active"]), (200, &serde_json::json!(true)));
    // Failures log too: a replayed code, a reused refresh token, a wrong client secret.
    assert_eq!(app.exchange(&client, &code, &verifier).await.0, 400);
    assert_eq!(app.refresh(&client, refresh).await.0, 400);
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", &client.client_id),
        ])
        .basic_auth(&client.client_id, Some("not-the-secret-4567"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a wrong secret");
    secrets.push("not-the-secret-4567".into());
    let res = app.client_post_raw("/oauth2/revoke", &client, &[("token", new_access)]).await;
    assert_eq!(res.status(), 200);

    let log = server.stop();
    // The log is there: one line per request, with path and status.
    assert!(log.contains("/oauth2/token") && log.contains("status=200"), "{log}");
    assert!(log.contains("/api/v1/me") && log.contains("status=400"), "{log}");
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "the log contains {secret:?}:\n{log}");
    }
    for query_or_header in ["?", "authorization", "cookie", "client_secret", "code_verifier"] {
        assert!(
            !log.to_lowercase().contains(query_or_header),
            "the log contains {query_or_header:?}:\n{log}"
        );
    }
}

#[tokio::test]
async fn json_lines_carry_the_request_id() {
    let db = TestDb::fresh().await;
    let url = db.url.clone();
    let (server, addr) = Server::start_with(&url, &[("CLAVIS_LOG_FORMAT", "json")]);
    let app = TestApp::attach(addr, db);
    let res = app.http.get(app.url("/healthz")).header("x-request-id", "probe-42").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "probe-42", "kept from the proxy");
    let res = app.http.get(app.url("/healthz")).header("x-request-id", "bad id!").send().await.unwrap();
    let fresh = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(!fresh.is_empty() && fresh != "bad id!", "an unsafe id is replaced: {fresh}");
    let other = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), fresh, "each request its own");

    let log = server.stop();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let probe = lines
        .iter()
        .find(|l| l["span"]["request_id"] == "probe-42")
        .unwrap_or_else(|| panic!("no line with request_id probe-42:\n{log}"));
    assert_eq!(probe["span"]["path"], "/healthz");
    assert_eq!(probe["fields"]["status"], 200);
    assert!(lines.iter().any(|l| l["span"]["request_id"] == fresh.as_str()), "{log}");
}

#[test]
fn an_unknown_log_format_is_refused_naming_the_variable() {
    let out = std::process::Command::new(common::bin())
        .args(["settings"])
        .env("CLAVIS_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CLAVIS_LOG_FORMAT"), "{:?}", out);
}
