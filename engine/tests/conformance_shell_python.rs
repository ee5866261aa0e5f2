//! Conformance of `shell.run`'s Python environments with Pinokio (spec
//! §4.1.1; checklist C-098…C-103): venvs, the base env, conda. Fake `uv`
//! and `conda` executables stand in where the real tool would download
//! something; they record the command lines the engine gives them. The
//! rest of `shell.run` is in `conformance_shell.rs`.
mod common;
use common::*;
use engine::Event;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn script(home: &Home, app: &str, body: &str) -> std::path::PathBuf {
    home.write(app, "s.js", &format!("module.exports = {body}"))
}

fn executable(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn ok(r: Result<Value, engine::EngineError>, ev: &[Event]) -> Value {
    r.unwrap_or_else(|e| panic!("{e}\n--- output ---\n{}", plain_output(ev)))
}

/// A fake uv at `<home>/bin/uv` (the home's own uv wins over PATH): it
/// logs its arguments and makes the venv with the real `python3 -m venv`,
/// or fails like uv does when `FAIL_PYTHON` names the asked version.
fn fake_uv(home: &Home) -> std::path::PathBuf {
    let log = home.path().join("uv.log");
    executable(
        &home.path().join("bin/uv"),
        &format!(
            r#"#!/bin/bash
echo "$@" >> '{log}'
dir="${{@: -1}}"
py=""
while [ $# -gt 0 ]; do [ "$1" = --python ] && py="$2"; shift; done
if [ -n "$FAKE_UV_FAIL" ]; then echo "error: No interpreter found for Python $py in managed installations or search path" >&2; exit 2; fi
python3 -m venv --without-pip "$dir"
"#,
            log = log.display()
        ),
    );
    log
}

#[test]
fn c099_venv_object_and_venv_python_create_the_venv_with_that_python_via_uv() {
    let home = Home::new();
    let log = fake_uv(&home);
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { venv: { path: "env", python: "3.11" }, message: "echo $VIRTUAL_ENV" } },
      { method: "log", params: { text: "{{input.stdout}}" } },
      { method: "shell.run", params: { venv: "env2", venv_python: "3.12", message: "" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), [home.app("a").join("env").display().to_string()]);
    let calls = std::fs::read_to_string(log).unwrap();
    assert!(
        calls.contains(&format!(
            "--python 3.11 {}",
            home.app("a").join("env").display()
        )),
        "{calls}"
    );
    assert!(calls.contains("--python 3.12"), "{calls}");
}

#[test]
fn c100_new_venvs_default_to_python_3_10_and_say_how_to_fix_a_missing_one() {
    let home = Home::new();
    let log = fake_uv(&home);
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { venv: "env", message: "echo in-venv" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains("--python 3.10 "), "{calls}");
    let s = script(
        &home,
        "b",
        r#"{ run: [
      { method: "shell.run", params: { venv: "env", env: { FAKE_UV_FAIL: "1" }, message: "echo no" } } ] }"#,
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("Python 3.10") && e.contains("Fix:") && e.contains("venv_python"),
        "{e}"
    );
}

/// A folder holding a `python3.10` that runs: PATH's, else pyenv's.
fn python310_bin() -> Option<std::path::PathBuf> {
    let runs = |p: &Path| {
        std::process::Command::new(p)
            .args(["-c", ""])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let path = std::env::var("PATH").unwrap_or_default();
    let pyenv = std::env::var("HOME")
        .map(|h| Path::new(&h).join(".pyenv/versions"))
        .ok()
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| d.to_string_lossy().contains("/3.10"));
    std::env::split_paths(&path)
        .chain(pyenv)
        .find(|d| runs(&d.join("python3.10")))
}

#[test]
fn c100_without_acceleration_a_real_venv_is_python_3_10() {
    let Some(bin) = python310_bin() else {
        eprintln!("no runnable python3.10 here (the engine would fetch one with uv); skipped");
        return;
    };
    let home = Home::new();
    let e = home.engine();
    e.set_acceleration(false);
    let s = script(
        &home,
        "a",
        &format!(
            r#"{{ run: [
      {{ method: "shell.run", params: {{ env: {{ PATH: ["{}"] }}, venv: "env",
          message: "python -c 'import sys; print(sys.version_info[:2] == (3, 10), sys.prefix)'" }} }},
      {{ method: "log", params: {{ text: "{{{{input.stdout}}}}" }} }} ] }}"#,
            bin.display()
        ),
    );
    let (r, ev) = run(&e, &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(
        logs(&ev),
        [format!("True {}", home.app("a").join("env").display())]
    );
}

#[test]
fn c101_without_conda_the_base_env_has_python_and_requires_a_venv_for_pip() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: "echo \"$PIP_REQUIRE_VIRTUALENV|$(python -c 'print(6*7)')\"" } },
      { method: "log", params: { text: "{{input.stdout}}" } },
      { method: "shell.run", params: { conda: { skip: true }, message: "echo \"skip:${PIP_REQUIRE_VIRTUALENV:-unset}\"" } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["true|42", "skip:unset"]);
}

/// A fake conda whose shell hook defines a `conda` function that logs.
fn fake_conda(home: &Home) -> (std::path::PathBuf, std::path::PathBuf) {
    let bin = home.path().join("condabin");
    let log = home.path().join("conda.log");
    executable(
        &bin.join("conda"),
        r#"#!/bin/bash
if [ "$1" = shell.bash ]; then
cat <<'HOOK'
conda() { echo "conda $*" >> "$CONDA_LOG"; if [ "$1" = activate ]; then export CONDA_PREFIX="$2"; fi; if [ "$1" = create ] && [ "$3" = -p ]; then mkdir -p "$4"; fi; }
HOOK
fi
"#,
    );
    (bin, log)
}

/// The `env` param that puts the fake conda first on PATH, and its log.
fn fake_conda_env(home: &Home) -> (String, std::path::PathBuf) {
    let (bin, log) = fake_conda(home);
    let env = format!(
        r#"env: {{ PATH: ["{}"], CONDA_LOG: "{}" }}"#,
        bin.display(),
        log.display()
    );
    (env, log)
}

#[test]
fn c102_c103_conda_path_and_named_envs_are_created_then_activated() {
    let home = Home::new();
    let (env, log) = fake_conda_env(&home);
    let s = script(
        &home,
        "a",
        &format!(
            r#"{{ run: [
      {{ method: "shell.run", params: {{ {env}, conda: {{ path: "cenv" }}, message: "echo p=$CONDA_PREFIX" }} }},
      {{ method: "log", params: {{ text: "{{{{input.stdout}}}}" }} }},
      {{ method: "shell.run", params: {{ {env}, conda: {{ name: "tts", python: 3.11, args: "-c conda-forge" }}, message: "echo n=$CONDA_PREFIX" }} }},
      {{ method: "log", params: {{ text: "{{{{input.stdout}}}}" }} }},
      {{ method: "shell.run", params: {{ {env}, conda: {{ path: "cenv", python: "python=3.9" }}, message: "echo again" }} }},
      {{ method: "shell.run", params: {{ {env}, conda: {{ skip: true }}, message: "echo s=${{CONDA_PREFIX:-none}}" }} }},
      {{ method: "log", params: {{ text: "{{{{input.stdout}}}}" }} }} ] }}"#
        ),
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    let cenv = home.app("a").join("cenv");
    assert_eq!(
        logs(&ev),
        [
            format!("p={}", cenv.display()),
            "n=tts".to_string(),
            "s=none".to_string()
        ]
    );
    let calls = std::fs::read_to_string(log).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    assert_eq!(
        lines,
        [
            format!("conda create -y -p {} python=3.10", cenv.display()).as_str(),
            &format!("conda activate {}", cenv.display()),
            "conda env list",
            "conda create -y -n tts python=3.11 -c conda-forge",
            "conda activate tts",
            &format!("conda activate {}", cenv.display()),
        ],
        "{calls}"
    );
}

#[test]
fn c103_conda_activate_replaces_the_activation_and_an_object_must_name_an_env() {
    let home = Home::new();
    let (env, log) = fake_conda_env(&home);
    let s = script(
        &home,
        "a",
        &format!(
            r#"{{ run: [
      {{ method: "shell.run", params: {{ {env}, conda: {{ path: "cenv", activate: ["export MINE=given"] }}, message: "echo mine=$MINE p=${{CONDA_PREFIX:-none}}" }} }},
      {{ method: "log", params: {{ text: "{{{{input.stdout}}}}" }} }},
      {{ method: "shell.run", params: {{ {env}, conda: {{ name: "x", activate: "minimal" }}, message: "echo minimal" }} }} ] }}"#
        ),
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["mine=given p=none"]);
    // Neither env was created or activated.
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !calls.contains("create")
            && !calls.contains("activate cenv")
            && !calls.contains("activate x"),
        "{calls}"
    );
    assert!(!home.app("a").join("cenv").exists());

    let bad = script(
        &home,
        "a",
        r#"{ run: [ { method: "shell.run", params: { conda: { python: 3.11 }, message: "echo never" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &bad, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("the conda.name or conda.path must exist"),
        "{msg}"
    );
    assert!(!plain_output(&ev).contains("never"));
}

#[test]
fn c098_venv_resolves_against_the_shell_path_and_is_active() {
    let home = Home::new();
    let log = fake_uv(&home);
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { path: "app", venv: "env", message: "echo \"$VIRTUAL_ENV|${PATH%%:*}\"" } },
      { method: "log", params: { text: "{{input.stdout}}" } },
      { method: "shell.run", params: { path: "app", venv: "env", message: "echo again" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    let env = home.app("a").join("app/env");
    assert_eq!(
        logs(&ev),
        [format!("{}|{}/bin", env.display(), env.display())]
    );
    let calls = std::fs::read_to_string(log).unwrap();
    assert_eq!(
        calls.lines().count(),
        1,
        "created once, then only activated: {calls}"
    );
}
