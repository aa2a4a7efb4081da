//! The add/edit form of a client. Name and Redirect URLs come first, the rest sits in an
//! "Advanced" section with defaults. The domain's own `ClientForm::validate` runs here for instant
//! messages; the server checks everything again. What the admin typed stays on any error.

use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::use_navigate;

use crate::{
    api::{
        ApiError,
        clients::{ApiOption, WithSecret},
    },
    components::secret_notice::IssuedSecret,
    domain::{
        client::{ClientForm, Field, FieldErrors, percent_encode},
        settings::InstanceSettings,
        time::format_duration,
    },
};

/// The state of saving the form (add or edit), shared by the form and its page.
#[derive(Clone, Copy)]
pub struct SaveState {
    pub server_errors: RwSignal<FieldErrors>,
    pub failure: RwSignal<Option<String>>,
    pub pending: RwSignal<bool>,
}

impl SaveState {
    pub fn new() -> Self {
        Self {
            server_errors: RwSignal::new(FieldErrors::default()),
            failure: RwSignal::new(None),
            pending: RwSignal::new(false),
        }
    }

    /// Runs one save: on success the new secret (if any) is handed to the details page, which
    /// the browser goes to; field errors go back to the form; anything else shows above it.
    pub fn runner<Fut>(self) -> impl Fn(Fut) + Clone + Send + Sync + 'static
    where
        Fut: Future<Output = Result<WithSecret, ApiError>> + 'static,
    {
        let navigate = use_navigate();
        move |call: Fut| {
            let navigate = navigate.clone();
            self.pending.set(true);
            self.failure.set(None);
            spawn_local(async move {
                match call.await {
                    Ok(saved) => {
                        let id = saved.client.client_id;
                        if let Some(secret) = saved.secret {
                            IssuedSecret::hand_over(&id, secret);
                        }
                        navigate(&format!("/admin/clients/{}", percent_encode(&id)), Default::default());
                    }
                    Err(ApiError::Invalid(errors)) => self.server_errors.set(errors),
                    Err(e) => self.failure.set(Some(e.to_string())),
                }
                self.pending.set(false);
            });
        }
    }

    /// The message above the form when a save failed for another reason than a field.
    pub fn failure_view(self) -> impl IntoView {
        move || self.failure.get().map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })
    }
}

impl Default for SaveState {
    fn default() -> Self {
        Self::new()
    }
}

fn id(field: Field) -> &'static str {
    match field {
        Field::Name => "client-name",
        Field::RedirectUris => "client-redirect-uris",
        Field::AuthMethod => "client-auth-method",
        Field::RequirePkce => "client-require-pkce",
        Field::ClientCredentials => "client-client-credentials",
        Field::Scope => "client-scope",
        Field::Description => "client-description",
        Field::Version => "client-version",
        Field::AccessLifetime => "client-access-lifetime",
        Field::RefreshLifetime => "client-refresh-lifetime",
        Field::RefreshCount => "client-refresh-count",
        Field::RefreshReuseGrace => "client-refresh-reuse-grace",
        Field::Consent => "client-consent",
        Field::RateLimit => "client-rate-limit",
        Field::Apis => "client-apis",
    }
}

const ADVANCED: [Field; 13] = [
    Field::AuthMethod,
    Field::RequirePkce,
    Field::ClientCredentials,
    Field::Scope,
    Field::Description,
    Field::Version,
    Field::AccessLifetime,
    Field::RefreshLifetime,
    Field::RefreshCount,
    Field::RefreshReuseGrace,
    Field::Consent,
    Field::RateLimit,
    Field::Apis,
];

/// `server_errors` come from the last save; `on_save` gets a form that passed the checks here.
#[component]
pub fn ClientFormView(
    initial: ClientForm,
    /// What "the global setting" is on this instance now.
    defaults: InstanceSettings,
    /// The registered APIs, for limiting the client to some of them.
    apis: Vec<ApiOption>,
    submit_label: &'static str,
    #[prop(into)] server_errors: Signal<FieldErrors>,
    #[prop(into)] pending: Signal<bool>,
    on_save: impl Fn(ClientForm) + Send + Sync + 'static,
) -> impl IntoView {
    let form = RwSignal::new(initial);
    let tried = RwSignal::new(false);
    // After a save attempt every field is checked as it changes; before, only the rules that span
    // two fields (auth method `none` with PKCE, the allow/deny screen or client credentials),
    // shown at once.
    let errors = Memo::new(move |_| {
        let local = form.with(|f| f.validate().err()).unwrap_or_default();
        if tried.get() {
            return if local.is_empty() { server_errors.get() } else { local };
        }
        let mut pair = FieldErrors::default();
        for f in [Field::AuthMethod, Field::RequirePkce, Field::Consent, Field::ClientCredentials] {
            if let Some(m) = local.get(f) {
                pair.add(f, m);
            }
        }
        pair
    });
    let err = move |field: Field| FieldError { errors, field }.message();
    let show_err = move |field: Field| FieldError { errors, field }.view();
    let invalid = move |field: Field| FieldError { errors, field }.invalid();
    let described = move |field: Field| FieldError { errors, field }.described_by();
    let advanced_open = RwSignal::new(false);
    Effect::new(move |_| {
        if ADVANCED.iter().any(|f| err(*f).is_some()) {
            advanced_open.set(true);
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        let current = form.get_untracked();
        if current.validate().is_ok() {
            on_save(current);
        }
    };
    let text = move |get: fn(&ClientForm) -> &String| move || form.with(|f| get(f).clone());
    macro_rules! set {
        ($field:ident) => {
            move |ev| form.update(|f| f.$field = event_target_value(&ev))
        };
    }

    view! {
        <form class="stack client-form" on:submit=on_submit novalidate>
            {move || {
                (tried.get() && !errors.with(FieldErrors::is_empty))
                    .then(|| view! { <p class="alert alert-error" role="alert">"Please correct the fields marked below."</p> })
            }}
            <div class="field">
                <label for=id(Field::Name)>"Name" <span class="required" aria-hidden="true">"*"</span></label>
                <input id=id(Field::Name) type="text" required maxlength="100" autocomplete="off"
                    prop:value=text(|f| &f.name) on:input=set!(name)
                    aria-invalid=invalid(Field::Name) aria-describedby=described(Field::Name)/>
                {show_err(Field::Name)}
            </div>
            <div class="field">
                <label for=id(Field::RedirectUris)>"Redirect URLs" <span class="required" aria-hidden="true">"*"</span></label>
                <textarea id=id(Field::RedirectUris) rows="3" required spellcheck="false"
                    placeholder="https://app.example.com/callback"
                    prop:value=text(|f| &f.redirect_uris) on:input=set!(redirect_uris)
                    aria-invalid=invalid(Field::RedirectUris) aria-describedby=described(Field::RedirectUris)></textarea>
                <p class="hint">"One per line. https, http only for 127.0.0.1, [::1] or localhost, or an app scheme such as com.example.app:/callback."</p>
                {show_err(Field::RedirectUris)}
            </div>
            // Opened by itself when a field inside it has an error.
            <details class="advanced" prop:open=move || advanced_open.get()>
                <summary>"Advanced"</summary>
                <div class="stack">
                    <div class="field">
                        <label for=id(Field::AuthMethod)>"Client Authentication Method"</label>
                        <select id=id(Field::AuthMethod) prop:value=text(|f| &f.auth_method) on:change=set!(auth_method)
                            aria-invalid=invalid(Field::AuthMethod) aria-describedby=described(Field::AuthMethod)>
                            <option value="client_secret_post">"client_secret_post (secret in the request body)"</option>
                            <option value="client_secret_basic">"client_secret_basic (secret in the Authorization header)"</option>
                            <option value="none">"none (public client: no secret)"</option>
                        </select>
                        {show_err(Field::AuthMethod)}
                    </div>
                    <Switch form errors field=Field::RequirePkce label="Require Proof Key (PKCE)"
                        get=|f| f.require_pkce set=|f, on| f.require_pkce = on/>
                    <div class="field">
                        <label for=id(Field::Scope)>"Scope"</label>
                        <select id=id(Field::Scope) prop:value=text(|f| &f.scope) on:change=set!(scope)>
                            <option value="full">"All API Access"</option>
                            <option value="read">"Read-only API Access"</option>
                        </select>
                        {show_err(Field::Scope)}
                    </div>
                    <NumberChoice form errors field=Field::AccessLifetime name="access_lifetime"
                        options=vec![("global", global(defaults.access_token_lifetime.get())), ("never", "Never expires".into()), ("custom", "Seconds:".into())]
                        number_label="Access token lifetime in seconds"
                        get=|f| &f.access_lifetime set=|f, v| f.access_lifetime = v
                        get_number=|f| &f.access_lifetime_secs set_number=|f, v| f.access_lifetime_secs = v/>
                    <NumberChoice form errors field=Field::RefreshLifetime name="refresh_lifetime"
                        options=vec![("global", global(defaults.refresh_token_lifetime.get())), ("custom", "Seconds:".into())]
                        number_label="Refresh token lifetime in seconds"
                        get=|f| &f.refresh_lifetime set=|f, v| f.refresh_lifetime = v
                        get_number=|f| &f.refresh_lifetime_secs set_number=|f, v| f.refresh_lifetime_secs = v/>
                    <NumberChoice form errors field=Field::RefreshCount name="refresh_count"
                        options=vec![("unlimited", "Unlimited".into()), ("limit", "Limit (0: no refresh token):".into())]
                        number_label="Refresh count limit"
                        get=|f| &f.refresh_count set=|f, v| f.refresh_count = v
                        get_number=|f| &f.refresh_count_limit set_number=|f, v| f.refresh_count_limit = v/>
                    <div class="field">
                        <label for=id(Field::RefreshReuseGrace)>"Refresh token reuse grace (seconds)"</label>
                        <input id=id(Field::RefreshReuseGrace) type="text" inputmode="numeric" placeholder="Off"
                            prop:value=text(|f| &f.refresh_reuse_grace) on:input=set!(refresh_reuse_grace)
                            aria-invalid=invalid(Field::RefreshReuseGrace) aria-describedby=described(Field::RefreshReuseGrace)/>
                        <p class="hint">"Within this many seconds (at most 300), a refresh token used twice (a lost response, two tabs) returns the same new tokens instead of ending the session. Empty: off."</p>
                        {show_err(Field::RefreshReuseGrace)}
                    </div>
                    <Switch form errors field=Field::Consent label="Show allow/deny screen"
                        get=|f| f.consent set=|f, on| f.consent = on/>
                    <Switch form errors field=Field::ClientCredentials label="Allow client credentials (unattended jobs)"
                        hint="The client may get access tokens for itself with its ID and secret (grant_type=client_credentials): no user, no refresh token, within its scope and APIs. For background jobs; confidential clients only."
                        get=|f| f.client_credentials set=|f, on| f.client_credentials = on/>
                    <div class="field">
                        <label for=id(Field::RateLimit)>"Rate limit (API requests per minute)"</label>
                        <input id=id(Field::RateLimit) type="text" inputmode="numeric" placeholder="Unlimited"
                            prop:value=text(|f| &f.rate_limit) on:input=set!(rate_limit)
                            aria-invalid=invalid(Field::RateLimit) aria-describedby=described(Field::RateLimit)/>
                        {show_err(Field::RateLimit)}
                    </div>
                    <ApiChoice form errors apis/>
                    <div class="field">
                        <label for=id(Field::Description)>"Description"</label>
                        <textarea id=id(Field::Description) rows="2" maxlength="1000"
                            prop:value=text(|f| &f.description) on:input=set!(description)
                            aria-invalid=invalid(Field::Description) aria-describedby=described(Field::Description)></textarea>
                        {show_err(Field::Description)}
                    </div>
                    <div class="field">
                        <label for=id(Field::Version)>"Version"</label>
                        <input id=id(Field::Version) type="text" maxlength="50"
                            prop:value=text(|f| &f.version) on:input=set!(version)
                            aria-invalid=invalid(Field::Version) aria-describedby=described(Field::Version)/>
                        {show_err(Field::Version)}
                    </div>
                </div>
            </details>
            <div class="form-actions">
                <button type="submit" class="button-primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { submit_label }}
                </button>
            </div>
        </form>
    }
}

/// Which APIs the client may ask tokens for: any active one (the default), or only those
/// checked. A client whose listed APIs were all deleted shows "Only these" with none checked.
#[component]
fn ApiChoice(form: RwSignal<ClientForm>, errors: Memo<FieldErrors>, apis: Vec<ApiOption>) -> impl IntoView {
    let error = FieldError { errors, field: Field::Apis };
    let limited = move || form.with(|f| f.apis.is_some());
    let toggle = move |identifier: String, on: bool| {
        form.update(|f| {
            let list = f.apis.get_or_insert_with(Vec::new);
            list.retain(|i| *i != identifier);
            if on {
                list.push(identifier);
            }
        });
    };
    view! {
        <fieldset class="field" id=id(Field::Apis)>
            <legend>"APIs this client may ask tokens for"</legend>
            <span class="choice">
                <input type="radio" id="apis-any" name="apis-mode" prop:checked=move || !limited()
                    on:change=move |_| form.update(|f| f.apis = None)/>
                <label for="apis-any">"Any active API"</label>
            </span>
            <span class="choice">
                <input type="radio" id="apis-only" name="apis-mode" prop:checked=limited
                    on:change=move |_| form.update(|f| if f.apis.is_none() { f.apis = Some(Vec::new()) })/>
                <label for="apis-only">"Only these:"</label>
            </span>
            <ul class="plain api-choices">
                {apis
                    .into_iter()
                    .enumerate()
                    .map(|(i, api)| {
                        let input_id = format!("api-choice-{i}");
                        let identifier = api.identifier.clone();
                        let checked = {
                            let identifier = identifier.clone();
                            move || form.with(|f| f.apis.as_ref().is_some_and(|l| l.contains(&identifier)))
                        };
                        view! {
                            <li class="field-check">
                                <input type="checkbox" id=input_id.clone() prop:checked=checked
                                    on:change=move |ev| toggle(identifier.clone(), event_target_checked(&ev))/>
                                <label for=input_id>
                                    {api.name.clone()} " " <code>{api.identifier.clone()}</code>
                                    {(!api.active).then_some(" (inactive)")}
                                </label>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <p class="hint">"A request naming another API gets invalid_target. Without resource, such a client gets tokens for its listed APIs."</p>
            {error.view()}
        </fieldset>
    }
}

/// The label of a "global" lifetime choice: the instance setting as it is now.
fn global(secs: u32) -> String {
    format!("Use the global setting ({})", format_duration(secs))
}

/// One field's error as the form shows it: the message below the input, `aria-invalid`, and the
/// message's id for `aria-describedby`.
#[derive(Clone, Copy)]
struct FieldError {
    errors: Memo<FieldErrors>,
    field: Field,
}

impl FieldError {
    fn message(self) -> Option<String> {
        self.errors.with(|e| e.get(self.field).map(str::to_string))
    }

    fn invalid(self) -> impl Fn() -> String + Copy {
        move || self.message().is_some().to_string()
    }

    fn described_by(self) -> impl Fn() -> Option<String> + Copy {
        move || self.message().map(|_| format!("{}-error", id(self.field)))
    }

    fn view(self) -> impl Fn() -> Option<AnyView> + Copy {
        move || {
            self.message().map(|m| {
                view! { <p class="field-error" id=format!("{}-error", id(self.field))>{m}</p> }.into_any()
            })
        }
    }
}

/// A checkbox for one switch of the form, with its error (and an optional hint) below.
#[component]
fn Switch(
    form: RwSignal<ClientForm>,
    errors: Memo<FieldErrors>,
    field: Field,
    label: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    get: fn(&ClientForm) -> bool,
    set: fn(&mut ClientForm, bool),
) -> impl IntoView {
    let error = FieldError { errors, field };
    view! {
        <div class="field field-check">
            <input id=id(field) type="checkbox"
                prop:checked=move || form.with(get)
                on:change=move |ev| form.update(|f| set(f, event_target_checked(&ev)))
                aria-invalid=error.invalid() aria-describedby=error.described_by()/>
            <label for=id(field)>{label}</label>
            {hint.map(|h| view! { <p class="hint">{h}</p> })}
            {error.view()}
        </div>
    }
}

/// A choice among fixed options, the last of which takes a number typed beside it (token
/// lifetimes, refresh count). Typing a number selects that last option.
#[component]
fn NumberChoice(
    form: RwSignal<ClientForm>,
    errors: Memo<FieldErrors>,
    field: Field,
    name: &'static str,
    options: Vec<(&'static str, String)>,
    number_label: &'static str,
    get: fn(&ClientForm) -> &String,
    set: fn(&mut ClientForm, String),
    get_number: fn(&ClientForm) -> &String,
    set_number: fn(&mut ClientForm, String),
) -> impl IntoView {
    let numbered = options.last().map_or("", |(value, _)| *value);
    let error = FieldError { errors, field };
    view! {
        <fieldset class="field">
            <legend>{field.label()}</legend>
            {options
                .into_iter()
                .map(|(value, label)| {
                    let input_id = format!("{name}-{value}");
                    view! {
                        <span class="choice">
                            <input type="radio" id=input_id.clone() name=name value=value
                                prop:checked=move || form.with(|f| get(f) == value)
                                on:change=move |_| form.update(|f| set(f, value.to_string()))/>
                            <label for=input_id>{label}</label>
                        </span>
                    }
                })
                .collect_view()}
            <input id=id(field) type="text" inputmode="numeric" aria-label=number_label
                prop:value=move || form.with(|f| get_number(f).clone())
                on:input=move |ev| form.update(|f| {
                    set_number(f, event_target_value(&ev));
                    set(f, numbered.to_string());
                })
                aria-invalid=error.invalid() aria-describedby=error.described_by()/>
            {error.view()}
        </fieldset>
    }
}
