//! Launcher menus: `pinokio.js` (or `pinokio.json`) evaluated against the
//! current state — what runs, what exists, what `local` memory holds — and
//! returned as typed items the UI can draw (spec §5).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::EngineError;
use crate::events::EventSink;
use crate::js::Js;
use crate::kernel::Kernel;

/// One menu entry. Unknown keys are kept in `extra`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct MenuItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// A script (`start.js`, `start.js?mode=x`) or a URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub menu: Option<Vec<MenuItem>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub popout: Option<Value>,
    /// Whether the script this item runs is running now (C-175; Pinokio's
    /// server adds the same flag).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub running: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `pre` prerequisite shown before the first install: a link to other
/// software, or (with `env`) an input for that environment variable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PreItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MenuItem {
    /// The script this item runs (absolute, relative `href`s resolving in
    /// `dir`, the launcher root: [`Menu::dir`]) and its query: the `href`'s
    /// `?query` followed by `params` (C-169), when `href` points at a local
    /// script rather than a URL. [`query_args`] turns the query into args.
    pub fn script(&self, dir: &Path) -> Option<(PathBuf, Option<String>)> {
        if self.kind.as_deref() == Some("label") {
            return None;
        }
        let href = self.href.as_deref()?;
        if href.contains("://") || href.starts_with("/") || href.starts_with('#') {
            return None;
        }
        let (file, query) = match href.split_once('?') {
            Some((f, q)) => (f, Some(q.to_string())),
            None => (href, None),
        };
        let is_script = file.ends_with(".js") || file.ends_with(".json");
        let query = match (query, self.params_query()) {
            (Some(q), Some(p)) => Some(format!("{q}&{p}")),
            (q, p) => q.or(p),
        };
        is_script.then(|| (crate::util::resolve(dir, file), query))
    }

    /// `params` as a query string (values as text, like Pinokio's URLs).
    fn params_query(&self) -> Option<String> {
        let Some(Value::Object(m)) = &self.params else {
            return None;
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let q: Vec<String> = m
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    crate::util::url_encode(k),
                    crate::util::url_encode(&text(v))
                )
            })
            .collect();
        (!q.is_empty()).then(|| q.join("&"))
    }
}

/// A script's launch args from its query (`a=1&b=x%20y`): every value a
/// string, as Pinokio passes them (C-169).
pub fn query_args(query: &str) -> Map<String, Value> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), Value::String(decode(v)))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| (b[j] as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A rendered launcher.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Menu {
    /// The launcher root: relative `href`s and icons resolve here (the app
    /// folder, or its `pinokio/` subfolder when the launcher lives there).
    pub dir: PathBuf,
    pub title: Option<String>,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub items: Vec<MenuItem>,
    /// Prerequisites to show before the first install (C-174).
    pub pre: Vec<PreItem>,
    /// The Pinokio version the launcher declares.
    pub version: Option<String>,
    /// The declared `version` is above 8.0.0: Pinokio shows "Please update
    /// to the latest Pinokio" instead of the launcher (C-176).
    pub needs_newer_pinokio: bool,
    /// Whether a `default: true` script item starts when the app opens:
    /// false when the app or home ENVIRONMENT sets
    /// `PINOKIO_SCRIPT_DEFAULT=false` (C-170).
    pub autostart_default: bool,
}

/// Highest launcher `version` this engine runs as Pinokio does.
const PINOKIO_VERSION: (u64, u64, u64) = (8, 0, 0);

/// Finds the launcher: `pinokio.js`, else `pinokio/pinokio.js` (then the
/// launcher root is `pinokio/`); with neither, JSON metadata alone
/// (`pinokio.json`, else `pinokio/pinokio.json`). Returns (script, root).
fn locate(app_dir: &Path) -> Option<(Option<PathBuf>, PathBuf)> {
    let sub = app_dir.join("pinokio");
    for root in [app_dir, sub.as_path()] {
        let js = root.join("pinokio.js");
        if js.is_file() {
            return Some((Some(js), root.to_path_buf()));
        }
    }
    let meta_root = [app_dir, sub.as_path()].into_iter().find(|root| {
        root.join("pinokio.json").is_file() || root.join("pinokio_meta.json").is_file()
    });
    meta_root.map(|root| (None, root.to_path_buf()))
}

/// Evaluates the app's launcher.
pub fn render(kernel: Arc<Kernel>, app_dir: &Path) -> Result<Menu, EngineError> {
    let app = app_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (script, root) = locate(app_dir).ok_or_else(|| EngineError::Load {
        app: app.clone(),
        file: app_dir.join("pinokio.js"),
        message: "no pinokio.js or pinokio.json (nor in pinokio/)".into(),
    })?;
    let file = script.clone().unwrap_or_else(|| root.join("pinokio.json"));
    let load = |message: String| EngineError::Load {
        app: app.clone(),
        file: file.clone(),
        message,
    };
    let memory = kernel.memory.clone();
    let js = Js::new(crate::runner::bridge(
        kernel.clone(),
        memory,
        EventSink::none(),
    ))
    .map_err(|e| load(e.0))?;
    let v = js
        .menu(script.as_deref(), &root, app_dir)
        .map_err(|e| load(e.0))?;
    let list = |key: &str| match v.get(key) {
        Some(Value::Array(a)) => a.iter().filter(|x| x.is_object()).cloned().collect(),
        _ => vec![],
    };
    let mut items = list("menu")
        .into_iter()
        .map(|x| serde_json::from_value(x.clone()).map_err(|e| load(format!("menu item {x}: {e}"))))
        .collect::<Result<Vec<MenuItem>, _>>()?;
    mark_running(&kernel, &root, &mut items);
    let pre = list("pre")
        .into_iter()
        .map(|x| serde_json::from_value(x.clone()).map_err(|e| load(format!("pre item {x}: {e}"))))
        .collect::<Result<Vec<PreItem>, _>>()?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    let version = match v.get("version") {
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => s("version"),
    };
    Ok(Menu {
        dir: root,
        title: s("title"),
        description: s("description"),
        icon: s("icon"),
        items,
        pre,
        needs_newer_pinokio: version
            .as_deref()
            .and_then(coerce_version)
            .is_some_and(|v| v > PINOKIO_VERSION),
        version,
        autostart_default: autostart_default(&kernel.home, app_dir),
    })
}

/// Flags items whose script runs now, nested menus included.
fn mark_running(kernel: &Kernel, root: &Path, items: &mut [MenuItem]) {
    for item in items {
        if let Some((file, _)) = item.script(root) {
            item.running =
                item.running || kernel.registry.is_running(&crate::util::normalize(&file));
        }
        if let Some(m) = item.menu.as_mut() {
            mark_running(kernel, root, m);
        }
    }
}

/// Semver coercion: the first `1`, `1.2` or `1.2.3` in the text.
pub fn coerce_version(text: &str) -> Option<(u64, u64, u64)> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let mut parts = text[start..]
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .next()?
        .split('.')
        .take(3)
        .map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// `PINOKIO_SCRIPT_DEFAULT` from the app ENVIRONMENT (in `pinokio/` when
/// that folder exists), else the home ENVIRONMENT: `false` turns off starting
/// the default item's script.
fn autostart_default(home: &Path, app_dir: &Path) -> bool {
    let app_env = if app_dir.join("pinokio").is_dir() {
        app_dir.join("pinokio/ENVIRONMENT")
    } else {
        app_dir.join("ENVIRONMENT")
    };
    let value = [app_env, home.join("ENVIRONMENT")]
        .iter()
        .find_map(|f| crate::script::read_env_file(f).remove("PINOKIO_SCRIPT_DEFAULT"));
    !matches!(value.as_deref().map(str::trim), Some(v) if v.eq_ignore_ascii_case("false") || v == "0")
}
