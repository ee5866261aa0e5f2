//! File, JSON, people-facing and misc methods.
mod common;
use common::*;
use engine::{Host, Interaction};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

#[test]
fn fs_write_read_copy_link_rm() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "fs.write", params: { path: "out/a.txt", text: "hello" } },
      { method: "fs.write", params: { path: "out/b.json", json: { n: 1 } } },
      { method: "fs.copy", params: { src: "out", dest: "copy" } },
      { method: "fs.link", params: { src: "copy/a.txt", dest: "linked.txt" } },
      { method: "fs.link", params: { venv: "app/env" } },
      { method: "fs.read", params: { path: "linked.txt", encoding: "utf8" } },
      { method: "log", params: { text: "{{input}}" } },
      { method: "fs.rm", params: { path: "out" } },
      { method: "fs.rm", params: { path: "never-existed" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    let app = home.app("a");
    assert_eq!(logs(&ev), ["hello"]);
    assert!(!app.join("out").exists());
    assert_eq!(
        std::fs::read_to_string(app.join("copy/b.json"))
            .unwrap()
            .replace([' ', '\n'], ""),
        r#"{"n":1}"#
    );
    assert!(std::fs::symlink_metadata(app.join("linked.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn json_set_get_rm_and_self_set() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "json.set", params: { "cfg.json": { "a.b": 1, "name": "x" } } },
      { method: "self.set", params: { "cfg.json": { "c": [1, 2] } } },
      { method: "json.rm", params: { "cfg.json": ["name"] } },
      { method: "json.get", params: { cfg: "cfg.json" } },
      { method: "log", params: { text: "{{JSON.stringify(local.cfg)}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), [r#"{"a":{"b":1},"c":[1,2]}"#]);
}

#[test]
fn fs_download_fetches_each_uri_into_dir() {
    if engine::sys::which("curl").is_none() {
        eprintln!("curl missing; skipping");
        return;
    }
    let home = Home::new();
    let src = home.path().join("src.bin");
    std::fs::write(&src, "payload").unwrap();
    let s = home.write("a", "s.js", &format!(r#"module.exports = {{ run: [
      {{ method: "fs.download", params: {{ uri: ["file://{0}"], dir: "models" }} }},
      {{ method: "fs.download", params: {{ url: "file://{0}?download=true", path: "models2" }} }} ] }}"#, src.display()));
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    assert_eq!(
        std::fs::read_to_string(home.app("a").join("models/src.bin")).unwrap(),
        "payload"
    );
    // `path` is the file itself (C-125).
    assert_eq!(
        std::fs::read_to_string(home.app("a").join("models2")).unwrap(),
        "payload"
    );
}

#[test]
fn input_is_answered_by_the_host_and_fails_clearly_without_answer() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { run: [
      { method: "input", params: { title: "Model", form: [{ key: "model", title: "Model" }, { key: "steps", default: 20 }] } },
      { method: "log", params: { text: "{{input.model}} {{input.steps}}" } } ] }"#);
    let e = home.engine();
    let (r, ev) = run(&e, &s, json!({}), json!({ "model": "sdxl" }));
    r.unwrap();
    assert_eq!(logs(&ev), ["sdxl 20"]);
    assert!(ev
        .iter()
        .any(|x| matches!(x, engine::Event::Method { method, .. } if method == "input")));
    let (r, _) = run(&e, &s, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("step 0 (input)") && msg.contains("no answer for input field 'model'"),
        "{msg}"
    );
}

struct Recorder(Mutex<Vec<Interaction>>);
impl Host for Recorder {
    fn interact(&self, w: &Interaction) -> Result<Value, String> {
        self.0.lock().unwrap().push(w.clone());
        Ok(match w {
            Interaction::FilePicker { .. } => json!({ "paths": ["/data/x.png"] }),
            _ => Value::Null,
        })
    }
}

#[test]
fn people_facing_methods_go_through_the_host() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "notify", params: { html: "hello" } },
      { method: "web.open", params: { uri: "http://127.0.0.1:7860" } },
      { method: "browser.open", params: { url: "http://x" } },
      { method: "filepicker.open", params: { title: "pick" } },
      { method: "log", params: { text: "{{input.paths[0]}}" } },
      { method: "proxy.start", params: { uri: "http://127.0.0.1:7860" } },
      { method: "process.wait", params: { sec: 0.05 } },
      { method: "process.wait", params: {} } ] }"#,
    );
    let host = Arc::new(Recorder(Mutex::new(vec![])));
    let (r, ev) = run_with_host(&home.engine(), &s, Value::Null, host.clone());
    r.unwrap();
    let kinds: Vec<String> = host
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|i| {
            serde_json::to_value(i).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["notify", "open", "open", "file_picker", "proxy", "wait"]
    );
    assert_eq!(logs(&ev), ["/data/x.png"]);
}

#[test]
fn events_carry_rendered_steps_and_end() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { run: [ { method: "local.set", params: { v: "{{1+2}}" } }, { method: "log", params: { text: "{{local.v}} {{args.k}}" } } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({ "k": 1 }), json!({}));
    r.unwrap();
    let tags: Vec<String> = ev
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        tags,
        [
            "script_start",
            "step_start",
            "step_end",
            "step_start",
            "log",
            "step_end",
            "script_end"
        ]
    );
    let step = serde_json::to_value(&ev[1]).unwrap();
    assert_eq!(step["step"]["params"]["v"], json!(3));
    assert_eq!(logs(&ev), ["3 1"]);
}

#[test]
fn builtin_method_table_covers_the_surveyed_methods() {
    let names = engine::Engine::methods();
    for m in [
        "shell.run",
        "shell.start",
        "shell.enter",
        "script.start",
        "fs.rm",
        "fs.link",
        "fs.download",
        "fs.copy",
        "fs.write",
        "hf.download",
        "notify",
        "input",
        "browser.open",
        "web.open",
        "proxy.start",
        "self.set",
        "process.wait",
        "json.set",
        "json.get",
        "log",
        "net",
        "local.set",
        "jump",
        "goto",
    ] {
        assert!(names.contains(&m), "{m} missing");
    }
}
