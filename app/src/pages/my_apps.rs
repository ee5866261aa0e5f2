use crate::api::{install_app, installed_apps, installs, whoami, InstallStatus};
use crate::auth::Role;
use crate::components::{AppIcon, DownloadBar};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use std::time::Duration;

/// How often a list with running apps is re-read.
const POLL: Duration = Duration::from_millis(2000);

/// `/my`: the apps installed on this machine, and installing from any git URL.
#[component]
pub fn MyAppsPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    let poll = RwSignal::new(0u64);
    let apps = Resource::new(move || poll.get(), |_| installed_apps());
    // While something runs, re-read the list so running badges and
    // download bars stay current; an idle list is left alone.
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                let busy = apps.with_untracked(|r| {
                    r.as_ref()
                        .and_then(|r| r.as_ref().ok())
                        .is_some_and(|list| list.iter().any(|a| a.running > 0))
                });
                if busy {
                    poll.update(|n| *n += 1);
                }
            },
            POLL,
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    let is_admin = move || {
        me.get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|v| v.role.allows(Role::Admin))
    };
    view! {
        <Title text="My apps"/>
        <section class="my-apps">
            <h1>"My apps"</h1>
            <Transition fallback=|| ()>
                {move || is_admin().then(|| view! { <InstallForm/> })}
            </Transition>
            <Transition fallback=|| view! { <p class="note">"Loading…"</p> }>
                {move || apps.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty"><p class="empty-title">"Nothing installed yet."</p>
                        <p>"Pick an app in the " <a href="/">"catalog"</a> " or paste a git URL."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="grid">
                            {list.into_iter().map(|app| view! {
                                <li class="card" data-installed=app.name.clone()>
                                    <a class="card-link" href=format!("/app/{}", app.name)>
                                        <div class="card-head">
                                            <AppIcon title=app.title.clone() url=app.icon_url.clone()/>
                                            <h3 class="card-title">{app.title.clone()}</h3>
                                            {(app.running > 0).then(|| view! { <span class="badge running">"running"</span> })}
                                        </div>
                                        <p class="card-desc">{app.description.clone().unwrap_or_default()}</p>
                                        {app.progress.clone().map(|progress| view! { <DownloadBar progress/> })}
                                        <p class="card-author">{app.name.clone()}</p>
                                    </a>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(err) => view! { <p class="notice error">{err.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// Paste a git URL (or a catalog id); shows clone progress, then opens the app.
#[component]
pub fn InstallForm(#[prop(optional, into)] source: String) -> impl IntoView {
    let source = RwSignal::new(source);
    let folder = RwSignal::new(String::new());
    let install = Action::new(|(source, folder): &(String, String)| {
        install_app(source.clone(), Some(folder.clone()))
    });
    let progress = RwSignal::new(Vec::<InstallStatus>::new());
    // While an install runs, poll its progress (browser only).
    Effect::new(move |_| {
        if !install.pending().get() {
            return;
        }
        let handle = set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    if let Ok(list) = installs().await {
                        progress.set(list);
                    }
                })
            },
            Duration::from_millis(400),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(name)) = install.value().get() {
            navigate(&format!("/app/{name}"), Default::default());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        install.dispatch((source.get_untracked(), folder.get_untracked()));
    };
    view! {
        <form class="install-form" on:submit=submit>
            <input class="field" name="source" placeholder="https://github.com/owner/app.git or a catalog id"
                required=true prop:value=move || source.get() on:input=move |ev| source.set(event_target_value(&ev))/>
            <input class="field" name="folder" placeholder="Folder (optional)"
                prop:value=move || folder.get() on:input=move |ev| folder.set(event_target_value(&ev))/>
            <button class="btn primary" type="submit" disabled=move || install.pending().get()>
                {move || if install.pending().get() { "Installing…" } else { "Install" }}
            </button>
        </form>
        {move || install.pending().get().then(|| view! {
            <div class="install-progress">
                {move || progress.get().into_iter().filter(|p| p.phase != "done").map(|p| view! {
                    <p class="note">{p.app.clone()} ": " {p.stage.clone().unwrap_or_else(|| p.phase.clone())}</p>
                    <div class="meter"><div class="meter-fill" style=format!("width: {}%", p.overall)></div></div>
                }).collect_view()}
            </div>
        })}
        {move || install.value().get().and_then(Result::err).map(|err| view! {
            <p class="notice error">{err.to_string()}</p>
        })}
    }
}
