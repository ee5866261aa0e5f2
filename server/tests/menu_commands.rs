//! Launcher menu items that run commands (C-173) through the real
//! `pinokiocloud serve`, as the app page uses them: a `run` item runs its
//! command in the app folder, a `shell` item opens a shell with its params,
//! both in a terminal of their own, and neither touches the app's git tree.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::serve;

const LAUNCHER: &str = r#"module.exports = {
  title: "Menu commands",
  menu: [
    { text: "Where am I", run: "echo ran-in-$(basename \"$PWD\")" },
    { text: "Tools", menu: [
      { text: "Sub shell", shell: { message: "echo shell-at-$(basename \"$PWD\") $GREETING", path: "sub", env: { GREETING: "hi" } } }
    ] },
    { text: "Broken", run: 42 }
  ]
}"#;

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The menu entry with `text` (depth-first), as the app page gets it.
fn entry(menu: &Value, text: &str) -> Option<Value> {
    for e in menu.as_array()? {
        if e["text"].as_str().is_some_and(|t| t.starts_with(text)) {
            return Some(e.clone());
        }
        if let Some(found) = entry(&e["children"], text) {
            return Some(found);
        }
    }
    None
}

fn run_output(server: &support::Server, run_id: i64, needle: &str) -> String {
    let mut text = String::new();
    for _ in 0..100 {
        let page = server.call("/api/view/run_log", &format!("run_id={run_id}"));
        text = page["text"].as_str().unwrap_or("").to_string();
        if text.contains(needle) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{needle:?} never appeared in run {run_id}: {text}");
}

#[test]
fn c173_run_and_shell_items_run_in_their_folders_with_a_terminal_of_their_own() {
    let home = tempfile::tempdir().unwrap();
    let app = home.path().join("api").join("menuapp");
    std::fs::create_dir_all(app.join("sub")).unwrap();
    std::fs::write(app.join("pinokio.js"), LAUNCHER).unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&app)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&[
        "-c",
        "user.email=t@t",
        "-c",
        "user.name=t",
        "commit",
        "-qm",
        "launcher",
    ]);
    let server = serve(home.path(), &[]);

    let page = server.call("/api/view/app_page", "name=menuapp");
    let menu = &page["menu"];
    let here = entry(menu, "Where am I").unwrap_or_else(|| panic!("{menu}"));
    let script = here["action"]["script"]
        .as_str()
        .unwrap_or_else(|| panic!("{here}"))
        .to_string();
    assert_eq!(script, ".pinokiocloud/menu/where-am-i-0.json");
    let shell = entry(menu, "Sub shell").unwrap();
    let shell_script = shell["action"]["script"].as_str().unwrap().to_string();
    // A bad item says what is wrong with it instead of doing nothing.
    let broken = entry(menu, "Broken").unwrap();
    assert_eq!(broken["action"]["kind"], "none", "{broken}");
    assert!(
        broken["text"]
            .as_str()
            .unwrap()
            .contains("cannot run: menu item `run` must be a command string"),
        "{broken}"
    );

    let run: i64 = server
        .call(
            "/api/op/start_script",
            &format!("app=menuapp&script={}", enc(&script)),
        )
        .as_i64()
        .unwrap();
    run_output(&server, run, "ran-in-menuapp");
    let run: i64 = server
        .call(
            "/api/op/start_script",
            &format!("app=menuapp&script={}", enc(&shell_script)),
        )
        .as_i64()
        .unwrap();
    run_output(&server, run, "shell-at-sub hi");

    // Both runs are in the app's history under the item's script.
    let page = server.call("/api/view/app_page", "name=menuapp");
    let scripts: Vec<&str> = page["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["script"].as_str())
        .collect();
    assert!(scripts.contains(&script.as_str()), "{scripts:?}");
    // The generated scripts never show up in the app's repository.
    let status = git(&["status", "--porcelain", "--untracked-files=all"]);
    assert!(!status.contains(".pinokiocloud"), "{status}");
    assert!(app.join(&script).is_file());
}
