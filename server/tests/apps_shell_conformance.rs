//! End to end, the way most real launchers install and start (issue #13):
//! an install script whose first step is an unguarded `git clone … app`
//! and whose second makes a venv. Pinokio passes over the clone's exit 128
//! when Install runs again; so do we, and the run records a warning.

mod apps_common;

use apps_common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn reinstalling_passes_over_the_clones_exit_128_with_a_warning_then_start_serves() {
    let f = Fixture::new().await;
    let (_upstream, code_url) = git_repo(
        "code",
        &[("index.html", "<h1>served from the cloned app</h1>\n")],
    );
    let install = format!(
        r#"module.exports = {{ run: [
  {{ method: "shell.run", params: {{ message: ["git clone {code_url} app"] }} }},
  {{ method: "shell.run", params: {{ path: "app", venv: "env", message: "python -c 'import sys; print(\"venv=\" + sys.prefix)'" }} }}
] }}"#
    );
    let start = r#"module.exports = { daemon: true, run: [
  { method: "shell.run", params: { path: "app", venv: "env", message: "python -m http.server {{port}} --bind 127.0.0.1",
      on: [{ event: "/(http:\\/\\/[0-9.]+:[0-9]+)/", done: true }] } },
  { method: "local.set", params: { url: "{{input.event[1]}}" } }
] }"#;
    let (_launcher, url) = git_repo(
        "launcher",
        &[
            ("pinokio.js", PINOKIO_JS),
            ("install.js", &install),
            ("start.js", start),
        ],
    );
    let app = f.apps.install(&url, None).await.unwrap().name;
    // Acceleration off: the venv is Pinokio's own `python -m venv`, no uv
    // download needed for this test.
    f.apps
        .set_app_acceleration(&app, Some(false))
        .await
        .unwrap();

    let mut runs = vec![];
    for _ in 0..3 {
        let run = f.apps.start(&app, "install.js", Value::Null).await.unwrap();
        let rec = f.apps.wait(run).await.unwrap();
        let log = f.apps.log(run).await.unwrap();
        assert_eq!(rec.outcome.as_deref(), Some("ok"), "{rec:?}\n{log}");
        assert!(log.contains("venv="), "{log}");
        runs.push((run, log));
    }
    assert!(f
        .path()
        .join("api")
        .join(&app)
        .join("app/env/bin/activate")
        .is_file());
    assert!(!runs[0].1.contains("[pinokio] warning"), "{}", runs[0].1);
    for (_, log) in &runs[1..] {
        assert!(log.contains("already exists"), "{log}");
        assert!(
            log.contains("[pinokio] warning: `git clone") && log.contains("exited with code 128"),
            "{log}"
        );
    }
    let events = f.apps.app_events(&app, 20).await.unwrap();
    let warned: Vec<_> = events.iter().filter(|e| e.kind == "warning").collect();
    assert_eq!(warned.len(), 2, "{events:?}");
    let mut warned_runs: Vec<_> = warned.iter().map(|e| e.run_id.unwrap()).collect();
    warned_runs.sort();
    assert_eq!(warned_runs, [runs[1].0, runs[2].0]);
    let text = warned[0].payload["message"].as_str().unwrap();
    assert!(
        text.contains("install.js step 0") && text.contains("code 128"),
        "{text}"
    );

    let run = f.apps.start(&app, "start.js", Value::Null).await.unwrap();
    let url = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Some(u) = f
                .apps
                .running()
                .into_iter()
                .find(|r| r.run_id == run)
                .and_then(|r| r.url)
            {
                return u;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("start.js reported no URL");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let body = http_get(&url).await;
    assert!(
        body.contains("200 OK") && body.contains("served from the cloned app"),
        "{body}"
    );
    f.apps.stop(run).await.unwrap();
}

/// A plain HTTP/1.0 GET of `/` (the fixture server is Python's http.server).
async fn http_get(url: &str) -> String {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}
