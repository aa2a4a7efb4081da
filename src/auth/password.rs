//! argon2id password hashing. The hash string carries its own parameters, so they can be raised
//! later without breaking old hashes. Hashing runs on the blocking pool, never on the async runtime.

use std::sync::OnceLock;

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};

use crate::domain::Password;

#[derive(Debug, thiserror::Error)]
pub enum PasswordHashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Hashes a new password with argon2id and its default (OWASP-recommended) parameters.
pub async fn hash(password: Password) -> Result<String, PasswordHashError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

fn hash_blocking(password: &Password) -> Result<String, PasswordHashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordHashError::Hash(e.to_string()))
}

/// Verifies `password` against `stored`; with no stored hash (unknown user) it verifies against a
/// dummy hash, so both answers take the same time and say the same thing.
pub async fn verify(stored: Option<String>, password: Password) -> Result<bool, PasswordHashError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash = match stored {
            Some(h) => h,
            None => dummy_hash()?.to_string(),
        };
        let ok = PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        Ok(known && ok)
    })
    .await?
}

static DUMMY: OnceLock<String> = OnceLock::new();

/// Computes the dummy hash once; called at start-up so the first unknown user is not faster.
pub fn dummy_hash() -> Result<&'static str, PasswordHashError> {
    if let Some(h) = DUMMY.get() {
        return Ok(h);
    }
    let random = Password::parse_new(super::token::random_token())
        .map_err(|e| PasswordHashError::Hash(e.to_string()))?;
    let h = hash_blocking(&random)?;
    Ok(DUMMY.get_or_init(|| h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::parse_new(s.to_string()).unwrap()
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash(pw("correct horse")).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(Some(h.clone()), pw("correct horse")).await.unwrap());
        assert!(!verify(Some(h), pw("wrong horse")).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_user_never_verifies() {
        assert!(!verify(None, pw("anything at all")).await.unwrap());
        assert!(!verify(Some("not a hash".into()), pw("anything at all")).await.unwrap());
    }
}
