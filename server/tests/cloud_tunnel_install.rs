//! Installing cloudflared with no manual step, against a local HTTP server
//! on 127.0.0.1 standing in for the GitHub release: a good file installs
//! and runs, a wrong digest or a broken download leaves nothing behind, an
//! unreachable server gives the error that says what to do.

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use server::cloud;
use sha2::{Digest, Sha256};

use cloud::env::FixtureEnv;
use cloud::platform::{self, PlatformId};
use cloud::tunnel::{
    install, plan_with, Download, Install, ProviderChoice, ProviderKind, SupervisorConfig, Tunnel,
    TunnelError, TunnelState,
};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A fake cloudflared: prints its version, or a quick-tunnel banner when
/// asked for a tunnel (recording its arguments next to itself).
const FAKE: &str = r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo "cloudflared version 2026.9.3 (built 2026-09-30)"; exit 0; fi
echo "$*" > "$(dirname "$0")/args"
echo '2026-10-01T10:00:01Z INF |  https://fresh-install-words.trycloudflare.com                     |' >&2
exec sleep 600
"#;

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Serves `body` at `/cloudflared-linux-amd64` (and arm64); returns the
/// base URL and a request counter.
async fn release_server(body: &'static [u8]) -> (String, Arc<Mutex<u32>>) {
    let hits = Arc::new(Mutex::new(0u32));
    let counter = hits.clone();
    let serve = move || {
        let counter = counter.clone();
        async move {
            *counter.lock().unwrap() += 1;
            Response::builder()
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .body(Body::from(body))
                .unwrap()
        }
    };
    let app = Router::new()
        .route("/release/cloudflared-linux-amd64", get(serve.clone()))
        .route("/release/cloudflared-linux-arm64", get(serve))
        .fallback(|| async { StatusCode::NOT_FOUND });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/release"), hits)
}

/// A port on 127.0.0.1 with nothing listening.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn env_for(base: &str, sha: &str) -> FixtureEnv {
    FixtureEnv::new()
        .with_var("PATH", "/nonexistent")
        .with_var("PINOKIOCLOUD_CLOUDFLARED_URL", base)
        .with_var("PINOKIOCLOUD_CLOUDFLARED_SHA256", sha)
}

fn entries(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(read) => read
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn a_good_download_is_verified_installed_and_runs() {
    let (base, hits) = release_server(FAKE.as_bytes()).await;
    let home = tempfile::tempdir().unwrap();
    let home_bin = home.path().join("bin");
    let download = Download::cloudflared(&env_for(&base, &sha256(FAKE.as_bytes()))).unwrap();
    let mut seen = Vec::new();
    let path = install(&download, &home_bin, &mut |p| seen.push(p))
        .await
        .unwrap();

    assert_eq!(path, home_bin.join("cloudflared"));
    assert_eq!(std::fs::read(&path).unwrap(), FAKE.as_bytes());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    let out = std::process::Command::new(&path)
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("cloudflared version 2026.9.3"),
        "{out:?}"
    );
    let last = seen.last().expect("progress reported");
    assert_eq!(last.received, FAKE.len() as u64);
    assert_eq!(last.total, Some(FAKE.len() as u64));
    assert_eq!(entries(&home_bin), vec!["cloudflared"], "no temp file left");

    // Installed once: a second call finds it and downloads nothing.
    install(&download, &home_bin, &mut |_| {}).await.unwrap();
    assert_eq!(*hits.lock().unwrap(), 1);
}

#[tokio::test]
async fn a_wrong_sha256_is_refused_and_nothing_is_left() {
    let (base, _) = release_server(FAKE.as_bytes()).await;
    let home = tempfile::tempdir().unwrap();
    let home_bin = home.path().join("bin");
    let expected = sha256(b"the real cloudflared");
    let download = Download::cloudflared(&env_for(&base, &expected)).unwrap();
    let err = install(&download, &home_bin, &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TunnelError::ChecksumMismatch { expected: e, actual, .. }
            if *e == expected && *actual == sha256(FAKE.as_bytes())),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("nothing was installed"), "{text}");
    assert!(text.contains(&download.url), "{text}");
    assert!(entries(&home_bin).is_empty(), "{:?}", entries(&home_bin));
}

#[tokio::test]
async fn an_unreachable_server_gives_the_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let home_bin = home.path().join("bin");
    let base = format!("http://127.0.0.1:{}/release", closed_port());
    let download = Download::cloudflared(&env_for(&base, &"0".repeat(64))).unwrap();
    let err = install(&download, &home_bin, &mut |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "could not download cloudflared from {base}/cloudflared-linux-"
        )),
        "{err}"
    );
    assert!(
        err.ends_with(&format!(
            "; install it yourself into {} or pass --tunnel off",
            home_bin.display()
        )),
        "{err}"
    );
    assert!(
        err.to_lowercase().contains("connect"),
        "names the cause: {err}"
    );
    assert!(entries(&home_bin).is_empty());
}

#[tokio::test]
async fn a_missing_asset_and_a_cut_download_leave_nothing() {
    let (base, _) = release_server(FAKE.as_bytes()).await;
    let home = tempfile::tempdir().unwrap();
    let home_bin = home.path().join("bin");
    let mut download = Download::cloudflared(&env_for(&base, &sha256(FAKE.as_bytes()))).unwrap();
    download.url = format!("{base}/cloudflared-linux-s390x");
    let err = install(&download, &home_bin, &mut |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("404"), "{err}");
    assert!(entries(&home_bin).is_empty());

    // A server that promises 1000 bytes and hangs up after 10.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = socket.read(&mut buf).await;
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
            .await;
    });
    download.url = format!("http://{addr}/cloudflared-linux-amd64");
    let err = install(&download, &home_bin, &mut |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("could not download cloudflared"), "{err}");
    assert!(entries(&home_bin).is_empty(), "{:?}", entries(&home_bin));
}

fn fast() -> SupervisorConfig {
    SupervisorConfig {
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        max_failures: 3,
        url_timeout: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn a_tunnel_downloads_cloudflared_on_first_need_then_comes_up() {
    let (base, _) = release_server(FAKE.as_bytes()).await;
    let home = tempfile::tempdir().unwrap();
    let home_bin = home.path().join("bin");
    let generic = platform::by_id(PlatformId::Generic, &FixtureEnv::new());
    let env = env_for(&base, &sha256(FAKE.as_bytes()));
    let launch = plan_with(
        ProviderChoice::Only(ProviderKind::Cloudflared),
        generic.as_ref(),
        4321,
        &env,
        &home_bin,
        Install::Allowed,
    )
    .unwrap();
    assert_eq!(
        launch.binary(),
        Some(home_bin.join("cloudflared").as_path())
    );
    assert!(!home_bin.join("cloudflared").exists(), "nothing yet");

    let tunnel = Tunnel::spawn(launch, fast());
    let mut states = tunnel.subscribe();
    let mut seen = vec![states.borrow_and_update().clone()];
    while seen.last().unwrap().url().is_none() {
        tokio::time::timeout(Duration::from_secs(20), states.changed())
            .await
            .unwrap_or_else(|_| panic!("no URL; saw {seen:?}"))
            .unwrap();
        seen.push(states.borrow_and_update().clone());
    }
    assert_eq!(
        seen.last().unwrap().url(),
        Some("https://fresh-install-words.trycloudflare.com")
    );
    assert!(
        seen.iter()
            .any(|s| matches!(s, TunnelState::Installing { url, .. } if url.starts_with(&base))),
        "the download is visible as a state: {seen:?}"
    );
    let args = std::fs::read_to_string(home_bin.join("args")).unwrap();
    assert_eq!(
        args.trim(),
        "tunnel --url http://127.0.0.1:4321 --no-autoupdate"
    );
    tunnel.stop().await;
}

#[tokio::test]
async fn offline_the_tunnel_fails_at_once_with_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let home_bin = home.path().join("bin");
    let generic = platform::by_id(PlatformId::Generic, &FixtureEnv::new());
    let base = format!("http://127.0.0.1:{}/release", closed_port());
    let launch = plan_with(
        ProviderChoice::Only(ProviderKind::Cloudflared),
        generic.as_ref(),
        4321,
        &env_for(&base, &"0".repeat(64)),
        &home_bin,
        Install::Allowed,
    )
    .unwrap();
    let tunnel = Tunnel::spawn(launch, fast());
    let mut states = tunnel.subscribe();
    let state = tokio::time::timeout(Duration::from_secs(20), states.wait_for(|s| s.is_final()))
        .await
        .unwrap()
        .unwrap()
        .clone();
    let TunnelState::Failed { reason } = state else {
        panic!("expected Failed, got {state:?}");
    };
    assert!(
        reason.starts_with(&format!("could not download cloudflared from {base}")),
        "{reason}"
    );
    assert!(reason.contains("or pass --tunnel off"), "{reason}");
    assert_eq!(tunnel.state().summary().state, "failed");
}

#[test]
fn auto_installs_only_where_a_tunnel_is_the_way_in() {
    let empty = FixtureEnv::new();
    let generic = platform::by_id(PlatformId::Generic, &empty);
    let colab = platform::by_id(PlatformId::Colab, &empty);
    let runpod = platform::by_id(
        PlatformId::Runpod,
        &FixtureEnv::new().with_var("RUNPOD_POD_ID", "abc123"),
    );
    let cf = ProviderChoice::Only(ProviderKind::Cloudflared);
    let auto = ProviderChoice::Auto;
    assert_eq!(
        Install::default_for(cf, generic.as_ref(), 1),
        Install::Allowed
    );
    assert_eq!(
        Install::default_for(auto, generic.as_ref(), 1),
        Install::Never
    );
    assert_eq!(
        Install::default_for(auto, colab.as_ref(), 1),
        Install::Allowed
    );
    assert_eq!(
        Install::default_for(auto, runpod.as_ref(), 1),
        Install::Never
    );
    let ngrok = ProviderChoice::Only(ProviderKind::Ngrok);
    assert_eq!(
        Install::default_for(ngrok, colab.as_ref(), 1),
        Install::Never
    );

    // Auto with nothing installed and no token: a download where allowed,
    // the old "install it" note where not.
    let home = tempfile::tempdir().unwrap();
    let env = FixtureEnv::new().with_var("PATH", "/nonexistent");
    let launch = plan_with(auto, colab.as_ref(), 1, &env, home.path(), Install::Allowed).unwrap();
    assert_eq!(launch.kind, ProviderKind::Cloudflared);
    let err = plan_with(auto, generic.as_ref(), 1, &env, home.path(), Install::Never).unwrap_err();
    assert!(matches!(err, TunnelError::NoProvider { .. }), "{err}");
}
