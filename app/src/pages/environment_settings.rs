//! The "Environment" section of Settings: the home ENVIRONMENT file, the
//! variables every app's processes get, edited as text and saved only when
//! every line is valid.

use crate::api::{home_environment, save_home_environment, HomeEnvironmentFile};
use leptos::prelude::*;

#[component]
pub fn EnvironmentSettingsSection() -> impl IntoView {
    // Loaded once: a refused save must not replace what the person typed.
    let file = Resource::new(|| (), |_| home_environment());
    view! {
        <h2>"Environment"</h2>
        <p class="lede">"Variables every app's processes get: one NAME=value per line, # starts a comment, values starting with ./ are relative to the home folder, empty values are ignored. Each app's own ENVIRONMENT (in its Configure panel) wins over these. Scripts started after saving see the changes."</p>
        <Transition fallback=|| view! { <p class="note">"Loading…"</p> }>
            {move || file.get().map(|r| match r {
                Ok(f) => view! { <EnvironmentForm file=f/> }.into_any(),
                Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn EnvironmentForm(file: HomeEnvironmentFile) -> impl IntoView {
    let save = Action::new(|text: &String| save_home_environment(text.clone()));
    let text = RwSignal::new(file.text);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(text.get_untracked());
    };
    view! {
        <form class="env-form" on:submit=submit>
            <label for="home-environment" class="note">"File: " <span class="mono">{file.path}</span></label>
            <textarea id="home-environment" name="home_environment" class="field mono env-text" rows="16"
                spellcheck="false" autocapitalize="off"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <button class="btn primary" type="submit" disabled=move || save.pending().get()>"Save environment"</button>
        </form>
        {move || save.value().get().map(|r| match r {
            Ok(()) => view! { <p class="notice info env-saved">"Saved. Scripts started from now on get these values."</p> }.into_any(),
            Err(e) => view! { <p class="notice error env-problems">{e.to_string()}</p> }.into_any(),
        })}
    }
}
