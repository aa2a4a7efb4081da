//! A client secret shown exactly once, right after it was issued. It travels from the page that
//! issued it to the details page in browser memory only: never in a URL, never stored.

use leptos::prelude::*;

use super::clipboard::CopyButton;

/// The secret just issued for a client, taken (and forgotten) by the next details page.
#[derive(Clone, Copy)]
pub struct IssuedSecret(RwSignal<Option<(String, String)>>);

impl IssuedSecret {
    pub fn provide() {
        provide_context(IssuedSecret(RwSignal::new(None)));
    }

    pub fn hand_over(client_id: &str, secret: String) {
        if let Some(s) = use_context::<IssuedSecret>() {
            s.0.set(Some((client_id.to_string(), secret)));
        }
    }

    /// The secret for `client_id`, if one was just issued; afterwards it is gone.
    pub fn take(client_id: &str) -> Option<String> {
        let s = use_context::<IssuedSecret>()?;
        let (id, secret) = s.0.get_untracked()?;
        s.0.set(None);
        (id == client_id).then_some(secret)
    }
}

#[component]
pub fn SecretNotice(secret: String) -> impl IntoView {
    view! {
        <div class="alert alert-secret" role="status">
            <h2>"Client secret"</h2>
            <p>
                <strong>"Copy it now: it will not be shown again."</strong>
                " Only a hash of it is stored; if it is lost, regenerate it."
            </p>
            <div class="copy-row">
                <code class="secret" id="new-client-secret">{secret.clone()}</code>
                <CopyButton value=secret label="client secret"/>
            </div>
        </div>
    }
}
