//! `clavis settings`: the instance-wide defaults and the API switch.

use clap::Subcommand;
use serde_json::json;

use super::CliError;
use crate::{
    db::{Db, settings::SettingsPatch},
    domain::settings::{InstanceSettings, RegistrationPolicy},
};

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
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
        /// off | open | token: who may register a client at POST /oauth2/register (RFC 7591);
        /// token: with an initial access token from `clavis registration-token add`.
        #[arg(long)]
        registration: Option<String>,
        /// off | on: take an https client_id as the URL of its client ID metadata document.
        #[arg(long)]
        client_metadata_documents: Option<String>,
        /// Host names whose metadata documents may be fetched although they resolve to private or
        /// local addresses (space- or comma-separated, exact), or 'none'.
        #[arg(long)]
        metadata_document_hosts: Option<String>,
        /// Most self-registered clients at once, 0 to 1000000 (default 1000).
        #[arg(long, allow_hyphen_values = true)]
        max_self_registered: Option<String>,
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
        registration,
        client_metadata_documents,
        max_self_registered,
        metadata_document_hosts,
        ..
    } = command
    else {
        return Ok(None);
    };
    if let Some(raw) = metadata_document_hosts {
        parse_hosts(raw)?;
    }
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
        registration: registration
            .as_deref()
            .map(RegistrationPolicy::parse)
            .transpose()
            .map_err(|e| input("--registration", e))?,
        client_metadata_documents: client_metadata_documents
            .as_deref()
            .map(InstanceSettings::parse_switch)
            .transpose()
            .map_err(|e| input("--client-metadata-documents", e))?,
        max_self_registered: max_self_registered
            .as_deref()
            .map(InstanceSettings::parse_max_self_registered)
            .transpose()
            .map_err(|e| input("--max-self-registered", e))?,
    };
    Ok(Some(patch))
}

/// `--metadata-document-hosts`, as the settings page reads it.
pub fn parse_hosts(raw: &str) -> Result<Vec<String>, CliError> {
    crate::domain::settings::parse_hosts(raw)
        .map_err(|e| CliError::Input(format!("--metadata-document-hosts: {e}")))
}

pub async fn run(db: &Db, command: SettingsCommand, patch: Option<SettingsPatch>) -> Result<(), CliError> {
    let (json, hosts) = match command {
        SettingsCommand::Show { json } => (json, None),
        SettingsCommand::Set { json, metadata_document_hosts, .. } => {
            (json, metadata_document_hosts.as_deref().map(parse_hosts).transpose()?)
        }
    };
    // One statement: every setting given, the host list included.
    if let Some(p) = patch {
        db.save_settings(p, hosts.as_deref()).await?;
    }
    let settings = db.settings().await?;
    let hosts = db.metadata_document_hosts().await?;
    if json {
        println!(
            "{}",
            json!({
                "access_token_lifetime": settings.access_token_lifetime.get(),
                "refresh_token_lifetime": settings.refresh_token_lifetime.get(),
                "session_cap": settings.session_cap.get(),
                "session_max_lifetime": settings.session_max_lifetime.get(),
                "api_access": if settings.api_enabled { "on" } else { "off" },
                "registration": settings.registration.as_str(),
                "client_metadata_documents": if settings.client_metadata_documents { "on" } else { "off" },
                "max_self_registered": settings.max_self_registered,
                "metadata_document_hosts": hosts,
            })
        );
    } else {
        println!("access token lifetime:  {} s", settings.access_token_lifetime);
        println!("refresh token lifetime: {} s", settings.refresh_token_lifetime);
        println!("session cap:            {} per user and client", settings.session_cap);
        println!("session max lifetime:   {} s", settings.session_max_lifetime);
        println!("API access:             {}", if settings.api_enabled { "on" } else { "off" });
        println!("client registration:    {}", settings.registration.as_str());
        println!("metadata documents:     {}", if settings.client_metadata_documents { "on" } else { "off" });
        println!("self-registered at most: {}", settings.max_self_registered);
        println!(
            "document hosts allowed:  {}",
            if hosts.is_empty() { "none (public addresses only)".to_string() } else { hosts.join(" ") }
        );
    }
    Ok(())
}
