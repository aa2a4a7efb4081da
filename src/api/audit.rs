//! The audit page's data API: one page of the log, filtered. Administrators only.

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::domain::audit::AuditPage;

/// Entries per page of the audit page.
pub const AUDIT_PAGE_SIZE: u32 = 50;

/// The page's filters, as typed (empty: no filter).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub client: String,
    pub actor: String,
    /// A date, a UTC time or an age (`7d`); see [`crate::domain::audit::parse_since`].
    pub since: String,
}

#[server(endpoint = "audit/list", input = Json)]
pub async fn audit_log(filter: AuditFilter, page: u32) -> Result<AuditPage, ApiError> {
    use crate::domain::audit::{AuditQuery, parse_since};
    let state = super::guard::admin().await?;
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let since = match text(&filter.since) {
        Some(s) => Some(
            parse_since(&s, crate::db::now_unix())
                .map_err(|e| super::guard::fail(ApiError::BadRequest(format!("Since: {e}"))))?,
        ),
        None => None,
    };
    let query = AuditQuery {
        client: text(&filter.client),
        actor: text(&filter.actor),
        since,
        page: page.max(1),
        per_page: AUDIT_PAGE_SIZE,
    };
    state.db.audit_log(&query).await.map_err(|e| super::guard::fail(ApiError::internal(e)))
}
