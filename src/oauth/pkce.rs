//! Proof Key for Code Exchange (RFC 7636), S256 only (`plain` is refused, OAuth 2.1 §4.1.1).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `code_verifier` / `code_challenge` characters: RFC 3986 unreserved.
fn unreserved(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is BASE64URL(SHA-256(verifier)) without padding: exactly 43 characters
/// (RFC 7636 §4.2).
pub fn is_valid_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && unreserved(challenge)
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len()) && unreserved(verifier)
}

/// RFC 7636 §4.6: does `verifier` hash to `challenge`? Compared in constant time.
pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    if !is_valid_verifier(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_appendix_b() {
        assert!(verify_s256(VERIFIER, CHALLENGE));
        assert!(is_valid_s256_challenge(CHALLENGE));
    }

    #[test]
    fn mismatches_and_malformed_verifiers_fail() {
        assert!(!verify_s256(&VERIFIER.replace('d', "e"), CHALLENGE));
        assert!(!verify_s256(VERIFIER, &CHALLENGE.replace('E', "F")));
        assert!(!verify_s256(CHALLENGE, CHALLENGE), "plain (verifier == challenge) never passes");
        assert!(!verify_s256("short", CHALLENGE));
        assert!(!verify_s256(&"a".repeat(129), CHALLENGE));
        assert!(!verify_s256(&format!("{VERIFIER}+"), CHALLENGE), "'+' is not unreserved");
        assert!(is_valid_verifier(&"a".repeat(43)) && is_valid_verifier(&"~".repeat(128)));
        assert!(!is_valid_s256_challenge(&CHALLENGE[..42]));
        assert!(!is_valid_s256_challenge(&format!("{}=", &CHALLENGE[..42])));
    }
}
