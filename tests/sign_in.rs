//! Sign-in, sign-out, sessions, the admin guard and the page security headers, over real HTTP.

mod common;

use common::{PASSWORD, TestApp, location, set_cookie, set_cookie_header};

#[tokio::test]
async fn admin_signs_in_and_reaches_the_clients_page() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    let res = app.sign_in_response("root", PASSWORD, None).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/");
    let header = set_cookie_header(&res, "clavis_session").expect("session cookie");
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Lax"), "{header}");
    assert!(header.contains("Path=/"), "{header}");
    assert!(!header.contains("Secure"), "plain-http issuer: no Secure flag: {header}");
    let cookie = format!("clavis_session={}", set_cookie(&res, "clavis_session").unwrap());

    let home = app.get("/", &cookie).await;
    assert_eq!(home.status(), 303);
    assert_eq!(location(&home), "/admin/clients");
    let page = app.get("/admin/clients", &cookie).await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("OAuth2 Clients"), "{body}");
    assert!(body.contains("Sign out"));
    assert!(body.contains(">root<"), "the nav names the signed-in user");
}

#[tokio::test]
async fn usernames_are_case_insensitive() {
    let app = TestApp::spawn().await;
    app.add_user("Mixed.Case", false).await;
    let res = app.sign_in_response("mixed.CASE", PASSWORD, None).await;
    assert!(set_cookie(&res, "clavis_session").is_some(), "{}", location(&res));
}

#[tokio::test]
async fn user_lands_on_account_and_gets_403_on_admin_pages() {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    let cookie = app.sign_in("alice").await;
    let home = app.get("/", &cookie).await;
    assert_eq!(location(&home), "/account");
    let account = app.get("/account", &cookie).await;
    assert_eq!(account.status(), 200);
    assert!(account.text().await.unwrap().contains("alice"));

    let admin = app.get("/admin/clients", &cookie).await;
    assert_eq!(admin.status(), 403);
    let body = admin.text().await.unwrap();
    assert!(body.contains("No access"), "{body}");
    assert!(!body.contains("No clients yet"));
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in_and_back() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    for (path, login) in [
        ("/admin/clients", "/login?next=%2Fadmin%2Fclients"),
        ("/admin/clients?page=2&q=a%20b", "/login?next=%2Fadmin%2Fclients%3Fpage%3D2%26q%3Da%2520b"),
        ("/account", "/login?next=%2Faccount"),
        ("/", "/login"),
    ] {
        let res = app.get(path, "").await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(location(&res), login, "{path}");
    }
    let res = app.sign_in_response("root", PASSWORD, Some("/admin/clients?page=2")).await;
    assert_eq!(location(&res), "/admin/clients?page=2");
}

#[tokio::test]
async fn next_never_leaves_the_site() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
    ] {
        let res = app.sign_in_response("root", PASSWORD, Some(next)).await;
        assert_eq!(res.status(), 303, "{next:?}");
        assert_eq!(location(&res), "/", "{next:?}");
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    let wrong = app.sign_in_response("root", "not the password", None).await;
    let unknown = app.sign_in_response("nobody", "not the password", None).await;
    let malformed = app.sign_in_response("no body!", "not the password", None).await;
    for res in [&wrong, &unknown] {
        assert_eq!(res.status(), 303);
        assert!(set_cookie(res, "clavis_session").is_none());
    }
    assert_eq!(location(&wrong), "/login?username=root&error=invalid");
    assert_eq!(location(&unknown), "/login?username=nobody&error=invalid");
    assert_eq!(location(&malformed), "/login?username=&error=invalid");

    let page = app.get(&location(&wrong), "").await.text().await.unwrap();
    assert!(page.contains("Invalid username or password"), "{page}");
    assert!(page.contains("value=\"root\""), "the typed username is kept");
}

#[tokio::test]
async fn sign_in_without_csrf_token_or_from_another_site_is_refused() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    let (cookie, token) = app.login_form().await;
    let creds = [("username", "root"), ("password", PASSWORD)];

    let no_token = app.post_form("/login", &cookie, &creds).await;
    let mut with_token = creds.to_vec();
    with_token.push(("csrf", token.as_str()));
    let no_cookie = app.post_form("/login", "", &with_token).await;
    let mut forged = creds.to_vec();
    forged.push(("csrf", "forged"));
    let wrong_token = app.post_form("/login", &cookie, &forged).await;
    let cross_site =
        app.post_form_with("/login", &cookie, &[("origin", "https://evil.example")], &with_token).await;
    let cross_site_fetch = app
        .post_form_with(
            "/login",
            &cookie,
            &[("origin", "null"), ("sec-fetch-site", "cross-site")],
            &with_token,
        )
        .await;
    for res in [no_token, no_cookie, wrong_token, cross_site, cross_site_fetch] {
        assert_eq!(res.status(), 303);
        assert!(set_cookie(&res, "clavis_session").is_none());
        assert!(location(&res).contains("error=expired"), "{}", location(&res));
    }
    let same_site =
        app.post_form_with("/login", &cookie, &[("origin", app.base.as_str())], &with_token).await;
    assert!(set_cookie(&same_site, "clavis_session").is_some());
    // What Chromium sends for our own form under `Referrer-Policy: no-referrer`.
    let browser = app
        .post_form_with(
            "/login",
            &cookie,
            &[("origin", "null"), ("sec-fetch-site", "same-origin")],
            &with_token,
        )
        .await;
    assert!(set_cookie(&browser, "clavis_session").is_some(), "{}", location(&browser));
}

#[tokio::test]
async fn sign_in_renews_the_session_id() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    let first = app.sign_in("root").await;
    // Signing in again while holding a session replaces it (and a planted id is never adopted).
    let (csrf_cookie, token) = app.login_form().await;
    let res = app
        .post_form(
            "/login",
            &format!("{csrf_cookie}; {first}"),
            &[("username", "root"), ("password", PASSWORD), ("csrf", &token)],
        )
        .await;
    let second = format!("clavis_session={}", set_cookie(&res, "clavis_session").expect("new session"));
    assert_ne!(first, second);
    assert_eq!(app.get("/admin/clients", &first).await.status(), 303, "old session is gone");
    assert_eq!(app.get("/admin/clients", &second).await.status(), 200);

    let planted = "clavis_session=planted-by-attacker";
    let res = app
        .post_form(
            "/login",
            &format!("{csrf_cookie}; {planted}"),
            &[("username", "root"), ("password", PASSWORD), ("csrf", &token)],
        )
        .await;
    let issued = set_cookie(&res, "clavis_session").unwrap();
    assert_ne!(issued, "planted-by-attacker");
    assert_eq!(app.get("/account", planted).await.status(), 303);
}

#[tokio::test]
async fn sign_out_needs_the_session_csrf_token() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    let cookie = app.sign_in("root").await;
    let page = app.get("/account", &cookie).await.text().await.unwrap();
    let token = common::hidden_value(&page, "csrf").expect("sign-out form token");

    let forged = app.post_form("/logout", &cookie, &[("csrf", "forged")]).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(app.get("/account", &cookie).await.status(), 200, "still signed in");

    let res = app.post_form("/logout", &cookie, &[("csrf", &token)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login");
    let cleared = set_cookie_header(&res, "clavis_session").expect("cookie cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(app.get("/account", &cookie).await.status(), 303, "session ended on the server");
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited_per_username() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    app.add_user("other", false).await;
    for _ in 0..10 {
        let res = app.sign_in_response("root", "wrong password", None).await;
        assert!(location(&res).contains("error=invalid"));
    }
    // The limit holds even for the right password, so guessing cannot go on.
    let res = app.sign_in_response("ROOT", PASSWORD, None).await;
    let loc = location(&res);
    assert!(loc.contains("error=rate"), "{loc}");
    assert!(set_cookie(&res, "clavis_session").is_none());
    let page = app.get(&loc, "").await.text().await.unwrap();
    assert!(page.contains("Too many failed sign-in attempts"), "{page}");
    // Another account from the same address is unaffected while under the per-IP limit.
    let res = app.sign_in_response("other", PASSWORD, None).await;
    assert!(set_cookie(&res, "clavis_session").is_some(), "{}", location(&res));
}

#[tokio::test]
async fn two_hundred_concurrent_guesses_get_exactly_the_limit_of_password_checks() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    app.add_user("admin", true).await;
    let (cookie, token) = app.login_form().await;
    let guesses: Vec<_> = (0..200)
        .map(|i| {
            let (app, cookie, token) = (app.clone(), cookie.clone(), token.clone());
            tokio::spawn(async move {
                let password = format!("wrong password {i}");
                let form = [("username", "admin"), ("password", password.as_str()), ("csrf", token.as_str())];
                let res = app.post_form("/login", &cookie, &form).await;
                assert_eq!(res.status(), 303);
                location(&res)
            })
        })
        .collect();
    let mut outcomes = std::collections::BTreeMap::new();
    for g in guesses {
        let to = g.await.unwrap();
        let error = to.split("error=").nth(1).map(|e| e.split('&').next().unwrap_or(e).to_string());
        *outcomes.entry(error.unwrap_or(to)).or_insert(0) += 1;
    }
    // Each "invalid" answer is a password that was checked: exactly the per-username limit.
    assert_eq!(outcomes, [("invalid".to_string(), 10), ("rate".to_string(), 190)].into(), "{outcomes:?}");
}

/// A sign-in through a proxy at 127.0.0.1 that names the client `address`.
async fn sign_in_from(app: &TestApp, address: &str, username: &str, password: &str) -> String {
    let (cookie, token) = app.login_form().await;
    let form = [("username", username), ("password", password), ("csrf", token.as_str())];
    let res = app.post_form_with("/login", &cookie, &[("x-forwarded-for", address)], &form).await;
    assert_eq!(res.status(), 303);
    if set_cookie(&res, "clavis_session").is_some() { "signed in".into() } else { location(&res) }
}

#[tokio::test]
async fn guesses_from_elsewhere_do_not_lock_the_real_user_out() {
    let app = TestApp::spawn_with(|s| {
        s.trusted_proxies = clavis::auth::client_addr::TrustedProxies::parse("127.0.0.1/32").unwrap();
    })
    .await;
    app.add_user("admin", true).await;
    for i in 0..10 {
        let to = sign_in_from(&app, "203.0.113.9", "admin", &format!("guess {i}")).await;
        assert!(to.contains("error=invalid"), "{to}");
    }
    let to = sign_in_from(&app, "203.0.113.9", "admin", PASSWORD).await;
    assert!(to.contains("error=rate"), "guessing from there stops, even with the right password: {to}");
    // The administrator, at their own address, gets in at once.
    assert_eq!(sign_in_from(&app, "198.51.100.7", "ADMIN", PASSWORD).await, "signed in");
    // Forwarding headers count only from trusted proxies: without them, the address is the peer's.
    let direct = TestApp::spawn().await;
    direct.add_user("admin", true).await;
    for i in 0..10 {
        let to = sign_in_from(&direct, &format!("203.0.113.{i}"), "admin", "wrong").await;
        assert!(to.contains("error=invalid"), "{to}");
    }
    let to = sign_in_from(&direct, "198.51.100.7", "admin", PASSWORD).await;
    assert!(to.contains("error=rate"), "a forged X-Forwarded-For changes nothing: {to}");
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited_per_address() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    for i in 0..20 {
        let res = app.sign_in_response(&format!("guess{i}"), "wrong password", None).await;
        assert!(location(&res).contains("error=invalid"));
    }
    let res = app.sign_in_response("root", PASSWORD, None).await;
    assert!(location(&res).contains("error=rate"), "{}", location(&res));
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_nonce_csp() {
    let app = TestApp::spawn().await;
    let res = app.get("/login", "").await;
    let h = res.headers().clone();
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("nonce in CSP");
    assert!(nonce.len() >= 16, "{nonce}");
    // The whole policy, directive by directive. No form-action on the sign-in page: browsers
    // apply it to the redirect on to a client after signing in.
    let page_policy = |form_action: &str| {
        let mut d = vec![
            "default-src 'self'".to_string(),
            format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
            "style-src 'self'".into(),
            "img-src 'self' data:".into(),
            "connect-src 'self'".into(),
            "frame-ancestors 'none'".into(),
            "base-uri 'none'".into(),
            "object-src 'none'".into(),
        ];
        if !form_action.is_empty() {
            d.push(form_action.to_string());
        }
        d.sort();
        d
    };
    assert_eq!(directives(&csp), page_policy(""), "{csp}");
    let body = res.text().await.unwrap();
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "scripts carry the response's nonce");
    assert!(body.contains("<label for=\"username\">Username</label>"));
    assert!(body.contains("<label for=\"password\">Password</label>"));
    assert!(body.contains(">Sign in</button>"));

    // Another page: the same, with form-action 'self'; its nonce is new.
    let other = app.get("/does-not-exist", "").await;
    let other_csp = other.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(!other_csp.contains(nonce), "a nonce is never reused: {other_csp}");
    let other_nonce = other_csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).unwrap();
    assert_eq!(directives(&other_csp.replace(other_nonce, nonce)), page_policy("form-action 'self'"));
    let res = app.get("/healthz", "").await;
    assert_eq!(
        directives(res.headers()["content-security-policy"].to_str().unwrap()),
        ["base-uri 'none'", "default-src 'none'", "form-action 'none'", "frame-ancestors 'none'"],
        "anything but a page: deny all"
    );

    for path in ["/healthz", "/does-not-exist"] {
        let res = app.get(path, "").await;
        assert_eq!(res.headers()["x-frame-options"], "DENY", "{path}");
        assert!(res.headers().get("strict-transport-security").is_none(), "plain http: no HSTS");
        assert!(
            res.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'")
        );
    }
}

/// A policy's directives, sorted.
fn directives(csp: &str) -> Vec<String> {
    let mut d: Vec<String> =
        csp.split(';').map(str::trim).filter(|d| !d.is_empty()).map(str::to_string).collect();
    d.sort();
    d
}

#[tokio::test]
async fn browser_sessions_last_12_hours_in_the_cookie_and_on_the_server() {
    let app = TestApp::spawn().await;
    app.add_user("alice", false).await;
    let before = clavis::db::now_unix();
    let res = app.sign_in_response("alice", PASSWORD, None).await;
    let header = set_cookie_header(&res, "clavis_session").expect("session cookie");
    assert!(header.split("; ").any(|a| a == "Max-Age=43200"), "{header}");
    let secret = set_cookie(&res, "clavis_session").unwrap();
    let cookie = format!("clavis_session={secret}");
    let db = app.db_handle().await;
    let (created, expires): (i64, i64) =
        sqlx::query_as("SELECT created_at, expires_at FROM sessions WHERE id_hash = $1")
            .bind(clavis::auth::token::digest(&secret).to_vec())
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(created >= before && expires - created == 43_200, "{created} {expires}");

    // The server ends it at that time, whatever the browser keeps sending.
    assert_eq!(app.get("/account", &cookie).await.status(), 200);
    for (expires_at, works) in [(clavis::db::now_unix() + 30, true), (clavis::db::now_unix() - 1, false)] {
        sqlx::query("UPDATE sessions SET expires_at = $1").bind(expires_at).execute(db.pool()).await.unwrap();
        let res = app.get("/account", &cookie).await;
        if works {
            assert_eq!(res.status(), 200);
        } else {
            assert_eq!(res.status(), 303, "expired: sent to sign in");
            assert_eq!(location(&res), "/login?next=%2Faccount");
        }
    }
    db.close().await;
}

#[tokio::test]
async fn https_issuer_makes_cookies_secure_and_host_only() {
    let app = TestApp::spawn_with(|s| {
        s.issuer = Some(clavis::config::Issuer::parse("https://auth.example.com").unwrap());
    })
    .await;
    app.add_user("root", true).await;
    let res = app.get("/login", "").await;
    let csrf = set_cookie_header(&res, "__Host-clavis_csrf").expect("a __Host- sign-in cookie");
    assert!(csrf.contains("; Secure") && csrf.contains("; Path=/") && !csrf.contains("Domain"), "{csrf}");
    assert!(set_cookie_header(&res, "clavis_csrf").is_none());
    let res = app.sign_in_response("root", PASSWORD, None).await;
    let header = set_cookie_header(&res, "__Host-clavis_session").expect("a __Host- session cookie");
    assert!(
        header.contains("; Secure") && header.contains("; Path=/") && !header.contains("Domain"),
        "{header}"
    );
    // Only the __Host- cookie is a session: one without the prefix (which another host of the
    // site could set) is not.
    let secret = set_cookie(&res, "__Host-clavis_session").unwrap();
    assert_eq!(app.get("/admin/clients", &format!("__Host-clavis_session={secret}")).await.status(), 200);
    assert_eq!(app.get("/admin/clients", &format!("clavis_session={secret}")).await.status(), 303);
    for path in ["/login", "/healthz", "/.well-known/oauth-authorization-server", "/nowhere"] {
        let res = app.get(path, "").await;
        assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000", "{path}");
    }
}

#[tokio::test]
async fn health_and_not_found() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz", "").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok");
    let res = app.get("/no/such/page", "").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
}
