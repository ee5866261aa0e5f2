//! Where the running app opens: its own origin (subdomain, port, tunnel) or
//! the `/p/<app>/` fallback, and why; for admins, "Share this app" (a link
//! that opens this app only, nothing of the dashboard).

use crate::api::{load_app_origin, share_app};
use leptos::prelude::*;

#[component]
pub fn OriginPanel(name: String, admin: Signal<bool>) -> impl IntoView {
    let for_load = name.clone();
    let origin = Resource::new(|| (), move |_| load_app_origin(for_load.clone()));
    let share = Action::new(move |_: &()| share_app(name.clone(), String::new(), None));
    let shown = move || {
        origin.get().and_then(Result::ok).flatten().map(|o| {
            view! {
                <p class="origin-mode" data-mode=o.mode.clone()>
                    "Opens at " <code>{o.origin.clone()}</code> " (" {o.mode.clone()} " mode)"
                </p>
                <p class="muted origin-reason">{o.reason.clone()}</p>
                {o.tunnel.clone().map(|t| view! {
                    <p class="origin-tunnel">"Tunnel " <code>{t}</code> " " <span class="muted">{o.tunnel_detail.clone()}</span></p>
                })}
            }
        })
    };
    let shared = move || {
        share.value().get().map(|r| match r {
            Ok(link) => view! {
                <p class="share-app-link">"Send this link; it opens this app only: " <code>{link}</code></p>
            }
            .into_any(),
            Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <section class="app-origin">
            <Suspense fallback=|| ()>{shown}</Suspense>
            <Show when=move || admin.get()>
                <button class="btn share-app" type="button" on:click=move |_| { share.dispatch(()); }>"Share this app"</button>
                {shared}
            </Show>
        </section>
    }
}
