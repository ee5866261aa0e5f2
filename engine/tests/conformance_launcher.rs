//! Conformance: machine facts, `kernel`/`info`, Node built-ins and launcher
//! menus (spec §3.6, §5, §7; checklist C-059…C-071, C-160…C-176, C-190…C-192).
mod common;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::*;
use engine::{Engine, Event, SystemInfo};
use serde_json::{json, Value};

/// Tests that put fake probes on PATH take this lock (PATH is process-wide).
static PATH_LOCK: Mutex<()> = Mutex::new(());

/// Writes executable `name` with `body` into `dir`.
fn fake_tool(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `SystemInfo::detect()` with `dir` first on PATH.
fn detect_with(dir: &Path) -> SystemInfo {
    let _g = PATH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let old = std::env::var("PATH").unwrap();
    std::env::set_var("PATH", format!("{}:{old}", dir.display()));
    let sys = SystemInfo::detect();
    std::env::set_var("PATH", old);
    sys
}

/// A fake `nvidia-smi` answering the engine's queries like a driver 570
/// machine with `models` (name, MiB, compute capability).
fn fake_nvidia(dir: &Path, models: &[(&str, u64, &str)]) {
    let rows: String = models
        .iter()
        .map(|(m, v, _)| format!("echo '{m}, {v}, 570.86.10'\n"))
        .collect();
    let caps: String = models
        .iter()
        .map(|(_, _, c)| format!("echo '{c}'\n"))
        .collect();
    fake_tool(
        dir,
        "nvidia-smi",
        &format!(
            "case \"$1\" in\n  --query-gpu=name*) {rows};;\n  --query-gpu=compute_cap) {caps};;\n  *) echo '| NVIDIA-SMI 570.86.10   Driver Version: 570.86.10   CUDA Version: 12.8 |' ;;\nesac"
        ),
    );
}

const ROCM_JSON: &str = r#"{"card0": {"Card series": "Radeon RX 7600", "Card vendor": "Advanced Micro Devices, Inc. [AMD/ATI]", "VRAM Total Memory (B)": "8573157376", "GFX Version": "gfx1102"}, "card1": {"Card series": "Radeon RX 7900 XTX", "VRAM Total Memory (B)": "25753026560", "GFX Version": "gfx1100"}, "system": {"Driver version": "6.10.5"}}"#;

fn render_with(e: &Engine, cwd: &Path, v: Value) -> Value {
    e.renderer(cwd).unwrap().render(&v, &json!({})).unwrap()
}

fn engine_for(home: &Home, sys: SystemInfo) -> Engine {
    Engine::new(home.path(), sys)
}

/// Starts a daemon `start.js` in `app` that sets `local.url` and waits.
fn start_daemon(e: &Engine, home: &Home, app: &str, rel: &str) -> engine::RunHandle {
    let s = home.write(app, rel, r#"module.exports = { daemon: true, run: [
      { method: "local.set", params: { url: "http://127.0.0.1:7860" } },
      { method: "shell.run", params: { message: "echo started; sleep 1000", on: [{ event: "/started/", done: true }] } } ] }"#);
    let (h, mut rx) = start_with_events(e, &s);
    while let Some(ev) = rx.blocking_recv() {
        if matches!(ev, Event::DaemonReady { .. } | Event::ScriptEnd { .. }) {
            break;
        }
    }
    h
}

fn texts(m: &engine::Menu) -> Vec<String> {
    m.items
        .iter()
        .map(|i| i.text.clone().or(i.html.clone()).unwrap_or_default())
        .collect()
}

// ------------------------------------------------------------ §3.6 facts --

#[test]
fn c059_platform_and_arch_are_node_style() {
    let dir = tempfile::tempdir().unwrap();
    let sys = detect_with(dir.path());
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    assert_eq!((sys.platform.as_str(), sys.arch.as_str()), ("linux", arch));
    let home = Home::new();
    let e = engine_for(&home, sys);
    let out = render_with(
        &e,
        &home.app("a"),
        json!("{{platform}} {{arch}} {{kernel.platform}} {{kernel.arch}} {{os.arch()}}"),
    );
    assert_eq!(out, json!(format!("linux {arch} linux {arch} {arch}")));
}

#[test]
fn c060_gpu_vendor_nvidia_wins_then_amd_then_none() {
    let dir = tempfile::tempdir().unwrap();
    fake_nvidia(dir.path(), &[("NVIDIA GeForce RTX 4090", 24564, "8.9")]);
    fake_tool(dir.path(), "rocm-smi", &format!("echo '{ROCM_JSON}'"));
    assert_eq!(detect_with(dir.path()).gpu, "nvidia");
    fake_tool(dir.path(), "nvidia-smi", "exit 9");
    let amd = detect_with(dir.path());
    assert_eq!(amd.gpu, "amd");
    assert_eq!(amd.gpus.len(), 2);
    fake_tool(dir.path(), "rocm-smi", "exit 1");
    let none = detect_with(dir.path());
    assert_eq!((none.gpu.as_str(), none.gpus.len()), ("none", 0));
}

#[test]
fn c061_gpus_have_lowercase_name_model_and_driver() {
    let dir = tempfile::tempdir().unwrap();
    fake_nvidia(
        dir.path(),
        &[
            ("NVIDIA GeForce RTX 4090", 24564, "8.9"),
            ("NVIDIA H100 80GB HBM3", 81559, "9.0"),
        ],
    );
    let home = Home::new();
    let e = engine_for(&home, detect_with(dir.path()));
    let out = render_with(
        &e,
        &home.app("a"),
        json!([
            "{{gpus}}",
            "{{gpu_model}}",
            "{{gpu_driver}}",
            "{{kernel.gpus[1].model}}"
        ]),
    );
    assert_eq!(out[0][0]["name"], "nvidia");
    assert_eq!(out[0][0]["model"], "nvidia geforce rtx 4090");
    assert_eq!(out[0][0]["driver"], "570.86.10");
    assert_eq!(out[1], "nvidia geforce rtx 4090");
    assert_eq!(out[2], "570.86.10");
    assert_eq!(out[3], "nvidia h100 80gb hbm3");
    // No GPU: gpu_model and gpu_driver are null.
    let none = engine_for(&home, linux_box("none"));
    let out = render_with(
        &none,
        &home.app("a"),
        json!(["{{gpu_model}}", "{{gpu_driver}}", "{{gpus.length}}"]),
    );
    assert_eq!(out, json!([null, null, 0]));
}

#[test]
fn c062_vram_ram_and_gpu_target() {
    let dir = tempfile::tempdir().unwrap();
    fake_nvidia(dir.path(), &[("NVIDIA GeForce RTX 5090", 32607, "12.0")]);
    let home = Home::new();
    let nv = engine_for(&home, detect_with(dir.path()));
    let out = render_with(
        &nv,
        &home.app("a"),
        json!([
            "{{vram}}",
            "{{gpu_target}}",
            "{{kernel.gpu_target}}",
            "{{typeof ram}}"
        ]),
    );
    assert_eq!(out, json!([32, "sm_120", "sm_120", "number"]));
    // AMD: the card with the most VRAM is selected.
    fake_tool(dir.path(), "nvidia-smi", "exit 9");
    fake_tool(dir.path(), "rocm-smi", &format!("echo '{ROCM_JSON}'"));
    let amd = engine_for(&home, detect_with(dir.path()));
    let out = render_with(
        &amd,
        &home.app("a"),
        json!([
            "{{vram}}",
            "{{gpu_target}}",
            "{{gpu_model}}",
            "{{gpu_driver}}",
            "{{gpus[0].name}}"
        ]),
    );
    assert_eq!(
        out,
        json!([24, "gfx1100", "radeon rx 7900 xtx", "6.10.5", "amd"])
    );
    let none = engine_for(&home, linux_box("none"));
    let out = render_with(
        &none,
        &home.app("a"),
        json!(["{{vram}}", "{{gpu_target}}", "{{ram}}"]),
    );
    assert_eq!(out, json!([0, null, 64]));
}

#[test]
fn c064_port_is_free_from_42003_and_stable_within_a_step() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [ { method: "log", params: { text: "{{port}} {{port}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    let l = logs(&ev);
    let (a, b) = l[0].split_once(' ').unwrap();
    assert_eq!(a, b);
    let p: u16 = a.parse().unwrap();
    assert!(p >= 42003, "{p}");
    assert!(std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
}

#[test]
fn c065_name_is_the_folder_relative_to_api_and_cwd_dirname_self() {
    let home = Home::new();
    let s = home.write("app.git", "sub/x.js", r#"module.exports = { title: "T", run: [
      { method: "log", params: { text: "{{name}} {{dirname === cwd}} {{cwd.endsWith('/api/app.git/sub')}} {{self.title}}" } } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["app.git/sub true true T"]);
}

#[test]
fn c065_uri_is_the_launch_uri_absolute_for_paths_and_the_git_uri_for_git_launches() {
    let home = Home::new();
    let child = r#"module.exports = { run: [ { method: "log", params: { text: "{{uri}}" } } ] }"#;
    let installed = home.write("b", "child.js", child);
    // A repository only reachable by its git URI (cloned on start).
    let src = tempfile::tempdir().unwrap();
    let repo = src.path().join("remote.git");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("child.js"), child).unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "."],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "-m",
            "c",
        ],
    ] {
        let o = std::process::Command::new("git")
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {o:?}");
    }
    let git_uri = format!("file://{}/child.js", repo.display());
    let s = home.write(
        "a",
        "s.js",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "log", params: {{ text: "{{{{uri}}}}" }} }},
      {{ method: "script.start", params: {{ uri: "~/api/b/child.js" }} }},
      {{ method: "script.start", params: {{ uri: "{git_uri}" }} }} ] }}"#
        ),
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(
        logs(&ev),
        [
            s.display().to_string(),
            installed.display().to_string(),
            git_uri
        ]
    );
}

#[test]
fn c066_global_is_a_separate_per_script_object_that_outlives_the_run() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { run: [
      { method: "log", params: { text: "before {{global.b === undefined ? 'none' : global.b}} {{local.a === undefined}}" } },
      { method: "local.set", params: { a: 1 } },
      { method: "global.set", params: { b: 2 } },
      { method: "log", params: { text: "{{local.a}} {{global.b}} {{global.a === undefined}} {{local.b === undefined}}" } } ] }"#);
    home.write("a", "pinokio.js", r#"module.exports = { menu: async (kernel, info) => [ { text: JSON.stringify([info.global("s.js"), info.local("s.js"), kernel.global(__dirname, "s.js")]) } ] }"#);
    let e = home.engine();
    let (r, ev) = run(&e, &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["before none true", "1 2 true true"]);
    let (r, ev) = run(&e, &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev)[0], "before 2 true");
    let m = e.menu(home.app("a")).unwrap();
    assert_eq!(texts(&m), [r#"[{"b":2},{},{"b":2}]"#]);
}

#[test]
fn c068_exists_running_ready_and_which_resolve_against_cwd() {
    let home = Home::new();
    let e = home.engine();
    home.write(
        "a",
        "done.js",
        r#"module.exports = { run: [ { method: "log", params: { text: "x" } } ] }"#,
    );
    std::fs::create_dir_all(home.app("a").join("app")).unwrap();
    let probe = home.write("a", "probe.js", r#"module.exports = { run: [
      { method: "log", params: { text: "{{exists('app')}} {{exists('nope')}} {{running('done.js')}} {{ready('done.js')}} {{which('sh')}} {{which('no-such-tool-x') === null}}" } } ] }"#);
    let (r, ev) = run(&e, &probe, json!({}), json!({}));
    r.unwrap();
    let sh = engine::sys::which("sh").unwrap();
    assert_eq!(
        logs(&ev),
        [format!("true false false false {} true", sh.display())]
    );
    let (r, _) = run(&e, &home.app("a").join("done.js"), json!({}), json!({}));
    r.unwrap();
    let (_, ev) = run(&e, &probe, json!({}), json!({}));
    assert!(
        logs(&ev)[0].starts_with("true false false true "),
        "{:?}",
        logs(&ev)
    );
}

#[test]
fn c069_lodash_os_path_and_buffer_in_templates() {
    let home = Home::new();
    let e = home.engine();
    let out = render_with(
        &e,
        &home.app("a"),
        json!([
            "{{_.get({a: {b: [1, 2]} }, 'a.b[1]')}}",
            "{{_.isEmpty({})}} {{_.uniq([1, 1, 2]).length}} {{_.kebabCase('Hello World')}}",
            "{{_.merge({a: 1}, {b: 2}).b}}",
            "{{os.platform()}} {{path.join('a', 'b')}} {{Buffer.from('hi').toString('base64')}}",
        ]),
    );
    assert_eq!(out, json!([2, "true 2 hello-world", 2, "linux a/b aGk="]));
    let s = home.write("a", "bad.js", r#"module.exports = { run: [ { method: "log", params: { text: "{{_.notALodashFunction(1)}}" } } ] }"#);
    let (r, ev) = run(&e, &s, json!({}), json!({}));
    // A failing template stays verbatim (C-054); the lodash error names the function.
    r.unwrap();
    assert_eq!(logs(&ev), ["{{_.notALodashFunction(1)}}"]);
    home.write("a", "pinokio.js", r#"module.exports = { menu: async () => { try { globalThis.__pinokio.lodash.nope() } catch (e) { return [ { text: e.message } ] } } }"#);
    let m = e.menu(home.app("a")).unwrap();
    assert!(
        texts(&m)[0].contains("_.nope is not in PinokioCloud's lodash subset"),
        "{:?}",
        texts(&m)
    );
}

#[test]
fn c070_kernel_in_templates() {
    let home = Home::new();
    let e = engine_for(&home, linux_box("nvidia"));
    let h = start_daemon(&e, &home, "a", "start.js");
    let out = render_with(
        &e,
        &home.app("a"),
        json!([
            "{{kernel.gpus.find(x => / 50.+/.test(x.model)).model}}",
            "{{kernel.script.local(cwd, 'start.js').url}}",
            "{{kernel.script.running('~/api/a/start.js')}}",
        ]),
    );
    h.stop();
    h.wait().unwrap();
    assert_eq!(
        out,
        json!(["nvidia geforce rtx 5090", "http://127.0.0.1:7860", true])
    );
}

#[test]
fn c070_function_scripts_read_kernel_facts_while_loading() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = async (kernel, info) => {
      const big = kernel.gpus.find(x => / 50.+/.test(x.model))
      const cfg = await kernel.require(__dirname, "cfg.json")
      return { run: [ { method: "log", params: { text: [kernel.platform, kernel.gpu, kernel.gpu_target, big ? big.name : "none", cfg.v, kernel.homedir === kernel.path()].join(" ") } } ] }
    }"#);
    home.write("a", "cfg.json", r#"{ "v": 7 }"#);
    let (r, ev) = run(
        &engine_for(&home, linux_box("nvidia")),
        &s,
        json!({}),
        json!({}),
    );
    r.unwrap();
    assert_eq!(logs(&ev), ["linux nvidia sm_120 nvidia 7 true"]);
}

#[test]
fn c071_legacy_pip_install_torch_and_system() {
    let home = Home::new();
    let cmd = |sys| {
        render_with(
            &engine_for(&home, sys),
            &home.app("a"),
            json!("{{pip.install.torch}}"),
        )
    };
    assert_eq!(cmd(linux_box("nvidia")), json!("pip install torch torchvision torchaudio --index-url https://download.pytorch.org/whl/cu118"));
    assert_eq!(cmd(linux_box("none")), json!("pip install torch torchvision torchaudio --index-url https://download.pytorch.org/whl/cpu"));
    let amd = linux_box("none").with_overrides(None, Some("amd"));
    assert!(cmd(amd).as_str().unwrap().ends_with("/whl/rocm5.6"));
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "log", params: { text: "{{typeof system.graphics}} {{typeof system.cpu}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["function function"]);
}

// ------------------------------------------------------------- §5 menus --

#[test]
fn c160_launcher_lookup_order_and_root() {
    let home = Home::new();
    // A metadata-only root pinokio.json does not hide pinokio/pinokio.js.
    home.write("a", "pinokio.json", r#"{ "title": "root meta" }"#);
    home.write(
        "a",
        "pinokio/pinokio.js",
        r#"module.exports = { title: "sub", menu: [ { text: "Start", href: "start.js" } ] }"#,
    );
    let m = home.engine().menu(home.app("a")).unwrap();
    assert_eq!(m.dir, home.app("a").join("pinokio"));
    assert_eq!(m.title.as_deref(), Some("sub"));
    assert_eq!(
        m.items[0].script(&m.dir).unwrap().0,
        home.app("a").join("pinokio/start.js")
    );
    // pinokio.js at the app root wins over pinokio/pinokio.js.
    home.write(
        "a",
        "pinokio.js",
        r#"module.exports = { title: "root", menu: [] }"#,
    );
    let m = home.engine().menu(home.app("a")).unwrap();
    assert_eq!(
        (m.dir.clone(), m.title.as_deref()),
        (home.app("a"), Some("root meta"))
    );
}

#[test]
fn c161_metadata_merges_pinokio_js_meta_and_json() {
    let home = Home::new();
    home.write("a", "pinokio.js", r#"module.exports = { title: "JS", description: "from js", icon: "js.png", menu: [ { text: "A" } ] }"#);
    home.write(
        "a",
        "pinokio_meta.json",
        r#"{ "description": "from meta", "icon": "meta.png" }"#,
    );
    home.write("a", "pinokio.json", r#"{ "title": "JSON" }"#);
    let m = home.engine().menu(home.app("a")).unwrap();
    assert_eq!(m.title.as_deref(), Some("JSON"));
    assert_eq!(m.description.as_deref(), Some("from meta"));
    assert_eq!(m.icon.as_deref(), Some("meta.png"));
    assert_eq!(texts(&m), ["A"]);
    // A `menu` that is neither an array nor a function is dropped.
    home.write("a", "pinokio.json", r#"{ "menu": "nonsense" }"#);
    assert!(home.engine().menu(home.app("a")).unwrap().items.is_empty());
}

#[test]
fn c162_menu_as_class_with_async_method() {
    let home = Home::new();
    home.write("a", "pinokio.js", r#"class L { constructor() { this.title = "C"; this.n = 2 }
      async menu(kernel, info) { return Array.from({ length: this.n }, (_, i) => ({ text: "item" + i, href: info.exists("x") ? "x" : "y" })) } }
    module.exports = L"#);
    let m = home.engine().menu(home.app("a")).unwrap();
    assert_eq!(m.title.as_deref(), Some("C"));
    assert_eq!(texts(&m), ["item0", "item1"]);
    assert_eq!(m.items[0].href.as_deref(), Some("y"));
}

#[test]
fn c163_info_resolves_against_the_launcher_folder() {
    let home = Home::new();
    home.write("a", "pinokio/pinokio.js", r#"module.exports = { menu: async (kernel, info) => [
      { text: [info.exists("install.js"), info.running("start.js"), info.ready("install.js"), JSON.stringify(info.local("start.js")), info.path("x"), JSON.stringify(info.global("start.js"))].join(" ") } ] }"#);
    home.write(
        "a",
        "pinokio/install.js",
        r#"module.exports = { run: [ { method: "log", params: { text: "ok" } } ] }"#,
    );
    let e = home.engine();
    let root = home.app("a").join("pinokio");
    let text = |e: &Engine| {
        e.menu(home.app("a")).unwrap().items[0]
            .text
            .clone()
            .unwrap()
    };
    assert_eq!(
        text(&e),
        format!("true false false {{}} {} {{}}", root.join("x").display())
    );
    let (r, _) = run(&e, &root.join("install.js"), json!({}), json!({}));
    r.unwrap();
    assert!(text(&e).starts_with("true false true "), "{}", text(&e));
}

#[test]
fn c164_c166_info_local_and_kernel_memory_follow_a_running_script() {
    let home = Home::new();
    home.write("a", "pinokio.js", r#"const path = require("path")
    module.exports = { menu: async (kernel, info) => {
      const f = path.resolve(__dirname, "start.js")
      return [ { text: JSON.stringify([info.local("start.js").url || null, kernel.running(f), kernel.local(f).url || null,
        kernel.script.local(__dirname, "start.js").url || null, (kernel.memory.local[f] || {}).url || null]) } ] } }"#);
    let e = home.engine();
    let text = |e: &Engine| {
        e.menu(home.app("a")).unwrap().items[0]
            .text
            .clone()
            .unwrap()
    };
    assert_eq!(text(&e), "[null,false,null,null,null]");
    let h = start_daemon(&e, &home, "a", "start.js");
    let url = "http://127.0.0.1:7860";
    assert_eq!(
        text(&e),
        format!(r#"["{url}",true,"{url}","{url}","{url}"]"#)
    );
    h.stop();
    h.wait().unwrap();
    assert_eq!(text(&e), "[null,false,null,null,null]");
}

#[test]
fn c165_kernel_exists_resolves_from_home_and_returns_a_promise() {
    let home = Home::new();
    std::fs::create_dir_all(home.app("a").join("app/env")).unwrap();
    home.write("a", "pinokio.js", r#"module.exports = { menu: async (kernel) => {
      const p = kernel.exists("api", "a", "app", "env")
      return [ { text: [p instanceof Promise, await p, await kernel.exists("app", "env"), await kernel.exists(__dirname, "app")].join(" ") } ] } }"#);
    let m = home.engine().menu(home.app("a")).unwrap();
    assert_eq!(texts(&m), ["true true false true"]);
}

#[test]
fn c167_kernel_loader_load_and_kernel_require() {
    let home = Home::new();
    home.write("a", "session.json", r#"{ "port": 7860 }"#);
    home.write("a", "config.js", "module.exports = { name: 'cfg' }");
    home.write("a", "pinokio.js", r#"module.exports = { menu: async (kernel) => {
      const a = await kernel.loader.load(__dirname + "/session.json")
      const b = await kernel.loader.load(__dirname + "/missing.json")
      const c = await kernel.require(__dirname, "session.json")
      const d = await kernel.require(__dirname, "missing.json")
      const e = await kernel.require(__dirname, "config.js")
      return [ { text: JSON.stringify([a.resolved.port, a.dirname === __dirname, b.resolved, c.port, d, e.name]) } ] } }"#);
    let m = home.engine().menu(home.app("a")).unwrap();
    assert_eq!(texts(&m), ["[7860,true,null,7860,null,\"cfg\"]"]);
}

#[test]
fn c168_kernel_status_system_sysinfo_which_path_bin_and_shell() {
    let home = Home::new();
    home.write("a", "pinokio.js", r#"module.exports = { menu: async (kernel) => {
      const g = await kernel.system.graphics()
      const out = await kernel.shell.run({ message: "echo hi-from-shell", path: "." })
      const ex = await kernel.exec({ message: ["echo one", "echo two"] })
      return [ { text: JSON.stringify([kernel.status(__dirname + "/start.js"), g.controllers.length, g.controllers[0].model,
        kernel.sysinfo.gpu, kernel.which("sh"), kernel.path("api", "a"), kernel.bin.path("x"), out.response.trim(), ex.response.trim()]) } ] } }"#);
    let e = engine_for(&home, linux_box("nvidia"));
    let m = e.menu(home.app("a")).unwrap();
    let v: Value = serde_json::from_str(m.items[0].text.as_deref().unwrap()).unwrap();
    let sh = engine::sys::which("sh").unwrap();
    let p = |x: PathBuf| json!(x.display().to_string());
    assert_eq!(
        v,
        json!([
            false,
            1,
            "NVIDIA GeForce RTX 5090",
            "nvidia",
            sh.display().to_string(),
            p(home.app("a")),
            p(home.path().join("bin/x")),
            "hi-from-shell",
            "one\ntwo"
        ])
    );
}

#[test]
fn c169_params_and_query_become_string_args() {
    let home = Home::new();
    home.write("a", "pinokio.js", r#"module.exports = { menu: [
      { text: "Start", href: "start.js?mode=fast", params: { n: 3, flag: true, name: "a b&c" } } ] }"#);
    let s = home.write("a", "start.js", r#"module.exports = { run: [
      { method: "log", params: { text: "{{typeof args.n}} {{args.n}} {{args.flag}} {{args.mode}} {{args.name}}" } } ] }"#);
    let e = home.engine();
    let m = e.menu(home.app("a")).unwrap();
    let (file, query) = m.items[0].script(&m.dir).unwrap();
    assert_eq!(file, s);
    let args = engine::launcher::query_args(query.as_deref().unwrap());
    let (r, ev) = run(&e, &file, Value::Object(args), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["string 3 true fast a b&c"]);
}

#[test]
fn c170_default_item_and_pinokio_script_default() {
    let home = Home::new();
    home.write(
        "a",
        "pinokio.js",
        r#"module.exports = { menu: [ { text: "S", href: "start.js", default: true } ] }"#,
    );
    let m = home.engine().menu(home.app("a")).unwrap();
    assert_eq!(
        (m.items[0].default, m.autostart_default),
        (Some(true), true)
    );
    std::fs::write(
        home.path().join("ENVIRONMENT"),
        "PINOKIO_SCRIPT_DEFAULT=false\n",
    )
    .unwrap();
    assert!(!home.engine().menu(home.app("a")).unwrap().autostart_default);
    // The app ENVIRONMENT wins over the home one.
    home.write("a", "ENVIRONMENT", "PINOKIO_SCRIPT_DEFAULT=true\n");
    assert!(home.engine().menu(home.app("a")).unwrap().autostart_default);
}

#[test]
fn c171_c173_display_fields_and_shell_items_are_carried() {
    let home = Home::new();
    home.write("a", "pinokio.js", r#"module.exports = { menu: [
      { html: "<b>X</b>", icon: "fa-x", image: "i.png", confirm: "Sure?", popout: true, target: "_blank", mode: "refresh", href: "https://x.org",
        menu: [ { text: "Inner", href: "inner.js" } ] },
      { text: "Shell", shell: { message: "bash", path: "app" } },
      { text: "Run", run: "ls" } ] }"#);
    let m = home.engine().menu(home.app("a")).unwrap();
    let i = &m.items[0];
    assert_eq!(
        (
            i.html.as_deref(),
            i.icon.as_deref(),
            i.mode.as_deref(),
            i.target.as_deref()
        ),
        (
            Some("<b>X</b>"),
            Some("fa-x"),
            Some("refresh"),
            Some("_blank")
        )
    );
    assert_eq!(
        (
            i.extra["image"].clone(),
            i.confirm.clone(),
            i.popout.clone()
        ),
        (json!("i.png"), Some(json!("Sure?")), Some(json!(true)))
    );
    assert_eq!(i.menu.as_ref().unwrap()[0].text.as_deref(), Some("Inner"));
    assert_eq!(
        m.items[1].extra["shell"],
        json!({ "message": "bash", "path": "app" })
    );
    assert_eq!(m.items[2].extra["run"], json!("ls"));
}

#[test]
fn c172_legacy_when_on_off_and_label_items() {
    let home = Home::new();
    home.write(
        "a",
        "pinokio.js",
        r#"module.exports = { menu: [
      { when: "start.js", on: "<i></i> Running", type: "label" },
      { when: "start.js", off: "<i></i> Start", href: "start.js" },
      { text: "Hidden", filter: () => false },
      { text: "Docs", when: "start.js", on: "<i></i> Docs" },
      { text: "Note", type: "label", href: "start.js" } ] }"#,
    );
    let e = home.engine();
    let m = e.menu(home.app("a")).unwrap();
    assert_eq!(texts(&m), ["<i></i> Start", "Docs", "Note"]);
    assert!(m.items[0].extra.get("when").is_none());
    assert_eq!(
        m.items[1].kind.as_deref(),
        Some("label"),
        "no button without its html"
    );
    assert!(
        m.items[2].script(&m.dir).is_none(),
        "a label is not clickable"
    );
    let h = start_daemon(&e, &home, "a", "start.js");
    let m = e.menu(home.app("a")).unwrap();
    h.stop();
    h.wait().unwrap();
    assert_eq!(texts(&m), ["<i></i> Running", "Docs", "Note"]);
    assert_eq!(m.items[1].html.as_deref(), Some("<i></i> Docs"));
    assert_eq!(m.items[1].kind, None);
    assert_eq!(m.items[0].kind.as_deref(), Some("label"));
}

#[test]
fn c174_pre_items_are_kept() {
    let home = Home::new();
    home.write(
        "a",
        "pinokio.js",
        r#"module.exports = { pre: [
      { title: "Ollama", description: "needed", icon: "o.png", href: "https://ollama.com" },
      { title: "Key", env: "OPENAI_API_KEY" } ], menu: [] }"#,
    );
    let m = home.engine().menu(home.app("a")).unwrap();
    assert_eq!(m.pre.len(), 2);
    assert_eq!(
        (m.pre[0].title.as_deref(), m.pre[0].href.as_deref()),
        (Some("Ollama"), Some("https://ollama.com"))
    );
    assert_eq!(m.pre[1].env.as_deref(), Some("OPENAI_API_KEY"));
}

#[test]
fn c175_items_whose_script_runs_are_flagged() {
    let home = Home::new();
    home.write("a", "pinokio.js", r#"module.exports = { menu: [
      { text: "Start", href: "start.js" }, { text: "More", menu: [ { text: "Again", href: "./start.js?x=1" } ] }, { text: "Other", href: "other.js" } ] }"#);
    let e = home.engine();
    assert!(!e.menu(home.app("a")).unwrap().items[0].running);
    let h = start_daemon(&e, &home, "a", "start.js");
    let m = e.menu(home.app("a")).unwrap();
    h.stop();
    h.wait().unwrap();
    assert!(m.items[0].running);
    assert!(m.items[1].menu.as_ref().unwrap()[0].running);
    assert!(!m.items[2].running);
}

#[test]
fn c176_version_above_8_needs_a_newer_pinokio() {
    let home = Home::new();
    let check = |v: &str| {
        home.write(
            "a",
            "pinokio.js",
            &format!("module.exports = {{ version: {v}, menu: [] }}"),
        );
        home.engine()
            .menu(home.app("a"))
            .unwrap()
            .needs_newer_pinokio
    };
    assert!(!check("\"2.0\""));
    assert!(!check("\"8.0\""));
    assert!(!check("4"));
    assert!(check("\"9.0\""));
    assert!(check("\"v8.0.1\""));
    assert_eq!(engine::launcher::coerce_version("v3.7"), Some((3, 7, 0)));
}

// ---------------------------------------------------- §7 helper modules --

#[test]
fn c190_relative_requires_and_node_builtins() {
    let home = Home::new();
    home.write("a", "lib/config.json", r#"{ "n": 1 }"#);
    home.write(
        "a",
        "lib/helper.js",
        "const cfg = require('./config.json'); module.exports = (x) => x + cfg.n",
    );
    home.write("a", "pinokio.js", r#"const helper = require('./lib/helper.js')
    const cp = require('child_process'), crypto = require('crypto'), util = require('node:util'), fs = require('fs')
    const { EventEmitter } = require('events')
    module.exports = { menu: async () => {
      const em = new EventEmitter(); let got = 0; em.once('x', (v) => got += v); em.emit('x', 2); em.emit('x', 5)
      const sync = cp.execSync('echo $((20 + 1))', { encoding: 'utf8' }).trim()
      const viaExec = await util.promisify(cp.exec)('printf abc')
      const spawned = await new Promise((res) => { let out = ''; const c = cp.spawn('sh', ['-c', 'echo s1; exit 3']); c.stdout.on('data', (d) => out += d.toString()); c.on('close', (code) => res(out.trim() + ':' + code)) })
      let failed; try { cp.execSync('exit 4', { stdio: 'pipe' }) } catch (e) { failed = e.status }
      fs.writeFileSync(__dirname + '/f1', 'x'); fs.renameSync(__dirname + '/f1', __dirname + '/f2')
      let unknown; try { require('worker_threads') } catch (e) { unknown = e.message }
      return [ { text: JSON.stringify([helper(1), got, sync, viaExec.stdout, spawned, failed, fs.existsSync(__dirname + '/f2'),
        crypto.createHash('md5').update('abc').digest('hex'), crypto.createHash('sha1').update('abc').digest('hex'),
        crypto.createHash('sha256').update('abc').digest('hex'), crypto.randomBytes(8).toString('hex').length]) },
        { text: unknown } ] } }"#);
    let m = home.engine().menu(home.app("a")).unwrap();
    let v: Value = serde_json::from_str(m.items[0].text.as_deref().unwrap()).unwrap();
    assert_eq!(
        v,
        json!([
            2,
            2,
            "21",
            "abc",
            "s1:3",
            4,
            true,
            "900150983cd24fb0d6963f7d28e17f72",
            "a9993e364706816aba3e25717850c26c9cd0d89d",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            16
        ])
    );
    let unknown = m.items[1].text.as_deref().unwrap();
    assert!(
        unknown.contains("Cannot find module 'worker_threads'")
            && unknown.contains("child_process"),
        "{unknown}"
    );
}

#[test]
fn c190_child_process_probes_a_fake_nvidia_smi() {
    let dir = tempfile::tempdir().unwrap();
    fake_nvidia(dir.path(), &[("NVIDIA GeForce RTX 5090", 32607, "12.0")]);
    let home = Home::new();
    let smi = dir.path().join("nvidia-smi");
    home.write("a", "pinokio.js", &format!(r#"const {{ execSync }} = require('child_process')
    module.exports = {{ menu: async () => [ {{ text: execSync('{} --query-gpu=name,memory.total,driver_version --format=csv').toString().trim() }} ] }}"#, smi.display()));
    let m = home.engine().menu(home.app("a")).unwrap();
    assert_eq!(texts(&m), ["NVIDIA GeForce RTX 5090, 32607, 570.86.10"]);
}

#[test]
fn c190_http_get_reads_a_local_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        let req = String::from_utf8_lossy(&buf[..n]).into_owned();
        let body = r#"{"version":"1.2.3"}"#;
        write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Test: yes\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
        req
    });
    let home = Home::new();
    home.write("a", "pinokio.js", &format!(r#"const http = require('http')
    module.exports = {{ menu: async () => {{
      const r = await new Promise((res, rej) => http.get('http://127.0.0.1:{port}/v?q=1', (resp) => {{
        let body = ''; resp.on('data', (c) => body += c); resp.on('end', () => res([resp.statusCode, resp.headers['x-test'], JSON.parse(body).version]))
      }}).on('error', rej))
      return [ {{ text: JSON.stringify(r) }} ] }} }}"#));
    let m = home.engine().menu(home.app("a")).unwrap();
    assert_eq!(texts(&m), [r#"[200,"yes","1.2.3"]"#]);
    assert!(server.join().unwrap().starts_with("GET /v?q=1 HTTP/1.1"));
}

#[test]
fn c191_torch_helper_args_with_null_venv_run_without_a_venv() {
    let home = Home::new();
    home.write("t", "torch.js", r#"module.exports = { run: [
      { method: "shell.run", params: { venv: "{{args && args.venv ? args.venv : null}}", path: "{{args && args.path ? args.path : '.'}}",
        message: "echo venv=${VIRTUAL_ENV:-none} dir=$(basename $PWD)" } },
      { method: "log", params: { text: "{{args.path}} {{(args && args.venv ? args.venv : null) === null}}" } } ] }"#);
    std::fs::create_dir_all(home.app("t").join("app")).unwrap();
    let main = home.write(
        "t",
        "install.js",
        r#"module.exports = { run: [
      { method: "script.start", params: { uri: "torch.js", params: { path: "app" } } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &main, json!({}), json!({}));
    r.unwrap();
    assert!(output(&ev).contains("venv=none dir=app"), "{}", output(&ev));
    assert_eq!(logs(&ev), ["app true"]);
}

#[test]
fn c192_rtx_50_test_matches_only_50_series() {
    let home = Home::new();
    let find = "{{kernel.gpus.find(x => / 50.+/.test(x.model)) ? 'yes' : 'no'}}";
    let b5090 = engine_for(&home, linux_box("nvidia"));
    assert_eq!(
        render_with(&b5090, &home.app("a"), json!(find)),
        json!("yes")
    );
    let dir = tempfile::tempdir().unwrap();
    fake_nvidia(dir.path(), &[("NVIDIA GeForce RTX 4090", 24564, "8.9")]);
    let b4090 = engine_for(&home, detect_with(dir.path()));
    assert_eq!(
        render_with(&b4090, &home.app("a"), json!(find)),
        json!("no")
    );
    assert_eq!(
        render_with(
            &engine_for(&home, linux_box("none")),
            &home.app("a"),
            json!(find)
        ),
        json!("no")
    );
}
