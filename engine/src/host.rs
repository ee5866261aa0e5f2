//! Methods that need a person (input forms, file pickers, notifications,
//! opening a URL, missing environment variables) ask through [`Host`]. The
//! server implements it over the UI; [`AutoHost`] answers from JSON for the
//! CLI and tests.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

/// A question (or notice) for whoever drives the run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Interaction {
    /// `input`: answer with an object of field key → value.
    Input { script: PathBuf, params: Value },
    /// `filepicker.open`: answer with `{paths: [...]}`.
    FilePicker { script: PathBuf, params: Value },
    /// `notify` (and `on` handlers with `notify`): no answer needed.
    Notify { script: PathBuf, params: Value },
    /// `web.open`/`browser.open`/`fs.open`: no answer needed.
    Open {
        script: PathBuf,
        url: String,
        params: Value,
    },
    /// `proxy.start`: answer with `{proxy: url}` or null.
    Proxy { script: PathBuf, params: Value },
    /// `process.wait` without a duration: answer anything to continue.
    Wait { script: PathBuf, params: Value },
    /// Required variables missing from the app's ENVIRONMENT file: answer
    /// with an object of key → value.
    Env { script: PathBuf, vars: Vec<EnvVar> },
}

/// One declared environment variable of a script (`env: [...]`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EnvVar {
    pub key: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub default: Option<String>,
    /// Site whose stored keys (`<home>/key.json`) pre-fill the value.
    pub host: Option<String>,
}

/// The engine's side of a person. Called from the run's thread; blocking
/// until answered is expected.
pub trait Host: Send + Sync {
    fn interact(&self, what: &Interaction) -> Result<Value, String>;
}

/// Answers from a fixed JSON object (keys → values), falling back to the
/// declared defaults; fails precisely when neither exists.
#[derive(Debug, Clone, Default)]
pub struct AutoHost {
    pub answers: Map<String, Value>,
}

impl AutoHost {
    pub fn new(answers: Value) -> Self {
        AutoHost {
            answers: answers.as_object().cloned().unwrap_or_default(),
        }
    }

    fn field(&self, key: &str, default: Option<&Value>) -> Result<Value, String> {
        if let Some(v) = self.answers.get(key) {
            return Ok(v.clone());
        }
        default
            .cloned()
            .ok_or_else(|| format!("no answer for input field '{key}' (pass it with --answers)"))
    }
}

impl Host for AutoHost {
    fn interact(&self, what: &Interaction) -> Result<Value, String> {
        match what {
            Interaction::Input { params, .. } => {
                let mut out = Map::new();
                for f in form_fields(params) {
                    let key = f
                        .get("key")
                        .and_then(Value::as_str)
                        .unwrap_or("value")
                        .to_string();
                    out.insert(key.clone(), self.field(&key, f.get("default"))?);
                }
                Ok(Value::Object(out))
            }
            Interaction::FilePicker { .. } => self
                .field("paths", None)
                .map(|p| serde_json::json!({ "paths": p })),
            Interaction::Env { vars, .. } => {
                let mut out = Map::new();
                for v in vars {
                    let d = v.default.clone().map(Value::String);
                    out.insert(v.key.clone(), self.field(&v.key, d.as_ref())?);
                }
                Ok(Value::Object(out))
            }
            _ => Ok(Value::Null),
        }
    }
}

/// Asks `host`. Questions that wait for a person (forms, pickers, waits,
/// missing variables) are asked on a helper thread, so stopping the run
/// releases it at once (C-036, as Pinokio rejects a pending `input` and
/// resolves a pending `process.wait`); the host's late answer is dropped.
pub(crate) fn ask_releasable(
    host: &Arc<dyn Host>,
    stop: &crate::process::StopHandle,
    what: Interaction,
) -> Result<Value, crate::error::MethodError> {
    use crate::error::MethodError;
    use std::sync::mpsc::RecvTimeoutError;
    let blocking = matches!(
        what,
        Interaction::Input { .. }
            | Interaction::FilePicker { .. }
            | Interaction::Wait { .. }
            | Interaction::Env { .. }
    );
    if !blocking {
        return host.interact(&what).map_err(MethodError::Failed);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let host = host.clone();
    std::thread::Builder::new()
        .name("pinokio-ask".into())
        .spawn(move || {
            let _ = tx.send(host.interact(&what));
        })
        .map_err(|e| MethodError::Failed(format!("cannot ask the host: {e}")))?;
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(answer) => return answer.map_err(MethodError::Failed),
            Err(RecvTimeoutError::Timeout) if stop.is_stopped() => {
                return Err(MethodError::Stopped)
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(MethodError::Failed("the host stopped answering".into()))
            }
        }
    }
}

/// The fields of an `input` form: `params.form` (or a single-field `params`).
pub fn form_fields(params: &Value) -> Vec<Value> {
    match params.get("form") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ if params.get("key").is_some() => vec![params.clone()],
        _ => vec![
            serde_json::json!({ "key": "value", "default": params.get("default").cloned().unwrap_or(Value::Null) }),
        ],
    }
}
