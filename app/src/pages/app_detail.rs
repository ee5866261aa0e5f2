use super::NotFound;
use crate::catalog::{self, CatalogApp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// `/apps/<id>`: everything the catalog knows about one app.
#[component]
pub fn AppDetailPage() -> impl IntoView {
    let params = use_params_map();
    let app = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| catalog::find(&id))));
    move || match app.get() {
        Some(app) => view! { <AppDetail app/> }.into_any(),
        None => view! { <NotFound/> }.into_any(),
    }
}

#[component]
fn AppDetail(app: &'static CatalogApp) -> impl IntoView {
    let tags = app
        .tags
        .iter()
        .map(|tag| view! { <li class="tag">{tag.clone()}</li> });
    view! {
        <Title text=app.name.clone()/>
        <article class="detail">
            <a class="back" href="/">"← All apps"</a>
            <div class="detail-head">
                <h1>{app.name.clone()}</h1>
                <span class="badge">{app.category.label()}</span>
            </div>
            <p class="detail-author">"by " {app.author.clone()}</p>
            <p class="detail-desc">{app.description.clone()}</p>
            <ul class="tags">{tags.collect_view()}</ul>
            <div class="actions">
                <button class="btn primary" type="button" disabled=true>"Install"</button>
                <a class="btn" href=app.repo_url.clone() target="_blank" rel="noopener noreferrer">
                    "View repository"
                </a>
            </div>
            <p class="note">"Installing from the dashboard is coming soon."</p>
            <p class="repo-url"><code>{app.repo_url.clone()}</code></p>
        </article>
    }
}
