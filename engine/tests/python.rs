//! Python environments through uv: venvs, the pip shim and its fallback,
//! the shared cache, acceleration off, conda without conda, `requires`.
//! These use real venvs and (for `six`) the real PyPI.
mod common;
use common::*;
use engine::Engine;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A uv installed once per test run, linked into homes that don't test the
/// lazy install itself.
fn shared_uv() -> &'static Path {
    static UV: OnceLock<PathBuf> = OnceLock::new();
    UV.get_or_init(|| {
        let dir = std::env::temp_dir().join("pinokio-engine-test-uv");
        let bin = dir.join("bin/uv");
        if !bin.is_file() {
            let st = std::process::Command::new("python3")
                .args(["-m", "pip", "install", "-q", "--target"])
                .arg(&dir)
                .arg("uv")
                .status()
                .expect("python3");
            assert!(st.success(), "pip install uv failed");
        }
        bin
    })
}

/// A home whose `<home>/bin/uv` is the shared uv.
fn home_with_uv() -> Home {
    let home = Home::new();
    std::fs::create_dir_all(home.path().join("bin")).unwrap();
    std::os::unix::fs::symlink(shared_uv(), home.path().join("bin/uv")).unwrap();
    home
}

fn is_shim(pip: &Path) -> bool {
    std::fs::read_to_string(pip)
        .unwrap_or_default()
        .contains("# pinokio pip shim")
}

#[test]
fn venv_pip_install_goes_through_uv_installed_lazily() {
    let home = Home::new(); // no uv yet: the engine installs it
    let app = home.app("v");
    let whl = make_wheel(&app.join("app"));
    let s = home.write(
        "v",
        "install.js",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "shell.run", params: {{ path: "app", venv: "env", message: [
          "pip install --no-deps ./{whl}",
          "python -c 'import tinypkg; print(tinypkg.hello())'",
          "python -m pip --version",
          "pip freeze > frozen.txt" ] }} }} ] }}"#
        ),
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    let out = plain_output(&ev);
    r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    let frozen = std::fs::read_to_string(app.join("app/frozen.txt")).unwrap();
    assert!(
        frozen.contains("tinypkg"),
        "a redirected pip writes its file: {frozen:?}"
    );
    assert!(out.contains("installing uv into"), "{out}");
    assert!(out.contains("creating venv"), "{out}");
    assert!(out.contains("Installed 1 package"), "uv's own line:\n{out}");
    // uv saw a terminal (through `script`), so it drew its bars.
    assert!(out.contains("[1/1]"), "uv drew no progress bar:\n{out}");
    assert!(!out.contains("falling back"), "{out}");
    assert!(out.contains("hello from tinypkg"), "{out}");
    assert!(
        out.contains("pip ") && out.contains("from "),
        "real pip via -m: {out}"
    );
    assert!(home.path().join("bin/uv").is_file());
    let bin = app.join("app/env/bin");
    assert!(is_shim(&bin.join("pip")) && is_shim(&bin.join("pip3")));
}

#[test]
fn pip_only_options_and_commands_fall_back_to_real_pip() {
    let home = home_with_uv();
    let app = home.app("f");
    let whl = make_wheel(&app.join("app"));
    let s = home.write(
        "f",
        "install.js",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "shell.run", params: {{ path: "app", venv: "env", message: [
          "pip install --prefer-binary --no-deps ./{whl}",
          "python -c 'import tinypkg; print(tinypkg.hello())'",
          "pip download --no-deps --no-index -d dl ./{whl}" ] }} }},
      {{ method: "shell.run", params: {{ path: "app", venv: "env", on: [{{ event: "/error:/i", break: false }}],
          message: "pip install six==99.0 || echo both-resolvers-failed" }} }} ] }}"#
        ),
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    let out = plain_output(&ev);
    r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(
        out.contains("unexpected argument '--prefer-binary'")
            && out.contains("falling back to the real pip"),
        "{out}"
    );
    assert!(out.contains("hello from tinypkg"), "{out}");
    assert!(out.contains("pip download: not a uv pip command"), "{out}");
    assert!(app.join("app/dl").join(whl).is_file(), "{out}");
    // A resolution failure is retried with pip (which fails here too; its
    // printed `ERROR:` would fail the step, as in Pinokio, without the
    // `break: false` handler).
    assert!(
        out.contains("uv's resolver found no solution); falling back")
            && out.contains("both-resolvers-failed"),
        "{out}"
    );
}

#[test]
fn shared_uv_cache_serves_a_second_venv() {
    let home = home_with_uv();
    let s = home.write("c", "install.js", r#"module.exports = { run: [
      { method: "shell.run", params: { venv: "one", message: "pip install six==1.17.0" } },
      { method: "shell.run", params: { venv: "two", message: "pip install six==1.17.0" } },
      { method: "shell.run", params: { venv: "two", message: "python -c 'import six; print(\"six\", six.__version__)'" } } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    let out = plain_output(&ev);
    r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    let cache = home.path().join("cache/uv");
    assert!(
        std::fs::read_dir(&cache).unwrap().count() > 0,
        "uv cache empty"
    );
    // The first install downloads ("Prepared"), the second is served from
    // the shared cache: installed without preparing anything.
    let second = out.split("creating venv").nth(2).unwrap_or("");
    assert!(out.matches("Prepared 1 package").count() == 1, "{out}");
    assert!(
        second.contains("Installed 1 package") && !second.contains("Prepared"),
        "{second}"
    );
    assert!(out.contains("six 1.17.0"), "{out}");
}

#[test]
fn acceleration_off_is_python_venv_and_real_pip() {
    let home = Home::new();
    let engine = home.engine();
    engine.set_acceleration(false);
    let app = home.app("o");
    let whl = make_wheel(&app.join("app"));
    let s = home.write(
        "o",
        "install.js",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "shell.run", params: {{ path: "app", venv: "env", message: [
          "pip install --no-deps --no-index ./{whl}",
          "python -c 'import tinypkg; print(tinypkg.hello())'" ] }} }} ] }}"#
        ),
    );
    let (r, ev) = run(&engine, &s, json!({}), json!({}));
    let out = plain_output(&ev);
    r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(out.contains("hello from tinypkg"), "{out}");
    assert!(!out.contains("[pinokio]"), "{out}");
    assert!(!is_shim(&app.join("app/env/bin/pip")));
    assert!(!home.path().join("bin/uv").exists());
    assert!(!app.join("app/env/.pinokio-pip-shim").exists());
    // The per-app switch overrides the global one.
    engine.set_app_acceleration("o", Some(true));
    assert!(engine.acceleration("o") && !engine.acceleration("other"));
}

/// `~/.pyenv/versions/3.10.*/bin`, if this machine has one.
fn python310_dir() -> Option<PathBuf> {
    let versions = PathBuf::from(std::env::var("HOME").ok()?).join(".pyenv/versions");
    std::fs::read_dir(versions)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .find(|p| {
            p.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("3.10.")
                && p.join("python3.10").is_file()
        })
}

fn no_real_conda() -> bool {
    ["conda", "mamba", "micromamba"]
        .iter()
        .all(|c| engine::sys::which(c).is_none())
}

#[test]
fn conda_env_without_conda_is_a_uv_venv_of_the_asked_python() {
    let Some(py310) = python310_dir() else {
        eprintln!("skipped: no ~/.pyenv/versions/3.10.*/bin/python3.10 on this machine");
        return;
    };
    if !no_real_conda() {
        eprintln!("skipped: a real conda is on PATH");
        return;
    }
    let home = home_with_uv();
    let engine = home.engine();
    let path = format!("{}:{}", py310.display(), std::env::var("PATH").unwrap());
    engine.set_app_env("k", vec![("PATH".into(), path)]);
    std::fs::create_dir_all(home.app("k").join("app")).unwrap();
    let s = home.write("k", "install.js", r#"module.exports = { run: [
      { method: "shell.run", params: { path: "app", conda: { path: "cenv", python: "python=3.10" }, venv: "env", message: [
          "python --version", "pip install six==1.17.0", "python -c 'import sys; print(sys.prefix)'" ] } } ] }"#);
    let (r, ev) = run(&engine, &s, json!({}), json!({}));
    let out = plain_output(&ev);
    r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(out.contains("Python 3.10."), "{out}");
    let app = home.app("k").join("app");
    assert!(app.join("cenv/bin/activate").is_file());
    // The venv is built from the conda env's Python and activated last.
    assert!(
        out.contains(&app.join("env").display().to_string()),
        "{out}"
    );
    assert!(is_shim(&app.join("cenv/bin/pip")));

    let bad = home.write("k", "bad.js", r#"module.exports = { run: [
      { method: "shell.run", params: { path: "app", conda: { path: "old", python: "3.99" }, message: "echo unreachable" } } ] }"#);
    let (r, ev) = run(&engine, &bad, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("needs Python 3.99") && e.contains("Fix: install Python 3.99"),
        "{e}"
    );
    assert!(!output(&ev).contains("unreachable"));
}

#[test]
fn conda_shim_maps_packages_and_rejects_unknown_ones() {
    if !no_real_conda() {
        eprintln!("skipped: a real conda is on PATH");
        return;
    }
    let home = home_with_uv();
    let engine = home.engine();
    let fake = tempfile::tempdir().unwrap();
    let ffmpeg = fake.path().join("ffmpeg");
    std::fs::write(&ffmpeg, "#!/bin/sh\necho fake ffmpeg\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ffmpeg, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        fake.path().display(),
        std::env::var("PATH").unwrap()
    );
    engine.set_app_env("s", vec![("PATH".into(), path)]);
    let s = home.write("s", "install.js", r#"module.exports = { run: [
      { method: "shell.run", params: { message: ["conda install -y -c conda-forge ffmpeg", "conda activate base", "echo after"] } },
      { method: "shell.run", params: { message: "conda install -y no-such-pkg-xyz" } } ] }"#);
    let (r, ev) = run(&engine, &s, json!({}), json!({}));
    let out = plain_output(&ev);
    assert!(
        out.contains("ffmpeg is already here") && out.contains("after"),
        "{out}"
    );
    let e = r.unwrap_err().to_string();
    assert!(e.contains("step 1"), "{e}");
    assert!(
        e.contains("conda isn't installed here; no-such-pkg-xyz has no mapping"),
        "{e}"
    );
}

#[test]
fn missing_requirement_blocks_the_run_before_its_first_step() {
    let home = home_with_uv();
    let s = home.write(
        "r",
        "install.js",
        r#"module.exports = {
      requires: [{ type: "conda", name: "no-such-tool-xyz", args: "-c conda-forge" },
                 { platform: "darwin", name: "also-missing-but-mac-only" }],
      run: [{ method: "log", params: { text: "ran" } }] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("this script needs things this machine lacks"),
        "{e}"
    );
    assert!(e.contains("no-such-tool-xyz (conda): missing. Fix:"), "{e}");
    assert!(!e.contains("also-missing"), "{e}");
    assert!(logs(&ev).is_empty());
}

#[test]
fn gpu_filtered_requirements_are_skipped_and_bundles_pass() {
    let home = home_with_uv();
    home.write(
        "g",
        "pinokio.js",
        r#"module.exports = { title: "g", requires: { bundle: "ai" }, menu: [] }"#,
    );
    let s = home.write(
        "g",
        "install.js",
        r#"module.exports = {
      requires: [{ gpu: "nvidia", name: "cuda" }, { gpu: "nvidia", type: "conda", name: "cudnn" }],
      run: [{ method: "log", params: { text: "ran" } }] }"#,
    );
    let engine: Engine = home.engine(); // a linux box without GPU
    let (r, ev) = run(&engine, &s, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    assert_eq!(logs(&ev), ["ran"]);
    // Plans list the applicable requirements with their status.
    let plan = engine.plan(&s, Default::default()).unwrap();
    assert_eq!(plan[0].method, "requires");
    let names: Vec<&str> = plan[0].params["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["python3", "git", "uv"]);
}

/// Colab-style images ship torch in the system Python: with reuse on, a new
/// venv made from that Python gets the torch family hardlinked in, and a
/// script asking for the same version downloads nothing (`--no-index`
/// would fail otherwise). The base keeps its files.
#[test]
fn the_platforms_torch_is_reused_by_new_venvs_when_asked() {
    use std::os::unix::fs::MetadataExt;
    let home = home_with_uv();
    let platform = home.path().join("platform");
    let wheel = r#"
import zipfile, sys
p = sys.argv[1] + "/torch-2.5.1+cu121-py3-none-any.whl"
with zipfile.ZipFile(p, "w") as z:
    z.writestr("torch/__init__.py", "__version__ = '2.5.1+cu121'\n")
    z.writestr("torch-2.5.1+cu121.dist-info/METADATA", "Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1+cu121\n")
    z.writestr("torch-2.5.1+cu121.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr("torch-2.5.1+cu121.dist-info/RECORD", "")
"#;
    std::fs::create_dir_all(&platform).unwrap();
    let sh = |cmd: &str| {
        let st = std::process::Command::new("bash")
            .args(["-c", cmd])
            .current_dir(&platform)
            .status()
            .unwrap();
        assert!(st.success(), "{cmd}");
    };
    sh(&format!("python3 -c {} .", engine_quote(wheel)));
    sh("python3 -m venv py && py/bin/pip install -q --no-index --no-deps ./torch-2.5.1+cu121-py3-none-any.whl");
    let s = home.write(
        "t",
        "install.js",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "shell.run", params: {{ venv: "env", env: {{ PATH: "{}/py/bin:{{{{envs.PATH}}}}" }}, message: [
          "pip install --no-index torch==2.5.1",
          "python -c 'import torch; print(\"torch\", torch.__version__, torch.__file__)'" ] }} }} ] }}"#,
            platform.display()
        ),
    );
    let engine = home.engine();
    engine.set_reuse_platform_torch(true);
    let (r, ev) = run(&engine, &s, json!({}), json!({}));
    let out = plain_output(&ev);
    r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(
        out.contains("reusing the platform's torch 2.5.1+cu121"),
        "{out}"
    );
    let venv_init = home
        .app("t")
        .join("env/lib/python3.11/site-packages/torch/__init__.py");
    assert!(
        out.contains(&format!("torch 2.5.1+cu121 {}", venv_init.display())),
        "{out}"
    );
    let base_init = platform.join("py/lib/python3.11/site-packages/torch/__init__.py");
    assert_eq!(
        std::fs::metadata(&venv_init).unwrap().ino(),
        std::fs::metadata(&base_init).unwrap().ino(),
        "hardlinked, not copied"
    );

    // Off (the default), the same script must find torch itself: with
    // --no-index it cannot, which shows nothing was reused.
    std::fs::remove_dir_all(home.app("t").join("env")).unwrap();
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    assert!(r.is_err(), "{}", output(&ev));
    assert!(base_init.exists());
}

fn engine_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
