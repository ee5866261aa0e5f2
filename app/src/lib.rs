//! PinokioCloud's web UI: the page shell, routes, pages and components.
//! Compiled twice: with `ssr` into the server, with `hydrate` into the WASM bundle.

pub mod api;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod catalog;
mod components;
mod lazy_pages;
pub mod live;
mod pages;
pub mod query;
mod stylesheet;
mod time;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy,
};

/// Name of the JS/WASM/CSS bundle under `/pkg`; the build script uses the same.
pub const OUTPUT_NAME: &str = "pinokiocloud";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="theme-color" content="#0f1115"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <stylesheet::Styles options=options.clone()/>
                <MetaTags/>
            </head>
            <body>
                <App/>
                // Last, so that the bundle's preload does not share a slow
                // link with the page itself before the page has arrived.
                <HydrationScripts options/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    live::provide();
    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "PinokioCloud".to_string() } else { format!("{page} · PinokioCloud") }
        }/>
        <Router>
            <components::TopBar/>
            <main class="page">
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=pages::CatalogPage/>
                    <Route path=path!("/apps/:id") view={Lazy::<lazy_pages::AppDetailRoute>::new()}/>
                    <Route path=path!("/login") view=pages::LoginPage/>
                    <Route path=path!("/my") view={Lazy::<lazy_pages::MyAppsRoute>::new()}/>
                    <Route path=path!("/running") view={Lazy::<lazy_pages::RunningRoute>::new()}/>
                    <Route path=path!("/app/:name") view={Lazy::<lazy_pages::InstalledAppRoute>::new()}/>
                    <Route path=path!("/app/:name/runs/:id") view={Lazy::<lazy_pages::RunLogRoute>::new()}/>
                    <Route path=path!("/settings") view={Lazy::<lazy_pages::SettingsRoute>::new()}/>
                    <Route path=path!("/system") view={Lazy::<lazy_pages::SystemRoute>::new()}/>
                    <Route path=path!("/storage") view={Lazy::<lazy_pages::StorageRoute>::new()}/>
                </Routes>
            </main>
        </Router>
    }
}
