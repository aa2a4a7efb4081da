//! The HTML shell and the route table.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::{
    components::layout::Layout,
    pages::{
        account::AccountPage,
        apis::{detail::ApiDetailPage, edit::EditApiPage, list::ApisPage, new::NewApiPage},
        audit::AuditPage,
        clients::{detail::ClientDetailPage, edit::EditClientPage, list::ClientsPage, new::NewClientPage},
        login::LoginPage,
        not_found::NotFound,
        settings::SettingsPage,
        users::UsersPage,
    },
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
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/clients") view=ClientsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/clients/new") view=NewClientPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/clients/:client_id") view=ClientDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/clients/:client_id/edit") view=EditClientPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/apis") view=ApisPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/settings") view=SettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/apis/new") view=NewApiPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/apis/:id") view=ApiDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/apis/:id/edit") view=EditApiPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
