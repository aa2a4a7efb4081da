//! The client registry against a real database: every operation, the stored form of secrets,
//! and the list's search, filter, sort and paging.

mod common;

use clavis::{
    auth::token,
    domain::client::{ClientForm, ClientId, Field, ListQuery, SecretGrace, SortKey, StateFilter},
    registry::{self, RegistryError},
};
use common::registry::{builtin, db, form};

#[tokio::test]
async fn create_stores_only_a_digest_of_the_secret() {
    let (_t, db) = db().await;
    let (client, secret) = registry::create(&db, &form("App"), &builtin()).await.unwrap();
    let secret = secret.expect("confidential clients get a secret");
    assert_eq!(secret.expose().len(), 43, "256 bits, URL-safe");
    assert!(client.client_id.as_str().len() >= 22, "128 bits");
    assert!(client.active);
    let info = client.secret.expect("secret info");
    assert_eq!(info.last4, secret.expose()[39..]);

    let (digest, last4): (Vec<u8>, String) =
        sqlx::query_as("SELECT secret_digest, secret_last4 FROM clients WHERE client_id = $1")
            .bind(client.client_id.as_str())
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(digest, token::digest(secret.expose()).to_vec());
    assert_eq!(last4, info.last4);
    let texts: Vec<(String,)> =
        sqlx::query_as("SELECT redirect_uris FROM clients").fetch_all(db.pool()).await.unwrap();
    assert!(texts.iter().all(|(t,)| !t.contains(secret.expose())));
}

#[tokio::test]
async fn public_clients_have_no_secret_and_none_needs_pkce() {
    let (_t, db) = db().await;
    let public = ClientForm { auth_method: "none".into(), ..form("SPA") };
    let (client, secret) = registry::create(&db, &public, &builtin()).await.unwrap();
    assert!(secret.is_none());
    assert!(client.secret.is_none());
    assert!(matches!(
        registry::regenerate_secret(&db, &client.client_id, SecretGrace::None).await,
        Err(RegistryError::NoSecret)
    ));

    let bad = ClientForm { auth_method: "none".into(), require_pkce: false, ..form("Bad") };
    match registry::create(&db, &bad, &builtin()).await {
        Err(RegistryError::Invalid(e)) => {
            assert!(e.get(Field::AuthMethod).is_some() && e.get(Field::RequirePkce).is_some())
        }
        other => panic!("{other:?}"),
    }
    let edit = ClientForm { require_pkce: false, ..ClientForm::from_spec(&client.spec) };
    assert!(matches!(
        registry::update(&db, &client.client_id, &edit, &builtin()).await,
        Err(RegistryError::Invalid(_))
    ));
    assert_eq!(registry::list(&db, &ListQuery::default()).await.unwrap().total, 1, "nothing else written");
}

#[tokio::test]
async fn the_database_refuses_none_without_pkce_whoever_writes() {
    let (_t, db) = db().await;
    let (client, _) =
        registry::create(&db, &ClientForm { auth_method: "none".into(), ..form("SPA") }, &builtin())
            .await
            .unwrap();
    let forced = sqlx::query("UPDATE clients SET require_pkce = 0 WHERE client_id = $1")
        .bind(client.client_id.as_str())
        .execute(db.pool())
        .await;
    assert!(forced.is_err(), "CHECK constraint");
    // Nor a public client without the allow/deny screen (RFC 8252 §8.6), on update or insert.
    let forced = sqlx::query("UPDATE clients SET consent = 0 WHERE client_id = $1")
        .bind(client.client_id.as_str())
        .execute(db.pool())
        .await;
    let err = forced.expect_err("public clients keep the consent screen").to_string();
    assert!(err.contains("clients_public_consent"), "{err}");
    let inserted = sqlx::query(
        "INSERT INTO clients (client_id, name, name_key, redirect_uris, auth_method, require_pkce, scope, \
           consent, active, created_at, updated_at) \
         VALUES ('forcedforcedforced', 'X', 'x', '[\"https://a.example/cb\"]', 'none', 1, 'full', 0, 1, 0, 0)",
    )
    .execute(db.pool())
    .await;
    let err = inserted.expect_err("no public client without consent").to_string();
    assert!(err.contains("clients_public_consent"), "{err}");
    let (consent,): (i64,) = sqlx::query_as("SELECT consent FROM clients WHERE client_id = $1")
        .bind(client.client_id.as_str())
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(consent, 1);
}

#[tokio::test]
async fn switching_auth_method_removes_or_issues_the_secret() {
    let (_t, db) = db().await;
    let (client, first) = registry::create(&db, &form("App"), &builtin()).await.unwrap();
    let id = client.client_id.clone();
    let to_public = ClientForm { auth_method: "none".into(), ..ClientForm::from_spec(&client.spec) };
    let (public, none) = registry::update(&db, &id, &to_public, &builtin()).await.unwrap();
    assert!(none.is_none() && public.secret.is_none());
    let back =
        ClientForm { auth_method: "client_secret_basic".into(), ..ClientForm::from_spec(&public.spec) };
    let (confidential, issued) = registry::update(&db, &id, &back, &builtin()).await.unwrap();
    let issued = issued.expect("a new secret, shown once");
    assert_ne!(issued.expose(), first.unwrap().expose());
    assert_eq!(confidential.secret.unwrap().last4, issued.expose()[39..]);
}

#[tokio::test]
async fn regenerate_with_and_without_grace() {
    let (_t, db) = db().await;
    let (client, _) = registry::create(&db, &form("App"), &builtin()).await.unwrap();
    let id = client.client_id;
    let (c, s1) = registry::regenerate_secret(&db, &id, SecretGrace::OneHour).await.unwrap();
    let until = c.secret.as_ref().and_then(|s| s.previous_valid_until).expect("grace period");
    assert!((until - c.updated_at - 3600).abs() <= 1);
    assert_eq!(c.secret.unwrap().last4, s1.expose()[39..]);
    let (c, _) = registry::regenerate_secret(&db, &id, SecretGrace::None).await.unwrap();
    assert_eq!(c.secret.unwrap().previous_valid_until, None);
    let old: (Option<Vec<u8>>,) =
        sqlx::query_as("SELECT old_secret_digest FROM clients WHERE client_id = $1")
            .bind(id.as_str())
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(old.0, None, "no grace: the old secret stops at once");
}

#[tokio::test]
async fn edits_never_resurrect_a_deleted_client() {
    let (_t, db) = db().await;
    let (client, _) = registry::create(&db, &form("App"), &builtin()).await.unwrap();
    let id = client.client_id.clone();
    registry::delete(&db, &id).await.unwrap();
    let edit = ClientForm { name: "Renamed".into(), ..ClientForm::from_spec(&client.spec) };
    assert!(matches!(registry::update(&db, &id, &edit, &builtin()).await, Err(RegistryError::NotFound)));
    assert!(matches!(registry::set_active(&db, &id, false).await, Err(RegistryError::NotFound)));
    assert!(matches!(registry::get(&db, &id).await, Err(RegistryError::NotFound)));
    assert!(matches!(registry::delete(&db, &id).await, Err(RegistryError::NotFound)));
    let unknown = ClientId::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap();
    assert!(matches!(
        registry::regenerate_secret(&db, &unknown, SecretGrace::None).await,
        Err(RegistryError::NotFound)
    ));
}

#[tokio::test]
async fn list_searches_filters_sorts_and_pages() {
    let (_t, db) = db().await;
    let mut ids = Vec::new();
    for i in 0..60 {
        let name = if i % 10 == 0 { format!("Special_{i:02}") } else { format!("App {i:02}") };
        let (c, _) = registry::create(&db, &form(&name), &builtin()).await.unwrap();
        if i % 3 == 0 {
            registry::set_active(&db, &c.client_id, false).await.unwrap();
        }
        ids.push(c.client_id);
    }
    assert!(
        ids.iter().all(|i| i.as_str().starts_with(|c: char| c.is_ascii_alphanumeric())),
        "no id starts with '-' or '_' (it would read as a CLI option)"
    );
    let q = |f: fn(&mut ListQuery)| {
        let mut q = ListQuery::default();
        f(&mut q);
        q
    };
    // Pages of 25 cover all 60 exactly once, newest first.
    let mut seen = Vec::new();
    for page in 1..=3 {
        let p = registry::list(&db, &ListQuery { page, ..ListQuery::default() }).await.unwrap();
        assert_eq!(p.total, 60);
        seen.extend(p.rows.into_iter().map(|r| r.client_id));
    }
    let mut expected: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    expected.reverse();
    assert_eq!(seen, expected);
    let past_end = registry::list(&db, &ListQuery { page: 9, ..ListQuery::default() }).await.unwrap();
    assert!(past_end.rows.is_empty());
    assert_eq!(past_end.total, 60);

    let by_name =
        registry::list(&db, &q(|q| (q.sort, q.descending, q.per_page) = (SortKey::Name, false, 100)))
            .await
            .unwrap();
    let names: Vec<&str> = by_name.rows.iter().map(|r| r.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted);

    let special = registry::list(&db, &q(|q| q.search = "special_".into())).await.unwrap();
    assert_eq!(special.total, 6, "case-insensitive, '_' is literal");
    let underscore_only = registry::list(&db, &q(|q| q.search = "%".into())).await.unwrap();
    assert_eq!(underscore_only.total, 0, "'%' is literal");
    let fragment = ids[7].as_str()[3..12].to_string();
    let by_id = registry::list(&db, &ListQuery { search: fragment, ..ListQuery::default() }).await.unwrap();
    assert!(by_id.rows.iter().any(|r| r.client_id == ids[7].as_str()));

    let inactive =
        registry::list(&db, &q(|q| (q.state, q.per_page) = (StateFilter::Inactive, 100))).await.unwrap();
    assert_eq!(inactive.total, 20);
    assert!(inactive.rows.iter().all(|r| !r.active));
    let active = registry::list(&db, &q(|q| q.state = StateFilter::Active)).await.unwrap();
    assert_eq!(active.total, 40);

    let by_state =
        registry::list(&db, &q(|q| (q.sort, q.descending, q.per_page) = (SortKey::State, false, 100)))
            .await
            .unwrap();
    let states: Vec<bool> = by_state.rows.iter().map(|r| r.active).collect();
    assert_eq!(states.iter().take_while(|a| !**a).count(), 20, "inactive first when ascending");
}
