use crate::api::login_options;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/login`: why you are here, and the password form when one is set.
/// Login links (`/?token=…`) never come here unless they fail.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let message = move || {
        query.with(|q| {
            if q.get("error").as_deref() == Some("link") {
                Some((
                    "error",
                    "This login link is invalid or has expired. Ask for a new one.",
                ))
            } else if q.get("error").as_deref() == Some("password") {
                Some(("error", "Wrong password."))
            } else if q.get("signed_out").is_some() {
                Some(("info", "You are signed out."))
            } else {
                None
            }
        })
    };
    let next = move || query.with(|q| q.get("next").unwrap_or_else(|| "/".into()));
    let options = Resource::new(|| (), |_| login_options());
    view! {
        <Title text="Sign in"/>
        <section class="login">
            <h1>"Sign in"</h1>
            {move || message().map(|(kind, text)| view! { <p class=format!("notice {kind}")>{text}</p> })}
            <p class="lede">
                "Open the login link that " <code>"pinokiocloud serve"</code>
                " printed (it ends in " <code>"?token=…"</code> "), or a share link from the dashboard's admin."
            </p>
            <Suspense fallback=|| ()>
                {move || {
                    options.get().and_then(Result::ok).filter(|o| o.password_enabled).map(|_| view! {
                        <form class="login-form" method="post" action="/auth/login">
                            <input type="hidden" name="next" prop:value=next/>
                            <label for="password">"Password"</label>
                            <input id="password" class="search" type="password" name="password"
                                autocomplete="current-password" required=true/>
                            <button class="btn primary" type="submit">"Sign in"</button>
                        </form>
                    })
                }}
            </Suspense>
        </section>
    }
}
