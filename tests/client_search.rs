//! The client search at scale: counts stop at 10,000 ("10,000+"), a search that matches few
//! clients among many finds exactly them (through the trigram index on SQLite, `pg_trgm` on
//! Postgres), many matches made long ago are found in order, and the indexes follow renames,
//! deletions and every character literally.

mod common;

use clavis::{
    db::{Backend, Db},
    domain::client::{ClientId, ClientPage, ListQuery, SortKey, StateFilter},
    registry,
};
use common::registry::{builtin, db, form};

async fn search(db: &Db, text: &str) -> ClientPage {
    registry::list(db, &ListQuery { search: text.into(), per_page: 100, ..ListQuery::default() })
        .await
        .unwrap()
}

/// `n` copies of the client named `template`, "Bulk client 1" … (one statement, as the
/// benchmark seeds them).
async fn copies(db: &Db, template: &str, n: i64) {
    copies_named(db, template, n, "Bulk client ", "bulk-").await;
}

/// `n` copies of `template` named `name` and `id` followed by 1 … `n`.
async fn copies_named(db: &Db, template: &str, n: i64, name: &str, id: &str) {
    let text = if db.backend() == Backend::Sqlite { "n.i" } else { "CAST(n.i AS TEXT)" };
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO clients (client_id, name, name_key, redirect_uris, auth_method, require_pkce, scope, \
           description, version, access_lifetime_secs, refresh_lifetime_secs, refresh_count_limit, consent, \
           rate_limit, active, secret_digest, secret_last4, secret_created_at, created_at, updated_at, \
           refresh_reuse_grace_secs, origin, apis, client_credentials) \
         SELECT $3 || {text}, $4 || {text}, $5 || {text}, redirect_uris, auth_method, \
           require_pkce, scope, description, version, access_lifetime_secs, refresh_lifetime_secs, \
           refresh_count_limit, consent, rate_limit, active, secret_digest, secret_last4, secret_created_at, \
           created_at, updated_at, refresh_reuse_grace_secs, origin, apis, client_credentials \
         FROM clients c CROSS JOIN n WHERE c.name = $2"
    );
    sqlx::query(&sql)
        .bind(n)
        .bind(template)
        .bind(id)
        .bind(name)
        .bind(name.to_lowercase())
        .execute(db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn counts_stop_at_ten_thousand_and_a_rare_match_is_found_exactly() {
    let (_t, db) = db().await;
    registry::create(&db, &form("Template"), &builtin()).await.unwrap();
    registry::create(&db, &form("Needle in the haystack"), &builtin()).await.unwrap();
    copies(&db, "Template", 10_500).await;
    if db.backend() == Backend::Postgres {
        // Statistics tell which trigrams are common: searches then look up their rarest part.
        sqlx::query("ANALYZE clients").execute(db.pool()).await.unwrap();
    }

    let all = registry::list(&db, &ListQuery::default()).await.unwrap();
    assert_eq!((all.total, all.more, all.total_text().as_str()), (10_000, true, "10,000+"));
    assert_eq!(all.rows.len(), 25);

    // Matches most clients: a page at once, the count capped.
    let many = search(&db, "bulk client").await;
    assert!(many.more && many.total == 10_000, "{} {}", many.total, many.more);
    assert_eq!(many.rows.len(), 100);
    assert!(many.rows.iter().all(|r| r.name.starts_with("Bulk client ")));

    // Matches few: exactly those, counted exactly.
    let rare = search(&db, "client 1049").await;
    let mut names: Vec<&str> = rare.rows.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "Bulk client 1049",
            "Bulk client 10490",
            "Bulk client 10491",
            "Bulk client 10492",
            "Bulk client 10493",
            "Bulk client 10494",
            "Bulk client 10495",
            "Bulk client 10496",
            "Bulk client 10497",
            "Bulk client 10498",
            "Bulk client 10499"
        ]
    );
    assert_eq!((rare.total, rare.more), (11, false));
    assert_eq!(search(&db, "NEEDLE").await.rows.len(), 1, "case-insensitive");
    assert_eq!(search(&db, "haystack").await.total, 1);
    assert_eq!(search(&db, "no such client").await.total, 0);
    assert_eq!(search(&db, "bulk-1049").await.total, 11, "by client ID");
    assert_eq!(search(&db, "client 10499").await.rows.len(), 1);
    // Short searches (below the trigram index) still match anywhere: the needle's name, and
    // the template's random client ID if it happens to hold the two letters.
    let (template_id,): (String,) = sqlx::query_as("SELECT client_id FROM clients WHERE name = 'Template'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let expected = 1 + u64::from(template_id.to_lowercase().contains("dl"));
    assert_eq!(search(&db, "dl").await.total, expected, "template's ID: {template_id}");
    // A search and another filter: counted with both.
    let q = ListQuery { search: "bulk client".into(), state: StateFilter::Inactive, ..ListQuery::default() };
    let none = registry::list(&db, &q).await.unwrap();
    assert_eq!((none.total, none.more), (0, false));

    // Newest first by default, the trigram index's own order; any other order sorts the matches.
    let newest: Vec<String> = rare.rows.iter().map(|r| r.name.clone()).collect();
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    expected.sort_by_key(|n| std::cmp::Reverse(n.trim_start_matches("Bulk client ").parse::<u32>().unwrap()));
    assert_eq!(newest, expected, "newest first");
    let by_name = |search: &str, descending| ListQuery {
        search: search.into(),
        sort: SortKey::Name,
        descending,
        per_page: 25,
        ..ListQuery::default()
    };
    let asc = registry::list(&db, &by_name("client 1049", false)).await.unwrap();
    assert_eq!(asc.rows.first().map(|r| r.name.as_str()), Some("Bulk client 1049"));
    assert_eq!(asc.rows.last().map(|r| r.name.as_str()), Some("Bulk client 10499"));
    // Thousands of matches in name order: the first page of names as sorted text.
    let many_by_name = registry::list(&db, &by_name("bulk client", false)).await.unwrap();
    let firsts: Vec<&str> = many_by_name.rows.iter().take(4).map(|r| r.name.as_str()).collect();
    assert_eq!(firsts, ["Bulk client 1", "Bulk client 10", "Bulk client 100", "Bulk client 1000"]);
    assert_eq!((many_by_name.total, many_by_name.more), (10_000, true));
    let last_page = ListQuery { page: 2, ..by_name("client 1049", true) };
    let past = registry::list(&db, &last_page).await.unwrap();
    assert_eq!((past.rows.len(), past.total, past.more), (0, 11, false), "past the last page: still counted");

    // With the state filter: matches the index finds, counted among the active or inactive ones.
    sqlx::query("UPDATE clients SET active = 0 WHERE client_id = 'bulk-10495'")
        .execute(db.pool())
        .await
        .unwrap();
    let with_state = |state| ListQuery { search: "client 1049".into(), state, ..ListQuery::default() };
    let active = registry::list(&db, &with_state(StateFilter::Active)).await.unwrap();
    let inactive = registry::list(&db, &with_state(StateFilter::Inactive)).await.unwrap();
    assert_eq!((active.total, active.rows.len()), (10, 10));
    assert_eq!(inactive.rows.iter().map(|r| r.client_id.as_str()).collect::<Vec<_>>(), ["bulk-10495"]);
    db.close().await;
}

/// A search shorter than a trigram cannot use the index: it is counted among the first 20,000
/// clients only, and says so ("at least", the `+`), while its pages still find every match.
#[tokio::test]
async fn a_short_search_is_counted_among_the_first_clients_and_says_at_least() {
    let (_t, db) = db().await;
    registry::create(&db, &form("Template"), &builtin()).await.unwrap();
    copies(&db, "Template", 25_000).await;
    let matching = (1..=25_000).filter(|i| i.to_string().contains("77")).count() as u64;
    let page = search(&db, "77").await;
    assert!(page.more, "counted partly");
    assert!(page.total >= page.rows.len() as u64 && page.total < matching, "{} of {matching}", page.total);
    assert!(page.total_text().ends_with('+'), "{}", page.total_text());
    // Every match is still reachable: the newest are on the first page.
    assert_eq!(page.rows[0].name, "Bulk client 24977");
    // A short search on a small filter is counted exactly.
    let q = ListQuery { search: "77".into(), state: StateFilter::Inactive, ..ListQuery::default() };
    let none = registry::list(&db, &q).await.unwrap();
    assert_eq!((none.total, none.more), (0, false));
    db.close().await;
}

/// Thousands of matches, none among the newest clients: the first page is still the newest of
/// them (on Postgres the walk along the order gives up and the matches are collected instead).
#[tokio::test]
async fn many_matches_made_long_ago_are_found_in_order() {
    let (_t, db) = db().await;
    registry::create(&db, &form("Template"), &builtin()).await.unwrap();
    copies_named(&db, "Template", 10_500, "Old client ", "bulk-x-").await;
    copies(&db, "Template", 30_000).await;
    if db.backend() == Backend::Postgres {
        sqlx::query("ANALYZE clients").execute(db.pool()).await.unwrap();
    }
    let old = |page, sort, descending| ListQuery {
        search: "old client".into(),
        sort,
        descending,
        page,
        per_page: 25,
        ..ListQuery::default()
    };
    let names = |p: &ClientPage| p.rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    let first = registry::list(&db, &old(1, SortKey::Created, true)).await.unwrap();
    assert_eq!((first.total, first.more), (10_000, true));
    let expected: Vec<String> = (10_476..=10_500).rev().map(|i| format!("Old client {i}")).collect();
    assert_eq!(names(&first), expected);
    let second = registry::list(&db, &old(2, SortKey::Created, true)).await.unwrap();
    let expected: Vec<String> = (10_451..=10_475).rev().map(|i| format!("Old client {i}")).collect();
    assert_eq!(names(&second), expected);
    let oldest = registry::list(&db, &old(1, SortKey::Created, false)).await.unwrap();
    let expected: Vec<String> = (1..=25).map(|i| format!("Old client {i}")).collect();
    assert_eq!(names(&oldest), expected);
    let by_name = registry::list(&db, &old(1, SortKey::Name, false)).await.unwrap();
    assert_eq!(names(&by_name)[..4], ["Old client 1", "Old client 10", "Old client 100", "Old client 1000"]);
    db.close().await;
}

#[tokio::test]
async fn the_index_follows_renames_and_deletions_and_takes_every_character_literally() {
    let (_t, db) = db().await;
    let (a, _) = registry::create(&db, &form("Orders \"beta\" 100%_done"), &builtin()).await.unwrap();
    let (b, _) = registry::create(&db, &form("Billing"), &builtin()).await.unwrap();
    assert_eq!(search(&db, "\"beta\"").await.total, 1, "quotes are literal");
    assert_eq!(search(&db, "100%_d").await.total, 1, "'%' and '_' are literal");
    assert_eq!(search(&db, "0%x").await.total, 0);
    assert_eq!(search(&db, "OR billing").await.total, 0, "no query syntax");
    let fragment = &b.client_id.as_str()[4..12];
    assert_eq!(search(&db, fragment).await.rows[0].client_id, b.client_id.as_str(), "by client ID");

    let id = ClientId::parse(a.client_id.as_str()).unwrap();
    registry::update(&db, &id, &form("Invoices"), &builtin()).await.unwrap();
    assert_eq!(search(&db, "orders").await.total, 0, "the old name is gone from the index");
    assert_eq!(search(&db, "invoices").await.total, 1, "the new name is in it");
    grams_match_the_clients(&db).await;
    registry::delete(&db, &b.client_id).await.unwrap();
    assert_eq!(search(&db, "billing").await.total, 0);
    assert_eq!(search(&db, fragment).await.total, 0);
    grams_match_the_clients(&db).await;
    db.close().await;
}

/// On Postgres, the lists of clients by gram the triggers keep (`clients_search_grams`) hold
/// exactly each client's grams: of its name key and of its client ID, ASCII lower-cased.
async fn grams_match_the_clients(db: &Db) {
    if db.backend() != Backend::Postgres {
        return;
    }
    let clients: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, name_key, client_id FROM clients").fetch_all(db.pool()).await.unwrap();
    let mut expected = std::collections::BTreeSet::new();
    for (id, name_key, client_id) in clients {
        for text in [name_key, client_id.to_ascii_lowercase()] {
            let chars: Vec<char> = text.chars().collect();
            for gram in chars.windows(3) {
                expected.insert((gram.iter().collect::<String>(), id));
            }
        }
    }
    let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT gram, block, CAST(n AS BIGINT), CAST(cardinality(ids) AS BIGINT), CAST(u.id AS BIGINT) \
         FROM clients_search_grams, unnest(ids) u(id)",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut stored = std::collections::BTreeSet::new();
    for (gram, block, n, held, id) in rows {
        assert_eq!(block, id / 1024, "{gram:?} holds {id} in block {block}");
        assert_eq!(n, held, "n of {gram:?} in block {block}");
        assert!(stored.insert((gram, id)), "a client is held once in a list");
    }
    assert_eq!(stored, expected);
}
