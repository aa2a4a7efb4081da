//! The `clavis` command line, run as a user would: a child process with a fresh database.

mod common;

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use common::{TestApp, TestDb, bin};

fn clavis(db_url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .env("DATABASE_URL", db_url)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run clavis");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn user_count(url: &str) -> i64 {
    let db = clavis::db::Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(db.pool()).await.unwrap();
    db.close().await;
    n
}

#[tokio::test]
async fn user_add_creates_a_user_who_can_sign_in() {
    let db = TestDb::fresh().await;
    let out = clavis(
        &db.url,
        &["user", "add", "--username", "Admin", "--password-stdin", "--admin"],
        "s3cret-pass\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "created admin admin");

    let app = TestApp::spawn_with(|s| s.database_url = db.url.clone()).await;
    let res = app.sign_in_response("admin", "s3cret-pass", None).await;
    assert!(common::set_cookie(&res, "clavis_session").is_some(), "{}", common::location(&res));
}

#[tokio::test]
async fn bad_input_exits_2_naming_the_field_and_writes_nothing() {
    let db = TestDb::fresh().await;
    let ok = clavis(&db.url, &["user", "add", "--username", "taken", "--password-stdin"], "password1");
    assert!(ok.status.success(), "{}", stderr(&ok));
    for (args, stdin, field) in [
        (&["user", "add", "--username", "taken", "--password-stdin"][..], "password2", "username"),
        (&["user", "add", "--username", "TAKEN", "--password-stdin"][..], "password2", "username"),
        (&["user", "add", "--username", "bad name", "--password-stdin"][..], "password2", "username"),
        (&["user", "add", "--username", "", "--password-stdin"][..], "password2", "username"),
        (&["user", "add", "--username", "newuser", "--password-stdin"][..], "short", "password"),
        (&["user", "add", "--username", "newuser", "--password-stdin"][..], "", "password"),
        (&["user", "add", "--username", "newuser", "--password-stdin"][..], "two\nlines", "password"),
        (&["user", "add", "--username", "newuser"][..], "password2", "--password-stdin"),
        (&["user", "add", "--password-stdin"][..], "password2", "--username"),
    ] {
        let out = clavis(&db.url, args, stdin);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(field), "{args:?}: {err}");
        if !args.contains(&"--username") || !args.contains(&"--password-stdin") {
            continue; // clap's usage errors are several lines by design
        }
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
    assert_eq!(user_count(&db.url).await, 1, "nothing was written");
}

#[test]
fn bad_input_does_not_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh/clavis.db");
    let url = format!("sqlite://{}", path.display());
    let out = clavis(&url, &["user", "add", "--username", "x", "--password-stdin"], "short");
    assert_eq!(out.status.code(), Some(2));
    assert!(!path.exists());
}

#[test]
fn migrate_creates_a_fresh_sqlite_file_at_an_absolute_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new/dir/clavis.db");
    let out = clavis(&format!("sqlite://{}", path.display()), &["migrate"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(path.exists());
    // Twice is fine.
    let out = clavis(&format!("sqlite://{}", path.display()), &["migrate"], "");
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let out = Command::new(bin())
        .args(["migrate"])
        .env("DATABASE_URL", "sqlite::memory:")
        .env("LEPTOS_SITE_ADDR", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("LEPTOS_SITE_ADDR"), "{}", stderr(&out));
}

#[test]
fn a_wildcard_address_without_an_issuer_or_an_issuer_with_a_path_is_refused() {
    for (addr, issuer, names) in [
        ("0.0.0.0:0", None, "CLAVIS_ISSUER is required"),
        ("127.0.0.1:0", Some("https://auth.example.com/oauth"), "CLAVIS_ISSUER: must not have a path"),
    ] {
        let mut cmd = Command::new(bin());
        cmd.args(["serve"]).env("DATABASE_URL", "sqlite::memory:").env("LEPTOS_SITE_ADDR", addr);
        match issuer {
            Some(i) => cmd.env("CLAVIS_ISSUER", i),
            None => cmd.env_remove("CLAVIS_ISSUER"),
        };
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(names), "{}", stderr(&out));
        assert_eq!(stderr(&out).trim_end().lines().count(), 1, "{}", stderr(&out));
    }
}
