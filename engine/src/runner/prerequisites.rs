//! What a script needs before its first step: `env` prerequisites asked
//! for and saved (§1.4), the app's ENVIRONMENT generated, and `requires`
//! checked (§1.5).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{EngineError, MethodError};
use crate::events::Event;
use crate::host::Interaction;
use crate::plan::{Mode, PlanEntry};
use crate::script::{self, Location};

use super::{base_env, Run};

impl Run {
    /// Asks for required variables missing from the app's ENVIRONMENT file
    /// and saves the answers there (plans only note them).
    pub(super) fn ensure_env(&self, loc: &Location, script: &Value) -> Result<(), EngineError> {
        self.prepare_environment(loc)?;
        let have = crate::environment::template_env(&self.kernel, loc);
        let keys = script::KeyStore::new(&self.kernel.home);
        let missing: Vec<_> = script::env_prerequisites(script)
            .into_iter()
            .filter(|v| have.get(&v.key).is_none_or(|x| x.trim().is_empty()))
            .map(|mut v| {
                // A stored key for the entry's site pre-fills the form (C-010).
                if let Some(k) = v.host.as_deref().and_then(|h| keys.first(h)) {
                    v.default = Some(k);
                }
                v
            })
            .collect();
        if missing.is_empty() || self.mode == Mode::Plan {
            return Ok(());
        }
        let fail = |message: String| EngineError::Shape {
            app: loc.app.clone(),
            file: loc.file.clone(),
            message,
        };
        let answer = self
            .interact(Interaction::Env {
                script: loc.file.clone(),
                vars: missing.clone(),
            })
            .map_err(|e| match e {
                MethodError::Stopped => EngineError::Stopped {
                    app: loc.app.clone(),
                    file: loc.file.clone(),
                },
                other => fail(format!("missing environment variables: {other}")),
            })?;
        let values: BTreeMap<String, String> = missing
            .iter()
            .map(|v| {
                (
                    v.key.clone(),
                    answer
                        .get(&v.key)
                        .map(crate::util::scalar_string)
                        .unwrap_or_default(),
                )
            })
            .collect();
        for v in &missing {
            if let (Some(host), Some(value)) = (&v.host, values.get(&v.key)) {
                keys.remember(host, value)
                    .map_err(|e| fail(format!("cannot write {}: {e}", keys.path().display())))?;
            }
        }
        script::update_env_file(&loc.env_file(), &values)
            .map_err(|e| fail(format!("cannot write {}: {e}", loc.env_file().display())))
    }

    /// Generates missing home/app ENVIRONMENT files and creates the folders
    /// they name (runs only; plans have no side effects).
    pub(super) fn prepare_environment(&self, loc: &Location) -> Result<(), EngineError> {
        if self.mode == Mode::Plan {
            return Ok(());
        }
        let app =
            crate::environment::build::in_app(&self.kernel.home, loc).then_some(&*loc.app_dir);
        let warnings = crate::environment::prepare(&self.kernel.home, app).map_err(|e| {
            EngineError::Shape {
                app: loc.app.clone(),
                file: loc.file.clone(),
                message: e.to_string(),
            }
        })?;
        for w in warnings {
            self.say(loc, &w.to_string());
        }
        Ok(())
    }

    /// Prints a `[pinokio]` line to the run's terminal.
    pub fn say(&self, loc: &Location, line: &str) {
        self.events.emit(Event::Output {
            script: loc.file.clone(),
            shell: "pinokio".into(),
            data: format!("[pinokio] {line}\r\n").into_bytes(),
        });
    }

    /// Checks the script's `requires` (and, for the script a run starts
    /// with, its app's `pinokio.js` `requires`) before the first step,
    /// installing what can be installed. Plans record the statuses as a
    /// `requires` entry instead.
    pub(super) fn ensure_requirements(
        &self,
        loc: &Location,
        script: &Value,
        top: bool,
    ) -> Result<(), EngineError> {
        use crate::python::{requires, Layout};
        let accelerated = self.kernel.python.accelerated(&loc.app);
        let mut declared = vec![];
        let launcher = if top {
            self.launcher_requires(loc)
        } else {
            None
        };
        for r in script.get("requires").into_iter().chain(launcher.as_ref()) {
            for req in requires::declared(r, &self.kernel.system, accelerated) {
                if !declared.contains(&req) {
                    declared.push(req);
                }
            }
        }
        if declared.is_empty() {
            return Ok(());
        }
        let env = base_env(&self.kernel, loc);
        let layout = Layout::new(&self.kernel.home);
        if self.mode == Mode::Plan {
            let statuses = requires::statuses(&declared, &env, &layout);
            let script = loc.file.strip_prefix(&loc.app_dir).unwrap_or(&loc.file);
            self.plan.borrow_mut().push(PlanEntry {
                script: script.to_string_lossy().into_owned(),
                index: 0,
                method: "requires".into(),
                params: serde_json::json!({ "requirements": statuses }),
            });
            return Ok(());
        }
        let say = |line: &str| {
            self.events.emit(Event::Output {
                script: loc.file.clone(),
                shell: "requires".into(),
                data: format!("[pinokio] {line}\r\n").into_bytes(),
            })
        };
        requires::check_requirements(&declared, &env, &layout, &say).map_err(|e| {
            EngineError::Shape {
                app: loc.app.clone(),
                file: loc.file.clone(),
                message: e.to_string(),
            }
        })
    }

    /// `requires` of the app's `pinokio.js`/`pinokio.json`, if it loads.
    pub(super) fn launcher_requires(&self, loc: &Location) -> Option<Value> {
        ["pinokio.js", "pinokio.json"]
            .iter()
            .map(|n| loc.app_dir.join(n))
            .find(|p| p.is_file() && *p != loc.file)
            .and_then(|p| self.js.load_script(&p).ok())
            .and_then(|s| s.json.get("requires").cloned())
    }
}
