//! `/login`: the sign-in form. It posts to `POST /login` as a plain HTML form, so it works before
//! (and without) WASM; problems come back as `?error=` codes that this page puts into words.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::layout::use_viewer;

/// The sentence for an `error` code; one message for every credential failure.
fn problem_message(code: &str, retry: Option<&str>) -> Option<String> {
    match code {
        "invalid" => Some("Invalid username or password".to_string()),
        "expired" => Some("Your sign-in form expired. Please sign in again.".to_string()),
        "rate" => {
            let secs = retry.and_then(|r| r.parse::<u64>().ok()).unwrap_or(60);
            Some(format!(
                "Too many failed sign-in attempts. Please wait {secs} second{} and try again.",
                if secs == 1 { "" } else { "s" }
            ))
        }
        _ => None,
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k).unwrap_or_default();
    let problem = move || problem_message(&get("error"), query.read().get("retry").as_deref());
    let viewer = use_viewer();
    view! {
        <Title text="Sign in"/>
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <p class="muted">"Use your Clavis account."</p>
            {move || problem().map(|m| view! { <p class="alert alert-error" role="alert" id="login-error">{m}</p> })}
            <form method="post" action="/login" class="stack" novalidate=false>
                <input type="hidden" name="next" value=move || get("next")/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let token = viewer.await.map(|v| v.login_csrf).unwrap_or_default();
                        view! { <input type="hidden" name="csrf" value=token/> }
                    })}
                </Suspense>
                <div class="field">
                    <label for="username">"Username"</label>
                    <input
                        id="username"
                        name="username"
                        type="text"
                        autocomplete="username"
                        autocapitalize="none"
                        spellcheck="false"
                        required
                        maxlength="64"
                        value=move || get("username")
                        aria-describedby=move || problem().map(|_| "login-error")
                    />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required/>
                </div>
                <button type="submit" class="button-primary">"Sign in"</button>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(problem_message("invalid", None).unwrap(), "Invalid username or password");
        assert!(problem_message("rate", Some("42")).unwrap().contains("42 seconds"));
        assert!(problem_message("rate", Some("1")).unwrap().contains("1 second "));
        assert!(problem_message("rate", Some("x")).unwrap().contains("60 seconds"));
        assert!(problem_message("expired", None).is_some());
        assert_eq!(problem_message("<script>", None), None);
    }
}
