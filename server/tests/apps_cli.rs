//! `pinokiocloud install | start | stop | ls | logs`, on a home directly and
//! through a running dashboard's JSON API.

mod apps_common;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use apps_common::{git_repo, PINOKIO_JS};
use support::{serve, BIN};

fn cli(home: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--home")
        .arg(home)
        .env_remove("PINOKIOCLOUD_HOME")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const DAEMON: &str = r#"{"daemon": true, "run": [{"method": "shell.run", "params": {
  "message": "echo cli-daemon-up; sleep 600", "on": [{"event": "/cli-daemon-up/", "done": true}]}}]}"#;

#[test]
fn without_a_dashboard_the_cli_works_on_the_home() {
    let home = tempfile::tempdir().unwrap();
    let (_repo, url) = git_repo(
        "cli-app",
        &[
            ("pinokio.js", PINOKIO_JS),
            (
                "start.json",
                r#"{"run": [{"method": "shell.run", "params": {"message": "echo from-the-cli"}}]}"#,
            ),
        ],
    );
    let (ok, out, err) = cli(home.path(), &["install", &url]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("installed cli-app"), "{out}");
    let (ok, out, err) = cli(home.path(), &["install", &url, "--folder", "cli-app"]);
    assert!(
        !ok && err.contains("two installs into the same folder are refused"),
        "{out}{err}"
    );

    let (ok, out, _) = cli(home.path(), &["ls"]);
    assert!(
        ok && out.contains("cli-app") && out.contains("Fixture App"),
        "{out}"
    );

    let (ok, out, err) = cli(home.path(), &["start", "cli-app"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("from-the-cli"), "{out}");
    let (ok, out, _) = cli(home.path(), &["logs", "cli-app"]);
    assert!(ok && out.contains("from-the-cli"), "{out}");

    let (ok, _, err) = cli(home.path(), &["start", "nope"]);
    assert!(!ok && err.contains("no app named \"nope\""), "{err}");
}

#[test]
fn with_a_dashboard_the_cli_goes_through_its_api() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let token = home.path().join("cli-token");
    assert_eq!(
        std::fs::metadata(&token).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::read_to_string(&token).unwrap().trim(),
        server.token
    );

    let (_repo, url) = git_repo("served-app", &[("start.json", DAEMON)]);
    let (ok, out, err) = cli(home.path(), &["install", &url]);
    assert!(ok && out.contains("installed served-app"), "{out}{err}");
    assert!(err.contains("through the dashboard"), "{err}");

    let (ok, out, err) = cli(home.path(), &["start", "served-app"]);
    // Stop before asserting, so a failure leaves nothing running.
    let started = ok && out.contains("as run");
    // Let the daemon print its line before stopping it (bounded wait).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while started && std::time::Instant::now() < deadline {
        let (_, logs, _) = cli(home.path(), &["logs", "served-app"]);
        if logs.contains("cli-daemon-up") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (ls_ok, ls, _) = cli(home.path(), &["ls", "--json"]);
    let (stop_ok, stop_out, stop_err) = cli(home.path(), &["stop", "served-app"]);
    assert!(started, "{out}{err}");
    assert!(ls_ok);
    let listed: serde_json::Value = serde_json::from_str(&ls).unwrap();
    assert_eq!(listed[0]["name"], "served-app");
    assert_eq!(listed[0]["running"].as_array().unwrap().len(), 1, "{ls}");
    assert!(stop_ok, "{stop_out}{stop_err}");
    let (ok, out, _) = cli(home.path(), &["logs", "served-app"]);
    assert!(ok && out.contains("cli-daemon-up"), "{out}");
    let (_, ls, _) = cli(home.path(), &["ls", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&ls).unwrap();
    assert!(listed[0]["running"].as_array().unwrap().is_empty(), "{ls}");

    // The API sits behind the auth gate.
    let reply = support::request(
        "GET",
        &format!("{}/api/view/apps", server.url),
        &support::Creds::default(),
        None,
    );
    assert_eq!(reply.status, 401);
}
