//! `clavis client ...` run as a user would, against a fresh database.

mod common;

use common::{
    TestDb,
    cli::{clavis, json, refused},
};
use serde_json::Value;

const ADD: &[&str] = &["client", "add", "--name", "My App", "--redirect-uri", "https://app.example.com/cb"];

fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(extra).copied().collect()
}

#[tokio::test]
async fn add_prints_the_contract_json() {
    let db = TestDb::fresh().await;
    let out = json(&clavis(&db, &with(ADD, &["--json"])));
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["client_id", "client_secret"]);
    assert_eq!(out["client_secret"].as_str().unwrap().len(), 43);

    let public = json(&clavis(&db, &with(ADD, &["--auth-method", "none", "--json"])));
    assert!(public.get("client_secret").is_none(), "{public}");

    let show = json(&clavis(&db, &["client", "show", out["client_id"].as_str().unwrap(), "--json"]));
    assert_eq!(show["auth_method"], "client_secret_post");
    assert_eq!(show["pkce"], "required");
    assert_eq!(show["scope"], "full");
    assert_eq!(show["consent"], true);
    assert_eq!(show["active"], true);
    let secret = out["client_secret"].as_str().unwrap();
    assert_eq!(show["secret"]["last4"], secret[39..]);
    assert!(!show.to_string().contains(secret), "show never prints the secret");
}

#[tokio::test]
async fn client_ids_starting_with_a_dash_are_accepted_as_arguments() {
    let db = TestDb::fresh().await;
    let out = clavis(&db, &["client", "show", "-AAAAAAAAAAAAAAAAAAAAA"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("no client has this client_id"), "parsed as an id, not an option: {err}");
}

#[tokio::test]
async fn every_option_round_trips() {
    let db = TestDb::fresh().await;
    let args = with(
        ADD,
        &[
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--auth-method",
            "client_secret_basic",
            "--pkce",
            "optional",
            "--scope",
            "read",
            "--no-consent",
            "--description",
            "Reporting tool",
            "--version-label",
            "2.1",
            "--access-token-lifetime",
            "never",
            "--refresh-token-lifetime",
            "86400",
            "--refresh-count",
            "0",
            "--rate-limit",
            "120",
            "--refresh-reuse-grace",
            "30",
            "--json",
        ],
    );
    let id = json(&clavis(&db, &args))["client_id"].as_str().unwrap().to_string();
    let show = json(&clavis(&db, &["client", "show", &id, "--json"]));
    assert_eq!(
        show["redirect_uris"],
        serde_json::json!(["https://app.example.com/cb", "http://127.0.0.1/cb"])
    );
    assert_eq!(show["auth_method"], "client_secret_basic");
    assert_eq!(show["pkce"], "optional");
    assert_eq!(show["scope"], "read");
    assert_eq!(show["consent"], false);
    assert_eq!(show["description"], "Reporting tool");
    assert_eq!(show["version"], "2.1");
    assert_eq!(show["access_token_lifetime"], "never");
    assert_eq!(show["refresh_token_lifetime"], 86400);
    assert_eq!(show["refresh_count"], 0);
    assert_eq!(show["rate_limit"], 120);
    assert_eq!(show["refresh_reuse_grace"], 30);
    let off = json(&clavis(&db, &["client", "update", &id, "--refresh-reuse-grace", "off", "--json"]));
    assert_eq!(off["refresh_reuse_grace"], Value::Null);
}

#[tokio::test]
async fn bad_input_exits_2_naming_the_field_and_writes_nothing() {
    let db = TestDb::fresh().await;
    let err =
        refused(&clavis(&db, &with(ADD, &["--auth-method", "none", "--pkce", "optional"])), "--auth-method");
    assert!(err.contains("PKCE"), "{err}");
    let err = refused(&clavis(&db, &with(ADD, &["--auth-method", "none", "--no-consent"])), "--auth-method");
    assert!(err.contains("allow/deny screen"), "{err}");
    refused(&clavis(&db, &["client", "add", "--redirect-uri", "https://a.example/cb"]), "--name");
    refused(&clavis(&db, &["client", "add", "--name", "X"]), "--redirect-uri");
    refused(
        &clavis(&db, &["client", "add", "--name", "X", "--redirect-uri", "http://evil.example/cb"]),
        "--redirect-uri",
    );
    refused(
        &clavis(&db, &["client", "add", "--name", "X", "--redirect-uri", "https://a.example/cb#f"]),
        "--redirect-uri",
    );
    refused(&clavis(&db, &with(ADD, &["--auth-method", "private_key_jwt"])), "--auth-method");
    refused(&clavis(&db, &with(ADD, &["--pkce", "maybe"])), "--pkce");
    refused(&clavis(&db, &with(ADD, &["--scope", "admin"])), "--scope");
    refused(&clavis(&db, &with(ADD, &["--access-token-lifetime", "0"])), "--access-token-lifetime");
    refused(&clavis(&db, &with(ADD, &["--refresh-count", "-1"])), "--refresh-count");
    refused(&clavis(&db, &with(ADD, &["--rate-limit", "fast"])), "--rate-limit");
    refused(&clavis(&db, &with(ADD, &["--refresh-reuse-grace", "3600"])), "--refresh-reuse-grace");
    refused(&clavis(&db, &["client", "show", "not/an id"]), "client_id");
    refused(&clavis(&db, &["client", "show", "AAAAAAAAAAAAAAAAAAAAAA"]), "client_id");
    let list = json(&clavis(&db, &["client", "list", "--json"]));
    assert_eq!(list["total"], 0, "nothing was written");
}

#[tokio::test]
async fn update_activate_regenerate_delete() {
    let db = TestDb::fresh().await;
    let id = json(&clavis(&db, &with(ADD, &["--json"])))["client_id"].as_str().unwrap().to_string();

    let shown = json(&clavis(&db, &["client", "update", &id, "--name", "Renamed", "--json"]));
    assert_eq!(shown["name"], "Renamed");
    assert_eq!(shown["redirect_uris"][0], "https://app.example.com/cb", "untouched options keep their value");
    refused(
        &clavis(&db, &["client", "update", &id, "--pkce", "optional", "--auth-method", "none"]),
        "--auth-method",
    );

    let public = json(&clavis(&db, &["client", "update", &id, "--auth-method", "none", "--json"]));
    assert_eq!(public["secret"], Value::Null);
    let err = refused(&clavis(&db, &["client", "update", &id, "--no-consent"]), "allow/deny screen");
    assert!(err.starts_with("error: --auth-method"), "{err}");
    refused(&clavis(&db, &["client", "update", &id, "--pkce", "optional"]), "PKCE");
    let back =
        json(&clavis(&db, &["client", "update", &id, "--auth-method", "client_secret_post", "--json"]));
    assert_eq!(
        back["client_secret"].as_str().map(str::len),
        Some(43),
        "switching back issues a secret, once"
    );

    assert_eq!(json(&clavis(&db, &["client", "deactivate", &id, "--json"]))["active"], false);
    let inactive = json(&clavis(&db, &["client", "list", "--state", "inactive", "--json"]));
    assert_eq!(inactive["total"], 1);
    assert_eq!(json(&clavis(&db, &["client", "activate", &id, "--json"]))["active"], true);

    let regen = json(&clavis(&db, &["client", "regenerate-secret", &id, "--grace", "24h", "--json"]));
    assert_eq!(regen["client_id"], id.as_str());
    assert_eq!(regen["client_secret"].as_str().map(str::len), Some(43));
    refused(&clavis(&db, &["client", "regenerate-secret", &id, "--grace", "1w"]), "--grace");

    assert_eq!(json(&clavis(&db, &["client", "delete", &id, "--json"]))["deleted"], true);
    refused(&clavis(&db, &["client", "show", &id]), "client_id");
    refused(&clavis(&db, &["client", "update", &id, "--name", "Back"]), "client_id");
}

#[tokio::test]
async fn list_searches_and_pages() {
    let db = TestDb::fresh().await;
    let mut ids = Vec::new();
    for i in 0..27 {
        let name = if i % 3 == 0 { format!("Billing {i:02}") } else { format!("Reports {i:02}") };
        let out = json(&clavis(
            &db,
            &["client", "add", "--name", &name, "--redirect-uri", "https://a.example/cb", "--json"],
        ));
        ids.push(out["client_id"].as_str().unwrap().to_string());
    }
    let names = |v: &Value| -> Vec<String> {
        v["clients"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect()
    };
    // Default: 25 a page, newest first.
    let first = json(&clavis(&db, &["client", "list", "--json"]));
    assert_eq!(
        (first["total"].as_u64(), first["page"].as_u64(), first["per_page"].as_u64()),
        (Some(27), Some(1), Some(25))
    );
    assert_eq!(names(&first).len(), 25);
    assert_eq!(names(&first)[0], "Reports 26", "newest first");
    let second = json(&clavis(&db, &["client", "list", "--page", "2", "--json"]));
    assert_eq!(names(&second), ["Reports 01", "Billing 00"]);
    let beyond = json(&clavis(&db, &["client", "list", "--page", "9", "--json"]));
    assert_eq!((beyond["total"].as_u64(), names(&beyond).len()), (Some(27), 0));
    // --per-page takes 25, 50 or 100 only.
    let all = json(&clavis(&db, &["client", "list", "--per-page", "50", "--json"]));
    assert_eq!((names(&all).len(), all["per_page"].as_u64()), (27, Some(50)));
    refused(&clavis(&db, &["client", "list", "--per-page", "30"]), "--per-page");
    refused(&clavis(&db, &["client", "list", "--page", "0"]), "--page");
    // --search matches names and Client IDs, case-insensitively, and pages within the matches.
    let billing = json(&clavis(&db, &["client", "list", "--search", "billing", "--json"]));
    assert_eq!(billing["total"], 9);
    assert!(names(&billing).iter().all(|n| n.starts_with("Billing")), "{billing}");
    let by_id = json(&clavis(&db, &["client", "list", "--search", &ids[4], "--json"]));
    assert_eq!(names(&by_id), ["Reports 04"]);
    let none = json(&clavis(&db, &["client", "list", "--search", "nothing like it", "--json"]));
    assert_eq!((none["total"].as_u64(), names(&none).len()), (Some(0), 0));
    // Plain output: one tab-separated line per client, the count on stderr.
    let plain = clavis(&db, &["client", "list", "--search", "Billing 0", "--per-page", "25"]);
    assert!(plain.status.success());
    let stdout = String::from_utf8_lossy(&plain.stdout);
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    assert!(stdout.lines().all(|l| l.split('\t').count() == 3 && l.contains("Billing 0")), "{stdout}");
    assert_eq!(String::from_utf8_lossy(&plain.stderr).trim(), "4 of 4 client(s)");
}

#[tokio::test]
async fn update_turns_the_consent_screen_off_and_on() {
    let db = TestDb::fresh().await;
    let id = json(&clavis(&db, &with(ADD, &["--json"])))["client_id"].as_str().unwrap().to_string();
    let off = json(&clavis(&db, &["client", "update", &id, "--no-consent", "--json"]));
    assert_eq!(off["consent"], false);
    assert_eq!(json(&clavis(&db, &["client", "show", &id, "--json"]))["consent"], false);
    let on = json(&clavis(&db, &["client", "update", &id, "--consent", "--json"]));
    assert_eq!(on["consent"], true);
    assert_eq!(json(&clavis(&db, &["client", "show", &id, "--json"]))["consent"], true);
    let err =
        String::from_utf8_lossy(&clavis(&db, &["client", "update", &id, "--consent", "--no-consent"]).stderr)
            .into_owned();
    assert!(err.contains("--consent") && err.contains("--no-consent"), "{err}");
}
