//! An app's icon: pinokio.json's `icon` image, or its initial on a tile.

use leptos::prelude::*;

/// The app's icon (pinokio.json's `icon`), or its initial on a tile.
#[component]
pub fn AppIcon(title: String, url: Option<String>) -> impl IntoView {
    match url {
        Some(src) => {
            view! { <img class="app-icon" src=src alt="" width="48" height="48" loading="lazy"/> }
                .into_any()
        }
        None => {
            let initial: String = title
                .chars()
                .find(|c| c.is_alphanumeric())
                .map(|c| c.to_uppercase().collect())
                .unwrap_or_else(|| "?".into());
            view! { <span class="app-icon app-icon-fallback" aria-hidden="true">{initial}</span> }
                .into_any()
        }
    }
}
