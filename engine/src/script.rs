//! Where a script lives and what it declares: its app (the folder under
//! `<home>/api/`), the app's ENVIRONMENT file, the script's `env`
//! prerequisites and the home's shared key store (`key.json`).

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

/// The environment prerequisites a script declares: its `pre` list, else
/// its `env` list (C-011); entries are `{key | env, title, description,
/// default, host}` objects (or, leniently, bare names).
pub fn env_prerequisites(script: &Value) -> Vec<EnvVar> {
    let Some(list) = ["pre", "env"]
        .iter()
        .find_map(|k| script.get(*k).and_then(Value::as_array))
    else {
        return vec![];
    };
    let text = |o: &serde_json::Map<String, Value>, k: &str| {
        o.get(k).and_then(Value::as_str).map(String::from)
    };
    list.iter()
        .filter_map(|e| match e {
            Value::String(k) => Some(EnvVar {
                key: k.clone(),
                title: None,
                description: None,
                default: None,
                host: None,
            }),
            Value::Object(o) => Some(EnvVar {
                key: text(o, "key").or_else(|| text(o, "env"))?,
                title: text(o, "title"),
                description: text(o, "description"),
                default: o.get("default").map(crate::util::scalar_string),
                host: text(o, "host"),
            }),
            _ => None,
        })
        .collect()
}

/// The home's shared key store, `<home>/key.json`: `{ "<host>": [values] }`.
/// Env prerequisites with a `host` are pre-filled from it and their answers
/// are added to it (C-010).
pub struct KeyStore {
    path: PathBuf,
}

impl KeyStore {
    pub fn new(home: &Path) -> Self {
        KeyStore {
            path: home.join("key.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> serde_json::Map<String, Value> {
        std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    }

    /// The first key stored for `host`.
    pub fn first(&self, host: &str) -> Option<String> {
        match self.read().get(host)? {
            Value::Array(a) => a.iter().find_map(|v| v.as_str().map(String::from)),
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// Adds `value` to `host`'s keys (once; empty values are not stored).
    pub fn remember(&self, host: &str, value: &str) -> std::io::Result<()> {
        if value.is_empty() {
            return Ok(());
        }
        let mut all = self.read();
        let list = match all.remove(host) {
            Some(Value::Array(a)) => a,
            Some(Value::String(s)) => vec![Value::String(s)],
            _ => vec![],
        };
        let mut list = list;
        if !list.iter().any(|v| v.as_str() == Some(value)) {
            list.push(Value::String(value.to_string()));
        }
        all.insert(host.to_string(), Value::Array(list));
        let text = serde_json::to_string_pretty(&Value::Object(all)).unwrap_or_default();
        std::fs::write(&self.path, text + "\n")
    }
}
