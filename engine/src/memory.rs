//! Script memory that outlives a single step: `local` per script (what
//! `local.set` writes and launchers read through `info.local(...)`), and the
//! registry of running scripts. Plans use a private [`Memory`] so they never
//! touch live state.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::process::StopHandle;

/// `local` variables keyed by absolute script path.
#[derive(Clone, Default)]
pub struct Memory(Arc<Mutex<HashMap<PathBuf, Value>>>);

impl Memory {
    /// The `local` object of a script (empty object when unset).
    pub fn local(&self, script: &Path) -> Value {
        let m = self.0.lock().expect("memory lock");
        m.get(script)
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()))
    }

    /// Sets `key` (dotted paths allowed) in a script's `local`.
    pub fn set(&self, script: &Path, key: &str, value: Value) {
        let mut m = self.0.lock().expect("memory lock");
        let entry = m
            .entry(script.to_path_buf())
            .or_insert_with(|| Value::Object(Map::new()));
        crate::util::set_path(entry, key, value);
    }

    /// Removes `key` (dotted paths allowed) from a script's `local`.
    pub fn remove(&self, script: &Path, key: &str) {
        if let Some(v) = self.0.lock().expect("memory lock").get_mut(script) {
            crate::util::remove_path(v, key);
        }
    }

    /// Forgets a script's `local` (non-daemon scripts, when they end).
    pub fn clear(&self, script: &Path) {
        self.0.lock().expect("memory lock").remove(script);
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
