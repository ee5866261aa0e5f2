//! `pinokiocloud snapshot | restore` and `serve --snapshot-dir`: an app
//! installed on one session (real git, a real venv with a package installed
//! from a local wheel) comes back and starts on a fresh one.

mod apps_common;
mod snapshot_common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use apps_common::{git_repo, write_files, PINOKIO_JS};
use support::{serve, BIN};

/// Runs the CLI with only the environment the test gives it.
fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("PINOKIOCLOUD_HOME")
        .env_remove("PINOKIOCLOUD_SNAPSHOT_DIR")
        .env_remove("PINOKIOCLOUD_PLATFORM")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn snapshot(home: &Path, to: &Path) -> String {
    let (ok, out, err) = cli(&["snapshot", "--home", s(home), "--to", s(to)]);
    assert!(ok, "snapshot failed:\n{out}\n{err}");
    out
}

fn restore(home: &Path, from: &Path) -> String {
    let (ok, out, err) = cli(&["restore", "--home", s(home), "--from", s(from)]);
    assert!(ok, "restore failed:\n{out}\n{err}");
    out
}

/// `N` of the summary line `files: N copied (...)`.
fn copied(out: &str) -> u64 {
    let line = out
        .lines()
        .find(|l| l.starts_with("files: "))
        .unwrap_or_else(|| panic!("no files line in\n{out}"));
    line["files: ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

const GREETING: &str = "hello-from-snaptiny";

fn build_wheel(dir: &Path) -> PathBuf {
    snapshot_common::build_wheel(dir, "snaptiny", 0)
}

const START: &str = r#"{
  "daemon": true,
  "run": [
    {"method": "shell.run", "params": {"venv": "env", "message": "snaptiny-serve",
      "on": [{"event": "/(http:\\/\\/\\S+)/", "done": true}]}},
    {"method": "local.set", "params": {"url": "{{input.event[1]}}"}}
  ]
}"#;

/// A Pinokio app whose install makes a venv `env` and installs the wheel.
fn app_repo(wheel: &Path) -> (tempfile::TempDir, String) {
    let install = apps_common::shell_script(&[]);
    let mut install: serde_json::Value = serde_json::from_str(&install).unwrap();
    install["run"] = serde_json::json!([{"method": "shell.run", "params": {
        "venv": "env",
        "message": format!("pip install --no-index --disable-pip-version-check {}", wheel.display()),
    }}]);
    git_repo(
        "tiny",
        &[
            ("pinokio.js", PINOKIO_JS),
            ("install.json", &install.to_string()),
            ("start.json", START),
        ],
    )
}

/// A home with the `tiny` app installed (cloned, install script run).
fn installed_home(home: &Path, repo_url: &str) {
    let (ok, out, err) = cli(&["install", repo_url, "--home", s(home)]);
    assert!(ok && out.contains("installed tiny"), "{out}{err}");
    let (ok, out, err) = cli(&["start", "tiny", "install.json", "--home", s(home)]);
    assert!(ok, "install.json: {out}{err}");
    assert!(
        home.join("api/tiny/env/bin/snaptiny-serve").exists(),
        "the install did not create the venv:\n{out}{err}"
    );
}

/// Runs `python -c "import snaptiny"` inside the venv, activated by its
/// `bin/activate` as an app's shell would.
fn venv_imports(app: &Path) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(". env/bin/activate && python -c 'import snaptiny, sys; print(snaptiny.GREETING, sys.prefix)'")
        .current_dir(app)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn an_app_installed_on_one_session_restores_and_starts_on_a_fresh_one() {
    let wheels = tempfile::tempdir().unwrap();
    let wheel = build_wheel(wheels.path());
    let (_repo, url) = app_repo(&wheel);
    let session = tempfile::tempdir().unwrap();
    let home = session.path().join("pinokio");
    installed_home(&home, &url);
    write_files(&home.join("api/tiny"), &[("ENVIRONMENT", "MODEL=small\n")]);
    let persistent = tempfile::tempdir().unwrap();
    let snap = persistent.path().join("pinokiocloud-snapshot");

    let out = snapshot(&home, &snap);
    // Acceleration is on by default: the venv is uv's, and so is its lock.
    assert!(out.contains("venv api/tiny/env: locked with uv ("), "{out}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snap.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["apps"], serde_json::json!(["tiny"]));
    let lock = manifest["venvs"][0]["requirements"].to_string();
    assert!(lock.contains("snaptiny"), "{lock}");
    assert!(!snap.join("home/logs").exists() && !snap.join("home/apps.lock").exists());
    assert!(snap.join("pinokiocloud.db").exists());

    // The VM is gone: nothing of the home is left.
    std::fs::remove_dir_all(&home).unwrap();
    let out = restore(&home, &snap);
    assert!(
        out.contains("venv api/tiny/env: works as is, kept"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(home.join("api/tiny/ENVIRONMENT")).unwrap(),
        "MODEL=small\n"
    );

    let server = serve(&home, &[]);
    // The database came back too: the app's install record is there.
    let (ok, ls, _) = cli(&["ls", "--json", "--home", s(&home)]);
    let listed: serde_json::Value = serde_json::from_str(&ls).unwrap();
    assert!(ok && listed[0]["installed_at"].is_i64(), "{ls}");
    let (ok, out, err) = cli(&["start", "tiny", "--home", s(&home)]);
    assert!(ok && out.contains("as run"), "{out}{err}");
    let mut body = String::new();
    for _ in 0..300 {
        let (status, text) = server.get("/p/tiny/");
        if status == 200 && text.contains(GREETING) {
            body = text;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = cli(&["stop", "tiny", "--home", s(&home)]);
    assert!(
        body.contains(GREETING),
        "the restored app did not serve through the dashboard"
    );
}

#[test]
fn venvs_are_relocated_to_a_new_home_or_rebuilt_from_their_lock() {
    let wheels = tempfile::tempdir().unwrap();
    let wheel = build_wheel(wheels.path());
    let (_repo, url) = app_repo(&wheel);
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("first");
    installed_home(&home, &url);
    let snap = root.path().join("snap");
    snapshot(&home, &snap);

    // Another folder: activate scripts and shebangs name the old one.
    let moved = root.path().join("moved");
    let out = restore(&moved, &snap);
    assert!(out.contains("rewritten to the new home"), "{out}");
    let seen = venv_imports(&moved.join("api/tiny"));
    assert!(
        seen.contains(GREETING) && seen.contains(s(&moved)),
        "{seen}"
    );

    // A snapshot folder that refuses symlinks (Google Drive): links travel
    // as stub files and come back as links.
    let drive = root.path().join("drive");
    let out = Command::new(BIN)
        .args(["snapshot", "--home", s(&home), "--to", s(&drive)])
        .env("PINOKIOCLOUD_SNAPSHOT_LINK_STUBS", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("stored as"), "{text}");
    assert!(drive
        .join("home/api/tiny/env/bin/python.pinokiocloud-link")
        .is_file());
    let from_drive = root.path().join("from-drive");
    restore(&from_drive, &drive);
    let python = from_drive.join("api/tiny/env/bin/python");
    assert!(python.symlink_metadata().unwrap().is_symlink());
    let seen = venv_imports(&from_drive.join("api/tiny"));
    assert!(seen.contains(GREETING), "{seen}");

    // A machine without the base interpreter the venv was made from.
    let env = snap.join("home/api/tiny/env");
    let cfg = std::fs::read_to_string(env.join("pyvenv.cfg")).unwrap();
    let broken: String = cfg
        .lines()
        .map(|l| match l.starts_with("home") {
            true => "home = /nonexistent/python/bin\n".to_string(),
            false => format!("{l}\n"),
        })
        .collect();
    std::fs::write(env.join("pyvenv.cfg"), broken).unwrap();
    for name in ["python", "python3"] {
        let link = env.join("bin").join(name);
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink("/nonexistent/python/bin/python3", &link).unwrap();
    }
    let fresh = root.path().join("fresh");
    let out = restore(&fresh, &snap);
    assert!(
        out.contains("base interpreter folder /nonexistent/python/bin is missing")
            && out.contains("rebuilt with"),
        "{out}"
    );
    let seen = venv_imports(&fresh.join("api/tiny"));
    assert!(
        seen.contains(GREETING) && seen.contains(s(&fresh)),
        "{seen}"
    );
    let cfg = std::fs::read_to_string(fresh.join("api/tiny/env/pyvenv.cfg")).unwrap();
    assert!(!cfg.contains("/nonexistent"), "{cfg}");
    // The home's uv came back with it, so the venv is uv's again, shim included.
    assert!(out.contains("rebuilt with uv"), "{out}");
    let pip = std::fs::read_to_string(fresh.join("api/tiny/env/bin/pip")).unwrap();
    assert!(pip.contains("pinokio pip shim"), "{pip}");
}

#[test]
fn a_second_snapshot_copies_only_what_changed() {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    write_files(
        &home.join("api/app"),
        &[
            ("start.json", "{}"),
            ("models/weights.bin", &"w".repeat(100_000)),
            ("notes.txt", "one"),
            ("gone.txt", "bye"),
        ],
    );
    write_files(
        &home,
        &[("logs/app/1.log", "noise"), ("cli-token", "secret")],
    );
    let snap = root.path().join("snap");
    assert_eq!(copied(&snapshot(&home, &snap)), 4);
    assert!(!snap.join("home/cli-token").exists());

    let out = snapshot(&home, &snap);
    assert!(out.contains("files: 0 copied (0 B), 4 unchanged"), "{out}");

    std::fs::write(home.join("api/app/notes.txt"), "two!").unwrap();
    std::fs::remove_file(home.join("api/app/gone.txt")).unwrap();
    let out = snapshot(&home, &snap);
    assert!(
        out.contains("files: 1 copied (4 B), 2 unchanged, 1 deleted"),
        "{out}"
    );
    assert!(!snap.join("home/api/app/gone.txt").exists());
    assert_eq!(
        std::fs::read_to_string(snap.join("home/api/app/notes.txt")).unwrap(),
        "two!"
    );

    // Restoring keeps what the home has beyond the snapshot.
    let other = root.path().join("other");
    write_files(&other.join("api/mine"), &[("keep.txt", "mine")]);
    let out = restore(&other, &snap);
    assert!(
        out.contains("kept 1 app(s) that are not in the snapshot: mine"),
        "{out}"
    );
    assert!(other.join("api/mine/keep.txt").exists());
    assert!(other.join("api/app/models/weights.bin").exists());
}

#[test]
fn an_interrupted_snapshot_and_a_running_dashboard_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    write_files(&home.join("api/app"), &[("start.json", "{}")]);
    let snap = root.path().join("snap");
    snapshot(&home, &snap);
    std::fs::remove_file(snap.join("manifest.json")).unwrap();
    let target = root.path().join("target");
    let (ok, _, err) = cli(&["restore", "--home", s(&target), "--from", s(&snap)]);
    assert!(!ok && err.contains("is incomplete"), "{err}");
    assert!(err.contains("pinokiocloud snapshot --to"), "{err}");
    assert!(!target.join("api/app").exists());

    snapshot(&home, &snap);
    let busy = root.path().join("busy");
    let _server = serve(&busy, &[]);
    let (ok, _, err) = cli(&["restore", "--home", s(&busy), "--from", s(&snap)]);
    assert!(
        !ok && err.contains("a PinokioCloud dashboard is running on"),
        "{err}"
    );
    assert!(!busy.join("api/app").exists());
    // Taking a snapshot of a served home is fine: the database is copied
    // through SQLite while the dashboard uses it.
    let out = snapshot(&busy, &root.path().join("busy-snap"));
    assert!(out.contains("database: "), "{out}");
    assert!(root.path().join("busy-snap/pinokiocloud.db").is_file());
}

#[test]
fn serve_restores_a_newer_snapshot_at_start() {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    write_files(&home.join("api/app"), &[("start.json", "{}")]);
    let snap = root.path().join("snap");
    snapshot(&home, &snap);

    let fresh = root.path().join("fresh");
    let server = serve(&fresh, &["--snapshot-dir", s(&snap)]);
    let line = server.wait_for_line("Snapshot:");
    assert!(line.contains("restored 1 app(s)"), "{line}");
    assert!(fresh.join("api/app/start.json").exists());
    drop(server);

    let server = serve(&fresh, &["--snapshot-dir", s(&snap)]);
    let line = server.wait_for_line("Snapshot:");
    assert!(line.contains("up to date"), "{line}");
    drop(server);

    write_files(&home.join("api/app"), &[("new.txt", "later")]);
    snapshot(&home, &snap);
    let server = serve(&fresh, &["--snapshot-dir", s(&snap)]);
    let line = server.wait_for_line("Snapshot:");
    assert!(line.contains("restored"), "{line}");
    assert!(fresh.join("api/app/new.txt").exists());
}

#[test]
fn without_a_persistent_place_snapshot_asks_for_a_folder() {
    let home = tempfile::tempdir().unwrap();
    let (ok, _, err) = cli(&[
        "snapshot",
        "--home",
        s(home.path()),
        "--platform",
        "generic",
    ]);
    assert!(!ok && err.contains("pass --to PATH"), "{err}");
    let (ok, _, err) = cli(&["restore", "--home", s(home.path()), "--platform", "generic"]);
    assert!(!ok && err.contains("pass --from PATH"), "{err}");
}
