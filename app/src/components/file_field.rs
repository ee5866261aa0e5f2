//! A `type: "file"` field of a script's question. The file is sent as soon
//! as it is picked (the app page re-renders as the app changes, which would
//! drop a picked-but-unsent file), straight into the app's folder on the
//! server; the saved path is what the field answers with on Submit.

use crate::api::FormField;
use leptos::prelude::*;
use std::collections::HashMap;

/// Where one file field's upload is (only the browser makes these).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Upload {
    Sending(String),
    /// The path the server saved it at.
    Saved(String),
    Failed(String),
}

/// Uploads of a page's questions by `<form id>/<field key>`; lives above
/// the re-rendered part of the page.
#[derive(Clone, Copy)]
pub struct Uploads(pub RwSignal<HashMap<String, Upload>>);

impl Uploads {
    pub fn new() -> Self {
        Uploads(RwSignal::new(HashMap::new()))
    }

    pub fn slot(form_id: &str, key: &str) -> String {
        format!("{form_id}/{key}")
    }

    pub fn get(&self, form_id: &str, key: &str) -> Option<Upload> {
        self.0.with(|m| m.get(&Self::slot(form_id, key)).cloned())
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn set(&self, slot: &str, state: Upload) {
        self.0.update(|m| {
            m.insert(slot.to_string(), state);
        });
    }
}

impl Default for Uploads {
    fn default() -> Self {
        Self::new()
    }
}

/// "1.5 MB"-style sizes for limits and errors.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

#[component]
pub fn FileField(form_id: String, field: FormField, uploads: Uploads) -> impl IntoView {
    let slot = Uploads::slot(&form_id, &field.key);
    let limit = field.max_size;
    let on_change = {
        let slot = slot.clone();
        move |ev: leptos::ev::Event| pick(ev, form_id.clone(), slot.clone(), limit, uploads)
    };
    let state = move || uploads.0.with(|m| m.get(&slot).cloned());
    view! {
        <input class="field file-input" type="file" name=field.key.clone() on:change=on_change/>
        {limit.map(|l| view! { <span class="note">"Up to " {human_size(l)}</span> })}
        {move || state().map(|s| match s {
            Upload::Sending(name) => view! { <span class="upload-state note">"Uploading " {name} "…"</span> }.into_any(),
            Upload::Saved(path) => view! { <span class="upload-state ok" data-path=path.clone()>"Uploaded: " <span class="mono">{path.clone()}</span></span> }.into_any(),
            Upload::Failed(e) => view! { <span class="upload-state notice error">{e}</span> }.into_any(),
        })}
    }
}

/// Reads the picked file and sends it (browser only).
#[allow(unused_variables)]
fn pick(
    ev: leptos::ev::Event,
    form_id: String,
    slot: String,
    limit: Option<u64>,
    uploads: Uploads,
) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        let (name, size) = (file.name(), file.size() as u64);
        if let Some(limit) = limit.filter(|l| size > *l) {
            uploads.set(
                &slot,
                Upload::Failed(format!(
                    "{name} is {}; the limit for this field is {}. Pick a smaller file.",
                    human_size(size),
                    human_size(limit)
                )),
            );
            return;
        }
        uploads.set(&slot, Upload::Sending(name.clone()));
        let key = slot.rsplit('/').next().unwrap_or_default().to_string();
        leptos::task::spawn_local(async move {
            let state = match send(&form_id, &key, file).await {
                Ok(path) => Upload::Saved(path),
                Err(e) => Upload::Failed(e),
            };
            uploads.set(&slot, state);
        });
    }
}

/// POSTs the file as the request body; the server answers `{path}` or `{error}`.
#[cfg(feature = "hydrate")]
async fn send(form_id: &str, key: &str, file: leptos::web_sys::File) -> Result<String, String> {
    use js_sys::encode_uri_component as enc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let url = format!(
        "/api/op/apps/forms/{}/upload?field={}&name={}",
        enc(form_id),
        enc(key),
        enc(&file.name())
    );
    let init = leptos::web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&file);
    let failed = |e: wasm_bindgen::JsValue| {
        format!("the upload failed: {e:?}; check the connection and pick the file again")
    };
    let response = JsFuture::from(window().fetch_with_str_and_init(&url, &init))
        .await
        .map_err(failed)?;
    let response: leptos::web_sys::Response = response.dyn_into().map_err(failed)?;
    let text = JsFuture::from(response.text().map_err(failed)?)
        .await
        .map_err(failed)?
        .as_string()
        .unwrap_or_default();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    match (response.ok(), body["path"].as_str(), body["error"].as_str()) {
        (true, Some(path), _) => Ok(path.to_string()),
        (_, _, Some(error)) => Err(error.to_string()),
        _ => Err(format!("the upload failed ({}): {text}", response.status())),
    }
}
