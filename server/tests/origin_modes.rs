//! Per-app origin modes from recorded platform environments, and the
//! handoff code's lifetime (a real SQLite store, a controlled clock).

use app::auth::Role;
use server::cloud::env::FixtureEnv;
use server::cloud::platform;
use server::origin::config::{build, Flags};
use server::origin::mode::{choose, port_origin, ModeInput};
use server::origin::store::HANDOFF_SECS;
use server::origin::{AppGrant, OriginDb, OriginMode};
use std::net::IpAddr;
use std::path::Path;

const PORT: u16 = 42000;

fn fixture(name: &str) -> FixtureEnv {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloud/platform")
        .join(format!("{name}.json"));
    FixtureEnv::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Where `app` opens for a person reaching the dashboard at `host` on the
/// recorded platform `env`, with `flags`: (mode, origin).
fn opens_at(env: &str, flags: &Flags, host: &str, https: bool) -> (String, String) {
    let platform = platform::detect(&fixture(env));
    let any: IpAddr = "0.0.0.0".parse().unwrap();
    let config = build(flags, platform.as_ref(), any, PORT).unwrap();
    let choice = choose(&ModeInput {
        app: "comfy",
        host: Some(host),
        https,
        app_domain: config.app_domain.as_deref(),
        app_ports: &config.app_ports,
        tunnel_url: None,
        prefer: config.prefer,
    });
    match choice.mode {
        OriginMode::Port => {
            // The first free port of the pool, as AppOrigins assigns it.
            let port = config.app_ports[0];
            let url = config.public_urls.get(&port).map(String::as_str);
            ("port".into(), port_origin(url, Some(host), https, port))
        }
        OriginMode::Subdomain { origin } => ("subdomain".into(), origin),
        OriginMode::Tunnel { origin } => ("tunnel".into(), origin),
        OriginMode::Prefix => ("prefix".into(), "/p/comfy/".into()),
    }
}

#[test]
fn runpod_exposed_ports_each_get_their_proxy_host() {
    let flags = Flags {
        app_ports: Some("7001-7003"),
        ..Flags::default()
    };
    let host = "abc123xyz-42000.proxy.runpod.net";
    let (mode, origin) = opens_at("runpod", &flags, host, true);
    assert_eq!(mode, "port");
    let pod = fixture("runpod").vars["RUNPOD_POD_ID"].clone();
    assert_eq!(origin, format!("https://{pod}-7001.proxy.runpod.net"));
    // Without --app-ports RunPod cannot say which ports it exposes.
    let (mode, _) = opens_at("runpod", &Flags::default(), host, true);
    assert_eq!(mode, "prefix");
    // Over an SSH forward, the localhost subdomain wins.
    let (mode, origin) = opens_at("runpod", &flags, "localhost:42000", false);
    assert_eq!(
        (mode.as_str(), origin.as_str()),
        ("subdomain", "http://comfy.localhost:42000")
    );
}

#[test]
fn vast_mapped_ports_are_app_ports_with_their_public_address() {
    let env = fixture("vast");
    let ip = env.vars["PUBLIC_IPADDR"].clone();
    let external = env.vars["VAST_TCP_PORT_8080"].clone();
    let (mode, origin) = opens_at("vast", &Flags::default(), &format!("{ip}:40200"), false);
    assert_eq!(mode, "port");
    // 22 (SSH) and the dashboard's own 42000 are never handed to apps.
    assert_eq!(origin, format!("http://{ip}:{external}"));
    // An instance with only SSH mapped has nothing to offer.
    let (mode, _) = opens_at(
        "vast_unmapped",
        &Flags::default(),
        "198.51.100.9:41022",
        false,
    );
    assert_eq!(mode, "prefix");
}

#[test]
fn lightning_port_viewer_hosts_and_colab_falls_back() {
    let flags = Flags {
        app_ports: Some("7001"),
        ..Flags::default()
    };
    let (mode, origin) = opens_at(
        "lightning",
        &flags,
        "42000-studio.cloudspaces.litng.ai",
        true,
    );
    assert_eq!(mode, "port");
    assert!(origin.starts_with("https://7001-"), "{origin}");
    // Colab publishes no per-port URL the server can know: prefix (or a
    // tunnel) through its notebook proxy.
    let (mode, _) = opens_at(
        "colab",
        &Flags::default(),
        "abc-42000-colab.googleusercontent.com",
        true,
    );
    assert_eq!(mode, "prefix");
}

#[test]
fn app_domain_gives_https_subdomains_behind_a_named_tunnel() {
    let flags = Flags {
        app_domain: Some("*.apps.example.org"),
        ..Flags::default()
    };
    let (mode, origin) = opens_at("generic", &flags, "dash.apps.example.org", true);
    assert_eq!(
        (mode.as_str(), origin.as_str()),
        ("subdomain", "https://comfy.apps.example.org")
    );
    let bad = Flags {
        app_ports: Some("70000"),
        ..Flags::default()
    };
    let platform = platform::detect(&fixture("generic"));
    let err = build(&bad, platform.as_ref(), "127.0.0.1".parse().unwrap(), PORT).unwrap_err();
    assert!(err.to_string().contains("7001-7010"), "{err}");
}

#[tokio::test]
async fn a_handoff_code_works_once_for_one_app_and_expires() {
    let home = tempfile::tempdir().unwrap();
    let store = server::store::Store::open(home.path()).await.unwrap();
    let db = OriginDb::new(store.pool().clone());
    let grant = AppGrant {
        app: "comfy".into(),
        role: Role::Operator,
        label: "t".into(),
        token_id: None,
        session_expires_at: None,
        parent_session: None,
    };
    let t0 = server::store::now();
    let code = db.mint_handoff_at(&grant, t0).await.unwrap();
    assert_eq!(
        db.take_handoff_at("other", &code, t0 + 1).await.unwrap(),
        None
    );
    assert_eq!(
        db.take_handoff_at("comfy", "guess", t0 + 1).await.unwrap(),
        None
    );
    assert_eq!(
        db.take_handoff_at("comfy", &code, t0 + 1).await.unwrap(),
        Some(grant.clone())
    );
    assert_eq!(
        db.take_handoff_at("comfy", &code, t0 + 2).await.unwrap(),
        None
    );

    let late = db.mint_handoff_at(&grant, t0).await.unwrap();
    assert_eq!(
        db.take_handoff_at("comfy", &late, t0 + HANDOFF_SECS)
            .await
            .unwrap(),
        None
    );
    let in_time = db.mint_handoff_at(&grant, t0).await.unwrap();
    assert!(db
        .take_handoff_at("comfy", &in_time, t0 + HANDOFF_SECS - 1)
        .await
        .unwrap()
        .is_some());

    // A session is for its app only.
    let (id, _) = db.create_session(&grant).await.unwrap();
    assert_eq!(
        db.session_role("comfy", &id).await.unwrap(),
        Some(Role::Operator)
    );
    assert_eq!(db.session_role("other", &id).await.unwrap(), None);
}
