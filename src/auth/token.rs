//! Random secrets and their digests. Secrets come from the OS RNG, are stored only as SHA-256
//! digests and are compared in constant time.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `N` bytes from the OS RNG as URL-safe text.
fn random_url_safe<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    // Startup already proved the OS RNG works (`Application::build`); failing later is fatal.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// 256 bits as URL-safe text (43 characters): secrets, session ids.
pub fn random_token() -> String {
    random_url_safe::<32>()
}

/// 128 bits as URL-safe text (22 characters): public identifiers.
pub fn random_id() -> String {
    random_url_safe::<16>()
}

/// Proves the OS RNG is usable before the server accepts requests.
pub fn check_rng() -> Result<(), getrandom::Error> {
    getrandom::fill(&mut [0u8; 32])
}

pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A value derived from a secret for one purpose, e.g. the CSRF token of a session.
pub fn derive(purpose: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(purpose.as_bytes());
    h.update([0u8]);
    h.update(secret.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

pub fn constant_time_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_unique_and_url_safe() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn ids_are_128_bits() {
        let id = random_id();
        assert_eq!(id.len(), 22);
        assert_ne!(id, random_id());
    }

    #[test]
    fn derive_separates_purposes() {
        assert_ne!(derive("csrf", "s"), derive("other", "s"));
        assert_eq!(derive("csrf", "s"), derive("csrf", "s"));
        assert_ne!(derive("csrf", "s1"), derive("csrf", "s2"));
    }

    #[test]
    fn comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
