//! Human passwords. Never logged, never serialised: `Debug` is redacted and there is no `Serialize`.

use std::fmt;

#[derive(Clone)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password is required")]
    Empty,
    #[error("password must be at least {min} characters", min = Password::MIN_LEN)]
    TooShort,
    #[error("password must be at most {max} characters", max = Password::MAX_LEN)]
    TooLong,
}

impl Password {
    pub const MIN_LEN: usize = 8;
    /// Bounds the work one sign-in attempt can ask of the hasher.
    pub const MAX_LEN: usize = 1024;

    /// The rules for a new password (CLI, future password changes).
    pub fn parse_new(raw: String) -> Result<Self, PasswordError> {
        let len = raw.chars().count();
        if len == 0 {
            Err(PasswordError::Empty)
        } else if len < Self::MIN_LEN {
            Err(PasswordError::TooShort)
        } else if len > Self::MAX_LEN {
            Err(PasswordError::TooLong)
        } else {
            Ok(Self(raw))
        }
    }

    /// A password offered at sign-in: only bounded, never judged, so old accounts keep working
    /// and the answer never reveals which rule failed.
    pub fn offered(raw: String) -> Option<Self> {
        (raw.len() <= Self::MAX_LEN * 4).then_some(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_password_rules() {
        for (raw, ok) in [
            ("", Err(PasswordError::Empty)),
            ("1234567", Err(PasswordError::TooShort)),
            ("12345678", Ok(())),
            ("pässwörd", Ok(())),
            (&"x".repeat(1024), Ok(())),
            (&"x".repeat(1025), Err(PasswordError::TooLong)),
        ] {
            assert_eq!(Password::parse_new(raw.to_string()).map(|_| ()), ok, "{raw:?}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let p = Password::parse_new("correct horse".into()).unwrap();
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
    }

    #[test]
    fn offered_is_bounded() {
        assert!(Password::offered("short".into()).is_some());
        assert!(Password::offered("x".repeat(10_000)).is_none());
    }
}
