//! The page for any path no route serves (HTTP 404).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::Hydrated;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <section class="card narrow status-page">
            <p class="status-code">"404"</p>
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <p><a href="/" rel="external">"Go to the start page"</a></p>
        </section>
        <Hydrated/>
    }
}
