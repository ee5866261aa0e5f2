//! The real `pinokiocloud serve` binary: start-up, pages, and bad input.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_pinokiocloud");

/// A running server on a free port; killed on drop.
struct Server {
    child: Child,
    url: String,
    /// Kept open so the server can go on writing to its stdout.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(home: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "--home"])
        .arg(home)
        .args(["--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pinokiocloud");
    let stdout = child.stdout.take().unwrap();
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    Server {
        child,
        url,
        _stdout: stdout,
    }
}

/// Runs `serve` expecting it to fail at start; returns its stderr.
fn serve_fails(args: &[&str]) -> String {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success());
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return err;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("serve {args:?} kept running; expected a start-up error");
}

fn get(url: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let response = reqwest::get(url).await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    })
}

#[test]
fn serves_the_catalog_with_every_app_and_creates_the_database() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let (status, body) = get(&format!("{}/", server.url));
    assert_eq!(status, 200);
    assert!(body.contains("284 apps"), "count missing");
    assert_eq!(body.matches("class=\"card\"").count(), 284);
    assert!(body.contains("ComfyDock-Pinokio"));
    assert!(home.path().join("pinokiocloud.db").is_file());
    let (status, body) = get(&format!("{}/healthz", server.url));
    assert_eq!((status, body.as_str()), (200, "ok"));
}

#[test]
fn search_in_the_url_is_rendered_on_the_server() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let (status, body) = get(&format!("{}/?q=comfy&cat=IMAGE", server.url));
    assert_eq!(status, 200);
    let cards = body.matches("class=\"card\"").count();
    assert!(cards > 0 && cards < 284, "{cards} cards");
    assert!(body.contains(&format!("{cards} apps")) || (cards == 1 && body.contains("1 app")));
    assert!(
        !body.contains("ComfyDock-Pinokio"),
        "a UTILITY app leaked into IMAGE"
    );
}

#[test]
fn app_detail_page_and_404_for_unknown_ids() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let (status, body) = get(&format!("{}/apps/comfyui", server.url));
    assert_eq!(status, 200);
    assert!(body.contains("<h1>comfyui</h1>"), "detail name missing");
    assert!(body.contains("View repository"));
    let (status, body) = get(&format!("{}/apps/no-such-app", server.url));
    assert_eq!(status, 404);
    assert!(body.contains("Not found"));
    let (status, _) = get(&format!("{}/no/such/page", server.url));
    assert_eq!(status, 404);
}

#[test]
fn port_in_use_is_a_clear_error_naming_the_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let home = tempfile::tempdir().unwrap();
    let err = serve_fails(&["--home", home.path().to_str().unwrap(), "--port", &port]);
    assert!(err.contains(&format!("port {port}")), "{err}");
    assert!(err.contains("--port"), "{err}");
}

#[test]
fn unwritable_home_is_a_clear_error_naming_the_path() {
    // A path below a regular file can never be created, even by root.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let home = file.join("home");
    let err = serve_fails(&["--home", home.to_str().unwrap(), "--port", "0"]);
    assert!(err.contains(home.to_str().unwrap()), "{err}");
    assert!(err.contains("--home"), "{err}");
}

#[test]
fn corrupt_database_is_refused_and_left_as_it_was() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("pinokiocloud.db");
    let garbage = b"not a database, but maybe someone's only copy".repeat(100);
    std::fs::write(&db, &garbage).unwrap();
    let err = serve_fails(&["--home", home.path().to_str().unwrap(), "--port", "0"]);
    assert!(err.contains(db.to_str().unwrap()), "{err}");
    assert!(err.contains("left untouched"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
}

#[test]
fn missing_site_folder_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let err = serve_fails(&[
        "--home",
        home.path().to_str().unwrap(),
        "--port",
        "0",
        "--site",
        "/nonexistent/site",
    ]);
    assert!(err.contains("--site /nonexistent/site"), "{err}");
    assert!(err.contains("make build"), "{err}");
}
