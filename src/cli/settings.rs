//! `clavis settings`: the instance-wide defaults and the API switch.

use clap::Subcommand;
use serde_json::json;

use super::CliError;
use crate::{
    db::{Db, settings::SettingsPatch},
    domain::settings::InstanceSettings,
};

#[derive(Subcommand)]
pub enum SettingsCommand {
    /// Show the settings (the default).
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change settings: only those given change.
    Set {
        /// Seconds, for clients using the global setting (default 43200: 12 hours).
        #[arg(long, allow_hyphen_values = true)]
        access_token_lifetime: Option<String>,
        /// Seconds, for clients using the global setting (default 2592000: 30 days).
        #[arg(long, allow_hyphen_values = true)]
        refresh_token_lifetime: Option<String>,
        /// Live sessions a user may hold per client, 1 to 1000 (default 10).
        #[arg(long, allow_hyphen_values = true)]
        session_cap: Option<String>,
        /// Seconds a session may live from its authorization, however often it is refreshed
        /// (default 7776000: 90 days).
        #[arg(long, allow_hyphen_values = true)]
        session_max_lifetime: Option<String>,
        /// on | off: off makes the token endpoint and the API refuse every request.
        #[arg(long)]
        api_access: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// What can be checked without the database.
pub fn patch(command: &SettingsCommand) -> Result<Option<SettingsPatch>, CliError> {
    let SettingsCommand::Set {
        access_token_lifetime,
        refresh_token_lifetime,
        session_cap,
        session_max_lifetime,
        api_access,
        ..
    } = command
    else {
        return Ok(None);
    };
    let input =
        |flag: &str, e: crate::domain::settings::SettingsError| CliError::Input(format!("{flag}: {e}"));
    let patch = SettingsPatch {
        access_token_lifetime: access_token_lifetime
            .as_deref()
            .map(|v| InstanceSettings::parse_seconds("access token lifetime", v))
            .transpose()
            .map_err(|e| input("--access-token-lifetime", e))?,
        refresh_token_lifetime: refresh_token_lifetime
            .as_deref()
            .map(|v| InstanceSettings::parse_seconds("refresh token lifetime", v))
            .transpose()
            .map_err(|e| input("--refresh-token-lifetime", e))?,
        session_cap: session_cap
            .as_deref()
            .map(InstanceSettings::parse_session_cap)
            .transpose()
            .map_err(|e| input("--session-cap", e))?,
        session_max_lifetime: session_max_lifetime
            .as_deref()
            .map(|v| InstanceSettings::parse_seconds("session max lifetime", v))
            .transpose()
            .map_err(|e| input("--session-max-lifetime", e))?,
        api_enabled: api_access
            .as_deref()
            .map(InstanceSettings::parse_switch)
            .transpose()
            .map_err(|e| input("--api-access", e))?,
    };
    Ok(Some(patch))
}

pub async fn run(db: &Db, command: SettingsCommand, patch: Option<SettingsPatch>) -> Result<(), CliError> {
    let json = match command {
        SettingsCommand::Show { json } | SettingsCommand::Set { json, .. } => json,
    };
    let settings = match patch {
        Some(p) => db.update_settings(p).await?,
        None => db.settings().await?,
    };
    if json {
        println!(
            "{}",
            json!({
                "access_token_lifetime": settings.access_token_lifetime.get(),
                "refresh_token_lifetime": settings.refresh_token_lifetime.get(),
                "session_cap": settings.session_cap.get(),
                "session_max_lifetime": settings.session_max_lifetime.get(),
                "api_access": if settings.api_enabled { "on" } else { "off" },
            })
        );
    } else {
        println!("access token lifetime:  {} s", settings.access_token_lifetime);
        println!("refresh token lifetime: {} s", settings.refresh_token_lifetime);
        println!("session cap:            {} per user and client", settings.session_cap);
        println!("session max lifetime:   {} s", settings.session_max_lifetime);
        println!("API access:             {}", if settings.api_enabled { "on" } else { "off" });
    }
    Ok(())
}
