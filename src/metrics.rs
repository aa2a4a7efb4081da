//! `/metrics` in the Prometheus text format (version 0.0.4): requests by route and status with
//! latency histograms, tokens issued/refreshed/revoked, sign-in failures, rate-limited requests,
//! and the database pool. Counting is lock-free on the request path (atomics; the per-route table
//! is read-locked, written once per new route). Reachable only from the addresses in
//! `CLAVIS_METRICS_ALLOW` (default loopback).

use std::{
    collections::HashMap,
    fmt::Write,
    net::SocketAddr,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Instant,
};

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};

use crate::state::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];
/// Status codes counted one by one; the rest count as "other".
const STATUSES: [u16; 15] = [200, 201, 204, 302, 303, 304, 400, 401, 403, 404, 405, 422, 429, 500, 503];

#[derive(Default)]
struct RouteSeries {
    by_status: [AtomicU64; STATUSES.len() + 1],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// What the server counts. One per process, in the app state.
#[derive(Default)]
pub struct Metrics {
    routes: RwLock<HashMap<String, Arc<RouteSeries>>>,
    pub tokens_issued: AtomicU64,
    pub tokens_refreshed: AtomicU64,
    pub tokens_revoked: AtomicU64,
    pub sign_in_failures: AtomicU64,
    pub rate_limited: AtomicU64,
}

impl Metrics {
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    fn series(&self, route: &str) -> Option<Arc<RouteSeries>> {
        if let Some(s) = self.routes.read().ok()?.get(route) {
            return Some(s.clone());
        }
        let mut routes = self.routes.write().ok()?;
        Some(routes.entry(route.to_string()).or_default().clone())
    }

    fn record(&self, route: &str, status: u16, seconds: f64) {
        let Some(s) = self.series(route) else { return };
        let i = STATUSES.iter().position(|c| *c == status).unwrap_or(STATUSES.len());
        s.by_status[i].fetch_add(1, Relaxed);
        if let Some(b) = BUCKETS.iter().position(|le| seconds <= *le) {
            s.buckets[b].fetch_add(1, Relaxed);
        }
        s.count.fetch_add(1, Relaxed);
        s.sum_micros.fetch_add((seconds * 1e6) as u64, Relaxed);
    }

    /// The text exposition.
    /// `batches`: SQLite's group commits so far and the token writes they held.
    pub fn render(&self, pool_size: u32, pool_idle: usize, batches: Option<(u64, u64)>) -> String {
        let mut out = String::new();
        let routes: Vec<(String, Arc<RouteSeries>)> = self
            .routes
            .read()
            .map(|r| r.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let mut routes = routes;
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        let _ = writeln!(out, "# HELP clavis_http_requests_total HTTP requests by route and status.");
        let _ = writeln!(out, "# TYPE clavis_http_requests_total counter");
        for (route, s) in &routes {
            for (i, c) in s.by_status.iter().enumerate() {
                let n = c.load(Relaxed);
                if n > 0 {
                    let status = STATUSES.get(i).map_or_else(|| "other".to_string(), u16::to_string);
                    let _ = writeln!(
                        out,
                        "clavis_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                        escape(route)
                    );
                }
            }
        }
        let _ = writeln!(out, "# HELP clavis_http_request_duration_seconds Time to answer, by route.");
        let _ = writeln!(out, "# TYPE clavis_http_request_duration_seconds histogram");
        for (route, s) in &routes {
            let route = escape(route);
            let mut cumulative = 0;
            for (le, b) in BUCKETS.iter().zip(&s.buckets) {
                cumulative += b.load(Relaxed);
                let _ = writeln!(
                    out,
                    "clavis_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let count = s.count.load(Relaxed);
            let _ = writeln!(
                out,
                "clavis_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let sum = s.sum_micros.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "clavis_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(out, "clavis_http_request_duration_seconds_count{{route=\"{route}\"}} {count}");
        }
        for (name, help, counter) in [
            (
                "clavis_tokens_issued_total",
                "Token pairs issued for an authorization code.",
                &self.tokens_issued,
            ),
            ("clavis_tokens_refreshed_total", "Refresh token rotations.", &self.tokens_refreshed),
            ("clavis_tokens_revoked_total", "Tokens revoked (RFC 7009).", &self.tokens_revoked),
            ("clavis_sign_in_failures_total", "Failed sign-ins.", &self.sign_in_failures),
            ("clavis_rate_limited_total", "Requests refused by a rate limit (429).", &self.rate_limited),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                counter.load(Relaxed)
            );
        }
        let _ = writeln!(out, "# HELP clavis_db_pool_connections Database connections open.");
        let _ =
            writeln!(out, "# TYPE clavis_db_pool_connections gauge\nclavis_db_pool_connections {pool_size}");
        let _ = writeln!(out, "# HELP clavis_db_pool_idle_connections Open database connections not in use.");
        let _ = writeln!(
            out,
            "# TYPE clavis_db_pool_idle_connections gauge\nclavis_db_pool_idle_connections {pool_idle}"
        );
        if let Some((commits, writes)) = batches {
            for (name, help, n) in [
                ("clavis_db_batch_commits_total", "Group commits of token writes (SQLite).", commits),
                ("clavis_db_batched_writes_total", "Token writes committed in those group commits.", writes),
            ] {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {n}");
            }
        }
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Counts every routed request under its route pattern (never the raw path: no unbounded labels).
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // A clone of the matched path shares its text: no allocation per request.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let started = Instant::now();
    let res = next.run(req).await;
    let route = route.as_ref().map_or("other", MatchedPath::as_str);
    state.metrics.record(route, res.status().as_u16(), started.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`, for the addresses allowed.
pub async fn metrics(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    if !state.metrics_allow.contains(peer.ip()) {
        return (StatusCode::FORBIDDEN, "metrics are not served to this address").into_response();
    }
    let pool = state.db.pool();
    let body = state.metrics.render(pool.size(), pool.num_idle(), state.db.batch_counts());
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_histograms() {
        let m = Metrics::default();
        m.record("/oauth2/token", 200, 0.002);
        m.record("/oauth2/token", 200, 0.2);
        m.record("/oauth2/token", 418, 3.0);
        Metrics::count(&m.tokens_issued);
        let text = m.render(4, 3, Some((2, 7)));
        assert!(text.contains("clavis_db_batch_commits_total 2\n"), "{text}");
        assert!(text.contains("clavis_db_batched_writes_total 7\n"), "{text}");
        assert!(
            text.contains("clavis_http_requests_total{route=\"/oauth2/token\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("clavis_http_requests_total{route=\"/oauth2/token\",status=\"other\"} 1"));
        assert!(text.contains(
            "clavis_http_request_duration_seconds_bucket{route=\"/oauth2/token\",le=\"0.0025\"} 1"
        ));
        assert!(
            text.contains(
                "clavis_http_request_duration_seconds_bucket{route=\"/oauth2/token\",le=\"0.5\"} 2"
            )
        );
        assert!(
            text.contains(
                "clavis_http_request_duration_seconds_bucket{route=\"/oauth2/token\",le=\"+Inf\"} 3"
            )
        );
        assert!(text.contains("clavis_http_request_duration_seconds_count{route=\"/oauth2/token\"} 3"));
        assert!(text.contains("clavis_tokens_issued_total 1"));
        assert!(
            text.contains("clavis_db_pool_connections 4")
                && text.contains("clavis_db_pool_idle_connections 3")
        );
    }
}
