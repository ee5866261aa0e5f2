//! People in the loop: the server's [`engine::Host`]. Questions (`input`,
//! file pickers, missing environment variables, `process.wait`) become
//! pending forms announced on the event stream; the run's thread waits until
//! [`Apps::answer`] gives a valid answer (an invalid one is refused and the
//! question stays pending) or the run is stopped. Notices (`notify`,
//! `web.open`) are recorded and broadcast; `proxy.start` registers a URL.
//!
//! Also the app's `ENVIRONMENT` file (`KEY=VALUE` lines), read and edited in
//! place with comments and order kept. The engine itself saves answers to
//! missing-variable questions there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use engine::{Host, Interaction};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::error::{AppsError, Result};
use super::store::{now, RunId};
use super::supervisor::RunState;
use super::{AppEvent, Apps, Shared};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// `input`: answer `{key: value, ...}` for the fields in `params.form`.
    Input,
    /// `filepicker.open`: answer `{paths: [...]}`.
    FilePicker,
    /// Missing ENVIRONMENT variables (`params.vars`): answer `{KEY: value}`.
    Env,
    /// `process.wait`: any answer continues.
    Wait,
}

/// A question a run is waiting on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PendingForm {
    pub id: String,
    pub run_id: RunId,
    pub app: String,
    pub kind: FormKind,
    pub params: Value,
    pub asked_at: i64,
}

struct Slot {
    form: PendingForm,
    tx: std::sync::mpsc::Sender<Value>,
}

#[derive(Default)]
pub(crate) struct Forms {
    slots: Mutex<HashMap<String, Slot>>,
    next: AtomicU64,
}

impl Forms {
    /// Asks and blocks the calling (engine) thread until answered or cancelled.
    fn ask(
        &self,
        s: &Shared,
        run: &RunState,
        kind: FormKind,
        params: Value,
    ) -> std::result::Result<Value, String> {
        if run.stop_reason.lock().expect("stop lock").is_some() {
            return Err("the run is stopping".into());
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let form = PendingForm {
            id: format!("{}-{n}", run.id),
            run_id: run.id,
            app: run.app.clone(),
            kind,
            params,
            asked_at: now(),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        self.slots.lock().expect("forms lock").insert(
            form.id.clone(),
            Slot {
                form: form.clone(),
                tx,
            },
        );
        let id = form.id.clone();
        s.emit(AppEvent::Form { form });
        let cancelled = || "the question was cancelled because the run was stopped".to_string();
        loop {
            match rx.recv_timeout(std::time::Duration::from_millis(200)) {
                Ok(v) => return Ok(v),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Err(cancelled()),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    // A stop that raced with this question.
                    if run.stop_reason.lock().expect("stop lock").is_some() {
                        self.slots.lock().expect("forms lock").remove(&id);
                        return Err(cancelled());
                    }
                }
            }
        }
    }

    /// Drops every question of a run (its thread gets an error and ends).
    pub fn cancel_run(&self, s: &Shared, run_id: RunId) {
        let gone: Vec<PendingForm> = {
            let mut slots = self.slots.lock().expect("forms lock");
            let ids: Vec<String> = slots
                .values()
                .filter(|x| x.form.run_id == run_id)
                .map(|x| x.form.id.clone())
                .collect();
            ids.iter()
                .filter_map(|id| slots.remove(id))
                .map(|x| x.form)
                .collect()
        };
        for f in gone {
            s.emit(AppEvent::FormClosed {
                form_id: f.id,
                app: f.app,
            });
        }
    }

    /// A pending question by id.
    pub fn get(&self, id: &str) -> Option<PendingForm> {
        self.slots
            .lock()
            .expect("forms lock")
            .get(id)
            .map(|x| x.form.clone())
    }

    fn pending(&self, app: Option<&str>) -> Vec<PendingForm> {
        let mut v: Vec<PendingForm> = self
            .slots
            .lock()
            .expect("forms lock")
            .values()
            .filter(|x| app.is_none_or(|a| x.form.app == a))
            .map(|x| x.form.clone())
            .collect();
        v.sort_by(|a, b| (a.run_id, &a.id).cmp(&(b.run_id, &b.id)));
        v
    }
}

/// The engine's host for one run.
pub(crate) struct RunHost {
    pub shared: Arc<Shared>,
    pub run: Arc<RunState>,
}

impl RunHost {
    /// Records a people-facing event (the engine thread may block on the DB).
    fn record(&self, kind: &str, payload: Value) {
        let store = self.shared.store.clone();
        let (app, id) = (self.run.app.clone(), self.run.id);
        let kind = kind.to_string();
        let r = self
            .shared
            .rt
            .block_on(async move { store.add_event(&app, Some(id), &kind, &payload).await });
        if let Err(e) = r {
            tracing::warn!(run = id, error = %e, "cannot record an app event");
        }
    }
}

impl Host for RunHost {
    fn interact(&self, what: &Interaction) -> std::result::Result<Value, String> {
        let (s, run) = (&self.shared, &self.run);
        match what {
            Interaction::Notify { params, .. } => {
                self.record("notify", params.clone());
                s.emit(AppEvent::Notify {
                    run_id: run.id,
                    app: run.app.clone(),
                    params: params.clone(),
                });
                Ok(Value::Null)
            }
            Interaction::Open { url, params, .. } => {
                // A local web UI opens through the proxy, not directly.
                s.register_url(run, url);
                self.record("open", json!({ "url": url, "params": params }));
                s.emit(AppEvent::Open {
                    run_id: run.id,
                    app: run.app.clone(),
                    url: url.clone(),
                });
                Ok(Value::Null)
            }
            Interaction::Proxy { params, .. } => {
                let url = ["uri", "url", "target"]
                    .iter()
                    .find_map(|k| params.get(*k).and_then(Value::as_str));
                match url {
                    Some(u) if s.register_url(run, u) => Ok(json!({
                        "proxy": format!("{}/", crate::proxy::prefix(&run.app)),
                    })),
                    _ => Ok(Value::Null),
                }
            }
            Interaction::Input { params, .. } => {
                s.forms.ask(s, run, FormKind::Input, params.clone())
            }
            Interaction::FilePicker { params, .. } => {
                s.forms.ask(s, run, FormKind::FilePicker, params.clone())
            }
            Interaction::Wait { params, .. } => s.forms.ask(s, run, FormKind::Wait, params.clone()),
            Interaction::Env { vars, .. } => {
                let params = json!({ "vars": vars });
                s.forms.ask(s, run, FormKind::Env, params)
            }
        }
    }
}

/// Checks an answer against its form; returns what the script receives.
fn validate(form: &PendingForm, value: Value) -> std::result::Result<Value, String> {
    match form.kind {
        FormKind::Wait => Ok(value),
        FormKind::FilePicker => {
            let paths = match &value {
                Value::Array(_) => value.clone(),
                Value::Object(m) => m.get("paths").cloned().unwrap_or(Value::Null),
                _ => Value::Null,
            };
            match paths.as_array() {
                Some(a) if a.iter().all(Value::is_string) => Ok(json!({ "paths": paths })),
                _ => Err("answer with {\"paths\": [\"/path/to/file\", ...]}".into()),
            }
        }
        FormKind::Env => {
            let given = value.as_object().cloned().unwrap_or_default();
            let vars = form.params.get("vars").and_then(Value::as_array);
            let mut out = Map::new();
            let mut missing = vec![];
            for v in vars.into_iter().flatten() {
                let key = v.get("key").and_then(Value::as_str).unwrap_or_default();
                let answer = given
                    .get(key)
                    .map(engine_scalar)
                    .filter(|x| !x.is_empty())
                    .or_else(|| {
                        v.get("default")
                            .and_then(Value::as_str)
                            .map(String::from)
                            .filter(|x| !x.is_empty())
                    });
                match answer {
                    Some(a) if a.contains('\n') => {
                        return Err(format!("{key} must be a single line"));
                    }
                    Some(a) => {
                        out.insert(key.to_string(), Value::String(a));
                    }
                    None => missing.push(key.to_string()),
                }
            }
            if missing.is_empty() {
                Ok(Value::Object(out))
            } else {
                Err(format!("please fill in {}", missing.join(", ")))
            }
        }
        FormKind::Input => {
            let fields = engine::host::form_fields(&form.params);
            let given = match value {
                Value::Object(m) => m,
                // A single-field form may be answered with the bare value.
                v if fields.len() == 1 => {
                    let key = field_key(&fields[0]);
                    Map::from_iter([(key, v)])
                }
                _ => return Err("answer with an object of field key → value".into()),
            };
            let mut out = Map::new();
            let mut problems = vec![];
            for f in &fields {
                let key = field_key(f);
                let label = f
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or(&key)
                    .to_string();
                let v = given
                    .get(&key)
                    .cloned()
                    .filter(|v| !is_blank(v))
                    .or_else(|| f.get("default").cloned().filter(|v| !is_blank(v)));
                let required = f.get("required").is_some_and(|r| r.as_bool() == Some(true));
                match v {
                    None if required => problems.push(format!("{label} is required")),
                    None => {
                        out.insert(key, Value::String(String::new()));
                    }
                    Some(v) => {
                        if let Some(allowed) = choices(f) {
                            let s = engine_scalar(&v);
                            if !allowed.contains(&s) {
                                problems.push(format!(
                                    "{label} must be one of: {}",
                                    allowed.join(", ")
                                ));
                                continue;
                            }
                        }
                        out.insert(key, v);
                    }
                }
            }
            if problems.is_empty() {
                Ok(Value::Object(out))
            } else {
                Err(problems.join("; "))
            }
        }
    }
}

fn field_key(f: &Value) -> String {
    f.get("key")
        .and_then(Value::as_str)
        .unwrap_or("value")
        .to_string()
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn engine_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Allowed values of a select field (`items`/`options`: strings or
/// `{value, text}`), if it is one.
fn choices(f: &Value) -> Option<Vec<String>> {
    let list = f
        .get("items")
        .or_else(|| f.get("options"))
        .and_then(Value::as_array)?;
    Some(
        list.iter()
            .map(|i| match i {
                Value::Object(o) => o
                    .get("value")
                    .or_else(|| o.get("text"))
                    .map(engine_scalar)
                    .unwrap_or_default(),
                other => engine_scalar(other),
            })
            .collect(),
    )
}

/// One `KEY=VALUE` of an app's ENVIRONMENT file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EnvEntry {
    pub key: String,
    pub value: String,
}

fn parse_env_line(line: &str) -> Option<(String, String)> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    let (k, v) = t.split_once('=')?;
    let v = v.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(v);
    Some((k.trim().to_string(), v.to_string()))
}

fn valid_env_key(k: &str) -> bool {
    let mut c = k.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// Sets `key` in ENVIRONMENT text, keeping comments, order and other keys.
pub(crate) fn set_env_text(text: &str, key: &str, value: &str) -> String {
    let mut found = false;
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| match parse_env_line(l) {
            Some((k, _)) if k == key => {
                found = true;
                format!("{key}={value}")
            }
            _ => l.to_string(),
        })
        .collect();
    if !found {
        lines.push(format!("{key}={value}"));
    }
    lines.join("\n") + "\n"
}

impl Apps {
    /// Questions waiting for an answer (all apps with `None`).
    pub fn pending(&self, app: Option<&str>) -> Vec<PendingForm> {
        self.shared().forms.pending(app)
    }

    /// Answers a question. An invalid answer is refused with what is wrong,
    /// and the question stays pending (re-asked, not dropped).
    pub fn answer(&self, form_id: &str, value: Value) -> Result<()> {
        let s = self.shared();
        let mut slots = s.forms.slots.lock().expect("forms lock");
        let slot = slots
            .get(form_id)
            .ok_or_else(|| AppsError::NoSuchForm(form_id.to_string()))?;
        let answer = validate(&slot.form, value).map_err(AppsError::InvalidAnswer)?;
        let slot = slots.remove(form_id).expect("slot present");
        drop(slots);
        let _ = slot.tx.send(answer);
        s.emit(AppEvent::FormClosed {
            form_id: slot.form.id,
            app: slot.form.app,
        });
        Ok(())
    }

    /// The app's ENVIRONMENT file (`<app>/pinokio/ENVIRONMENT` when the app
    /// has a `pinokio/` folder), generated from the home's when missing.
    fn app_env_file(&self, app: &str) -> Result<std::path::PathBuf> {
        let dir = self.shared().existing_app(app)?;
        engine::environment::ensure_app_file(self.home(), &dir).map_err(|e| {
            AppsError::Environment {
                app: app.into(),
                message: e.to_string(),
            }
        })?;
        Ok(engine::environment::app_file(&dir))
    }

    /// The app's ENVIRONMENT variables, in file order. Like opening an app
    /// page in Pinokio, this generates the file when it is missing.
    pub fn environment(&self, app: &str) -> Result<Vec<EnvEntry>> {
        let path = self.app_env_file(app)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(AppsError::io(format!("reading {}", path.display()))(e)),
        };
        Ok(text
            .lines()
            .filter_map(parse_env_line)
            .map(|(key, value)| EnvEntry { key, value })
            .collect())
    }

    /// Sets one variable in the app's ENVIRONMENT file (other lines kept).
    pub fn set_environment(&self, app: &str, key: &str, value: &str) -> Result<()> {
        let path = self.app_env_file(app)?;
        if !valid_env_key(key) {
            return Err(AppsError::Environment {
                app: app.into(),
                message: format!(
                    "{key:?} is not a variable name: use letters, digits and '_', not starting with a digit"
                ),
            });
        }
        if value.contains('\n') || value.contains('\r') {
            return Err(AppsError::Environment {
                app: app.into(),
                message: format!("the value of {key} must be a single line"),
            });
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(&path, set_env_text(&text, key, value))
            .map_err(AppsError::io(format!("writing {}", path.display())))?;
        self.shared().emit(AppEvent::Changed {
            app: app.to_string(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: FormKind, params: Value) -> PendingForm {
        PendingForm {
            id: "1-1".into(),
            run_id: 1,
            app: "a".into(),
            kind,
            params,
            asked_at: 0,
        }
    }

    #[test]
    fn input_answers_are_checked_against_required_and_select_fields() {
        let f = form(
            FormKind::Input,
            json!({"form": [
                {"key": "name", "title": "Name", "required": true},
                {"key": "size", "items": ["small", {"value": "big", "text": "Big"}], "default": "small"},
                {"key": "note"}
            ]}),
        );
        let e = validate(&f, json!({})).unwrap_err();
        assert!(e.contains("Name is required"), "{e}");
        let e = validate(&f, json!({"name": "x", "size": "huge"})).unwrap_err();
        assert!(e.contains("size must be one of: small, big"), "{e}");
        assert_eq!(
            validate(&f, json!({"name": "x"})).unwrap(),
            json!({"name": "x", "size": "small", "note": ""})
        );
        assert_eq!(
            validate(&f, json!({"name": "x", "size": "big", "note": "n"})).unwrap(),
            json!({"name": "x", "size": "big", "note": "n"})
        );
    }

    #[test]
    fn env_and_file_answers_need_their_values() {
        let f = form(
            FormKind::Env,
            json!({"vars": [{"key": "TOKEN"}, {"key": "PORT", "default": "7860"}]}),
        );
        assert!(validate(&f, json!({})).unwrap_err().contains("TOKEN"));
        assert_eq!(
            validate(&f, json!({"TOKEN": "t"})).unwrap(),
            json!({"TOKEN": "t", "PORT": "7860"})
        );
        let f = form(FormKind::FilePicker, json!({}));
        assert!(validate(&f, json!({"paths": "x"})).is_err());
        assert_eq!(
            validate(&f, json!(["/a"])).unwrap(),
            json!({"paths": ["/a"]})
        );
    }

    #[test]
    fn environment_edits_keep_comments_and_order() {
        let text = "# models\nA=1\n\n# token\nB=\"two\"\n";
        assert_eq!(
            set_env_text(text, "B", "3"),
            "# models\nA=1\n\n# token\nB=3\n"
        );
        assert_eq!(set_env_text(text, "C", "x"), format!("{text}C=x\n"));
        assert!(valid_env_key("HF_TOKEN") && !valid_env_key("1X") && !valid_env_key("A-B"));
    }
}
