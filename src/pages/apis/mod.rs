//! `/admin/apis/**`: the registered APIs (resource servers) whose tokens Clavis issues. The
//! built-in API is listed too, read-only.

pub mod detail;
pub mod edit;
pub mod list;
pub mod new;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    api::apis::{ApiView, get_api},
    components::status::LoadError,
};

/// Loads the API named by the route's `:id` and shows it with `show`.
#[component]
pub(super) fn RouteApi<F, V>(show: F) -> impl IntoView
where
    F: Fn(ApiView) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let params = use_params_map();
    let api = crate::api::resource(
        move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0)),
        get_api,
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let show = show.clone();
                Suspend::new(async move {
                    match api.await {
                        Ok(a) => show(a).into_any(),
                        Err(e) => view! { <LoadError message=e.to_string()/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
