//! Typed settings read once from the environment at start-up, each with a documented default
//! (README.md, "Configuration").

use std::net::SocketAddr;

use crate::{
    auth::client_addr::{CidrError, Networks, TrustedProxies},
    domain::api::ApiIdentifier,
};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/clavis.db";
pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_SITE_ROOT: &str = "target/site";

#[derive(Debug, Clone)]
pub struct Settings {
    /// `sqlite://...` or `postgres://...`.
    pub database_url: String,
    /// Where the server listens; port 0 picks a free port (tests).
    pub site_addr: SocketAddr,
    /// The folder holding `pkg/` (WASM, JS, CSS) built by cargo-leptos.
    pub site_root: String,
    /// Public base URL; `None` means "http:// + the address actually bound".
    pub issuer: Option<Issuer>,
    /// How often expired codes, tokens and sessions are deleted ([`DEFAULT_PURGE_EVERY`]; not
    /// read from the environment, tests shorten it).
    pub purge_every: std::time::Duration,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers name the client's address
    /// (`CLAVIS_TRUSTED_PROXIES`, comma-separated networks; default none).
    pub trusted_proxies: TrustedProxies,
    /// Paced sign-in checks of a username under attack come this far apart (1 s; not read from
    /// the environment, tests shorten it).
    pub sign_in_pace: std::time::Duration,
    /// Who may read `/metrics` (`CLAVIS_METRICS_ALLOW`, comma-separated networks; default
    /// loopback: 127.0.0.0/8 and ::1).
    pub metrics_allow: Networks,
}

pub const DEFAULT_PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("LEPTOS_SITE_ADDR must be an address such as 127.0.0.1:3000, got {0:?}")]
    SiteAddr(String),
    #[error("CLAVIS_ISSUER: {0}")]
    Issuer(#[from] IssuerError),
    #[error(
        "CLAVIS_ISSUER is required when LEPTOS_SITE_ADDR ({0}) listens on every address: set it to the URL users reach, such as https://auth.example.com"
    )]
    IssuerRequired(SocketAddr),
    #[error("CLAVIS_METRICS_ALLOW: {0}")]
    MetricsAllow(CidrError),
    #[error("CLAVIS_TRUSTED_PROXIES: {0}")]
    TrustedProxies(#[from] CidrError),
    #[error("DATABASE_URL must start with sqlite: or postgres://, got a value starting {0:?}")]
    DatabaseUrl(String),
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::DatabaseUrl(database_url.chars().take(12).collect()));
        }
        let addr = get("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_SITE_ADDR.to_string());
        let site_addr: SocketAddr = addr.parse().map_err(|_| ConfigError::SiteAddr(addr))?;
        let site_root = get("LEPTOS_SITE_ROOT").unwrap_or_else(|| DEFAULT_SITE_ROOT.to_string());
        let issuer = get("CLAVIS_ISSUER").map(|raw| Issuer::parse(&raw)).transpose()?;
        // The issuer goes into every redirect and token; `http://0.0.0.0:3000` is nobody's URL.
        if issuer.is_none() && site_addr.ip().is_unspecified() {
            return Err(ConfigError::IssuerRequired(site_addr));
        }
        let trusted_proxies = TrustedProxies::parse(&get("CLAVIS_TRUSTED_PROXIES").unwrap_or_default())?;
        let metrics_allow =
            Networks::parse(&get("CLAVIS_METRICS_ALLOW").unwrap_or_else(|| "127.0.0.0/8,::1".into()))
                .map_err(ConfigError::MetricsAllow)?;
        Ok(Self {
            database_url,
            site_addr,
            site_root,
            issuer,
            purge_every: DEFAULT_PURGE_EVERY,
            trusted_proxies,
            metrics_allow,
            sign_in_pace: std::time::Duration::from_secs(1),
        })
    }
}

/// The authorization server's issuer identifier (RFC 8414 §2): an `http(s)` URL with no query or
/// fragment, kept without a trailing slash so endpoint URLs are `issuer + "/path"`. It has no path
/// either: Clavis serves its endpoints, pages and cookies at the root of its host (one issuer per
/// host), and its metadata at `/.well-known/oauth-authorization-server` (RFC 8414 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(String, ApiIdentifier);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    #[error("must start with https:// (or http:// for local use)")]
    Scheme,
    #[error("must name a host")]
    NoHost,
    #[error("must not contain a query, fragment, credentials or whitespace")]
    Extra,
    #[error("must not have a path: Clavis serves at the root of its host, such as https://auth.example.com")]
    Path,
}

impl Issuer {
    pub fn parse(raw: &str) -> Result<Self, IssuerError> {
        let rest = raw
            .strip_prefix("https://")
            .or_else(|| raw.strip_prefix("http://"))
            .ok_or(IssuerError::Scheme)?;
        if rest.chars().any(|c| c.is_whitespace() || matches!(c, '?' | '#' | '@')) {
            return Err(IssuerError::Extra);
        }
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty() {
            return Err(IssuerError::NoHost);
        }
        if !path.trim_end_matches('/').is_empty() {
            return Err(IssuerError::Path);
        }
        Ok(Self::new(raw.trim_end_matches('/').to_string()))
    }

    pub fn from_addr(addr: SocketAddr) -> Self {
        Self::new(format!("http://{addr}"))
    }

    fn new(url: String) -> Self {
        let api = ApiIdentifier::builtin(&url);
        Self(url, api)
    }

    /// The built-in API's identifier: `{issuer}/api/v1`.
    pub fn builtin_api(&self) -> &ApiIdentifier {
        &self.1
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// `scheme://host[:port]`, what a browser sends in `Origin`: the issuer itself, which has no
    /// path.
    pub fn origin(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.site_addr.to_string(), DEFAULT_SITE_ADDR);
        assert_eq!(s.site_root, DEFAULT_SITE_ROOT);
        assert_eq!(s.issuer, None);
    }

    #[test]
    fn a_wildcard_address_needs_an_issuer() {
        for addr in ["0.0.0.0:3000", "[::]:3000"] {
            let err = settings(&[("LEPTOS_SITE_ADDR", addr)]).unwrap_err().to_string();
            assert!(err.starts_with("CLAVIS_ISSUER is required") && err.contains(addr), "{err}");
            let s = settings(&[("LEPTOS_SITE_ADDR", addr), ("CLAVIS_ISSUER", "https://auth.example.com")])
                .unwrap();
            assert_eq!(s.issuer.unwrap().as_str(), "https://auth.example.com");
        }
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = settings(&[("LEPTOS_SITE_ADDR", "localhost")]).unwrap_err().to_string();
        assert!(err.starts_with("LEPTOS_SITE_ADDR"), "{err}");
        let err = settings(&[("CLAVIS_ISSUER", "ftp://x")]).unwrap_err().to_string();
        assert!(err.starts_with("CLAVIS_ISSUER"), "{err}");
        let err = settings(&[("DATABASE_URL", "mysql://x")]).unwrap_err().to_string();
        assert!(err.starts_with("DATABASE_URL"), "{err}");
        let err = settings(&[("CLAVIS_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local")]).unwrap_err().to_string();
        assert!(err.starts_with("CLAVIS_TRUSTED_PROXIES") && err.contains("proxy.local"), "{err}");
        let s = settings(&[("CLAVIS_TRUSTED_PROXIES", "10.0.0.0/8,::1")]).unwrap();
        assert_eq!(s.trusted_proxies, TrustedProxies::parse("10.0.0.0/8,::1").unwrap());
    }

    #[test]
    fn issuer_parsing() {
        let i = Issuer::parse("https://auth.example.com/").unwrap();
        assert_eq!(i.as_str(), "https://auth.example.com");
        assert_eq!(i.origin(), "https://auth.example.com");
        assert!(i.is_https());
        let i = Issuer::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!(i.origin(), "http://127.0.0.1:3000");
        assert!(!i.is_https());
        assert_eq!(Issuer::parse("http://127.0.0.1:3000/tenant/a"), Err(IssuerError::Path));
        assert_eq!(Issuer::parse("https://auth.example.com/oauth/"), Err(IssuerError::Path));
        assert_eq!(Issuer::parse("https:///path"), Err(IssuerError::NoHost));
        assert_eq!(Issuer::parse("auth.example.com"), Err(IssuerError::Scheme));
        assert_eq!(Issuer::parse("https://"), Err(IssuerError::NoHost));
        assert_eq!(Issuer::parse("https://a.example?x=1"), Err(IssuerError::Extra));
        assert_eq!(Issuer::parse("https://u@a.example"), Err(IssuerError::Extra));
    }
}
