//! The warning shown before an install when the disk looks too small: what
//! is free and what could be freed, with "Install anyway" or "Free space
//! first" (the Storage page).

use leptos::prelude::*;

#[component]
pub fn DiskWarning(text: String, on_anyway: Callback<()>) -> impl IntoView {
    view! {
        <div class="notice warn disk-warning" role="alert">
            <p>{text}</p>
            <div class="actions">
                <button class="btn primary" type="button" on:click=move |_| on_anyway.run(())>"Install anyway"</button>
                <a class="btn" href="/storage">"Free space first"</a>
            </div>
        </div>
    }
}
