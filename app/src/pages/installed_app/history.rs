//! What happened: notices scripts surfaced and the run history with
//! links to each run's log.

use crate::api::RunInfo;
use crate::time::format_utc;
use leptos::prelude::*;

#[component]
pub fn Notices(notices: Vec<crate::api::Notice>) -> impl IntoView {
    (!notices.is_empty()).then(|| view! {
        <ul class="notices">
            {notices.into_iter().map(|n| view! {
                <li class=format!("notice info kind-{}", n.kind)>
                    {n.text.clone()}
                    {n.href.clone().map(|h| view! { " " <a class="btn" href=h target="_blank">"Open"</a> })}
                </li>
            }).collect_view()}
        </ul>
    })
}

/// Past runs, each with why it ended (unless it simply finished) and a
/// link to its full log.
#[component]
pub fn History(history: Vec<RunInfo>, app: String) -> impl IntoView {
    (!history.is_empty()).then(|| view! {
        <details class="history panel">
            <summary>"Run history (" {history.len()} ")"</summary>
            <ul>
                {history.into_iter().map(|r| {
                    let outcome = r.outcome.clone().unwrap_or_else(|| "running".into());
                    let why = r.reason.clone().filter(|_| !matches!(outcome.as_str(), "ok" | "running"));
                    view! {
                        <li data-outcome=outcome.clone() data-run=r.id.to_string()>
                            <div class="history-row">
                                <span class="history-what">
                                    <strong>{r.script.clone()}</strong> " · " {format_utc(r.started_at)} " · "
                                    <span class=format!("outcome {outcome}")>{outcome.clone()}</span>
                                </span>
                                <a class="btn log-link" href=format!("/app/{app}/runs/{}", r.id)>"Log"</a>
                            </div>
                            {why.map(|why| view! { <pre class="reason">{why}</pre> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </details>
    })
}
