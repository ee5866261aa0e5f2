//! `shell.run` and the old `shell.start`/`shell.enter` API in real PTYs.
mod common;
use common::*;
use engine::Event;
use serde_json::json;
use std::sync::Arc;

#[test]
fn shell_run_joins_message_lines_in_the_step_path() {
    let home = Home::new();
    std::fs::create_dir_all(home.app("a").join("app")).unwrap();
    let s = home.write("a", "s.js", r#"module.exports = { run: [
      { method: "shell.run", params: { path: "app", message: ["echo one > first.txt", null, "", "echo two-$(cat first.txt)"] } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["two-one"]);
    assert!(home.app("a").join("app/first.txt").exists());
}

#[test]
fn shell_run_merges_environment_file_and_step_env() {
    let home = Home::new();
    home.write(
        "a",
        "ENVIRONMENT",
        "# comment\nFROM_FILE=\"file value\"\nOVERRIDE=file\n",
    );
    let s = home.write("a", "s.js", r#"module.exports = { run: [
      { method: "shell.run", params: { env: { OVERRIDE: "step", NUM: 3 }, message: "echo $FROM_FILE/$OVERRIDE/$NUM/$TERM" } },
      { method: "log", params: { text: "{{input.stdout}}" } },
      { method: "log", params: { text: "{{envs.FROM_FILE}}|{{kernel.envs.OVERRIDE}}|{{typeof envs.PATH}}" } } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(
        logs(&ev),
        ["file value/step/3/xterm-256color", "file value|file|string"]
    );
}

/// Was `nonzero_exit_is_a_step_error_with_the_output_tail` (the engine's
/// old `set -e` semantics); Pinokio's behaviour won (issue #13, C-083/C-086).
#[test]
fn nonzero_exit_is_passed_over_with_a_warning() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { run: [
      { method: "shell.run", params: { message: ["echo building", "echo 'fatal: no wheel' >&2", "exit 3", "echo reached"] } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(logs(&ev), ["reached"]);
    assert!(plain_output(&ev).contains("[pinokio] warning: `exit 3` exited with code 3"));
}

/// Was `missing_shell_path_is_a_precise_error`; Pinokio creates it (C-081).
#[test]
fn missing_shell_path_is_created() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { run: [ { method: "shell.run", params: { path: "app", message: "ls" } } ] }"#);
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert!(home.app("a").join("app").is_dir());
}

/// A daemon printing its URL in two chunks, wrapped in colour codes.
const DAEMON: &str = r#"module.exports = { daemon: true, run: [
  { method: "shell.run", params: {
      message: "printf '\\033[32mRunning on http://127.0.0.1:'; sleep 0.3; printf '7860\\033[0m\\n'; echo $$ > pid.txt; (sleep 1000 &); sleep 1000",
      on: [{ event: "/http:\\/\\/\\S+/", done: true }] } },
  { method: "local.set", params: { url: "{{input.event[0]}}" } } ] }"#;

#[test]
fn daemon_url_split_across_chunks_with_ansi_sets_local_and_stays_running() {
    let home = Home::new();
    let s = home.write("d", "start.js", DAEMON);
    let e = home.engine();
    let (h, mut rx) = start_with_events(&e, &s);
    let mut ready = false;
    while let Some(ev) = rx.blocking_recv() {
        if matches!(ev, Event::DaemonReady { .. }) {
            ready = true;
            break;
        }
        if matches!(ev, Event::ScriptEnd { .. }) {
            break;
        }
    }
    assert!(ready, "daemon never became ready");
    assert_eq!(e.local(&s), json!({ "url": "http://127.0.0.1:7860" }));
    assert!(e.is_running(&s));
    assert!(wait_until(|| home.app("d").join("pid.txt").exists(), 5));
    let pid: i32 = std::fs::read_to_string(home.app("d").join("pid.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(alive(pid));
    assert!(e.stop(&s));
    // Stopping a ready daemon is its normal end: the run succeeds (with
    // the last step's result: `local.set` gives undefined, C-130).
    assert_eq!(h.wait().unwrap(), json!(null));
    assert!(
        wait_until(|| !alive(pid), 5),
        "daemon process survived stop"
    );
    assert!(!e.is_running(&s));
    assert_eq!(e.local(&s), json!({}));
}

fn alive(pid: i32) -> bool {
    // A zombie is dead for our purposes.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

#[test]
fn stop_kills_the_whole_process_group() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "shell.run", params: { message: "sleep 1000 & echo $! > child.txt; wait" } } ] }"#,
    );
    let e = home.engine();
    let h = e.start(&s, Default::default()).unwrap();
    let f = home.app("a").join("child.txt");
    assert!(wait_until(
        || std::fs::read_to_string(&f)
            .map(|t| t.ends_with('\n'))
            .unwrap_or(false),
        10
    ));
    let child: i32 = std::fs::read_to_string(&f).unwrap().trim().parse().unwrap();
    assert!(alive(child));
    h.stop();
    assert!(h.wait().unwrap_err().is_stopped());
    assert!(
        wait_until(|| !alive(child), 5),
        "background child survived stop"
    );
}

#[test]
fn non_daemon_script_end_kills_processes_left_by_done_handlers() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { run: [
      { method: "shell.run", params: { message: "echo $$ > pid.txt; echo ready; sleep 1000", on: [{ event: "/ready/", done: true }] } },
      { method: "log", params: { text: "after" } } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["after"]);
    let pid: i32 = std::fs::read_to_string(home.app("a").join("pid.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(wait_until(|| !alive(pid), 5));
}

#[test]
fn on_kill_handler_stops_the_process_and_continues() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { run: [
      { method: "shell.run", params: { message: "echo 'model loaded'; sleep 1000", on: [{ event: "/loaded/i", kill: true }] } },
      { method: "log", params: { text: "{{input.event[0]}}" } } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["loaded"]);
}

#[test]
fn on_handler_with_flags_and_groups_fills_input_event() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { run: [
      { method: "shell.run", params: { message: "echo 'Port=7001 READY'", on: [{ event: "/port=(\\d+) ready/i", done: true }] } },
      { method: "log", params: { text: "{{input.event[1]}}" } } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["7001"]);
}

#[test]
fn on_notify_handler_reaches_the_host() {
    struct Rec(std::sync::Mutex<Vec<engine::Interaction>>);
    impl engine::Host for Rec {
        fn interact(&self, w: &engine::Interaction) -> Result<serde_json::Value, String> {
            self.0.lock().unwrap().push(w.clone());
            Ok(serde_json::Value::Null)
        }
    }
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { run: [
      { method: "shell.run", params: { message: "echo 'warning: low disk'", on: [{ event: "/warning: (.+)/", notify: { html: "{{event.matches[0][1]}}" } }] } } ] }"#);
    let host = Arc::new(Rec(Default::default()));
    let (r, _) = run_with_host(&home.engine(), &s, serde_json::Value::Null, host.clone());
    r.unwrap();
    let got = host.0.lock().unwrap();
    assert!(
        matches!(&got[0], engine::Interaction::Notify { params, .. } if params["html"] == "low disk"),
        "{got:?}"
    );
}

#[test]
fn old_shell_start_and_enter_api() {
    let home = Home::new();
    let s = home.write("a", "s.js", r#"module.exports = { run: [
      { method: "shell.start", params: { id: "dev" } },
      { method: "shell.enter", params: { id: "dev", message: "export GREETING=hello; cd /tmp", on: [{ event: null, return: true }] } },
      { method: "shell.enter", params: { id: "dev", message: "echo \"serving on http://localhost:$((7000+1)) $GREETING $(pwd)\"",
          on: [{ event: "/serving on (http:\\/\\/\\S+) (\\w+) (\\S+)/", return: "{{event.matches[0][1]}}|{{event.matches[0][2]}}|{{event.matches[0][3]}}" }] } },
      { method: "log", params: { text: "{{input}}" } },
      { method: "shell.stop", params: { id: "dev" } } ] }"#);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    assert_eq!(logs(&ev), ["http://localhost:7001|hello|/tmp"]);
}

#[test]
fn venv_is_created_and_a_local_package_installs_into_it() {
    let home = Home::new();
    let app = home.app("v");
    std::fs::create_dir_all(app.join("app")).unwrap();
    make_wheel(&app.join("app"));
    let s = home.write(
        "v",
        "install.js",
        r#"module.exports = { run: [
      { method: "shell.run", params: { path: "app", venv: "env", message: [
          "pip install --no-index --no-deps ./tinypkg-0.1-py3-none-any.whl",
          "python -c 'import tinypkg, sys; print(tinypkg.hello(), sys.prefix)'" ] } },
      { method: "log", params: { text: "{{input.stdout.split('\\n').pop()}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    let line = logs(&ev).pop().unwrap();
    let prefix = app.join("app/env");
    assert_eq!(line, format!("hello from tinypkg {}", prefix.display()));
    assert!(prefix.join("bin/activate").is_file());
}

#[test]
fn conda_env_is_activated_when_conda_is_on_path() {
    // A fake `conda` whose hook defines an `activate` that exports a marker.
    let bin = tempfile::tempdir().unwrap();
    let conda = bin.path().join("conda");
    std::fs::write(
        &conda,
        "#!/bin/sh\necho 'conda() { export CONDA_PREFIX=\"$2\"; }'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&conda, std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = Home::new();
    std::fs::create_dir_all(home.app("c").join("app/env")).unwrap();
    let s = home.write("c", "s.js", r#"module.exports = { run: [
      { method: "shell.run", params: { path: "app", conda: { path: "env", python: "python=3.10" }, message: "echo prefix=$CONDA_PREFIX" } },
      { method: "shell.run", params: { path: "app", conda: { skip: true }, message: "echo skipped=${CONDA_PREFIX:-none}" } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#);
    let old = std::env::var("PATH").unwrap();
    std::env::set_var("PATH", format!("{}:{old}", bin.path().display()));
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    std::env::set_var("PATH", old);
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    let out = output(&ev);
    assert!(
        out.contains(&format!(
            "prefix={}",
            home.app("c").join("app/env").display()
        )),
        "{out}"
    );
    assert_eq!(logs(&ev), ["skipped=none"]);
}

#[test]
fn script_start_of_a_daemon_keeps_it_running_until_the_caller_is_stopped() {
    let home = Home::new();
    let start = home.write("d", "start.js", DAEMON);
    let install = home.write(
        "d",
        "install.js",
        r#"module.exports = { run: [
      { method: "log", params: { text: "installed" } },
      { method: "script.start", params: { uri: "start.js" } },
      { method: "script.start", params: { uri: "start.js" } },
      { method: "log", params: { text: "after {{JSON.stringify(input)}}" } } ] }"#,
    );
    let e = home.engine();
    let (h, mut rx) = start_with_events(&e, &install);
    let mut logs_seen = vec![];
    while let Some(ev) = rx.blocking_recv() {
        match ev {
            Event::Log { text, .. } => logs_seen.push(text),
            Event::DaemonReady { .. } => break,
            Event::ScriptEnd { script, .. } if script == install => break,
            _ => {}
        }
    }
    assert_eq!(
        logs_seen,
        [
            "installed",
            "start.js already running. Continuing...",
            "after null"
        ]
    );
    assert!(e.is_running(&start), "the started daemon keeps running");
    assert_eq!(e.local(&start), json!({ "url": "http://127.0.0.1:7860" }));
    h.stop();
    h.wait().unwrap();
    assert!(!e.is_running(&start));
    assert_eq!(e.local(&start), json!({}));
}

#[test]
fn stop_also_kills_children_that_left_the_process_group() {
    let home = Home::new();
    // `setsid` moves the child into a new session and group; it stays our descendant.
    let s = home.write("a", "s.js", r#"module.exports = { run: [
      { method: "shell.run", params: { message: "setsid sleep 1000 & echo $! > child.txt; wait" } } ] }"#);
    let e = home.engine();
    let h = e.start(&s, Default::default()).unwrap();
    let f = home.app("a").join("child.txt");
    assert!(wait_until(
        || std::fs::read_to_string(&f)
            .map(|t| t.ends_with('\n'))
            .unwrap_or(false),
        10
    ));
    let child: i32 = std::fs::read_to_string(&f).unwrap().trim().parse().unwrap();
    assert!(wait_until(|| alive(child), 5));
    h.stop();
    let _ = h.wait();
    assert!(
        wait_until(|| !alive(child), 5),
        "setsid child survived stop"
    );
}
