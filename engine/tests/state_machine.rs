//! The step loop: memory between steps, `when`, `next`, ids, `jump`,
//! `returns`, `script.return`, script shapes and precise errors.
mod common;
use common::*;
use serde_json::json;

fn run_ok(home: &Home, app: &str, file: &str, src: &str) -> Vec<String> {
    let s = home.write(app, file, src);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("run failed: {e}"));
    logs(&ev)
}

#[test]
fn input_is_the_previous_step_result() {
    let home = Home::new();
    let l = run_ok(
        &home,
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "script.return", params: { a: 1 } },
      { method: "log", params: { text: "{{input.a}}" } } ] }"#,
    );
    assert_eq!(l, ["1"]);
}

#[test]
fn when_false_skips_the_step() {
    let home = Home::new();
    let l = run_ok(
        &home,
        "a",
        "s.js",
        r#"module.exports = { run: [
      { when: "{{platform === 'win32'}}", method: "log", params: { text: "windows" } },
      { when: "{{undefinedThing.x}}", method: "log", params: { text: "never" } },
      { when: "{{platform === 'linux'}}", method: "log", params: { text: "linux" } } ] }"#,
    );
    assert_eq!(l, ["linux"]);
}

#[test]
fn next_null_ends_the_script() {
    let home = Home::new();
    let l = run_ok(
        &home,
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "log", params: { text: "one" }, next: null },
      { method: "log", params: { text: "two" } } ] }"#,
    );
    assert_eq!(l, ["one"]);
}

#[test]
fn next_id_and_index_jump_to_steps() {
    let home = Home::new();
    let l = run_ok(
        &home,
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "log", params: { text: "a" }, next: "end" },
      { method: "log", params: { text: "skipped" } },
      { id: "end", method: "log", params: { text: "b" }, next: "{{local.again ? null : 4}}" },
      { method: "log", params: { text: "skipped too" } },
      { method: "local.set", params: { again: true }, next: 2 } ] }"#,
    );
    assert_eq!(l, ["a", "b", "b"]);
}

#[test]
fn next_to_unknown_id_is_a_precise_error() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [ { method: "log", params: {text: "x"}, next: "nowhere" } ] }"#,
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("step 0 (log)") && e.contains("nowhere") && e.contains("s.js"),
        "{e}"
    );
}

#[test]
fn jump_and_goto_pass_params_as_input() {
    let home = Home::new();
    let l = run_ok(
        &home,
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "jump", params: { id: "target", params: { v: "from jump" } } },
      { method: "log", params: { text: "skipped" } },
      { id: "target", method: "log", params: { text: "{{input.v}}" } },
      { when: "{{!local.done}}", method: "local.set", params: { done: true } },
      { when: "{{local.done && !local.twice}}", method: "local.set", params: { twice: 1 } },
      { when: "{{local.twice === 1}}", method: "goto", params: { index: 6, params: { w: 7 } } },
      { method: "log", params: { text: "{{input.w}}" } } ] }"#,
    );
    assert_eq!(l, ["from jump", "7"]);
}

#[test]
fn returns_stores_the_result_in_local() {
    let home = Home::new();
    home.write("b", "cfg.json", r#"{"name": "demo"}"#);
    let l = run_ok(
        &home,
        "b",
        "s.js",
        r#"module.exports = { run: [
      { method: "fs.read", params: { path: "cfg.json", encoding: "utf8" }, returns: "local.cfg" },
      { method: "log", params: { text: "{{JSON.parse(local.cfg).name}}" } } ] }"#,
    );
    assert_eq!(l, ["demo"]);
}

#[test]
fn args_reach_the_script() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { run: [ { method: "log", params: { text: "{{args.name}}-{{args.n * 2}}" } } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({"name": "x", "n": 21}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["x-42"]);
}

#[test]
fn self_data_keys_are_readable_from_templates() {
    let home = Home::new();
    let l = run_ok(
        &home,
        "a",
        "s.js",
        r#"module.exports = {
      cmds: { linux: { nvidia: "pip install torch-cuda", none: "pip install torch-cpu" } },
      run: [ { method: "log", params: { text: "{{self.cmds[platform][gpu]}}" } } ] }"#,
    );
    assert_eq!(l, ["pip install torch-cpu"]);
}

#[test]
fn script_shapes_function_async_class_and_json_all_load() {
    let home = Home::new();
    let shapes = [
        (
            "f.js",
            r#"module.exports = (kernel, info) => ({ run: [{ method: "log", params: { text: "sync " + kernel.platform } }] })"#,
        ),
        (
            "g.js",
            r#"module.exports = async (kernel, info) => { const x = await Promise.resolve("async"); return { run: [{ method: "log", params: { text: x + " " + info.exists("g.js") } }] } }"#,
        ),
        (
            "c.js",
            r#"module.exports = class { constructor() { this.run = [{ method: "log", params: { text: "class" } }] } }"#,
        ),
        (
            "j.json",
            r#"{ "run": [{ "method": "log", "params": { "text": "json {{1+1}}" } }] }"#,
        ),
    ];
    let mut out = vec![];
    for (f, src) in shapes {
        out.extend(run_ok(&home, "a", f, src));
    }
    assert_eq!(out, ["sync linux", "async true", "class", "json 2"]);
}

#[test]
fn script_start_passes_params_as_args_and_returns_value() {
    let home = Home::new();
    home.write(
        "a",
        "helper.js",
        r#"module.exports = { run: [
      { method: "log", params: { text: "helper {{args.venv}}" } },
      { method: "script.return", params: { answer: "{{args.n + 1}}" } } ] }"#,
    );
    let l = run_ok(
        &home,
        "a",
        "main.js",
        r#"module.exports = { run: [
      { method: "script.start", params: { uri: "helper.js", params: { venv: "env", n: 41 } } },
      { method: "log", params: { text: "got {{input.answer}}" } } ] }"#,
    );
    assert_eq!(l, ["helper env", "got 42"]);
}

#[test]
fn torch_style_helper_branches_on_platform_and_gpu() {
    let home = Home::new();
    home.write("t", "torch.js", r#"module.exports = {
      run: [
        { when: "{{gpu === 'nvidia' && kernel.gpus.find(x => / 50.+/.test(x.model))}}", method: "log",
          params: { text: "cu128 in {{args.venv}} at {{args.path}}" }, next: null },
        { when: "{{gpu === 'nvidia'}}", method: "log", params: { text: "cu124" }, next: null },
        { when: "{{platform === 'darwin'}}", method: "log", params: { text: "mps" }, next: null },
        { method: "log", params: { text: "cpu" }, next: null } ] }"#);
    let main = home.write(
        "t",
        "install.js",
        r#"module.exports = { run: [
      { method: "script.start", params: { uri: "torch.js", params: { venv: "env", path: "app" } } },
      { method: "log", params: { text: "done" } } ] }"#,
    );
    let cpu = home.engine();
    let (r, ev) = run(&cpu, &main, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["cpu", "done"]);
    let gpu = engine::Engine::new(home.path(), linux_box("nvidia"));
    let (r, ev) = run(&gpu, &main, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["cu128 in env at app", "done"]);
}

#[test]
fn module_method_steps_call_the_app_js_module() {
    let home = Home::new();
    home.write("a", "index.js", r#"module.exports = { config: async (req, ondata, kernel) => ({ port: req.params.base + 1, platform: kernel.platform }) }"#);
    let l = run_ok(
        &home,
        "a",
        "s.js",
        r#"module.exports = { run: [
      { uri: "./index.js", method: "config", params: { base: 7000 } },
      { method: "log", params: { text: "{{input.port}} {{input.platform}}" } } ] }"#,
    );
    assert_eq!(l, ["7001 linux"]);
}

#[test]
fn unknown_method_is_a_precise_error() {
    let home = Home::new();
    let s = home.write("app1", "s.js", r#"module.exports = { run: [ { method: "log", params: {text: "ok"} }, { method: "shell.runn", params: {} } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("app1")
            && e.contains("s.js")
            && e.contains("step 1")
            && e.contains("unknown method 'shell.runn'"),
        "{e}"
    );
    assert!(ev
        .iter()
        .any(|x| matches!(x, engine::Event::ScriptEnd { ok: false, .. })));
}

#[test]
fn js_syntax_error_names_file_and_line() {
    let home = Home::new();
    let s = home.write(
        "a",
        "broken.js",
        "module.exports = {\n  run: [\n    { method: 'log' params: {} }\n  ]\n}\n",
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("SyntaxError") && e.contains("broken.js:3"),
        "{e}"
    );
}

#[test]
fn runtime_error_in_script_function_names_file_and_line() {
    let home = Home::new();
    let s = home.write("a", "throws.js", "module.exports = async (kernel) => {\n  if (kernel.platform === 'linux')\n    throw new Error('unsupported platform')\n}\n");
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("Error: unsupported platform") && e.contains("throws.js:3"),
        "{e}"
    );
    let s = home.write(
        "a",
        "null.js",
        "const x = null\nmodule.exports = { run: x.steps }\n",
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("TypeError: cannot read property 'steps' of null") && e.contains("null.js"),
        "{e}"
    );
}

#[test]
fn unknown_module_is_named() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        "const x = require('lodash')\nmodule.exports = { run: [] }",
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(e.contains("Cannot find module 'lodash'"), "{e}");
}

#[test]
fn relative_requires_of_js_and_json_work() {
    let home = Home::new();
    home.write("a", "lib/util.js", "const cfg = require('../cfg.json')\nmodule.exports = { name: () => cfg.name + ':' + require('path').basename(__filename) }");
    home.write("a", "cfg.json", r#"{"name": "demo"}"#);
    let l = run_ok(
        &home,
        "a",
        "s.js",
        r#"const u = require('./lib/util'); const os = require('os'); const fs = require('fs');
      module.exports = { run: [ { method: "log", params: { text: u.name() + " " + os.platform() + " " + fs.existsSync(__dirname + "/cfg.json") } } ] }"#,
    );
    assert_eq!(l, ["demo:util.js linux true"]);
}

#[test]
fn missing_script_file_is_an_error() {
    let home = Home::new();
    home.app("a");
    let e = home
        .engine()
        .plan(home.path().join("api/a/nope.js"), Default::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.js") && e.contains("no such file"), "{e}");
}

#[test]
fn script_without_run_array_is_a_shape_error() {
    let home = Home::new();
    let s = home.write("a", "s.js", "module.exports = { daemon: true }");
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    assert!(r.unwrap_err().to_string().contains("no `run` array"));
}

#[test]
fn local_memory_is_cleared_when_a_non_daemon_script_ends() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [ { method: "local.set", params: { url: "x" } } ] }"#,
    );
    let e = home.engine();
    let (r, _) = run(&e, &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(e.local(&s), json!({}));
    assert!(!e.is_running(&s));
}

#[test]
fn env_prerequisites_are_asked_and_saved_to_environment() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { env: [ { key: "HF_TOKEN_TEST_X", title: "token" }, { key: "MODEL_TEST_X", default: "small" } ],
      run: [ { method: "shell.run", params: { message: "echo tok=$HF_TOKEN_TEST_X model=$MODEL_TEST_X" } }, { method: "log", params: { text: "{{input.stdout}}" } } ] }"#);
    let e = home.engine();
    let (r, _) = run(&e, &s, json!({}), json!({}));
    assert!(r.unwrap_err().to_string().contains("HF_TOKEN_TEST_X"));
    let (r, ev) = run(&e, &s, json!({}), json!({"HF_TOKEN_TEST_X": "abc"}));
    r.unwrap();
    assert_eq!(logs(&ev), ["tok=abc model=small"]);
    let env = std::fs::read_to_string(home.path().join("api/a/ENVIRONMENT")).unwrap();
    assert!(
        env.contains("HF_TOKEN_TEST_X=abc") && env.contains("MODEL_TEST_X=small"),
        "{env}"
    );
}

#[test]
fn started_params_are_the_first_input_and_numeric_next_strings_are_indexes() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "log", params: { text: "{{input.mode}}" }, next: "{{'2'}}" },
      { method: "log", params: { text: "skipped" } },
      { method: "log", params: { text: "{{input.text}}!" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({ "mode": "fast" }), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["fast", "fast!"]);
}
