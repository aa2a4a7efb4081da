//! The pager under a paged list kept in a signal: a count, then Previous / "Page x of y" / Next.

use leptos::prelude::*;

/// `summary` ("12 users") and the buttons; `page` is the list's 1-based page, `pages` how many.
#[component]
pub fn Pager(summary: String, page: RwSignal<u32>, pages: u32) -> impl IntoView {
    let current = page.get_untracked();
    view! {
        <nav class="pager" aria-label="Pages">
            <p class="muted" aria-live="polite">{summary}</p>
            <div class="pager-controls">
                <button type="button" class="button-quiet" disabled={current <= 1} on:click=move |_| page.update(|n| *n -= 1)>"Previous"</button>
                <span>{format!("Page {current} of {pages}")}</span>
                <button type="button" class="button-quiet" disabled={current >= pages} on:click=move |_| page.update(|n| *n += 1)>"Next"</button>
            </div>
        </nav>
    }
}

/// The number of pages of `per_page` rows that `total` rows fill (at least 1).
pub fn pages(total: i64, per_page: u32) -> u32 {
    u32::try_from(total).unwrap_or(u32::MAX).div_ceil(per_page).max(1)
}
