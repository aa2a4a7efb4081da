//! OAuth2 client registrations: every rule about what a client record may hold. The browser form,
//! the server functions, the CLI and the OAuth endpoints all go through [`ClientForm::validate`]
//! or the types it builds; nobody re-implements a check.

mod auth;
mod list;
mod name;
mod options;
mod record;
pub(crate) mod redirect_uri;
pub mod transfer;

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use super::api::ApiIdentifier;

pub use auth::{AuthMethod, ClientAuth, ClientAuthError, Pkce, SecretMethod};
pub use list::{ClientPage, ClientSummary, ListQuery, OriginFilter, SortKey, StateFilter, percent_encode};
pub use name::{ClientName, ClientNameError};
pub use options::{
    AccessLifetime, ClientScope, OptionError, REUSE_GRACE_MAX, RefreshCount, RefreshLifetime, SecretGrace,
    SecretGraceError,
};
pub use record::{Client, ClientId, ClientIdError, ClientOrigin, SecretInfo};
pub use redirect_uri::{RedirectUri, RedirectUriError, RedirectUris, RedirectUrisError};

pub const DESCRIPTION_MAX: usize = 1000;
pub const VERSION_MAX: usize = 50;

/// A validated client registration, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSpec {
    pub name: ClientName,
    pub redirect_uris: RedirectUris,
    pub auth: ClientAuth,
    pub scope: ClientScope,
    pub description: Option<String>,
    pub version: Option<String>,
    pub access_lifetime: AccessLifetime,
    pub refresh_lifetime: RefreshLifetime,
    pub refresh_count: RefreshCount,
    /// Show the allow/deny screen.
    pub consent: bool,
    /// API requests per minute; `None` is unlimited.
    pub rate_limit: Option<NonZeroU32>,
    /// Seconds within which a rotated refresh token may come back and get the same successor
    /// instead of revoking its session (lost responses, two tabs); `None`: off (the default).
    pub refresh_reuse_grace: Option<NonZeroU32>,
    /// May get tokens for itself with the client_credentials grant (RFC 6749 §4.4), for
    /// unattended jobs. Off by default; confidential clients only.
    pub client_credentials: bool,
}

/// The fields of the client form, each of which can carry its own error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    RedirectUris,
    AuthMethod,
    RequirePkce,
    ClientCredentials,
    Scope,
    Description,
    Version,
    AccessLifetime,
    RefreshLifetime,
    RefreshCount,
    RefreshReuseGrace,
    Consent,
    RateLimit,
    /// The APIs the client may ask tokens for (checked against the registry, not here).
    Apis,
}

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::RedirectUris => "Redirect URLs",
            Field::AuthMethod => "Client Authentication Method",
            Field::RequirePkce => "Require Proof Key (PKCE)",
            Field::ClientCredentials => "Client credentials grant",
            Field::Scope => "Scope",
            Field::Description => "Description",
            Field::Version => "Version",
            Field::AccessLifetime => "Access token lifetime",
            Field::RefreshLifetime => "Refresh token lifetime",
            Field::RefreshCount => "Refresh count",
            Field::RefreshReuseGrace => "Refresh token reuse grace",
            Field::Consent => "Show allow/deny screen",
            Field::RateLimit => "Rate limit",
            Field::Apis => "APIs",
        }
    }

    /// The CLI flag that sets this field.
    pub fn flag(self) -> &'static str {
        match self {
            Field::Name => "--name",
            Field::RedirectUris => "--redirect-uri",
            Field::AuthMethod => "--auth-method",
            Field::RequirePkce => "--pkce",
            Field::ClientCredentials => "--client-credentials",
            Field::Scope => "--scope",
            Field::Description => "--description",
            Field::Version => "--version-label",
            Field::AccessLifetime => "--access-token-lifetime",
            Field::RefreshLifetime => "--refresh-token-lifetime",
            Field::RefreshCount => "--refresh-count",
            Field::RefreshReuseGrace => "--refresh-reuse-grace",
            Field::Consent => "--no-consent",
            Field::RateLimit => "--rate-limit",
            Field::Apis => "--api",
        }
    }
}

/// Errors by field, in form order; a field may appear once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(Vec<(Field, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: Field, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
            self.0.sort_by_key(|(f, _)| *f);
        }
    }

    pub fn get(&self, field: Field) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Field, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }

    pub fn first(&self) -> Option<(Field, &str)> {
        self.iter().next()
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all: Vec<&str> = self.0.iter().map(|(_, m)| m.as_str()).collect();
        f.write_str(&all.join("; "))
    }
}

/// The client form as typed: plain strings and switches, exactly what the browser sends. The CLI
/// fills the same structure, so both meet the same checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientForm {
    pub name: String,
    /// One URL per line.
    pub redirect_uris: String,
    pub auth_method: String,
    pub require_pkce: bool,
    /// Allow the client_credentials grant (confidential clients only).
    #[serde(default)]
    pub client_credentials: bool,
    pub scope: String,
    pub description: String,
    pub version: String,
    /// `global` | `never` | `custom` (then `access_lifetime_secs`).
    pub access_lifetime: String,
    pub access_lifetime_secs: String,
    /// `global` | `custom` (then `refresh_lifetime_secs`).
    pub refresh_lifetime: String,
    pub refresh_lifetime_secs: String,
    /// `unlimited` | `limit` (then `refresh_count_limit`).
    pub refresh_count: String,
    pub refresh_count_limit: String,
    pub consent: bool,
    /// Requests per minute; empty is unlimited.
    pub rate_limit: String,
    /// Seconds, or empty for off.
    pub refresh_reuse_grace: String,
    /// The APIs (identifiers) the client may ask tokens for; `None`: any active API. Which of
    /// them are registered is checked by the registry, which stores them apart from the spec.
    #[serde(default)]
    pub apis: Option<Vec<String>>,
}

impl Default for ClientForm {
    /// A new client's defaults: client_secret_post, PKCE required, all API access, global
    /// lifetimes, unlimited refreshes, consent screen shown, no rate limit.
    fn default() -> Self {
        Self {
            name: String::new(),
            redirect_uris: String::new(),
            auth_method: AuthMethod::SecretPost.as_str().into(),
            require_pkce: true,
            client_credentials: false,
            scope: ClientScope::Full.as_str().into(),
            description: String::new(),
            version: String::new(),
            access_lifetime: "global".into(),
            access_lifetime_secs: String::new(),
            refresh_lifetime: "global".into(),
            refresh_lifetime_secs: String::new(),
            refresh_count: "unlimited".into(),
            refresh_count_limit: String::new(),
            consent: true,
            rate_limit: String::new(),
            refresh_reuse_grace: String::new(),
            apis: None,
        }
    }
}

impl ClientForm {
    /// Checks every field and reports every problem at once, each on its own field.
    pub fn validate(&self) -> Result<ClientSpec, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = ClientName::parse(&self.name).map_err(|e| errors.add(Field::Name, e.to_string()));
        let redirect_uris = RedirectUris::parse_lines(&self.redirect_uris)
            .map_err(|e| errors.add(Field::RedirectUris, e.to_string()));
        let auth = self.auth(&mut errors);
        if auth == Ok(ClientAuth::Public) && !self.consent {
            let rule = ClientAuthError::NoneWithoutConsent.to_string();
            errors.add(Field::AuthMethod, rule.clone());
            errors.add(Field::Consent, rule);
        }
        if auth == Ok(ClientAuth::Public) && self.client_credentials {
            let rule = ClientAuthError::NoneWithClientCredentials.to_string();
            errors.add(Field::AuthMethod, rule.clone());
            errors.add(Field::ClientCredentials, rule);
        }
        let scope = ClientScope::parse(&self.scope).map_err(|e| errors.add(Field::Scope, e.to_string()));
        let labelled = |field: Field, e: OptionError| format!("{} {e}", field.label());
        let description = options::parse_text(&self.description, DESCRIPTION_MAX, true)
            .map_err(|e| errors.add(Field::Description, labelled(Field::Description, e)));
        let version = options::parse_text(&self.version, VERSION_MAX, false)
            .map_err(|e| errors.add(Field::Version, labelled(Field::Version, e)));
        let access_lifetime = match self.access_lifetime.as_str() {
            "global" => Ok(AccessLifetime::Global),
            "never" => Ok(AccessLifetime::Never),
            "custom" => options::parse_seconds(&self.access_lifetime_secs).map(AccessLifetime::Seconds),
            _ => Err(OptionError::Seconds),
        }
        .map_err(|e| errors.add(Field::AccessLifetime, labelled(Field::AccessLifetime, e)));
        let refresh_lifetime = match self.refresh_lifetime.as_str() {
            "global" => Ok(RefreshLifetime::Global),
            "custom" => options::parse_seconds(&self.refresh_lifetime_secs).map(RefreshLifetime::Seconds),
            _ => Err(OptionError::Seconds),
        }
        .map_err(|e| errors.add(Field::RefreshLifetime, labelled(Field::RefreshLifetime, e)));
        let refresh_count = match self.refresh_count.as_str() {
            "unlimited" => Ok(RefreshCount::Unlimited),
            "limit" => options::parse_count(&self.refresh_count_limit).map(RefreshCount::Limit),
            _ => Err(OptionError::Count),
        }
        .map_err(|e| errors.add(Field::RefreshCount, labelled(Field::RefreshCount, e)));
        let rate_limit = options::parse_rate_limit(&self.rate_limit)
            .map_err(|e| errors.add(Field::RateLimit, labelled(Field::RateLimit, e)));
        let refresh_reuse_grace = options::parse_reuse_grace(&self.refresh_reuse_grace)
            .map_err(|e| errors.add(Field::RefreshReuseGrace, labelled(Field::RefreshReuseGrace, e)));
        if let Err(e) = self.api_identifiers() {
            errors.add(Field::Apis, e);
        }
        match (
            name,
            redirect_uris,
            auth,
            scope,
            description,
            version,
            access_lifetime,
            refresh_lifetime,
            refresh_count,
            rate_limit,
            refresh_reuse_grace,
        ) {
            (
                Ok(name),
                Ok(redirect_uris),
                Ok(auth),
                Ok(scope),
                Ok(description),
                Ok(version),
                Ok(access_lifetime),
                Ok(refresh_lifetime),
                Ok(refresh_count),
                Ok(rate_limit),
                Ok(refresh_reuse_grace),
            ) if errors.is_empty() => Ok(ClientSpec {
                name,
                redirect_uris,
                auth,
                scope,
                description,
                version,
                access_lifetime,
                refresh_lifetime,
                refresh_count,
                consent: self.consent,
                rate_limit,
                refresh_reuse_grace,
                client_credentials: self.client_credentials,
            }),
            _ => Err(errors),
        }
    }

    /// The APIs the client is limited to, each a well-formed identifier; `None`: any active API.
    pub fn api_identifiers(&self) -> Result<Option<Vec<ApiIdentifier>>, String> {
        let Some(list) = &self.apis else { return Ok(None) };
        if list.is_empty() {
            return Err("APIs: choose at least one API, or allow any active API".into());
        }
        if list.len() > Self::MAX_APIS {
            return Err(format!("APIs: at most {} may be listed", Self::MAX_APIS));
        }
        let mut ids: Vec<ApiIdentifier> = Vec::with_capacity(list.len());
        for raw in list {
            let id = ApiIdentifier::parse(raw.trim()).map_err(|e| {
                let shown: String = raw.chars().take(80).collect();
                format!("API {shown} {e}")
            })?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(Some(ids))
    }

    /// Most APIs one client may be limited to.
    pub const MAX_APIS: usize = 100;

    /// The auth method and PKCE switch together; the forbidden pair is reported on both fields.
    fn auth(&self, errors: &mut FieldErrors) -> Result<ClientAuth, ()> {
        let method =
            AuthMethod::parse(&self.auth_method).map_err(|e| errors.add(Field::AuthMethod, e.to_string()))?;
        let pkce = if self.require_pkce { Pkce::Required } else { Pkce::Optional };
        ClientAuth::new(method, pkce).map_err(|e| {
            errors.add(Field::AuthMethod, e.to_string());
            errors.add(Field::RequirePkce, e.to_string());
        })
    }

    /// The form showing a stored client, for editing.
    pub fn from_spec(spec: &ClientSpec) -> Self {
        let (access_lifetime, access_lifetime_secs) = match spec.access_lifetime {
            AccessLifetime::Global => ("global", String::new()),
            AccessLifetime::Never => ("never", String::new()),
            AccessLifetime::Seconds(s) => ("custom", s.to_string()),
        };
        let (refresh_lifetime, refresh_lifetime_secs) = match spec.refresh_lifetime {
            RefreshLifetime::Global => ("global", String::new()),
            RefreshLifetime::Seconds(s) => ("custom", s.to_string()),
        };
        let (refresh_count, refresh_count_limit) = match spec.refresh_count {
            RefreshCount::Unlimited => ("unlimited", String::new()),
            RefreshCount::Limit(n) => ("limit", n.to_string()),
        };
        Self {
            name: spec.name.to_string(),
            redirect_uris: spec.redirect_uris.iter().map(RedirectUri::as_str).collect::<Vec<_>>().join("\n"),
            auth_method: spec.auth.method().as_str().into(),
            require_pkce: spec.auth.pkce() == Pkce::Required,
            client_credentials: spec.client_credentials,
            scope: spec.scope.as_str().into(),
            description: spec.description.clone().unwrap_or_default(),
            version: spec.version.clone().unwrap_or_default(),
            access_lifetime: access_lifetime.into(),
            access_lifetime_secs,
            refresh_lifetime: refresh_lifetime.into(),
            refresh_lifetime_secs,
            refresh_count: refresh_count.into(),
            refresh_count_limit,
            consent: spec.consent,
            rate_limit: spec.rate_limit.map(|n| n.to_string()).unwrap_or_default(),
            refresh_reuse_grace: spec.refresh_reuse_grace.map(|n| n.to_string()).unwrap_or_default(),
            apis: None,
        }
    }
}

#[cfg(test)]
mod tests;
