//! Instance-wide settings: the defaults clients fall back to, the session cap, and the switch that
//! turns API access off for everyone. Stored in the database, so the CLI can change them while
//! the server runs.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceSettings {
    /// Access token lifetime for clients using the global setting (default 12 hours).
    pub access_token_lifetime: NonZeroU32,
    /// Refresh token lifetime for clients using the global setting (default 30 days).
    pub refresh_token_lifetime: NonZeroU32,
    /// Live sessions (refresh-token families) a user may hold per client (default 10).
    pub session_cap: NonZeroU32,
    /// The longest a session may live from its authorization, refreshes or not (default 90 days):
    /// no refresh token of it expires later.
    pub session_max_lifetime: NonZeroU32,
    /// Off: the token endpoint and the API refuse every request.
    pub api_enabled: bool,
    /// Who may register a client through `POST /oauth2/register` (RFC 7591); off by default.
    pub registration: RegistrationPolicy,
    /// Whether an `https` client_id is taken as the URL of its client ID metadata document.
    pub client_metadata_documents: bool,
    /// At most this many self-registered clients exist at once (default 1000).
    pub max_self_registered: u32,
}

/// Dynamic client registration (RFC 7591): off, open to anyone, or with an initial access token
/// an administrator issued (RFC 7591 §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationPolicy {
    #[default]
    Off,
    Open,
    Token,
}

impl RegistrationPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationPolicy::Off => "off",
            RegistrationPolicy::Open => "open",
            RegistrationPolicy::Token => "token",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, SettingsError> {
        match raw {
            "off" => Ok(RegistrationPolicy::Off),
            "open" => Ok(RegistrationPolicy::Open),
            "token" => Ok(RegistrationPolicy::Token),
            _ => Err(SettingsError::Registration),
        }
    }
}

impl Default for InstanceSettings {
    fn default() -> Self {
        Self {
            access_token_lifetime: nz(43_200),
            refresh_token_lifetime: nz(2_592_000),
            session_cap: nz(10),
            session_max_lifetime: nz(7_776_000),
            api_enabled: true,
            registration: RegistrationPolicy::Off,
            client_metadata_documents: false,
            max_self_registered: 1000,
        }
    }
}

const fn nz(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(v) => v,
        None => NonZeroU32::MIN,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{0} must be a whole number of seconds from 1 to 2147483647")]
    Seconds(&'static str),
    #[error("session cap must be a whole number from 1 to 1000")]
    SessionCap,
    #[error("must be 'on' or 'off'")]
    Switch,
    #[error("must be 'off', 'open' or 'token'")]
    Registration,
    #[error("must be a whole number from 0 to {MAX_SELF_REGISTERED}")]
    MaxSelfRegistered,
}

/// Largest cap on self-registered clients.
pub const MAX_SELF_REGISTERED: u32 = 1_000_000;

/// Largest session cap: far above any real use, small enough to bound the per-login work.
pub const SESSION_CAP_MAX: u32 = 1000;

impl InstanceSettings {
    pub fn parse_seconds(field: &'static str, raw: &str) -> Result<NonZeroU32, SettingsError> {
        raw.trim()
            .parse::<NonZeroU32>()
            .ok()
            .filter(|n| n.get() <= i32::MAX as u32)
            .ok_or(SettingsError::Seconds(field))
    }

    pub fn parse_session_cap(raw: &str) -> Result<NonZeroU32, SettingsError> {
        raw.trim()
            .parse::<NonZeroU32>()
            .ok()
            .filter(|n| n.get() <= SESSION_CAP_MAX)
            .ok_or(SettingsError::SessionCap)
    }

    pub fn parse_max_self_registered(raw: &str) -> Result<u32, SettingsError> {
        raw.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= MAX_SELF_REGISTERED)
            .ok_or(SettingsError::MaxSelfRegistered)
    }

    pub fn parse_switch(raw: &str) -> Result<bool, SettingsError> {
        match raw {
            "on" => Ok(true),
            "off" => Ok(false),
            _ => Err(SettingsError::Switch),
        }
    }
}

/// The fields of the settings page, each of which can carry its own error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingsField {
    ApiAccess,
    AccessTokenLifetime,
    RefreshTokenLifetime,
    SessionCap,
    SessionMaxLifetime,
    Registration,
    ClientMetadataDocuments,
    MetadataDocumentHosts,
    MaxSelfRegistered,
}

impl SettingsField {
    pub fn label(self) -> &'static str {
        match self {
            SettingsField::ApiAccess => "API access",
            SettingsField::AccessTokenLifetime => "Access token lifetime",
            SettingsField::RefreshTokenLifetime => "Refresh token lifetime",
            SettingsField::SessionCap => "Sessions per user per client",
            SettingsField::SessionMaxLifetime => "Longest session",
            SettingsField::Registration => "Client registration",
            SettingsField::ClientMetadataDocuments => "Client ID metadata documents",
            SettingsField::MetadataDocumentHosts => "Document hosts allowed on private addresses",
            SettingsField::MaxSelfRegistered => "Most self-registered clients",
        }
    }
}

/// Errors by field, in page order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsErrors(pub Vec<(SettingsField, String)>);

impl SettingsErrors {
    pub fn get(&self, field: SettingsField) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The settings page as typed; [`SettingsForm::validate`] checks every field at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsForm {
    pub api_access: bool,
    /// Seconds.
    pub access_token_lifetime: String,
    pub refresh_token_lifetime: String,
    pub session_cap: String,
    pub session_max_lifetime: String,
    /// `off` | `open` | `token`.
    pub registration: String,
    pub client_metadata_documents: bool,
    /// Host names, separated by spaces, commas or lines.
    pub metadata_document_hosts: String,
    pub max_self_registered: String,
}

/// What the settings page saves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidSettings {
    pub settings: InstanceSettings,
    pub metadata_document_hosts: Vec<String>,
}

impl SettingsForm {
    pub fn of(s: &InstanceSettings, hosts: &[String]) -> Self {
        Self {
            api_access: s.api_enabled,
            access_token_lifetime: s.access_token_lifetime.to_string(),
            refresh_token_lifetime: s.refresh_token_lifetime.to_string(),
            session_cap: s.session_cap.to_string(),
            session_max_lifetime: s.session_max_lifetime.to_string(),
            registration: s.registration.as_str().into(),
            client_metadata_documents: s.client_metadata_documents,
            metadata_document_hosts: hosts.join(" "),
            max_self_registered: s.max_self_registered.to_string(),
        }
    }

    pub fn validate(&self) -> Result<ValidSettings, SettingsErrors> {
        let mut errors = Vec::new();
        // Each message is a whole sentence starting with the field's label.
        let mut check = |field: SettingsField, r: Result<(), SettingsError>| {
            if let Err(e) = r {
                let rule = match e {
                    SettingsError::Seconds(_) => {
                        "must be a whole number of seconds from 1 to 2147483647".into()
                    }
                    SettingsError::SessionCap => {
                        format!("must be a whole number from 1 to {SESSION_CAP_MAX}")
                    }
                    other => other.to_string(),
                };
                errors.push((field, format!("{} {rule}", field.label())));
            }
        };
        let mut settings = InstanceSettings::default();
        check(
            SettingsField::AccessTokenLifetime,
            InstanceSettings::parse_seconds("access token lifetime", &self.access_token_lifetime)
                .map(|v| settings.access_token_lifetime = v),
        );
        check(
            SettingsField::RefreshTokenLifetime,
            InstanceSettings::parse_seconds("refresh token lifetime", &self.refresh_token_lifetime)
                .map(|v| settings.refresh_token_lifetime = v),
        );
        check(
            SettingsField::SessionCap,
            InstanceSettings::parse_session_cap(&self.session_cap).map(|v| settings.session_cap = v),
        );
        check(
            SettingsField::SessionMaxLifetime,
            InstanceSettings::parse_seconds("longest session", &self.session_max_lifetime)
                .map(|v| settings.session_max_lifetime = v),
        );
        check(
            SettingsField::Registration,
            RegistrationPolicy::parse(&self.registration).map(|v| settings.registration = v),
        );
        check(
            SettingsField::MaxSelfRegistered,
            InstanceSettings::parse_max_self_registered(&self.max_self_registered)
                .map(|v| settings.max_self_registered = v),
        );
        settings.api_enabled = self.api_access;
        settings.client_metadata_documents = self.client_metadata_documents;
        let hosts = match parse_hosts(&self.metadata_document_hosts) {
            Ok(h) => h,
            Err(e) => {
                errors.push((
                    SettingsField::MetadataDocumentHosts,
                    format!("{}: {e}", SettingsField::MetadataDocumentHosts.label()),
                ));
                Vec::new()
            }
        };
        if errors.is_empty() {
            Ok(ValidSettings { settings, metadata_document_hosts: hosts })
        } else {
            errors.sort_by_key(|(f, _)| *f);
            Err(SettingsErrors(errors))
        }
    }
}

/// Most host names in the metadata document allow list.
pub const HOSTS_MAX: usize = 50;

/// Exact host names (or IP addresses), separated by spaces, commas or lines; `none` or empty: none.
pub fn parse_hosts(raw: &str) -> Result<Vec<String>, String> {
    if raw.trim() == "none" {
        return Ok(Vec::new());
    }
    let mut hosts: Vec<String> = Vec::new();
    for h in raw.split([' ', ',', '\n', '\r', '\t']).filter(|h| !h.is_empty()) {
        let h = h.to_ascii_lowercase();
        let ok =
            h.len() <= 253 && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !ok {
            return Err(format!("'{h}' is not a host name (no scheme, port or path)"));
        }
        if !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    if hosts.len() > HOSTS_MAX {
        return Err(format!("at most {HOSTS_MAX} host names"));
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let d = InstanceSettings::default();
        assert_eq!(
            (
                d.access_token_lifetime.get(),
                d.refresh_token_lifetime.get(),
                d.session_cap.get(),
                d.session_max_lifetime.get(),
                d.api_enabled
            ),
            (43_200, 2_592_000, 10, 7_776_000, true)
        );
    }

    #[test]
    fn parsing() {
        assert_eq!(InstanceSettings::parse_seconds("x", "3600").map(NonZeroU32::get), Ok(3600));
        for bad in ["0", "-1", "2147483648", "1h", ""] {
            assert_eq!(InstanceSettings::parse_seconds("x", bad), Err(SettingsError::Seconds("x")), "{bad}");
        }
        assert_eq!(InstanceSettings::parse_session_cap("10").map(NonZeroU32::get), Ok(10));
        for bad in ["0", "1001", "ten"] {
            assert_eq!(InstanceSettings::parse_session_cap(bad), Err(SettingsError::SessionCap), "{bad}");
        }
        assert_eq!(InstanceSettings::parse_switch("off"), Ok(false));
        assert_eq!(InstanceSettings::parse_switch("false"), Err(SettingsError::Switch));
    }

    #[test]
    fn the_settings_form_names_each_bad_field() {
        let good = SettingsForm::of(&InstanceSettings::default(), &["docs.example".into()]);
        let v = good.validate().unwrap();
        assert_eq!(v.settings, InstanceSettings::default());
        assert_eq!(v.metadata_document_hosts, ["docs.example"]);
        let bad = SettingsForm {
            access_token_lifetime: "12h".into(),
            session_cap: "0".into(),
            registration: "maybe".into(),
            metadata_document_hosts: "https://x/".into(),
            max_self_registered: "-3".into(),
            ..good
        };
        let errors = bad.validate().unwrap_err();
        let fields: Vec<SettingsField> = errors.0.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                SettingsField::AccessTokenLifetime,
                SettingsField::SessionCap,
                SettingsField::Registration,
                SettingsField::MetadataDocumentHosts,
                SettingsField::MaxSelfRegistered
            ]
        );
        assert_eq!(parse_hosts("a.example, B.example\n a.example").unwrap(), ["a.example", "b.example"]);
        assert_eq!(parse_hosts("none").unwrap(), Vec::<String>::new());
    }
}
