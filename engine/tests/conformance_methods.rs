//! Conformance of the non-shell methods (spec §4.3–§4.9, checklist C-120 …
//! C-151 except C-127; `fs.*`, C-120 … C-129, are in `conformance_fs.rs`,
//! `script.*`, C-135 … C-141, in `conformance_scripts.rs`). Offline: downloads and requests go to a local HTTP
//! server, git repositories are local `file://` ones, `hf` is a fake
//! executable in `HOME/bin`.
mod common;
#[path = "common/http.rs"]
mod http;
#[path = "common/recorder.rs"]
mod recorder;

use std::sync::{Arc, Mutex};

use common::*;
use engine::{Interaction, RunOptions};
use http::{Route, Server};
use recorder::*;
use serde_json::{json, Value};

// -------------------------------------------------------------- memory --

#[test]
fn c130_local_set_nests_dotted_keys_and_its_result_is_undefined() {
    let home = Home::new();
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "local.set", params: { "a.b": 1, "list": [], "list[1]": "x", plain: "p" } },
      { method: "log", params: { text: "{{JSON.stringify(local)}} input={{input === null}}" } },
      { method: "local.rm", params: ["a.b", "plain"] },
      { method: "log", params: { text: "{{JSON.stringify(local)}}" } } ] }"#,
    );
    assert_eq!(
        logs(&ev),
        [
            r#"{"a":{"b":1},"list":[null,"x"],"plain":"p"} input=true"#,
            r#"{"a":{},"list":[null,"x"]}"#
        ]
    );
}

#[test]
fn c131_json_set_indexes_arrays_keeps_key_order_and_json_rm_removes_elements() {
    let home = Home::new();
    let app = home.app("a");
    std::fs::write(
        app.join("cfg.json"),
        r#"{"zeta": 1, "alpha": {"list": [10, 20, 30]}, "mid": true}"#,
    )
    .unwrap();
    run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "json.set", params: { "cfg.json": { "alpha.list.1": 21, "new.deep": "d", "arr.0.name": "first" } } },
      { method: "json.rm", params: { "cfg.json": ["alpha.list.0", "mid"] } },
      { method: "json.set", params: { "fresh/new.json": { "b": 1, "a": 2 } } } ] }"#,
    );
    assert_eq!(
        read(app.join("cfg.json")),
        r#"{
  "zeta": 1,
  "alpha": {
    "list": [
      21,
      30
    ]
  },
  "new": {
    "deep": "d"
  },
  "arr": [
    {
      "name": "first"
    }
  ]
}"#
    );
    assert_eq!(
        read(app.join("fresh/new.json")),
        "{\n  \"b\": 1,\n  \"a\": 2\n}"
    );
}

#[test]
fn c132_json_get_puts_the_parsed_file_in_local() {
    let home = Home::new();
    std::fs::write(
        home.app("a").join("cfg.json"),
        r#"{"port": 7860, "names": ["x"]}"#,
    )
    .unwrap();
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "json.get", params: { cfg: "cfg.json" } },
      { method: "log", params: { text: "{{local.cfg.port}} {{local.cfg.names[0]}} {{input === null}}" } } ] }"#,
    );
    assert_eq!(logs(&ev), ["7860 x true"]);
}

#[test]
fn c133_self_set_and_self_rm_edit_json_files_next_to_the_script() {
    let home = Home::new();
    let app = home.app("a");
    home.write(
        "a",
        "sub/s.js",
        r#"module.exports = { run: [
      { method: "self.set", params: { "s.json": { "keep": 1, "drop": 2, "l": [1, 2, 3] } } },
      { method: "self.rm", params: { "s.json": ["drop", "l.2"] } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &app.join("sub/s.js"), json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    let v: Value = serde_json::from_str(&read(app.join("sub/s.json"))).unwrap();
    assert_eq!(v, json!({ "keep": 1, "l": [1, 2] }));
}

#[test]
fn load_reads_files_and_local_import_copies_another_scripts_local() {
    let home = Home::new();
    home.write("a", "data.json", r#"{"k": [1, 2]}"#);
    home.write(
        "a",
        "mod.js",
        r#"module.exports = { title: "T", run: [], n: 3 }"#,
    );
    let e = home.engine();
    let other = home.write(
        "a",
        "other.js",
        r#"module.exports = { daemon: true, run: [
      { method: "local.set", params: { url: "http://x" } },
      { method: "shell.run", params: { message: "echo up; sleep 1000", on: [{ event: "/up/", done: true }] } } ] }"#,
    );
    let h = e.start(&other, RunOptions::default()).unwrap();
    assert!(wait_until(|| e.local(&other)["url"] == "http://x", 20));
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "load", params: { d: "data.json", m: "mod.js" } },
      { method: "log", params: { text: "{{input.d.k[1]}} {{input.m.title}} {{input.m.n}}" } },
      { method: "local.import", params: { o: "other.js" } },
      { method: "log", params: { text: "{{local.o.url}}" } } ] }"#,
    );
    let (r, ev) = run(&e, &s, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(logs(&ev), ["2 T 3", "http://x"]);
    h.stop();
    h.wait().ok();
}

#[test]
fn c134_setting_the_share_variable_with_share_env_publishes_the_url() {
    let home = Home::new();
    home.write(
        "a",
        "ENVIRONMENT",
        "PINOKIO_SHARE_CLOUDFLARE=true\nPINOKIO_SHARE_PASSCODE=secret\n",
    );
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "local.set", params: { other: 1 } },
      { method: "local.set", params: { url: "http://127.0.0.1:7860" } },
      { method: "log", params: { text: "{{local.$share.proxy}}" } } ] }"#,
    );
    let host = Arc::new(Recorder {
        seen: Mutex::new(vec![]),
        wait_answer: Value::Null,
    });
    let (r, ev) = run_with_host(&home.engine(), &s, Value::Null, host.clone());
    r.unwrap();
    let seen = host.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let Interaction::Proxy { params, .. } = &seen[0] else {
        panic!("{seen:?}")
    };
    assert_eq!(params["uri"], "http://127.0.0.1:7860");
    assert_eq!(params["share"]["cloudflare"], true);
    assert_eq!(params["share"]["passcode"], "secret");
    assert_eq!(logs(&ev), ["https://share.example/x"]);
    // Without the share variables nothing is published.
    let home2 = Home::new();
    let s2 = home2.write(
        "a",
        "s.js",
        r#"module.exports = { run: [ { method: "local.set", params: { url: "http://127.0.0.1:1" } } ] }"#,
    );
    let (r, seen) = run_recorded(&home2, &s2, Value::Null);
    r.unwrap();
    assert!(seen.is_empty(), "{seen:?}");
}

// --------------------------------------------------------------- other --

#[test]
fn c142_input_returns_the_answer_and_filepicker_returns_paths() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "input", params: { title: "Options", form: [
        { key: "fast", type: "checkbox" },
        { key: "size", type: "select", items: [{ text: "Small", value: "s" }, { text: "Large", value: "l" }] } ] } },
      { method: "log", params: { text: "{{typeof input.fast}} {{input.fast}} {{input.size}}" } },
      { method: "filepicker.open", params: { title: "pick", type: "file" } },
      { method: "log", params: { text: "{{input.paths.join(',')}}" } } ] }"#,
    );
    let (r, ev) = run(
        &home.engine(),
        &s,
        json!({}),
        json!({ "fast": true, "size": "l", "paths": ["/data/a.png", "/data/b.png"] }),
    );
    r.unwrap();
    assert_eq!(logs(&ev), ["boolean true l", "/data/a.png,/data/b.png"]);
}

#[test]
fn c143_notify_reaches_the_host_and_does_not_block() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "notify", params: { html: "Installed", href: "start.js", target: "_blank" } },
      { method: "log", params: { text: "went on" } } ] }"#,
    );
    let (r, seen) = run_recorded(&home, &s, Value::Null);
    r.unwrap();
    assert!(
        matches!(&seen[..], [Interaction::Notify { params, .. }] if params["html"] == "Installed" && params["href"] == "start.js"),
        "{seen:?}"
    );
}

#[test]
fn c144_log_prints_json_on_one_line_and_json2_indented() {
    let home = Home::new();
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "log", params: { raw: "raw  text" } },
      { method: "log", params: { json: { z: 1, a: [1, 2] } } },
      { method: "log", params: { json2: { z: 1, a: { b: 2 } } } } ] }"#,
    );
    assert_eq!(
        logs(&ev),
        [
            "raw  text",
            r#"{"z":1,"a":[1,2]}"#,
            "{\n  \"z\": 1,\n  \"a\": {\n    \"b\": 2\n  }\n}"
        ]
    );
}

#[test]
fn c145_net_sends_object_data_as_json_and_parses_json_answers() {
    let srv = Server::start();
    srv.route(
        "/fail",
        Route {
            status: Some(500),
            body: b"boom".to_vec(),
            ..Default::default()
        },
    );
    let home = Home::new();
    let ev = run_js(
        &home,
        "a",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "net", params: {{ url: "{0}", method: "post", data: {{ prompt: "hi", n: 2 }}, params: {{ q: "a b" }} }} }},
      {{ method: "log", params: {{ text: "{{{{input.method}}}} {{{{input.content_type}}}} {{{{input.body}}}} {{{{input.query}}}}" }} }},
      {{ method: "net", params: {{ url: "{0}", method: "post", data: "raw=1", headers: {{ "Content-Type": "text/plain" }} }} }},
      {{ method: "log", params: {{ text: "{{{{input.content_type}}}} {{{{input.body}}}}" }} }} ] }}"#,
            srv.url("/echo")
        ),
    );
    assert_eq!(
        logs(&ev),
        [
            r#"POST application/json {"prompt":"hi","n":2} q=a%20b"#,
            "text/plain raw=1"
        ]
    );
    let s = home.write(
        "a",
        "fail.js",
        &format!(
            r#"module.exports = {{ run: [ {{ method: "net", params: {{ url: "{}" }} }} ] }}"#,
            srv.url("/fail")
        ),
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("status code 500"), "{msg}");
}

#[test]
fn c146_process_wait_polls_a_url_until_it_answers() {
    let srv = Server::start();
    srv.route(
        "/ready",
        Route {
            body: b"ok".to_vec(),
            fail_first: 3,
            ..Default::default()
        },
    );
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "process.wait", params: {{ uri: "{}", interval: 0.1, message: "waiting for the server" }} }},
      {{ method: "log", params: {{ text: "ready" }} }} ] }}"#,
            srv.url("/ready")
        ),
    );
    let (r, seen) = run_recorded(&home, &s, Value::Null);
    r.unwrap();
    assert_eq!(srv.hits("/ready").len(), 4);
    assert!(
        seen.is_empty(),
        "a url wait must not ask the host: {seen:?}"
    );
}

#[test]
fn c146_process_wait_on_resources_waits_for_a_file_and_times_out_clearly() {
    let home = Home::new();
    let app = home.app("a");
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "process.wait", params: { on: { resources: ["flag.txt"], interval: 20 } } },
      { method: "log", params: { text: "flag seen" } } ] }"#,
    );
    let e = home.engine();
    let (h, mut rx) = start_with_events(&e, &s);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!h.is_finished(), "did not wait for the file");
    std::fs::write(app.join("flag.txt"), "x").unwrap();
    h.wait().unwrap();
    let mut ev = vec![];
    while let Ok(x) = rx.try_recv() {
        ev.push(x);
    }
    assert_eq!(logs(&ev), ["flag seen"]);
    let t = home.write(
        "a",
        "t.js",
        r#"module.exports = { run: [ { method: "process.wait", params: { on: { resources: ["tcp:127.0.0.1:1"], timeout: 200 } } } ] }"#,
    );
    let (r, _) = run(&e, &t, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("timed out waiting for tcp:127.0.0.1:1"),
        "{msg}"
    );
}

#[test]
fn c147_web_open_keeps_urls_and_maps_file_paths() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "web.open", params: { uri: "http://127.0.0.1:7860/x" } },
      { method: "web.open", params: { uri: "outputs/index.html" } },
      { method: "web.open", params: { uri: "~/api/a/readme.md" } },
      { method: "uri.open", params: { uri: "vscode://open", params: { path: "/a b" } } },
      { method: "browser.open", params: { uri: "https://example.com" } } ] }"#,
    );
    let (r, seen) = run_recorded(&home, &s, Value::Null);
    r.unwrap();
    let urls: Vec<String> = seen
        .iter()
        .filter_map(|i| match i {
            Interaction::Open { url, .. } => Some(url.clone()),
            _ => None,
        })
        .collect();
    let app = home.app("a");
    assert_eq!(
        urls,
        [
            "http://127.0.0.1:7860/x".to_string(),
            format!("file://{}", app.join("outputs/index.html").display()),
            format!("file://{}", app.join("readme.md").display()),
            "vscode://open?path=%2Fa%20b".to_string(),
            "https://example.com".to_string(),
        ]
    );
}

/// A fake CLI in `HOME/bin` that records its arguments and folder.
fn fake_cli(home: &Home, name: &str) {
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let p = bin.join(name);
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\nprintf '%s|' \"{name}\" \"$@\" > \"{}/calls.txt\"\npwd >> \"{}/calls.txt\"\n",
            home.path().display(),
            home.path().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// An `hf.download` step whose PATH holds only `HOME/bin` and the system's.
fn hf_step(home: &Home) -> String {
    format!(
        r#"module.exports = {{ run: [ {{ method: "hf.download", params: {{
  path: "app/models", env: {{ PATH: "{}/bin:/usr/bin:/bin" }},
  _: ["org/model", "weights.safetensors"], "local-dir": "ckpt", quiet: true, "dry-run": false }} }} ] }}"#,
        home.path().display()
    )
}

#[test]
fn c148_hf_download_runs_hf_download_with_args_in_path() {
    let home = Home::new();
    fake_cli(&home, "hf");
    fake_cli(&home, "huggingface-cli");
    let ev = run_js(&home, "a", &hf_step(&home));
    let calls = read(home.path().join("calls.txt"));
    let app = home.app("a");
    assert_eq!(
        calls.trim_end(),
        format!(
            "hf|download|org/model|weights.safetensors|--local-dir|ckpt|--quiet|{}",
            app.join("app/models").display()
        ),
        "{}",
        output(&ev)
    );
}

#[test]
fn c148_hf_download_falls_back_to_huggingface_cli() {
    let home = Home::new();
    fake_cli(&home, "huggingface-cli");
    let ev = run_js(&home, "a", &hf_step(&home));
    let calls = read(home.path().join("calls.txt"));
    assert!(
        calls.starts_with("huggingface-cli|download|org/model|weights.safetensors|"),
        "{calls}\n{}",
        output(&ev)
    );
}

#[test]
fn c149_proxy_start_is_accepted_and_ignored() {
    let home = Home::new();
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "proxy.start", params: { uri: "http://127.0.0.1:7860", name: "ui" } },
      { method: "log", params: { text: "after proxy" } } ] }"#,
    );
    assert_eq!(logs(&ev), ["after proxy"]);
}

#[test]
fn c150_modal_asks_the_host_and_returns_the_answer() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "modal", params: { title: "Ollama", description: "Install Ollama first", buttons: ["Done"] } },
      { method: "fs.write", params: { path: "answer.json", json: "{{input}}" } } ] }"#,
    );
    let (r, seen) = run_recorded(&home, &s, json!({ "button": "Done" }));
    r.unwrap();
    assert!(
        matches!(&seen[..], [Interaction::Wait { params, .. }] if params["title"] == "Ollama"),
        "{seen:?}"
    );
    assert_eq!(
        read(home.app("a").join("answer.json")),
        r#"{"button":"Done"}"#
    );
}

#[test]
fn c151_exec_runs_without_a_terminal_and_returns_stdout_stderr_error() {
    let home = Home::new();
    std::fs::create_dir_all(home.app("a").join("sub")).unwrap();
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "exec", params: { message: "pwd; echo out; echo err >&2; [ -t 1 ] && echo tty || echo notty; echo $X", path: "sub", env: { X: "from-env" } } },
      { method: "fs.write", params: { path: "r.json", json: "{{input}}" } } ] }"#,
    );
    let v: Value = serde_json::from_str(&read(home.app("a").join("r.json"))).unwrap();
    let sub = home.app("a").join("sub");
    assert_eq!(
        v,
        json!({ "stdout": format!("{}\nout\nnotty\nfrom-env\n", sub.display()), "stderr": "err\n", "error": null }),
        "{}",
        output(&ev)
    );
    let s = home.write(
        "a",
        "f.js",
        r#"module.exports = { run: [ { method: "exec", params: { message: "echo bad >&2; exit 3" } } ] }"#,
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("exit code 3") && msg.contains("bad"), "{msg}");
}

#[test]
fn desktop_only_methods_become_notices_instead_of_unknown_methods() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "clipboard.copy", params: { text: "abc" } },
      { method: "app.launch", params: { id: "x" } },
      { method: "htmlmodal.open", params: { html: "<b>x</b>" } },
      { method: "fs.make", params: { path: "made/deep" } },
      { method: "env.set", params: { MODEL: "large", STEPS: 20 } },
      { method: "env.switch", params: { MODE: ["a", "b"] } },
      { method: "env.switch", params: { MODE: ["a", "b"] } },
      { method: "cloudflare.tunnel", params: { uri: "http://127.0.0.1:7860" } },
      { method: "log", params: { text: "still running" } } ] }"#,
    );
    let (r, seen) = run_recorded(&home, &s, Value::Null);
    r.unwrap();
    let notes: Vec<String> = seen
        .iter()
        .filter_map(|i| match i {
            Interaction::Notify { params, .. } => params["method"].as_str().map(String::from),
            _ => None,
        })
        .collect();
    assert_eq!(notes, ["clipboard.copy", "app.launch", "htmlmodal.open"]);
    assert!(home.app("a").join("made/deep").is_dir());
    let env = read(home.app("a").join("ENVIRONMENT"));
    for line in ["MODEL=large", "STEPS=20", "MODE=b"] {
        assert!(env.lines().any(|l| l == line), "{line} missing in:\n{env}");
    }
    assert!(seen.iter().any(|i| matches!(i, Interaction::Proxy { .. })));
    for m in [
        "fs.make",
        "fs.cat",
        "self.rm",
        "local.rm",
        "script.restart",
        "modal",
        "hf.upload",
        "set",
        "rm",
        "env.set",
        "cloudflare.tunnel",
    ] {
        assert!(engine::Engine::methods().contains(&m), "{m} missing");
    }
}
