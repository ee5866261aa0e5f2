//! The real `pinokiocloud run|plan|menu` subcommands against fixture apps.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pinokiocloud");

fn write(home: &Path, rel: &str, text: &str) -> PathBuf {
    let p = home.join("api").join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--home")
        .arg(home)
        .stdin(Stdio::null())
        .output()
        .expect("run pinokiocloud")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_streams_output_and_exits_zero() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        "demo/install.js",
        r#"module.exports = { run: [
      { method: "shell.run", params: { message: "echo building {{args.name}}" } },
      { method: "log", params: { text: "done {{input.stdout}}" } } ] }"#,
    );
    let out = cli(
        home.path(),
        &["run", "demo/install.js", "--args", r#"{"name":"x"}"#],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("building x") && stdout.contains("done building x"),
        "{stdout}"
    );
    assert!(text(&out.stderr).contains("shell.run"));
}

#[test]
fn run_fails_with_a_precise_error() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        "demo/bad.js",
        r#"module.exports = { run: [ { method: "shel.run", params: {} } ] }"#,
    );
    let out = cli(home.path(), &["run", "demo/bad.js"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.js: step 0 (shel.run): unknown method 'shel.run'"),
        "{err}"
    );
}

#[test]
fn run_input_needs_answers_without_a_terminal() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        "demo/ask.js",
        r#"module.exports = { run: [
      { method: "input", params: { form: [{ key: "token", title: "Token" }] } },
      { method: "log", params: { text: "token={{input.token}}" } } ] }"#,
    );
    let out = cli(home.path(), &["run", "demo/ask.js"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--answers"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(
        home.path(),
        &["run", "demo/ask.js", "--answers", r#"{"token":"t1"}"#],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("token=t1"));
}

#[test]
fn ctrl_c_stops_a_daemon_and_its_processes() {
    let home = tempfile::tempdir().unwrap();
    let script = write(
        home.path(),
        "demo/start.js",
        r#"module.exports = { daemon: true, run: [
      { method: "shell.run", params: { message: "echo $$ > pid.txt; echo 'http://127.0.0.1:7860'; sleep 1000", on: [{ event: "/http:\\/\\/\\S+/", done: true }] } },
      { method: "local.set", params: { url: "{{input.event[0]}}" } } ] }"#,
    );
    let mut child = Command::new(BIN)
        .arg("run")
        .arg(&script)
        .arg("--home")
        .arg(home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "CLI ended before the daemon was ready"
        );
        if line.contains("is running") {
            break;
        }
    }
    let pid_file = home.path().join("api/demo/pid.txt");
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < end, "CLI did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "a stopped daemon ends successfully: {status:?}"
    );
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "daemon process {pid} survived"
    );
}

#[test]
fn plan_json_lists_rendered_steps_without_side_effects() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        "demo/torch.js",
        r#"module.exports = { run: [
      { when: "{{gpu === 'nvidia'}}", method: "shell.run", params: { venv: "{{args.venv}}", message: "pip install torch-cu128" }, next: null },
      { method: "shell.run", params: { venv: "{{args.venv}}", message: "pip install torch-cpu" } } ] }"#,
    );
    write(
        home.path(),
        "demo/install.js",
        r#"module.exports = { run: [
      { method: "shell.run", params: { message: "git clone https://example.com/x app" } },
      { method: "script.start", params: { uri: "torch.js", params: { venv: "env" } } },
      { method: "fs.write", params: { path: "marker.txt", text: "x" } } ] }"#,
    );
    let out = cli(
        home.path(),
        &[
            "plan",
            "demo/install.js",
            "--json",
            "--gpu",
            "nvidia",
            "--platform",
            "linux",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps: Vec<(String, String)> = plan
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["script"].as_str().unwrap().to_string(),
                e["method"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("install.js", "shell.run"),
            ("install.js", "script.start"),
            ("torch.js", "shell.run"),
            ("install.js", "fs.write")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(plan[2]["params"]["message"], "pip install torch-cu128");
    assert_eq!(plan[2]["index"], 0);
    assert!(!home.path().join("api/demo/marker.txt").exists());
    let out = cli(home.path(), &["plan", "demo/install.js", "--gpu", "none"]);
    assert!(
        text(&out.stdout).contains("torch.js#1 shell.run $ pip install torch-cpu  (venv: env)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn plan_of_a_broken_script_exits_non_zero() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        "demo/broken.js",
        "module.exports = { run: [\n  { method: 'log' params: {} }\n] }\n",
    );
    let out = cli(home.path(), &["plan", "demo/broken.js"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("broken.js:2"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(home.path(), &["plan", "demo/missing.js"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("missing.js"));
}

#[test]
fn menu_prints_the_rendered_launcher() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        "demo/pinokio.js",
        r#"module.exports = { title: "Demo", menu: async (kernel, info) => info.exists("app") ?
      [{ text: "Start", href: "start.js", default: true }] : [{ text: "Install", href: "install.js" }] }"#,
    );
    let out = cli(home.path(), &["menu", "demo", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m["title"], "Demo");
    assert_eq!(m["items"][0]["text"], "Install");
    std::fs::create_dir_all(home.path().join("api/demo/app")).unwrap();
    let out = cli(home.path(), &["menu", "demo"]);
    let s = text(&out.stdout);
    assert!(
        s.contains("Demo") && s.contains("- Start → start.js (default)"),
        "{s}"
    );
}

/// `plan` ends with a torch section when the script installs torch: the
/// index it picks against the driver given with `--driver`.
#[test]
fn plan_checks_the_torch_index_against_a_driver() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        "t/install.json",
        r#"{"run": [{"method": "shell.run", "params": {"venv": "env",
            "message": "pip install torch --index-url https://download.pytorch.org/whl/cu128"}}]}"#,
    );
    let args = ["plan", "t/install.json", "--gpu", "nvidia"];
    let old = cli(
        home.path(),
        &[&args[..], &["--driver", "470.82.01"]].concat(),
    );
    let out = text(&old.stdout);
    assert!(old.status.success(), "{out}{}", text(&old.stderr));
    assert!(out.contains("torch: GPU nvidia, driver 470.82.01"), "{out}");
    assert!(out.contains("best index here: cu113"), "{out}");
    assert!(
        out.contains("error: install.json#0 cu128 needs CUDA 12.8"),
        "{out}"
    );

    let new = text(
        &cli(
            home.path(),
            &[&args[..], &["--driver", "575.57.08"]].concat(),
        )
        .stdout,
    );
    assert!(
        new.contains("ok: install.json#0 cu128 (CUDA 12.8) fits"),
        "{new}"
    );
    assert!(
        !home.path().join("api/t/env").exists(),
        "a plan makes no venv"
    );
}
