//! How the browser bundle and pages are served (README: "Speed"): the bundle as the brotli or
//! gzip copy made at build time, whichever the browser takes, and pages compressed on the fly and
//! never cached. (Hashed names and the year-long cache are checked in the browser tests, against
//! a real release build: a test binary has no `hash.txt` beside it, so it serves plain names,
//! revalidated on every use.)

mod common;

use common::TestApp;

#[tokio::test]
async fn the_bundle_is_served_precompressed_and_pages_compressed_and_never_cached() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("clavis.wasm"), b"plain wasm bytes").unwrap();
    std::fs::write(pkg.join("clavis.wasm.br"), b"brotli copy").unwrap();
    std::fs::write(pkg.join("clavis.wasm.gz"), b"gzip copy").unwrap();
    std::fs::write(pkg.join("clavis.css"), b"body{}").unwrap();
    let root = site.path().display().to_string();
    let app = TestApp::spawn_with(|s| s.site_root = root).await;

    let get = |path: &str, encoding: &str| {
        let mut req = app.http.get(app.url(path));
        if !encoding.is_empty() {
            req = req.header("accept-encoding", encoding);
        }
        req.send()
    };
    for (accept, encoding, body) in [
        ("br, gzip", Some("br"), "brotli copy"),
        ("gzip", Some("gzip"), "gzip copy"),
        ("", None, "plain wasm bytes"),
    ] {
        let res = get("/pkg/clavis.wasm", accept).await.unwrap();
        assert_eq!(res.status(), 200);
        let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_string());
        assert_eq!(header("content-encoding").as_deref(), encoding, "Accept-Encoding: {accept:?}");
        assert_eq!(header("cache-control").as_deref(), Some("no-cache"), "plain names are revalidated");
        assert_eq!(res.text().await.unwrap(), body);
    }
    // A file without compressed copies is served as it is.
    let css = get("/pkg/clavis.css", "br").await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers().get("content-encoding").is_none());
    assert_eq!(get("/pkg/missing.js", "br").await.unwrap().status(), 404);

    let page = get("/login", "br, gzip").await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-encoding"], "br");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let plain = get("/login", "").await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.headers()["cache-control"], "no-store");
    assert!(
        plain.text().await.unwrap().contains("<form"),
        "an uncompressed page for a client that takes none"
    );

    // Token and API answers are not compressed (small, and on the hot path).
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header("accept-encoding", "br, gzip")
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("content-encoding").is_none());
}
