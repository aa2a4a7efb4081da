//! The rest of a client's settings: scope, token lifetimes, refresh count, texts, rate limit.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use crate::domain::Scope;

/// What a client may ask for: "All API Access" (`read write`) or "Read-only API Access" (`read`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientScope {
    Full,
    Read,
}

impl ClientScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientScope::Full => "full",
            ClientScope::Read => "read",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, OptionError> {
        match raw {
            "full" => Ok(ClientScope::Full),
            "read" => Ok(ClientScope::Read),
            _ => Err(OptionError::Scope),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ClientScope::Full => "All API Access",
            ClientScope::Read => "Read-only API Access",
        }
    }

    /// The OAuth scope values this client may be granted.
    pub fn scopes(self) -> Scope {
        match self {
            ClientScope::Full => Scope::ALL,
            ClientScope::Read => Scope::READ,
        }
    }
}

/// Largest lifetime or count: what a signed 32-bit column holds.
pub const MAX_I32: u32 = i32::MAX as u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessLifetime {
    /// The instance setting (12 hours by default).
    Global,
    Never,
    Seconds(NonZeroU32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefreshLifetime {
    /// The instance setting (30 days by default).
    Global,
    Seconds(NonZeroU32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefreshCount {
    Unlimited,
    /// At most this many refreshes; 0 means no refresh token is issued.
    Limit(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("Scope must be 'full' (All API Access) or 'read' (Read-only API Access)")]
    Scope,
    #[error("must be a whole number of seconds from 1 to 2147483647")]
    Seconds,
    #[error("must be a whole number from 0 to 2147483647")]
    Count,
    #[error("must be a whole number of requests per minute from 1 to 2147483647, or empty for unlimited")]
    RateLimit,
    #[error("must be a whole number of seconds from 1 to 300, or empty for off")]
    ReuseGrace,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters other than line breaks")]
    ControlCharacter,
}

/// A whole number of seconds in 1..=2147483647.
pub fn parse_seconds(raw: &str) -> Result<NonZeroU32, OptionError> {
    raw.trim().parse::<NonZeroU32>().ok().filter(|n| n.get() <= MAX_I32).ok_or(OptionError::Seconds)
}

pub fn parse_count(raw: &str) -> Result<u32, OptionError> {
    raw.trim().parse::<u32>().ok().filter(|n| *n <= MAX_I32).ok_or(OptionError::Count)
}

/// Longest refresh reuse grace: long enough for a lost response or two tabs, short enough that a
/// stolen refresh token is still caught.
pub const REUSE_GRACE_MAX: u32 = 300;

/// Seconds within which a used refresh token may be presented again and get the same successor;
/// empty means off.
pub fn parse_reuse_grace(raw: &str) -> Result<Option<NonZeroU32>, OptionError> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "off" {
        return Ok(None);
    }
    raw.parse::<NonZeroU32>()
        .ok()
        .filter(|n| n.get() <= REUSE_GRACE_MAX)
        .map(Some)
        .ok_or(OptionError::ReuseGrace)
}

/// Requests per minute; empty means unlimited.
pub fn parse_rate_limit(raw: &str) -> Result<Option<NonZeroU32>, OptionError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<NonZeroU32>().ok().filter(|n| n.get() <= MAX_I32).map(Some).ok_or(OptionError::RateLimit)
}

/// Optional free text of at most `max` characters; empty after trimming is `None`.
pub fn parse_text(raw: &str, max: usize, multiline: bool) -> Result<Option<String>, OptionError> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'))) {
        return Err(OptionError::ControlCharacter);
    }
    if text.chars().count() > max {
        return Err(OptionError::TooLong(max));
    }
    Ok(Some(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope() {
        assert_eq!(ClientScope::parse("full").map(ClientScope::scopes), Ok(Scope::ALL));
        assert_eq!(ClientScope::parse("read").map(ClientScope::scopes), Ok(Scope::READ));
        assert_eq!(ClientScope::parse("write"), Err(OptionError::Scope));
    }

    #[test]
    fn numbers() {
        for (raw, ok) in [
            ("1", true),
            (" 3600 ", true),
            ("2147483647", true),
            ("0", false),
            ("-1", false),
            ("2147483648", false),
            ("1.5", false),
            ("", false),
            ("1e3", false),
        ] {
            assert_eq!(parse_seconds(raw).is_ok(), ok, "seconds {raw:?}");
        }
        assert_eq!(parse_count("0"), Ok(0));
        assert_eq!(parse_count("2147483647"), Ok(MAX_I32));
        assert_eq!(parse_count("2147483648"), Err(OptionError::Count));
        assert_eq!(parse_count("-3"), Err(OptionError::Count));
        assert_eq!(parse_rate_limit(""), Ok(None));
        assert_eq!(parse_rate_limit(" 60 ").map(|o| o.map(NonZeroU32::get)), Ok(Some(60)));
        assert_eq!(parse_rate_limit("0"), Err(OptionError::RateLimit));
        assert_eq!(parse_rate_limit("lots"), Err(OptionError::RateLimit));
    }

    #[test]
    fn texts() {
        assert_eq!(parse_text("  ", 10, false), Ok(None));
        assert_eq!(parse_text(" v1.2 ", 50, false), Ok(Some("v1.2".into())));
        assert_eq!(parse_text(&"x".repeat(51), 50, false), Err(OptionError::TooLong(50)));
        assert_eq!(parse_text("line\nbreak", 1000, true), Ok(Some("line\nbreak".into())));
        assert_eq!(parse_text("line\nbreak", 50, false), Err(OptionError::ControlCharacter));
        assert_eq!(parse_text("bell\u{7}", 1000, true), Err(OptionError::ControlCharacter));
    }
}

/// How long a replaced secret keeps working after "Regenerate secret", so apps can roll over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecretGrace {
    None,
    OneHour,
    OneDay,
}

impl SecretGrace {
    pub fn parse(raw: &str) -> Result<Self, SecretGraceError> {
        match raw {
            "none" | "0" => Ok(SecretGrace::None),
            "1h" => Ok(SecretGrace::OneHour),
            "24h" => Ok(SecretGrace::OneDay),
            _ => Err(SecretGraceError),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SecretGrace::None => "none",
            SecretGrace::OneHour => "1h",
            SecretGrace::OneDay => "24h",
        }
    }

    pub fn seconds(self) -> Option<i64> {
        match self {
            SecretGrace::None => None,
            SecretGrace::OneHour => Some(3600),
            SecretGrace::OneDay => Some(86_400),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("grace period must be none, 1h or 24h")]
pub struct SecretGraceError;
