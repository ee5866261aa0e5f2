//! The tunnel supervisor against fake `cloudflared` / `ngrok` scripts that
//! print real-format log lines. Nothing leaves 127.0.0.1.

use server::cloud;

use cloud::env::FixtureEnv;
use cloud::platform::{self, PlatformId};
use cloud::tunnel::{
    plan, Launch, ProviderChoice, ProviderKind, Runner, SupervisorConfig, Tunnel, TunnelError,
    TunnelState,
};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

const PORT: u16 = 42000;

/// A temp dir with a `bin/` for fake programs and a `state/` for what they record.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::create_dir(dir.path().join("home_bin")).unwrap();
        Sandbox { dir }
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    fn home_bin(&self) -> PathBuf {
        self.dir.path().join("home_bin")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes an executable script `name` into `dir`; `$STATE` in the body
    /// is the sandbox folder.
    fn script(&self, dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        let text = format!("#!/bin/sh\nSTATE='{}'\n{body}\n", self.dir.path().display());
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// An environment whose PATH is only our `bin/`.
    fn env(&self) -> FixtureEnv {
        FixtureEnv::new().with_var("PATH", self.bin().to_str().unwrap())
    }
}

fn generic() -> Box<dyn cloud::platform::Platform> {
    platform::by_id(PlatformId::Generic, &FixtureEnv::new())
}

fn fast() -> SupervisorConfig {
    SupervisorConfig {
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        max_failures: 3,
        url_timeout: Duration::from_secs(10),
    }
}

/// Real cloudflared quick-tunnel output (stderr), for a given hostname.
fn cloudflared_banner(host: &str) -> String {
    format!(
        r#"echo '2024-05-01T10:00:00Z INF Thank you for trying Cloudflare Tunnel. Doing so, without a Cloudflare account, is a quick way to experiment and try it out.' >&2
echo '2024-05-01T10:00:00Z INF Requesting new quick Tunnel on trycloudflare.com...' >&2
echo '2024-05-01T10:00:01Z INF +--------------------------------------------------------------------------------------------+' >&2
echo '2024-05-01T10:00:01Z INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |' >&2
echo "2024-05-01T10:00:01Z INF |  https://{host}.trycloudflare.com                                          |" >&2
echo '2024-05-01T10:00:01Z INF +--------------------------------------------------------------------------------------------+' >&2
echo '2024-05-01T10:00:01Z INF Registered tunnel connection connIndex=0 connection=0b5c location=ams07 protocol=quic' >&2"#
    )
}

async fn wait_for(tunnel: &Tunnel, want: impl Fn(&TunnelState) -> bool) -> TunnelState {
    let mut states = tunnel.subscribe();
    let found = tokio::time::timeout(Duration::from_secs(15), states.wait_for(|s| want(s))).await;
    match found {
        Ok(Ok(state)) => state.clone(),
        _ => panic!("state not reached; last state: {:?}", tunnel.state()),
    }
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn cloudflared_quick_tunnel_comes_up_and_stops() {
    let sb = Sandbox::new();
    let body = format!(
        "echo \"$@\" > \"$STATE/args\"\necho $$ > \"$STATE/pid\"\n{}\nexec sleep 600",
        cloudflared_banner("gentle-river-bold-sky")
    );
    sb.script(&sb.bin(), "cloudflared", &body);
    let launch = plan(
        ProviderChoice::Auto,
        generic().as_ref(),
        PORT,
        &sb.env(),
        &sb.home_bin(),
    )
    .unwrap();
    assert_eq!(launch.kind, ProviderKind::Cloudflared);

    let tunnel = Tunnel::spawn(launch, fast());
    assert_eq!(
        tunnel.wait_for_url().await.as_deref(),
        Some("https://gentle-river-bold-sky.trycloudflare.com")
    );
    let args = std::fs::read_to_string(sb.file("args")).unwrap();
    assert_eq!(
        args.trim(),
        "tunnel --url http://127.0.0.1:42000 --no-autoupdate"
    );

    let pid = read_pid(&sb.file("pid"));
    assert!(alive(pid));
    let mut states = tunnel.subscribe();
    tunnel.stop().await;
    assert_eq!(*states.borrow_and_update(), TunnelState::Stopped);
    assert!(!alive(pid), "stop kills the process");
}

#[tokio::test]
async fn a_tunnel_that_dies_is_restarted_with_a_new_url() {
    let sb = Sandbox::new();
    // Run N prints run-N's URL; the first run dies right after printing it.
    let body = format!(
        "n=$(cat \"$STATE/runs\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$STATE/runs\"\n{}\n\
         if [ $n -eq 1 ]; then echo '2024-05-01T10:00:02Z ERR Connection terminated error=\"lost\"' >&2; exit 1; fi\n\
         exec sleep 600",
        cloudflared_banner("run-$n-words")
    );
    sb.script(&sb.bin(), "cloudflared", &body);
    let launch = plan(
        ProviderChoice::Auto,
        generic().as_ref(),
        PORT,
        &sb.env(),
        &sb.home_bin(),
    )
    .unwrap();
    let tunnel = Tunnel::spawn(launch, fast());

    let mut states = tunnel.subscribe();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !seen
        .iter()
        .any(|s: &TunnelState| s.url() == Some("https://run-2-words.trycloudflare.com"))
    {
        tokio::time::timeout_at(deadline, states.changed())
            .await
            .unwrap_or_else(|_| panic!("no second URL; saw {seen:?}"))
            .unwrap();
        seen.push(states.borrow_and_update().clone());
    }
    assert!(
        seen.iter().any(|s| matches!(s, TunnelState::Restarting { attempt: 1, last_error } if last_error.contains("Connection terminated"))),
        "the restart is visible with the last error: {seen:?}"
    );
    assert_eq!(
        std::fs::read_to_string(sb.file("runs")).unwrap().trim(),
        "2"
    );
    tunnel.stop().await;
}

#[test]
fn ngrok_runs_in_process_with_the_token_and_needs_no_program() {
    let sb = Sandbox::new();
    // No ngrok program anywhere: the token alone is enough.
    let env = sb.env().with_var("NGROK_AUTHTOKEN", "tok_123");
    let launch = plan(
        ProviderChoice::Auto,
        generic().as_ref(),
        PORT,
        &env,
        &sb.home_bin(),
    )
    .unwrap();
    assert_eq!(launch.kind, ProviderKind::Ngrok, "auto falls back to ngrok");
    let Runner::NgrokSdk(config) = &launch.runner else {
        panic!("expected in-process ngrok, got {launch:?}");
    };
    assert_eq!(config.authtoken, "tok_123");
    assert_eq!(launch.binary(), None);
    assert!(
        !format!("{launch:?}").contains("tok_123"),
        "the token never reaches logs"
    );
}

#[tokio::test]
async fn repeated_failures_end_in_failed_with_the_last_error() {
    let sb = Sandbox::new();
    let body = r#"echo run >> "$STATE/runs"
echo '2024-05-01T10:00:00Z INF Requesting new quick Tunnel on trycloudflare.com...' >&2
echo '2024-05-01T10:00:05Z ERR failed to request quick Tunnel error="Post \"https://api.trycloudflare.com/tunnel\": dial tcp: i/o timeout"' >&2
exit 1"#;
    sb.script(&sb.bin(), "cloudflared", body);
    let launch = plan(
        ProviderChoice::Only(ProviderKind::Cloudflared),
        generic().as_ref(),
        PORT,
        &sb.env(),
        &sb.home_bin(),
    )
    .unwrap();
    let tunnel = Tunnel::spawn(launch, fast());
    let state = wait_for(&tunnel, TunnelState::is_final).await;
    let TunnelState::Failed { reason } = state else {
        panic!("expected Failed, got {state:?}");
    };
    assert!(reason.contains("failed 3 times"), "{reason}");
    assert!(
        reason.contains("failed to request quick Tunnel"),
        "{reason}"
    );
    assert_eq!(tunnel.wait_for_url().await, None);
    let runs = std::fs::read_to_string(sb.file("runs")).unwrap();
    assert_eq!(runs.lines().count(), 3, "max_failures runs, no more");
}

#[tokio::test]
async fn a_silent_tunnel_is_killed_after_the_url_timeout() {
    let sb = Sandbox::new();
    let path = sb.script(
        &sb.bin(),
        "cloudflared",
        "echo $$ > \"$STATE/pid\"\nexec sleep 600",
    );
    let launch = Launch::process(ProviderKind::Cloudflared, path, PORT);
    let config = SupervisorConfig {
        url_timeout: Duration::from_millis(300),
        max_failures: 1,
        ..fast()
    };
    let tunnel = Tunnel::spawn(launch, config);
    let state = wait_for(&tunnel, TunnelState::is_final).await;
    assert!(
        matches!(&state, TunnelState::Failed { reason } if reason.contains("no public URL")),
        "{state:?}"
    );
    assert!(!alive(read_pid(&sb.file("pid"))));
}

#[tokio::test]
async fn a_missing_program_fails_with_the_spawn_error() {
    let launch = Launch::process(
        ProviderKind::Cloudflared,
        PathBuf::from("/nonexistent/cloudflared"),
        PORT,
    );
    let tunnel = Tunnel::spawn(
        launch,
        SupervisorConfig {
            max_failures: 1,
            ..fast()
        },
    );
    let state = wait_for(&tunnel, TunnelState::is_final).await;
    assert!(
        matches!(&state, TunnelState::Failed { reason } if reason.contains("cannot start /nonexistent/cloudflared")),
        "{state:?}"
    );
}

#[test]
fn forbidden_platforms_refuse_with_the_reason() {
    let sb = Sandbox::new();
    sb.script(&sb.bin(), "cloudflared", "exit 0");
    for id in [PlatformId::Paperspace, PlatformId::Kaggle] {
        let platform = platform::by_id(id, &FixtureEnv::new());
        let err = plan(
            ProviderChoice::Auto,
            platform.as_ref(),
            PORT,
            &sb.env(),
            &sb.home_bin(),
        )
        .unwrap_err();
        assert!(matches!(err, TunnelError::Forbidden { .. }), "{err}");
        assert!(err.to_string().contains(platform.name()), "{err}");
    }
    let paperspace = platform::by_id(PlatformId::Paperspace, &FixtureEnv::new());
    let err = plan(
        ProviderChoice::Auto,
        paperspace.as_ref(),
        PORT,
        &sb.env(),
        &sb.home_bin(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("6006"), "{err}");
    // Colab only discourages them.
    let colab = platform::by_id(PlatformId::Colab, &FixtureEnv::new());
    assert!(plan(
        ProviderChoice::Auto,
        colab.as_ref(),
        PORT,
        &sb.env(),
        &sb.home_bin()
    )
    .is_ok());
}

#[test]
fn missing_programs_and_tokens_explain_the_fix() {
    let sb = Sandbox::new();
    let home_bin = sb.home_bin();
    let err = plan(
        ProviderChoice::Only(ProviderKind::Cloudflared),
        generic().as_ref(),
        PORT,
        &sb.env(),
        &home_bin,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(&format!("install cloudflared into {}", home_bin.display())),
        "{err}"
    );
    assert!(err.contains("PATH"), "{err}");
    assert!(!err.contains("pip"), "{err}");

    let err = plan(
        ProviderChoice::Auto,
        generic().as_ref(),
        PORT,
        &sb.env(),
        &home_bin,
    )
    .unwrap_err();
    assert!(matches!(err, TunnelError::NoProvider { .. }), "{err}");
    assert!(err.to_string().contains("NGROK_AUTHTOKEN"));

    let err = plan(
        ProviderChoice::Only(ProviderKind::Ngrok),
        generic().as_ref(),
        PORT,
        &sb.env(),
        &home_bin,
    )
    .unwrap_err();
    assert!(matches!(err, TunnelError::MissingNgrokToken), "{err}");
    assert!(err.to_string().contains("set NGROK_AUTHTOKEN"));
}

#[test]
fn home_bin_is_searched_after_path() {
    let sb = Sandbox::new();
    let in_home = sb.script(&sb.home_bin(), "cloudflared", "exit 0");
    let launch = plan(
        ProviderChoice::Auto,
        generic().as_ref(),
        PORT,
        &sb.env(),
        &sb.home_bin(),
    )
    .unwrap();
    assert_eq!(launch.binary(), Some(in_home.as_path()));
    let on_path = sb.script(&sb.bin(), "cloudflared", "exit 0");
    let launch = plan(
        ProviderChoice::Auto,
        generic().as_ref(),
        PORT,
        &sb.env(),
        &sb.home_bin(),
    )
    .unwrap();
    assert_eq!(launch.binary(), Some(on_path.as_path()), "PATH wins");
    // A file without the execute bit is not a program.
    std::fs::set_permissions(&on_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let launch = plan(
        ProviderChoice::Auto,
        generic().as_ref(),
        PORT,
        &sb.env(),
        &sb.home_bin(),
    )
    .unwrap();
    assert_eq!(launch.binary(), Some(in_home.as_path()));
}

#[test]
fn provider_choice_parses() {
    assert_eq!(
        "auto".parse::<ProviderChoice>().unwrap(),
        ProviderChoice::Auto
    );
    assert_eq!(
        "Cloudflared".parse::<ProviderChoice>().unwrap(),
        ProviderChoice::Only(ProviderKind::Cloudflared)
    );
    assert_eq!(
        "ngrok".parse::<ProviderChoice>().unwrap(),
        ProviderChoice::Only(ProviderKind::Ngrok)
    );
    let err = "localtunnel"
        .parse::<ProviderChoice>()
        .unwrap_err()
        .to_string();
    assert!(err.contains("auto, cloudflared or ngrok"), "{err}");
}

#[test]
fn states_serialize_with_a_tag() {
    let up = serde_json::to_value(TunnelState::Up {
        url: "https://x.trycloudflare.com".into(),
    })
    .unwrap();
    assert_eq!(
        up,
        serde_json::json!({"state": "up", "url": "https://x.trycloudflare.com"})
    );
    let restarting = serde_json::to_value(TunnelState::Restarting {
        attempt: 2,
        last_error: "e".into(),
    })
    .unwrap();
    assert_eq!(restarting["state"], "restarting");
    assert_eq!(restarting["attempt"], 2);
}

/// A server that takes the connection and hangs up: what a firewall or a
/// wrong `PINOKIOCLOUD_NGROK_SERVER` looks like to ngrok-rust.
async fn hang_up_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    addr
}

#[tokio::test]
async fn ngrok_in_process_fails_with_the_server_and_the_token_named() {
    use cloud::tunnel::{ngrok_sdk, NgrokConfig};
    let server = hang_up_server().await;
    let config = NgrokConfig {
        authtoken: "not-a-real-token".into(),
        server: Some(server.clone()),
    };
    let err = match ngrok_sdk::open(&config, PORT).await {
        Ok(_) => panic!("a hung-up server cannot give a tunnel"),
        Err(err) => err.to_string(),
    };
    assert!(err.starts_with("could not open an ngrok tunnel: "), "{err}");
    assert!(err.contains(&format!("connecting to {server}")), "{err}");
    assert!(err.contains("NGROK_AUTHTOKEN"), "{err}");
    assert!(
        !err.contains("not-a-real-token"),
        "the token is never shown: {err}"
    );

    // Supervised: retried, then given up with the same explanation.
    let launch = Launch {
        kind: ProviderKind::Ngrok,
        runner: Runner::NgrokSdk(config),
        port: PORT,
    };
    let tunnel = Tunnel::spawn(
        launch,
        SupervisorConfig {
            max_failures: 2,
            ..fast()
        },
    );
    let state = wait_for(&tunnel, TunnelState::is_final).await;
    assert!(
        matches!(&state, TunnelState::Failed { reason } if reason.contains("could not open an ngrok tunnel") && reason.contains("failed 2 times")),
        "{state:?}"
    );

    // A server address that is not host:port is refused before connecting.
    let env = FixtureEnv::new()
        .with_var("NGROK_AUTHTOKEN", "tok")
        .with_var("PINOKIOCLOUD_NGROK_SERVER", "no port here");
    let config = NgrokConfig::from_env(&env).unwrap();
    let err = match ngrok_sdk::open(&config, PORT).await {
        Ok(_) => panic!("a bad server address cannot give a tunnel"),
        Err(err) => err.to_string(),
    };
    assert!(
        err.contains("PINOKIOCLOUD_NGROK_SERVER=no port here"),
        "{err}"
    );
}
