//! `clavis client ...`: the client registry from the command line. Input goes through the same
//! `ClientForm` checks as the browser form; `--json` prints machine-readable output.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::CliError;
use crate::domain::time::format_utc;
use crate::{
    db::{Db, apis::ApiRef},
    domain::api::ApiIdentifier,
    domain::client::{
        AccessLifetime, Client, ClientForm, ClientId, FieldErrors, ListQuery, OriginFilter, RefreshCount,
        RefreshLifetime, SecretGrace, StateFilter,
    },
    registry::{self, PlainSecret, RegistryError},
};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client and print its client_id (and secret, shown only this once).
    Add {
        #[command(flatten)]
        fields: ClientFields,
        #[arg(long)]
        json: bool,
    },
    /// List clients, newest first.
    List {
        /// Text to find in the name or client_id.
        #[arg(long, default_value = "")]
        search: String,
        /// all | active | inactive
        #[arg(long, default_value = "all")]
        state: String,
        /// all | admin | registered | metadata_document: who registered them
        #[arg(long, default_value = "all")]
        origin: String,
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// 25, 50 or 100
        #[arg(long, default_value_t = 25)]
        per_page: u32,
        #[arg(long)]
        json: bool,
    },
    /// Show one client (never its secret).
    Show {
        /// The client's ID (it may start with '-').
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a client: only the options given change.
    Update {
        /// The client's ID (it may start with '-').
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[command(flatten)]
        fields: ClientFields,
        #[arg(long)]
        json: bool,
    },
    /// Delete a client and everything issued to it.
    Delete {
        /// The client's ID (it may start with '-').
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Allow a deactivated client to work again.
    Activate {
        /// The client's ID (it may start with '-').
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop a client from getting or using tokens until activated.
    Deactivate {
        /// The client's ID (it may start with '-').
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Issue a new secret (shown only this once).
    RegenerateSecret {
        /// The client's ID (it may start with '-').
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        /// How long the old secret keeps working: none, 1h or 24h.
        #[arg(long, default_value = "none")]
        grace: String,
        #[arg(long)]
        json: bool,
    },
    /// Print every client an administrator registered, with all its settings and no secret, as
    /// JSON (for `client import`).
    Export {
        /// Accepted for symmetry: the export is always JSON.
        #[arg(long)]
        json: bool,
    },
    /// Register the clients of an export file ('-': standard input) under their own client_ids,
    /// with new secrets printed once. A bad file changes nothing and names its first bad entry.
    Import {
        file: String,
        #[arg(long)]
        json: bool,
    },
}

/// The client's settings as flags; each one left out keeps its default (add) or value (update).
#[derive(Args, Clone)]
pub struct ClientFields {
    /// Shown to users on the consent screen (1–100 characters).
    #[arg(long)]
    name: Option<String>,
    /// Repeat for several redirect URIs.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// client_secret_post | client_secret_basic | none
    #[arg(long)]
    auth_method: Option<String>,
    /// required | optional
    #[arg(long)]
    pkce: Option<String>,
    /// full (All API Access) | read (Read-only API Access)
    #[arg(long)]
    scope: Option<String>,
    /// Turn the allow/deny screen off.
    #[arg(long, conflicts_with = "consent")]
    no_consent: bool,
    /// Turn the allow/deny screen on.
    #[arg(long)]
    consent: bool,
    /// Allow the client_credentials grant: the client gets tokens for itself, for unattended
    /// jobs (confidential clients only).
    #[arg(long, conflicts_with = "no_client_credentials")]
    client_credentials: bool,
    /// Withdraw the client_credentials grant; the tokens it issued stop working.
    #[arg(long)]
    no_client_credentials: bool,
    /// Optional, at most 1000 characters.
    #[arg(long)]
    description: Option<String>,
    /// The application's version, optional, at most 50 characters.
    #[arg(long)]
    version_label: Option<String>,
    /// global | never | SECONDS
    #[arg(long, allow_hyphen_values = true)]
    access_token_lifetime: Option<String>,
    /// global | SECONDS
    #[arg(long, allow_hyphen_values = true)]
    refresh_token_lifetime: Option<String>,
    /// unlimited | N (0: no refresh token)
    #[arg(long, allow_hyphen_values = true)]
    refresh_count: Option<String>,
    /// Requests per minute; 'none' for unlimited.
    #[arg(long, allow_hyphen_values = true)]
    rate_limit: Option<String>,
    /// Seconds (1-300) within which a used refresh token returns the same successor instead of
    /// revoking its session; 'off' (the default) for none.
    #[arg(long, allow_hyphen_values = true)]
    refresh_reuse_grace: Option<String>,
    /// Limit the client to this API (its identifier); repeat for several. Default: any active API.
    #[arg(long = "api", conflicts_with = "any_api")]
    apis: Vec<String>,
    /// Lift the limit: the client may ask for any active API.
    #[arg(long)]
    any_api: bool,
}

impl ClientFields {
    /// Lays the given flags over `form`.
    fn apply(self, mut form: ClientForm) -> Result<ClientForm, CliError> {
        if let Some(v) = self.name {
            form.name = v;
        }
        if !self.redirect_uris.is_empty() {
            if self.redirect_uris.iter().any(|u| u.contains(['\n', '\r'])) {
                return Err(CliError::Input("--redirect-uri: must not contain line breaks".into()));
            }
            form.redirect_uris = self.redirect_uris.join("\n");
        }
        if let Some(v) = self.auth_method {
            form.auth_method = v;
        }
        if let Some(v) = self.pkce {
            form.require_pkce = match v.as_str() {
                "required" => true,
                "optional" => false,
                _ => return Err(CliError::Input("--pkce: must be 'required' or 'optional'".into())),
            };
        }
        if let Some(v) = self.scope {
            form.scope = v;
        }
        if self.no_consent {
            form.consent = false;
        }
        if self.consent {
            form.consent = true;
        }
        if self.client_credentials {
            form.client_credentials = true;
        }
        if self.no_client_credentials {
            form.client_credentials = false;
        }
        if let Some(v) = self.description {
            form.description = v;
        }
        if let Some(v) = self.version_label {
            form.version = v;
        }
        if let Some(v) = self.access_token_lifetime {
            (form.access_lifetime, form.access_lifetime_secs) = choice(v, &["global", "never"]);
        }
        if let Some(v) = self.refresh_token_lifetime {
            (form.refresh_lifetime, form.refresh_lifetime_secs) = choice(v, &["global"]);
        }
        if let Some(v) = self.refresh_count {
            (form.refresh_count, form.refresh_count_limit) = match v.as_str() {
                "unlimited" => ("unlimited".into(), String::new()),
                _ => ("limit".into(), v),
            };
        }
        if let Some(v) = self.rate_limit {
            form.rate_limit = if v == "none" { String::new() } else { v };
        }
        if let Some(v) = self.refresh_reuse_grace {
            form.refresh_reuse_grace = if v == "off" { String::new() } else { v };
        }
        if self.any_api {
            form.apis = None;
        } else if !self.apis.is_empty() {
            form.apis = Some(self.apis);
        }
        Ok(form)
    }
}

/// A keyword (`global`, `never`) or a number of seconds, as the form's radio + text box.
fn choice(v: String, keywords: &[&str]) -> (String, String) {
    if keywords.contains(&v.as_str()) { (v, String::new()) } else { ("custom".into(), v) }
}

/// What can be checked without the database.
pub fn precheck(command: &ClientCommand) -> Result<(), CliError> {
    match command {
        ClientCommand::Add { fields, .. } => {
            fields.clone().apply(ClientForm::default())?.validate().map_err(|e| invalid(&e))?;
        }
        ClientCommand::Show { client_id, .. }
        | ClientCommand::Update { client_id, .. }
        | ClientCommand::Delete { client_id, .. }
        | ClientCommand::Activate { client_id, .. }
        | ClientCommand::Deactivate { client_id, .. } => {
            parse_id(client_id)?;
        }
        ClientCommand::RegenerateSecret { client_id, grace, .. } => {
            parse_id(client_id)?;
            SecretGrace::parse(grace).map_err(|e| CliError::Input(format!("--grace: {e}")))?;
        }
        ClientCommand::List { .. } | ClientCommand::Export { .. } => {}
        ClientCommand::Import { file, .. } => {
            read_import(file)?;
        }
    }
    Ok(())
}

/// The entries of an import file, or the one-line error naming what is wrong.
fn read_import(file: &str) -> Result<Vec<crate::domain::client::transfer::ExportedClient>, CliError> {
    use std::io::Read;
    let mut text = String::new();
    let read = if file == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_string(&mut text)).map(|_| ())
    };
    read.map_err(|e| CliError::Input(format!("FILE: cannot read {file}: {e}")))?;
    crate::domain::client::transfer::parse_file(&text).map_err(|e| CliError::Input(format!("{file}: {e}")))
}

pub async fn run(db: &Db, command: ClientCommand, builtin: &ApiIdentifier) -> Result<(), CliError> {
    match command {
        ClientCommand::Add { fields, json } => {
            let form = fields.apply(ClientForm::default())?;
            let (client, secret) = registry::create(db, &form, builtin).await.map_err(registry_error)?;
            print_created(&client, secret.as_ref(), json);
        }
        ClientCommand::List { search, state, origin, page, per_page, json } => {
            let origin = OriginFilter::parse(&origin).ok_or_else(|| {
                CliError::Input("--origin: must be all, admin, registered or metadata_document".into())
            })?;
            let state = match state.as_str() {
                "all" => StateFilter::All,
                "active" => StateFilter::Active,
                "inactive" => StateFilter::Inactive,
                _ => return Err(CliError::Input("--state: must be all, active or inactive".into())),
            };
            if !ListQuery::PAGE_SIZES.contains(&per_page) {
                return Err(CliError::Input("--per-page: must be 25, 50 or 100".into()));
            }
            if page == 0 {
                return Err(CliError::Input("--page: must be 1 or more".into()));
            }
            let query = ListQuery { search, state, origin, page, per_page, ..ListQuery::default() };
            let result = registry::list(db, &query).await.map_err(registry_error)?;
            if json {
                let rows: Vec<Value> = result
                    .rows
                    .iter()
                    .map(|r| json!({"client_id": r.client_id, "name": r.name, "active": r.active, "created_at": r.created_at, "origin": r.origin.as_str()}))
                    .collect();
                println!(
                    "{}",
                    json!({"total": result.total, "more": result.more, "page": query.page, "per_page": per_page, "clients": rows})
                );
            } else {
                for r in &result.rows {
                    let state = if r.active { "active" } else { "inactive" };
                    println!("{}\t{state}\t{}", r.client_id, r.name);
                }
                eprintln!("{} of {} client(s)", result.rows.len(), result.total_text());
            }
        }
        ClientCommand::Show { client_id, json } => {
            let client = registry::get(db, &parse_id(&client_id)?).await.map_err(registry_error)?;
            let apis = registry::client_apis(db, &client.client_id, builtin).await.map_err(registry_error)?;
            print_client(&client, apis.as_deref(), json);
        }
        ClientCommand::Update { client_id, fields, json } => {
            let id = parse_id(&client_id)?;
            let current = registry::get(db, &id).await.map_err(registry_error)?;
            let form =
                fields.apply(registry::form_of(db, &current, builtin).await.map_err(registry_error)?)?;
            let (client, secret) = registry::update(db, &id, &form, builtin).await.map_err(registry_error)?;
            match secret {
                Some(s) => print_created(&client, Some(&s), json),
                None => {
                    let apis = registry::client_apis(db, &id, builtin).await.map_err(registry_error)?;
                    print_client(&client, apis.as_deref(), json);
                }
            }
        }
        ClientCommand::Delete { client_id, json } => {
            registry::delete(db, &parse_id(&client_id)?).await.map_err(registry_error)?;
            if json {
                println!("{}", json!({"client_id": client_id, "deleted": true}));
            } else {
                println!("deleted {client_id}");
            }
        }
        ClientCommand::Activate { client_id, json } => set_active(db, &client_id, true, json).await?,
        ClientCommand::Deactivate { client_id, json } => set_active(db, &client_id, false, json).await?,
        ClientCommand::Export { json: _ } => {
            let file = registry::transfer::export(db, builtin).await.map_err(registry_error)?;
            let text = serde_json::to_string_pretty(&file).map_err(|e| CliError::Fault(e.to_string()))?;
            println!("{text}");
        }
        ClientCommand::Import { file, json } => {
            let entries = read_import(&file)?;
            let imported = registry::transfer::import(db, &entries, builtin).await.map_err(|e| match e {
                registry::transfer::ImportError::Entry(m) => CliError::Input(format!("{file}: {m}")),
                registry::transfer::ImportError::Db(e) => CliError::Fault(e.to_string()),
            })?;
            if json {
                let list: Vec<Value> = imported
                    .iter()
                    .map(|c| match &c.secret {
                        Some(s) => json!({"client_id": c.client_id.as_str(), "client_secret": s.expose()}),
                        None => json!({"client_id": c.client_id.as_str()}),
                    })
                    .collect();
                println!("{}", json!({"imported": list.len(), "clients": list}));
            } else {
                for c in &imported {
                    println!(
                        "{}\t{}\t{}",
                        c.client_id,
                        c.secret.as_ref().map_or("(public: no secret)", |s| s.expose()),
                        c.name
                    );
                }
                eprintln!("imported {} client(s); each secret above is shown only this once", imported.len());
            }
        }
        ClientCommand::RegenerateSecret { client_id, grace, json } => {
            let grace = SecretGrace::parse(&grace).map_err(|e| CliError::Input(format!("--grace: {e}")))?;
            let (client, secret) = registry::regenerate_secret(db, &parse_id(&client_id)?, grace)
                .await
                .map_err(registry_error)?;
            print_created(&client, Some(&secret), json);
        }
    }
    Ok(())
}

async fn set_active(db: &Db, client_id: &str, active: bool, json: bool) -> Result<(), CliError> {
    let client = registry::set_active(db, &parse_id(client_id)?, active).await.map_err(registry_error)?;
    if json {
        println!("{}", json!({"client_id": client.client_id.as_str(), "active": client.active}));
    } else {
        println!("{} {}", if active { "activated" } else { "deactivated" }, client.client_id);
    }
    Ok(())
}

fn parse_id(raw: &str) -> Result<ClientId, CliError> {
    ClientId::parse(raw).map_err(|e| CliError::Input(e.to_string()))
}

fn registry_error(e: RegistryError) -> CliError {
    match e {
        RegistryError::Invalid(errors) => invalid(&errors),
        RegistryError::NotFound => CliError::Input("client_id: no client has this client_id".into()),
        RegistryError::NoSecret => CliError::Input(format!("client_id: {e}")),
        RegistryError::Db(e) => CliError::Fault(e.to_string()),
    }
}

/// The first field error, named by its flag: one line.
fn invalid(errors: &FieldErrors) -> CliError {
    match errors.first() {
        Some((field, message)) => CliError::Input(format!("{}: {message}", field.flag())),
        None => CliError::Input(errors.to_string()),
    }
}

fn print_created(client: &Client, secret: Option<&PlainSecret>, json: bool) {
    if json {
        let mut out = json!({"client_id": client.client_id.as_str()});
        if let Some(s) = secret {
            out["client_secret"] = json!(s.expose());
        }
        println!("{out}");
    } else {
        println!("client_id: {}", client.client_id);
        if let Some(s) = secret {
            println!("client_secret: {}", s.expose());
            eprintln!("Store the client secret now: it is shown only this once.");
        }
    }
}

pub fn client_json(c: &Client, apis: Option<&[ApiRef]>) -> Value {
    let s = &c.spec;
    json!({
        "apis": apis.map(|list| list.iter().map(|a| a.identifier.as_str()).collect::<Vec<_>>()),
        "client_id": c.client_id.as_str(),
        "name": s.name.as_str(),
        "redirect_uris": s.redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        "auth_method": s.auth.method().as_str(),
        "pkce": s.auth.pkce().as_str(),
        "scope": s.scope.as_str(),
        "description": s.description,
        "version": s.version,
        "access_token_lifetime": match s.access_lifetime {
            AccessLifetime::Global => json!("global"),
            AccessLifetime::Never => json!("never"),
            AccessLifetime::Seconds(n) => json!(n.get()),
        },
        "refresh_token_lifetime": match s.refresh_lifetime {
            RefreshLifetime::Global => json!("global"),
            RefreshLifetime::Seconds(n) => json!(n.get()),
        },
        "refresh_count": match s.refresh_count {
            RefreshCount::Unlimited => json!("unlimited"),
            RefreshCount::Limit(n) => json!(n),
        },
        "consent": s.consent,
        "client_credentials": s.client_credentials,
        "rate_limit": s.rate_limit.map(|n| n.get()),
        "refresh_reuse_grace": s.refresh_reuse_grace.map(|n| n.get()),
        "active": c.active,
        "origin": c.origin.as_str(),
        "secret": c.secret.as_ref().map(|i| json!({
            "last4": i.last4, "created_at": i.created_at, "previous_valid_until": i.previous_valid_until,
        })),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}

fn print_client(c: &Client, apis: Option<&[ApiRef]>, json: bool) {
    if json {
        println!("{}", client_json(c, apis));
        return;
    }
    let s = &c.spec;
    println!("client_id:      {}", c.client_id);
    println!("name:           {}", s.name);
    println!("state:          {}", if c.active { "active" } else { "inactive" });
    println!("auth method:    {}", s.auth.method().as_str());
    println!("PKCE:           {}", s.auth.pkce().as_str());
    println!("scope:          {} ({})", s.scope.label(), s.scope.scopes());
    for (i, u) in s.redirect_uris.iter().enumerate() {
        println!("{}{}", if i == 0 { "redirect URIs:  " } else { "                " }, u);
    }
    if let Some(secret) = &c.secret {
        println!("secret:         ****{} (created {})", secret.last4, format_utc(secret.created_at));
        if let Some(until) = secret.previous_valid_until {
            println!("                the previous secret works until {}", format_utc(until));
        }
    }
    match apis {
        None => println!("APIs:           any active API"),
        Some([]) => println!("APIs:           none (every API it was limited to was deleted)"),
        Some(list) => {
            for (i, a) in list.iter().enumerate() {
                println!(
                    "{}{} ({})",
                    if i == 0 { "APIs:           " } else { "                " },
                    a.identifier,
                    a.name
                );
            }
        }
    }
    println!("consent screen: {}", if s.consent { "shown" } else { "off" });
    if s.client_credentials {
        println!("unattended:     client_credentials allowed");
    }
    if let Some(g) = s.refresh_reuse_grace {
        println!("reuse grace:    {g} s");
    }
    println!("created:        {}", format_utc(c.created_at));
}
