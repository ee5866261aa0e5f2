//! Standalone template rendering (`{{ }}` JavaScript expressions) outside a
//! run: for the server's previews, tests and benchmarks. Inside runs the
//! runner renders steps through the same JS code path.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::error::EngineError;
use crate::events::EventSink;
use crate::js::{Js, Scope};
use crate::kernel::Kernel;

/// A JS runtime ready to render templates. `!Send`: keep it on one thread.
pub struct Renderer {
    // Field order matters: JS handles must drop before their runtime.
    scope: Scope,
    js: Js,
}

impl Renderer {
    /// Templates see the kernel's machine facts plus whatever memory is passed.
    pub fn new(kernel: Arc<Kernel>, cwd: &Path) -> Result<Self, EngineError> {
        let memory = kernel.memory.clone();
        let js = Js::new(crate::runner::bridge(kernel, memory, EventSink::none()))
            .map_err(|e| EngineError::Internal(e.0))?;
        let scope = js
            .empty_scope(cwd)
            .map_err(|e| EngineError::Internal(e.0))?;
        Ok(Renderer { js, scope })
    }

    /// Renders every `{{ }}` in `value`; `memory` is an object whose keys
    /// become names (`input`, `local`, `args`...).
    pub fn render(&self, value: &Value, memory: &Value) -> Result<Value, EngineError> {
        self.js
            .render(value, &self.scope, &memory.to_string())
            .map_err(|e| EngineError::Internal(e.0))
    }
}
