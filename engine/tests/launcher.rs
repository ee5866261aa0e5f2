//! Launcher menus evaluated against live state.
mod common;
use common::*;
use engine::Event;
use serde_json::json;

const PINOKIO_JS: &str = r#"const path = require('path')
module.exports = {
  version: "2.0",
  title: "Demo",
  description: "a demo app",
  icon: "icon.png",
  menu: async (kernel, info) => {
    const installed = info.exists("app", "env") && await kernel.exists(__dirname, "app", "env")
    const running = { start: info.running("start.js"), alt: kernel.running(__dirname, "start.js") }
    if (!installed) return [{ default: true, icon: "fa-solid fa-plug", text: "Install", href: "install.js" }]
    if (running.start && running.alt) {
      const local = info.local("start.js")
      const viaKernel = kernel.memory.local[path.resolve(__dirname, "start.js")]
      if (local.url && viaKernel.url === local.url) {
        return [
          { default: true, popout: true, icon: "fa-solid fa-rocket", text: "Open Web UI", href: local.url },
          { icon: "fa-solid fa-terminal", text: "Terminal", href: "start.js" },
        ]
      }
      return [{ icon: "fa-solid fa-terminal", text: "Starting...", href: "start.js", default: true }]
    }
    return [
      { default: true, icon: "fa-solid fa-power-off", text: "Start", href: "start.js?mode=fast", params: { fast: true } },
      { icon: "fa-solid fa-gear", text: "More", menu: [ { text: "Reset", href: "reset.js", confirm: "Are you sure?" } ] },
      { html: "<b>Docs</b>", href: "https://example.com", target: "_blank", custom: 1 },
    ]
  }
}
"#;

#[test]
fn menu_reflects_install_state() {
    let home = Home::new();
    home.write("demo", "pinokio.js", PINOKIO_JS);
    let e = home.engine();
    let m = e.menu(home.app("demo")).unwrap();
    assert_eq!(m.title.as_deref(), Some("Demo"));
    assert_eq!(m.items.len(), 1);
    assert_eq!(m.items[0].text.as_deref(), Some("Install"));
    assert_eq!(m.items[0].default, Some(true));
    std::fs::create_dir_all(home.app("demo").join("app/env")).unwrap();
    let m = e.menu(home.app("demo")).unwrap();
    let texts: Vec<_> = m
        .items
        .iter()
        .map(|i| i.text.clone().or(i.html.clone()).unwrap())
        .collect();
    assert_eq!(texts, ["Start", "More", "<b>Docs</b>"]);
    let (script, query) = m.items[0].script(&home.app("demo")).unwrap();
    assert_eq!(script, home.app("demo").join("start.js"));
    assert_eq!(query.as_deref(), Some("mode=fast&fast=true"));
    assert_eq!(
        m.items[1].menu.as_ref().unwrap()[0].confirm,
        Some(json!("Are you sure?"))
    );
    assert_eq!(m.items[2].target.as_deref(), Some("_blank"));
    assert_eq!(m.items[2].extra["custom"], json!(1));
    assert!(m.items[2].script(&home.app("demo")).is_none());
}

#[test]
fn menu_changes_when_start_js_runs() {
    let home = Home::new();
    home.write("demo", "pinokio.js", PINOKIO_JS);
    std::fs::create_dir_all(home.app("demo").join("app/env")).unwrap();
    let s = home.write("demo", "start.js", r#"module.exports = { daemon: true, run: [
      { method: "shell.run", params: { message: "echo 'Running on local URL:  http://127.0.0.1:7860'; sleep 1000", on: [{ event: "/http:\\/\\/[0-9.:]+/", done: true }] } },
      { method: "local.set", params: { url: "{{input.event[0]}}" } } ] }"#);
    let e = home.engine();
    let (h, mut rx) = start_with_events(&e, &s);
    while let Some(ev) = rx.blocking_recv() {
        if matches!(ev, Event::DaemonReady { .. } | Event::ScriptEnd { .. }) {
            break;
        }
    }
    let m = e.menu(home.app("demo")).unwrap();
    assert_eq!(m.items[0].text.as_deref(), Some("Open Web UI"));
    assert_eq!(m.items[0].href.as_deref(), Some("http://127.0.0.1:7860"));
    assert_eq!(m.items[0].popout, Some(json!(true)));
    h.stop();
    h.wait().unwrap();
    let m = e.menu(home.app("demo")).unwrap();
    assert_eq!(m.items[0].text.as_deref(), Some("Start"));
}

#[test]
fn pinokio_json_menu_is_used_without_pinokio_js() {
    let home = Home::new();
    home.write(
        "j",
        "pinokio.json",
        r#"{ "title": "J", "menu": [ { "text": "Run", "href": "run.json" } ] }"#,
    );
    let m = home.engine().menu(home.app("j")).unwrap();
    assert_eq!(m.title.as_deref(), Some("J"));
    assert_eq!(m.items[0].href.as_deref(), Some("run.json"));
}

#[test]
fn broken_launcher_is_a_precise_error() {
    let home = Home::new();
    home.write(
        "b",
        "pinokio.js",
        "module.exports = {\n  menu: async () => [ { text: 'x' }\n}\n",
    );
    let e = home.engine().menu(home.app("b")).unwrap_err().to_string();
    assert!(
        e.contains("SyntaxError") && e.contains("pinokio.js:3"),
        "{e}"
    );
    home.app("none");
    let e = home
        .engine()
        .menu(home.app("none"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no pinokio.js or pinokio.json"), "{e}");
}

#[test]
fn launcher_in_a_pinokio_subfolder_is_found() {
    let home = Home::new();
    home.write(
        "sub",
        "pinokio/pinokio.js",
        r#"module.exports = { menu: [ { text: "Start", href: "start.js" } ] }"#,
    );
    let m = home.engine().menu(home.app("sub")).unwrap();
    assert_eq!(m.dir, home.app("sub").join("pinokio"));
    let (script, _) = m.items[0].script(&m.dir).unwrap();
    assert_eq!(script, home.app("sub").join("pinokio/start.js"));
}
