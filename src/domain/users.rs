//! A user as the admin pages show it (never the password hash).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub username: String,
    pub display_name: String,
    pub admin: bool,
    pub disabled: bool,
    pub created_at: i64,
}
