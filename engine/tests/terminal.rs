//! Terminal access to a live run: keyboard input, resizing, process groups,
//! and per-app environment set by the embedder.
mod common;
use common::*;
use engine::{Event, RunOptions};
use serde_json::json;

/// Starts `script`, types `keys` once `prompt` shows, returns the run's output.
fn drive(home: &Home, script: &std::path::Path, prompt: &str, keys: &[u8]) -> String {
    let engine = home.engine();
    engine.set_app_env("a", vec![("FROM_EMBEDDER".into(), "yes".into())]);
    let (sink, mut rx) = engine::channel();
    let h = engine
        .start(
            script,
            RunOptions {
                events: sink,
                ..RunOptions::default()
            },
        )
        .unwrap();
    let mut out = String::new();
    let mut typed = false;
    while let Some(ev) = rx.blocking_recv() {
        match ev {
            Event::Output { data, .. } => out.push_str(&String::from_utf8_lossy(&data)),
            Event::ScriptEnd { .. } => break,
            _ => {}
        }
        if !typed && out.contains(prompt) {
            assert!(!h.groups().is_empty(), "the shell's group is known");
            h.resize(90, 20).unwrap();
            // Through the engine by path, like a server holding only the path.
            engine.write_input(script, keys).unwrap();
            typed = true;
        }
    }
    h.wait().unwrap();
    assert!(
        engine.write_input(script, b"x").is_err(),
        "no run, no input"
    );
    out
}

#[test]
fn keys_and_sizes_reach_the_current_shell() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.json",
        &json!({"run": [{"method": "shell.run", "params": {
            "message": "read -p 'Name? ' n; echo \"hello $n $(stty size) $FROM_EMBEDDER\""}}]})
        .to_string(),
    );
    let out = drive(&home, &s, "Name? ", b"Ada\r");
    assert!(out.contains("hello Ada 20 90 yes"), "{out}");
}
