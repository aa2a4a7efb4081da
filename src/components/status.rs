//! Whole-page status views: no access, not found, failed to load.

use leptos::prelude::*;

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
