//! One file per route.

pub mod account;
pub mod apis;
pub mod audit;
pub mod clients;
pub mod login;
pub mod not_found;
pub mod settings;
pub mod users;
