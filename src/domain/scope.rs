//! OAuth scopes (RFC 6749 §3.3): a set of the values this server knows, `read` and `write`.
//! Every scope string is parsed here once; the set is compared, narrowed and joined as a set, and
//! written back in one canonical order.

use std::fmt;

use serde::{Serialize, Serializer};

/// A set of scope values. Displayed space-separated in canonical order (`read write`).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Scope(u8);

/// Every value this server knows, with its bit, in canonical order.
const VALUES: [(&str, u8); 2] = [("read", 1), ("write", 2)];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// A value this server does not know (cut to 40 characters).
    #[error("unknown scope: {0}")]
    Unknown(String),
    /// Values asked for beyond what may be had.
    #[error("scope {0} was not granted")]
    NotGranted(Scope),
}

impl Scope {
    pub const EMPTY: Scope = Scope(0);
    pub const READ: Scope = Scope(1);
    pub const WRITE: Scope = Scope(2);
    pub const ALL: Scope = Scope(3);

    /// A space-separated list of values (RFC 6749 §3.3); repeated spaces and values are
    /// tolerated, any unknown value is an error naming it. An empty string is the empty set.
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        raw.split(' ').filter(|v| !v.is_empty()).try_fold(Scope::EMPTY, |set, value| {
            VALUES
                .iter()
                .find(|(name, _)| *name == value)
                .map(|(_, bit)| Scope(set.0 | bit))
                .ok_or_else(|| ScopeError::Unknown(value.chars().take(40).collect()))
        })
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every value of `other` is in this set.
    pub fn contains(self, other: Scope) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn union(self, other: Scope) -> Scope {
        Scope(self.0 | other.0)
    }

    /// The values in both: what a grant still holds under its client's current settings.
    pub fn intersection(self, other: Scope) -> Scope {
        Scope(self.0 & other.0)
    }

    /// What a request for `requested` may have out of this (granted) set: all of it when nothing
    /// is asked for, else exactly what was asked, which must lie within (RFC 6749 §3.3, §6).
    pub fn narrow(self, requested: Scope) -> Result<Scope, ScopeError> {
        if requested.is_empty() {
            return Ok(self);
        }
        match Scope(requested.0 & !self.0) {
            beyond if beyond.is_empty() => Ok(requested),
            beyond => Err(ScopeError::NotGranted(beyond)),
        }
    }

    /// The values, in canonical order.
    pub fn values(self) -> impl Iterator<Item = &'static str> {
        VALUES.into_iter().filter(move |(_, bit)| self.0 & bit != 0).map(|(name, _)| name)
    }

    /// The access in the words a person reads on the consent and account pages.
    pub fn in_words(self) -> &'static str {
        if self.contains(Scope::WRITE) { "Read and change your data" } else { "Read your data" }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, value) in self.values().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(value)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({self})")
    }
}

/// As the space-separated string, as in token responses (RFC 6749 §5.1).
impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(raw: &str) -> Scope {
        Scope::parse(raw).unwrap()
    }

    #[test]
    fn parses_sets_in_any_order_and_displays_canonically() {
        for (raw, shown) in [
            ("read", "read"),
            ("write", "write"),
            ("write read", "read write"),
            ("  read  read ", "read"),
            ("", ""),
        ] {
            assert_eq!(s(raw).to_string(), shown, "{raw:?}");
        }
        assert_eq!(s("read write"), Scope::ALL);
        assert_eq!(Scope::parse("read admin"), Err(ScopeError::Unknown("admin".into())));
        assert_eq!(
            Scope::parse("READ"),
            Err(ScopeError::Unknown("READ".into())),
            "values are case-sensitive"
        );
        assert_eq!(Scope::parse(&"x".repeat(100)), Err(ScopeError::Unknown("x".repeat(40))));
        assert_eq!(Scope::parse("read\twrite"), Err(ScopeError::Unknown("read\twrite".into())), "SP only");
    }

    #[test]
    fn contains_is_the_subset_relation() {
        assert!(Scope::ALL.contains(Scope::READ) && Scope::ALL.contains(Scope::WRITE));
        assert!(Scope::READ.contains(Scope::READ) && Scope::READ.contains(Scope::EMPTY));
        assert!(!Scope::READ.contains(Scope::WRITE) && !Scope::WRITE.contains(Scope::READ));
        assert!(!Scope::READ.contains(Scope::ALL));
    }

    #[test]
    fn narrow_only_ever_narrows() {
        assert_eq!(Scope::ALL.narrow(Scope::EMPTY), Ok(Scope::ALL), "nothing asked: all granted");
        assert_eq!(Scope::ALL.narrow(Scope::WRITE), Ok(Scope::WRITE));
        assert_eq!(Scope::ALL.narrow(Scope::ALL), Ok(Scope::ALL));
        assert_eq!(Scope::READ.narrow(Scope::ALL), Err(ScopeError::NotGranted(Scope::WRITE)));
        assert_eq!(Scope::WRITE.narrow(Scope::READ).unwrap_err().to_string(), "scope read was not granted");
    }

    #[test]
    fn union_intersection_and_words() {
        // Widest of a user's sessions: "write" alone is not wider than "read write".
        assert_eq!(Scope::WRITE.union(Scope::READ), Scope::ALL);
        assert_eq!(Scope::ALL.intersection(Scope::READ), Scope::READ);
        assert_eq!(Scope::WRITE.intersection(Scope::READ), Scope::EMPTY);
        assert_eq!(Scope::READ.in_words(), "Read your data");
        assert_eq!(Scope::WRITE.in_words(), "Read and change your data");
        assert_eq!(Scope::ALL.in_words(), "Read and change your data");
    }

    #[test]
    fn serializes_as_the_string() {
        assert_eq!(serde_json::to_string(&Scope::ALL).unwrap(), r#""read write""#);
        assert_eq!(serde_json::to_string(&Scope::EMPTY).unwrap(), r#""""#);
        assert_eq!(format!("{:?}", Scope::READ), "Scope(read)");
    }
}
