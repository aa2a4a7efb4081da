//! Registered APIs (resource servers): their identifiers (RFC 8707 §2), what an administrator
//! may set, and sets of APIs (a token's audience, a client's allowed APIs). Every rule about an
//! API record is here; the CLI, the admin pages and the OAuth endpoints go through these types.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::client::{ClientId, ClientName, DESCRIPTION_MAX, SecretInfo, redirect_uri};

/// An API's identifier: the value clients send as `resource` and the audience of its tokens.
/// An absolute `https` URI, or `http` on a loopback host for development; no fragment, no query,
/// no user name or password (RFC 8707 §2). Compared as an exact string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ApiIdentifier(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiIdentifierError {
    #[error("is required")]
    Empty,
    #[error("must be at most {max} characters", max = ApiIdentifier::MAX_LEN)]
    TooLong,
    #[error("must not contain spaces or control characters")]
    BadCharacter,
    #[error("must be an absolute URL such as https://api.example.com")]
    NotAbsolute,
    #[error("must not contain a fragment (#...)")]
    Fragment,
    #[error("must not contain a query (?...)")]
    Query,
    #[error("must use https (http is allowed only for 127.0.0.1, [::1] and localhost)")]
    Scheme,
    #[error("{0}")]
    Authority(redirect_uri::RedirectUriError),
}

impl ApiIdentifier {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, ApiIdentifierError> {
        if raw.is_empty() {
            return Err(ApiIdentifierError::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(ApiIdentifierError::TooLong);
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ApiIdentifierError::BadCharacter);
        }
        let (scheme, rest) = raw.split_once(':').ok_or(ApiIdentifierError::NotAbsolute)?;
        if raw.contains('#') {
            return Err(ApiIdentifierError::Fragment);
        }
        if raw.contains('?') {
            return Err(ApiIdentifierError::Query);
        }
        if !rest.starts_with("//") {
            return Err(ApiIdentifierError::NotAbsolute);
        }
        let host = redirect_uri::authority(rest).map_err(ApiIdentifierError::Authority)?;
        match scheme {
            "https" => {}
            "http" if redirect_uri::is_loopback_name(&host) => {}
            _ => return Err(ApiIdentifierError::Scheme),
        }
        Ok(Self(raw.to_string()))
    }

    /// The built-in API's identifier, `{issuer}/api/v1`: it follows the issuer, whatever that is
    /// (an `http` issuer on a LAN address included), so it is not checked as a registered one.
    pub fn builtin(issuer: &str) -> Self {
        Self(format!("{issuer}/api/v1"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of APIs by row id, as stored: ids in ascending order, space-separated. Row ids are never
/// reused, so a set never comes to mean an API registered later.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ApiSet(Vec<i64>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a list of API ids: {0:?}")]
pub struct ApiSetError(String);

impl ApiSet {
    /// The built-in API's row id.
    pub const BUILTIN: i64 = 1;

    pub fn builtin() -> Self {
        Self(vec![Self::BUILTIN])
    }

    pub fn new(ids: impl IntoIterator<Item = i64>) -> Self {
        let mut ids: Vec<i64> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        Self(ids)
    }

    pub fn parse(raw: &str) -> Result<Self, ApiSetError> {
        let ids: Result<Vec<i64>, _> = raw.split_ascii_whitespace().map(str::parse).collect();
        ids.map(Self::new).map_err(|_| ApiSetError(raw.chars().take(40).collect()))
    }

    pub fn contains(&self, id: i64) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    pub fn is_subset(&self, of: &ApiSet) -> bool {
        self.0.iter().all(|id| of.contains(*id))
    }

    pub fn intersection(&self, other: &ApiSet) -> ApiSet {
        Self(self.0.iter().copied().filter(|id| other.contains(*id)).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn ids(&self) -> &[i64] {
        &self.0
    }
}

impl fmt::Display for ApiSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, id) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{id}")?;
        }
        Ok(())
    }
}

/// The fields of the API form, each of which can carry its own error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiField {
    Name,
    Identifier,
    Description,
}

impl ApiField {
    pub fn label(self) -> &'static str {
        match self {
            ApiField::Name => "Name",
            ApiField::Identifier => "Identifier",
            ApiField::Description => "Description",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            ApiField::Name => "--name",
            ApiField::Identifier => "--identifier",
            ApiField::Description => "--description",
        }
    }
}

/// Errors by field, in form order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiFieldErrors(pub Vec<(ApiField, String)>);

impl ApiFieldErrors {
    pub fn get(&self, field: ApiField) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn first(&self) -> Option<&(ApiField, String)> {
        self.0.first()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ApiFieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(field, m)| format!("{}: {m}", field.label())).collect();
        f.write_str(&parts.join("; "))
    }
}

/// The API form as typed (browser, CLI); [`ApiForm::validate`] turns it into an [`ApiSpec`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiForm {
    pub name: String,
    pub identifier: String,
    pub description: String,
}

/// A validated API registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiSpec {
    pub name: ClientName,
    pub identifier: ApiIdentifier,
    pub description: Option<String>,
}

impl ApiForm {
    pub fn validate(&self) -> Result<ApiSpec, ApiFieldErrors> {
        let mut errors = Vec::new();
        let name = ClientName::parse(&self.name)
            .map_err(|e| errors.push((ApiField::Name, e.to_string().trim_start_matches("Name ").to_string())))
            .ok();
        let identifier = ApiIdentifier::parse(self.identifier.trim())
            .map_err(|e| errors.push((ApiField::Identifier, e.to_string())))
            .ok();
        let description = self.description.trim();
        if description.chars().count() > DESCRIPTION_MAX {
            errors.push((ApiField::Description, format!("must be at most {DESCRIPTION_MAX} characters")));
        }
        match (name, identifier) {
            (Some(name), Some(identifier)) if errors.is_empty() => Ok(ApiSpec {
                name,
                identifier,
                description: (!description.is_empty()).then(|| description.to_string()),
            }),
            _ => Err(ApiFieldErrors(errors)),
        }
    }

    pub fn from_spec(spec: &ApiSpec) -> Self {
        Self {
            name: spec.name.to_string(),
            identifier: spec.identifier.to_string(),
            description: spec.description.clone().unwrap_or_default(),
        }
    }
}

/// A registered API as the admin pages and the CLI see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Api {
    pub name: String,
    pub identifier: ApiIdentifier,
    pub description: Option<String>,
    /// The client_id it introspects with; `None` for the built-in API (it is Clavis itself).
    pub client_id: Option<ClientId>,
    pub secret: Option<SecretInfo>,
    pub active: bool,
    pub builtin: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        for ok in [
            "https://api.example.com",
            "https://api.example.com/",
            "https://api.example.com:8443/v2/orders",
            "http://127.0.0.1:9000",
            "http://localhost:8080/mcp",
            "http://[::1]/api",
        ] {
            assert_eq!(ApiIdentifier::parse(ok).map(|i| i.to_string()), Ok(ok.to_string()), "{ok}");
        }
        use ApiIdentifierError as E;
        for (bad, err) in [
            ("", E::Empty),
            ("api.example.com", E::NotAbsolute),
            ("urn:example:api", E::NotAbsolute),
            ("https://api.example.com/#x", E::Fragment),
            ("https://api.example.com/?v=1", E::Query),
            ("http://api.example.com", E::Scheme),
            ("ftp://api.example.com", E::Scheme),
            ("HTTPS://api.example.com", E::Scheme),
            (" https://api.example.com", E::BadCharacter),
            ("https://api.example.com/a b", E::BadCharacter),
        ] {
            assert_eq!(ApiIdentifier::parse(bad), Err(err), "{bad:?}");
        }
        assert!(matches!(ApiIdentifier::parse("https://u:p@api.example.com"), Err(E::Authority(_))));
        assert!(matches!(ApiIdentifier::parse("https:///path"), Err(E::Authority(_))));
        assert_eq!(ApiIdentifier::parse(&format!("https://a.example/{}", "x".repeat(300))), Err(E::TooLong));
    }

    #[test]
    fn api_sets() {
        let s = ApiSet::parse("3 1 3 7").unwrap();
        assert_eq!(s.to_string(), "1 3 7");
        assert!(s.contains(3) && !s.contains(2));
        assert!(ApiSet::parse("1 7").unwrap().is_subset(&s));
        assert!(!ApiSet::parse("1 2").unwrap().is_subset(&s));
        assert_eq!(s.intersection(&ApiSet::new([7, 9])).to_string(), "7");
        assert_eq!(ApiSet::parse("").unwrap(), ApiSet::default());
        assert!(ApiSet::parse("1 x").is_err());
        assert_eq!(ApiSet::builtin().to_string(), "1");
    }

    #[test]
    fn the_form_names_each_bad_field() {
        let form = ApiForm {
            name: " ".into(),
            identifier: "http://api.example.com".into(),
            description: "x".repeat(1001),
        };
        let errors = form.validate().unwrap_err();
        assert_eq!(errors.get(ApiField::Name), Some("is required"));
        assert!(errors.get(ApiField::Identifier).unwrap().contains("https"));
        assert!(errors.get(ApiField::Description).unwrap().contains("1000"));
        let ok = ApiForm {
            name: "Orders".into(),
            identifier: " https://orders.example.com ".into(),
            description: String::new(),
        };
        let spec = ok.validate().unwrap();
        assert_eq!(spec.identifier.as_str(), "https://orders.example.com");
        assert_eq!(spec.description, None);
    }
}
