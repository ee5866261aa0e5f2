use crate::catalog::CatalogApp;
use leptos::prelude::*;

/// How many tags a card shows; the detail page shows them all.
const CARD_TAGS: usize = 4;

/// One app in the catalog grid; the whole card links to its detail page.
#[component]
pub fn AppCard(app: &'static CatalogApp) -> impl IntoView {
    let tags = app
        .tags
        .iter()
        .take(CARD_TAGS)
        .map(|tag| view! { <li class="tag">{tag.clone()}</li> });
    view! {
        <li class="card" data-app-id=app.id.clone()>
            <a class="card-link" href=format!("/apps/{}", app.id)>
                <div class="card-head">
                    <h3 class="card-title">{app.name.clone()}</h3>
                    <span class="badge">{app.category.label()}</span>
                </div>
                <p class="card-desc">{app.description.clone()}</p>
                <p class="card-author">"by " {app.author.clone()}</p>
                <ul class="tags">{tags.collect_view()}</ul>
            </a>
        </li>
    }
}
