//! Conformance of `shell.run` and the legacy shell API with Pinokio
//! (spec §4.0, §4.1, §4.1.2, §4.2; checklist C-080…C-107), in real PTYs.
//! Venvs, the base env and conda (C-098…C-103) are in
//! `conformance_shell_python.rs`.
mod common;
use common::*;
use engine::Event;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

fn script(home: &Home, app: &str, body: &str) -> std::path::PathBuf {
    home.write(app, "s.js", &format!("module.exports = {body}"))
}

fn warnings(ev: &[Event]) -> Vec<String> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Warning { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// Whether `text` has a line that is exactly `line` (commands quoted in
/// warning lines don't count as their output).
fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l.trim() == line)
}

fn executable(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn ok(r: Result<Value, engine::EngineError>, ev: &[Event]) -> Value {
    r.unwrap_or_else(|e| panic!("{e}\n--- output ---\n{}", plain_output(ev)))
}

#[test]
fn c080_shell_run_without_path_runs_in_the_script_folder() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: "pwd" } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), [home.app("a").display().to_string()]);
}

#[test]
fn c081_path_accepts_tilde_and_git_uris_and_missing_folders_are_created() {
    let home = Home::new();
    let clone = home.app("llama");
    git_repo_with_origin(&clone, "https://github.com/someone/llama.git");
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { path: "~/made/here", message: "pwd" } },
      { method: "log", params: { text: "{{input.stdout}}" } },
      { method: "shell.run", params: { path: "new/dir", message: "pwd" } },
      { method: "log", params: { text: "{{input.stdout}}" } },
      { method: "shell.run", params: { path: "https://github.com/someone/llama.git/models", message: "pwd" } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(
        logs(&ev),
        [
            home.path().join("made/here").display().to_string(),
            home.app("a").join("new/dir").display().to_string(),
            clone.join("models").display().to_string(),
        ]
    );
    assert!(home.app("a").join("new/dir").is_dir());
}

#[test]
fn c082_string_message_runs_as_one_line_in_bash_without_rc_files() {
    let home = Home::new();
    let fake_home = home.path().join("userhome");
    std::fs::create_dir_all(&fake_home).unwrap();
    for rc in [".bashrc", ".bash_profile", ".profile"] {
        std::fs::write(fake_home.join(rc), "echo RC-WAS-READ\n").unwrap();
    }
    let s = script(
        &home,
        "a",
        &format!(
            r#"{{ run: [
      {{ method: "shell.run", params: {{ env: {{ HOME: "{}" }}, message: "A=one; echo \"$A-$(basename $BASH)\"" }} }},
      {{ method: "log", params: {{ text: "{{{{input.stdout}}}}" }} }} ] }}"#,
            fake_home.display()
        ),
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["one-bash"]);
    assert!(!output(&ev).contains("RC-WAS-READ"));
}

#[test]
fn c083_array_message_runs_each_element_in_its_own_shell() {
    let home = Home::new();
    std::fs::create_dir_all(home.app("a").join("sub")).unwrap();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: [
          "cd sub", "pwd", "export X=1", "echo x=${X:-unset}", "", null, "{{false ? 'echo never' : ''}}",
          "echo pid-$$", "exit 3", "echo after-$$" ] } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    let out = plain_output(&ev);
    // `cd` and `export` did not carry over to the next element.
    let app = home.app("a").display().to_string();
    assert!(has_line(&out, &app), "{out}");
    assert!(out.contains("x=unset"), "{out}");
    assert!(!out.contains("never"));
    // The non-zero exit did not stop the sequence; it was warned about once.
    let last = logs(&ev).pop().unwrap();
    let after = last.strip_prefix("after-").expect("last element ran");
    let pid = out
        .split("pid-")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim();
    assert_ne!(pid, after, "each element has its own bash process");
    let w = warnings(&ev);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("`exit 3` exited with code 3"), "{w:?}");
}

#[test]
fn c084_chain_joins_elements_in_one_shell_with_its_operator() {
    let home = Home::new();
    std::fs::create_dir_all(home.app("a").join("sub")).unwrap();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { chain: true, message: ["cd sub", "echo in-$(basename $(pwd))"] } },
      { method: "log", params: { text: "{{input.stdout}}" } },
      { method: "shell.run", params: { chain: "&", message: ["false", "echo and-ran"] } },
      { method: "shell.run", params: { chain: "|", message: ["false", "echo or-ran"] } },
      { method: "shell.run", params: { chain: "|", message: ["true", "echo or-skipped"] } },
      { method: "shell.run", params: { chain: "*", message: ["false", "echo semi-ran"] } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["in-sub"]);
    let out = plain_output(&ev);
    assert!(
        !has_line(&out, "and-ran") && !has_line(&out, "or-skipped"),
        "{out}"
    );
    assert!(
        has_line(&out, "or-ran") && has_line(&out, "semi-ran"),
        "{out}"
    );
    // `false && echo` exits 1: passed over with a warning.
    assert_eq!(warnings(&ev).len(), 1, "{:?}", warnings(&ev));
}

#[test]
fn c085_object_message_becomes_a_quoted_argv_command() {
    let home = Home::new();
    home.write(
        "a",
        "args.sh",
        "for a in \"$@\"; do printf '[%s]' \"$a\"; done; echo\n",
    );
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: {
          _: ["bash", "args.sh", "it's $HOME"], port: 7860, share: true, off: false, text: "two\nlines" } } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(
        logs(&ev),
        // Flags in the order the script wrote them, as yargs-unparser does.
        ["[it's $HOME][--port][7860][--share][--no-off][--text][two\nlines]"]
    );
}

#[test]
fn c086_exit_code_does_not_decide_success_but_is_warned_about() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: "echo 'fatal: destination path exists' >&2; exit 128" } },
      { method: "log", params: { text: "next step ran, exit {{input.exit}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["next step ran, exit 128"]);
    let w = warnings(&ev);
    assert_eq!(w.len(), 1);
    assert!(
        w[0].contains("exited with code 128") && w[0].contains("echo 'fatal"),
        "{w:?}"
    );
    let out = plain_output(&ev);
    assert!(out.contains("[pinokio] warning: `echo 'fatal"), "{out}");
}

#[test]
fn c087_printed_error_or_errno_fails_the_step_whatever_the_exit_code() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: "echo 'error: triton is not installed'; echo 'Errors: 0'" } },
      { method: "log", params: { text: "triton passed" } },
      { method: "shell.run", params: { message: ["echo building", "echo 'ERROR: No matching distribution found for torch==9'; exit 0", "echo unreachable"] } },
      { method: "log", params: { text: "not reached" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("step 2 (shell.run)") && e.contains("ERROR: No matching distribution"),
        "{e}"
    );
    assert!(e.contains("break\": false"), "the error names the fix: {e}");
    assert_eq!(logs(&ev), ["triton passed"]);
    assert!(!plain_output(&ev).contains("unreachable"));
    let s = script(
        &home,
        "b",
        r#"{ run: [
      { method: "shell.run", params: { message: "echo '[Errno 2] No such file'" } } ] }"#,
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    assert!(r.unwrap_err().to_string().contains("[Errno 2]"));
}

#[test]
fn c088_break_true_fails_on_a_match_and_break_false_suppresses_errors() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: "echo 'warning error: harmless'",
          on: [{ event: "/error:/i", break: false }] } },
      { method: "log", params: { text: "suppressed" } },
      { method: "shell.run", params: { message: "echo 'Traceback (most recent call last)'; sleep 20; echo never",
          on: [{ event: "/Traceback/", break: true }] } } ] }"#,
    );
    let t = Instant::now();
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("step 2") && e.contains("Traceback (most recent"),
        "{e}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "the break ended the step while it ran"
    );
    assert_eq!(logs(&ev), ["suppressed"]);
}

#[test]
fn c089_event_pattern_honours_i_m_s_flags() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: "printf 'HELLO\\nWorld\\n'",
          on: [{ event: "/hello.world/is", done: true }] } },
      { method: "log", params: { text: "{{JSON.stringify(input.event[0])}}" } },
      { method: "shell.run", params: { message: "printf 'a\\nstart here\\n'",
          on: [{ event: "/^start (\\w+)$/m", done: true }] } },
      { method: "log", params: { text: "{{input.event[1]}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["\"HELLO\\nWorld\"", "here"]);
}

#[test]
fn c090_url_without_trailing_newline_matches_while_running_even_split_and_coloured() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: {
          message: "printf '\\033[32mRunning on http://127.0.0.1:'; sleep 0.1; printf '7861\\033[0m'; sleep 30",
          on: [{ event: "/http:\\/\\/\\S+/", done: true }] } },
      { method: "log", params: { text: "{{input.event[0]}}" } } ] }"#,
    );
    let t = Instant::now();
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["http://127.0.0.1:7861"]);
    assert!(t.elapsed() < Duration::from_secs(15));
}

fn pgrep(pattern: &str) -> bool {
    std::process::Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn c091_done_ends_the_step_and_leaves_the_process_running() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: "echo ready; exec sleep 31.91", on: [{ event: "/ready/", done: true }] } },
      { method: "shell.run", params: { message: "pgrep -f 'sleep 31[.]91' >/dev/null && echo still-alive" } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["still-alive"]);
    assert!(
        wait_until(|| !pgrep("sleep 31[.]91"), 5),
        "a one-shot script kills what it left at its end"
    );
}

#[test]
fn c092_kill_ends_the_step_and_kills_the_process_tree() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: "(sleep 31.92 &); echo ready; sleep 31.92", on: [{ event: "/ready/", kill: true }] } },
      { method: "shell.run", params: { message: "sleep 0.5; pgrep -f 'sleep 31[.]92' >/dev/null && echo alive || echo gone" } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["gone"]);
}

#[test]
fn c093_result_carries_id_stdout_and_the_match_array() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: "echo 'Running on local URL:  http://127.0.0.1:7865'",
          on: [{ event: "/(http:\\/\\/[0-9.]+):(\\d+)/", done: true }] } },
      { method: "log", params: { text: "{{input.event[0]}}|{{input.event[1]}}|{{input.event[2]}}|{{typeof input.id}}|{{input.stdout.includes('local URL')}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(
        logs(&ev),
        ["http://127.0.0.1:7865|http://127.0.0.1|7865|string|true"]
    );
}

#[test]
fn c094_without_a_match_the_step_ends_with_the_command_and_no_event() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: "echo plain", on: [{ event: "/never-printed/", done: true }] } },
      { method: "log", params: { text: "{{input.stdout}}|{{input.response}}|{{input.event === null}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["plain|plain|true"]);
}

#[test]
fn c096_trigger_runs_the_scripts_action_and_once_limits_it() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{
      restart: [ { method: "log", params: { text: "{{input.trigger}} on {{input.event[1]}}" } } ],
      again: [ { method: "log", params: { text: "again {{input.event[1]}}" } } ],
      run: [
        { method: "shell.run", params: { message: "echo tick 1; sleep 0.4; echo tick 2; sleep 0.4; echo tock 3; echo tock 4",
            on: [{ event: "/tick (\\d)/", trigger: "restart", once: true }, { event: "/tock (\\d)/", trigger: "again" }] } },
        { method: "log", params: { text: "end" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["restart on 1", "again 3", "again 4", "end"]);
}

#[test]
fn c097_env_scalars_set_and_arrays_prepend() {
    let home = Home::new();
    let bin = home.path().join("fakebin");
    executable(&bin.join("mytool"), "#!/bin/sh\necho mytool-ran\n");
    let s = script(
        &home,
        "a",
        &format!(
            r#"{{ run: [
      {{ method: "shell.run", params: {{ env: {{ PATH: ["{bin}"], LIBS: ["/a", "/b"], N: 3 }},
          message: "mytool; echo \"$LIBS|$N|$(command -v ls >/dev/null && echo ls-found)\"" }} }},
      {{ method: "log", params: {{ text: "{{{{input.stdout}}}}" }} }} ] }}"#,
            bin = bin.display()
        ),
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    assert_eq!(logs(&ev), ["mytool-ran\n/a:/b|3|ls-found"]);
}

#[test]
fn c104_sudo_runs_the_message_elevated_outside_the_terminal() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { sudo: true, message: "id -u; [ -t 1 ] && echo tty || echo no-tty" } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    ok(r, &ev);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc_geteuid() } == 0 {
        assert_eq!(logs(&ev), ["0\nno-tty"]);
    } else {
        // Without passwordless sudo the failure is printed, not raised.
        let out = plain_output(&ev);
        assert!(
            logs(&ev) == ["0\nno-tty"] || out.contains("[pinokio] sudo"),
            "{out}"
        );
    }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

#[test]
fn c105_input_true_keeps_the_shell_open_for_keystrokes() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { input: true, message: "echo first-done",
          on: [{ event: "/typed-(\\d+)/", done: true }] } },
      { method: "log", params: { text: "{{input.event[1]}}" } } ] }"#,
    );
    let e = home.engine();
    let (h, mut rx) = start_with_events(&e, &s);
    let mut seen = String::new();
    let end = Instant::now() + Duration::from_secs(20);
    while !seen.contains("first-done") && Instant::now() < end {
        if let Ok(Event::Output { data, .. }) = rx.try_recv() {
            seen.push_str(&String::from_utf8_lossy(&data));
        } else {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    assert!(seen.contains("first-done"), "{seen}");
    // The command finished, yet the step still waits: the shell is open.
    std::thread::sleep(Duration::from_millis(700));
    assert!(!h.is_finished());
    h.write_input(b"echo typed-$((40+2))\n").unwrap();
    let r = h.wait();
    let mut ev = vec![];
    while let Ok(x) = rx.try_recv() {
        ev.push(x);
    }
    ok(r, &ev);
    assert_eq!(logs(&ev), ["42"]);
}

#[test]
fn c106_c107_legacy_shells_start_enter_write_and_stop_by_id_or_group() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.start", params: {} },
      { method: "log", params: { text: "{{input === cwd}}" } },
      { method: "shell.start", params: { id: "w1", group: "workers" } },
      { method: "shell.start", params: { id: "w2", group: "workers" } },
      { method: "shell.write", params: { message: "echo wri" } },
      { method: "shell.enter", params: { message: "tten-$((1+1))", on: [{ event: "/(written)-(\\d)/", return: "{{event.matches[0][1]}}:{{event.matches[0][2]}}" }] } },
      { method: "log", params: { text: "{{input}}" } },
      { method: "shell.enter", params: { id: "w1", message: "true", on: [{ event: null, return: "prompt-back" }] } },
      { method: "log", params: { text: "{{input}}" } },
      { method: "shell.stop", params: { group: "workers" } },
      { method: "shell.enter", params: { id: "w2", message: "true", on: [{ event: null, return: true }] } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("step 10") && e.contains("no shell 'w2'"),
        "{e}\n{}",
        plain_output(&ev)
    );
    assert_eq!(logs(&ev), ["true", "written:2", "prompt-back"]);
}

#[test]
fn c083_plan_lists_the_shells_of_an_array_message() {
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: ["git clone x app", "", "echo two"] } },
      { method: "shell.run", params: { chain: true, message: ["a", "b"] } } ] }"#,
    );
    let plan = home.engine().plan(&s, Default::default()).unwrap();
    assert_eq!(plan.len(), 2);
    assert_eq!(
        plan[0].params["shells"],
        json!(["git clone x app", "echo two"])
    );
    assert!(plan[1].params.get("shells").is_none(), "chained: one shell");
}

#[test]
fn c095_notify_handler_tells_the_host_and_the_step_goes_on() {
    struct Rec(std::sync::Mutex<Vec<engine::Interaction>>);
    impl engine::Host for Rec {
        fn interact(&self, w: &engine::Interaction) -> Result<Value, String> {
            self.0.lock().unwrap().push(w.clone());
            Ok(Value::Null)
        }
    }
    let home = Home::new();
    let s = script(
        &home,
        "a",
        r#"{ run: [
      { method: "shell.run", params: { message: "echo 'disk at 91%'; echo still-running",
          on: [{ event: "/disk at (\\d+)%/", notify: { html: "disk {{event.matches[0][1]}}" } }] } },
      { method: "log", params: { text: "{{input.stdout}}" } } ] }"#,
    );
    let host = std::sync::Arc::new(Rec(Default::default()));
    let (r, ev) = run_with_host(&home.engine(), &s, Value::Null, host.clone());
    r.unwrap();
    assert_eq!(logs(&ev), ["disk at 91%\nstill-running"]);
    let got = host.0.lock().unwrap();
    assert!(
        matches!(&got[..], [engine::Interaction::Notify { params, .. }] if params["html"] == "disk 91"),
        "{got:?}"
    );
}
