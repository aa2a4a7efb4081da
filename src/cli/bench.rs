//! `clavis bench`: starts this binary as a server on a fresh database (SQLite, or a new database
//! on a Postgres server), seeds it, drives each hot path over loopback with N connections and
//! prints requests a second, latency percentiles and the server's CPU time per request, the admin
//! client search at large client counts, the server's memory and the browser bundle's size.
//!
//! It measures; it asserts nothing: speed goals live here, not in timed tests. Every response is
//! still checked (a load that gets errors reports them, and the command then fails), so a fast
//! wrong answer is never counted.

use std::{
    future::Future,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::CliError;
use crate::{
    auth::{password, token},
    db::{Backend, Db, now_unix, oauth::CodeRow},
    domain::{
        Password, Role, Scope, Username,
        api::{ApiForm, ApiIdentifier, ApiSet},
        client::{ClientForm, ListQuery},
    },
    registry,
};

const REDIRECT: &str = "https://bench.example.com/callback";
const API: &str = "https://bench.example.com/api";

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Concurrent connections (virtual clients) driving each load.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds each load runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Authorization codes seeded for the code-exchange load (it ends early when they run out).
    #[arg(long, default_value_t = 30_000)]
    codes: usize,
    /// Run on a new database on this Postgres server (e.g. postgres://postgres@127.0.0.1:5432/test;
    /// the database is created and dropped) instead of a new SQLite file.
    #[arg(long)]
    postgres: Option<String>,
    /// Client counts at which the admin search is measured, comma-separated (`0`: skip).
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
    search_at: Vec<u64>,
    /// The built site (for the bundle's size).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    site_root: PathBuf,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    database: &'static str,
    machine: Machine,
    connections: usize,
    seconds: u64,
    loads: Vec<Load>,
    search: Vec<Search>,
    rss_idle_kib: u64,
    rss_peak_kib: u64,
    bundle: Bundle,
}

#[derive(Serialize)]
struct Machine {
    cpu: String,
    cores: usize,
}

#[derive(Serialize)]
struct Load {
    name: &'static str,
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    req_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The server's user + system CPU time per request.
    server_cpu_ms: f64,
}

#[derive(Serialize)]
struct Search {
    clients: u64,
    queries: usize,
    p50_ms: f64,
    p95_ms: f64,
    /// The slowest search typed, and its time.
    slowest: (String, f64),
    /// Each search typed, and its slowest time over the measured rounds.
    each: Vec<(String, f64)>,
}

#[derive(Serialize, Default)]
struct Bundle {
    /// The WASM every page loads first (`clavis….wasm`).
    wasm_bytes: Option<u64>,
    wasm_gzip_bytes: Option<u64>,
    wasm_brotli_bytes: Option<u64>,
    /// The pages' own WASM files, loaded when a page is first shown (`cargo leptos --split`).
    lazy_wasm_files: usize,
    lazy_wasm_bytes: u64,
    lazy_wasm_brotli_bytes: u64,
    /// What each page's first visit downloads, heaviest first: the shared WASM and the page's own
    /// files (the split build's `__wasm_split_manifest` lists them).
    pages: Vec<PageWasm>,
}

#[derive(Serialize)]
struct PageWasm {
    /// The page's split point, e.g. `client_detail_route_view` (its hash left off).
    split: String,
    /// The page's own files and their size as sent (brotli).
    files: usize,
    own_brotli_bytes: u64,
    /// With the shared WASM: the first visit's WASM as sent.
    first_visit_brotli_bytes: u64,
}

fn fault(e: impl std::fmt::Display) -> CliError {
    CliError::Fault(e.to_string())
}

pub async fn run(args: BenchArgs) -> Result<(), CliError> {
    if args.connections == 0 || args.seconds == 0 {
        return Err(CliError::Input("--connections and --seconds: must be at least 1".into()));
    }
    let dir = std::env::temp_dir().join(format!("clavis-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(fault)?;
    let url = match &args.postgres {
        None => format!("sqlite://{}", dir.join("bench.db").display()),
        Some(admin) => create_postgres_database(admin).await?,
    };
    let result = bench(&args, &dir, &url).await;
    if let Some(admin) = &args.postgres {
        drop_postgres_database(admin, &url).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let report = result?;
    print_table(&report);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).map_err(fault)?;
        std::fs::write(path, text + "\n").map_err(|e| fault(format!("{}: {e}", path.display())))?;
        println!("\nJSON written to {}", path.display());
    }
    let failed: Vec<&str> = report.loads.iter().filter(|l| l.errors > 0).map(|l| l.name).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Fault(format!("requests failed in: {}", failed.join(", "))))
    }
}

struct Seed {
    client_id: String,
    secret: String,
    api_id: String,
    api_secret: String,
    codes: Vec<(String, String)>,
}

async fn bench(args: &BenchArgs, dir: &Path, url: &str) -> Result<Report, CliError> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(fault)?.port();
    let base = format!("http://127.0.0.1:{port}");
    println!(
        "seeding {} ({} codes)…",
        if args.postgres.is_some() { "Postgres" } else { "SQLite" },
        args.codes
    );
    let db = Db::connect(url).await?;
    db.migrate().await?;
    let admin_password = token::random_token();
    let seed = seed(&db, &base, &admin_password, args.codes).await?;
    let backend = db.backend();

    let server = Server::start(dir, url, port, &args.site_root)?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(args.connections)
        .build()
        .map_err(fault)?;
    server.wait_ready(&http, &base).await?;
    let rss_idle_kib = server.status_kib("VmRSS:");
    let secs = Duration::from_secs(args.seconds);
    let n = args.connections;
    let mut loads = Vec::new();

    // Code exchange: each connection redeems its share of the seeded codes.
    // The (access, refresh) pairs issued, for the loads after this one.
    let issued: Arc<std::sync::Mutex<Vec<Pair>>> = Arc::default();
    let shares = split(seed.codes.clone(), n);
    let token_url = format!("{base}/oauth2/token");
    let (load, _) = drive("code exchange", &server, n, secs, shares, {
        let (http, url, id, secret, issued) =
            (http.clone(), token_url.clone(), seed.client_id.clone(), seed.secret.clone(), issued.clone());
        move |mut codes: Vec<Pair>| {
            let (http, url, id, secret, issued) =
                (http.clone(), url.clone(), id.clone(), secret.clone(), issued.clone());
            async move {
                let Some((code, verifier)) = codes.pop() else { return Ok(None) };
                let form = [
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                    ("client_id", &id),
                    ("client_secret", &secret),
                ];
                let body = post_form(&http, &url, &form).await?;
                let pair = (field(&body, "access_token")?, field(&body, "refresh_token")?);
                issued.lock().map_err(|e| e.to_string())?.push(pair);
                Ok(Some(codes))
            }
        }
    })
    .await;
    loads.push(load);
    let issued: Vec<Pair> = issued.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default();
    if issued.len() < n {
        return Err(fault(format!(
            "only {} code exchanges succeeded; the other loads need {n}",
            issued.len()
        )));
    }

    // Refresh: each connection rotates its own chain (distinct sessions).
    let chains: Vec<String> = issued.iter().rev().take(n).map(|(_, r)| r.clone()).collect();
    let (load, _) = drive("refresh (rotating chains)", &server, n, secs, chains, {
        let (http, url, id, secret) =
            (http.clone(), token_url.clone(), seed.client_id.clone(), seed.secret.clone());
        move |refresh: String| {
            let (http, url, id, secret) = (http.clone(), url.clone(), id.clone(), secret.clone());
            async move {
                let form = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh),
                    ("client_id", &id),
                    ("client_secret", &secret),
                ];
                let body = post_form(&http, &url, &form).await?;
                Ok(Some(field(&body, "refresh_token")?))
            }
        }
    })
    .await;
    loads.push(load);

    let access: Arc<Vec<String>> = Arc::new(issued.iter().take(1000).map(|(a, _)| a.clone()).collect());
    let cursors: Vec<usize> = (0..n).collect();
    let introspect_url = format!("{base}/oauth2/introspect");
    for (name, who, secret) in [
        ("introspection (by the client)", &seed.client_id, &seed.secret),
        ("introspection (by an API)", &seed.api_id, &seed.api_secret),
    ] {
        let (load, _) = drive(name, &server, n, secs, cursors.clone(), {
            let (http, url, id, secret, access) =
                (http.clone(), introspect_url.clone(), who.clone(), secret.clone(), access.clone());
            move |i: usize| {
                let (http, url, id, secret, access) =
                    (http.clone(), url.clone(), id.clone(), secret.clone(), access.clone());
                async move {
                    let form = [
                        ("token", access[i % access.len()].as_str()),
                        ("client_id", &id),
                        ("client_secret", &secret),
                    ];
                    let body = post_form(&http, &url, &form).await?;
                    if body.get("active") != Some(&Value::Bool(true)) {
                        return Err(format!("token not active: {body}"));
                    }
                    Ok(Some(i + n))
                }
            }
        })
        .await;
        loads.push(load);
    }

    let me_url = format!("{base}/api/v1/me");
    let (load, _) = drive("GET /api/v1/me", &server, n, secs, cursors, {
        let (http, url, access) = (http.clone(), me_url, access.clone());
        move |i: usize| {
            let (http, url, access) = (http.clone(), url.clone(), access.clone());
            async move {
                let res = http
                    .get(&url)
                    .bearer_auth(&access[i % access.len()])
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if res.status() != 200 {
                    return Err(format!("GET /api/v1/me: {}", res.status()));
                }
                res.bytes().await.map_err(|e| e.to_string())?;
                Ok(Some(i + n))
            }
        }
    })
    .await;
    loads.push(load);
    let rss_peak_kib = server.status_kib("VmHWM:");

    let mut search = Vec::new();
    let sizes: Vec<u64> = args.search_at.iter().copied().filter(|&s| s > 0).collect();
    if !sizes.is_empty() {
        let cookie = sign_in(&http, &base, &admin_password).await?;
        let mut have = 1; // the bench's own client
        for size in sizes {
            if size > have {
                println!("seeding {size} clients…");
                add_clients(&db, backend, have, size).await?;
                have = size;
            }
            search.push(measure_search(&http, &base, &cookie, size).await?);
        }
    }
    drop(server);
    db.close().await;
    Ok(Report {
        database: if args.postgres.is_some() { "postgres" } else { "sqlite" },
        machine: machine(),
        connections: n,
        seconds: args.seconds,
        loads,
        search,
        rss_idle_kib,
        rss_peak_kib,
        bundle: bundle(&args.site_root),
    })
}

/// The admin, users (ten codes each, the session cap), a client, an API, and the codes with
/// their PKCE verifiers.
async fn seed(db: &Db, base: &str, admin_password: &str, codes: usize) -> Result<Seed, CliError> {
    let builtin = ApiIdentifier::builtin(base);
    let hash = password::hash(Password::parse_new(admin_password.to_string()).map_err(fault)?)
        .await
        .map_err(fault)?;
    db.insert_user(&Username::parse("bench-admin").map_err(fault)?, &hash, Role::Admin).await?;
    let form = ClientForm {
        name: "Bench app".into(),
        redirect_uris: REDIRECT.into(),
        consent: false,
        ..ClientForm::default()
    };
    let (client, secret) = registry::create(db, &form, &builtin).await.map_err(fault)?;
    let secret = secret.ok_or_else(|| fault("the bench client has no secret"))?.expose().to_string();
    let api_form = ApiForm { name: "Bench API".into(), identifier: API.into(), description: String::new() };
    let (api_pk, api, api_secret) = registry::apis::create(db, &api_form, &builtin).await.map_err(fault)?;
    let api_id = api.client_id.ok_or_else(|| fault("the bench API has no credentials"))?.to_string();
    let client_pk = db
        .find_stored_client(client.client_id.as_str())
        .await?
        .ok_or_else(|| fault("the bench client vanished"))?
        .pk;
    let mut users = Vec::new();
    for i in 0..codes.div_ceil(10) {
        let name = Username::parse(&format!("bench-user-{i}")).map_err(fault)?;
        users.push(db.insert_user(&name, &hash, Role::User).await?);
    }
    let expires_at = now_unix() + 3600;
    let mut plain = Vec::with_capacity(codes);
    let mut rows = Vec::with_capacity(codes);
    for i in 0..codes {
        // As the authorization endpoint makes them.
        let (code, verifier) = (token::ordered_token(token::now_micros()), token::random_token());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        rows.push((
            token::digest(&code),
            CodeRow {
                client_pk,
                user_id: users[i / 10],
                redirect_uri: REDIRECT.into(),
                redirect_uri_sent: true,
                scope: Scope::ALL,
                code_challenge: Some(challenge),
                expires_at,
                audience: ApiSet::new([ApiSet::BUILTIN, api_pk]),
            },
        ));
        plain.push((code, verifier));
    }
    for chunk in rows.chunks(5000) {
        db.insert_codes(chunk).await?;
    }
    Ok(Seed {
        client_id: client.client_id.to_string(),
        secret,
        api_id,
        api_secret: api_secret.expose().to_string(),
        codes: plain,
    })
}

/// Copies of the bench's client up to `to` clients, named "Bench client N" (in one statement
/// per 100,000).
async fn add_clients(db: &Db, backend: Backend, from: u64, to: u64) -> Result<(), CliError> {
    let columns = "redirect_uris, auth_method, require_pkce, scope, description, version, \
                   access_lifetime_secs, refresh_lifetime_secs, refresh_count_limit, consent, rate_limit, active, \
                   secret_digest, secret_last4, secret_created_at, created_at, updated_at, refresh_reuse_grace_secs, \
                   origin, apis, client_credentials";
    let text = match backend {
        Backend::Sqlite => "n.i",
        Backend::Postgres => "CAST(n.i AS TEXT)",
    };
    let mut start = from;
    while start < to {
        let end = (start + 100_000).min(to);
        let sql = format!(
            "WITH RECURSIVE n(i) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
             INSERT INTO clients (client_id, name, name_key, {columns}) \
             SELECT 'bench-' || {text}, 'Bench client ' || {text}, 'bench client ' || {text}, {columns} \
             FROM clients c CROSS JOIN n WHERE c.name = 'Bench app'"
        );
        let mut tx = db.pool().begin().await.map_err(fault)?;
        sqlx::query(&sql)
            .bind(i64::try_from(start).map_err(fault)?)
            .bind(i64::try_from(end - 1).map_err(fault)?)
            .execute(&mut *tx)
            .await
            .map_err(fault)?;
        tx.commit().await.map_err(fault)?;
        start = end;
    }
    if backend == Backend::Postgres {
        sqlx::query("ANALYZE clients").execute(db.pool()).await.map_err(fault)?;
    }
    Ok(())
}

/// As-you-type searches (each keystroke a request), one at a time, as an administrator types.
async fn measure_search(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    clients: u64,
) -> Result<Search, CliError> {
    let typed =
        ["b", "be", "ben", "bench c", "client 4", "client 42", "client 4242", "42", "9999", "nomatch", "app"];
    let url = format!("{base}/api/clients/list");
    let mut times = Vec::new();
    let mut slowest: Option<(&str, Duration)> = None;
    let mut each: Vec<(&str, Duration)> = Vec::new();
    for round in 0..3 {
        for text in typed {
            let query = ListQuery { search: text.to_string(), ..ListQuery::default() };
            let body = serde_json::to_vec(&serde_json::json!({ "query": query })).map_err(fault)?;
            let t = Instant::now();
            let res = http
                .post(&url)
                .header("cookie", cookie)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(fault)?;
            let status = res.status();
            let bytes = res.bytes().await.map_err(fault)?;
            if status != 200 {
                return Err(fault(format!("search {text:?}: {status} {}", String::from_utf8_lossy(&bytes))));
            }
            if round > 0 {
                let took = t.elapsed();
                match each.iter_mut().find(|(t, _)| *t == text) {
                    Some((_, d)) => *d = (*d).max(took),
                    None => each.push((text, took)),
                }
                if slowest.as_ref().is_none_or(|(_, d)| took > *d) {
                    slowest = Some((text, took));
                }
                times.push(took);
            }
        }
    }
    times.sort();
    let slowest = slowest.map_or((String::new(), 0.0), |(t, d)| (t.to_string(), ms(d)));
    Ok(Search {
        clients,
        slowest,
        queries: times.len(),
        p50_ms: ms(percentile(&times, 50.0)),
        p95_ms: ms(percentile(&times, 95.0)),
        each: each.into_iter().map(|(t, d)| (t.to_string(), ms(d))).collect(),
    })
}

async fn sign_in(http: &reqwest::Client, base: &str, password: &str) -> Result<String, CliError> {
    let res = http.get(format!("{base}/login")).send().await.map_err(fault)?;
    let csrf_cookie =
        cookie_pair(&res, "clavis_csrf").ok_or_else(|| fault("sign-in page set no CSRF cookie"))?;
    let csrf = csrf_cookie.split_once('=').map(|(_, v)| v.to_string()).unwrap_or_default();
    let res = http
        .post(format!("{base}/login"))
        .header("cookie", &csrf_cookie)
        .form(&[("username", "bench-admin"), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .map_err(fault)?;
    cookie_pair(&res, "clavis_session").ok_or_else(|| fault(format!("sign-in failed: {}", res.status())))
}

fn cookie_pair(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|p| p.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

async fn post_form(http: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Result<Value, String> {
    let res = http.post(url).form(form).send().await.map_err(|e| e.to_string())?;
    let status = res.status();
    let bytes = res.bytes().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("{url}: {status} {}", String::from_utf8_lossy(&bytes)));
    }
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

fn field(body: &Value, name: &str) -> Result<String, String> {
    body.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| format!("no {name} in {body}"))
}

/// (code, PKCE verifier), or (access token, refresh token).
type Pair = (String, String);

/// `items` dealt out to `n` connections.
fn split(items: Vec<Pair>, n: usize) -> Vec<Vec<Pair>> {
    let mut shares: Vec<Vec<Pair>> = (0..n).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        shares[i % n].push(item);
    }
    shares
}

/// Runs `step` on `n` connections for `secs` (or until a connection's `step` says it is done),
/// each connection threading its own state through its steps.
async fn drive<S, F, Fut>(
    name: &'static str,
    server: &Server,
    n: usize,
    secs: Duration,
    states: Vec<S>,
    step: F,
) -> (Load, Vec<S>)
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Option<S>, String>> + Send,
{
    let cpu_before = server.cpu_ticks();
    let started = Instant::now();
    let deadline = started + secs;
    let mut tasks = Vec::with_capacity(n);
    for state in states {
        let step = step.clone();
        tasks.push(tokio::spawn(async move {
            let mut state = state;
            let mut times = Vec::new();
            let (mut errors, mut first_error) = (0u64, None);
            while Instant::now() < deadline {
                let t = Instant::now();
                // The state is moved into the step: on an error, the connection stops.
                match step(state).await {
                    Ok(Some(next)) => {
                        times.push(t.elapsed());
                        state = next;
                    }
                    Ok(None) => return (times, errors, first_error, None),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                        return (times, errors, first_error, None);
                    }
                }
            }
            (times, errors, first_error, Some(state))
        }));
    }
    let mut times = Vec::new();
    let (mut errors, mut first_error, mut finals) = (0, None, Vec::new());
    for task in tasks {
        if let Ok((t, e, f, state)) = task.await {
            times.extend(t);
            errors += e;
            if first_error.is_none() {
                first_error = f;
            }
            finals.extend(state);
        }
    }
    let elapsed = started.elapsed();
    let cpu = server.cpu_ticks().saturating_sub(cpu_before);
    times.sort();
    let requests = times.len() as u64;
    let load = Load {
        name,
        requests,
        errors,
        first_error,
        req_per_s: requests as f64 / elapsed.as_secs_f64(),
        p50_ms: ms(percentile(&times, 50.0)),
        p99_ms: ms(percentile(&times, 99.0)),
        // Clock ticks are hundredths of a second on Linux.
        server_cpu_ms: if requests == 0 { 0.0 } else { cpu as f64 * 10.0 / requests as f64 },
    };
    println!("  {name}: {:.0} req/s", load.req_per_s);
    (load, finals)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// The server under test: this binary, `clavis serve`, in a process of its own so that its CPU
/// time and memory are its own.
struct Server {
    child: Child,
}

impl Server {
    fn start(dir: &Path, url: &str, port: u16, site_root: &Path) -> Result<Self, CliError> {
        let exe = std::env::current_exe().map_err(fault)?;
        let log = std::fs::File::create(dir.join("server.log")).map_err(fault)?;
        let child = Command::new(exe)
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", site_root)
            .env("CLAVIS_ISSUER", format!("http://127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(fault)?)
            .stderr(log)
            .spawn()
            .map_err(fault)?;
        Ok(Self { child })
    }

    async fn wait_ready(&self, http: &reqwest::Client, base: &str) -> Result<(), CliError> {
        for _ in 0..600 {
            if let Ok(res) = http.get(format!("{base}/readyz")).send().await
                && res.status() == 200
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(fault("the server did not become ready within 30 s"))
    }

    /// User + system CPU time so far, in clock ticks (`/proc/PID/stat`, fields 14 and 15).
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let get = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        get(11) + get(12)
    }

    /// A `/proc/PID/status` figure in KiB (`VmRSS:`, `VmHWM:`).
    fn status_kib(&self, key: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn machine() -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    Machine { cpu, cores: std::thread::available_parallelism().map_or(1, usize::from) }
}

/// The WASM bundle's size as built, gzipped (`gzip -9`) and brotli-compressed (the `.br` file
/// served beside it, when the build made one): the file every page loads first, and the pages'
/// own files beside it.
fn bundle(site_root: &Path) -> Bundle {
    let pkg = site_root.join("pkg");
    let files: Vec<PathBuf> =
        std::fs::read_dir(&pkg).into_iter().flatten().flatten().map(|e| e.path()).collect();
    let wasm: Vec<&PathBuf> = files.iter().filter(|p| p.extension().is_some_and(|x| x == "wasm")).collect();
    let is_main = |p: &Path| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("clavis."));
    let Some(main) = wasm.iter().copied().find(|p| is_main(p)) else {
        return Bundle::default();
    };
    let size = |p: &Path| std::fs::metadata(p).ok().map(|m| m.len());
    let brotli = |p: &Path| {
        let mut br = p.to_path_buf().into_os_string();
        br.push(".br");
        size(Path::new(&br))
    };
    let gzip = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(main)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| o.stdout.len() as u64);
    let lazy: Vec<&PathBuf> = wasm.iter().copied().filter(|p| !is_main(p)).collect();
    let main_brotli = brotli(main);
    // The manifest: each split point and the file stems it loads (itself among them), under the
    // name `__wasm_split_manifest[.HASH].json`.
    let manifest = files
        .iter()
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("__wasm_split_manifest") && n.ends_with(".json"))
        })
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<std::collections::HashMap<String, Vec<String>>>(&b).ok())
        .unwrap_or_default();
    let mut pages: Vec<PageWasm> = manifest
        .into_iter()
        .map(|(split, stems)| {
            let own: u64 = stems
                .iter()
                .map(|s| pkg.join(format!("{s}.wasm")))
                .filter_map(|p| brotli(&p).or(size(&p)))
                .sum();
            let split = split.trim_start_matches('_');
            let split = split
                .rsplit_once('_')
                .filter(|(_, h)| h.bytes().all(|b| b.is_ascii_digit()))
                .map_or(split, |(n, _)| n);
            PageWasm {
                split: split.to_string(),
                files: stems.len(),
                own_brotli_bytes: own,
                first_visit_brotli_bytes: own + main_brotli.unwrap_or(0),
            }
        })
        .collect();
    pages.sort_by(|a, b| {
        b.first_visit_brotli_bytes.cmp(&a.first_visit_brotli_bytes).then(a.split.cmp(&b.split))
    });
    Bundle {
        wasm_bytes: size(main),
        wasm_gzip_bytes: gzip,
        wasm_brotli_bytes: main_brotli,
        lazy_wasm_files: lazy.len(),
        lazy_wasm_bytes: lazy.iter().filter_map(|p| size(p)).sum(),
        lazy_wasm_brotli_bytes: lazy.iter().filter_map(|p| brotli(p)).sum(),
        pages,
    }
}

fn print_table(r: &Report) {
    println!(
        "\nClavis bench: {} · {} ({} cores) · {} connections · {} s per load\n",
        r.database, r.machine.cpu, r.machine.cores, r.connections, r.seconds
    );
    println!(
        "{:<32} {:>10} {:>9} {:>9} {:>14} {:>7}",
        "load", "req/s", "p50 ms", "p99 ms", "server CPU ms", "errors"
    );
    for l in &r.loads {
        println!(
            "{:<32} {:>10.0} {:>9.2} {:>9.2} {:>14.3} {:>7}",
            l.name, l.req_per_s, l.p50_ms, l.p99_ms, l.server_cpu_ms, l.errors
        );
        if let Some(e) = &l.first_error {
            println!("    first error: {e}");
        }
    }
    for s in &r.search {
        println!(
            "admin search at {:>9} clients: p50 {:.1} ms, p95 {:.1} ms ({} queries; slowest {:?}: {:.1} ms)",
            s.clients, s.p50_ms, s.p95_ms, s.queries, s.slowest.0, s.slowest.1
        );
        let each: Vec<String> = s.each.iter().map(|(t, d)| format!("{t:?} {d:.1}")).collect();
        println!("    each, slowest of its rounds (ms): {}", each.join(", "));
    }
    println!("server RSS: {} MiB idle, {} MiB peak", r.rss_idle_kib / 1024, r.rss_peak_kib / 1024);
    let kb = |b: Option<u64>| b.map_or("-".to_string(), |b| format!("{} KB", b / 1000));
    println!(
        "WASM bundle: {} ({} gzip, {} brotli)",
        kb(r.bundle.wasm_bytes),
        kb(r.bundle.wasm_gzip_bytes),
        kb(r.bundle.wasm_brotli_bytes)
    );
    if r.bundle.lazy_wasm_files > 0 {
        println!(
            "pages' own WASM, loaded with them: {} files, {} ({} brotli)",
            r.bundle.lazy_wasm_files,
            kb(Some(r.bundle.lazy_wasm_bytes)),
            kb(Some(r.bundle.lazy_wasm_brotli_bytes))
        );
    }
    if !r.bundle.pages.is_empty() {
        println!("first visit's WASM (brotli), shared + the page's own files:");
        for p in &r.bundle.pages {
            println!(
                "    {:<28} {:>7} ({} own in {} files)",
                p.split,
                kb(Some(p.first_visit_brotli_bytes)),
                kb(Some(p.own_brotli_bytes)),
                p.files
            );
        }
    }
}

async fn create_postgres_database(admin: &str) -> Result<String, CliError> {
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::PgConnection::connect(admin).await.map_err(|e| fault(format!("--postgres: {e}")))?;
    let name = format!("clavis_bench_{}", std::process::id());
    conn.execute(format!("DROP DATABASE IF EXISTS {name}").as_str()).await.map_err(fault)?;
    conn.execute(format!("CREATE DATABASE {name}").as_str()).await.map_err(fault)?;
    let _ = conn.close().await;
    let base = admin.split('?').next().unwrap_or(admin);
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

async fn drop_postgres_database(admin: &str, url: &str) {
    use sqlx::{Connection, Executor};
    let Some((_, name)) = url.rsplit_once('/') else { return };
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let _ = conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
        let _ = conn.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pages_first_visit_is_the_shared_wasm_and_the_files_its_manifest_entry_lists() {
        let site = tempfile::tempdir().unwrap();
        let pkg = site.path().join("pkg");
        std::fs::create_dir(&pkg).unwrap();
        let file = |name: &str, len: usize| std::fs::write(pkg.join(name), vec![0u8; len]).unwrap();
        file("clavis.AAAA.wasm", 5_000);
        file("clavis.AAAA.wasm.br", 1_000);
        file("split_a_route_view_123.BBBB.wasm", 900);
        file("split_a_route_view_123.BBBB.wasm.br", 300);
        file("chunk_1.CCCC.wasm", 400);
        file("chunk_1.CCCC.wasm.br", 20);
        // No brotli copy: counted as it is.
        file("split_b_route_view_123.DDDD.wasm", 70);
        std::fs::write(
            pkg.join("__wasm_split_manifest.EEEE.json"),
            r#"{"__a_route_view_123": ["chunk_1.CCCC", "split_a_route_view_123.BBBB"],
                "__b_route_view_123": ["chunk_1.CCCC", "split_b_route_view_123.DDDD"]}"#,
        )
        .unwrap();

        let b = bundle(site.path());
        assert_eq!(b.wasm_brotli_bytes, Some(1_000));
        assert_eq!(b.lazy_wasm_files, 3);
        let pages: Vec<(&str, usize, u64, u64)> = b
            .pages
            .iter()
            .map(|p| (p.split.as_str(), p.files, p.own_brotli_bytes, p.first_visit_brotli_bytes))
            .collect();
        assert_eq!(pages, [("a_route_view", 2, 320, 1_320), ("b_route_view", 2, 90, 1_090)]);
    }
}
