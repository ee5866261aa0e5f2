//! The "Storage" section of Settings: whether dedup runs by itself after
//! installs and downloads (issue #10).

use crate::api::{dedup_auto, set_dedup_auto};
use leptos::prelude::*;

#[component]
pub fn StorageSettingsSection() -> impl IntoView {
    let save = Action::new(|on: &bool| set_dedup_auto(*on));
    let auto = Resource::new(move || save.version().get(), |_| dedup_auto());
    view! {
        <h2>"Storage"</h2>
        <p class="lede">"Identical model files are stored once, as links to one copy. The " <a href="/storage">"Storage page"</a> " shows what it saved."</p>
        <Transition fallback=|| view! { <p class="note">"Loading…"</p> }>
            {move || auto.get().map(|r| match r {
                Ok(on) => view! {
                    <label class="toggle-row">
                        <input type="checkbox" name="dedup_auto" prop:checked=on
                            on:change=move |ev| { save.dispatch(event_target_checked(&ev)); }/>
                        <span>
                            <strong>"Deduplicate after installs and downloads"</strong>
                            <span class="note">"A pass runs when an install or a download finishes. Off: only when you press Deduplicate now."</span>
                        </span>
                    </label>
                }.into_any(),
                Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
        {move || save.value().get().and_then(Result::err).map(|e| view! {
            <p class="notice error">{e.to_string()}</p>
        })}
    }
}
