//! The dashboard's CSS, inlined into the document head when the site is
//! built. A phone on a slow link then paints from the first response instead
//! of waiting one more round trip for `/pkg/pinokiocloud.css`, which would
//! also share the link with the WASM bundle's preload. The stylesheet is
//! ~20 KB raw, ~4 KB compressed, and pages are kept precompressed, so
//! inlining costs little. Without a built site the page links it instead.

use leptos::prelude::*;

use crate::OUTPUT_NAME;

/// `<style>` with the site's CSS, or a `<link>` to it when it cannot be read.
#[component]
pub fn Styles(options: LeptosOptions) -> impl IntoView {
    match css(&options) {
        Some(css) => view! { <style id="leptos" inner_html=css></style> }.into_any(),
        None => {
            view! { <link id="leptos" rel="stylesheet" href=format!("/pkg/{OUTPUT_NAME}.css")/> }
                .into_any()
        }
    }
}

#[cfg(feature = "ssr")]
fn css(options: &LeptosOptions) -> Option<std::sync::Arc<str>> {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex, OnceLock};
    use std::time::SystemTime;

    type Read = (Option<SystemTime>, Arc<str>);
    // Per site folder (a test process may serve several), read again when
    // the file changes (a rebuilt site).
    static READ: OnceLock<Mutex<HashMap<PathBuf, Read>>> = OnceLock::new();
    let path = PathBuf::from(options.site_root.as_ref())
        .join(options.site_pkg_dir.as_ref())
        .join(format!("{OUTPUT_NAME}.css"));
    let modified = std::fs::metadata(&path).ok()?.modified().ok();
    let mut read = READ.get_or_init(Default::default).lock().ok()?;
    if let Some((at, css)) = read.get(&path) {
        if *at == modified {
            return Some(css.clone());
        }
    }
    let css: Arc<str> = std::fs::read_to_string(&path).ok()?.into();
    read.insert(path, (modified, css.clone()));
    Some(css)
}

/// The shell is rendered on the server only.
#[cfg(not(feature = "ssr"))]
fn css(_: &LeptosOptions) -> Option<std::sync::Arc<str>> {
    None
}
