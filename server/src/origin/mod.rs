//! Each running app at an origin of its own, served by the dashboard process.
//!
//! Apps that assume they own `/` (`<base href="/">`, `fetch('/api/…')`,
//! WebSockets at `/ws`, redirects to `/login`, cookies at `/`) break under
//! `/p/<app>/`, and any app sharing the dashboard's origin can call the
//! dashboard's API with the person's cookie. So an app opens at:
//! - `http://<app>.localhost:<port>/` (or `<app>.<--app-domain>`): the same
//!   listener, told apart by `Host` ([`dispatch`]);
//! - a port of its own ([`listener`]) where the platform exposes spare
//!   ports (RunPod, Vast, Lightning) or a tunnel points at one;
//! - `/p/<app>/` as the fallback ([`mode::choose`] decides).
//!
//! On an app origin only the app is served: `/__pinokio/handoff` turns a
//! one-time code into a session cookie of that origin ([`app_site`]), every
//! other request needs that cookie and is proxied at `/`, with our cookies
//! stripped. The dashboard refuses requests whose `Origin` is not its own.

pub mod app_site;
pub mod cli;
pub mod config;
pub mod dispatch;
pub mod host;
pub mod listener;
pub mod mode;
pub mod routes;
pub mod store;

pub use mode::{Choice, OriginMode, Prefer};
pub use routes::OpenLink;
pub use store::{AppGrant, OriginDb};

use crate::auth::SESSION_COOKIE;
use crate::proxy::{Proxy, ProxyOptions, ProxyTargets};
use app::auth::Role;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The path of the sign-in step on every app origin.
pub const HANDOFF_PATH: &str = "/__pinokio/handoff";

/// Cookies never forwarded to an app: the dashboard's session and every app
/// origin's session (cookies ignore ports, so in per-port mode the browser
/// sends all of them to every port of the host).
pub const HIDDEN_COOKIES: [&str; 2] = [SESSION_COOKIE, "pc_app_*"];

/// The session cookie of one app's origin: distinct from `pc_session` and
/// from every other app's.
pub fn cookie_name(app: &str) -> String {
    format!("pc_app_{}", app.to_ascii_lowercase())
}

/// How origins are offered: from `serve`'s flags and the platform.
#[derive(Debug, Clone, Default)]
pub struct OriginConfig {
    /// `--app-domain`: `<app>.<domain>` reaches the app (wildcard DNS).
    pub app_domain: Option<String>,
    /// Ports that the outside reaches and apps may take (`--app-ports` plus
    /// the platform's), the dashboard's own excluded.
    pub app_ports: Vec<u16>,
    /// Where per-port listeners bind (the dashboard's `--host`).
    pub bind_host: Option<IpAddr>,
    /// `--app-origin`.
    pub prefer: Prefer,
    /// The platform's public URL of each app port that has one.
    pub public_urls: BTreeMap<u16, String>,
}

/// Shared by the dispatcher, the per-port listeners and the routes.
#[derive(Clone)]
pub struct AppOrigins {
    inner: Arc<Inner>,
}

struct Inner {
    config: OriginConfig,
    targets: Arc<ProxyTargets>,
    db: OriginDb,
    proxy: Proxy,
    listeners: Mutex<listener::Listeners>,
    tunnels: Mutex<BTreeMap<String, String>>,
    opener: Mutex<Option<TunnelOpener>>,
    tunnel_status: Mutex<Option<TunnelStatusOf>>,
    /// Recently checked sessions: (app, cookie value) → role, checked at.
    sessions: Mutex<HashMap<(String, String), (Role, Instant)>>,
}

/// How long a checked app session is trusted without asking SQLite again:
/// every request of an app (assets, API calls) carries the cookie, and a
/// revoked share link or an expired session takes effect within this time.
const SESSION_CACHE: Duration = Duration::from_secs(5);

/// Opens (or finds) a tunnel of `app`'s own to `127.0.0.1:<port>` and
/// answers its public URL once up (`None`: none could be opened). Given by
/// the tunnel layer; used when no other per-app origin is available.
pub type TunnelOpener = Arc<
    dyn Fn(
            String,
            u16,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<String>> + Send>>
        + Send
        + Sync,
>;

/// The state of an app's own tunnel, given by the tunnel layer.
pub type TunnelStatusOf = Arc<dyn Fn(&str) -> Option<TunnelStatus> + Send + Sync>;

/// What the app page, `open` and `ls --json` show about one app's origin.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OriginInfo {
    pub app: String,
    /// `subdomain`, `port`, `tunnel` or `prefix`.
    pub mode: String,
    /// Why this mode, in words.
    pub reason: String,
    /// Where the app lives (`/p/<app>/` in prefix mode).
    pub origin: String,
    /// The app's own tunnel, once one was asked for (also while it is
    /// still downloading its program, or after it failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<TunnelStatus>,
}

/// One app's tunnel as people see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TunnelStatus {
    /// `cloudflared` or `ngrok`.
    pub provider: String,
    /// `starting`, `installing`, `up`, `restarting`, `failed` or `stopped`.
    pub state: String,
    pub url: Option<String>,
    /// Progress of a download, or why it failed and what to do.
    pub detail: Option<String>,
}

impl AppOrigins {
    pub fn new(config: OriginConfig, targets: Arc<ProxyTargets>, db: OriginDb) -> Self {
        let proxy = Proxy::new(
            targets.clone(),
            ProxyOptions {
                hidden_cookies: HIDDEN_COOKIES.map(String::from).to_vec(),
                strip_authorization: false,
            },
        );
        Self {
            inner: Arc::new(Inner {
                config,
                targets,
                db,
                proxy,
                listeners: Mutex::new(listener::Listeners::default()),
                tunnels: Mutex::new(BTreeMap::new()),
                opener: Mutex::new(None),
                tunnel_status: Mutex::new(None),
                sessions: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn config(&self) -> &OriginConfig {
        &self.inner.config
    }

    pub fn db(&self) -> &OriginDb {
        &self.inner.db
    }

    pub(crate) fn proxy(&self) -> &Proxy {
        &self.inner.proxy
    }

    /// The role of the session whose cookie value is `id` on `app`'s origin.
    pub async fn session_role(&self, app: &str, id: &str) -> anyhow::Result<Option<Role>> {
        let key = (app.to_string(), id.to_string());
        if let Some((role, at)) = self.lock_sessions().get(&key) {
            if at.elapsed() < SESSION_CACHE {
                return Ok(Some(*role));
            }
        }
        let role = self.inner.db.session_role(app, id).await?;
        let mut cache = self.lock_sessions();
        match role {
            Some(role) => {
                if cache.len() > 10_000 {
                    cache.clear();
                }
                cache.insert(key, (role, Instant::now()));
            }
            None => {
                cache.remove(&key);
            }
        }
        Ok(role)
    }

    fn lock_sessions(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, String), (Role, Instant)>> {
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The app a `Host` names, or `None` for the dashboard. Labels are
    /// lowercase; a running app whose name matches ignoring case wins.
    pub fn app_for_host(&self, authority: &str) -> Option<String> {
        let label = host::app_label(authority, self.inner.config.app_domain.as_deref())?;
        let running = self
            .inner
            .targets
            .list()
            .into_iter()
            .map(|(name, _)| name)
            .find(|name| name.eq_ignore_ascii_case(&label));
        Some(running.unwrap_or(label))
    }

    /// The running apps (those with a proxy target), sorted by name.
    pub fn running_apps(&self) -> Vec<String> {
        self.inner
            .targets
            .list()
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    /// A loopback listener (127.0.0.1, a free port) serving only `app` at
    /// `/`; started once, then reused. For tunnels and forced port mode.
    pub fn listener_for(&self, app: &str) -> std::io::Result<u16> {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        listener::ensure(self, listener::Kind::Loopback, app, addr)
    }

    /// Stops `app`'s listeners (loopback and public); a no-op when none.
    pub fn stop_listener(&self, app: &str) {
        self.lock_listeners().stop(app);
    }

    /// Records (or clears) `app`'s own tunnel URL, for [`mode::choose`].
    pub fn set_tunnel_url(&self, app: &str, url: Option<String>) {
        let mut tunnels = self.inner.tunnels.lock().unwrap_or_else(|e| e.into_inner());
        match url {
            Some(url) => tunnels.insert(app.to_string(), url),
            None => tunnels.remove(app),
        };
    }

    /// Lets [`AppOrigins::origin_for`] tell the state of an app's tunnel.
    pub fn set_tunnel_status(&self, status: TunnelStatusOf) {
        *self
            .inner
            .tunnel_status
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(status);
    }

    fn tunnel_status(&self, app: &str) -> Option<TunnelStatus> {
        let status = self
            .inner
            .tunnel_status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        status.and_then(|f| f(app))
    }

    /// Lets [`AppOrigins::open_origin`] start per-app tunnels on demand.
    pub fn set_tunnel_opener(&self, opener: TunnelOpener) {
        *self.inner.opener.lock().unwrap_or_else(|e| e.into_inner()) = Some(opener);
    }

    /// [`AppOrigins::origin_for`] for someone opening the app now: where it
    /// would fall back to `/p/<app>/`, a tunnel of its own is tried first
    /// (pointed at the app's loopback listener).
    pub async fn open_origin(&self, app: &str, host: Option<&str>, https: bool) -> OriginInfo {
        let info = self.origin_for(app, host, https);
        let opener = self
            .inner
            .opener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let (true, Some(opener)) = (info.mode == "prefix", opener) else {
            return info;
        };
        if self.config().prefer == Prefer::Prefix {
            return info;
        }
        let Ok(port) = self.listener_for(app) else {
            return info;
        };
        if let Some(url) = opener(app.to_string(), port).await {
            self.set_tunnel_url(app, Some(url));
        }
        // Again, with the tunnel's URL, or with why it could not be had.
        self.origin_for(app, host, https)
    }

    fn tunnel_url(&self, app: &str) -> Option<String> {
        let tunnels = self.inner.tunnels.lock().unwrap_or_else(|e| e.into_inner());
        tunnels.get(app).cloned()
    }

    /// Decides where `app` opens for a person who reached the dashboard at
    /// `host` (over https or not), starting its per-port listener when that
    /// is the mode.
    pub fn origin_for(&self, app: &str, host: Option<&str>, https: bool) -> OriginInfo {
        let config = &self.inner.config;
        let tunnel = self.tunnel_url(app);
        let choice = mode::choose(&mode::ModeInput {
            app,
            host,
            https,
            app_domain: config.app_domain.as_deref(),
            app_ports: &config.app_ports,
            tunnel_url: tunnel.as_deref(),
            prefer: config.prefer,
        });
        let status = self.tunnel_status(app);
        let info = |mode: &str, reason: String, origin: String| OriginInfo {
            app: app.to_string(),
            mode: mode.to_string(),
            reason: match &status {
                Some(t) if mode == "prefix" && t.state == "failed" => format!(
                    "{reason}; its own tunnel ({}) failed: {}",
                    t.provider,
                    t.detail.as_deref().unwrap_or("no reason given")
                ),
                _ => reason,
            },
            origin,
            tunnel: status.clone(),
        };
        let prefix = || format!("{}/", crate::proxy::prefix(app));
        let name = choice.mode.name();
        match choice.mode {
            OriginMode::Subdomain { origin } | OriginMode::Tunnel { origin } => {
                info(name, choice.reason, origin)
            }
            OriginMode::Prefix => info("prefix", choice.reason, prefix()),
            OriginMode::Port => match self.port_for(app) {
                Ok(port) => {
                    let platform = config.public_urls.get(&port).map(String::as_str);
                    let origin = mode::port_origin(platform, host, https, port);
                    info("port", choice.reason, origin)
                }
                Err(err) => info(
                    "prefix",
                    format!("{} — but no port could be opened for it ({err}), so it opens under /p/{app}/", choice.reason),
                    prefix(),
                ),
            },
        }
    }

    /// The app's public port: a free one from the exposed pool (kept for
    /// the app while the dashboard runs, so its URL stays the same), or a
    /// fresh one when the pool is empty (forced port mode on one machine).
    fn port_for(&self, app: &str) -> std::io::Result<u16> {
        let config = &self.inner.config;
        let ip = config.bind_host.unwrap_or(IpAddr::from([127, 0, 0, 1]));
        if let Some(port) = self.lock_listeners().port_of(listener::Kind::Public, app) {
            return Ok(port);
        }
        if config.app_ports.is_empty() {
            return listener::ensure(self, listener::Kind::Public, app, SocketAddr::new(ip, 0));
        }
        let taken = self.lock_listeners().taken_ports();
        let mut last_err = None;
        for port in config.app_ports.iter().filter(|p| !taken.contains(p)) {
            match listener::ensure(
                self,
                listener::Kind::Public,
                app,
                SocketAddr::new(ip, *port),
            ) {
                Ok(port) => return Ok(port),
                Err(err) => last_err = Some(err),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            std::io::Error::other(format!(
                "every exposed app port ({}) is taken by another app",
                config
                    .app_ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }))
    }

    fn lock_listeners(&self) -> std::sync::MutexGuard<'_, listener::Listeners> {
        self.inner
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}
