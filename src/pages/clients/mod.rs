//! `/admin/clients/**`: the OAuth2 client registry.

pub mod list;
