//! `/admin/apis`: every registered API, the built-in one first, searchable as you type and paged
//! on the server; the query lives in the URL.

use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_query_map},
};

use crate::{
    api::apis::{API_PAGE_SIZE, list_apis},
    components::status::AdminOnly,
    pages::clients::list::StateBadge,
};

#[component]
pub fn ApisPage() -> impl IntoView {
    view! {
        <Title text="APIs"/>
        <AdminOnly>
            <ApiList/>
        </AdminOnly>
    }
}

#[component]
fn ApiList() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        params.with(|p| {
            let search = p.get("search").unwrap_or_default();
            let page = p.get("page").and_then(|v| v.parse::<u32>().ok()).filter(|n| *n > 0).unwrap_or(1);
            (search, page)
        })
    });
    let list = crate::api::resource(move || query.get(), |(search, page)| list_apis(search, page));
    let navigate = use_navigate();
    let go = move |search: String, page: u32| {
        let mut pairs = Vec::new();
        if !search.trim().is_empty() {
            pairs.push(format!("search={}", crate::domain::client::percent_encode(search.trim())));
        }
        if page > 1 {
            pairs.push(format!("page={page}"));
        }
        let url = if pairs.is_empty() {
            "/admin/apis".to_string()
        } else {
            format!("/admin/apis?{}", pairs.join("&"))
        };
        navigate(&url, NavigateOptions { scroll: false, ..Default::default() });
    };
    let typed = RwSignal::new(query.get_untracked().0);
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
            pending.set_value(set_timeout_with_handle(move || go(text, 1), Duration::from_millis(300)).ok());
        }
    };
    view! {
        <section class="page">
            <div class="page-head">
                <h1>"APIs"</h1>
                <AddApiButton/>
            </div>
            <p class="muted">"The APIs whose access tokens Clavis issues. Clients name one with "<code>"resource"</code>"; the API checks each token at the introspection endpoint with its own credentials."</p>
            <div class="toolbar" role="search">
                <div class="field grow">
                    <label for="api-search">"Search"</label>
                    <input id="api-search" type="search" placeholder="Name, identifier or Client ID" autocomplete="off"
                        prop:value=move || typed.get() on:input=on_search/>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let go = go.clone();
                    Suspend::new(async move {
                        match list.await {
                            Ok(p) => {
                                let (search, page) = query.get_untracked();
                                let pages = u32::try_from(p.total).unwrap_or(u32::MAX).div_ceil(API_PAGE_SIZE).max(1);
                                let (prev, next) = (go.clone(), go.clone());
                                let (s1, s2) = (search.clone(), search.clone());
                                view! {
                                    {if p.rows.is_empty() {
                                        view! { <div class="card empty-state"><h2>"No APIs match"</h2><p class="muted">"Try another search."</p></div> }.into_any()
                                    } else {
                                        view! {
                                            <div class="card table-card">
                                                <table class="data-table">
                                                    <thead><tr>
                                                        <th scope="col">"Name"</th>
                                                        <th scope="col">"Identifier"</th>
                                                        <th scope="col">"State"</th>
                                                    </tr></thead>
                                                    <tbody>
                                                        {p.rows.into_iter().map(|r| view! {
                                                            <tr>
                                                                <td><a href=format!("/admin/apis/{}", r.id)>{r.api.name.clone()}</a>
                                                                    {r.api.builtin.then(|| view! { " " <span class="badge">"Built-in"</span> })}</td>
                                                                <td><code>{r.api.identifier.to_string()}</code></td>
                                                                <td><StateBadge active=r.api.active/></td>
                                                            </tr>
                                                        }).collect_view()}
                                                    </tbody>
                                                </table>
                                            </div>
                                        }.into_any()
                                    }}
                                    <nav class="pager" aria-label="Pages">
                                        <p class="muted" aria-live="polite">{format!("{} API{}", p.total, if p.total == 1 { "" } else { "s" })}</p>
                                        <div class="pager-controls">
                                            <button type="button" class="button-quiet" disabled={page <= 1} on:click=move |_| prev(s1.clone(), page - 1)>"Previous"</button>
                                            <span>{format!("Page {page} of {pages}")}</span>
                                            <button type="button" class="button-quiet" disabled={page >= pages} on:click=move |_| next(s2.clone(), page + 1)>"Next"</button>
                                        </div>
                                    </nav>
                                }.into_any()
                            }
                            Err(e) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn AddApiButton() -> impl IntoView {
    let navigate = use_navigate();
    view! {
        <button type="button" class="button-primary" on:click=move |_| navigate("/admin/apis/new", Default::default())>
            "Add API"
        </button>
    }
}
