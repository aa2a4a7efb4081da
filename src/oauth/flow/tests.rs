use super::*;
use crate::domain::client::{ClientForm, ClientId};

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CB: &str = "https://app.example.com/cb";

fn client(edit: impl FnOnce(&mut ClientForm)) -> Client {
    let mut form = ClientForm {
        name: "App".into(),
        redirect_uris: format!("{CB}\nhttp://127.0.0.1/loop\nhttp://[::1]:8000/v6\nhttp://localhost:3000/cb"),
        ..ClientForm::default()
    };
    edit(&mut form);
    Client {
        client_id: ClientId::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap(),
        spec: form.validate().unwrap(),
        active: true,
        secret: None,
        created_at: 0,
        updated_at: 0,
        origin: Default::default(),
    }
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A valid request, with `changes` applied: ("k", None) removes k, ("k", Some(v)) sets it, and
/// a leading "+" on the key appends a second copy.
fn request(changes: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
    let mut p = params(&[
        ("response_type", "code"),
        ("client_id", "AAAAAAAAAAAAAAAAAAAAAA"),
        ("redirect_uri", CB),
        ("state", "xyz"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    for (k, v) in changes {
        if let Some(k) = k.strip_prefix('+') {
            p.push((k.to_string(), v.unwrap_or_default().to_string()));
            continue;
        }
        p.retain(|(n, _)| n != k);
        if let Some(v) = v {
            p.push((k.to_string(), v.to_string()));
        }
    }
    p
}

#[test]
fn client_id_first() {
    assert_eq!(client_id(&request(&[])).map(|c| c.to_string()), Ok("AAAAAAAAAAAAAAAAAAAAAA".into()));
    assert_eq!(client_id(&request(&[("client_id", None)])), Err(ErrorPage::MissingClientId));
    assert_eq!(client_id(&request(&[("client_id", Some(""))])), Err(ErrorPage::MissingClientId));
    assert_eq!(
        client_id(&request(&[("+client_id", Some("BBBBBBBBBBBBBBBBBBBBBB"))])),
        Err(ErrorPage::RepeatedClientId)
    );
    assert_eq!(client_id(&request(&[("client_id", Some("../etc"))])), Err(ErrorPage::UnknownClient));
}

#[test]
fn untrusted_client_or_redirect_uri_gets_an_error_page() {
    let c = client(|_| {});
    let inactive = Client { active: false, ..c.clone() };
    for (req, client, page) in [
        (request(&[]), None, ErrorPage::UnknownClient),
        (request(&[]), Some(&inactive), ErrorPage::InactiveClient),
        (request(&[("redirect_uri", None)]), Some(&c), ErrorPage::MissingRedirectUri),
        (request(&[("+redirect_uri", Some(CB))]), Some(&c), ErrorPage::RepeatedRedirectUri),
        (
            request(&[("redirect_uri", Some("https://evil.example/cb"))]),
            Some(&c),
            ErrorPage::UnregisteredRedirectUri,
        ),
        (
            request(&[("redirect_uri", Some("https://app.example.com/cb/"))]),
            Some(&c),
            ErrorPage::UnregisteredRedirectUri,
        ),
        (
            request(&[("redirect_uri", Some("https://app.example.com/cb?x=1"))]),
            Some(&c),
            ErrorPage::UnregisteredRedirectUri,
        ),
        (
            request(&[("redirect_uri", Some("HTTPS://app.example.com/cb"))]),
            Some(&c),
            ErrorPage::UnregisteredRedirectUri,
        ),
        (
            request(&[("redirect_uri", Some("http://localhost:4000/cb"))]),
            Some(&c),
            ErrorPage::UnregisteredRedirectUri,
        ),
        (
            request(&[("redirect_uri", Some("http://127.0.0.1:99@evil.example/loop"))]),
            Some(&c),
            ErrorPage::UnregisteredRedirectUri,
        ),
        (
            request(&[("redirect_uri", Some("http://127.0.0.1:/loop"))]),
            Some(&c),
            ErrorPage::UnregisteredRedirectUri,
        ),
        // An error that would otherwise be redirected still gets the page when the URI is bad.
        (
            request(&[("redirect_uri", Some("https://evil.example/cb")), ("response_type", Some("token"))]),
            Some(&c),
            ErrorPage::UnregisteredRedirectUri,
        ),
    ] {
        assert_eq!(decide(&req, client), Outcome::ErrorPage(page), "{req:?}");
    }
}

#[test]
fn loopback_ip_literals_match_on_any_port() {
    let c = client(|_| {});
    for uri in [
        "http://127.0.0.1/loop",
        "http://127.0.0.1:51234/loop",
        "http://[::1]/v6",
        "http://[::1]:1/v6",
        "http://localhost:3000/cb",
    ] {
        assert!(
            matches!(decide(&request(&[("redirect_uri", Some(uri))]), Some(&c)), Outcome::Proceed(_)),
            "{uri}"
        );
    }
}

#[test]
fn other_errors_go_back_to_the_redirect_uri_with_state() {
    let c = client(|_| {});
    let read_only = client(|f| f.scope = "read".into());
    let public = client(|f| f.auth_method = "none".into());
    let pkce_optional = client(|f| f.require_pkce = false);
    use AuthorizeError::*;
    for (req, client, error, state) in [
        (request(&[("response_type", None)]), &c, InvalidRequest, Some("xyz")),
        (request(&[("response_type", Some("token"))]), &c, UnsupportedResponseType, Some("xyz")),
        (request(&[("response_type", Some("code id_token"))]), &c, UnsupportedResponseType, Some("xyz")),
        (request(&[("scope", Some("admin"))]), &c, InvalidScope, Some("xyz")),
        (request(&[("scope", Some("read write"))]), &read_only, InvalidScope, Some("xyz")),
        (
            request(&[("code_challenge", None), ("code_challenge_method", None)]),
            &c,
            InvalidRequest,
            Some("xyz"),
        ),
        (
            request(&[("code_challenge", None), ("code_challenge_method", None)]),
            &public,
            InvalidRequest,
            Some("xyz"),
        ),
        (request(&[("code_challenge_method", Some("plain"))]), &c, InvalidRequest, Some("xyz")),
        (request(&[("code_challenge_method", None)]), &c, InvalidRequest, Some("xyz")),
        (request(&[("code_challenge_method", Some("plain"))]), &pkce_optional, InvalidRequest, Some("xyz")),
        (request(&[("code_challenge", Some("short"))]), &c, InvalidRequest, Some("xyz")),
        (request(&[("code_challenge", None)]), &pkce_optional, InvalidRequest, Some("xyz")),
        (request(&[("scope", Some("read")), ("+scope", Some("read"))]), &c, InvalidRequest, Some("xyz")),
        (request(&[("+response_type", Some("code"))]), &c, InvalidRequest, Some("xyz")),
        (request(&[("+state", Some("abc"))]), &c, InvalidRequest, None),
        (request(&[("state", None), ("response_type", Some("token"))]), &c, UnsupportedResponseType, None),
    ] {
        match decide(&req, Some(client)) {
            Outcome::Redirect(r) => {
                assert_eq!(
                    (r.error, r.state.as_deref(), r.redirect_uri.as_str()),
                    (error, state, CB),
                    "{req:?}"
                );
                assert!(!r.description.is_empty());
            }
            other => panic!("{req:?}: {other:?}"),
        }
    }
}

#[test]
fn valid_requests_proceed() {
    let c = client(|_| {});
    let Outcome::Proceed(r) = decide(&request(&[]), Some(&c)) else { panic!() };
    assert_eq!(r.scope.to_string(), "read write", "omitted scope: all the client may have");
    assert_eq!(r.state.as_deref(), Some("xyz"));
    assert_eq!(r.code_challenge.as_deref(), Some(CHALLENGE));
    assert_eq!(r.redirect_uri, CB);

    for (scope, want) in
        [("read", "read"), ("write read", "read write"), ("read  read", "read"), ("", "read write")]
    {
        let Outcome::Proceed(r) = decide(&request(&[("scope", Some(scope))]), Some(&c)) else {
            panic!("{scope}")
        };
        assert_eq!(r.scope.to_string(), want, "{scope:?}");
    }
    let read_only = client(|f| f.scope = "read".into());
    let Outcome::Proceed(r) = decide(&request(&[("scope", None)]), Some(&read_only)) else { panic!() };
    assert_eq!(r.scope.to_string(), "read");

    let optional = client(|f| f.require_pkce = false);
    let Outcome::Proceed(r) =
        decide(&request(&[("code_challenge", None), ("code_challenge_method", None)]), Some(&optional))
    else {
        panic!()
    };
    assert_eq!(r.code_challenge, None, "PKCE optional: may be left out");
    let Outcome::Proceed(r) = decide(&request(&[("state", None), ("+unknown_param", Some("1"))]), Some(&c))
    else {
        panic!()
    };
    assert_eq!(r.state, None, "unknown parameters are ignored (RFC 6749 §3.1)");
}

#[test]
fn query_building_keeps_the_existing_query() {
    assert_eq!(
        with_query("https://a.example/cb", &[("code", "x y"), ("state", "a&b")]),
        "https://a.example/cb?code=x%20y&state=a%26b"
    );
    assert_eq!(
        with_query("https://a.example/cb?tenant=1", &[("error", "access_denied")]),
        "https://a.example/cb?tenant=1&error=access_denied"
    );
}

#[test]
fn redirect_uri_may_be_left_out_when_exactly_one_is_registered() {
    let single = client(|f| f.redirect_uris = CB.into());
    let Outcome::Proceed(r) = decide(&request(&[("redirect_uri", None)]), Some(&single)) else { panic!() };
    assert_eq!((r.redirect_uri.as_str(), r.redirect_uri_sent), (CB, false));
    let Outcome::Proceed(r) = decide(&request(&[]), Some(&single)) else { panic!() };
    assert_eq!((r.redirect_uri.as_str(), r.redirect_uri_sent), (CB, true));
    // With several registered, the request must say which (RFC 6749 §3.1.2.3).
    assert_eq!(
        decide(&request(&[("redirect_uri", None)]), Some(&client(|_| {}))),
        Outcome::ErrorPage(ErrorPage::MissingRedirectUri)
    );
}
