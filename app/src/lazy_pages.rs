//! Routes whose code is split out of the main WASM bundle and fetched the
//! first time they are visited (Leptos' lazy routes, cut by `wasm-split` in
//! `scripts/build-site.sh`). The catalog, sign-in and not-found pages stay in
//! the main bundle: they are where people land, often on a phone.
//!
//! On the server these render like any other route; in the browser, hydrating
//! one of them waits for its chunk (see `frontend`'s `hydrate`).

use crate::pages;
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// A unit route type whose lazily loaded view is `$page`.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:ident) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <pages::$page/> }.into_any()
            }
        }
    };
}

lazy_page!(
    /// `/apps/:id`: one catalog app's page.
    AppDetailRoute => AppDetailPage
);
lazy_page!(
    /// `/my`: installed apps and the install form.
    MyAppsRoute => MyAppsPage
);
lazy_page!(
    /// `/running`.
    RunningRoute => RunningPage
);
lazy_page!(
    /// `/app/:name`: an installed app, its menu and terminals.
    InstalledAppRoute => InstalledAppPage
);
lazy_page!(
    /// `/app/:name/runs/:id`: one run's full log.
    RunLogRoute => RunLogPage
);
lazy_page!(
    /// `/settings`.
    SettingsRoute => SettingsPage
);
lazy_page!(
    /// `/system`.
    SystemRoute => SystemPage
);
lazy_page!(
    /// `/storage`.
    StorageRoute => StoragePage
);
