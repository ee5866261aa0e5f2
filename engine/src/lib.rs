//! The Pinokio script runtime. It evaluates launcher scripts headless and
//! knows nothing of HTTP or SQL: the server drives it through events.
//!
//! Entry point: [`Engine`]. `start` runs a script on its own thread and
//! streams [`Event`]s; `plan` walks a script without side effects; `menu`
//! renders an app's launcher. People-facing methods ask through [`Host`].

pub mod ansi;
pub mod drive;
pub mod environment;
mod error;
pub mod events;
pub mod host;
mod js;
mod kernel;
pub mod launcher;
mod memory;
mod methods;
pub mod paths;
pub mod plan;
mod process;
pub mod progress;
mod pty;
pub mod python;
mod queue;
mod runner;
mod script;
mod step;
mod step_env;
pub mod sys;
pub mod template;
pub mod torch;
mod util;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde_json::Value;

pub use error::EngineError;
pub use events::{channel, Event, EventSink};
pub use host::{AutoHost, EnvVar, Host, Interaction};
pub use launcher::{Menu, MenuItem};
pub use plan::PlanEntry;
pub use process::{group_alive, kill_group, StopHandle};
pub use progress::Progress;
pub use sys::{Gpu, SystemInfo};
pub use torch::{TorchCheck, Verdict};

use kernel::Kernel;
use plan::Mode;
use runner::Run;

/// How to run a script.
#[derive(Clone)]
pub struct RunOptions {
    /// The script's `args` (what `script.start` passes as `params`).
    pub args: Value,
    /// Who answers `input`, `notify`, missing env vars...
    pub host: Arc<dyn Host>,
    /// Where events go (see [`channel`]).
    pub events: EventSink,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            args: Value::Object(Default::default()),
            host: Arc::new(AutoHost::default()),
            events: EventSink::none(),
        }
    }
}

/// How to plan a script.
#[derive(Clone, Default)]
pub struct PlanOptions {
    pub args: Option<Value>,
    /// Machine to plan for (default: this engine's).
    pub system: Option<SystemInfo>,
}

/// A script running on its own thread.
pub struct RunHandle {
    pub script: PathBuf,
    stop: StopHandle,
    thread: JoinHandle<Result<Value, EngineError>>,
}

impl RunHandle {
    /// Stops the run and kills its process groups (returns once signalled).
    pub fn stop(&self) {
        self.stop.stop();
    }

    /// A handle that can stop this run from elsewhere (e.g. a Ctrl-C handler).
    pub fn stopper(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Types raw bytes into the run's current terminal (its newest shell
    /// that is still running).
    pub fn write_input(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.stop.write_input(bytes)
    }

    /// Resizes the run's terminals (and the ones it starts later).
    pub fn resize(&self, cols: u16, rows: u16) -> std::io::Result<()> {
        self.stop.resize(cols, rows)
    }

    /// Process groups the run has started (each shell leads its own group).
    pub fn groups(&self) -> Vec<i32> {
        self.stop.groups()
    }

    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the end: the script's result, or why it failed.
    pub fn wait(self) -> Result<Value, EngineError> {
        self.thread
            .join()
            .unwrap_or_else(|_| Err(EngineError::Internal("the run thread panicked".into())))
    }
}

/// One Pinokio home with its shared state. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Engine {
    kernel: Arc<Kernel>,
}

impl Engine {
    /// An engine for `home` (apps in `<home>/api/<app>`) on the given machine.
    pub fn new(home: impl Into<PathBuf>, system: SystemInfo) -> Self {
        Engine {
            kernel: Arc::new(Kernel::new(home.into(), system)),
        }
    }

    /// An engine for `home` on this machine ([`SystemInfo::detect`]).
    pub fn detect(home: impl Into<PathBuf>) -> Self {
        Self::new(home, SystemInfo::detect())
    }

    pub fn home(&self) -> &Path {
        &self.kernel.home
    }

    pub fn system(&self) -> &SystemInfo {
        &self.kernel.system
    }

    /// `<home>/api/<name>`.
    pub fn app_dir(&self, name: &str) -> PathBuf {
        self.kernel.home.join("api").join(name)
    }

    /// Starts `script` on a new thread. Fails at once if it is already running.
    pub fn start(
        &self,
        script: impl AsRef<Path>,
        opts: RunOptions,
    ) -> Result<RunHandle, EngineError> {
        let file = absolute(script.as_ref());
        if self.kernel.registry.is_running(&file) {
            return Err(EngineError::Internal(format!(
                "{} is already running",
                file.display()
            )));
        }
        let stop = StopHandle::new();
        let (kernel, s, f) = (self.kernel.clone(), stop.clone(), file.clone());
        let thread = std::thread::Builder::new()
            .name("pinokio-run".into())
            .spawn(move || {
                let run = Run::new(kernel, Mode::Run, opts.host, opts.events, s)?;
                run.run_script(&f, opts.args, true)
            })
            .map_err(|e| EngineError::Internal(format!("cannot start a run thread: {e}")))?;
        Ok(RunHandle {
            script: file,
            stop,
            thread,
        })
    }

    /// Runs `script` on this thread until it ends (daemons: until stopped via
    /// `stop` or until their processes exit).
    pub fn run(
        &self,
        script: impl AsRef<Path>,
        opts: RunOptions,
        stop: StopHandle,
    ) -> Result<Value, EngineError> {
        let run = Run::new(self.kernel.clone(), Mode::Run, opts.host, opts.events, stop)?;
        run.run_script(&absolute(script.as_ref()), opts.args, true)
    }

    /// Walks `script` (and the scripts it starts) without side effects and
    /// returns every step it would execute, with rendered params.
    pub fn plan(
        &self,
        script: impl AsRef<Path>,
        opts: PlanOptions,
    ) -> Result<Vec<PlanEntry>, EngineError> {
        let kernel = match opts.system {
            Some(sys) => Arc::new(Kernel::new(self.kernel.home.clone(), sys)),
            None => self.kernel.clone(),
        };
        let run = Run::new(
            kernel,
            Mode::Plan,
            Arc::new(AutoHost::default()),
            EventSink::none(),
            StopHandle::new(),
        )?;
        let args = opts
            .args
            .unwrap_or_else(|| Value::Object(Default::default()));
        run.run_script(&absolute(script.as_ref()), args, true)?;
        Ok(run.plan.take())
    }

    /// Which torch `script` would install (through its plan) and whether
    /// that build fits this machine's GPU driver.
    pub fn torch_check(&self, script: impl AsRef<Path>) -> Result<TorchCheck, EngineError> {
        let plan = self.plan(script, PlanOptions::default())?;
        Ok(torch::check(&plan, self.system()))
    }

    /// Renders the launcher menu of the app in `app_dir`.
    pub fn menu(&self, app_dir: impl AsRef<Path>) -> Result<Menu, EngineError> {
        launcher::render(self.kernel.clone(), &absolute(app_dir.as_ref()))
    }

    /// Stops a running script by path; false if it was not running.
    pub fn stop(&self, script: impl AsRef<Path>) -> bool {
        match self.kernel.registry.get(&absolute(script.as_ref())) {
            Some(h) => {
                h.stop();
                true
            }
            None => false,
        }
    }

    /// Types raw bytes into the current terminal of a running script.
    pub fn write_input(&self, script: impl AsRef<Path>, bytes: &[u8]) -> std::io::Result<()> {
        self.running_handle(script.as_ref())?.write_input(bytes)
    }

    /// Resizes the terminals of a running script.
    pub fn resize(&self, script: impl AsRef<Path>, cols: u16, rows: u16) -> std::io::Result<()> {
        self.running_handle(script.as_ref())?.resize(cols, rows)
    }

    fn running_handle(&self, script: &Path) -> std::io::Result<StopHandle> {
        self.kernel.registry.get(&absolute(script)).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} is not running", script.display()),
            )
        })
    }

    /// Extra environment for every process of app `app` (the folder name
    /// under `<home>/api`), e.g. proxy settings. The app's ENVIRONMENT file
    /// and a step's `env` override these. An empty list clears them.
    pub fn set_app_env(&self, app: &str, vars: Vec<(String, String)>) {
        self.kernel.set_app_env(app, vars);
    }

    /// Python acceleration for every app (on by default): venvs made by
    /// `uv venv --seed`, pip forwarded to `uv pip` by a shim, conda steps
    /// emulated with uv venvs when conda is absent. Off: Pinokio's
    /// `python3 -m venv` and real pip, exactly.
    pub fn set_acceleration(&self, on: bool) {
        self.kernel.python.set_global(on);
    }

    /// Per-app override of [`Self::set_acceleration`] (`app` is the folder
    /// name under `<home>/api`); `None` follows the global switch again.
    pub fn set_app_acceleration(&self, app: &str, on: Option<bool>) {
        self.kernel.python.set_app(app, on);
    }

    /// Hardlink the platform Python's torch family into venvs made from it
    /// (same Python version only), so a script asking for that torch finds
    /// it installed. Meant for images that ship torch, such as Colab.
    pub fn set_reuse_platform_torch(&self, on: bool) {
        self.kernel.python.set_reuse_platform_torch(on);
    }

    /// Whether app `app` runs with Python acceleration.
    pub fn acceleration(&self, app: &str) -> bool {
        self.kernel.python.accelerated(app)
    }

    /// The app's own acceleration choice, `None` when it follows the global one.
    pub fn app_acceleration_override(&self, app: &str) -> Option<bool> {
        self.kernel.python.app_override(app)
    }

    pub fn is_running(&self, script: impl AsRef<Path>) -> bool {
        self.kernel.registry.is_running(&absolute(script.as_ref()))
    }

    /// Absolute paths of running scripts (including ones started by `script.start`).
    pub fn running(&self) -> Vec<PathBuf> {
        self.kernel.registry.list()
    }

    /// `local` memory of a script (e.g. the URL a daemon stored).
    pub fn local(&self, script: impl AsRef<Path>) -> Value {
        self.kernel.memory.local(&absolute(script.as_ref()))
    }

    /// Names of the built-in methods.
    pub fn methods() -> Vec<&'static str> {
        methods::names().collect()
    }

    /// A template renderer bound to this engine (same thread only).
    pub fn renderer(&self, cwd: &Path) -> Result<template::Renderer, EngineError> {
        template::Renderer::new(self.kernel.clone(), cwd)
    }
}

fn absolute(p: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    util::resolve(&cwd, p)
}
