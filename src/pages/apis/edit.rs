//! `/admin/apis/{id}/edit`: change an API's name, identifier or description.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::RouteApi;
use crate::{
    api::{
        ApiError,
        apis::{ApiView, update_api},
    },
    components::{api_form::ApiFormView, layout::csrf_token, status::AdminOnly},
    domain::api::{ApiFieldErrors, ApiForm},
};

#[component]
pub fn EditApiPage() -> impl IntoView {
    view! {
        <Title text="Edit API"/>
        <AdminOnly>
            <RouteApi show=|api| view! { <EditApi api/> }/>
        </AdminOnly>
    }
}

#[component]
fn EditApi(api: ApiView) -> impl IntoView {
    let errors = RwSignal::new(ApiFieldErrors::default());
    let failure = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let navigate = use_navigate();
    let id = api.id;
    let initial = ApiForm {
        name: api.api.name.clone(),
        identifier: api.api.identifier.to_string(),
        description: api.api.description.clone().unwrap_or_default(),
    };
    let on_save = move |form: ApiForm| {
        let navigate = navigate.clone();
        pending.set(true);
        spawn_local(async move {
            match update_api(csrf_token(), id, form).await {
                Ok(_) => navigate(&format!("/admin/apis/{id}"), Default::default()),
                Err(ApiError::InvalidApi(e)) => errors.set(e),
                Err(e) => failure.set(Some(e.to_string())),
            }
            pending.set(false);
        });
    };
    let name = api.api.name.clone();
    view! {
        <section class="page narrow-page">
            <p class="breadcrumb"><a href="/admin/apis">"APIs"</a> " / " <a href=format!("/admin/apis/{id}")>{name.clone()}</a></p>
            <h1>"Edit " {name}</h1>
            {move || failure.get().map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })}
            <p class="muted">"Tokens already issued for this API stay bound to it under a new identifier."</p>
            <div class="card">
                <ApiFormView initial submit_label="Save changes" server_errors=errors pending on_save/>
            </div>
        </section>
    }
}
