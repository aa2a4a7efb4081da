//! Builds the application: database, migrations, the router (Leptos pages + form endpoints +
//! server functions) and its layers, bound to a listener (port 0 picks a free port for tests).

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use axum::{
    Router, middleware,
    routing::{get, post},
};
use http::{HeaderValue, StatusCode};
use leptos::config::LeptosOptions;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower_http::{compression::CompressionLayer, services::ServeDir, set_header::SetResponseHeader};

use crate::{
    app::{App, shell},
    auth::{
        csrf, guard, handlers, password,
        rate_limit::{FailureLimiter, SignInLimits},
        token,
    },
    config::{Issuer, Settings},
    db::{Db, DbError, now_unix},
    metrics::{self, Metrics},
    oauth::{self, rate::ClientRateLimiter},
    security,
    state::{AppState, REGISTRATIONS_PER_HOUR, Shared},
    telemetry,
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("the OS random number generator is unavailable: {0}")]
    Rng(getrandom::Error),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Password(#[from] password::PasswordHashError),
    #[error("start-up task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    addr: SocketAddr,
    issuer: Arc<Issuer>,
    db: Db,
    purge_every: Duration,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        token::check_rng().map_err(StartupError::Rng)?;
        let db = Db::connect(&settings.database_url).await?;
        db.migrate().await?;
        // Unknown users are checked against this hash; make it before the first request.
        tokio::task::spawn_blocking(password::dummy_hash).await??;
        let listener = TcpListener::bind(settings.site_addr)
            .await
            .map_err(|source| StartupError::Bind { addr: settings.site_addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr: settings.site_addr, source })?;
        let issuer = Arc::new(settings.issuer.unwrap_or_else(|| Issuer::from_addr(addr)));
        let leptos_options = LeptosOptions::builder()
            .output_name("clavis")
            .site_root(settings.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .hash_files(crate::state::bundle_hashes().is_some())
            .build();
        let state = AppState::new(Shared {
            leptos_options: Arc::new(leptos_options),
            db: db.clone(),
            issuer: issuer.clone(),
            limits: Arc::new(SignInLimits::new(settings.sign_in_pace)),
            trusted_proxies: Arc::new(settings.trusted_proxies),
            api_rate: Arc::new(ClientRateLimiter::default()),
            registrations: Arc::new(FailureLimiter::new(REGISTRATIONS_PER_HOUR, Duration::from_secs(3600))),
            metrics: Arc::new(Metrics::default()),
            metrics_allow: Arc::new(settings.metrics_allow),
        });
        Ok(Self { listener, router: router(state), addr, issuer, db, purge_every: settings.purge_every })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// Serves until `shutdown` resolves, then closes the database pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let purge = tokio::spawn(purge_expired(self.db.clone(), self.purge_every));
        let served = axum::serve(self.listener, service).with_graceful_shutdown(shutdown).await;
        purge.abort();
        self.db.close().await;
        served
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// The page routes, generated once per process. Generating them sets a process-global flag that
/// parks any Leptos resource first polled meanwhile, forever (leptos issue #4773): a second
/// generation while pages render (several apps in one process, as in the tests) hung renders.
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Deletes what can no longer be used, every `every` (ten minutes unless a test says otherwise).
async fn purge_expired(db: Db, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match db.purge_expired(now_unix()).await {
            Ok(n) if n > 0 => tracing::info!(rows = n, "purged expired codes, tokens and sessions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired rows failed"),
        }
    }
}

fn router(state: AppState) -> Router {
    let secure = state.issuer.is_https();
    let routes = routes();
    Router::new()
        .merge(oauth::router())
        .route("/", get(handlers::home))
        .route("/login", post(handlers::login))
        .route("/logout", post(handlers::logout))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::metrics))
        // Administrators only: the page guard covers every path under /admin.
        .route("/admin/clients/export.json", get(export_clients))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(LeptosOptions::clone(&options))
        })
        // Routed requests only, labelled by route pattern; static files and unknown paths are not.
        .route_layer(middleware::from_fn_with_state(state.clone(), metrics::record))
        .nest_service("/pkg", static_files(&state.leptos_options))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(CompressionLayer::new().br(true).gzip(true).compress_when(is_html))
        .layer(middleware::from_fn_with_state(state.clone(), guard::page_guard))
        .layer(middleware::from_fn(move |req, next| csrf::ensure_login_cookie(secure, req, next)))
        .layer(middleware::from_fn(move |req, next| security::security_headers(secure, req, next)))
        .layer(telemetry::request_log())
        .layer(middleware::from_fn(telemetry::request_id))
        .with_state(state)
}

/// The browser bundle (`/pkg`: JS, WASM, CSS). Each file is served as its brotli or gzip copy
/// made at build time (`cargo leptos build --release --precompress`) when the browser takes it.
/// Hashed names change with their content, so browsers keep them for a year without asking
/// again; plain names (a build without hashes) are revalidated on every use.
fn static_files(options: &LeptosOptions) -> SetResponseHeader<ServeDir, HeaderValue> {
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let cache = if options.hash_files { "public, max-age=31536000, immutable" } else { "no-cache" };
    SetResponseHeader::overriding(
        ServeDir::new(dir).precompressed_br().precompressed_gzip(),
        http::header::CACHE_CONTROL,
        HeaderValue::from_static(cache),
    )
}

/// Only pages are compressed on the fly (the bundle is compressed at build time; token and API
/// answers are small and hot).
fn is_html(_: StatusCode, _: http::Version, headers: &http::HeaderMap, _: &http::Extensions) -> bool {
    security::is_html(headers)
}

/// The client export file (`clavis client export`), downloaded from the client list.
async fn export_clients(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match crate::registry::transfer::export(&state.db, state.issuer.builtin_api()).await {
        Ok(file) => (
            [
                (http::header::CONTENT_DISPOSITION, "attachment; filename=\"clavis-clients.json\""),
                (http::header::CACHE_CONTROL, "no-store"),
            ],
            axum::Json(file),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "client export failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Liveness: the process answers (orchestrators restart it when not).
async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok")
}

/// Readiness: the database answers and every migration this build knows is applied (load
/// balancers send traffic only then).
async fn readyz(axum::extract::State(db): axum::extract::State<Db>) -> (StatusCode, &'static str) {
    match db.migrations_applied().await {
        Ok(true) => (StatusCode::OK, "ready"),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "database migrations are not all applied"),
        Err(e) => {
            tracing::error!(error = %e, "readiness check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
