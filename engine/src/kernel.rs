//! State shared by every run of one engine: home folder, machine facts,
//! `local` memory and the running-script registry. `Send + Sync`; each run
//! keeps its own JS runtime on its own thread.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::json;

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
    sys_json: String,
}

impl Kernel {
    pub fn new(home: PathBuf, system: SystemInfo) -> Self {
        let homedir = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        let sys_json = json!({
            "platform": system.platform, "arch": system.arch, "gpu": system.gpu,
            "gpus": system.gpus, "gpu_model": system.gpu_model(),
            "gpu_driver": system.gpu_driver, "cuda": system.cuda, "vram": system.vram_gib(),
            "ram": system.ram, "ram_bytes": system.ram * 1024 * 1024 * 1024, "cpus": system.cpus,
            "homedir": homedir, "home": home, "hostname": "localhost",
            "username": std::env::var("USER").unwrap_or_else(|_| "user".into()),
        })
        .to_string();
        Kernel {
            home,
            system,
            memory: Memory::default(),
            registry: Registry::default(),
            python: Default::default(),
            app_env: Mutex::new(HashMap::new()),
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
}
