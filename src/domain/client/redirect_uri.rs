//! Redirect URIs (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1): absolute, no fragment; `https`,
//! `http` only on loopback hosts, or a private-use scheme (reverse domain name, e.g.
//! `com.example.app:/callback`).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectUri(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("must be at most {max} characters", max = RedirectUri::MAX_LEN)]
    TooLong,
    #[error("must not contain spaces or control characters")]
    BadCharacter,
    #[error("must be an absolute URL such as https://app.example.com/callback")]
    NotAbsolute,
    #[error("must not contain a fragment (#...)")]
    Fragment,
    #[error("must name a host")]
    NoHost,
    #[error("must not contain a user name or password")]
    UserInfo,
    #[error("has an invalid port")]
    BadPort,
    #[error("http is allowed only for 127.0.0.1, [::1] and localhost; use https")]
    PlainHttp,
    #[error(
        "scheme '{0}' is not allowed; use https or a private-use scheme such as com.example.app:/callback"
    )]
    Scheme(String),
}

/// Schemes that can never be a place to send an authorization code.
const FORBIDDEN_SCHEMES: &[&str] =
    &["javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss"];

impl RedirectUri {
    pub const MAX_LEN: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, RedirectUriError> {
        let uri = raw.trim();
        if uri.len() > Self::MAX_LEN {
            return Err(RedirectUriError::TooLong);
        }
        if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(RedirectUriError::BadCharacter);
        }
        let (scheme, rest) = uri.split_once(':').ok_or(RedirectUriError::NotAbsolute)?;
        if !is_scheme(scheme) || rest.is_empty() {
            return Err(RedirectUriError::NotAbsolute);
        }
        if uri.contains('#') {
            return Err(RedirectUriError::Fragment);
        }
        let scheme_lc = scheme.to_ascii_lowercase();
        match scheme_lc.as_str() {
            "https" => {
                authority(rest)?;
            }
            "http" if !is_loopback_name(&authority(rest)?) => return Err(RedirectUriError::PlainHttp),
            "http" => {}
            s if FORBIDDEN_SCHEMES.contains(&s) || !s.contains('.') => {
                return Err(RedirectUriError::Scheme(scheme.to_string()));
            }
            _ => {}
        }
        Ok(Self(uri.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it returns to this device: `http` on a loopback host (RFC 8252 §7.3).
    pub fn is_loopback(&self) -> bool {
        self.0
            .strip_prefix("http:")
            .and_then(host_of)
            .is_some_and(|h| is_loopback_name(&h.to_ascii_lowercase()))
    }

    /// `http://127.0.0.1...` or `http://[::1]...`: matched on any port (RFC 8252 §7.3).
    pub fn is_loopback_ip_literal(&self) -> bool {
        self.0.strip_prefix("http:").and_then(host_of).is_some_and(|h| h == "127.0.0.1" || h == "[::1]")
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn host_of(after_scheme: &str) -> Option<&str> {
    let auth = after_scheme.strip_prefix("//")?;
    let auth = &auth[..auth.find(['/', '?']).unwrap_or(auth.len())];
    Some(match auth.strip_prefix('[') {
        Some(v6) => &auth[..v6.find(']').map_or(auth.len(), |i| i + 2)],
        None => &auth[..auth.find(':').unwrap_or(auth.len())],
    })
}

/// Checks `//host[:port]` and returns the lower-cased host.
pub(crate) fn authority(after_scheme: &str) -> Result<String, RedirectUriError> {
    let auth = after_scheme.strip_prefix("//").ok_or(RedirectUriError::NotAbsolute)?;
    let auth = &auth[..auth.find(['/', '?']).unwrap_or(auth.len())];
    if auth.contains('@') {
        return Err(RedirectUriError::UserInfo);
    }
    let (host, port) = if let Some(v6) = auth.strip_prefix('[') {
        let end = v6.find(']').ok_or(RedirectUriError::NoHost)?;
        let addr = &v6[..end];
        if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err(RedirectUriError::NoHost);
        }
        (&auth[..end + 2], &v6[end + 1..])
    } else {
        let i = auth.find(':').unwrap_or(auth.len());
        (&auth[..i], &auth[i..])
    };
    if host.is_empty()
        || !host.starts_with('[')
            && !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '~' | '%'))
    {
        return Err(RedirectUriError::NoHost);
    }
    if let Some(p) = port.strip_prefix(':') {
        if !p.is_empty() && p.parse::<u16>().is_err() {
            return Err(RedirectUriError::BadPort);
        }
    } else if !port.is_empty() {
        return Err(RedirectUriError::NoHost);
    }
    Ok(host.to_ascii_lowercase())
}

pub(crate) fn is_loopback_name(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "[::1]" | "localhost")
}

/// The registered redirect URIs: 1 to 20, no duplicates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectUris(Vec<RedirectUri>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUrisError {
    #[error("Redirect URLs: at least one is required")]
    Empty,
    #[error("Redirect URLs: at most {max} are allowed", max = RedirectUris::MAX)]
    TooMany,
    #[error("Redirect URL {line} ({uri}) {error}")]
    Invalid { line: usize, uri: String, error: RedirectUriError },
    #[error("Redirect URL {line} ({uri}) is listed twice")]
    Duplicate { line: usize, uri: String },
}

impl RedirectUris {
    pub const MAX: usize = 20;

    /// One URI per line (blank lines ignored), as the form's text area sends them.
    pub fn parse_lines(text: &str) -> Result<Self, RedirectUrisError> {
        Self::parse_list(text.lines())
    }

    pub fn parse_list<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, RedirectUrisError> {
        let mut uris: Vec<RedirectUri> = Vec::new();
        for (i, raw) in items.into_iter().filter(|l| !l.trim().is_empty()).enumerate() {
            let line = i + 1;
            if uris.len() == Self::MAX {
                return Err(RedirectUrisError::TooMany);
            }
            let shown: String = raw.trim().chars().take(80).collect();
            let uri = RedirectUri::parse(raw).map_err(|error| RedirectUrisError::Invalid {
                line,
                uri: shown.clone(),
                error,
            })?;
            if uris.contains(&uri) {
                return Err(RedirectUrisError::Duplicate { line, uri: shown });
            }
            uris.push(uri);
        }
        if uris.is_empty() { Err(RedirectUrisError::Empty) } else { Ok(Self(uris)) }
    }

    pub fn iter(&self) -> impl Iterator<Item = &RedirectUri> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[RedirectUri] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RedirectUriError as E;

    #[test]
    fn accepted() {
        for raw in [
            "https://app.example.com/callback",
            "https://app.example.com:8443/cb?x=1",
            "https://[2001:db8::1]/cb",
            "http://127.0.0.1/callback",
            "http://127.0.0.1:8080/callback",
            "http://[::1]:9000/cb",
            "http://localhost:3000/cb",
            "http://LOCALHOST/cb",
            "com.example.app:/oauth2redirect",
            "com.example.app://callback",
        ] {
            assert_eq!(RedirectUri::parse(raw).map(|u| u.0), Ok(raw.to_string()), "{raw}");
        }
    }

    #[test]
    fn refused() {
        for (raw, err) in [
            ("/callback", E::NotAbsolute),
            ("app.example.com/callback", E::NotAbsolute),
            ("https:", E::NotAbsolute),
            ("https:/nohost", E::NotAbsolute),
            ("https://app.example.com/cb#frag", E::Fragment),
            ("https:///cb", E::NoHost),
            ("https://user:pw@app.example.com/cb", E::UserInfo),
            ("https://app.example.com:99999/cb", E::BadPort),
            ("https://app.example.com:x/cb", E::BadPort),
            ("http://app.example.com/cb", E::PlainHttp),
            ("http://127.0.0.2/cb", E::PlainHttp),
            ("http://localhost.evil.com/cb", E::PlainHttp),
            ("javascript:alert(1)", E::Scheme("javascript".into())),
            ("data:text/html,hi", E::Scheme("data".into())),
            ("file:///etc/passwd", E::Scheme("file".into())),
            ("myapp:/callback", E::Scheme("myapp".into())),
            ("https://app.example.com/a b", E::BadCharacter),
            ("https://app.example.com/\u{0}", E::BadCharacter),
        ] {
            assert_eq!(RedirectUri::parse(raw), Err(err), "{raw}");
        }
        let long = format!("https://app.example.com/{}", "a".repeat(2000));
        assert_eq!(RedirectUri::parse(&long), Err(E::TooLong));
    }

    #[test]
    fn loopback_literals() {
        let p = |s| RedirectUri::parse(s).unwrap().is_loopback_ip_literal();
        assert!(p("http://127.0.0.1:1234/cb"));
        assert!(p("http://[::1]/cb"));
        assert!(!p("http://localhost:1234/cb"), "RFC 8252 §8.3: names are matched exactly");
        assert!(!p("https://127.0.0.1/cb"));
    }

    #[test]
    fn lists() {
        let ok = RedirectUris::parse_lines("https://a.example/cb\n\n  http://127.0.0.1/cb  \n").unwrap();
        assert_eq!(
            ok.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
            ["https://a.example/cb", "http://127.0.0.1/cb"]
        );
        assert_eq!(RedirectUris::parse_lines(" \n"), Err(RedirectUrisError::Empty));
        let dup = RedirectUris::parse_lines("https://a.example/cb\nhttps://a.example/cb");
        assert!(matches!(dup, Err(RedirectUrisError::Duplicate { line: 2, .. })));
        let bad = RedirectUris::parse_lines("https://a.example/cb\nhttp://evil.example/cb").unwrap_err();
        assert_eq!(
            bad.to_string(),
            "Redirect URL 2 (http://evil.example/cb) http is allowed only for 127.0.0.1, [::1] and localhost; use https"
        );
        let many: Vec<String> = (0..21).map(|i| format!("https://a.example/{i}")).collect();
        assert_eq!(
            RedirectUris::parse_list(many.iter().map(String::as_str)),
            Err(RedirectUrisError::TooMany)
        );
        assert!(RedirectUris::parse_list(many.iter().take(20).map(String::as_str)).is_ok());
    }
}
