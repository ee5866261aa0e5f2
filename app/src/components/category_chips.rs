use crate::catalog::{Category, Filter};
use crate::query::catalog_href;
use leptos::prelude::*;

/// Filter chips; each is a link so it works before hydration and adds a
/// history entry. Clicking the active chip clears the category.
#[component]
pub fn CategoryChips(filter: Memo<Filter>) -> impl IntoView {
    let chip = move |category: Option<Category>| {
        let active = move || filter.with(|f| f.category == category);
        let href = move || {
            filter.with(|f| {
                let target = if category.is_some() && f.category == category {
                    None
                } else {
                    category
                };
                catalog_href(&Filter {
                    query: f.query.clone(),
                    category: target,
                })
            })
        };
        let label = category.map_or("All", Category::label);
        view! {
            <a
                class="chip"
                class:active=active
                aria-pressed=move || active().to_string()
                data-category=category.map_or("ALL", Category::code)
                href=href
            >
                {label}
            </a>
        }
    };
    view! {
        <nav class="chips" aria-label="Categories">
            {chip(None)}
            {Category::ALL.into_iter().map(|c| chip(Some(c))).collect_view()}
        </nav>
    }
}
