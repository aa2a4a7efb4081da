//! `clavis settings`: instance-wide defaults and the API switch, stored in the database.

mod common;

use common::{
    TestDb,
    cli::{clavis, json as json_of},
};
use serde_json::json;

#[tokio::test]
async fn defaults_then_changes() {
    let db = TestDb::fresh().await;
    let defaults = json!({"access_token_lifetime": 43200, "refresh_token_lifetime": 2592000, "session_cap": 10, "session_max_lifetime": 7776000, "api_access": "on", "registration": "off", "client_metadata_documents": "off", "max_self_registered": 1000, "metadata_document_hosts": []});
    assert_eq!(json_of(&clavis(&db, &["settings", "show", "--json"])), defaults);
    let plain = clavis(&db, &["settings"]);
    assert!(String::from_utf8_lossy(&plain.stdout).contains("API access:             on"));

    let changed =
        json_of(&clavis(&db, &["settings", "set", "--session-cap", "3", "--api-access", "off", "--json"]));
    assert_eq!(
        changed,
        json!({"access_token_lifetime": 43200, "refresh_token_lifetime": 2592000, "session_cap": 3, "session_max_lifetime": 7776000, "api_access": "off", "registration": "off", "client_metadata_documents": "off", "max_self_registered": 1000, "metadata_document_hosts": []})
    );
    let changed = json_of(&clavis(
        &db,
        &[
            "settings",
            "set",
            "--access-token-lifetime",
            "600",
            "--refresh-token-lifetime",
            "86400",
            "--api-access",
            "on",
            "--session-max-lifetime",
            "604800",
            "--registration",
            "token",
            "--client-metadata-documents",
            "on",
            "--max-self-registered",
            "50",
            "--metadata-document-hosts",
            "docs.internal.example, 10.0.0.5",
            "--json",
        ],
    ));
    assert_eq!(
        changed,
        json!({"access_token_lifetime": 600, "refresh_token_lifetime": 86400, "session_cap": 3, "session_max_lifetime": 604800, "api_access": "on", "registration": "token", "client_metadata_documents": "on", "max_self_registered": 50, "metadata_document_hosts": ["docs.internal.example", "10.0.0.5"]})
    );
    let plain = clavis(&db, &["settings"]);
    assert!(String::from_utf8_lossy(&plain.stdout).contains("session max lifetime:   604800 s"));
}

#[tokio::test]
async fn bad_values_exit_2_naming_the_flag_and_change_nothing() {
    let db = TestDb::fresh().await;
    for (args, flag) in [
        (&["settings", "set", "--access-token-lifetime", "0"][..], "--access-token-lifetime"),
        (&["settings", "set", "--refresh-token-lifetime", "-5"][..], "--refresh-token-lifetime"),
        (&["settings", "set", "--session-cap", "1001"][..], "--session-cap"),
        (&["settings", "set", "--session-max-lifetime", "0"][..], "--session-max-lifetime"),
        (&["settings", "set", "--session-max-lifetime", "90d"][..], "--session-max-lifetime"),
        (&["settings", "set", "--api-access", "maybe", "--session-cap", "5"][..], "--api-access"),
        (&["settings", "set", "--registration", "yes", "--session-cap", "5"][..], "--registration"),
        (&["settings", "set", "--client-metadata-documents", "1"][..], "--client-metadata-documents"),
        (&["settings", "set", "--max-self-registered", "-1"][..], "--max-self-registered"),
        (
            &["settings", "set", "--metadata-document-hosts", "https://x.example/"][..],
            "--metadata-document-hosts",
        ),
    ] {
        let out = clavis(&db, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert_eq!(json_of(&clavis(&db, &["settings", "show", "--json"]))["session_cap"], 10, "nothing changed");
}

/// The CLI writes beside the server: two handles (two processes' pools) changing the audited
/// settings at once must all succeed. On SQLite a transaction that reads before it writes would
/// otherwise fail with "database is locked" whenever the other wrote in between.
#[tokio::test]
async fn two_processes_change_settings_at_once() {
    use clavis::db::{Db, settings::SettingsPatch};
    use std::num::NonZeroU32;
    let tdb = TestDb::fresh().await;
    let (a, b) = (Db::connect(&tdb.url).await.unwrap(), Db::connect(&tdb.url).await.unwrap());
    a.migrate().await.unwrap();
    let mut calls = Vec::new();
    // Each a value no other change sets, nor the default (10): every change changes something.
    for i in 11..=50u32 {
        let db = if i % 2 == 0 { a.clone() } else { b.clone() };
        calls.push(tokio::spawn(async move {
            let patch = SettingsPatch { session_cap: NonZeroU32::new(i), ..Default::default() };
            db.save_settings(patch, None).await
        }));
    }
    for (i, call) in calls.into_iter().enumerate() {
        call.await.unwrap().unwrap_or_else(|e| panic!("change {}: {e}", i + 1));
    }
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE action = 'settings.updated'")
        .fetch_one(a.pool())
        .await
        .unwrap();
    assert_eq!(n, 40, "each change recorded once");
}
