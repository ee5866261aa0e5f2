//! A tunnel per app: a fixture app is started, opened through its own
//! tunnel (a fake cloudflared printing real log lines), and stopping the
//! app stops its tunnel. Nothing leaves 127.0.0.1.

mod apps_common;

use apps_common::{alive, next_event, Fixture};
use serde_json::Value;
use server::apps::AppEvent;
use server::cloud::env::FixtureEnv;
use server::cloud::platform::{self, PlatformId};
use server::cloud::tunnel::{
    plan_with, AppTunnels, Install, ProviderChoice, SupervisorConfig, TunnelError,
};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A daemon that reports a web UI on 127.0.0.1:7001 and keeps running.
const DAEMON: &str = r#"{
  "daemon": true,
  "run": [
    {"method": "shell.run", "params": {
      "message": "echo \"serving on http://127.0.0.1:7001\"; sleep 600",
      "on": [{"event": "/(http:\\/\\/\\S+)/", "done": true}]}},
    {"method": "local.set", "params": {"url": "{{input.event[1]}}"}}
  ]
}"#;

/// A cloudflared whose quick-tunnel host names the port it forwards to;
/// records its arguments and pid per port, and every start in `runs`.
const FAKE_CLOUDFLARED: &str = r#"#!/bin/sh
dir="$(dirname "$0")"
target="$3"
port="${target##*:}"
echo "$*" > "$dir/$port.args"
echo $$ > "$dir/$port.pid"
echo "$port" >> "$dir/runs"
echo '2026-10-01T10:00:00Z INF Requesting new quick Tunnel on trycloudflare.com...' >&2
echo "2026-10-01T10:00:01Z INF |  https://app-$port.trycloudflare.com                                   |" >&2
exec sleep 600
"#;

/// Every `(app, url)` the tunnels reported, in order.
type UrlLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

struct Setup {
    bin: tempfile::TempDir,
    tunnels: AppTunnels,
    urls: UrlLog,
}

fn fast() -> SupervisorConfig {
    SupervisorConfig {
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        max_failures: 3,
        url_timeout: Duration::from_secs(10),
    }
}

fn setup(f: &Fixture) -> Setup {
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("cloudflared");
    std::fs::write(&fake, FAKE_CLOUDFLARED).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let env = FixtureEnv::new().with_var("PATH", bin.path().to_str().unwrap());
    let home_bin = f.path().join("bin");
    let tunnels = AppTunnels::new(
        move |port| {
            let generic = platform::by_id(PlatformId::Generic, &FixtureEnv::new());
            plan_with(
                ProviderChoice::Auto,
                generic.as_ref(),
                port,
                &env,
                &home_bin,
                Install::Never,
            )
        },
        fast(),
    );
    let urls: UrlLog = Arc::new(Mutex::new(Vec::new()));
    let sink = urls.clone();
    tunnels.on_url(move |app, url| sink.lock().unwrap().push((app.to_string(), url)));
    tunnels.follow_apps(f.apps.events(), f.targets.clone());
    Setup { bin, tunnels, urls }
}

/// Stand-in for the app's own loopback listener (the per-app origin).
async fn listener() -> (tokio::net::TcpListener, u16) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

async fn start_web(f: &Fixture, app: &str) -> i64 {
    f.put_app(app, &[("start.json", DAEMON)]);
    let mut events = f.apps.events();
    let run = f.apps.start(app, "start.json", Value::Null).await.unwrap();
    next_event(&mut events, "url", |e| match e {
        AppEvent::Url { run_id, .. } if *run_id == run => Some(()),
        _ => None,
    })
    .await;
    run
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_string()
}

fn pid_file(bin: &Path, port: u16) -> PathBuf {
    bin.join(format!("{port}.pid"))
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_opened_app_gets_its_own_tunnel_and_stopping_the_app_stops_it() {
    let f = Fixture::new().await;
    let s = setup(&f);
    let run = start_web(&f, "web").await;
    let (_listener, port) = listener().await;

    let shown = s.tunnels.open("web", port).unwrap();
    assert_eq!(shown.app, "web");
    assert_eq!(shown.port, port);
    assert_eq!(shown.provider, "cloudflared");
    let url = s
        .tunnels
        .wait_for_url("web", Duration::from_secs(15))
        .await
        .expect("the tunnel comes up");
    assert_eq!(url, format!("https://app-{port}.trycloudflare.com"));
    assert_eq!(
        read(&s.bin.path().join(format!("{port}.args"))),
        format!("tunnel --url http://127.0.0.1:{port} --no-autoupdate"),
        "the tunnel targets the app's own listener"
    );

    // What the app page and `ls --json` carry.
    let json = serde_json::to_value(s.tunnels.get("web").unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"app": "web", "provider": "cloudflared", "port": port,
                           "state": "up", "url": url, "detail": null})
    );
    assert_eq!(
        s.urls.lock().unwrap().clone(),
        vec![("web".to_string(), Some(url.clone()))]
    );

    // Opening again (another visitor, a share) reuses the same tunnel.
    let again = s.tunnels.open("web", port).unwrap();
    assert_eq!(again.url.as_deref(), Some(url.as_str()));
    assert_eq!(read(&s.bin.path().join("runs")).lines().count(), 1);

    let pid: i32 = read(&pid_file(s.bin.path(), port)).parse().unwrap();
    assert!(alive(pid));
    f.apps.stop(run).await.unwrap();
    f.apps.wait(run).await.unwrap();
    eventually("the app's tunnel is gone", || {
        s.tunnels.get("web").is_none()
    })
    .await;
    eventually("the tunnel process is dead", || !alive(pid)).await;
    eventually("the URL is withdrawn", || {
        s.urls.lock().unwrap().last() == Some(&("web".to_string(), None))
    })
    .await;
}

#[tokio::test]
async fn each_app_has_its_own_tunnel_and_one_stopping_leaves_the_other() {
    let f = Fixture::new().await;
    let s = setup(&f);
    let run_a = start_web(&f, "a").await;
    let _run_b = start_web(&f, "b").await;
    let (_la, port_a) = listener().await;
    let (_lb, port_b) = listener().await;
    s.tunnels.open("a", port_a).unwrap();
    s.tunnels.open("b", port_b).unwrap();
    let wait = Duration::from_secs(15);
    let url_a = s.tunnels.wait_for_url("a", wait).await.unwrap();
    let url_b = s.tunnels.wait_for_url("b", wait).await.unwrap();
    assert_ne!(url_a, url_b);
    assert_eq!(
        s.tunnels
            .list()
            .iter()
            .map(|t| (t.app.as_str(), t.port))
            .collect::<Vec<_>>(),
        vec![("a", port_a), ("b", port_b)]
    );

    let pid_a: i32 = read(&pid_file(s.bin.path(), port_a)).parse().unwrap();
    let pid_b: i32 = read(&pid_file(s.bin.path(), port_b)).parse().unwrap();
    f.apps.stop(run_a).await.unwrap();
    f.apps.wait(run_a).await.unwrap();
    eventually("a's tunnel is gone", || s.tunnels.get("a").is_none()).await;
    eventually("a's process is dead", || !alive(pid_a)).await;
    assert!(alive(pid_b), "b's tunnel keeps running");
    assert_eq!(s.tunnels.get("b").unwrap().url, Some(url_b));

    s.tunnels.close_all().await;
    assert!(s.tunnels.list().is_empty());
    assert!(!alive(pid_b));
}

#[tokio::test]
async fn a_new_listener_port_moves_the_tunnel() {
    let f = Fixture::new().await;
    let s = setup(&f);
    let (_l1, first) = listener().await;
    let (_l2, second) = listener().await;
    s.tunnels.open("web", first).unwrap();
    let wait = Duration::from_secs(15);
    s.tunnels.wait_for_url("web", wait).await.unwrap();
    let old_pid: i32 = read(&pid_file(s.bin.path(), first)).parse().unwrap();
    s.tunnels.open("web", second).unwrap();
    let url = s.tunnels.wait_for_url("web", wait).await.unwrap();
    assert_eq!(url, format!("https://app-{second}.trycloudflare.com"));
    eventually("the old tunnel process is dead", || !alive(old_pid)).await;
    s.tunnels.close("web").await;
    assert!(s.tunnels.get("web").is_none());
}

#[tokio::test]
async fn a_planning_error_reaches_the_caller() {
    let tunnels = AppTunnels::new(
        |_| {
            let kaggle = platform::by_id(PlatformId::Kaggle, &FixtureEnv::new());
            plan_with(
                ProviderChoice::Auto,
                kaggle.as_ref(),
                1,
                &FixtureEnv::new(),
                Path::new("/nonexistent"),
                Install::Allowed,
            )
        },
        fast(),
    );
    let err = tunnels.open("web", 1).unwrap_err();
    assert!(matches!(err, TunnelError::Forbidden { .. }), "{err}");
    assert!(tunnels.get("web").is_none());
}

#[test]
fn serve_offers_no_app_tunnels_when_off_or_forbidden() {
    let home_bin = PathBuf::from("/nonexistent");
    assert!(AppTunnels::for_serve(None, PlatformId::Generic, home_bin.clone()).is_none());
    assert!(AppTunnels::for_serve(
        Some(ProviderChoice::Auto),
        PlatformId::Kaggle,
        home_bin.clone()
    )
    .is_none());
    assert!(
        AppTunnels::for_serve(Some(ProviderChoice::Auto), PlatformId::Colab, home_bin).is_some()
    );
}
