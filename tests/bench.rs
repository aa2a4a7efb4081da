//! `clavis bench` (README: "Speed") keeps working: a short run of every load on a fresh database
//! of its own finishes without a failed request and reports each load. It asserts no speed: the
//! figures live in the README, not in tests.

mod common;

use std::process::Command;

#[test]
fn the_benchmark_runs_every_load_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let mut cmd = Command::new(common::bin());
    cmd.args(["bench", "--seconds", "1", "--connections", "2", "--codes", "40", "--search-at", "300"])
        .arg("--json")
        .arg(&json)
        .env_remove("RUST_LOG");
    if let Some(pg) = std::env::var("CLAVIS_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty()) {
        cmd.args(["--postgres", &pg]);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("refresh (rotating chains)"), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let loads = report["loads"].as_array().unwrap();
    let names: Vec<&str> = loads.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "code exchange",
            "refresh (rotating chains)",
            "introspection (by the client)",
            "introspection (by an API)",
            "GET /api/v1/me"
        ]
    );
    for l in loads {
        assert!(l["requests"].as_u64().unwrap() > 0, "{l}");
        assert_eq!(l["errors"], 0, "{l}");
    }
    let search = report["search"].as_array().unwrap();
    assert_eq!(search.len(), 1);
    assert_eq!(search[0]["clients"], 300);
    assert!(report["rss_idle_kib"].as_u64().unwrap() > 0);
}
