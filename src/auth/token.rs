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

/// The length of an [`ordered_token`].
pub const ORDERED_LEN: usize = 54;

/// A token issued at `micros` (microseconds since the Unix epoch): those 8 bytes, big-endian,
/// then 256 random bits, as URL-safe text ([`ORDERED_LEN`] characters). Its [`digest`] starts
/// with the same 8 bytes, so the tokens issued together are stored side by side in the digest
/// index (appended at its end) instead of each on a random page of it: a refresh on SQLite wrote
/// about six pages, two of them such random index pages. The time is no secret (whoever holds
/// the token knows when it was issued); the random part is as long as any other secret's.
pub fn ordered_token(micros: u64) -> String {
    let mut bytes = [0u8; 40];
    bytes[..8].copy_from_slice(&micros.to_be_bytes());
    // As in `random_url_safe`.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes[8..]).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Microseconds since the Unix epoch, for [`ordered_token`].
pub fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Proves the OS RNG is usable before the server accepts requests.
pub fn check_rng() -> Result<(), getrandom::Error> {
    getrandom::fill(&mut [0u8; 32])
}

/// What a secret is stored and looked up as: its SHA-256; for an [`ordered_token`], the token's
/// 8 bytes of issue time and then the first 24 bytes of its SHA-256 (192 bits: finding another
/// token with the same digest stays out of reach).
pub fn digest(secret: &str) -> [u8; 32] {
    let hash: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    if secret.len() != ORDERED_LEN {
        return hash;
    }
    let mut decoded = [0u8; 40];
    match URL_SAFE_NO_PAD.decode_slice(secret, &mut decoded) {
        Ok(40) => {
            let mut out = [0u8; 32];
            out[..8].copy_from_slice(&decoded[..8]);
            out[8..].copy_from_slice(&hash[..24]);
            out
        }
        _ => hash,
    }
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
    fn ordered_tokens_are_256_random_bits_after_their_time_and_their_digests_sort_by_it() {
        let (a, b) = (ordered_token(1_000_000), ordered_token(1_000_001));
        assert_eq!((a.len(), b.len()), (ORDERED_LEN, ORDERED_LEN));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let decoded = URL_SAFE_NO_PAD.decode(&a).unwrap();
        assert_eq!(&decoded[..8], &1_000_000_u64.to_be_bytes());
        // Same time, another token: the random part differs.
        let c = ordered_token(1_000_000);
        assert_ne!(a, c);
        assert_ne!(URL_SAFE_NO_PAD.decode(&c).unwrap()[8..], decoded[8..]);
        // Digests: the time first, then the SHA-256; ordered as the times are.
        let (da, db) = (digest(&a), digest(&b));
        assert_eq!(&da[..8], &1_000_000_u64.to_be_bytes());
        assert_eq!(&da[8..], &<[u8; 32]>::from(Sha256::digest(a.as_bytes()))[..24]);
        assert!(da < db);
        assert_ne!(digest(&c), da);
        // Any other secret, or text of that length that is not such a token: its SHA-256.
        let other = random_token();
        assert_eq!(digest(&other), <[u8; 32]>::from(Sha256::digest(other.as_bytes())));
        let odd = "!".repeat(ORDERED_LEN);
        assert_eq!(digest(&odd), <[u8; 32]>::from(Sha256::digest(odd.as_bytes())));
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
