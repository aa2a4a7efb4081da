//! `/admin/users`: every user, searchable and paged; add a user; per user: make administrator or
//! user, edit the display name, disable/enable, reset the password, delete (after confirming). The same rules as
//! `clavis user`: the last active administrator stays, and disabling ends everything at once.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;

use crate::{
    api::users::{
        USER_PAGE_SIZE, UserAction, UserView, add_user, change_user, list_users, reset_password,
        set_display_name,
    },
    components::{
        layout::csrf_token,
        pager::{Pager, pages},
        status::AdminOnly,
    },
    domain::{Role, time::format_utc},
};

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Title text="Users"/>
        <AdminOnly>
            <Users/>
        </AdminOnly>
    }
}

#[component]
fn Users() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    // Bumped after every change, so the list reloads.
    let version = RwSignal::new(0u32);
    let list =
        crate::api::resource(move || (search.get(), page.get(), version.get()), |(s, p, _)| list_users(s, p));
    let failure = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let act = move |username: String, action: UserAction| {
        busy.set(true);
        failure.set(None);
        notice.set(None);
        spawn_local(async move {
            match change_user(csrf_token(), username.clone(), action).await {
                Ok(_) => {
                    notice.set(Some(match action {
                        UserAction::SetRole(Role::Admin) => format!("{username} is now an administrator."),
                        UserAction::SetRole(Role::User) => format!("{username} is now a user."),
                        UserAction::Disable => {
                            format!("{username} is disabled: their sessions and tokens ended.")
                        }
                        UserAction::Enable => format!("{username} can sign in again."),
                        UserAction::Delete => format!("{username} is deleted."),
                    }));
                    version.update(|v| *v += 1);
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    let renamed = move |username: String| {
        failure.set(None);
        notice.set(Some(format!("{username}'s display name is saved.")));
        version.update(|v| *v += 1);
    };

    view! {
        <section class="page">
            <div class="page-head"><h1>"Users"</h1></div>
            {move || failure.get().map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })}
            {move || notice.get().map(|m| view! { <p class="alert alert-saved" role="status">{m}</p> })}
            <AddUser on_added=move |name: String| {
                notice.set(Some(format!("{name} is added.")));
                version.update(|v| *v += 1);
            }/>
            <div class="toolbar" role="search">
                <div class="field grow">
                    <label for="user-search">"Search"</label>
                    <input id="user-search" type="search" placeholder="Username or display name" autocomplete="off"
                        prop:value=move || search.get()
                        on:input=move |ev| { search.set(event_target_value(&ev)); page.set(1); }/>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(p) => {
                            let pages = pages(p.total, USER_PAGE_SIZE);
                            view! {
                                <div class="card table-card">
                                    <table class="data-table">
                                        <thead><tr>
                                            <th scope="col">"Username"</th>
                                            <th scope="col">"Display name"</th>
                                            <th scope="col">"Role"</th>
                                            <th scope="col">"State"</th>
                                            <th scope="col">"Created"</th>
                                            <th scope="col">"Actions"</th>
                                        </tr></thead>
                                        <tbody>
                                            {p.rows.into_iter().map(|u| view! { <UserRow user=u act renamed busy/> }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <Pager summary=format!("{} user{}", p.total, if p.total == 1 { "" } else { "s" }) page pages/>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AddUser(on_added: impl Fn(String) + Copy + Send + Sync + 'static) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let admin = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            let name = username.get_untracked();
            match add_user(csrf_token(), name.clone(), password.get_untracked(), admin.get_untracked()).await
            {
                Ok(u) => {
                    username.set(String::new());
                    password.set(String::new());
                    admin.set(false);
                    on_added(u.username);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            pending.set(false);
        });
    };
    view! {
        <details class="card add-user">
            <summary>"Add user"</summary>
            <form class="stack" on:submit=on_submit novalidate>
                {move || error.get().map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })}
                <div class="field">
                    <label for="new-username">"Username"</label>
                    <input id="new-username" type="text" autocomplete="off" maxlength="64" prop:value=move || username.get()
                        on:input=move |ev| username.set(event_target_value(&ev))/>
                    <p class="hint">"1 to 64 letters, digits, '.', '_' or '-'."</p>
                </div>
                <div class="field">
                    <label for="new-password">"Password"</label>
                    <input id="new-password" type="password" autocomplete="new-password" prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                    <p class="hint">"At least 8 characters. Tell it to the user by a safe way."</p>
                </div>
                <div class="field field-check">
                    <input id="new-admin" type="checkbox" prop:checked=move || admin.get()
                        on:change=move |ev| admin.set(event_target_checked(&ev))/>
                    <label for="new-admin">"Administrator"</label>
                </div>
                <div class="form-actions">
                    <button type="submit" class="button-primary" disabled=move || pending.get()>"Add user"</button>
                </div>
            </form>
        </details>
    }
}

/// Which inline form of a row is open.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    None,
    Rename,
    Password,
    Delete,
}

#[component]
fn UserRow(
    user: UserView,
    act: impl Fn(String, UserAction) + Copy + Send + Sync + 'static,
    renamed: impl Fn(String) + Copy + Send + Sync + 'static,
    busy: RwSignal<bool>,
) -> impl IntoView {
    let open = RwSignal::new(Open::None);
    let display = RwSignal::new(user.display_name.clone());
    let password = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let name = user.username.clone();
    let (n1, n2, n3, n4, n5, n6) =
        (name.clone(), name.clone(), name.clone(), name.clone(), name.clone(), name.clone());
    let save_display = move |_| {
        let username = n5.clone();
        busy.set(true);
        spawn_local(async move {
            match set_display_name(csrf_token(), username.clone(), display.get_untracked()).await {
                Ok(_) => renamed(username),
                Err(e) => message.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let save_password = move |_| {
        let username = n4.clone();
        busy.set(true);
        spawn_local(async move {
            match reset_password(csrf_token(), username, password.get_untracked()).await {
                Ok(_) => {
                    message.set(Some("Password set; their browser sessions ended.".into()));
                    password.set(String::new());
                    open.set(Open::None);
                }
                Err(e) => message.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let role_action =
        if user.admin { UserAction::SetRole(Role::User) } else { UserAction::SetRole(Role::Admin) };
    let state_action = if user.disabled { UserAction::Enable } else { UserAction::Disable };
    view! {
        <tr>
            <td><strong>{name.clone()}</strong></td>
            <td>{user.display_name.clone()}</td>
            <td>{if user.admin { "Administrator" } else { "User" }}</td>
            <td>{if user.disabled {
                view! { <span class="badge badge-inactive">"Disabled"</span> }.into_any()
            } else {
                view! { <span class="badge badge-active">"Active"</span> }.into_any()
            }}</td>
            <td>{format_utc(user.created_at)}</td>
            <td class="row-actions">
                <button type="button" class="button-quiet" disabled=move || busy.get() on:click=move |_| act(n1.clone(), role_action)>
                    {if user.admin { "Make user" } else { "Make administrator" }}
                </button>
                <button type="button" class="button-quiet" disabled=move || busy.get() on:click=move |_| act(n2.clone(), state_action)>
                    {if user.disabled { "Enable" } else { "Disable" }}
                </button>
                <button type="button" class="button-quiet" on:click=move |_| open.set(Open::Rename)>"Edit display name"</button>
                <button type="button" class="button-quiet" on:click=move |_| open.set(Open::Password)>"Reset password"</button>
                <button type="button" class="button-danger" on:click=move |_| open.set(Open::Delete)>"Delete"</button>
                {move || message.get().map(|m| view! { <p class="muted" role="status">{m}</p> })}
                {move || (open.get() == Open::Rename).then(|| {
                    let save_display = save_display.clone();
                    view! {
                        <div class="inline-form">
                            <label for=format!("display-{}", n6.clone())>{format!("Display name of {}", n6.clone())}</label>
                            <input id=format!("display-{}", n6.clone()) type="text" maxlength="100" autocomplete="off"
                                prop:value=move || display.get() on:input=move |ev| display.set(event_target_value(&ev))/>
                            <button type="button" class="button-primary" disabled=move || busy.get() on:click=save_display>"Save"</button>
                            <button type="button" class="button-quiet" on:click=move |_| open.set(Open::None)>"Cancel"</button>
                        </div>
                    }
                })}
                {move || (open.get() == Open::Password).then(|| {
                    let save_password = save_password.clone();
                    view! {
                        <div class="inline-form">
                            <label for=format!("password-{}", name.clone())>{format!("New password for {}", name.clone())}</label>
                            <input id=format!("password-{}", name.clone()) type="password" autocomplete="new-password"
                                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                            <button type="button" class="button-primary" disabled=move || busy.get() on:click=save_password>"Set password"</button>
                            <button type="button" class="button-quiet" on:click=move |_| open.set(Open::None)>"Cancel"</button>
                        </div>
                    }
                })}
                {move || (open.get() == Open::Delete).then(|| {
                    let n3 = n3.clone();
                    view! {
                        <div class="inline-form" role="alertdialog">
                            <span>{format!("Delete {} and everything issued to them?", n3.clone())}</span>
                            <button type="button" class="button-danger" disabled=move || busy.get() on:click=move |_| act(n3.clone(), UserAction::Delete)>"Delete user"</button>
                            <button type="button" class="button-quiet" on:click=move |_| open.set(Open::None)>"Cancel"</button>
                        </div>
                    }
                })}
            </td>
        </tr>
    }
}
