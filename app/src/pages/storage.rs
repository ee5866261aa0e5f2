//! `/storage` (admin): where the disk went and getting it back. Sizes come
//! from the server's background scan; the page polls only while a scan or
//! a dedup pass runs. Every action that deletes asks for confirmation
//! first, in place (a second button), so it works the same on a phone.

use super::storage_models::ModelsSection;
use super::storage_sections::{AppList, CacheSection, DedupSection, DriveSection, UsageChart};
use crate::api::{
    clear_app_caches, clear_download_cache, human_bytes, load_storage_overview, move_models,
    remove_app_venvs, start_dedup, storage_rescan, uninstall_app, FilesystemUsage, StorageOverview,
};
use crate::time::format_utc;
use leptos::prelude::*;
use leptos_meta::Title;
use std::time::Duration;

/// How often the page asks for progress while something runs.
const POLL: Duration = Duration::from_millis(1500);

/// What a button on the page asks the server to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageAction {
    ClearAppCaches(String),
    RemoveVenvs(String),
    Uninstall(String),
    ClearDownloadCache,
    Dedup,
    Rescan,
    /// To a folder on a volume; `None`: back to the home's disk.
    MoveModels(Option<String>),
}

impl StorageAction {
    /// The question asked before a destructive action (`None`: no question).
    pub fn question(&self) -> Option<String> {
        Some(match self {
            StorageAction::ClearAppCaches(app) => format!("Delete {app}'s cache folders? Models it keeps in its cache download again on next use."),
            StorageAction::RemoveVenvs(app) => format!("Delete {app}'s Python environments? Run its Install again to bring them back."),
            StorageAction::Uninstall(app) => format!("Uninstall {app}? Its folder is deleted; shared drive folders stay."),
            StorageAction::ClearDownloadCache => "Empty the download caches (uv, pip, npm, Hugging Face)? Your Hugging Face token is kept.".into(),
            StorageAction::MoveModels(Some(to)) => format!("Move the shared models to {to}? They are copied there, then deleted here; apps keep finding them. Stop running apps first."),
            StorageAction::MoveModels(None) => "Move the shared models back to this machine's disk? They are copied here, then deleted from the volume. Stop running apps first.".into(),
            StorageAction::Dedup | StorageAction::Rescan => return None,
        })
    }
}

async fn perform(action: StorageAction) -> Result<String, ServerFnError> {
    match action {
        StorageAction::ClearAppCaches(app) => clear_app_caches(app).await,
        StorageAction::RemoveVenvs(app) => remove_app_venvs(app).await,
        StorageAction::Uninstall(app) => {
            uninstall_app(app.clone()).await?;
            Ok(format!("Uninstalled {app}."))
        }
        StorageAction::ClearDownloadCache => clear_download_cache().await,
        StorageAction::Dedup => {
            start_dedup().await?;
            Ok("Deduplication started.".into())
        }
        StorageAction::Rescan => {
            storage_rescan().await?;
            Ok("Measuring again…".into())
        }
        StorageAction::MoveModels(to) => {
            move_models(to).await?;
            Ok("Moving the shared models…".into())
        }
    }
}

/// What the sections share: the action to dispatch and the question open now.
#[derive(Clone, Copy)]
pub struct Actions {
    pub act: Action<StorageAction, Result<String, ServerFnError>>,
    /// The destructive action waiting for its confirmation, if any.
    pub asking: RwSignal<Option<StorageAction>>,
}

#[component]
pub fn StoragePage() -> impl IntoView {
    let tick = RwSignal::new(0u64);
    let busy = RwSignal::new(false);
    // Polling runs in the browser only, and only while something runs.
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                if busy.get_untracked() {
                    tick.update(|t| *t += 1)
                }
            },
            POLL,
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    });
    let actions = Actions {
        act: Action::new(|a: &StorageAction| perform(a.clone())),
        asking: RwSignal::new(None),
    };
    let overview = Resource::new(
        move || (tick.get(), actions.act.version().get()),
        |_| load_storage_overview(),
    );
    Effect::new(move |_| {
        if let Some(Ok(o)) = overview.get() {
            busy.set(o.scan.running || o.dedup.running || o.models.moving);
        }
    });
    view! {
        <Title text="Storage"/>
        <section class="storage">
            <h1>"Storage"</h1>
            {move || actions.act.value().get().map(|r| match r {
                Ok(text) => view! { <p class="notice info" data-result="ok">{text}</p> }.into_any(),
                Err(err) => view! { <p class="notice error" data-result="error">{err.to_string()}</p> }.into_any(),
            })}
            <Transition fallback=|| view! { <p class="note">"Loading…"</p> }>
                {move || overview.get().map(|result| match result {
                    Ok(o) => view! { <OverviewView o actions/> }.into_any(),
                    Err(err) => view! { <p class="notice error">{err.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn OverviewView(o: StorageOverview, actions: Actions) -> impl IntoView {
    let StorageOverview {
        usage,
        scan,
        dedup,
        models,
    } = o;
    let state = if scan.running { "running" } else { "idle" };
    let line = match (&usage, scan.running) {
        (_, true) => format!(
            "Measuring… {} files, {} so far",
            scan.files,
            human_bytes(scan.bytes)
        ),
        (Some(u), false) => format!(
            "{} in {} files · measured {}",
            human_bytes(u.total_bytes),
            u.files,
            format_utc(u.scanned_at)
        ),
        (None, false) => "Not measured yet.".into(),
    };
    view! {
        <div class="scan-line" data-scan-state=state>
            <span>{line}</span>
            <button class="btn" type="button" disabled=scan.running
                on:click=move |_| { actions.act.dispatch(StorageAction::Rescan); }>"Measure again"</button>
        </div>
        {scan.error.map(|e| view! { <p class="notice error">{format!("The last measurement failed: {e}")}</p> })}
        {usage.map(|u| view! {
            <Filesystems list=u.filesystems.clone()/>
            <UsageChart usage=u.clone()/>
            <AppList apps=u.apps.clone() actions/>
            <DriveSection drive=u.drive.clone()/>
            <CacheSection cache=u.download_cache.clone() other=u.other.clone() actions/>
        })}
        <DedupSection dedup actions/>
        <ModelsSection models actions/>
    }
    .into_any()
}

#[component]
fn Filesystems(list: Vec<FilesystemUsage>) -> impl IntoView {
    view! {
        <div class="panel" data-panel="filesystems">
            <h2>"Disks"</h2>
            {list.into_iter().map(|f| {
                let used = f.total_bytes.saturating_sub(f.free_bytes);
                let pct = if f.total_bytes == 0 { 0.0 } else { used as f64 / f.total_bytes as f64 * 100.0 };
                view! {
                    <div class="fs-row" data-mount=f.mount_point.clone()>
                        <p class="kv"><strong>{f.label.clone()}</strong>
                            <span class="muted">" " {format!("{} free of {}", human_bytes(f.free_bytes), human_bytes(f.total_bytes))}</span></p>
                        <div class="meter" role="meter" aria-valuenow=format!("{pct:.0}") aria-valuemin="0" aria-valuemax="100">
                            <div class="meter-fill" style=format!("width: {pct:.1}%")></div>
                        </div>
                        <p class="note">"Holds: " {f.holds.join(", ")}</p>
                    </div>
                }
            }).collect_view()}
        </div>
    }
    .into_any()
}

/// A destructive button that asks first: the first click shows the
/// question with Confirm and Cancel; only Confirm dispatches.
#[component]
pub fn ConfirmButton(
    action: StorageAction,
    label: &'static str,
    actions: Actions,
    #[prop(optional)] disabled: bool,
) -> impl IntoView {
    let question = action.question().unwrap_or_default();
    let mine = action.clone();
    let asking = move || actions.asking.get().as_ref() == Some(&mine);
    let ask = action.clone();
    let run = action.clone();
    view! {
        <span class="confirm" data-action=label>
            <button class="btn danger" type="button" disabled=move || disabled || actions.act.pending().get()
                on:click=move |_| actions.asking.set(Some(ask.clone()))>{label}</button>
            <Show when=asking.clone()>
                <span class="confirm-ask" role="alertdialog">
                    <span>{question.clone()}</span>
                    <button class="btn danger confirm-yes" type="button" on:click={
                        let run = run.clone();
                        move |_| { actions.asking.set(None); actions.act.dispatch(run.clone()); }
                    }>"Confirm"</button>
                    <button class="btn confirm-no" type="button" on:click=move |_| actions.asking.set(None)>"Cancel"</button>
                </span>
            </Show>
        </span>
    }
    .into_any()
}
