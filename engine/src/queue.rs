//! `queue: true` on a step (spec §1.3, C-039): calls of the same method
//! (and, for module methods, the same module file) run one at a time across
//! every script of this process; the others wait their turn.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;

use crate::error::MethodError;
use crate::process::StopHandle;
use crate::runner::StepCtx;

type Slot = Arc<(Mutex<bool>, Condvar)>;

fn queues() -> &'static Mutex<HashMap<String, Slot>> {
    static Q: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    Q.get_or_init(Default::default)
}

/// The queue a step belongs to: `<module path>/<method>` or the method.
pub fn key(ctx: &StepCtx<'_>, method: &str, step: &Value) -> String {
    match step.get("uri").and_then(Value::as_str) {
        Some(uri) => format!("{}/{method}", ctx.path(uri).display()),
        None => method.to_string(),
    }
}

/// Holds a queue's turn until dropped.
pub struct Turn(Slot);

impl Drop for Turn {
    fn drop(&mut self) {
        let (busy, cv) = &*self.0;
        *busy.lock().expect("queue lock") = false;
        cv.notify_one();
    }
}

/// Waits until no other step of queue `key` runs; a stop ends the wait.
pub fn wait_turn(key: &str, stop: &StopHandle) -> Result<Turn, MethodError> {
    let slot = queues()
        .lock()
        .expect("queues lock")
        .entry(key.to_string())
        .or_default()
        .clone();
    {
        let (busy, cv) = &*slot;
        let mut b = busy.lock().expect("queue lock");
        while *b {
            if stop.is_stopped() {
                return Err(MethodError::Stopped);
            }
            b = cv
                .wait_timeout(b, Duration::from_millis(20))
                .expect("queue lock")
                .0;
        }
        *b = true;
    }
    Ok(Turn(slot))
}
