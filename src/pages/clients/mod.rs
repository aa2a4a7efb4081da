//! `/admin/clients/**`: the OAuth2 client registry.

pub mod detail;
pub mod edit;
pub mod list;
pub mod new;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    api::clients::{ClientView, get_client},
    components::status::LoadError,
};

/// Loads the client named by the route's `:client_id` and shows it with `show`.
#[component]
fn RouteClient<F, V>(show: F) -> impl IntoView
where
    F: Fn(ClientView) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let params = use_params_map();
    let client =
        crate::api::resource(move || params.with(|p| p.get("client_id").unwrap_or_default()), get_client);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let show = show.clone();
                Suspend::new(async move {
                    match client.await {
                        Ok(c) => show(c).into_any(),
                        Err(e) => view! { <LoadError message=e.to_string()/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
