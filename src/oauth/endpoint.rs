//! What the token, revocation and introspection endpoints share: form parsing that never fails
//! with a 5xx, JSON errors (RFC 6749 §5.2), and client authentication (RFC 6749 §2.3).

use std::borrow::Cow;

use axum::{
    Json,
    body::Bytes,
    extract::rejection::BytesRejection,
    response::{IntoResponse, Response},
};
use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use subtle::ConstantTimeEq;

use crate::{
    auth::token,
    db::{Db, DbError, oauth::StoredClient},
    domain::client::{AuthMethod, ClientId},
};

/// An error answer of an OAuth endpoint: `{"error", "error_description"}`.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: Cow<'static, str>,
}

impl OAuthError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        Self { status, code, description: description.into() }
    }

    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }

    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", d)
    }

    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", d)
    }

    pub fn invalid_scope(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", d)
    }

    /// RFC 8707 §2: a `resource` that is unknown, deactivated or not allowed.
    pub fn invalid_target(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_target", d)
    }

    /// RFC 6749 §5.2: an authenticated client not allowed this grant type.
    pub fn unauthorized_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", d)
    }

    pub fn unsupported_grant_type(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", d)
    }

    /// The instance switch is off: nothing is issued or answered until an administrator turns
    /// API access back on.
    pub fn api_disabled() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "API access is turned off on this server",
        )
    }

    pub fn server_error(e: &DbError) -> Self {
        tracing::error!(error = %e, "OAuth endpoint failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the server could not complete the request",
        )
    }
}

impl From<DbError> for OAuthError {
    fn from(e: DbError) -> Self {
        Self::server_error(&e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code, "error_description": self.description });
        let mut res = (self.status, no_store(), Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"clavis\", charset=\"UTF-8\""),
            );
        }
        res
    }
}

/// Token responses and errors must not be cached (RFC 6749 §5.1).
pub fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// Whether the request body is declared as `media_type` (parameters such as charset aside).
pub fn has_media_type(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(media_type))
}

/// The parameters of a form body, each allowed once (RFC 6749 §3.2).
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from_form(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Self, OAuthError> {
        if !has_media_type(headers, "application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request(
                "the request body must be application/x-www-form-urlencoded",
            ));
        }
        let body = body.map_err(|e| OAuthError::invalid_request(format!("unreadable request body: {e}")))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|_| OAuthError::invalid_request("the request body is not a valid form"))?;
        Ok(Self(pairs))
    }

    /// The value of `name`; empty counts as absent; sent twice is an error naming it.
    pub fn get(&self, name: &'static str) -> Result<Option<&str>, OAuthError> {
        let mut values = self.0.iter().filter(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(OAuthError::invalid_request(format!("{name} was sent more than once"))),
            (v, _) => Ok(v),
        }
    }

    /// Every `(name, value)` pair, in order (for parameters that may repeat, such as `resource`).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The `resource` values (RFC 8707), which may be repeated; malformed: `invalid_target`.
    pub fn resources(&self) -> Result<Vec<crate::domain::api::ApiIdentifier>, OAuthError> {
        super::flow::resources(self.pairs()).map_err(OAuthError::invalid_target)
    }

    pub fn require(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.get(name)?.ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
    }
}

/// How a client identified itself. `Debug` never shows the secret.
pub enum Credentials {
    Basic {
        client_id: String,
        secret: String,
    },
    Post {
        client_id: String,
        secret: String,
    },
    /// `client_id` only: a public client (method `none`).
    Public {
        client_id: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::Basic { .. } => "Basic",
            Self::Post { .. } => "Post",
            Self::Public { .. } => "Public",
        };
        let mut s = f.debug_struct(name);
        s.field("client_id", &self.client_id());
        if !matches!(self, Self::Public { .. }) {
            s.field("secret", &"<redacted>");
        }
        s.finish()
    }
}

impl Credentials {
    /// What the request carries; `None` when it names no client at all. Using two methods at
    /// once is an error (RFC 6749 §2.3).
    pub fn presented(headers: &HeaderMap, params: &Params) -> Result<Option<Self>, OAuthError> {
        let body_id = params.get("client_id")?;
        let body_secret = params.get("client_secret")?;
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let (client_id, secret) = basic_credentials(value).ok_or_else(|| {
                OAuthError::invalid_client("the Authorization header is not valid Basic credentials")
            })?;
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method: client_secret_basic or client_secret_post, not both",
                ));
            }
            if body_id.is_some_and(|id| id != client_id) {
                return Err(OAuthError::invalid_request("client_id differs from the Basic credentials"));
            }
            return Ok(Some(Self::Basic { client_id, secret }));
        }
        Ok(match (body_id, body_secret) {
            (Some(id), Some(secret)) => Some(Self::Post { client_id: id.into(), secret: secret.into() }),
            (Some(id), None) => Some(Self::Public { client_id: id.into() }),
            (None, Some(_)) => {
                return Err(OAuthError::invalid_request("client_secret was sent without client_id"));
            }
            (None, None) => None,
        })
    }

    fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. } | Self::Post { client_id, .. } | Self::Public { client_id } => {
                client_id
            }
        }
    }

    /// `(client_id, secret)` when a secret was presented (Basic or in the body).
    pub fn with_secret(&self) -> Option<(&str, &str)> {
        match self {
            Self::Basic { client_id, secret } | Self::Post { client_id, secret } => Some((client_id, secret)),
            Self::Public { .. } => None,
        }
    }

    fn method(&self) -> AuthMethod {
        match self {
            Self::Basic { .. } => AuthMethod::SecretBasic,
            Self::Post { .. } => AuthMethod::SecretPost,
            Self::Public { .. } => AuthMethod::None,
        }
    }

    /// The registered, active client these credentials prove, using its registered method. The
    /// secret's digest is compared in constant time with the current one and, within its grace
    /// period, the previous one.
    pub async fn authenticate(&self, db: &Db, now: i64) -> Result<StoredClient, OAuthError> {
        let stored = match self.looked_up() {
            Some(id) => db.find_stored_client(id).await?,
            None => None,
        };
        self.verify(stored, now)
    }

    /// The client ID to look up, if it can be one.
    pub fn looked_up(&self) -> Option<&str> {
        Some(self.client_id()).filter(|id| id.len() <= ClientId::URL_MAX)
    }

    /// Checks these credentials against the client stored under their client ID (`None`: none
    /// is), as [`Credentials::authenticate`] does.
    pub fn verify(&self, stored: Option<StoredClient>, now: i64) -> Result<StoredClient, OAuthError> {
        let Some(stored) = stored else {
            return Err(OAuthError::invalid_client("unknown client"));
        };
        if !stored.client.active {
            return Err(OAuthError::invalid_client("the client is deactivated"));
        }
        let registered = stored.client.spec.auth.method();
        if registered != self.method() {
            return Err(OAuthError::invalid_client(format!(
                "this client authenticates with {}",
                registered.as_str()
            )));
        }
        if let Self::Basic { secret, .. } | Self::Post { secret, .. } = self {
            let offered = token::digest(secret);
            let current = stored.secret_digest.as_deref().is_some_and(|d| bool::from(d.ct_eq(&offered)));
            let previous = stored.old_secret_digest.as_deref().is_some_and(|d| bool::from(d.ct_eq(&offered)))
                && stored.old_secret_expires_at.is_some_and(|until| now < until);
            if !(current | previous) {
                return Err(OAuthError::invalid_client("client authentication failed"));
            }
        }
        Ok(stored)
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1), decoded.
fn basic_credentials(value: &HeaderValue) -> Option<(String, String)> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let value = value.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > 2048 {
        return None;
    }
    let decoded = String::from_utf8(LENIENT.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// application/x-www-form-urlencoded decoding of one value: `+` is a space, `%XX` a byte.
fn form_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(raw: &str) -> Option<(String, String)> {
        basic_credentials(&HeaderValue::from_str(raw).unwrap())
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        use base64::engine::general_purpose::STANDARD;
        let enc = STANDARD.encode("my%20app:s%2Bcret%3A1+x");
        assert_eq!(basic(&format!("Basic {enc}")), Some(("my app".into(), "s+cret:1 x".into())));
        assert_eq!(
            basic(&format!("basic {}", enc.trim_end_matches('='))).map(|c| c.0),
            Some("my app".into())
        );
        assert_eq!(basic("Bearer abc"), None);
        assert_eq!(basic("Basic !!!"), None);
        assert_eq!(basic(&format!("Basic {}", STANDARD.encode("no-colon"))), None);
        assert_eq!(basic(&format!("Basic {}", STANDARD.encode("a:%zz"))), None);
        assert_eq!(basic(&format!("Basic {}", STANDARD.encode([0xff, b':', b'a']))), None);
    }

    #[test]
    fn which_client_authentication_was_presented() {
        use base64::engine::general_purpose::STANDARD;
        let basic = format!("Basic {}", STANDARD.encode("app:s3cret"));
        let params = |pairs: &[(&str, &str)]| {
            Params(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        };
        // (Authorization header, body, expected: Ok(method) or Err(error code))
        type Case<'a> = (Option<&'a str>, &'a [(&'a str, &'a str)], Result<Option<&'a str>, &'a str>);
        let cases: [Case; 8] = [
            (Some(&basic), &[], Ok(Some("basic app s3cret"))),
            (Some(&basic), &[("client_id", "app")], Ok(Some("basic app s3cret"))),
            (Some(&basic), &[("client_id", "other")], Err("invalid_request")),
            (Some(&basic), &[("client_secret", "s3cret")], Err("invalid_request")),
            (Some("Bearer abc"), &[], Err("invalid_client")),
            (None, &[("client_id", "app"), ("client_secret", "s")], Ok(Some("post app s"))),
            (None, &[("client_id", "app")], Ok(Some("public app"))),
            (None, &[("client_secret", "s")], Err("invalid_request")),
        ];
        for (header, body, expected) in cases {
            let mut h = HeaderMap::new();
            if let Some(v) = header {
                h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            }
            let got = Credentials::presented(&h, &params(body)).map(|c| {
                c.map(|c| match c {
                    Credentials::Basic { client_id, secret } => format!("basic {client_id} {secret}"),
                    Credentials::Post { client_id, secret } => format!("post {client_id} {secret}"),
                    Credentials::Public { client_id } => format!("public {client_id}"),
                })
            });
            match (got, expected) {
                (Ok(g), Ok(e)) => assert_eq!(g.as_deref(), e, "{header:?} {body:?}"),
                (Err(g), Err(e)) => assert_eq!(g.code, e, "{header:?} {body:?}"),
                (g, e) => panic!("{header:?} {body:?}: got {g:?}, expected {e:?}"),
            }
        }
        assert!(Credentials::presented(&HeaderMap::new(), &params(&[])).unwrap().is_none());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        for creds in [
            Credentials::Basic { client_id: "app".into(), secret: "s3cret-value".into() },
            Credentials::Post { client_id: "app".into(), secret: "s3cret-value".into() },
        ] {
            let shown = format!("{creds:?} {creds:#?}");
            assert!(!shown.contains("s3cret-value"), "{shown}");
            assert!(shown.contains("app") && shown.contains("<redacted>"), "{shown}");
        }
        assert_eq!(
            format!("{:?}", Credentials::Public { client_id: "app".into() }),
            r#"Public { client_id: "app" }"#
        );
    }

    #[test]
    fn repeated_and_empty_parameters() {
        let p = Params(vec![("a".into(), "1".into()), ("a".into(), "2".into()), ("b".into(), String::new())]);
        assert_eq!(p.get("a").unwrap_err().code, "invalid_request");
        assert_eq!(p.get("b").unwrap(), None);
        assert_eq!(p.require("b").unwrap_err().description, "b is required");
    }
}
