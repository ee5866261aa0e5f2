//! `pinokiocloud serve`: prepares the home and store, binds, and serves.

use crate::auth::{Auth, AuthDb};
use crate::backend::ServerBackend;
use crate::{home, http, site, store::Store};
use anyhow::Context;
use leptos::prelude::LeptosOptions;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Where apps, logs and the database live [default: ~/pinokio].
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
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let home = home::prepare(&home::resolve(args.home)?)?;
    let store = Store::open(&home).await?;
    store.first_started_at().await?;
    let site = site::locate(args.site)?;
    let listener = bind(SocketAddr::new(args.host, args.port)).await?;
    let addr = listener.local_addr().context("reading the bound address")?;

    let (auth, token) = Auth::start(
        AuthDb::new(store.pool().clone()),
        args.token.as_deref(),
        args.password.as_deref(),
    )
    .await?;
    let backend = Arc::new(ServerBackend { auth: auth.clone() });

    let options = LeptosOptions::builder()
        .output_name(app::OUTPUT_NAME)
        .site_root(
            site.as_ref()
                .map_or_else(|| "site".to_string(), |s| s.display().to_string()),
        )
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();

    // A closed stdout (a supervisor that stopped reading) must not kill the server.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "PinokioCloud is running at {}", open_url(addr));
    let _ = writeln!(out, "Sign in (admin): {}?token={token}", open_url(addr));
    let _ = writeln!(out, "Home: {}", home.display());
    let _ = out.flush();
    drop(out);
    if site.is_none() {
        eprintln!("warning: no built site found (pkg/{}.js); pages render but are not interactive. Build it with `make build`.", app::OUTPUT_NAME);
    }
    let router = http::router(options, auth, backend);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("serving HTTP")
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
}
