//! Reusable views.

pub mod layout;
pub mod status;
