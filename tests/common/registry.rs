//! A migrated database and the forms the registry tests start from.

use clavis::{db::Db, domain::client::ClientForm};

use super::TestDb;

/// A fresh database, migrated.
pub async fn db() -> (TestDb, Db) {
    let t = TestDb::fresh().await;
    let db = Db::connect(&t.url).await.unwrap();
    db.migrate().await.unwrap();
    (t, db)
}

/// The built-in API's identifier for an issuer at 127.0.0.1:3000.
pub fn builtin() -> clavis::domain::api::ApiIdentifier {
    clavis::domain::api::ApiIdentifier::builtin("http://127.0.0.1:3000")
}

/// The add form with a name and one redirect URL.
pub fn form(name: &str) -> ClientForm {
    ClientForm {
        name: name.into(),
        redirect_uris: "https://app.example.com/cb".into(),
        ..ClientForm::default()
    }
}
