use super::NotFound;
use crate::api::{load_run_log, RunLogPage};
use crate::components::file_size as human_size;
use crate::time::format_utc;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// `/app/<name>/runs/<id>`: the full log of one run as plain text. Big logs
/// open at their tail; "Show earlier" prepends the page before, and the
/// download link saves the whole log as it was written.
#[component]
pub fn RunLogPage() -> impl IntoView {
    let params = use_params_map();
    let run_id = Memo::new(move |_| {
        params.with(|p| {
            p.get("id")
                .and_then(|id| id.parse::<i64>().ok())
                .unwrap_or(-1)
        })
    });
    let tail = Resource::new(move || run_id.get(), |id| load_run_log(id, None));
    view! {
        <Transition fallback=|| view! { <p class="note">"Loading…"</p> }>
            {move || tail.get().map(|r| match r {
                Ok(page) => view! { <LogView page/> }.into_any(),
                Err(_) => view! { <NotFound/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn LogView(page: RunLogPage) -> impl IntoView {
    let run = page.run.clone();
    let id = run.id;
    // Earlier pages, oldest first, and where the earliest shown one starts.
    let earlier = RwSignal::new(Vec::<String>::new());
    let start = RwSignal::new(page.start);
    let error = RwSignal::new(None::<String>);
    let more = Action::new(move |before: &u64| {
        let before = *before;
        async move {
            match load_run_log(id, Some(before)).await {
                Ok(p) => {
                    earlier.update(|e| e.insert(0, p.text));
                    start.set(p.start);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    });
    let outcome = run.outcome.clone().unwrap_or_else(|| "running".into());
    let title = format!("{} · run {id}", run.script);
    view! {
        <Title text=title.clone()/>
        <article class="run-log" data-run=id.to_string()>
            <a class="back" href=format!("/app/{}", run.app)>"← " {run.app.clone()}</a>
            <div class="detail-head">
                <h1>{run.script.clone()}</h1>
                <a class="btn" href=format!("/api/view/apps/runs/{id}/log?download=1") download="">"Download"</a>
            </div>
            <p class="muted">
                "Run " {id} " · " {format_utc(run.started_at)} " · "
                <span class=format!("outcome {outcome}")>{outcome.clone()}</span>
                " · " {human_size(page.total)}
            </p>
            {run.reason.clone().filter(|_| outcome != "ok").map(|why| view! { <pre class="reason">{why}</pre> })}
            {move || (start.get() > 0).then(|| view! {
                <button class="btn show-earlier" type="button" disabled=move || more.pending().get()
                    on:click=move |_| { more.dispatch(start.get_untracked()); }>
                    "Show earlier (" {human_size(start.get())} " more)"
                </button>
            })}
            {move || error.get().map(|e| view! { <p class="notice error">{e}</p> })}
            {(page.total == 0).then(|| view! { <p class="note">"This run wrote nothing."</p> })}
            <pre class="log-text">
                {move || earlier.get().concat()}
                {page.text.clone()}
            </pre>
        </article>
    }
}
