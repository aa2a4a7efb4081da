//! `/admin/clients/{client_id}`: everything about one client, its endpoints to copy, its live
//! sessions, and the actions: Edit, Deactivate/Activate, Delete, Regenerate secret, Revoke all
//! sessions.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::{RouteClient, list::StateBadge};
use crate::{
    api::clients::{
        ClientView, SESSIONS_PAGE_SIZE, client_sessions, delete_client, regenerate_client_secret,
        revoke_client_sessions, set_client_active,
    },
    components::{
        clipboard::CopyButton,
        confirm::{ConfirmCard, Open},
        layout::csrf_token,
        pager::{Pager, pages},
        secret_notice::{IssuedSecret, SecretNotice},
        status::AdminOnly,
    },
    domain::{
        client::{ClientForm, ClientOrigin, ClientScope, percent_encode},
        settings::InstanceSettings,
        time::{format_duration, format_utc},
    },
};

#[component]
pub fn ClientDetailPage() -> impl IntoView {
    // Bumped when the sessions are revoked, so the sessions card reloads.
    let sessions_version = RwSignal::new(0u32);
    // The sessions card loads beside the client, not inside it: each has its own resource.
    view! {
        <Title text="OAuth2 Client"/>
        <AdminOnly>
            <RouteClient show=move |client| view! { <Details client sessions_version/> }/>
            <Sessions version=sessions_version/>
        </AdminOnly>
    }
}

#[component]
fn Details(client: ClientView, sessions_version: RwSignal<u32>) -> impl IntoView {
    let secret = RwSignal::new(IssuedSecret::take(&client.client_id));
    let client = RwSignal::new(client);
    let confirm = RwSignal::new(Open::None);
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let grace = RwSignal::new("none".to_string());
    let notice = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let edit = navigate.clone();
    let id = move || client.with(|c| c.client_id.clone());

    let toggle_active = move |_| {
        let (client_id, active) = client.with_untracked(|c| (c.client_id.clone(), !c.active));
        busy.set(true);
        spawn_local(async move {
            match set_client_active(csrf_token(), client_id, active).await {
                Ok(view) => client.set(view),
                Err(e) => failure.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let regenerate = move || {
        busy.set(true);
        spawn_local(async move {
            match regenerate_client_secret(csrf_token(), id(), grace.get_untracked()).await {
                Ok(done) => {
                    client.set(done.client);
                    secret.set(done.secret);
                    confirm.set(Open::None);
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let revoke_sessions = move || {
        busy.set(true);
        failure.set(None);
        spawn_local(async move {
            match revoke_client_sessions(csrf_token(), id()).await {
                Ok(n) => {
                    notice.set(Some(format!(
                        "{n} session{} ended; their tokens no longer work.",
                        if n == 1 { "" } else { "s" }
                    )));
                    sessions_version.update(|v| *v += 1);
                    confirm.set(Open::None);
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let delete = move || {
        let navigate = navigate.clone();
        busy.set(true);
        spawn_local(async move {
            match delete_client(csrf_token(), id()).await {
                Ok(()) => navigate("/admin/clients", Default::default()),
                Err(e) => failure.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    let row = |label: &'static str, value: String| view! { <dt>{label}</dt><dd>{value}</dd> };
    let history = format!("/admin/audit?client={}", percent_encode(&id()));
    view! {
        <section class="page">
            <p class="breadcrumb"><a href="/admin/clients">"OAuth2 Clients"</a></p>
            <div class="page-head">
                <h1>{move || client.with(|c| c.form.name.clone())} " " {move || view! { <StateBadge active=client.with(|c| c.active)/> }}</h1>
                <div class="actions">
                    <button type="button" class="button-quiet" on:click=move |_| edit(&format!("/admin/clients/{}/edit", percent_encode(&id())), Default::default())>
                        "Edit"
                    </button>
                    <a class="button button-quiet" href=history>"History"</a>
                    <button type="button" class="button-quiet" disabled=move || busy.get() on:click=toggle_active>
                        {move || if client.with(|c| c.active) { "Deactivate" } else { "Activate" }}
                    </button>
                    {move || client.with(|c| c.secret.is_some()).then(|| view! {
                        <button type="button" class="button-quiet" on:click=move |_| confirm.set(Open::Regenerate)>"Regenerate secret"</button>
                    })}
                    <button type="button" class="button-quiet" on:click=move |_| confirm.set(Open::RevokeSessions)>"Revoke all sessions"</button>
                    <button type="button" class="button-danger" on:click=move |_| confirm.set(Open::Delete)>"Delete"</button>
                </div>
            </div>
            {move || failure.get().map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })}
            {move || notice.get().map(|m| view! { <p class="alert alert-saved" role="status">{m}</p> })}
            {move || (confirm.get() == Open::RevokeSessions).then(|| view! {
                <ConfirmCard id="confirm-revoke-title" title="Revoke every session of this client?" action="Revoke all sessions" danger=true busy
                    on_confirm=revoke_sessions on_cancel=move || confirm.set(Open::None)>
                    <p>"Every session with " <strong>{client.with(|c| c.form.name.clone())}</strong>
                       " ends now: its access and refresh tokens stop working at once (and so do the tokens it got for itself), and its users sign in again. After a breach, also use \"Regenerate secret\" with no grace period."</p>
                </ConfirmCard>
            })}
            {move || secret.get().map(|s| view! { <SecretNotice secret=s/> })}
            {move || (confirm.get() == Open::Delete).then(|| view! {
                <ConfirmCard id="confirm-delete-title" title="Delete this client?" action="Delete client" danger=true busy
                    on_confirm=delete.clone() on_cancel=move || confirm.set(Open::None)>
                    <p>"This removes " <strong>{client.with(|c| c.form.name.clone())}</strong>
                       " and every authorization code, token and consent issued to it. Apps using it stop working. This cannot be undone."</p>
                </ConfirmCard>
            })}
            {move || (confirm.get() == Open::Regenerate).then(|| view! {
                <ConfirmCard id="confirm-regen-title" title="Regenerate the client secret?" action="Regenerate" busy
                    on_confirm=regenerate on_cancel=move || confirm.set(Open::None)>
                    <p>"A new secret is issued and shown once. Choose how long the current secret keeps working, so apps can switch without downtime."</p>
                    <div class="field">
                        <label for="grace">"Old secret keeps working for"</label>
                        <select id="grace" prop:value=move || grace.get() on:change=move |ev| grace.set(event_target_value(&ev))>
                            <option value="none">"No time: it stops now"</option>
                            <option value="1h">"1 hour"</option>
                            <option value="24h">"24 hours"</option>
                        </select>
                    </div>
                </ConfirmCard>
            })}
            {move || client.with(|c| {
                let f = &c.form;
                view! {
                    <div class="card">
                        <dl class="details wide">
                            {row("Name", f.name.clone())}
                            <dt>"Client ID"</dt>
                            <dd class="copy-row"><code id="client-id">{c.client_id.clone()}</code><CopyButton value=c.client_id.clone() label="Client ID"/></dd>
                            <dt>"Client secret"</dt>
                            <dd>{match &c.secret {
                                Some(s) => {
                                    let mut text = format!("••••••••{} (created {})", s.last4, format_utc(s.created_at));
                                    if let Some(until) = s.previous_valid_until {
                                        text.push_str(&format!("; the previous secret works until {}", format_utc(until)));
                                    }
                                    text
                                }
                                None => "None: public client (authentication method none)".to_string(),
                            }}</dd>
                            {row("Scope", scope_label(f))}
                            <dt>"APIs"</dt>
                            <dd>{match &f.apis {
                                None => view! { "Any active API" }.into_any(),
                                Some(list) if list.is_empty() => view! { "None: every API it was limited to was deleted" }.into_any(),
                                Some(list) => view! {
                                    <ul class="plain">{list.iter().map(|i| {
                                        let name = c.api_options.iter().find(|o| o.identifier == *i).map(|o| o.name.clone()).unwrap_or_default();
                                        view! { <li>{name} " " <code>{i.clone()}</code></li> }
                                    }).collect_view()}</ul>
                                }.into_any(),
                            }}</dd>
                            <dt>"Redirect URLs"</dt>
                            <dd><ul class="plain">{f.redirect_uris.lines().map(|u| view! { <li><code>{u.to_string()}</code></li> }).collect_view()}</ul></dd>
                            {row("Client Authentication Method", f.auth_method.clone())}
                            {row("Require PKCE", if f.require_pkce { "Yes" } else { "No" }.to_string())}
                            <dt>"Authorization Endpoint URL"</dt>
                            <dd class="copy-row"><code>{c.authorization_endpoint.clone()}</code><CopyButton value=c.authorization_endpoint.clone() label="Authorization Endpoint URL"/></dd>
                            <dt>"Token Endpoint URL"</dt>
                            <dd class="copy-row"><code>{c.token_endpoint.clone()}</code><CopyButton value=c.token_endpoint.clone() label="Token Endpoint URL"/></dd>
                            {row("State", if c.active { "Active" } else { "Inactive" }.to_string())}
                            {row("Registered by", match c.origin {
                                ClientOrigin::Admin => "An administrator".to_string(),
                                ClientOrigin::Registered => "The client itself (dynamic registration); it always requires PKCE and shows the allow/deny screen".to_string(),
                                ClientOrigin::MetadataDocument => "Its client ID metadata document".to_string(),
                            })}
                            {row("Create Time", format_utc(c.created_at))}
                            {row("Last updated", format_utc(c.updated_at))}
                            {row("Access token lifetime", access_label(f, &c.defaults))}
                            {row("Refresh token lifetime", refresh_label(f, &c.defaults))}
                            {row("Refresh count", count_label(f))}
                            {row("Refresh token reuse grace", if f.refresh_reuse_grace.is_empty() { "Off".to_string() } else { format!("{} seconds", f.refresh_reuse_grace) })}
                            {row("Show allow/deny screen", if f.consent { "On" } else { "Off" }.to_string())}
                            {row("Client credentials (unattended jobs)", if f.client_credentials { "Allowed" } else { "Off" }.to_string())}
                            {row("Rate limit", if f.rate_limit.is_empty() { "Unlimited".to_string() } else { format!("{} requests per minute", f.rate_limit) })}
                            {row("Description", if f.description.is_empty() { "—".to_string() } else { f.description.clone() })}
                            {row("Version", if f.version.is_empty() { "—".to_string() } else { f.version.clone() })}
                        </dl>
                    </div>
                }
            })}
        </section>
    }
}

/// The client's live sessions: how many, of how many users, and a page of them (user, created,
/// last used).
#[component]
fn Sessions(version: RwSignal<u32>) -> impl IntoView {
    let params = use_params_map();
    let page = RwSignal::new(1u32);
    let list = crate::api::resource(
        move || (params.with(|p| p.get("client_id").unwrap_or_default()), page.get(), version.get()),
        |(id, p, _)| client_sessions(id, p),
    );
    view! {
        <div class="page">
            <section class="card sessions-card" aria-labelledby="sessions-title">
                <h2 id="sessions-title">"Sessions"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match list.await {
                            Ok(s) if s.total == 0 => view! { <p class="muted">"No live sessions."</p> }.into_any(),
                            Ok(s) => {
                                let summary = format!(
                                    "{} live session{} of {} user{}",
                                    s.total,
                                    if s.total == 1 { "" } else { "s" },
                                    s.users,
                                    if s.users == 1 { "" } else { "s" }
                                );
                                view! {
                                    <div class="table-scroll">
                                        <table class="data-table">
                                            <thead><tr><th scope="col">"User"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th></tr></thead>
                                            <tbody>
                                                {s.rows.into_iter().map(|(user, created, last)| view! {
                                                    <tr><td>{user}</td><td>{format_utc(created)}</td><td>{format_utc(last)}</td></tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                    <Pager summary page pages=pages(s.total, SESSIONS_PAGE_SIZE)/>
                                }.into_any()
                            }
                            Err(e) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
}

fn scope_label(f: &ClientForm) -> String {
    ClientScope::parse(&f.scope)
        .map_or_else(|_| f.scope.clone(), |s| format!("{} ({})", s.label(), s.scopes()))
}

fn access_label(f: &ClientForm, defaults: &InstanceSettings) -> String {
    match f.access_lifetime.as_str() {
        "never" => "Never expires".into(),
        "custom" => format!("{} seconds", f.access_lifetime_secs),
        _ => format!("Global setting ({})", format_duration(defaults.access_token_lifetime.get())),
    }
}

fn refresh_label(f: &ClientForm, defaults: &InstanceSettings) -> String {
    match f.refresh_lifetime.as_str() {
        "custom" => format!("{} seconds", f.refresh_lifetime_secs),
        _ => format!("Global setting ({})", format_duration(defaults.refresh_token_lifetime.get())),
    }
}

fn count_label(f: &ClientForm) -> String {
    match (f.refresh_count.as_str(), f.refresh_count_limit.as_str()) {
        ("limit", "0") => "0: no refresh token is issued".into(),
        ("limit", n) => format!("At most {n} refreshes"),
        _ => "Unlimited".into(),
    }
}
