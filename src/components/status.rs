//! Whole-page status views: no access, not found, failed to load; and the admin-only wrapper.

use leptos::prelude::*;

use crate::components::layout::use_viewer;

/// Shows `children` to administrators, the "no access" page to everyone else. (The server's page
/// guard already answered 403 or sent visitors to sign in; this covers in-app navigation.)
#[component]
pub fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    let viewer = use_viewer();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match viewer.await {
                        Ok(v) if v.user.as_ref().is_some_and(|u| u.is_admin) => children().into_any(),
                        Ok(_) => view! { <Forbidden/> }.into_any(),
                        Err(e) => view! { <LoadError message=e.to_string()/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// What a signed-in user without the needed role sees (the server sends it with 403).
#[component]
pub fn Forbidden() -> impl IntoView {
    view! {
        <section class="card narrow status-page">
            <p class="status-code">"403"</p>
            <h1>"No access"</h1>
            <p>"Your account does not have access to this page. Only administrators manage OAuth2 clients."</p>
            <p><a href="/account">"Go to your account"</a></p>
        </section>
    }
}

/// Shown when the page's data could not be loaded.
#[component]
pub fn LoadError(message: String) -> impl IntoView {
    view! {
        <section class="card narrow status-page" role="alert">
            <h1>"Something went wrong"</h1>
            <p>{message}</p>
        </section>
    }
}
