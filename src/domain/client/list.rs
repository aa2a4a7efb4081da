//! What the client list asks for: search text, state filter, sort and page.

use serde::{Deserialize, Serialize};

use super::ClientOrigin;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StateFilter {
    #[default]
    All,
    Active,
    Inactive,
}

/// Who registered the clients listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OriginFilter {
    #[default]
    All,
    Admin,
    Registered,
    MetadataDocument,
}

impl OriginFilter {
    pub const ALL: [OriginFilter; 4] =
        [OriginFilter::All, OriginFilter::Admin, OriginFilter::Registered, OriginFilter::MetadataDocument];

    pub fn as_str(self) -> &'static str {
        match self {
            OriginFilter::All => "all",
            OriginFilter::Admin => "admin",
            OriginFilter::Registered => "registered",
            OriginFilter::MetadataDocument => "metadata_document",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            OriginFilter::All => "Anyone",
            OriginFilter::Admin => "Administrators",
            OriginFilter::Registered => "Self-registered",
            OriginFilter::MetadataDocument => "Metadata document",
        }
    }

    /// The origin it keeps; `None`: all.
    pub fn origin(self) -> Option<ClientOrigin> {
        match self {
            OriginFilter::All => None,
            OriginFilter::Admin => Some(ClientOrigin::Admin),
            OriginFilter::Registered => Some(ClientOrigin::Registered),
            OriginFilter::MetadataDocument => Some(ClientOrigin::MetadataDocument),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    Name,
    ClientId,
    State,
    #[default]
    Created,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// Matched, case-insensitively, anywhere in the name or the client ID.
    pub search: String,
    pub state: StateFilter,
    /// Who registered them.
    pub origin: OriginFilter,
    pub sort: SortKey,
    pub descending: bool,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl Default for ListQuery {
    /// Newest first, 25 a page.
    fn default() -> Self {
        Self {
            search: String::new(),
            state: StateFilter::All,
            origin: OriginFilter::All,
            sort: SortKey::Created,
            descending: true,
            page: 1,
            per_page: 25,
        }
    }
}

impl ListQuery {
    pub const PAGE_SIZES: [u32; 3] = [25, 50, 100];
    pub const SEARCH_MAX: usize = 100;

    /// Brings any query into range, so a hand-edited URL still gets a sensible page.
    pub fn normalized(mut self) -> Self {
        if !Self::PAGE_SIZES.contains(&self.per_page) {
            self.per_page = 25;
        }
        self.page = self.page.clamp(1, 1_000_000);
        self.search = self.search.trim().chars().filter(|c| !c.is_control()).take(Self::SEARCH_MAX).collect();
        self
    }

    /// The query as URL parameters (defaults left out), for links and the address bar.
    pub fn to_query_string(&self) -> String {
        let d = ListQuery::default();
        let mut parts = Vec::new();
        if !self.search.is_empty() {
            parts.push(format!("q={}", percent_encode(&self.search)));
        }
        if self.state != d.state {
            parts.push(format!("state={}", self.state.as_str()));
        }
        if self.origin != d.origin {
            parts.push(format!("origin={}", self.origin.as_str()));
        }
        if self.sort != d.sort {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if self.descending != d.descending {
            parts.push(format!("dir={}", if self.descending { "desc" } else { "asc" }));
        }
        if self.page != 1 {
            parts.push(format!("page={}", self.page));
        }
        if self.per_page != d.per_page {
            parts.push(format!("per_page={}", self.per_page));
        }
        parts.join("&")
    }

    /// Reads the URL parameters written by [`ListQuery::to_query_string`]; anything unknown or
    /// malformed falls back to the default.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let d = ListQuery::default();
        ListQuery {
            search: get("q").unwrap_or_default(),
            state: get("state").and_then(|s| StateFilter::parse(&s)).unwrap_or(d.state),
            origin: get("origin").and_then(|s| OriginFilter::parse(&s)).unwrap_or(d.origin),
            sort: get("sort").and_then(|s| SortKey::parse(&s)).unwrap_or(d.sort),
            descending: get("dir").map_or(d.descending, |s| s != "asc"),
            page: get("page").and_then(|s| s.parse().ok()).unwrap_or(1),
            per_page: get("per_page").and_then(|s| s.parse().ok()).unwrap_or(d.per_page),
        }
        .normalized()
    }

    /// Sorting by `key`: a second click on the same column reverses the order.
    pub fn sorted_by(&self, key: SortKey) -> Self {
        let descending = if self.sort == key { !self.descending } else { key == SortKey::Created };
        ListQuery { sort: key, descending, page: 1, ..self.clone() }
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.per_page)
    }
}

impl StateFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::All => "all",
            StateFilter::Active => "active",
            StateFilter::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [StateFilter::All, StateFilter::Active, StateFilter::Inactive].into_iter().find(|v| v.as_str() == s)
    }
}

impl SortKey {
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::ClientId => "client_id",
            SortKey::State => "state",
            SortKey::Created => "created",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [SortKey::Name, SortKey::ClientId, SortKey::State, SortKey::Created]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One row of the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSummary {
    pub client_id: String,
    pub name: String,
    pub active: bool,
    pub created_at: i64,
    pub origin: ClientOrigin,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientPage {
    pub rows: Vec<ClientSummary>,
    /// Matching clients on all pages, counted up to [`ClientPage::COUNT_LIMIT`].
    pub total: u64,
    /// At least `total` match, maybe more: more than [`ClientPage::COUNT_LIMIT`] (`total` is then
    /// the limit), or a search too short for the trigram index was counted among the first
    /// clients only. Counting them all would read every client at a million clients.
    #[serde(default)]
    pub more: bool,
}

impl ClientPage {
    pub const COUNT_LIMIT: u64 = 10_000;

    /// The total as shown: "42", "10,000+", "1,234+".
    pub fn total_text(&self) -> String {
        let mut digits = self.total.to_string();
        let mut at = digits.len();
        while at > 3 {
            at -= 3;
            digits.insert(at, ',');
        }
        if self.more { format!("{digits}+") } else { digits }
    }

    /// Whether a page after page `page` of `per_page` has clients.
    pub fn has_page_after(&self, page: u32, per_page: u32) -> bool {
        let pages = self.total.div_ceil(u64::from(per_page)).max(1);
        u64::from(page) < pages || (self.more && self.rows.len() as u64 == u64::from(per_page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capped_total_reads_as_more_than_the_limit() {
        let page = |total, more| ClientPage { rows: Vec::new(), total, more };
        assert_eq!(page(42, false).total_text(), "42");
        assert_eq!(page(ClientPage::COUNT_LIMIT, true).total_text(), "10,000+");
        assert_eq!(page(1234, true).total_text(), "1,234+");
        assert_eq!(page(999, false).total_text(), "999");
        assert_eq!(page(1_000_000, false).total_text(), "1,000,000");
    }

    #[test]
    fn url_round_trip() {
        let q = ListQuery {
            search: "a b&c=ü".into(),
            state: StateFilter::Inactive,
            origin: OriginFilter::Registered,
            sort: SortKey::Name,
            descending: false,
            page: 3,
            per_page: 50,
        };
        let qs = q.to_query_string();
        assert_eq!(
            qs,
            "q=a%20b%26c%3D%C3%BC&state=inactive&origin=registered&sort=name&dir=asc&page=3&per_page=50"
        );
        let back = ListQuery::from_params(|k| {
            let raw = qs.split('&').find_map(|p| p.strip_prefix(&format!("{k}=")).map(str::to_string))?;
            Some(match k {
                "q" => "a b&c=ü".to_string(), // the router decodes; here we only check the other keys
                _ => raw,
            })
        });
        assert_eq!(back, q);
        assert_eq!(ListQuery::default().to_query_string(), "");
        assert_eq!(
            ListQuery::from_params(|_| Some("junk".into())),
            ListQuery { search: "junk".into(), ..ListQuery::default() }
        );
    }

    #[test]
    fn sorting_toggles() {
        let q = ListQuery { page: 4, ..ListQuery::default() };
        let by_name = q.sorted_by(SortKey::Name);
        assert_eq!((by_name.sort, by_name.descending, by_name.page), (SortKey::Name, false, 1));
        assert!(by_name.sorted_by(SortKey::Name).descending);
        assert!(!q.sorted_by(SortKey::Created).descending, "created was descending: now ascending");
    }

    #[test]
    fn normalizes() {
        let q = ListQuery { per_page: 7, page: 0, search: "  a\u{0}b  ".into(), ..ListQuery::default() }
            .normalized();
        assert_eq!((q.per_page, q.page, q.search.as_str()), (25, 1, "ab"));
        let q = ListQuery { per_page: 100, page: 3, ..ListQuery::default() }.normalized();
        assert_eq!(q.offset(), 200);
        let long = ListQuery { search: "x".repeat(500), ..ListQuery::default() }.normalized();
        assert_eq!(long.search.len(), 100);
    }
}
