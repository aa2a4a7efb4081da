//! `/admin/clients/new`: register a client, then go to its details page, where the secret is
//! shown once.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::clients::create_client,
    components::{
        client_form::{ClientFormView, SaveState},
        layout::csrf_token,
        status::AdminOnly,
    },
    domain::client::ClientForm,
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

#[component]
fn NewClient() -> impl IntoView {
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
                    submit_label="Add client"
                    server_errors=save.server_errors
                    pending=save.pending
                    on_save
                />
            </div>
        </section>
    }
}
