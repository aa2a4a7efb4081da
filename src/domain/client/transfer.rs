//! The client export file: every setting of each client an administrator registered, in the
//! form's own terms, and never a secret. Import reads it back, entry by entry.

use serde::{Deserialize, Serialize};

use super::ClientForm;

/// The file's format version, in its `clavis_clients` field.
pub const FORMAT: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFile {
    /// [`FORMAT`].
    pub clavis_clients: u32,
    pub clients: Vec<ExportedClient>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedClient {
    pub client_id: String,
    #[serde(default = "active")]
    pub active: bool,
    /// Every setting; a setting left out takes the add form's default.
    #[serde(flatten)]
    pub form: ClientForm,
}

fn active() -> bool {
    true
}

/// Reads an export file. The error names what is wrong and, for a bad entry, which one
/// (`clients[2]`, counted from 0, with its client_id when it has one).
pub fn parse_file(text: &str) -> Result<Vec<ExportedClient>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the file is not JSON: {e}"))?;
    let Some(object) = value.as_object() else {
        return Err("the file must be a JSON object with \"clavis_clients\" and \"clients\"".into());
    };
    match object.get("clavis_clients").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(FORMAT) => {}
        Some(v) => {
            return Err(format!("clavis_clients: format {v} is not known (this Clavis reads {FORMAT})"));
        }
        None => return Err("clavis_clients: missing; is this a Clavis client export?".into()),
    }
    let Some(list) = object.get("clients").and_then(serde_json::Value::as_array) else {
        return Err("clients: must be a list".into());
    };
    list.iter()
        .enumerate()
        .map(|(i, entry)| {
            serde_json::from_value::<ExportedClient>(entry.clone()).map_err(|e| {
                let id = entry.get("client_id").and_then(serde_json::Value::as_str);
                format!("{}: {e}", entry_label(i, id))
            })
        })
        .collect()
}

/// `clients[2] (client_id abc)`: how an error names an entry.
pub fn entry_label(index: usize, client_id: Option<&str>) -> String {
    match client_id {
        Some(id) => format!("clients[{index}] (client_id {})", id.chars().take(80).collect::<String>()),
        None => format!("clients[{index}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_file_and_names_the_first_bad_entry() {
        let good = r#"{"clavis_clients": 1, "clients": [
            {"client_id": "abc", "name": "App", "redirect_uris": "https://a.example/cb"},
            {"client_id": "def", "active": false, "name": "B", "redirect_uris": "https://b.example/cb", "scope": "read"}
        ]}"#;
        let list = parse_file(good).unwrap();
        assert_eq!(list.len(), 2);
        assert!(list[0].active && !list[1].active);
        assert_eq!(list[1].form.scope, "read");
        assert_eq!(list[0].form.auth_method, ClientForm::default().auth_method, "left out: the default");

        let bad = r#"{"clavis_clients": 1, "clients": [{"client_id": "abc"}, {"client_id": "x", "consent": "yes"}]}"#;
        let err = parse_file(bad).unwrap_err();
        assert!(err.starts_with("clients[1] (client_id x): "), "{err}");
        assert!(parse_file("[]").unwrap_err().contains("JSON object"));
        assert!(parse_file("{").unwrap_err().starts_with("the file is not JSON"));
        assert!(parse_file(r#"{"clients": []}"#).unwrap_err().starts_with("clavis_clients: missing"));
        assert!(parse_file(r#"{"clavis_clients": 9, "clients": []}"#).unwrap_err().contains("format 9"));
    }
}
