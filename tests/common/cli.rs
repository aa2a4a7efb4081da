//! Running the real `clavis` binary against a test database, as a user would from a shell.

use std::process::{Command, Output};

use serde_json::Value;

use super::{TestDb, bin};

/// `clavis ARGS` on `db`, with `env` added (e.g. `CLAVIS_ISSUER`).
pub fn clavis_with(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args).env("DATABASE_URL", &db.url).env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

pub fn clavis(db: &TestDb, args: &[&str]) -> Output {
    clavis_with(db, args, &[])
}

/// The JSON a successful command printed.
pub fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// Asserts bad input: exit code 2 and one line on stderr naming `field`; returns the line.
pub fn refused(out: &Output, field: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(field), "names {field}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    err
}
