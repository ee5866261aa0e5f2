//! A running script: its head (Open, Stop), the download it is busy with,
//! and its live terminal. The terminal is mounted once per run; the head
//! follows the page's refreshes.

use crate::api::RunInfo;
use crate::components::{DownloadBar, Terminal};
use crate::time::format_utc;
use leptos::prelude::*;

#[component]
pub fn RunView(
    run: RunInfo,
    /// The page's current list of running scripts (this one's fresh state).
    running: Memo<Vec<RunInfo>>,
    stop: Action<i64, Result<(), ServerFnError>>,
    writable: bool,
) -> impl IntoView {
    let id = run.id;
    let live = Memo::new(move |_| running.with(|rs| rs.iter().find(|r| r.id == id).cloned()));
    let open = move || live.get().and_then(|r| r.open_path);
    let progress = move || live.get().and_then(|r| r.progress);
    view! {
        <section class="run panel" data-run=id.to_string()>
            <div class="run-head">
                <strong>{run.script.clone()}</strong>
                <span class="muted">" since " {format_utc(run.started_at)}</span>
                {move || open().map(|p| view! { <a class="btn" href=p target="_blank">"Open"</a> })}
                <button class="btn danger stop" type="button" disabled=!writable on:click=move |_| { stop.dispatch(id); }>"Stop"</button>
            </div>
            {move || progress().map(|progress| view! { <DownloadBar progress/> })}
            <Terminal run_id=id writable/>
        </section>
    }
}
