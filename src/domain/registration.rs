//! Client metadata as a client sends it to register itself (RFC 7591 §2) or to update its
//! registration (RFC 7592 §2.2): every rule about what is honoured, what is refused and what is
//! ignored. A registration becomes a [`ClientForm`] (the same checks as an administrator's) plus
//! the descriptive metadata kept beside it. Self-registered clients always require PKCE and show
//! the consent screen.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{
    Scope,
    client::{AuthMethod, ClientForm, ClientScope, Field, RedirectUris},
};

/// An RFC 7591 §3.2.2 error: `invalid_redirect_uri` or `invalid_client_metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationError {
    pub code: &'static str,
    pub description: String,
}

impl RegistrationError {
    fn metadata(description: impl Into<String>) -> Self {
        Self { code: "invalid_client_metadata", description: description.into() }
    }

    fn redirect(description: impl Into<String>) -> Self {
        Self { code: "invalid_redirect_uri", description: description.into() }
    }
}

/// The descriptive metadata Clavis keeps and returns as registered (never an empty string).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescriptiveMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
}

/// A registration request, checked: the client's settings and its descriptive metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub form: ClientForm,
    pub metadata: DescriptiveMetadata,
}

/// Longest free-text metadata value (software_id, software_version, a contact).
const TEXT_MAX: usize = 200;
/// Most contacts kept.
const CONTACTS_MAX: usize = 10;
/// Fields a client must not send in an update: the server sets them (RFC 7592 §2.2).
pub const SERVER_FIELDS: [&str; 4] = [
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
];

/// Checks a registration request body (RFC 7591 §2, §3.1). Unknown metadata is ignored.
pub fn parse(body: &Value) -> Result<Registration, RegistrationError> {
    let Some(m) = body.as_object() else {
        return Err(RegistrationError::metadata("the request body must be a JSON object"));
    };
    let redirect_uris = redirect_uris(m)?;
    let method = match m.get("token_endpoint_auth_method") {
        None | Some(Value::Null) => AuthMethod::SecretBasic,
        Some(Value::String(s)) => AuthMethod::parse(s).map_err(|_| {
            RegistrationError::metadata(format!(
                "token_endpoint_auth_method {} is not supported; use none, client_secret_basic or client_secret_post",
                shown(s)
            ))
        })?,
        Some(_) => return Err(RegistrationError::metadata("token_endpoint_auth_method must be a string")),
    };
    let grant_types = string_list(m, "grant_types")?.unwrap_or_else(|| vec!["authorization_code".into()]);
    // client_credentials is an administrator's opt-in, not a registration's: listed, it changes
    // nothing, and the answer's grant_types say what the client has (RFC 7591 §3.2.1).
    if let Some(other) = grant_types
        .iter()
        .find(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token" | "client_credentials"))
    {
        return Err(RegistrationError::metadata(format!(
            "grant_type {} is not supported; use authorization_code and refresh_token",
            shown(other)
        )));
    }
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err(RegistrationError::metadata(if grant_types.iter().any(|g| g == "client_credentials") {
            "grant_types must include authorization_code: client_credentials alone is not registered; an administrator allows it"
        } else {
            "grant_types must include authorization_code"
        }));
    }
    let response_types = string_list(m, "response_types")?.unwrap_or_else(|| vec!["code".into()]);
    if response_types.is_empty() || response_types.iter().any(|r| r != "code") {
        return Err(RegistrationError::metadata("response_types must be [\"code\"]"));
    }
    let scope = match text(m, "scope", usize::MAX)? {
        None => ClientScope::Full,
        Some(raw) => {
            let asked = Scope::parse(&raw).map_err(|e| RegistrationError::metadata(format!("scope: {e}")))?;
            if asked.contains(Scope::WRITE) { ClientScope::Full } else { ClientScope::Read }
        }
    };
    let name = match text(m, "client_name", usize::MAX)? {
        Some(n) => n,
        None => format!("App at {}", redirect_uris.iter().next().map_or("", |u| host_of(u.as_str()))),
    };
    let form = ClientForm {
        name,
        redirect_uris: redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>().join("\n"),
        auth_method: method.as_str().into(),
        require_pkce: true,
        scope: scope.as_str().into(),
        consent: true,
        refresh_count: if grant_types.iter().any(|g| g == "refresh_token") { "unlimited" } else { "limit" }
            .into(),
        refresh_count_limit: if grant_types.iter().any(|g| g == "refresh_token") { "" } else { "0" }.into(),
        ..ClientForm::default()
    };
    // The same checks as an administrator's form; a failure names the metadata field.
    if let Err(errors) = form.validate() {
        let shown = errors.to_string();
        return Err(match errors.first() {
            Some((Field::RedirectUris, message)) => RegistrationError::redirect(message),
            Some((Field::Name, message)) => RegistrationError::metadata(format!("client_name: {message}")),
            _ => RegistrationError::metadata(shown),
        });
    }
    let contacts = match string_list(m, "contacts")? {
        None => None,
        Some(list) => {
            if list.len() > CONTACTS_MAX {
                return Err(RegistrationError::metadata(format!("contacts: at most {CONTACTS_MAX}")));
            }
            for c in &list {
                if c.is_empty() || c.chars().count() > TEXT_MAX || c.chars().any(char::is_control) {
                    return Err(RegistrationError::metadata(format!(
                        "contacts: {} is not a valid contact",
                        shown(c)
                    )));
                }
            }
            (!list.is_empty()).then_some(list)
        }
    };
    let metadata = DescriptiveMetadata {
        client_uri: url(m, "client_uri")?,
        logo_uri: url(m, "logo_uri")?,
        tos_uri: url(m, "tos_uri")?,
        policy_uri: url(m, "policy_uri")?,
        contacts,
        software_id: text(m, "software_id", TEXT_MAX)?,
        software_version: text(m, "software_version", TEXT_MAX)?,
    };
    Ok(Registration { form, metadata })
}

fn redirect_uris(m: &Map<String, Value>) -> Result<RedirectUris, RegistrationError> {
    let Some(value) = m.get("redirect_uris").filter(|v| !v.is_null()) else {
        return Err(RegistrationError::redirect("redirect_uris is required"));
    };
    let Some(list) = value.as_array() else {
        return Err(RegistrationError::redirect("redirect_uris must be an array of strings"));
    };
    let mut uris = Vec::with_capacity(list.len());
    for v in list {
        match v.as_str() {
            Some(s) if !s.trim().is_empty() => uris.push(s),
            _ => {
                return Err(RegistrationError::redirect(
                    "redirect_uris must be an array of non-empty strings",
                ));
            }
        }
    }
    RedirectUris::parse_list(uris).map_err(|e| RegistrationError::redirect(e.to_string()))
}

/// An optional string field; empty counts as absent; longer than `max` characters is an error.
fn text(m: &Map<String, Value>, field: &str, max: usize) -> Result<Option<String>, RegistrationError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max || s.chars().any(char::is_control) => {
            Err(RegistrationError::metadata(format!("{field} is too long or contains control characters")))
        }
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(RegistrationError::metadata(format!("{field} must be a string"))),
    }
}

fn string_list(m: &Map<String, Value>, field: &str) -> Result<Option<Vec<String>>, RegistrationError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| RegistrationError::metadata(format!("{field} must be an array of strings"))),
        Some(_) => Err(RegistrationError::metadata(format!("{field} must be an array of strings"))),
    }
}

/// An optional `https` URL (descriptive metadata is shown to people, never fetched by Clavis).
fn url(m: &Map<String, Value>, field: &str) -> Result<Option<String>, RegistrationError> {
    let Some(raw) = text(m, field, 2000)? else { return Ok(None) };
    let ok = raw.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !host.contains('@') && !rest.contains(char::is_whitespace)
    });
    if ok { Ok(Some(raw)) } else { Err(RegistrationError::metadata(format!("{field} must be an https URL"))) }
}

fn shown(s: &str) -> String {
    let cut: String = s.chars().take(60).collect();
    format!("'{cut}'")
}

/// The host (or private-use scheme) of a redirect URI, for a default client name.
fn host_of(uri: &str) -> &str {
    match uri.split_once("://") {
        Some((_, rest)) => rest.split(['/', '?', '#', ':']).next().unwrap_or(rest),
        None => uri.split(':').next().unwrap_or(uri),
    }
}

/// The registered metadata as stored (RFC 7591 §3.2.1), from the client's form and its
/// descriptive metadata: what Clavis honours, never what it ignored.
pub fn metadata_json(form: &ClientForm, metadata: &DescriptiveMetadata) -> Map<String, Value> {
    let refresh = !(form.refresh_count == "limit" && form.refresh_count_limit == "0");
    let mut grant_types = vec!["authorization_code"];
    if refresh {
        grant_types.push("refresh_token");
    }
    if form.client_credentials {
        grant_types.push("client_credentials");
    }
    let scope = ClientScope::parse(&form.scope).map(|s| s.scopes().to_string()).unwrap_or_default();
    let mut out = Map::new();
    out.insert("client_name".into(), json!(form.name));
    out.insert("redirect_uris".into(), json!(form.redirect_uris.lines().collect::<Vec<_>>()));
    out.insert("token_endpoint_auth_method".into(), json!(form.auth_method));
    out.insert("grant_types".into(), json!(grant_types));
    out.insert("response_types".into(), json!(["code"]));
    out.insert("scope".into(), json!(scope));
    if let Ok(Value::Object(extra)) = serde_json::to_value(metadata) {
        out.extend(extra);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: Value) -> Result<Registration, &'static str> {
        parse(&body).map_err(|e| e.code)
    }

    #[test]
    fn a_typical_mcp_client_registers() {
        let r = parse(&json!({
            "client_name": "Claude Desktop",
            "redirect_uris": ["http://127.0.0.1:33418/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": "read write",
            "client_uri": "https://claude.ai",
            "jwks": {"keys": []},
            "made_up": "ignored"
        }))
        .unwrap();
        assert_eq!(r.form.auth_method, "none");
        assert!(r.form.require_pkce && r.form.consent);
        assert_eq!(r.form.refresh_count, "unlimited");
        let out = metadata_json(&r.form, &r.metadata);
        assert_eq!(out["grant_types"], json!(["authorization_code", "refresh_token"]));
        assert_eq!(out["client_uri"], "https://claude.ai");
        assert!(!out.contains_key("made_up") && !out.contains_key("jwks") && !out.contains_key("logo_uri"));
    }

    #[test]
    fn defaults_follow_rfc_7591() {
        let r = parse(&json!({"redirect_uris": ["https://app.example.com/cb"]})).unwrap();
        assert_eq!(r.form.auth_method, "client_secret_basic", "RFC 7591 §2 default");
        assert_eq!(r.form.refresh_count_limit, "0", "only authorization_code: no refresh token");
        assert_eq!(r.form.name, "App at app.example.com");
        let out = metadata_json(&r.form, &r.metadata);
        assert_eq!(out["grant_types"], json!(["authorization_code"]));
        assert_eq!(out["scope"], "read write");
        assert!(out.values().all(|v| v.as_str() != Some("")), "no empty strings: {out:?}");
    }

    #[test]
    fn every_refusal_has_its_rfc_7591_code() {
        let cb = json!(["https://app.example.com/cb"]);
        for (body, want) in [
            (json!([]), "invalid_client_metadata"),
            (json!({}), "invalid_redirect_uri"),
            (json!({"redirect_uris": "https://app.example.com/cb"}), "invalid_redirect_uri"),
            (json!({"redirect_uris": []}), "invalid_redirect_uri"),
            (json!({"redirect_uris": ["javascript:alert(1)"]}), "invalid_redirect_uri"),
            (json!({"redirect_uris": ["http://app.example.com/cb"]}), "invalid_redirect_uri"),
            (json!({"redirect_uris": ["https://app.example.com/cb#x"]}), "invalid_redirect_uri"),
            (
                json!({"redirect_uris": cb, "token_endpoint_auth_method": "private_key_jwt"}),
                "invalid_client_metadata",
            ),
            (json!({"redirect_uris": cb, "grant_types": ["client_credentials"]}), "invalid_client_metadata"),
            (json!({"redirect_uris": cb, "grant_types": ["implicit"]}), "invalid_client_metadata"),
            (json!({"redirect_uris": cb, "grant_types": ["refresh_token"]}), "invalid_client_metadata"),
            (json!({"redirect_uris": cb, "response_types": ["token"]}), "invalid_client_metadata"),
            (json!({"redirect_uris": cb, "scope": "admin"}), "invalid_client_metadata"),
            (json!({"redirect_uris": cb, "client_name": 5}), "invalid_client_metadata"),
            (json!({"redirect_uris": cb, "client_name": "x".repeat(101)}), "invalid_client_metadata"),
            (json!({"redirect_uris": cb, "client_uri": "http://app.example.com"}), "invalid_client_metadata"),
            (json!({"redirect_uris": cb, "logo_uri": "javascript:x"}), "invalid_client_metadata"),
            (json!({"redirect_uris": cb, "contacts": "a@example.com"}), "invalid_client_metadata"),
        ] {
            assert_eq!(code(body.clone()).err(), Some(want), "{body}");
        }
        let e = parse(&json!({"redirect_uris": cb, "grant_types": ["password"]})).unwrap_err();
        assert!(e.description.contains("password"), "{e:?}");
    }

    #[test]
    fn read_only_scope_and_empty_strings() {
        let r = parse(&json!({"redirect_uris": ["https://a.example/cb"], "scope": "read", "client_uri": ""}))
            .unwrap();
        assert_eq!(r.form.scope, "read");
        assert_eq!(r.metadata.client_uri, None, "an empty string is absent");
    }
}
