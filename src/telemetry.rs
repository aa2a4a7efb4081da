//! Structured logs (tracing) on stderr, filtered by `RUST_LOG`. One line per request: method,
//! path, status, latency. Never the query string, headers or body: they carry codes, tokens,
//! secrets and passwords.

use std::time::Duration;

use axum::{body::Body, extract::Request};
use http::Response;
use tower_http::{
    classify::{ServerErrorsAsFailures, SharedClassifier},
    trace::TraceLayer,
};
use tracing::Span;
use tracing_subscriber::EnvFilter;

/// `default` applies when `RUST_LOG` is unset or invalid.
pub fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

type MakeSpan = fn(&Request<Body>) -> Span;
type OnResponse = fn(&Response<Body>, Duration, &Span);

pub fn request_log() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeSpan, (), OnResponse> {
    TraceLayer::new_for_http()
        .make_span_with(make_span as MakeSpan)
        .on_request(())
        .on_response(on_response as OnResponse)
}

fn make_span(req: &Request<Body>) -> Span {
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
}

fn on_response(res: &Response<Body>, latency: Duration, _span: &Span) {
    tracing::info!(status = res.status().as_u16(), latency_us = latency.as_micros() as u64, "done");
}
