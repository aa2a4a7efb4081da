//! The `audit_events` table. Each change that an administrator (or a registering client) makes
//! writes its entry inside the change's own transaction: the entry exists exactly when the
//! change does. Who made it comes from the [`Db`] handle ([`Db::by`]).

use std::sync::Arc;

use sqlx::{Any, AnyConnection, any::AnyArguments, query::Query};

use super::{Db, DbError, now_unix, unique_violation};
use crate::domain::{
    audit::{Actor, AuditEntry, AuditPage, AuditQuery, FieldChange},
    client::ClientId,
};

/// What a change did to what; the actor and time are added when it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub action: &'static str,
    pub target_type: &'static str,
    pub target: String,
    pub changes: Vec<FieldChange>,
}

impl Event {
    pub fn client(action: &'static str, client_id: &ClientId, changes: Vec<FieldChange>) -> Self {
        Self { action, target_type: "client", target: client_id.to_string(), changes }
    }

    pub fn api(action: &'static str, identifier: &str, changes: Vec<FieldChange>) -> Self {
        Self { action, target_type: "api", target: identifier.to_string(), changes }
    }

    pub fn user(action: &'static str, username: &str, changes: Vec<FieldChange>) -> Self {
        Self { action, target_type: "user", target: username.to_string(), changes }
    }
}

type EntryRow = (i64, i64, String, Option<String>, String, String, String, String);

impl Db {
    /// This handle, with changes made through it recorded as `actor`'s.
    pub fn by(&self, actor: Actor) -> Self {
        Self { actor: Some(Arc::new(actor)), ..self.clone() }
    }

    /// Who changes made through this handle are recorded as (Clavis itself, unless [`Db::by`]).
    pub fn actor(&self) -> Actor {
        self.actor.as_deref().cloned().unwrap_or_else(Actor::system)
    }

    /// Writes `event` on `conn`, which holds the change's open transaction. An update that
    /// changed nothing (saved as it was, or a metadata document fetched again unchanged) leaves
    /// no entry.
    pub(crate) async fn record(&self, conn: &mut AnyConnection, event: &Event) -> Result<(), DbError> {
        if event.action.ends_with(".updated") && event.changes.is_empty() {
            return Ok(());
        }
        let changes = serde_json::to_string(&event.changes)
            .map_err(|e| DbError::Corrupt(format!("audit changes: {e}")))?;
        let actor = self.actor.as_deref();
        sqlx::query(
            "INSERT INTO audit_events (at, actor, address, action, target_type, target, changes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(now_unix())
        .bind(actor.map_or("clavis", |a| a.name.as_str()))
        .bind(actor.and_then(|a| a.address.as_deref()))
        .bind(event.action)
        .bind(event.target_type)
        .bind(event.target.as_str())
        .bind(changes)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Runs one statement and, when it changed exactly one row, records `event` in the same
    /// transaction. `false` (nothing written) when no row matched.
    pub(crate) async fn execute_audited<'q>(
        &self,
        query: Query<'q, Any, AnyArguments<'q>>,
        event: &Event,
    ) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        if query.execute(&mut *tx).await.map_err(unique_violation)?.rows_affected() != 1 {
            return Ok(false);
        }
        self.record(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One page of the log, newest first, and how many entries match.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<AuditPage, DbError> {
        let mut filters = Vec::new();
        let mut n = 0;
        let mut param = || {
            n += 1;
            format!("${n}")
        };
        if query.client.is_some() {
            filters.push(format!("target_type = 'client' AND target = {}", param()));
        }
        if query.actor.is_some() {
            filters.push(format!("actor = {}", param()));
        }
        if query.since.is_some() {
            filters.push(format!("at >= {}", param()));
        }
        let filter =
            if filters.is_empty() { String::new() } else { format!("WHERE {}", filters.join(" AND ")) };
        let (limit, offset) = (param(), param());
        let sql = format!(
            "SELECT id, at, actor, address, action, target_type, target, changes FROM audit_events {filter} \
             ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
        );
        let count_sql = format!("SELECT COUNT(*) FROM audit_events {filter}");
        let mut rows = sqlx::query_as::<_, EntryRow>(&sql);
        let mut count = sqlx::query_as::<_, (i64,)>(&count_sql);
        if let Some(c) = &query.client {
            rows = rows.bind(c.as_str());
            count = count.bind(c.as_str());
        }
        if let Some(a) = &query.actor {
            rows = rows.bind(a.as_str());
            count = count.bind(a.as_str());
        }
        if let Some(s) = query.since {
            rows = rows.bind(s);
            count = count.bind(s);
        }
        let rows = rows.bind(query.limit()).bind(query.offset()).fetch_all(self.pool()).await?;
        let (total,) = count.fetch_one(self.pool()).await?;
        let entries = rows
            .into_iter()
            .map(|(id, at, actor, address, action, target_type, target, changes)| {
                let changes = serde_json::from_str(&changes)
                    .map_err(|e| DbError::Corrupt(format!("audit_events.changes of {id}: {e}")))?;
                Ok(AuditEntry { id, at, actor, address, action, target_type, target, changes })
            })
            .collect::<Result<_, DbError>>()?;
        Ok(AuditPage { entries, total })
    }
}
