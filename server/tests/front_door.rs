//! The front door seen from outside, against the real binary: platform
//! addresses, tunnels (fake cloudflared printing real log lines) and the
//! System page's data (fake nvidia-smi).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use support::{serve_fails_with_env, serve_with_env};

fn executable(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// PATH with `dir` first.
fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A cloudflared that prints a real quick-tunnel banner, then lives as long
/// as its parent (so a killed server leaves nothing behind).
const FAKE_CLOUDFLARED: &str = r#"#!/bin/sh
echo "$*" > "$(dirname "$0")/cloudflared.args"
echo '2024-05-01T10:00:00Z INF Requesting new quick Tunnel on trycloudflare.com...' >&2
echo '2024-05-01T10:00:01Z INF +--------------------------------------------------------------------------------------------+' >&2
echo '2024-05-01T10:00:01Z INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |' >&2
echo '2024-05-01T10:00:01Z INF |  https://quiet-maple-front-door.trycloudflare.com                                          |' >&2
echo '2024-05-01T10:00:01Z INF +--------------------------------------------------------------------------------------------+' >&2
while kill -0 $PPID 2>/dev/null; do sleep 0.2; done
"#;

#[test]
fn a_tunnel_is_announced_with_the_login_token_and_points_at_the_front_door() {
    let home = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    executable(bin.path(), "cloudflared", FAKE_CLOUDFLARED);
    let server = serve_with_env(
        home.path(),
        &["--tunnel", "cloudflared"],
        &[("PATH", path_with(bin.path()))],
    );
    let line = server.wait_for_line("Tunnel (cloudflared):");
    assert!(
        line.ends_with(&format!(
            "https://quiet-maple-front-door.trycloudflare.com/?token={}",
            server.token
        )),
        "{line}"
    );
    let port = server.url.rsplit(':').next().unwrap();
    let args = std::fs::read_to_string(bin.path().join("cloudflared.args")).unwrap();
    assert!(
        args.contains(&format!("127.0.0.1:{port}")),
        "tunnel must target the front door: {args}"
    );
    let status = server.call("/api/view/system_status", "");
    assert_eq!(status["tunnel"]["state"], "up", "{status}");
    assert_eq!(
        status["tunnel"]["url"],
        "https://quiet-maple-front-door.trycloudflare.com"
    );
}

#[test]
fn runpod_prints_its_proxy_address_with_the_login_token() {
    let home = tempfile::tempdir().unwrap();
    let server = serve_with_env(home.path(), &[], &[("RUNPOD_POD_ID", "abc123xyz".into())]);
    let port = server.url.rsplit(':').next().unwrap().to_string();
    server.wait_for_line("Platform: RunPod");
    let line = server.wait_for_line("Sign in from anywhere:");
    assert!(
        line.ends_with(&format!(
            "https://abc123xyz-{port}.proxy.runpod.net/?token={}",
            server.token
        )),
        "{line}"
    );
    let status = server.call("/api/view/system_status", "");
    assert_eq!(status["platform"]["name"], "RunPod");
}

#[test]
fn paperspace_refuses_a_tunnel_and_says_why() {
    let home = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    executable(bin.path(), "cloudflared", FAKE_CLOUDFLARED);
    let err = serve_fails_with_env(
        &[
            "--home",
            home.path().to_str().unwrap(),
            "--port",
            "0",
            "--platform",
            "paperspace",
            "--tunnel",
            "cloudflared",
        ],
        &[("PATH", path_with(bin.path()))],
    );
    assert!(err.contains("Paperspace"), "{err}");
    assert!(err.contains("cannot start the tunnel"), "{err}");
}

#[test]
fn a_missing_tunnel_binary_is_downloaded_and_offline_names_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    // Stands in for the release server: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/release", closed.local_addr().unwrap());
    drop(closed);
    let server = serve_with_env(
        home.path(),
        &["--tunnel", "cloudflared"],
        &[
            ("PATH", format!("{}:/usr/bin:/bin", empty.path().display())),
            ("PINOKIOCLOUD_CLOUDFLARED_URL", base.clone()),
        ],
    );
    server.wait_for_line(&format!(
        "Tunnel (cloudflared): downloading cloudflared from {base}/cloudflared-linux-"
    ));
    let line = server.wait_for_line("Tunnel (cloudflared): failed:");
    assert!(
        line.contains(&format!("could not download cloudflared from {base}")),
        "{line}"
    );
    assert!(line.contains("or pass --tunnel off"), "{line}");
    let status = server.call("/api/view/system_status", "");
    assert_eq!(status["tunnel"]["state"], "failed", "{status}");
    assert!(!home.path().join("bin").join("cloudflared").exists());
}

#[test]
fn gpus_and_load_reach_the_system_page_and_no_gpu_is_not_an_error() {
    let home = tempfile::tempdir().unwrap();
    let server = serve_with_env(home.path(), &[], &[("PATH", "/usr/bin:/bin".into())]);
    let status = server.call("/api/view/system_status", "");
    assert_eq!(status["gpus"], serde_json::json!([]), "{status}");
    let home_path = home.path().canonicalize().unwrap();
    assert_eq!(
        status["platform"]["home"],
        home_path.display().to_string(),
        "the home in use, not the default"
    );
    assert_eq!(
        status["platform"]["home_is_persistent"],
        serde_json::Value::Null
    );
    assert!(
        !status["history"].as_array().unwrap().is_empty(),
        "load history is empty"
    );
    assert!(status["history"][0]["ram_total_bytes"].as_u64().unwrap() > 0);

    let bin = tempfile::tempdir().unwrap();
    executable(
        bin.path(),
        "nvidia-smi",
        r#"#!/bin/sh
case "$*" in
  *--query-gpu=*) echo '0, NVIDIA H100 80GB HBM3, 550.54.15, 1024, 81559, 12, 41, GPU-aaaa' ;;
  *--query-compute-apps=*) echo 'GPU-aaaa, 4242, 1000' ;;
  *) echo '| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4 |' ;;
esac
"#,
    );
    let home = tempfile::tempdir().unwrap();
    let server = serve_with_env(home.path(), &[], &[("PATH", path_with(bin.path()))]);
    let status = server.call("/api/view/system_status", "");
    assert_eq!(
        status["gpus"][0]["name"], "NVIDIA H100 80GB HBM3",
        "{status}"
    );
    assert_eq!(status["gpus"][0]["vram_total_mib"], 81559);
    assert_eq!(status["gpus"][0]["processes"], 1);
}
