//! Reading and writing the few cookies Clavis sets.

use http::{HeaderMap, HeaderValue, header};

pub const SESSION: &str = "clavis_session";
pub const LOGIN_CSRF: &str = "clavis_csrf";

/// The value of cookie `name` from the request, if sent once or more (the first wins).
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

#[derive(Clone, Copy)]
pub enum SameSite {
    Lax,
    Strict,
}

/// A `Set-Cookie` value: always `HttpOnly` and `Path=/`; `Secure` when the issuer is https.
/// `max_age` `None` makes a browser-session cookie; `Some(0)` deletes it.
pub fn set(name: &str, value: &str, max_age: Option<i64>, same_site: SameSite, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly");
    c.push_str(match same_site {
        SameSite::Lax => "; SameSite=Lax",
        SameSite::Strict => "; SameSite=Strict",
    });
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    // Names and values are ours: token characters only.
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; clavis_session=xyz; b=2"));
        h.append(header::COOKIE, HeaderValue::from_static("clavis_csrf=t"));
        assert_eq!(get(&h, SESSION), Some("xyz"));
        assert_eq!(get(&h, LOGIN_CSRF), Some("t"));
        assert_eq!(get(&h, "missing"), None);
        h.insert(header::COOKIE, HeaderValue::from_static("clavis_session="));
        assert_eq!(get(&h, SESSION), None);
    }

    #[test]
    fn set_cookie_attributes() {
        let v = set(SESSION, "v", Some(60), SameSite::Lax, true);
        assert_eq!(v, "clavis_session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure");
        let v = set(LOGIN_CSRF, "t", None, SameSite::Strict, false);
        assert_eq!(v, "clavis_csrf=t; Path=/; HttpOnly; SameSite=Strict");
    }
}
