//! The add/edit form of a registered API: name, identifier, description, each with its own error.
//! The domain's `ApiForm::validate` runs here for instant messages; the server checks again.

use leptos::prelude::*;

use crate::domain::api::{ApiField, ApiFieldErrors, ApiForm};

/// The add/edit form: name, identifier, description, each with its own error.
#[component]
pub fn ApiFormView(
    initial: ApiForm,
    submit_label: &'static str,
    #[prop(into)] server_errors: Signal<ApiFieldErrors>,
    #[prop(into)] pending: Signal<bool>,
    on_save: impl Fn(ApiForm) + Send + Sync + 'static,
) -> impl IntoView {
    let form = RwSignal::new(initial);
    let tried = RwSignal::new(false);
    let errors = Memo::new(move |_| {
        if !tried.get() {
            return ApiFieldErrors::default();
        }
        match form.with(ApiForm::validate) {
            Ok(_) => server_errors.get(),
            Err(local) => local,
        }
    });
    let id = |f: ApiField| match f {
        ApiField::Name => "api-name",
        ApiField::Identifier => "api-identifier",
        ApiField::Description => "api-description",
    };
    let err = move |f: ApiField| errors.with(|e| e.get(f).map(str::to_string));
    let show_err = move |f: ApiField| {
        move || {
            err(f).map(|m| view! { <p class="field-error" id=format!("{}-error", id(f))>{format!("{} {m}", f.label())}</p> })
        }
    };
    let invalid = move |f: ApiField| move || err(f).is_some().to_string();
    let described = move |f: ApiField| move || err(f).map(|_| format!("{}-error", id(f)));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        let current = form.get_untracked();
        if current.validate().is_ok() {
            on_save(current);
        }
    };
    view! {
        <form class="stack" on:submit=on_submit novalidate>
            {move || (tried.get() && !errors.with(ApiFieldErrors::is_empty))
                .then(|| view! { <p class="alert alert-error" role="alert">"Please correct the fields marked below."</p> })}
            <div class="field">
                <label for=id(ApiField::Name)>"Name" <span class="required" aria-hidden="true">"*"</span></label>
                <input id=id(ApiField::Name) type="text" required maxlength="100" autocomplete="off"
                    prop:value=move || form.with(|f| f.name.clone()) on:input=move |ev| form.update(|f| f.name = event_target_value(&ev))
                    aria-invalid=invalid(ApiField::Name) aria-describedby=described(ApiField::Name)/>
                <p class="hint">"Shown to users on the consent screen."</p>
                {show_err(ApiField::Name)}
            </div>
            <div class="field">
                <label for=id(ApiField::Identifier)>"Identifier" <span class="required" aria-hidden="true">"*"</span></label>
                <input id=id(ApiField::Identifier) type="url" required spellcheck="false" autocomplete="off" placeholder="https://api.example.com"
                    prop:value=move || form.with(|f| f.identifier.clone()) on:input=move |ev| form.update(|f| f.identifier = event_target_value(&ev))
                    aria-invalid=invalid(ApiField::Identifier) aria-describedby=described(ApiField::Identifier)/>
                <p class="hint">"The API's URL, which clients send as " <code>"resource"</code> " and which tokens are bound to: https://…, or http:// on 127.0.0.1, [::1] or localhost."</p>
                {show_err(ApiField::Identifier)}
            </div>
            <div class="field">
                <label for=id(ApiField::Description)>"Description"</label>
                <textarea id=id(ApiField::Description) rows="2" maxlength="1000"
                    prop:value=move || form.with(|f| f.description.clone()) on:input=move |ev| form.update(|f| f.description = event_target_value(&ev))
                    aria-invalid=invalid(ApiField::Description) aria-describedby=described(ApiField::Description)></textarea>
                {show_err(ApiField::Description)}
            </div>
            <div class="form-actions">
                <button type="submit" class="button-primary" disabled=move || pending.get()>{submit_label}</button>
            </div>
        </form>
    }
}
