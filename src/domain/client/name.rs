//! A client's display name: free text shown to users on the consent screen (always escaped).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientNameError {
    #[error("Name is required")]
    Empty,
    #[error("Name must be at most {max} characters", max = ClientName::MAX_LEN)]
    TooLong,
    #[error("Name must not contain control characters")]
    ControlCharacter,
}

impl ClientName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, ClientNameError> {
        let name = raw.trim();
        if name.is_empty() {
            Err(ClientNameError::Empty)
        } else if name.chars().any(char::is_control) {
            Err(ClientNameError::ControlCharacter)
        } else if name.chars().count() > Self::MAX_LEN {
            Err(ClientNameError::TooLong)
        } else {
            Ok(Self(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for (raw, want) in [
            ("My App", Ok("My App")),
            ("  padded  ", Ok("padded")),
            ("<script>alert(1)</script>", Ok("<script>alert(1)</script>")),
            ("Ünïcödé 应用", Ok("Ünïcödé 应用")),
            (&"é".repeat(100), Ok(&*"é".repeat(100))),
            ("", Err(ClientNameError::Empty)),
            ("   ", Err(ClientNameError::Empty)),
            (&"a".repeat(101), Err(ClientNameError::TooLong)),
            ("tab\there", Err(ClientNameError::ControlCharacter)),
            ("new\nline", Err(ClientNameError::ControlCharacter)),
            ("nul\0", Err(ClientNameError::ControlCharacter)),
        ] {
            assert_eq!(ClientName::parse(raw).as_ref().map(ClientName::as_str), want.as_deref(), "{raw:?}");
        }
    }
}
