//! `pinokiocloud serve`: prepares the home and store, binds, opens the front
//! door to the outside (platform URL or tunnel), and serves.

use crate::auth::{Auth, AuthDb};
use crate::backend::ServerBackend;
use crate::cloud::env::SystemEnv;
use crate::cloud::platform::{self, Platform, PlatformId, PlatformReport};
use crate::cloud::resources::resource_sampler;
use crate::cloud::tunnel::{self, ProviderChoice, SupervisorConfig, Tunnel, TunnelState};
use crate::proxy::ProxyTargets;
use crate::system::SystemMonitor;
use crate::{home, http, site, store::Store};
use anyhow::Context;
use leptos::prelude::LeptosOptions;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Where apps, logs and the database live [default: the platform's, e.g. /workspace/pinokio on RunPod, else ~/pinokio].
    #[arg(long, env = "PINOKIOCLOUD_HOME")]
    pub home: Option<PathBuf>,
    /// Address to listen on; 0.0.0.0 exposes the dashboard to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 42000)]
    pub port: u16,
    /// Built site folder (pkg/ with JS, WASM, CSS) [default: next to the binary].
    #[arg(long, env = "PINOKIOCLOUD_SITE")]
    pub site: Option<PathBuf>,
    /// Fixed admin login token (at least 16 characters) [default: a new random one each start].
    #[arg(long, env = "PINOKIOCLOUD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Also allow signing in with this password (at least 8 characters).
    #[arg(long, env = "PINOKIOCLOUD_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Public tunnel to the dashboard: auto (cloudflared if installed, else ngrok with NGROK_AUTHTOKEN), cloudflared, ngrok or off.
    #[arg(long, env = "PINOKIOCLOUD_TUNNEL", default_value = "auto")]
    pub tunnel: String,
    /// Platform to assume instead of detecting it (colab, runpod, vast, lightning, paperspace, kaggle, sagemaker_studio_lab, generic).
    #[arg(long, env = "PINOKIOCLOUD_PLATFORM")]
    pub platform: Option<PlatformId>,
    /// Snapshot folder (see `pinokiocloud snapshot`): restored into the home at start when it is newer than the home.
    #[arg(long, env = "PINOKIOCLOUD_SNAPSHOT_DIR")]
    pub snapshot_dir: Option<PathBuf>,
    #[command(flatten)]
    pub origins: crate::origin::config::OriginArgs,
}

impl ServeArgs {
    /// The arguments of a bare `pinokiocloud serve` (environment variables apply).
    pub fn from_defaults() -> ServeArgs {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: ServeArgs,
        }
        <Wrapper as clap::Parser>::parse_from(["pinokiocloud"]).args
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = runtime.block_on(serve(args));
    // Background work (the bundle's brotli-11 compression, a dedup pass)
    // must not hold the exit: what it was doing is redone when needed.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    served
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let env = SystemEnv;
    let platform = match args.platform {
        Some(id) => platform::by_id(id, &env),
        None => platform::detect(&env),
    };
    let tunnel_choice = parse_tunnel(&args.tunnel)?;
    let home = home::prepare(&args.home.clone().unwrap_or_else(|| platform.home().path))?;
    let snapshot_note = match args.snapshot_dir.clone() {
        Some(dir) => {
            let home = home.clone();
            let note =
                tokio::task::spawn_blocking(move || crate::snapshot::auto_restore(&home, &dir));
            Some(note.await.context("restoring the snapshot")?)
        }
        None => None,
    };
    let store = Store::open(&home).await?;
    store.first_started_at().await?;
    let site = site::locate(args.site.clone())?;
    let listener = bind(SocketAddr::new(args.host, args.port)).await?;
    let addr = listener.local_addr().context("reading the bound address")?;

    let (auth, token) = Auth::start(
        AuthDb::new(store.pool().clone()),
        args.token.as_deref(),
        args.password.as_deref(),
    )
    .await?;
    // Filled by the app supervisor as apps report their local URLs.
    let proxy_targets = Arc::new(ProxyTargets::new());
    let supervisor =
        crate::apps::Apps::open(&home, store.pool().clone(), proxy_targets.clone()).await?;
    crate::storage::dedup::auto::spawn(
        home.clone(),
        store.clone(),
        supervisor.events(),
        crate::storage::dedup::auto::SETTLE,
    );
    let origins =
        args.origins
            .start(platform.as_ref(), addr, proxy_targets.clone(), store.pool())?;
    crate::app_cli::write_cli_access(&home, addr.port(), &token).with_context(|| {
        format!(
            "writing {}",
            home.join(crate::app_cli::TOKEN_FILE).display()
        )
    })?;
    let (tunnel, no_tunnel) = start_tunnel(tunnel_choice, platform.as_ref(), addr.port(), &home)?;
    let report = PlatformReport::new(platform.as_ref(), addr.port());
    announce(
        addr,
        &token,
        &home,
        &report,
        no_tunnel.as_deref(),
        snapshot_note.as_deref(),
        site.is_none(),
    );
    if let Some(tunnel) = &tunnel {
        announce_tunnel_when_up(tunnel, token.clone());
    }
    // Per-app tunnels (tunnel helper): stopped when their app stops.
    let app_tunnels = tunnel::AppTunnels::for_serve(tunnel_choice, platform.id(), home.join("bin"));
    if let Some(app_tunnels) = &app_tunnels {
        app_tunnels.follow_apps(supervisor.events(), proxy_targets.clone());
        let opener = app_tunnels.clone();
        let open: crate::origin::TunnelOpener = Arc::new(move |app: String, port: u16| {
            let tunnels = opener.clone();
            Box::pin(async move { tunnels.open_for_origin(&app, port).await })
                as std::pin::Pin<Box<dyn std::future::Future<Output = Option<String>> + Send>>
        });
        origins.set_tunnel_opener(open);
        let status = app_tunnels.clone();
        origins.set_tunnel_status(Arc::new(move |app: &str| {
            status.get(app).map(|t| crate::origin::TunnelStatus {
                provider: t.provider,
                state: t.state,
                url: t.url,
                detail: t.detail,
            })
        }));
        let origins = origins.clone();
        app_tunnels.on_url(move |app, url| origins.set_tunnel_url(app, url));
    }
    let load = resource_sampler(&home, Duration::from_secs(2), 90);
    let system = Arc::new(SystemMonitor::new(
        report,
        home.clone(),
        tunnel,
        load,
        no_tunnel,
    ));
    let storage = crate::storage::service::Storage::start(
        &home,
        store.clone(),
        crate::storage::usage::filesystems::Hints::detect(),
        crate::backend::storage::busy_check(&supervisor),
    );
    storage.follow(supervisor.events());
    // One hub and one sampler for every open live page.
    let live = crate::live::for_server(&supervisor, system.clone());
    let backend = Arc::new(ServerBackend {
        auth: auth.clone(),
        system,
        apps: supervisor.clone(),
        origins: origins.clone(),
        storage,
    });

    let options = LeptosOptions::builder()
        .output_name(app::OUTPUT_NAME)
        .site_root(
            site.as_ref()
                .map_or_else(|| "site".to_string(), |s| s.display().to_string()),
        )
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let router = http::router(
        options,
        auth,
        backend,
        proxy_targets,
        supervisor.clone(),
        origins,
        live,
    );
    let served = axum::serve(
        http::without_nagle(listener),
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        // Ctrl-C, or SIGTERM from a container/service manager: either way
        // the app supervisor below stops the apps' processes.
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let sigterm = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = sigterm => {}
        }
    })
    .await
    .context("serving HTTP");
    supervisor.shutdown().await;
    if let Some(app_tunnels) = &app_tunnels {
        app_tunnels.close_all().await;
    }
    served
}

/// `off`, or a provider choice.
fn parse_tunnel(value: &str) -> anyhow::Result<Option<ProviderChoice>> {
    if value.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|e| anyhow::anyhow!("--tunnel {value}: {e}; use auto, cloudflared, ngrok or off"))
}

/// Starts the tunnel asked for. With `auto`, a missing binary or a platform
/// that forbids tunnels is a note, not an error: the dashboard still works
/// locally and through the platform's own proxy.
fn start_tunnel(
    choice: Option<ProviderChoice>,
    platform: &dyn Platform,
    port: u16,
    home: &Path,
) -> anyhow::Result<(Option<Tunnel>, Option<String>)> {
    let Some(choice) = choice else {
        return Ok((None, Some("turned off (--tunnel off)".into())));
    };
    let install = tunnel::Install::default_for(choice, platform, port);
    match tunnel::plan_with(
        choice,
        platform,
        port,
        &SystemEnv,
        &home.join("bin"),
        install,
    ) {
        Ok(launch) => Ok((
            Some(Tunnel::spawn(launch, SupervisorConfig::default())),
            None,
        )),
        Err(err) if choice == ProviderChoice::Auto => Ok((None, Some(err.to_string()))),
        Err(err) => Err(anyhow::anyhow!("cannot start the tunnel: {err}")),
    }
}

/// Prints how to reach the dashboard. The first two lines (local URL, admin
/// login link) are what scripts and tests read.
fn announce(
    addr: SocketAddr,
    token: &str,
    home: &Path,
    report: &PlatformReport,
    no_tunnel: Option<&str>,
    snapshot: Option<&str>,
    no_site: bool,
) {
    // A closed stdout (a supervisor that stopped reading) must not kill the server.
    let mut out = std::io::stdout().lock();
    let local = open_url(addr);
    let _ = writeln!(out, "PinokioCloud is running at {local}");
    let _ = writeln!(out, "Sign in (admin): {local}?token={token}");
    let _ = writeln!(out, "Home: {}", home.display());
    let _ = writeln!(out, "Platform: {}", report.name);
    if let Some(public) = &report.public_url {
        let _ = writeln!(
            out,
            "Sign in from anywhere: {}/?token={token}",
            public.trim_end_matches('/')
        );
    }
    if let Some(hint) = &report.ssh_hint {
        let _ = writeln!(out, "From your laptop: {hint}");
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "note: {warning}");
    }
    if let Some(reason) = no_tunnel {
        let _ = writeln!(out, "Tunnel: none ({reason})");
    }
    if let Some(snapshot) = snapshot {
        let _ = writeln!(out, "Snapshot: {snapshot}");
    }
    let _ = out.flush();
    if no_site {
        eprintln!("warning: no built site found (pkg/{}.js); pages render but are not interactive. Build it with `make build`.", app::OUTPUT_NAME);
    }
}

fn announce_tunnel_when_up(tunnel: &Tunnel, token: String) {
    let mut states = tunnel.subscribe();
    let kind = tunnel.kind();
    if let Some(url) = tunnel.install_from() {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "Tunnel ({kind}): downloading {kind} from {url}");
        let _ = out.flush();
    }
    tokio::spawn(async move {
        let mut last = None;
        loop {
            let state = states.borrow_and_update().clone();
            let url = state.url().map(str::to_string);
            let line = match &state {
                _ if url.is_some() && url != last => Some(format!(
                    "Tunnel ({kind}): {}/?token={token}",
                    url.as_deref().unwrap_or("").trim_end_matches('/')
                )),
                TunnelState::Failed { reason } => {
                    Some(format!("Tunnel ({kind}): failed: {reason}"))
                }
                _ => None,
            };
            if let Some(line) = line {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            if url.is_some() {
                last = url;
            }
            if state.is_final() || states.changed().await.is_err() {
                return;
            }
        }
    });
}

async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|err| match err.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "port {} on {} is already in use; stop the program using it or pick another port with --port",
            addr.port(),
            addr.ip()
        ),
        _ => anyhow::anyhow!("cannot listen on {addr}: {err}; check --host and --port"),
    })
}

/// The URL a person can open: a wildcard bind is reachable on loopback.
fn open_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        ip => ip,
    };
    format!("http://{}/", SocketAddr::new(ip, addr.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_binds_print_a_loopback_url() {
        let addr: SocketAddr = "0.0.0.0:42000".parse().unwrap();
        assert_eq!(open_url(addr), "http://127.0.0.1:42000/");
        let addr: SocketAddr = "[::1]:8080".parse().unwrap();
        assert_eq!(open_url(addr), "http://[::1]:8080/");
    }

    #[test]
    fn tunnel_flag_accepts_off_and_providers_and_names_the_fix() {
        assert_eq!(parse_tunnel("off").unwrap(), None);
        assert_eq!(parse_tunnel("auto").unwrap(), Some(ProviderChoice::Auto));
        let err = parse_tunnel("wormhole").unwrap_err().to_string();
        assert!(err.contains("auto, cloudflared, ngrok or off"), "{err}");
    }
}
