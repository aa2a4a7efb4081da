//! Driving the OAuth flow over HTTP the way a browser and a client application do.

use clavis::{db::Db, domain::client::ClientForm, registry};
use oauth2::PkceCodeChallenge;
use reqwest::{Response, StatusCode, header};
use serde_json::Value;

use super::{TestApp, hidden_value, location};

pub const REDIRECT: &str = "https://app.example.com/callback";
pub const STATE: &str = "st-123";

pub struct TestClient {
    pub client_id: String,
    pub secret: Option<String>,
    pub redirect: String,
    pub method: String,
}

impl TestApp {
    /// The built-in API's identifier on this app.
    pub fn builtin(&self) -> clavis::domain::api::ApiIdentifier {
        clavis::domain::api::ApiIdentifier::builtin(&self.base)
    }

    /// The authorization server metadata (RFC 8414) as served now.
    pub async fn as_metadata(&self) -> Value {
        let url = self.url("/.well-known/oauth-authorization-server");
        self.http.get(url).send().await.expect("metadata").json().await.expect("JSON metadata")
    }

    pub async fn db_handle(&self) -> Db {
        Db::connect(&self.db.url).await.expect("connect")
    }

    /// Registers a client as an administrator would; `edit` changes the defaults.
    pub async fn add_client(&self, edit: impl FnOnce(&mut ClientForm)) -> TestClient {
        let mut form =
            ClientForm { name: "Test App".into(), redirect_uris: REDIRECT.into(), ..ClientForm::default() };
        edit(&mut form);
        let db = self.db_handle().await;
        let (client, secret) =
            registry::create(&db, &form, &self.builtin()).await.expect("client registered");
        db.close().await;
        TestClient {
            client_id: client.client_id.as_str().to_string(),
            secret: secret.map(|s| s.expose().to_string()),
            redirect: form.redirect_uris.lines().next().unwrap_or_default().to_string(),
            method: form.auth_method.clone(),
        }
    }
}

pub fn pkce() -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    (challenge.as_str().to_string(), verifier.secret().to_string())
}

/// `/oauth2/authorize?...` with the usual parameters; `extra` pairs are appended.
pub fn authorize_path(client: &TestClient, challenge: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", client.redirect.as_str()),
        ("state", STATE),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    format!("/oauth2/authorize?{}", serde_urlencoded::to_string(&pairs).unwrap())
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

pub struct ConsentForm {
    pub html: String,
    pub request: String,
    pub csrf: String,
}

impl TestApp {
    /// Opens the consent page of `path` (an authorize URL) as the signed-in browser.
    pub async fn consent_page(&self, cookie: &str, path: &str) -> ConsentForm {
        let res = self.get(path, cookie).await;
        assert_eq!(res.status(), 200, "consent page for {path}");
        let html = res.text().await.unwrap();
        let request = hidden_value(&html, "request").expect("request field");
        let csrf = hidden_value(&html, "csrf").expect("csrf field");
        ConsentForm { html, request, csrf }
    }

    /// Posts a consent decision the way the browser does from our own page.
    pub async fn decide(&self, cookie: &str, form: &ConsentForm, decision: &str) -> Response {
        self.post_form_with(
            "/oauth2/authorize",
            cookie,
            &[("sec-fetch-site", "same-origin"), ("origin", "null")],
            &[("request", &form.request), ("csrf", &form.csrf), ("decision", decision)],
        )
        .await
    }

    /// Authorize, consent, Allow: the code from the redirect.
    pub async fn code_for(&self, cookie: &str, client: &TestClient, challenge: &str) -> String {
        let form = self.consent_page(cookie, &authorize_path(client, challenge, &[])).await;
        let res = self.decide(cookie, &form, "allow").await;
        assert_eq!(res.status(), 303);
        let to = location(&res);
        assert!(to.starts_with(&client.redirect), "{to}");
        assert_eq!(query_param(&to, "state").as_deref(), Some(STATE));
        assert_eq!(query_param(&to, "iss").as_deref(), Some(self.base.as_str()));
        query_param(&to, "code").expect("code")
    }

    /// POST /oauth2/token (or another endpoint) with the client's own authentication method.
    pub async fn client_post(
        &self,
        path: &str,
        client: &TestClient,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let res = self.client_post_raw(path, client, form).await;
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn client_post_raw(&self, path: &str, client: &TestClient, form: &[(&str, &str)]) -> Response {
        let mut pairs: Vec<(&str, &str)> = form.to_vec();
        let mut req = self.http.post(self.url(path));
        match client.method.as_str() {
            "client_secret_basic" => {
                req = req.basic_auth(&client.client_id, client.secret.as_deref());
            }
            "client_secret_post" => {
                pairs.push(("client_id", &client.client_id));
                pairs.push(("client_secret", client.secret.as_deref().unwrap()));
            }
            _ => pairs.push(("client_id", &client.client_id)),
        }
        req.form(&pairs).send().await.expect("POST")
    }

    /// Exchanges `code` at the token endpoint with the client's redirect URI.
    pub async fn exchange(&self, client: &TestClient, code: &str, verifier: &str) -> (StatusCode, Value) {
        self.client_post("/oauth2/token", client, &exchange_form(client, code, verifier)).await
    }

    /// The whole flow: a token response (status 200 asserted).
    pub async fn tokens(&self, cookie: &str, client: &TestClient) -> Value {
        let (challenge, verifier) = pkce();
        let code = self.code_for(cookie, client, &challenge).await;
        let (status, body) = self.exchange(client, &code, &verifier).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn refresh(&self, client: &TestClient, refresh_token: &str) -> (StatusCode, Value) {
        self.client_post(
            "/oauth2/token",
            client,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)],
        )
        .await
    }

    pub async fn api_get(&self, access_token: &str) -> Response {
        self.http
            .get(self.url("/api/v1/me"))
            .header(header::AUTHORIZATION, format!("Bearer {access_token}"))
            .send()
            .await
            .expect("GET /api/v1/me")
    }

    pub async fn api_patch(&self, access_token: &str, body: &str) -> Response {
        self.http
            .patch(self.url("/api/v1/me"))
            .header(header::AUTHORIZATION, format!("Bearer {access_token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("PATCH /api/v1/me")
    }

    /// Every text and byte value stored in `tables` (bytes decoded lossily), one per line: to
    /// search for a secret that should never be stored in clear.
    pub async fn stored_text(&self, tables: &[&str]) -> String {
        use sqlx::Row;
        let db = self.db_handle().await;
        let mut out = String::new();
        for table in tables {
            let rows =
                sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(db.pool()).await.expect("rows");
            for row in rows {
                for i in 0..row.len() {
                    if let Ok(text) = row.try_get::<String, _>(i) {
                        out.push_str(&text);
                    } else if let Ok(bytes) = row.try_get::<Vec<u8>, _>(i) {
                        out.push_str(&String::from_utf8_lossy(&bytes));
                    }
                    out.push('\n');
                }
            }
        }
        db.close().await;
        out
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let db = self.db_handle().await;
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(db.pool()).await.expect("count");
        db.close().await;
        n
    }
}

/// The form of a code exchange, with the client's redirect URI.
pub fn exchange_form<'a>(
    client: &'a TestClient,
    code: &'a str,
    verifier: &'a str,
) -> [(&'static str, &'a str); 4] {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", client.redirect.as_str()),
        ("code_verifier", verifier),
    ]
}

pub fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}
