//! What a step's method sees of where it runs ([`StepCtx`]): paths, the
//! child environment, questions to the host, rendering, stop-aware sleep.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::error::MethodError;
use crate::events::Event;
use crate::host::Interaction;
use crate::js::{Scope, ScriptObj};
use crate::plan::{Mode, PlanEntry};
use crate::script::Location;

use super::{base_env, Run};

/// What a step's method sees of where it runs.
pub struct StepCtx<'r> {
    pub run: &'r Run,
    pub loc: &'r Location,
    pub index: usize,
    pub scope: &'r Scope,
    /// The script being walked (inline and module methods call into it).
    pub script: &'r ScriptObj,
    /// This step's `input` and the run's `args` (`req.input`, `req.args`).
    pub input: &'r Value,
    pub args: &'r Value,
    /// How many steps the script has now (`req.total`).
    pub total: usize,
}

impl StepCtx<'_> {
    /// Resolves a step path (relative to the script folder).
    pub fn path(&self, p: &str) -> PathBuf {
        crate::util::resolve(&self.loc.dir, p)
    }

    /// Adds `key: value` to this step's plan entry (plan mode): what the
    /// step would do beyond its params (its shells, the files a download
    /// would skip, where a drive link puts things).
    pub fn annotate_plan(&self, key: &str, value: Value) {
        let mut plan = self.run.plan.borrow_mut();
        if let Some(Value::Object(p)) = plan
            .last_mut()
            .filter(|e| e.index == self.index)
            .map(|e| &mut e.params)
        {
            p.insert(key.into(), value);
        }
    }

    /// Records a plan entry (plan mode only).
    pub fn record(&self, method: &str, params: &Value) {
        let script = self
            .loc
            .file
            .strip_prefix(&self.loc.app_dir)
            .unwrap_or(&self.loc.file);
        self.run.plan.borrow_mut().push(PlanEntry {
            script: script.to_string_lossy().into_owned(),
            index: self.index,
            method: method.to_string(),
            params: params.clone(),
        });
    }

    pub fn is_plan(&self) -> bool {
        self.run.mode == Mode::Plan
    }

    /// Emits a method event and asks the host.
    pub fn ask(
        &self,
        method: &str,
        params: &Value,
        what: Interaction,
    ) -> Result<Value, MethodError> {
        self.emit_method(method, params);
        self.run.interact(what)
    }

    /// Tells the person watching (`notify`, step-level and handler
    /// notices, desktop-only methods); never waits for an answer.
    pub fn notify(&self, method: &str, params: &Value) -> Result<Value, MethodError> {
        self.ask(
            method,
            params,
            Interaction::Notify {
                script: self.loc.file.clone(),
                params: params.clone(),
            },
        )
    }

    pub fn emit_method(&self, method: &str, params: &Value) {
        self.run.events.emit(Event::Method {
            script: self.loc.file.clone(),
            index: self.index,
            method: method.to_string(),
            params: params.clone(),
        });
    }

    /// [`Self::env_map`] as a list, for processes started without a shell.
    pub fn process_env(&self, extra: Option<&Value>) -> Vec<(String, String)> {
        self.env_map(extra).into_iter().collect()
    }

    /// The environment of a shell started with `params`: [`Self::env_map`]
    /// of its `env`, then its `-env` removals and the activation values
    /// (see [`crate::environment::build`]). Creates the folders the app's
    /// ENVIRONMENT names first, as Pinokio does before each shell.
    pub fn shell_env(&self, params: &Value) -> Vec<(String, String)> {
        let mut env = self.env_map(params.get("env"));
        crate::environment::build::for_shell(&mut env, params);
        if crate::environment::build::in_app(&self.run.kernel.home, self.loc) {
            let file = crate::environment::app_file(&self.loc.app_dir);
            for e in crate::environment::defaults::create_folders(&file, &self.loc.app_dir) {
                self.run.say(self.loc, &e.to_string());
            }
        }
        env.into_iter().collect()
    }

    /// Environment for processes before a shell's own additions: Pinokio's
    /// layers 1–6, then `extra` (the step's `env`), then the defaults and
    /// clean-ups of layers 8–9 (see [`crate::environment::build`]).
    pub fn env_map(&self, extra: Option<&Value>) -> BTreeMap<String, String> {
        let mut env = base_env(&self.run.kernel, self.loc);
        if let Some(Value::Object(m)) = extra {
            crate::step_env::apply(&mut env, m);
        }
        crate::environment::build::finish(&mut env, &self.run.kernel.home);
        env
    }

    /// Whether this app's Python goes through uv (see [`crate::python`]).
    pub fn accelerated(&self) -> bool {
        self.run.kernel.python.accelerated(&self.loc.app)
    }

    /// Renders `value` with the step's memory plus `extra` values (`event`...).
    pub fn render_with(&self, value: &Value, extra: Value) -> Result<Value, MethodError> {
        let mut mem = self
            .run
            .memory_json(self.loc, &Value::Null, &Value::Null, self.index, None);
        if let (Value::Object(m), Value::Object(x)) = (&mut mem, extra) {
            m.extend(x);
        }
        self.run
            .js
            .render(value, self.scope, &mem.to_string())
            .map_err(|e| MethodError::Failed(e.0))
    }

    /// Sleeps in small slices so a stop request is honoured quickly.
    pub fn sleep(&self, d: Duration) -> Result<(), MethodError> {
        let end = std::time::Instant::now() + d;
        while std::time::Instant::now() < end {
            if self.run.stop.is_stopped() {
                return Err(MethodError::Stopped);
            }
            std::thread::sleep(Duration::from_millis(20).min(end - std::time::Instant::now()));
        }
        Ok(())
    }
}
