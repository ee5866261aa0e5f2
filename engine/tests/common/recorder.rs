//! Helpers for the method conformance tests: run a script and read files,
//! and a [`Host`] that records every interaction.
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use engine::{Host, Interaction};
use serde_json::{json, Value};

use super::common::*;

/// Runs `text` as `<app>/s.js`; panics with the output on failure.
pub fn run_js(home: &Home, app: &str, text: &str) -> Vec<engine::Event> {
    let s = home.write(app, "s.js", text);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    ev
}

pub fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

/// Records every host interaction and answers `Wait` with `wait_answer`.
pub struct Recorder {
    pub seen: Mutex<Vec<Interaction>>,
    pub wait_answer: Value,
}
impl Host for Recorder {
    fn interact(&self, w: &Interaction) -> Result<Value, String> {
        self.seen.lock().unwrap().push(w.clone());
        Ok(match w {
            Interaction::Wait { .. } => self.wait_answer.clone(),
            Interaction::Proxy { .. } => json!({ "proxy": "https://share.example/x" }),
            _ => Value::Null,
        })
    }
}

/// Runs `script` with a [`Recorder`] answering `Wait` with `wait_answer`;
/// the result and every interaction the host saw.
pub fn run_recorded(
    home: &Home,
    script: &Path,
    wait_answer: Value,
) -> (Result<Value, engine::EngineError>, Vec<Interaction>) {
    let host = Arc::new(Recorder {
        seen: Mutex::new(vec![]),
        wait_answer,
    });
    let (r, _) = run_with_host(&home.engine(), script, Value::Null, host.clone());
    let seen = host.seen.lock().unwrap().clone();
    (r, seen)
}
