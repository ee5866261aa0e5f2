//! The "Python environments" section of Settings: uv acceleration and
//! torch reuse for the whole home.

use crate::api::{python_settings, save_python_settings, PythonSetup};
use leptos::prelude::*;

#[component]
pub fn PythonSettingsSection() -> impl IntoView {
    let save = Action::new(|(acceleration, reuse): &(bool, bool)| {
        save_python_settings(*acceleration, *reuse)
    });
    let setup = Resource::new(move || save.version().get(), |_| python_settings());
    view! {
        <h2>"Python environments"</h2>
        <p class="lede">"How app installs build their venvs. Changes apply to scripts started afterwards; each app can override acceleration in its Configure panel."</p>
        <Transition fallback=|| view! { <p class="note">"Loading…"</p> }>
            {move || setup.get().map(|r| match r {
                Ok(s) => view! { <PythonForm setup=s save/> }.into_any(),
                Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
        {move || save.value().get().and_then(Result::err).map(|e| view! {
            <p class="notice error">{e.to_string()}</p>
        })}
    }
}

#[component]
fn PythonForm(
    setup: PythonSetup,
    save: Action<(bool, bool), Result<(), ServerFnError>>,
) -> impl IntoView {
    let acceleration = RwSignal::new(setup.acceleration);
    let reuse = RwSignal::new(setup.reuse_platform_torch);
    let store = move || {
        save.dispatch((acceleration.get_untracked(), reuse.get_untracked()));
    };
    view! {
        <div class="python-settings">
            <label class="toggle-row">
                <input type="checkbox" name="acceleration" prop:checked=move || acceleration.get()
                    on:change=move |ev| { acceleration.set(event_target_checked(&ev)); store(); }/>
                <span>
                    <strong>"Fast installs with uv"</strong>
                    <span class="note">"venvs are made by uv and pip commands go through it (falling back to pip when needed), sharing one download cache."</span>
                </span>
            </label>
            <label class="toggle-row">
                <input type="checkbox" name="reuse_platform_torch" prop:checked=move || reuse.get()
                    on:change=move |ev| { reuse.set(event_target_checked(&ev)); store(); }/>
                <span>
                    <strong>"Reuse the platform's torch"</strong>
                    <span class="note">"New venvs get the torch that ships with this machine's Python (as on Colab), linked rather than downloaded. Needs fast installs."</span>
                </span>
            </label>
            <p class="note">
                "uv: " {setup.uv.unwrap_or_else(|| "installed on first use".into())}
                " · cache: " <span class="mono">{setup.cache_dir}</span>
            </p>
        </div>
    }
}
