//! The HTML shell and the route table.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, SsrMode,
    components::{Route, Router, Routes},
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
                <Routes fallback=NotFound>
                    <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/clients") view={Lazy::<ClientsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/clients/new") view={Lazy::<NewClientRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/clients/:client_id") view={Lazy::<ClientDetailRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/clients/:client_id/edit") view={Lazy::<EditClientRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/apis") view={Lazy::<ApisRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/apis/new") view={Lazy::<NewApiRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/apis/:id") view={Lazy::<ApiDetailRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/apis/:id/edit") view={Lazy::<EditApiRoute>::new()} ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
