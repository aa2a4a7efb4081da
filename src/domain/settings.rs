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
}

impl Default for InstanceSettings {
    fn default() -> Self {
        Self {
            access_token_lifetime: nz(43_200),
            refresh_token_lifetime: nz(2_592_000),
            session_cap: nz(10),
            session_max_lifetime: nz(7_776_000),
            api_enabled: true,
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
    #[error("API access must be 'on' or 'off'")]
    Switch,
}

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
