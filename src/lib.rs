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
    use leptos_router::{
        ChooseView, MatchInterface, RouteDefs,
        location::{BrowserUrl, LocationProvider},
    };

    console_error_panic_hook::set_once();
    // Each page's code is a file of its own (`pages::lazy`). The page being shown has its file
    // fetched first, matched the way `<Routes>` will match it, so that the whole page then
    // hydrates in one synchronous pass. Views carry no asynchronous hydration code, which would
    // otherwise be built into the WASM for every view type (`patches/tachys`).
    wasm_bindgen_futures::spawn_local(async {
        if let Ok(url) = BrowserUrl::current()
            && let Some(page) = RouteDefs::new_with_base(app::page_routes(), "").match_route(url.path())
        {
            page.into_view_and_child().0.preload().await;
        }
        leptos::mount::hydrate_body(app::App);
    });
}
