//! `clavis api ...`: registered APIs (resource servers) from the command line. Input goes through
//! the same `ApiForm` checks as the admin pages; `--json` prints machine-readable output.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::CliError;
use crate::{
    db::Db,
    domain::{
        api::{Api, ApiFieldErrors, ApiForm, ApiIdentifier},
        time::format_utc,
    },
    registry::{
        PlainSecret,
        apis::{self, ApiRegistryError},
    },
};

#[derive(Subcommand)]
pub enum ApiCommand {
    /// Register an API and print the credentials it introspects tokens with (the secret is shown
    /// only this once).
    Add {
        #[command(flatten)]
        fields: ApiFields,
        #[arg(long)]
        json: bool,
    },
    /// List APIs by name, the built-in one first.
    List {
        /// Text to find in the name, identifier or client_id.
        #[arg(long, default_value = "")]
        search: String,
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// 25, 50 or 100
        #[arg(long, default_value_t = 25)]
        per_page: u32,
        #[arg(long)]
        json: bool,
    },
    /// Show one API (never its secret).
    Show {
        /// The API's identifier or client_id.
        #[arg(allow_hyphen_values = true)]
        api: String,
        #[arg(long)]
        json: bool,
    },
    /// Change an API: only the options given change.
    Update {
        /// The API's identifier or client_id.
        #[arg(allow_hyphen_values = true)]
        api: String,
        #[command(flatten)]
        fields: ApiFields,
        #[arg(long)]
        json: bool,
    },
    /// Delete an API; tokens issued for it are good for nothing else.
    Delete {
        /// The API's identifier or client_id.
        #[arg(allow_hyphen_values = true)]
        api: String,
        #[arg(long)]
        json: bool,
    },
    /// Allow a deactivated API to introspect and be asked for again.
    Activate {
        /// The API's identifier or client_id.
        #[arg(allow_hyphen_values = true)]
        api: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop an API: it cannot introspect, and new authorizations naming it are refused.
    Deactivate {
        /// The API's identifier or client_id.
        #[arg(allow_hyphen_values = true)]
        api: String,
        #[arg(long)]
        json: bool,
    },
    /// Issue a new secret (shown only this once); the old one stops working at once.
    RegenerateSecret {
        /// The API's identifier or client_id.
        #[arg(allow_hyphen_values = true)]
        api: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Clone)]
pub struct ApiFields {
    /// Shown to users on the consent screen (1–100 characters).
    #[arg(long)]
    name: Option<String>,
    /// The URL clients send as `resource`: https://..., or http:// on a loopback address.
    #[arg(long)]
    identifier: Option<String>,
    /// Optional, at most 1000 characters.
    #[arg(long)]
    description: Option<String>,
}

impl ApiFields {
    fn apply(self, mut form: ApiForm) -> ApiForm {
        if let Some(v) = self.name {
            form.name = v;
        }
        if let Some(v) = self.identifier {
            form.identifier = v;
        }
        if let Some(v) = self.description {
            form.description = v;
        }
        form
    }
}

/// What can be checked without the database.
pub fn precheck(command: &ApiCommand) -> Result<(), CliError> {
    if let ApiCommand::Add { fields, .. } = command {
        fields.clone().apply(ApiForm::default()).validate().map_err(|e| invalid(&e))?;
    }
    if let ApiCommand::List { page, per_page, .. } = command {
        if ![25, 50, 100].contains(per_page) {
            return Err(CliError::Input("--per-page: must be 25, 50 or 100".into()));
        }
        if *page == 0 {
            return Err(CliError::Input("--page: must be 1 or more".into()));
        }
    }
    Ok(())
}

pub async fn run(db: &Db, command: ApiCommand, builtin: &ApiIdentifier) -> Result<(), CliError> {
    match command {
        ApiCommand::Add { fields, json } => {
            let form = fields.apply(ApiForm::default());
            let (_, api, secret) = apis::create(db, &form, builtin).await.map_err(registry_error)?;
            print_created(&api, &secret, json);
        }
        ApiCommand::List { search, page, per_page, json } => {
            let result = apis::list(db, &search, page, per_page, builtin).await.map_err(registry_error)?;
            if json {
                let rows: Vec<Value> = result.rows.iter().map(|(_, a)| api_json(a)).collect();
                println!(
                    "{}",
                    json!({"total": result.total, "page": page, "per_page": per_page, "apis": rows})
                );
            } else {
                for (_, a) in &result.rows {
                    let state = if a.active { "active" } else { "inactive" };
                    println!("{}\t{state}\t{}", a.identifier, a.name);
                }
                eprintln!("{} of {} API(s)", result.rows.len(), result.total);
            }
        }
        ApiCommand::Show { api, json } => {
            let pk = apis::find(db, &api, builtin).await.map_err(registry_error)?;
            print_api(&apis::get(db, pk, builtin).await.map_err(registry_error)?, json);
        }
        ApiCommand::Update { api, fields, json } => {
            let pk = apis::find(db, &api, builtin).await.map_err(registry_error)?;
            let current = apis::get(db, pk, builtin).await.map_err(registry_error)?;
            let form = fields.apply(ApiForm {
                name: current.name.clone(),
                identifier: current.identifier.to_string(),
                description: current.description.clone().unwrap_or_default(),
            });
            print_api(&apis::update(db, pk, &form, builtin).await.map_err(registry_error)?, json);
        }
        ApiCommand::Delete { api, json } => {
            let pk = apis::find(db, &api, builtin).await.map_err(registry_error)?;
            let shown = apis::get(db, pk, builtin).await.map_err(registry_error)?.identifier;
            apis::delete(db, pk, builtin).await.map_err(registry_error)?;
            if json {
                println!("{}", json!({"identifier": shown.as_str(), "deleted": true}));
            } else {
                println!("deleted {shown}");
            }
        }
        ApiCommand::Activate { api, json } => set_active(db, &api, true, json, builtin).await?,
        ApiCommand::Deactivate { api, json } => set_active(db, &api, false, json, builtin).await?,
        ApiCommand::RegenerateSecret { api, json } => {
            let pk = apis::find(db, &api, builtin).await.map_err(registry_error)?;
            let (api, secret) = apis::regenerate_secret(db, pk, builtin).await.map_err(registry_error)?;
            print_created(&api, &secret, json);
        }
    }
    Ok(())
}

async fn set_active(
    db: &Db,
    key: &str,
    active: bool,
    json: bool,
    builtin: &ApiIdentifier,
) -> Result<(), CliError> {
    let pk = apis::find(db, key, builtin).await.map_err(registry_error)?;
    let api = apis::set_active(db, pk, active, builtin).await.map_err(registry_error)?;
    if json {
        println!("{}", json!({"identifier": api.identifier.as_str(), "active": api.active}));
    } else {
        println!("{} {}", if active { "activated" } else { "deactivated" }, api.identifier);
    }
    Ok(())
}

fn registry_error(e: ApiRegistryError) -> CliError {
    match e {
        ApiRegistryError::Invalid(errors) => invalid(&errors),
        ApiRegistryError::NotFound => CliError::Input(format!("api: {e}")),
        ApiRegistryError::BuiltIn(why) => CliError::Input(format!("api: {why}")),
        ApiRegistryError::Db(e) => CliError::Fault(e.to_string()),
    }
}

/// The first field error, named by its flag: one line.
fn invalid(errors: &ApiFieldErrors) -> CliError {
    match errors.first() {
        Some((field, message)) => CliError::Input(format!("{}: {message}", field.flag())),
        None => CliError::Input(errors.to_string()),
    }
}

fn print_created(api: &Api, secret: &PlainSecret, json: bool) {
    let client_id = api.client_id.as_ref().map(|c| c.as_str()).unwrap_or_default();
    if json {
        println!(
            "{}",
            json!({"identifier": api.identifier.as_str(), "client_id": client_id, "client_secret": secret.expose()})
        );
    } else {
        println!("identifier:    {}", api.identifier);
        println!("client_id:     {client_id}");
        println!("client_secret: {}", secret.expose());
        eprintln!("Store the client secret now: it is shown only this once.");
    }
}

pub fn api_json(a: &Api) -> Value {
    json!({
        "identifier": a.identifier.as_str(),
        "name": a.name,
        "description": a.description,
        "client_id": a.client_id.as_ref().map(|c| c.as_str()),
        "secret": a.secret.as_ref().map(|s| json!({"last4": s.last4, "created_at": s.created_at})),
        "active": a.active,
        "builtin": a.builtin,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    })
}

fn print_api(a: &Api, json: bool) {
    if json {
        println!("{}", api_json(a));
        return;
    }
    println!("identifier:   {}", a.identifier);
    println!("name:         {}", a.name);
    println!("state:        {}", if a.active { "active" } else { "inactive" });
    if a.builtin {
        println!("built-in:     yes (Clavis's own /api/v1; checks tokens itself)");
    }
    if let Some(id) = &a.client_id {
        println!("client_id:    {id}");
    }
    if let Some(s) = &a.secret {
        println!("secret:       ****{} (created {})", s.last4, format_utc(s.created_at));
    }
    if let Some(d) = &a.description {
        println!("description:  {d}");
    }
    if !a.builtin {
        println!("created:      {}", format_utc(a.created_at));
    }
}
