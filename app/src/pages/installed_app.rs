use super::NotFound;
use crate::api::{
    answer_form, app_environment, load_app_page, rename_app, set_app_environment, set_autostart,
    start_script, stop_run, uninstall_app, whoami, AppPage, FormRequest, MenuAction, MenuEntry,
    RunInfo,
};
use crate::auth::Role;
use crate::components::{FileField, Terminal, Toast, ToastRegion, Toasts, Upload, Uploads};
use crate::time::format_utc;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::time::Duration;

/// Renames `(app, to)`; answers the new name.
type RenameAction = Action<(String, String), Result<String, ServerFnError>>;

/// How often the page re-reads the app's state (menu, runs, forms).
const REFRESH: Duration = Duration::from_millis(1500);

/// `/app/<name>`: an installed app's launcher menu, its live terminals,
/// the questions its scripts ask, and its run history.
#[component]
pub fn InstalledAppPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        let handle = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH);
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    let page = Resource::new(
        move || (name.get(), tick.get()),
        |(name, _)| load_app_page(name),
    );
    let me = Resource::new(|| (), |_| whoami());
    let role = Signal::derive(move || {
        me.get()
            .and_then(Result::ok)
            .flatten()
            .map_or(Role::Viewer, |v| v.role)
    });
    // The page already polls; each fresh read is checked for news to toast.
    let toasts = Toasts::new();
    Effect::new(move |_| {
        if let Some(Ok(p)) = page.get() {
            toasts.offer(toast_candidates(&p));
        }
    });
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
                Ok(page) => view! { <AppView page role refresh=tick uploads rename/> }.into_any(),
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

#[component]
fn AppView(
    page: AppPage,
    role: Signal<Role>,
    refresh: RwSignal<u64>,
    uploads: Uploads,
    rename: RenameAction,
) -> impl IntoView {
    let AppPage {
        app,
        menu,
        menu_error,
        running,
        forms,
        history,
        notices,
    } = page;
    let name = app.name.clone();
    let bump = move || refresh.update(|t| *t += 1);
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
    let operator = move || role.get().allows(Role::Operator);
    view! {
        <Title text=app.title.clone()/>
        <article class="installed-app" data-app=name.clone()>
            <a class="back" href="/my">"← My apps"</a>
            <div class="detail-head">
                <AppIcon title=app.title.clone() url=app.icon_url.clone()/>
                <h1>{app.title.clone()}</h1>
                {app.open_path.clone().map(|p| view! { <a class="btn primary open-app" href=p target="_blank">"Open"</a> })}
            </div>
            {app.description.clone().map(|d| view! { <p class="detail-desc">{d}</p> })}
            {menu_error.map(|e| view! { <p class="notice error">{e}</p> })}
            <nav class="launcher" aria-label="Launcher">
                <MenuList items=menu app=name.clone() start operator=Signal::derive(operator)/>
            </nav>
            {start.value().get().and_then(Result::err).map(|e| view! { <p class="notice error">{e.to_string()}</p> })}
            {forms.into_iter().map(|form| view! { <FormView form refresh uploads/> }).collect_view()}
            {running.into_iter().map(|run| view! { <RunView run stop writable=operator()/> }).collect_view()}
            {view! { <Notices notices/> <History history app=name.clone()/> }.into_any()}
            {(role.get() == Role::Admin).then(|| view! {
                <Configure name=name.clone() autostart=app.autostart/>
                <Rename name=name.clone() rename/>
                <Uninstall name=name.clone()/>
            }.into_any())}
        </article>
    }
}

#[component]
fn MenuList(
    items: Vec<MenuEntry>,
    app: String,
    start: Action<(String, String), Result<i64, ServerFnError>>,
    operator: Signal<bool>,
) -> AnyView {
    items
        .into_iter()
        .map(|item| {
            let icon = item.icon.clone().unwrap_or_else(|| "fa-solid fa-circle".into());
            let class = if item.default { "menu-item default" } else { "menu-item" };
            let label = view! { <i class=format!("menu-icon {icon}") aria-hidden="true"></i><span>{item.text.clone()}</span> };
            let children = (!item.children.is_empty()).then(|| view! {
                <div class="submenu"><MenuList items=item.children.clone() app=app.clone() start operator/></div>
            });
            let entry = match item.action.clone() {
                MenuAction::Script { script, running } => {
                    let (app, confirm) = (app.clone(), item.confirm.clone());
                    view! {
                        <button class=class type="button" data-script=script.clone() data-running=running.to_string()
                            disabled=move || !operator.get()
                            on:click=move |_| {
                                let ok = confirm.as_deref().is_none_or(|q| window().confirm_with_message(q).unwrap_or(false));
                                if ok { start.dispatch((app.clone(), script.clone())); }
                            }>
                            {label}
                        </button>
                    }.into_any()
                }
                MenuAction::Link { href, new_tab } => view! {
                    <a class=class href=href target=new_tab.then_some("_blank")>{label}</a>
                }.into_any(),
                MenuAction::None => view! { <span class="menu-heading">{label}</span> }.into_any(),
            };
            view! { {entry} {children} }
        })
        .collect_view()
        .into_any()
}

#[component]
fn RunView(
    run: RunInfo,
    stop: Action<i64, Result<(), ServerFnError>>,
    writable: bool,
) -> impl IntoView {
    let id = run.id;
    view! {
        <section class="run panel" data-run=id.to_string()>
            <div class="run-head">
                <strong>{run.script.clone()}</strong>
                <span class="muted">" since " {format_utc(run.started_at)}</span>
                {run.open_path.clone().map(|p| view! { <a class="btn" href=p target="_blank">"Open"</a> })}
                <button class="btn danger stop" type="button" disabled=!writable on:click=move |_| { stop.dispatch(id); }>"Stop"</button>
            </div>
            <Terminal run_id=id writable/>
        </section>
    }
}

#[component]
fn FormView(form: FormRequest, refresh: RwSignal<u64>, uploads: Uploads) -> impl IntoView {
    let form_id = form.id.clone();
    let error = RwSignal::new(None::<String>);
    let fields = form.fields.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(target) = ev.target() else { return };
        let files = match uploaded_files(&form_id, &fields, uploads) {
            Ok(files) => files,
            Err(e) => return error.set(Some(e)),
        };
        let values = collect_values(&target, &fields, files);
        let form_id = form_id.clone();
        leptos::task::spawn_local(async move {
            match answer_form(form_id, values).await {
                Ok(()) => refresh.update(|t| *t += 1),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form class="script-form panel" data-form=form.id.clone() on:submit=submit>
            {form.title.clone().map(|t| view! { <h3>{t}</h3> })}
            {form.description.clone().map(|d| view! { <p class="note">{d}</p> })}
            {form.fields.iter().map(|f| {
                let input = match f.kind.as_str() {
                    "textarea" => view! { <textarea class="field" name=f.key.clone() required=f.required>{f.default.clone()}</textarea> }.into_any(),
                    "select" => view! {
                        <select class="field" name=f.key.clone()>
                            {f.options.iter().map(|o| view! { <option value=o.clone() selected=f.default.as_deref() == Some(o.as_str())>{o.clone()}</option> }).collect_view()}
                        </select>
                    }.into_any(),
                    "checkbox" => view! { <input type="checkbox" name=f.key.clone() checked=f.default.as_deref() == Some("true")/> }.into_any(),
                    "file" => view! { <FileField form_id=form.id.clone() field=f.clone() uploads/> }.into_any(),
                    kind => view! { <input class="field" type=if kind == "password" { "password" } else { "text" } name=f.key.clone()
                        value=f.default.clone() required=f.required/> }.into_any(),
                };
                view! { <label class="form-field"><span>{f.title.clone()}</span>{input}</label> }
            }).collect_view()}
            {move || error.get().map(|e| view! { <p class="notice error">{e}</p> })}
            <button class="btn primary" type="submit">"Submit"</button>
        </form>
    }
}

/// The saved paths of a form's file fields, or what is still missing.
fn uploaded_files(
    form_id: &str,
    fields: &[crate::api::FormField],
    uploads: Uploads,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut out = serde_json::Map::new();
    for f in fields.iter().filter(|f| f.kind == "file") {
        match uploads.get(form_id, &f.key) {
            Some(Upload::Saved(path)) => {
                out.insert(f.key.clone(), path.into());
            }
            Some(Upload::Sending(_)) => {
                return Err(format!(
                    "{} is still uploading; submit once it is done",
                    f.title
                ))
            }
            _ if f.required => return Err(format!("{}: pick a file first", f.title)),
            _ => {}
        }
    }
    Ok(out)
}

/// Reads the submitted form's fields into a JSON object, with the file
/// fields' saved paths in `files` (browser only).
#[allow(unused_variables)]
fn collect_values(
    target: &leptos::web_sys::EventTarget,
    fields: &[crate::api::FormField],
    files: serde_json::Map<String, serde_json::Value>,
) -> String {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let mut out = files;
        if let Some(form) = target.dyn_ref::<leptos::web_sys::HtmlFormElement>() {
            for f in fields.iter().filter(|f| f.kind != "file") {
                let Some(el) = form.elements().named_item(&f.key) else {
                    continue;
                };
                let value = if let Some(input) = el.dyn_ref::<leptos::web_sys::HtmlInputElement>() {
                    if input.type_() == "checkbox" {
                        serde_json::Value::Bool(input.checked())
                    } else {
                        input.value().into()
                    }
                } else if let Some(area) = el.dyn_ref::<leptos::web_sys::HtmlTextAreaElement>() {
                    area.value().into()
                } else if let Some(select) = el.dyn_ref::<leptos::web_sys::HtmlSelectElement>() {
                    select.value().into()
                } else {
                    continue;
                };
                out.insert(f.key.clone(), value);
            }
        }
        serde_json::Value::Object(out).to_string()
    }
    #[cfg(not(feature = "hydrate"))]
    String::from("{}")
}

#[component]
fn Notices(notices: Vec<crate::api::Notice>) -> impl IntoView {
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
fn History(history: Vec<RunInfo>, app: String) -> impl IntoView {
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

/// The app's icon (pinokio.json's `icon`), or its initial on a tile.
#[component]
pub fn AppIcon(title: String, url: Option<String>) -> impl IntoView {
    match url {
        Some(src) => {
            view! { <img class="app-icon" src=src alt="" width="48" height="48" loading="lazy"/> }
                .into_any()
        }
        None => {
            let initial: String = title
                .chars()
                .find(|c| c.is_alphanumeric())
                .map(|c| c.to_uppercase().collect())
                .unwrap_or_else(|| "?".into());
            view! { <span class="app-icon app-icon-fallback" aria-hidden="true">{initial}</span> }
                .into_any()
        }
    }
}

/// Renames the app's folder (its URL and `/p/<name>/` change with it).
/// A running app is refused rather than stopped: stopping someone's
/// generation to rename a folder would be a surprise; the error says to
/// stop it first.
/// Renames the app's folder (its URL and `/p/<name>/` change with it).
/// A running app is refused rather than stopped: stopping someone's
/// generation to rename a folder would be a surprise; the error says to
/// stop it first. The action lives with the page (see [`InstalledAppPage`]):
/// this part is rebuilt on every refresh and its error would vanish.
#[component]
fn Rename(name: String, rename: RenameAction) -> impl IntoView {
    view! {
        <details class="rename panel">
            <summary>"Rename"</summary>
            <form class="rename-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let Some(form) = ev.target() else { return };
                if let Some(to) = named_value(&form, "to") {
                    rename.dispatch((name.clone(), to));
                }
            }>
                <label><span>"New folder name"</span>
                    <input class="field mono" name="to" required=true autocomplete="off"
                        aria-describedby="rename-help"/>
                </label>
                <button class="btn" type="submit" disabled=move || rename.pending().get()>"Rename"</button>
            </form>
            <p class="note" id="rename-help">"Letters, digits, '.', '_' and '-'. Stop the app's scripts first."</p>
            {move || rename.value().get().and_then(Result::err).map(|e| view! {
                <p class="notice error rename-error">{e.to_string().trim_start_matches("error running server function: ").to_string()}</p>
            })}
        </details>
    }
}

#[component]
fn Uninstall(name: String) -> impl IntoView {
    let navigate = use_navigate();
    let uninstall = Action::new(|name: &String| uninstall_app(name.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = uninstall.value().get() {
            navigate("/my", Default::default());
        }
    });
    view! {
        <div class="danger-zone">
            <button class="btn danger" type="button" on:click=move |_| {
                if window().confirm_with_message("Uninstall this app? Its scripts are stopped and its folder is deleted.").unwrap_or(false) {
                    uninstall.dispatch(name.clone());
                }
            }>"Uninstall"</button>
            {move || uninstall.value().get().and_then(Result::err).map(|e| view! { <p class="notice error">{e.to_string()}</p> })}
        </div>
    }
}

/// Admin settings of an app: its ENVIRONMENT variables (secrets masked: an
/// empty field keeps the stored value) and whether it starts with the dashboard.
#[component]
fn Configure(name: String, autostart: bool) -> impl IntoView {
    let saved = RwSignal::new(0u32);
    let env = Resource::new(move || saved.get(), {
        let name = name.clone();
        move |_| app_environment(name.clone())
    });
    let save = Action::new({
        let name = name.clone();
        move |(key, value): &(String, String)| {
            let (name, key, value) = (name.clone(), key.clone(), value.clone());
            async move {
                let r = set_app_environment(name, key, value).await;
                saved.update(|n| *n += 1);
                r
            }
        }
    });
    let toggle = Action::new({
        let name = name.clone();
        move |on: &bool| set_autostart(name.clone(), *on)
    });
    view! {
        <details class="configure panel">
            <summary>"Configure"</summary>
            <label class="autostart">
                <input type="checkbox" checked=autostart on:change=move |ev| { toggle.dispatch(event_target_checked(&ev)); }/>
                " Start this app when the dashboard starts"
            </label>
            <Transition fallback=|| ()>
                {move || env.get().map(|r| match r {
                    Ok(vars) if vars.is_empty() => view! { <p class="note">"No ENVIRONMENT variables yet."</p> }.into_any(),
                    Ok(vars) => vars.into_iter().map(|v| {
                        let key = v.key.clone();
                        let secret = v.value.is_none();
                        let placeholder = match (secret, v.is_set) {
                            (true, true) => "set (hidden) — type to replace",
                            (true, false) => "empty",
                            _ => "",
                        };
                        view! {
                            <form class="env-row" data-key=key.clone() on:submit=move |ev: leptos::ev::SubmitEvent| {
                                ev.prevent_default();
                                let Some(form) = ev.target() else { return };
                                if let Some(value) = named_value(&form, "value") {
                                    save.dispatch((key.clone(), value));
                                }
                            }>
                                <label><span class="mono">{v.key.clone()}</span>
                                    <input class="field" name="value" type=if secret { "password" } else { "text" }
                                        value=v.value.clone().unwrap_or_default() placeholder=placeholder autocomplete="off"/>
                                </label>
                                <button class="btn" type="submit">"Save"</button>
                            </form>
                        }
                    }).collect_view().into_any(),
                    Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <form class="env-row env-new" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let Some(form) = ev.target() else { return };
                if let (Some(key), Some(value)) = (named_value(&form, "key"), named_value(&form, "value")) {
                    save.dispatch((key.trim().to_string(), value));
                }
            }>
                <label><span>"New variable"</span><input class="field mono" name="key" placeholder="NAME" required=true/></label>
                <label><span>"Value"</span><input class="field" name="value" autocomplete="off"/></label>
                <button class="btn" type="submit">"Add"</button>
            </form>
            {move || save.value().get().and_then(Result::err).map(|e| view! { <p class="notice error">{e.to_string()}</p> })}
        </details>
    }
}

/// The input called `name` of a submitted form (browser only).
#[allow(unused_variables)]
fn named_value(target: &leptos::web_sys::EventTarget, name: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let form = target.dyn_ref::<leptos::web_sys::HtmlFormElement>()?;
        let input = form.elements().named_item(name)?;
        input
            .dyn_ref::<leptos::web_sys::HtmlInputElement>()
            .map(|i| i.value())
    }
    #[cfg(not(feature = "hydrate"))]
    None
}
