//! Clavis: an OAuth2 authorization server with a browser admin app.
//!
//! - [`domain`]: pure types and rules, shared by server, CLI and browser (WASM).
//! - [`app`], [`pages`], [`components`]: the Leptos UI, rendered on the server and hydrated.
//! - [`api`]: server functions, the browser's data API.
//! - Server only (`ssr`): [`config`], [`startup`] (assembles the server), [`state`] (what handlers share), [`db`] (all SQL), [`auth`], [`oauth`] (the authorization server), [`registry`] (client operations), [`security`],
//!   [`telemetry`], [`cli`].
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod domain;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
pub mod oauth;
#[cfg(feature = "ssr")]
pub mod registry;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod startup;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod telemetry;

/// Entry point of the browser bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazily loaded routes (`pages::lazy`) hydrate once their code has arrived.
    leptos::mount::hydrate_lazy(app::App);
}
