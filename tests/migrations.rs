//! The SQLite and Postgres migration folders must describe the same schema.

mod common;

use std::collections::BTreeSet;

use clavis::db::Db;
use common::TestDb;

type Columns = BTreeSet<(String, String, &'static str, bool)>;

/// One portable name per column type, so the two dialects can be compared.
fn kind(raw: &str) -> &'static str {
    match raw.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => "int",
        "text" => "text",
        "blob" | "bytea" => "bytes",
        "double precision" | "real" => "float",
        other => panic!("unexpected column type {other}: add it to the portable set"),
    }
}

async fn sqlite_schema() -> (Columns, BTreeSet<String>) {
    let tdb = TestDb::sqlite();
    let db = Db::connect(&tdb.url).await.unwrap();
    db.migrate().await.unwrap();
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT m.name, p.name, p.type, p.\"notnull\" FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let indexes: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    db.close().await;
    // SQLite's INTEGER PRIMARY KEY is implicitly NOT NULL.
    let cols = rows.into_iter().map(|(t, c, ty, nn)| {
        let nn = nn == 1 || (c == "id" && ty == "INTEGER");
        (t, c, kind(&ty), nn)
    });
    (cols.collect(), indexes.into_iter().map(|(n,)| n).collect())
}

async fn postgres_schema(admin_url: &str) -> (Columns, BTreeSet<String>) {
    let tdb = TestDb::postgres(admin_url).await;
    let db = Db::connect(&tdb.url).await.unwrap();
    db.migrate().await.unwrap();
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let indexes: Vec<(String,)> = sqlx::query_as(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' \
         AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    db.close().await;
    let cols = rows.into_iter().map(|(t, c, ty, nullable)| (t, c, kind(&ty), nullable == "NO"));
    (cols.collect(), indexes.into_iter().map(|(n,)| n).collect())
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_match() {
    // Needs Postgres in every run: the project's machines and CI have it at this address.
    let pg = std::env::var("CLAVIS_TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let (sqlite_cols, sqlite_idx) = sqlite_schema().await;
    let (pg_cols, pg_idx) = postgres_schema(&pg).await;
    assert!(sqlite_cols.iter().any(|(t, c, _, _)| t == "users" && c == "password_hash"));
    assert_eq!(sqlite_cols, pg_cols);
    assert_eq!(sqlite_idx, pg_idx);
}
