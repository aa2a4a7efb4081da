//! A "Copy" button for values admins paste elsewhere (client ID, secret, endpoint URLs).

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
fn write(text: &str) {
    let _ = window().navigator().clipboard().write_text(text);
}

#[cfg(not(feature = "hydrate"))]
fn write(_text: &str) {}

/// `label` names what is copied, for screen readers ("Copy Client ID").
#[component]
pub fn CopyButton(value: String, label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <button
            type="button"
            class="button-quiet button-small"
            aria-label=format!("Copy {label}")
            on:click=move |_| {
                write(&value);
                copied.set(true);
            }
        >
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}
