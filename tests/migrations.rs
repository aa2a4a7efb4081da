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

// The client search index differs by design and is left out of every comparison: SQLite's is an
// FTS5 table `clients_search` (with its shadow tables and three triggers keeping it in step),
// Postgres's two pg_trgm indexes `clients_search_name` and `clients_search_id` and the table
// `clients_search_grams` (with its triggers).

async fn sqlite_schema() -> (Columns, BTreeSet<String>) {
    let tdb = TestDb::sqlite();
    let db = Db::connect(&tdb.url).await.unwrap();
    db.migrate().await.unwrap();
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT m.name, p.name, p.type, p.\"notnull\" FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' \
           AND m.name NOT LIKE 'clients_search%'",
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
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
           AND table_name NOT LIKE 'clients_search%'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let indexes: Vec<(String,)> = sqlx::query_as(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' \
         AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u')) \
         AND indexname NOT LIKE 'clients_search%'",
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

/// Foreign keys as (table, column, referenced table, referenced column, ON DELETE action), UNIQUE
/// constraints as (table, columns), and CHECK constraints counted per table (SQLite keeps them only
/// as SQL text; a CHECK added later is a trigger there, named after the Postgres constraint).
#[derive(Debug, Default, PartialEq, Eq)]
struct Constraints {
    foreign_keys: BTreeSet<(String, String, String, String, String)>,
    unique: BTreeSet<(String, String)>,
    checks: BTreeSet<(String, usize)>,
    named_checks: BTreeSet<(String, String)>,
}

async fn sqlite_constraints() -> Constraints {
    let tdb = TestDb::sqlite();
    let db = Db::connect(&tdb.url).await.unwrap();
    db.migrate().await.unwrap();
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' AND name NOT LIKE 'clients_search%'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut c = Constraints::default();
    for (table, sql) in &tables {
        let fks: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list($1)")
                .bind(table)
                .fetch_all(db.pool())
                .await
                .unwrap();
        for (to_table, from, to, on_delete) in fks {
            c.foreign_keys.insert((table.clone(), from, to_table, to, on_delete.to_ascii_uppercase()));
        }
        let unique: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM pragma_index_list($1) WHERE origin = 'u'")
                .bind(table)
                .fetch_all(db.pool())
                .await
                .unwrap();
        for (index,) in unique {
            let cols: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(db.pool())
                    .await
                    .unwrap();
            c.unique.insert((table.clone(), cols.into_iter().map(|(n,)| n).collect::<Vec<_>>().join(",")));
        }
        c.checks.insert((table.clone(), sql.matches("CHECK (").count()));
    }
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name NOT LIKE 'clients_search%'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    for (table, sql) in triggers {
        let name = sql.split("CHECK constraint failed: ").nth(1).and_then(|r| r.split('\'').next());
        c.named_checks.insert((table, name.expect("every trigger enforces a named CHECK").to_string()));
    }
    db.close().await;
    c
}

async fn postgres_constraints(admin_url: &str) -> Constraints {
    let tdb = TestDb::postgres(admin_url).await;
    let db = Db::connect(&tdb.url).await.unwrap();
    db.migrate().await.unwrap();
    let fks: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT cl.relname::text, a.attname::text, rcl.relname::text, ra.attname::text, \
           CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT' \
             WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END \
         FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_class rcl ON rcl.oid = c.confrelid \
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
           JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1] \
         WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let unique: Vec<(String, String)> = sqlx::query_as(
        "SELECT cl.relname::text, string_agg(a.attname::text, ',' ORDER BY k.ord) \
         FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid \
           CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) \
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
         WHERE c.contype = 'u' AND c.connamespace = 'public'::regnamespace GROUP BY c.oid, cl.relname",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let checks: Vec<(String, String)> = sqlx::query_as(
        "SELECT cl.relname::text, c.conname::text FROM pg_constraint c \
           JOIN pg_class cl ON cl.oid = c.conrelid \
         WHERE c.contype = 'c' AND c.connamespace = 'public'::regnamespace",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_name <> '_sqlx_migrations' AND table_name NOT LIKE 'clients_search%'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    db.close().await;
    let mut c = Constraints {
        foreign_keys: fks.into_iter().collect(),
        unique: unique.into_iter().collect(),
        ..Constraints::default()
    };
    // Constraints added by a later migration have a name of their own (the SQLite trigger's);
    // the ones declared with their table are Postgres's `<table>_..._check` names.
    let added_later = |name: &str| {
        ["clients_public_consent", "clients_self_registered", "clients_client_credentials"].contains(&name)
    };
    for (table,) in tables {
        let declared = checks.iter().filter(|(t, n)| *t == table && !added_later(n)).count();
        c.checks.insert((table, declared));
    }
    for (table, name) in checks.iter().filter(|(_, n)| added_later(n)) {
        c.named_checks.insert((table.clone(), name.clone()));
    }
    c
}

#[tokio::test]
async fn foreign_keys_unique_and_check_constraints_match() {
    let pg = std::env::var("CLAVIS_TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let sqlite = sqlite_constraints().await;
    let postgres = postgres_constraints(&pg).await;
    assert!(
        sqlite.foreign_keys.contains(&(
            "tokens".into(),
            "grant_id".into(),
            "grants".into(),
            "id".into(),
            "CASCADE".into()
        )),
        "{:?}",
        sqlite.foreign_keys
    );
    assert!(sqlite.unique.contains(&("clients".into(), "client_id".into())), "{:?}", sqlite.unique);
    assert!(sqlite.checks.iter().any(|(t, n)| t == "clients" && *n >= 8), "{:?}", sqlite.checks);
    assert_eq!(sqlite.foreign_keys, postgres.foreign_keys);
    assert_eq!(sqlite.unique, postgres.unique);
    assert_eq!(sqlite.checks, postgres.checks);
    assert_eq!(sqlite.named_checks, postgres.named_checks);
}
