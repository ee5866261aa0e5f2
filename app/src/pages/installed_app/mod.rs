//! `/app/<name>`: an installed app's launcher menu, its live terminals,
//! the questions its scripts ask, and its run history.
//!
//! The page is rendered once from the server's answer and then re-reads the
//! app when the live channel says it changed (`crate::live`): each part
//! re-renders only when its own data changes, and running scripts and open
//! forms are keyed, so a terminal stays connected and a half-filled form
//! keeps its text across refreshes.

mod admin;
mod forms;
mod history;
mod menu;
mod origin;
mod runs;
mod torch;

use super::NotFound;
use crate::api::{load_app_page, rename_app, start_script, stop_run, whoami, AppPage, RunInfo};
use crate::auth::Role;
use crate::components::{AppIcon, Toast, ToastRegion, Toasts, Uploads};
use crate::live::use_live;
use admin::{Configure, Rename, Uninstall};
use forms::FormView;
use history::{History, Notices};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use menu::{MenuList, PreList};
use origin::OriginPanel;
use runs::RunView;
use torch::TorchNotice;

/// Renames `(app, to)`; answers the new name.
type RenameAction = Action<(String, String), Result<String, ServerFnError>>;

#[component]
pub fn InstalledAppPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    // The page and the viewer's role in one resource: with two, the server's
    // Transition re-rendered when each arrived, and the two renders could race
    // (one panicked on a memo the other had disposed, and the request hung).
    let page = Resource::new(
        move || name.get(),
        |name| async move {
            let role = whoami()
                .await
                .ok()
                .flatten()
                .map_or(Role::Viewer, |v| v.role);
            load_app_page(name).await.map(|page| (page, role))
        },
    );
    let toasts = Toasts::new();
    let uploads = Uploads::new();
    let rename: RenameAction =
        Action::new(|(name, to): &(String, String)| rename_app(name.clone(), to.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(to)) = rename.value().get() {
            navigate(&format!("/app/{to}"), Default::default());
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="note">"Loading…"</p> }>
            {move || page.get().map(|r| match r {
                Ok((page, role)) => {
                    let role = Signal::stored(role);
                    view! { <AppView page role toasts uploads rename/> }.into_any()
                }
                Err(_) => view! { <NotFound/> }.into_any(),
            })}
        </Transition>
        <ToastRegion toasts/>
    }
}

/// What may be news on the page: notices (`notify`, `open`, errors) and
/// runs that failed.
fn toast_candidates(page: &AppPage) -> Vec<Toast> {
    let notices = page.notices.iter().map(|n| Toast {
        key: format!("notice:{}", n.id),
        kind: if n.kind == "error" { "error" } else { "info" },
        text: n.text.clone(),
    });
    let failures = page
        .history
        .iter()
        .filter(|r| r.outcome.as_deref() == Some("error"))
        .map(|r| Toast {
            key: format!("run:{}", r.id),
            kind: "error",
            text: match r.reason.as_deref().and_then(|w| w.lines().next()) {
                Some(why) => format!("{} failed: {why}", r.script),
                None => format!("{} failed", r.script),
            },
        });
    notices.chain(failures).collect()
}

/// Keeps `state` fresh in the browser: when the live channel says the app
/// changed, and at once when `poke` changes (after Start, Stop, an answer).
/// Answers older than one already applied are dropped.
fn follow(name: String, state: RwSignal<AppPage>, poke: RwSignal<u64>) {
    let live = use_live();
    let changed = {
        let name = name.clone();
        Memo::new(move |_| live.app(&name))
    };
    let asked = StoredValue::new(0u64);
    let applied = StoredValue::new(0u64);
    Effect::new(move |first: Option<()>| {
        // Read, not just tracked: a memo is computed lazily, and one never
        // computed has no sources to hear from.
        let _ = changed.get();
        poke.track();
        if first.is_none() {
            return;
        }
        asked.update_value(|n| *n += 1);
        let (me, name) = (asked.get_value(), name.clone());
        leptos::task::spawn_local(async move {
            if let Ok(fresh) = load_app_page(name).await {
                if me > applied.get_value() {
                    applied.set_value(me);
                    if state.with_untracked(|s| *s != fresh) {
                        state.set(fresh);
                    }
                }
            }
        });
    });
}

#[component]
fn AppView(
    page: AppPage,
    role: Signal<Role>,
    toasts: Toasts,
    uploads: Uploads,
    rename: RenameAction,
) -> impl IntoView {
    let name = page.app.name.clone();
    let (autostart, acceleration) = (page.app.autostart, page.python_acceleration);
    let state = RwSignal::new(page);
    let poke = RwSignal::new(0u64);
    follow(name.clone(), state, poke);
    Effect::new(move |_| state.with(|p| toasts.offer(toast_candidates(p))));

    let app = Memo::new(move |_| state.with(|p| p.app.clone()));
    let menu = Memo::new(move |_| state.with(|p| p.menu.clone()));
    let menu_error = Memo::new(move |_| state.with(|p| p.menu_error.clone()));
    let forms = Memo::new(move |_| state.with(|p| p.forms.clone()));
    let running = Memo::new(move |_| state.with(|p| p.running.clone()));
    let notices = Memo::new(move |_| state.with(|p| p.notices.clone()));
    let history = Memo::new(move |_| state.with(|p| p.history.clone()));
    let torch = Memo::new(move |_| state.with(|p| p.torch.clone()));
    let pre = Memo::new(move |_| state.with(|p| p.pre.clone()));
    let launcher_warning = Memo::new(move |_| state.with(|p| p.launcher_warning.clone()));

    let bump = move || poke.update(|t| *t += 1);
    let start = Action::new(move |(app, script): &(String, String)| {
        let (app, script) = (app.clone(), script.clone());
        async move {
            let r = start_script(app, script).await;
            bump();
            r
        }
    });
    let stop = Action::new(move |id: &i64| {
        let id = *id;
        async move {
            let r = stop_run(id).await;
            bump();
            r
        }
    });
    let operator = Signal::derive(move || role.get().allows(Role::Operator));
    // Terminals are keyed on writability too: they take keys only if the
    // viewer may operate, which is known once `whoami` answers.
    let running_keyed = move || {
        let w = operator.get();
        running
            .get()
            .into_iter()
            .map(|r| (r, w))
            .collect::<Vec<_>>()
    };
    let (for_menu, for_history, for_admin) = (name.clone(), name.clone(), name.clone());
    // Built in three parts: one view type this deep overflows the compiler.
    let head = view! {
        <a class="back" href="/my">"← My apps"</a>
        {move || {
            let a = app.get();
            view! {
                <div class="detail-head">
                    <AppIcon title=a.title.clone() url=a.icon_url.clone()/>
                    <h1>{a.title.clone()}</h1>
                    {a.open_path.clone().map(|p| view! { <a class="btn primary open-app" href=p target="_blank">"Open"</a> })}
                </div>
                {a.description.clone().map(|d| view! { <p class="detail-desc">{d}</p> })}
            }
            .into_any()
        }}
        {move || {
            let a = app.get();
            let admin = Signal::derive(move || role.get() == Role::Admin);
            a.open_path.is_some().then(|| view! { <OriginPanel name=a.name.clone() admin/> }.into_any())
        }}
        {move || torch.get().map(|advice| view! { <TorchNotice advice/> })}
        {move || menu_error.get().map(|e| view! { <p class="notice error">{e}</p> })}
        {move || launcher_warning.get().map(|w| view! { <p class="notice">{w}</p> })}
        {move || (!pre.get().is_empty()).then(|| view! { <PreList items=pre.get()/> })}
        <nav class="launcher" aria-label="Launcher">
            {move || view! { <MenuList items=menu.get() app=for_menu.clone() start operator/> }}
        </nav>
        {move || start.value().get().and_then(Result::err).map(|e| view! { <p class="notice error">{e.to_string()}</p> })}
    }
    .into_any();
    let live = view! {
        <For each=move || forms.get() key=|f| f.id.clone() children=move |form| view! { <FormView form refresh=poke uploads/> }.into_any()/>
        <For each=running_keyed key=|(r, w): &(RunInfo, bool)| (r.id, *w)
            children=move |(run, writable)| view! { <RunView run running stop writable/> }.into_any()/>
    }
    .into_any();
    let past = view! {
        {move || view! { <Notices notices=notices.get()/> }}
        {move || view! { <History history=history.get() app=for_history.clone()/> }}
        {move || (role.get() == Role::Admin).then(|| {
            let name = for_admin.clone();
            view! {
                <Configure name=name.clone() autostart acceleration/>
                <Rename name=name.clone() rename/>
                <Uninstall name/>
            }
            .into_any()
        })}
    }
    .into_any();
    view! {
        <Title text=move || app.with(|a| a.title.clone())/>
        <article class="installed-app" data-app=name.clone()>{head} {live} {past}</article>
    }
}
