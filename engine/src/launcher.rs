//! Launcher menus: `pinokio.js` (or `pinokio.json`) evaluated against the
//! current state — what runs, what exists, what `local` memory holds — and
//! returned as typed items the UI can draw.

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
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MenuItem {
    /// The script this item runs (absolute) and its `?query`, when `href`
    /// points at a local script rather than a URL.
    pub fn script(&self, app_dir: &Path) -> Option<(PathBuf, Option<String>)> {
        let href = self.href.as_deref()?;
        if href.contains("://") || href.starts_with("/") || href.starts_with('#') {
            return None;
        }
        let (file, query) = match href.split_once('?') {
            Some((f, q)) => (f, Some(q.to_string())),
            None => (href, None),
        };
        let is_script = file.ends_with(".js") || file.ends_with(".json");
        is_script.then(|| (crate::util::resolve(app_dir, file), query))
    }
}

/// A rendered launcher.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Menu {
    /// Folder of the launcher file: relative `href`s resolve here (the app
    /// folder, or its `pinokio/` subfolder).
    pub dir: PathBuf,
    pub title: Option<String>,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub items: Vec<MenuItem>,
}

/// Evaluates the app's launcher file.
pub fn render(kernel: Arc<Kernel>, app_dir: &Path) -> Result<Menu, EngineError> {
    let app = app_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = [
        "pinokio.js",
        "pinokio.json",
        "pinokio/pinokio.js",
        "pinokio/pinokio.json",
    ]
    .iter()
    .map(|f| app_dir.join(f))
    .find(|p| p.is_file())
    .ok_or_else(|| EngineError::Load {
        app: app.clone(),
        file: app_dir.join("pinokio.js"),
        message: "no pinokio.js or pinokio.json (nor in pinokio/)".into(),
    })?;
    let load = |message: String| EngineError::Load {
        app: app.clone(),
        file: file.clone(),
        message,
    };
    let memory = kernel.memory.clone();
    let js =
        Js::new(crate::runner::bridge(kernel, memory, EventSink::none())).map_err(|e| load(e.0))?;
    let v = js.menu(&file).map_err(|e| load(e.0))?;
    let items = match v.get("menu") {
        Some(Value::Array(a)) => a
            .iter()
            .filter(|x| x.is_object())
            .map(|x| {
                serde_json::from_value(x.clone()).map_err(|e| load(format!("menu item {x}: {e}")))
            })
            .collect::<Result<Vec<MenuItem>, _>>()?,
        _ => vec![],
    };
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    Ok(Menu {
        dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
        title: s("title"),
        description: s("description"),
        icon: s("icon"),
        items,
    })
}
