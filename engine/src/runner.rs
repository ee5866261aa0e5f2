//! The step state machine. A [`Run`] owns one JS runtime and walks scripts:
//! render step `i` with memory, honour `when`, dispatch the method, store
//! `returns`, pick the next step (`next`, ids, `jump`), and finish as a
//! daemon or a one-shot script. `script.start` re-enters [`Run::run_script`]
//! for nested scripts on the same thread.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::error::{EngineError, MethodError};
use crate::events::{Event, EventSink};
use crate::host::{Host, Interaction};
use crate::js::{Bridge, Js, Scope, ScriptObj};
use crate::kernel::Kernel;
use crate::memory::Memory;
use crate::methods::{self, Flow};
use crate::plan::{Mode, PlanEntry, PLAN_STEP_LIMIT};
use crate::process::StopHandle;
use crate::pty::ShellProc;
use crate::script::{self, Location};

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
}

/// What a step's method sees of where it runs.
pub struct StepCtx<'r> {
    pub run: &'r Run,
    pub loc: &'r Location,
    pub index: usize,
    pub scope: &'r Scope,
}

impl StepCtx<'_> {
    /// Resolves a step path (relative to the script folder).
    pub fn path(&self, p: &str) -> PathBuf {
        crate::util::resolve(&self.loc.dir, p)
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
        self.run.host.interact(&what).map_err(MethodError::Failed)
    }

    pub fn emit_method(&self, method: &str, params: &Value) {
        self.run.events.emit(Event::Method {
            script: self.loc.file.clone(),
            index: self.index,
            method: method.to_string(),
            params: params.clone(),
        });
    }

    /// Environment for processes: ours, the app's ENVIRONMENT, then `extra`.
    pub fn process_env(&self, extra: Option<&Value>) -> Vec<(String, String)> {
        self.env_map(extra).into_iter().collect()
    }

    /// [`Self::process_env`] as a map.
    pub fn env_map(&self, extra: Option<&Value>) -> BTreeMap<String, String> {
        let mut env = base_env(&self.run.kernel, self.loc);
        if let Some(Value::Object(m)) = extra {
            for (k, v) in m {
                env.insert(k.clone(), crate::util::scalar_string(v));
            }
        }
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

    /// Forgets the cached port (after starting processes).
    pub fn refresh_port(&self) {
        self.port.set(None);
    }

    fn memory_json(
        &self,
        loc: &Location,
        input: &Value,
        args: &Value,
        index: usize,
        total: Option<usize>,
    ) -> Value {
        let local = self.memory.local(&loc.file);
        serde_json::to_value(self.step_memory(loc, input, args, &local, index, total))
            .unwrap_or(Value::Null)
    }

    /// The per-step names templates see on top of the script scope.
    fn step_memory<'a>(
        &self,
        loc: &'a Location,
        input: &'a Value,
        args: &'a Value,
        local: &'a Value,
        index: usize,
        total: Option<usize>,
    ) -> StepMemory<'a> {
        StepMemory {
            input,
            args,
            local,
            global: self.memory.global(&loc.file),
            current: index,
            next: total.and_then(|t| (index + 1 < t).then_some(index + 1)),
            port: self.port(),
            uri: &loc.file,
            event: input,
        }
    }

    /// Runs `file` to its end and returns its last result (or what
    /// `script.return` returned). Top-level daemon scripts wait here until
    /// stopped or until their processes are gone.
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
        let steps = script
            .json
            .get("run")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| EngineError::Shape {
                app: loc.app.clone(),
                file: loc.file.clone(),
                message: "the script has no `run` array of steps".into(),
            })?;
        let scope = self
            .js
            .scope(&loc.file, &loc.dir, &script)
            .map_err(|e| load_err(e.0))?;
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
        let result = self
            .ensure_env(&loc, &script.json)
            .and_then(|_| self.ensure_requirements(&loc, &script.json, top))
            .and_then(|_| self.walk(&loc, &script, &steps, &scope, args));
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

    fn walk(
        &self,
        loc: &Location,
        script: &ScriptObj,
        steps: &[Value],
        scope: &Scope,
        args: Value,
    ) -> Result<Value, EngineError> {
        let total = steps.len();
        // Like Pinokio, the params a script was started with are also the
        // first step's `input`.
        let first_input = match &args {
            Value::Object(m) if !m.is_empty() => args.clone(),
            _ => Value::Null,
        };
        let (mut i, mut input) = (0usize, first_input);
        while i < total {
            if self.stop.is_stopped() {
                return Err(EngineError::Stopped {
                    app: loc.app.clone(),
                    file: loc.file.clone(),
                });
            }
            self.count_step(loc)?;
            let local = self.memory.local(&loc.file);
            let mem = self.step_memory(loc, &input, &args, &local, i, Some(total));
            let mem = serde_json::to_string(&mem).unwrap_or_default();
            if self.events.is_connected() {
                self.events.emit(Event::Memory {
                    script: loc.file.clone(),
                    index: i,
                    input: input.clone(),
                    local,
                    args: args.clone(),
                });
            }
            let step_err = |method: &str, message: String| EngineError::Step {
                app: loc.app.clone(),
                file: loc.file.clone(),
                index: i,
                method: method.to_string(),
                message,
            };
            let (step, when) = self
                .js
                .render_step(script, "run", i, scope, &mem)
                .map_err(|e| step_err("render", e.0))?;
            if when == Some(false) {
                i += 1;
                continue;
            }
            let method = step_method(&step)
                .ok_or_else(|| step_err("?", "the step has no `method`".into()))?;
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
            };
            let flow = methods::dispatch(&ctx, &method, &step).map_err(|e| match e {
                MethodError::Stopped => EngineError::Stopped {
                    app: loc.app.clone(),
                    file: loc.file.clone(),
                },
                MethodError::Nested(inner) => *inner,
                MethodError::Failed(m) => step_err(&method, m),
            })?;
            match flow {
                Flow::Next(result) => {
                    self.store_returns(&ctx, &step, &result)
                        .map_err(|m| step_err(&method, m))?;
                    self.events.emit(Event::StepEnd {
                        script: loc.file.clone(),
                        index: i,
                        result: result.clone(),
                    });
                    input = result;
                    match next_index(&step, i, steps).map_err(|m| step_err(&method, m))? {
                        Some(n) => i = n,
                        None => break,
                    }
                }
                Flow::Jump(target, result) => {
                    input = result;
                    i = target.resolve(steps).ok_or_else(|| {
                        step_err(&method, format!("jump target {target:?} matches no step"))
                    })?;
                }
                Flow::Return(v) => return Ok(v),
            }
        }
        Ok(input)
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

    /// Asks for required variables missing from the app's ENVIRONMENT file
    /// and saves the answers there (plans only note them).
    fn ensure_env(&self, loc: &Location, script: &Value) -> Result<(), EngineError> {
        let have = script::read_env_file(&loc.env_file());
        let missing: Vec<_> = script::env_prerequisites(script)
            .into_iter()
            .filter(|v| {
                have.get(&v.key).is_none_or(|x| x.is_empty()) && std::env::var(&v.key).is_err()
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
            .host
            .interact(&Interaction::Env {
                script: loc.file.clone(),
                vars: missing.clone(),
            })
            .map_err(|m| fail(format!("missing environment variables: {m}")))?;
        let values = missing
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
        script::update_env_file(&loc.env_file(), &values)
            .map_err(|e| fail(format!("cannot write {}: {e}", loc.env_file().display())))
    }

    /// Checks the script's `requires` (and, for the script a run starts
    /// with, its app's `pinokio.js` `requires`) before the first step,
    /// installing what can be installed. Plans record the statuses as a
    /// `requires` entry instead.
    fn ensure_requirements(
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
    fn launcher_requires(&self, loc: &Location) -> Option<Value> {
        ["pinokio.js", "pinokio.json"]
            .iter()
            .map(|n| loc.app_dir.join(n))
            .find(|p| p.is_file() && *p != loc.file)
            .and_then(|p| self.js.load_script(&p).ok())
            .and_then(|s| s.json.get("requires").cloned())
    }

    /// Daemon scripts keep running after their last step until stopped (or
    /// until every process they started has exited).
    fn hold_daemon(&self, loc: &Location) -> Result<(), EngineError> {
        self.events.emit(Event::DaemonReady {
            script: loc.file.clone(),
        });
        while !self.stop.is_stopped() && self.stop.any_alive() {
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

/// The environment every process of `loc`'s app starts from: ours, the
/// app's extra env, its ENVIRONMENT file, then the home's tools and caches.
pub fn base_env(kernel: &Kernel, loc: &Location) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = std::env::vars().collect();
    env.extend(kernel.app_env(&loc.app));
    env.extend(script::read_env_file(&loc.env_file()));
    env.insert(
        "PINOKIO_HOME".into(),
        kernel.home.to_string_lossy().into_owned(),
    );
    env.insert("TERM".into(), "xterm-256color".into());
    env.insert("PYTHONUNBUFFERED".into(), "1".into());
    let layout = crate::python::Layout::new(&kernel.home);
    crate::python::apply_env(&mut env, &layout, kernel.python.accelerated(&loc.app));
    env
}

/// Per-step memory, serialised straight to the JSON the JS side reads.
#[derive(serde::Serialize)]
struct StepMemory<'a> {
    input: &'a Value,
    args: &'a Value,
    local: &'a Value,
    global: Value,
    current: usize,
    next: Option<usize>,
    port: u16,
    uri: &'a Path,
    event: &'a Value,
}

/// Where a `jump`/`goto` goes.
#[derive(Debug, Clone)]
pub enum Target {
    Index(usize),
    Id(String),
}

impl Target {
    fn resolve(&self, steps: &[Value]) -> Option<usize> {
        match self {
            Target::Index(i) => (*i < steps.len()).then_some(*i),
            Target::Id(id) => script::step_by_id(steps, id),
        }
    }
}

fn step_method(step: &Value) -> Option<String> {
    step.get("method").and_then(Value::as_str).map(String::from)
}

/// `next: null` ends, a number or an id jumps, absence goes on.
fn next_index(step: &Value, i: usize, steps: &[Value]) -> Result<Option<usize>, String> {
    match step.get("next") {
        None => Ok((i + 1 < steps.len()).then_some(i + 1)),
        Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let n = n.as_u64().ok_or("`next` must be a step index or id")? as usize;
            if n < steps.len() {
                Ok(Some(n))
            } else {
                Err(format!(
                    "`next` {n} is past the last step ({})",
                    steps.len() - 1
                ))
            }
        }
        Some(Value::String(id)) => script::step_by_id(steps, id)
            .or_else(|| id.parse::<usize>().ok().filter(|n| *n < steps.len()))
            .map(Some)
            .ok_or_else(|| format!("`next: \"{id}\"` matches no step id")),
        Some(other) => Err(format!(
            "`next` must be null, a step index or an id, not {other}"
        )),
    }
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

/// The JS natives' view of the engine (for a run, a menu or templates).
pub fn bridge(kernel: Arc<Kernel>, memory: Memory, events: EventSink) -> Rc<dyn Bridge> {
    Rc::new(RunBridge {
        kernel,
        memory,
        events,
    })
}

struct RunBridge {
    kernel: Arc<Kernel>,
    memory: Memory,
    events: EventSink,
}

impl Bridge for RunBridge {
    fn sysinfo(&self) -> String {
        self.kernel.sysinfo_json()
    }
    fn running(&self, path: &Path) -> bool {
        self.kernel
            .registry
            .is_running(&crate::util::normalize(path))
    }
    fn global_of(&self, path: &Path) -> Value {
        self.memory.global(&crate::util::normalize(path))
    }
    fn ready(&self, path: &Path) -> bool {
        self.kernel.is_ready(&crate::util::normalize(path))
    }
    fn local_of(&self, path: &Path) -> Value {
        self.memory.local(&crate::util::normalize(path))
    }
    fn env(&self) -> Value {
        Value::Object(
            std::env::vars()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    }
    fn env_for(&self, path: &Path) -> Value {
        let mut env = self.env();
        let loc = Location::new(&self.kernel.home, path);
        if let Value::Object(m) = &mut env {
            for (k, v) in script::read_env_file(&loc.env_file()) {
                m.insert(k, Value::String(v));
            }
        }
        env
    }
    fn port(&self) -> u16 {
        crate::sys::free_port(42003)
    }
    fn cwd(&self) -> String {
        std::env::current_dir()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "/".into())
    }
    fn log(&self, line: &str) {
        self.events.emit(Event::Log {
            script: PathBuf::new(),
            text: line.to_string(),
        });
    }
}
