use leptos::prelude::*;

/// The header on every page: the brand, which always leads back to the catalog.
#[component]
pub fn TopBar() -> impl IntoView {
    view! {
        <header class="top-bar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                <span>"PinokioCloud"</span>
            </a>
            <nav class="top-nav">
                <a href="/">"Apps"</a>
            </nav>
        </header>
    }
}
