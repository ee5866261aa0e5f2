use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for unknown routes and unknown app ids; answers 404 when server-rendered.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <div class="empty not-found">
            <h1>"Not found"</h1>
            <p>"There is no app or page at this address."</p>
            <a class="btn primary" href="/">"Browse all apps"</a>
        </div>
    }
}
