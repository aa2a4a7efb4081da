//! Usernames: 1–64 ASCII letters, digits, `.`, `_` and `-`, compared case-insensitively.

use std::fmt;

/// A validated username, stored lower-cased so `Alice` and `alice` are one account.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("username is required")]
    Empty,
    #[error("username must be at most {max} characters", max = Username::MAX_LEN)]
    TooLong,
    #[error("username may contain only letters, digits, '.', '_' and '-'")]
    InvalidCharacter,
}

impl Username {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        if raw.is_empty() {
            return Err(UsernameError::Empty);
        }
        // Checked before the length so a long non-ASCII string gets the more useful message.
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(UsernameError::InvalidCharacter);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(UsernameError::TooLong);
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        for (raw, stored) in [
            ("alice", "alice"),
            ("Alice.Smith_2-x", "alice.smith_2-x"),
            ("a", "a"),
            (&"z".repeat(64), &"z".repeat(64)),
        ] {
            assert_eq!(Username::parse(raw).map(|u| u.0), Ok(stored.to_string()), "{raw}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        for (raw, err) in [
            ("", UsernameError::Empty),
            (&"z".repeat(65), UsernameError::TooLong),
            ("al ice", UsernameError::InvalidCharacter),
            (" alice", UsernameError::InvalidCharacter),
            ("alice@example.com", UsernameError::InvalidCharacter),
            ("ålice", UsernameError::InvalidCharacter),
            ("a/b", UsernameError::InvalidCharacter),
            ("a\0", UsernameError::InvalidCharacter),
            (&"é".repeat(40), UsernameError::InvalidCharacter),
        ] {
            assert_eq!(Username::parse(raw), Err(err), "{raw:?}");
        }
    }
}
