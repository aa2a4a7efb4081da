//! `clavis registration-token ...`: initial access tokens (RFC 7591 §3) for
//! `--registration token`. A token is shown once; only its digest is stored.

use clap::Subcommand;
use serde_json::json;

use super::CliError;
use crate::{
    auth::token,
    db::{Db, now_unix},
    domain::time::format_utc,
};

#[derive(Subcommand)]
pub enum RegistrationTokenCommand {
    /// Issue a token a client presents (Authorization: Bearer) to register itself; shown once.
    Add {
        /// Seconds until it expires (default: never).
        #[arg(long, allow_hyphen_values = true)]
        expires_in: Option<String>,
        /// Registrations it allows (default: unlimited).
        #[arg(long, allow_hyphen_values = true)]
        max_uses: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the tokens (never the tokens themselves): id, uses, expiry.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (from `list`).
    Revoke {
        #[arg(allow_hyphen_values = true)]
        id: String,
        #[arg(long)]
        json: bool,
    },
}

fn positive(flag: &str, raw: &str, max: i64) -> Result<i64, CliError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| CliError::Input(format!("{flag}: must be a whole number from 1 to {max}")))
}

/// What can be checked without the database.
pub fn precheck(command: &RegistrationTokenCommand) -> Result<(), CliError> {
    match command {
        RegistrationTokenCommand::Add { expires_in, max_uses, .. } => {
            if let Some(v) = expires_in {
                positive("--expires-in", v, i64::from(i32::MAX))?;
            }
            if let Some(v) = max_uses {
                positive("--max-uses", v, 1_000_000)?;
            }
        }
        RegistrationTokenCommand::Revoke { id, .. } => {
            positive("id", id, i64::MAX)?;
        }
        RegistrationTokenCommand::List { .. } => {}
    }
    Ok(())
}

pub async fn run(db: &Db, command: RegistrationTokenCommand) -> Result<(), CliError> {
    match command {
        RegistrationTokenCommand::Add { expires_in, max_uses, json } => {
            let now = now_unix();
            let expires_at = expires_in
                .map(|v| positive("--expires-in", &v, i64::from(i32::MAX)))
                .transpose()?
                .map(|s| now + s);
            let max_uses = max_uses.map(|v| positive("--max-uses", &v, 1_000_000)).transpose()?;
            let secret = token::random_token();
            let id = db.insert_registration_token(&token::digest(&secret), now, expires_at, max_uses).await?;
            if json {
                println!("{}", json!({ "token": secret }));
            } else {
                println!("token: {secret}");
                eprintln!("Registration token {id}. Store it now: it is shown only this once.");
            }
        }
        RegistrationTokenCommand::List { json } => {
            let rows = db.registration_tokens().await?;
            if json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|r| json!({"id": r.id, "created_at": r.created_at, "expires_at": r.expires_at, "max_uses": r.max_uses, "uses": r.uses}))
                    .collect();
                println!("{}", json!({ "tokens": list }));
            } else {
                for r in &rows {
                    let uses = match r.max_uses {
                        Some(max) => format!("{}/{max} uses", r.uses),
                        None => format!("{} uses", r.uses),
                    };
                    let expires = r.expires_at.map_or_else(
                        || "never expires".to_string(),
                        |e| format!("expires {}", format_utc(e)),
                    );
                    println!("{}\tcreated {}\t{uses}\t{expires}", r.id, format_utc(r.created_at));
                }
                eprintln!("{} token(s)", rows.len());
            }
        }
        RegistrationTokenCommand::Revoke { id, json } => {
            let id = positive("id", &id, i64::MAX)?;
            if !db.revoke_registration_token(id).await? {
                return Err(CliError::Input(format!("id: no registration token has id {id}")));
            }
            if json {
                println!("{}", json!({ "id": id, "revoked": true }));
            } else {
                println!("revoked registration token {id}");
            }
        }
    }
    Ok(())
}
