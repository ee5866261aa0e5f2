//! Hydrates the server-rendered page so later interactions run client-side.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronous, because a lazily loaded route (app/src/lazy_pages.rs) can
    // only hydrate once its WASM chunk has arrived.
    wasm_bindgen_futures::spawn_local(async {
        leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App)
            .await
            .forget();
        // Lets browser tests (and curious users) know the page is live.
        let _ = js_sys::Reflect::set(
            &leptos::prelude::window(),
            &"__pinokiocloudHydrated".into(),
            &true.into(),
        );
    });
}
