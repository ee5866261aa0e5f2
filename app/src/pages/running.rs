use crate::api::running_scripts;
use crate::live::use_live;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/running`: every script running on this machine, across apps. Re-read
/// when the live channel says runs changed; uptimes count on with the
/// server's clock from its system ticks, without asking again.
#[component]
pub fn RunningPage() -> impl IntoView {
    let live = use_live();
    let runs = Resource::new(move || live.runs(), |_| running_scripts());
    let now = move || live.system().map(|t| t.now);
    view! {
        <Title text="Running"/>
        <section class="running-page">
            <h1>"Running"</h1>
            <Transition fallback=|| view! { <p class="note">"Loading…"</p> }>
                {move || runs.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"Nothing is running."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="link-list">
                            {list.into_iter().map(|s| { let (started, up) = (s.run.started_at, s.uptime_secs); view! {
                                <li class="link-row" data-run=s.run.id.to_string()>
                                    <div class="link-main">
                                        <a href=format!("/app/{}", s.run.app)><strong>{s.run.app.clone()}</strong></a>
                                        <span class="muted">{s.run.script.clone()}</span>
                                        <span class="badge running">{move || uptime(now().map_or(up, |n| (n - started).max(up)))}</span>
                                    </div>
                                    {s.run.open_path.clone().map(|p| view! { <a class="btn" href=p target="_blank">"Open"</a> })}
                                </li>
                            }}).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// `3725` → `1h 2m`.
fn uptime(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{}h {}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uptime_reads_naturally() {
        assert_eq!(super::uptime(42), "42s");
        assert_eq!(super::uptime(125), "2m 5s");
        assert_eq!(super::uptime(3725), "1h 2m");
    }
}
