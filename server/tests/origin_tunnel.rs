//! A tunnel per app through a real `pinokiocloud serve`: someone who reached
//! the dashboard through its public tunnel opens an app, which gets a quick
//! tunnel of its own (a fake cloudflared); the app page, `open --json` and
//! `ls --json` say what that tunnel is doing, and a tunnel that cannot be
//! had says why.

mod origin_support;
mod support;

use origin_support::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A cloudflared whose quick-tunnel host names the port it forwards to.
const FAKE_CLOUDFLARED: &str = r#"#!/bin/sh
target="$3"
port="${target##*:}"
echo '2026-10-01T10:00:00Z INF Requesting new quick Tunnel on trycloudflare.com...' >&2
echo "2026-10-01T10:00:01Z INF |  https://app-$port.trycloudflare.com                                          |" >&2
while kill -0 $PPID 2>/dev/null; do sleep 0.2; done
"#;

fn fake_cloudflared(dir: &Path) {
    let path = dir.join("cloudflared");
    std::fs::write(&path, FAKE_CLOUDFLARED).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// GET as the admin, as seen through the dashboard's public tunnel.
async fn through_public_tunnel(s: &Setup, path: &str) -> (u16, Value) {
    let bearer = format!("Bearer {}", s.server.token);
    let r = send(
        &client(s.port),
        "GET",
        &format!("{}{path}", s.dashboard()),
        &[
            ("authorization", bearer.as_str()),
            ("x-forwarded-host", "front-door.trycloudflare.com"),
            ("x-forwarded-proto", "https"),
        ],
        None,
    )
    .await;
    let body = serde_json::from_str(&r.body).unwrap_or(Value::String(r.body));
    (r.status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_opened_through_the_public_tunnel_gets_a_tunnel_of_its_own() {
    let bin = tempfile::tempdir().unwrap();
    fake_cloudflared(bin.path());
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let s = start_with_env(&["--tunnel", "cloudflared"], &[("PATH", path)]).await;

    let (status, open) = through_public_tunnel(&s, &format!("/open/{APP}?format=json")).await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(open["mode"], "tunnel", "{open}");
    let origin = open["origin"].as_str().unwrap();
    assert!(
        origin.starts_with("https://app-") && origin.ends_with(".trycloudflare.com"),
        "{open}"
    );
    assert!(
        open["link"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{origin}/__pinokio/handoff?code=")),
        "{open}"
    );
    assert_eq!(open["tunnel"]["provider"], "cloudflared", "{open}");
    assert_eq!(open["tunnel"]["state"], "up", "{open}");
    assert_eq!(open["tunnel"]["url"], origin, "{open}");

    // What `ls --json` reads.
    let (_, list) = through_public_tunnel(&s, "/api/view/origins").await;
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["app"] == APP)
        .unwrap();
    assert_eq!(mine["tunnel"]["state"], "up", "{list}");
    // Reached over loopback the app keeps its subdomain, and still shows
    // the tunnel it has.
    let (_, local) = s.admin("GET", "/api/view/origins", None).await;
    let local: Value = serde_json::from_str(&local).unwrap();
    assert_eq!(local[0]["mode"], "subdomain", "{local}");
    assert_eq!(local[0]["tunnel"]["state"], "up", "{local}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tunnel_that_cannot_be_had_says_why_and_the_app_falls_back_to_its_prefix() {
    // No cloudflared anywhere and its download refused: offline.
    let empty = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/release", closed.local_addr().unwrap());
    drop(closed);
    let s = start_with_env(
        &["--tunnel", "cloudflared"],
        &[
            ("PATH", format!("{}:/usr/bin:/bin", empty.path().display())),
            ("PINOKIOCLOUD_CLOUDFLARED_URL", base.clone()),
        ],
    )
    .await;
    let (status, open) = through_public_tunnel(&s, &format!("/open/{APP}?format=json")).await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(open["mode"], "prefix", "{open}");
    assert_eq!(open["link"], format!("/p/{APP}/"), "{open}");
    assert_eq!(open["tunnel"]["state"], "failed", "{open}");
    let detail = open["tunnel"]["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("could not download cloudflared from {base}")),
        "{detail}"
    );
    let reason = open["reason"].as_str().unwrap();
    assert!(
        reason.contains("its own tunnel (cloudflared) failed: could not download"),
        "{reason}"
    );
}
