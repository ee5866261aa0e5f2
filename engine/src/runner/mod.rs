//! The step state machine. A [`Run`] owns one JS runtime and walks scripts:
//! render step `i` with memory, honour `when`, dispatch the method, store
//! `returns`, pick the next step (`next`, ids, `jump`), and finish as a
//! daemon or a one-shot script. `script.start` re-enters [`Run::run_script`]
//! for nested scripts on the same thread.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::error::{EngineError, MethodError, MethodResult};
use crate::events::{Event, EventSink};
use crate::host::{Host, Interaction};
use crate::js::{Js, Scope, ScriptObj};
use crate::kernel::Kernel;
use crate::memory::Memory;
use crate::methods::{self, Flow};
use crate::plan::{Mode, PlanEntry, PLAN_STEP_LIMIT};
use crate::process::StopHandle;
use crate::pty::ShellProc;
use crate::script::Location;
use crate::step::{self, modified, next_index, result_error, LocalDelta, LocalSync, StepMemory};

pub use crate::step::INLINE;
pub use bridge::bridge;
pub use step_ctx::StepCtx;

mod bridge;
mod prerequisites;
mod step_ctx;

/// One run (or plan) and everything its scripts share.
pub struct Run {
    pub kernel: Arc<Kernel>,
    pub js: Js,
    pub mode: Mode,
    pub host: Arc<dyn Host>,
    pub events: EventSink,
    pub stop: StopHandle,
    pub memory: Memory,
    pub plan: RefCell<Vec<PlanEntry>>,
    pub shells: RefCell<HashMap<String, Arc<ShellProc>>>,
    steps_walked: Cell<usize>,
    port: Cell<Option<u16>>,
    root_app: RefCell<Option<PathBuf>>,
    /// Daemon scripts started by `script.start` that finished their steps:
    /// they stay registered (running, with their `local`) until this run ends.
    detached: RefCell<Vec<PathBuf>>,
    /// Scripts started by a git URI: their `uri` is that URI (Pinokio
    /// keeps the launch uri; file paths launch as their absolute path).
    launch_uris: RefCell<HashMap<PathBuf, String>>,
}

impl Run {
    pub fn new(
        kernel: Arc<Kernel>,
        mode: Mode,
        host: Arc<dyn Host>,
        events: EventSink,
        stop: StopHandle,
    ) -> Result<Self, EngineError> {
        let memory = match mode {
            Mode::Run => kernel.memory.clone(),
            Mode::Plan => Memory::default(),
        };
        let js = Js::new(bridge(kernel.clone(), memory.clone(), events.clone()))
            .map_err(|e| EngineError::Internal(format!("JS runtime: {e}")))?;
        Ok(Run {
            kernel,
            js,
            mode,
            host,
            events,
            stop,
            memory,
            plan: RefCell::new(Vec::new()),
            shells: RefCell::new(HashMap::new()),
            steps_walked: Cell::new(0),
            port: Cell::new(None),
            root_app: RefCell::new(None),
            detached: RefCell::new(Vec::new()),
            launch_uris: RefCell::new(HashMap::new()),
        })
    }

    /// A free port, stable until a shell may have taken it.
    pub fn port(&self) -> u16 {
        if let Some(p) = self.port.get() {
            return p;
        }
        let p = crate::sys::free_port(42003);
        self.port.set(Some(p));
        p
    }

    /// Records that `file` is being started by the git URI `uri`.
    pub fn set_launch_uri(&self, file: &Path, uri: &str) {
        self.launch_uris
            .borrow_mut()
            .insert(file.to_path_buf(), uri.to_string());
    }

    /// What templates see as `uri`: the launch uri (C-065).
    pub fn launch_uri(&self, file: &Path) -> String {
        match self.launch_uris.borrow().get(file) {
            Some(uri) => uri.clone(),
            None => file.display().to_string(),
        }
    }

    /// Forgets the cached port (after starting processes).
    pub fn refresh_port(&self) {
        self.port.set(None);
    }

    /// The memory names as one JSON object (for renders outside the step
    /// loop, e.g. `on` handlers with `event`).
    fn memory_json(
        &self,
        loc: &Location,
        input: &Value,
        args: &Value,
        index: usize,
        total: Option<usize>,
    ) -> Value {
        let local = self.memory.local_shared(&loc.file);
        serde_json::json!({
            "input": input, "args": args, "local": &*local, "global": self.memory.global(&loc.file),
            "current": index, "next": total.and_then(|t| (index + 1 < t).then_some(index + 1)),
            "port": self.port(), "uri": self.launch_uri(&loc.file),
        })
    }

    /// Asks the host; a stop releases a question that waits for a person
    /// (see [`crate::host::ask_releasable`]).
    pub fn interact(&self, what: Interaction) -> Result<Value, MethodError> {
        crate::host::ask_releasable(&self.host, &self.stop, what)
    }

    /// Runs `file` to its end and returns its last result (or what
    /// `script.return` returned). Top-level daemon scripts wait here until
    /// stopped.
    pub fn run_script(&self, file: &Path, args: Value, top: bool) -> Result<Value, EngineError> {
        let loc = Location::new(&self.kernel.home, file);
        if self.root_app.borrow().is_none() {
            *self.root_app.borrow_mut() = Some(loc.app_dir.clone());
        }
        let load_err = |message: String| EngineError::Load {
            app: loc.app.clone(),
            file: loc.file.clone(),
            message,
        };
        if !loc.file.is_file() {
            return Err(load_err("no such file".into()));
        }
        let script = self.js.load_script(&loc.file).map_err(|e| load_err(e.0))?;
        if !matches!(script.run.as_str(), "array" | "function") {
            return Err(EngineError::Shape {
                app: loc.app.clone(),
                file: loc.file.clone(),
                message: format!(
                    "missing or invalid attribute: run (the script has no `run` array of steps: it is {}; \
                     give a non-empty array, or a function returning one)",
                    script.run
                ),
            });
        }
        let scope = self.js.scope_of(&script).map_err(|e| load_err(e.0))?;
        let daemon = script.json.get("daemon").is_some_and(truthy);
        self.events.emit(Event::ScriptStart {
            script: loc.file.clone(),
            args: args.clone(),
        });
        let registered =
            self.mode == Mode::Run && self.kernel.registry.insert(&loc.file, self.stop.clone());
        if registered {
            self.kernel.set_ready(&loc.file, false);
        }
        self.stop.enter_script(&loc.file);
        let result = self
            .ensure_env(&loc, &script.json)
            .and_then(|_| self.ensure_requirements(&loc, &script.json, top))
            .and_then(|_| self.walk(&loc, &script, &scope, args));
        self.stop.leave_script();
        // Ready (`ready()`, `info.ready()`) once the walk completes (§2.4).
        if registered {
            self.kernel.set_ready(&loc.file, result.is_ok());
        }
        // A run that started a daemon (itself or via `script.start`) keeps
        // its processes until stopped.
        let hold = top && self.mode == Mode::Run && (daemon || !self.detached.borrow().is_empty());
        let result = match result {
            Ok(v) if hold => self.hold_daemon(&loc).map(|_| v),
            other => other,
        };
        self.finish(&loc, top, daemon, registered, &result);
        result
    }

    /// Runs the script's `action` steps (an `on` handler's `trigger`, e.g.
    /// `restart`) with `input` as their first input; no-op when absent.
    pub fn run_action(
        &self,
        loc: &Location,
        action: &str,
        input: Value,
    ) -> Result<Value, EngineError> {
        let load_err = |message: String| EngineError::Load {
            app: loc.app.clone(),
            file: loc.file.clone(),
            message,
        };
        let script = self
            .js
            .load_steps(&loc.file, action)
            .map_err(|e| load_err(e.0))?;
        if !script.json.get(action).is_some_and(Value::is_array) {
            return Ok(Value::Null);
        }
        let scope = self.js.scope_of(&script).map_err(|e| load_err(e.0))?;
        self.walk(loc, &script, &scope, input)
    }

    /// The step loop (spec §2.2). Step 0's `input` is the launch params,
    /// like `args`; a skipped step hands `null` to the next one.
    fn walk(
        &self,
        loc: &Location,
        script: &ScriptObj,
        scope: &Scope,
        mut args: Value,
    ) -> Result<Value, EngineError> {
        let mut sync = LocalSync::default();
        let (mut total, mut prepared, mut mtime) = (0usize, false, modified(&loc.file));
        let (mut i, mut input) = (0usize, args.clone());
        loop {
            if self.stop.is_stopped() {
                return Err(EngineError::Stopped {
                    app: loc.app.clone(),
                    file: loc.file.clone(),
                });
            }
            self.count_step(loc)?;
            let step_err = |method: &str, message: String| EngineError::Step {
                app: loc.app.clone(),
                file: loc.file.clone(),
                index: i,
                method: method.to_string(),
                message,
            };
            // Pinokio evaluates the script again before every step (§1.1):
            // scripts whose result can change each time, others when edited.
            let now = modified(&loc.file);
            let reload = prepared && now != mtime;
            if !prepared || reload || script.dynamic {
                mtime = now;
                let mem = self.step_json(loc, &input, Some(&args), i, &mut sync, true);
                total = self
                    .js
                    .prepare(script, reload, mem.as_deref().unwrap_or("{}"))
                    .map_err(|e| step_err("load", e.0))?;
                prepared = true;
            }
            if i >= total {
                break;
            }
            let mem = self.step_json(loc, &input, None, i, &mut sync, false);
            let next = (i + 1 < total).then_some(i + 1);
            let rendered = self
                .js
                .render_step(script, i, next, mem.as_deref())
                .map_err(|e| step_err("render", e.0))?;
            if rendered.when == Some(false) {
                // The step's own `next` is ignored and the following step
                // gets no input (C-023, C-024).
                input = Value::Null;
                i += 1;
                if i >= total {
                    break;
                }
                continue;
            }
            let step = rendered.step;
            let method = match rendered.inline {
                true => INLINE.to_string(),
                false => step_method(&step)
                    .ok_or_else(|| step_err("?", "the step has no `method`".into()))?,
            };
            self.events.emit(Event::StepStart {
                script: loc.file.clone(),
                index: i,
                total,
                step: step.clone(),
            });
            let ctx = StepCtx {
                run: self,
                loc,
                index: i,
                scope,
                script,
                input: &input,
                args: &args,
                total,
            };
            let flow = self.run_step(&ctx, &method, &step).map_err(|e| match e {
                MethodError::Stopped => EngineError::Stopped {
                    app: loc.app.clone(),
                    file: loc.file.clone(),
                },
                MethodError::Nested(inner) => *inner,
                MethodError::Failed(m) => step_err(&method, m),
            })?;
            match flow {
                Flow::Next(result) => {
                    let next =
                        next_index(&step, i, total, |id| self.js.find_step(script, id, false))
                            .map_err(|m| step_err(&method, m))?;
                    input = result;
                    match next {
                        Some(n) => i = n,
                        None => break,
                    }
                }
                Flow::Jump(target, result) => {
                    input = result;
                    i = match &target {
                        Target::Index(n) => (*n < total).then_some(*n),
                        Target::Id(id) => self.js.find_step(script, id, true),
                    }
                    .ok_or_else(|| {
                        step_err(&method, format!("jump target {target:?} matches no step"))
                    })?;
                }
                Flow::End(result) => {
                    input = result;
                    break;
                }
                Flow::Restart(new_args) => {
                    // Starts over in place: `sync` keeps its version, so the
                    // cleared `local` reaches the script as a whole (empty).
                    self.stop.kill_all();
                    self.memory.clear(&loc.file);
                    if let Some(a) = new_args {
                        args = a;
                    }
                    (i, input, prepared) = (0, args.clone(), false);
                }
            }
        }
        Ok(input)
    }

    /// Calls one rendered step's method (one at a time with `queue: true`),
    /// then applies what Pinokio does with its result: a truthy `error`
    /// halts, `returns` stores it, step-level `notify` tells the person.
    fn run_step(&self, ctx: &StepCtx<'_>, method: &str, step: &Value) -> MethodResult<Flow> {
        let _turn = match step.get("queue").is_some_and(truthy) && ctx.run.mode == Mode::Run {
            true => Some(crate::queue::wait_turn(
                &crate::queue::key(ctx, method, step),
                &self.stop,
            )?),
            false => None,
        };
        let flow = match method == INLINE {
            true => methods::inline(ctx)?,
            false => methods::dispatch(ctx, method, step)?,
        };
        let result = match &flow {
            Flow::Next(v) | Flow::Jump(_, v) | Flow::End(v) => v,
            Flow::Restart(_) => return Ok(flow),
        };
        if let Some(message) = result_error(result) {
            return Err(MethodError::Failed(message));
        }
        self.store_returns(ctx, step, result)
            .map_err(MethodError::Failed)?;
        self.step_notify(ctx, method, step)?;
        self.events.emit(Event::StepEnd {
            script: ctx.loc.file.clone(),
            index: ctx.index,
            result: result.clone(),
        });
        if self.stop.is_stopped() {
            // A result that arrives after a stop is dropped (§2.2 step 10).
            return Err(MethodError::Stopped);
        }
        Ok(flow)
    }

    /// Step-level `notify` once the step succeeded (C-031).
    fn step_notify(&self, ctx: &StepCtx<'_>, method: &str, step: &Value) -> MethodResult<()> {
        let Some(params) = step::notify_params(step, ctx.index, method) else {
            return Ok(());
        };
        if ctx.is_plan() {
            return Ok(());
        }
        ctx.notify("notify", &params).map(|_| ())
    }

    /// Per-step memory as JSON for the template world. `args` goes with the
    /// first render only; `local` as what changed since the last step. A
    /// render (`full` false) sends only what changed since the last render
    /// (run.js reuses that memory object; `current`/`next` go as arguments),
    /// `None` when nothing did.
    fn step_json(
        &self,
        loc: &Location,
        input: &Value,
        args: Option<&Value>,
        index: usize,
        sync: &mut LocalSync,
        full: bool,
    ) -> Option<String> {
        let local = self
            .memory
            .changes(&loc.file, sync.version)
            .map(|(version, change)| {
                sync.version = version;
                LocalDelta::from(change)
            });
        let (port, global) = (self.port(), self.memory.global(&loc.file));
        let seen = sync.rendered.as_ref().filter(|_| !full);
        let mem = StepMemory {
            input: (seen.is_none_or(|r| r.input != *input)).then_some(input),
            args,
            current: full.then_some(index),
            next: full.then_some(None),
            port: (seen.is_none_or(|r| r.port != port)).then_some(port),
            uri: seen.is_none().then(|| self.launch_uri(&loc.file)),
            global: (seen.is_none_or(|r| r.global != global)).then_some(&global),
            local,
        };
        let json = serde_json::to_string(&mem).unwrap_or_default();
        if !full {
            sync.rendered = Some(step::Rendered {
                input: input.clone(),
                global,
                port,
            });
        }
        (full || json != "{}").then_some(json)
    }

    fn count_step(&self, loc: &Location) -> Result<(), EngineError> {
        let n = self.steps_walked.get() + 1;
        self.steps_walked.set(n);
        if self.mode == Mode::Plan && n > PLAN_STEP_LIMIT {
            return Err(EngineError::PlanLimit {
                app: loc.app.clone(),
                file: loc.file.clone(),
                limit: PLAN_STEP_LIMIT,
            });
        }
        Ok(())
    }

    /// `returns: "local.x"` stores the result; `returns: {"local.x": "{{...}}"}`
    /// renders templates against the result first.
    fn store_returns(&self, ctx: &StepCtx<'_>, step: &Value, result: &Value) -> Result<(), String> {
        let assign = |key: &str, v: Value| match key.split_once('.') {
            Some(("local", name)) => {
                self.memory.set(&ctx.loc.file, name, v);
                Ok(())
            }
            Some(("global", name)) => {
                self.memory.set_global(&ctx.loc.file, name, v);
                Ok(())
            }
            _ => Err(format!(
                "`returns` target '{key}' must start with local. or global."
            )),
        };
        match step.get("returns") {
            Some(Value::String(key)) => assign(key, result.clone()),
            Some(obj @ Value::Object(_)) => {
                let rendered = self
                    .js
                    .render(obj, ctx.scope, &result.to_string())
                    .map_err(|e| e.0)?;
                for (k, v) in rendered.as_object().into_iter().flatten() {
                    assign(k, v.clone())?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Daemon scripts keep running after their last step until stopped,
    /// even when their processes exit (C-035: Pinokio keeps them "running"
    /// with their `local`); the terminal is told once when nothing is left.
    fn hold_daemon(&self, loc: &Location) -> Result<(), EngineError> {
        self.events.emit(Event::DaemonReady {
            script: loc.file.clone(),
        });
        let mut told = false;
        while !self.stop.is_stopped() {
            if !told && !self.stop.any_alive() {
                told = true;
                self.events.emit(Event::Output {
                    script: loc.file.clone(),
                    shell: "daemon".into(),
                    data: b"[pinokio] every process of this daemon script has exited; \
                        it stays running (as in Pinokio) until it is stopped\r\n"
                        .to_vec(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    fn finish(
        &self,
        loc: &Location,
        top: bool,
        daemon: bool,
        registered: bool,
        result: &Result<Value, EngineError>,
    ) {
        let detach = !top && daemon && registered && result.is_ok() && self.mode == Mode::Run;
        if detach {
            self.detached.borrow_mut().push(loc.file.clone());
        } else {
            self.memory.clear(&loc.file);
            if registered {
                self.kernel.registry.remove(&loc.file);
            }
            // The shells this script started end with it (C-034); a
            // daemon's are kept until the run ends.
            if !top && !daemon {
                self.stop.kill_script(&loc.file);
            }
        }
        if top {
            self.stop.kill_all();
            self.shells.borrow_mut().clear();
            for file in self.detached.take() {
                self.memory.clear(&file);
                self.kernel.registry.remove(&file);
            }
        }
        if let Err(e) = result {
            if !e.is_stopped() {
                self.events.emit(Event::Error {
                    script: loc.file.clone(),
                    message: e.to_string(),
                });
            }
        }
        let stopped = self.stop.is_stopped();
        self.events.emit(Event::ScriptEnd {
            script: loc.file.clone(),
            ok: result.is_ok(),
            stopped,
        });
    }
}

/// The environment every process of `loc`'s app starts from, before a
/// step's own `env`: Pinokio's layers 1–6 (see [`crate::environment::build`]).
pub fn base_env(kernel: &Kernel, loc: &Location) -> BTreeMap<String, String> {
    crate::environment::build::base(kernel, loc)
}

/// Where a `jump`/`goto` goes.
#[derive(Debug, Clone)]
pub enum Target {
    Index(usize),
    Id(String),
}

fn step_method(step: &Value) -> Option<String> {
    step.get("method").and_then(Value::as_str).map(String::from)
}

/// JavaScript truthiness of a JSON value.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}
