//! Launcher menu items that run a command rather than a script (spec §5.4,
//! C-173): `run: "cmd"` (or `{message, path}`) runs a one-off command in the
//! app folder, `shell: {message, path, venv, env, ...}` opens a shell there.
//!
//! Each becomes a small generated script under `<app>/.pinokiocloud/menu/`,
//! so it runs like any other script of the app: a terminal the person can
//! type into, a record in the run history, Stop. The folder carries its own
//! `.gitignore`, so the app's repository never sees it.

use engine::MenuItem;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// Where generated menu scripts live, relative to the app folder.
pub const MENU_DIR: &str = ".pinokiocloud/menu";

/// The script (relative to `app_dir`) running `item`'s command, written
/// when missing or changed; `None` when the item has no `run`/`shell`.
/// `root` is the launcher root its paths are relative to.
pub fn script_for(
    item: &MenuItem,
    index: &[usize],
    root: &Path,
    app_dir: &Path,
) -> Option<Result<String, String>> {
    let step = command_step(item, root)?;
    let step = match step {
        Ok(step) => step,
        Err(err) => return Some(Err(err)),
    };
    let name = format!("{}.json", file_stem(item, index));
    let script = json!({ "run": [step] });
    Some(write_script(app_dir, &name, &script).map(|_| format!("{MENU_DIR}/{name}")))
}

/// The `shell.run` step an item stands for.
fn command_step(item: &MenuItem, root: &Path) -> Option<Result<Value, String>> {
    let params = match (item.extra.get("run"), item.extra.get("shell")) {
        (Some(Value::String(cmd)), _) => {
            let mut p = Map::new();
            p.insert("message".into(), Value::String(cmd.clone()));
            p
        }
        (Some(Value::Object(run)), _) => run.clone(),
        (Some(other), _) => {
            return Some(Err(format!(
                "menu item `run` must be a command string or {{message, path}}, not {other}"
            )))
        }
        (None, Some(Value::Object(shell))) => {
            let mut p = shell.clone();
            // An instant shell with nothing to run is an interactive one.
            p.entry("message")
                .or_insert_with(|| Value::String("bash -i".into()));
            p
        }
        (None, Some(Value::Bool(true))) => {
            let mut p = Map::new();
            p.insert("message".into(), Value::String("bash -i".into()));
            p
        }
        (None, Some(other)) => {
            return Some(Err(format!(
                "menu item `shell` must be an object of shell.run params, not {other}"
            )))
        }
        (None, None) => return None,
    };
    Some(Ok(with_path(params, root)))
}

/// The generated script sits in a folder of its own: its `path` (relative
/// to the launcher root in the menu) is made absolute.
fn with_path(mut params: Map<String, Value>, root: &Path) -> Value {
    let given = params.get("path").and_then(Value::as_str).unwrap_or("");
    let dir: PathBuf = match given {
        "" | "." => root.to_path_buf(),
        p if Path::new(p).is_absolute() || p.starts_with("~/") => PathBuf::from(p),
        p => root.join(p),
    };
    params.insert("path".into(), Value::String(dir.display().to_string()));
    json!({ "method": "shell.run", "params": params })
}

/// `Open terminal` → `open-terminal`; the position keeps two items with the
/// same text apart.
fn file_stem(item: &MenuItem, index: &[usize]) -> String {
    let text = item.text.as_deref().or(item.html.as_deref()).unwrap_or("");
    let mut slug = String::new();
    for c in text.chars() {
        match c {
            c if c.is_ascii_alphanumeric() => slug.push(c.to_ascii_lowercase()),
            _ if !slug.is_empty() && !slug.ends_with('-') => slug.push('-'),
            _ => {}
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    let at: Vec<String> = index.iter().map(usize::to_string).collect();
    match slug.is_empty() {
        true => format!("item-{}", at.join("-")),
        false => format!("{slug}-{}", at.join("-")),
    }
}

fn write_script(app_dir: &Path, name: &str, script: &Value) -> Result<(), String> {
    let dir = app_dir.join(MENU_DIR);
    let io = |what: &str, path: &Path, e: std::io::Error| {
        format!("cannot {what} {}: {e}", path.display())
    };
    std::fs::create_dir_all(&dir).map_err(|e| io("create", &dir, e))?;
    let ignore = app_dir.join(".pinokiocloud/.gitignore");
    if !ignore.exists() {
        std::fs::write(&ignore, "*\n").map_err(|e| io("write", &ignore, e))?;
    }
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(script).unwrap_or_default();
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
        return Ok(());
    }
    std::fs::write(&path, text).map_err(|e| io("write", &path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(v: Value) -> MenuItem {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_run_item_is_one_shell_run_in_the_launcher_root() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path();
        let rel = script_for(
            &item(json!({"text": "List files!", "run": "ls -la"})),
            &[2],
            app,
            app,
        )
        .unwrap()
        .unwrap();
        assert_eq!(rel, ".pinokiocloud/menu/list-files-2.json");
        let script: Value =
            serde_json::from_str(&std::fs::read_to_string(app.join(&rel)).unwrap()).unwrap();
        assert_eq!(
            script,
            json!({"run": [{"method": "shell.run", "params": {
                "message": "ls -la", "path": app.display().to_string()}}]})
        );
        assert_eq!(
            std::fs::read_to_string(app.join(".pinokiocloud/.gitignore")).unwrap(),
            "*\n"
        );
    }

    #[test]
    fn a_shell_item_keeps_its_params_and_defaults_to_an_interactive_shell() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path();
        let root = app.join("launcher");
        let shell = item(
            json!({"text": "Shell", "shell": {"venv": "env", "path": "app", "env": {"A": "1"}}}),
        );
        let rel = script_for(&shell, &[0, 1], &root, app).unwrap().unwrap();
        let script: Value =
            serde_json::from_str(&std::fs::read_to_string(app.join(&rel)).unwrap()).unwrap();
        let params = &script["run"][0]["params"];
        assert_eq!(params["message"], "bash -i");
        assert_eq!(params["venv"], "env");
        assert_eq!(params["env"]["A"], "1");
        assert_eq!(params["path"], root.join("app").display().to_string());
        assert_eq!(rel, ".pinokiocloud/menu/shell-0-1.json");
    }

    #[test]
    fn items_without_commands_are_left_alone_and_bad_ones_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path();
        assert!(script_for(&item(json!({"text": "x", "href": "a.js"})), &[0], app, app).is_none());
        let err = script_for(&item(json!({"text": "x", "run": 5})), &[0], app, app)
            .unwrap()
            .unwrap_err();
        assert!(err.contains("command string"), "{err}");
        assert!(!app.join(".pinokiocloud").exists());
    }
}
