//! Conformance of `script.*` (spec §4.5, checklist C-135 … C-141):
//! nested runs, local `file://` git repositories for `script.download`.
mod common;
#[path = "common/recorder.rs"]
mod recorder;

use std::path::Path;

use common::*;
use engine::RunOptions;
use recorder::*;
use serde_json::json;

/// A launcher repository at `<dir>/launcher.git` with `main` and `dev`
/// branches; returns (its path, the first commit's hash).
fn launcher_repo(dir: &Path) -> (std::path::PathBuf, String) {
    let repo = dir.join("launcher.git");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let o = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {o:?}");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let start = |v: &str| {
        format!(
            r#"module.exports = {{ run: [ {{ method: "log", params: {{ text: "{v} {{{{args.who}}}}" }} }} ] }}"#
        )
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("start.js"), start("v1")).unwrap();
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "v1"]);
    let first = git(&["rev-parse", "HEAD"]);
    std::fs::write(repo.join("start.js"), start("v2")).unwrap();
    git(&["commit", "-q", "-am", "v2"]);
    git(&["switch", "-q", "-c", "dev"]);
    std::fs::write(repo.join("start.js"), start("dev")).unwrap();
    git(&["commit", "-q", "-am", "dev"]);
    git(&["switch", "-q", "main"]);
    (repo, first)
}

const DAEMON: &str = r#"module.exports = { daemon: true, run: [
  { method: "shell.run", params: { message: "echo up; sleep 1000", on: [{ event: "/up/", done: true }] } } ] }"#;

#[test]
fn c135_script_start_runs_the_target_with_params_as_args_and_input_and_returns_its_last_result() {
    let home = Home::new();
    home.write(
        "a",
        "child.js",
        r#"module.exports = { run: [
      { method: "log", params: { text: "args={{args.k}} input={{input.k}}" } },
      { method: "script.return", params: { got: "{{args.k}}!" } } ] }"#,
    );
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "script.start", params: { uri: "child.js", params: { k: "v" } } },
      { method: "log", params: { text: "caller {{input.got}}" } } ] }"#,
    );
    assert_eq!(logs(&ev), ["args=v input=v", "caller v!"]);
}

#[test]
fn c136_script_start_of_a_daemon_resumes_the_caller_and_the_daemon_keeps_running() {
    let home = Home::new();
    let d = home.write("a", "d.js", DAEMON);
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "script.start", params: { uri: "d.js" } },
      { method: "fs.write", params: { path: "resumed", text: "x" } } ] }"#,
    );
    let e = home.engine();
    let h = e.start(&s, RunOptions::default()).unwrap();
    assert!(wait_until(|| home.app("a").join("resumed").exists(), 20));
    assert!(e.is_running(&d), "the daemon target stopped with its steps");
    h.stop();
    h.wait().ok();
    assert!(!e.is_running(&d));
}

#[test]
fn c137_script_start_of_a_running_script_continues_at_once() {
    let home = Home::new();
    let d = home.write("a", "d.js", DAEMON);
    let e = home.engine();
    let h = e.start(&d, RunOptions::default()).unwrap();
    assert!(wait_until(|| e.is_running(&d), 20));
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "script.start", params: { uri: "d.js" } },
      { method: "log", params: { text: "next input null: {{input === null}}" } } ] }"#,
    );
    let t = std::time::Instant::now();
    let (r, ev) = run(&e, &s, json!({}), json!({}));
    r.unwrap();
    assert!(t.elapsed().as_secs() < 10);
    assert_eq!(
        logs(&ev),
        [
            "d.js already running. Continuing...",
            "next input null: true"
        ]
    );
    h.stop();
    h.wait().ok();
}

#[test]
fn c140_a_failing_target_fails_the_caller_with_the_targets_error() {
    // The spec's quirk (the caller goes on with undefined) is replaced by a
    // precise error naming the target's file and step.
    let home = Home::new();
    home.write(
        "a",
        "child.js",
        r#"module.exports = { run: [ { method: "no.such.method" } ] }"#,
    );
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "script.start", params: { uri: "child.js" } },
      { method: "log", params: { text: "not reached" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("child.js") && msg.contains("unknown method 'no.such.method'"),
        "{msg}"
    );
    assert!(logs(&ev).is_empty());
}

#[test]
fn c138_script_download_clones_into_home_api_and_honours_branch_and_hash() {
    let home = Home::new();
    let src = tempfile::tempdir().unwrap();
    let (repo, first) = launcher_repo(src.path());
    let uri = format!("file://{}", repo.display());
    let folder = engine::paths::clone_folder_name(&uri);
    let clone = home.path().join("api").join(&folder);
    assert!(
        folder.ends_with("_launcher_git") && !folder.contains('/'),
        "{folder}"
    );
    for (i, (extra, want)) in [
        ("", "v2"),
        (r#", branch: "dev""#, "dev"),
        (&*format!(r#", hash: "{first}""#), "v1"),
        (r#", branch: "main", pull: true"#, "v2"),
    ]
    .into_iter()
    .enumerate()
    {
        // The file part of the URI is optional for script.download.
        let sub = if i == 0 { "/start.js" } else { "" };
        run_js(
            &home,
            "a",
            &format!(
                r#"module.exports = {{ run: [ {{ method: "script.download", params: {{ uri: "{uri}{sub}"{extra} }} }} ] }}"#
            ),
        );
        let text = read(clone.join("start.js"));
        assert!(
            text.contains(&format!("text: \"{want} ")),
            "step {i}: {text}"
        );
    }
    // Only one clone: later downloads found it by its origin.
    let clones = std::fs::read_dir(home.path().join("api"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join(".git").exists())
        .count();
    assert_eq!(clones, 1);
}

#[test]
fn c138_script_start_of_a_git_uri_clones_then_runs_the_file() {
    let home = Home::new();
    let src = tempfile::tempdir().unwrap();
    let (repo, _) = launcher_repo(src.path());
    let ev = run_js(
        &home,
        "a",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "script.start", params: {{ uri: "file://{}/start.js", branch: "dev", params: {{ who: "remote" }} }} }} ] }}"#,
            repo.display()
        ),
    );
    assert_eq!(logs(&ev), ["dev remote"]);
}

#[test]
fn c139_script_return_sets_the_result_and_the_script_goes_on() {
    let home = Home::new();
    home.write(
        "a",
        "child.js",
        r#"module.exports = { run: [
      { method: "script.return", params: { answer: 42 } },
      { method: "log", params: { text: "child continues with {{input.answer}}" } },
      { method: "script.return", params: { answer: "{{input.text}}" } } ] }"#,
    );
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "script.start", params: { uri: "child.js" } },
      { method: "log", params: { text: "caller got {{input.answer}}" } } ] }"#,
    );
    assert_eq!(
        logs(&ev),
        [
            "child continues with 42",
            "caller got child continues with 42"
        ]
    );
}

#[test]
fn c141_script_stop_takes_an_array_of_uris_and_ignores_relative_ones() {
    let home = Home::new();
    let d1 = home.write("a", "d1.js", DAEMON);
    let d2 = home.write("a", "d2.js", DAEMON);
    let e = home.engine();
    let h1 = e.start(&d1, RunOptions::default()).unwrap();
    let h2 = e.start(&d2, RunOptions::default()).unwrap();
    assert!(wait_until(|| e.is_running(&d1) && e.is_running(&d2), 20));
    // Relative: ignored as in Pinokio, with a warning.
    let s = home.write(
        "a",
        "stop_rel.js",
        r#"module.exports = { run: [ { method: "script.stop", params: { uri: "d1.js" } } ] }"#,
    );
    let (r, ev) = run(&e, &s, json!({}), json!({}));
    r.unwrap();
    assert!(logs(&ev).iter().any(|l| l.contains("is relative")));
    assert!(e.is_running(&d1));
    let s = home.write(
        "a",
        "stop.js",
        &format!(
            r#"module.exports = {{ run: [ {{ method: "script.stop", params: {{ uri: ["{}", "~/api/a/d2.js"] }} }} ] }}"#,
            d1.display()
        ),
    );
    let (r, _) = run(&e, &s, json!({}), json!({}));
    r.unwrap();
    assert!(wait_until(|| h1.is_finished() && h2.is_finished(), 20));
    assert!(!e.is_running(&d1) && !e.is_running(&d2));
}

#[test]
fn c141_script_restart_of_itself_starts_over_with_its_args_and_empty_local() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "log", params: { text: "n={{args.n}} first={{local.first || 'none'}}" } },
      { when: "{{!exists('m')}}", method: "local.set", params: { first: true } },
      { method: "fs.write", params: { path: "m", text: "x" } },
      { when: "{{local.first === true}}", method: "script.restart" },
      { method: "log", params: { text: "end" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({ "n": 7 }), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    let l: Vec<String> = logs(&ev)
        .into_iter()
        .filter(|l| !l.starts_with("[pinokio]"))
        .collect();
    assert_eq!(l, ["n=7 first=none", "n=7 first=none", "end"]);
}

#[test]
fn c141_script_restart_of_another_script_stops_and_starts_it_with_params() {
    let home = Home::new();
    let d = home.write(
        "a",
        "d.js",
        r#"module.exports = { daemon: true, run: [
      { method: "fs.write", params: { path: "started-{{args.v || 'first'}}", text: "x" } },
      { method: "shell.run", params: { message: "echo up; sleep 1000", on: [{ event: "/up/", done: true }] } } ] }"#,
    );
    let e = home.engine();
    let h = e.start(&d, RunOptions::default()).unwrap();
    assert!(wait_until(|| e.is_running(&d), 20));
    let s = home.write(
        "a",
        "s.js",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "script.restart", params: {{ uri: "{}", params: {{ v: "second" }} }} }},
      {{ method: "log", params: {{ text: "{{{{input.scheduled}}}} {{{{input.self}}}}" }} }} ] }}"#,
            d.display()
        ),
    );
    let (r, ev) = run(&e, &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["true false"]);
    assert!(
        wait_until(|| h.is_finished(), 20),
        "the old run was not stopped"
    );
    let app = home.app("a");
    assert!(wait_until(
        || app.join("started-second").exists() && e.is_running(&d),
        20
    ));
    e.stop(&d);
    assert!(wait_until(|| !e.is_running(&d), 20));
}
