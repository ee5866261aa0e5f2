//! Plans walk the whole state machine without side effects.
mod common;
use common::*;
use engine::{PlanOptions, SystemInfo};
use serde_json::json;

const TORCH: &str = r#"module.exports = { run: [
  { when: "{{gpu === 'nvidia'}}", method: "shell.run", params: { venv: "{{args.venv}}", path: "{{args.path}}",
    message: "pip install torch --index-url https://download.pytorch.org/whl/cu128" }, next: null },
  { when: "{{platform === 'darwin'}}", method: "shell.run", params: { venv: "{{args.venv}}", path: "{{args.path}}", message: "pip install torch" }, next: null },
  { method: "shell.run", params: { venv: "{{args.venv}}", path: "{{args.path}}", message: "pip install torch --index-url https://download.pytorch.org/whl/cpu" }, next: null } ] }"#;

const INSTALL: &str = r#"module.exports = { run: [
  { method: "shell.run", params: { message: ["git clone https://github.com/example/app app"] } },
  { method: "script.start", params: { uri: "torch.js", params: { venv: "env", path: "app" } } },
  { method: "shell.run", params: { venv: "env", path: "app", message: ["pip install -r requirements.txt"] } },
  { method: "fs.link", params: { venv: "app/env" } },
  { method: "fs.download", params: { uri: ["https://example.com/m.safetensors"], dir: "app/models" } },
  { method: "fs.write", params: { path: "app/config.json", json: { gpu: "{{gpu}}" } } },
  { method: "input", params: { title: "Name", form: [{ key: "name", default: "bob" }] } },
  { method: "log", params: { text: "hi {{input.name}}" } },
  { method: "notify", params: { html: "Installed" } } ] }"#;

fn plan_for(home: &Home, script: &str, sys: SystemInfo) -> Vec<engine::PlanEntry> {
    let opts = PlanOptions {
        system: Some(sys),
        ..Default::default()
    };
    home.engine()
        .plan(home.path().join("api/x").join(script), opts)
        .unwrap()
}

#[test]
fn plan_records_every_step_with_rendered_params_and_no_side_effects() {
    let home = Home::new();
    home.write("x", "torch.js", TORCH);
    home.write("x", "install.js", INSTALL);
    let plan = plan_for(&home, "install.js", linux_box("none"));
    let methods: Vec<_> = plan
        .iter()
        .map(|p| format!("{}#{} {}", p.script, p.index, p.method))
        .collect();
    assert_eq!(
        methods,
        [
            "install.js#0 shell.run",
            "install.js#1 script.start",
            "torch.js#2 shell.run",
            "install.js#2 shell.run",
            "install.js#3 fs.link",
            "install.js#4 fs.download",
            "install.js#5 fs.write",
            "install.js#6 input",
            "install.js#7 log",
            "install.js#8 notify",
        ]
    );
    assert_eq!(
        plan[2].params["message"],
        json!("pip install torch --index-url https://download.pytorch.org/whl/cpu")
    );
    assert_eq!(plan[2].params["venv"], json!("env"));
    assert_eq!(plan[6].params["json"], json!({ "gpu": "none" }));
    assert_eq!(
        plan[8].params["text"],
        json!("hi bob"),
        "input takes its defaults"
    );
    let app = home.app("x");
    assert!(
        !app.join("app").exists(),
        "a plan must not run commands or write files"
    );
}

#[test]
fn plan_follows_gpu_and_platform_overrides() {
    let home = Home::new();
    home.write("x", "torch.js", TORCH);
    home.write("x", "install.js", INSTALL);
    let nvidia = plan_for(
        &home,
        "install.js",
        SystemInfo::detect().with_overrides(Some("linux"), Some("nvidia")),
    );
    assert_eq!(nvidia[2].script, "torch.js");
    assert_eq!(nvidia[2].index, 0);
    assert!(nvidia[2].params["message"]
        .as_str()
        .unwrap()
        .ends_with("cu128"));
    let mac = plan_for(
        &home,
        "install.js",
        SystemInfo::detect().with_overrides(Some("darwin"), Some("apple")),
    );
    assert_eq!(
        (mac[2].index, mac[2].params["message"].as_str().unwrap()),
        (1, "pip install torch")
    );
}

#[test]
fn plan_fires_on_handlers_with_a_plausible_url() {
    let home = Home::new();
    home.write("x", "start.js", r#"module.exports = { daemon: true, run: [
      { method: "shell.run", params: { venv: "env", path: "app", message: "python app.py --port {{port}}", on: [{ event: "/http:\\/\\/\\S+/", done: true }] } },
      { method: "local.set", params: { url: "{{input.event[0]}}" } },
      { method: "web.open", params: { uri: "{{local.url}}" } } ] }"#);
    let plan = plan_for(&home, "start.js", linux_box("none"));
    let port = plan[0].params["message"]
        .as_str()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    assert!(port.parse::<u16>().is_ok(), "{port}");
    assert_eq!(
        plan[1].params["url"],
        json!(format!("http://127.0.0.1:{port}"))
    );
    assert_eq!(plan[2].params["uri"], plan[1].params["url"]);
}

#[test]
fn plan_of_a_looping_script_ends_with_an_error() {
    let home = Home::new();
    home.write("x", "loop.js", r#"module.exports = { run: [ { id: "a", method: "log", params: { text: "again" }, next: "a" } ] }"#);
    let e = home
        .engine()
        .plan(home.path().join("api/x/loop.js"), PlanOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("loop.js") && e.contains("plan stopped after"),
        "{e}"
    );
}

#[test]
fn plan_reports_errors_precisely() {
    let home = Home::new();
    home.write("x", "bad.js", r#"module.exports = { run: [ { method: "log", params: {} }, { method: "fs.write", params: { text: "x" } } ] }"#);
    let e = home
        .engine()
        .plan(home.path().join("api/x/bad.js"), PlanOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.js: step 1 (fs.write): params.path is required"),
        "{e}"
    );
}

/// The torch check follows `script.start` into `torch.js` and judges the
/// index it picks against the driver, before anything is downloaded.
#[test]
fn torch_check_warns_when_the_driver_is_too_old_for_the_picked_index() {
    let home = Home::new();
    home.write("x", "torch.js", TORCH);
    let install = home.write("x", "install.js", INSTALL);
    let old = SystemInfo {
        gpu_driver: Some("470.82.01".into()),
        cuda: Some("11.4".into()),
        ..linux_box("nvidia")
    };
    let check = engine::Engine::new(home.path(), old)
        .torch_check(&install)
        .unwrap();
    assert_eq!(check.findings.len(), 1, "{check:?}");
    assert_eq!(check.findings[0].script, "torch.js");
    assert_eq!(check.findings[0].build, "cu128");
    assert_eq!(check.verdict(), engine::Verdict::Incompatible);
    assert_eq!(check.recommended, "cu113");
    assert!(
        !home.path().join("api/x/app").exists(),
        "a check has no side effects"
    );

    let new = engine::Engine::new(home.path(), linux_box("nvidia"));
    assert_eq!(
        new.torch_check(&install).unwrap().verdict(),
        engine::Verdict::Fits
    );
    let cpu = engine::Engine::new(home.path(), linux_box("none"));
    let c = cpu.torch_check(&install).unwrap();
    assert_eq!(
        (c.findings[0].build.as_str(), c.verdict()),
        ("cpu", engine::Verdict::Fits)
    );
}

#[test]
fn plan_shows_which_downloads_are_skipped_and_where_drive_links_go() {
    let home = Home::new();
    let app = home.path().join("api/x");
    std::fs::create_dir_all(app.join("app/models")).unwrap();
    std::fs::write(app.join("app/models/have.safetensors"), "x").unwrap();
    std::fs::write(
        app.join("install.js"),
        r#"module.exports = { run: [
  { method: "fs.download", params: { uri: ["https://example.com/have.safetensors", "https://example.com/new.safetensors"], dir: "app/models" } },
  { method: "fs.download", params: { uri: "https://example.com/one.bin", path: "app/models/have.safetensors" } },
  { method: "fs.link", params: { venv: "app/env" } },
  { method: "fs.share", params: { drive: { checkpoints: "app/models/checkpoints", loras: ["app/models/loras"] }, peers: ["https://example.com/peer.git"] } } ] }"#,
    )
    .unwrap();
    let plan = plan_for(&home, "install.js", linux_box("nvidia"));
    assert_eq!(plan.len(), 4, "{plan:?}");
    let models = app.join("app/models");
    assert_eq!(
        plan[0].params["downloads"],
        json!([
            { "url": "https://example.com/have.safetensors", "path": models.join("have.safetensors"), "present": true },
            { "url": "https://example.com/new.safetensors", "path": models.join("new.safetensors"), "present": false }
        ])
    );
    assert_eq!(plan[1].params["downloads"][0]["present"], true);
    let drive = home.path().join("drive/drives");
    assert_eq!(
        plan[2].params["drive_link"],
        json!({ "venv": app.join("app/env"), "store": drive.join("pip") })
    );
    assert_eq!(
        plan[3].params["drive_link"],
        json!({
            "folders": {
                "checkpoints": [models.join("checkpoints").display().to_string()],
                "loras": [models.join("loras").display().to_string()]
            },
            "store": drive.join("peers")
        })
    );
    // Nothing happened.
    assert!(!models.join("new.safetensors").exists());
    assert!(!home.path().join("drive").exists());
}
