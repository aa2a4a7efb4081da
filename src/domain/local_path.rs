//! Where to send a browser after sign-in. Only a path on this server is accepted, never another
//! origin (open-redirect defence, RFC 9700 §4.11).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalPath(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalPathError {
    #[error("next must be a path on this server starting with '/'")]
    NotAPath,
    #[error("next must not point to another site")]
    OtherOrigin,
    #[error("next must not contain control characters or backslashes")]
    BadCharacter,
    #[error("next is too long")]
    TooLong,
}

impl LocalPath {
    /// Room for any authorization request the server accepts (`/oauth2/authorize?` and a query
    /// of up to 8 KiB), so it survives the detour through sign-in.
    pub const MAX_LEN: usize = 8 * 1024 + 64;

    pub fn parse(raw: &str) -> Result<Self, LocalPathError> {
        if raw.len() > Self::MAX_LEN {
            return Err(LocalPathError::TooLong);
        }
        // Browsers treat '\' like '/', and strip tabs and newlines, so "/\evil.com" or "/\t/evil.com"
        // would become protocol-relative: refuse them outright.
        if raw.chars().any(|c| c.is_control() || c == '\\') {
            return Err(LocalPathError::BadCharacter);
        }
        if !raw.starts_with('/') {
            return Err(LocalPathError::NotAPath);
        }
        if raw.starts_with("//") {
            return Err(LocalPathError::OtherOrigin);
        }
        Ok(Self(raw.to_string()))
    }

    /// `next` when it is a local path, `/` otherwise: a bad `next` must not block sign-in.
    pub fn or_home(raw: Option<&str>) -> Self {
        raw.and_then(|r| Self::parse(r).ok()).unwrap_or_else(|| Self("/".to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LocalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_local_paths() {
        for raw in ["/", "/admin/clients", "/oauth2/authorize?client_id=a&state=%2F%2Fx", "/a//b"] {
            assert_eq!(LocalPath::parse(raw).map(|p| p.0), Ok(raw.to_string()));
        }
    }

    #[test]
    fn refuses_everything_else() {
        for (raw, err) in [
            ("", LocalPathError::NotAPath),
            ("admin", LocalPathError::NotAPath),
            ("https://evil.example/", LocalPathError::NotAPath),
            ("javascript:alert(1)", LocalPathError::NotAPath),
            ("//evil.example/", LocalPathError::OtherOrigin),
            ("///evil.example/", LocalPathError::OtherOrigin),
            ("/\\evil.example/", LocalPathError::BadCharacter),
            ("/\t/evil.example/", LocalPathError::BadCharacter),
            ("/\n/evil.example/", LocalPathError::BadCharacter),
            (&format!("/{}", "a".repeat(LocalPath::MAX_LEN)), LocalPathError::TooLong),
        ] {
            assert_eq!(LocalPath::parse(raw), Err(err), "{raw:?}");
        }
    }

    #[test]
    fn or_home_falls_back() {
        assert_eq!(LocalPath::or_home(Some("//evil.example")).as_str(), "/");
        assert_eq!(LocalPath::or_home(None).as_str(), "/");
        assert_eq!(LocalPath::or_home(Some("/account")).as_str(), "/account");
    }
}
