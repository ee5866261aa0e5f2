//! Questions a running script asks (`input` forms, missing variables):
//! fields of every kind, file uploads, and the answer sent back.

use crate::api::{answer_form, FormRequest};
use crate::components::{FileField, Upload, Uploads};
use leptos::prelude::*;

#[component]
pub fn FormView(form: FormRequest, refresh: RwSignal<u64>, uploads: Uploads) -> impl IntoView {
    let form_id = form.id.clone();
    let error = RwSignal::new(None::<String>);
    let fields = form.fields.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(target) = ev.target() else { return };
        let files = match uploaded_files(&form_id, &fields, uploads) {
            Ok(files) => files,
            Err(e) => return error.set(Some(e)),
        };
        let values = collect_values(&target, &fields, files);
        let form_id = form_id.clone();
        leptos::task::spawn_local(async move {
            match answer_form(form_id, values).await {
                Ok(()) => refresh.update(|t| *t += 1),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form class="script-form panel" data-form=form.id.clone() on:submit=submit>
            {form.title.clone().map(|t| view! { <h3>{t}</h3> })}
            {form.description.clone().map(|d| view! { <p class="note">{d}</p> })}
            {form.fields.iter().map(|f| {
                let input = match f.kind.as_str() {
                    "textarea" => view! { <textarea class="field" name=f.key.clone() required=f.required>{f.default.clone()}</textarea> }.into_any(),
                    "select" => view! {
                        <select class="field" name=f.key.clone()>
                            {f.options.iter().map(|o| view! { <option value=o.clone() selected=f.default.as_deref() == Some(o.as_str())>{o.clone()}</option> }).collect_view()}
                        </select>
                    }.into_any(),
                    "checkbox" => view! { <input type="checkbox" name=f.key.clone() checked=f.default.as_deref() == Some("true")/> }.into_any(),
                    "file" => view! { <FileField form_id=form.id.clone() field=f.clone() uploads/> }.into_any(),
                    kind => view! { <input class="field" type=if kind == "password" { "password" } else { "text" } name=f.key.clone()
                        value=f.default.clone() required=f.required/> }.into_any(),
                };
                view! { <label class="form-field"><span>{f.title.clone()}</span>{input}</label> }
            }).collect_view()}
            {move || error.get().map(|e| view! { <p class="notice error">{e}</p> })}
            <button class="btn primary" type="submit">"Submit"</button>
        </form>
    }
}

/// The saved paths of a form's file fields, or what is still missing.
fn uploaded_files(
    form_id: &str,
    fields: &[crate::api::FormField],
    uploads: Uploads,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut out = serde_json::Map::new();
    for f in fields.iter().filter(|f| f.kind == "file") {
        match uploads.get(form_id, &f.key) {
            Some(Upload::Saved(path)) => {
                out.insert(f.key.clone(), path.into());
            }
            Some(Upload::Sending(_)) => {
                return Err(format!(
                    "{} is still uploading; submit once it is done",
                    f.title
                ))
            }
            _ if f.required => return Err(format!("{}: pick a file first", f.title)),
            _ => {}
        }
    }
    Ok(out)
}

/// Reads the submitted form's fields into a JSON object, with the file
/// fields' saved paths in `files` (browser only).
#[allow(unused_variables)]
fn collect_values(
    target: &leptos::web_sys::EventTarget,
    fields: &[crate::api::FormField],
    files: serde_json::Map<String, serde_json::Value>,
) -> String {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let mut out = files;
        if let Some(form) = target.dyn_ref::<leptos::web_sys::HtmlFormElement>() {
            for f in fields.iter().filter(|f| f.kind != "file") {
                let Some(el) = form.elements().named_item(&f.key) else {
                    continue;
                };
                let value = if let Some(input) = el.dyn_ref::<leptos::web_sys::HtmlInputElement>() {
                    if input.type_() == "checkbox" {
                        serde_json::Value::Bool(input.checked())
                    } else {
                        input.value().into()
                    }
                } else if let Some(area) = el.dyn_ref::<leptos::web_sys::HtmlTextAreaElement>() {
                    area.value().into()
                } else if let Some(select) = el.dyn_ref::<leptos::web_sys::HtmlSelectElement>() {
                    select.value().into()
                } else {
                    continue;
                };
                out.insert(f.key.clone(), value);
            }
        }
        serde_json::Value::Object(out).to_string()
    }
    #[cfg(not(feature = "hydrate"))]
    String::from("{}")
}
