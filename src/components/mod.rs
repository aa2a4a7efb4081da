//! Reusable views.

pub mod api_form;
pub mod client_form;
pub mod clipboard;
pub mod confirm;
pub mod layout;
pub mod pager;
pub mod secret_notice;
pub mod status;
