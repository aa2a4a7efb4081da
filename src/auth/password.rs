//! argon2id password hashing. The hash string carries its own parameters, so they can be raised
//! later without breaking old hashes. Hashing runs on the blocking pool, never on the async runtime,
//! and at most one hash per core runs at once: each holds 19 MiB, so a burst of sign-ins costs
//! waiting, not memory.

use std::{
    num::NonZeroUsize,
    sync::{Arc, OnceLock},
    time::Duration,
};

use tokio::sync::Semaphore;

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
    /// Every core was busy hashing for longer than [`WAIT_FOR_A_CORE`].
    #[error("too many password checks at once")]
    Busy,
}

/// How long a password check waits for a free core before it is refused as [`PasswordHashError::Busy`].
pub const WAIT_FOR_A_CORE: Duration = Duration::from_secs(5);

fn cores() -> &'static Arc<Semaphore> {
    static CORES: OnceLock<Arc<Semaphore>> = OnceLock::new();
    CORES.get_or_init(|| {
        Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, NonZeroUsize::get)))
    })
}

/// Runs `work` on the blocking pool once a core is free. The permit moves into the blocking task,
/// so it is held until the hash is done even when the request that asked for it goes away.
async fn on_a_core<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PasswordHashError> + Send + 'static,
) -> Result<T, PasswordHashError> {
    let permit = tokio::time::timeout(WAIT_FOR_A_CORE, cores().clone().acquire_owned())
        .await
        .map_err(|_| PasswordHashError::Busy)?
        .map_err(|_| PasswordHashError::Busy)?;
    tokio::task::spawn_blocking(move || {
        let done = work();
        drop(permit);
        done
    })
    .await?
}

/// Hashes a new password with argon2id and its default (OWASP-recommended) parameters.
pub async fn hash(password: Password) -> Result<String, PasswordHashError> {
    on_a_core(move || hash_blocking(&password)).await
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
    on_a_core(move || {
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
    .await
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
