//! `/account`: the signed-in user's own page.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;

use crate::{
    api::account::{
        AppAccess, AppSession, change_password, end_session, my_apps, my_sessions, remove_app,
        set_display_name,
    },
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
                                    <dt>"Role"</dt>
                                    <dd>{if user.is_admin { "Administrator" } else { "User" }}</dd>
                                </dl>
                                <DisplayName initial=user.display_name/>
                            </section>
                            <ConnectedApps/>
                            <ChangePassword/>
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

/// The display name, editable in place.
#[component]
fn DisplayName(initial: String) -> impl IntoView {
    let name = RwSignal::new(initial);
    let message = RwSignal::new(None::<(bool, String)>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        pending.set(true);
        spawn_local(async move {
            message.set(Some(match set_display_name(csrf_token(), name.get_untracked()).await {
                Ok(saved) => {
                    name.set(saved);
                    (true, "Display name saved.".to_string())
                }
                Err(e) => (false, e.to_string()),
            }));
            pending.set(false);
        });
    };
    view! {
        <form class="stack display-name-form" on:submit=on_submit novalidate>
            <div class="field">
                <label for="display-name">"Display name"</label>
                <div class="inline-field">
                    <input id="display-name" type="text" maxlength="100" autocomplete="name"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    <button type="submit" class="button-quiet" disabled=move || pending.get()>"Save name"</button>
                </div>
                <p class="hint">"Shown to applications you allow. At most 100 characters."</p>
            </div>
            {move || message.get().map(|(ok, m)| if ok {
                view! { <p class="alert alert-saved" role="status">{m}</p> }.into_any()
            } else {
                view! { <p class="alert alert-error" role="alert">{m}</p> }.into_any()
            })}
        </form>
    }
}

/// Change password: the current one, then the new one. Other browser sessions end.
#[component]
fn ChangePassword() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        pending.set(true);
        spawn_local(async move {
            message.set(Some(
                match change_password(csrf_token(), current.get_untracked(), new.get_untracked()).await {
                    Ok(()) => {
                        current.set(String::new());
                        new.set(String::new());
                        (true, "Password changed. You were signed out everywhere else.".to_string())
                    }
                    Err(e) => (false, e.to_string()),
                },
            ));
            pending.set(false);
        });
    };
    view! {
        <section class="card narrow-page password-card" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <form class="stack" on:submit=on_submit novalidate>
                {move || message.get().map(|(ok, m)| if ok {
                    view! { <p class="alert alert-saved" role="status">{m}</p> }.into_any()
                } else {
                    view! { <p class="alert alert-error" role="alert">{m}</p> }.into_any()
                })}
                <div class="field">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" type="password" autocomplete="current-password"
                        prop:value=move || current.get() on:input=move |ev| current.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" type="password" autocomplete="new-password"
                        prop:value=move || new.get() on:input=move |ev| new.set(event_target_value(&ev))/>
                    <p class="hint">"At least 8 characters. Your other browser sessions end; this one stays."</p>
                </div>
                <div class="form-actions">
                    <button type="submit" class="button-primary" disabled=move || pending.get()>"Change password"</button>
                </div>
            </form>
        </section>
    }
}

/// "Apps with access": every application the user allowed that still holds a live session, with
/// a button that ends all of its sessions; then each session, with a button that ends it.
#[component]
fn ConnectedApps() -> impl IntoView {
    let apps = crate::api::resource(|| (), |_| my_apps());
    let sessions = crate::api::resource(|| (), |_| my_sessions());
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let remove = move |client_id: String| {
        busy.set(true);
        spawn_local(async move {
            match remove_app(csrf_token(), client_id).await {
                Ok(()) => {
                    failure.set(None);
                    apps.refetch();
                    sessions.refetch();
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let end = move |id: i64| {
        busy.set(true);
        spawn_local(async move {
            match end_session(csrf_token(), id).await {
                Ok(()) => failure.set(None),
                Err(e) => failure.set(Some(e.to_string())),
            }
            apps.refetch();
            sessions.refetch();
            busy.set(false);
        });
    };
    let session_row = move |s: AppSession| {
        let label = format!("Sign out this session of {}", s.client_name);
        let id = s.id;
        let apis = s.apis.join(", ");
        view! {
            <tr>
                <td>{s.client_name}<span class="hint">{format!("Started {}", format_utc(s.created_at))}</span></td>
                <td>{format_utc(s.last_used_at)}</td>
                <td>{s.access}<span class="hint">{apis}</span></td>
                <td>
                    <button type="button" class="button-quiet button-small" aria-label=label disabled=move || busy.get()
                        on:click=move |_| end(id)>"Sign out this session"</button>
                </td>
            </tr>
        }
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
        <section class="card narrow-page apps-card" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Sessions"</h2>
            <p class="hint">"Each time you allowed an application, it started a session; signing one out stops its tokens at once."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"No sessions."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="data-table sessions-table">
                                <thead><tr>
                                    <th scope="col">"Application"</th>
                                    <th scope="col">"Last used"</th>
                                    <th scope="col">"Access and API"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr></thead>
                                <tbody>{list.into_iter().map(session_row).collect_view()}</tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <LoadError message=e.to_string()/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
