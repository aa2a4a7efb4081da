//! `/admin/clients`: the list of registered OAuth2 clients (administrators only).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{
    layout::use_viewer,
    status::{Forbidden, LoadError},
};

#[component]
pub fn ClientsPage() -> impl IntoView {
    let viewer = use_viewer();
    view! {
        <Title text="OAuth2 Clients"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(v) if v.user.as_ref().is_some_and(|u| u.is_admin) => view! {
                        <section class="page">
                            <div class="page-head">
                                <h1>"OAuth2 Clients"</h1>
                            </div>
                            <div class="card empty-state">
                                <h2>"No clients yet"</h2>
                                <p class="muted">"Applications registered here can ask users for access to the API."</p>
                            </div>
                        </section>
                    }.into_any(),
                    Ok(_) => view! { <Forbidden/> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
