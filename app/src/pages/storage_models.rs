//! The Storage page's "Shared models" section: where the virtual drive's
//! model folders are kept, and moving them to a persistent volume (and
//! back) while venvs stay on the fast local disk.

use super::storage::{Actions, StorageAction};
use crate::api::{human_bytes, ModelsPlacement};
use leptos::prelude::*;

#[component]
pub fn ModelsSection(models: ModelsPlacement, actions: Actions) -> impl IntoView {
    let state = if models.moving { "moving" } else { "idle" };
    let place = if models.moved {
        "on a persistent volume"
    } else {
        "on this machine's disk"
    };
    let target = RwSignal::new(models.suggested.clone().unwrap_or_default());
    let asking = move || matches!(actions.asking.get(), Some(StorageAction::MoveModels(_)));
    let question = move || {
        actions
            .asking
            .get()
            .and_then(|a| a.question())
            .unwrap_or_default()
    };
    let confirm = move |_| {
        if let Some(action) = actions.asking.get_untracked() {
            actions.asking.set(None);
            actions.act.dispatch(action);
        }
    };
    let moving = models.moving;
    view! {
        <div class="panel" data-panel="models" data-models-state=state>
            <h2>"Shared models"</h2>
            <p class="kv"><span>{format!("Kept {place}")}</span><code>{models.folder.clone()}</code></p>
            {models.moving.then(|| view! {
                <p class="note">{format!("Moving… {} of {}", human_bytes(models.copied), human_bytes(models.total))}</p>
            })}
            {(!models.moved).then(|| view! {
                <p class="note">"Models that apps share (their virtual drive) can live on a persistent volume while Python environments stay on the fast local disk."</p>
                <label class="field">
                    <span>"Folder on the volume"</span>
                    <input type="text" name="models-target" placeholder="/workspace/pinokiocloud-models"
                        prop:value=move || target.get()
                        on:input=move |ev| target.set(event_target_value(&ev))/>
                </label>
                <button class="btn" type="button" disabled=move || moving || target.get().trim().is_empty()
                    on:click=move |_| actions.asking.set(Some(StorageAction::MoveModels(Some(target.get_untracked().trim().to_string()))))>
                    "Move the shared models there"</button>
            })}
            {models.moved.then(|| view! {
                <button class="btn" type="button" disabled=moving
                    on:click=move |_| actions.asking.set(Some(StorageAction::MoveModels(None)))>
                    "Move them back to this disk"</button>
            })}
            <Show when=asking>
                <span class="confirm-ask" role="alertdialog">
                    <span>{question}</span>
                    <button class="btn danger confirm-yes" type="button" on:click=confirm>"Confirm"</button>
                    <button class="btn confirm-no" type="button" on:click=move |_| actions.asking.set(None)>"Cancel"</button>
                </span>
            </Show>
            {models.last_result.map(|r| view! { <p class="notice info">{r}</p> })}
            {models.error.map(|e| view! { <p class="notice error" data-models-error="">{e}</p> })}
        </div>
    }
    .into_any()
}
