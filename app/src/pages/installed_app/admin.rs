//! Admin-only parts of the app page: Configure (ENVIRONMENT, autostart,
//! Python acceleration), Rename and Uninstall.

use super::RenameAction;
use crate::api::{
    app_environment, set_app_acceleration, set_app_environment, set_autostart, uninstall_app,
};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// Renames the app's folder (its URL and `/p/<name>/` change with it).
/// A running app is refused rather than stopped: stopping someone's
/// generation to rename a folder would be a surprise; the error says to
/// stop it first. The action lives with the page, which navigates to the
/// new name when it succeeds.
#[component]
pub fn Rename(name: String, rename: RenameAction) -> impl IntoView {
    view! {
        <details class="rename panel">
            <summary>"Rename"</summary>
            <form class="rename-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let Some(form) = ev.target() else { return };
                if let Some(to) = named_value(&form, "to") {
                    rename.dispatch((name.clone(), to));
                }
            }>
                <label><span>"New folder name"</span>
                    <input class="field mono" name="to" required=true autocomplete="off"
                        aria-describedby="rename-help"/>
                </label>
                <button class="btn" type="submit" disabled=move || rename.pending().get()>"Rename"</button>
            </form>
            <p class="note" id="rename-help">"Letters, digits, '.', '_' and '-'. Stop the app's scripts first."</p>
            {move || rename.value().get().and_then(Result::err).map(|e| view! {
                <p class="notice error rename-error">{e.to_string().trim_start_matches("error running server function: ").to_string()}</p>
            })}
        </details>
    }
}

#[component]
pub fn Uninstall(name: String) -> impl IntoView {
    let navigate = use_navigate();
    let uninstall = Action::new(|name: &String| uninstall_app(name.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = uninstall.value().get() {
            navigate("/my", Default::default());
        }
    });
    view! {
        <div class="danger-zone">
            <button class="btn danger" type="button" on:click=move |_| {
                if window().confirm_with_message("Uninstall this app? Its scripts are stopped and its folder is deleted.").unwrap_or(false) {
                    uninstall.dispatch(name.clone());
                }
            }>"Uninstall"</button>
            {move || uninstall.value().get().and_then(Result::err).map(|e| view! { <p class="notice error">{e.to_string()}</p> })}
        </div>
    }
}

/// Admin settings of an app: its ENVIRONMENT variables (secrets masked: an
/// empty field keeps the stored value), whether it starts with the
/// dashboard, and whether its Python installs go through uv.
#[component]
pub fn Configure(name: String, autostart: bool, acceleration: Option<bool>) -> impl IntoView {
    let saved = RwSignal::new(0u32);
    let env = Resource::new(move || saved.get(), {
        let name = name.clone();
        move |_| app_environment(name.clone())
    });
    let save = Action::new({
        let name = name.clone();
        move |(key, value): &(String, String)| {
            let (name, key, value) = (name.clone(), key.clone(), value.clone());
            async move {
                let r = set_app_environment(name, key, value).await;
                saved.update(|n| *n += 1);
                r
            }
        }
    });
    let toggle = Action::new({
        let name = name.clone();
        move |on: &bool| set_autostart(name.clone(), *on)
    });
    let accelerate = Action::new({
        let name = name.clone();
        move |on: &Option<bool>| set_app_acceleration(name.clone(), *on)
    });
    let choice = match acceleration {
        None => "default",
        Some(true) => "on",
        Some(false) => "off",
    };
    view! {
        <details class="configure panel">
            <summary>"Configure"</summary>
            <label class="autostart">
                <input type="checkbox" checked=autostart on:change=move |ev| { toggle.dispatch(event_target_checked(&ev)); }/>
                " Start this app when the dashboard starts"
            </label>
            <label class="form-field acceleration">
                <span>"Python installs"</span>
                <select class="field" name="python_acceleration" on:change=move |ev| {
                    let on = match event_target_value(&ev).as_str() { "on" => Some(true), "off" => Some(false), _ => None };
                    accelerate.dispatch(on);
                }>
                    {[("default", "As in Settings"), ("on", "Fast, with uv"), ("off", "Plain venv and pip")].into_iter().map(|(value, text)| view! {
                        <option value=value selected=choice == value>{text}</option>
                    }).collect_view()}
                </select>
            </label>
            {move || accelerate.value().get().and_then(Result::err).map(|e| view! { <p class="notice error">{e.to_string()}</p> })}
            <Transition fallback=|| ()>
                {move || env.get().map(|r| match r {
                    Ok(vars) if vars.is_empty() => view! { <p class="note">"No ENVIRONMENT variables yet."</p> }.into_any(),
                    Ok(vars) => vars.into_iter().map(|v| {
                        let key = v.key.clone();
                        let secret = v.value.is_none();
                        let placeholder = match (secret, v.is_set) {
                            (true, true) => "set (hidden) — type to replace",
                            (true, false) => "empty",
                            _ => "",
                        };
                        view! {
                            <form class="env-row" data-key=key.clone() on:submit=move |ev: leptos::ev::SubmitEvent| {
                                ev.prevent_default();
                                let Some(form) = ev.target() else { return };
                                if let Some(value) = named_value(&form, "value") {
                                    save.dispatch((key.clone(), value));
                                }
                            }>
                                <label><span class="mono">{v.key.clone()}</span>
                                    <input class="field" name="value" type=if secret { "password" } else { "text" }
                                        value=v.value.clone().unwrap_or_default() placeholder=placeholder autocomplete="off"/>
                                </label>
                                <button class="btn" type="submit">"Save"</button>
                            </form>
                        }
                    }).collect_view().into_any(),
                    Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <form class="env-row env-new" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let Some(form) = ev.target() else { return };
                if let (Some(key), Some(value)) = (named_value(&form, "key"), named_value(&form, "value")) {
                    save.dispatch((key.trim().to_string(), value));
                }
            }>
                <label><span>"New variable"</span><input class="field mono" name="key" placeholder="NAME" required=true/></label>
                <label><span>"Value"</span><input class="field" name="value" autocomplete="off"/></label>
                <button class="btn" type="submit">"Add"</button>
            </form>
            {move || save.value().get().and_then(Result::err).map(|e| view! { <p class="notice error">{e.to_string()}</p> })}
        </details>
    }
}

/// The input called `name` of a submitted form (browser only).
#[allow(unused_variables)]
fn named_value(target: &leptos::web_sys::EventTarget, name: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let form = target.dyn_ref::<leptos::web_sys::HtmlFormElement>()?;
        let input = form.elements().named_item(name)?;
        input
            .dyn_ref::<leptos::web_sys::HtmlInputElement>()
            .map(|i| i.value())
    }
    #[cfg(not(feature = "hydrate"))]
    None
}
