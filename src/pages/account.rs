//! `/account`: the signed-in user's own page.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;

use crate::{
    api::account::{AppAccess, my_apps, remove_app},
    components::{
        layout::{csrf_token, use_viewer},
        status::LoadError,
    },
    domain::time::format_utc,
};

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
                            <section class="card narrow-page account-card">
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
                            <ConnectedApps/>
                        }.into_any(),
                        None => view! {
                            <section class="card narrow-page account-card">
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

/// "Apps with access": every application the user allowed that still holds a live session, with
/// a button that ends all of its sessions.
#[component]
fn ConnectedApps() -> impl IntoView {
    let apps = Resource::new(|| (), |_| my_apps());
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let remove = move |client_id: String| {
        busy.set(true);
        spawn_local(async move {
            match remove_app(csrf_token(), client_id).await {
                Ok(()) => {
                    failure.set(None);
                    apps.refetch();
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let row = move |app: AppAccess| {
        let label = format!("Remove access for {}", app.name);
        let client_id = app.client_id.clone();
        let sessions =
            if app.sessions == 1 { "1 session".to_string() } else { format!("{} sessions", app.sessions) };
        view! {
            <tr>
                <td>{app.name}<span class="hint">{sessions}</span></td>
                <td>{app.access}</td>
                <td>{format_utc(app.last_authorized_at)}</td>
                <td>
                    <button type="button" class="button-quiet button-small" aria-label=label disabled=move || busy.get()
                        on:click=move |_| remove(client_id.clone())>"Remove access"</button>
                </td>
            </tr>
        }
    };
    view! {
        <section class="card narrow-page apps-card" aria-labelledby="apps-title">
            <h2 id="apps-title">"Apps with access"</h2>
            {move || failure.get().map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match apps.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"No application has access to your account."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="data-table">
                                <thead><tr>
                                    <th scope="col">"Application"</th>
                                    <th scope="col">"Access"</th>
                                    <th scope="col">"Last allowed"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr></thead>
                                <tbody>{list.into_iter().map(row).collect_view()}</tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <LoadError message=e.to_string()/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
