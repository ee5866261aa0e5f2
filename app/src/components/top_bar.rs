use crate::api::whoami;
use crate::auth::Role;
use leptos::prelude::*;

/// The header on every page: the brand (back to the catalog), and who is
/// signed in, with Storage and Settings for admins only.
#[component]
pub fn TopBar() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <header class="top-bar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                <span>"PinokioCloud"</span>
            </a>
            <nav class="top-nav">
                <a class="nav-apps" href="/">"Apps"</a>
                <a href="/my">"My apps"</a>
                <a href="/running">"Running"</a>
                <a href="/system">"System"</a>
                <Transition fallback=|| ()>
                    {move || me.get().and_then(Result::ok).flatten().map(|viewer| view! {
                        {viewer.role.allows(Role::Admin).then(|| view! { <a href="/storage">"Storage"</a> <a href="/settings">"Settings"</a> })}
                        <span class="role-badge" data-role=viewer.role.as_str() title=viewer.label.clone()>
                            {viewer.role.as_str()}
                        </span>
                    })}
                </Transition>
            </nav>
        </header>
    }
}
