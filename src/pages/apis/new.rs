//! `/admin/apis/new`: register an API, then go to its details page, where the secret is shown once.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::{
    api::{ApiError, apis::create_api},
    components::{api_form::ApiFormView, layout::csrf_token, secret_notice::IssuedSecret, status::AdminOnly},
    domain::api::{ApiFieldErrors, ApiForm},
};

#[component]
pub fn NewApiPage() -> impl IntoView {
    let errors = RwSignal::new(ApiFieldErrors::default());
    let failure = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let navigate = use_navigate();
    let on_save = move |form: ApiForm| {
        let navigate = navigate.clone();
        pending.set(true);
        spawn_local(async move {
            match create_api(csrf_token(), form).await {
                Ok(done) => {
                    IssuedSecret::hand_over(&format!("api-{}", done.api.id), done.secret);
                    navigate(&format!("/admin/apis/{}", done.api.id), Default::default());
                }
                Err(ApiError::InvalidApi(e)) => errors.set(e),
                Err(e) => failure.set(Some(e.to_string())),
            }
            pending.set(false);
        });
    };
    view! {
        <Title text="Add API"/>
        <AdminOnly>
            <section class="page narrow-page">
                <p class="breadcrumb"><a href="/admin/apis">"APIs"</a></p>
                <h1>"Add API"</h1>
                {move || failure.get().map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })}
                <div class="card">
                    <ApiFormView initial=ApiForm::default() submit_label="Add API" server_errors=errors pending on_save=on_save.clone()/>
                </div>
            </section>
        </AdminOnly>
    }
}
