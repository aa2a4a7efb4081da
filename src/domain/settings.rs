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
}
