use crate::catalog::{self, CatalogApp, Filter};
use crate::components::{AppCard, CategoryChips};
use crate::query::{catalog_href, filter_from};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use std::sync::atomic::{AtomicBool, Ordering};

/// Cards in the server's HTML: a phone's first screens. The browser adds
/// the rest as soon as the page is live, so a slow phone parses and paints
/// a page of ~30 KB first instead of all 284 cards (~160 KB; about a second
/// of parsing on a phone's CPU).
const FIRST_CARDS: usize = 24;

/// Set once this browser tab has hydrated: a catalog built later (a click
/// back from an app page) shows every card at once, so Back's scroll
/// position lands where it was.
static HYDRATED: AtomicBool = AtomicBool::new(false);

/// The home page: every catalog app, with instant search and category chips.
/// The filter lives in the URL, so a search can be shared and Back restores it.
#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(|q| filter_from(q.get("q"), q.get("cat"))));
    let results: Memo<Vec<&'static CatalogApp>> =
        Memo::new(move |_| filter.with(|f| catalog::search(catalog::all(), f)));
    // Effects run only in the browser, after hydration.
    let everything = RwSignal::new(HYDRATED.load(Ordering::Relaxed));
    Effect::new(move |_| {
        HYDRATED.store(true, Ordering::Relaxed);
        everything.set(true);
    });
    let shown = Memo::new(move |_| {
        let limit = if everything.get() {
            usize::MAX
        } else {
            FIRST_CARDS
        };
        results.with(|apps| apps.iter().take(limit).copied().collect::<Vec<_>>())
    });
    let more = move || results.with(Vec::len) - shown.with(Vec::len);

    let navigate = use_navigate();
    let on_input = move |ev| {
        let typed = Filter {
            query: event_target_value(&ev),
            category: filter.get_untracked().category,
        };
        // Replace, not push: Back should leave the catalog, not undo keystrokes.
        navigate(
            &catalog_href(&typed),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };

    view! {
        <Title text=""/>
        <section class="hero">
            <h1>"One-click AI apps"</h1>
            <p class="lede">"Install and run Pinokio apps on this GPU machine."</p>
            <input
                class="search"
                type="search"
                name="q"
                placeholder="Search apps, tags or authors"
                aria-label="Search apps"
                autocomplete="off"
                prop:value=move || filter.with(|f| f.query.clone())
                on:input=on_input
            />
            <CategoryChips filter/>
        </section>
        <p class="result-count" aria-live="polite">
            {move || match results.with(Vec::len) {
                1 => "1 app".to_string(),
                n => format!("{n} apps"),
            }}
        </p>
        <Show when=move || !results.with(Vec::is_empty) fallback=EmptyResults>
            <ul class="grid">
                <For each=move || shown.get() key=|app| app.id.as_str() let:app>
                    <AppCard app/>
                </For>
            </ul>
            <Show when=move || { more() > 0 }>
                <p class="note more-apps">{move || format!("{} more apps are on their way…", more())}</p>
            </Show>
        </Show>
    }
}

#[component]
fn EmptyResults() -> impl IntoView {
    view! {
        <div class="empty">
            <p class="empty-title">"No apps match your search."</p>
            <p>"Try fewer words, another category, or "<a href="/">"show all apps"</a>"."</p>
        </div>
    }
}
