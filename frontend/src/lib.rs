//! Hydrates the server-rendered page so later interactions run client-side.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets browser tests (and curious users) know the page is live.
    let _ = js_sys::Reflect::set(
        &leptos::prelude::window(),
        &"__pinokiocloudHydrated".into(),
        &true.into(),
    );
}
