//! Reading and writing the few cookies Clavis sets.

use http::{HeaderMap, HeaderValue, header};

/// The names of Clavis's cookies. Served over https they carry the `__Host-` prefix: browsers
/// then take them only with `Secure`, `Path=/` and no `Domain`, so no other host of the site can
/// set or shadow them (cookie tossing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Names {
    pub session: &'static str,
    pub login_csrf: &'static str,
}

/// The cookie names for an https (`true`) or plain-http issuer.
pub const fn names(https: bool) -> Names {
    if https {
        Names { session: "__Host-clavis_session", login_csrf: "__Host-clavis_csrf" }
    } else {
        Names { session: "clavis_session", login_csrf: "clavis_csrf" }
    }
}

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
        let plain = names(false);
        assert_eq!(get(&h, plain.session), Some("xyz"));
        assert_eq!(get(&h, plain.login_csrf), Some("t"));
        assert_eq!(get(&h, names(true).session), None, "over https only the __Host- cookie counts");
        assert_eq!(get(&h, "missing"), None);
        h.insert(header::COOKIE, HeaderValue::from_static("clavis_session="));
        assert_eq!(get(&h, plain.session), None);
    }

    #[test]
    fn set_cookie_attributes() {
        let v = set(names(true).session, "v", Some(60), SameSite::Lax, true);
        assert_eq!(v, "__Host-clavis_session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure");
        let v = set(names(false).login_csrf, "t", None, SameSite::Strict, false);
        assert_eq!(v, "clavis_csrf=t; Path=/; HttpOnly; SameSite=Strict");
    }
}
