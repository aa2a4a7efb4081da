//! One file per route; [`lazy`] makes each a lazily loaded route.

pub mod account;
pub mod apis;
pub mod audit;
pub mod clients;
pub mod lazy;
pub mod login;
pub mod not_found;
pub mod settings;
pub mod users;
