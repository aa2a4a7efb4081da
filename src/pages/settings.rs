//! `/admin/settings`: the instance-wide settings, each with what it applies to, saved together;
//! every field is checked and its error shown beside it. Changes apply at once.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;

use crate::{
    api::{
        ApiError,
        settings::{get_settings, save_settings},
    },
    components::{
        layout::csrf_token,
        status::{AdminOnly, LoadError},
    },
    domain::{
        settings::{SettingsErrors, SettingsField as F, SettingsForm},
        time::format_duration,
    },
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let loaded = crate::api::resource(|| (), |()| get_settings());
    view! {
        <Title text="Settings"/>
        <AdminOnly>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Ok(form) => view! { <SettingsEditor initial=form/> }.into_any(),
                        Err(e) => view! { <LoadError message=e.to_string()/> }.into_any(),
                    }
                })}
            </Suspense>
        </AdminOnly>
    }
}

fn id(f: F) -> &'static str {
    match f {
        F::ApiAccess => "settings-api-access",
        F::AccessTokenLifetime => "settings-access-token-lifetime",
        F::RefreshTokenLifetime => "settings-refresh-token-lifetime",
        F::SessionCap => "settings-session-cap",
        F::SessionMaxLifetime => "settings-session-max-lifetime",
        F::Registration => "settings-registration",
        F::ClientMetadataDocuments => "settings-client-metadata-documents",
        F::MetadataDocumentHosts => "settings-metadata-document-hosts",
        F::MaxSelfRegistered => "settings-max-self-registered",
    }
}

/// "12 hours": a number of seconds in words, when it is one.
fn in_words(secs: &str) -> Option<String> {
    secs.trim().parse::<u32>().ok().filter(|n| *n > 0).map(format_duration)
}

#[component]
fn SettingsEditor(initial: SettingsForm) -> impl IntoView {
    let form = RwSignal::new(initial);
    let errors = RwSignal::new(SettingsErrors::default());
    let failure = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        failure.set(None);
        let current = form.get_untracked();
        if let Err(e) = current.validate() {
            errors.set(e);
            return;
        }
        errors.set(SettingsErrors::default());
        pending.set(true);
        spawn_local(async move {
            match save_settings(csrf_token(), current).await {
                Ok(now) => {
                    form.set(now);
                    saved.set(true);
                }
                Err(ApiError::InvalidSettings(e)) => errors.set(e),
                Err(e) => failure.set(Some(e.to_string())),
            }
            pending.set(false);
        });
    };
    let err = move |f: F| errors.with(|e| e.get(f).map(str::to_string));
    let show_err = move |f: F| {
        move || err(f).map(|m| view! { <p class="field-error" id=format!("{}-error", id(f))>{m}</p> })
    };
    let invalid = move |f: F| move || err(f).is_some().to_string();
    let described = move |f: F| move || err(f).map(|_| format!("{}-error", id(f)));
    macro_rules! text {
        ($field:ident) => {
            (
                move || form.with(|s| s.$field.clone()),
                move |ev| form.update(|s| s.$field = event_target_value(&ev)),
            )
        };
    }
    let (access, set_access) = text!(access_token_lifetime);
    let (refresh, set_refresh) = text!(refresh_token_lifetime);
    let (cap, set_cap) = text!(session_cap);
    let (max, set_max) = text!(session_max_lifetime);
    let (hosts, set_hosts) = text!(metadata_document_hosts);
    let (most, set_most) = text!(max_self_registered);
    view! {
        <section class="page narrow-page">
            <h1>"Settings"</h1>
            <p class="muted">"Instance-wide. Changes apply at once, to every client, as with " <code>"clavis settings set"</code> "."</p>
            {move || failure.get().map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })}
            {move || saved.get().then(|| view! { <p class="alert alert-saved" role="status">"Settings saved."</p> })}
            <form class="stack card" on:submit=on_submit novalidate>
                {move || (!errors.with(SettingsErrors::is_empty))
                    .then(|| view! { <p class="alert alert-error" role="alert">"Please correct the fields marked below."</p> })}
                <div class="field field-check">
                    <input id=id(F::ApiAccess) type="checkbox" prop:checked=move || form.with(|s| s.api_access)
                        on:change=move |ev| form.update(|s| s.api_access = event_target_checked(&ev))/>
                    <label for=id(F::ApiAccess)>"API access"</label>
                    <p class="hint">"Off: the token endpoint and every API refuse all requests (503) until it is turned on again."</p>
                </div>
                <div class="field">
                    <label for=id(F::AccessTokenLifetime)>"Access token lifetime (seconds)"</label>
                    <input id=id(F::AccessTokenLifetime) type="text" inputmode="numeric" prop:value=access on:input=set_access
                        aria-invalid=invalid(F::AccessTokenLifetime) aria-describedby=described(F::AccessTokenLifetime)/>
                    <p class="hint">{move || match in_words(&access()) {
                        Some(w) => format!("For clients using the global setting: {w}."),
                        None => "For clients using the global setting.".to_string(),
                    }}</p>
                    {show_err(F::AccessTokenLifetime)}
                </div>
                <div class="field">
                    <label for=id(F::RefreshTokenLifetime)>"Refresh token lifetime (seconds)"</label>
                    <input id=id(F::RefreshTokenLifetime) type="text" inputmode="numeric" prop:value=refresh on:input=set_refresh
                        aria-invalid=invalid(F::RefreshTokenLifetime) aria-describedby=described(F::RefreshTokenLifetime)/>
                    <p class="hint">{move || match in_words(&refresh()) {
                        Some(w) => format!("For clients using the global setting: {w}; each refresh starts it anew."),
                        None => "For clients using the global setting; each refresh starts it anew.".to_string(),
                    }}</p>
                    {show_err(F::RefreshTokenLifetime)}
                </div>
                <div class="field">
                    <label for=id(F::SessionCap)>"Sessions per user per client"</label>
                    <input id=id(F::SessionCap) type="text" inputmode="numeric" prop:value=cap on:input=set_cap
                        aria-invalid=invalid(F::SessionCap) aria-describedby=described(F::SessionCap)/>
                    <p class="hint">"1 to 1000. A new sign-in beyond it ends the user's oldest session with that client."</p>
                    {show_err(F::SessionCap)}
                </div>
                <div class="field">
                    <label for=id(F::SessionMaxLifetime)>"Longest session (seconds)"</label>
                    <input id=id(F::SessionMaxLifetime) type="text" inputmode="numeric" prop:value=max on:input=set_max
                        aria-invalid=invalid(F::SessionMaxLifetime) aria-describedby=described(F::SessionMaxLifetime)/>
                    <p class="hint">{move || match in_words(&max()) {
                        Some(w) => format!("{w}: no session outlives its sign-in by more, however often it is refreshed."),
                        None => "No session outlives its sign-in by more, however often it is refreshed.".to_string(),
                    }}</p>
                    {show_err(F::SessionMaxLifetime)}
                </div>
                <div class="field">
                    <label for=id(F::Registration)>"Client registration (RFC 7591)"</label>
                    <select id=id(F::Registration) prop:value=move || form.with(|s| s.registration.clone())
                        on:change=move |ev| form.update(|s| s.registration = event_target_value(&ev))
                        aria-invalid=invalid(F::Registration) aria-describedby=described(F::Registration)>
                        <option value="off">"Off"</option>
                        <option value="open">"Open: any client may register itself"</option>
                        <option value="token">"With an initial access token (clavis registration-token add)"</option>
                    </select>
                    <p class="hint">"POST /oauth2/register. Self-registered clients always use PKCE and the consent screen."</p>
                    {show_err(F::Registration)}
                </div>
                <div class="field field-check">
                    <input id=id(F::ClientMetadataDocuments) type="checkbox" prop:checked=move || form.with(|s| s.client_metadata_documents)
                        on:change=move |ev| form.update(|s| s.client_metadata_documents = event_target_checked(&ev))/>
                    <label for=id(F::ClientMetadataDocuments)>"Client ID metadata documents"</label>
                    <p class="hint">"An https client_id is fetched as the client's own description (public addresses only, 5 s, 5 KB)."</p>
                </div>
                <div class="field">
                    <label for=id(F::MetadataDocumentHosts)>"Document hosts allowed on private addresses"</label>
                    <textarea id=id(F::MetadataDocumentHosts) rows="2" spellcheck="false" placeholder="None" prop:value=hosts on:input=set_hosts
                        aria-invalid=invalid(F::MetadataDocumentHosts) aria-describedby=described(F::MetadataDocumentHosts)></textarea>
                    <p class="hint">"Exact host names, one per line or separated by spaces. Only these may resolve to private or local addresses."</p>
                    {show_err(F::MetadataDocumentHosts)}
                </div>
                <div class="field">
                    <label for=id(F::MaxSelfRegistered)>"Most self-registered clients"</label>
                    <input id=id(F::MaxSelfRegistered) type="text" inputmode="numeric" prop:value=most on:input=set_most
                        aria-invalid=invalid(F::MaxSelfRegistered) aria-describedby=described(F::MaxSelfRegistered)/>
                    <p class="hint">"0 to 1000000. Unused ones are removed after 30 days."</p>
                    {show_err(F::MaxSelfRegistered)}
                </div>
                <div class="form-actions">
                    <button type="submit" class="button-primary" disabled=move || pending.get()>"Save settings"</button>
                </div>
            </form>
        </section>
    }
}
