//! Reusable views.

pub mod client_form;
pub mod clipboard;
pub mod layout;
pub mod secret_notice;
pub mod status;
