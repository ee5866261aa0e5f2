use crate::api::{
    install_app, install_space_check, installed_apps, installs, whoami, InstallStatus,
};
use crate::auth::Role;
use crate::components::{AppIcon, DiskWarning, DownloadBar};
use crate::live::use_live;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use std::time::Duration;

/// `/my`: the apps installed on this machine, and installing from any git URL.
/// The list is re-read when the live channel says an app changed (running
/// badges, download bars, installs and removals).
#[component]
pub fn MyAppsPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    let live = use_live();
    let apps = Resource::new(move || live.any_app(), |_| installed_apps());
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
    // Free space is checked first; a warning waits for "Install anyway".
    let check = Action::new(|source: &String| install_space_check(source.clone()));
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
    let start = move || {
        install.dispatch((source.get_untracked(), folder.get_untracked()));
    };
    // Enough room (or no answer: a failed check never blocks): install now.
    Effect::new(move |_| {
        let checked = check.value().get();
        if checked.is_some_and(|c| c.map_or(true, |c| c.warning.is_none())) {
            start();
        }
    });
    let warning = move || {
        let asked = install.pending().get() || install.value().get().is_some();
        let checked = check.value().get().and_then(Result::ok);
        checked.and_then(|c| c.warning).filter(|_| !asked)
    };
    let anyway = Callback::new(move |()| start());
    let busy = move || install.pending().get() || check.pending().get();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        check.dispatch(source.get_untracked());
    };
    view! {
        <form class="install-form" on:submit=submit>
            <input class="field" name="source" placeholder="https://github.com/owner/app.git or a catalog id"
                required=true prop:value=move || source.get() on:input=move |ev| source.set(event_target_value(&ev))/>
            <input class="field" name="folder" placeholder="Folder (optional)"
                prop:value=move || folder.get() on:input=move |ev| folder.set(event_target_value(&ev))/>
            // Enabled with a warning shown: submitting another source checks again.
            <button class="btn primary" type="submit" disabled=busy>
                {move || match (check.pending().get(), install.pending().get()) {
                    (true, _) => "Checking space…",
                    (_, true) => "Installing…",
                    _ => "Install",
                }}
            </button>
        </form>
        {move || warning().map(|text| view! { <DiskWarning text on_anyway=anyway/> })}
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
