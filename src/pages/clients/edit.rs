//! `/admin/clients/{client_id}/edit`: change a client. Errors appear next to each field and what
//! was typed is kept.

use leptos::prelude::*;
use leptos_meta::Title;

use super::RouteClient;
use crate::{
    api::clients::{ApiOption, update_client},
    components::{
        client_form::{ClientFormView, SaveState},
        layout::csrf_token,
        status::AdminOnly,
    },
    domain::{
        client::{ClientForm, percent_encode},
        settings::InstanceSettings,
    },
};

#[component]
pub fn EditClientPage() -> impl IntoView {
    view! {
        <Title text="Edit OAuth2 Client"/>
        <AdminOnly>
            <RouteClient show=|c| view! {
                <EditForm client_id=c.client_id name=c.form.name.clone() initial=c.form defaults=c.defaults apis=c.api_options/>
            }/>
        </AdminOnly>
    }
}

#[component]
fn EditForm(
    client_id: String,
    name: String,
    initial: ClientForm,
    defaults: InstanceSettings,
    apis: Vec<ApiOption>,
) -> impl IntoView {
    let save = SaveState::new();
    let run = save.runner();
    let details = format!("/admin/clients/{}", percent_encode(&client_id));
    let on_save = move |form: ClientForm| run(update_client(csrf_token(), client_id.clone(), form));
    view! {
        <section class="page narrow-page">
            <p class="breadcrumb">
                <a href="/admin/clients">"OAuth2 Clients"</a>
                " / "
                <a href=details>{name.clone()}</a>
            </p>
            <h1>"Edit " {name}</h1>
            {save.failure_view()}
            <div class="card">
                <ClientFormView
                    initial
                    defaults
                    apis
                    submit_label="Save changes"
                    server_errors=save.server_errors
                    pending=save.pending
                    on_save
                />
            </div>
        </section>
    }
}
