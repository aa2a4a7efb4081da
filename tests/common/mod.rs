//! Test harness: the real application on port 0 with a fresh database of its own.
//!
//! The backend comes from `CLAVIS_TEST_POSTGRES_URL`: unset, each test gets an SQLite file in a
//! temporary folder; set, each test gets a new database on that Postgres server, and a server that
//! cannot be reached fails the test (it never skips).
#![allow(dead_code)]

use std::{net::SocketAddr, path::PathBuf};

use clavis::{config::Settings, db::Db, startup::Application};
use reqwest::{Client, Response, header};

pub mod cli;
pub mod oauth;
pub mod registry;
pub mod server;

pub const PASSWORD: &str = "correct horse battery";

/// One multi-thread runtime serves every test app in this process, as one runtime serves all
/// requests in production; each test's own runtime only drives its HTTP client. (Intermittent hung
/// renders in these tests came from generating the route list once per app: see
/// `startup::routes`.)
fn server_runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("test-server")
            .build()
            .expect("server runtime")
    })
}

pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn fresh() -> Self {
        match std::env::var("CLAVIS_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty()) {
            Some(admin_url) => Self::postgres(&admin_url).await,
            None => Self::sqlite(),
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("clavis.db").display());
        Self { url, _dir: Some(dir) }
    }

    /// A new, empty database on the server behind `admin_url`.
    pub async fn postgres(admin_url: &str) -> Self {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("Postgres at CLAVIS_TEST_POSTGRES_URL is unreachable: {e}"));
        let name = format!("clavis_t_{}", random_hex());
        conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create database");
        let _ = conn.close().await;
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
        Self { url: format!("{base}/{name}"), _dir: None }
    }

    /// A database another handle made (and keeps).
    pub fn at(url: &str) -> Self {
        Self { url: url.to_string(), _dir: None }
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }
}

pub fn random_hex() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("rng");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub db: TestDb,
    pub http: Client,
    /// The app's cookie names (`__Host-` ones when its issuer is https).
    pub cookies: clavis::auth::cookie::Names,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_on(TestDb::fresh().await, tweak).await
    }

    /// A second instance (a server of its own, with its own pool) on this app's database.
    pub async fn another_instance(&self) -> Self {
        Self::spawn_on(TestDb::at(&self.db.url), |_| {}).await
    }

    async fn spawn_on(db: TestDb, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings::from_lookup(|k| match k {
            "DATABASE_URL" => Some(db.url.clone()),
            "LEPTOS_SITE_ADDR" => Some("127.0.0.1:0".into()),
            _ => None,
        })
        .expect("settings");
        tweak(&mut settings);
        let cookies = clavis::auth::cookie::names(settings.issuer.as_ref().is_some_and(|i| i.is_https()));
        // The app is built and served on the one server runtime (see `server_runtime`).
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        server_runtime().spawn(async move {
            let app = Application::build(settings).await.expect("app builds");
            let _ = started_tx.send(app.addr());
            let _ = app
                .run_until(async {
                    let _ = rx.await;
                })
                .await;
        });
        let addr = started_rx.await.expect("the app started");
        let mut app = Self::attach(addr, db);
        app.shutdown = Some(tx);
        app.cookies = cookies;
        app
    }

    /// A handle on a server that runs elsewhere (a `clavis serve` child process) at `addr`.
    pub fn attach(addr: SocketAddr, db: TestDb) -> Self {
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A stuck request fails the test with its URL instead of hanging the run.
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("http client");
        Self {
            addr,
            base: format!("http://{addr}"),
            db,
            http,
            cookies: clavis::auth::cookie::names(false),
            shutdown: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a user straight through the data layer, as `clavis user add` does.
    pub async fn add_user(&self, username: &str, admin: bool) {
        let db = Db::connect(&self.db.url).await.expect("connect");
        let hash =
            clavis::auth::password::hash(clavis::domain::Password::parse_new(PASSWORD.into()).unwrap())
                .await
                .expect("hash");
        let role = if admin { clavis::domain::Role::Admin } else { clavis::domain::Role::User };
        db.insert_user(&clavis::domain::Username::parse(username).unwrap(), &hash, role)
            .await
            .expect("insert user");
        db.close().await;
    }

    pub async fn get(&self, path: &str, cookies: &str) -> Response {
        let mut req = self.http.get(self.url(path));
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies);
        }
        req.send().await.expect("GET")
    }

    pub async fn post_form(&self, path: &str, cookies: &str, form: &[(&str, &str)]) -> Response {
        self.post_form_with(path, cookies, &[], form).await
    }

    /// `post_form` with extra request headers (what a browser adds: Origin, Sec-Fetch-Site).
    pub async fn post_form_with(
        &self,
        path: &str,
        cookies: &str,
        headers: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> Response {
        let mut req = self.http.post(self.url(path)).form(form);
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.expect("POST")
    }

    /// Loads the sign-in page like a browser: returns the CSRF cookie pair and the form's token.
    pub async fn login_form(&self) -> (String, String) {
        let res = self.get("/login", "").await;
        assert_eq!(res.status(), 200);
        let name = self.cookies.login_csrf;
        let cookie = set_cookie(&res, name).expect("sign-in CSRF cookie");
        let body = res.text().await.expect("body");
        let token = hidden_value(&body, "csrf").expect("csrf field in the form");
        assert_eq!(cookie, token, "double-submit token matches its cookie");
        (format!("{name}={cookie}"), token)
    }

    /// Signs in through the real form; returns the response (a 303) for the caller to inspect.
    pub async fn sign_in_response(&self, username: &str, password: &str, next: Option<&str>) -> Response {
        let (cookie, token) = self.login_form().await;
        let mut form = vec![("username", username), ("password", password), ("csrf", token.as_str())];
        if let Some(n) = next {
            form.push(("next", n));
        }
        self.post_form("/login", &cookie, &form).await
    }

    /// Signs in and returns the `Cookie` header value a browser would now send.
    pub async fn sign_in(&self, username: &str) -> String {
        let res = self.sign_in_response(username, PASSWORD, None).await;
        assert_eq!(res.status(), 303);
        let name = self.cookies.session;
        let session = set_cookie(&res, name).expect("session cookie");
        format!("{name}={session}")
    }
}

/// The value a response sets for cookie `name`.
pub fn set_cookie(res: &Response, name: &str) -> Option<String> {
    set_cookie_header(res, name)
        .and_then(|h| h.split(';').next().and_then(|p| p.split_once('=')).map(|(_, v)| v.to_string()))
}

/// The whole `Set-Cookie` header for `name` (to check its attributes).
pub fn set_cookie_header(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

pub fn location(res: &Response) -> String {
    res.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// The `value` of `<input ... name="{name}" value="...">` in server-rendered HTML.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + 7;
    let end = tag[v..].find('"')?;
    Some(tag[v..v + end].to_string())
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_clavis"))
}
