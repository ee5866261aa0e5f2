//! Conformance with Pinokio's `{{ }}` templates: checklist items
//! C-050…C-058 of `shared/spec/PINOKIO_SCRIPT_SPEC.md` (§3). Single-pass
//! rules go through [`engine::template::Renderer`]; the step-level ones
//! (passes, `{{{ }}}`, Buffers reaching a method) through real runs.
mod common;
use common::*;
use serde_json::{json, Value};

fn render(home: &Home, v: Value, mem: Value) -> Value {
    let e = home.engine();
    let r = e.renderer(&home.app("a")).unwrap();
    r.render(&v, &mem).unwrap()
}

fn logs_of(home: &Home, file: &str, src: &str, args: Value) -> Vec<String> {
    let s = home.write("a", file, src);
    let (r, ev) = run(&home.engine(), &s, args, json!({}));
    r.unwrap_or_else(|e| panic!("run failed: {e}"));
    logs(&ev)
}

#[test]
fn c050_templates_are_javascript_with_memory_names_in_scope() {
    let home = Home::new();
    let out = render(
        &home,
        json!([
            "{{[1, 2, 3].map((x) => x * local.k).join('-')}}",
            "{{/^v(\\d+)\\.(\\d+)/.exec(local.v)[2]}}",
            "{{local.k > 1 ? 'big' : 'small'}}",
            "{{Number.parseFloat('2.5') * 2}}",
            "{{Date.now() > 1600000000000}}",
            "{{`t-${input.n}`}}",
        ]),
        json!({ "local": { "k": 2, "v": "v3.11" }, "input": { "n": 4 } }),
    );
    assert_eq!(out, json!(["2-4-6", "11", "big", 5, true, "t-4"]));
}

#[test]
fn c051_a_string_that_is_exactly_one_template_yields_the_raw_value() {
    let home = Home::new();
    let out = render(
        &home,
        json!({ "n": "{{local.n}}", "b": "{{local.n > 1}}", "o": "{{local.o}}", "a": "{{local.a}}", "z": "{{local.z}}" }),
        json!({ "local": { "n": 42, "o": { "x": 1 }, "a": [1, "two"], "z": null } }),
    );
    assert_eq!(
        out,
        json!({ "n": 42, "b": true, "o": { "x": 1 }, "a": [1, "two"], "z": null })
    );
}

#[test]
fn c052_embedded_templates_become_string_of_the_value() {
    let home = Home::new();
    let out = render(
        &home,
        json!("a={{local.a}} o={{local.o}} z={{local.z}} n={{local.n}} b={{local.b}}"),
        json!({ "local": { "a": [1, 2], "o": { "x": 1 }, "z": null, "n": 1.5, "b": false } }),
    );
    assert_eq!(out, json!("a=1,2 o=[object Object] z=null n=1.5 b=false"));
}

#[test]
fn c053_a_whole_template_that_is_undefined_stays_as_written() {
    let home = Home::new();
    let out = render(
        &home,
        json!({ "venv": "{{args.venv}}", "missing": "{{local.nope}}", "thrown": "{{local.nope.deeper}}" }),
        json!({ "args": {}, "local": {} }),
    );
    assert_eq!(
        out,
        json!({ "venv": "{{args.venv}}", "missing": "{{local.nope}}", "thrown": "{{local.nope.deeper}}" })
    );
}

#[test]
fn c054_embedded_undefined_throwing_or_unknown_templates_stay_verbatim() {
    let home = Home::new();
    let out = render(
        &home,
        json!({
            "mixed": "x {{local.nope}} y {{event.matches[0][1]}} z {{1 + 1}}",
            "later": "{{event.matches[0][1]}}",
            // A JavaScript syntax error keeps the whole string (shell text).
            "shell": "docker ps --format '{{.Names}}' -n {{1 + 1}}",
            // The matcher does not cross a line break.
            "lines": "{{1 +\n 1}} and {{2 + 2}}",
        }),
        json!({ "local": {} }),
    );
    assert_eq!(
        out,
        json!({
            "mixed": "x {{local.nope}} y {{event.matches[0][1]}} z 2",
            "later": "{{event.matches[0][1]}}",
            "shell": "docker ps --format '{{.Names}}' -n {{1 + 1}}",
            "lines": "{{1 +\n 1}} and 4",
        })
    );
}

#[test]
fn c055_keys_are_rendered_and_null_or_false_keys_are_dropped() {
    let home = Home::new();
    let out = render(
        &home,
        json!({ "{{local.k}}": 1, "{{local.gpu === 'nvidia' ? 'CUDA' : null}}": 2, "{{false}}": 3, "pre-{{local.k}}": 4, "plain": 5 }),
        json!({ "local": { "k": "key", "gpu": "none" } }),
    );
    assert_eq!(out, json!({ "key": 1, "pre-key": 4, "plain": 5 }));
}

#[test]
fn c056_a_step_is_rendered_again_while_templates_remain_at_most_four_passes() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { method: "log", params: { text: "{{args.t}}" } },
          { method: "log", params: { text: "{{args.a}}" } } ] }"#,
        json!({ "t": "{{platform}}-{{1 + 1}}", "a": "{{args.b}}", "b": "{{args.c}}", "c": "{{args.d}}", "d": "{{args.e}}", "e": "end" }),
    );
    // a → b → c → d → e needs five passes; Pinokio stops after four.
    assert_eq!(l, ["linux-2", "{{args.e}}"]);
}

#[test]
fn c057_triple_braces_are_not_evaluated_and_become_double_braces() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
          { method: "fs.write", params: { path: "later.json", text: "{{{input.port}}}" } },
          { method: "log", params: { text: "keep {{{args.x}}} and {{1 + 1}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({ "x": 1 }), json!({}));
    r.unwrap();
    assert_eq!(
        std::fs::read_to_string(home.app("a").join("later.json")).unwrap(),
        "{{input.port}}"
    );
    assert_eq!(logs(&ev), ["keep {{args.x}} and {{1 + 1}}"]);
}

#[test]
fn c058_buffers_and_class_instances_pass_through_rendering_untouched() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"class Opts { constructor() { this.keep = "{{1 + 1}}" } }
        module.exports = { run: [
          { method: "fs.write", params: { path: "bytes.bin", buffer: "{{Buffer.from('AP8QgMM=', 'base64')}}" } },
          { method: "log", params: { json: new Opts() } },
          { method: "log", params: { text: "{{Buffer.from('aMOpbGxv', 'base64')}} {{Buffer.from('héllo').length}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(
        std::fs::read(home.app("a").join("bytes.bin")).unwrap(),
        [0x00, 0xff, 0x10, 0x80, 0xc3]
    );
    let l = logs(&ev);
    // `log {json}` prints one line (C-144).
    assert_eq!(l[0], r#"{"keep":"{{1 + 1}}"}"#);
    assert_eq!(l[1], "héllo 6");
}

#[test]
fn c063_current_is_the_running_index_and_next_is_null_on_the_last_step() {
    let home = Home::new();
    let l = logs_of(
        &home,
        "s.js",
        r#"module.exports = { run: [
          { method: "log", params: { text: "{{current}}:{{String(next)}}" } },
          { method: "log", params: { text: "{{current}}:{{String(next)}}" } },
          { method: "log", params: { text: "{{current}}:{{String(next)}}" } } ] }"#,
        json!({}),
    );
    assert_eq!(l, ["0:1", "1:2", "2:null"]);
}
