//! The confirmation a destructive action asks for first (delete, regenerate a secret): a titled
//! card with what will happen, the action's own button and "Cancel".

use leptos::prelude::*;

/// Which confirmation of a details page is open.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Open {
    None,
    Delete,
    Regenerate,
    RevokeSessions,
}

#[component]
pub fn ConfirmCard(
    /// The id of its heading (what the dialog is labelled by).
    id: &'static str,
    title: &'static str,
    /// The button that goes ahead.
    action: &'static str,
    /// A red button (deleting) rather than the primary one.
    #[prop(optional)]
    danger: bool,
    #[prop(into)] busy: Signal<bool>,
    on_confirm: impl Fn() + Send + Sync + 'static,
    on_cancel: impl Fn() + Send + Sync + 'static,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="card confirm" role="alertdialog" aria-labelledby=id>
            <h2 id=id>{title}</h2>
            {children()}
            <div class="form-actions">
                <button type="button" class=if danger { "button-danger" } else { "button-primary" }
                    disabled=move || busy.get() on:click=move |_| on_confirm()>{action}</button>
                <button type="button" class="button-quiet" on:click=move |_| on_cancel()>"Cancel"</button>
            </div>
        </div>
    }
}
