//! Where a script lives and what it declares: its app (the folder under
//! `<home>/api/`), the app's ENVIRONMENT file, the script's `env`
//! prerequisites, and the `run` steps' ids.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::host::EnvVar;

/// Location facts of one script file.
#[derive(Debug, Clone)]
pub struct Location {
    /// Absolute, normalised script path.
    pub file: PathBuf,
    /// The script's folder: relative paths in steps resolve here.
    pub dir: PathBuf,
    /// The app folder (`<home>/api/<app>`), or the script's folder outside home.
    pub app_dir: PathBuf,
    /// The app's name (folder name).
    pub app: String,
}

impl Location {
    pub fn new(home: &Path, file: &Path) -> Self {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let file = crate::util::resolve(&cwd, file);
        let dir = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let api = crate::util::resolve(&cwd, home.join("api"));
        let app_dir = file
            .strip_prefix(&api)
            .ok()
            .and_then(|rel| rel.components().next())
            .map(|first| api.join(first.as_os_str()))
            .filter(|d| d != &file)
            .unwrap_or_else(|| dir.clone());
        let app = app_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Location {
            file,
            dir,
            app_dir,
            app,
        }
    }

    /// The app's ENVIRONMENT file (`<app>/pinokio/ENVIRONMENT` when the app
    /// has a `pinokio/` folder, see [`crate::environment::app_file`]).
    pub fn env_file(&self) -> PathBuf {
        crate::environment::app_file(&self.app_dir)
    }
}

/// The raw `KEY=VALUE` pairs of an ENVIRONMENT file (dotenv syntax, see
/// [`crate::environment::file`]; `./` values kept as written).
pub fn read_env_file(path: &Path) -> BTreeMap<String, String> {
    crate::environment::file::read_raw(path)
}

/// Sets keys in an ENVIRONMENT file, keeping other lines as they were.
pub fn update_env_file(path: &Path, values: &BTreeMap<String, String>) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut seen = Vec::new();
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| match l.split_once('=') {
            Some((k, _)) if values.contains_key(k.trim()) && !l.trim_start().starts_with('#') => {
                seen.push(k.trim().to_string());
                format!("{}={}", k.trim(), values[k.trim()])
            }
            _ => l.to_string(),
        })
        .collect();
    for (k, v) in values {
        if !seen.contains(k) {
            lines.push(format!("{k}={v}"));
        }
    }
    std::fs::write(path, lines.join("\n") + "\n")
}

/// The `env` prerequisites a script declares: strings or `{key, title, description, default}`.
pub fn env_prerequisites(script: &Value) -> Vec<EnvVar> {
    let Some(list) = script.get("env").and_then(Value::as_array) else {
        return vec![];
    };
    list.iter()
        .filter_map(|e| match e {
            Value::String(k) => Some(EnvVar {
                key: k.clone(),
                title: None,
                description: None,
                default: None,
            }),
            Value::Object(o) => Some(EnvVar {
                key: o.get("key")?.as_str()?.to_string(),
                title: o.get("title").and_then(Value::as_str).map(String::from),
                description: o
                    .get("description")
                    .and_then(Value::as_str)
                    .map(String::from),
                default: o.get("default").map(crate::util::scalar_string),
            }),
            _ => None,
        })
        .collect()
}

/// Index of the step whose `id` is `id`.
pub fn step_by_id(steps: &[Value], id: &str) -> Option<usize> {
    steps
        .iter()
        .position(|s| s.get("id").and_then(Value::as_str) == Some(id))
}
