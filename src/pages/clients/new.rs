//! `/admin/clients/new`: register a client, then go to its details page, where the secret is
//! shown once.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::clients::{ApiOption, client_defaults, create_client},
    components::{
        client_form::{ClientFormView, SaveState},
        layout::csrf_token,
        status::{AdminOnly, LoadError},
    },
    domain::{client::ClientForm, settings::InstanceSettings},
};

#[component]
pub fn NewClientPage() -> impl IntoView {
    view! {
        <Title text="Add OAuth2 Client"/>
        <AdminOnly>
            <NewClient/>
        </AdminOnly>
    }
}

/// The form waits for the instance settings, so "the global setting" names its real value.
#[component]
fn NewClient() -> impl IntoView {
    let defaults = crate::api::resource(|| (), |()| client_defaults());
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match defaults.await {
                    Ok(context) => view! { <NewClientForm defaults=context.defaults apis=context.apis/> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NewClientForm(defaults: InstanceSettings, apis: Vec<ApiOption>) -> impl IntoView {
    let save = SaveState::new();
    let run = save.runner();
    let on_save = move |form: ClientForm| run(create_client(csrf_token(), form));
    view! {
        <section class="page narrow-page">
            <p class="breadcrumb"><a href="/admin/clients">"OAuth2 Clients"</a></p>
            <h1>"Add OAuth2 Client"</h1>
            {save.failure_view()}
            <div class="card">
                <ClientFormView
                    initial=ClientForm::default()
                    defaults
                    apis
                    submit_label="Add client"
                    server_errors=save.server_errors
                    pending=save.pending
                    on_save
                />
            </div>
        </section>
    }
}
