//! Script memory that outlives a single step: `local` per script (what
//! `local.set` writes and launchers read through `info.local(...)`), and the
//! registry of running scripts. Plans use a private [`Memory`] so they never
//! touch live state.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::process::StopHandle;

/// `local` and `global` variables keyed by absolute script path. `local`
/// is forgotten when a (non-daemon) script ends; `global` stays for the life
/// of the engine, like Pinokio's kernel memory (C-066).
#[derive(Clone, Default)]
pub struct Memory {
    local: Vars,
    global: Vars,
}

type Vars = Arc<Mutex<HashMap<PathBuf, Value>>>;

fn get(vars: &Vars, script: &Path) -> Value {
    let m = vars.lock().expect("memory lock");
    m.get(script)
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()))
}

fn set(vars: &Vars, script: &Path, key: &str, value: Value) {
    let mut m = vars.lock().expect("memory lock");
    let entry = m
        .entry(script.to_path_buf())
        .or_insert_with(|| Value::Object(Map::new()));
    crate::util::set_path(entry, key, value);
}

impl Memory {
    /// The `local` object of a script (empty object when unset).
    pub fn local(&self, script: &Path) -> Value {
        get(&self.local, script)
    }

    /// Sets `key` (dotted paths allowed) in a script's `local`.
    pub fn set(&self, script: &Path, key: &str, value: Value) {
        set(&self.local, script, key, value)
    }

    /// The `global` object of a script (empty object when unset).
    pub fn global(&self, script: &Path) -> Value {
        get(&self.global, script)
    }

    /// Sets `key` (dotted paths allowed) in a script's `global`.
    pub fn set_global(&self, script: &Path, key: &str, value: Value) {
        set(&self.global, script, key, value)
    }

    /// Forgets a script's `local` (non-daemon scripts, when they end).
    pub fn clear(&self, script: &Path) {
        self.local.lock().expect("memory lock").remove(script);
    }
}

/// Running scripts, by absolute path, with the handle that stops them.
#[derive(Clone, Default)]
pub struct Registry(Arc<Mutex<HashMap<PathBuf, StopHandle>>>);

impl Registry {
    /// Marks a script as running; false if it already was.
    pub fn insert(&self, script: &Path, stop: StopHandle) -> bool {
        let mut m = self.0.lock().expect("registry lock");
        if m.contains_key(script) {
            return false;
        }
        m.insert(script.to_path_buf(), stop);
        true
    }

    pub fn remove(&self, script: &Path) {
        self.0.lock().expect("registry lock").remove(script);
    }

    pub fn is_running(&self, script: &Path) -> bool {
        self.0.lock().expect("registry lock").contains_key(script)
    }

    pub fn get(&self, script: &Path) -> Option<StopHandle> {
        self.0.lock().expect("registry lock").get(script).cloned()
    }

    pub fn list(&self) -> Vec<PathBuf> {
        let mut v: Vec<_> = self
            .0
            .lock()
            .expect("registry lock")
            .keys()
            .cloned()
            .collect();
        v.sort();
        v
    }
}
