//! The audit log's terms: who changed what, and how, field by field. Values are the forms'
//! own text (what an administrator typed or chose), never a secret: a secret shows only as
//! "issued", "removed" or "regenerated".

use serde::{Deserialize, Serialize};

/// Who made a change, and from which address (none for the command line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub address: Option<String>,
}

impl Actor {
    /// Someone signed in: an administrator on the admin pages, or a user on their account page.
    pub fn signed_in(username: &str, address: Option<String>) -> Self {
        Self { name: username.to_string(), address }
    }

    /// Someone at the command line on the server, named by their operating-system account.
    pub fn command_line(os_user: Option<&str>) -> Self {
        Self {
            name: format!("cli:{}", os_user.filter(|u| !u.is_empty()).unwrap_or("unknown")),
            address: None,
        }
    }

    /// A client registering or managing itself (RFC 7591 / 7592).
    pub fn client_registration(address: Option<String>) -> Self {
        Self { name: "client registration".into(), address }
    }

    /// Clavis itself (clients kept from metadata documents, clean-ups).
    pub fn system() -> Self {
        Self { name: "clavis".into(), address: None }
    }
}

/// One field's value before and after (`None`: it did not exist, or was emptied).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl FieldChange {
    pub fn new(field: &str, from: Option<String>, to: Option<String>) -> Self {
        Self { field: field.to_string(), from, to }
    }
}

/// The fields that differ between two versions of a form (`None`: created or deleted), in
/// alphabetical order. Values are shown as text; lists one item a line.
pub fn diff<T: Serialize>(before: Option<&T>, after: Option<&T>) -> Vec<FieldChange> {
    let fields = |v: Option<&T>| match v.map(serde_json::to_value) {
        Some(Ok(serde_json::Value::Object(map))) => map.into_iter().collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let (old, new) = (fields(before), fields(after));
    let value_of = |list: &[(String, serde_json::Value)], key: &str| {
        list.iter().find(|(k, _)| k == key).and_then(|(_, v)| text(v))
    };
    let mut keys: Vec<&String> = new.iter().map(|(k, _)| k).collect();
    keys.extend(old.iter().map(|(k, _)| k).filter(|k| !new.iter().any(|(n, _)| n == *k)));
    keys.into_iter()
        .filter_map(|key| {
            let (from, to) = (value_of(&old, key), value_of(&new, key));
            (from != to).then(|| FieldChange { field: key.clone(), from, to })
        })
        .collect()
}

/// A switch as the audit log shows it.
pub fn yes_no(on: bool) -> Option<String> {
    Some(if on { "yes" } else { "no" }.to_string())
}

/// A JSON value as a person reads it; empty text and null are `None`.
fn text(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_string()),
        Value::Bool(b) => yes_no(*b),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => Some(items.iter().filter_map(text).collect::<Vec<_>>().join("\n")),
        Value::Object(_) => Some(v.to_string()),
    }
}

/// One entry of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub address: Option<String>,
    /// `client.created`, `user.disabled`, `settings.updated`, …
    pub action: String,
    /// `client`, `api`, `user`, `settings`, `registration_token`.
    pub target_type: String,
    /// The client_id, API identifier, username or token number; empty for settings.
    pub target: String,
    pub changes: Vec<FieldChange>,
}

/// Which entries to show, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Entries about this client (its client_id).
    pub client: Option<String>,
    /// Entries made by this actor (a username, `cli:…`, `client registration`).
    pub actor: Option<String>,
    /// Unix seconds: entries at or after.
    pub since: Option<i64>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl AuditQuery {
    pub const MAX_PER_PAGE: u32 = 500;

    pub fn limit(&self) -> i64 {
        i64::from(self.per_page.clamp(1, Self::MAX_PER_PAGE))
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page.max(1) - 1) * self.limit()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub total: i64,
}

/// `--since` and the page's "Since" field: a date (`2026-11-30`, midnight UTC), a UTC date and
/// time (`2026-11-30T14:05`, `2026-11-30 14:05:00`, a trailing `Z` allowed), or an age before
/// `now` (`30m`, `12h`, `7d`). The error says what is wrong, for the caller to name its field.
pub fn parse_since(raw: &str, now: i64) -> Result<i64, String> {
    let s = raw.trim();
    let bad = || {
        format!("'{s}' is not a date (2026-11-30), a UTC time (2026-11-30T14:05) or an age (30m, 12h, 7d)")
    };
    if let Some(unit) = s.chars().last().filter(|c| matches!(c, 'm' | 'h' | 'd')) {
        let n: i64 = s[..s.len() - 1].parse().map_err(|_| bad())?;
        let size = match unit {
            'm' => 60,
            'h' => 3_600,
            _ => 86_400,
        };
        return n.checked_mul(size).filter(|age| *age >= 0).map(|age| now - age).ok_or_else(bad);
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let num = |t: &str, len: usize| {
        (t.len() == len && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse::<i64>().ok()).flatten()
    };
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let (y, m, d) = (num(y, 4).ok_or_else(bad)?, num(m, 2).ok_or_else(bad)?, num(d, 2).ok_or_else(bad)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err(bad());
    }
    let mut secs = 0;
    if let Some(t) = time {
        let parts: Vec<&str> = t.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let hh = num(parts[0], 2).filter(|h| *h < 24).ok_or_else(bad)?;
        let mm = num(parts[1], 2).filter(|m| *m < 60).ok_or_else(bad)?;
        let ss = match parts.get(2) {
            Some(p) => num(p, 2).filter(|s| *s < 60).ok_or_else(bad)?,
            None => 0,
        };
        secs = hh * 3_600 + mm * 60 + ss;
    }
    Ok(days_from_civil(y, m, d) * 86_400 + secs)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) to days since 1970-01-01 (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Form {
        name: String,
        uris: Vec<String>,
        pkce: bool,
        note: String,
    }

    fn form(name: &str, uris: &[&str], pkce: bool) -> Form {
        Form {
            name: name.into(),
            uris: uris.iter().map(|u| u.to_string()).collect(),
            pkce,
            note: String::new(),
        }
    }

    #[test]
    fn diff_names_each_changed_field_alphabetically() {
        let a = form("App", &["https://a/cb"], true);
        let b = form("New", &["https://a/cb", "https://b/cb"], false);
        let changes = diff(Some(&a), Some(&b));
        assert_eq!(
            changes,
            vec![
                FieldChange::new("name", Some("App".into()), Some("New".into())),
                FieldChange::new("pkce", Some("yes".into()), Some("no".into())),
                FieldChange::new(
                    "uris",
                    Some("https://a/cb".into()),
                    Some("https://a/cb\nhttps://b/cb".into())
                ),
            ]
        );
        assert!(diff(Some(&a), Some(&a)).is_empty());
    }

    #[test]
    fn created_and_deleted_show_every_non_empty_field() {
        let a = form("App", &["https://a/cb"], true);
        let created = diff(None, Some(&a));
        assert_eq!(created.len(), 3, "{created:?}"); // the empty note is left out
        assert!(created.iter().all(|c| c.from.is_none() && c.to.is_some()));
        let deleted = diff(Some(&a), None);
        assert!(deleted.iter().all(|c| c.from.is_some() && c.to.is_none()));
    }

    #[test]
    fn since_accepts_dates_times_and_ages() {
        let now = 1_795_361_520; // 2026-11-22 15:32 UTC
        assert_eq!(parse_since("2026-11-22", now), Ok(1_795_305_600));
        assert_eq!(parse_since("2026-11-22T15:32", now), Ok(now));
        assert_eq!(parse_since("2026-11-22 15:32:00Z", now), Ok(now));
        assert_eq!(parse_since("2000-02-29", now), Ok(951_782_400));
        assert_eq!(parse_since("30m", now), Ok(now - 1_800));
        assert_eq!(parse_since(" 7d ", now), Ok(now - 604_800));
        for bad in ["", "yesterday", "2026-13-01", "2026-02-30", "2026-11-22T25:00", "12x", "-3d", "2026-1-2"]
        {
            let err = parse_since(bad, now).unwrap_err();
            assert!(err.contains("is not a date"), "{bad}: {err}");
        }
    }
}
