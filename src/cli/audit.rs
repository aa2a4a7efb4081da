//! `clavis audit`: the audit log, newest first, filtered by client, actor and time.

use serde_json::{Value, json};

use super::{CliError, open_db};
use crate::{
    config::Settings,
    db::now_unix,
    domain::{
        audit::{AuditEntry, AuditQuery, parse_since},
        client::ClientId,
        time::format_utc,
    },
};

#[derive(clap::Args)]
pub struct AuditArgs {
    /// Only entries about this client (its client_id).
    #[arg(long)]
    client: Option<String>,
    /// Only entries made by this actor: a username, `cli:NAME` or `client registration`.
    #[arg(long)]
    actor: Option<String>,
    /// Only entries from this time on: a date (2026-11-30), a UTC time (2026-11-30T14:05) or an
    /// age (30m, 12h, 7d).
    #[arg(long)]
    since: Option<String>,
    #[arg(long, default_value_t = 1)]
    page: u32,
    /// 1 to 500.
    #[arg(long, default_value_t = 50)]
    per_page: u32,
    #[arg(long)]
    json: bool,
}

/// Checks the arguments before the database is opened.
fn query(args: &AuditArgs) -> Result<AuditQuery, CliError> {
    let client = match &args.client {
        Some(c) => {
            Some(ClientId::parse(c).map_err(|e| CliError::Input(format!("--client: {e}")))?.to_string())
        }
        None => None,
    };
    let actor = match args.actor.as_deref().map(str::trim) {
        Some("") => return Err(CliError::Input("--actor: must not be empty".into())),
        a => a.map(str::to_string),
    };
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, now_unix()))
        .transpose()
        .map_err(|e| CliError::Input(format!("--since: {e}")))?;
    if args.page == 0 {
        return Err(CliError::Input("--page: pages are numbered from 1".into()));
    }
    if !(1..=AuditQuery::MAX_PER_PAGE).contains(&args.per_page) {
        return Err(CliError::Input(format!("--per-page: 1 to {}", AuditQuery::MAX_PER_PAGE)));
    }
    Ok(AuditQuery { client, actor, since, page: args.page, per_page: args.per_page })
}

pub async fn run(settings: Settings, args: AuditArgs) -> Result<(), CliError> {
    let q = query(&args)?;
    let db = open_db(&settings).await?;
    let page = db.audit_log(&q).await;
    db.close().await;
    let page = page?;
    if args.json {
        let entries: Vec<Value> = page.entries.iter().map(entry_json).collect();
        println!(
            "{}",
            json!({"total": page.total, "page": q.page, "per_page": q.per_page, "entries": entries})
        );
    } else {
        for e in &page.entries {
            println!("{}", line(e));
        }
        eprintln!(
            "{} of {} entr{}",
            page.entries.len(),
            page.total,
            if page.total == 1 { "y" } else { "ies" }
        );
    }
    Ok(())
}

fn entry_json(e: &AuditEntry) -> Value {
    json!({
        "id": e.id,
        "at": e.at,
        "actor": e.actor,
        "address": e.address,
        "action": e.action,
        "target_type": e.target_type,
        "target": e.target,
        "changes": e.changes,
    })
}

/// `2026-11-30 14:05 UTC  admin (127.0.0.1)  client.updated client abc  name: "A" → "B"; …`
fn line(e: &AuditEntry) -> String {
    let who = match &e.address {
        Some(a) => format!("{} ({a})", e.actor),
        None => e.actor.clone(),
    };
    let shown = |v: &Option<String>| v.as_ref().map_or("(none)".to_string(), |v| format!("{:?}", v));
    let changes: Vec<String> =
        e.changes.iter().map(|c| format!("{}: {} → {}", c.field, shown(&c.from), shown(&c.to))).collect();
    format!(
        "{}\t{who}\t{}\t{} {}\t{}",
        format_utc(e.at),
        e.action,
        e.target_type,
        e.target,
        changes.join("; ")
    )
}
