//! How a client authenticates at the token endpoint, and whether it must use PKCE.
//!
//! The rule "auth method `none` needs PKCE" (OAuth 2.1 §7.5.1, RFC 9700 §2.1.1) is carried by the
//! type: a public client has no PKCE switch at all, so the forbidden pair cannot be built, stored
//! or loaded.

use serde::{Deserialize, Serialize};

/// `token_endpoint_auth_method` values (RFC 7591 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthMethod {
    #[serde(rename = "client_secret_post")]
    SecretPost,
    #[serde(rename = "client_secret_basic")]
    SecretBasic,
    #[serde(rename = "none")]
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 3] = [AuthMethod::SecretPost, AuthMethod::SecretBasic, AuthMethod::None];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::SecretPost => "client_secret_post",
            AuthMethod::SecretBasic => "client_secret_basic",
            AuthMethod::None => "none",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ClientAuthError> {
        Self::ALL.into_iter().find(|m| m.as_str() == raw).ok_or(ClientAuthError::UnknownMethod)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pkce {
    Required,
    Optional,
}

impl Pkce {
    pub fn as_str(self) -> &'static str {
        match self {
            Pkce::Required => "required",
            Pkce::Optional => "optional",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ClientAuthError> {
        match raw {
            "required" => Ok(Pkce::Required),
            "optional" => Ok(Pkce::Optional),
            _ => Err(ClientAuthError::UnknownPkce),
        }
    }
}

/// The secret-based methods of a confidential client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretMethod {
    Post,
    Basic,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// Holds a secret; PKCE may be optional.
    Confidential { method: SecretMethod, pkce: Pkce },
    /// No secret (auth method `none`); PKCE is always required.
    Public,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientAuthError {
    #[error("Client Authentication Method must be client_secret_post, client_secret_basic or none")]
    UnknownMethod,
    #[error("Require PKCE must be 'required' or 'optional'")]
    UnknownPkce,
    #[error("Client Authentication Method 'none' requires PKCE: turn on Require Proof Key (PKCE)")]
    NoneWithoutPkce,
    /// Any program can present a public client's ID (and, with a loopback or app-scheme redirect,
    /// receive its code), so only the user's own decision tells it apart (RFC 8252 §8.6, RFC 6749
    /// §10.2).
    #[error(
        "Client Authentication Method 'none' requires the allow/deny screen: any program can use a public client's ID"
    )]
    NoneWithoutConsent,
    /// The client_credentials grant authenticates the job by its secret alone (RFC 6749 §4.4).
    #[error(
        "Client Authentication Method 'none' cannot use the client credentials grant: a job must authenticate with a secret"
    )]
    NoneWithClientCredentials,
}

impl ClientAuth {
    pub fn new(method: AuthMethod, pkce: Pkce) -> Result<Self, ClientAuthError> {
        match (method, pkce) {
            (AuthMethod::None, Pkce::Optional) => Err(ClientAuthError::NoneWithoutPkce),
            (AuthMethod::None, Pkce::Required) => Ok(ClientAuth::Public),
            (AuthMethod::SecretPost, pkce) => {
                Ok(ClientAuth::Confidential { method: SecretMethod::Post, pkce })
            }
            (AuthMethod::SecretBasic, pkce) => {
                Ok(ClientAuth::Confidential { method: SecretMethod::Basic, pkce })
            }
        }
    }

    pub fn method(self) -> AuthMethod {
        match self {
            ClientAuth::Confidential { method: SecretMethod::Post, .. } => AuthMethod::SecretPost,
            ClientAuth::Confidential { method: SecretMethod::Basic, .. } => AuthMethod::SecretBasic,
            ClientAuth::Public => AuthMethod::None,
        }
    }

    pub fn pkce(self) -> Pkce {
        match self {
            ClientAuth::Confidential { pkce, .. } => pkce,
            ClientAuth::Public => Pkce::Required,
        }
    }

    pub fn has_secret(self) -> bool {
        matches!(self, ClientAuth::Confidential { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_combination() {
        use AuthMethod as M;
        for (method, pkce, want) in [
            (M::SecretPost, Pkce::Required, Ok(true)),
            (M::SecretPost, Pkce::Optional, Ok(true)),
            (M::SecretBasic, Pkce::Required, Ok(true)),
            (M::SecretBasic, Pkce::Optional, Ok(true)),
            (M::None, Pkce::Required, Ok(false)),
            (M::None, Pkce::Optional, Err(ClientAuthError::NoneWithoutPkce)),
        ] {
            let got = ClientAuth::new(method, pkce);
            assert_eq!(got.clone().map(ClientAuth::has_secret), want, "{method:?} {pkce:?}");
            if let Ok(auth) = got {
                assert_eq!((auth.method(), auth.pkce()), (method, pkce), "round trip");
            }
        }
    }

    #[test]
    fn parsing() {
        for m in AuthMethod::ALL {
            assert_eq!(AuthMethod::parse(m.as_str()), Ok(m));
        }
        assert_eq!(AuthMethod::parse("private_key_jwt"), Err(ClientAuthError::UnknownMethod));
        assert_eq!(Pkce::parse("required"), Ok(Pkce::Required));
        assert_eq!(Pkce::parse("off"), Err(ClientAuthError::UnknownPkce));
    }
}
