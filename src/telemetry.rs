//! Structured logs (tracing) on stderr, filtered by `RUST_LOG`, as text or, with
//! `CLAVIS_LOG_FORMAT=json`, one JSON object a line. One line per request: request id, method,
//! path, status, latency. Never the query string, headers or body: they carry codes, tokens,
//! secrets and passwords.
//!
//! Every request has an id: the `X-Request-Id` it came with (from a proxy; 1–64 letters, digits,
//! '.', '_', '-'), or a new one. It is on each log line of the request and on the response.
//!
//! The server writes its per-request lines in batches ([`Sink`]), as nginx's `access_log …
//! buffer= flush=` does: one `write` for many lines instead of one per request (a system call that
//! took ~4% of a refresh grant's server CPU). A line waits at most [`FLUSH_EVERY`]; any other line
//! (start-up, warnings, errors) is written at once, after the lines waiting before it. A server
//! killed with SIGKILL loses at most that last fraction of a second of request lines.

use std::{
    io::Write,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{body::Body, extract::Request, middleware::Next};
use http::{HeaderValue, Response};
use tower_http::{
    classify::{ServerErrorsAsFailures, SharedClassifier},
    trace::TraceLayer,
};
use tracing::{Level, Metadata, Span};
use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

/// The log line format, from `CLAVIS_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// Unset or empty: text.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw.map(str::trim) {
            None | Some("" | "text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("CLAVIS_LOG_FORMAT: '{other}' is not text or json")),
        }
    }
}

/// Starts logging to stderr; `default` applies when `RUST_LOG` is unset or invalid. `batched`
/// (the server): request lines go out in batches ([`Sink`]); call [`flush`] before exiting.
pub fn init(default: &str, batched: bool) -> Result<(), String> {
    let format = LogFormat::parse(std::env::var("CLAVIS_LOG_FORMAT").ok().as_deref())?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    if batched {
        Sink::start();
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(Sink { batched });
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
        LogFormat::Text => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).try_init(),
    };
    Ok(())
}

/// The longest a request line waits in [`Sink`]'s buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Request lines waiting to be written out (by the flushing thread, or a line that fills it).
static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Past this many bytes, a request line writes out the buffer at once.
const PENDING_MAX: usize = 32 * 1024;

/// Where log lines go: stderr, the request lines of a `batched` sink through [`PENDING`].
#[derive(Debug, Clone, Copy)]
pub struct Sink {
    batched: bool,
}

impl Sink {
    /// Starts the thread that writes waiting lines out every [`FLUSH_EVERY`], and makes a panic
    /// write them out before its message.
    fn start() {
        let _ = std::thread::Builder::new().name("log-flush".into()).spawn(|| {
            loop {
                std::thread::sleep(FLUSH_EVERY);
                flush();
            }
        });
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            flush();
            report(info);
        }));
    }
}

/// Writes out the request lines waiting in the buffer.
pub fn flush() {
    write_out(&mut PENDING.lock().unwrap_or_else(|e| e.into_inner()));
}

/// Writes `pending` to stderr and empties it.
fn write_out(pending: &mut Vec<u8>) {
    if !pending.is_empty() {
        // Nowhere to report a failed write to stderr.
        let _ = std::io::stderr().write_all(pending);
        pending.clear();
    }
}

/// One log line's writer: the buffer (a request line of a batched sink) or stderr, after the
/// lines waiting before it.
pub enum LineWriter {
    Later,
    Now(std::io::Stderr),
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Now(out) => out.write(buf),
            Self::Later => {
                let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
                pending.extend_from_slice(buf);
                if pending.len() >= PENDING_MAX {
                    write_out(&mut pending);
                }
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Now(out) => out.flush(),
            Self::Later => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter::Now(std::io::stderr())
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> LineWriter {
        if self.batched && *meta.level() == Level::INFO && meta.target() == module_path!() {
            return LineWriter::Later;
        }
        if self.batched {
            flush();
        }
        LineWriter::Now(std::io::stderr())
    }
}

pub const REQUEST_ID: &str = "x-request-id";

/// Whether a request id from outside is safe to log and echo as it is.
fn acceptable_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    (1..=64).contains(&b.len()) && b.iter().all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
}

/// A new request id: this process's random prefix and a counter (unique, no system call).
fn new_id() -> HeaderValue {
    static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let mut b = [0u8; 4];
        let _ = getrandom::fill(&mut b);
        u32::from_le_bytes(b)
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    HeaderValue::from_str(&format!("{prefix:08x}-{n:x}")).unwrap_or(HeaderValue::from_static("0"))
}

/// Gives the request its id (kept from `X-Request-Id` when acceptable) and returns it on the
/// response. Outermost layer, so the request's log span carries it.
pub async fn request_id(mut req: Request, next: Next) -> axum::response::Response {
    let id = match req.headers().get(REQUEST_ID) {
        Some(v) if acceptable_id(v) => v.clone(),
        _ => new_id(),
    };
    req.headers_mut().insert(REQUEST_ID, id.clone());
    let mut res = next.run(req).await;
    res.headers_mut().insert(REQUEST_ID, id);
    res
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
    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
    tracing::info_span!("request", request_id = id, method = %req.method(), path = %req.uri().path())
}

fn on_response(res: &Response<Body>, latency: Duration, _span: &Span) {
    tracing::info!(status = res.status().as_u16(), latency_us = latency.as_micros() as u64, "done");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_formats() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("json")), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse(Some("")), Ok(LogFormat::Text));
        assert!(LogFormat::parse(Some("xml")).unwrap_err().starts_with("CLAVIS_LOG_FORMAT:"));
    }

    #[test]
    fn outside_request_ids_are_kept_only_when_safe() {
        for ok in ["abc", "req-1.2_3", &"a".repeat(64)] {
            assert!(acceptable_id(&HeaderValue::from_str(ok).unwrap()), "{ok}");
        }
        for bad in ["", "a b", "x\"y", "<script>", &"a".repeat(65)] {
            assert!(!acceptable_id(&HeaderValue::from_str(bad).unwrap()), "{bad}");
        }
        assert_ne!(new_id(), new_id());
    }
}
