//! `clavis user list|show|update|disable|enable|delete|reset-password`: users from the command
//! line. The last active administrator cannot be disabled, demoted or deleted, whoever asks.

use serde_json::{Value, json};

use super::{CliError, UserCommand, open_db, read_password_stdin};
use crate::{
    config::Settings,
    db::{
        Db,
        users::{UserChange, UserChangeError, UserRecord},
    },
    domain::{Password, Role, Username, time::format_utc},
};

fn username(raw: &str) -> Result<Username, CliError> {
    Username::parse(raw).map_err(|e| CliError::Input(format!("username: {e}")))
}

fn user_json(u: &UserRecord) -> Value {
    json!({
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role.as_str(),
        "disabled": u.disabled,
        "created_at": u.created_at,
    })
}

fn print(u: &UserRecord, json: bool) {
    if json {
        println!("{}", user_json(u));
    } else {
        println!("username:      {}", u.username);
        println!("display name:  {}", u.display_name);
        println!("role:          {}", u.role.as_str());
        println!("state:         {}", if u.disabled { "disabled" } else { "active" });
        println!("created:       {}", format_utc(u.created_at));
    }
}

fn change_error(e: UserChangeError) -> CliError {
    match e {
        UserChangeError::NotFound | UserChangeError::LastAdmin => CliError::Input(format!("username: {e}")),
        UserChangeError::Db(e) => CliError::Fault(e.to_string()),
    }
}

pub async fn run(settings: Settings, command: UserCommand) -> Result<(), CliError> {
    // Everything that can be checked without the database is, first: bad input writes nothing.
    let mut command = command;
    let checked = match &mut command {
        UserCommand::List { page, per_page, .. } => {
            if ![25, 50, 100].contains(per_page) {
                return Err(CliError::Input("--per-page: must be 25, 50 or 100".into()));
            }
            if *page == 0 {
                return Err(CliError::Input("--page: must be 1 or more".into()));
            }
            None
        }
        UserCommand::Add { .. } => None,
        UserCommand::Show { username: u, .. }
        | UserCommand::Disable { username: u, .. }
        | UserCommand::Enable { username: u, .. }
        | UserCommand::Delete { username: u, .. } => Some((username(u)?, None)),
        UserCommand::Update { username: u, role, display_name, .. } => {
            let role = role
                .as_deref()
                .map(Role::parse)
                .transpose()
                .map_err(|e| CliError::Input(format!("--role: {e}")))?;
            // The same rule as the users page and the API: trimmed, checked, stored as cleaned.
            if let Some(d) = display_name {
                *d = crate::oauth::api::display_name(d)
                    .map_err(|e| CliError::Input(format!("--display-name: {e}")))?;
            }
            Some((username(u)?, role.map(UserChange::Role)))
        }
        UserCommand::ResetPassword { username: u, .. } => Some((username(u)?, Some(UserChange::Password))),
    };
    let hash = if matches!(command, UserCommand::ResetPassword { .. }) {
        let password =
            Password::parse_new(read_password_stdin()?).map_err(|e| CliError::Input(e.to_string()))?;
        Some(crate::auth::password::hash(password).await.map_err(|e| CliError::Fault(e.to_string()))?)
    } else {
        None
    };
    let db = open_db(&settings).await?;
    let result = execute(&db, command, checked.map(|(u, _)| u), hash.as_deref()).await;
    db.close().await;
    result
}

async fn execute(
    db: &Db,
    command: UserCommand,
    user: Option<Username>,
    hash: Option<&str>,
) -> Result<(), CliError> {
    let change = |c: UserChange, display: Option<String>| {
        let user = user.clone();
        async move {
            let Some(u) = user else { return Err(CliError::Input("username: required".into())) };
            db.change_user(&u, c, hash, display.as_deref()).await.map_err(change_error)
        }
    };
    match command {
        UserCommand::Add { .. } => Ok(()),
        UserCommand::List { search, page, per_page, json } => {
            let (rows, total) = db
                .list_users(search.trim(), i64::from(per_page), i64::from(page - 1) * i64::from(per_page))
                .await?;
            if json {
                let list: Vec<Value> = rows.iter().map(user_json).collect();
                println!("{}", json!({"total": total, "page": page, "per_page": per_page, "users": list}));
            } else {
                for u in &rows {
                    let state = if u.disabled { "disabled" } else { "active" };
                    println!("{}\t{}\t{state}\t{}", u.username, u.role.as_str(), u.display_name);
                }
                eprintln!("{} of {total} user(s)", rows.len());
            }
            Ok(())
        }
        UserCommand::Show { json, .. } => {
            let Some(u) = user else { return Ok(()) };
            match db.find_user(&u).await? {
                Some(record) => {
                    print(&record, json);
                    Ok(())
                }
                None => Err(CliError::Input("username: no user has this username".into())),
            }
        }
        UserCommand::Update { role, display_name, json, .. } => {
            let c = match role.as_deref().map(Role::parse) {
                Some(Ok(r)) => UserChange::Role(r),
                _ => UserChange::Profile,
            };
            print(&change(c, display_name).await?, json);
            Ok(())
        }
        UserCommand::Disable { json, .. } => {
            done(&change(UserChange::Disabled(true), None).await?, "disabled", json)
        }
        UserCommand::Enable { json, .. } => {
            done(&change(UserChange::Disabled(false), None).await?, "enabled", json)
        }
        UserCommand::Delete { json, .. } => done(&change(UserChange::Delete, None).await?, "deleted", json),
        UserCommand::ResetPassword { json, .. } => {
            done(&change(UserChange::Password, None).await?, "set a new password for", json)
        }
    }
}

fn done(u: &UserRecord, what: &str, json: bool) -> Result<(), CliError> {
    if json {
        let mut out = user_json(u);
        if what == "deleted" {
            out = json!({"username": u.username, "deleted": true});
        }
        println!("{out}");
    } else {
        println!("{what} {}", u.username);
    }
    Ok(())
}
