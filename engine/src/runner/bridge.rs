//! The JS natives' view of the engine: machine facts, running scripts,
//! memory and environment, for a run, a menu or templates.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use serde_json::Value;

use crate::events::{Event, EventSink};
use crate::js::Bridge;
use crate::kernel::Kernel;
use crate::memory::Memory;
use crate::script::Location;

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
        let loc = Location::new(&self.kernel.home, path);
        let env = crate::environment::template_env(&self.kernel, &loc);
        Value::Object(
            env.into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
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
