//! The command line: `clavis [serve]`, `clavis migrate`, `clavis user add`, `clavis client ...`,
//! `clavis api ...`, `clavis registration-token ...`, `clavis settings`, `clavis audit`,
//! `clavis bench`.
//! Bad input gets a one-line error naming the field on stderr and exit code 2, and nothing is
//! written.

mod api;
mod audit;
mod bench;
mod client;
mod registration;
mod settings;
mod users;

use std::{io::Read, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::{
    config::{Issuer, Settings},
    db::{Db, DbError},
    domain::{Password, Role, Username},
    startup::Application,
    telemetry,
};

#[derive(Parser)]
#[command(name = "clavis", version, about = "Clavis OAuth2 authorization server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage OAuth2 clients.
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Manage registered APIs (resource servers) whose tokens Clavis issues.
    #[command(subcommand)]
    Api(api::ApiCommand),
    /// Initial access tokens for client registration (`--registration token`).
    #[command(subcommand)]
    RegistrationToken(registration::RegistrationTokenCommand),
    /// Show the audit log: every administrative change, newest first.
    Audit(audit::AuditArgs),
    /// Show or change the instance-wide settings.
    Settings {
        #[command(subcommand)]
        command: Option<settings::SettingsCommand>,
    },
    /// Measure: start a server on a fresh database, drive its hot paths with concurrent
    /// connections and print requests a second, latency and server CPU per request.
    Bench(bench::BenchArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        /// 1–64 letters, digits, '.', '_' or '-'.
        #[arg(long)]
        username: String,
        /// Read the password (at least 8 characters) from standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// List users by username.
    List {
        /// Text to find in the username or display name.
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
    /// Show one user.
    Show {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a user's role or display name.
    Update {
        username: String,
        /// admin | user
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Stop a user from signing in; every session and token issued to them ends at once.
    Disable {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Let a disabled user sign in again.
    Enable {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a user, their sessions and everything issued to them.
    Delete {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Set a new password (read from standard input); the user's browser sessions end.
    ResetPassword {
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
}

/// A failure of a command: bad input (exit 2) or a fault (exit 1).
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Fault(String),
}

impl From<DbError> for CliError {
    fn from(e: DbError) -> Self {
        CliError::Fault(e.to_string())
    }
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    let serving = matches!(command, Command::Serve);
    if let Err(e) = telemetry::init(if serving { "info,sqlx=warn" } else { "warn" }, serving) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let result = match Settings::from_env() {
        // The benchmark makes its own database and server settings.
        _ if let Command::Bench(args) = command => bench::run(args).await,
        Err(e) => Err(CliError::Input(e.to_string())),
        Ok(settings) => match command {
            Command::Serve => serve(settings).await,
            Command::Migrate => migrate(settings).await,
            Command::User(UserCommand::Add { username, password_stdin: _, admin }) => {
                user_add(settings, &username, admin).await
            }
            Command::User(command) => users::run(settings, command).await,
            Command::Client(command) => client_command(settings, command).await,
            Command::Api(command) => api_command(settings, command).await,
            Command::RegistrationToken(command) => registration_command(settings, command).await,
            Command::Audit(args) => audit::run(settings, args).await,
            Command::Settings { command } => {
                settings_command(settings, command.unwrap_or(settings::SettingsCommand::Show { json: false }))
                    .await
            }
            Command::Bench(_) => Ok(()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Input(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(CliError::Fault(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), CliError> {
    let app = Application::build(settings).await.map_err(|e| CliError::Fault(e.to_string()))?;
    tracing::info!(addr = %app.addr(), issuer = app.issuer().as_str(), "Clavis is listening");
    let served = app.run().await.map_err(|e| CliError::Fault(e.to_string()));
    telemetry::flush();
    served
}

/// The database, migrated: every command works on a fresh path.
/// The database, migrated; changes made through it are recorded in the audit log as made at the
/// command line by this operating-system account (`cli:NAME`, from `$USER` or `$LOGNAME`).
async fn open_db(settings: &Settings) -> Result<Db, CliError> {
    let db = Db::connect(&settings.database_url).await?;
    db.migrate().await?;
    let os_user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).ok();
    Ok(db.by(crate::domain::audit::Actor::command_line(os_user.as_deref())))
}

async fn migrate(settings: Settings) -> Result<(), CliError> {
    open_db(&settings).await?.close().await;
    println!("migrations applied");
    Ok(())
}

async fn client_command(settings: Settings, command: client::ClientCommand) -> Result<(), CliError> {
    // Bad input is refused before the database is opened (or created).
    client::precheck(&command)?;
    let issuer = settings.issuer.clone().unwrap_or_else(|| Issuer::from_addr(settings.site_addr));
    let db = open_db(&settings).await?;
    let result = client::run(&db, command, issuer.builtin_api()).await;
    db.close().await;
    result
}

async fn api_command(settings: Settings, command: api::ApiCommand) -> Result<(), CliError> {
    // Bad input is refused before the database is opened (or created).
    api::precheck(&command)?;
    // The built-in API's identifier follows the issuer the server would use.
    let issuer = settings.issuer.clone().unwrap_or_else(|| Issuer::from_addr(settings.site_addr));
    let db = open_db(&settings).await?;
    let result = api::run(&db, command, issuer.builtin_api()).await;
    db.close().await;
    result
}

async fn registration_command(
    settings: Settings,
    command: registration::RegistrationTokenCommand,
) -> Result<(), CliError> {
    registration::precheck(&command)?;
    let db = open_db(&settings).await?;
    let result = registration::run(&db, command).await;
    db.close().await;
    result
}

async fn settings_command(config: Settings, command: settings::SettingsCommand) -> Result<(), CliError> {
    // Bad input is refused before the database is opened (or created).
    let patch = settings::patch(&command)?;
    let db = open_db(&config).await?;
    let result = settings::run(&db, command, patch).await;
    db.close().await;
    result
}

async fn user_add(settings: Settings, raw_username: &str, admin: bool) -> Result<(), CliError> {
    // Everything is checked before the database is opened: bad input writes nothing.
    let username = Username::parse(raw_username).map_err(|e| CliError::Input(e.to_string()))?;
    let password = Password::parse_new(read_password_stdin()?).map_err(|e| CliError::Input(e.to_string()))?;
    let role = if admin { Role::Admin } else { Role::User };
    let hash = crate::auth::password::hash(password).await.map_err(|e| CliError::Fault(e.to_string()))?;
    let db = open_db(&settings).await?;
    let inserted = db.insert_user(&username, &hash, role).await;
    db.close().await;
    match inserted {
        Ok(_) => {
            println!("created {} {username}", role.as_str());
            Ok(())
        }
        Err(DbError::Duplicate) => Err(CliError::Input(format!("username '{username}' is already taken"))),
        Err(e) => Err(e.into()),
    }
}

/// The whole of standard input, without the final line break `echo` or a terminal adds. At a
/// terminal it asks, and the typed password is not echoed (nor left in the scrollback).
fn read_password_stdin() -> Result<String, CliError> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return rpassword::prompt_password("Password (input hidden): ")
            .map_err(|e| CliError::Input(format!("password: cannot read from the terminal: {e}")));
    }
    let mut raw = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut raw)
        .map_err(|e| CliError::Input(format!("password: cannot read standard input: {e}")))?;
    let trimmed = raw.strip_suffix('\n').unwrap_or(&raw);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    if trimmed.contains(['\n', '\r']) {
        return Err(CliError::Input("password: must be a single line".into()));
    }
    Ok(trimmed.to_string())
}
