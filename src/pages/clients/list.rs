//! `/admin/clients`: every registered OAuth2 client, searchable as you type, filterable by state,
//! sortable by each column and paged on the server. The query lives in the URL, so reload, back
//! and shared links show the same page.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_query_map},
};

use crate::{
    api::clients::{ImportedClient, client_defaults, import_clients, list_clients},
    components::{layout::csrf_token, status::AdminOnly},
    domain::{
        client::{ClientPage, ListQuery, OriginFilter, SortKey, StateFilter, percent_encode},
        settings::RegistrationPolicy,
        time::format_utc,
    },
};

#[component]
pub fn ClientsPage() -> impl IntoView {
    view! {
        <Title text="OAuth2 Clients"/>
        <AdminOnly>
            <ClientList/>
        </AdminOnly>
    }
}

#[component]
fn ClientList() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| ListQuery::from_params(|k| p.get(k))));
    let page = crate::api::resource(move || query.get(), list_clients);
    let navigate = use_navigate();
    let go = move |q: ListQuery| {
        let qs = q.normalized().to_query_string();
        let url = if qs.is_empty() { "/admin/clients".to_string() } else { format!("/admin/clients?{qs}") };
        navigate(&url, NavigateOptions { scroll: false, ..Default::default() });
    };

    // Search as you type: the query is sent 300 ms after the last keystroke. The box keeps what
    // was typed (a trailing space included) and follows the URL only when it changes otherwise
    // (back, forward, a link).
    let typed = RwSignal::new(query.get_untracked().search);
    Effect::new(move |_| {
        let search = query.with(|q| q.search.clone());
        if typed.with_untracked(|t| t.trim() != search) {
            typed.set(search);
        }
    });
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let on_search = {
        let go = go.clone();
        move |ev| {
            let text = event_target_value(&ev);
            typed.set(text.clone());
            if let Some(h) = pending.get_value() {
                h.clear();
            }
            let go = go.clone();
            let fire = move || go(ListQuery { search: text, page: 1, ..query.get_untracked() });
            pending.set_value(set_timeout_with_handle(fire, Duration::from_millis(300)).ok());
        }
    };
    let on_state = {
        let go = go.clone();
        move |ev| {
            let state = StateFilter::parse(&event_target_value(&ev)).unwrap_or_default();
            go(ListQuery { state, page: 1, ..query.get_untracked() });
        }
    };
    let on_origin = {
        let go = go.clone();
        move |ev| {
            let origin = OriginFilter::parse(&event_target_value(&ev)).unwrap_or_default();
            go(ListQuery { origin, page: 1, ..query.get_untracked() });
        }
    };
    // What the instance lets clients do by themselves, said where their registrations show up.
    let policy = crate::api::resource(|| (), |()| client_defaults());

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"OAuth2 Clients"</h1>
                <div class="actions">
                    <a class="button button-quiet" href="/admin/clients/export.json" download="clavis-clients.json" rel="external">"Export"</a>
                    <AddClientButton/>
                </div>
            </div>
            <ImportClients on_done=move || page.refetch()/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    policy.await.ok().map(|c| {
                        let registration = match c.defaults.registration {
                            RegistrationPolicy::Off => "off",
                            RegistrationPolicy::Open => "open to anyone",
                            RegistrationPolicy::Token => "with an initial access token",
                        };
                        let documents = if c.defaults.client_metadata_documents { "on" } else { "off" };
                        view! {
                            <p class="muted" id="self-registration-policy">
                                {format!("Self-registration: {registration}. Client metadata documents: {documents}.")}
                            </p>
                        }
                    })
                })}
            </Suspense>
            <div class="toolbar" role="search">
                <div class="field grow">
                    <label for="client-search">"Search"</label>
                    <input
                        id="client-search"
                        type="search"
                        placeholder="Name or Client ID"
                        autocomplete="off"
                        prop:value=move || typed.get()
                        on:input=on_search
                    />
                </div>
                <div class="field">
                    <label for="client-state">"State"</label>
                    <select id="client-state" on:change=on_state prop:value=move || query.with(|q| q.state.as_str())>
                        <option value="all">"All"</option>
                        <option value="active">"Active"</option>
                        <option value="inactive">"Inactive"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="client-origin">"Registered by"</label>
                    <select id="client-origin" on:change=on_origin prop:value=move || query.with(|q| q.origin.as_str())>
                        {OriginFilter::ALL.map(|o| view! { <option value=o.as_str()>{o.label()}</option> }).collect_view()}
                    </select>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let go = go.clone();
                    Suspend::new(async move {
                        match page.await {
                            Ok(p) => view! { <ClientTable page=p query=query.get_untracked() go/> }.into_any(),
                            Err(e) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn ClientTable(
    page: ClientPage,
    query: ListQuery,
    go: impl Fn(ListQuery) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    if page.total == 0 {
        let filtered =
            !query.search.is_empty() || query.state != StateFilter::All || query.origin != OriginFilter::All;
        return view! {
            <div class="card empty-state">
                {if filtered {
                    view! {
                        <h2>"No clients match"</h2>
                        <p class="muted">"Try another search or state."</p>
                    }
                    .into_any()
                } else {
                    view! {
                        <h2>"No clients yet"</h2>
                        <p class="muted">"Applications registered here can ask users for access to the API."</p>
                        <AddClientButton/>
                    }
                    .into_any()
                }}
            </div>
        }
        .into_any();
    }
    let header = {
        let go = go.clone();
        let query = query.clone();
        move |key: SortKey, label: &'static str| {
            let active = query.sort == key;
            let (aria, arrow) = match (active, query.descending) {
                (false, _) => ("none", ""),
                (true, true) => ("descending", " ↓"),
                (true, false) => ("ascending", " ↑"),
            };
            let next = query.sorted_by(key);
            let go = go.clone();
            view! {
                <th scope="col" aria-sort=aria>
                    <button type="button" class="sort" on:click=move |_| go(next.clone())>
                        {label}
                        <span aria-hidden="true">{arrow}</span>
                    </button>
                </th>
            }
        }
    };
    let first = query.offset() + 1;
    let last = query.offset() + page.rows.len() as u64;
    let summary = format!(
        "Showing {first}–{last} of {} client{}",
        page.total_text(),
        if page.total == 1 { "" } else { "s" }
    );
    let (prev, next) = (
        ListQuery { page: query.page.saturating_sub(1), ..query.clone() },
        ListQuery { page: query.page + 1, ..query.clone() },
    );
    let has_prev = query.page > 1;
    let has_next = page.has_page_after(query.page, query.per_page);
    let pages = page.total.div_ceil(u64::from(query.per_page)).max(u64::from(query.page));
    let pages = if page.more { format!("{pages}+") } else { pages.to_string() };
    let (go_prev, go_next, go_size) = (go.clone(), go.clone(), go.clone());
    let size_query = query.clone();
    view! {
        <div class="card table-card">
            <table class="data-table">
                <thead>
                    <tr>
                        {header(SortKey::Name, "Name")}
                        {header(SortKey::ClientId, "Client ID")}
                        {header(SortKey::State, "State")}
                        {header(SortKey::Created, "Create Time")}
                    </tr>
                </thead>
                <tbody>
                    {page
                        .rows
                        .into_iter()
                        .map(|r| {
                            let href = format!("/admin/clients/{}", percent_encode(&r.client_id));
                            view! {
                                <tr>
                                    <td>
                                        <a href=href>{r.name}</a>
                                        {r.origin.is_self_registered().then(|| view! { " " <span class="badge badge-origin">{r.origin.label()}</span> })}
                                    </td>
                                    <td><code>{r.client_id}</code></td>
                                    <td><StateBadge active=r.active/></td>
                                    <td>{format_utc(r.created_at)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            <p class="muted" aria-live="polite">
                {summary}
            </p>
            <div class="pager-controls">
                <label for="per-page">"Per page"</label>
                <select
                    id="per-page"
                    prop:value=query.per_page.to_string()
                    on:change=move |ev| {
                        let per_page = event_target_value(&ev).parse().unwrap_or(25);
                        go_size(ListQuery { per_page, page: 1, ..size_query.clone() })
                    }
                >
                    {ListQuery::PAGE_SIZES.map(|n| view! { <option value=n.to_string()>{n}</option> }).collect_view()}
                </select>
                <button type="button" class="button-quiet" disabled=!has_prev on:click=move |_| go_prev(prev.clone())>
                    "Previous"
                </button>
                <span>{format!("Page {} of {pages}", query.page)}</span>
                <button type="button" class="button-quiet" disabled=!has_next on:click=move |_| go_next(next.clone())>
                    "Next"
                </button>
            </div>
        </nav>
    }
    .into_any()
}

/// The contract names it a button: it is one, and it opens the add page.
#[component]
fn AddClientButton() -> impl IntoView {
    let navigate = use_navigate();
    view! {
        <button type="button" class="button-primary" on:click=move |_| navigate("/admin/clients/new", Default::default())>
            "Add OAuth2 Client"
        </button>
    }
}

#[component]
pub fn StateBadge(active: bool) -> impl IntoView {
    if active {
        view! { <span class="badge badge-active">"Active"</span> }
    } else {
        view! { <span class="badge badge-inactive">"Inactive"</span> }
    }
}

/// "Import clients": an export file picked from disk, registered all or none; the new secrets
/// are shown once, here.
#[component]
fn ImportClients(on_done: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let result = RwSignal::new(None::<Result<Vec<ImportedClient>, String>>);
    let pending = RwSignal::new(false);
    let on_change = move |ev: leptos::ev::Event| {
        pending.set(true);
        result.set(None);
        let file = picked_file(&ev);
        spawn_local(async move {
            let outcome = match file {
                Some(f) => match read_text(f).await {
                    Some(text) => import_clients(csrf_token(), text).await.map_err(|e| e.to_string()),
                    None => Err("Import file: the file could not be read.".to_string()),
                },
                None => Err("Import file: no file was chosen.".to_string()),
            };
            if outcome.is_ok() {
                on_done();
            }
            result.set(Some(outcome));
            pending.set(false);
        });
    };
    view! {
        <details class="card import-card">
            <summary>"Import clients"</summary>
            <div class="stack">
                <p class="hint">"A file from “Export” (or " <code>"clavis client export"</code> "). Every client is checked first: a bad file changes nothing. Confidential clients get new secrets, shown once below."</p>
                <div class="field">
                    <label for="import-file">"Import file"</label>
                    <input id="import-file" type="file" accept=".json,application/json" disabled=move || pending.get() on:change=on_change/>
                </div>
                {move || result.get().map(|r| match r {
                    Err(m) => view! { <p class="alert alert-error" role="alert">{m}</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="alert alert-saved" role="status">
                            <p>{format!("Imported {} client{}. Copy the secrets now: they will not be shown again.", list.len(), if list.len() == 1 { "" } else { "s" })}</p>
                            <table class="data-table">
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Client ID"</th><th scope="col">"Client secret"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|c| view! {
                                        <tr>
                                            <td>{c.name}</td>
                                            <td><code>{c.client_id}</code></td>
                                            <td><code class="imported-secret">{c.secret.unwrap_or_else(|| "(public client: none)".into())}</code></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </div>
        </details>
    }
}

/// The file chosen in a file input, in the browser.
#[cfg(feature = "hydrate")]
fn picked_file(ev: &leptos::ev::Event) -> Option<web_sys::File> {
    use wasm_bindgen::JsCast;
    ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?.files()?.get(0)
}

#[cfg(feature = "hydrate")]
async fn read_text(file: web_sys::File) -> Option<String> {
    wasm_bindgen_futures::JsFuture::from(file.text()).await.ok()?.as_string()
}

/// On the server no file is ever chosen (events run in the browser).
#[cfg(not(feature = "hydrate"))]
fn picked_file(_ev: &leptos::ev::Event) -> Option<()> {
    None
}

#[cfg(not(feature = "hydrate"))]
async fn read_text(_file: ()) -> Option<String> {
    None
}
