//! `clavis api ...` and `clavis client ... --api` run as a user would, against a fresh database.

mod common;

use std::process::Output;

use common::{
    TestDb,
    cli::{clavis_with, json, refused},
};
use serde_json::Value;

/// The issuer the CLI derives the built-in API's identifier from.
const ISSUER: &str = "https://auth.example.com";

fn clavis(db: &TestDb, args: &[&str]) -> Output {
    clavis_with(db, args, &[("CLAVIS_ISSUER", ISSUER)])
}

const ORDERS: &str = "https://orders.example.com";

#[tokio::test]
async fn add_prints_the_contract_json_and_show_never_the_secret() {
    let db = TestDb::fresh().await;
    let out = json(&clavis(&db, &["api", "add", "--name", "Orders", "--identifier", ORDERS, "--json"]));
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["client_id", "client_secret", "identifier"]);
    assert_eq!(out["identifier"], ORDERS);
    let secret = out["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43, "256 bits");
    let client_id = out["client_id"].as_str().unwrap();
    assert!(client_id.starts_with("api_"), "{client_id}");

    for key in [ORDERS, client_id] {
        let show = json(&clavis(&db, &["api", "show", key, "--json"]));
        assert_eq!(show["name"], "Orders");
        assert_eq!(show["active"], true);
        assert_eq!(show["builtin"], false);
        assert_eq!(show["secret"]["last4"], secret[39..]);
        assert!(!show.to_string().contains(secret));
    }

    let list = json(&clavis(&db, &["api", "list", "--json"]));
    assert_eq!(list["total"], 2);
    assert_eq!(list["apis"][0]["identifier"], format!("{ISSUER}/api/v1"), "the built-in API first");
    assert_eq!(list["apis"][0]["builtin"], true);
    assert_eq!(list["apis"][1]["identifier"], ORDERS);
    let found = json(&clavis(&db, &["api", "list", "--search", "ORD", "--json"]));
    assert_eq!(found["total"], 1);
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let db = TestDb::fresh().await;
    refused(
        &clavis(&db, &["api", "add", "--name", "X", "--identifier", "http://orders.example.com"]),
        "--identifier",
    );
    refused(
        &clavis(&db, &["api", "add", "--name", "X", "--identifier", "https://o.example.com/#f"]),
        "--identifier",
    );
    refused(&clavis(&db, &["api", "add", "--name", " ", "--identifier", ORDERS]), "--name");
    refused(
        &clavis(&db, &["api", "add", "--name", "X", "--identifier", &format!("{ISSUER}/api/v1")]),
        "built-in",
    );
    json(&clavis(&db, &["api", "add", "--name", "Orders", "--identifier", ORDERS, "--json"]));
    refused(&clavis(&db, &["api", "add", "--name", "Again", "--identifier", ORDERS]), "already registered");
    refused(&clavis(&db, &["api", "show", "https://nope.example.com"]), "no API");
    refused(&clavis(&db, &["api", "update", ORDERS, "--identifier", "ftp://x"]), "--identifier");
    refused(&clavis(&db, &["api", "list", "--per-page", "7"]), "--per-page");
    let list = json(&clavis(&db, &["api", "list", "--json"]));
    assert_eq!(list["total"], 2, "nothing else was written: {list}");

    // The built-in API cannot be changed, deactivated, deleted or given a secret.
    let builtin = format!("{ISSUER}/api/v1");
    for args in [
        vec!["api", "deactivate", builtin.as_str()],
        vec!["api", "delete", builtin.as_str()],
        vec!["api", "regenerate-secret", builtin.as_str()],
        vec!["api", "update", builtin.as_str(), "--name", "Mine"],
    ] {
        refused(&clavis(&db, &args), "built-in API");
    }
}

#[tokio::test]
async fn update_deactivate_regenerate_and_delete() {
    let db = TestDb::fresh().await;
    let added = json(&clavis(&db, &["api", "add", "--name", "Orders", "--identifier", ORDERS, "--json"]));
    let moved = "https://orders.example.com/v2";
    let show = json(&clavis(
        &db,
        &["api", "update", ORDERS, "--identifier", moved, "--description", "Orders v2", "--json"],
    ));
    assert_eq!(show["identifier"], moved);
    assert_eq!(show["description"], "Orders v2");
    assert_eq!(show["name"], "Orders", "what was not given is kept");

    let off = json(&clavis(&db, &["api", "deactivate", moved, "--json"]));
    assert_eq!(off["active"], false);
    let on = json(&clavis(&db, &["api", "activate", moved, "--json"]));
    assert_eq!(on["active"], true);

    let renewed = json(&clavis(&db, &["api", "regenerate-secret", moved, "--json"]));
    assert_eq!(renewed["client_id"], added["client_id"]);
    assert_ne!(renewed["client_secret"], added["client_secret"]);

    let gone = json(&clavis(&db, &["api", "delete", moved, "--json"]));
    assert_eq!(gone["deleted"], true);
    refused(&clavis(&db, &["api", "show", moved]), "no API");
}

#[tokio::test]
async fn a_client_can_be_limited_to_apis() {
    let db = TestDb::fresh().await;
    json(&clavis(&db, &["api", "add", "--name", "Orders", "--identifier", ORDERS, "--json"]));
    fn add<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        const ADD: &[&str] =
            &["client", "add", "--name", "App", "--redirect-uri", "https://app.example.com/cb"];
        ADD.iter().chain(extra).copied().collect()
    }

    // An unknown API is refused before the client is written.
    refused(&clavis(&db, &add(&["--api", "https://nope.example.com"])), "--api");
    refused(&clavis(&db, &add(&["--api", "not a url"])), "--api");
    let clients = json(&clavis(&db, &["client", "list", "--json"]));
    assert_eq!(clients["total"], 0);

    let client = json(&clavis(&db, &add(&["--api", ORDERS, "--json"])));
    let id = client["client_id"].as_str().unwrap();
    let show = json(&clavis(&db, &["client", "show", id, "--json"]));
    assert_eq!(show["apis"], serde_json::json!([ORDERS]));
    let show = json(&clavis(
        &db,
        &["client", "update", id, "--api", &format!("{ISSUER}/api/v1"), "--api", ORDERS, "--json"],
    ));
    assert_eq!(show["apis"], serde_json::json!([format!("{ISSUER}/api/v1"), ORDERS]));
    let show = json(&clavis(&db, &["client", "update", id, "--any-api", "--json"]));
    assert_eq!(show["apis"], Value::Null, "any active API");
}

#[tokio::test]
async fn registration_tokens_are_issued_listed_and_revoked() {
    let db = TestDb::fresh().await;
    let added = json(&clavis(
        &db,
        &["registration-token", "add", "--expires-in", "3600", "--max-uses", "2", "--json"],
    ));
    let keys: Vec<&String> = added.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["token"]);
    assert_eq!(added["token"].as_str().unwrap().len(), 43);
    json(&clavis(&db, &["registration-token", "add", "--json"]));
    let list = json(&clavis(&db, &["registration-token", "list", "--json"]));
    let tokens = list["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0]["max_uses"], 2);
    assert_eq!(tokens[0]["uses"], 0);
    assert!(tokens[0]["expires_at"].is_i64() && tokens[1]["expires_at"].is_null());
    assert!(!list.to_string().contains(added["token"].as_str().unwrap()), "never listed");
    let id = tokens[0]["id"].as_i64().unwrap().to_string();
    assert_eq!(json(&clavis(&db, &["registration-token", "revoke", &id, "--json"]))["revoked"], true);
    refused(&clavis(&db, &["registration-token", "revoke", &id]), "id");
    refused(&clavis(&db, &["registration-token", "add", "--expires-in", "0"]), "--expires-in");
    refused(&clavis(&db, &["registration-token", "add", "--max-uses", "many"]), "--max-uses");
    assert_eq!(
        json(&clavis(&db, &["registration-token", "list", "--json"]))["tokens"].as_array().unwrap().len(),
        1
    );
}
