//! `clavis client export` / `client import`: every setting, no secret; an import writes all or
//! nothing, names the first bad entry, and prints new secrets once.

mod common;

use common::{
    TestDb,
    cli::{clavis, json, refused},
};
use serde_json::{Value, json};

fn write(dir: &tempfile::TempDir, name: &str, v: &Value) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, v.to_string()).unwrap();
    path.display().to_string()
}

fn total(db: &TestDb) -> u64 {
    json(&clavis(db, &["client", "list", "--json"]))["total"].as_u64().unwrap()
}

#[tokio::test]
async fn clients_move_between_instances_with_new_secrets() {
    let from = TestDb::fresh().await;
    let web = json(&clavis(
        &from,
        &[
            "client",
            "add",
            "--name",
            "Web",
            "--redirect-uri",
            "https://web.example.com/cb",
            "--scope",
            "read",
            "--rate-limit",
            "120",
            "--auth-method",
            "client_secret_basic",
            "--json",
        ],
    ));
    let spa = json(&clavis(
        &from,
        &[
            "client",
            "add",
            "--name",
            "SPA",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--auth-method",
            "none",
            "--json",
        ],
    ));
    let web_id = web["client_id"].as_str().unwrap();
    let spa_id = spa["client_id"].as_str().unwrap();
    assert!(clavis(&from, &["client", "deactivate", spa_id]).status.success());

    let out = clavis(&from, &["client", "export", "--json"]);
    let file = json(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(web["client_secret"].as_str().unwrap()), "no secret in the export");
    assert_eq!(file["clavis_clients"], 1);
    let clients = file["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 2);
    assert_eq!(
        (clients[0]["client_id"].as_str(), clients[0]["scope"].as_str()),
        (Some(web_id), Some("read"))
    );
    assert_eq!(clients[1]["active"], false);

    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "clients.json", &file);
    let to = TestDb::fresh().await;
    let imported = json(&clavis(&to, &["client", "import", &path, "--json"]));
    assert_eq!(imported["imported"], 2, "{imported}");
    let secret = imported["clients"][0]["client_secret"].as_str().expect("a new secret for Web");
    assert_ne!(secret, web["client_secret"].as_str().unwrap(), "new secrets are issued");
    assert!(imported["clients"][1].get("client_secret").is_none(), "a public client has none");

    let shown = json(&clavis(&to, &["client", "show", web_id, "--json"]));
    assert_eq!(shown["name"], "Web");
    assert_eq!(shown["auth_method"], "client_secret_basic");
    assert_eq!(shown["rate_limit"], 120);
    let shown = json(&clavis(&to, &["client", "show", spa_id, "--json"]));
    assert_eq!(shown["active"], false, "{shown}");
    let audit = json(&clavis(&to, &["audit", "--json"]));
    assert_eq!(audit["entries"][0]["action"], "client.imported");
    // The same file again: the IDs exist now; nothing more is written.
    let err = refused(&clavis(&to, &["client", "import", &path]), "clients[0]");
    assert!(err.contains("exists already"), "{err}");
    assert_eq!(total(&to), 2);
}

#[tokio::test]
async fn a_bad_file_changes_nothing_and_names_its_first_bad_entry() {
    let db = TestDb::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let good =
        |id: &str| json!({"client_id": id, "name": "App", "redirect_uris": "https://app.example.com/cb"});
    let mut bad_uri = good("second-client-id-2");
    bad_uri["redirect_uris"] = json!("not a url");
    let cases = [
        (
            json!({"clavis_clients": 1, "clients": [good("first-client-id-01"), bad_uri]}),
            "clients[1] (client_id second-client-id-2): Redirect URLs",
        ),
        (
            json!({"clavis_clients": 1, "clients": [good("same-client-id-0001"), good("same-client-id-0001")]}),
            "listed twice",
        ),
        (
            json!({"clavis_clients": 1, "clients": [good("first-client-id-01"), {"client_id": "x", "consent": "yes"}]}),
            "clients[1]",
        ),
        (
            json!({"clavis_clients": 1, "clients": [good("https://app.example.com/client.json")]}),
            "client_id: letters",
        ),
        (
            json!({"clavis_clients": 1, "clients": [{"client_id": "api-limited-client-1", "name": "A", "redirect_uris": "https://a.example/cb", "apis": ["https://unknown.example"]}]}),
            "not a registered API",
        ),
        (json!({"clients": []}), "clavis_clients"),
    ];
    for (i, (file, named)) in cases.iter().enumerate() {
        let path = write(&dir, &format!("bad{i}.json"), file);
        let err = refused(&clavis(&db, &["client", "import", &path]), named);
        assert!(err.contains(&path), "names the file: {err}");
    }
    refused(&clavis(&db, &["client", "import", "/no/such/file.json"]), "cannot read");
    assert_eq!(total(&db), 0, "nothing was written");
    assert_eq!(json(&clavis(&db, &["audit", "--json"]))["total"], 0);
}

#[tokio::test]
async fn the_client_list_exports_and_imports_for_administrators_only() {
    let app = common::TestApp::spawn().await;
    app.add_user("root", true).await;
    app.add_user("alice", false).await;
    let admin = app.sign_in("root").await;
    let user = app.sign_in("alice").await;
    let client = app.add_client(|f| f.name = "Exported".into()).await;

    let res = app.get("/admin/clients/export.json", &admin).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(res.headers()["cache-control"], "no-store");
    let file: Value = res.json().await.unwrap();
    assert_eq!(file["clients"][0]["client_id"].as_str(), Some(client.client_id.as_str()));
    assert_eq!(app.get("/admin/clients/export.json", &user).await.status(), 403);
    assert_ne!(app.get("/admin/clients/export.json", "").await.status(), 200);

    let page = app.get("/account", &admin).await.text().await.unwrap();
    let csrf = common::hidden_value(&page, "csrf").unwrap();
    let import = |body: Value, cookie: &str| {
        app.http.post(app.url("/api/clients/import")).header("cookie", cookie.to_string()).json(&body).send()
    };
    // Its own export again: the IDs exist, nothing is written, the entry is named.
    let res = import(json!({"csrf": csrf, "file": file.to_string()}), &admin).await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("clients[0]"));
    let mut renamed = file.clone();
    renamed["clients"][0]["client_id"] = json!("imported-client-0001");
    let res = import(json!({"csrf": csrf, "file": renamed.to_string()}), &admin).await.unwrap();
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.unwrap();
    assert_eq!(list[0]["client_id"], "imported-client-0001");
    assert_eq!(list[0]["secret"].as_str().map(str::len), Some(43), "a new secret, once");
    renamed["clients"][0]["client_id"] = json!("imported-client-0002");
    let forged = import(json!({"csrf": "forged", "file": renamed.to_string()}), &admin).await.unwrap();
    assert_eq!(forged.status(), 403);
    let by_user = import(json!({"csrf": csrf, "file": renamed.to_string()}), &user).await.unwrap();
    assert_eq!(by_user.status(), 403);
}
