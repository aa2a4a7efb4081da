//! argon2id password hashing. The hash string carries its own parameters, so they can be raised
//! later without breaking old hashes. Hashing runs on the blocking pool, never on the async runtime,
//! and at most one hash per core runs at once: each needs 19 MiB, so a burst of sign-ins costs
//! waiting, not memory.
//!
//! Verification works in argon2 memory that is kept and reused (one buffer per core): glibc's
//! allocator never handed a fresh 19 MiB allocation back, and the server grew by 19.5 MB with
//! every wrong password (measured: 2.1 GB after 108 of them).

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, OnceLock, PoisonError},
    time::Duration,
};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{PasswordHash, PasswordHasher, SaltString, rand_core::OsRng},
};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

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
        Ok(matches(&hash, password.expose().as_bytes()) && known)
    })
    .await
}

/// Whether `password` hashes to the PHC string `hash` under its own algorithm, version,
/// parameters and salt; compared in constant time. Anything malformed is `false`.
fn matches(hash: &str, password: &[u8]) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let (Ok(algorithm), Some(salt), Some(expected)) =
        (Algorithm::try_from(parsed.algorithm), parsed.salt, parsed.hash)
    else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let (Ok(params), mut salt_bytes) = (Params::try_from(&parsed), [0u8; 64]) else { return false };
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let hashed = with_memory(params.block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password, salt, &mut out, blocks).is_ok()
    });
    hashed && bool::from(out.ct_eq(expected.as_bytes()))
}

/// Argon2 working memory kept between checks: at most one buffer per concurrent check, and
/// checks are bounded by [`cores`].
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

fn with_memory<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    let spare = MEMORY.lock().unwrap_or_else(PoisonError::into_inner).pop();
    let mut memory = spare.unwrap_or_default();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let done = work(&mut memory[..blocks]);
    MEMORY.lock().unwrap_or_else(PoisonError::into_inner).push(memory);
    done
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

    #[test]
    fn matches_agrees_with_argon2_for_any_parameters() {
        use argon2::PasswordVerifier;
        for params in [
            Params::default(),
            Params::new(64, 1, 1, None).unwrap(),
            Params::new(256, 3, 2, Some(16)).unwrap(),
        ] {
            for (algorithm, version) in
                [(Algorithm::Argon2id, Version::V0x13), (Algorithm::Argon2i, Version::V0x10)]
            {
                let hasher = Argon2::new(algorithm, version, params.clone());
                let salt = SaltString::generate(&mut OsRng);
                let hash = hasher.hash_password(b"correct horse", &salt).unwrap().to_string();
                let parsed = PasswordHash::new(&hash).unwrap();
                assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
                assert!(matches(&hash, b"correct horse"), "{hash}");
                assert!(!matches(&hash, b"correct horsf"), "{hash}");
                assert!(!matches(&hash.replace("$v=", "$v=1"), b"correct horse"), "{hash}");
            }
        }
        assert!(!matches("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$", b"x"), "no hash part");
        assert!(!matches("$scrypt$ln=1,r=8,p=1$c2FsdA$aGFzaA", b"x"));
        assert!(!matches("", b""));
    }

    #[test]
    fn memory_is_reused() {
        let blocks = Params::default().block_count();
        with_memory(blocks, |m| assert_eq!(m.len(), blocks));
        let kept = MEMORY.lock().unwrap().len();
        with_memory(blocks, |_| ());
        assert!(MEMORY.lock().unwrap().len() <= kept.max(1), "a buffer is taken and given back, not added");
    }

    #[tokio::test]
    async fn unknown_user_never_verifies() {
        assert!(!verify(None, pw("anything at all")).await.unwrap());
        assert!(!verify(Some("not a hash".into()), pw("anything at all")).await.unwrap());
    }
}
