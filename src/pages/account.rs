//! `/account`: the signed-in user's own page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{layout::use_viewer, status::LoadError};

#[component]
pub fn AccountPage() -> impl IntoView {
    let viewer = use_viewer();
    view! {
        <Title text="Your account"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(v) => match v.user {
                        Some(user) => view! {
                            <section class="card narrow">
                                <h1>"Your account"</h1>
                                <dl class="details">
                                    <dt>"Username"</dt>
                                    <dd>{user.username}</dd>
                                    <dt>"Display name"</dt>
                                    <dd>{user.display_name}</dd>
                                    <dt>"Role"</dt>
                                    <dd>{if user.is_admin { "Administrator" } else { "User" }}</dd>
                                </dl>
                            </section>
                        }.into_any(),
                        None => view! {
                            <section class="card narrow">
                                <h1>"Your account"</h1>
                                <p>"You are signed out. " <a href="/login?next=%2Faccount" rel="external">"Sign in"</a></p>
                            </section>
                        }.into_any(),
                    },
                    Err(e) => view! { <LoadError message=e.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
