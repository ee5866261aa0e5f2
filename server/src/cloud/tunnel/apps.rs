//! One tunnel per app, for machines that only tunnels reach: started when
//! someone opens or shares the app, aimed at that app's own loopback
//! listener (served at `/`), stopped when the app stops.
//!
//! Each tunnel is an ordinary supervised [`Tunnel`]; this is only the map
//! from app name to tunnel, and the glue that tells others about URLs.

use super::{
    plan_with, Install, Launch, ProviderChoice, SupervisorConfig, Tunnel, TunnelError, TunnelState,
};
use crate::apps::AppEvent;
use crate::cloud::env::SystemEnv;
use crate::cloud::platform::{self, PlatformId};
use crate::proxy::ProxyTargets;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// Builds the launch for a tunnel to a loopback port.
pub type Planner = dyn Fn(u16) -> Result<Launch, TunnelError> + Send + Sync;
/// Told `(app, Some(url))` when an app's tunnel is up, `(app, None)` when
/// it is no longer.
pub type UrlSink = dyn Fn(&str, Option<String>) + Send + Sync;

/// How long Open waits for a new tunnel's URL (a cloudflared download
/// and a quick tunnel usually take a few seconds each).
const OPEN_WAIT: Duration = Duration::from_secs(60);

/// One app's tunnel as the app page and `ls --json` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppTunnel {
    pub app: String,
    /// `cloudflared` or `ngrok`.
    pub provider: String,
    /// The app's loopback listener the tunnel forwards to.
    pub port: u16,
    /// `starting`, `installing`, `up`, `restarting`, `failed` or `stopped`.
    pub state: String,
    pub url: Option<String>,
    pub detail: Option<String>,
}

/// The per-app tunnels; cheap to clone.
#[derive(Clone)]
pub struct AppTunnels {
    inner: Arc<Inner>,
}

struct Inner {
    planner: Box<Planner>,
    config: SupervisorConfig,
    tunnels: Mutex<BTreeMap<String, Entry>>,
    sinks: Mutex<Vec<Arc<UrlSink>>>,
}

struct Entry {
    port: u16,
    tunnel: Tunnel,
    /// Forwards URL changes to the sinks; ends with the tunnel.
    watcher: JoinHandle<()>,
}

impl AppTunnels {
    /// `planner` builds each launch (provider, binary, install) for a port.
    pub fn new(
        planner: impl Fn(u16) -> Result<Launch, TunnelError> + Send + Sync + 'static,
        config: SupervisorConfig,
    ) -> AppTunnels {
        AppTunnels {
            inner: Arc::new(Inner {
                planner: Box::new(planner),
                config,
                tunnels: Mutex::new(BTreeMap::new()),
                sinks: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The per-app tunnels `pinokiocloud serve` uses: `None` with
    /// `--tunnel off` or where the platform forbids tunnels. A missing
    /// cloudflared is downloaded when an app first needs a tunnel.
    pub fn for_serve(
        choice: Option<ProviderChoice>,
        platform_id: PlatformId,
        home_bin: PathBuf,
    ) -> Option<AppTunnels> {
        let choice = choice?;
        if !platform::by_id(platform_id, &SystemEnv)
            .tunnel_policy()
            .allows()
        {
            return None;
        }
        let planner = move |port| {
            let platform = platform::by_id(platform_id, &SystemEnv);
            plan_with(
                choice,
                platform.as_ref(),
                port,
                &SystemEnv,
                &home_bin,
                Install::Allowed,
            )
        };
        Some(AppTunnels::new(planner, SupervisorConfig::default()))
    }

    /// Calls `sink` on every URL change of every app's tunnel.
    pub fn on_url(&self, sink: impl Fn(&str, Option<String>) + Send + Sync + 'static) {
        lock(&self.inner.sinks).push(Arc::new(sink));
    }

    /// Starts a tunnel for `app` to `http://127.0.0.1:<port>` unless one
    /// already runs there; returns at once with its current state. Needs a
    /// Tokio runtime.
    pub fn open(&self, app: &str, port: u16) -> Result<AppTunnel, TunnelError> {
        let mut tunnels = lock(&self.inner.tunnels);
        if let Some(entry) = tunnels.get(app) {
            if entry.port == port && !entry.tunnel.state().is_final() {
                return Ok(view(app, entry));
            }
        }
        let launch = (self.inner.planner)(port)?;
        tracing::info!(target: "pinokiocloud::tunnel", app, port, "starting a {} tunnel for the app", launch.kind);
        let tunnel = Tunnel::spawn(launch, self.inner.config.clone());
        let watcher = tokio::spawn(forward_urls(
            app.to_string(),
            tunnel.subscribe(),
            self.inner.clone(),
        ));
        let entry = Entry {
            port,
            tunnel,
            watcher,
        };
        let shown = view(app, &entry);
        let old = tunnels.insert(app.to_string(), entry);
        drop(tunnels);
        if let Some(old) = old {
            tokio::spawn(stop_entry(old));
        }
        Ok(shown)
    }

    /// Waits up to `timeout` for `app`'s tunnel URL; `None` if there is no
    /// tunnel, it gave up, or time ran out.
    pub async fn wait_for_url(&self, app: &str, timeout: Duration) -> Option<String> {
        let mut states = lock(&self.inner.tunnels).get(app)?.tunnel.subscribe();
        let found = tokio::time::timeout(
            timeout,
            states.wait_for(|s| s.url().is_some() || s.is_final()),
        )
        .await;
        match found {
            Ok(Ok(state)) => state.url().map(str::to_string),
            _ => None,
        }
    }

    /// Opens `app`'s tunnel to `port` and waits for its URL (what Open and
    /// "Share this app" need); a failure is logged, and shown on the app
    /// page through [`AppTunnels::get`].
    pub async fn open_for_origin(&self, app: &str, port: u16) -> Option<String> {
        if let Err(err) = self.open(app, port) {
            tracing::warn!(target: "pinokiocloud::tunnel", app, "no tunnel for the app: {err}");
            return None;
        }
        self.wait_for_url(app, OPEN_WAIT).await
    }

    /// Stops `app`'s tunnel, if any, and waits until its process is gone.
    pub async fn close(&self, app: &str) {
        let entry = lock(&self.inner.tunnels).remove(app);
        if let Some(entry) = entry {
            tracing::info!(target: "pinokiocloud::tunnel", app, "stopping the app's tunnel");
            stop_entry(entry).await;
        }
    }

    /// Stops every tunnel (the dashboard is shutting down).
    pub async fn close_all(&self) {
        let entries = std::mem::take(&mut *lock(&self.inner.tunnels));
        for (_, entry) in entries {
            stop_entry(entry).await;
        }
    }

    pub fn get(&self, app: &str) -> Option<AppTunnel> {
        lock(&self.inner.tunnels).get(app).map(|e| view(app, e))
    }

    pub fn list(&self) -> Vec<AppTunnel> {
        lock(&self.inner.tunnels)
            .iter()
            .map(|(app, e)| view(app, e))
            .collect()
    }

    /// Closes an app's tunnel once the app is no longer served: its run
    /// ended and no other run of it has a URL (the proxy target is gone),
    /// or it was uninstalled or renamed. Runs until `events` closes.
    pub fn follow_apps(&self, events: broadcast::Receiver<AppEvent>, targets: Arc<ProxyTargets>) {
        tokio::spawn(follow(self.clone(), events, targets));
    }
}

async fn follow(
    tunnels: AppTunnels,
    mut events: broadcast::Receiver<AppEvent>,
    targets: Arc<ProxyTargets>,
) {
    loop {
        let gone: Vec<String> = match events.recv().await {
            Ok(AppEvent::RunEnded { app, .. }) | Ok(AppEvent::Uninstalled { app }) => {
                vec![app]
            }
            Ok(AppEvent::Renamed { from, .. }) => vec![from],
            Ok(_) => continue,
            // Missed some events: check every tunnel.
            Err(broadcast::error::RecvError::Lagged(_)) => {
                tunnels.list().into_iter().map(|t| t.app).collect()
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        for app in gone {
            if targets.get(&app).is_none() {
                tunnels.close(&app).await;
            }
        }
    }
}

/// Tells the sinks each time the app's URL changes, `None` at the end.
async fn forward_urls(
    app: String,
    mut states: tokio::sync::watch::Receiver<TunnelState>,
    inner: Arc<Inner>,
) {
    let mut last: Option<String> = None;
    loop {
        let (url, done) = {
            let state = states.borrow_and_update();
            (state.url().map(str::to_string), state.is_final())
        };
        if url != last {
            let sinks: Vec<Arc<UrlSink>> = lock(&inner.sinks).clone();
            for sink in sinks {
                sink(&app, url.clone());
            }
            last = url;
        }
        if done || states.changed().await.is_err() {
            break;
        }
    }
    if last.is_some() {
        let sinks: Vec<Arc<UrlSink>> = lock(&inner.sinks).clone();
        for sink in sinks {
            sink(&app, None);
        }
    }
}

async fn stop_entry(entry: Entry) {
    entry.tunnel.stop().await;
    // The watcher sees `Stopped` and reports the URL gone.
    let _ = tokio::time::timeout(Duration::from_secs(5), entry.watcher).await;
}

fn view(app: &str, entry: &Entry) -> AppTunnel {
    let summary = entry.tunnel.state().summary();
    AppTunnel {
        app: app.to_string(),
        provider: entry.tunnel.kind().binary_name().to_string(),
        port: entry.port,
        state: summary.state.to_string(),
        url: summary.url,
        detail: summary.detail,
    }
}

/// A poisoned lock only means a panic elsewhere; the map is still whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
