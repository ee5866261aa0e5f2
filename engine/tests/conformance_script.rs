//! Conformance with Pinokio's script files and execution model: checklist
//! items C-001…C-039 of `shared/spec/PINOKIO_SCRIPT_SPEC.md` (§1, §2).
mod common;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use engine::{Event, Interaction, RunOptions};
use serde_json::{json, Value};

/// Runs `src` written as `app/file` with `args`; the run must succeed.
fn logs_of(home: &Home, file: &str, src: &str, args: Value) -> Vec<String> {
    let s = home.write("a", file, src);
    let (r, ev) = run(&home.engine(), &s, args, json!({}));
    r.unwrap_or_else(|e| panic!("run failed: {e}"));
    logs(&ev)
}

/// Runs `src` and returns the error text and the events.
fn failure(home: &Home, file: &str, src: &str) -> (String, Vec<Event>) {
    let s = home.write("a", file, src);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    (r.expect_err("the run must fail").to_string(), ev)
}

fn step_starts(ev: &[Event]) -> usize {
    ev.iter()
        .filter(|e| matches!(e, Event::StepStart { .. }))
        .count()
}

/// A host that records every interaction and answers from `answers`.
struct Recorder {
    seen: Mutex<Vec<Interaction>>,
    auto: engine::AutoHost,
}

impl Recorder {
    fn new(answers: Value) -> Arc<Self> {
        Arc::new(Recorder {
            seen: Mutex::new(vec![]),
            auto: engine::AutoHost::new(answers),
        })
    }
    fn seen(&self) -> Vec<Interaction> {
        self.seen.lock().unwrap().clone()
    }
}

impl engine::Host for Recorder {
    fn interact(&self, w: &Interaction) -> Result<Value, String> {
        self.seen.lock().unwrap().push(w.clone());
        self.auto.interact(w)
    }
}

// ------------------------------------------------------------- §1 files --

#[test]
fn c001_json_and_plain_object_scripts_run_their_steps_in_order() {
    let home = Home::new();
    let steps = r#"[{ "method": "log", "params": { "text": "one" } }, { "method": "log", "params": { "text": "two" } }]"#;
    let json = logs_of(
        &home,
        "s.json",
        &format!(r#"{{ "run": {steps} }}"#),
        json!({}),
    );
    let js = logs_of(
        &home,
        "s.js",
        &format!("module.exports = {{ run: {steps} }}"),
        json!({}),
    );
    assert_eq!(json, ["one", "two"]);
    assert_eq!(js, ["one", "two"]);
}

#[test]
fn c002_function_exports_sync_and_async_are_called_with_kernel() {
    let home = Home::new();
    let sync = logs_of(
        &home,
        "f.js",
        r#"module.exports = (kernel) => ({ run: [{ method: "log", params: { text: "sync " + kernel.platform + " " + kernel.gpu } }] })"#,
        json!({}),
    );
    let asynchronous = logs_of(
        &home,
        "g.js",
        r#"module.exports = async (kernel) => { const v = await Promise.resolve(kernel.arch); return { run: [{ method: "log", params: { text: "async " + v } }] } }"#,
        json!({}),
    );
    assert_eq!(sync, ["sync linux none"]);
    assert_eq!(asynchronous, ["async x64"]);
}

#[test]
fn c003_class_exports_are_instantiated_and_es_module_default_is_used() {
    let home = Home::new();
    let class = logs_of(
        &home,
        "c.js",
        r#"module.exports = class { constructor() { this.name = "inst"; this.run = [{ method: "log", params: { text: "{{self.name}}" } }] } }"#,
        json!({}),
    );
    let esm = logs_of(
        &home,
        "m.js",
        r#"Object.defineProperty(exports, "__esModule", { value: true });
           exports.default = { run: [{ method: "log", params: { text: "default export" } }] };"#,
        json!({}),
    );
    assert_eq!(class, ["inst"]);
    assert_eq!(esm, ["default export"]);
}

#[test]
fn c004_function_script_is_evaluated_again_before_each_step() {
    let home = Home::new();
    // Step 1 comes from a fresh evaluation, after step 0 wrote the flag.
    let l = logs_of(
        &home,
        "s.js",
        r#"const fs = require("fs"), path = require("path");
        module.exports = async (kernel) => {
          const seen = fs.existsSync(path.resolve(__dirname, "flag"));
          return { run: [
            { method: "fs.write", params: { path: "flag", text: "x" } },
            { method: "log", params: { text: seen ? "fresh" : "stale" } } ] };
        }"#,
        json!({}),
    );
    assert_eq!(l, ["fresh"]);
}

#[test]
fn c004_scripts_whose_evaluation_reads_or_prints_are_evaluated_before_every_step() {
    let home = Home::new();
    let steps = r#"[{ method: "log", params: { text: "a" } }, { method: "log", params: { text: "b" } }, { method: "log", params: { text: "c" } }]"#;
    let printed = logs_of(
        &home,
        "prints.js",
        &format!(r#"console.log("loaded"); module.exports = {{ run: {steps} }}"#),
        json!({}),
    );
    let reads = logs_of(
        &home,
        "reads.js",
        &format!(
            r#"const fresh = require("fs").existsSync(__dirname + "/nothing");
               module.exports = () => {{ console.log("called " + fresh); return {{ run: {steps} }} }}"#
        ),
        json!({}),
    );
    let pure = logs_of(
        &home,
        "pure.js",
        &format!(r#"module.exports = async (kernel) => ({{ run: {steps} }})"#),
        json!({}),
    );
    // Pinokio re-reads the script (and calls a function export) before
    // every step: what that shows appears every time.
    assert_eq!(printed, ["loaded", "a", "loaded", "b", "loaded", "c"]);
    assert_eq!(
        reads,
        [
            "called false",
            "a",
            "called false",
            "b",
            "called false",
            "c"
        ]
    );
    assert_eq!(pure, ["a", "b", "c"]);
}

#[test]
fn c004_script_edited_during_the_run_is_read_again() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.json",
        r#"{ "run": [
          { "method": "log", "params": { "text": "a" } },
          { "method": "fs.write", "params": { "path": "s.json", "json": { "run": [
            { "method": "log", "params": { "text": "x" } }, { "method": "log", "params": { "text": "y" } },
            { "method": "log", "params": { "text": "edited" } } ] } } },
          { "method": "log", "params": { "text": "original" } } ] }"#,
        json!({}),
    );
    assert_eq!(l, ["a", "edited"]);
}

#[test]
fn c005_run_function_is_called_once_per_run_and_its_steps_execute() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: async (kernel, info, ctx) => {
          console.log("called " + kernel.platform + " " + typeof info.exists);
          return [
            { method: "log", params: { text: "ctx " + ctx.args.x + " " + ctx.cwd.endsWith("/api/a") } },
            { method: "log", params: { text: "{{args.x}} two" } } ];
        } }"#,
        json!({ "x": "hi" }),
    );
    assert_eq!(l, ["called linux function", "ctx hi true", "hi two"]);
}

#[test]
fn c006_missing_empty_or_invalid_run_fails_before_any_step() {
    let home = Home::new();
    for (i, src) in [
        "module.exports = { daemon: true }",
        "module.exports = { run: [] }",
        r#"module.exports = { run: "log" }"#,
        "module.exports = { run: () => [] }",
    ]
    .iter()
    .enumerate()
    {
        let (e, ev) = failure(&home, &format!("s{i}.js"), src);
        assert!(
            e.contains("missing or invalid attribute: run"),
            "{src}: {e}"
        );
        assert_eq!(step_starts(&ev), 0, "{src}");
    }
}

#[test]
fn c007_top_level_keys_are_readable_as_self() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { cmds: { linux: "apt", darwin: "brew" }, version: "8.0.0",
          run: [{ method: "log", params: { text: "{{self.cmds[platform]}} {{self.version}}" } }] }"#,
        json!({}),
    );
    assert_eq!(l, ["apt 8.0.0"]);
}

#[test]
fn c008_script_that_fails_to_load_is_named_and_runs_no_step() {
    let home = Home::new();
    let (e, ev) = failure(
        &home,
        "broken.js",
        "module.exports = { run: [ { method: 'log' ",
    );
    assert!(e.contains("broken.js"), "{e}");
    assert_eq!(step_starts(&ev), 0);
}

#[test]
fn c009_env_prerequisites_start_at_once_when_set_and_ask_and_save_otherwise() {
    let home = Home::new();
    std::fs::write(home.app("a").join("ENVIRONMENT"), "C009_SET=yes\n").unwrap();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { env: [{ key: "C009_SET" }, { key: "C009_ASKED", title: "Asked", default: "dflt" }],
          run: [{ method: "shell.run", params: { message: "echo got=$C009_SET/$C009_ASKED" } }] }"#,
    );
    let host = Recorder::new(json!({}));
    let (r, ev) = run_with_host(&home.engine(), &s, json!({}), host.clone());
    r.unwrap();
    let asked: Vec<String> = host
        .seen()
        .iter()
        .filter_map(|i| match i {
            Interaction::Env { vars, .. } => {
                Some(vars.iter().map(|v| v.key.clone()).collect::<Vec<_>>())
            }
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(asked, ["C009_ASKED"]);
    assert!(plain_output(&ev).contains("got=yes/dflt"));
    let env = std::fs::read_to_string(home.app("a").join("ENVIRONMENT")).unwrap();
    assert!(env.contains("C009_ASKED=dflt"), "{env}");
    // Second run: everything is set, nothing is asked.
    let again = Recorder::new(json!({}));
    run_with_host(&home.engine(), &s, json!({}), again.clone())
        .0
        .unwrap();
    assert!(!again
        .seen()
        .iter()
        .any(|i| matches!(i, Interaction::Env { .. })));
}

#[test]
fn c010_env_host_prefills_from_key_json_and_stores_answers_there() {
    let home = Home::new();
    std::fs::write(
        home.path().join("key.json"),
        r#"{ "openai.com": ["sk-stored"] }"#,
    )
    .unwrap();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { env: [{ key: "C010_OPENAI", host: "openai.com" }, { key: "C010_HF", host: "huggingface.co" }],
          run: [{ method: "log", params: { text: "ok" } }] }"#,
    );
    let (r, _) = run(
        &home.engine(),
        &s,
        json!({}),
        json!({ "C010_HF": "hf_answer" }),
    );
    r.unwrap();
    let env = std::fs::read_to_string(home.app("a").join("ENVIRONMENT")).unwrap();
    assert!(
        env.contains("C010_OPENAI=sk-stored") && env.contains("C010_HF=hf_answer"),
        "{env}"
    );
    let keys: Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("key.json")).unwrap())
            .unwrap();
    assert_eq!(keys["huggingface.co"], json!(["hf_answer"]));
    assert_eq!(keys["openai.com"], json!(["sk-stored"]));
}

#[test]
fn c011_pre_is_read_before_env_and_env_may_name_the_variable() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { pre: [{ env: "C011_PRE", default: "p" }], env: [{ key: "C011_NOT_ASKED" }],
          run: [{ method: "log", params: { text: "ok" } }] }"#,
    );
    let host = Recorder::new(json!({}));
    let (r, _) = run_with_host(&home.engine(), &s, json!({}), host.clone());
    r.unwrap();
    let asked: Vec<String> = host
        .seen()
        .iter()
        .filter_map(|i| match i {
            Interaction::Env { vars, .. } => {
                Some(vars.iter().map(|v| v.key.clone()).collect::<Vec<_>>())
            }
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(asked, ["C011_PRE"]);
    let env = std::fs::read_to_string(home.app("a").join("ENVIRONMENT")).unwrap();
    assert!(env.contains("C011_PRE=p"), "{env}");
}

#[test]
fn c012_requires_entries_for_other_machines_are_ignored_missing_ones_block() {
    let home = Home::new();
    let other = logs_of(
        &home,
        "mac.js",
        r#"module.exports = { requires: [{ type: "conda", name: "c012-no-such-tool", platform: "darwin" },
          { name: "c012-no-such-tool", gpu: ["nvidia", "amd"] }],
          run: [{ method: "log", params: { text: "ran" } }] }"#,
        json!({}),
    );
    assert_eq!(other, ["ran"]);
    let (e, ev) = failure(
        &home,
        "linux.js",
        r#"module.exports = { requires: [{ type: "conda", name: "c012-no-such-tool", platform: ["linux", "darwin"] }],
          run: [{ method: "log", params: { text: "ran" } }] }"#,
    );
    assert!(e.contains("c012-no-such-tool"), "{e}");
    assert!(logs(&ev).is_empty());
}

#[test]
fn c013_inline_function_method_runs_and_its_result_is_the_next_input() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { method: "log", params: { text: "x", x: 1 } },
          { method: async (req, ondata, kernel) => {
              ondata({ raw: "from ondata" });
              return { sum: req.params.a + 1, prev: req.input.x, args: req.args.k, at: req.current + "/" + req.total,
                       cwd: req.cwd.endsWith("/api/a"), parent: req.parent.path.endsWith("s.js"), platform: kernel.platform };
            }, params: { a: "{{1 + 1}}" } },
          { method: "log", params: { text: "{{input.sum}} {{input.prev}} {{input.args}} {{input.at}} {{input.cwd}} {{input.parent}} {{input.platform}}" } } ] }"#,
        json!({ "k": "v" }),
    );
    assert_eq!(l, ["x", "from ondata", "3 1 v 1/3 true true linux"]);
}

#[test]
fn c014_module_method_gets_the_request_and_keeps_its_instance() {
    let home = Home::new();
    home.write(
        "a",
        "api.js",
        r#"module.exports = class {
          constructor() { this.n = 0 }
          async bump(req, ondata, kernel) {
            this.n += 1;
            return { n: this.n, p: req.params.v, input: req.input && req.input.n, args: req.args.k,
                     cwd: req.cwd.endsWith("/api/a"), current: req.current, platform: kernel.platform };
          }
        }"#,
    );
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { uri: "api.js", method: "bump", params: { v: "{{args.k}}!" } },
          { uri: "./api.js", method: "bump", params: { v: "second" } },
          { method: "log", params: { text: "{{input.n}} {{input.p}} {{input.input}} {{input.args}} {{input.cwd}} {{input.current}} {{input.platform}}" } } ] }"#,
        json!({ "k": "v" }),
    );
    assert_eq!(l, ["2 second 1 v true 1 linux"]);
}

#[test]
fn c014_module_uris_resolve_like_other_paths_and_a_method_may_move_req_next() {
    let home = Home::new();
    // A module in another installed app, named by its git URI and by `~/`.
    home.write(
        "tools",
        "lib/util.js",
        r#"module.exports = {
          hello(req) { return "hello " + req.params.who },
          skip(req) { req.next = req.next + 1; return "skipped one" },
          end(req) { req.next = null; return "the end" },
        }"#,
    );
    git_repo_with_origin(&home.app("tools"), "https://example.org/me/tools.git");
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { uri: "https://example.org/me/tools.git/lib/util.js", method: "hello", params: { who: "git" } },
          { method: "log", params: { text: "{{input}}" } },
          { uri: "~/api/tools/lib/util.js", method: "skip" },
          { method: "log", params: { text: "never shown" } },
          { method: "log", params: { text: "after skip: {{input}}" } },
          { uri: "~/api/tools/lib/util.js", method: "end" },
          { method: "log", params: { text: "never shown either" } } ] }"#,
        json!({}),
    );
    assert_eq!(l, ["hello git", "after skip: skipped one"]);

    // A git URI of an app that is not installed names the fix.
    let s = home.write(
        "a",
        "bad.js",
        r#"module.exports = { run: [ { uri: "https://example.org/me/absent.git/x.js", method: "m" } ] }"#,
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("download it first with script.download"),
        "{msg}"
    );
}

// -------------------------------------------------------- §2 execution --

#[test]
fn c020_each_step_renders_with_memory_at_that_moment_and_its_result_is_next_input() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { method: "local.set", params: { n: 1 } },
          { method: "log", params: { text: "n={{local.n}}", n: "{{local.n}}" } },
          { method: "local.set", params: { n: "{{local.n + 1}}", seen: "{{input.n}}" } },
          { method: "log", params: { text: "{{local.n}} {{local.seen}}" } } ] }"#,
        json!({}),
    );
    // local.set's own result is undefined (C-130): `log` returns its params.
    assert_eq!(l, ["n=1", "2 1"]);
}

#[test]
fn c021_step0_input_and_args_are_the_launch_params_or_an_empty_object() {
    let home = Home::new();
    let src = r#"module.exports = { run: [
      { method: "log", params: { text: "{{JSON.stringify(input)}} {{JSON.stringify(args)}}" } },
      { method: "log", params: { text: "{{JSON.stringify(args)}}" } } ] }"#;
    assert_eq!(logs_of(&home, "s.js", src, json!({})), ["{} {}", "{}"]);
    assert_eq!(
        logs_of(&home, "t.js", src, json!({ "mode": "fast" })),
        [r#"{"mode":"fast"} {"mode":"fast"}"#, r#"{"mode":"fast"}"#]
    );
}

#[test]
fn c022_falsy_when_skips_the_step_without_calling_its_method() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { when: false, method: "log", params: { text: "false" } },
          { when: 0, method: "log", params: { text: "0" } },
          { when: "", method: "log", params: { text: "empty" } },
          { when: null, method: "log", params: { text: "null" } },
          { when: "{{undefined}}", method: "log", params: { text: "undefined" } },
          { when: "{{no_such_name}}", method: "log", params: { text: "unknown" } },
          { when: "{{local.missing}}", method: "log", params: { text: "missing" } },
          { when: "{{gpu === 'nvidia'}}", method: "log", params: { text: "nvidia" } },
          { when: "{{platform === 'linux'}}", method: "log", params: { text: "ran" } } ] }"#,
        json!({}),
    );
    assert_eq!(l, ["ran"]);
}

#[test]
fn c023_a_skipped_steps_own_next_is_ignored() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { when: false, method: "log", params: { text: "skipped" }, next: 2 },
          { method: "log", params: { text: "following" } },
          { method: "log", params: { text: "last" } } ] }"#,
        json!({}),
    );
    assert_eq!(l, ["following", "last"]);
}

#[test]
fn c024_the_step_after_a_skipped_step_gets_null_input() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { method: "local.set", params: { a: 1 } },
          { when: false, method: "log", params: { text: "skipped" } },
          { method: "log", params: { text: "{{input === null}}" } } ] }"#,
        json!({}),
    );
    assert_eq!(l, ["true"]);
}

#[test]
fn c025_next_null_ends_the_script_after_that_step() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { method: "log", params: { text: "one" }, next: null },
          { method: "log", params: { text: "never" } } ] }"#,
        json!({}),
    );
    assert_eq!(l, ["one"]);
}

#[test]
fn c026_next_index_first_id_and_numeric_strings_continue_there() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { method: "log", params: { text: "0" }, next: "b" },
          { id: "b", method: "log", params: { text: "1" }, next: 4 },
          { id: "b", method: "log", params: { text: "never 2" } },
          { method: "log", params: { text: "never 3" } },
          { method: "log", params: { text: "4" }, next: "{{'6'}}" },
          { method: "log", params: { text: "never 5" } },
          { method: "log", params: { text: "6" } } ] }"#,
        json!({}),
    );
    assert_eq!(l, ["0", "1", "4", "6"]);
}

#[test]
fn c027_next_to_an_unknown_id_is_a_precise_error() {
    let home = Home::new();
    let (e, ev) = failure(
        &home,
        "s.js",
        r#"module.exports = { run: [ { method: "log", params: { text: "one" }, next: "nowhere" }, { method: "log", params: { text: "two" } } ] }"#,
    );
    assert!(e.contains("`next: \"nowhere\"` matches no step id"), "{e}");
    assert_eq!(logs(&ev), ["one"]);
}

#[test]
fn c028_jump_and_goto_continue_at_the_target_with_params_or_input() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { method: "jump", params: { index: 2, params: { v: "by index" } } },
          { method: "log", params: { text: "never" } },
          { method: "log", params: { text: "{{input.v}}" } },
          { method: "goto", params: { id: "t", input: { w: "input alias" } } },
          { method: "log", params: { text: "never either" } },
          { id: "t", method: "log", params: { text: "{{input.w}}" } },
          { method: "jump", params: { index: "7", params: { x: "string index" } } },
          { method: "log", params: { text: "{{input.x}}" } } ] }"#,
        json!({}),
    );
    assert_eq!(l, ["by index", "input alias", "string index"]);
}

#[test]
fn c029_jump_by_id_uses_the_last_step_with_that_id_unknown_ids_are_precise_errors() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { method: "jump", params: { id: "t" } },
          { id: "t", method: "log", params: { text: "first t" } },
          { id: "t", method: "log", params: { text: "last t" } } ] }"#,
        json!({}),
    );
    assert_eq!(l, ["last t"]);
    let (e, _) = failure(
        &home,
        "u.js",
        r#"module.exports = { run: [ { method: "jump", params: { id: "nowhere" } }, { method: "log", params: { text: "x" } } ] }"#,
    );
    assert!(e.contains("matches no step"), "{e}");
}

#[test]
fn c030_returns_stores_the_result_in_local_or_global() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { method: "log", params: { text: "a", a: 7 }, returns: "local.saved" },
          { method: "log", params: { text: "b" }, returns: "global.g" },
          { method: "log", params: { text: "{{local.saved.a}} {{global.g.text}}" } } ] }"#,
        json!({}),
    );
    assert_eq!(l, ["a", "b", "7 b"]);
}

#[test]
fn c031_step_notify_true_or_object_notifies_after_success() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
          { method: "log", params: { text: "x" }, notify: true },
          { method: "log", params: { text: "y" }, notify: { html: "done {{1+1}}", href: "start.js", type: "success" } },
          { when: false, method: "log", params: { text: "z" }, notify: true } ] }"#,
    );
    let host = Recorder::new(json!({}));
    let (r, _) = run_with_host(&home.engine(), &s, json!({}), host.clone());
    r.unwrap();
    let notes: Vec<Value> = host
        .seen()
        .into_iter()
        .filter_map(|i| match i {
            Interaction::Notify { params, .. } => Some(params),
            _ => None,
        })
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    let html = notes[0]["html"].as_str().unwrap();
    assert!(
        html.contains("Step 0 Finished") && html.contains("<b>method</b> log"),
        "{html}"
    );
    assert_eq!(
        (&notes[1]["html"], &notes[1]["href"], &notes[1]["type"]),
        (&json!("done 2"), &json!("start.js"), &json!("success"))
    );
}

#[test]
fn c032_an_exception_or_an_error_result_halts_the_run_with_an_error_event() {
    let home = Home::new();
    for (file, step, want) in [
        (
            "result.js",
            r#"{ method: async () => ({ error: "disk full", response: "x" }) }"#,
            "disk full",
        ),
        (
            "throw.js",
            r#"{ method: () => { throw new Error("kaboom") } }"#,
            "kaboom",
        ),
    ] {
        let (e, ev) = failure(
            &home,
            file,
            &format!(
                r#"module.exports = {{ run: [ {step}, {{ method: "log", params: {{ text: "never" }} }} ] }}"#
            ),
        );
        assert!(e.contains(want), "{e}");
        assert!(logs(&ev).is_empty());
        assert!(ev
            .iter()
            .any(|e| matches!(e, Event::Error { message, .. } if message.contains(want))));
    }
}

#[test]
fn c033_a_step_without_method_or_with_an_unknown_one_halts() {
    let home = Home::new();
    let (e, ev) = failure(
        &home,
        "none.js",
        r#"module.exports = { run: [ { params: { text: "x" } }, { method: "log", params: { text: "never" } } ] }"#,
    );
    assert!(e.contains("has no `method`"), "{e}");
    assert!(logs(&ev).is_empty());
    let (e, ev) = failure(
        &home,
        "unknown.js",
        r#"module.exports = { run: [ { method: "no.such" }, { method: "log", params: { text: "never" } } ] }"#,
    );
    assert!(e.contains("unknown method 'no.such'"), "{e}");
    assert!(logs(&ev).is_empty());
}

#[test]
fn c034_a_non_daemon_script_end_kills_its_shells_and_clears_local() {
    let home = Home::new();
    home.write(
        "a",
        "child.js",
        r#"module.exports = { run: [
          { method: "local.set", params: { k: 1 } },
          { method: "shell.run", params: { message: "echo $$ > child.pid; echo ready; sleep 1000", on: [{ event: "/ready/", done: true }] } } ] }"#,
    );
    // The caller checks, after the child ended, that its shell is gone.
    let main = home.write(
        "a",
        "main.js",
        r#"module.exports = { run: [
          { method: "script.start", params: { uri: "child.js" } },
          { method: "log", params: { text: "child local: {{String(kernel.memory.local[path.resolve(cwd, 'child.js')])}}" } },
          { method: "shell.run", params: { message: "if kill -0 $(cat child.pid) 2>/dev/null; then echo CHILD-ALIVE; else echo CHILD-GONE; fi" } } ] }"#,
    );
    let e = home.engine();
    let (r, ev) = run(&e, &main, json!({}), json!({}));
    r.unwrap();
    // A script that ended and has no `local` left reads as undefined (C-166).
    assert_eq!(logs(&ev), ["child local: undefined"]);
    let out = plain_output(&ev);
    assert!(
        out.contains("CHILD-GONE") && !out.contains("CHILD-ALIVE"),
        "{out}"
    );
    assert_eq!(e.local(&main), json!({}));
    assert!(!e.is_running(&main));
}

#[test]
fn c035_a_daemon_keeps_running_with_its_local_after_its_processes_exit() {
    let home = Home::new();
    let s = home.write(
        "a",
        "start.js",
        r#"module.exports = { daemon: true, run: [
          { method: "local.set", params: { url: "http://127.0.0.1:1" } },
          { method: "shell.run", params: { message: "echo short-lived" } } ] }"#,
    );
    let e = home.engine();
    let (h, mut rx) = start_with_events(&e, &s);
    let mut events = vec![];
    let ready = loop {
        match rx.blocking_recv() {
            Some(Event::DaemonReady { .. }) => break true,
            Some(Event::ScriptEnd { .. }) | None => break false,
            Some(ev) => events.push(ev),
        }
    };
    assert!(ready, "the daemon never finished its steps");
    std::thread::sleep(Duration::from_millis(400));
    assert!(!h.is_finished(), "the daemon ended when its process exited");
    assert!(e.is_running(&s));
    assert_eq!(e.local(&s), json!({ "url": "http://127.0.0.1:1" }));
    while let Ok(ev) = rx.try_recv() {
        events.push(ev);
    }
    assert!(plain_output(&events).contains("stays running"));
    h.stop();
    h.wait().unwrap();
    assert!(!e.is_running(&s));
    assert_eq!(e.local(&s), json!({}));
}

/// Answers nothing: every question waits until the test ends.
struct Silent;
impl engine::Host for Silent {
    fn interact(&self, w: &Interaction) -> Result<Value, String> {
        if matches!(w, Interaction::Input { .. } | Interaction::Wait { .. }) {
            std::thread::sleep(Duration::from_secs(3600));
        }
        Ok(Value::Null)
    }
}

#[test]
fn c036_stop_releases_a_pending_input_or_wait_clears_local_and_runs_nothing_more() {
    let home = Home::new();
    for (file, step) in [
        (
            "input.js",
            r#"{ method: "input", params: { form: [{ key: "name" }] } }"#,
        ),
        ("wait.js", r#"{ method: "process.wait", params: {} }"#),
    ] {
        let s = home.write(
            "a",
            file,
            &format!(
                r#"module.exports = {{ run: [ {{ method: "local.set", params: {{ a: 1 }} }}, {step},
                  {{ method: "log", params: {{ text: "never" }} }} ] }}"#
            ),
        );
        let e = home.engine();
        let (sink, mut rx) = engine::channel();
        let h = e
            .start(
                &s,
                RunOptions {
                    events: sink,
                    host: Arc::new(Silent),
                    ..Default::default()
                },
            )
            .unwrap();
        let mut events = vec![];
        loop {
            let ev = rx.blocking_recv().expect("run ended before asking");
            let asked = matches!(ev, Event::Method { .. });
            events.push(ev);
            if asked {
                break;
            }
        }
        assert_eq!(e.local(&s), json!({ "a": 1 }));
        let t = Instant::now();
        h.stop();
        let r = h.wait();
        assert!(r.unwrap_err().is_stopped(), "{file}");
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "{file}: stop took {:?}",
            t.elapsed()
        );
        while let Ok(ev) = rx.try_recv() {
            events.push(ev);
        }
        assert!(logs(&events).is_empty(), "{file}");
        assert!(!e.is_running(&s));
        assert_eq!(e.local(&s), json!({}));
    }
}

#[test]
fn c037_a_running_script_is_not_started_a_second_time() {
    let home = Home::new();
    let s = home.write(
        "a",
        "start.js",
        r#"module.exports = { daemon: true, run: [ { method: "log", params: { text: "up" } } ] }"#,
    );
    let other = home.write(
        "a",
        "other.js",
        r#"module.exports = { run: [ { method: "script.start", params: { uri: "start.js" } }, { method: "log", params: { text: "after" } } ] }"#,
    );
    let e = home.engine();
    let (h, mut rx) = start_with_events(&e, &s);
    while !matches!(rx.blocking_recv(), Some(Event::DaemonReady { .. }) | None) {}
    let again = e.start(&s, RunOptions::default());
    assert!(again.err().unwrap().to_string().contains("already running"));
    let (r, ev) = run(&e, &other, json!({}), json!({}));
    r.unwrap();
    assert_eq!(
        logs(&ev),
        ["start.js already running. Continuing...", "after"]
    );
    h.stop();
    h.wait().unwrap();
}

#[test]
fn c038_local_is_keyed_by_absolute_path_and_readable_from_other_scripts() {
    let home = Home::new();
    let start = home.write(
        "a",
        "start.js",
        r#"module.exports = { daemon: true, run: [ { method: "local.set", params: { url: "http://127.0.0.1:7860" } } ] }"#,
    );
    let reader = home.write(
        "a",
        "sub/reader.js",
        r#"module.exports = { run: [ { method: "log", params: { text: "{{kernel.memory.local[path.resolve(cwd, '../start.js')].url}}" } } ] }"#,
    );
    let e = home.engine();
    let (h, mut rx) = start_with_events(&e, &start);
    while !matches!(rx.blocking_recv(), Some(Event::DaemonReady { .. }) | None) {}
    assert_eq!(
        e.local(home.path().join("api/a/./sub/../start.js")),
        json!({ "url": "http://127.0.0.1:7860" })
    );
    let (r, ev) = run(&e, &reader, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["http://127.0.0.1:7860"]);
    h.stop();
    h.wait().unwrap();
}

#[test]
fn c039_queue_true_runs_calls_of_the_same_method_one_at_a_time() {
    let home = Home::new();
    let script = |name: &str| {
        home.write(
            "a",
            &format!("{name}.js"),
            &format!(
                r#"module.exports = {{ run: [ {{ method: "shell.run", queue: true, params: {{
                  message: "echo start-{name} >> order.txt; sleep 0.6; echo end-{name} >> order.txt" }} }} ] }}"#
            ),
        )
    };
    let (a, b) = (script("x"), script("y"));
    let e = home.engine();
    let ha = e.start(&a, RunOptions::default()).unwrap();
    let hb = e.start(&b, RunOptions::default()).unwrap();
    ha.wait().unwrap();
    hb.wait().unwrap();
    let order = std::fs::read_to_string(home.app("a").join("order.txt")).unwrap();
    let lines: Vec<&str> = order.lines().collect();
    assert_eq!(lines.len(), 4, "{order}");
    assert!(
        lines[0].starts_with("start-")
            && lines[1] == lines[0].replace("start", "end")
            && lines[2].starts_with("start-")
            && lines[3] == lines[2].replace("start", "end"),
        "the two queued steps overlapped: {order}"
    );
}
