//! The users page's data API: list, add, change role or display name, disable/enable, reset
//! password, delete.
//! Only administrators; changes also need the session's CSRF token. The same database rules as
//! `clavis user` (the last active administrator stays; disabling ends everything at once).

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::domain::Role;

pub use crate::domain::users::UserView;

/// One page of users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub rows: Vec<UserView>,
    pub total: i64,
}

/// Rows per page of the users list.
pub const USER_PAGE_SIZE: u32 = 25;

/// What an administrator does to a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserAction {
    SetRole(Role),
    Disable,
    Enable,
    Delete,
}

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::{
        api::guard::fail,
        db::users::{UserChangeError, UserRecord},
        domain::Username,
    };

    pub fn view(u: UserRecord) -> UserView {
        UserView {
            username: u.username,
            display_name: u.display_name,
            admin: u.role == Role::Admin,
            disabled: u.disabled,
            created_at: u.created_at,
        }
    }

    pub fn username(raw: &str) -> Result<Username, ApiError> {
        Username::parse(raw).map_err(|e| fail(ApiError::BadRequest(format!("Username: {e}"))))
    }

    pub fn change_error(e: UserChangeError) -> ApiError {
        fail(match e {
            UserChangeError::NotFound => ApiError::BadRequest("This user no longer exists.".into()),
            UserChangeError::LastAdmin => ApiError::BadRequest(
                "This is the last active administrator: make another user an administrator first.".into(),
            ),
            UserChangeError::Db(e) => ApiError::internal(e),
        })
    }
}

#[server(endpoint = "users/list", input = Json)]
pub async fn list_users(search: String, page: u32) -> Result<UserPage, ApiError> {
    let state = super::guard::admin().await?;
    let offset = i64::from(page.max(1) - 1) * i64::from(USER_PAGE_SIZE);
    let (rows, total) = state
        .db
        .list_users(search.trim(), i64::from(USER_PAGE_SIZE), offset)
        .await
        .map_err(|e| super::guard::fail(ApiError::internal(e)))?;
    Ok(UserPage { rows: rows.into_iter().map(server::view).collect(), total })
}

#[server(endpoint = "users/add", input = Json)]
pub async fn add_user(
    csrf: String,
    username: String,
    password: String,
    admin: bool,
) -> Result<UserView, ApiError> {
    use crate::{db::DbError, domain::Password};
    let state = super::guard::admin_change(&csrf).await?;
    let name = server::username(&username)?;
    let password = Password::parse_new(password)
        .map_err(|e| super::guard::fail(ApiError::BadRequest(format!("Password: {e}"))))?;
    let hash =
        crate::auth::password::hash(password).await.map_err(|e| super::guard::fail(ApiError::internal(e)))?;
    let role = if admin { Role::Admin } else { Role::User };
    match state.db.insert_user(&name, &hash, role).await {
        Ok(_) => {}
        Err(DbError::Duplicate) => {
            return Err(super::guard::fail(ApiError::BadRequest(format!(
                "Username: '{name}' is already taken"
            ))));
        }
        Err(e) => return Err(super::guard::fail(ApiError::internal(e))),
    }
    tracing::info!(username = name.as_str(), role = role.as_str(), "user added on the users page");
    let user = state.db.find_user(&name).await.map_err(|e| super::guard::fail(ApiError::internal(e)))?;
    user.map(server::view).ok_or_else(|| super::guard::fail(ApiError::Internal))
}

#[server(endpoint = "users/change", input = Json)]
pub async fn change_user(csrf: String, username: String, action: UserAction) -> Result<UserView, ApiError> {
    use crate::db::users::UserChange;
    let state = super::guard::admin_change(&csrf).await?;
    let name = server::username(&username)?;
    let change = match action {
        UserAction::SetRole(r) => UserChange::Role(r),
        UserAction::Disable => UserChange::Disabled(true),
        UserAction::Enable => UserChange::Disabled(false),
        UserAction::Delete => UserChange::Delete,
    };
    let user = state.db.change_user(&name, change, None, None).await.map_err(server::change_error)?;
    tracing::info!(username = name.as_str(), ?action, "user changed on the users page");
    Ok(server::view(user))
}

#[server(endpoint = "users/reset_password", input = Json)]
pub async fn reset_password(csrf: String, username: String, password: String) -> Result<UserView, ApiError> {
    use crate::{db::users::UserChange, domain::Password};
    let state = super::guard::admin_change(&csrf).await?;
    let name = server::username(&username)?;
    let password = Password::parse_new(password)
        .map_err(|e| super::guard::fail(ApiError::BadRequest(format!("Password: {e}"))))?;
    let hash =
        crate::auth::password::hash(password).await.map_err(|e| super::guard::fail(ApiError::internal(e)))?;
    let user = state
        .db
        .change_user(&name, UserChange::Password, Some(&hash), None)
        .await
        .map_err(server::change_error)?;
    tracing::info!(username = name.as_str(), "password reset on the users page");
    Ok(server::view(user))
}

#[server(endpoint = "users/display_name", input = Json)]
pub async fn set_display_name(
    csrf: String,
    username: String,
    display_name: String,
) -> Result<UserView, ApiError> {
    use crate::db::users::UserChange;
    let state = super::guard::admin_change(&csrf).await?;
    let name = server::username(&username)?;
    let display = crate::oauth::api::display_name(&display_name)
        .map_err(|e| super::guard::fail(ApiError::BadRequest(format!("Display name {e}"))))?;
    let user = state
        .db
        .change_user(&name, UserChange::Profile, None, Some(&display))
        .await
        .map_err(server::change_error)?;
    tracing::info!(username = name.as_str(), "display name changed on the users page");
    Ok(server::view(user))
}
