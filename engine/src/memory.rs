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
/// of the engine, like Pinokio's kernel memory (C-066). Each script's `local`
/// is shared (`Arc`, copied on write) and versioned, so a run can hand its
/// template world only what changed since the last step instead of the whole
/// object (see [`Memory::changes`]).
#[derive(Clone, Default)]
pub struct Memory {
    local: Arc<Mutex<Locals>>,
    global: Arc<Mutex<HashMap<PathBuf, Value>>>,
}

#[derive(Default)]
struct Locals {
    by_script: HashMap<PathBuf, Slot>,
    /// Last version handed out; versions only grow, across all scripts.
    version: u64,
}

struct Slot {
    value: Arc<Value>,
    version: u64,
    /// Versions at or below this are not in `log` (a reader that old gets
    /// the whole object).
    floor: u64,
    /// (version, top-level key) of recent writes, oldest first.
    log: Vec<(u64, String)>,
}

/// Writes kept per script before older ones are summarised as "everything".
const LOG_LIMIT: usize = 512;

impl Slot {
    /// Notes that `key` (its top-level part) changed at `version`, so
    /// readers get only what changed since they last looked.
    fn record(&mut self, version: u64, key: &str) {
        self.version = version;
        let top = key.split('.').next().unwrap_or(key).to_string();
        self.log.push((version, top));
        if self.log.len() > LOG_LIMIT {
            let drop = self.log.len() - LOG_LIMIT / 2;
            self.floor = self.log[drop - 1].0;
            self.log.drain(..drop);
        }
    }
}

/// What changed in a script's `local` since a reader's version.
#[derive(Debug, Clone, PartialEq)]
pub enum LocalChange {
    /// The whole object (first read, after a clear, or too far behind).
    Full(Arc<Value>),
    /// Top-level keys with their new values (`None`: removed).
    Keys(Vec<(String, Option<Value>)>),
}

impl Memory {
    /// The `local` object of a script (empty object when unset).
    pub fn local(&self, script: &Path) -> Value {
        Value::clone(&self.local_shared(script))
    }

    /// [`Self::local`] without copying it.
    pub fn local_shared(&self, script: &Path) -> Arc<Value> {
        let m = self.local.lock().expect("memory lock");
        m.by_script
            .get(script)
            .map(|s| s.value.clone())
            .unwrap_or_else(|| Arc::new(Value::Object(Map::new())))
    }

    /// Sets `key` (dotted paths allowed) in a script's `local`.
    pub fn set(&self, script: &Path, key: &str, value: Value) {
        let mut m = self.local.lock().expect("memory lock");
        m.version += 1;
        let version = m.version;
        let slot = m
            .by_script
            .entry(script.to_path_buf())
            .or_insert_with(|| Slot {
                value: Arc::new(Value::Object(Map::new())),
                version,
                floor: version,
                log: Vec::new(),
            });
        crate::util::set_path(Arc::make_mut(&mut slot.value), key, value);
        slot.record(version, key);
    }

    /// Removes `key` (dotted paths allowed) from a script's `local`.
    pub fn remove(&self, script: &Path, key: &str) {
        let mut m = self.local.lock().expect("memory lock");
        m.version += 1;
        let version = m.version;
        if let Some(slot) = m.by_script.get_mut(script) {
            crate::util::remove_path(Arc::make_mut(&mut slot.value), key);
            slot.record(version, key);
        }
    }

    /// The `global` object of a script (empty object when unset).
    pub fn global(&self, script: &Path) -> Value {
        let m = self.global.lock().expect("memory lock");
        m.get(script)
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()))
    }

    /// Sets `key` (dotted paths allowed) in a script's `global`.
    pub fn set_global(&self, script: &Path, key: &str, value: Value) {
        let mut m = self.global.lock().expect("memory lock");
        let entry = m
            .entry(script.to_path_buf())
            .or_insert_with(|| Value::Object(Map::new()));
        crate::util::set_path(entry, key, value);
    }

    /// Removes `key` (dotted paths allowed) from a script's `global`.
    pub fn remove_global(&self, script: &Path, key: &str) {
        if let Some(v) = self.global.lock().expect("memory lock").get_mut(script) {
            crate::util::remove_path(v, key);
        }
    }

    /// Forgets a script's `local` (non-daemon scripts, when they end).
    pub fn clear(&self, script: &Path) {
        self.local
            .lock()
            .expect("memory lock")
            .by_script
            .remove(script);
    }

    /// The version of a script's `local` now (0 when it has none) and what
    /// changed since `since` (a version this returned before; 0 at first),
    /// or `None` when nothing did.
    pub fn changes(&self, script: &Path, since: u64) -> Option<(u64, LocalChange)> {
        let m = self.local.lock().expect("memory lock");
        let Some(slot) = m.by_script.get(script) else {
            return (since != 0)
                .then(|| (0, LocalChange::Full(Arc::new(Value::Object(Map::new())))));
        };
        if slot.version == since {
            return None;
        }
        if since < slot.floor || since > slot.version {
            return Some((slot.version, LocalChange::Full(slot.value.clone())));
        }
        let mut keys: Vec<(String, Option<Value>)> = Vec::new();
        for (_, k) in slot.log.iter().rev().take_while(|(v, _)| *v > since) {
            if !keys.iter().any(|(x, _)| x == k) {
                keys.push((k.clone(), slot.value.get(k).cloned()));
            }
        }
        Some((slot.version, LocalChange::Keys(keys)))
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
