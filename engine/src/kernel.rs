//! State shared by every run of one engine: home folder, machine facts,
//! `local` memory and the running-script registry. `Send + Sync`; each run
//! keeps its own JS runtime on its own thread.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::memory::{Memory, Registry};
use crate::sys::SystemInfo;

pub struct Kernel {
    /// Pinokio home (`~/pinokio`): apps live in `<home>/api/<app>`.
    pub home: PathBuf,
    pub system: SystemInfo,
    pub memory: Memory,
    pub registry: Registry,
    /// The Python acceleration switch (uv, pip shim, conda emulation).
    pub python: crate::python::Policy,
    /// Extra environment per app (set by the embedder, e.g. proxy paths);
    /// the app's ENVIRONMENT file and step `env` still override it.
    app_env: Mutex<HashMap<String, Vec<(String, String)>>>,
    /// Scripts that reached ready (§2.4): daemons at the end of their walk,
    /// others at their end; forgotten when the script starts again.
    ready: Mutex<HashSet<PathBuf>>,
    sys_json: String,
}

impl Kernel {
    pub fn new(home: PathBuf, system: SystemInfo) -> Self {
        let sys_json = sys_json(&home, &system);
        Kernel {
            home,
            system,
            memory: Memory::default(),
            registry: Registry::default(),
            python: Default::default(),
            app_env: Mutex::new(HashMap::new()),
            ready: Mutex::new(HashSet::new()),
            sys_json,
        }
    }

    /// Extra environment of an app's processes.
    pub fn app_env(&self, app: &str) -> Vec<(String, String)> {
        self.app_env
            .lock()
            .expect("app env lock")
            .get(app)
            .cloned()
            .unwrap_or_default()
    }

    pub fn set_app_env(&self, app: &str, vars: Vec<(String, String)>) {
        let mut m = self.app_env.lock().expect("app env lock");
        if vars.is_empty() {
            m.remove(app);
        } else {
            m.insert(app.to_string(), vars);
        }
    }

    /// Machine facts as the JS prelude reads them.
    pub fn sysinfo_json(&self) -> String {
        self.sys_json.clone()
    }

    /// Records that a script reached ready (`ready: true`) or started again.
    pub fn set_ready(&self, script: &Path, ready: bool) {
        let mut r = self.ready.lock().expect("ready lock");
        if ready {
            r.insert(script.to_path_buf());
        } else {
            r.remove(script);
        }
    }

    /// Whether the script at this absolute path reached ready.
    pub fn is_ready(&self, script: &Path) -> bool {
        self.ready.lock().expect("ready lock").contains(script)
    }
}

/// The machine as Pinokio shows it to scripts: `gpus[]` as `{name, model,
/// driver}` with vendor and model lowercase (plus our `vendor`/`vram`),
/// `gpu_model` lowercase, the selected GPU's driver and target.
fn sys_json(home: &Path, system: &SystemInfo) -> String {
    let homedir = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let gpus: Vec<Value> = system
        .gpus
        .iter()
        .map(|g| {
            let driver = (g.vendor == system.gpu)
                .then(|| system.gpu_driver.clone())
                .flatten();
            json!({
                "name": g.vendor.to_lowercase(), "vendor": g.vendor,
                "model": g.model.to_lowercase(), "driver": driver, "vram": g.vram,
            })
        })
        .collect();
    let graphics: Vec<Value> = system
        .gpus
        .iter()
        .map(|g| json!({ "vendor": g.vendor, "model": g.model, "vram": g.vram }))
        .collect();
    json!({
        "platform": system.platform, "arch": system.arch, "gpu": system.gpu,
        "gpus": gpus, "graphics": graphics,
        "gpu_model": system.gpu_model().map(str::to_lowercase),
        "gpu_driver": system.gpu_driver, "gpu_target": system.gpu_target,
        "cuda": system.cuda, "vram": system.vram_gib(),
        "ram": system.ram, "ram_bytes": system.ram * 1024 * 1024 * 1024, "cpus": system.cpus,
        "homedir": homedir, "home": home, "hostname": "localhost",
        "username": std::env::var("USER").unwrap_or_else(|_| "user".into()),
    })
    .to_string()
}
