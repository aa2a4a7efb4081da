//! `/admin/audit`: every administrative change, newest first, with who made it, from where and
//! what changed field by field; filtered by client, actor and time, paged.
//! `/admin/audit?client=ID` opens it filtered to one client (the client's details link here).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::audit::{AUDIT_PAGE_SIZE, AuditFilter, audit_log},
    components::{
        pager::{Pager, pages},
        status::AdminOnly,
    },
    domain::{
        audit::{AuditEntry, FieldChange},
        client::percent_encode,
        time::format_utc,
    },
};

#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <Title text="Audit log"/>
        <AdminOnly>
            <Audit/>
        </AdminOnly>
    }
}

#[component]
fn Audit() -> impl IntoView {
    let query = use_query_map();
    let from_url = move |key: &str| query.with_untracked(|q| q.get(key).unwrap_or_default());
    let filter = RwSignal::new(AuditFilter {
        client: from_url("client"),
        actor: from_url("actor"),
        since: from_url("since"),
    });
    let page = RwSignal::new(1u32);
    let log = crate::api::resource(move || (filter.get(), page.get()), |(f, p)| audit_log(f, p));
    // Filters apply when a field is left or Enter is pressed, not at every keystroke.
    let set = move |apply: fn(&mut AuditFilter, String)| {
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            filter.update(|f| apply(f, value));
            page.set(1);
        }
    };
    view! {
        <section class="page">
            <div class="page-head"><h1>"Audit log"</h1></div>
            <p class="muted">"Every change to clients, APIs, users, settings and registration tokens: who made it, from where, and each field before and after. Secrets are never shown."</p>
            <div class="toolbar" role="search">
                <div class="field grow">
                    <label for="audit-client">"Client ID"</label>
                    <input id="audit-client" type="search" autocomplete="off" placeholder="Any client"
                        prop:value=move || filter.with(|f| f.client.clone())
                        on:change=set(|f, v| f.client = v)/>
                </div>
                <div class="field">
                    <label for="audit-actor">"Changed by"</label>
                    <input id="audit-actor" type="search" autocomplete="off" placeholder="Anyone"
                        prop:value=move || filter.with(|f| f.actor.clone())
                        on:change=set(|f, v| f.actor = v)/>
                </div>
                <div class="field">
                    <label for="audit-since">"Since"</label>
                    <input id="audit-since" type="search" autocomplete="off" placeholder="2026-11-30 or 7d"
                        prop:value=move || filter.with(|f| f.since.clone())
                        on:change=set(|f, v| f.since = v)/>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(p) => {
                            let pages = pages(p.total, AUDIT_PAGE_SIZE);
                            let empty = p.entries.is_empty();
                            view! {
                                <div class="card table-card">
                                    <table class="data-table audit-table">
                                        <thead><tr>
                                            <th scope="col">"When"</th>
                                            <th scope="col">"Changed by"</th>
                                            <th scope="col">"Action"</th>
                                            <th scope="col">"What"</th>
                                            <th scope="col">"Changes"</th>
                                        </tr></thead>
                                        <tbody>
                                            {p.entries.into_iter().map(|e| view! { <EntryRow entry=e/> }).collect_view()}
                                        </tbody>
                                    </table>
                                    {empty.then(|| view! { <p class="muted empty">"No entries match."</p> })}
                                </div>
                                <Pager summary=format!("{} entr{}", p.total, if p.total == 1 { "y" } else { "ies" }) page pages/>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn EntryRow(entry: AuditEntry) -> impl IntoView {
    let target = match entry.target_type.as_str() {
        "client" => {
            let href = format!("/admin/clients/{}", percent_encode(&entry.target));
            view! { <span class="muted">"Client "</span><a href=href class="mono">{entry.target}</a> }
                .into_any()
        }
        "settings" => view! { <span>"Instance settings"</span> }.into_any(),
        kind => {
            let kind = match kind {
                "api" => "API ",
                "user" => "User ",
                "registration_token" => "Registration token #",
                _ => "",
            };
            view! { <span class="muted">{kind}</span><span class="mono">{entry.target}</span> }.into_any()
        }
    };
    view! {
        <tr>
            <td class="nowrap">{format_utc(entry.at)}</td>
            <td>{entry.actor}{entry.address.map(|a| view! { <span class="hint">{a}</span> })}</td>
            <td class="mono">{entry.action}</td>
            <td class="audit-target">{target}</td>
            <td><Changes changes=entry.changes/></td>
        </tr>
    }
}

#[component]
fn Changes(changes: Vec<FieldChange>) -> impl IntoView {
    if changes.is_empty() {
        return view! { <span class="muted">"—"</span> }.into_any();
    }
    let shown = |v: Option<String>| match v {
        Some(v) => view! { <span class="audit-value">{v}</span> }.into_any(),
        None => view! { <span class="muted">"(none)"</span> }.into_any(),
    };
    view! {
        <ul class="audit-changes">
            {changes.into_iter().map(|c| view! {
                <li><span class="audit-field">{c.field}</span>": "{shown(c.from)}" → "{shown(c.to)}</li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
