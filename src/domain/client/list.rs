//! What the client list asks for: search text, state filter, sort and page.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StateFilter {
    #[default]
    All,
    Active,
    Inactive,
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

    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.per_page)
    }
}

/// One row of the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSummary {
    pub client_id: String,
    pub name: String,
    pub active: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientPage {
    pub rows: Vec<ClientSummary>,
    /// Matching clients on all pages.
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

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
