//! Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document, as MCP 2025-11-25
//! uses it): a `client_id` that is an `https` URL names a JSON document describing the client.
//! When an administrator turns them on, the authorization endpoint fetches the document and
//! keeps the client as a row of its own (origin `metadata_document`), so sessions, deactivation
//! and deletion work as for any client.
//!
//! The fetch cannot reach the server's own network: `https` only, the host resolved first and
//! every address required to be public (no loopback, private, link-local, CGNAT, metadata-service,
//! multicast or documentation ranges), then pinned for the connection (no second lookup to
//! rebind), no redirects, 5 seconds, 5 KB. Host names an administrator lists are exempt from the
//! address rule (and may use `http`, for development). A document is used for as long as its
//! `Cache-Control: max-age` says, within 5 minutes and 24 hours (1 hour when it says nothing).

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use serde_json::Value;

use crate::{
    db::{Db, DbError, now_unix},
    domain::{
        api::ApiIdentifier,
        client::{ClientId, ClientOrigin},
        registration::{self, Registration},
        settings::InstanceSettings,
    },
    registry::{self, RegistryError, create_as},
};

/// Largest document accepted.
pub const MAX_BYTES: usize = 5 * 1024;
/// The whole fetch, from lookup to last byte.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// How long a document is used, at least and at most, whatever its headers say.
pub const MIN_AGE: i64 = 300;
pub const MAX_AGE: i64 = 86_400;
/// When the document says nothing about caching.
pub const DEFAULT_AGE: i64 = 3_600;

/// Why a client's document cannot be used; shown on the authorization error page.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("its address is not allowed: {0}")]
    Address(String),
    #[error("it could not be fetched: {0}")]
    Fetch(String),
    #[error("it is larger than 5 KB")]
    TooLarge,
    #[error("it is not a JSON client metadata document: {0}")]
    Invalid(String),
    #[error("its client_id is not the URL it was fetched from")]
    ClientIdMismatch,
    #[error("its token_endpoint_auth_method must be none")]
    AuthMethod,
    #[error("this server takes no more self-registered clients")]
    Full,
    #[error("too many new clients from this address; try again later")]
    RateLimited,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<RegistryError> for DocumentError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Db(e) => DocumentError::Db(e),
            other => DocumentError::Invalid(other.to_string()),
        }
    }
}

/// Whether an address is on the public internet: the only kind a document may be fetched from.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address: judge that one.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local, fd00:ec2::254 (a metadata service) included
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
                || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || a == 0
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, the cloud metadata service included
        || (a == 100 && (b & 0xc0) == 64) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113) // documentation
        || (a == 198 && (b & 0xfe) == 18) // benchmarking 198.18/15
        || ip.is_multicast()
        || a >= 240) // reserved and broadcast
}

/// The seconds a response may be used, from its `Cache-Control`, within the bounds.
pub fn max_age(cache_control: Option<&str>) -> i64 {
    let Some(cc) = cache_control else { return DEFAULT_AGE };
    let directives: Vec<String> = cc.split(',').map(|d| d.trim().to_ascii_lowercase()).collect();
    if directives.iter().any(|d| d == "no-store" || d == "no-cache") {
        return MIN_AGE;
    }
    directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age=").and_then(|v| v.trim_matches('"').parse::<i64>().ok()))
        .map_or(DEFAULT_AGE, |age| age.clamp(MIN_AGE, MAX_AGE))
}

/// A fetched document and how long it may be used.
pub struct Fetched {
    pub document: Value,
    pub max_age: i64,
}

/// Fetches the document at `url` under the rules above.
pub async fn fetch(url: &str, allowed_hosts: &[String]) -> Result<Fetched, DocumentError> {
    tokio::time::timeout(TIMEOUT, fetch_inner(url, allowed_hosts))
        .await
        .map_err(|_| DocumentError::Fetch("it took longer than 5 seconds".into()))?
}

async fn fetch_inner(url: &str, allowed_hosts: &[String]) -> Result<Fetched, DocumentError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| DocumentError::Address(e.to_string()))?;
    let host = parsed.host_str().ok_or_else(|| DocumentError::Address("it names no host".into()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let allowed = allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host));
    match parsed.scheme() {
        "https" => {}
        "http" if allowed => {}
        _ => return Err(DocumentError::Address("it must be an https URL".into())),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(DocumentError::Address("it must not contain a user name or password".into()));
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| DocumentError::Fetch(format!("{host} does not resolve: {e}")))?
        .collect();
    let Some(first) = addrs.first().copied() else {
        return Err(DocumentError::Fetch(format!("{host} does not resolve")));
    };
    if !allowed && let Some(private) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(DocumentError::Address(format!(
            "{host} resolves to {}, which is not public",
            private.ip()
        )));
    }
    // The address just checked is the one connected to: no second lookup to rebind.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .no_proxy()
        .resolve(&host, first)
        .build()
        .map_err(|e| DocumentError::Fetch(e.to_string()))?;
    let mut res = client
        .get(parsed)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(network)?;
    if res.status() != reqwest::StatusCode::OK {
        return Err(DocumentError::Fetch(format!("it answered {}", res.status().as_u16())));
    }
    if res.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
        return Err(DocumentError::TooLarge);
    }
    let cache_control = res.headers().get(reqwest::header::CACHE_CONTROL).and_then(|v| v.to_str().ok());
    let age = max_age(cache_control);
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(network)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err(DocumentError::TooLarge);
        }
    }
    let document =
        serde_json::from_slice(&body).map_err(|_| DocumentError::Invalid("not valid JSON".into()))?;
    Ok(Fetched { document, max_age: age })
}

fn network(e: reqwest::Error) -> DocumentError {
    if e.is_timeout() {
        DocumentError::Fetch("it took longer than 5 seconds".into())
    } else {
        DocumentError::Fetch(e.to_string())
    }
}

/// Checks a document fetched from `url`: the same rules as a registration, its `client_id`
/// equal to the URL, and no client secret (auth method `none`).
pub fn check(url: &str, document: &Value) -> Result<Registration, DocumentError> {
    if document.get("client_id").and_then(Value::as_str) != Some(url) {
        return Err(DocumentError::ClientIdMismatch);
    }
    match document.get("token_endpoint_auth_method") {
        None | Some(Value::Null) => {}
        Some(Value::String(m)) if m == "none" => {}
        Some(_) => return Err(DocumentError::AuthMethod),
    }
    let mut body = document.clone();
    body["token_endpoint_auth_method"] = Value::String("none".into());
    registration::parse(&body).map_err(|e| DocumentError::Invalid(e.description))
}

/// Makes sure the client named by the document URL `client_id` is known and its document fresh,
/// fetching it when it is not; `redirect_uri` (as requested) must be listed in it exactly.
pub async fn ensure(
    db: &Db,
    client_id: &ClientId,
    redirect_uri: Option<&str>,
    settings: &InstanceSettings,
    builtin: &ApiIdentifier,
    // Counts a fetch against the caller's address (the registration limit); `false`: refused.
    admit_fetch: impl FnOnce() -> bool,
) -> Result<(), DocumentError> {
    let now = now_unix();
    let stored = db.document_client(client_id).await?;
    if let Some((true, Some(until))) = stored
        && until > now
    {
        return check_redirect(db, client_id, redirect_uri).await;
    }
    if let Some((false, _)) = stored {
        // A client an administrator (or a registration) created under this ID: not a document's.
        return Ok(());
    }
    if !admit_fetch() {
        return Err(DocumentError::RateLimited);
    }
    let allowed = db.metadata_document_hosts().await?;
    let fetched = fetch(client_id.as_str(), &allowed).await?;
    let registration = check(client_id.as_str(), &fetched.document)?;
    if let Some(r) = redirect_uri
        && !registration.form.redirect_uris.lines().any(|u| u == r)
    {
        return Err(DocumentError::Invalid(format!("its redirect_uris do not list {r}")));
    }
    let metadata =
        serde_json::to_string(&registration.metadata).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let expires_at = now + fetched.max_age;
    match stored {
        Some(_) => {
            // Known but stale: its settings follow the document; what an administrator set stays.
            let client = registry::get(db, client_id).await?;
            let current = registry::form_of(db, &client, builtin).await?;
            let new = &registration.form;
            let form = crate::domain::client::ClientForm {
                name: new.name.clone(),
                redirect_uris: new.redirect_uris.clone(),
                scope: new.scope.clone(),
                refresh_count: new.refresh_count.clone(),
                refresh_count_limit: new.refresh_count_limit.clone(),
                ..current
            };
            registry::update(db, client_id, &form, builtin).await?;
            db.set_document_metadata(client_id, &metadata, expires_at).await?;
        }
        None => {
            if db.count_self_registered().await? >= i64::from(settings.max_self_registered) {
                return Err(DocumentError::Full);
            }
            let record = crate::db::clients::SelfRegistration {
                origin: ClientOrigin::MetadataDocument,
                token_digest: None,
                metadata,
                metadata_expires_at: Some(expires_at),
            };
            match create_as(db, &registration.form, builtin, Some(&record), Some(client_id)).await {
                // Two first requests at once: the other one stored it.
                Ok(_) | Err(RegistryError::Db(DbError::Duplicate)) => {}
                Err(e) => return Err(e.into()),
            }
            tracing::info!(
                client_id = client_id.as_str(),
                "a client was registered from its metadata document"
            );
        }
    }
    Ok(())
}

/// With a fresh document, the requested redirect URI must be one it lists, exactly.
async fn check_redirect(
    db: &Db,
    client_id: &ClientId,
    redirect_uri: Option<&str>,
) -> Result<(), DocumentError> {
    let Some(r) = redirect_uri else { return Ok(()) };
    let client = registry::get(db, client_id).await?;
    if client.spec.redirect_uris.iter().any(|u| u.as_str() == r) {
        Ok(())
    } else {
        Err(DocumentError::Invalid(format!("its redirect_uris do not list {r}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in
            ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
        {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn cache_lifetimes_within_bounds() {
        assert_eq!(max_age(None), DEFAULT_AGE);
        assert_eq!(max_age(Some("public, max-age=600")), 600);
        assert_eq!(max_age(Some("max-age=5")), MIN_AGE);
        assert_eq!(max_age(Some("max-age=31536000, immutable")), MAX_AGE);
        assert_eq!(max_age(Some("no-store")), MIN_AGE);
        assert_eq!(max_age(Some("private")), DEFAULT_AGE);
    }

    #[test]
    fn the_document_must_name_itself_and_have_no_secret() {
        let url = "https://app.example.com/client.json";
        let doc = serde_json::json!({"client_id": url, "client_name": "App", "redirect_uris": ["http://127.0.0.1/cb"]});
        let r = check(url, &doc).unwrap();
        assert_eq!(r.form.auth_method, "none");
        let other = serde_json::json!({"client_id": "https://evil.example.com/client.json", "redirect_uris": ["http://127.0.0.1/cb"]});
        assert!(matches!(check(url, &other), Err(DocumentError::ClientIdMismatch)));
        let secret = serde_json::json!({"client_id": url, "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "client_secret_basic"});
        assert!(matches!(check(url, &secret), Err(DocumentError::AuthMethod)));
    }
}
