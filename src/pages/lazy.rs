//! Every page as a lazily loaded route. Built with `cargo leptos --split`, each page's own code
//! is a WASM file of its own, fetched when the page is first shown (and preloaded with the
//! document for the page the server renders): the first download holds only what pages share.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use crate::components::layout::Hydrated;

use super::{
    account::AccountPage,
    apis::{detail::ApiDetailPage, edit::EditApiPage, list::ApisPage, new::NewApiPage},
    audit::AuditPage,
    clients::{detail::ClientDetailPage, edit::EditClientPage, list::ClientsPage, new::NewClientPage},
    login::LoginPage,
    settings::SettingsPage,
    users::UsersPage,
};

/// `Route => Page`: a route type that renders the page, its code split off with it.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        #[doc = concat!("[`", stringify!($page), "`], loaded with its route.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(this: Self) -> AnyView {
                let $route = this;
                view! { <$page/> <Hydrated/> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    LoginRoute => LoginPage,
    AccountRoute => AccountPage,
    ClientsRoute => ClientsPage,
    NewClientRoute => NewClientPage,
    ClientDetailRoute => ClientDetailPage,
    EditClientRoute => EditClientPage,
    ApisRoute => ApisPage,
    NewApiRoute => NewApiPage,
    ApiDetailRoute => ApiDetailPage,
    EditApiRoute => EditApiPage,
    SettingsRoute => SettingsPage,
    UsersRoute => UsersPage,
    AuditRoute => AuditPage,
}
