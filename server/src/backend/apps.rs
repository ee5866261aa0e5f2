//! Installed apps as the UI sees them: the supervisor's state mapped to the
//! UI's types, launcher menus resolved (scripts vs URLs, local URLs sent
//! through the front door).

use crate::apps::{menu_command, AppSummary, Apps, PendingForm, RunningRun};
use app::api::{
    AppPage, DownloadProgress, EnvVariable, FormField, FormRequest, InstallStatus, InstalledApp,
    MenuAction, MenuEntry, Notice, PreEntry, RunInfo, RunLogPage, RunningScript, TorchAdvice,
    TorchNote,
};
use engine::MenuItem;
use serde_json::Value;
use std::path::Path;

/// How many past runs and notices the app page lists.
const RECENT: usize = 20;
/// How much of a log one page of the log viewer shows.
const LOG_PAGE_BYTES: u64 = 128 * 1024;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub async fn installed(apps: &Apps) -> Result<Vec<InstalledApp>, String> {
    Ok(apps
        .list()
        .await
        .map_err(err)?
        .into_iter()
        .map(|s| installed_app(apps, s))
        .collect())
}

/// The icon's URL, only when the file is there and is an image (the route
/// would refuse anything else; the UI shows a letter instead).
fn icon_url(apps: &Apps, name: &str, icon: Option<&str>) -> Option<String> {
    let dir = apps.home().join("api").join(name);
    crate::apps::files::icon_file(name, &dir, icon?).ok()?;
    Some(format!("/api/view/apps/{name}/icon"))
}

fn installed_app(apps: &Apps, s: AppSummary) -> InstalledApp {
    InstalledApp {
        icon_url: icon_url(apps, &s.name, s.icon.as_deref()),
        // Open signs in to the app's own origin (see `crate::origin`).
        open_path: s.url.as_ref().map(|_| format!("/open/{}", s.name)),
        running: s.running.len(),
        autostart: s.autostart,
        title: s.title,
        description: s.description,
        source_url: s.source_url,
        installed_at: s.installed_at,
        progress: s.progress.map(download_progress),
        name: s.name,
    }
}

fn download_progress(p: engine::Progress) -> DownloadProgress {
    DownloadProgress {
        label: p.label,
        done: p.done,
        total: p.total,
        rate: p.rate,
        eta: p.eta,
    }
}

pub async fn page(apps: &Apps, name: &str) -> Result<AppPage, String> {
    let summary = apps
        .list()
        .await
        .map_err(err)?
        .into_iter()
        .find(|a| a.name == name)
        .ok_or_else(|| format!("no app named `{name}` is installed"))?;
    let running: Vec<RunningRun> = apps
        .running()
        .into_iter()
        .filter(|r| r.app == name)
        .collect();
    let app_dir = apps.home().join("api").join(name);
    let mut app = installed_app(apps, summary);
    let (mut pre, mut launcher_warning) = (Vec::new(), None);
    let (menu, menu_error) = match apps.menu(name).await {
        Ok(menu) => {
            pre = pre_entries(&menu.pre, name);
            if menu.needs_newer_pinokio {
                launcher_warning = Some(format!(
                    "This launcher asks for Pinokio {} (Pinokio 8.0 would ask you to update first); it may use features PinokioCloud lacks.",
                    menu.version.as_deref().unwrap_or("?")
                ));
            }
            // The launcher as it is now (pinokio.json may have changed
            // since the install recorded it).
            if let Some(title) = menu.title.clone().filter(|t| !t.trim().is_empty()) {
                app.title = title;
            }
            app.description = menu.description.clone().or(app.description);
            if let Some(url) = icon_url(apps, name, menu.icon.as_deref()) {
                app.icon_url = Some(url);
            }
            (
                menu_entries(&menu.items, &menu.dir, &app_dir, name, &running, &[]),
                None,
            )
        }
        Err(e) => (
            Vec::new(),
            Some(format!("The launcher could not be shown: {e}")),
        ),
    };
    let mut history = apps.history(name).await.map_err(err)?;
    history.truncate(RECENT);
    let notices = apps.app_events(name, RECENT as i64).await.map_err(err)?;
    let torch = apps.torch_check(name).await.map_err(err)?.map(torch_advice);
    let python_acceleration = apps.app_acceleration(name).await.map_err(err)?;
    Ok(AppPage {
        torch,
        python_acceleration,
        app,
        menu,
        menu_error,
        pre,
        launcher_warning,
        forms: apps
            .pending(Some(name))
            .into_iter()
            .map(form_request)
            .collect(),
        running: running.iter().map(running_info).collect(),
        history: history.into_iter().map(recorded_run_info).collect(),
        notices: notices
            .into_iter()
            .map(|e| Notice {
                id: e.id,
                text: notice_text(&e.payload),
                href: e
                    .payload
                    .get("url")
                    .and_then(Value::as_str)
                    .map(|u| front_door_url(u, name)),
                kind: e.kind,
                at: e.at,
            })
            .collect(),
    })
}

fn verdict_name(v: engine::Verdict) -> String {
    match v {
        engine::Verdict::Fits => "fits",
        engine::Verdict::Caution => "caution",
        engine::Verdict::Incompatible => "incompatible",
    }
    .into()
}

fn torch_advice(c: engine::TorchCheck) -> TorchAdvice {
    TorchAdvice {
        verdict: verdict_name(c.verdict()),
        findings: c
            .findings
            .into_iter()
            .map(|f| TorchNote {
                script: f.script,
                build: f.build,
                verdict: verdict_name(f.verdict),
                message: f.message,
            })
            .collect(),
        gpu: c.gpu,
        driver: c.driver,
        cuda: c.cuda,
        recommended: c.recommended,
    }
}

/// A run as the database records it (history, logs).
fn recorded_run_info(r: crate::apps::RunRecord) -> RunInfo {
    RunInfo {
        id: r.id,
        app: r.app,
        script: r.script,
        started_at: r.started_at,
        ended_at: r.ended_at,
        outcome: r.outcome,
        reason: r.reason,
        open_path: None,
        progress: None,
    }
}

fn running_info(r: &RunningRun) -> RunInfo {
    RunInfo {
        id: r.run_id,
        app: r.app.clone(),
        script: r.script.clone(),
        started_at: r.started_at,
        ended_at: None,
        outcome: None,
        reason: None,
        open_path: r.proxy_path.as_ref().map(|_| open_path(&r.app, "/")),
        progress: r.progress.clone().map(download_progress),
    }
}

/// Launcher items → UI entries: scripts become run buttons (marked when
/// running), URLs become links (local ones open the app on its own origin).
/// `root` is the launcher root (`menu.dir`) relative `href`s resolve in;
/// `run`/`shell` items become generated scripts (see `menu_command`).
/// `at` is the position of `items` in the menu tree.
fn menu_entries(
    items: &[MenuItem],
    root: &Path,
    app_dir: &Path,
    app: &str,
    running: &[RunningRun],
    at: &[usize],
) -> Vec<MenuEntry> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let label = item.kind.as_deref() == Some("label");
            let here: Vec<usize> = at.iter().copied().chain([i]).collect();
            let mut problem = None;
            let action = match (item.script(root), item.href.as_deref()) {
                _ if label => MenuAction::None,
                (Some((path, query)), _) => {
                    let rel = path
                        .strip_prefix(app_dir)
                        .unwrap_or(&path)
                        .display()
                        .to_string();
                    let running = item.running || running.iter().any(|r| r.script == rel);
                    let script = query.map_or(rel.clone(), |q| format!("{rel}?{q}"));
                    MenuAction::Script { script, running }
                }
                (None, Some(href)) if !href.is_empty() => MenuAction::Link {
                    href: front_door_url(href, app),
                    new_tab: item.target.as_deref() == Some("_blank") || item.popout.is_some(),
                },
                _ => match menu_command::script_for(item, &here, root, app_dir) {
                    Some(Ok(script)) => MenuAction::Script {
                        running: running.iter().any(|r| r.script == script),
                        script,
                    },
                    Some(Err(err)) => {
                        problem = Some(err);
                        MenuAction::None
                    }
                    None => MenuAction::None,
                },
            };
            let text = item
                .text
                .clone()
                .or_else(|| item.html.as_deref().map(strip_tags))
                .unwrap_or_default();
            MenuEntry {
                text: match problem {
                    Some(err) => format!("{text} (cannot run: {err})"),
                    None => text,
                },
                icon: item.icon.clone(),
                action,
                default: item.default == Some(true),
                confirm: match &item.confirm {
                    Some(Value::String(q)) => Some(q.clone()),
                    Some(Value::Bool(true)) => Some("Are you sure?".into()),
                    _ => None,
                },
                children: item.menu.as_deref().map_or_else(Vec::new, |m| {
                    menu_entries(m, root, app_dir, app, running, &here)
                }),
            }
        })
        .collect()
}

/// The launcher's `pre` list → UI entries (links go through the front door).
fn pre_entries(items: &[engine::launcher::PreItem], app: &str) -> Vec<PreEntry> {
    items
        .iter()
        .map(|p| PreEntry {
            title: p
                .title
                .clone()
                .or_else(|| p.env.clone())
                .unwrap_or_default(),
            description: p.description.clone(),
            href: p.href.as_deref().map(|h| front_door_url(h, app)),
            env: p.env.clone(),
        })
        .collect()
}

/// `http://127.0.0.1:7860/x` → `/open/<app>?path=/x`: apps listen on loopback only,
/// so the browser reaches them signed in on their own origin (Open).
fn front_door_url(href: &str, app: &str) -> String {
    let local = ["http://127.0.0.1:", "http://localhost:", "http://0.0.0.0:"];
    match local.iter().find_map(|p| href.strip_prefix(p)) {
        Some(rest) => {
            let path = rest.find('/').map_or("/", |i| &rest[i..]);
            open_path(app, path)
        }
        None => href.to_string(),
    }
}

/// Open (`/open/<app>`), landing on `path` of the app's own origin.
fn open_path(app: &str, path: &str) -> String {
    match path {
        "/" | "" => format!("/open/{app}"),
        path => {
            let path: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
            format!("/open/{app}?path={path}")
        }
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn notice_text(payload: &Value) -> String {
    ["html", "text", "message", "url"]
        .iter()
        .find_map(|k| payload.get(k).and_then(Value::as_str))
        .map(strip_tags)
        .unwrap_or_else(|| payload.to_string())
}

/// Pinokio `input` params (`{title, description, form: [...]}`) or missing
/// ENVIRONMENT variables, as a form.
fn form_request(form: PendingForm) -> FormRequest {
    let p = &form.params;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let fields = match p
        .get("form")
        .or_else(|| p.get("vars"))
        .and_then(Value::as_array)
    {
        Some(list) => list.iter().map(form_field).collect(),
        None => Vec::new(),
    };
    FormRequest {
        title: text(p, "title").or_else(|| p.get("vars").map(|_| "Settings this app needs".into())),
        description: text(p, "description"),
        id: form.id,
        run_id: form.run_id,
        fields,
    }
}

fn form_field(f: &Value) -> FormField {
    let text = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_string);
    let key = text("key").unwrap_or_default();
    let options: Vec<String> = f
        .get("items")
        .or_else(|| f.get("options"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|o| {
                    o.as_str()
                        .map(str::to_string)
                        .or_else(|| o.get("value").and_then(Value::as_str).map(str::to_string))
                })
                .collect()
        })
        .unwrap_or_default();
    let kind = text("type").unwrap_or_else(|| {
        if options.is_empty() {
            "text".into()
        } else {
            "select".into()
        }
    });
    FormField {
        title: text("title")
            .or_else(|| text("description"))
            .unwrap_or_else(|| key.clone()),
        default: f
            .get("default")
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)),
        required: f.get("required").and_then(Value::as_bool).unwrap_or(false),
        max_size: f.get("max_size").and_then(Value::as_u64),
        kind: if kind == "text" && looks_secret(&key) {
            "password".into()
        } else {
            kind
        },
        options,
        key,
    }
}

/// API keys and tokens are typed into password fields (masked on screen).
fn looks_secret(key: &str) -> bool {
    let key = key.to_lowercase();
    ["token", "secret", "password", "api_key", "apikey"]
        .iter()
        .any(|w| key.contains(w))
}

pub async fn run_log(apps: &Apps, run_id: i64, before: Option<u64>) -> Result<RunLogPage, String> {
    let r = apps.run_record(run_id).await.map_err(err)?;
    let chunk = apps
        .log_chunk(run_id, before, LOG_PAGE_BYTES)
        .await
        .map_err(err)?;
    Ok(RunLogPage {
        run: recorded_run_info(r),
        start: chunk.start,
        end: chunk.end,
        total: chunk.total,
        text: chunk.text,
    })
}

pub async fn installs(apps: &Apps) -> Result<Vec<InstallStatus>, String> {
    Ok(apps
        .installs()
        .into_iter()
        .map(|p| InstallStatus {
            app: p.app,
            phase: serde_json::to_value(p.phase)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            stage: p.stage,
            overall: p.overall,
            error: p.error,
        })
        .collect())
}

/// A catalog id installs its repository; anything else is a git URL or path.
pub async fn install(apps: &Apps, source: &str, folder: Option<&str>) -> Result<String, String> {
    let source = source.trim();
    let url = app::catalog::find(source).map_or(source, |entry| entry.repo_url.as_str());
    apps.install(url, folder).await.map(|s| s.name).map_err(err)
}

/// `start.js?mode=x` → the script and its query as `args` (`{mode: "x"}`).
pub async fn start(apps: &Apps, app: &str, script: &str) -> Result<i64, String> {
    let (file, query) = script.split_once('?').unwrap_or((script, ""));
    let args: serde_json::Map<String, Value> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    apps.start(app, file, Value::Object(args))
        .await
        .map_err(err)
}

pub fn running_scripts(apps: &Apps) -> Vec<RunningScript> {
    let now = crate::apps::store::now();
    apps.running()
        .iter()
        .map(|r| RunningScript {
            uptime_secs: (now - r.started_at).max(0),
            run: running_info(r),
        })
        .collect()
}

/// ENVIRONMENT for the Configure section: secret values never leave the server.
pub fn environment(apps: &Apps, name: &str) -> Result<Vec<EnvVariable>, String> {
    Ok(apps
        .environment(name)
        .map_err(err)?
        .into_iter()
        .map(|e| EnvVariable {
            is_set: !e.value.is_empty(),
            value: (!looks_secret(&e.key)).then_some(e.value),
            key: e.key,
        })
        .collect())
}

/// An empty value for a secret keeps what is stored (the page never saw it).
pub fn set_environment(apps: &Apps, name: &str, key: &str, value: &str) -> Result<(), String> {
    if value.is_empty() && looks_secret(key) {
        return Ok(());
    }
    apps.set_environment(name, key, value).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_urls_go_through_the_front_door() {
        assert_eq!(
            front_door_url("http://127.0.0.1:7860/?x=1", "comfy"),
            "/open/comfy?path=%2F%3Fx%3D1"
        );
        assert_eq!(
            front_door_url("http://localhost:8188", "comfy"),
            "/open/comfy"
        );
        assert_eq!(
            front_door_url("http://localhost:8188/", "comfy"),
            "/open/comfy"
        );
        assert_eq!(
            front_door_url("https://example.com/docs", "comfy"),
            "https://example.com/docs"
        );
    }

    #[test]
    fn html_menu_text_loses_its_tags() {
        assert_eq!(strip_tags("<b>Start</b> <i>now</i>"), "Start now");
    }
}
