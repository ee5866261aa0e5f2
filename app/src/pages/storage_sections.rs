//! The Storage page's sections below the disks: the usage chart, each app
//! with its actions, the shared drive, download caches and dedup.

use super::storage::{Actions, ConfirmButton, StorageAction};
use crate::api::{
    human_bytes, AppUsage, CacheUsage, DedupStatus, DriveUsage, SizedEntry, StorageUsage,
};
use crate::time::format_utc;
use leptos::prelude::*;

/// Kinds of content, in chart order, with their CSS class.
const KINDS: [(&str, &str); 5] = [
    ("code", "Code"),
    ("venv", "Venvs"),
    ("model", "Models"),
    ("cache", "Caches"),
    ("log", "Logs"),
];

fn kind_sizes(a: &AppUsage) -> [u64; 5] {
    [
        a.code_bytes,
        a.venv_bytes,
        a.model_bytes,
        a.cache_bytes,
        a.log_bytes,
    ]
}

/// One bar per app plus the drive, the caches and the rest, scaled to the
/// biggest; app bars are split by kind of content.
#[component]
pub fn UsageChart(usage: StorageUsage) -> impl IntoView {
    let mut rows: Vec<(String, Vec<(&'static str, u64)>)> = usage
        .apps
        .iter()
        .map(|a| {
            let parts = KINDS.iter().zip(kind_sizes(a)).map(|((c, _), b)| (*c, b));
            (a.name.clone(), parts.collect())
        })
        .collect();
    rows.push(("Shared drive".into(), vec![("drive", usage.drive.bytes)]));
    rows.push((
        "Download caches".into(),
        vec![("cache", usage.download_cache.bytes)],
    ));
    let other: u64 = usage.other.iter().map(|o| o.bytes).sum();
    rows.push(("Everything else".into(), vec![("other", other)]));
    let max = rows
        .iter()
        .map(|(_, parts)| parts.iter().map(|p| p.1).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    view! {
        <div class="panel" data-panel="chart">
            <h2>"Where it goes"</h2>
            <ul class="legend">
                {KINDS.iter().map(|(class, name)| view! { <li><i class=format!("swatch {class}")></i>{*name}</li> }).collect_view()}
                <li><i class="swatch drive"></i>"Drive"</li>
            </ul>
            <ul class="usage-bars">
                {rows.into_iter().map(|(name, parts)| {
                    let total: u64 = parts.iter().map(|p| p.1).sum();
                    let row = name.clone();
                    view! {
                        <li class="usage-row" data-row=row>
                            <span class="usage-name">{name}</span>
                            <span class="usage-size">{human_bytes(total)}</span>
                            <span class="usage-track">
                                <span class="usage-bar" style=format!("width: {:.2}%", total as f64 / max as f64 * 100.0)>
                                    {parts.into_iter().filter(|p| p.1 > 0).map(|(class, bytes)| view! {
                                        <span class=format!("seg {class}") title=human_bytes(bytes)
                                            style=format!("flex-grow: {bytes}")></span>
                                    }).collect_view()}
                                </span>
                            </span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

#[component]
pub fn AppList(apps: Vec<AppUsage>, actions: Actions) -> impl IntoView {
    view! {
        <div class="panel" data-panel="apps">
            <h2>"Apps"</h2>
            {apps.is_empty().then(|| view! { <p class="note">"No apps installed."</p> })}
            {apps.into_iter().map(|a| view! { <AppCard a actions/> }).collect_view()}
        </div>
    }
    .into_any()
}

#[component]
fn AppCard(a: AppUsage, actions: Actions) -> impl IntoView {
    let name = a.name.clone();
    let sizes = kind_sizes(&a);
    let no_caches = a.cache_bytes == 0 && a.caches.is_empty();
    let no_venvs = a.venvs.is_empty();
    view! {
        <div class="storage-app" data-app=name.clone()>
            <p class="storage-app-head">
                <a href=format!("/app/{name}")><strong>{name.clone()}</strong></a>
                <span class="app-total">{human_bytes(a.total_bytes)}</span>
                {a.running.then(|| view! { <span class="badge running">"running"</span> })}
            </p>
            <dl class="kinds">
                {KINDS.iter().zip(sizes).map(|((class, label), bytes)| view! {
                    <div data-kind=*class><dt><i class=format!("swatch {class}")></i>{*label}</dt><dd>{human_bytes(bytes)}</dd></div>
                }).collect_view()}
            </dl>
            {(!a.venvs.is_empty()).then(|| view! { <p class="note">"Venvs: " {a.venvs.join(", ")}</p> })}
            {(!a.caches.is_empty()).then(|| view! { <p class="note">"Caches: " {a.caches.join(", ")}</p> })}
            {(!a.drive_links.is_empty()).then(|| view! {
                <p class="note">"Links into the drive: "
                    {a.drive_links.iter().map(|l| format!("{} → {}", l.path, l.folder)).collect::<Vec<_>>().join(", ")}</p>
            })}
            <div class="storage-actions">
                <ConfirmButton action=StorageAction::ClearAppCaches(name.clone()) label="Clear caches" actions disabled=no_caches/>
                <ConfirmButton action=StorageAction::RemoveVenvs(name.clone()) label="Remove venvs" actions disabled=no_venvs || a.running/>
                <ConfirmButton action=StorageAction::Uninstall(name.clone()) label="Uninstall" actions/>
            </div>
            {(a.running && !no_venvs).then(|| view! { <p class="note">"Stop it to remove its venvs."</p> })}
        </div>
    }
    .into_any()
}

#[component]
pub fn DriveSection(drive: DriveUsage) -> impl IntoView {
    view! {
        <div class="panel" data-panel="drive">
            <h2>"Shared drive " <span class="muted">{human_bytes(drive.bytes)}</span></h2>
            <p class="note mono">{drive.root}</p>
            {drive.folders.is_empty().then(|| view! { <p class="note">"Nothing in the drive yet."</p> })}
            <ul class="drive-folders">
                {drive.folders.into_iter().map(|f| view! {
                    <li data-folder=f.name.clone()>
                        <span class="mono">{f.name.clone()}</span>
                        <span>{human_bytes(f.bytes)}</span>
                        <span class="note">{if f.linked_by.is_empty() { "linked by no app".to_string() } else { format!("linked by {}", f.linked_by.join(", ")) }}</span>
                    </li>
                }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

#[component]
pub fn CacheSection(cache: CacheUsage, other: Vec<SizedEntry>, actions: Actions) -> impl IntoView {
    view! {
        <div class="panel" data-panel="download-cache">
            <h2>"Download caches " <span class="cache-total">{human_bytes(cache.bytes)}</span></h2>
            <p class="note">"What uv, pip, npm and Hugging Face downloaded, kept to make reinstalls fast. Safe to clear."</p>
            <ul class="sized-list">
                {cache.folders.into_iter().map(|f| view! { <li><span class="mono">{f.name}</span><span>{human_bytes(f.bytes)}</span></li> }).collect_view()}
            </ul>
            <ConfirmButton action=StorageAction::ClearDownloadCache label="Clear download caches" actions disabled=cache.bytes == 0/>
            {(!other.is_empty()).then(|| view! {
                <h3>"Everything else"</h3>
                <ul class="sized-list">
                    {other.into_iter().map(|f| view! { <li><span class="mono">{f.name}</span><span>{human_bytes(f.bytes)}</span></li> }).collect_view()}
                </ul>
            })}
        </div>
    }
    .into_any()
}

#[component]
pub fn DedupSection(dedup: DedupStatus, actions: Actions) -> impl IntoView {
    let last = dedup.last_pass_at.map_or("never".to_string(), format_utc);
    let state = if dedup.running { "running" } else { "idle" };
    view! {
        <div class="panel" data-panel="dedup" data-dedup-state=state>
            <h2>"Duplicates"</h2>
            <p class="kv"><span>"Saved"</span>{format!("{} by linking {} identical files", human_bytes(dedup.bytes_saved), dedup.files_linked)}</p>
            {(dedup.pending_files > 0).then(|| view! {
                <p class="kv"><span>"Found, not yet linked"</span>{format!("{} files, {}", dedup.pending_files, human_bytes(dedup.pending_bytes))}</p>
            })}
            <p class="kv"><span>"Last pass"</span>{last}</p>
            <p class="kv"><span>"After installs and downloads"</span>
                {if dedup.auto { "on" } else { "off" }} " (" <a href="/settings">"Settings"</a> ")"</p>
            {(!dedup.changed.is_empty()).then(|| view! {
                <p class="notice error">"Files changed after they were linked (their twins changed too): " {dedup.changed.join(", ")}</p>
            })}
            <button class="btn primary" type="button" disabled=dedup.running
                on:click=move |_| { actions.act.dispatch(StorageAction::Dedup); }>"Deduplicate now"</button>
            {dedup.running.then(|| view! { <p class="note">{dedup.progress.clone().unwrap_or_else(|| "Starting…".into())}</p> })}
            {dedup.last_result.map(|r| view! { <p class="notice info">{r}</p> })}
            {dedup.error.map(|e| view! { <p class="notice error">{e}</p> })}
        </div>
    }
    .into_any()
}
