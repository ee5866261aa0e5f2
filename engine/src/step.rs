//! What the step loop needs around one step (spec §2.2): the per-step
//! memory handed to the template world (with `local` as a delta), how the
//! next index is chosen, what counts as an error result, and the
//! notification a step's own `notify` asks for.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::memory::LocalChange;
use crate::runner::truthy;

/// Per-step memory, serialised straight to the JSON run.js reads. A field
/// left out keeps the value run.js last had for it (see [`LocalSync`]):
/// most renders send nothing at all.
#[derive(serde::Serialize)]
pub struct StepMemory<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<&'a Value>,
    /// Sent with a prepare; a render passes the index as an argument.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Option<usize>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The script's `global` (C-066).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global: Option<&'a Value>,
    #[serde(rename = "__local", skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalDelta>,
}

/// What the template world of one walk has seen: the `local` version, and
/// the values its reused step memory holds (`None` before the first render).
#[derive(Default)]
pub struct LocalSync {
    pub version: u64,
    pub rendered: Option<Rendered>,
}

/// The step memory values run.js holds from the last render.
pub struct Rendered {
    pub input: Value,
    pub global: Value,
    pub port: u16,
}

/// A [`LocalChange`] as run.js applies it: `{full}` or `{set, del}`.
#[derive(serde::Serialize)]
pub struct LocalDelta {
    #[serde(skip_serializing_if = "Option::is_none")]
    full: Option<Arc<Value>>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    set: serde_json::Map<String, Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    del: Vec<String>,
}

impl From<LocalChange> for LocalDelta {
    fn from(c: LocalChange) -> Self {
        let mut d = LocalDelta {
            full: None,
            set: serde_json::Map::new(),
            del: Vec::new(),
        };
        match c {
            LocalChange::Full(v) => d.full = Some(v),
            LocalChange::Keys(keys) => {
                for (k, v) in keys {
                    match v {
                        Some(v) => {
                            d.set.insert(k, v);
                        }
                        None => d.del.push(k),
                    }
                }
            }
        }
        d
    }
}

/// Name under which a step whose `method` is a JS function runs.
pub const INLINE: &str = "(inline function)";

/// A file's modification time (None when it cannot be read).
pub fn modified(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Pinokio halts on a result object with a truthy `error` (C-032).
pub fn result_error(result: &Value) -> Option<String> {
    let e = result.get("error").filter(|e| truthy(e))?;
    Some(match (e, result.get("response")) {
        (Value::String(s), _) => s.clone(),
        (other, _) => other.to_string(),
    })
}

/// `next: null` ends, a number or an id jumps (the first step with that
/// id; a numeric string naming no id is an index), absence goes on.
pub fn next_index(
    step: &Value,
    i: usize,
    total: usize,
    find_id: impl Fn(&str) -> Option<usize>,
) -> Result<Option<usize>, String> {
    match step.get("next") {
        None => Ok((i + 1 < total).then_some(i + 1)),
        Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let n = n.as_u64().ok_or("`next` must be a step index or id")? as usize;
            if n < total {
                Ok(Some(n))
            } else {
                Err(format!("`next` {n} is past the last step ({})", total - 1))
            }
        }
        Some(Value::String(id)) => find_id(id)
            .or_else(|| id.parse::<usize>().ok().filter(|n| *n < total))
            .map(Some)
            .ok_or_else(|| format!("`next: \"{id}\"` matches no step id")),
        Some(other) => Err(format!(
            "`next` must be null, a step index or an id, not {other}"
        )),
    }
}

/// `notify: true` or `notify: {html, href, target, features, type}` on a
/// step: the notification's params, in Pinokio's words for `true`.
pub fn notify_params(step: &Value, index: usize, method: &str) -> Option<Value> {
    match step.get("notify")? {
        Value::Bool(true) => {
            let uri = step
                .get("uri")
                .and_then(Value::as_str)
                .map(|u| format!("<b>uri</b> {u}<br>"))
                .unwrap_or_default();
            Some(serde_json::json!({
                "html": format!("<b>Step {index} Finished</b><br>{uri}<b>method</b> {method}")
            }))
        }
        Value::Object(o) => {
            let pick = |k: &str| o.get(k).cloned().unwrap_or(Value::Null);
            Some(serde_json::json!({
                "html": pick("html"), "href": pick("href"), "target": pick("target"),
                "features": pick("features"), "type": pick("type"),
            }))
        }
        _ => None,
    }
}
