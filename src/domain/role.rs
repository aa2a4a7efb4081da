//! What a signed-in user may do: administrators manage clients, users only use them.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role must be 'admin' or 'user'")]
pub struct RoleError;

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, RoleError> {
        match raw {
            "admin" => Ok(Role::Admin),
            "user" => Ok(Role::User),
            _ => Err(RoleError),
        }
    }

    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for role in [Role::Admin, Role::User] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse("Admin"), Err(RoleError));
        assert_eq!(Role::parse(""), Err(RoleError));
    }
}
