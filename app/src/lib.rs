//! PinokioCloud's web UI: the page shell, routes, pages and components.
//! Compiled twice: with `ssr` into the server, with `hydrate` into the WASM bundle.

pub mod api;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod catalog;
mod components;
pub mod live;
mod pages;
pub mod query;
mod stylesheet;
mod time;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
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
                    <Route path=path!("/apps/:id") view=pages::AppDetailPage/>
                    <Route path=path!("/login") view=pages::LoginPage/>
                    <Route path=path!("/my") view=pages::MyAppsPage/>
                    <Route path=path!("/running") view=pages::RunningPage/>
                    <Route path=path!("/app/:name") view=pages::InstalledAppPage/>
                    <Route path=path!("/app/:name/runs/:id") view=pages::RunLogPage/>
                    <Route path=path!("/settings") view=pages::SettingsPage/>
                    <Route path=path!("/system") view=pages::SystemPage/>
                    <Route path=path!("/storage") view=pages::StoragePage/>
                </Routes>
            </main>
        </Router>
    }
}
