//! The HTML shell and the route table.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, MatchNestedRoutes, SsrMode,
    components::{Route, RouteChildren, RouteProps, Router, Routes, RoutesProps},
    path,
};

use crate::{
    components::layout::Layout,
    pages::{lazy::*, not_found::NotFound},
};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::security::apply_page_csp();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HashedStylesheet options=options.clone() id="clavis"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Pages render whole on the server (SsrMode::Async) so forms work before, or without, WASM.
    view! {
        <Title formatter=|t: String| if t.is_empty() { "Clavis".to_string() } else { format!("{t} · Clavis") }/>
        <Router>
            <Layout>
                {Routes(
                    RoutesProps::builder()
                        .fallback(NotFound)
                        .children(RouteChildren::to_children(page_routes))
                        .build(),
                )}
            </Layout>
        </Router>
    }
}

/// `path => route` pairs, matched in order, each page's code loaded with its route.
macro_rules! page_routes {
    ($($path:tt => $route:ident),* $(,)?) => {
        /// The route table: every page's path and its lazily loaded route (see `pages::lazy`).
        /// [`App`] renders it, and the browser matches the address against it before hydrating
        /// (see `crate::hydrate`).
        pub fn page_routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
            ($(
                Route(
                    RouteProps::builder()
                        .path(path!($path))
                        .view(Lazy::<$route>::new())
                        .ssr(SsrMode::Async)
                        .build(),
                ),
            )*)
        }
    };
}

page_routes! {
    "/login" => LoginRoute,
    "/account" => AccountRoute,
    "/admin/clients" => ClientsRoute,
    "/admin/clients/new" => NewClientRoute,
    "/admin/clients/:client_id" => ClientDetailRoute,
    "/admin/clients/:client_id/edit" => EditClientRoute,
    "/admin/apis" => ApisRoute,
    "/admin/settings" => SettingsRoute,
    "/admin/users" => UsersRoute,
    "/admin/audit" => AuditRoute,
    "/admin/apis/new" => NewApiRoute,
    "/admin/apis/:id" => ApiDetailRoute,
    "/admin/apis/:id/edit" => EditApiRoute,
}
