//! The audit log: every administrative change recorded with who, from where and what changed
//! field by field (never a secret), written in the change's own transaction, absent when the
//! change is refused; read with `clavis audit` and the `audit/list` server function.

mod common;

use std::process::Output;

use common::{
    TestApp, TestDb,
    cli::{clavis_with, json, refused},
};
use serde_json::{Value, json};

/// `clavis ARGS` as the operating-system user `ops`.
fn ops(db: &TestDb, args: &[&str]) -> Output {
    clavis_with(db, args, &[("USER", "ops")])
}

fn audit(db: &TestDb, args: &[&str]) -> Value {
    let mut all = vec!["audit", "--json"];
    all.extend_from_slice(args);
    json(&ops(db, &all))
}

fn entries(page: &Value) -> Vec<Value> {
    page["entries"].as_array().expect("entries").clone()
}

/// The (field, from, to) of an entry's changes.
fn changes(entry: &Value) -> Vec<(String, Value, Value)> {
    entry["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| (c["field"].as_str().unwrap().to_string(), c["from"].clone(), c["to"].clone()))
        .collect()
}

fn add_client(db: &TestDb, name: &str) -> (String, String) {
    let out = json(&ops(
        db,
        &["client", "add", "--name", name, "--redirect-uri", "https://app.example.com/cb", "--json"],
    ));
    (out["client_id"].as_str().unwrap().to_string(), out["client_secret"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn command_line_changes_are_recorded_field_by_field_and_never_show_a_secret() {
    let db = TestDb::fresh().await;
    let (id, secret) = add_client(&db, "Billing");

    let page = audit(&db, &[]);
    assert_eq!(page["total"], 1, "{page}");
    let created = &entries(&page)[0];
    assert_eq!(created["action"], "client.created");
    assert_eq!(created["actor"], "cli:ops");
    assert_eq!(created["address"], Value::Null);
    assert_eq!(
        (created["target_type"].as_str(), created["target"].as_str()),
        (Some("client"), Some(id.as_str()))
    );
    let c = changes(created);
    assert!(c.contains(&("name".into(), Value::Null, json!("Billing"))), "{c:?}");
    assert!(c.contains(&("redirect_uris".into(), Value::Null, json!("https://app.example.com/cb"))), "{c:?}");
    assert!(c.contains(&("secret".into(), Value::Null, json!("issued"))), "{c:?}");

    let out = ops(&db, &["client", "update", &id, "--name", "Billing v2", "--scope", "read"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let updated = &entries(&audit(&db, &[]))[0];
    assert_eq!(updated["action"], "client.updated");
    assert_eq!(
        changes(updated),
        vec![
            ("name".into(), json!("Billing"), json!("Billing v2")),
            ("scope".into(), json!("full"), json!("read")),
        ],
        "only what changed"
    );

    // Refused input changes nothing and leaves no entry.
    refused(&ops(&db, &["client", "update", &id, "--redirect-uri", "not a url"]), "redirect");
    assert_eq!(audit(&db, &[])["total"], 2);

    let out = ops(&db, &["client", "regenerate-secret", &id, "--json"]);
    let new_secret = json(&out)["client_secret"].as_str().unwrap().to_string();
    ops(&db, &["client", "deactivate", &id]);
    ops(&db, &["client", "delete", &id]);
    let page = audit(&db, &["--client", &id]);
    let actions: Vec<String> =
        entries(&page).iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        actions,
        [
            "client.deleted",
            "client.deactivated",
            "client.secret_regenerated",
            "client.updated",
            "client.created"
        ]
    );
    let deleted = &entries(&page)[0];
    assert!(changes(deleted).contains(&("name".into(), json!("Billing v2"), Value::Null)), "{deleted}");
    let text = page.to_string();
    assert!(!text.contains(&secret) && !text.contains(&new_secret), "no secret in the log: {text}");

    // Filters.
    assert_eq!(audit(&db, &["--actor", "someone-else"])["total"], 0);
    assert_eq!(audit(&db, &["--actor", "cli:ops"])["total"], 5);
    assert_eq!(audit(&db, &["--since", "2999-01-01"])["total"], 0);
    assert_eq!(audit(&db, &["--since", "1h"])["total"], 5);
    assert_eq!(audit(&db, &["--per-page", "2", "--page", "3"])["entries"].as_array().unwrap().len(), 1);
    refused(&ops(&db, &["audit", "--since", "yesterday"]), "--since");
    refused(&ops(&db, &["audit", "--per-page", "0"]), "--per-page");
}

#[tokio::test]
async fn refused_user_changes_leave_no_entry() {
    let app = TestApp::spawn().await;
    app.add_user("root", true).await;
    app.add_user("alice", false).await;
    let before = audit(&app.db, &[])["total"].as_i64().unwrap();
    assert_eq!(before, 2, "each added user is recorded");

    // The last active administrator stays, and the refusal is not recorded.
    refused(&ops(&app.db, &["user", "disable", "root"]), "administrator");
    refused(&ops(&app.db, &["user", "update", "root", "--role", "user"]), "administrator");
    assert_eq!(audit(&app.db, &[])["total"], before);

    ops(&app.db, &["user", "disable", "alice"]);
    ops(&app.db, &["user", "update", "alice", "--role", "admin", "--display-name", "Alice A."]);
    let page = audit(&app.db, &["--actor", "cli:ops"]);
    let list = entries(&page);
    assert_eq!(list.len(), 2, "{page}");
    assert_eq!(list[1]["action"], "user.disabled");
    assert_eq!(changes(&list[1]), vec![("disabled".into(), json!("no"), json!("yes"))]);
    assert_eq!(list[0]["action"], "user.updated");
    assert_eq!(
        changes(&list[0]),
        vec![
            ("role".into(), json!("user"), json!("admin")),
            ("display_name".into(), json!("alice"), json!("Alice A."))
        ]
    );
}

#[tokio::test]
async fn settings_changes_are_recorded() {
    let db = TestDb::fresh().await;
    json(&ops(&db, &["settings", "set", "--session-cap", "5", "--registration", "token", "--json"]));
    let entry = &entries(&audit(&db, &[]))[0];
    assert_eq!(
        (entry["action"].as_str(), entry["target_type"].as_str()),
        (Some("settings.updated"), Some("settings"))
    );
    assert_eq!(
        changes(entry),
        vec![
            ("registration".into(), json!("off"), json!("token")),
            ("session_cap".into(), json!("10"), json!("5"))
        ]
    );
    // Saved as it was: nothing changed, nothing recorded.
    json(&ops(&db, &["settings", "set", "--session-cap", "5", "--json"]));
    assert_eq!(audit(&db, &[])["total"], 1);
}

/// A change whose audit entry cannot be written does not happen: they share one transaction.
#[tokio::test]
async fn a_change_and_its_entry_commit_together() {
    use sqlx::{Connection, Executor};
    let db = TestDb::fresh().await;
    let (id, _) = add_client(&db, "Ledger");
    let refuse_entries: &[&str] = if db.is_postgres() {
        &[
            "CREATE FUNCTION refuse_entry() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$ \
             LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_entry BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_entry()",
        ]
    } else {
        &[
            "CREATE TRIGGER refuse_entry BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
        ]
    };
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    for sql in refuse_entries {
        conn.execute(*sql).await.unwrap();
    }

    let out = ops(&db, &["client", "update", &id, "--name", "Renamed"]);
    assert!(!out.status.success(), "the change fails with its entry");
    assert!(String::from_utf8_lossy(&out.stderr).contains("audit refused"));
    let shown = json(&ops(&db, &["client", "show", &id, "--json"]));
    assert_eq!(shown["name"], "Ledger", "the client is unchanged: {shown}");
    assert!(!ops(&db, &["client", "delete", &id]).status.success());
    assert!(ops(&db, &["client", "show", &id]).status.success(), "not deleted");
    assert!(!ops(&db, &["settings", "set", "--session-cap", "3"]).status.success());
    let settings = json(&ops(&db, &["settings", "show", "--json"]));
    assert_eq!(settings["session_cap"], 10, "settings unchanged: {settings}");
    conn.close().await.unwrap();
}

async fn session(app: &TestApp, username: &str, admin: bool) -> (String, String) {
    app.add_user(username, admin).await;
    let cookie = app.sign_in(username).await;
    let page = app.get("/account", &cookie).await.text().await.unwrap();
    (cookie, common::hidden_value(&page, "csrf").expect("csrf token"))
}

async fn call(app: &TestApp, cookie: &str, path: &str, body: Value) -> (u16, Value) {
    let mut req = app.http.post(app.url(&format!("/api/{path}"))).json(&body);
    if !cookie.is_empty() {
        req = req.header("cookie", cookie);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn the_admin_pages_record_the_administrator_and_their_address() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = session(&app, "root", true).await;
    let form = json!({"name": "Portal", "redirect_uris": "https://portal.example.com/cb"});
    let (status, created) = call(&app, &admin, "clients/create", json!({"csrf": csrf, "form": form})).await;
    assert_eq!(status, 200, "{created}");
    let id = created["client"]["client_id"].as_str().unwrap().to_string();
    let (status, _) =
        call(&app, &admin, "clients/revoke_sessions", json!({"csrf": csrf, "client_id": id})).await;
    assert_eq!(status, 200);

    let filter = |client: &str, actor: &str, since: &str| json!({"filter": {"client": client, "actor": actor, "since": since}, "page": 1});
    let (status, page) = call(&app, &admin, "audit/list", filter(&id, "", "")).await;
    assert_eq!(status, 200, "{page}");
    let list = entries(&page);
    assert_eq!(list.len(), 2, "{page}");
    assert_eq!(list[0]["action"], "client.sessions_revoked");
    assert_eq!(list[1]["action"], "client.created");
    for e in &list {
        assert_eq!(e["actor"], "root");
        assert_eq!(e["address"], "127.0.0.1");
    }
    let (_, by_root) = call(&app, &admin, "audit/list", filter("", "root", "")).await;
    assert_eq!(by_root["total"], 2);

    let (status, err) = call(&app, &admin, "audit/list", filter("", "", "last tuesday")).await;
    assert_eq!(status, 400);
    assert!(err.to_string().contains("Since"), "{err}");

    let (user, _) = session(&app, "alice", false).await;
    assert_eq!(call(&app, &user, "audit/list", filter("", "", "")).await.0, 403);
    assert_eq!(call(&app, "", "audit/list", filter("", "", "")).await.0, 401);
}
