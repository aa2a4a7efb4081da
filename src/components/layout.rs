//! The frame of every page: top navigation (Clients, APIs, Users, Settings, the signed-in user, Sign out) and main area.
//! It loads the viewer once and shares it with the pages through context.

use leptos::prelude::*;

use crate::api::{
    ApiError, PageData,
    viewer::{Viewer, get_viewer},
};

/// The current viewer, loaded once per page load.
#[derive(Clone, Copy)]
pub struct ViewerResource(pub Resource<Result<Viewer, ApiError>, PageData>);

pub fn use_viewer() -> Resource<Result<Viewer, ApiError>, PageData> {
    expect_context::<ViewerResource>().0
}

/// The session's CSRF token for server-function calls that change something (empty until the
/// viewer has loaded, which the admin pages wait for).
pub fn csrf_token() -> String {
    use_viewer().get_untracked().and_then(Result::ok).and_then(|v| v.user).map(|u| u.csrf).unwrap_or_default()
}

/// Marks the page hydrated (`data-hydrated` on the body) once it is: browser tests wait for this
/// before they click, as a click before hydration would be lost. Every page ends with it, as a
/// lazily loaded page hydrates after the layout around it.
#[component]
pub fn Hydrated() -> impl IntoView {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let viewer = crate::api::resource(|| (), |_| get_viewer());
    provide_context(ViewerResource(viewer));
    crate::components::secret_notice::IssuedSecret::provide();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/" rel="external">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                "Clavis"
            </a>
            <nav aria-label="Main">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        viewer.await.ok().and_then(|v| v.user).map(|user| view! { <NavUser user/> })
                    })}
                </Suspense>
            </nav>
        </header>
        <main id="main" tabindex="-1">{children()}</main>
    }
}

#[component]
fn NavUser(user: crate::api::viewer::ViewerUser) -> impl IntoView {
    view! {
        <ul class="nav-links">
            {user.is_admin.then(|| view! {
                <li><a href="/admin/clients">"Clients"</a></li>
                <li><a href="/admin/apis">"APIs"</a></li>
                <li><a href="/admin/users">"Users"</a></li>
                <li><a href="/admin/settings">"Settings"</a></li>
                <li><a href="/admin/audit">"Audit log"</a></li>
            })}
        </ul>
        <div class="nav-user">
            <a href="/account" class="nav-username" title="Your account">{user.username}</a>
            <form method="post" action="/logout" class="inline-form">
                <input type="hidden" name="csrf" value=user.csrf/>
                <button type="submit" class="button-quiet">"Sign out"</button>
            </form>
        </div>
    }
}
