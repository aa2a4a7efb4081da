//! The OAuth 2.0 authorization server (RFC 6749, RFC 9700, OAuth 2.1). Being built in issue 4: so
//! far the authorization endpoint's pure decisions ([`flow`]) and PKCE ([`pkce`]); no route is
//! mounted yet.

pub mod flow;
pub mod pkce;
