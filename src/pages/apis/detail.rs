//! `/admin/apis/{id}`: one API, the credentials it introspects with (copy buttons; the secret
//! once, right after it is issued), and Edit, Deactivate/Activate, Delete, Regenerate secret.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::RouteApi;
use crate::{
    api::apis::{ApiView, delete_api, regenerate_api_secret, set_api_active},
    components::{
        clipboard::CopyButton,
        confirm::{ConfirmCard, Open},
        layout::csrf_token,
        secret_notice::{IssuedSecret, SecretNotice},
        status::AdminOnly,
    },
    domain::time::format_utc,
    pages::clients::list::StateBadge,
};

#[component]
pub fn ApiDetailPage() -> impl IntoView {
    view! {
        <Title text="API"/>
        <AdminOnly>
            <RouteApi show=|api| view! { <ApiDetails api/> }/>
        </AdminOnly>
    }
}

#[component]
fn ApiDetails(api: ApiView) -> impl IntoView {
    let secret = RwSignal::new(IssuedSecret::take(&format!("api-{}", api.id)));
    let api = RwSignal::new(api);
    let confirm = RwSignal::new(Open::None);
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let edit = navigate.clone();
    let id = move || api.with_untracked(|a| a.id);

    let toggle_active = move |_| {
        let active = !api.with_untracked(|a| a.api.active);
        busy.set(true);
        spawn_local(async move {
            match set_api_active(csrf_token(), id(), active).await {
                Ok(view) => api.set(view),
                Err(e) => failure.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let regenerate = move || {
        busy.set(true);
        spawn_local(async move {
            match regenerate_api_secret(csrf_token(), id()).await {
                Ok(done) => {
                    api.set(done.api);
                    secret.set(Some(done.secret));
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
            match delete_api(csrf_token(), id()).await {
                Ok(()) => navigate("/admin/apis", Default::default()),
                Err(e) => failure.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let builtin = api.with_untracked(|a| a.api.builtin);
    let row = |label: &'static str, value: String| view! { <dt>{label}</dt><dd>{value}</dd> };
    view! {
        <section class="page">
            <p class="breadcrumb"><a href="/admin/apis">"APIs"</a></p>
            <div class="page-head">
                <h1>{move || api.with(|a| a.api.name.clone())} " " {move || view! { <StateBadge active=api.with(|a| a.api.active)/> }}</h1>
                {(!builtin).then(|| view! {
                    <div class="actions">
                        <button type="button" class="button-quiet" on:click=move |_| edit(&format!("/admin/apis/{}/edit", id()), Default::default())>"Edit"</button>
                        <button type="button" class="button-quiet" disabled=move || busy.get() on:click=toggle_active>
                            {move || if api.with(|a| a.api.active) { "Deactivate" } else { "Activate" }}
                        </button>
                        <button type="button" class="button-quiet" on:click=move |_| confirm.set(Open::Regenerate)>"Regenerate secret"</button>
                        <button type="button" class="button-danger" on:click=move |_| confirm.set(Open::Delete)>"Delete"</button>
                    </div>
                })}
            </div>
            {move || failure.get().map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })}
            {move || secret.get().map(|s| view! { <SecretNotice secret=s/> })}
            {move || (confirm.get() == Open::Delete).then(|| view! {
                <ConfirmCard id="confirm-delete-title" title="Delete this API?" action="Delete API" danger=true busy
                    on_confirm=delete.clone() on_cancel=move || confirm.set(Open::None)>
                    <p>"This removes " <strong>{api.with(|a| a.api.name.clone())}</strong>
                       ": it can no longer check tokens, clients can no longer ask for it, and clients limited to it lose it from their list. Tokens already issued for it are good for nothing else, even if an API with the same identifier is registered later. This cannot be undone."</p>
                </ConfirmCard>
            })}
            {move || (confirm.get() == Open::Regenerate).then(|| view! {
                <ConfirmCard id="confirm-regen-title" title="Regenerate the API's secret?" action="Regenerate" busy
                    on_confirm=regenerate on_cancel=move || confirm.set(Open::None)>
                    <p>"A new secret is issued and shown once. The current secret stops working now: the API must switch to the new one to keep checking tokens."</p>
                </ConfirmCard>
            })}
            {move || api.with(|v| {
                let a = &v.api;
                let identifier = a.identifier.to_string();
                view! {
                    <div class="card">
                        <dl class="details wide">
                            {row("Name", a.name.clone())}
                            <dt>"Identifier"</dt>
                            <dd class="copy-row"><code id="api-identifier">{identifier.clone()}</code><CopyButton value=identifier label="Identifier"/></dd>
                            {if a.builtin {
                                view! {
                                    <dt>"Credentials"</dt>
                                    <dd>"None: this is Clavis's own API (" <code>"/api/v1/me"</code> "), which checks tokens itself. It cannot be changed or deleted; API access as a whole is switched in the settings."</dd>
                                }.into_any()
                            } else {
                                let client_id = a.client_id.as_ref().map(ToString::to_string).unwrap_or_default();
                                let endpoint = v.introspection_endpoint.clone();
                                view! {
                                    <dt>"Introspection Endpoint URL"</dt>
                                    <dd class="copy-row"><code>{endpoint.clone()}</code><CopyButton value=endpoint label="Introspection Endpoint URL"/></dd>
                                    <dt>"Client ID"</dt>
                                    <dd class="copy-row"><code id="api-client-id">{client_id.clone()}</code><CopyButton value=client_id label="Client ID"/></dd>
                                    <dt>"Client secret"</dt>
                                    <dd>{a.secret.as_ref().map(|s| format!("••••••••{} (created {})", s.last4, format_utc(s.created_at))).unwrap_or_default()}</dd>
                                    <dt>"Authentication"</dt>
                                    <dd><code>"client_secret_basic"</code> " or " <code>"client_secret_post"</code></dd>
                                }.into_any()
                            }}
                            {row("State", if a.active { "Active" } else { "Inactive" }.to_string())}
                            {row("Description", a.description.clone().unwrap_or_else(|| "—".into()))}
                            {(!a.builtin).then(|| view! {
                                <dt>"Create Time"</dt><dd>{format_utc(a.created_at)}</dd>
                                <dt>"Last updated"</dt><dd>{format_utc(a.updated_at)}</dd>
                            })}
                        </dl>
                    </div>
                }
            })}
        </section>
    }
}
